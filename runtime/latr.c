/* SPDX-License-Identifier: MIT */
/* LATR: lazy, asynchronous munmap shootdowns (Kumar et al., ASPLOS'18). */

/*
 * Under policy `async` an unmap's flush (munmap, exit_mmap: the paths that
 * remove the VMA) does not wait.  The initiator bumps the mm's generation,
 * flushes itself, and queues one request per target exactly as a
 * synchronous flush would, but rings no doorbell: this is LATR's per-CPU
 * state.  Every CPU sweeps its queue at its next context switch, poll, or
 * tick (every SHD_LATR_TICK of its accesses), taking the requests without
 * an interrupt (async_sweeps).  The initiator checks its outstanding
 * flushes at its own ticks: one not swept within async_us gets the targets'
 * doorbells rung, a real interrupt (async_fallback_ipis, LATR's kthread).
 *
 * Counting: each target of a post is an IPI candidate counted deferred
 * (ipis_deferred), whatever happens next.  A fallback interrupt goes to a
 * CPU already counted, so it counts in async_fallback_ipis only, once per
 * request and target however many CPUs settle the flush (req->kicked), and
 * never in ipis_sent or ipis_received (the counting identity,
 * include/shootdown/stats.h; bench/cost.c charges it a send and a receive).
 *
 * What must wait for the sweeps: the frames and page tables the unmap
 * released (freed only when every target has swept; the oracle's
 * use-after-free check holds us to it), the oracle's credit for the range,
 * and any new mapping of the range (mmap over it first settles the flushes
 * still in flight there: LATR's lazy VMA free), so that no CPU can read a
 * new page through an old translation.  Until then a stale translation of
 * the unmapped range may still be used by a CPU that has not swept: the
 * program is using memory it unmapped, which LATR accepts.
 */
#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <string.h>

#include "latr.h"
#include "mm.h"
#include "oracle.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "seeded.h"
#include "smp.h"
#include "tlbflush.h"

struct shd_latr {
	struct shd_flush_info info;	/* read by the targets */
	struct shd_latr *next_cpu;	/* initiator's outstanding list */
	struct shd_latr *next_mm;	/* the mm's, under its lock */
	struct shd_mm *mm;		/* reference held */
	uint64_t s, e;			/* unmapped vpns */
	uint64_t t;			/* oracle clock it covers */
	uint64_t posted_ns;
	uint64_t *pfns;			/* frames to free when swept */
	size_t npfns;
	struct shd_pt_leaf *tables;
	bool rung;			/* every fallback sent (a hint:
					 * atomic, also set by CPUs settling
					 * it; req[].kicked decides) */
	unsigned nreq;
	struct shd_tlbbatch_req req[];
};

static bool latr_done(struct shd_latr *l)
{
	for (unsigned i = 0; i < l->nreq; i++)
		if (!shd__csd_done(&l->req[i].csd))
			return false;
	return true;
}

/* Ring the targets that have not swept L yet (LATR's fallback), each at
 * most once: the poster's tick and any CPU settling L may race here. */
static void latr_ring(struct shd_cpu *cpu, struct shd_latr *l)
{
	for (unsigned i = 0; i < l->nreq; i++) {
		struct shd_tlbbatch_req *q = &l->req[i];

		if (shd__csd_done(&q->csd))
			continue;
		/* Seq-cst exchange: one kicker per request, and the kick it
		 * sends stays pending until the target answers it. */
		if (shd_load_relaxed(&q->kicked) || shd_xchg(&q->kicked, 1))
			continue;
		shd__cpu_kick(cpu->m->cpus[q->target]);
		cpu->cnt.s.async_fallback_ipis++;
	}
	shd_store_relaxed(&l->rung, true);
}

