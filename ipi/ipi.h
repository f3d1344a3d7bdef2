/* SPDX-License-Identifier: MIT */
/* IPI emulation: per-CPU call queues, doorbells, waiting and acknowledgement. */
#ifndef SHD_IPI_H
#define SHD_IPI_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define _LGPL_SOURCE
#include <urcu/wfcqueue.h>

/*
 * This layer knows nothing of TLBs: it moves "call FUNC(target, INFO)"
 * requests between threads that play CPUs and reports when they are done.
 * See ipi.c for the protocol.
 */

#define SHD_CACHELINE 64

/* Doorbell states; the doorbell is also the futex a sleeping CPU waits on. */
enum {
	SHD_DB_IDLE = 0,	/* nothing to do */
	SHD_DB_RUNG = 1,	/* look at the queue (or a wait may be over) */
	SHD_DB_SLEEPING = 2,	/* the owner is blocked in futex_wait */
};

struct shd_csd;
typedef void (*shd_csd_fn)(void *target_ctx, struct shd_csd *csd);

/*
 * A call-single-data: one request to one target.  Owned by the initiator;
 * it may be queued again only once `unlocked` is set (csd_lock semantics).
 */
struct shd_csd {
	struct cds_wfcq_node node;
	shd_csd_fn func;
	void *info;
	void (*call)(void);	/* a payload for func, cast back by it */
	unsigned src;
	int32_t ready;		/* release by sender after filling: TSan's edge */
	int32_t unlocked;	/* release by target after func: the ack */
} __attribute__((aligned(SHD_CACHELINE)));

/* A CPU's incoming side: queue and doorbell on one line the senders write. */
struct shd_ipi_queue {
	struct __cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	int32_t doorbell;
} __attribute__((aligned(SHD_CACHELINE)));

void shd__ipi_queue_init(struct shd_ipi_queue *q);
void shd__csd_init(struct shd_csd *csd, unsigned src);

/*
 * Take CSD for a new request (csd_lock): true if it was free.  One exchange,
 * so the line the target last wrote moves back in a single transfer.
 */
static inline bool shd__csd_trylock(struct shd_csd *csd)
{
	/* Acquire: the previous request's handler is finished with it. */
	return __atomic_exchange_n(&csd->unlocked, 0, __ATOMIC_ACQUIRE) != 0;
}

/*
 * Queue a locked CSD, filled with func/info/call, on Q.  Returns true when
 * the queue was empty, i.e. when this request needs the doorbell rung; false
 * when it rides an earlier doorbell (coalesced).
 */
bool shd__ipi_enqueue(struct shd_ipi_queue *q, struct shd_csd *csd,
		      shd_csd_fn func, void *info, void (*call)(void));

/* Ring Q's doorbell, waking its owner if it sleeps. Any thread. */
void shd__ipi_ring(struct shd_ipi_queue *q);

/* Is the doorbell rung?  Cheap; for the owner's polling. */
static inline bool shd__ipi_pending(struct shd_ipi_queue *q)
{
	/* Relaxed: only a hint; shd__ipi_handle() orders what matters. */
	return __atomic_load_n(&q->doorbell, __ATOMIC_RELAXED) == SHD_DB_RUNG;
}

/*
 * Owner only: clear the doorbell, take every queued request, call
 * BATCH(target_ctx) once (before any request is acknowledged), then run each
 * func(target_ctx, csd), which acknowledges it.  Returns how many ran (0 for
 * a spurious ring, without calling BATCH).
 */
unsigned shd__ipi_handle(struct shd_ipi_queue *q, void *target_ctx,
			 void (*batch)(void *target_ctx));

/* Acknowledge CSD (target side), waking the initiator whose doorbell is SRC_DB. */
void shd__csd_ack(struct shd_csd *csd, struct shd_ipi_queue *src_q);

static inline bool shd__csd_done(struct shd_csd *csd)
{
	/* Acquire: pairs with the release in shd__csd_ack(), so everything
	 * the target did in func is visible once we see the ack. */
	return __atomic_load_n(&csd->unlocked, __ATOMIC_ACQUIRE) != 0;
}

/*
 * Block the owner of Q until its doorbell rings, DONE(arg) becomes true, or
 * DEADLINE_NS (CLOCK_MONOTONIC; 0 = none) passes.  Spins about SPIN_NS first
 * (the clock is read only every 256 spins, to keep the fast path cheap).
 */
void shd__ipi_idle_wait(struct shd_ipi_queue *q, bool (*done)(void *),
			void *arg, uint64_t spin_ns, uint64_t deadline_ns);

static inline uint64_t shd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
