/* SPDX-License-Identifier: MIT */
/* The cache flushing interfaces of cachetlb.rst, per architecture profile. */

/*
 * The caches themselves, their coherence and the stale-data oracles are in
 * cache.c and icache.c; the ptrace copies (copy_to/from_user_page) are in
 * ptrace.c.  Here: argument checks, then what the profile needs.  A call a
 * profile does not need returns after its checks, as in Linux, where it is
 * an empty inline.  And, for the mm's own paths, the cache flush that must
 * come first on hypersparc.
 */
#include <errno.h>
#include <inttypes.h>

#include <shootdown/cacheflush.h>
#include <shootdown/smp.h>
#include "cache.h"
#include "cacheflush.h"
#include "file.h"
#include "icache.h"
#include "mm.h"
#include "oracle.h"
#include "pgtable.h"
#include "report.h"
#include "smp.h"
#include "vma.h"

/*
 * On a cache flushed by virtual address through the MMU (HyperSparc), the
 * flush of a mapping must run while its translation exists: cache flush,
 * then PTE change, then TLB flush (cachetlb.rst).  Every path below that
 * removes, replaces or write-protects a present PTE flushes the range
 * first; the flush records the range it covered on the CPU, and changing a
 * PTE outside it is an ordering violation (the oracle).  The flush runs on
 * every CPU of the mm (sun4m's cross-calls): each drops its own lines of the
 * mapped frames (write-through: nothing to write back).
 */
#define CFLUSH_MAX 64	/* more pages: each CPU flushes its whole cache */

struct cflush {
	uint64_t pfn[CFLUSH_MAX], va[CFLUSH_MAX];
	size_t n;
};

static void cflush_fn(struct shd_cpu *cpu, void *info)
{
	const struct cflush *cf = info;

	if (cf->n > CFLUSH_MAX) {
		shd__dcache_flush_all(cpu);
		return;
	}
	for (size_t i = 0; i < cf->n; i++)
		shd__dcache_flush_va_page(cpu, cf->va[i], cf->pfn[i]);
}

static void cflush_collect(struct shd_mm *mm, struct shd_pt_leaf *leaf,
			   struct shd_pte *p, uint64_t val, void *arg)
{
	struct cflush *cf = arg;

	if (!(val & SHD_PTE_PRESENT))
		return;
	if (cf->n < CFLUSH_MAX) {
		cf->pfn[cf->n] = val >> SHD_PTE_PFN_SHIFT;
		cf->va[cf->n] = shd__pte_vpn(leaf, p) << mm->m->page_shift;
	}
	cf->n++;
}

/*
 * hypersparc (flush_needs_mapping): flush_cache_range() of MM's vpns
 * [S, E) on every CPU of MM (all for the kernel's), while the translations
 * exist; records the window the ordering oracle checks.  Under MM's lock.
 */
static int cache_flush_mm_range(struct shd_cpu *cpu, struct shd_mm *mm,
				uint64_t s, uint64_t e)
{
	struct shd_machine *m = cpu->m;
	struct cflush cf;
	int err = 0;

	if (!m->cfg.arch.flush_needs_mapping)
		return 0;
	cf.n = 0;
	if (!mm->is_kernel) {	/* walk only where mappings are */
		uint64_t ms, me;

		shd__mm_span(mm, &ms, &me);
		shd__for_each_frame(mm, s > ms ? s : ms, e < me ? e : me,
			       cflush_collect, &cf);
	} else {
		shd__for_each_frame(mm, s, e, cflush_collect, &cf);
	}
	cpu->cwin_mm = mm;
	cpu->cwin_s = s;
	cpu->cwin_e = e;
	if (!cf.n)
		return 0;
	cpu->cnt.s.dcache_flushes++;
	cflush_fn(cpu, &cf);
	for (unsigned t = 0; t < m->ncpus; t++) {
		int r;

		if (t == cpu->id || !shd__mask_test(m->online_mask, t) ||
		    (!mm->is_kernel && !shd__mask_test(mm->cpumask, t)))
			continue;
		cpu->cnt.s.dcache_cross_cpu++;
		if ((r = shd_smp_call_function_single(cpu, t, cflush_fn, &cf)) &&
		    !err)
			err = r;
	}
	return err;
}

