/* SPDX-License-Identifier: MIT */
/* The shootdown engine: the flush_tlb_* interfaces across simulated CPUs. */

/*
 * Theory (after arch/x86/mm/tlb.c).
 *
 * Each mm has a 64-bit tlb_gen, bumped by every flush request; each CPU keeps,
 * per ASID slot, the generation its TLB is known to be up to date with.  An
 * initiator bumps the generation (a seq-cst RMW, ordered before it reads
 * mm_cpumask and the targets' lazy flags), queues one request per target,
 * flushes locally while the requests are in flight (policy "concurrent"),
 * then waits for every acknowledgement.  A target that finds its generation
 * already at or past the request's does nothing; exactly one behind with a
 * small range, it invalidates page by page; otherwise it flushes the whole
 * context and jumps to the mm's current generation.  The invariant: a CPU's
 * local generation never passes a flush it has not done.
 *
 * CPUs that switch into an mm set their mm_cpumask bit (seq-cst) before
 * reading tlb_gen, and CPUs leaving lazy mode clear is_lazy before reading
 * it: so either the flusher sees them and sends a request, or they see the
 * new generation and flush themselves.  Lazy CPUs are skipped unless page
 * tables were freed; one that still gets a request drops to init_mm.
 *
 * The one rule: a TLB is touched only by its own CPU's thread.  Everything
 * remote is a request through ipi/.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "internal.h"
#include "../common/probes.h"

static void flush_pages(struct shd_cpu *cpu, uint64_t s, uint64_t e,
			unsigned asid)
{
	if (shd__fault(cpu->m, SHD_FAULT_RANGE_SHORT) && e > s)
		e--;
	for (uint64_t vpn = s; vpn < e; vpn++) {
		shd__tlb_flush_page(&cpu->dtlb, vpn, asid);
		if (cpu->split)
			shd__tlb_flush_page(&cpu->itlb, vpn, asid);
	}
	cpu->cnt.s.pages_invalidated += e - s;
	cpu->cnt.s.flushes_partial++;
}

void shd__flush_local_asid_ctx(struct shd_cpu *cpu, unsigned asid)
{
	shd__tlb_flush_asid(&cpu->dtlb, asid);
	if (cpu->split)
		shd__tlb_flush_asid(&cpu->itlb, asid);
}

static void flush_full(struct shd_cpu *cpu, unsigned asid)
{
	shd__flush_local_asid_ctx(cpu, asid);
	cpu->cnt.s.flushes_full++;
}

static int asid_of(struct shd_cpu *cpu, struct shd_mm *mm)
{
	for (int a = 0; a < SHD_NR_ASIDS; a++)
		if (cpu->ctxs[a].ctx_id == mm->id)
			return a;
	return -1;
}

/* flush_tlb_func(): runs on the CPU whose TLB it flushes. */
void shd__flush_tlb_func(struct shd_cpu *cpu, const struct shd_flush_info *f)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	uint64_t npages, local, mm_gen;
	struct shd_mm *mm = f->mm;
	int asid;

	if (f->kind == SHD_FLUSH_ALL) {
		shd__tlb_flush_everything(&cpu->dtlb);
		if (cpu->split)
			shd__tlb_flush_everything(&cpu->itlb);
		cpu->cnt.s.flushes_full++;
		return;
	}
	if (f->kind == SHD_FLUSH_KERNEL) {
		if (f->end_vpn == SHD_FLUSH_END_ALL) {
			shd__tlb_flush_global(&cpu->dtlb);
			if (cpu->split)
				shd__tlb_flush_global(&cpu->itlb);
			cpu->cnt.s.flushes_full++;
		} else {
			flush_pages(cpu, f->start_vpn, f->end_vpn, SHD_ASID_GLOBAL);
		}
		return;
	}
	if (f->kind == SHD_FLUSH_BATCH) {
		if (!shd__policy_may_miss(p)) {
			/* Switch-in will not catch up (no pruning, no lazy
			 * skip): flush every user context now. */
			for (unsigned a = 0; a < SHD_NR_ASIDS; a++)
				shd__flush_local_asid_ctx(cpu, a);
			cpu->cnt.s.flushes_full++;
			return;
		}
		/* arch_tlbbatch_flush(): flush whatever user mm is loaded and
		 * catch up with its generation; other contexts were bumped by
		 * add_pending and catch up when switched in. */
		mm = cpu->loaded_mm;
		if (!mm || (p->lazy && shd_load_relaxed(&cpu->is_lazy))) {
			if (mm)
				shd__cpu_switch_to_init_mm(cpu);
			cpu->cnt.s.flushes_skipped_gen++;
			return;
		}
		asid = (int)cpu->loaded_asid;
		mm_gen = shd_load_acquire(&mm->tlb_gen);
		if (p->gen && cpu->ctxs[asid].tlb_gen == mm_gen) {
			cpu->cnt.s.flushes_skipped_gen++;	/* already current */
			return;
		}
		flush_full(cpu, (unsigned)asid);
		if (p->gen)
			cpu->ctxs[asid].tlb_gen = mm_gen;
		return;
	}
	if (mm != cpu->loaded_mm) {
		/* Not running it: if flushes can bypass us, switch-in will
		 * catch up; if not (broadcast), flush its slot now. */
		asid = shd__policy_may_miss(p) ? -1 : asid_of(cpu, mm);
		if (asid < 0) {
			cpu->cnt.s.flushes_skipped_gen++;
			return;
		}
		if (f->end_vpn != SHD_FLUSH_END_ALL)
			flush_pages(cpu, f->start_vpn, f->end_vpn, (unsigned)asid);
		else
			flush_full(cpu, (unsigned)asid);
		return;
	}
	if (p->lazy && shd_load_relaxed(&cpu->is_lazy)) {
		/* A lazy CPU that got a request anyway (page tables freed):
		 * stop using the mm; switch-in will check the generation. */
		shd__cpu_switch_to_init_mm(cpu);
		cpu->cnt.s.flushes_skipped_gen++;
		return;
	}
	asid = (int)cpu->loaded_asid;
	local = cpu->ctxs[asid].tlb_gen;
	mm_gen = shd_load_acquire(&mm->tlb_gen);
	npages = f->end_vpn == SHD_FLUSH_END_ALL ? 0 : f->end_vpn - f->start_vpn;
	switch (shd__policy_flush_action(p, local, f->new_tlb_gen, mm_gen, npages)) {
	case SHD_ACTION_NOTHING:
		cpu->cnt.s.flushes_skipped_gen++;
		return;
	case SHD_ACTION_PARTIAL:
		flush_pages(cpu, f->start_vpn, f->end_vpn, (unsigned)asid);
		break;
	case SHD_ACTION_FULL:
		flush_full(cpu, (unsigned)asid);
		break;
	}
	if (p->gen)
		cpu->ctxs[asid].tlb_gen = mm_gen;
}

