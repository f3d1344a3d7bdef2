/* SPDX-License-Identifier: MIT */
/* check --scenario FILE: a scenario under every schedule up to a bound (or
 * samples), judged against the file's expectation; exit 0 when it holds. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "explore.h"
#include "scenario.h"
#include "schedfile.h"

/* Options that shape the exploration; the file sets the machine. */
static const char *const scenario_opts[] = {
	"--scenario", "--preemptions", "--schedules", "--strategy", "--depth",
	"--sched-seed", "--seed", "--choices", "--record", "--replay",
	"--minimize", "--trace", "--format", "--sched", "--help", "-h",
};

static void refuse_machine_options(const struct parsed *p)
{
	const size_t n = sizeof(scenario_opts) / sizeof(scenario_opts[0]);

	for (int i = 0; i < p->o.argc; i++) {
		const char *a = p->o.argv[i];
		size_t len = strcspn(a, "=");
		size_t k;

		if (strncmp(a, "-", 1))
			continue;	/* an option's value */
		for (k = 0; k < n; k++)
			if (strlen(scenario_opts[k]) == len &&
			    !strncmp(a, scenario_opts[k], len))
				break;
		if (k == n)
			usage_error("check --scenario: %.*s: the scenario file "
				    "sets the machine (edit the file)", (int)len, a);
	}
	if (p->o.format != FMT_TABLE)
		usage_error("check --scenario prints a table only");
	if (p->o.cfg.sched.mode != SHD_SCHED_SEEDED)
		usage_error("check --scenario runs under the seeded scheduler "
			    "(drop --sched host)");
	if (p->choices && (p->o.replay || p->strategy_set))
		usage_error("--choices names one schedule: drop %s",
			    p->o.replay ? "--replay" : "--strategy");
	if (p->trace && !p->choices && !p->o.replay)
		usage_error("--trace shows one schedule: give --choices or "
			    "--replay (a failing check prints them)");
}

static void print_head(const struct scenario *s)
{
	size_t nf;
	const struct shd_named *f = shd_faults(&nf);

	printf("check: scenario %s: %u CPUs, %u ops, %s on %s", s->file,
	       s->ncpus, scenario_ops(s), s->policy, s->arch);
	for (size_t i = 0; i < nf && i < 64; i++)
		if (s->faults >> i & 1)
			printf(" --inject %s", f[i].name);
	for (unsigned i = 0; i < s->nsets; i++)
		printf(" --set %s", s->sets[i]);
	if (s->expect_violation && s->expect_kind >= 0)
		printf("; expect violation %s\n", shd_violation_kind_name(
			(enum shd_violation_kind)s->expect_kind));
	else
		printf("; expect %s\n", s->expect_violation ? "violation" :
		       "clean");
}

static void print_account(const struct explore_opts *eo,
			  const struct explore_result *r)
{
	double rate = r->seconds > 0 ? r->runs / r->seconds : 0;
	int bound = eo->preemptions;

	if (r->exhaustive)
		printf("  exhaustive: %u schedules up to %d preemption%s",
		       r->schedules, bound, bound == 1 ? "" : "s");
	else if (eo->mode == EXPLORE_SYSTEMATIC && r->sampled)
		printf("  the schedules up to %d preemptions outgrow %u runs: %u "
		       "PCT schedules followed (sched seeds %" PRIu64 ".."
		       "%" PRIu64 ")", bound, eo->budget, r->runs - r->dfs_runs,
		       eo->seed, eo->seed + r->runs - r->dfs_runs - 1);
	else if (eo->mode == EXPLORE_SYSTEMATIC)
		printf("  found after %u schedules (up to %d preemption%s)",
		       r->schedules, r->bound, r->bound == 1 ? "" : "s");
	else if (eo->mode == EXPLORE_PCT || eo->mode == EXPLORE_RANDOM)
		printf("  %u %s schedules (sched seeds %" PRIu64 "..%" PRIu64
		       ") after the default one", r->runs - 1, eo->mode ==
		       EXPLORE_PCT ? "PCT" : "random", eo->seed,
		       eo->seed + r->runs - 2);
	else
		printf("  1 schedule");
	printf(", %u with violations; %u runs in %.2f s (%.0f schedules/s)\n",
	       r->violating, r->runs, r->seconds, rate);
}

/* The command that runs the schedule found again. */
static void print_replay(const struct parsed *p, const struct explore_result *r)
{
	const char *file = p->o.record ? p->o.record : p->o.replay;

	printf("  replay: %s check --scenario ", cli_prog);
	cli_print_word(stdout, p->scenario);
	if (file) {
		printf(" --replay ");
		cli_print_word(stdout, file);
	} else {
		printf(" %s", r->replay);
	}
	printf("\n");
}

static void record(const struct parsed *p, const struct explore_result *r)
{
	char err[1024], *argv[SCHEDFILE_MAX_ARGS];
	int argc = 0;

	if (!p->o.record)
		return;
	if (!r->found) {
		fprintf(stderr, "%s: --record: no schedule showed a violation; "
			"%s not written\n", cli_prog, p->o.record);
		return;
	}
	/* "check" and the command's arguments but --record's own. */
	argv[argc++] = "check";
	for (int i = 0; i < p->o.argc && argc < SCHEDFILE_MAX_ARGS; i++) {
		if (!strcmp(p->o.argv[i], "--record")) {
			i++;
			continue;
		}
		if (strncmp(p->o.argv[i], "--record=", 9))
			argv[argc++] = p->o.argv[i];
	}
	if (schedfile_write(p->o.record, argc, argv, r->res.steps, r->res.log,
			   r->res.nlog, err, sizeof(err)))
		usage_error("--record: %s", err);
}

