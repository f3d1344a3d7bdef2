/* SPDX-License-Identifier: MIT */
/* The stale-translation oracle: PTE versions, and the credits completed flushes give. */
#ifndef SHD_RUNTIME_ORACLE_H
#define SHD_RUNTIME_ORACLE_H

#include "types.h"

/*
 * A consistent snapshot of P (seqlock read; the writer holds the mm lock and
 * stores version 0 while it changes the entry).  Acquire loads rather than
 * fences, which TSan cannot model, keep the version re-read last.
 */
static inline void shd__pte_snapshot(struct shd_pte *p, uint64_t *version,
				     uint64_t *val, uint64_t *prev)
{
	uint64_t v;

	for (;;) {
		/* Acquire: pairs with the writer's release of the version. */
		v = shd_load_acquire(&p->version);
		if (v == 0) {
			caa_cpu_relax();
			continue;
		}
		/* Acquire: the version re-read below comes after these. */
		*val = shd_load_acquire(&p->val);
		*prev = shd_load_acquire(&p->prev);
		if (shd_load_relaxed(&p->version) == v)
			break;
	}
	*version = v;
}

/* P's value, its version in *VERSION (a snapshot). */
static inline uint64_t shd__pte_read(struct shd_pte *p, uint64_t *version)
{
	uint64_t val, prev;

	shd__pte_snapshot(p, version, &val, &prev);
	return val;
}

/* The machine's version clock: the version a new PTE change takes.  Under
 * the mm lock of the mm it changes. */
static inline uint64_t shd__clock_next(struct shd_machine *m)
{
	/* Seq-cst RMW: versions are unique and grow; the writes they
	 * stamp are published by shd__publish_changes(). */
	return shd_add_return(&m->clock, 1);
}

/* Every PTE change of MM up to version V is written (under its lock). */
static inline void shd__publish_changes(struct shd_mm *mm, uint64_t v)
{
	/* Release: pairs with shd__oracle_begin()'s acquire: a flush that
	 * reads V sees the PTE writes of version V. */
	shd_store_release(&mm->stable_clock, v);
}

/* Write P (value VAL, version VERSION) as a seqlock writer, folding MM's
 * whole-mm credit into it first.  Under MM's lock. */
void shd__pte_write(struct shd_pte *p, uint64_t val, uint64_t version,
		    struct shd_mm *mm);
/* A TLB hit on E at ADDR in MM: report it if a completed flush removed it,
 * or its frame was freed since it was filled.  CPU's own thread. */
void shd__oracle_check_hit(struct shd_cpu *cpu, struct shd_mm *mm,
			   struct shd_tlbe *e, uint64_t addr);
/* The clock a flush of MM about to start will cover (read before its
 * tlb_gen bump); credit it when the flush has returned: */
uint64_t shd__oracle_begin(struct shd_mm *mm);
/* ... to the PTEs of vpns [START, END), */
void shd__oracle_credit_range(struct shd_mm *mm, uint64_t start_vpn,
			      uint64_t end_vpn, uint64_t t, enum shd_iface iface);
/* ... to the whole mm, */
void shd__oracle_credit_mm(struct shd_mm *mm, uint64_t t, enum shd_iface iface);
/* ... or to the PTEs of [start, end) that are now clear (under the mm
 * lock): no translation of them may be used after the caller returns. */
void shd__oracle_credit_absent(struct shd_mm *mm, uint64_t start_vpn,
			       uint64_t end_vpn, uint64_t t,
			       enum shd_iface iface);
/* A detached LEAF keeps its history: fold MM's whole-mm credit into it. */
void shd__oracle_fold_leaf(struct shd_mm *mm, struct shd_pt_leaf *leaf);
/* Credit T to the slots of a detached LEAF (first vpn BASE) in [s, e). */
void shd__oracle_credit_leaf(struct shd_pt_leaf *leaf, uint64_t base,
			     uint64_t s, uint64_t e, uint64_t t,
			     enum shd_iface iface);

#endif
