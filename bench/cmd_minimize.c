/* SPDX-License-Identifier: MIT */
/* shootdown minimize: a failing check run (or scenario) shrunk to a small
 * scenario that still fails; also check --minimize. */

/*
 * Theory of operation.
 *
 * A check run's operations are a function of its options, so minimize
 * runs the random mix again with the same options and the recording shim
 * on (bench/workloads/oplog.c): every library call, per CPU, as a scenario
 * op, until the first violation, after which nothing that starts can
 * matter.  The log becomes a scenario (the check's machine, the mix's mms
 * A B C and files F G, its setup, one block per CPU), parsed back with
 * scenario_parse() so that what minimize shrinks is a scenario like any
 * other, and each op keeps the order it started in.  minimize.c shrinks
 * it; the result is written with a comment saying where it came from.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minimize.h"
#include "scenario.h"
#include "schedfile.h"
#include "workloads/oplog.h"

struct mz_cmd {
	const char *output;		/* -o FILE; NULL: stdout */
	unsigned budget;		/* --budget N */
	int argc;			/* the check command's arguments */
	char **argv;
	struct schedfile rec;		/* REPLAY_FILE, when given */
};

/* The check command, as a line for the output's comment. */
static void args_text(int argc, char **argv, char *buf, size_t len)
{
	size_t at = (size_t)snprintf(buf, len, "shootdown check");

	for (int i = 0; i < argc && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at,
				       strpbrk(argv[i], " '\"$\\") ? " '%s'" :
				       " %s", argv[i]);
}

/* What a scenario cannot say: refuse it rather than shrink another run. */
static void refuse_unsupported(const struct wl_opts *o)
{
	struct shd_config d;

	shd_config_init(&d);
	if (o->cfg.page_shift != 12)
		usage_error("minimize: scenarios run with 4 KiB pages (drop "
			    "--page-shift)");
	if (o->cfg.nframes != d.nframes)
		usage_error("minimize: scenarios run with %" PRIu64 " frames "
			    "(drop --frames)", d.nframes);
	if (o->cfg.split_tlb || o->cfg.dtlb.entries != d.dtlb.entries ||
	    o->cfg.dtlb.ways != d.dtlb.ways)
		usage_error("minimize: scenarios run with the default TLB (drop "
			    "--tlb, --itlb)");
}

static void write_directives(FILE *f, const struct wl_opts *o,
			     const struct oplog *lg)
{
	size_t nf;
	const struct shd_named *faults = shd_faults(&nf);

	fprintf(f, "cpus %u\npolicy %s\narch %s\n", o->ncpus, o->policy,
		o->cfg.arch.name);
	for (size_t i = 0; i < nf && i < 64; i++)
		if (o->cfg.faults >> i & 1)
			fprintf(f, "inject %s\n", faults[i].name);
	for (unsigned i = 0; i < o->nsets; i++) {
		struct shd_policy scratch;
		char kv[64], *eq;

		snprintf(kv, sizeof(kv), "%s", o->sets[i]);
		eq = strchr(kv, '=');
		*eq = 0;
		shd_policy_preset("linux", &scratch);
		if (!shd_policy_set(&scratch, kv, eq + 1))	/* a policy knob */
			fprintf(f, "set %s\n", o->sets[i]);
	}
	fprintf(f, "expect violation %s\n", shd_violation_kind_name(lg->first.kind));
	for (unsigned n = 0; n < lg->ndeclared; n++) {
		if (lg->names[n].pages)
			fprintf(f, "file %s %" PRIu64 "\n", lg->names[n].name,
				lg->names[n].pages);
		else
			fprintf(f, "mm %s\n", lg->names[n].name);
	}
}

