/* SPDX-License-Identifier: MIT */
/* shootdown sweep: one knob over a range; a plot and the break-even. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <unistd.h>

#include "breakeven.h"
#include "cli.h"
#define SWEEP_MAX_POINTS 1000

/* ":STEP" or "xFACTOR" after HI (SEP points at it): 0, or -1 with ERR. */
static int sweep_step(char *sep, unsigned long long *step, double *factor,
		      char *err, size_t errlen)
{
	char kind = *sep, *end;

	*sep = 0;
	errno = 0;
	if (kind == ':') {
		*step = strtoull(sep + 1, &end, 10);
		if (sep[1] < '0' || sep[1] > '9' || *end || errno || *step == 0) {
			snprintf(err, errlen, "--param: step '%s' is not a "
				 "positive whole number", sep + 1);
			return -1;
		}
		return 0;
	}
	*factor = strtod(sep + 1, &end);
	if (!sep[1] || *end || errno || !(*factor > 1.0 && *factor < 1e6)) {
		snprintf(err, errlen, "--param: factor '%s' is not a number above 1",
			 sep + 1);
		return -1;
	}
	return 0;
}

/* LO, LO+STEP (or LO*FACTOR), ... up to HI into VALS: how many, or -1. */
static int sweep_values(uint64_t lo, uint64_t hi, unsigned long long step,
			double factor, uint64_t *vals, char *err, size_t errlen)
{
	int n = 0;

	for (uint64_t v = lo;;) {
		uint64_t next;

		if (n == SWEEP_MAX_POINTS) {
			snprintf(err, errlen, "--param: more than %d points",
				 SWEEP_MAX_POINTS);
			return -1;
		}
		vals[n++] = v;
		if (factor) {
			double f = (double)v * factor;

			next = v == 0 ? 1 : f >= 18446744073709551615.0 ? UINT64_MAX
					   : (uint64_t)f;
			if (next <= v)
				next = v + 1;	/* small values: at least one */
		} else {
			next = v + step;
		}
		if (next <= v || next > hi)	/* done, or it would wrap */
			break;
		v = next;
	}
	return n;
}

/*
 * NAME=LO..HI[:STEP|xFACTOR] into up to SWEEP_MAX_POINTS values.  Returns
 * the number of points, or -1 with the reason in ERR.
 */
static int sweep_parse(const char *spec, char *name, size_t namelen, uint64_t *vals,
		       unsigned long long *stepp, double *factorp, char *err,
		       size_t errlen)
{
	char buf[128], *eq, *dots, *sep, *end;
	unsigned long long lo, hi, step = 1;
	double factor = 0;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--param: '%.40s...' is too long", spec);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", spec);
	eq = strchr(buf, '=');
	dots = eq ? strstr(eq, "..") : NULL;
	if (!eq || eq == buf || !dots) {
		snprintf(err, errlen, "--param: '%s' is not NAME=LO..HI[:STEP|xFACTOR]",
			 spec);
		return -1;
	}
	*eq = 0;
	*dots = 0;
	if (strlen(buf) >= namelen) {
		snprintf(err, errlen, "--param: the knob's name is too long");
		return -1;
	}
	memcpy(name, buf, strlen(buf) + 1);
	sep = strpbrk(dots + 2, ":x");
	if (sep && sweep_step(sep, &step, &factor, err, errlen))
		return -1;
	errno = 0;
	lo = strtoull(eq + 1, &end, 10);
	if (eq[1] < '0' || eq[1] > '9' || *end || errno) {
		snprintf(err, errlen, "--param: start '%s' is not a whole number", eq + 1);
		return -1;
	}
	hi = strtoull(dots + 2, &end, 10);
	if (dots[2] < '0' || dots[2] > '9' || *end || errno) {
		snprintf(err, errlen, "--param: end '%s' is not a whole number", dots + 2);
		return -1;
	}
	if (lo > hi) {
		snprintf(err, errlen, "--param: start %llu > end %llu", lo, hi);
		return -1;
	}
	*stepp = step;
	*factorp = factor;
	return sweep_values(lo, hi, step, factor, vals, err, errlen);
}

static int sweep_plot_check(const char *file, char *err, size_t errlen)
{
	const char *ext = strrchr(file, '.');
	FILE *f;
	bool existed = access(file, F_OK) == 0;

	if (!ext || (strcmp(ext, ".svg") && strcmp(ext, ".png"))) {
		snprintf(err, errlen, "--plot: '%s' must end in .svg or .png", file);
		return 2;
	}
	/* The name goes into a gnuplot script between single quotes. */
	for (const char *c = file; *c; c++)
		if (*c == '\'' || *c == '\\' || (unsigned char)*c < 0x20) {
			snprintf(err, errlen, "--plot: the file name may not contain "
				 "quotes, backslashes or control characters");
			return 2;
		}
	f = fopen(file, "a");	/* writable?  (before any point runs) */
	if (!f) {
		snprintf(err, errlen, "--plot: cannot write '%s': %s", file,
			 strerror(errno));
		return 2;
	}
	fclose(f);
	if (!existed)
		unlink(file);
	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		snprintf(err, errlen, "--plot needs gnuplot (apt-get install "
			 "gnuplot-nox, or run scripts/setup)");
		return 1;
	}
	return 0;
}

/* ---- the analysis ---- */

/* Points that ran, sorted by value, and what they say (breakeven.c). */
struct sweep_set {
	int n;
	int idx[SWEEP_MAX_POINTS];		/* into sweep.vals and the cells */
	struct be_point pt[SWEEP_MAX_POINTS];
	struct be_verdict v;
};

