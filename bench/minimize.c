/* SPDX-License-Identifier: MIT */
/* Shrinking a failing scenario: delta debugging over its CPUs and ops,
 * then its CPU numbers, names and knobs, keeping only what still fails. */

/*
 * Theory of operation.
 *
 * A candidate is the scenario with some ops left out; it "fails" when it
 * passes scenario_validate() (a candidate that lost the switch_mm its
 * accesses need, or the fork that makes the mm it uses, is not a program)
 * and a violation of the same kind shows up (minimize_fails()):
 *
 *  - while it is large and its ops carry the order they ran in (a
 *    recorded run's): in one run, the ops started one at a time in that
 *    order.  Most violations survive it, whatever was removed, and one
 *    run is cheap, so a log of thousands of ops shrinks quickly.  When
 *    the whole recording does not fail that way (its violation needs two
 *    ops to overlap: a flush in flight), under the recorded run's own
 *    scheduler instead: the whole recording is that run again (the same
 *    calls on each CPU, the same choices), a candidate a run much like
 *    it.  One test or the other, never either: a predicate that changes
 *    its mind leads ddmin where neither holds;
 *  - else (small: MZ_SEARCH_OPS) in the search check --scenario makes,
 *    in the same order but on a smaller budget: bounds 0, 1, .. then PCT
 *    samples.  So the scenario written is one that check --scenario
 *    fails: its search repeats this one and goes on.
 *
 * Removal is ddmin (Zeller and Hildebrandt, "Simplifying and Isolating
 * Failure-Inducing Input", TSE 2002), complements only: the ops in their
 * order, cut in N chunks, each chunk left out in turn; a candidate that
 * fails becomes the input and the scan goes on from the same place; when
 * no chunk can go, N doubles, up to one op a chunk, which leaves the
 * result 1-minimal: no single op can go.  Whole CPUs go first (cheap, and
 * often most of the log), the CPUs left are renumbered from 0, and names
 * and knobs nothing needs are dropped last, each kept only if the smaller
 * scenario still fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "explore.h"
#include "minimize.h"

#define MZ_SEARCH_OPS 40	/* search candidates this small */

/* How a candidate is judged (see above). */
enum mz_try { MZ_ORDERED, MZ_ORIGINAL, MZ_SEARCH };

struct item {
	uint16_t b;		/* its block */
	uint32_t i;		/* its index in the base scenario's block */
	uint64_t key;		/* the order it ran in */
};

struct mz {
	const struct scenario *base;
	const struct mz_opts *o;
	struct mz_stats *st;
	enum mz_try large;	/* how a large candidate is judged */
	struct scenario cand;	/* scratch: the base's header, some ops */
	double t0, last_note;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool try_fails(const struct scenario *c, const struct mz_opts *o,
		      enum mz_try how, struct mz_stats *st)
{
	struct explore_opts eo = { .want = o->kind, .depth = 3, .seed = 1 };
	struct explore_result r;
	char err[1024];

	if (how == MZ_ORDERED) {
		eo.mode = EXPLORE_CHOICES;
		eo.choices = "none";
		eo.ordered = true;
	} else if (how == MZ_ORIGINAL) {
		eo.mode = EXPLORE_ONE;
		eo.sched = o->orig;
	} else {
		eo.mode = EXPLORE_SYSTEMATIC;
		eo.iterate = true;
		eo.preemptions = o->preemptions;
		eo.budget = o->budget;
	}
	if (explore(c, &eo, &r, err, sizeof(err)))
		return false;
	st->runs += r.runs;
	free(r.res.log);
	return r.found;
}

/* Whether C (valid) shows a violation of Z's kind: by Z's test while it
 * is large, else in a search of its schedules. */
static bool fails(struct mz *z, const struct scenario *c)
{
	char err[1024];

	if (scenario_validate(c, err, sizeof(err)))
		return false;
	z->st->tests++;
	if (scenario_ops(c) > MZ_SEARCH_OPS)
		return try_fails(c, z->o, z->large, z->st);
	return try_fails(c, z->o, MZ_SEARCH, z->st);
}

/* The candidate of the N items IT (in order), in z->cand. */
static void cand_build(struct mz *z, const struct item *it, size_t n)
{
	for (unsigned b = 0; b <= SCN_SETUP; b++)
		z->cand.blocks[b].n = 0;
	for (size_t k = 0; k < n; k++) {
		struct scn_block *d = &z->cand.blocks[it[k].b];

		/* The scratch copy holds every op of the base: room enough. */
		d->op[d->n++] = z->base->blocks[it[k].b].op[it[k].i];
	}
}

static void note(struct mz *z, size_t n, bool force)
{
	double t = now_s();

	if (!z->o->progress || (!force && t - z->last_note < 2.0))
		return;
	z->last_note = t;
	fprintf(stderr, "minimize: %zu ops left of %u (%u candidates, %.1f s)\n",
		n, z->st->from_ops, z->st->tests, t - z->t0);
}

static bool items_fail(struct mz *z, const struct item *it, size_t n)
{
	cand_build(z, it, n);
	note(z, n, false);
	return fails(z, &z->cand);
}

/* Leave out every op of block B; true if that still fails. */
static bool drop_block(struct mz *z, struct item *it, size_t *n, unsigned b,
		       struct item *tmp)
{
	size_t m = 0;

