/* SPDX-License-Identifier: MIT */
/* shootdown compare, and the default (no command): counters side by side. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAX_POLICIES 8
#define MAX_CPUS 16

/* What the table needs beyond the cells. */
struct compare {
	unsigned npol, ncp;
	bool defaults;
};

static void derived_row(const char *name, const struct cell *const *c,
			unsigned n, cell_figure fig, int dec, bool ratios)
{
	int w = out_column_width(c, n);
	int nw = out_name_width(c, n, c[0]->o->all_rows, 22);
	bool rep = cells_repeated(c, n);
	char buf[96];

	printf("  %-*s", nw, name);
	for (unsigned i = 0; i < n; i++) {
		if (c[i]->status == CELL_NOT_RUN)
			snprintf(buf, sizeof(buf), "-");
		else
			spread_format(buf, sizeof(buf), cell_spread(c[i], fig, NULL),
				      dec);
		printf(" %*s", w, buf);
	}
	for (unsigned i = 1; ratios && i < n; i++) {
		if (c[0]->status == CELL_NOT_RUN || c[i]->status == CELL_NOT_RUN)
			printf("  %14s", "-");
		else
			out_ratio(stdout, cell_spread(c[0], fig, NULL),
				  cell_spread(c[i], fig, NULL), rep);
	}
	printf("\n");
}

static double fig_op_p50(const struct cell *c, const struct wl_result *r,
			 const void *arg)
{
	(void)c, (void)arg;
	return (double)r->op_p50_ns;
}