struct sweep {
	char name[64];			/* the knob swept */
	unsigned long long step;	/* LO..HI:STEP, or */
	double factor;			/* LO..HIxFACTOR */
	uint64_t vals[SWEEP_MAX_POINTS];
	struct wl_opts po[SWEEP_MAX_POINTS];	/* one point's options each */
	/* Modelled cycles per op over the seeds of each point: median, min
	 * and max (sweep_costs()). */
	double med[SWEEP_MAX_POINTS], min[SWEEP_MAX_POINTS], max[SWEEP_MAX_POINTS];
	unsigned seeds;			/* runs behind each point's figures */
	int n;				/* points of the sweep asked for */
	int nref;			/* --refine: points run after them */
	enum out_format fmt;		/* --refine runs quietly, prints at the end */
	/* The points that ran and their verdict: of the sweep asked for, and
	 * of all of them (the same points unless --refine added some). */
	struct sweep_set first, all;
	bool refined;			/* all holds points first does not */
	bool model_ok;
	double model, refills, ipi;
	const char *model_why;
	const char *plot;
	bool refine;			/* --refine */
	char refine_note[200];		/* why it ran nothing, if so */
	struct cells *whole;		/* every cell, both passes */
	const struct wl_opts *base;	/* the options before the knob is set */
	const struct workload *w;
};

static bool sweep_ran(const struct cell *c)
{
	return c->status == CELL_OK || c->status == CELL_VIOLATION;
}

/* Each point's cost over its --repeat seeds, in sw->med/min/max (one
 * seed: the three are its cost). */
static void sweep_costs(const struct cells *cs, struct sweep *sw)
{
	sw->seeds = 1;
	for (unsigned i = 0; i < cs->n; i++) {
		const struct cell *c = &cs->cell[i];
		struct spread sp = cell_spread(c, fig_cycles_per_op, NULL);

		sw->med[i] = sp.med;
		sw->min[i] = sp.lo;
		sw->max[i] = sp.hi;
		if (sweep_ran(c) && sp.n > sw->seeds)
			sw->seeds = sp.n;
	}
}

/* The points among the first N cells that ran, sorted by value, into S
 * and judged.  How many. */
static int sweep_gather(const struct cells *cs, const struct sweep *sw,
			unsigned n, struct sweep_set *s)
{
	int m = 0;

	for (unsigned i = 0; i < n; i++) {
		int j;

		if (!sweep_ran(&cs->cell[i]))
			continue;
		for (j = m; j > 0 && sw->vals[s->idx[j - 1]] > sw->vals[i]; j--) {
			s->idx[j] = s->idx[j - 1];
			s->pt[j] = s->pt[j - 1];
		}
		s->idx[j] = (int)i;
		s->pt[j] = (struct be_point){ sw->vals[i], sw->med[i], sw->min[i],
					      sw->max[i] };
		m++;
	}
	s->n = m;
	if (m)
		be_analyse(s->pt, m, &s->v);
	return m;
}

/* The ceiling's analytic break-even from all points (breakeven.c). */
static void sweep_model(const struct cells *cs, struct sweep *sw)
{
	static double full[SWEEP_MAX_POINTS], miss[SWEEP_MAX_POINTS],
		      ipi[SWEEP_MAX_POINTS];
	const struct sweep_set *s = &sw->all;
	const struct cost_model *cm = &cs->cell[s->idx[0]].o->cost;
	struct be_costs c = { cm->invlpg, cm->full, cm->miss };

	sw->model_ok = false;
	if (strcmp(sw->name, "ceiling")) {
		sw->model_why = NULL;
		return;
	}
	for (int k = 0; k < s->n; k++) {
		const struct wl_result *r = &cs->cell[s->idx[k]].r;
		double ops = r->ops ? (double)r->ops : 1.0;

		full[k] = (r->stats.flushes_full + r->stats.switch_flushes) / ops;
		miss[k] = r->stats.tlb_misses / ops;
		ipi[k] = (cm->ipi_send * (double)r->stats.ipis_sent +
			  cm->ipi_recv * (double)r->stats.ipis_received +
			  (cm->ipi_send + cm->ipi_recv) *
			  (double)r->stats.async_fallback_ipis) / ops;
	}
	sw->model_ok = be_model_ceiling(&c, full, miss, ipi, s->n, &sw->model,
					&sw->refills, &sw->ipi, &sw->model_why) == 0;
}

/* Judge the cells of CS that ran: those of the sweep asked for, and all
 * of them (with the refined points that ran, if any). */
static void sweep_judge(const struct cells *cs, struct sweep *sw)
{
	unsigned n1 = cs->n < (unsigned)sw->n ? cs->n : (unsigned)sw->n;

	sweep_costs(cs, sw);
	sweep_gather(cs, sw, n1, &sw->first);
	sw->refined = sweep_gather(cs, sw, cs->n, &sw->all) > sw->first.n;
	if (sw->all.n)
		sweep_model(cs, sw);
}

/* ---- the plot ---- */

static void sweep_plot_marks(FILE *g, const struct sweep *sw)
{
	const char *name = sw->name;
	const struct sweep_set *s = &sw->all;
	const struct be_verdict *v = &s->v;
	uint64_t best = s->pt[v->best].value;
	uint64_t lo = s->pt[0].value, hi = s->pt[s->n - 1].value;

	fprintf(g, "set arrow from %" PRIu64 ", graph 0 to %" PRIu64 ", graph 1 "
		"nohead dt 2 lw 2 lc rgb '#c03030'\n", best, best);
	fprintf(g, "set label 'break-even: %s = %" PRIu64 " (+-%" PRIu64 ")' at %"
		PRIu64 ", graph 0.5 offset 1,0 tc rgb '#c03030'\n", name, best,
		v->resolution, best);
	/* The flat range: a band (when more than the minimum is in it), named. */
	if (v->flat_lo < v->flat_hi)
		fprintf(g, "set object 1 rect from %" PRIu64 ", graph 0 to %" PRIu64
			", graph 1 fc rgb '#c03030' fs transparent solid 0.12 "
			"noborder behind\n", s->pt[v->flat_lo].value,
			s->pt[v->flat_hi].value);
	fprintf(g, "set label 'flat (within 2%%): %" PRIu64 "..%" PRIu64 "' at "
		"%" PRIu64 ", graph 0.42 offset 1,0 tc rgb '#a04040'\n",
		s->pt[v->flat_lo].value, s->pt[v->flat_hi].value, best);
	if (sw->model_ok && sw->model >= (double)lo && sw->model <= (double)hi)
		fprintf(g, "set arrow from %.2f, graph 0 to %.2f, graph 1 nohead "
			"dt 4 lw 2 lc rgb '#3060c0'\nset label 'model: %.1f' at "
			"%.2f, graph 0.75 offset 1,0 tc rgb '#3060c0'\n", sw->model,
			sw->model, sw->model, sw->model);
	if (!strcmp(name, "ceiling") && lo <= 33 && hi >= 33) {
		/* Linux x86's tlb_single_page_flush_ceiling, for reference. */
		fprintf(g, "set arrow from 33, graph 0 to 33, graph 1 nohead "
			"dt 3 lc rgb '#808080'\n");
		fprintf(g, "set label 'Linux x86: 33' at 33, graph 0.9 offset 1,0 "
			"tc rgb '#606060'\n");
	}
}

