/* SPDX-License-Identifier: MIT */
/* IPI emulation: per-CPU call queues, doorbells, waiting and acknowledgement. */

/*
 * Theory of operation.
 *
 * Each simulated CPU has a call queue (liburcu's wait-free concurrent queue,
 * the counterpart of the kernel's llist call_single_queue) and a doorbell
 * word on the same cache line.  A sender locks a csd, fills it, marks it
 * QUEUED (release) and enqueues it; cds_wfcq_enqueue() tells whether the
 * queue was empty, and only then is the doorbell rung — later requests ride
 * the pending interrupt (coalescing, as llist_add() returning false does in
 * smp_call_function).  The csd states are in ipi.h.
 *
 * The target notices the doorbell between work steps or while idle.  It
 * clears the doorbell *before* splicing the queue: a request enqueued after
 * the splice found the queue empty and rang again, and one enqueued before
 * the clear is in the splice.  Either way nothing is left behind without a
 * doorbell.  Each request is run and then acknowledged by storing FREE
 * in its csd's state (the kernel's csd_unlock()): a sequentially consistent
 * store, a release for the handler's effects and ordered before the
 * initiator's doorbell is read (see Sleeping).
 *
 * Sleeping: a CPU with nothing to do spins a little, then moves its doorbell
 * IDLE -> SLEEPING, re-checks its wait condition, and futex-waits on the
 * doorbell.  A ringer exchanges the doorbell to RUNG and wakes it if it was
 * SLEEPING.  An acknowledging target stores FREE and then reads the
 * initiator's doorbell; the initiator stores SLEEPING and then reads the
 * csd state.  Both pairs are sequentially consistent, so at least one side
 * sees the other: no lost wake-up.
 */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <urcu/arch.h>
#include "ipi.h"

static long sys_futex(int32_t *uaddr, int op, int32_t val,
		  const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

void shd__ipi_queue_init(struct shd_ipi_queue *q)
{
	__cds_wfcq_init(&q->head, &q->tail);
	q->doorbell = SHD_DB_IDLE;
}

void shd__csd_init(struct shd_csd *csd, unsigned src,
		   struct shd_ipi_queue *src_q)
{
	cds_wfcq_node_init(&csd->node);
	csd->charged = 0;
	csd->func = NULL;
	csd->info = NULL;
	csd->call = NULL;
	csd->src_q = src_q;
	csd->src = src;
	csd->state = SHD_CSD_FREE;
}

bool shd__ipi_enqueue(struct shd_ipi_queue *q, struct shd_csd *csd,
		      shd_csd_fn func, void *info, void (*call)(void))
{
	cds_wfcq_node_init(&csd->node);
	csd->func = func;
	csd->info = info;
	csd->call = call;
	/* Release: the payload above is visible to the target that takes the
	 * csd (the queue's own publication is assembly TSan cannot see). */
	shd_store_release(&csd->state, SHD_CSD_QUEUED);
	/* For TSan, the queue hands the csd over: a csd queued with no
	 * doorbell (LATR) has no other edge to its fresh memory. */
	SHD_TSAN_RELEASE(csd);
	/* cds_wfcq_enqueue returns false when the queue was empty. */
	return !cds_wfcq_enqueue(&q->head, &q->tail, &csd->node);
}

void shd__ipi_ring(struct shd_ipi_queue *q)
{
	/* Seq-cst: pairs with the sleeper's IDLE->SLEEPING then re-check. */
	if (shd_xchg(&q->doorbell, SHD_DB_RUNG) ==
	    SHD_DB_SLEEPING)
		sys_futex(&q->doorbell, FUTEX_WAKE_PRIVATE, 1, NULL);
}

static void csd_ack(struct shd_csd *csd)
{
	struct shd_ipi_queue *src_q = csd->src_q;

	/* Seq-cst store (release and more): publishes func's effects to the
	 * initiator, and orders before the doorbell read below (Dekker).
	 * After it the csd may be reused at once: read src_q first. */
	shd_store_seq(&csd->state, SHD_CSD_FREE);
	if (shd_load_seq(&src_q->doorbell) ==
	    SHD_DB_SLEEPING)
		shd__ipi_ring(src_q);
}

unsigned shd__ipi_handle(struct shd_ipi_queue *q, void *target_ctx,
			 void (*batch)(void *target_ctx, unsigned n))
{
	struct __cds_wfcq_head batch_head;
	struct cds_wfcq_tail batch_tail;
	struct cds_wfcq_node *node, *next;
	unsigned n = 0;

	/* Seq-cst exchange: clear before splicing (see the theory above). */
	shd_xchg(&q->doorbell, SHD_DB_IDLE);
	if (cds_wfcq_empty(&q->head, &q->tail))
		return 0;
	__cds_wfcq_init(&batch_head, &batch_tail);
	__cds_wfcq_splice_blocking(&batch_head, &batch_tail, &q->head, &q->tail);
	if (batch) {
		unsigned taken = 0;

		/* Counted before any ack: a sender that returns sees it. */
		__cds_wfcq_for_each_blocking(&batch_head, &batch_tail, node)
			taken++;
		batch(target_ctx, taken);
	}
	__cds_wfcq_for_each_blocking_safe(&batch_head, &batch_tail, node, next) {
		struct shd_csd *csd = caa_container_of(node, struct shd_csd, node);

		SHD_TSAN_ACQUIRE(csd);

		/* Acq-rel: pairs with the sender's release of QUEUED (the
		 * payload) and decides against a racing abandon. */
		if (shd_xchg_acq_rel(&csd->state, SHD_CSD_RUNNING) == SHD_CSD_QUEUED)
			csd->func(target_ctx, csd);
		csd_ack(csd);
		n++;
	}
	return n;
}

void shd__ipi_idle_wait(struct shd_ipi_queue *q, bool (*done)(void *),
			void *arg, uint64_t spin_ns, uint64_t deadline_ns)
{
	uint64_t start = 0;
	unsigned i = 0;
	int32_t expect = SHD_DB_IDLE;

	while (spin_ns) {
		if (shd__ipi_pending(q) || (done && done(arg)))
			return;
		caa_cpu_relax();
		if ((++i & 255) == 0) {
			uint64_t now = shd_now_ns();

			if (!start)
				start = now;
			else if (now - start >= spin_ns)
				break;
		}
	}
	/* Seq-cst: the sleeper's half of the Dekker pair with csd_ack()
	 * (FREE, then the doorbell) and shd__ipi_ring(). */
	if (!shd_cas(&q->doorbell, &expect, SHD_DB_SLEEPING))
		return;		/* rung meanwhile */
	if (!(done && done(arg))) {
		struct timespec ts, *tsp = NULL;

		if (deadline_ns) {
			uint64_t now = shd_now_ns();
			uint64_t left = deadline_ns > now ? deadline_ns - now : 1;

			ts.tv_sec = (time_t)(left / 1000000000ull);
			ts.tv_nsec = (long)(left % 1000000000ull);
			tsp = &ts;
		}
		sys_futex(&q->doorbell, FUTEX_WAIT_PRIVATE, SHD_DB_SLEEPING, tsp);
	}
	expect = SHD_DB_SLEEPING;
	/* Seq-cst: back to IDLE unless a ringer set RUNG meanwhile. */
	shd_cas(&q->doorbell, &expect, SHD_DB_IDLE);
}
