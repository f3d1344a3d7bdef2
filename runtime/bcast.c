/* SPDX-License-Identifier: MIT */
/* Hardware broadcast invalidation and global ASIDs: AMD INVLPGB (Linux 6.15), Intel RAR (2025 RFC). */

/*
 * Theory (after arch/x86/mm/tlb.c of 6.15-6.18, Rik van Riel's series
 * 4a02ed8e1cc3..0b7eb55cb706, "x86/mm: Enable broadcast TLB invalidation
 * for multi-threaded processes" 4afeb0ed1753; and the RAR RFC v1-v4, May-
 * June 2025, unmerged).
 *
 * Global ASIDs.  An mm that a sampled IPI flush finds running on enough
 * CPUs (consider_global_asid(): the flushing thread's id & 31 equals
 * jiffies & 31, and more than 3 CPUs have it loaded, not lazy;
 * broadcast_min_cpus here) gets an ASID from SHD_NR_ASIDS..asid_space-1
 * that every CPU uses for it until it is freed.  The allocator is a
 * rising pointer over a used bitmap; a freed ASID goes to a freed set
 * and is reusable only after the pointer wraps, when
 * reset_global_asid_space() flushes every non-global entry on every CPU
 * (INVLPGB) and returns the freed set to the pool.  The first allocation
 * after boot is such a reset too (the pointer starts at the top).  Fault
 * global_asid_reuse_early hands a freed ASID out before that flush: a
 * CPU that still holds the dead mm's entries under it then translates
 * the new mm through them.
 *
 * The one rule holds for hardware too: no thread touches another CPU's
 * TLB.  A broadcast is a payload (what to invalidate) and one byte per
 * target in that CPU's action vector (PENDING); the target's own thread
 * carries it out at its next interrupt point, wait or idle loop, whether
 * or not it takes interrupts, with no handler and no interrupt counted
 * (shd__hw_drain(), tlb.c), and writes DONE.  INVLPGB's slot is the
 * initiator's own: its TLBSYNC posts it to every other CPU and waits for
 * DONE from each.  Posting at TLBSYNC rather than at INVLPGB is the
 * latest the architecture allows (nothing is promised before TLBSYNC),
 * so a flush that skips TLBSYNC (fault invlpgb_no_tlbsync) leaves the
 * other TLBs stale until that CPU's next broadcast: the oracle sees it.
 * RAR's slots are a shared table of rar_slots (the RFC: 64, N+1 from
 * MSR_IA32_RAR_INFO capped at 64); the initiator spins for a free one,
 * sets PENDING for each CPU of the mask, and spins until each has left
 * PENDING (smp_call_rar_many()).
 *
 * IPI or broadcast.  consider_global_asid() is where Linux chooses, per
 * mm and for good: a CPU switches into a global ASID without a flush
 * (choose_new_asid()), so only a broadcast may flush such an mm.  A
 * policy in C's flush_route is asked there (tlbflush.c), at every IPI
 * flush of an mm that could take one, not only at sampled ones, and can
 * only give the mm an ASID or not: never take one back, never send IPIs
 * instead of a broadcast for an mm that has one.
 *
 * Invariants: (1) a CPU's action vector byte goes PENDING -> DONE only on
 * its own thread, after the invalidation; (2) an initiator returns from
 * TLBSYNC or RAR only when every byte it set is DONE; (3) a global ASID
 * is never in use by two live mms, and a freed one is handed out again
 * only after a flush of every non-global entry everywhere.
 */
#include <errno.h>
#include <string.h>

#include "bcast.h"
#include "seeded.h"
#include "smp.h"
#include "tlb.h"
#include "tso.h"