/* Draw all points that ran, with their marks, into FILE; 0, or 1 with ERR. */
static int sweep_plot(const char *file, const char *workload,
		      const struct sweep *sw, char *err, size_t errlen)
{
	const struct sweep_set *s = &sw->all;
	const char *ext = strrchr(file, '.');
	const char *term;
	char data[] = "/tmp/shootdown-sweep-XXXXXX";
	FILE *f, *g;
	int fd, rc;

	/* sweep_plot_check() accepted only .svg and .png. */
	term = ext && !strcmp(ext, ".png") ? "pngcairo size 800,500" :
	       "svg size 800,500 dynamic background '#ffffff'";
	fd = mkstemp(data);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "--plot: cannot write a data file: %s",
			 strerror(errno));
		return 1;
	}
	for (int i = 0; i < s->n; i++)
		fprintf(f, "%" PRIu64 " %.3f %.3f %.3f\n", s->pt[i].value,
			s->pt[i].med, s->pt[i].min, s->pt[i].max);
	fclose(f);
	/* gnuplot's own chatter goes to stderr: stdout holds our CSV/JSON. */
	g = popen("gnuplot 1>&2", "w");
	if (!g) {
		unlink(data);
		snprintf(err, errlen, "--plot: cannot run gnuplot (install gnuplot-nox)");
		return 1;
	}
	fprintf(g, "set terminal %s\nset output '%s'\n", term, file);
	fprintf(g, "set title 'shootdown sweep: %s, modelled cost per operation'\n",
		workload);
	/* From zero: a 2% dip must look like 2%, not like a cliff. */
	fprintf(g, "set xlabel '%s%s'\nset ylabel 'modelled cycles per op (axis "
		"from 0)'\nset yrange [0:*]\n", sw->name,
		strcmp(sw->name, "ceiling") ? "" : " (pages)");
	fprintf(g, "set grid\nset key bottom right\n");
	sweep_plot_marks(g, sw);
	if (sw->seeds > 1)
		fprintf(g, "plot '%s' using 1:2:3:4 with yerrorlines lw 2 pt 7 "
			"title 'counters x cost.*: median, min-max over %u seeds'\n",
			data, sw->seeds);
	else
		fprintf(g, "plot '%s' using 1:2 with linespoints lw 2 pt 7 title "
			"'counters x cost.* (one seed)'\n", data);
	rc = pclose(g);
	unlink(data);
	if (rc != 0) {
		snprintf(err, errlen, "--plot: gnuplot failed (%s %d)",
			 WIFEXITED(rc) ? "exit status" : "signal",
			 WIFEXITED(rc) ? WEXITSTATUS(rc) : WTERMSIG(rc));
		return 1;
	}
	return 0;
}

/* ---- the report ---- */

/* The cycles/op column: wider for a median and its range (--repeat). */
static int sweep_cost_width(const struct sweep *sw)
{
	return sw->seeds > 1 ? 26 : 14;
}

/* arm64's TLB engine: TLBIs and DSBs, not IPIs and INVLPGs. */
static bool sweep_arm64(const struct sweep *sw)
{
	return sw->po[0].cfg.arch.tlb == SHD_TLB_ARM64;
}

static void sweep_row(const struct cells *cs, const struct sweep *sw, int i,
		      const char *mark)
{
	const struct cell *c = &cs->cell[i];
	char cost[64];
	double ops = c->r.ops ? (double)c->r.ops : 1.0;
	const struct shd_stats *s = &c->r.stats;

	if (!sweep_ran(c)) {
		printf("  %10" PRIu64 "   (%s)\n", sw->vals[i],
		       c->status == CELL_NOT_RUN ? "not run" : "incomplete");
		return;
	}
	/* --repeat: the cost's median and its range over the seeds. */
	spread_format(cost, sizeof(cost), (struct spread){ sw->med[i], sw->min[i],
		      sw->max[i], sw->seeds }, 1);
	if (sweep_arm64(sw)) {
		printf("  %10" PRIu64 " %10.3f %12.3f %12.3f %12.3f %12.2f %*s "
		       "%10.1f%s\n", sw->vals[i], s->tlbi_ops / ops,
		       s->tlbi_range_ops / ops, s->tlbi_full_ops / ops,
		       s->dsbs / ops, s->tlb_misses / ops,
		       sweep_cost_width(sw), cost, c->r.wall_ns / 1e6, mark);
		return;
	}
	printf("  %10" PRIu64 " %10.3f %12.3f %12.3f %12.2f %12.2f %*s "
	       "%10.1f%s\n", sw->vals[i], s->ipis_sent / ops,
	       (s->flushes_full + s->switch_flushes) / ops,
	       s->flushes_partial / ops, s->pages_invalidated / ops,
	       s->tlb_misses / ops, sweep_cost_width(sw), cost,
	       c->r.wall_ns / 1e6, mark);
}