/* IPI handler of flush requests. */
void shd__flush_ipi_func(void *target_ctx, struct shd_csd *csd)
{
	struct shd_cpu *cpu = target_ctx;

	cpu->cnt.s.ipi_requests++;
	shd__flush_tlb_func(cpu, csd->info);
}

/* IPI handler of smp_call_function: the function travels in the csd. */
static void call_ipi_func(void *target_ctx, struct shd_csd *csd)
{
	struct shd_cpu *cpu = target_ctx;

	cpu->cnt.s.ipi_requests++;
	((shd_smp_call_fn)csd->call)(cpu, csd->info);
}

/*
 * Queue F to TARGET.  Returns 1 if queued (the caller must wait for it),
 * 0 if not, -ETIMEDOUT if the previous request to it is still stuck.
 */
int shd__send_csd(struct shd_cpu *cpu, unsigned target, struct shd_csd *csd,
		  shd_csd_fn func, void *info, void (*call)(void))
{
	struct shd_machine *m = cpu->m;
	struct shd_cpu *t = m->cpus[target];
	int err;

	while (!shd__csd_trylock(csd))
		if ((err = shd__csd_wait(cpu, csd, target, "an earlier request")) < 0)
			return err;
	if (shd__ipi_enqueue(&t->ipi, csd, func, info, call) ||
	    !m->cfg.policy.coalesce) {
		shd__ipi_ring(&t->ipi);
		cpu->cnt.s.ipis_sent++;
		SHD_PROBE2(ipi_send, cpu->id, target);
	} else {
		cpu->cnt.s.ipis_coalesced++;
	}
	return 1;
}

