/* SPDX-License-Identifier: MIT */
/* The stale-translation oracle: versions on PTEs, credits from completed flushes. */

/*
 * Theory.
 *
 * Every page-table change takes a value of the machine's version clock,
 * assigned and written under the mm lock; after the write the mm's
 * stable_clock is raised to it (release), so "version <= stable_clock" means
 * "that change is complete".  A TLB fill copies the PTE together with its
 * version (seqlock read).
 *
 * A flush interface reads the mm's stable_clock as T *before* it bumps
 * tlb_gen: every change with version <= T happened before the bump, so the
 * flush really removes every translation those changes invalidated, on every
 * CPU it had to reach.  When the call returns (all acknowledgements in), it
 * credits T: each PTE in its range (or, for flush_tlb_mm/all, the mm as a
 * whole) records the newest of its changes that is <= T in `credited`.
 *
 * A TLB hit on an entry of version V is a violation iff some credited change
 * is newer than V: that change made the entry stale and a flush that covers
 * it has returned.  Hits in the window between a change and its flush's
 * return are legal, as the interfaces are called after the change.
 *
 * A PTE remembers its latest and previous versions.  A whole-mm credit is
 * folded into the PTE's own `credited` whenever the PTE changes, so that the
 * previous version is not needed any further back.  Leaf page-table pages go
 * back to a pool after a grace period with their versions intact (the clock
 * is machine-wide), so an entry that outlives its page table is still judged
 * against a monotonic history instead of reading freed memory.
 */
#include <inttypes.h>

#include "oracle.h"
#include "report.h"

const char *const shd__iface_names[SHD_IF__COUNT] = {
	[SHD_IF_NONE] = "none",
	[SHD_IF_ALL] = "flush_tlb_all",
	[SHD_IF_MM] = "flush_tlb_mm",
	[SHD_IF_RANGE] = "flush_tlb_range",
	[SHD_IF_PAGE] = "flush_tlb_page",
	[SHD_IF_KERNEL_RANGE] = "flush_tlb_kernel_range",
	[SHD_IF_BATCH] = "arch_tlbbatch_flush",
};

/* The newest of P's last two changes that is <= T (0 if neither). */
static uint64_t latest_le(struct shd_pte *p, uint64_t t)
{
	uint64_t v, val, prev;

	shd__pte_snapshot(p, &v, &val, &prev);
	if (v <= t)
		return v;
	return prev <= t ? prev : 0;
}

static void credit_max(struct shd_pte *p, uint64_t c, enum shd_iface iface)
{
	uint64_t cur = shd_load_relaxed(&p->credited);

	while (c > cur) {
		/* Seq-cst CAS: credits only grow; pairs with the hit's acquire
		 * (shd__oracle_check_hit()). */
		if (shd_cas(&p->credited, &cur, c)) {
			/* Relaxed: the interface name is only for the report. */
			shd_store_relaxed(&p->credit_iface, (uint32_t)iface);
			return;
		}
	}
}

void shd__pte_write(struct shd_pte *p, uint64_t val, uint64_t version,
		    struct shd_mm *mm)
{
	uint64_t old = shd_load_relaxed(&p->version);
	uint64_t was = shd_load_relaxed(&p->val);
	/* Acquire: pairs with shd__oracle_credit_mm()'s CAS. */
	/* Acquire: pairs with the credit CASes (credit_max(),
	 * shd__oracle_credit_mm()). */
	uint64_t full = shd_load_acquire(&mm->full_credit);
	uint64_t fold = latest_le(p, full);

	if (fold)
		credit_max(p, fold, shd_load_relaxed(&mm->full_credit_iface));
	/* Seqlock write (single writer: the mm lock is held).  Release
	 * stores rather than fences, which TSan cannot model: each store is
	 * ordered after the version's 0. */
	shd_store_relaxed(&p->version, 0);
	/* Relaxed: the D bit, read under the mm lock (zap_one()). */
	if (!(val & SHD_PTE_FRAME) || !(was & SHD_PTE_FRAME))
		shd_store_relaxed(&p->dirty, 0u);
	shd_store_release(&p->val, val);
	shd_store_release(&p->prev, old);
	shd_store_release(&p->version, version);
}

uint64_t shd__oracle_begin(struct shd_mm *mm)
{
	/* Acquire: pairs with the release after each change's PTE writes. */
	return shd_load_acquire(&mm->stable_clock);
}

void shd__oracle_credit_mm(struct shd_mm *mm, uint64_t t, enum shd_iface iface)
{
	uint64_t cur = shd_load_relaxed(&mm->full_credit);

	while (t > cur) {
		/* Seq-cst CAS: the credit only grows; pairs with the acquire
		 * loads of full_credit (PTE writes, hits, leaf folds). */
		if (shd_cas(&mm->full_credit, &cur, t)) {
			shd_store_relaxed(&mm->full_credit_iface, (uint32_t)iface);
			return;
		}
	}
}

