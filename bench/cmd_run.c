/* SPDX-License-Identifier: MIT */
/* shootdown run: one workload under one policy. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

/* The derived rows under a counter table: not counters, always shown. */
static void run_derived(const struct cell *c)
{
	const struct wl_result *r = &c->r;
	double cycles = cost_cycles(&c->o->cost, &r->stats);

	printf("  %-24s %12.0f   modelled hardware cost: counters x "
	       "cost.* (cycles)\n", "modelled_cycles", cycles);
	printf("  %-24s %12.1f   ... per op\n", "modelled_cycles/op",
	       r->ops ? cycles / (double)r->ops : 0.0);
	if (r->op_p50_ns)
		printf("  %-24s %12" PRIu64 "   the workload's timed "
		       "operation, median (ns, host)\n", "op_p50_ns", r->op_p50_ns);
}

static void run_finish(struct cells *cs, bool complete)
{
	const struct cell *c = &cs->cell[0];

	(void)complete;
	if (cs->fmt != FMT_TABLE || c->status == CELL_NOT_RUN)
		return;
	printf("%s on %u CPUs under %s on %s: %" PRIu64 " ops in %.3f s "
	       "(host time)\n", cs->w->name, c->cpus, c->policy,
	       c->o->cfg.arch.name, c->r.ops, c->r.wall_ns / 1e9);
	out_counter_table(stdout, &c, 1, false, c->o->all_rows);
	run_derived(c);
	faults_async_note(stdout, c);
	faults_lines(stdout, c, false);
	if (c->status == CELL_INCOMPLETE)
		printf("  (the run could not complete: these are the counters of "
		       "the part that ran)\n");
}

int cmd_run(int argc, char **argv)
{
	struct parsed p;
	const struct workload *w;
	struct cell cell = { 0 };
	struct cells cs = { .command = "run", .cell = &cell, .n = 1,
			    .finish = run_finish };

	if (cli_start(&p, CMD_RUN, argc, argv, "run --workload NAME [options]",
		      "Runs one workload under one policy on a fresh machine and "
		      "prints its counters.\n"))
		return 0;
	w = cli_workload(p.o.workload);
	if (p.o.format == FMT_WIS && strcmp(w->name, "tlb_flush2"))
		usage_error("--format wis is will-it-scale's output: for tlb_flush2");
	for (int i = 0; p.o.format != FMT_WIS && i < argc; i++)
		if (!strncmp(argv[i], "--duration", 10) || !strncmp(argv[i], "--warmup", 8))
			usage_error("%s is for --format wis (a timed run)", argv[i]);
	if (p.o.format == FMT_WIS && p.o.ops_set)
		usage_error("--format wis runs for --duration seconds, not --ops");
	cli_finish(&p.o, w);
	cell.policy = p.o.policy;
	cell.cpus = p.o.ncpus;
	cell.o = &p.o;
	cs.w = w;
	cs.fmt = p.o.format;
	return cells_run(&cs);
}
