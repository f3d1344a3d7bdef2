/* SPDX-License-Identifier: MIT */
/* A simulated set-associative TLB, private to one CPU's thread. */

/*
 * Entries are tagged (vpn, asid): asid 0..5 is a per-CPU dynamic context slot
 * (x86 PCID), 6 and up a global ASID (the same mm on every CPU: INVLPGB,
 * RAR, arm64), SHD_ASID_GLOBAL marks kernel translations that match in every
 * context.  Only the owning CPU's thread calls anything here (the rule that
 * keeps the emulation honest); other CPUs ask through IPIs.
 */
#include <errno.h>

#include "tlb.h"
#include "tso.h"

/* The ASID and valid bits of a tag. */
#define ASID_FIELD ((1ull << (SHD_ASID_TAG_BITS + 1)) - 1)
_Static_assert(SHD_VA_BITS - 12 + SHD_ASID_TAG_BITS + 1 <= 64,
	       "a TLB tag holds the vpn of a 4 KiB page and the ASID");

static inline uint64_t tlb_tag(uint64_t vpn, unsigned asid)
{
	return vpn << (SHD_ASID_TAG_BITS + 1) | (uint64_t)asid << 1 | 1;
}

int shd__tlb_init(struct shd_tlb *t, const struct shd_tlb_geometry *g)
{
	t->ways = g->ways;
	t->nsets = g->entries / g->ways;
	t->set_mask = t->nsets - 1;
	t->e = calloc(g->entries, sizeof(*t->e));
	t->victim = calloc(t->nsets, 1);
	if (!t->e || !t->victim) {
		shd__tlb_free(t);
		return -ENOMEM;
	}
	return 0;
}

void shd__tlb_free(struct shd_tlb *t)
{
	free(t->e);
	free(t->victim);
	t->e = NULL;
	t->victim = NULL;
}

static inline struct shd_tlbe *tlb_set(struct shd_tlb *t, uint64_t vpn)
{
	return &t->e[(vpn & t->set_mask) * t->ways];
}

struct shd_tlbe *shd__tlb_lookup(struct shd_tlb *t, uint64_t vpn, unsigned asid)
{
	struct shd_tlbe *set = tlb_set(t, vpn);
	uint64_t tag = tlb_tag(vpn, asid);

	for (unsigned w = 0; w < t->ways; w++)
		if (set[w].tag == tag)
			return &set[w];
	return NULL;
}

struct shd_tlbe *shd__tlb_fill(struct shd_tlb *t, uint64_t vpn, unsigned asid,
			       uint64_t val, uint64_t version,
			       struct shd_pte *ptep)
{
	struct shd_tlbe *set = tlb_set(t, vpn), *e = NULL;
	uint64_t tag = tlb_tag(vpn, asid);
	unsigned w;

	for (w = 0; w < t->ways; w++) {
		if (set[w].tag == tag || !(set[w].tag & 1)) {
			e = &set[w];
			break;
		}
	}
	if (!e) {
		uint8_t *v = &t->victim[vpn & t->set_mask];

		e = &set[*v];
		*v = (uint8_t)((*v + 1) % t->ways);
	}
	e->tag = tag;
	e->val = val;
	e->version = version;
	e->ptep = ptep;
	return e;
}

static unsigned shd__tlb_flush_page(struct shd_tlb *t, uint64_t vpn, unsigned asid)
{
	struct shd_tlbe *e = shd__tlb_lookup(t, vpn, asid);

	if (!e)
		return 0;
	e->tag = 0;
	return 1;
}

static void shd__tlb_flush_asid(struct shd_tlb *t, unsigned asid)
{
	size_t n = (size_t)t->nsets * t->ways;

	for (size_t i = 0; i < n; i++)
		if ((t->e[i].tag & ASID_FIELD) == ((uint64_t)asid << 1 | 1))
			t->e[i].tag = 0;
}

static void shd__tlb_flush_global(struct shd_tlb *t)
{
	shd__tlb_flush_asid(t, SHD_ASID_GLOBAL);
}

static void shd__tlb_flush_everything(struct shd_tlb *t)
{
	size_t n = (size_t)t->nsets * t->ways;

	for (size_t i = 0; i < n; i++)
		t->e[i].tag = 0;
}

void shd__local_flush_pages(struct shd_cpu *cpu, uint64_t s, uint64_t e,
			    unsigned asid)
{
	shd__tso_drain(cpu);	/* INVLPG is serializing */
	if (e > s && shd__fault_fires(cpu, SHD_FAULT_RANGE_SHORT))
		e--;
	for (uint64_t vpn = s; vpn < e; vpn++) {
		shd__tlb_flush_page(&cpu->dtlb, vpn, asid);
		if (cpu->split)
			shd__tlb_flush_page(&cpu->itlb, vpn, asid);
	}
	cpu->cnt.s.pages_invalidated += e - s;
	cpu->cnt.s.flushes_partial++;
}