static int send_one(struct shd_cpu *cpu, unsigned target, shd_csd_fn func,
		    void *info, void (*call)(void))
{
	return shd__send_csd(cpu, target, &cpu->csd[target], func, info, call);
}

/*
 * Whether candidate C (another online CPU) gets a user flush whose CPUs
 * are MASK (NULL: every CPU gets it), counting the ones that do not.
 */
bool shd__is_target(struct shd_cpu *cpu, unsigned c, const unsigned long *mask,
		    bool freed_tables)
{
	struct shd_machine *m = cpu->m;
	bool in_mask, lazy;

	if (!mask)
		return true;
	in_mask = shd__mask_test(mask, c);
	lazy = in_mask && m->cfg.policy.lazy &&
	       __atomic_load_n(&m->cpus[c]->is_lazy, __ATOMIC_SEQ_CST);
	switch (shd__policy_target(&m->cfg.policy, in_mask, lazy, freed_tables)) {
	case SHD_TARGET_PRUNED:
		cpu->cnt.s.ipis_avoided_pruned++;
		return false;
	case SHD_TARGET_LAZY:
		cpu->cnt.s.ipis_avoided_lazy++;
		return false;
	case SHD_TARGET_SEND:
		break;
	}
	return true;
}

/*
 * Send cpu->info to the CPUs that need it; their ids go to TARGETS.
 * Returns how many were queued.  A CPU whose previous request is still
 * stuck is skipped and *ERR set to -ETIMEDOUT; the others still get theirs
 * (and must be waited for).
 */
static int send_requests(struct shd_cpu *cpu, unsigned *targets, int *err)
{
	struct shd_machine *m = cpu->m;
	const struct shd_flush_info *f = &cpu->info;
	const unsigned long *mask = f->kind == SHD_FLUSH_USER ? f->mm->cpumask :
				    f->kind == SHD_FLUSH_BATCH ? cpu->batch.cpumask :
				    NULL;
	int n = 0, r;

	for (unsigned c = 0; c < m->ncpus; c++) {
		if (c == cpu->id || !shd__is_target(cpu, c, mask, f->freed_tables))
			continue;
		if (shd__fault(m, SHD_FAULT_SKIP_REMOTE_IPI))
			continue;
		if ((r = send_one(cpu, c, shd__flush_ipi_func, &cpu->info, NULL)) < 0) {
			*err = r;
			continue;
		}
		targets[n++] = c;
	}
	return n;
}

static int wait_requests(struct shd_cpu *cpu, const unsigned *targets, int n,
			 const char *what)
{
	int err = 0, r;

	for (int i = 0; i < n; i++)
		if ((r = shd__csd_wait(cpu, &cpu->csd[targets[i]], targets[i],
				       what)) < 0 && !err)
			err = r;
	return err;
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
		ns = shd_now_ns() - t0;
		cpu->cnt.s.shootdowns++;
		shd__hist_add(&cpu->cnt, ns);
	}
	SHD_PROBE4(flush_end, cpu->id, (int)iface, ns, n);
}

/* The core of every flush interface: send, flush locally, wait. */
static int do_flush(struct shd_cpu *cpu, enum shd_iface iface)
{
	struct shd_machine *m = cpu->m;
	struct shd_flush_info *f = &cpu->info;
	unsigned *targets = cpu->targets;
	bool local, concurrent = m->cfg.policy.concurrent;
	uint64_t t0 = shd_now_ns();
	int n = 0, err = 0, werr;

	/* flush_tlb_func() itself decides what a CPU not running the mm
	 * must do (nothing if switch-in will catch up, else its slot). */
	local = !shd__fault(m, SHD_FAULT_SKIP_LOCAL_FLUSH);
	cpu->cnt.s.flush_calls++;
	shd__probe_flush_begin(cpu, iface, f);
	cpu->in_flush = true;
	if (concurrent)
		n = send_requests(cpu, targets, &err);
	if (local)
		shd__flush_tlb_func(cpu, f);
	if (!concurrent)
		n = send_requests(cpu, targets, &err);
	/* Wait for every queued request even after a failure: once we return,
	 * none of them may still read cpu->info (each is done or abandoned). */
	werr = wait_requests(cpu, targets, n, shd__iface_names[iface]);
	if (!err)
		err = werr;
	cpu->in_flush = false;
	shd__flush_end(cpu, iface, t0, n);
	return err;
}