int shd__bcast_init(struct shd_machine *m)
{
	const struct shd_policy *p = &m->cfg.policy;
	struct shd_bcast *b;

	if (p->bcast == SHD_BCAST_OFF && m->cfg.arch.tlb != SHD_TLB_ARM64)
		return 0;
	if (posix_memalign((void **)&b, SHD_CL, sizeof(*b)))
		return -ENOMEM;
	memset(b, 0, sizeof(*b));
	m->bcast = b;
	b->rar_slots = p->rar_slots ? p->rar_slots : 1;
	if (b->rar_slots > SHD_RAR_SLOTS_MAX)
		b->rar_slots = SHD_RAR_SLOTS_MAX;
	b->nslots = b->rar_slots + m->ncpus;
	if (posix_memalign((void **)&b->payload, SHD_CL,
			   sizeof(*b->payload) * b->nslots))
		return -ENOMEM;
	memset(b->payload, 0, sizeof(*b->payload) * b->nslots);
	b->slot_busy = calloc(b->rar_slots, sizeof(*b->slot_busy));
	if (!b->slot_busy)
		return -ENOMEM;
	for (unsigned c = 0; c < m->ncpus; c++) {
		m->cpus[c]->hw_act = calloc(b->nslots, 1);
		if (!m->cpus[c]->hw_act)
			return -ENOMEM;
	}
	/* last_global_asid starts at MAX_ASID_AVAILABLE: the first
	 * allocation resets; TLB_NR_DYN_ASIDS + 1 are never available. */
	b->last_asid = p->asid_space;
	b->available = p->asid_space - SHD_NR_ASIDS - 1;
	return 0;
}

void shd__bcast_free(struct shd_machine *m)
{
	struct shd_bcast *b = m->bcast;

	if (!b)
		return;
	for (unsigned c = 0; m->cpus && c < m->ncpus; c++)
		if (m->cpus[c])
			free(m->cpus[c]->hw_act);
	free(b->payload);
	free(b->slot_busy);
	free(b);
	m->bcast = NULL;
}

/* ---- posting and waiting ---- */

/* Ask TARGET's hardware for SLOT: PENDING, then wake it if it sleeps
 * (the doorbell as a wake-up only: nothing queued, nothing counted). */
static void hw_post(struct shd_cpu *cpu, unsigned target, unsigned slot)
{
	struct shd_cpu *t = cpu->m->cpus[target];

	/* Release: the payload, filled before, is visible with PENDING;
	 * the seq-cst count orders both before the target's drain. */
	shd_store_release(&t->hw_act[slot], (uint8_t)SHD_HW_PENDING);
	shd_fetch_add(&t->hw_pending, 1);
	shd__ipi_ring(&t->ipi);
	shd__seeded_wake(cpu->m);
}

static bool hw_done(void *arg)
{
	/* Seq-cst: pairs with the target's store of DONE (tlb.c). */
	return shd_load_seq((uint8_t *)arg) != SHD_HW_PENDING;
}

/* Spin until TARGET's hardware has done SLOT, our own hardware and
 * interrupts going on meanwhile (two initiators may wait on each
 * other's targets, each other included). */
static void hw_wait(struct shd_cpu *cpu, unsigned target, unsigned slot)
{
	struct shd_machine *m = cpu->m;
	uint8_t *b = &m->cpus[target]->hw_act[slot];

	shd__sched_point(cpu);
	for (;;) {
		if (shd__hw_drain(cpu))
			shd__seeded_wake(m);
		if (shd__ipi_pending(&cpu->ipi))
			shd__cpu_take_ipis(cpu);
		if (hw_done(b))
			return;
		if (m->seeded)
			shd__seeded_block(cpu, hw_done, b, true, 0);
		else
			shd__ipi_idle_wait(&cpu->ipi, hw_done, b, m->spin_ns, 0);
	}
}

/* ---- INVLPGB and TLBSYNC ---- */

static unsigned invlpgb_slot(const struct shd_cpu *cpu)
{
	return cpu->m->bcast->rar_slots + cpu->id;
}

/* Post our broadcast to every other CPU and wait for each (the
 * hardware's completion, whether or not TLBSYNC or DSB asked for it). */
void shd__hw_complete(struct shd_cpu *cpu)
{
	struct shd_machine *m = cpu->m;
	unsigned slot = invlpgb_slot(cpu);

	if (!cpu->hw_issued)
		return;
	shd__sched_point(cpu);
	for (unsigned c = 0; c < m->ncpus; c++)
		if (c != cpu->id)
			hw_post(cpu, c, slot);
	for (unsigned c = 0; c < m->ncpus; c++)
		if (c != cpu->id)
			hw_wait(cpu, c, slot);
	cpu->hw_issued = false;
}

