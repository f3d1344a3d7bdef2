/* SPDX-License-Identifier: MIT */
/* Cross-CPU calls: send, take, wait with a watchdog (after kernel/smp.c). */

/*
 * The order a call takes, as in kernel/smp.c: the sender locks the csd it
 * owns for that target, queues it (ipi/: the doorbell is rung only for the
 * first request of a batch), and waits for the acknowledgement while taking
 * its own IPIs, since two CPUs flushing each other must not deadlock.  The
 * target takes its queue between library calls and while idle
 * (shd__cpu_take_ipis(), generic_smp_call_function_single_interrupt()),
 * runs each function on its own thread (the one rule: its TLB and caches
 * are touched by no one else) and acknowledges it.
 *
 * The watchdog (csd_lock_wait_toolong()): a wait that passes the bound
 * withdraws a request its target has not taken, reports the CPU that did
 * not answer, and returns -ETIMEDOUT instead of hanging; a request the
 * target is already running is waited for, unbounded.
 *
 * LATR's queue is a second, doorbell-less queue per CPU: swept at ticks and
 * switches (shd__cpu_sweep()), or at an interrupt once the poster kicks.
 *
 * Counting (the identity in include/shootdown/stats.h).  The sender counts
 * each request once, as sent (it rang), coalesced (it rode a ring) or,
 * for LATR, deferred, and remembers which in the csd; a withdrawn request
 * is moved to ipis_timed_out by the CPU that withdrew it, its sender.  The
 * target counts interrupts taken (ipis_received, Linux's CAL line) as it
 * splices its call queue, before any acknowledgement: with coalescing one
 * per non-empty splice, whose first request was the one that found the
 * queue empty and rang; without, one per request: coalesce=off models an
 * interrupt per request, and the one doorbell word per CPU that merges
 * their rings is the emulation's, not the model's.  So sent == received
 * whenever nothing timed out.
 * LATR's fallback kick rings the doorbell too, but is counted only in
 * async_fallback_ipis (by the kicker) and the sweep it causes in neither.
 */
#include <errno.h>
#include <inttypes.h>

#include <shootdown/smp.h>
#include "../common/probes.h"
#include "report.h"
#include "seeded.h"
#include "smp.h"
#include "stats.h"
#include "tlb.h"
#include "tso.h"

int shd__check_cpu(struct shd_cpu *cpu, const char *what)
{
	if (!cpu)
		return shd__fail(-EINVAL, "%s: no CPU given", what);
	if (shd__this_cpu != cpu)
		return shd__fail(-EPERM, "%s: must run on CPU %u's own thread "
				 "(inside a task on it)", what, cpu->id);
	if (cpu->in_ipi)
		return shd__fail(-EPERM, "%s: not allowed from an IPI handler",
				 what);
	shd__sched_point(cpu);	/* every call is one */
	return 0;
}

int shd__send_csd(struct shd_cpu *cpu, unsigned target, struct shd_csd *csd,
		  shd_csd_fn func, void *info, void (*call)(void))
{
	struct shd_machine *m = cpu->m;
	struct shd_cpu *t = m->cpus[target];
	int err;

	while (!shd__csd_trylock(csd))
		if ((err = shd__csd_wait(cpu, csd, target, "an earlier request")) < 0) {
			cpu->cnt.s.ipis_timed_out++;	/* this one never went */
			return err;
		}
	shd__sched_point(cpu);
	shd__tso_drain(cpu);	/* csd_lock() and llist_add(): locked */
	/* Ours alone, and set before the target can take it. */
	csd->charged = SHD_CHARGED_SENT;
	if (shd__ipi_enqueue(&t->ipi, csd, func, info, call) ||
	    !m->cfg.policy.coalesce) {
		shd__ipi_ring(&t->ipi);
		cpu->cnt.s.ipis_sent++;
		SHD_PROBE2(ipi_send, cpu->id, target);
	} else {
		/* The target never reads it; the csd is still ours to write. */
		csd->charged = SHD_CHARGED_COALESCED;
		cpu->cnt.s.ipis_coalesced++;
	}
	shd__seeded_wake(m);
	return 1;
}

static bool csd_done_cb(void *arg)
{
	return shd__csd_done(arg);
}

/* CSD withdrawn by us: its candidate's outcome is now ipis_timed_out.
 * (No counter is reset with a request in flight: the reset needs every
 * CPU idle, and every request is waited for before its task returns.) */
static void csd_recount_timed_out(struct shd_cpu *cpu, struct shd_csd *csd)
{
	struct shd_stats *s = &cpu->cnt.s;

	switch (csd->charged) {
	case SHD_CHARGED_SENT:
		s->ipis_sent--;
		break;
	case SHD_CHARGED_COALESCED:
		s->ipis_coalesced--;
		break;
	case SHD_CHARGED_DEFERRED:
		s->ipis_deferred--;
		break;
	default:
		return;
	}
	csd->charged = SHD_CHARGED_NONE;
	s->ipis_timed_out++;
}