void shd__flush_info_init(struct shd_cpu *cpu, struct shd_flush_info *f,
			  struct shd_mm *mm, uint64_t s_vpn, uint64_t e_vpn,
			  bool freed_tables)
{
	memset(f, 0, sizeof(*f));
	f->mm = mm;
	f->kind = SHD_FLUSH_USER;
	f->initiator = cpu->id;
	f->freed_tables = freed_tables;
	f->start_vpn = s_vpn;
	f->end_vpn = e_vpn;
	/* Linux init_flush_tlb_info(): over the ceiling, flush everything. */
	if (e_vpn != SHD_FLUSH_END_ALL && e_vpn - s_vpn > cpu->m->cfg.policy.ceiling) {
		f->start_vpn = 0;
		f->end_vpn = SHD_FLUSH_END_ALL;
	}
	/* Seq-cst RMW: the generation bump is ordered before we read
	 * mm_cpumask and is_lazy (pairs with switch_mm / lazy exit). */
	f->new_tlb_gen = shd_add_return(&mm->tlb_gen, 1);
}

unsigned shd__queue_requests(struct shd_cpu *cpu, struct shd_flush_info *f,
			     struct shd_tlbbatch_req *req, bool quiet, int *err)
{
	struct shd_machine *m = cpu->m;
	unsigned n = 0;
	int r;

	for (unsigned c = 0; c < m->ncpus; c++) {
		struct shd_tlbbatch_req *q = &req[n];

		if (c == cpu->id ||
		    !shd__is_target(cpu, c, f->mm->cpumask, f->freed_tables) ||
		    shd__fault(m, SHD_FAULT_SKIP_REMOTE_IPI))
			continue;
		shd__csd_init(&q->csd, cpu->id, &cpu->ipi);
		if (quiet) {
			/* No doorbell: swept at the target's next tick. */
			while (!shd__csd_trylock(&q->csd))
				;	/* fresh: free at once */
			(void)shd__ipi_enqueue(&m->cpus[c]->latr_q, &q->csd,
					       shd__flush_ipi_func, f, NULL);
		} else if ((r = shd__send_csd(cpu, c, &q->csd, shd__flush_ipi_func,
					      f, NULL)) < 0) {
			*err = r;
			continue;
		}
		q->target = c;
		n++;
	}
	return n;
}

int shd__flush_tlb_mm_range(struct shd_cpu *cpu, struct shd_mm *mm,
			    uint64_t start, uint64_t end, bool freed_tables,
			    enum shd_iface iface, uint64_t *t_out)
{
	struct shd_machine *m = cpu->m;
	struct shd_flush_info *f = &cpu->info;
	uint64_t t = shd__oracle_begin(mm);
	uint64_t s_vpn, e_vpn;
	int err;

	s_vpn = start >> m->page_shift;
	e_vpn = end == SHD_FLUSH_END_ALL ? SHD_FLUSH_END_ALL : end >> m->page_shift;
	shd__flush_info_init(cpu, f, mm, s_vpn, e_vpn, freed_tables);
	err = do_flush(cpu, iface);
	if (err)
		return err;
	if (t_out)
		*t_out = t;
	if (e_vpn == SHD_FLUSH_END_ALL)
		shd__oracle_credit_mm(mm, t, iface);
	else
		shd__oracle_credit_range(mm, s_vpn, e_vpn, t, iface);
	return 0;
}

int shd_flush_tlb_mm(struct shd_cpu *cpu, struct shd_mm *mm)
{
	int err = shd__check_user_mm(cpu, mm, "flush_tlb_mm");

	if (err)
		return err;
	shd__cpu_take_ipis(cpu);
	return shd__flush_tlb_mm_range(cpu, mm, 0, SHD_FLUSH_END_ALL, true,
				       SHD_IF_MM, NULL);
}