	for (size_t k = 0; k < *n; k++)
		if (it[k].b != b)
			tmp[m++] = it[k];
	if (m == *n || !items_fail(z, tmp, m))
		return false;
	memcpy(it, tmp, m * sizeof(*it));
	*n = m;
	return true;
}

/* ddmin, complements only (see the top of the file). */
static void ddmin(struct mz *z, struct item *it, size_t *n, struct item *tmp)
{
	size_t gran = 2;

	while (*n >= 2) {
		size_t chunk = (*n + gran - 1) / gran, start = 0;
		bool reduced = false;

		while (start < *n) {
			size_t end = start + chunk < *n ? start + chunk : *n;
			size_t m = start;

			memcpy(tmp, it, start * sizeof(*it));
			memcpy(tmp + m, it + end, (*n - end) * sizeof(*it));
			m += *n - end;
			if (m && items_fail(z, tmp, m)) {
				memcpy(it, tmp, m * sizeof(*it));
				*n = m;
				reduced = true;
			} else {
				start = end;
			}
		}
		if (!reduced) {
			if (chunk == 1)
				break;
			gran = gran * 2 < *n ? gran * 2 : *n;
		}
	}
}

static int key_cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;

	return x->key < y->key ? -1 : x->key > y->key;
}

/* Every op of S as an item, in the order they ran (or block by block). */
static struct item *items_of(const struct scenario *s, bool ordered, size_t *n)
{
	struct item *it = calloc(scenario_ops(s) + 1, sizeof(*it));

	*n = 0;
	if (!it)
		return NULL;
	for (unsigned b = 0; b <= SCN_SETUP; b++)
		for (unsigned i = 0; i < s->blocks[b].n; i++)
			it[(*n)++] = (struct item){ (uint16_t)b, i, ordered ?
				s->blocks[b].op[i].seq :
				(uint64_t)(b == SCN_SETUP ? 0 : b + 1) << 32 | i };
	qsort(it, *n, sizeof(*it), key_cmp);
	return it;
}

/* The CPUs with ops, renumbered from 0 (the setup stays on cpu 0). */
static void cpus_compact(struct scenario *s)
{
	unsigned k = 0;

	for (unsigned b = 0; b < s->ncpus; b++) {
		if (!s->blocks[b].n) {
			free(s->blocks[b].op);
			s->blocks[b] = (struct scn_block){ 0 };
			continue;
		}
		if (b != k) {
			s->blocks[k] = s->blocks[b];
			s->blocks[b] = (struct scn_block){ 0 };
		}
		k++;
	}
	s->ncpus = k ? k : 1;
}

