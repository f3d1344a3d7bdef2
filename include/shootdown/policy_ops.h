/* SPDX-License-Identifier: MIT */
/* shootdown policies written in C: hooks at the engine's decision points. */
#ifndef SHOOTDOWN_POLICY_OPS_H
#define SHOOTDOWN_POLICY_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <shootdown/export.h>
#include <shootdown/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A policy in C is a table of hooks over a built-in preset (its base).
 * The engine keeps every mechanism (generations, queues, acknowledgement,
 * the oracle); at each decision point it works out what the base would
 * do and, if the policy has a hook there, asks the hook, passing that
 * built-in answer.  A hook left NULL is the base's behaviour.  Every
 * verdict maps onto an outcome the engine already has, so the counters
 * and their identities (ipi_candidates = sent + coalesced + pruned + lazy
 * + deferred + timed out + broadcast) hold for any policy.
 *
 * A shared object exports one table per policy, as
 *
 *	const struct shd_policy_ops shd_policy_ops_NAME = { ... };
 *
 * (or one table as plain shd_policy_ops); `shootdown --policy-lib
 * ./lib.so:NAME` loads shd_policy_ops_NAME, `--policy-lib ./lib.so`
 * shd_policy_ops.  The library checks a table with shd_policy_ops_check()
 * and builds a policy of it with shd_policy_from_ops(); a program using
 * the library may dlopen() a policy itself and do the same.  A policy
 * needs only this header: it need not link against the library.
 *
 * Hooks run on the simulated CPUs' threads, many at once, inside the
 * flush protocol (a handler's context: interrupts off, as it were): they
 * must be pure functions of their context and knobs — no locks, no
 * sleeping, no I/O, no state shared between calls — so that under the
 * seeded scheduler a run stays a function of its command line.  A hook
 * that crashes is reported by name and CPU (the CLI: exit 2); one that
 * answers outside its enum gets the built-in answer instead, and the
 * first such answer is kept for a message (shd_policy_hook_bad_verdict();
 * the CLI: one line on stderr at exit).
 *
 * Versions.  Version 2 appended flush_route and defer_flush to the table
 * and active_cpus and batch_pages to the context.  A table of version 1
 * (built against the old header, so ending after lazy_exit_flush) still
 * loads: the library reads no member past its version's, and its
 * policy has no version-2 hooks (the base decides there).
 */

/* The layout of this header: a library takes tables of versions
 * SHD_POLICY_OPS_VERSION_MIN..SHD_POLICY_OPS_VERSION and refuses others. */
#define SHD_POLICY_OPS_VERSION 2
#define SHD_POLICY_OPS_VERSION_MIN 1

/* What a candidate CPU's cpu_tlbstate.loaded_mm says about the mm. */
enum shd_hook_loaded {
	SHD_HOOK_LOADED_OTHER,		/* another mm, or init_mm */
	SHD_HOOK_LOADED_THIS,		/* the mm being flushed */
	SHD_HOOK_LOADED_SWITCHING,	/* mid-switch_mm (LOADED_MM_SWITCHING) */
};

/* Per candidate CPU of a flush: the outcome it is counted as. */
enum shd_hook_send {
	SHD_HOOK_SEND,		/* a request (ipis_sent or ipis_coalesced) */
	SHD_HOOK_SKIP_PRUNED,	/* none: ipis_avoided_pruned */
	SHD_HOOK_SKIP_LAZY,	/* none: ipis_avoided_lazy */
};

/* flush_tlb_func()'s action on a CPU running the mm. */
enum shd_hook_action {
	SHD_HOOK_NOTHING,	/* already current (flushes_skipped_gen) */
	SHD_HOOK_PARTIAL,	/* the request's pages; a whole-mm request
				 * flushes the whole context anyway */
	SHD_HOOK_FULL,		/* the whole context */
};

/* flush_route: how an mm's flushes reach the other CPUs from now on. */
enum shd_hook_route {
	SHD_HOOK_ROUTE_IPI,	/* stay on IPIs to mm_cpumask */
	SHD_HOOK_ROUTE_BROADCAST,	/* take a global ASID: hardware
					 * broadcast (INVLPGB, or RAR) */
};

/*
 * What the engine knows at a decision point, read-only, filled afresh for
 * each call.  Fields a hook's point has no value for are 0 (the comments
 * say which hooks see them).  Generations are the mm's tlb_gen and the
 * CPU's per-context copy (arch/x86/mm/tlb.c); an mm's generation only
 * grows.
 */
struct shd_hook_ctx {
	unsigned cpu;		/* the CPU decided about: the candidate
				 * (should_send), else the CPU running the hook */
	unsigned self;		/* the CPU running the hook */
	unsigned initiator;	/* the flush's initiator (flush hooks) */
	unsigned ncpus;		/* online CPUs */
	uint64_t mm_id;		/* the mm (never 0) */
	bool in_mm_cpumask;	/* CPU's bit in mm_cpumask (before a
				 * switch_mm sets it) */
	bool is_lazy;		/* CPU in lazy TLB mode (should_send: as the
				 * scan read it; lazy_exit: true) */
	enum shd_hook_loaded loaded;	/* CPU's loaded_mm against the mm */
	bool freed_tables;	/* the flush freed page tables */
	bool trim_cpumask;	/* this flush also trims mm_cpumask (6.13) */
	uint64_t npages;	/* the flush's pages; 0 = the whole mm */
	uint64_t new_tlb_gen;	/* the generation this flush made */
	uint64_t mm_tlb_gen;	/* the mm's tlb_gen as read at this point */
	uint64_t local_tlb_gen;	/* CPU's generation for the mm (flush_action,
				 * switch_flush, lazy_exit_flush) */
	unsigned mask_weight;	/* CPUs in mm_cpumask (should_send,
				 * flush_route, defer_flush) */
	uint64_t now_ns;	/* machine time (simulated under the seeded
				 * scheduler, host time under --sched host) */
	uint64_t jiffies;	/* now_ns at the policy's hz */
	const int64_t *knobs;	/* the declared knobs' values, in order */
	/* Version 2. */
	unsigned active_cpus;	/* CPUs of mm_cpumask running the mm, not
				 * lazy, this one included (flush_route:
				 * what mm_active_cpus_exceeds() counts) */
	unsigned batch_pages;	/* pages already deferred in this CPU's
				 * reclaim batch (defer_flush) */
};

/* A numeric knob: NAME=N with MIN <= N <= MAX, DEF if not set. */
struct shd_policy_knob {
	const char *name;	/* [a-z0-9_], not a built-in knob's name */
	const char *help;
	int64_t def, min, max;
};

struct shd_policy_ops {
	unsigned version;	/* SHD_POLICY_OPS_VERSION */
	const char *name;	/* [a-z0-9_], 1..31, not a preset's name */
	const char *help;	/* one line for `shootdown list` */
	const char *base;	/* the preset NULL hooks and the built-in
				 * knobs come from ("linux" if NULL) */
	const struct shd_policy_knob *knobs;	/* ends with a NULL name;
						 * NULL: none */

	/*
	 * Does candidate ctx->cpu (another online CPU) get this flush of a
	 * user mm?  BUILTIN is the base's verdict.  Called at the scan of
	 * every flush of a user mm (not kernel, flush_tlb_all or reclaim
	 * batch flushes), on the initiator.  Skipping a CPU is safe only if
	 * it catches up by generation when it next runs the mm (switch_flush,
	 * lazy_exit_flush): the oracle says when it is not.
	 */
	enum shd_hook_send (*should_send)(const struct shd_hook_ctx *ctx,
					  enum shd_hook_send builtin);
	/*
	 * flush_tlb_func() on a CPU running the mm (local or remote): what
	 * to flush, given its generation and the request's.  After it the
	 * CPU's generation becomes ctx->mm_tlb_gen.
	 */
	enum shd_hook_action (*flush_action)(const struct shd_hook_ctx *ctx,
					     enum shd_hook_action builtin);
	/* switch_mm into an mm this CPU holds a context of: flush it first?
	 * (A context new to the CPU is always flushed.) */
	bool (*switch_flush)(const struct shd_hook_ctx *ctx, bool builtin);
	/* Leaving lazy TLB mode back into the same mm: flush it first? */
	bool (*lazy_exit_flush)(const struct shd_hook_ctx *ctx, bool builtin);

	/* ---- version 2 ---- */

	/*
	 * IPI or broadcast: consider_global_asid() (Linux 6.15, 4afeb0ed1753)
	 * after a flush of a user mm went by IPI to another CPU of its mask,
	 * when the mm could take a global ASID (bcast=invlpgb or rar,
	 * switch=6.13, neither async nor batch=arm64; x86 engine) and has
	 * none.  BROADCAST gives it one, if one is left: from then on every
	 * flush of the mm is INVLPGB + TLBSYNC (or RAR to the mask), and it
	 * keeps the ASID until it is freed, as in Linux, whose CPUs switch
	 * into a global ASID without a flush (choose_new_asid()): only a
	 * broadcast keeps it current, so the choice is made once per mm,
	 * not per flush.  BUILTIN is Linux's: the flushing thread is sampled
	 * ((id & 31) == (jiffies & 31)) and at least broadcast_min_cpus CPUs
	 * run the mm (ctx->active_cpus).  On the initiator; ctx->npages,
	 * freed_tables and new_tlb_gen are the flush's.  Either verdict is
	 * safe: the oracle cannot catch a wrong one, only the counters show
	 * its cost (IPIs, or INVLPGBs and TLBSYNCs to every CPU).
	 */
	enum shd_hook_route (*flush_route)(const struct shd_hook_ctx *ctx,
					   enum shd_hook_route builtin);
	/*
	 * Batch or defer: should_defer_flush() / arch_tlbbatch_should_defer()
	 * (mm/rmap.c; x86 65c8d30e679b) for one page reclaim unmapped from
	 * the mm: true defers its flush to the CPU's batch (one flush at
	 * try_to_unmap_flush()), false flushes the page now
	 * (ptep_clear_flush()).  Called only where the base batches at all
	 * (batch=x86 or arm64: with batch=off Linux does not ask); BUILTIN
	 * is the base's (x86: another CPU is in mm_cpumask, or any other
	 * CPU is online without prune; arm64: always).  On the reclaiming
	 * CPU; ctx->npages is 1; mask_weight and batch_pages are set.
	 * Either verdict is safe (the frame is freed only after its flush,
	 * deferred or not): the oracle cannot catch a wrong one.
	 */
	bool (*defer_flush)(const struct shd_hook_ctx *ctx, bool builtin);
};

/*
 * Check OPS as a library would load it: the version (1 or 2: a table of
 * version 1 is read only as far as its version's members), the name, the
 * base, the knobs (names unique, not a built-in knob's, MIN <= DEF <=
 * MAX, at most SHD_POLICY_KNOBS_MAX).  0 or -EINVAL with the reason in
 * shd_last_error().  Any thread.
 */
SHD_EXPORT int shd_policy_ops_check(const struct shd_policy_ops *ops);

/*
 * Fill *OUT with the policy OPS describes: its base preset, named
 * ops->name, with OPS's hooks and its knobs at their defaults;
 * shd_policy_set() then sets its knobs and the base's.  OPS must outlive
 * every machine made with it.  0 or -EINVAL (shd_policy_ops_check()).
 */
SHD_EXPORT int shd_policy_from_ops(const struct shd_policy_ops *ops,
				   struct shd_policy *out);

/*
 * Whether the calling thread is inside a policy's hook, and which: the
 * policy's and the hook's names and the simulated CPU.  Async-signal-safe
 * (reads the thread's own marker, set around every hook call), for a
 * SIGSEGV handler that reports a crashing hook.  True if inside one.
 */
SHD_EXPORT bool shd_policy_hook_where(const char **policy, const char **hook,
				      unsigned *cpu);

/*
 * Whether a hook of this process has answered outside its enum (the
 * engine then took the built-in answer, every time): the first such
 * answer's policy, hook and value, for one message at the end of a run.
 * Any thread; acquire: what it returns was written before.  True if one
 * did.
 */
SHD_EXPORT bool shd_policy_hook_bad_verdict(const char **policy,
					    const char **hook, int *value);

#ifdef __cplusplus
}
#endif
#endif
