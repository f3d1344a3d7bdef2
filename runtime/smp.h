/* SPDX-License-Identifier: MIT */
/* Cross-CPU calls: send, take, wait with a watchdog (kernel/smp.c). */
#ifndef SHD_RUNTIME_SMP_H
#define SHD_RUNTIME_SMP_H

#include "types.h"

/* Check we are on CPU's own thread and not inside a handler: 0, -EINVAL
 * (no CPU), -EPERM.  WHAT names the caller in the message. */
int shd__check_cpu(struct shd_cpu *cpu, const char *what);

/*
 * What a request's candidate CPU was counted as (csd->charged): a request
 * the watchdog withdraws is recounted as ipis_timed_out, so that every
 * candidate ends in exactly one outcome (include/shootdown/stats.h).
 */
enum {
	SHD_CHARGED_NONE,
	SHD_CHARGED_SENT,	/* ipis_sent: rang the doorbell */
	SHD_CHARGED_COALESCED,	/* ipis_coalesced: rode an earlier ring */
	SHD_CHARGED_DEFERRED,	/* ipis_deferred: LATR, left to a sweep */
};

/* Queue CSD (FUNC, INFO, CALL) to TARGET, ringing its doorbell unless the
 * request rides an earlier one (coalesced).  1 if queued (wait for it), or
 * -ETIMEDOUT if CSD's previous request is still stuck (counted in
 * ipis_timed_out: this one was never sent).  CPU's thread. */
int shd__send_csd(struct shd_cpu *cpu, unsigned target, struct shd_csd *csd,
		  shd_csd_fn func, void *info, void (*call)(void));
/* Wait for CSD's acknowledgement from TARGET, taking our own IPIs
 * meanwhile; past the watchdog bound, withdraw it (its candidate moves to
 * ipis_timed_out) and report: -ETIMEDOUT.  WHAT names the request in the
 * report.  CPU is the one that charged CSD. */
int shd__csd_wait(struct shd_cpu *cpu, struct shd_csd *csd, unsigned target,
		  const char *what);

/* Take CPU's pending IPIs now (an interrupt; handlers do not nest). */
void shd__cpu_take_ipis(struct shd_cpu *cpu);
/* LATR: run CPU's posted requests with no interrupt (a tick or switch). */
void shd__cpu_sweep(struct shd_cpu *cpu);
/* LATR's fallback: interrupt TARGET so that it sweeps now. */
void shd__cpu_kick(struct shd_cpu *target);

/* The other online CPUs of MASK (NULL: all of them) as one scan of a
 * flush reads them, each an IPI candidate (ipis_avoided_pruned if not in
 * MASK) and a scheduling point: into TARGETS; how many.  CPU's thread. */
int shd__mask_targets(struct shd_cpu *cpu, const unsigned long *mask,
		      unsigned *targets);
/* Queue FUNC(INFO) to each of the *N TARGETS (CPU's csds); a target
 * whose request could not be sent leaves the list (*N shrinks).  The
 * first error, or 0. */
int shd__send_targets(struct shd_cpu *cpu, unsigned *targets, int *n,
		      shd_csd_fn func, void *info);
/* A spin lock taken with interrupts off, on an architecture whose
 * cross-calls get through anyway (sparc64's mondo vectors, sun4m's level
 * 15): CPU takes its IPIs while it spins (and yields, seeded). */
void shd__cpu_spin_lock(struct shd_cpu *cpu, int32_t *lock);
void shd__cpu_spin_unlock(struct shd_cpu *cpu, int32_t *lock);
/* Wait for the requests CPU queued to the N TARGETS (its csds, one a
 * target); the first error.  WHAT names them in a timeout's report. */
int shd__wait_targets(struct shd_cpu *cpu, const unsigned *targets, int n,
		      const char *what);

/* The flush_begin probe, and the end of a flush call that queued N
 * requests: a shootdown (counted and timed from T0) if N > 0, and the
 * flush_end probe either way. */
void shd__probe_flush_begin(struct shd_cpu *cpu, enum shd_iface iface,
			    const struct shd_flush_info *f);
void shd__flush_end(struct shd_cpu *cpu, enum shd_iface iface, uint64_t t0,
		    int n);

#endif
