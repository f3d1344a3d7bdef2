/* SPDX-License-Identifier: MIT */
/* shootdown check: the random mix with the oracle on; exit 1 on a violation,
 * with the command that replays it.  Seeded by default: --schedules explores,
 * --record writes the schedule, --replay runs one again exactly. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "schedfile.h"

/* Options that choose schedules rather than the run: left out of the
 * replay line and the recorded command (with their values). */
static bool schedule_option(const char *s, bool *has_value)
{
	static const char *const names[] = { "--schedules", "--sched-seed",
					     "--record", "--replay" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		size_t n = strlen(names[i]);

		if (!strncmp(s, names[i], n) && (!s[n] || s[n] == '=')) {
			*has_value = !s[n];
			return true;
		}
	}
	return false;
}

/* The run's own options, then --seed (if it was the default) and, when
 * seeded, the schedule's seed: enough to run the same schedule again. */
static int check_args(const struct wl_opts *o, char **out, int max)
{
	static char seed[40], sseed[40];
	bool seeded = false, value;
	int n = 0;

	for (int i = 0; i < o->argc && n < max - 4; i++) {
		const char *s = o->argv[i];

		if (schedule_option(s, &value)) {
			i += value;
			continue;
		}
		seeded |= !strncmp(s, "--seed", 6) && (!s[6] || s[6] == '=');
		out[n++] = o->argv[i];
	}
	if (!seeded) {
		snprintf(seed, sizeof(seed), "%" PRIu64, o->seed);
		out[n++] = "--seed";
		out[n++] = seed;
	}
	if (o->cfg.sched.mode == SHD_SCHED_SEEDED) {
		snprintf(sseed, sizeof(sseed), "%" PRIu64, o->cfg.sched.seed);
		out[n++] = "--sched-seed";
		out[n++] = sseed;
	}
	return n;
}

static void check_replay(const struct wl_opts *o, char *buf, size_t len)
{
	char *args[SCHEDFILE_MAX_ARGS];
	int n = check_args(o, args, SCHEDFILE_MAX_ARGS);
	size_t at;

	if (o->replay) {
		snprintf(buf, len, "shootdown check --replay %s", o->replay);
		return;
	}
	at = (size_t)snprintf(buf, len, "shootdown check");
	for (int i = 0; i < n && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at,
				       strpbrk(args[i], " '\"$\\") ? " '%s'" :
				       " %s", args[i]);
}

static void check_table(const struct cell *c)
{
	const struct wl_result *r = &c->r;
	const struct wl_opts *o = c->o;
	const struct shd_sched_config *sc = &o->cfg.sched;

	printf("check: %" PRIu64 " %s on %u CPUs under %s on %s, "
	       "seed %" PRIu64 "%s: %s\n", r->ops, o->trace_file ?
	       "trace events" : "random ops", c->cpus, c->policy,
	       o->cfg.arch.name, o->seed, o->faults_text,
	       cell_unfired(c) ? "INCOMPLETE (a fault never fired)" :
	       cell_undetected(c) ? "INCONCLUSIVE (the fault went unseen)" :
	       c->status == CELL_OK ? "clean" : c->status == CELL_VIOLATION ?
	       "FAILED" : "INCOMPLETE");
	printf("  %" PRIu64 " flush calls, %" PRIu64 " IPIs, %" PRIu64
	       " TLB hits checked, %" PRIu64 " violations", r->stats.flush_calls,
	       r->stats.ipis_sent, r->stats.tlb_hits, r->stats.violations);
	if (o->cfg.arch.alias_dcache)
		printf(", %" PRIu64 " D-cache fills, %" PRIu64
		       " D-cache flushes (%" PRIu64 " deferred)",
		       r->stats.dcache_misses, r->stats.dcache_flushes +
		       r->stats.dcache_deferred_done, r->stats.dcache_deferred);
	if (o->cfg.arch.icache_nosnoop)
		printf(", %" PRIu64 " I-cache fills, %" PRIu64
		       " I-cache page invalidations", r->stats.icache_misses,
		       r->stats.icache_flushes);
	printf("\n");
	if (sc->mode != SHD_SCHED_SEEDED)
		return;
	if (o->replay)
		printf("  schedule: replayed from %s", o->replay);
	else if (sc->strategy == SHD_STRATEGY_PCT)
		printf("  schedule: seeded pct depth %u, sched seed %" PRIu64,
		       sc->depth, sc->seed);
	else
		printf("  schedule: seeded random, sched seed %" PRIu64, sc->seed);
	printf(": %" PRIu64 " steps, %" PRIu64 " switches (%u preemptions)\n",
	       r->sched_steps, r->sched_switches, r->sched_preemptions);
	if (r->sched_diverged)
		printf("  the replay left its schedule %s\n", r->sched_divergence);
}