int shd_flush_tlb_range(struct shd_cpu *cpu, struct shd_mm *mm,
			uint64_t start, uint64_t end)
{
	int err = shd__check_user_mm(cpu, mm, "flush_tlb_range");
	uint64_t mask;

	if (err)
		return err;
	mask = cpu->m->page_size - 1;
	if (start > end)
		return shd__fail(-EINVAL, "flush_tlb_range: start 0x%" PRIx64
				 " > end 0x%" PRIx64, start, end);
	if ((start | end) & mask)
		return shd__fail(-EINVAL, "flush_tlb_range: [0x%" PRIx64 ", 0x%"
				 PRIx64 ") is not page aligned", start, end);
	if (end > SHD_USER_TOP)
		return shd__fail(-EINVAL, "flush_tlb_range: end 0x%" PRIx64
				 " is beyond user space", end);
	if (start == end)
		return 0;
	shd__cpu_take_ipis(cpu);
	return shd__flush_tlb_mm_range(cpu, mm, start, end, true, SHD_IF_RANGE, NULL);
}

int shd_flush_tlb_page(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr)
{
	int err = shd__check_user_mm(cpu, mm, "flush_tlb_page");

	if (err)
		return err;
	if (addr & (cpu->m->page_size - 1) || addr >= SHD_USER_TOP)
		return shd__fail(-EINVAL, "flush_tlb_page: 0x%" PRIx64 " is not "
				 "a page-aligned user address", addr);
	shd__cpu_take_ipis(cpu);
	return shd__flush_tlb_mm_range(cpu, mm, addr, addr + cpu->m->page_size,
				       false, SHD_IF_PAGE, NULL);
}

int shd_flush_tlb_kernel_range(struct shd_cpu *cpu, uint64_t start,
			       uint64_t end)
{
	struct shd_machine *m;
	struct shd_flush_info *f;
	uint64_t t, s_vpn, e_vpn;
	int err = shd__check_cpu(cpu, "flush_tlb_kernel_range");

	if (err)
		return err;
	m = cpu->m;
	if (start > end)
		return shd__fail(-EINVAL, "flush_tlb_kernel_range: start 0x%"
				 PRIx64 " > end 0x%" PRIx64, start, end);
	if ((start | end) & (m->page_size - 1))
		return shd__fail(-EINVAL, "flush_tlb_kernel_range: [0x%" PRIx64
				 ", 0x%" PRIx64 ") is not page aligned", start, end);
	if (start < SHD_KERNEL_BASE || end > SHD_KERNEL_TOP)
		return shd__fail(-EINVAL, "flush_tlb_kernel_range: [0x%" PRIx64
				 ", 0x%" PRIx64 ") is outside the vmap area",
				 start, end);
	if (start == end)
		return 0;
	shd__cpu_take_ipis(cpu);
	t = shd__oracle_begin(m->kernel_mm);
	s_vpn = (start & ((1ull << SHD_VA_BITS) - 1)) >> m->page_shift;
	e_vpn = s_vpn + ((end - start) >> m->page_shift);
	f = &cpu->info;
	memset(f, 0, sizeof(*f));
	f->kind = SHD_FLUSH_KERNEL;
	f->initiator = cpu->id;
	f->start_vpn = s_vpn;
	f->end_vpn = e_vpn;
	if (e_vpn - s_vpn > m->cfg.policy.ceiling) {
		f->start_vpn = 0;
		f->end_vpn = SHD_FLUSH_END_ALL;
	}
	err = do_flush(cpu, SHD_IF_KERNEL_RANGE);
	if (!err)
		shd__oracle_credit_range(m->kernel_mm, s_vpn, e_vpn, t,
					 SHD_IF_KERNEL_RANGE);
	return err;
}