/* The flush comes after the PTE change and the TLB flush: the fault. */
static bool cache_flush_late(struct shd_machine *m)
{
	return m->cfg.arch.flush_needs_mapping &&
	       shd__fault(m, SHD_FAULT_TLB_BEFORE_CACHE);
}

int shd__flush_cache_first(struct shd_cpu *cpu, struct shd_mm *mm,
			     uint64_t s, uint64_t e)
{
	if (cache_flush_late(cpu->m)) {
		if (s < e)
			shd__fault_fired(cpu, SHD_FAULT_TLB_BEFORE_CACHE);
		return 0;
	}
	return cache_flush_mm_range(cpu, mm, s, e);
}

/* After the TLB flush: the faulty order's flush (which finds nothing left
 * to flush).  The window ends with the mm lock (shd__mm_unlock()). */
int shd__flush_cache_done(struct shd_cpu *cpu, struct shd_mm *mm,
			    uint64_t s, uint64_t e)
{
	return cache_flush_late(cpu->m) ?
	       cache_flush_mm_range(cpu, mm, s, e) : 0;
}

void shd__cache_order_check(struct shd_mm *mm, uint64_t vpn,
			   const char *iface)
{
	struct shd_machine *m = mm->m;
	struct shd_cpu *cpu = shd__this_cpu;
	struct shd_violation v;
	uint64_t va;

	if (!m->cfg.arch.flush_needs_mapping || !m->cfg.oracle || !cpu ||
	    (cpu->cwin_mm == mm && vpn >= cpu->cwin_s && vpn < cpu->cwin_e))
		return;
	va = vpn << m->page_shift;
	if (mm->is_kernel)
		va |= 0xffff000000000000ull;
	shd__violation_init(&v, m, SHD_VIOLATION_ORDERING, cpu->id,
			    mm->is_kernel ? 0 : mm->id, va,
			    mm->is_kernel ? "flush_cache_vunmap" : iface);
	snprintf(v.text, sizeof(v.text), "ordering: cpu %u changed the PTE of "
		 "va 0x%" PRIx64 " in mm %" PRIu64 " before flushing the cache "
		 "there (%s needs the translation: cache flush, PTE change, TLB "
		 "flush), seed %" PRIu64, cpu->id, va, v.mm_id, v.interface,
		 v.seed);
	shd__report_cpu(cpu, &v);
}

/* ---- the interfaces ---- */

/* [START, END) of MM's user space (USER), or of the vmap area: page
 * aligned, START <= END; empty is fine. */
static int check_span(struct shd_cpu *cpu, bool user, struct shd_mm *mm,
		      uint64_t start, uint64_t end, const char *what)
{
	int err = user ? shd__check_user_mm(cpu, mm, what) :
			 shd__check_cpu(cpu, what);

	if (err)
		return err;
	if (start > end)
		return shd__fail(-EINVAL, "%s: start 0x%" PRIx64 " is above end "
				 "0x%" PRIx64, what, start, end);
	if (start == end)
		return 0;
	return user ? shd__check_user_range(cpu->m, what, start, end - start) :
		      shd__check_kernel_range(cpu->m, what, start, end - start);
}

/* hypersparc: flush MM's mapped pages of vpns [S, E) on its CPUs. */
static int flush_mm_range(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t s,
			  uint64_t e)
{
	int err;

	if (!cpu->m->cfg.arch.flush_needs_mapping || s >= e)
		return 0;
	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, mm);
	err = cache_flush_mm_range(cpu, mm, s, e);
	shd__mm_unlock(mm);
	return err;
}