static void check_table_faults(const struct cell *c)
{
	faults_async_note(stdout, c);
	faults_lines(stdout, c, false);
}

/* JSON: the replay line and the schedule, after the results. */
static void check_json(struct cells *cs, const struct cell *c, bool failed,
		       const char *replay)
{
	const struct shd_sched_config *sc = &c->o->cfg.sched;
	const unsigned *explored = cs->arg;
	size_t at = (size_t)snprintf(cs->extra, sizeof(cs->extra),
				     ", \"replay\": ");
	FILE *f = fmemopen(cs->extra + at, sizeof(cs->extra) - at, "w");

	if (!f)
		return;
	if (failed)
		out_json_string(f, replay);
	else
		fputs("null", f);
	fputs(", \"schedule\": ", f);
	if (sc->mode != SHD_SCHED_SEEDED) {
		fputs("null", f);
	} else {
		fprintf(f, "{\"strategy\": \"%s\", \"sched_seed\": %" PRIu64
			", \"depth\": %u, \"preemption_bound\": %d, \"steps\": %"
			PRIu64 ", \"switches\": %" PRIu64 ", \"preemptions\": %u"
			", \"schedules_run\": %u, \"replayed\": ",
			c->o->replay ? "replay" : shd_strategy_name(sc->strategy),
			sc->seed, sc->depth, sc->preemptions, c->r.sched_steps,
			c->r.sched_switches, c->r.sched_preemptions, *explored);
		if (c->o->replay)
			out_json_string(f, c->o->replay);
		else
			fputs("null", f);
		fputs("}", f);
	}
	fclose(f);
}

static void check_record(const struct cell *c)
{
	char *args[SCHEDFILE_MAX_ARGS + 1], err[512];
	int n;

	if (!c->o->record || c->o->cfg.sched.mode != SHD_SCHED_SEEDED)
		return;
	if (c->o->replay && c->o->replay_argv) {
		/* A replay's record: the same command as the file's. */
		n = c->o->replay_argc;
		memcpy(args, c->o->replay_argv, sizeof(char *) * (size_t)n);
	} else {
		args[0] = "check";
		n = 1 + check_args(c->o, args + 1, SCHEDFILE_MAX_ARGS);
	}
	if (schedfile_write(c->o->record, n, args, c->r.sched_steps,
			    c->r.sched_log, c->r.sched_switches, err,
			    sizeof(err)))
		fprintf(stderr, "%s: %s\n", cli_prog, err);
	else
		fprintf(stderr, "schedule written to %s (replay: shootdown check "
			"--replay %s)\n", c->o->record, c->o->record);
}