int shd_flush_tlb_all(struct shd_cpu *cpu)
{
	struct shd_machine *m;
	struct shd_mm *mm;
	struct { struct shd_mm *mm; uint64_t t; } *snap = NULL;
	size_t n = 0, cap = 0;
	uint64_t kt;
	int err = shd__check_cpu(cpu, "flush_tlb_all");

	if (err)
		return err;
	m = cpu->m;
	shd__cpu_take_ipis(cpu);
	/* Snapshot every mm's stable clock before the flush (oracle). */
	rcu_read_lock();
	cds_list_for_each_entry_rcu(mm, &m->mms, node) {
		if (!urcu_ref_get_unless_zero(&mm->ref))
			continue;
		if (n == cap) {
			void *p = realloc(snap, (cap = cap ? cap * 2 : 16) * sizeof(*snap));

			if (!p) {
				shd__mm_put(mm);
				break;
			}
			snap = p;
		}
		snap[n].mm = mm;
		snap[n++].t = shd__oracle_begin(mm);
	}
	rcu_read_unlock();
	kt = shd__oracle_begin(m->kernel_mm);
	memset(&cpu->info, 0, sizeof(cpu->info));
	cpu->info.kind = SHD_FLUSH_ALL;
	cpu->info.initiator = cpu->id;
	err = do_flush(cpu, SHD_IF_ALL);
	for (size_t i = 0; i < n; i++) {
		if (!err)
			shd__oracle_credit_mm(snap[i].mm, snap[i].t, SHD_IF_ALL);
		shd__mm_put(snap[i].mm);
	}
	if (!err)
		shd__oracle_credit_mm(m->kernel_mm, kt, SHD_IF_ALL);
	free(snap);
	return err;
}

int shd_update_mmu_cache(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr)
{
	int err = shd__check_cpu(cpu, "update_mmu_cache");

	if (err)
		return err;
	if (!mm || mm->m != cpu->m)
		return shd__fail(-EINVAL, "update_mmu_cache: not an mm of this "
				 "machine");
	if (!(addr < SHD_USER_TOP || (addr >= SHD_KERNEL_BASE && addr < SHD_KERNEL_TOP)))
		return shd__fail(-EINVAL, "update_mmu_cache: 0x%" PRIx64 " is not "
				 "a user or vmap address", addr);
	/* x86: the hardware walker loads the TLB; nothing to do.  sparc64:
	 * a deferred flush_dcache_page() is done now, on its CPU. */
	if (cpu->m->cache && cpu->m->cfg.arch.deferred_dcache &&
	    addr < SHD_USER_TOP) {
		struct shd_pte *p;
		uint64_t val = 0, ver;

		rcu_read_lock();
		p = shd__pte_lookup(mm, addr >> cpu->m->page_shift);
		if (p)
			val = shd__pte_read(p, &ver);
		rcu_read_unlock();
		if (val & SHD_PTE_FRAME)
			return shd__dcache_update_mmu(cpu, val >> SHD_PTE_PFN_SHIFT);
	}
	return 0;
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
	if ((err = send_one(cpu, target, call_ipi_func, info, (void (*)(void))fn)) < 0)
		return err;
	return shd__csd_wait(cpu, &cpu->csd[target], target,
			     "smp_call_function_single");
}

/* ---- reclaim batches (mm/rmap.c, arch_tlbbatch_*) ---- */

/*
 * Reclaim clears one PTE at a time and would pay a shootdown per page.
 * With policy batch=x86 the flush is deferred when other CPUs may cache the
 * translation: add_pending bumps the mm's tlb_gen and ORs its mm_cpumask
 * into the CPU's batch, and the flush is one full flush on every CPU of the
 * union (their catch-up covers every mm of the batch).  With batch=arm64
 * each page is invalidated at once (requests queued, not waited for: one
 * doorbell for a burst) and the flush is one wait for all of them.  Frames
 * are released only when the batch's flush has completed.  Either way
 * mm->batched_pending counts the batches that touched the mm, so that a
 * later munmap/mprotect/madvise that finds the PTE already clear still
 * waits for the flush (flush_tlb_batched_pending()).
 */
int shd__tlbbatch_init(struct shd_cpu *cpu)
{
	struct shd_tlbbatch *b = &cpu->batch;

	b->cpumask = calloc(cpu->m->mask_words, sizeof(unsigned long));
	b->e = calloc(SHD_TLBBATCH_MAX, sizeof(*b->e));
	return b->cpumask && b->e ? 0 : -ENOMEM;
}

