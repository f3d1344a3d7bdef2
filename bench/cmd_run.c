/* SPDX-License-Identifier: MIT */
/* shootdown run: one workload under one policy. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
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

/*
 * --format interrupts: what `cat /proc/interrupts` and `grep nr_tlb
 * /proc/vmstat` print, for the simulated CPUs.  The layout is
 * arch/x86/kernel/irq.c arch_show_interrupts() under show_interrupts()
 * (fs/proc/interrupts.c): an 11-column indent and "CPU%-8d" a CPU, then
 * rows "%*s: " (prec 3), "%10u " a CPU and the description; CAL before
 * TLB, as Linux prints them.  TLB is x86's row only: the other engines
 * print CAL alone.  The vmstat lines are CONFIG_DEBUG_TLBFLUSH's.
 */
static void run_interrupts(const struct cell *c)
{
	const struct wl_result *r = &c->r;
	const struct shd_stats *s = &r->stats;
	unsigned n = r->irq_ncpus;

	if (!r->irq_lines) {
		fprintf(stderr, "run: out of memory for the per-CPU lines\n");
		return;
	}
	printf("%11s", "");
	for (unsigned k = 0; k < n; k++)
		printf("CPU%-8u", k);
	printf("\n%3s: ", "CAL");
	for (unsigned k = 0; k < n; k++)
		printf("%10" PRIu64 " ", r->irq_lines[n + k]);
	printf("  Function call interrupts\n");
	if (c->o->cfg.arch.tlb == SHD_TLB_X86) {
		printf("%3s: ", "TLB");
		for (unsigned k = 0; k < n; k++)
			printf("%10" PRIu64 " ", r->irq_lines[k]);
		printf("  TLB shootdowns\n");
	} else {
		fprintf(stderr, "run: no TLB row: it is x86's (inc_irq_stat(TLB) "
			"in flush_tlb_func()); %s's flush IPIs, if any, are "
			"function calls (CAL); nr_tlb_* are counted by x86's "
			"engine only\n", c->o->cfg.arch.name);
	}
	printf("\n");
	printf("nr_tlb_remote_flush %" PRIu64 "\n", s->nr_tlb_remote_flush);
	printf("nr_tlb_remote_flush_received %" PRIu64 "\n",
	       s->nr_tlb_remote_flush_received);
	printf("nr_tlb_local_flush_all %" PRIu64 "\n", s->nr_tlb_local_flush_all);
	printf("nr_tlb_local_flush_one %" PRIu64 "\n", s->nr_tlb_local_flush_one);
	if (c->status == CELL_INCOMPLETE)
		fprintf(stderr, "run: the run could not complete: these are the "
			"counters of the part that ran\n");
}

/* --trace-out's refusals (run and check): one line, exit 2. */
void trace_out_refuse(const struct wl_opts *o)
{
	if (!o->trace_fp)
		return;
	if (o->cfg.arch.tlb != SHD_TLB_X86)
		usage_error("--trace-out: the tlb_flush tracepoint is x86's "
			    "(trace_tlb_flush() is called from arch/x86/mm/tlb.c "
			    "only): --arch %s has no such events", o->cfg.arch.name);
	if (o->repeat > 1)
		usage_error("--trace-out writes one run's events: drop --repeat");
	if (o->format == FMT_WIS)
		usage_error("--trace-out is for counted runs, not --format wis");
}

static void run_finish(struct cells *cs, bool complete)
{
	const struct cell *c = &cs->cell[0];

	(void)complete;
	if (cs->fmt == FMT_INTERRUPTS && c->status != CELL_NOT_RUN)
		run_interrupts(c);
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
	if (p.o.format == FMT_INTERRUPTS && p.o.repeat > 1)
		usage_error("--format interrupts prints one run's lines: drop "
			    "--repeat");
	trace_out_refuse(&p.o);
	cli_finish(&p.o, w);
	cell.policy = p.o.policy;
	cell.cpus = p.o.ncpus;
	cell.o = &p.o;
	cs.w = w;
	cs.fmt = p.o.format;
	rc = cells_run(&cs);
	free(cell.r.irq_lines);
	cells_release(&cs);
	if (p.o.trace_fp && fclose(p.o.trace_fp))
		usage_error("--trace-out %s: %s", p.o.trace_out, strerror(errno));
	return rc;
}