/* What S's verdict says of its K-th point, for the table's last column. */
static const char *sweep_mark(const struct sweep_set *s, int k, bool noise)
{
	const struct be_verdict *v = &s->v;
	bool flat = k >= v->flat_lo && k <= v->flat_hi;
	bool near = noise && k != v->best &&
		    s->pt[k].min <= s->pt[v->best].max &&
		    s->pt[k].max >= s->pt[v->best].min;

	if (k == v->best)
		return "  <- cheapest";
	if (flat && near)
		return "  within 2%, within noise";
	return flat ? "  within 2%" : near ? "  within noise" : "";
}

static void sweep_table_head(const struct sweep *sw)
{
	if (sweep_arm64(sw)) {
		printf("  %10s %10s %12s %12s %12s %12s %*s %10s\n", sw->name,
		       "tlbi/op", "range/op", "full/op", "dsb/op", "misses/op",
		       sweep_cost_width(sw), "cycles/op", "wall_ms");
		return;
	}
	printf("  %10s %10s %12s %12s %12s %12s %*s %10s\n", sw->name,
	       "ipis/op", "full/op", "partial/op", "invlpg/op", "misses/op",
	       sweep_cost_width(sw), "cycles/op", "wall_ms");
}

/* The sweep asked for: every point in order, run or not. */
static void sweep_table(const struct cells *cs, const struct sweep *sw)
{
	const struct cell *c0 = &cs->cell[0];
	const struct sweep_set *s = &sw->first;
	int k = 0;

	printf("sweep of %s on %s, %u CPUs, %s, %" PRIu64 " ops per point\n",
	       sw->name, cs->w->name, c0->cpus, c0->policy, sw->po[0].ops);
	sweep_table_head(sw);
	for (int i = 0; i < sw->n; i++) {
		bool ran = k < s->n && s->idx[k] == i;

		sweep_row(cs, sw, i, ran ? sweep_mark(s, k, sw->seeds > 1) : "");
		k += ran;
	}
}

/* --refine: every point run, in order, between the refined extremes. */
static void sweep_table_refined(const struct cells *cs, const struct sweep *sw)
{
	const struct sweep_set *s = &sw->all;
	uint64_t lo = UINT64_MAX, hi = 0;

	for (unsigned i = (unsigned)sw->n; i < cs->n; i++) {
		lo = sw->vals[i] < lo ? sw->vals[i] : lo;
		hi = sw->vals[i] > hi ? sw->vals[i] : hi;
	}
	printf("refined around %s = %" PRIu64 ": %d more points, %" PRIu64
	       "..%" PRIu64 "\n", sw->name, sw->first.pt[sw->first.v.best].value,
	       sw->nref, lo, hi);
	sweep_table_head(sw);
	for (int k = 0; k < s->n; k++)
		if (s->pt[k].value >= lo && s->pt[k].value <= hi)
			sweep_row(cs, sw, s->idx[k], sweep_mark(s, k, sw->seeds > 1));
}

/* "±8, the step" or "between 8 and 32, its neighbours"; UNIFORM: the
 * points are LO..HI:STEP's. */
static void sweep_say_resolution(const struct sweep_set *s, bool uniform,
				 char *buf, size_t len)
{
	const struct be_verdict *v = &s->v;
	uint64_t b = s->pt[v->best].value;

	if (s->n < 2)
		snprintf(buf, len, "one point: no resolution");
	else if (uniform || (!v->at_lo && !v->at_hi && b - v->below == v->above - b))
		snprintf(buf, len, "\u00b1%" PRIu64 ", the step", v->resolution);
	else if (v->at_lo || v->at_hi)
		snprintf(buf, len, "\u00b1%" PRIu64 ", the distance to its "
			 "neighbour", v->resolution);
	else
		snprintf(buf, len, "between %" PRIu64 " and %" PRIu64 ", its "
			 "neighbours", v->below, v->above);
}

static void sweep_say_edge(const struct sweep *sw, const struct sweep_set *s)
{
	const struct be_verdict *v = &s->v;
	uint64_t b = s->pt[v->best].value;
	char kv[96];
	bool beyond;

	if (!v->at_lo && !v->at_hi)
		return;
	/* Could the range widen past this edge?  Not past the knob's range. */
	beyond = false;
	if (v->at_lo && b > 0) {
		snprintf(kv, sizeof(kv), "%s=%" PRIu64, sw->name, b - 1);
		beyond |= cli_set_ok(sw->base, sw->w, kv);
	}
	if (v->at_hi && b < UINT64_MAX) {
		snprintf(kv, sizeof(kv), "%s=%" PRIu64, sw->name, b + 1);
		beyond |= cli_set_ok(sw->base, sw->w, kv);
	}
	if (beyond)
		fprintf(stderr, "warning: the minimum is at the edge (%" PRIu64 "): "
			"widen the range%s\n", b, sw->refine ? "" : " (or --refine)");
	else
		fprintf(stderr, "note: the minimum is at the edge (%" PRIu64 "), "
			"where %s can go no further: the bound itself is the "
			"cheapest\n", b, sw->name);
}

/*
 * --repeat: the cheapest point under each seed alone.  Every point runs the
 * same seeds, so a seed that shifts the whole curve shifts the min-max of
 * every point with it; the cheapest point per seed is the paired view.
 */
static void sweep_say_per_seed(const struct cells *cs, const struct sweep *sw,
			       const struct sweep_set *s)
{
	const struct cell *c0 = &cs->cell[s->idx[0]];
	bool same = true;
	uint64_t first = 0;

	for (int k = 0; k < s->n; k++)
		if (cs->cell[s->idx[k]].nrep != sw->seeds || !cs->cell[s->idx[k]].rep)
			return;		/* some point ran fewer seeds */
	fprintf(stderr, "cheapest under each seed (%" PRIu64 "..%" PRIu64 "):",
		c0->seed, c0->seed + sw->seeds - 1);
	for (unsigned r = 0; r < sw->seeds; r++) {
		int best = 0;
		double bc = 0;

		for (int k = 0; k < s->n; k++) {
			const struct cell *c = &cs->cell[s->idx[k]];
			double v = fig_cycles_per_op(c, &c->rep[r], NULL);

			if (k == 0 || v < bc) {
				best = k;
				bc = v;
			}
		}
		fprintf(stderr, " %" PRIu64, s->pt[best].value);
		if (r == 0)
			first = s->pt[best].value;
		same &= s->pt[best].value == first;
	}
	fprintf(stderr, "%s\n", same ? " (the same under every seed)" : "");
}