/* Everything waited for L: credit, free, forget.  No locks held. */
static void latr_release(struct shd_cpu *cpu, struct shd_latr *l, bool ok)
{
	struct shd_mm *mm = l->mm;
	struct shd_latr **pp;

	shd__mm_lock(cpu, mm);
	for (pp = &mm->latr; *pp; pp = &(*pp)->next_mm) {
		if (*pp == l) {
			*pp = l->next_mm;
			break;
		}
	}
	shd__mm_unlock(mm);
	if (ok) {
		shd__oracle_credit_range(mm, l->s, l->e, l->t, SHD_IF_RANGE);
		if (!shd__fault(cpu->m, SHD_FAULT_ASYNC_EARLY_FREE))
			shd__frames_put(cpu->m, l->pfns, l->npfns);	/* else at post */
		shd__leaves_release(mm, l->tables, l->s, l->e, l->t);
		cpu->cnt.s.async_reuse_delay_us +=
			(shd__machine_now(cpu->m) - l->posted_ns) / 1000;
		free(l->pfns);
		free(l);
	}	/* else quarantined: a CPU may still map them; never reused */
	shd__mm_put(mm);
}

/*
 * Post MM's flush of vpns [S, E) and hand over the frames and tables it
 * releases.  Under MM's lock.  0, or -ENOMEM (nothing was posted: the
 * caller flushes synchronously).
 */
int shd__latr_post(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t s,
		   uint64_t e, bool freed_tables, uint64_t **pfns, size_t *npfns,
		   struct shd_pt_leaf **tables)
{
	struct shd_machine *m = cpu->m;
	struct shd_flush_info *f;
	struct shd_latr *l;
	uint64_t t0 = shd__machine_now(m);
	int err = 0;

	if (posix_memalign((void **)&l, SHD_CL, sizeof(*l) +
			   m->ncpus * sizeof(l->req[0])))
		return -ENOMEM;
	memset(l, 0, sizeof(*l));
	l->mm = mm;
	l->s = s;
	l->e = e;
	l->t = shd__oracle_begin(mm);
	f = &l->info;
	shd__flush_info_init(cpu, f, mm, s, e, freed_tables);
	cpu->cnt.s.flush_calls++;
	cpu->cnt.s.async_flushes++;
	shd__probe_flush_begin(cpu, SHD_IF_RANGE, f);
	l->nreq = shd__queue_requests(cpu, f, l->req, true, &err);	/* cannot fail */
	cpu->cnt.s.async_requests += l->nreq;
	if (!shd__fault_fires(cpu, SHD_FAULT_SKIP_LOCAL_FLUSH))
		shd__flush_tlb_func(cpu, f);
	l->pfns = *pfns;
	l->npfns = *npfns;
	l->tables = *tables;
	*pfns = NULL;
	*npfns = 0;
	*tables = NULL;
	/* The bug: frames free before the sweeps.  It fires when some CPU
	 * has yet to sweep (with none, the reap frees them at once anyway). */
	if (shd__fault(m, SHD_FAULT_ASYNC_EARLY_FREE)) {
		if (l->npfns && l->nreq)
			shd__fault_fired(cpu, SHD_FAULT_ASYNC_EARLY_FREE);
		shd__frames_put(m, l->pfns, l->npfns);
	}
	cpu->cnt.s.async_deferred_frames += l->npfns;
	shd__mm_get(mm);
	l->posted_ns = shd__machine_now(m);
	l->next_mm = mm->latr;
	mm->latr = l;
	l->next_cpu = cpu->latr;
	cpu->latr = l;
	shd__flush_end(cpu, SHD_IF_RANGE, t0, (int)l->nreq);	/* no wait */
	return 0;
}

/*
 * The initiator's tick: release what every target has swept, interrupt
 * targets that have sat on a request for async_us.  FORCE: interrupt
 * everyone still owing a sweep and wait for them (a task's end).  Not
 * under any mm lock.  0, or -ETIMEDOUT (watchdog).
 */