static void compare_header(const struct cells *cs, const struct compare *cmp,
			   const struct cell *const *row)
{
	const struct wl_opts *o = row[0]->o;
	uint64_t ops = row[0]->status != CELL_NOT_RUN ? row[0]->r.ops : o->ops;
	int w = out_column_width(row, cmp->npol);
	char seeds[64];

	if (o->repeat > 1)
		snprintf(seeds, sizeof(seeds), "seeds %" PRIu64 "..%" PRIu64
			 ", median (min..max)", o->seed, o->seed + o->repeat - 1);
	else
		snprintf(seeds, sizeof(seeds), "seed %" PRIu64, o->seed);

	if (cmp->defaults)
		printf("shootdown: the %s workload on %u simulated CPUs "
		       "(%" PRIu64 " ops, %s, %s scheduler), %u host PUs\n"
		       "  half the CPUs run threads of one mm; of the rest, "
		       "half are idle in lazy TLB mode\n  and half run "
		       "another process.  'shootdown --help' for more.\n\n",
		       cs->w->name, row[0]->cpus, ops, seeds,
		       host_latency(row[0]) ? "host" : "seeded",
		       (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
	else
		printf("%s on %u CPUs, %" PRIu64 " ops, %s, %s scheduler\n",
		       cs->w->name, row[0]->cpus, ops, seeds,
		       host_latency(row[0]) ? "host" : "seeded");
	printf("  %-*s", out_name_width(row, cmp->npol, o->all_rows, 22),
	       "counter");
	for (unsigned i = 0; i < cmp->npol; i++)
		printf(" %*s", w, row[i]->policy);
	for (unsigned i = 1; i < cmp->npol; i++) {
		char h[64];

		snprintf(h, sizeof(h), "%s/%s", row[i]->policy, row[0]->policy);
		printf("  %14s", h);
	}
	printf("\n");
}

/* The default's closing sentence: where linux's IPIs went. */
static void compare_summary(const struct cell *const *row)
{
	const struct shd_stats *b = &row[0]->r.stats, *l = &row[1]->r.stats;

	printf("%s sent %" PRIu64 " IPIs fewer than %s: %" PRIu64
	       " avoided by mm_cpumask pruning, %" PRIu64 " by skipping "
	       "lazy CPUs, %" PRIu64 " coalesced;\n%" PRIu64 " requests were "
	       "already satisfied by tlb_gen.  Latencies are %s, "
	       "not hardware time.\n", row[1]->policy,
	       b->ipis_sent > l->ipis_sent ? b->ipis_sent - l->ipis_sent : 0,
	       row[0]->policy, l->ipis_avoided_pruned, l->ipis_avoided_lazy,
	       l->ipis_coalesced, l->flushes_skipped_gen,
	       host_latency(row[0]) ? "host time" : "simulated (scheduling "
	       "steps)");
}

/* Whether A and B cost the same under each seed they both ran. */
static bool same_per_seed(const struct cell *a, const struct cell *b)
{
	if (a->nrep != b->nrep)
		return false;
	if (a->nrep < 2)
		return fig_cycles_per_op(a, &a->r, NULL) ==
		       fig_cycles_per_op(b, &b->r, NULL);
	for (unsigned k = 0; k < a->nrep; k++)
		if (fig_cycles_per_op(a, &a->rep[k], NULL) !=
		    fig_cycles_per_op(b, &b->rep[k], NULL))
			return false;
	return true;
}

/* A policy's modelled cost against the first's, in a few words. */
static void verdict(const struct cell *a, const struct cell *b, bool rep)
{
	struct spread x = cell_spread(a, fig_cycles_per_op, NULL);
	struct spread y = cell_spread(b, fig_cycles_per_op, NULL);
	double d = x.med ? (y.med - x.med) / x.med * 100 : 0;

	printf("%s ", b->policy);
	if (same_per_seed(a, b))
		printf("the same%s", rep ? " under every seed (within noise)" : "");
	else if (rep && spread_overlap(x, y))
		printf("within noise (%+.1f%%; the runs of %u seeds overlap)", d,
		       b->nrep);
	else
		printf("%.1f%% %s%s", d < 0 ? -d : d, d < 0 ? "cheaper" : "dearer",
		       rep ? ", outside the spread" : "");
}

/* The closing lines: per CPU count, each policy against the first. */
static void compare_conclusion(const struct cells *cs,
			       const struct compare *cmp)
{
	bool rep = cells_repeated((const struct cell *const[]){ &cs->cell[0] }, 1);

	if (cmp->npol < 2)
		return;
	printf("modelled cycles/op against %s:\n", cs->cell[0].policy);
	for (unsigned c = 0; c < cmp->ncp; c++) {
		const struct cell *row = &cs->cell[c * cmp->npol];
		unsigned shown = 0;

		if (row[0].status == CELL_NOT_RUN)
			continue;
		printf("  %u CPUs: ", row[0].cpus);
		for (unsigned i = 1; i < cmp->npol; i++) {
			if (row[i].status == CELL_NOT_RUN)
				continue;
			printf("%s", shown++ ? "; " : "");
			verdict(&row[0], &row[i], rep);
		}
		printf("%s\n", shown ? "." : "not run.");
	}
	if (!rep)
		printf("  (one seed each: --repeat N runs N seeds and tells a "
		       "difference from noise)\n");
}

static void compare_finish(struct cells *cs, bool complete)
{
	const struct compare *cmp = cs->arg;
	unsigned not_run = 0;

	if (cs->fmt != FMT_TABLE)
		return;
	for (unsigned c = 0; c < cmp->ncp; c++) {
		const struct cell *row[MAX_POLICIES];

		for (unsigned i = 0; i < cmp->npol; i++) {
			row[i] = &cs->cell[c * cmp->npol + i];
			not_run += row[i]->status == CELL_NOT_RUN;
		}
		if (row[0]->status == CELL_NOT_RUN && !complete)
			continue;
		compare_header(cs, cmp, row);
		out_counter_table(stdout, row, cmp->npol, true, row[0]->o->all_rows);
		derived_row("ipis_sent/op", row, cmp->npol, fig_ipis_per_op, 3,
			    true);
		derived_row("modelled_cycles/op", row, cmp->npol,
			    fig_cycles_per_op, 1, true);
		derived_row("wall_ms (host)", row, cmp->npol, fig_wall_ms, 1,
			    false);
		if (host_latency(row[0]) && row[0]->r.op_p50_ns)
			derived_row("op_p50_host_ns", row, cmp->npol, fig_op_p50,
				    0, true);
		out_trace_calls(stdout, row, cmp->npol);
		out_latency_note(row[0]);
		for (unsigned i = 0; i < cmp->npol; i++) {
			faults_async_note(stdout, row[i]);
			faults_lines(stdout, row[i], true);
		}
		printf("\n");
		if (cmp->defaults && cmp->npol == 2 && cmp->ncp == 1 &&
		    row[1]->status != CELL_NOT_RUN)
			compare_summary(row);
	}
	for (unsigned i = 0; i < cs->n; i++)
		if (cs->cell[i].status == CELL_INCOMPLETE)
			printf("%s on %u CPUs could not complete (stderr says why)\n",
			       cs->cell[i].policy, cs->cell[i].cpus);
	if (not_run)
		printf("%u of %u runs did not run ('-' above)\n", not_run, cs->n);
	if (!cmp->defaults)
		compare_conclusion(cs, cmp);
}

/* --cpus N or N,M,..: the counts, each checked against W now. */
static unsigned compare_cpus(struct parsed *p, const struct workload *w,
			     unsigned *cpus)
{
	char buf[256], *items[MAX_CPUS];
	unsigned n = 1;

	cpus[0] = p->o.ncpus;
	if (p->cpus_list[0]) {
		snprintf(buf, sizeof(buf), "%s", p->cpus_list);
		n = cli_split(buf, items, MAX_CPUS, "--cpus");
		for (unsigned i = 0; i < n; i++)
			cpus[i] = (unsigned)cli_u64("--cpus", items[i], 1, SHD_MAX_CPUS);
	}
	for (unsigned c = 0; c < n; c++) {	/* refuse before running any */
		if (cpus[c] < w->min_cpus)
			usage_error("workload %s needs at least %u CPUs (--cpus %u)",
				    w->name, w->min_cpus, cpus[c]);
		p->o.ncpus = cpus[c];
		cli_finish(&p->o, w);
	}
	return n;
}

int cmd_compare_cells(struct parsed *p, bool defaults)
{
	char pbuf[256], *pol[MAX_POLICIES];
	unsigned cpus[MAX_CPUS];
	struct compare cmp = { .defaults = defaults };
	const struct workload *w = cli_workload(p->o.workload);
	struct cells cs = { .command = defaults ? "default" : "compare", .w = w,
			    .fmt = p->o.format, .finish = compare_finish,
			    .arg = &cmp };
	int rc;

	snprintf(pbuf, sizeof(pbuf), "%s", p->policies[0] ? p->policies :
		 "broadcast,linux");
	cmp.npol = cli_split(pbuf, pol, MAX_POLICIES, "--policies");
	cmp.ncp = compare_cpus(p, w, cpus);
	cs.n = cmp.npol * cmp.ncp;
	cs.cell = calloc(cs.n, sizeof(*cs.cell));
	if (!cs.cell)
		usage_error("out of memory");
	for (unsigned c = 0; c < cmp.ncp; c++)
		for (unsigned i = 0; i < cmp.npol; i++) {
			struct cell *cell = &cs.cell[c * cmp.npol + i];

			cell->policy = pol[i];
			cell->cpus = cpus[c];
			cell->o = &p->o;
		}
	rc = cells_run(&cs);
	cells_release(&cs);
	free(cs.cell);
	return rc;
}

int cmd_compare(int argc, char **argv)
{
	struct parsed p;

	if (cli_start(&p, CMD_COMPARE, argc, argv, "compare --workload NAME [options]",
		      "Runs the workload under each policy at each CPU count, "
		      "each on a fresh\nmachine, and prints the counters side by "
		      "side with ratios against the\nfirst policy.  JSON and CSV "
		      "print each run as it finishes.\n"))
		return 0;
	return cmd_compare_cells(&p, false);
}