/* The break-even of S and how far to trust it, on stderr. */
static void sweep_say(const struct cells *cs, const struct sweep *sw,
		      const struct sweep_set *s, const char *what)
{
	const struct be_verdict *v = &s->v;
	const struct be_point *b = &s->pt[v->best];
	bool ceiling = !strcmp(sw->name, "ceiling");
	char res[96], spread[128];

	sweep_say_resolution(s, s == &sw->first && !sw->factor, res, sizeof(res));
	if (sw->seeds > 1)
		snprintf(spread, sizeof(spread), "median over %u seeds, min-max "
			 "%.1f-%.1f", sw->seeds, b->min, b->max);
	else
		snprintf(spread, sizeof(spread), "one seed: no spread");
	if (ceiling)
		fprintf(stderr, "%sbreak-even ceiling: %" PRIu64 " pages (%s); "
			"%.1f modelled cycles/op (%s); Linux x86 uses 33\n", what,
			b->value, res, b->med, spread);
	else
		fprintf(stderr, "%scheapest %s: %" PRIu64 " (%s); %.1f modelled "
			"cycles/op (%s)\n", what, sw->name, b->value, res, b->med,
			spread);
	if (v->flat_lo == v->flat_hi)
		fprintf(stderr, "flat: only %" PRIu64 " is within 2%% of the minimum",
			b->value);
	else
		fprintf(stderr, "flat: %" PRIu64 "..%" PRIu64 " within 2%% of the "
			"minimum", s->pt[v->flat_lo].value, s->pt[v->flat_hi].value);
	if (v->flat_elsewhere)
		fprintf(stderr, "; %d more point(s) elsewhere are within 2%% too",
			v->flat_elsewhere);
	fputc('\n', stderr);
	if (sw->seeds < 2)
		fprintf(stderr, "noise: one seed per point, so no spread to judge "
			"a point within noise of the minimum\n");
	else if (v->noise)
		fprintf(stderr, "within noise of the minimum (min-max meets its): "
			"%d point(s), %" PRIu64 "..%" PRIu64 "\n", v->noise,
			s->pt[v->noise_lo].value, s->pt[v->noise_hi].value);
	else
		fprintf(stderr, "no other point within noise of the minimum (%u "
			"seeds)\n", sw->seeds);
	if (sw->seeds > 1)
		sweep_say_per_seed(cs, sw, s);
	sweep_say_edge(sw, s);
}

/* The cost model's own break-even beside the measured one. */
static void sweep_say_model(const struct sweep *sw)
{
	const struct sweep_set *s = &sw->all;
	const struct cost_model *c = &sw->po[s->idx[0]].cost;
	char ipi[48] = "";

	if (strcmp(sw->name, "ceiling")) {
		fprintf(stderr, "no analytic model for %s\n", sw->name);
		return;
	}
	if (!sw->model_ok) {
		fprintf(stderr, "no analytic prediction for ceiling: %s\n",
			sw->model_why);
		return;
	}
	if (sw->ipi > 0.05 || sw->ipi < -0.05)
		snprintf(ipi, sizeof(ipi), " + %.1f", sw->ipi);
	fprintf(stderr, "model predicts: ceiling \u2248 %.1f (invlpg\u00b7N = full + "
		"refills\u00b7miss%s: %g\u00b7N = %g + %.1f\u00b7%g%s; refills per "
		"full flush measured); measured: %" PRIu64 "\n", sw->model,
		ipi[0] ? " + ipi" : "", c->invlpg, c->full, sw->refills, c->miss,
		ipi, s->pt[s->v.best].value);
}

static void sweep_extra(struct cells *cs, const struct sweep *sw)
{
	const struct sweep_set *s = &sw->first;
	const struct be_verdict *v = &s->v;
	char model[32] = "null", refined[32] = "null";

	if (sw->model_ok)
		snprintf(model, sizeof(model), "%.1f", sw->model);
	if (sw->refined)
		snprintf(refined, sizeof(refined), "%" PRIu64,
			 sw->all.pt[sw->all.v.best].value);
	snprintf(cs->extra, sizeof(cs->extra), ", \"param\": \"%s\", "
		 "\"best\": %" PRIu64 ", \"best_modelled_cycles_per_op\": %.1f, "
		 "\"resolution\": %" PRIu64 ", \"flat_lo\": %" PRIu64 ", "
		 "\"flat_hi\": %" PRIu64 ", \"at_edge\": %s, \"model_best\": %s, "
		 "\"refined\": %s", sw->name, s->pt[v->best].value,
		 s->pt[v->best].med, v->resolution, s->pt[v->flat_lo].value,
		 s->pt[v->flat_hi].value, v->at_lo || v->at_hi ? "true" : "false",
		 model, refined);
}

static void sweep_finish(struct cells *cs, bool complete)
{
	struct sweep *sw = cs->arg;

	(void)complete;
	sweep_judge(cs, sw);
	if (sw->fmt == FMT_TABLE)
		sweep_table(cs, sw);
	if (!sw->first.n)
		return;
	if (sw->fmt == FMT_JSON)
		sweep_extra(cs, sw);
	/* The answer, on stderr so that CSV and JSON stay clean. */
	fflush(stdout);
	if ((unsigned)sw->all.n < cs->n)
		fprintf(stderr, "note: %d of the %u points ran: what follows "
			"covers those only\n", sw->all.n, cs->n);
	sweep_say(cs, sw, &sw->first, "");
	if (sw->refined) {
		if (sw->fmt == FMT_TABLE) {
			sweep_table_refined(cs, sw);
			fflush(stdout);
		}
		sweep_say(cs, sw, &sw->all, "refined: ");
	} else if (sw->refine_note[0]) {
		fprintf(stderr, "%s\n", sw->refine_note);
	}
	sweep_say_model(sw);
}