int shd__csd_wait(struct shd_cpu *cpu, struct shd_csd *csd, unsigned target,
		  const char *what)
{
	struct shd_machine *m = cpu->m;
	uint64_t deadline = 0;
	struct shd_violation v;
	int32_t st;

	/* Fast path: spin on the ack (and our own doorbell) before reading
	 * the clock; the watchdog bound starts when this spin gives up. */
	for (uint64_t i = 0; !m->seeded && i < m->spin_iters; i++) {
		if (shd__csd_done(csd))
			return 0;
		if (shd__ipi_pending(&cpu->ipi))
			shd__cpu_take_ipis(cpu);
		caa_cpu_relax();
	}
	if (m->watchdog_ns)
		deadline = shd__machine_now(m) + m->watchdog_ns;
	for (;;) {
		if (shd__ipi_pending(&cpu->ipi))
			shd__cpu_take_ipis(cpu);
		if (shd__csd_done(csd))
			return 0;
		if (deadline && shd__machine_now(m) >= deadline) {
			/* Withdraw it if the target has not taken it; if it
			 * is running, it will finish: wait on, unbounded. */
			if (shd__csd_abandon(csd)) {
				csd_recount_timed_out(cpu, csd);
				break;
			}
			/* Withdrawn before (and recounted then): a wait for
			 * an earlier request, or a second wait. */
			if ((st = shd__csd_state(csd)) == SHD_CSD_ABANDONED)
				break;
			if (st == SHD_CSD_FREE)
				return 0;
			deadline = 0;
		}
		if (m->seeded)
			shd__seeded_block(cpu, csd_done_cb, csd, true, deadline);
		else
			shd__ipi_idle_wait(&cpu->ipi, csd_done_cb, csd,
					   m->spin_ns, deadline);
	}
	shd__violation_init(&v, m, SHD_VIOLATION_WATCHDOG, target, 0, 0, what);
	snprintf(v.text, sizeof(v.text),
		 "watchdog: cpu %u did not take %s from cpu %u within %u ms (not "
		 "taking IPIs: a task that never calls the library?); the request "
		 "is withdrawn, seed %" PRIu64, target, what, cpu->id,
		 m->cfg.watchdog_ms, m->cfg.seed);
	shd__report(m, &v);
	return shd__fail(-ETIMEDOUT, "%s", v.text);
}

/* Interrupts taken: N requests spliced from the call queue.  Counted
 * before any acknowledgement, so a joiner sees it; also when the doorbell
 * had not rung yet: the sender rings right after queueing (a ring that
 * then finds nothing, a LATR kick's included, is not counted).  See the
 * theory above for coalesce=off. */
static void ipi_batch(void *ctx, unsigned n)
{
	struct shd_cpu *cpu = ctx;

	cpu->cnt.s.ipis_received += cpu->m->cfg.policy.coalesce ? 1 : n;
}

static void latr_batch(void *ctx, unsigned n)
{
	struct shd_cpu *cpu = ctx;

	(void)n;
	cpu->cnt.s.async_sweeps++;	/* swept with no interrupt */
}

void shd__cpu_take_ipis(struct shd_cpu *cpu)
{
	unsigned n;

	/* Broadcast invalidations need no handler: even inside one. */
	if (shd__hw_drain(cpu))
		shd__seeded_wake(cpu->m);
	if (cpu->in_ipi)
		return;		/* handlers do not nest */
	/* ... and again once the doorbell is cleared below: a broadcast
	 * whose wake-up ring that clearing swallows is visible by then. */
	shd__sched_point(cpu);	/* the call queue is shared state */
	if (shd__ipi_pending(&cpu->ipi))
		shd__tso_drain(cpu);	/* an interrupt: llist_del_all()'s XCHG */
	cpu->in_ipi = true;
	n = shd__ipi_handle(&cpu->ipi, cpu, ipi_batch);
	if (n)
		SHD_PROBE2(ipi_handle, cpu->id, n);
	/* LATR's fallback interrupt: sweep now.  Its kicker counted it
	 * (async_fallback_ipis); its requests were counted deferred. */
	/* Seq-cst exchange: pairs with shd__cpu_kick()'s, made before it
	 * rang the doorbell we are answering. */
	if (shd_load_relaxed(&cpu->latr_kick) && shd_xchg(&cpu->latr_kick, 0))
		n += shd__ipi_handle(&cpu->latr_q, cpu, NULL);
	cpu->in_ipi = false;
	if (shd__hw_drain(cpu))
		shd__seeded_wake(cpu->m);
	if (n) {
		shd__seeded_wake(cpu->m);	/* its senders may go on */
		/* ... and return from their flush before this CPU's next
		 * instruction: the interrupt's return is a scheduling point. */
		shd__sched_point(cpu);
	}
}

void shd__cpu_sweep(struct shd_cpu *cpu)
{
	if (cpu->in_ipi || !shd__ipi_queued(&cpu->latr_q))
		return;
	cpu->in_ipi = true;
	if (shd__ipi_handle(&cpu->latr_q, cpu, latr_batch))
		shd__seeded_wake(cpu->m);
	cpu->in_ipi = false;
}

