/* SPDX-License-Identifier: MIT */
/* lazydefer: a deferred flush for CPUs not running the mm, page tables freed or not. */

/*
 * Theory.  Linux x86 skips a CPU whose TLB can catch up by itself: one in
 * lazy TLB mode, or (6.13+) one running another mm; it catches up when it
 * next runs the mm, because switch_mm_irqs_off() (and leaving lazy mode)
 * compares the context's generation with the mm's tlb_gen and flushes
 * if it is behind.  The flush is deferred to the CPU's switch-in, queued
 * by generation: this is the deferral RISC-V's and LATR's designs lean
 * on.  Linux gives it up when page tables were freed (freed_tables): the
 * flush then goes to every CPU in mm_cpumask (native_flush_tlb_multi()),
 * because a lazy CPU still has the old CR3 loaded and its page walker may
 * speculatively cache entries of the freed page-table pages (the
 * paging-structure caches, not only the TLB).
 *
 * This policy defers those flushes too (knob freed=1).  It keeps the one
 * exception that makes deferral sound: a CPU mid-switch (loaded_mm ==
 * LOADED_MM_SWITCHING, fea4e317f9e7) may already have read the old
 * tlb_gen, so it always gets the flush.  The oracle checks what the model
 * has — TLB entries against PTE versions — and finds nothing stale: the
 * generation catch-up covers every deferred TLB flush.  The model has no
 * paging-structure cache, so it cannot show the hazard Linux guards
 * against; on x86 this policy is only sound on a CPU that does not walk
 * page tables speculatively under a lazy CR3 (or with the freed tables
 * kept until every lazy CPU has switched, as mmu_gather's RCU table
 * freeing does for the walkers it knows of).
 *
 * Saves: the freed-tables IPIs (ipis_freed_tables), e.g. every IPI of
 * exec's teardown of the old image, whose threads have gone lazy.
 */
#include <shootdown/policy_ops.h>

enum { KNOB_FREED, KNOB_TRIM };

static const struct shd_policy_knob knobs[] = {
	{ "freed", "1: defer CPUs not running the mm even when page tables "
	  "were freed; 0: send them as linux does", 1, 0, 1 },
	{ "trim", "1: defer the cpumask trim's requests too (the mask is "
	  "never trimmed); 0: trim as linux does", 0, 0, 1 },
	{ 0 },
};

static enum shd_hook_send should_send(const struct shd_hook_ctx *c,
				      enum shd_hook_send builtin)
{
	bool deferrable = c->freed_tables ? c->knobs[KNOB_FREED] != 0 :
					    c->knobs[KNOB_TRIM] != 0;

	if (builtin != SHD_HOOK_SEND || !c->in_mm_cpumask || !deferrable)
		return builtin;
	if (c->loaded == SHD_HOOK_LOADED_THIS && c->is_lazy)
		return SHD_HOOK_SKIP_LAZY;	/* leaving lazy mode catches up */
	if (c->loaded == SHD_HOOK_LOADED_OTHER)
		return SHD_HOOK_SKIP_PRUNED;	/* switch_mm catches up */
	return builtin;		/* running it, or mid-switch: now */
}

const struct shd_policy_ops shd_policy_ops_lazydefer = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "lazydefer",
	.help = "linux, but CPUs not running the mm catch up at switch-in "
		"even when page tables were freed (no freed-tables IPIs)",
	.base = "linux",
	.knobs = knobs,
	.should_send = should_send,
};