/* --refine: the whole document (both passes) at the end, or when stopped. */
static void sweep_print(struct sweep *sw)
{
	cells_print(sw->whole);
}

/* --refine's passes print nothing, unless stopped (then all done so far). */
static void sweep_quiet(struct cells *cs, bool complete)
{
	struct sweep *sw = cs->arg;

	if (!complete)
		sweep_print(sw);
}

/* ---- the command ---- */

/* Point I's options: the command's, and the knob at vals[I]. */
static void sweep_point(struct parsed *p, const struct workload *w,
			struct sweep *sw, int i)
{
	struct wl_opts *o = &sw->po[i];
	char kv[128];

	*o = p->o;
	if (o->nsets == WL_MAX_SETS)
		usage_error("--set: at most %d overrides with --param",
			    WL_MAX_SETS - 1);
	snprintf(kv, sizeof(kv), "%s=%" PRIu64, sw->name, sw->vals[i]);
	if (strlen(kv) >= sizeof(o->sets[0]))
		usage_error("--param: '%s' is too long", kv);
	memcpy(o->sets[o->nsets++], kv, strlen(kv) + 1);
	cli_finish(o, w);	/* the knob's own range check */
}

/* Every point's options, each valid before the first one runs. */
/* The default sweep: the range-vs-full threshold of the arch's engine. */
static const char *default_param(const struct parsed *p)
{
	switch (p->o.cfg.arch.tlb) {
	case SHD_TLB_ARM64:
		return "max_dvm_ops=1..1024x2";
	case SHD_TLB_RISCV:
		return "flush_all_threshold=1..1024x2";
	case SHD_TLB_SPARC64:	/* no range-vs-full choice: the batch */
		return "tlb_batch_nr=1..192x2";
	case SHD_TLB_HYPERSPARC:	/* nothing of its own to sweep */
		return NULL;
	default:
		return "ceiling=0..128:8";
	}
}

static const char *const engine_names[] = { "x86", "arm64", "riscv",
					    "sparc64", "hypersparc" };

/* The engines that read built-in knob NAME, a bit each (1 << tlb): the
 * others never do, and a sweep of it there changes nothing. */
static unsigned knob_engines(const char *name)
{
	static const struct { const char *name; unsigned on; } k[] = {
		{ "prune", 1 << SHD_TLB_X86 }, { "lazy", 1 << SHD_TLB_X86 },
		{ "gen", 1 << SHD_TLB_X86 },
		/* kernel/smp.c's doorbell: every engine that sends IPIs */
		{ "coalesce", 1 << SHD_TLB_X86 | 1 << SHD_TLB_RISCV |
			      1 << SHD_TLB_SPARC64 | 1 << SHD_TLB_HYPERSPARC },
		{ "concurrent", 1 << SHD_TLB_X86 },
		{ "ceiling", 1 << SHD_TLB_X86 }, { "async_us", 1 << SHD_TLB_X86 },
		{ "switch", 1 << SHD_TLB_X86 }, { "hz", 1 << SHD_TLB_X86 },
		{ "trim_ms", 1 << SHD_TLB_X86 },
		{ "invlpgb_count_max", 1 << SHD_TLB_X86 },
		{ "asid_space", 1 << SHD_TLB_X86 },
		{ "broadcast_min_cpus", 1 << SHD_TLB_X86 },
		{ "rar_slots", 1 << SHD_TLB_X86 },
		{ "tlbi_range", 1 << SHD_TLB_ARM64 },
		{ "max_dvm_ops", 1 << SHD_TLB_ARM64 },
		{ "rfence", 1 << SHD_TLB_RISCV },
		{ "flush_all_threshold", 1 << SHD_TLB_RISCV },
		{ "sbi_flush_limit", 1 << SHD_TLB_RISCV },
		{ "clear_cpumask", 1 << SHD_TLB_RISCV },
		{ "svinval", 1 << SHD_TLB_RISCV },
		{ "tlb_batch_nr", 1 << SHD_TLB_SPARC64 },
	};

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		if (!strcmp(name, k[i].name))
			return k[i].on;
	return ~0u;	/* batch, a policy in C's own knobs */
}

static void sweep_points(struct parsed *p, const struct workload *w,
			 struct sweep *sw)
{
	struct shd_policy pol;
	unsigned tlb;
	char err[1024];

	if (!p->param[0] && !default_param(p))
		usage_error("--arch %s: its TLB engine has no range-vs-full "
			    "threshold to sweep by default; name a knob with "
			    "--param (e.g. coalesce=0..1)", p->o.cfg.arch.name);
	sw->n = sweep_parse(p->param[0] ? p->param : default_param(p), sw->name,
			    sizeof(sw->name), sw->vals, &sw->step, &sw->factor,
			    err, sizeof(err));
	if (sw->n < 0)
		usage_error("%s", err);
	for (int i = 0; i < sw->n; i++)
		sweep_point(p, w, sw, i);
	tlb = sw->po[0].cfg.arch.tlb;
	if (tlb < 5 && !(knob_engines(sw->name) & 1u << tlb)) {
		unsigned on = knob_engines(sw->name);

		usage_error("--param %s: a knob of %s's TLB engine; %s's "
			    "(--arch %s) never reads it (%s)", sw->name,
			    engine_names[on & 1u << SHD_TLB_X86 ? SHD_TLB_X86 :
					 on & 1u << SHD_TLB_ARM64 ? SHD_TLB_ARM64 :
					 on & 1u << SHD_TLB_RISCV ? SHD_TLB_RISCV :
					 SHD_TLB_SPARC64],
			    engine_names[tlb], sw->po[0].cfg.arch.name,
			    tlb == SHD_TLB_ARM64 ?
			    "its range-vs-full threshold is max_dvm_ops" :
			    tlb == SHD_TLB_RISCV ?
			    "its range-vs-full threshold is flush_all_threshold" :
			    tlb == SHD_TLB_SPARC64 ? "it has no range-vs-full "
			    "threshold; its batch size is tlb_batch_nr" :
			    tlb == SHD_TLB_HYPERSPARC ? "it has no range-vs-full "
			    "threshold" :
			    "its range-vs-full threshold is ceiling");
	}
	if (!strcmp(sw->name, "max_dvm_ops") &&
	    wl_policy(&sw->po[0], p->o.policy, &pol) == 0 && pol.tlbi_range)
		usage_error("--param max_dvm_ops: with range TLBIs "
			    "(tlbi_range=on) a range is one flush of the ASID "
			    "only past 8 GiB, whatever max_dvm_ops says; add "
			    "--set tlbi_range=off (an Armv8.2 core)");
}

