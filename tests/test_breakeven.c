/* SPDX-License-Identifier: MIT */
/* Tests of a sweep's verdict (bench/breakeven.c): the resolution, the flat
 * range, the edges, noise, the model's ceiling and where --refine looks. */
#include <math.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../bench/breakeven.h"

/* Plain arithmetic on a few numbers: equal to the last bit but rounding. */
#define cr_assert_near(a, b) cr_assert(fabs((a) - (b)) < 1e-9, "%g != %g", \
				       (double)(a), (double)(b))

/* N points at LO, LO+STEP, ... of costs C (one seed: min = max = median). */
static void points(struct be_point *p, int n, uint64_t lo, uint64_t step,
		   const double *c)
{
	for (int i = 0; i < n; i++)
		p[i] = (struct be_point){ lo + step * (uint64_t)i, c[i], c[i], c[i] };
}

Test(breakeven, names_the_step_and_the_flat_run_around_the_minimum)
{
	/* 0..64:8; 8 cheapest, 16 within 2%, 0 2.2% above: not flat. */
	static const double c[] = { 4037, 3951, 3983, 4108, 4390, 4710, 5140 };
	struct be_point p[7];
	struct be_verdict v;

	points(p, 7, 0, 8, c);
	be_analyse(p, 7, &v);
	cr_assert_eq(v.best, 1);
	cr_assert_eq(v.resolution, 8);
	cr_assert_eq(v.below, 0);
	cr_assert_eq(v.above, 16);
	cr_assert_eq(v.flat_lo, 1);
	cr_assert_eq(v.flat_hi, 2);
	cr_assert_eq(v.flat_elsewhere, 0);
	cr_assert(!v.at_lo && !v.at_hi);
	cr_assert_eq(v.noise, 0);
}

Test(breakeven, warns_when_the_minimum_is_on_either_edge)
{
	static const double falling[] = { 40, 30, 20, 10 };
	static const double rising[] = { 10, 20, 30, 40 };
	struct be_point p[4];
	struct be_verdict v;

	points(p, 4, 0, 1, falling);
	be_analyse(p, 4, &v);
	cr_assert(v.at_hi && !v.at_lo);
	cr_assert_eq(v.best, 3);
	cr_assert_eq(v.resolution, 1);
	points(p, 4, 0, 1, rising);
	be_analyse(p, 4, &v);
	cr_assert(v.at_lo && !v.at_hi);
	cr_assert_eq(v.best, 0);
}

Test(breakeven, uneven_neighbours_give_the_farther_one_as_resolution)
{
	/* 4..64x2: 16 cheapest, neighbours 8 and 32. */
	static const double c[] = { 9, 7, 5, 6, 8 };
	struct be_point p[5];
	struct be_verdict v;

	for (int i = 0; i < 5; i++)
		p[i] = (struct be_point){ 4ull << i, c[i], c[i], c[i] };
	be_analyse(p, 5, &v);
	cr_assert_eq(p[v.best].value, 16);
	cr_assert_eq(v.below, 8);
	cr_assert_eq(v.above, 32);
	cr_assert_eq(v.resolution, 16);
}

Test(breakeven, counts_flat_points_apart_from_the_minimums_run)
{
	/* A second valley within 2% at the far end is not "the flat range". */
	static const double c[] = { 150, 100, 101, 130, 140, 101.5 };
	struct be_point p[6];
	struct be_verdict v;

	points(p, 6, 0, 1, c);
	be_analyse(p, 6, &v);
	cr_assert_eq(v.flat_lo, 1);
	cr_assert_eq(v.flat_hi, 2);
	cr_assert_eq(v.flat_elsewhere, 1);
}

Test(breakeven, a_point_whose_spread_meets_the_minimums_is_within_noise)
{
	struct be_point p[4] = {
		{ 0, 120, 118, 125 },	/* apart */
		{ 8, 100, 95, 104 },	/* the minimum's median */
		{ 16, 103, 101, 109 },	/* its min 101 < 104: within noise */
		{ 24, 106, 105, 112 },	/* its min 105 > 104: apart */
	};
	struct be_verdict v;

	be_analyse(p, 4, &v);
	cr_assert_eq(v.best, 1);
	cr_assert_eq(v.noise, 1);
	cr_assert_eq(v.noise_lo, 1);
	cr_assert_eq(v.noise_hi, 2);
	/* The flat range reads the medians: 103 and 106 vs 102 (2%). */
	cr_assert_eq(v.flat_hi, 1);
}

Test(breakeven, the_model_ceiling_balances_invlpg_against_full_and_refills)
{
	/* Full flushes per op fall from 0.9 to 0.1 as misses fall from 27
	 * to 11: 20 refills per full flush; IPIs do not change. */
	static const double full[] = { 0.9, 0.5, 0.1 };
	static const double miss[] = { 27, 19, 11 };
	static const double ipi[] = { 4000, 4000, 4000 };
	struct be_costs c = { 100, 150, 45 };
	double n, refills, dipi;
	const char *why = NULL;

	cr_assert_eq(be_model_ceiling(&c, full, miss, ipi, 3, &n, &refills,
				      &dipi, &why), 0);
	cr_assert_near(refills, 20.0);
	cr_assert_near(dipi, 0.0);
	cr_assert_near(n, (150 + 20 * 45) / 100.0);
}

