/* SPDX-License-Identifier: MIT */
/* A sweep's break-even and how far to trust it: resolution, flat range,
 * edges, noise, the cost model's own prediction, and where to refine. */

/*
 * The cheapest point of a sweep is a sample, not an answer.  It is known
 * only to within the distance to its neighbours (the resolution); a curve
 * that is flat near its minimum makes every point of the flat run as good
 * (the flat range: medians within BE_FLAT of the minimum's); a minimum on
 * the first or last point says the range was too narrow, not where the
 * minimum is (at_lo/at_hi); and a point whose min..max over the seeds
 * meets the minimum's cannot be told from it (noise).
 *
 * The analytic break-even of the range-vs-full ceiling.  A range of N pages
 * flushed page by page costs every CPU that flushes it
 *
 *	invlpg * N
 *
 * and flushed whole costs it
 *
 *	full + refills * miss + ipi
 *
 * where refills is the TLB entries the full flush threw away that are read
 * again (about the entries the mm held outside the range), and ipi the IPI
 * cycles the full flush adds (0 when the ceiling does not change who is
 * interrupted, as on x86).  The two cost the same at
 *
 *	N* = (full + refills * miss + ipi) / invlpg
 *
 * so the ceiling should be about N*.  refills and ipi are not guessed: raising
 * the ceiling turns full flushes into partial ones, so between the point with
 * the most full flushes per op and the one with the fewest,
 *
 *	refills = d(misses/op) / d(full/op),  ipi = d(ipi cycles/op) / d(full/op)
 *
 * (an average over the ranges the sweep converted; the marginal range at
 * the ceiling may hold fewer of a reader's pages than the average, which is
 * why the model is "about").  The measured break-even should land near N*;
 * when it does not, the workload does something the model leaves out.
 */
#include <stdlib.h>
#include <string.h>

#include "breakeven.h"

static bool be_meets(const struct be_point *a, const struct be_point *b)
{
	return a->min <= b->max && a->max >= b->min;
}

/* The run of points around BEST whose medians are within BE_FLAT of it. */
static void be_flat(const struct be_point *p, int n, struct be_verdict *v)
{
	double lim = p[v->best].med + BE_FLAT * (p[v->best].med < 0 ?
			-p[v->best].med : p[v->best].med);

	v->flat_lo = v->flat_hi = v->best;
	while (v->flat_lo > 0 && p[v->flat_lo - 1].med <= lim)
		v->flat_lo--;
	while (v->flat_hi < n - 1 && p[v->flat_hi + 1].med <= lim)
		v->flat_hi++;
	v->flat_elsewhere = 0;
	for (int i = 0; i < n; i++)
		if ((i < v->flat_lo || i > v->flat_hi) && p[i].med <= lim)
			v->flat_elsewhere++;
}

void be_analyse(const struct be_point *p, int n, struct be_verdict *v)
{
	int b = 0;

	memset(v, 0, sizeof(*v));
	for (int i = 1; i < n; i++)
		if (p[i].med < p[b].med)
			b = i;
	v->best = b;
	v->at_lo = b == 0;
	v->at_hi = b == n - 1;
	v->below = v->at_lo ? p[b].value : p[b - 1].value;
	v->above = v->at_hi ? p[b].value : p[b + 1].value;
	v->resolution = p[b].value - v->below > v->above - p[b].value ?
			p[b].value - v->below : v->above - p[b].value;
	be_flat(p, n, v);
	v->noise_lo = v->noise_hi = b;
	for (int i = 0; i < n; i++) {
		if (i == b || !be_meets(&p[i], &p[b]))
			continue;
		v->noise++;
		if (i < v->noise_lo)
			v->noise_lo = i;
		if (i > v->noise_hi)
			v->noise_hi = i;
	}
}

int be_model_ceiling(const struct be_costs *c, const double *full,
		     const double *misses, const double *ipicyc, int n,
		     double *ceiling, double *refills, double *ipi,
		     const char **why)
{
	int hi = 0, lo = 0;
	double dfull;

	for (int i = 1; i < n; i++) {
		if (full[i] > full[hi])
			hi = i;
		if (full[i] < full[lo])
			lo = i;
	}
	dfull = full[hi] - full[lo];
	/* Under a thousandth of a full flush per op: nothing to divide by. */
	if (dfull < 1e-3) {
		*why = "the full flushes per op hardly change over the sweep "
		       "(sweep across the ranges the workload flushes)";
		return -1;
	}
	if (!(c->invlpg > 0)) {
		*why = "cost.invlpg is 0: page-by-page flushing is free, so "
		       "no ceiling is too high";
		return -1;
	}
	*refills = (misses[hi] - misses[lo]) / dfull;
	*ipi = (ipicyc[hi] - ipicyc[lo]) / dfull;
	*ceiling = (c->full + *refills * c->miss + *ipi) / c->invlpg;
	if (*ceiling < 0) {
		*why = "a full flush costs less than nothing here (fewer misses "
		       "with more full flushes): the model does not apply";
		return -1;
	}
	return 0;
}

static int be_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static bool be_swept(const struct be_point *p, int n, uint64_t v)
{
	for (int i = 0; i < n; i++)
		if (p[i].value == v)
			return true;
	return false;
}

/* Values from BASE by STEP, COUNT of them or until GAP, downwards if DOWN. */
static int be_walk(uint64_t base, uint64_t step, uint64_t gap, int count,
		   bool down, uint64_t *out, int k, int max)
{
	for (int i = 1; i <= count && k < max; i++) {
		uint64_t d = step * (uint64_t)i;

		if (d / (uint64_t)i != step || (gap && d >= gap))
			break;
		if (down ? d > base : d > UINT64_MAX - base)
			break;			/* past 0 or the top */
		out[k++] = down ? base - d : base + d;
	}
	return k;
}

int be_refine(const struct be_point *p, int n, const struct be_verdict *v,
	      uint64_t *out, int max)
{
	uint64_t best = p[v->best].value;
	uint64_t glo = best - v->below, ghi = v->above - best;
	int k = 0, m = 0;

	if (n < 2)
		return 0;	/* no neighbour: no step to refine */
	/* Inside: towards each neighbour, a step BE_REFINE times finer. */
	if (glo > 1)
		k = be_walk(best, glo / BE_REFINE ? glo / BE_REFINE : 1, glo,
			    BE_REFINE * 2, true, out, k, max);
	if (ghi > 1)
		k = be_walk(best, ghi / BE_REFINE ? ghi / BE_REFINE : 1, ghi,
			    BE_REFINE * 2, false, out, k, max);
	/* Past an edge the minimum may lie beyond it: as finely as inside
	 * over the first old step (its start may be past the knob's bound
	 * when the rest is not), then BE_REFINE more points at the old step. */
	if (v->at_lo) {
		k = be_walk(best, ghi / BE_REFINE ? ghi / BE_REFINE : 1, ghi,
			    BE_REFINE * 2, true, out, k, max);
		k = be_walk(best, ghi, 0, BE_REFINE, true, out, k, max);
	}
	if (v->at_hi) {
		k = be_walk(best, glo / BE_REFINE ? glo / BE_REFINE : 1, glo,
			    BE_REFINE * 2, false, out, k, max);
		k = be_walk(best, glo, 0, BE_REFINE, false, out, k, max);
	}
	qsort(out, (size_t)k, sizeof(*out), be_cmp);
	for (int i = 0; i < k; i++)
		if (!be_swept(p, n, out[i]) && (m == 0 || out[m - 1] != out[i]))
			out[m++] = out[i];
	return m;
}