static void check_finish(struct cells *cs, bool complete)
{
	const struct cell *c = &cs->cell[0];
	char replay[1024];
	bool failed = c->status == CELL_VIOLATION || c->status == CELL_INCOMPLETE;

	(void)complete;
	if (c->status == CELL_NOT_RUN)
		return;
	check_replay(c->o, replay, sizeof(replay));
	if (cs->fmt == FMT_TABLE) {
		check_table(c);
		check_table_faults(c);
	}
	if (cs->fmt == FMT_JSON)
		check_json(cs, c, failed, replay);
	check_record(c);
	if (cell_undetected(c))
		fprintf(stderr, "%s: check: inconclusive (exit 3): the injected "
			"fault fired but no CPU used what it left stale, so this "
			"run shows nothing about the oracle; more --ops or "
			"--schedules N\n", cli_prog);
	if (failed) {
		fprintf(stderr, "replay: %s\n", replay);
		if (c->o->cfg.sched.mode != SHD_SCHED_SEEDED)
			fprintf(stderr, "(--sched host: the seed fixes each CPU's "
				"operations; the interleaving is the host "
				"scheduler's)\n");
		else if (!c->o->record && !c->o->replay)
			fprintf(stderr, "(exact on this build; --record FILE keeps "
				"the schedule itself for --replay and minimize)\n");
	}
}

/* --replay FILE: the run's options come from the file. */
static void load_replay(struct parsed *p, int argc, char **argv,
			struct schedfile *sf)
{
	const char *path = p->o.replay, *record = p->o.record;
	enum out_format fmt = p->o.format;
	char err[1024];

	for (int i = 0; i < argc; i++) {
		bool value;
		const char *s = argv[i];

		if (schedule_option(s, &value) || !strncmp(s, "--format", 8)) {
			if (!strncmp(s, "--sched-seed", 12) ||
			    !strncmp(s, "--schedules", 11))
				usage_error("--replay runs the recorded schedule: "
					    "drop %s", s);
			i += value || (!strcmp(s, "--format"));
			continue;
		}
		usage_error("--replay takes the run's options from %s: drop %s "
			    "(only --format and --record may be added)", path, s);
	}
	if (schedfile_read(path, sf, err, sizeof(err)))
		usage_error("%s", err);
	for (int i = 1; i < sf->argc; i++) {
		bool value;

		if (schedule_option(sf->argv[i], &value) &&
		    strncmp(sf->argv[i], "--sched-seed", 12))
			usage_error("%s:3: the recorded command may not hold %s",
				    path, sf->argv[i]);
	}
	cli_start(p, CMD_CHECK, sf->argc - 1, sf->argv + 1, "", "");
	if (p->o.cfg.sched.mode != SHD_SCHED_SEEDED)
		usage_error("%s:3: the recorded command is not seeded", path);
	p->o.replay = path;
	p->o.record = record;
	p->o.format = fmt;
	p->o.replay_argc = sf->argc;
	p->o.replay_argv = sf->argv;
	p->o.cfg.sched.strategy = SHD_STRATEGY_REPLAY;
	p->o.cfg.sched.replay = sf->d;
	p->o.cfg.sched.nreplay = sf->n;
	for (size_t i = 0; i < sf->n; i++)
		if (sf->d[i].cpu != SHD_SCHED_CTL && sf->d[i].cpu >= p->o.ncpus)
			usage_error("%s:%u: cpu %" PRIu32 " does not exist (the "
				    "command has %u)", path, sf->line[i],
				    sf->d[i].cpu, p->o.ncpus);
}

/* --schedules N: run them quietly until one fails; that one (or the last)
 * is run again and printed. */
