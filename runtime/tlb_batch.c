/* SPDX-License-Identifier: MIT */
/* sparc64's TLB engine: the per-CPU tlb_batch and the flush cross-calls (arch/sparc/mm/tlb.c, arch/sparc/kernel/smp_64.c). */

/*
 * Theory (after arch/sparc/mm/tlb.c and arch/sparc/kernel/smp_64.c, Linux
 * 6.12; the batch is as old as sparc64's port, its 192 entries since
 * 2.6.x, its wait since f36391d2790d, "sparc64: Fix race in TLB batch
 * processing", 2013).
 *
 * sparc64 has no flush_tlb_range(): flush_tlb_mm/page/range are empty.
 * Every change of a valid user PTE (set_pte_at() and the ptep_* helpers,
 * through maybe_tlb_batch_add()) calls tlb_batch_add_one() with the
 * address.  In lazy MMU mode, which zap_pte_range(), change_pte_range()
 * and copy_pte_range() enter around each page table they walk, the
 * address goes into this CPU's tlb_batch (TLB_BATCH_NR, 192, entries of
 * one mm); the batch is flushed (flush_tlb_pending()) when it is full,
 * when an address of another mm comes, and when lazy MMU mode ends, at
 * the end of each page table.  Outside lazy MMU mode (a single PTE
 * cleared by a fault, ptep_clear_flush() in reclaim) the address is
 * flushed at once: global_flush_tlb_page().  exit_mmap's changes are not
 * queued at all (fullmm): nobody runs the mm, and its number is not used
 * again before a CPU that takes it flushes it.
 *
 * flush_tlb_pending() flushes nothing if the mm's context is no longer
 * valid (a wrap took its number: whoever runs it next gets a new number
 * and flushes it, context_sparc64.c).  Else a batch of one address is
 * global_flush_tlb_page(): smp_flush_tlb_page() cross-calls
 * xcall_flush_tlb_page to the CPUs of mm_cpumask and demaps locally; a
 * batch of more is smp_flush_tlb_pending(): smp_call_function_many()
 * with tlb_pending_func, waited for, then __flush_tlb_pending() locally.
 * The targets demap by context number, whatever mm they run.
 * smp_flush_tlb_mm() cross-calls xcall_flush_tlb_mm; kernel ranges go to
 * every other online CPU (smp_cross_call()).  The sender of an xcall
 * waits until each target has taken the mondo, whose handler runs at
 * once, at trap level; here every round is waited for.  mm_cpumask only
 * grows (bafb056ce279 removed the mm_users == 1 shortcut that reset it
 * to this CPU, which kthread_use_mm() made unsafe; not modelled).
 *
 * Faults.  tlb_batch_drop_last flushes a batch but its last address.
 * tlb_pending_async is smp_flush_tlb_pending() before f36391d2790d: the
 * cross-call was not waited for and the targets read the batch itself,
 * which the sender resets (tb->tlb_nr = 0) and refills at once: a
 * target that runs the handler after that demaps the wrong addresses or
 * none.  Here the targets read the live batch and the sender resets it
 * before it waits (memory stays safe; the effect is the race's).
 *
 * Where the model departs from Linux.  The gather (mmu_gather.c) keeps
 * the addresses of the valid PTEs it changed and hands them here at its
 * flush, after the page-table lock, where sparc64 flushes each page
 * table's batch under it; the batches are the same (split at each page
 * table, TLB_BATCH_NR at most), their time is later.  Whole-mm flushes
 * the generic code asks for (fork's write-protect, a nested gather) are
 * smp_flush_tlb_mm() here, where sparc64 queues fork's addresses and has
 * nothing left to flush for a nested gather.  The TSBs (sparc64's
 * software translation caches, flushed first by flush_tsb_user()) are
 * not modelled.  Costs are x86's (cost.ipi a target, cost.invlpg a
 * page): no published figure separates a mondo from an IPI.
 *
 * Counting: every other online CPU of a round is an IPI candidate, sent
 * if in the mask and pruned if not; tlb_batch_flushes, tlb_batch_entries,
 * tlb_immediate_flushes and xcalls_* say which path each round took.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "context_sparc64.h"
#include "seeded.h"
#include "smp.h"
#include "tlb.h"
#include "tlb_batch.h"
#include "tso.h"

int shd__tlb_batch_init(struct shd_cpu *cpu)
{
	if (cpu->m->cfg.arch.tlb != SHD_TLB_SPARC64)
		return 0;
	cpu->tlb_batch = calloc(1, sizeof(*cpu->tlb_batch));
	return cpu->tlb_batch ? 0 : -ENOMEM;
}

void shd__tlb_batch_free(struct shd_cpu *cpu)
{
	free(cpu->tlb_batch);
	cpu->tlb_batch = NULL;
}

/* The demap a round asks of CPU, the initiator's own included. */
static void demap(struct shd_cpu *cpu, const struct shd_flush_info *f)
{
	uint64_t v[SHD_TLB_BATCH_NR_MAX], n;

	if (f->kind == SHD_FLUSH_ALL) {
		shd__local_flush_everything(cpu);
		cpu->cnt.s.flushes_full++;
	} else if (f->kind == SHD_FLUSH_KERNEL) {
		if (f->end_vpn == SHD_FLUSH_END_ALL) {
			shd__local_flush_everything(cpu);
			cpu->cnt.s.flushes_full++;
		} else {
			shd__local_flush_pages(cpu, f->start_vpn, f->end_vpn,
					       SHD_ASID_GLOBAL);
		}
	} else if (f->end_vpn == SHD_FLUSH_END_ALL) {	/* __flush_tlb_mm */
		shd__local_flush_asid(cpu, f->asid);
		cpu->cnt.s.flushes_full++;
	} else if (f->vaddrs) {				/* __flush_tlb_pending */
		if (f->live_batch) {	/* the sender's batch as it is now */
			const struct shd_tlb_batch *b =
				cpu->m->cpus[f->initiator]->tlb_batch;

			n = shd_load_relaxed(&b->nr);
			for (uint64_t i = 0; i < n; i++)
				v[i] = shd_load_relaxed(&b->vaddrs[i]);
			shd__local_flush_list(cpu, v, n, f->asid);
		} else {
			shd__local_flush_list(cpu, f->vaddrs, f->nr, f->asid);
		}
	} else {					/* __flush_tlb_page */
		shd__local_flush_pages(cpu, f->start_vpn, f->start_vpn + 1,
				       f->asid);
	}
}