void shd__cpu_kick(struct shd_cpu *target)
{
	/* Seq-cst: the kick is seen by the handler the ring wakes. */
	shd_xchg(&target->latr_kick, 1);
	shd__ipi_ring(&target->ipi);
	shd__seeded_wake(target->m);
}

/* IPI handler of smp_call_function: the function travels in the csd. */
static void call_ipi_func(void *target_ctx, struct shd_csd *csd)
{
	struct shd_cpu *cpu = target_ctx;

	cpu->cnt.s.ipi_requests++;
	((shd_smp_call_fn)csd->call)(cpu, csd->info);
}

int shd_smp_call_function_single(struct shd_cpu *cpu, unsigned target,
				 shd_smp_call_fn fn, void *info)
{
	struct shd_machine *m;
	int err = shd__check_cpu(cpu, "smp_call_function_single");

	if (err)
		return err;
	m = cpu->m;
	if (!fn)
		return shd__fail(-EINVAL, "smp_call_function_single: no function");
	if (target >= m->ncpus)
		return shd__fail(-ERANGE, "smp_call_function_single: cpu %u does "
				 "not exist (machine has %u)", target, m->ncpus);
	if (target == cpu->id) {
		cpu->in_ipi = true;	/* the same rules as on a remote CPU */
		fn(cpu, info);
		cpu->in_ipi = false;
		return 0;
	}
	cpu->cnt.s.ipi_candidates++;	/* one candidate: sent or coalesced */
	if ((err = shd__send_csd(cpu, target, &cpu->csd[target], call_ipi_func,
				 info, (void (*)(void))fn)) < 0)
		return err;
	return shd__csd_wait(cpu, &cpu->csd[target], target,
			     "smp_call_function_single");
}

/* One site per probe (perf counts each site as its own event). */
__attribute__((noinline)) void shd__probe_flush_begin(struct shd_cpu *cpu,
		enum shd_iface iface, const struct shd_flush_info *f)
{
	SHD_PROBE5(flush_begin, cpu->id, (int)iface,
		   f->mm ? f->mm->id : 0, f->start_vpn, f->end_vpn);
}

__attribute__((noinline)) void shd__flush_end(struct shd_cpu *cpu,
		enum shd_iface iface, uint64_t t0, int n)
{
	uint64_t ns = 0;

	if (n > 0) {	/* a shootdown: timed from T0 */
		ns = shd__machine_now(cpu->m) - t0;
		cpu->cnt.s.shootdowns++;
		shd__hist_add(&cpu->cnt, ns);
	}
	SHD_PROBE4(flush_end, cpu->id, (int)iface, ns, n);
}

int shd__mask_targets(struct shd_cpu *cpu, const unsigned long *mask,
		      unsigned *targets)
{
	struct shd_machine *m = cpu->m;
	int n = 0;

	for (unsigned c = 0; c < m->ncpus; c++) {
		if (c == cpu->id || !shd__mask_test(m->online_mask, c))
			continue;
		cpu->cnt.s.ipi_candidates++;
		shd__sched_point(cpu);
		/* Seq-cst: after the caller's PTE change, pairing with
		 * switch_mm's bit set before it walks the tables. */
		if (mask && !shd__tso_mask_test(cpu, mask, c)) {
			cpu->cnt.s.ipis_avoided_pruned++;
			continue;
		}
		targets[n++] = c;
	}
	return n;
}

int shd__wait_targets(struct shd_cpu *cpu, const unsigned *targets, int n,
		      const char *what)
{
	int err = 0, r;

	for (int i = 0; i < n; i++)
		if ((r = shd__csd_wait(cpu, &cpu->csd[targets[i]], targets[i],
				       what)) < 0 && !err)
			err = r;
	return err;
}

int shd__send_targets(struct shd_cpu *cpu, unsigned *targets, int *n,
		      shd_csd_fn func, void *info)
{
	int err = 0, r;

	for (int i = 0; i < *n; i++) {
		if ((r = shd__send_csd(cpu, targets[i], &cpu->csd[targets[i]],
				       func, info, NULL)) < 0) {
			err = r;
			targets[i--] = targets[--*n];
		}
	}
	return err;
}

void shd__cpu_spin_lock(struct shd_cpu *cpu, int32_t *lock)
{
	for (;;) {
		int32_t unlocked = 0;

		/* Acquire: what the last holder wrote is visible. */
		if (shd_cas_acquire(lock, &unlocked, 1))
			return;
		shd__cpu_take_ipis(cpu);
		if (cpu->m->seeded)
			shd__seeded_yield(cpu);
		else
			caa_cpu_relax();
	}
}

void shd__cpu_spin_unlock(struct shd_cpu *cpu, int32_t *lock)
{
	/* Release: pairs with shd__cpu_spin_lock()'s acquire. */
	shd_store_release(lock, 0);
	shd__seeded_wake(cpu->m);
}
