/* SPDX-License-Identifier: MIT */
/* IPI emulation: per-CPU call queues, doorbells, waiting and acknowledgement. */
#ifndef SHD_IPI_H
#define SHD_IPI_H

#include <stdbool.h>
#include <stdint.h>

#define _LGPL_SOURCE
#include <urcu/wfcqueue.h>

#include "../common/atomics.h"
#include "../common/clock.h"

/*
 * This layer knows nothing of TLBs: it moves "call FUNC(target, INFO)"
 * requests between threads that play CPUs and reports when they are done.
 * See ipi.c for the protocol.
 */

#define SHD_CACHELINE 64

/*
 * The call queues are liburcu's, whose publication is inline assembly that
 * ThreadSanitizer cannot see; these annotate the hand-over of a csd.
 */
#if defined(__SANITIZE_THREAD__)
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define SHD_TSAN_ACQUIRE(p) __tsan_acquire(p)
#define SHD_TSAN_RELEASE(p) __tsan_release(p)
#else
#define SHD_TSAN_ACQUIRE(p) ((void)(p))
#define SHD_TSAN_RELEASE(p) ((void)(p))
#endif

/* Doorbell states; the doorbell is also the futex a sleeping CPU waits on. */
enum {
	SHD_DB_IDLE = 0,	/* nothing to do */
	SHD_DB_RUNG = 1,	/* look at the queue (or a wait may be over) */
	SHD_DB_SLEEPING = 2,	/* the owner is blocked in futex_wait */
};

struct shd_csd;
typedef void (*shd_csd_fn)(void *target_ctx, struct shd_csd *csd);

/*
 * The life of a csd (the kernel's csd lock, plus a way out for a request
 * whose target never answers):
 *
 *   FREE -(sender: trylock)-> LOCKED -(sender: fill, enqueue)-> QUEUED
 *   QUEUED -(target: takes it)-> RUNNING -(target: func done, ack)-> FREE
 *   QUEUED -(sender: watchdog, abandon)-> ABANDONED
 *   ABANDONED -(target: takes it, skips func)-> FREE
 *
 * Only the target moves a csd out of QUEUED or ABANDONED, with one exchange,
 * so a request is either run or skipped, never both; only a FREE csd can be
 * queued again, so a node is never in a queue twice.
 */
enum shd_csd_state {
	SHD_CSD_FREE,
	SHD_CSD_LOCKED,
	SHD_CSD_QUEUED,
	SHD_CSD_RUNNING,
	SHD_CSD_ABANDONED,
};

struct shd_ipi_queue;

/* A call-single-data: one request to one target, owned by the initiator. */
struct shd_csd {
	struct cds_wfcq_node node;
	shd_csd_fn func;
	void *info;
	void (*call)(void);	/* a payload for func, cast back by it */
	struct shd_ipi_queue *src_q;	/* the initiator's, for wake-ups */
	unsigned src;
	int32_t state;		/* enum shd_csd_state */
	uint8_t charged;	/* the sender's bookkeeping, not ours: which
				 * counter the request was charged to */
} __attribute__((aligned(SHD_CACHELINE)));

/* A CPU's incoming side: queue and doorbell on one line the senders write. */
struct shd_ipi_queue {
	struct __cds_wfcq_head head;
	struct cds_wfcq_tail tail;
	int32_t doorbell;
} __attribute__((aligned(SHD_CACHELINE)));

void shd__ipi_queue_init(struct shd_ipi_queue *q);
void shd__csd_init(struct shd_csd *csd, unsigned src,
		   struct shd_ipi_queue *src_q);

/*
 * Take CSD for a new request (csd_lock): true if it was FREE.  One atomic,
 * so the line the target last wrote moves back in a single transfer.
 */
static inline bool shd__csd_trylock(struct shd_csd *csd)
{
	int32_t free_state = SHD_CSD_FREE;

	/* Acquire: the previous request's handler is finished with it. */
	return shd_cas_acquire(&csd->state, &free_state, SHD_CSD_LOCKED);
}

/*
 * Withdraw a request its target has not taken (watchdog): true if the
 * target will now skip it; false if it is running or done already.
 */
static inline bool shd__csd_abandon(struct shd_csd *csd)
{
	int32_t queued = SHD_CSD_QUEUED;

	/* Seq-cst: races the target's acq-rel exchange to RUNNING
	 * (shd__ipi_handle()); exactly one wins. */
	return shd_cas(&csd->state, &queued, SHD_CSD_ABANDONED);
}

static inline int32_t shd__csd_state(struct shd_csd *csd)
{
	/* Seq-cst: pairs with csd_ack()'s store of FREE. */
	return shd_load_seq(&csd->state);
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
	return shd_load_relaxed(&q->doorbell) == SHD_DB_RUNG;
}

/*
 * Owner only: clear the doorbell, take every queued request, call
 * BATCH(target_ctx, N) once with N the requests taken (before any of them
 * is acknowledged), then run each func(target_ctx, csd) and acknowledge it
 * (abandoned ones are skipped and freed).  Returns how many were taken (0
 * for a spurious ring, without calling BATCH).
 */
unsigned shd__ipi_handle(struct shd_ipi_queue *q, void *target_ctx,
			 void (*batch)(void *target_ctx, unsigned n));

/* Requests are waiting in Q (whether or not its doorbell was rung). */
static inline bool shd__ipi_queued(struct shd_ipi_queue *q)
{
	return !cds_wfcq_empty(&q->head, &q->tail);
}

static inline bool shd__csd_done(struct shd_csd *csd)
{
	/* Seq-cst (a plain load on x86): pairs with the target's seq-cst
	 * store of FREE, so func's effects are visible, and with the
	 * sleeper's Dekker check in shd__ipi_idle_wait(). */
	return shd_load_seq(&csd->state) == SHD_CSD_FREE;
}

/*
 * Block the owner of Q until its doorbell rings, DONE(arg) becomes true, or
 * DEADLINE_NS (CLOCK_MONOTONIC; 0 = none) passes.  Spins about SPIN_NS first
 * (the clock is read only every 256 spins, to keep the fast path cheap).
 */
void shd__ipi_idle_wait(struct shd_ipi_queue *q, bool (*done)(void *),
			void *arg, uint64_t spin_ns, uint64_t deadline_ns);


#endif
