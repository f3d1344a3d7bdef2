/* SPDX-License-Identifier: MIT */
/* A sweep's break-even and how far to trust it (breakeven.c). */
#ifndef SHD_BENCH_BREAKEVEN_H
#define SHD_BENCH_BREAKEVEN_H

#include <stdbool.h>
#include <stdint.h>

#define BE_FLAT 0.02		/* "flat": within 2% of the minimum's median */
#define BE_REFINE 8		/* --refine: 8 times finer, 8 steps past an edge */

/* One swept point: the knob's value and its modelled cycles per op over
 * the seeds run (median, lowest, highest; all three equal for one seed). */
struct be_point {
	uint64_t value;
	double med, min, max;
};

struct be_verdict {
	int best;		/* the lowest median (first on ties) */
	uint64_t below, above;	/* its neighbouring values (its own at an edge) */
	uint64_t resolution;	/* the farther neighbour's distance: the step */
	int flat_lo, flat_hi;	/* the run of points around best within BE_FLAT */
	int flat_elsewhere;	/* points within BE_FLAT outside that run */
	int noise;		/* other points whose min..max meets best's */
	int noise_lo, noise_hi;	/* the lowest and highest of them (or best) */
	bool at_lo, at_hi;	/* best is the first / last point */
};

/* Judge N points (N >= 1, sorted by value, values distinct) into V. */
void be_analyse(const struct be_point *p, int n, struct be_verdict *v);

/*
 * The ceiling the cost model predicts: N where invlpg * N = full +
 * refills * miss + ipi, with REFILLS (misses a full flush causes) and IPI
 * (IPI cycles a full flush adds) measured as the change in misses and IPI
 * cycles per op against the change in full flushes per op between the
 * point with the most full flushes and the one with the fewest.  FULL,
 * MISSES and IPICYC are per op, one per point (N of them).  0 with *CEILING
 * and *REFILLS set, or -1 with the reason in WHY.
 */
struct be_costs {
	double invlpg, full, miss;	/* cycles, the cost model's */
};
int be_model_ceiling(const struct be_costs *c, const double *full,
		     const double *misses, const double *ipicyc, int n,
		     double *ceiling, double *refills, double *ipi,
		     const char **why);

/*
 * --refine: up to MAX values to sweep next, sorted, none of P's: between
 * best and each neighbour BE_REFINE times finer (step 1 at least); past an
 * edge best sits on, as finely over one old step and then BE_REFINE points
 * at the old step.  The caller drops the values the knob does not take.
 * How many (0: nothing finer to run).
 */
int be_refine(const struct be_point *p, int n, const struct be_verdict *v,
	      uint64_t *out, int max);

#endif
