/* SPDX-License-Identifier: MIT */
/* Small pure decision functions of the flush policies (no threads, no I/O). */
#ifndef SHD_POLICY_DECIDE_H
#define SHD_POLICY_DECIDE_H

#include <stdbool.h>
#include <stdint.h>
#include <shootdown/policy.h>

enum shd_target_verdict {
	SHD_TARGET_SEND,
	SHD_TARGET_PRUNED,	/* not in mm_cpumask */
	SHD_TARGET_LAZY,	/* lazy TLB mode, no page tables freed */
};

/* Should a flush of a user mm reach this candidate CPU? */
static inline enum shd_target_verdict
shd__policy_target(const struct shd_policy *p, bool in_mm_cpumask,
		   bool is_lazy, bool freed_tables)
{
	if (p->prune && !in_mm_cpumask)
		return SHD_TARGET_PRUNED;
	if (p->lazy && is_lazy && !freed_tables)
		return SHD_TARGET_LAZY;
	return SHD_TARGET_SEND;
}

/* What a candidate CPU's cpu_tlbstate.loaded_mm says, for switch=6.13. */
enum shd_loaded {
	SHD_LOADED_OTHER,	/* another mm, or init_mm */
	SHD_LOADED_THIS,	/* the mm being flushed */
	SHD_LOADED_SWITCHING,	/* LOADED_MM_SWITCHING: mid-switch_mm */
};

/*
 * switch=6.13: native_flush_tlb_multi() with should_flush_tlb() (Linux
 * 6.13+).  mm_cpumask is lazy (a CPU's bit outlives its stay in the mm),
 * so a CPU in it gets the flush if page tables were freed (every CPU in
 * the mask, lazy or not), or else unless it is lazy, when it is running
 * the mm, is switching (it may hold either mm's state: fea4e317f9e7), or
 * the mask is being trimmed (TRIM); one running another mm counts as
 * pruned.
 */
static inline enum shd_target_verdict
shd__policy_should_flush(const struct shd_policy *p, bool in_mm_cpumask,
			 bool is_lazy, bool freed_tables, enum shd_loaded loaded,
			 bool trim)
{
	enum shd_target_verdict v = shd__policy_target(p, in_mm_cpumask,
						       is_lazy, freed_tables);

	if (v != SHD_TARGET_SEND || freed_tables || !p->prune)
		return v;
	if (loaded == SHD_LOADED_OTHER && !trim)
		return SHD_TARGET_PRUNED;
	return SHD_TARGET_SEND;
}

enum shd_flush_action {
	SHD_ACTION_NOTHING,
	SHD_ACTION_PARTIAL,
	SHD_ACTION_FULL,
};

/*
 * flush_tlb_func()'s choice on a CPU whose context for the mm is at LOCAL,
 * for a request that made the mm's generation NEW_GEN while the mm is now at
 * MM_GEN; NPAGES is the request's size (0 = whole mm).
 */
static inline enum shd_flush_action
shd__policy_flush_action(const struct shd_policy *p, uint64_t local,
			 uint64_t new_gen, uint64_t mm_gen, uint64_t npages)
{
	bool partial_ok = npages != 0 && npages <= p->ceiling;

	if (!p->gen)
		return partial_ok ? SHD_ACTION_PARTIAL : SHD_ACTION_FULL;
	if (new_gen <= local)
		return SHD_ACTION_NOTHING;	/* an earlier full flush did it */
	if (local == mm_gen)
		return SHD_ACTION_NOTHING;
	if (partial_ok && new_gen == local + 1 && new_gen == mm_gen)
		return SHD_ACTION_PARTIAL;
	return SHD_ACTION_FULL;			/* catch up in one go */
}

/*
 * Can flushes of an mm bypass a CPU that holds its context without having it
 * loaded (pruned or lazy)?  Then switching back in must check or flush.
 */
static inline bool shd__policy_may_miss(const struct shd_policy *p)
{
	return p->prune || p->lazy;
}

/* On switch_mm into a context at SLOT_GEN for an mm at MM_GEN: flush? */
static inline bool shd__policy_switch_flush(const struct shd_policy *p,
					    uint64_t slot_gen, uint64_t mm_gen)
{
	if (!shd__policy_may_miss(p))
		return false;
	if (!p->gen)
		return true;
	return slot_gen < mm_gen;
}

/* ---- arm64's TLBI encoding (runtime/tlbi.c) ---- */

/* MAX_TLBI_RANGE_PAGES: __TLBI_RANGE_PAGES(31, 3), 8 GiB at 4 KiB. */
#define SHD_MAX_TLBI_RANGE_PAGES (32ull << 16)

/* __TLBI_RANGE_PAGES(num, scale) */
static inline uint64_t shd__tlbi_range_pages(int num, int scale)
{
	return (uint64_t)(num + 1) << (5 * scale + 1);
}

/* __TLBI_RANGE_NUM(pages, scale): after e3ba51ab24fd, or before it. */
static inline int shd__tlbi_range_num(uint64_t pages, int scale, bool old)
{
	if (old)
		return (int)((pages >> (5 * scale + 1)) & 31) - 1;
	if (pages > shd__tlbi_range_pages(31, scale))
		pages = shd__tlbi_range_pages(31, scale);
	return (int)(pages >> (5 * scale + 1)) - 1;
}

/*
 * arm64 __flush_tlb_range_op() for PAGES pages: how many TLBI
 * instructions, of them *NRANGE range TLBIs (RANGE: FEAT_TLBIRANGE in
 * use), and how many pages from the start they invalidate (*COVERED:
 * PAGES, unless OLD_NUM, the __TLBI_RANGE_NUM of before e3ba51ab24fd,
 * fails on the count).  SCALE walks down from 3 (e2768b798a19).
 */
static inline uint64_t shd__tlbi_range_ops(uint64_t pages, bool range,
					   bool old_num, uint64_t *nrange,
					   uint64_t *covered)
{
	uint64_t ops = 0, done = 0;
	int scale = 3;

	*nrange = 0;
	while (pages > 0) {
		int num;

		if (!range || pages == 1) {
			ops++;
			done++;
			pages--;
			continue;
		}
		if (scale < 0) {
			/* Only the old NUM gets here: one TLBI with the
			 * underflowed scale's operand, then the loop ends. */
			ops++;
			(*nrange)++;
			break;
		}
		num = shd__tlbi_range_num(pages, scale, old_num);
		if (num >= 0) {
			ops++;
			(*nrange)++;
			done += shd__tlbi_range_pages(num, scale);
			pages -= shd__tlbi_range_pages(num, scale);
		}
		scale--;
	}
	*covered = done;
	return ops;
}

#endif