static void explore_opts_fill(const struct parsed *p, const struct scenario *s,
			      struct explore_opts *eo, struct schedfile *rec)
{
	char err[1024];

	memset(eo, 0, sizeof(*eo));
	eo->preemptions = p->o.cfg.sched.preemptions >= 0 ?
			  p->o.cfg.sched.preemptions :
			  s->preemptions >= 0 ? s->preemptions : 2;
	eo->budget = p->schedules_set ? p->o.schedules : 10000;
	eo->seed = p->o.sched_seed_set ? p->o.sched_seed : p->o.seed;
	eo->depth = p->o.cfg.sched.depth;
	eo->want = s->expect_violation ? s->expect_kind : -1;
	eo->iterate = s->expect_violation;
	eo->keep_log = p->o.record != NULL;
	eo->trace = p->trace ? stdout : NULL;
	eo->mode = EXPLORE_SYSTEMATIC;
	if (p->strategy_set)
		eo->mode = p->o.cfg.sched.strategy == SHD_STRATEGY_PCT ?
			   EXPLORE_PCT : EXPLORE_RANDOM;
	if (p->choices) {
		if (explore_choices_check(p->choices, err, sizeof(err)))
			usage_error("%s", err);
		eo->mode = EXPLORE_CHOICES;
		eo->choices = p->choices;
	}
	if (p->o.replay) {
		if (schedfile_read(p->o.replay, rec, err, sizeof(err)))
			usage_error("--replay: %s", err);
		eo->mode = EXPLORE_REPLAY;
		eo->replay = rec->d;
		eo->nreplay = rec->n;
	}
}

/* Each injected fault's firings over the runs; whether one never fired. */
static bool print_faults(const struct scenario *s,
			 const struct explore_result *r)
{
	size_t nf;
	const struct shd_named *f = shd_faults(&nf);
	bool unfired = false;

	for (int i = 0; i < SHD_FAULT__COUNT; i++) {
		if (!(s->faults >> i & 1))
			continue;
		printf("  fault %s fired %" PRIu64 " times, detected %" PRIu64
		       " (over %u runs)\n", f[i].name, r->fired[i], r->detected,
		       r->runs);
		unfired |= !r->fired[i];
	}
	return unfired;
}

/* The verdict: 0 when the expectation holds, 1 when not, 3 incomplete (a
 * stop, or an injected fault that never fired in any run: 3 first). */
static int verdict(const struct parsed *p, const struct scenario *s,
		   const struct explore_opts *eo, const struct explore_result *r)
{
	const char *kind = s->expect_kind >= 0 ? shd_violation_kind_name(
		(enum shd_violation_kind)s->expect_kind) : "any";
	bool unfired;

	if (r->stopped && r->res.status == SCN_OP_ERROR)
		usage_error("%s", r->res.err);
	print_account(eo, r);
	unfired = print_faults(s, r);
	for (int i = 0; unfired && i < SHD_FAULT__COUNT; i++)
		if (s->faults >> i & 1 && !r->fired[i])
			faults_never_fired((enum shd_fault)i, s->file);
	if (r->stopped) {
		printf("  %s\ncheck: INCOMPLETE\n", r->res.err);
		return EXIT_INCOMPLETE;
	}
	if (r->found) {
		printf("  %s\n", r->res.first.text);
		if (r->res.violations > 1)
			printf("  (%" PRIu64 " violations in that schedule)\n",
			       r->res.violations);
		print_replay(p, r);
	}
	if (s->expect_violation) {
		printf("check: %s (expect violation %s: %s)\n", r->found ?
		       "PASSED" : "FAILED", kind, r->found ? "seen" :
		       "no schedule showed one");
		return unfired ? EXIT_INCOMPLETE : r->found ? EXIT_CLEAN :
		       EXIT_VIOLATION;
	}
	printf("check: %s (expect clean%s)\n", r->found ? "FAILED" : "PASSED",
	       r->found ? ": the schedule above has a violation" :
	       r->exhaustive ? ": every schedule clean" :
	       ": every schedule run was clean");
	return unfired ? EXIT_INCOMPLETE : r->found ? EXIT_VIOLATION :
	       EXIT_CLEAN;
}

int check_scenario(struct parsed *p)
{
	struct scenario s;
	struct schedfile rec = { 0 };
	struct explore_opts eo;
	struct explore_result r;
	char err[1024];
	int rc;

	refuse_machine_options(p);
	if (scenario_read(p->scenario, &s, err, sizeof(err))) {
		scenario_free(&s);
		usage_error("%s", err);
	}
	explore_opts_fill(p, &s, &eo, &rec);
	print_head(&s);
	fflush(stdout);
	if ((rc = explore(&s, &eo, &r, err, sizeof(err)))) {
		if (rc == -2)
			usage_error("%s", err);
		fprintf(stderr, "%s: %s\n", cli_prog, err);
		rc = EXIT_INCOMPLETE;
	} else {
		record(p, &r);
		rc = verdict(p, &s, &eo, &r);
		if (p->minimize && r.found && s.expect_violation)
			rc = check_minimize(p) ? EXIT_INCOMPLETE : rc;
	}
	free(r.res.log);
	schedfile_free(&rec);
	scenario_free(&s);
	return rc;
}