/* The log up to its stop as a scenario's text (malloc'd), block by block. */
static char *log_text(const struct wl_opts *o, const struct oplog *lg,
		      size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	fprintf(f, "shootdown-scenario 1\n");
	write_directives(f, o, lg);
	for (unsigned b = 0; b <= o->ncpus; b++) {
		uint32_t who = b == o->ncpus ? OPLOG_SETUP : b;

		if (who == OPLOG_SETUP)
			fprintf(f, "setup\n");
		else
			fprintf(f, "cpu %u\n", b);
		for (size_t i = 0; i < lg->stop_at; i++)
			if (lg->e[i].cpu == who)
				fprintf(f, "\t%s\n", oplog_text(lg, i));
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}

/* Each op's seq: the index of its entry in the log (the order it ran). */
static void seq_assign(struct scenario *s, const struct oplog *lg)
{
	unsigned at[SCN_MAX_CPUS + 1] = { 0 };

	for (size_t i = 0; i < lg->stop_at; i++) {
		unsigned b = lg->e[i].cpu == OPLOG_SETUP ? SCN_SETUP : lg->e[i].cpu;

		if (b <= SCN_SETUP && at[b] < s->blocks[b].n)
			s->blocks[b].op[at[b]++].seq = i;
	}
}

/*
 * Run the check O describes with the shim on, over its schedules (sched
 * seeds S, S+1, .. as check --schedules) until one shows a violation; the
 * recorded failing run as a scenario in OUT.  0, 1 (no violation), or an
 * exit status.
 */
static int record_run(struct wl_opts *o, const struct schedfile *rec,
		      struct scenario *out, struct oplog *lg)
{
	const struct workload *w = wl_find("random");
	unsigned tries = o->schedules ? o->schedules : 1;
	char err[1024], *text;
	size_t len;
	int rc = 1;

	for (unsigned k = 0; k < tries && rc == 1; k++) {
		struct wl_result res;
		int e;

		oplog_init(lg);
		o->oplog = lg;
		o->cfg.sched.seed += k ? 1 : 0;
		if (rec && rec->n) {
			o->cfg.sched.strategy = SHD_STRATEGY_REPLAY;
			o->cfg.sched.replay = rec->d;
			o->cfg.sched.nreplay = rec->n;
		}
		e = wl_execute(w, o, o->policy, &res, err, sizeof(err));
		free(res.sched_log);
		if (e == WL_BAD_INPUT)
			usage_error("%s", err);
		if (e < 0 || lg->nomem) {
			fprintf(stderr, "%s: minimize: the run could not complete: "
				"%s\n", cli_prog, lg->nomem ? "the log is "
				"incomplete (out of memory)" : err);
			return EXIT_INCOMPLETE;
		}
		if (lg->stopped)
			rc = 0;
		else
			oplog_free(lg);
	}
	if (rc)
		return rc;
	if (!(text = log_text(o, lg, &len))) {
		fprintf(stderr, "%s: minimize: out of memory\n", cli_prog);
		return EXIT_INCOMPLETE;
	}
	if (scenario_parse("the recorded run", text, len, out, err, sizeof(err))) {
		fprintf(stderr, "%s: minimize: the recorded run is not a scenario "
			"(a bug): %s\n", cli_prog, err);
		free(text);
		return EXIT_INCOMPLETE;
	}
	free(text);
	seq_assign(out, lg);
	return 0;
}

static int shrink_and_write(const struct mz_cmd *mc, const struct scenario *s,
			    const struct shd_sched_config *orig,
			    const char *from, const char *first)
{
	struct mz_opts mo = { .kind = s->expect_kind, .budget = mc->budget,
			      .preemptions = 2, .ordered = orig != NULL,
			      .orig = orig, .progress = true };
	struct mz_stats st = { 0 };
	struct scenario m;
	char err[1024], comment[2048];
	FILE *f = stdout;
	int rc;

	if (minimize_scenario(s, &mo, &m, &st, err, sizeof(err))) {
		fprintf(stderr, "%s: minimize: %s\n", cli_prog, err);
		return EXIT_INCOMPLETE;
	}
	snprintf(comment, sizeof(comment), "Minimized by shootdown minimize from:\n"
		 "  %s\nwhose first violation was:\n  %.300s\n%u ops of %u left; "
		 "%u candidates, %u runs, %.1f s.", from, first, st.to_ops,
		 st.from_ops, st.tests, st.runs, st.seconds);
	free(m.comment);
	m.comment = strdup(comment);
	if (mc->output && !(f = fopen(mc->output, "w")))
		usage_error("-o %s: cannot write: %s", mc->output, strerror(errno));
	rc = scenario_write(f, &m);
	if (f != stdout && fclose(f))
		rc = -1;
	fprintf(stderr, "%s: minimize: %u ops of %u, %u candidates in %.1f s%s%s\n",
		cli_prog, st.to_ops, st.from_ops, st.tests, st.seconds,
		mc->output ? ": " : "", mc->output ? mc->output : "");
	scenario_free(&m);
	return rc ? EXIT_INCOMPLETE : EXIT_CLEAN;
}

/* The check command MC names, run again, recorded and shrunk. */
static int minimize_check(struct mz_cmd *mc, struct parsed *p)
{
	struct scenario s;
	struct oplog lg;
	char from[1024], err[512];
	int rc;

	args_text(mc->argc, mc->argv, from, sizeof(from));
	if (p->scenario) {	/* a scenario: shrink it as it is */
		if (scenario_read(p->scenario, &s, err, sizeof(err))) {
			scenario_free(&s);
			usage_error("%s", err);
		}
		if (!s.expect_violation || s.expect_kind < 0)
			usage_error("minimize: %s must expect a violation of one "
				    "kind (expect violation KIND)", p->scenario);
		rc = shrink_and_write(mc, &s, NULL, from, "(as the file says)");
		scenario_free(&s);
		return rc;
	}
	refuse_unsupported(&p->o);
	if (p->o.ncpus > SCN_MAX_CPUS)
		usage_error("minimize: scenarios have at most %d CPUs",
			    SCN_MAX_CPUS);
	rc = record_run(&p->o, mc->rec.n ? &mc->rec : NULL, &s, &lg);
	if (rc == 1) {
		fprintf(stderr, "%s: minimize: the run shows no violation: "
			"nothing to minimize\n", cli_prog);
		return EXIT_CLEAN;
	}
	if (rc)
		return rc;
	fprintf(stderr, "%s: minimize: %u ops recorded up to the first "
		"violation: %s\n", cli_prog, scenario_ops(&s), lg.first.text);
	rc = shrink_and_write(mc, &s, &p->o.cfg.sched, from, lg.first.text);
	scenario_free(&s);
	oplog_free(&lg);
	return rc;
}

int check_minimize(struct parsed *p)
{
	struct mz_cmd mc = { .budget = 200, .argc = 0 };
	char *argv[256];

	/* The command's own arguments, less --minimize. */
	for (int i = 0; i < p->o.argc && mc.argc < 255; i++)
		if (strcmp(p->o.argv[i], "--minimize"))
			argv[mc.argc++] = p->o.argv[i];
	mc.argv = argv;
	fflush(stdout);
	return minimize_check(&mc, p);
}

static void minimize_help(void)
{
	printf("usage: shootdown minimize [-o FILE] [--budget N] REPLAY_FILE\n"
	       "       shootdown minimize [-o FILE] [--budget N] -- CHECK-OPTIONS\n"
	       "\nShrink a failing check run to a small scenario that still "
	       "fails (docs/scenarios.md):\nthe run again with every library "
	       "call recorded up to its first violation,\nthen delta debugging "
	       "over its CPUs and ops.  REPLAY_FILE is a schedule written\nby "
	       "check --record; CHECK-OPTIONS are a check command's options "
	       "(--scenario FILE\nshrinks that scenario).\n\n"
	       "  -o, --output FILE    write the scenario there (default stdout)\n"
	       "  --budget N           schedules a small candidate's search may "
	       "run (default 200)\n"
	       "  --help               this help\n");
}

int cmd_minimize(int argc, char **argv)
{
	struct mz_cmd mc = { .budget = 200 };
	struct parsed p;
	const char *replay = NULL;
	char err[1024];
	int i, rc;

	for (i = 0; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			minimize_help();
			return EXIT_CLEAN;
		} else if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output") ||
			   !strcmp(argv[i], "--budget")) {
			if (i + 1 >= argc)
				usage_error("minimize: %s needs a value", argv[i]);
			if (!strcmp(argv[i], "--budget"))
				mc.budget = (unsigned)cli_u64(argv[i], argv[i + 1],
							      1, 1000000);
			else
				mc.output = argv[i + 1];
			i++;
		} else if (argv[i][0] == '-') {
			usage_error("minimize: unknown option '%s' (see --help)",
				    argv[i]);
		} else if (replay) {
			usage_error("minimize: one REPLAY_FILE (also '%s'?)",
				    argv[i]);
		} else {
			replay = argv[i];
		}
	}
	if ((replay != NULL) == (i < argc))
		usage_error("minimize: give a REPLAY_FILE or -- and a check "
			    "command's options (see --help)");
	if (replay) {
		if (schedfile_read(replay, &mc.rec, err, sizeof(err)))
			usage_error("minimize: %s", err);
		mc.argc = mc.rec.argc - 1;	/* after "check" */
		mc.argv = mc.rec.argv + 1;
	} else {
		mc.argc = argc - i - 1;
		mc.argv = argv + i + 1;
	}
	if (cli_start(&p, CMD_CHECK, mc.argc, mc.argv, "check [options]", ""))
		return EXIT_CLEAN;
	if (!p.scenario)
		cli_finish(&p.o, wl_find("random"));
	rc = minimize_check(&mc, &p);
	schedfile_free(&mc.rec);
	return rc;
}