/* --emit-jobs: one self-contained `run` per point. */
static int sweep_emit_jobs(struct parsed *p, const struct sweep *sw, int argc,
			   char **argv)
{
	bool seeded = false;

	if (p->plot[0] || p->jobs || p->o.format != FMT_TABLE)
		usage_error("--emit-jobs only prints the commands: drop "
			    "--plot, --jobs and --format");
	for (int a = 0; a < argc; a++)
		seeded |= !strncmp(argv[a], "--seed", 6);
	for (int i = 0; i < sw->n; i++) {
		cli_print_word(stdout, cli_self);
		printf(" run");
		for (int a = 0; a < argc; a++) {
			const char *s = argv[a];

			if (!strncmp(s, "--param", 7) || !strncmp(s, "--plot", 6) ||
			    !strncmp(s, "--jobs", 6) || !strncmp(s, "--format", 8)) {
				if (!strchr(s, '='))
					a++;	/* and its value */
				continue;
			}
			if (!strcmp(s, "--emit-jobs"))
				continue;
			putchar(' ');
			cli_print_word(stdout, s);
		}
		if (!seeded)
			printf(" --seed %" PRIu64, p->o.seed);
		printf(" --set %s=%" PRIu64 " --format csv\n", sw->name, sw->vals[i]);
	}
	return EXIT_CLEAN;
}

/* Write LEN bytes of BUF to FD whole; false if it could not. */
static bool write_all(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t k = write(fd, (const char *)buf + off, len - off);

		if (k <= 0)
			return false;
		off += (size_t)k;
	}
	return true;
}

static bool read_all(int fd, void *buf, size_t len)
{
	size_t off = 0;
	ssize_t k;

	while (off < len && (k = read(fd, (char *)buf + off, len - off)) > 0)
		off += (size_t)k;
	return off == len;
}

/* Run one sweep point (its --repeat runs) in a child; the cell, then each
 * run's result, come back through FD. */
static void sweep_child(struct cells *cs, struct cell *c, int fd)
{
	int rc = cells_execute(cs, c);

	if (rc == WL_BAD_INPUT)
		c->status = CELL_NOT_RUN;
	if (write_all(fd, c, sizeof(*c)) && c->nrep > 1)
		write_all(fd, c->rep, c->nrep * sizeof(*c->rep));
	_exit(rc == WL_BAD_INPUT ? EXIT_USAGE : 0);
}

/* Read point I's cell back from its child; false if the child died. */
static bool sweep_collect(struct cell *c, int fd, pid_t pid)
{
	struct cell in;
	bool ok = read_all(fd, &in, sizeof(in));
	struct wl_result *rep = NULL;
	int st = 0;

	if (ok && in.nrep > 1) {
		rep = calloc(in.nrep, sizeof(*rep));
		ok = rep && in.nrep <= WL_MAX_REPEAT &&
		     read_all(fd, rep, in.nrep * sizeof(*rep));
	}
	close(fd);
	waitpid(pid, &st, 0);
	if (!ok) {
		free(rep);
		return false;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_USAGE)
		usage_error("%s", in.err);
	c->status = in.status;
	c->r = in.r;
	c->seed = in.seed;
	c->nrep = in.nrep;
	c->rep = rep;
	memcpy(c->err, in.err, sizeof(c->err));
	return true;
}

/* --jobs N: N points at once in separate processes; printed by the caller. */
static int sweep_run_jobs(struct cells *cs, unsigned jobs)
{
	static int fds[SWEEP_MAX_POINTS];
	static pid_t pids[SWEEP_MAX_POINTS];
	unsigned next = 0, done = 0, running = 0;

	while (done < cs->n) {
		while (running < jobs && next < cs->n) {
			int pipefd[2];

			if (pipe(pipefd))
				usage_error("--jobs: %s", strerror(errno));
			fflush(NULL);
			pids[next] = fork();
			if (pids[next] == 0) {
				close(pipefd[0]);
				sweep_child(cs, &cs->cell[next], pipefd[1]);
			}
			close(pipefd[1]);
			fds[next++] = pipefd[0];
			running++;
		}
		if (!sweep_collect(&cs->cell[done], fds[done], pids[done])) {
			fprintf(stderr, "%s: sweep point %s=%" PRIu64 " died\n",
				cli_prog, cs->cell[done].param, cs->cell[done].value);
			cs->cell[done].status = CELL_INCOMPLETE;
		}
		cells_report(&cs->cell[done]);
		if (cs->cell[done].status == CELL_INCOMPLETE) {
			for (unsigned q = done + 1; q < next; q++) {
				kill(pids[q], SIGKILL);
				waitpid(pids[q], NULL, 0);
				close(fds[q]);
			}
			break;
		}
		done++;
		running--;
		if (isatty(2))
			fprintf(stderr, "\rsweep: %u/%u points", done, cs->n);
	}
	if (isatty(2))
		fprintf(stderr, "\r\033[K");
	return cells_exit_status(cs);
}