void shd__tlbbatch_free(struct shd_cpu *cpu)
{
	free(cpu->batch.cpumask);
	free(cpu->batch.e);
	free(cpu->batch.info);
	free(cpu->batch.req);
}

static bool should_defer(struct shd_cpu *cpu, struct shd_mm *mm)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;

	if (p->batch == SHD_BATCH_ARM64)
		return true;
	if (p->batch != SHD_BATCH_X86)
		return false;
	/* x86 arch_tlbbatch_should_defer(): only if another CPU may cache. */
	for (unsigned c = 0; c < cpu->m->ncpus; c++)
		if (c != cpu->id && (!p->prune || shd__mask_test(mm->cpumask, c)))
			return true;
	return false;
}

/* arm64: invalidate VPN in MM everywhere now; the wait comes at the flush. */
/* arm64's request slots, allocated on first use.  0 or -ENOMEM. */
static int arm64_slots(struct shd_cpu *cpu)
{
	struct shd_tlbbatch *b = &cpu->batch;

	if (b->info)
		return 0;
	if (posix_memalign((void **)&b->info, SHD_CL,
			   SHD_TLBBATCH_MAX * sizeof(*b->info)))
		b->info = NULL;
	else if (posix_memalign((void **)&b->req, SHD_CL, SHD_TLBBATCH_MAX *
				cpu->m->ncpus * sizeof(*b->req))) {
		free(b->info);
		b->info = NULL;
		b->req = NULL;
	}
	return b->info ? 0 : -ENOMEM;
}

static int arm64_issue(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t vpn)
{
	struct shd_machine *m = cpu->m;
	struct shd_tlbbatch *b = &cpu->batch;
	struct shd_flush_info *f;
	int err = 0;

	f = &b->info[b->n];
	shd__flush_info_init(cpu, f, mm, vpn, vpn + 1, false);
	f->start_vpn = vpn;	/* a TLBI by address: no ceiling applies */
	f->end_vpn = vpn + 1;
	/* Each page's invalidation is a flush call with its own candidates;
	 * the batch flush only waits (the DSB). */
	uint64_t t0 = shd_now_ns();
	size_t first = b->nreq;

	cpu->cnt.s.flush_calls++;
	shd__probe_flush_begin(cpu, SHD_IF_PAGE, f);
	b->nreq += shd__queue_requests(cpu, f, &b->req[b->nreq], false, &err);
	if (!shd__fault(m, SHD_FAULT_SKIP_LOCAL_FLUSH))
		shd__flush_tlb_func(cpu, f);
	/* Timed: the issuing; the wait comes at the batch flush. */
	shd__flush_end(cpu, SHD_IF_PAGE, t0, (int)(b->nreq - first));
	return err;
}

/* ptep_clear_flush(): one page, now; the frame goes once it is done. */
static int flush_one_now(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t vpn,
			 uint64_t pfn)
{
	struct shd_machine *m = cpu->m;
	int err = shd__flush_tlb_mm_range(cpu, mm, vpn << m->page_shift,
					  (vpn + 1) << m->page_shift, false,
					  SHD_IF_PAGE, NULL);

	if (!err)	/* else quarantined */
		shd__frames_put(m, &pfn, 1);
	return err;
}