int shd_flush_cache_mm(struct shd_cpu *cpu, struct shd_mm *mm)
{
	int err = shd__check_user_mm(cpu, mm, "flush_cache_mm");

	return err ? err : flush_mm_range(cpu, mm, 0,
					  SHD_USER_TOP >> cpu->m->page_shift);
}

int shd_flush_cache_dup_mm(struct shd_cpu *cpu, struct shd_mm *mm)
{
	int err = shd__check_user_mm(cpu, mm, "flush_cache_dup_mm");

	return err ? err : flush_mm_range(cpu, mm, 0,
					  SHD_USER_TOP >> cpu->m->page_shift);
}

int shd_flush_cache_range(struct shd_cpu *cpu, struct shd_mm *mm,
			  uint64_t start, uint64_t end)
{
	int err = check_span(cpu, true, mm, start, end, "flush_cache_range");

	return err ? err : flush_mm_range(cpu, mm, start >> cpu->m->page_shift,
					  end >> cpu->m->page_shift);
}

static int check_page(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
		      const char *what)
{
	int err = shd__check_user_mm(cpu, mm, what);

	return err ? err : shd__check_user_range(cpu->m, what,
						 addr & ~(cpu->m->page_size - 1),
						 cpu->m->page_size);
}

int shd_flush_cache_page(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr)
{
	int err = check_page(cpu, mm, addr, "flush_cache_page");
	uint64_t vpn;

	if (err)
		return err;
	vpn = addr >> cpu->m->page_shift;
	return flush_mm_range(cpu, mm, vpn, vpn + 1);
}

int shd_flush_cache_vmap(struct shd_cpu *cpu, uint64_t start, uint64_t end)
{
	int err = check_span(cpu, false, NULL, start, end, "flush_cache_vmap");

	return err ? err : flush_mm_range(cpu, cpu->m->kernel_mm,
					  shd__va_vpn(cpu->m, start), shd__va_vpn(cpu->m, end));
}

int shd_flush_cache_vunmap(struct shd_cpu *cpu, uint64_t start, uint64_t end)
{
	int err = check_span(cpu, false, NULL, start, end, "flush_cache_vunmap");

	return err ? err : flush_mm_range(cpu, cpu->m->kernel_mm,
					  shd__va_vpn(cpu->m, start), shd__va_vpn(cpu->m, end));
}

static void flush_all_fn(struct shd_cpu *cpu, void *info)
{
	(void)info;
	shd__dcache_flush_all(cpu);
}

/* hypersparc: flush_cache_all() on every CPU, as sun4m's flush_cache_kmaps
 * does (the pkmap area is recycled: every slot's lines go). */
int shd_flush_cache_kmaps(struct shd_cpu *cpu)
{
	struct shd_machine *m;
	int err = shd__check_cpu(cpu, "flush_cache_kmaps");

	if (err)
		return err;
	m = cpu->m;
	if (!m->cfg.arch.flush_needs_mapping)
		return 0;
	cpu->cnt.s.dcache_flushes++;
	for (unsigned t = 0; t < m->ncpus && !err; t++)
		if (shd__mask_test(m->online_mask, t))
			err = shd_smp_call_function_single(cpu, t, flush_all_fn,
							   NULL);
	return err;
}

int shd_flush_anon_page(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr)
{
	return check_page(cpu, mm, addr, "flush_anon_page");
}

int shd_flush_dcache_page(struct shd_cpu *cpu, struct shd_file *f,
			  uint64_t pgoff)
{
	uint64_t pfn;
	int err = shd__file_check(cpu, f, 0, "flush_dcache_page");

	if (err)
		return err;
	if (pgoff >= shd__file_npages(f))
		return shd__fail(-EINVAL, "flush_dcache_page: page %" PRIu64
				 " is past the end of the file (%" PRIu64 " pages)",
				 pgoff, shd__file_npages(f));
	pfn = shd__file_frame(f, pgoff);
	if (pfn == UINT64_MAX)
		return shd__fail(-ENOMEM, "flush_dcache_page: out of simulated "
				 "memory");
	return shd__flush_dcache_page(cpu, pfn, f);
}