static void explore(struct cells *cs, struct wl_opts *o, unsigned *explored)
{
	struct wl_result *r = malloc(sizeof(*r));
	uint64_t first = o->cfg.sched.seed;
	char err[1024];

	if (!r)
		usage_error("out of memory");
	for (unsigned i = 0; i < o->schedules; i++) {
		bool keep = o->keep_log;
		int rc;

		FILE *trace = o->trace_fp;	/* the printed run writes it */

		o->cfg.sched.seed = first + i;
		o->keep_log = false;
		o->trace_fp = NULL;
		rc = wl_execute(cs->w, o, cs->cell[0].policy, r, err, sizeof(err));
		o->keep_log = keep;
		o->trace_fp = trace;
		*explored = i + 1;
		if (rc == WL_BAD_INPUT)
			usage_error("%s", err);
		if (rc < 0 || r->stats.violations || r->check_failures)
			break;
		if (i + 1 < o->schedules)	/* the last runs again, printed */
			faults_prior_add(&cs->cell[0], r);
		if (!getenv("SHD_NO_PROGRESS") && isatty(2))
			fprintf(stderr, "\rcheck: schedule %u of %u clean", i + 1,
				o->schedules);
	}
	if (isatty(2) && !getenv("SHD_NO_PROGRESS"))
		fprintf(stderr, "\r\033[K");
	if (o->schedules > 1)
		fprintf(stderr, "check: %u of %u schedules run (sched seeds %"
			PRIu64 "..%" PRIu64 ")\n", *explored, o->schedules, first,
			o->cfg.sched.seed);
	free(r);
}

int cmd_check(int argc, char **argv)
{
	struct parsed p;
	struct cell cell = { 0 };
	struct schedfile sf = { 0 };
	unsigned explored = 1;
	struct cells cs = { .command = "check", .cell = &cell, .n = 1,
			    .finish = check_finish, .arg = &explored };
	int rc;

	if (cli_start(&p, CMD_CHECK, argc, argv, "check [options]",
		      "Random map/unmap/protect/madvise/access/fork/reclaim/file/"
		      "ptrace/switch/lazy/\nflush/vmap operations on every CPU with "
		      "the oracle on, under the seeded\nscheduler (the same output "
		      "on every run).  Exit 0 when clean, 1 on a\nviolation (the "
		      "first is printed with a command that replays it), 3 when\n"
		      "the run could not complete (a watchdog fired).\n"))
		return 0;
	if (p.scenario && p.o.trace_fp)
		usage_error("--trace-out is for random runs, not --scenario "
			    "(--trace prints a scenario's ops)");
	if (p.scenario)
		return check_scenario(&p);
	if (p.o.replay)
		load_replay(&p, argc, argv, &sf);
	if (p.scenario && p.o.trace_fp)
		usage_error("--trace-out is for random runs, not a scenario's "
			    "schedule");
	if (p.scenario)		/* a scenario's recorded schedule */
		return check_scenario(&p);
	cs.w = wl_find(p.o.trace_file ? "trace" : "random");
	trace_out_refuse(&p.o);
	if (p.o.trace_file && p.minimize)
		usage_error("--minimize shrinks random operations, not a trace "
			    "(cut the trace file by hand, or --ops N replays its "
			    "first N events)");
	cli_finish(&p.o, cs.w);
	if (p.o.record && p.o.cfg.sched.mode != SHD_SCHED_SEEDED)
		usage_error("--record needs the seeded scheduler (drop --sched "
			    "host)");
	if (p.o.record) {	/* refuse now, not after the run */
		FILE *f = fopen(p.o.record, "w");

		if (!f)
			usage_error("--record %s: cannot write: %s", p.o.record,
				    strerror(errno));
		fclose(f);
	}
	/* A scenario file names a preset: it must replay without the library. */
	if (p.minimize && cli_loaded_policy(p.o.policy))
		usage_error("--minimize: scenario files name built-in policies "
			    "only, and %s was loaded with --policy-lib", p.o.policy);
	p.o.keep_log = p.o.record != NULL;
	cell.policy = p.o.policy;
	cell.cpus = p.o.ncpus;
	cell.o = &p.o;
	cs.fmt = p.o.format;
	if (p.o.schedules > 1)
		explore(&cs, &p.o, &explored);
	rc = cells_run(&cs);
	free(cell.r.sched_log);
	schedfile_free(&sf);
	if (p.minimize && rc == EXIT_VIOLATION && check_minimize(&p))
		return EXIT_INCOMPLETE;
	return rc;
}