/* A target's handler: xcall_flush_tlb_* or tlb_pending_func(). */
static void xcall_func(void *target_ctx, struct shd_csd *csd)
{
	struct shd_cpu *cpu = target_ctx;

	cpu->cnt.s.ipi_requests++;
	demap(cpu, csd->info);
}

/*
 * One cross-call round of cpu->info (filled by the caller), counted in
 * *XCALLS: to every other online CPU of MASK (NULL: all of them), the
 * local demap, and the wait.  RESET (tlb_pending_async) is the batch the
 * sender empties before it waits.  0 or a request's error.
 */
static int xcall_round(struct shd_cpu *cpu, enum shd_iface iface,
		       const unsigned long *mask, uint64_t *xcalls,
		       struct shd_tlb_batch *reset)
{
	struct shd_machine *m = cpu->m;
	struct shd_flush_info *f = &cpu->info;
	unsigned *targets = cpu->targets;
	uint64_t t0 = shd__machine_now(m);
	int n = 0, err = 0, r;

	f->initiator = cpu->id;
	cpu->cnt.s.flush_calls++;
	shd__probe_flush_begin(cpu, iface, f);
	cpu->in_flush = true;
	n = shd__mask_targets(cpu, mask, targets);
	if (n) {
		(*xcalls)++;
		if (shd__fault(m, SHD_FAULT_SKIP_REMOTE_IPI)) {
			shd__fault_fired(cpu, SHD_FAULT_SKIP_REMOTE_IPI);
			n = 0;
		}
	}
	err = shd__send_targets(cpu, targets, &n, xcall_func, f);
	if (!shd__fault_fires(cpu, SHD_FAULT_SKIP_LOCAL_FLUSH))
		demap(cpu, f);
	if (reset) {
		if (n)
			shd__fault_fired(cpu, SHD_FAULT_TLB_PENDING_ASYNC);
		shd_store_relaxed(&reset->nr, 0);
	}
	/* Every queued request is waited for, even after a failure: none
	 * may read cpu->info once we return. */
	if ((r = shd__wait_targets(cpu, targets, n, shd__iface_names[iface])) &&
	    !err)
		err = r;
	cpu->in_flush = false;
	shd__flush_end(cpu, iface, t0, n);
	return err;
}

/* cpu->info for a user round of MM in context TAG. */
static struct shd_flush_info *user_info(struct shd_cpu *cpu, struct shd_mm *mm,
					unsigned tag)
{
	struct shd_flush_info *f = &cpu->info;

	memset(f, 0, sizeof(*f));
	f->kind = SHD_FLUSH_USER;
	f->mm = mm;
	f->asid = tag;
	return f;
}

/* global_flush_tlb_page() -> smp_flush_tlb_page(): one address. */
static int flush_page(struct shd_cpu *cpu, enum shd_iface iface,
		      struct shd_mm *mm, unsigned tag, uint64_t vpn)
{
	struct shd_flush_info *f = user_info(cpu, mm, tag);

