/* SPDX-License-Identifier: MIT */
/* shootdown run: one workload under one policy. */
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* The derived rows under a counter table: not counters, always shown. */
static void run_derived(const struct cell *c)
{
	const struct wl_result *r = &c->r;
	int w = c->nrep > 1 ? 26 : 12;
	int nw = out_name_width(&c, 1, c->o->all_rows, 24);
	char buf[96];

	spread_format(buf, sizeof(buf), cell_spread(c, fig_cycles_per_op, NULL), 1);
	printf("  %-*s %*s   modelled hardware cost per op: counters x "
	       "cost.* (cycles)\n", nw, "modelled_cycles/op", w, buf);
	spread_format(buf, sizeof(buf), cell_spread(c, fig_ipis_per_op, NULL), 3);
	printf("  %-*s %*s   IPIs sent per op\n", nw, "ipis_sent/op", w,
	       buf);
	if (host_latency(c) && r->op_p50_ns)
		printf("  %-*s %*" PRIu64 "   the workload's timed "
		       "operation, median (ns, host time)\n", nw, "op_p50_host_ns", w,
		       r->op_p50_ns);
}

/* What the latency rows measure under this scheduler. */
void out_latency_note(const struct cell *c)
{
	if (!c->r.stats.lat_count)
		return;
	if (host_latency(c))
		printf("  (lat_*: host time, free-running threads on %ld host "
		       "PUs)\n", sysconf(_SC_NPROCESSORS_ONLN));
	else
		printf("  (lat_*: simulated time, %u ns per scheduling step of "
		       "the seeded scheduler, not host time; --sched host for "
		       "host latencies)\n", SHD_SCHED_STEP_NS);
}

static void run_finish(struct cells *cs, bool complete)
{
	const struct cell *c = &cs->cell[0];

	(void)complete;
	if (cs->fmt != FMT_TABLE || c->status == CELL_NOT_RUN)
		return;
	printf("%s on %u CPUs under %s on %s: %" PRIu64 " ops, ", cs->w->name,
	       c->cpus, c->policy, c->o->cfg.arch.name, c->r.ops);
	if (c->nrep > 1)
		printf("seeds %" PRIu64 "..%" PRIu64 " (median (min..max) of %u "
		       "runs)", c->seed, c->seed + c->nrep - 1, c->nrep);
	else
		printf("seed %" PRIu64, c->seed);
	printf(", %s scheduler; %.3f s host time%s\n",
	       host_latency(c) ? "host" : "seeded", c->r.wall_ns / 1e9,
	       c->nrep > 1 ? " (median)" : "");
	out_counter_table(stdout, &c, 1, false, c->o->all_rows);
	run_derived(c);
	out_trace_calls(stdout, &c, 1);
	out_latency_note(c);
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
	int rc;
	struct cells cs = { .command = "run", .cell = &cell, .n = 1,
			    .finish = run_finish };

	if (cli_start(&p, CMD_RUN, argc, argv, "run --workload NAME [options]\n"
		      "       shootdown run --trace FILE [options]",
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
	if (p.o.format == FMT_WIS) {	/* a timed run: host time by nature */
		if (p.sched_set && p.o.cfg.sched.mode == SHD_SCHED_SEEDED)
			usage_error("--format wis is a timed run: it needs "
				    "--sched host");
		if (p.o.repeat > 1)
			usage_error("--format wis is a timed run: --repeat is for "
				    "counters");
		p.o.cfg.sched.mode = SHD_SCHED_HOST;
	}
	cli_finish(&p.o, w);
	cell.policy = p.o.policy;
	cell.cpus = p.o.ncpus;
	cell.o = &p.o;
	cs.w = w;
	cs.fmt = p.o.format;
	rc = cells_run(&cs);
	cells_release(&cs);
	return rc;
}