/* Drop names no op uses; the ops' indices follow. */
static void names_compact(struct scenario *s)
{
	unsigned map[SCN_MAX_NAMES], k = 0;

	for (unsigned n = 0; n < s->nnames; n++) {
		bool used = false;

		for (unsigned b = 0; !used && b <= SCN_SETUP; b++)
			for (unsigned i = 0; !used && i < s->blocks[b].n; i++)
				used = scenario_op_uses(&s->blocks[b].op[i], n);
		map[n] = k;
		if (used)
			s->names[k++] = s->names[n];
	}
	for (unsigned b = 0; b <= SCN_SETUP; b++) {
		for (unsigned i = 0; i < s->blocks[b].n; i++) {
			struct scn_op *o = &s->blocks[b].op[i];
			const char *a = scenario_kind_args(o->kind);

			if (strchr(a, 'M'))
				o->mm = (uint16_t)map[o->mm];
			if (strchr(a, 'C') || strchr(a, 'F'))
				o->other = (uint16_t)map[o->other];
		}
	}
	s->nnames = k;
}

/* Try EDIT on a copy of *S; keep the copy if it still fails. */
static void try_edit(struct mz *z, struct scenario *s,
		     void (*edit)(struct scenario *s, unsigned arg), unsigned arg)
{
	struct scenario c;

	if (scenario_copy(&c, s))
		return;
	edit(&c, arg);
	if (fails(z, &c)) {
		scenario_free(s);
		*s = c;
	} else {
		scenario_free(&c);
	}
}

static void edit_cpus(struct scenario *s, unsigned arg)
{
	(void)arg;
	cpus_compact(s);
}

static void edit_names(struct scenario *s, unsigned arg)
{
	(void)arg;
	names_compact(s);
}

static void edit_drop_set(struct scenario *s, unsigned i)
{
	memmove(&s->sets[i], &s->sets[i + 1], (s->nsets - i - 1) * sizeof(s->sets[0]));
	memmove(&s->line_set[i], &s->line_set[i + 1],
		(s->nsets - i - 1) * sizeof(s->line_set[0]));
	s->nsets--;
}

/* Blocks, then ops one by one (ddmin); into OUT. */
static int shrink_ops(struct mz *z, struct scenario *out)
{
	size_t n;
	struct item *it = items_of(z->base, z->o->ordered, &n);
	struct item *tmp = calloc(n + 1, sizeof(*tmp));
	int rc = -1;

	if (!it || !tmp)
		goto out;
	for (unsigned b = SCN_SETUP + 1; b-- > 0;)
		if (b == SCN_SETUP || b < z->base->ncpus)
			drop_block(z, it, &n, b, tmp);
	ddmin(z, it, &n, tmp);
	cand_build(z, it, n);
	rc = scenario_copy(out, &z->cand);
out:
	free(it);
	free(tmp);
	return rc;
}

int minimize_scenario(const struct scenario *s, const struct mz_opts *o,
		      struct scenario *out, struct mz_stats *st, char *err,
		      size_t errlen)
{
	struct mz z = { .base = s, .o = o, .st = st, .t0 = now_s() };

	memset(out, 0, sizeof(*out));
	st->from_ops = scenario_ops(s);
	/* One test for every large candidate: a predicate that changes its
	 * mind leads ddmin where neither holds. */
	z.large = MZ_SEARCH;
	if (o->ordered && st->from_ops > MZ_SEARCH_OPS)
		z.large = try_fails(s, o, MZ_ORDERED, st) ? MZ_ORDERED :
			  o->orig ? MZ_ORIGINAL : MZ_ORDERED;
	if (!fails(&z, s)) {
		snprintf(err, errlen, "%s: shows no %s violation to keep (in its "
			 "recorded order, or in %u schedules)", s->file,
			 shd_violation_kind_name((enum shd_violation_kind)o->kind),
			 o->budget);
		return -1;
	}
	if (scenario_copy(&z.cand, s) || shrink_ops(&z, out)) {
		scenario_free(&z.cand);
		snprintf(err, errlen, "%s: out of memory", s->file);
		return -1;
	}
	scenario_free(&z.cand);
	for (unsigned b = 0; b <= SCN_SETUP; b++)	/* no empty blocks */
		if (!out->blocks[b].n)
			out->blocks[b].line = 0;
	try_edit(&z, out, edit_cpus, 0);
	try_edit(&z, out, edit_names, 0);
	for (unsigned i = out->nsets; i-- > 0;)
		try_edit(&z, out, edit_drop_set, i);
	st->to_ops = scenario_ops(out);
	st->seconds = now_s() - z.t0;
	note(&z, st->to_ops, true);
	return 0;
}