int shd__latr_reap(struct shd_cpu *cpu, bool force)
{
	uint64_t bound = (uint64_t)cpu->m->cfg.policy.async_us * 1000, now;
	struct shd_latr **pp = &cpu->latr, *l;
	int err = 0, r;

	if (!*pp)
		return 0;
	now = shd__machine_now(cpu->m);
	while ((l = *pp)) {
		bool ok = true;

		if (!latr_done(l) && !shd_load_relaxed(&l->rung) &&
		    (force || now - l->posted_ns >= bound))
			latr_ring(cpu, l);
		if (force) {
			for (unsigned i = 0; i < l->nreq; i++)
				if ((r = shd__csd_wait(cpu, &l->req[i].csd,
						       l->req[i].target,
						       "LATR sweep")) < 0) {
					ok = false;
					err = err ? err : r;
				}
		} else if (!latr_done(l)) {
			pp = &l->next_cpu;
			continue;
		}
		*pp = l->next_cpu;
		latr_release(cpu, l, ok);
	}
	return err;
}

/*
 * Wait for another CPU's request CSD to be swept.  Its acknowledgement
 * wakes the CPU that posted it, not us: poll (taking our own IPIs).
 */
static bool csd_swept(void *arg)
{
	return shd__csd_done(arg);
}

static int settle_wait(struct shd_cpu *cpu, struct shd_csd *csd,
		       unsigned target)
{
	struct shd_machine *m = cpu->m;
	uint64_t now = shd__machine_now(m);
	uint64_t deadline = m->watchdog_ns ? now + m->watchdog_ns : 0;

	while (!shd__csd_done(csd)) {
		if (shd__ipi_pending(&cpu->ipi))
			shd__cpu_take_ipis(cpu);
		if (m->seeded)
			shd__seeded_block(cpu, csd_swept, csd, true, deadline);
		else
			sched_yield();
		now = shd__machine_now(m);
		if (deadline && now > deadline && !shd__csd_done(csd))
			return shd__fail(-ETIMEDOUT, "cpu %u: cpu %u did not sweep "
					 "a LATR flush within %" PRIu64 " ms",
					 cpu->id, target,
					 m->watchdog_ns / 1000000);
	}
	return 0;
}

/*
 * Before [S, E) of MM is mapped again: make every target sweep the flushes
 * still in flight there (interrupting them) and wait.  Under MM's lock (the
 * owners release the entries later, under it too).  0 or -ETIMEDOUT.
 */
int shd__latr_settle(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t s,
		     uint64_t e)
{
	int err = 0, r;

	for (struct shd_latr *l = mm->latr; l; l = l->next_mm) {
		if (l->e <= s || l->s >= e || latr_done(l))
			continue;
		latr_ring(cpu, l);
		for (unsigned i = 0; i < l->nreq; i++)
			if ((r = settle_wait(cpu, &l->req[i].csd,
					     l->req[i].target)) < 0 && !err)
				err = r;
	}
	return err;
}

/* A tick of CPU: sweep its own queue, then look after its posts. */
void shd__latr_tick(struct shd_cpu *cpu)
{
	if (cpu->in_ipi || cpu->in_flush)
		return;
	if (shd__ipi_pending(&cpu->ipi))
		shd__cpu_take_ipis(cpu);
	shd__cpu_sweep(cpu);
	if (cpu->latr)
		(void)shd__latr_reap(cpu, false);
}

/*
 * Out of frames under LATR: some may only be waiting for sweeps.  Settle
 * MM's flushes in flight (interrupting the CPUs that owe a sweep), complete
 * our own posts, and give the other posters a moment to release theirs.
 * No lock held.  0 (worth retrying) or an error.
 */
int shd__latr_relieve(struct shd_cpu *cpu, struct shd_mm *mm)
{
	int err;

	shd__mm_lock(cpu, mm);
	err = mm->latr ? shd__latr_settle(cpu, mm, 0, UINT64_MAX) : 0;
	shd__mm_unlock(mm);
	if (!err)
		err = shd__latr_reap(cpu, true);
	if (!err) {
		shd__cpu_sweep(cpu);
		if (cpu->m->seeded)
			shd__seeded_yield(cpu);
		else
			sched_yield();
	}
	return err;
}