int shd_flush_dcache_folio(struct shd_cpu *cpu, struct shd_file *f,
			   uint64_t pgoff, uint64_t nr)
{
	int err = shd__file_check(cpu, f, 0, "flush_dcache_folio");

	if (err)
		return err;
	if (!nr || pgoff >= shd__file_npages(f) || nr > shd__file_npages(f) - pgoff)
		return shd__fail(-EINVAL, "flush_dcache_folio: pages [%" PRIu64
				 ", +%" PRIu64 ") are not inside the file (%"
				 PRIu64 " pages)", pgoff, nr, shd__file_npages(f));
	for (uint64_t i = 0; !err && i < nr; i++)
		err = shd_flush_dcache_page(cpu, f, pgoff + i);
	return err;
}

/* A byte range of the vmap area, widened to whole pages in place; 1 when
 * it is empty (nothing to do). */
static int vmap_range_check(struct shd_cpu *cpu, uint64_t *addr, uint64_t *len,
			    const char *what)
{
	int err = shd__check_cpu(cpu, what);
	uint64_t mask, end;

	if (err)
		return err;
	if (!*len)
		return 1;
	mask = cpu->m->page_size - 1;
	if (*len > UINT64_MAX - *addr || *addr + *len > UINT64_MAX - mask)
		return shd__fail(-EINVAL, "%s: [0x%" PRIx64 ", +0x%" PRIx64 ") "
				 "wraps around", what, *addr, *len);
	end = (*addr + *len + mask) & ~mask;
	*addr &= ~mask;
	*len = end - *addr;
	return shd__check_kernel_range(cpu->m, what, *addr, *len);
}

int shd_flush_kernel_vmap_range(struct shd_cpu *cpu, uint64_t addr,
				uint64_t len)
{
	int err = vmap_range_check(cpu, &addr, &len, "flush_kernel_vmap_range");

	return err < 0 ? err : 0;
}

/* The frame behind kernel address VA, or UINT64_MAX. */
static uint64_t kernel_pfn(struct shd_machine *m, uint64_t va)
{
	struct shd_pte *p;
	uint64_t val = 0, ver;

	rcu_read_lock();
	p = shd__pte_lookup(m->kernel_mm, shd__va_vpn(m, va));
	if (p)
		val = shd__pte_read(p, &ver);
	rcu_read_unlock();
	return val & SHD_PTE_PRESENT ? val >> SHD_PTE_PFN_SHIFT : UINT64_MAX;
}

/* hypersparc: DMA does not snoop (this model's assumption: see
 * docs/caches.md), so the lines this CPU holds of the buffer predate the
 * device's writes: drop them, on this CPU, as the ARM VIVT and parisc
 * implementations do. */
int shd_invalidate_kernel_vmap_range(struct shd_cpu *cpu, uint64_t addr,
				     uint64_t len)
{
	struct shd_machine *m;
	int err = vmap_range_check(cpu, &addr, &len,
				   "invalidate_kernel_vmap_range");

	if (err)
		return err < 0 ? err : 0;
	m = cpu->m;
	if (!m->cache || !m->cfg.arch.dma_noncoherent)
		return 0;
	if (shd__fault(m, SHD_FAULT_SKIP_KERNEL_VMAP_INVALIDATE)) {
		if (len)
			shd__fault_fired(cpu, SHD_FAULT_SKIP_KERNEL_VMAP_INVALIDATE);
		return 0;
	}
	for (uint64_t va = addr; va < addr + len; va += m->page_size) {
		uint64_t pfn = kernel_pfn(m, va);

		if (pfn != UINT64_MAX)
			shd__dcache_flush_page(cpu, pfn);
	}
	cpu->cnt.s.dcache_flushes++;
	return 0;
}