static void credit_leaf(struct shd_pt_leaf *leaf, uint64_t base, uint64_t s,
			uint64_t e, uint64_t t, enum shd_iface iface,
			bool absent_only);

static void credit_dir(struct shd_machine *m, void *node, unsigned level,
		       uint64_t base, uint64_t s, uint64_t e, uint64_t t,
		       enum shd_iface iface, bool absent_only)
{
	unsigned shift = (m->pt_levels - 1 - level) * SHD_PT_BITS;

	if (level == m->pt_levels - 1) {
		credit_leaf(node, base, s, e, t, iface, absent_only);
		return;
	}
	struct shd_pt_dir *dir = node;
	uint64_t span = 1ull << shift;

	for (unsigned i = 0; i < SHD_PT_ENTRIES; i++) {
		uint64_t cb = base + (uint64_t)i * span;
		void *child;

		if (cb + span <= s)
			continue;
		if (cb >= e)
			break;
		/* Acquire: pairs with the release that published the
		 * table (shd__pt_leaf_alloc()). */
		child = shd_load_acquire(&dir->slot[i]);
		if (child)
			credit_dir(m, child, level + 1, cb, s, e, t, iface,
				   absent_only);
	}
}

void shd__oracle_credit_range(struct shd_mm *mm, uint64_t start_vpn,
			      uint64_t end_vpn, uint64_t t,
			      enum shd_iface iface)
{
	rcu_read_lock();
	credit_dir(mm->m, mm->pgd, 0, 0, start_vpn, end_vpn, t, iface, false);
	rcu_read_unlock();
}

void shd__oracle_credit_absent(struct shd_mm *mm, uint64_t start_vpn,
			       uint64_t end_vpn, uint64_t t,
			       enum shd_iface iface)
{
	rcu_read_lock();
	credit_dir(mm->m, mm->pgd, 0, 0, start_vpn, end_vpn, t, iface, true);
	rcu_read_unlock();
}

static void credit_leaf(struct shd_pt_leaf *leaf, uint64_t base, uint64_t s,
			uint64_t e, uint64_t t, enum shd_iface iface,
			bool absent_only)
{
	uint64_t lo = s > base ? s - base : 0;
	uint64_t hi = e - base < SHD_PT_ENTRIES ? e - base : SHD_PT_ENTRIES;

	for (uint64_t i = lo; i < hi; i++) {
		uint64_t c;

		/* Acquire: pairs with shd__pte_write()'s release of val.
		 * Absent-only credits the PTEs that were clear before T; one
		 * the caller cleared itself after T is credited by that
		 * clear's own flush (LATR's may come later: until then an
		 * older translation may still be used, even one older than
		 * a change that only added rights and was never flushed). */
		if (absent_only && (shd_load_acquire(&leaf->pte[i].val) ||
				    shd_load_relaxed(&leaf->pte[i].version) > t))
			continue;
		c = latest_le(&leaf->pte[i], t);
		if (c)
			credit_max(&leaf->pte[i], c, iface);
	}
}

void shd__oracle_credit_leaf(struct shd_pt_leaf *leaf, uint64_t base,
			     uint64_t s, uint64_t e, uint64_t t,
			     enum shd_iface iface)
{
	credit_leaf(leaf, base, s, e, t, iface, false);
}

void shd__oracle_fold_leaf(struct shd_mm *mm, struct shd_pt_leaf *leaf)
{
	/* Acquire: pairs with shd__oracle_credit_mm()'s CAS. */
	uint64_t full = shd_load_acquire(&mm->full_credit);
	uint32_t iface = shd_load_relaxed(&mm->full_credit_iface);

	for (unsigned i = 0; i < SHD_PT_ENTRIES; i++) {
		uint64_t c = latest_le(&leaf->pte[i], full);

		if (c)
			credit_max(&leaf->pte[i], c, iface);
	}
}

/*
 * A hit through a translation whose frame has been freed since it was
 * filled: whatever the flush history says, memory was reused (or may be)
 * under a live translation (a frame freed before the flush that should
 * have preceded it).
 */
static void report_freed(struct shd_cpu *cpu, struct shd_mm *mm,
			 struct shd_tlbe *e, uint64_t addr, uint32_t gen)
{
	struct shd_violation v;

