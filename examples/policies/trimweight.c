/* SPDX-License-Identifier: MIT */
/* trimweight: Rik van Riel's mm_cpumask trimming, chosen by the mask's weight. */

/*
 * Theory.  Since Linux 6.13 a CPU leaving an mm keeps its bit in
 * mm_cpumask (209954cbc7d0, "x86/mm/tlb: Update mm_cpumask lazily"), so
 * the mask only grows; once a second a flush also goes to the CPUs of the
 * mask running another mm, which clear their bits (6db2526c1d69,
 * should_trim_cpumask()).  A trim costs IPIs now to save IPIs later: the
 * flushes that reach every CPU in the mask — those that freed page
 * tables — find fewer bits.  With a small mask there is little to save
 * and the trim's IPIs are most of the cost (the first version trimmed on
 * every flush and LKP measured -13.2% on will-it-scale tlb_flush2).
 *
 * This policy trims only masks of at least min_weight CPUs: a choice by
 * cpumask weight, as Ampere-style arm64 proposals choose broadcast
 * invalidation only for an mm active on enough CPUs.  A trim request not
 * sent is counted pruned, as Linux counts the CPUs running another mm
 * that it does not trim; such a CPU catches up by generation when it
 * switches back in, so skipping it is safe (the oracle agrees).
 *
 * Saves: ipis_trim (and the remote wrong-CPU flushes they cause) on
 * workloads whose masks stay small, e.g. munmap with trim_ms=0; costs
 * ipis_freed_tables where the untrimmed bits are found by a later flush
 * that freed page tables.  `sweep --param min_weight=..` shows both.
 */
#include <shootdown/policy_ops.h>

enum { KNOB_MIN_WEIGHT };

static const struct shd_policy_knob knobs[] = {
	{ "min_weight", "trim mm_cpumask only when it holds at least this "
	  "many CPUs (0: always, as linux)", 4, 0, 1024 },
	{ 0 },
};

static enum shd_hook_send should_send(const struct shd_hook_ctx *c,
				      enum shd_hook_send builtin)
{
	/* A request the trim alone sends: to a CPU running another mm, no
	 * page tables freed (those go to the whole mask, trim or not). */
	bool trim_only = c->trim_cpumask && !c->freed_tables &&
			 c->loaded == SHD_HOOK_LOADED_OTHER;

	if (builtin == SHD_HOOK_SEND && trim_only &&
	    c->mask_weight < (uint64_t)c->knobs[KNOB_MIN_WEIGHT])
		return SHD_HOOK_SKIP_PRUNED;
	return builtin;
}

const struct shd_policy_ops shd_policy_ops_trimweight = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "trimweight",
	.help = "linux, but mm_cpumask is trimmed only when it holds at least "
		"min_weight CPUs (a choice by cpumask weight)",
	.base = "linux",
	.knobs = knobs,
	.should_send = should_send,
};