void shd__local_flush_list(struct shd_cpu *cpu, const uint64_t *vpns,
			   uint64_t n, unsigned asid)
{
	shd__tso_drain(cpu);	/* a demap is followed by a MEMBAR #Sync */
	for (uint64_t i = 0; i < n; i++) {
		shd__tlb_flush_page(&cpu->dtlb, vpns[i], asid);
		if (cpu->split)
			shd__tlb_flush_page(&cpu->itlb, vpns[i], asid);
	}
	cpu->cnt.s.pages_invalidated += n;
	cpu->cnt.s.flushes_partial++;
}

void shd__local_flush_asid(struct shd_cpu *cpu, unsigned asid)
{
	shd__tso_drain(cpu);	/* INVPCID (or a CR3 write): serializing */
	shd__tlb_flush_asid(&cpu->dtlb, asid);
	if (cpu->split)
		shd__tlb_flush_asid(&cpu->itlb, asid);
}

void shd__local_flush_global(struct shd_cpu *cpu)
{
	shd__tso_drain(cpu);	/* serializing, as above */
	shd__tlb_flush_global(&cpu->dtlb);
	if (cpu->split)
		shd__tlb_flush_global(&cpu->itlb);
}

void shd__local_flush_everything(struct shd_cpu *cpu)
{
	shd__tso_drain(cpu);	/* serializing, as above */
	shd__tlb_flush_everything(&cpu->dtlb);
	if (cpu->split)
		shd__tlb_flush_everything(&cpu->itlb);
}

static void shd__tlb_flush_nonglobal(struct shd_tlb *t)
{
	size_t n = (size_t)t->nsets * t->ways;
	uint64_t global = (uint64_t)SHD_ASID_GLOBAL << 1 | 1;

	for (size_t i = 0; i < n; i++)
		if ((t->e[i].tag & ASID_FIELD) != global)
			t->e[i].tag = 0;
}

/* Every entry of ASID in vpns [S, E): page by page, or for a range
 * larger than the TLB (arm64's range TLBIs: up to 8 GiB) by a walk of
 * the entries. */
static void flush_range(struct shd_tlb *t, uint64_t s, uint64_t e,
			unsigned asid)
{
	size_t n = (size_t)t->nsets * t->ways;

	if (e - s <= n) {
		for (uint64_t vpn = s; vpn < e; vpn++)
			shd__tlb_flush_page(t, vpn, asid);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		uint64_t tag = t->e[i].tag, vpn = tag >> (SHD_ASID_TAG_BITS + 1);

		if ((tag & ASID_FIELD) == ((uint64_t)asid << 1 | 1) &&
		    vpn >= s && vpn < e)
			t->e[i].tag = 0;
	}
}

static void hw_invalidate_tlb(struct shd_tlb *t, const struct shd_hw_payload *p)
{
	unsigned asid = p->kind == SHD_HW_KERNEL ? SHD_ASID_GLOBAL : p->asid;

	switch (p->kind) {
	case SHD_HW_ASID:
	case SHD_HW_KERNEL:
		if (p->end_vpn == SHD_FLUSH_END_ALL) {
			shd__tlb_flush_asid(t, asid);
			break;
		}
		flush_range(t, p->start_vpn, p->end_vpn, asid);
		break;
	case SHD_HW_NONGLOBAL:
		shd__tlb_flush_nonglobal(t);
		break;
	case SHD_HW_EVERYTHING:
		shd__tlb_flush_everything(t);
		break;
	}
}

void shd__hw_invalidate(struct shd_cpu *cpu, const struct shd_hw_payload *p)
{
	hw_invalidate_tlb(&cpu->dtlb, p);
	if (cpu->split)
		hw_invalidate_tlb(&cpu->itlb, p);
}

/*
 * The target's side of a broadcast: its hardware (AMD's TLB controller,
 * Intel's RAR microcode) carries out every PENDING slot and writes DONE.
 * On CPU's own thread, like every TLB change here, but no handler runs,
 * interrupts may be off and nothing counts as an interrupt.
 */
unsigned shd__hw_drain(struct shd_cpu *cpu)
{
	struct shd_bcast *b = cpu->m->bcast;
	unsigned n = 0;

	/* Acquire: pairs with the initiator's seq-cst increment, made after
	 * its release of the PENDING byte and the payload. */
	if (!b || !shd_load_acquire(&cpu->hw_pending))
		return 0;
	for (unsigned s = 0; s < b->nslots; s++) {
		const struct shd_hw_payload *p = &b->payload[s];
		struct shd_cpu *ini;

		/* Acquire: pairs with the initiator's release of PENDING,
		 * after it filled the payload. */
		if (shd_load_acquire(&cpu->hw_act[s]) != SHD_HW_PENDING)
			continue;
		shd__hw_invalidate(cpu, p);
		cpu->cnt.s.hw_invalidations++;
		n++;
		ini = cpu->m->cpus[p->initiator];
		/* Release (seq-cst): our invalidation is done before the
		 * initiator, reading DONE, may return; then the Dekker read
		 * of its doorbell, as a csd's acknowledgement does. */
		shd_store_seq(&cpu->hw_act[s], (uint8_t)SHD_HW_DONE);
		shd_fetch_add(&cpu->hw_pending, (uint32_t)-1);
		if (shd_load_seq(&ini->ipi.doorbell) == SHD_DB_SLEEPING)
			shd__ipi_ring(&ini->ipi);
	}
	return n;
}