void shd__hw_issue(struct shd_cpu *cpu, enum shd_hw_kind kind, unsigned asid,
		   uint64_t s, uint64_t e)
{
	struct shd_hw_payload *p;

	/* One payload a CPU: one left in flight (no TLBSYNC or DSB yet)
	 * completes before it is rewritten. */
	shd__hw_complete(cpu);
	p = &cpu->m->bcast->payload[invlpgb_slot(cpu)];
	p->kind = kind;
	p->asid = asid;
	p->start_vpn = s;
	p->end_vpn = e;
	p->initiator = cpu->id;
	cpu->hw_issued = true;
	/* Every other online CPU is a candidate, covered by the hardware. */
	cpu->cnt.s.ipi_candidates += cpu->m->ncpus - 1;
	cpu->cnt.s.ipis_broadcast_hw += cpu->m->ncpus - 1;
	/* The broadcast invalidates the issuing CPU's TLB as well. */
	shd__tso_drain(cpu);
	shd__hw_invalidate(cpu, p);
}

void shd__invlpgb(struct shd_cpu *cpu, enum shd_hw_kind kind, unsigned asid,
		  uint64_t s, uint64_t e, uint64_t ninstr)
{
	shd__hw_issue(cpu, kind, asid, s, e);
	cpu->cnt.s.invlpgb_issued += ninstr;
}

void shd__tlbsync(struct shd_cpu *cpu)
{
	cpu->cnt.s.tlbsyncs++;
	shd__hw_complete(cpu);
}

void shd__invlpgb_sync(struct shd_cpu *cpu, enum shd_hw_kind kind,
		       uint64_t s, uint64_t e, uint64_t ninstr)
{
	shd__invlpgb(cpu, kind, 0, s, e, ninstr);
	if (cpu->m->ncpus > 1 &&
	    shd__fault_fires(cpu, SHD_FAULT_INVLPGB_NO_TLBSYNC))
		return;
	shd__tlbsync(cpu);
}

/* ---- RAR ---- */

/* One turn of a spin with interrupts off (a free RAR slot, the global
 * ASID lock): this CPU's hardware still completes what it owes, and the
 * spinner lets the others run. */
static void hw_spin_wait(struct shd_cpu *cpu)
{
	if (shd__hw_drain(cpu))
		shd__seeded_wake(cpu->m);
	if (cpu->m->seeded)
		shd__seeded_yield(cpu);
	else
		caa_cpu_relax();
}

/* A free payload slot, spinning (our hardware draining) while none is. */
static unsigned rar_slot_get(struct shd_cpu *cpu)
{
	struct shd_bcast *b = cpu->m->bcast;
	bool waited = false;

	for (;;) {
		for (unsigned s = 0; s < b->rar_slots; s++) {
			int32_t free_slot = 0;

			/* Acquire: the slot's last user is done with it
			 * (pairs with rar_slot_put()'s release). */
			if (shd_load_relaxed(&b->slot_busy[s]) == 0 &&
			    shd_cas_acquire(&b->slot_busy[s], &free_slot, 1))
				return s;
		}
		if (!waited)
			cpu->cnt.s.rar_slot_waits++;
		waited = true;
		hw_spin_wait(cpu);
	}
}

static void rar_slot_put(struct shd_cpu *cpu, unsigned s)
{
	/* Release: every target is done with the payload. */
	shd_store_release(&cpu->m->bcast->slot_busy[s], 0);
	shd__seeded_wake(cpu->m);
}

unsigned shd__rar_send(struct shd_cpu *cpu, const unsigned long *mask,
		       enum shd_hw_kind kind, unsigned asid, uint64_t s,
		       uint64_t e)
{
	struct shd_machine *m = cpu->m;
	struct shd_hw_payload *p;
	unsigned slot, n = 0;

	slot = rar_slot_get(cpu);
	p = &m->bcast->payload[slot];
	p->kind = kind;
	p->asid = asid;
	p->start_vpn = s;
	p->end_vpn = e;
	p->initiator = cpu->id;
	for (unsigned c = 0; c < m->ncpus; c++) {
		if (c == cpu->id)
			continue;
		shd__sched_point(cpu);
		cpu->cnt.s.ipi_candidates++;
		if (mask && !shd__tso_mask_test(cpu, mask, c)) {
			cpu->cnt.s.ipis_avoided_pruned++;
			continue;
		}
		hw_post(cpu, c, slot);
		cpu->targets[n++] = c;
	}
	cpu->cnt.s.rar_requests += n;
	cpu->cnt.s.ipis_broadcast_hw += n;
	for (unsigned i = 0; i < n; i++)
		hw_wait(cpu, cpu->targets[i], slot);
	rar_slot_put(cpu, slot);
	return n;
}