int shd__tlbbatch_add(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t vpn,
		      uint64_t pfn)
{
	struct shd_machine *m = cpu->m;
	struct shd_tlbbatch *b = &cpu->batch;
	int err;

	cpu->cnt.s.reclaim_pages++;
	if (!should_defer(cpu, mm))
		return flush_one_now(cpu, mm, vpn, pfn);
	/* The batch cannot take the page (full and its flush failed, or no
	 * memory for arm64's slots): this page is flushed on its own, so
	 * that its cleared PTE never goes without a flush. */
	if (b->n == SHD_TLBBATCH_MAX && (err = shd__tlbbatch_flush(cpu))) {
		int e2 = flush_one_now(cpu, mm, vpn, pfn);

		return e2 ? e2 : err;
	}
	if (m->cfg.policy.batch == SHD_BATCH_ARM64 && arm64_slots(cpu) < 0)
		return flush_one_now(cpu, mm, vpn, pfn);
	cpu->cnt.s.tlbbatch_pages++;
	b->e[b->n] = (struct shd_tlbbatch_ent){ mm, vpn, pfn,
						shd__oracle_begin(mm) };
	shd__mm_get(mm);
	mm->batched_pending++;
	if (m->cfg.policy.batch == SHD_BATCH_ARM64) {
		err = arm64_issue(cpu, mm, vpn);
		b->n++;
		return err;
	}
	/* x86 arch_tlbbatch_add_pending(): a generation, and the CPUs. */
	shd_add_return(&mm->tlb_gen, 1);
	for (size_t w = 0; w < m->mask_words; w++) {
		unsigned long bits = m->cfg.policy.prune ?
			__atomic_load_n(&mm->cpumask[w], __ATOMIC_SEQ_CST) :
			m->online_mask[w];

		b->cpumask[w] |= bits;
	}
	b->n++;
	return 0;
}

int shd__tlbbatch_flush(struct shd_cpu *cpu)
{
	struct shd_machine *m = cpu->m;
	struct shd_tlbbatch *b = &cpu->batch;
	struct shd_flush_info *f = &cpu->info;
	int n, err = 0, werr;

	if (!b->n)
		return 0;
	cpu->cnt.s.tlbbatch_flushes++;
	if (m->cfg.policy.batch == SHD_BATCH_ARM64) {
		/* The DSB: wait for every invalidation issued. */
		for (size_t i = 0; i < b->nreq; i++)
			if ((werr = shd__csd_wait(cpu, &b->req[i].csd, b->req[i].target,
						  "arch_tlbbatch_flush")) < 0 && !err)
				err = werr;
		b->nreq = 0;
		if (err) {
			/* A request may still be queued (abandoned): its
			 * memory is never reused. */
			b->info = NULL;
			b->req = NULL;
		}
	} else {
		uint64_t t0 = shd_now_ns();

		memset(f, 0, sizeof(*f));
		f->kind = SHD_FLUSH_BATCH;
		f->initiator = cpu->id;
		f->end_vpn = SHD_FLUSH_END_ALL;
		cpu->cnt.s.flush_calls++;
		shd__probe_flush_begin(cpu, SHD_IF_BATCH, f);
		cpu->in_flush = true;
		n = send_requests(cpu, cpu->targets, &err);
		if (shd__mask_test(b->cpumask, cpu->id) &&
		    !shd__fault(m, SHD_FAULT_SKIP_LOCAL_FLUSH))
			shd__flush_tlb_func(cpu, f);
		werr = wait_requests(cpu, cpu->targets, n, "arch_tlbbatch_flush");
		if (!err)
			err = werr;
		cpu->in_flush = false;
		memset(b->cpumask, 0, m->mask_words * sizeof(unsigned long));
		shd__flush_end(cpu, SHD_IF_BATCH, t0, n);
	}
	for (size_t i = 0; i < b->n; i++) {
		struct shd_tlbbatch_ent *e = &b->e[i];

		if (!err) {	/* else quarantined: a CPU may still map it */
			shd__oracle_credit_range(e->mm, e->vpn, e->vpn + 1, e->t,
						 SHD_IF_BATCH);
			shd__frames_put(m, &e->pfn, 1);
		}
		shd__mm_put(e->mm);
	}
	b->n = 0;
	return err;
}

int shd__flush_tlb_batched_pending(struct shd_cpu *cpu, struct shd_mm *mm)
{
	int err;

	if (mm->batched_pending == mm->batched_flushed ||
	    shd__fault(cpu->m, SHD_FAULT_SKIP_BATCHED_PENDING))
		return 0;
	cpu->cnt.s.batched_pending_flushes++;
	err = shd__flush_tlb_mm_range(cpu, mm, 0, SHD_FLUSH_END_ALL, true,
				      SHD_IF_MM, NULL);
	if (!err)
		mm->batched_flushed = mm->batched_pending;
	return err;
}