Test(breakeven, the_model_counts_ipis_a_full_flush_adds)
{
	static const double full[] = { 1.0, 0.0 };
	static const double miss[] = { 10, 0 };
	static const double ipi[] = { 3000, 1000 };	/* 2000 more per full */
	struct be_costs c = { 100, 150, 45 };
	double n, refills, dipi;
	const char *why = NULL;

	cr_assert_eq(be_model_ceiling(&c, full, miss, ipi, 2, &n, &refills,
				      &dipi, &why), 0);
	cr_assert_near(dipi, 2000.0);
	cr_assert_near(n, (150 + 10 * 45 + 2000) / 100.0);
}

Test(breakeven, the_model_refuses_what_it_cannot_divide_by)
{
	static const double same[] = { 0.5, 0.5, 0.5 };
	static const double miss[] = { 20, 20, 20 };
	static const double fewer[] = { 10, 20, 30 };	/* misses rise */
	static const double full[] = { 0.9, 0.5, 0.1 };
	struct be_costs c = { 100, 150, 45 }, free_invlpg = { 0, 150, 45 };
	double n, r, i;
	const char *why = NULL;

	cr_assert_eq(be_model_ceiling(&c, same, miss, miss, 3, &n, &r, &i, &why), -1);
	cr_assert(why && strstr(why, "hardly change"));
	why = NULL;
	cr_assert_eq(be_model_ceiling(&free_invlpg, full, miss, miss, 3, &n, &r,
				      &i, &why), -1);
	cr_assert(why && strstr(why, "cost.invlpg is 0"));
	why = NULL;
	cr_assert_eq(be_model_ceiling(&c, full, fewer, same, 3, &n, &r, &i, &why), -1);
	cr_assert(why && strstr(why, "does not apply"));
}

Test(breakeven, refine_looks_eight_times_finer_between_the_neighbours)
{
	static const double c[] = { 40, 30, 35, 50 };	/* 0..24:8, 8 cheapest */
	struct be_point p[4];
	struct be_verdict v;
	uint64_t out[64];
	int n;

	points(p, 4, 0, 8, c);
	be_analyse(p, 4, &v);
	n = be_refine(p, 4, &v, out, 64);
	cr_assert_eq(n, 14);		/* 1..7 and 9..15: none swept before */
	for (int i = 0; i < 7; i++) {
		cr_assert_eq(out[i], (uint64_t)i + 1);
		cr_assert_eq(out[7 + i], (uint64_t)i + 9);
	}
}

Test(breakeven, refine_goes_past_an_edge_at_the_old_step)
{
	static const double c[] = { 40, 30, 20 };	/* 0..16:8, 16 cheapest */
	struct be_point p[3];
	struct be_verdict v;
	uint64_t out[64];
	int n;

	points(p, 3, 0, 8, c);
	be_analyse(p, 3, &v);
	n = be_refine(p, 3, &v, out, 64);
	/* 9..15 inside; past the edge 17..23, then 24, 32, ... 80. */
	cr_assert_eq(n, 7 + 7 + 8);
	cr_assert_eq(out[0], 9);
	cr_assert_eq(out[6], 15);
	cr_assert_eq(out[7], 17);
	cr_assert_eq(out[13], 23);
	cr_assert_eq(out[14], 24);
	cr_assert_eq(out[21], 80);
}

Test(breakeven, refine_past_a_low_edge_looks_finely_below_it_first)
{
	/* 4..64x2, 4 cheapest: 3, 2, 1, 0 below it, though 4 - 4 = 0 may
	 * be past the knob's bound (the caller drops what it cannot take). */
	static const double c[] = { 5, 6, 7, 8, 9 };
	struct be_point p[5];
	struct be_verdict v;
	uint64_t out[64];
	int n;

	for (int i = 0; i < 5; i++)
		p[i] = (struct be_point){ 4ull << i, c[i], c[i], c[i] };
	be_analyse(p, 5, &v);
	cr_assert(v.at_lo);
	n = be_refine(p, 5, &v, out, 64);
	/* 0..3 below (step 1), 5..7 towards 8. */
	cr_assert_eq(n, 7);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(out[i], (uint64_t)i);
	cr_assert_eq(out[4], 5);
	cr_assert_eq(out[6], 7);
}

Test(breakeven, refine_stops_at_zero_and_at_step_one)
{
	static const double rising[] = { 10, 20, 30 };
	static const double dip[] = { 30, 10, 20 };
	struct be_point p[3];
	struct be_verdict v;
	uint64_t out[64];

	points(p, 3, 0, 1, rising);	/* 0 cheapest: nothing below 0 */
	be_analyse(p, 3, &v);
	cr_assert_eq(be_refine(p, 3, &v, out, 64), 0);
	points(p, 3, 4, 1, dip);	/* 5 cheapest, step 1: nothing finer */
	be_analyse(p, 3, &v);
	cr_assert_eq(be_refine(p, 3, &v, out, 64), 0);
	points(p, 3, 2, 1, rising);	/* 2 cheapest at the edge: 1 and 0 */
	be_analyse(p, 3, &v);
	cr_assert_eq(be_refine(p, 3, &v, out, 64), 2);
	cr_assert_eq(out[0], 0);
	cr_assert_eq(out[1], 1);
	cr_assert_eq(be_refine(p, 1, &v, out, 64), 0);	/* one point */
}