/* ---- global ASIDs ---- */

/* global_asid_lock: Linux's is a raw spinlock taken with interrupts
 * off; a waiter's hardware still completes broadcasts (the holder may
 * be resetting the space, waiting for them). */
static void asid_lock(struct shd_cpu *cpu)
{
	struct shd_bcast *b = cpu->m->bcast;

	for (;;) {
		int32_t unlocked = 0;

		/* Acquire: what the last holder wrote is visible. */
		if (shd_cas_acquire(&b->lock, &unlocked, 1))
			return;
		hw_spin_wait(cpu);
	}
}

static void asid_unlock(struct shd_cpu *cpu)
{
	/* Release: pairs with asid_lock()'s acquire. */
	shd_store_release(&cpu->m->bcast->lock, 0);
	shd__seeded_wake(cpu->m);
}

/*
 * reset_global_asid_space(): one broadcast flush of every non-global
 * entry (INVLPGB; RAR: a request to every CPU, where the RFC calls
 * flush_tlb_all()), then the freed ASIDs join the pool and the pointer
 * starts over.  Lock held.
 */
static void reset_global_asid_space(struct shd_cpu *cpu)
{
	struct shd_bcast *b = cpu->m->bcast;
	struct shd_hw_payload all = { .kind = SHD_HW_NONGLOBAL };

	if (cpu->m->cfg.policy.bcast == SHD_BCAST_INVLPGB) {
		shd__invlpgb_sync(cpu, SHD_HW_NONGLOBAL, 0, 0, 1);
	} else {
		shd__tso_drain(cpu);
		shd__hw_invalidate(cpu, &all);
		(void)shd__rar_send(cpu, NULL, SHD_HW_NONGLOBAL, 0, 0, 0);
	}
	for (unsigned i = 0; i < SHD_ASID_WORDS; i++)
		/* Seq-cst exchange: a free racing with us lands either in
		 * this round or in the next. */
		b->used[i] &= ~shd_xchg(&b->freed[i], 0ul);
	b->last_asid = SHD_NR_ASIDS;
	cpu->cnt.s.global_asid_resets++;
}

static bool asid_test(const unsigned long *map, unsigned a)
{
	return (map[a / 64] >> (a % 64)) & 1;
}

/* Fault global_asid_reuse_early: the lowest freed ASID, taken back from
 * the freed set with no flush; 0 if none is waiting. */
static unsigned reuse_early(struct shd_cpu *cpu, unsigned space)
{
	struct shd_bcast *b = cpu->m->bcast;

	for (unsigned a = SHD_NR_ASIDS; a < space; a++) {
		unsigned long bit = 1ul << (a % 64);

		/* Seq-cst RMW: races mm_free_global_asid()'s set. */
		if ((shd_load_seq(&b->freed[a / 64]) & bit) &&
		    (shd_fetch_and(&b->freed[a / 64], ~bit) & bit))
			return a;
	}
	return 0;
}

/* allocate_global_asid(): the next unused ASID at or after the pointer,
 * resetting the space first when the pointer is at the top.  Lock held.
 * 0 if none is left. */
static unsigned allocate_global_asid(struct shd_cpu *cpu)
{
	struct shd_bcast *b = cpu->m->bcast;
	unsigned space = cpu->m->cfg.policy.asid_space, a;

	if (shd__fault(cpu->m, SHD_FAULT_GLOBAL_ASID_REUSE_EARLY) &&
	    (a = reuse_early(cpu, space))) {
		shd__fault_fired(cpu, SHD_FAULT_GLOBAL_ASID_REUSE_EARLY);
		shd_fetch_add(&b->available, (uint32_t)-1);
		return a;
	}
	if (b->last_asid >= space - 1)
		reset_global_asid_space(cpu);
	for (a = b->last_asid; a < space && asid_test(b->used, a); a++)
		;
	if (a >= space)
		return 0;
	b->used[a / 64] |= 1ul << (a % 64);
	b->last_asid = a;
	shd_fetch_add(&b->available, (uint32_t)-1);
	return a;
}

/* use_global_asid(): under the lock, unless MM has one already or none is
 * left; asid_transition is set before the ASID is published. */
