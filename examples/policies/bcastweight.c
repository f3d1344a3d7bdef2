/* SPDX-License-Identifier: MIT */
/* bcastweight: IPIs or hardware broadcast, chosen by mm_cpumask's weight at every flush. */

/*
 * Theory.  Linux 6.15 on AMD (4afeb0ed1753, "x86/mm: Enable broadcast TLB
 * invalidation for multi-threaded processes") flushes an mm by INVLPGB +
 * TLBSYNC, with no IPIs, once the mm holds a global ASID; it hands one
 * out in consider_global_asid(), after an IPI flush, when the flushing
 * task is sampled ((pid & 31) == (jiffies & 31)) and the mm runs, not
 * lazy, on more than 3 CPUs (mm_active_cpus_exceeds()).  The sampling
 * keeps the lock and the count off most flushes, and the 4 CPUs keep the
 * 4k ASIDs for the processes that gain most; the price is the IPIs an
 * mm sends until a sampled flush catches it busy, and none at all for a
 * process whose threads are seldom running at one instant.
 *
 * This policy makes that choice at every such flush (flush_route) and by
 * the weight of mm_cpumask — the CPUs an IPI flush has to consider, as
 * Ampere-style arm64 proposals choose broadcast TLBI over IPIs by the
 * number of CPUs an mm has run on — rather than by a sample of the CPUs
 * running it now: broadcast once the mask holds at least min_weight
 * CPUs, IPIs below.  A global ASID is kept until the mm is freed, as in
 * Linux, where a CPU switches into one without a flush (choose_new_asid()):
 * only a broadcast keeps it current, so the hook picks a route for the
 * mm, not for one flush.  Both routes are the engine's own; the oracle
 * has nothing to catch, only the counters change.
 *
 * Saves: the IPIs an mm sends before Linux's sample promotes it, and all
 * of them for an mm whose threads run on fewer than 4 CPUs at once but
 * many over time (e.g. tasks moving between CPUs).  Costs: an INVLPGB
 * reaches every CPU, not only the mask, and ASIDs go to more mms (with
 * a small asid_space the allocator wraps and flushes everything).
 */
#include <shootdown/policy_ops.h>

enum { KNOB_MIN_WEIGHT };

static const struct shd_policy_knob knobs[] = {
	{ "min_weight", "broadcast an mm's flushes once mm_cpumask holds at "
	  "least this many CPUs (at any flush, not sampled); 0: linux's "
	  "choice", 2, 0, 8192 },
	{ 0 },
};

static enum shd_hook_route flush_route(const struct shd_hook_ctx *c,
				       enum shd_hook_route builtin)
{
	int64_t min = c->knobs[KNOB_MIN_WEIGHT];

	if (min == 0)
		return builtin;
	return c->mask_weight >= (uint64_t)min ? SHD_HOOK_ROUTE_BROADCAST :
						 SHD_HOOK_ROUTE_IPI;
}

const struct shd_policy_ops shd_policy_ops_bcastweight = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "bcastweight",
	.help = "linux-invlpgb, but an mm takes a global ASID (broadcast "
		"flushes) at any flush once mm_cpumask holds min_weight CPUs",
	.base = "linux-invlpgb",
	.knobs = knobs,
	.flush_route = flush_route,
};