	f->start_vpn = vpn;
	f->end_vpn = vpn + 1;
	return xcall_round(cpu, iface, mm->cpumask, &cpu->cnt.s.xcalls_page,
			   NULL);
}

/* flush_tlb_pending(): the batch's addresses on every CPU of its mm's
 * mask, then an empty batch. */
static int flush_tlb_pending(struct shd_cpu *cpu, enum shd_iface iface)
{
	struct shd_tlb_batch *b = cpu->tlb_batch;
	struct shd_flush_info *f;
	uint64_t nr = b->nr;
	unsigned tag;
	bool valid;
	int err = 0;

	if (!nr)
		return 0;
	cpu->cnt.s.tlb_batch_flushes++;
	tag = shd__sparc64_ctx_tag(b->mm, &valid);
	if (nr > 1 && shd__fault_fires(cpu, SHD_FAULT_TLB_BATCH_DROP_LAST))
		nr--;
	if (!valid) {
		/* CTX_VALID() is false: the next CPU to run it flushes. */
	} else if (nr == 1) {
		err = flush_page(cpu, iface, b->mm, tag, b->vaddrs[0]);
	} else {
		bool async = shd__fault(cpu->m, SHD_FAULT_TLB_PENDING_ASYNC);

		f = user_info(cpu, b->mm, tag);
		f->start_vpn = b->vaddrs[0];
		f->end_vpn = b->vaddrs[0] + 1;
		f->vaddrs = b->vaddrs;
		f->nr = nr;
		f->live_batch = async;
		err = xcall_round(cpu, iface, b->mm->cpumask,
				  &cpu->cnt.s.xcalls_pending, async ? b : NULL);
	}
	shd_store_relaxed(&b->nr, 0);
	return err;
}

int shd__tlb_batch_flush(struct shd_cpu *cpu, struct shd_mm *mm,
			 enum shd_iface iface, const uint64_t *vpns, size_t n,
			 uint64_t s, uint64_t e)
{
	struct shd_tlb_batch *b = cpu->tlb_batch;
	uint64_t count = vpns ? n : e - s, prev = 0;
	uint64_t limit = cpu->m->cfg.policy.tlb_batch_nr;
	int err = 0, r;

	b->mm = mm;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t vpn = vpns ? vpns[i] : s + i;

		/* arch_leave_lazy_mmu_mode() at each page table's end. */
		if (b->nr && vpn / SHD_PT_ENTRIES != prev / SHD_PT_ENTRIES &&
		    (r = flush_tlb_pending(cpu, iface)) && !err)
			err = r;
		shd_store_relaxed(&b->vaddrs[b->nr], vpn);
		shd_store_relaxed(&b->nr, b->nr + 1);
		cpu->cnt.s.tlb_batch_entries++;
		prev = vpn;
		if (b->nr >= limit && (r = flush_tlb_pending(cpu, iface)) && !err)
			err = r;
	}
	if ((r = flush_tlb_pending(cpu, iface)) && !err)
		err = r;
	b->mm = NULL;
	return err;
}

int shd__tlb_flush_now(struct shd_cpu *cpu, struct shd_mm *mm,
		       enum shd_iface iface, uint64_t vpn)
{
	bool valid;
	unsigned tag = shd__sparc64_ctx_tag(mm, &valid);

	cpu->cnt.s.tlb_immediate_flushes++;
	return valid ? flush_page(cpu, iface, mm, tag, vpn) : 0;
}

int shd__tlb_flush_mm_xcall(struct shd_cpu *cpu, struct shd_mm *mm,
			    enum shd_iface iface)
{
	bool valid;
	unsigned tag = shd__sparc64_ctx_tag(mm, &valid);
	struct shd_flush_info *f;

	if (!valid)
		return 0;
	f = user_info(cpu, mm, tag);
	f->end_vpn = SHD_FLUSH_END_ALL;
	return xcall_round(cpu, iface, mm->cpumask, &cpu->cnt.s.xcalls_mm, NULL);
}

int shd__tlb_flush_kernel_xcall(struct shd_cpu *cpu, enum shd_iface iface,
				uint64_t s, uint64_t e)
{
	struct shd_flush_info *f = &cpu->info;

	memset(f, 0, sizeof(*f));
	f->kind = iface == SHD_IF_ALL ? SHD_FLUSH_ALL : SHD_FLUSH_KERNEL;
	f->start_vpn = s;
	f->end_vpn = e;
	f->asid = SHD_ASID_GLOBAL;
	return xcall_round(cpu, iface, NULL, &cpu->cnt.s.xcalls_kernel, NULL);
}