void shd__use_global_asid(struct shd_cpu *cpu, struct shd_mm *mm)
{
	struct shd_bcast *b = cpu->m->bcast;
	unsigned a;

	asid_lock(cpu);
	if (shd_load_seq(&mm->global_asid) || !shd_load_seq(&b->available))
		goto out;
	a = allocate_global_asid(cpu);
	if (!a)
		goto out;
	/* Seq-cst: a flusher that sees the ASID sees the transition. */
	shd_store_seq(&mm->asid_transition, 1);
	shd_store_seq(&mm->global_asid, a);
	cpu->cnt.s.global_asids_assigned++;
out:
	asid_unlock(cpu);
}

/*
 * mm_active_cpus_exceeds(mm, 3), as "at least broadcast_min_cpus": the
 * CPUs of MM's mask that have it loaded and are not lazy (the initiator
 * too).  Racy reads, as in Linux: a wrong guess costs IPIs, not
 * correctness.
 */
static bool mm_active_cpus_reach(struct shd_cpu *cpu, struct shd_mm *mm,
				 unsigned min)
{
	struct shd_machine *m = cpu->m;
	unsigned n = 0;

	if (!min)
		return true;
	for (unsigned c = 0; c < m->ncpus; c++) {
		struct shd_cpu *t = m->cpus[c];

		if (!shd__mask_test(mm->cpumask, c) ||
		    shd_load_seq(&t->loaded_mm_id) != mm->id ||
		    shd_load_seq(&t->is_lazy))
			continue;
		if (++n >= min)
			return true;
	}
	return false;
}

unsigned shd__mm_active_cpus(struct shd_cpu *cpu, struct shd_mm *mm)
{
	struct shd_machine *m = cpu->m;
	unsigned n = 0;

	for (unsigned c = 0; c < m->ncpus; c++) {
		struct shd_cpu *t = m->cpus[c];

		n += shd__mask_test(mm->cpumask, c) &&
		     shd_load_seq(&t->loaded_mm_id) == mm->id &&
		     !shd_load_seq(&t->is_lazy);
	}
	return n;
}

bool shd__global_asid_possible(const struct shd_cpu *cpu, struct shd_mm *mm)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;

	/* Promotion reads loaded_mm, which only switch=6.13 publishes.
	 * LATR's posted requests and arm64's per-page reclaim requests go
	 * to the CPUs running the mm only, and no broadcast covers the
	 * others' global-ASID entries, which switch-in does not flush. */
	return p->bcast != SHD_BCAST_OFF && p->switch_mm == SHD_SWITCH_6_13 &&
	       !p->async && p->batch != SHD_BATCH_ARM64 &&
	       !shd__mm_global_asid(mm);
}

bool shd__global_asid_sampled(const struct shd_cpu *cpu)
{
	/* Linux: (current->pid & 31) == (jiffies & 31).  The thread is
	 * the one running on this CPU: its id stands in for the pid. */
	return (cpu->id & 31) == (shd__jiffies(cpu->m) & 31);
}

void shd__consider_global_asid(struct shd_cpu *cpu, struct shd_mm *mm)
{
	if (!shd__global_asid_possible(cpu, mm) ||
	    !shd__global_asid_sampled(cpu))
		return;
	if (!mm_active_cpus_reach(cpu, mm,
				  cpu->m->cfg.policy.broadcast_min_cpus))
		return;
	shd__use_global_asid(cpu, mm);
}

void shd__mm_free_global_asid(struct shd_mm *mm)
{
	struct shd_bcast *b = mm->m->bcast;
	unsigned a;

	if (!b || mm->m->cfg.policy.bcast == SHD_BCAST_OFF ||
	    !(a = shd_load_seq(&mm->global_asid)))
		return;
	/* Seq-cst RMWs: the reset's exchange takes the bit in one round
	 * or the next; available counts it at once, as Linux's does. */
	shd_fetch_or(&b->freed[a / 64], 1ul << (a % 64));
	shd_fetch_add(&b->available, 1);
	shd_store_seq(&mm->global_asid, 0);
}

bool shd__switch_to_global_asid(struct shd_cpu *cpu)
{
	struct shd_mm *mm = cpu->loaded_mm;
	unsigned a = mm ? shd__mm_global_asid(mm) : 0;

	if (!a || cpu->loaded_asid == a)
		return false;
	shd__tso_drain(cpu);	/* the CR3 write: serializing */
	cpu->loaded_asid = a;
	shd__publish_asid(cpu, a);
	return true;
}