/*
 * The device: DMA of 8 bytes to or from the memory behind kernel address
 * KVA.  A coherent bus (every profile but hypersparc) snoops: a write drops
 * the line from every CPU's D-cache.  Without snooping the caches keep what
 * they had, and the driver must invalidate_kernel_vmap_range().
 */
static int dma(struct shd_cpu *cpu, uint64_t kva, uint64_t *val, bool write)
{
	const char *what = write ? "dma_write" : "dma_read";
	struct shd_machine *m;
	uint64_t pfn, pa;
	int err = shd__check_cpu(cpu, what);

	if (err)
		return err;
	m = cpu->m;
	if (kva & 7)
		return shd__fail(-EINVAL, "%s: 0x%" PRIx64 " is not 8-byte "
				 "aligned", what, kva);
	if ((err = shd__check_kernel_range(m, what, kva & ~(m->page_size - 1),
					   m->page_size)))
		return err;
	pfn = kernel_pfn(m, kva);
	if (pfn == UINT64_MAX)
		return shd__fail(-EFAULT, "%s: 0x%" PRIx64 " is not mapped", what,
				 kva);
	pa = (pfn << m->page_shift) | (kva & (m->page_size - 1));
	if (!write) {
		*val = shd_load_relaxed((uint64_t *)(m->mem + pa));
		return 0;
	}
	shd__dcache_device_store(m, pa, *val);
	return 0;
}

int shd_dma_write(struct shd_cpu *cpu, uint64_t kva, uint64_t val)
{
	return dma(cpu, kva, &val, true);
}

int shd_dma_read(struct shd_cpu *cpu, uint64_t kva, uint64_t *val)
{
	uint64_t tmp;

	return dma(cpu, kva, val ? val : &tmp, false);
}

/* ---- the I-cache ---- */

static void kick_fn(struct shd_cpu *cpu, void *info)
{
	(void)cpu;
	(void)info;
}

/*
 * arm64: caches_clean_inval_pou() over the range (dc cvau + ic ivau, both
 * broadcast), then kick_all_cpus_sync(): an interrupt to every other CPU,
 * so none keeps executing instructions it fetched before.
 */
int shd_flush_icache_range(struct shd_cpu *cpu, uint64_t start, uint64_t end)
{
	struct shd_machine *m;
	bool skipped = false;
	int err = shd__check_cpu(cpu, "flush_icache_range");

	if (err)
		return err;
	m = cpu->m;
	/* Byte ranges, as kprobes flush one instruction: whole pages here. */
	if (start == end)
		return 0;
	if (start < end && end <= UINT64_MAX - m->page_size) {
		start &= ~(m->page_size - 1);
		end = (end + m->page_size - 1) & ~(m->page_size - 1);
	}
	if ((err = check_span(cpu, false, NULL, start, end, "flush_icache_range")))
		return err;
	if (!m->ilog)
		return 0;
	for (uint64_t va = start; va < end; va += m->page_size) {
		uint64_t pfn = kernel_pfn(m, va);
		uint32_t seq;

		if (pfn == UINT64_MAX)
			continue;	/* nothing there to run */
		seq = shd__icache_seq(m, pfn);
		if (!shd__fault(m, SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE))
			shd__icache_invalidate(cpu, pfn);
		else
			skipped = true;
		/* The contract holds at return, whatever was done. */
		shd__icache_credit(m, pfn, seq);
	}
	if (shd__fault(m, SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE)) {
		/* Fired: a page left stale here, or the other CPUs' kicks. */
		if (skipped || m->ncpus > 1)
			shd__fault_fired(cpu, SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE);
		return 0;
	}
	for (unsigned t = 0; t < m->ncpus && !err; t++)
		if (t != cpu->id && shd__mask_test(m->online_mask, t))
			err = shd_smp_call_function_single(cpu, t, kick_fn, NULL);
	return err;
}

int shd_flush_icache_page(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr)
{
	return check_page(cpu, mm, addr, "flush_icache_page");
}