static int sweep_plot_now(const struct cells *cs, const struct sweep *sw)
{
	char err[1024];

	if (!sw->plot[0] || !sw->all.n)
		return EXIT_CLEAN;
	if (sweep_plot(sw->plot, cs->w->name, sw, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", cli_prog, err);
		return EXIT_INCOMPLETE;
	}
	fprintf(stderr, "plot: %s\n", sw->plot);
	return EXIT_CLEAN;
}

/* One pass over CS's cells, quietly (--refine prints at the end). */
static int sweep_pass(struct cells *cs, unsigned jobs)
{
	struct sweep *sw = cs->arg;
	int rc;

	if (jobs <= 1)
		return cells_run(cs);	/* stopped: sweep_quiet() printed */
	rc = sweep_run_jobs(cs, jobs);
	if (rc == EXIT_INCOMPLETE)
		sweep_print(sw);
	return rc;
}

/*
 * The refined points after the first pass (cells 0..n-1 of WHOLE, judged):
 * be_refine()'s values that the knob takes, as cells n.. of WHOLE.  How
 * many; none with the reason in refine_note.
 */
static int sweep_refine_points(struct parsed *p, const struct workload *w,
			       struct sweep *sw, struct cells *whole)
{
	static uint64_t v[64];
	const struct sweep_set *s = &sw->first;
	int room = SWEEP_MAX_POINTS - sw->n, k, m = 0;
	uint64_t best;

	if (!s->n)
		return 0;
	best = s->pt[s->v.best].value;
	k = be_refine(s->pt, s->n, &s->v, v, room < 64 ? room : 64);
	for (int i = 0; i < k; i++) {
		char kv[96];

		snprintf(kv, sizeof(kv), "%s=%" PRIu64, sw->name, v[i]);
		if (!cli_set_ok(&p->o, w, kv))
			continue;	/* past the knob's range */
		sw->vals[sw->n + m] = v[i];
		sweep_point(p, w, sw, sw->n + m);
		whole->cell[sw->n + m] = (struct cell){
			.policy = whole->cell[0].policy, .cpus = whole->cell[0].cpus,
			.param = sw->name, .value = v[i], .o = &sw->po[sw->n + m] };
		m++;
	}
	if (!m)
		snprintf(sw->refine_note, sizeof(sw->refine_note), "refine: nothing "
			 "finer to sweep around %s = %" PRIu64 " (the step there is "
			 "1%s)", sw->name, best, s->v.at_lo || s->v.at_hi ?
			 " and the knob goes no further past the edge" : "");
	return m;
}

/* --refine: the sweep, then again around its minimum; one document. */
static int sweep_refined(struct parsed *p, const struct workload *w,
			 struct sweep *sw, struct cells *whole)
{
	struct cells pass = *whole;
	int rc, rc2;

	sw->whole = whole;
	pass.fmt = FMT_TABLE;		/* prints nothing per cell */
	pass.finish = sweep_quiet;
	rc = sweep_pass(&pass, p->jobs);
	if (rc == EXIT_INCOMPLETE)
		return rc;
	sweep_judge(whole, sw);
	sw->nref = sweep_refine_points(p, w, sw, whole);
	if (sw->nref) {
		whole->n += (unsigned)sw->nref;
		pass.cell = whole->cell + sw->n;
		pass.n = (unsigned)sw->nref;
		pass.fmt = FMT_TABLE;
		rc2 = sweep_pass(&pass, p->jobs);
		if (rc2 == EXIT_INCOMPLETE)
			return rc2;
		rc = rc2 > rc ? rc2 : rc;
	}
	sweep_print(sw);
	return rc;
}

int cmd_sweep(int argc, char **argv)
{
	static struct sweep sw;
	struct parsed p;
	const struct workload *w;
	struct cells cs = { .command = "sweep", .finish = sweep_finish, .arg = &sw };
	char err[1024];
	int rc;

	if (cli_start(&p, CMD_SWEEP, argc, argv,
		      "sweep --workload NAME [--param NAME=LO..HI[:STEP|xFACTOR]] "
		      "[options]",
		      "Runs the workload once per value of one knob (a policy knob, "
		      "a cost.* key\nor a workload knob), prints a row per point with "
		      "the modelled cost, and\nnames the cheapest point (for the "
		      "default, the break-even\ntlb_single_page_flush_ceiling) with "
		      "its resolution, the flat range within 2%\nof the minimum, a "
		      "warning when it sits at the edge of the range, and for\nthe "
		      "ceiling the break-even the cost model predicts.\n"))
		return 0;
	w = cli_workload(p.o.workload);
	sweep_points(&p, w, &sw);
	if (p.refine && p.emit_jobs)
		usage_error("--refine needs the first sweep's costs, which "
			    "--emit-jobs does not run: drop one of them");
	if (p.refine && sw.n < 2)
		usage_error("--refine needs at least two points to refine "
			    "between (--param %s)", p.param[0] ? p.param :
			    default_param(&p));
	if (p.emit_jobs)
		return sweep_emit_jobs(&p, &sw, argc, argv);
	if (p.plot[0] && (rc = sweep_plot_check(p.plot, err, sizeof(err)))) {
		if (rc == 2)
			usage_error("%s", err);
		fprintf(stderr, "%s: %s\n", cli_prog, err);
		return EXIT_INCOMPLETE;
	}
	sw.plot = p.plot;
	sw.refine = p.refine;
	sw.fmt = p.o.format;
	sw.base = &p.o;
	sw.w = w;
	cs.w = w;
	cs.fmt = p.o.format;
	cs.n = (unsigned)sw.n;
	/* Room for --refine's points after the sweep's own. */
	cs.cell = calloc(SWEEP_MAX_POINTS, sizeof(*cs.cell));
	if (!cs.cell)
		usage_error("out of memory");
	for (int i = 0; i < sw.n; i++)
		cs.cell[i] = (struct cell){ .policy = p.o.policy, .cpus = p.o.ncpus,
					    .param = sw.name, .value = sw.vals[i],
					    .o = &sw.po[i] };
	if (p.refine) {
		rc = sweep_refined(&p, w, &sw, &cs);
	} else if (p.jobs > 1) {
		rc = sweep_run_jobs(&cs, p.jobs);
		cells_print(&cs);
	} else {
		rc = cells_run(&cs);
	}
	if (rc == EXIT_CLEAN || rc == EXIT_VIOLATION) {
		int prc = sweep_plot_now(&cs, &sw);

		rc = prc ? prc : rc;
	}
	cells_release(&cs);
	free(cs.cell);
	return rc;
}