	shd__violation_init(&v, cpu->m, SHD_VIOLATION_USE_AFTER_FREE, cpu->id,
			    mm->is_kernel ? 0 : mm->id, addr, "none");
	v.entry_version = e->version;
	/* Acquire: pairs with shd__pte_write()'s release. */
	v.pte_version = shd_load_acquire(&e->ptep->version);
	snprintf(v.text, sizeof(v.text),
		 "use after free through the TLB: cpu %u %s%" PRIu64 " addr 0x%"
		 PRIx64 " pfn 0x%" PRIx64 " was freed %" PRIu32 " time(s) since "
		 "the entry (version %" PRIu64 ") was filled, seed %" PRIu64,
		 v.cpu, mm->is_kernel ? "kernel mm " : "mm ",
		 mm->is_kernel ? (uint64_t)0 : mm->id, addr,
		 e->val >> SHD_PTE_PFN_SHIFT, gen - e->fgen, v.entry_version,
		 v.seed);
	shd__report_cpu(cpu, &v);
}

/* A hit on an entry another address space filled: its ASID was given to
 * MM while this CPU still held the old owner's entries (an ASID reused
 * without the flush a reuse owes).  A stale translation, whatever its
 * PTE says now. */
static void report_foreign(struct shd_cpu *cpu, struct shd_mm *mm,
			   struct shd_tlbe *e, uint64_t addr)
{
	struct shd_violation v;

	shd__violation_init(&v, cpu->m, SHD_VIOLATION_STALE_TLB, cpu->id,
			    mm->is_kernel ? 0 : mm->id, addr,
			    shd__iface_names[SHD_IF_NONE]);
	v.entry_version = e->version;
	/* Acquire: pairs with shd__pte_write()'s release. */
	v.pte_version = shd_load_acquire(&e->ptep->version);
	snprintf(v.text, sizeof(v.text),
		 "stale TLB hit: cpu %u mm %" PRIu64 " addr 0x%" PRIx64 " pfn 0x%"
		 PRIx64 ": the entry was filled from mm %" PRIu32 "'s page table "
		 "under the same ASID tag %u (an ASID reused without a flush), "
		 "seed %" PRIu64, v.cpu, mm->id, addr,
		 e->val >> SHD_PTE_PFN_SHIFT, e->mm_id,
		 (unsigned)(e->tag >> 1 & ((1u << SHD_ASID_TAG_BITS) - 1)),
		 v.seed);
	shd__report_cpu(cpu, &v);
}

void shd__oracle_check_hit(struct shd_cpu *cpu, struct shd_mm *mm,
			   struct shd_tlbe *e, uint64_t addr)
{
	/* Acquire: pairs with the generation bump of shd__frames_put(). */
	uint32_t gen = shd_load_acquire(&cpu->m->frames[e->val >> SHD_PTE_PFN_SHIFT].gen);
	struct shd_pte *p = e->ptep;
	uint64_t full, c, cf;
	uint32_t iface;
	struct shd_violation v;

	if (e->mm_id != (uint32_t)mm->id) {
		/* Through a freed frame: the worse of the two. */
		if (gen != e->fgen)
			report_freed(cpu, mm, e, addr, gen);
		else
			report_foreign(cpu, mm, e, addr);
		return;
	}
	/* Acquire, both: pair with the credit CASes (credit_max(),
	 * shd__oracle_credit_mm()). */
	full = shd_load_acquire(&mm->full_credit);
	c = shd_load_acquire(&p->credited);
	cf = latest_le(p, full);
	if (c <= e->version && cf <= e->version) {
		/* Not stale by the flush history (a flush may still be in
		 * flight), but its frame must not have been freed. */
		if (gen != e->fgen)
			report_freed(cpu, mm, e, addr, gen);
		return;
	}
	if (cf > c) {
		c = cf;
		iface = shd_load_relaxed(&mm->full_credit_iface);
	} else {
		iface = shd_load_relaxed(&p->credit_iface);
	}
	shd__violation_init(&v, cpu->m, SHD_VIOLATION_STALE_TLB, cpu->id,
			    mm->is_kernel ? 0 : mm->id, addr,
			    shd__iface_names[iface < SHD_IF__COUNT ? iface : 0]);
	v.entry_version = e->version;
	/* Acquire: pairs with shd__pte_write()'s release. */
	v.pte_version = shd_load_acquire(&p->version);
	v.flushed_version = c;
	snprintf(v.text, sizeof(v.text),
		 "stale TLB hit: cpu %u %s%" PRIu64 " addr 0x%" PRIx64
		 " pfn 0x%" PRIx64 ": entry version %" PRIu64 " but %s returned "
		 "after version %" PRIu64 " (pte now version %" PRIu64 "), seed %"
		 PRIu64, v.cpu, mm->is_kernel ? "kernel mm " : "mm ",
		 mm->is_kernel ? (uint64_t)0 : mm->id, addr,
		 e->val >> SHD_PTE_PFN_SHIFT, v.entry_version, v.interface,
		 v.flushed_version, v.pte_version, v.seed);
	shd__report_cpu(cpu, &v);
}
