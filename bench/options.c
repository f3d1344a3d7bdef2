/* SPDX-License-Identifier: MIT */
/* Options of the CLI: one table says which command takes which option and
 * gives its help; parsing, "did you mean", and --set resolution. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- values ---- */

uint64_t cli_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!s || *s < '0' || *s > '9')	/* no sign, no blanks */
		usage_error("%s: '%s' is not a non-negative number", opt, s ? s : "");
	v = strtoull(s, &end, 10);	/* decimal only: 010 is ten */
	if (*end || errno == ERANGE)
		usage_error("%s: '%s' is not a number", opt, s);
	if (v < lo || v > hi)
		usage_error("%s: %s is out of range %" PRIu64 "..%" PRIu64, opt, s,
			    lo, hi);
	return v;
}

static void parse_geometry(const char *opt, const char *s,
			   struct shd_tlb_geometry *g)
{
	char buf[64], *colon;

	snprintf(buf, sizeof(buf), "%s", s);
	colon = strchr(buf, ':');
	if (!colon)
		usage_error("%s: '%s' is not ENTRIES:WAYS", opt, s);
	*colon = 0;
	g->entries = (unsigned)cli_u64(opt, buf, 1, 1u << 20);
	g->ways = (unsigned)cli_u64(opt, colon + 1, 1, 255);
}

unsigned cli_split(char *buf, char **out, unsigned max, const char *opt)
{
	unsigned n = 0;
	char *tok = buf;

	for (;;) {
		char *comma = strchr(tok, ',');

		if (comma)
			*comma = 0;
		if (!*tok)
			usage_error("%s: an empty item in the list", opt);
		if (n == max)
			usage_error("%s: more than %u items", opt, max);
		out[n++] = tok;
		if (!comma)
			return n;
		tok = comma + 1;
	}
}

static void copy_value(char *dst, size_t len, const char *opt, const char *v)
{
	if (!*v || strlen(v) >= len)
		usage_error("%s: '%.40s' is empty or too long", opt, v);
	snprintf(dst, len, "%s", v);
}

/* ---- the option table ---- */

#define CMD_RUNS (CMD_RUN | CMD_COMPARE | CMD_SWEEP | CMD_CHECK | CMD_DEFAULT)
#define CMD_MULTI (CMD_COMPARE | CMD_DEFAULT)

/* Lists the help prints from the library's (or the registry's) tables. */
enum opt_list { L_NONE, L_WORKLOADS, L_POLICIES, L_ARCHS, L_FAULTS, L_KNOBS };

struct cli_option {
	const char *name;
	const char *arg;		/* NULL: a flag */
	unsigned cmds;			/* CMD_* that take it */
	enum opt_list list;		/* names the help lists after the text */
	const char *help;
	void (*apply)(struct parsed *p, const char *opt, const char *val);
};

static void set_workload(struct parsed *p, const char *opt, const char *v)
{
	(void)opt;
	p->o.workload = cli_workload(v)->name;
	if (p->o.trace_file && strcmp(p->o.workload, "trace"))
		usage_error("--trace replays a trace: it takes no --workload %s",
			    v);
}

/* --trace FILE (run, compare, sweep), --trace-file FILE (check): the
 * trace workload, whose check() reads FILE (file:line errors, exit 2). */
static void set_trace_file(struct parsed *p, const char *opt, const char *v)
{
	if (p->o.workload && strcmp(p->o.workload, "trace"))
		usage_error("%s replays a trace: it takes no --workload %s", opt,
			    p->o.workload);
	if (!*v)
		usage_error("%s needs a file", opt);
	p->o.trace_file = v;
	p->o.workload = "trace";
}

static void set_record_pid(struct parsed *p, const char *opt, const char *v)
{
	p->record_pid = (unsigned)cli_u64(opt, v, 1, INT32_MAX);
}

static void set_record_duration(struct parsed *p, const char *opt,
				const char *v)
{
	p->record_s = (unsigned)cli_u64(opt, v, 1, 86400);
}

static void set_output(struct parsed *p, const char *opt, const char *v)
{
	if (!*v)
		usage_error("%s needs a file", opt);
	p->output = v;
}

static void set_policy(struct parsed *p, const char *opt, const char *v)
{
	(void)opt;
	cli_need_policy(v);
	p->o.policy = v;
}

static void set_policies(struct parsed *p, const char *opt, const char *v)
{
	char buf[256], *items[8];
	unsigned n;

	copy_value(p->policies, sizeof(p->policies), opt, v);
	snprintf(buf, sizeof(buf), "%s", v);
	n = cli_split(buf, items, 8, opt);
	for (unsigned i = 0; i < n; i++)
		cli_need_policy(items[i]);
}

static void set_cpus(struct parsed *p, const char *opt, const char *v)
{
	/* The last --cpus wins, list or not. */
	if (strchr(v, ',')) {
		if (!(p->cmd & CMD_MULTI))
			usage_error("%s takes one --cpus value (compare takes a "
				    "list)", p->cmd == CMD_RUN ? "run" :
				    p->cmd == CMD_SWEEP ? "sweep" :
				    p->cmd == CMD_HOST ? "host" : "check");
		copy_value(p->cpus_list, sizeof(p->cpus_list), opt, v);
	} else {
		p->o.ncpus = (unsigned)cli_u64(opt, v, 1, SHD_MAX_CPUS);
		p->cpus_list[0] = 0;
	}
}

static void set_ops(struct parsed *p, const char *opt, const char *v)
{
	p->o.ops = cli_u64(opt, v, 1, 1ull << 40);
	p->o.ops_set = true;
}

static void set_seed(struct parsed *p, const char *opt, const char *v)
{
	p->o.seed = cli_u64(opt, v, 0, UINT64_MAX);
}

static void set_set(struct parsed *p, const char *opt, const char *kv)
{
	const char *e = strchr(kv, '=');
	struct wl_opts *o = &p->o;

	(void)opt;
	if (!e || e == kv || !e[1])
		usage_error("--set: '%s' is not KNOB=VALUE", kv);
	if (o->nsets == WL_MAX_SETS)
		usage_error("--set: at most %d overrides", WL_MAX_SETS);
	if (strlen(kv) >= sizeof(o->sets[0]))
		usage_error("--set: '%s' is too long", kv);
	/* Checked once the workload is known (its knobs). */
	snprintf(o->sets[o->nsets++], sizeof(o->sets[0]), "%s", kv);
}

static void set_inject(struct parsed *p, const char *opt, const char *v)
{
	char buf[256], *items[SHD_FAULT__COUNT];
	struct wl_opts *o = &p->o;
	unsigned n;

	snprintf(buf, sizeof(buf), "%s", v);
	n = cli_split(buf, items, SHD_FAULT__COUNT, opt);
	for (unsigned k = 0; k < n; k++) {
		int f = shd_fault_lookup(items[k]);
		size_t nf;
		const struct shd_named *all = shd_faults(&nf);

		if (f < 0)
			cli_unknown_name("fault", items[k],
				      cli_suggest_named(items[k], all, nf));
		o->cfg.faults |= 1ull << f;
	}
	snprintf(o->faults_text + strlen(o->faults_text),
		 sizeof(o->faults_text) - strlen(o->faults_text),
		 " --inject %s", v);
}

static void set_format(struct parsed *p, const char *opt, const char *v)
{
	static const char *const names[] = { "table", "json", "csv", "wis",
					     "interrupts" };
	unsigned ok = p->cmd & (CMD_LIST | CMD_CALIBRATE | CMD_HOST) ? 2 :
		      p->cmd == CMD_RUN ? 5 : 3;

	for (unsigned i = 0; i < ok; i++)
		if (!strcmp(v, names[i])) {
			p->o.format = (enum out_format)i;
			return;
		}
	usage_error("%s: '%s' is not one of %s", opt, v, ok == 2 ? "table, json" :
		    ok == 3 ? "table, json, csv" :
		    "table, json, csv, wis, interrupts");
}

static void set_trace_out(struct parsed *p, const char *opt, const char *v)
{
	if (!*v)
		usage_error("%s: an empty file name", opt);
	if (p->o.trace_fp)
		usage_error("%s given twice", opt);
	if (!(p->o.trace_fp = fopen(v, "w")))
		usage_error("%s %s: cannot write: %s", opt, v, strerror(errno));
	p->o.trace_out = v;
}

static void set_arch(struct parsed *p, const char *opt, const char *v)
{
	char name[64];
	size_t n;
	const struct shd_named *all = shd_arch_presets(&n);

	if (shd_arch_preset(v, &p->o.cfg.arch) == 0)
		return;
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(v, ","), v);
	if (shd_arch_preset(name, &p->o.cfg.arch) < 0)	/* the name, not an option */
		cli_unknown_name("architecture", name, cli_suggest_named(name, all, n));
	usage_error("%s: %s", opt, shd_last_error());
}

static void set_tlb(struct parsed *p, const char *opt, const char *v)
{
	parse_geometry(opt, v, &p->o.cfg.dtlb);
}

static void set_itlb(struct parsed *p, const char *opt, const char *v)
{
	parse_geometry(opt, v, &p->o.cfg.itlb);
	p->o.cfg.split_tlb = true;
}

static void set_page_shift(struct parsed *p, const char *opt, const char *v)
{
	p->o.cfg.page_shift = (unsigned)cli_u64(opt, v, 12, 30);
}

static void set_frames(struct parsed *p, const char *opt, const char *v)
{
	p->o.cfg.nframes = cli_u64(opt, v, 16, 1ull << 24);
}

static void set_watchdog(struct parsed *p, const char *opt, const char *v)
{
	p->o.cfg.watchdog_ms = (unsigned)cli_u64(opt, v, 0, 3600000);
}

static void set_no_oracle(struct parsed *p, const char *opt, const char *v)
{
	(void)opt, (void)v;
	p->o.cfg.oracle = false;
}

static void set_no_bind(struct parsed *p, const char *opt, const char *v)
{
	(void)opt, (void)v;
	p->o.cfg.bind = false;
}

static void set_all(struct parsed *p, const char *opt, const char *v)
{
	(void)opt, (void)v;
	p->o.all_rows = true;
}

static void set_duration(struct parsed *p, const char *opt, const char *v)
{
	p->o.duration_s = (unsigned)cli_u64(opt, v, 1, 3600);
}

static void set_warmup(struct parsed *p, const char *opt, const char *v)
{
	p->o.warmup_s = (unsigned)cli_u64(opt, v, 0, 3600);
}

static void set_param(struct parsed *p, const char *opt, const char *v)
{
	copy_value(p->param, sizeof(p->param), opt, v);
}

static void set_plot(struct parsed *p, const char *opt, const char *v)
{
	copy_value(p->plot, sizeof(p->plot), opt, v);
}

static void set_jobs(struct parsed *p, const char *opt, const char *v)
{
	p->jobs = (unsigned)cli_u64(opt, v, 1, 256);
}

static void set_emit_jobs(struct parsed *p, const char *opt, const char *v)
{
	(void)opt, (void)v;
	p->emit_jobs = true;
}

static void set_refine(struct parsed *p, const char *opt, const char *v)
{
	(void)opt, (void)v;
	p->refine = true;
}

static void set_sched(struct parsed *p, const char *opt, const char *v)
{
	int mode = shd_sched_mode_parse(v);

	if (mode < 0)
		usage_error("%s: '%s' is not one of seeded, host", opt, v);
	p->o.cfg.sched.mode = (enum shd_sched_mode)mode;
	p->sched_set = true;
}

static void set_repeat(struct parsed *p, const char *opt, const char *v)
{
	p->o.repeat = (unsigned)cli_u64(opt, v, 1, WL_MAX_REPEAT);
}

/* An option of the seeded scheduler: noted, so that --sched host refuses it. */
static void seeded_option(struct parsed *p, const char *opt)
{
	if (!p->o.sched_given)
		snprintf(p->o.sched_opt, sizeof(p->o.sched_opt), "%s", opt);
	p->o.sched_given = true;
}

static void set_strategy(struct parsed *p, const char *opt, const char *v)
{
	int s = shd_strategy_parse(v);

	if (s < 0)
		usage_error("%s: '%s' is not one of random, pct", opt, v);
	p->o.cfg.sched.strategy = (enum shd_strategy)s;
	p->strategy_set = true;
	seeded_option(p, opt);
}

static void set_depth(struct parsed *p, const char *opt, const char *v)
{
	p->o.cfg.sched.depth = (unsigned)cli_u64(opt, v, 1, 16);
	seeded_option(p, opt);
}

static void set_switch_every(struct parsed *p, const char *opt, const char *v)
{
	p->o.cfg.sched.run = (unsigned)cli_u64(opt, v, 1, 1u << 30);
	seeded_option(p, opt);
}

static void set_no_store_buffers(struct parsed *p, const char *opt,
				 const char *v)
{
	(void)v;
	p->o.cfg.sched.store_buffers = false;
	seeded_option(p, opt);
}

static void set_preemptions(struct parsed *p, const char *opt, const char *v)
{
	p->o.cfg.sched.preemptions = (int)cli_u64(opt, v, 0, 1000000000);
	seeded_option(p, opt);
}

static void set_sched_seed(struct parsed *p, const char *opt, const char *v)
{
	p->o.sched_seed = cli_u64(opt, v, 0, UINT64_MAX);
	p->o.sched_seed_set = true;
	seeded_option(p, opt);
}

static void set_schedules(struct parsed *p, const char *opt, const char *v)
{
	p->o.schedules = (unsigned)cli_u64(opt, v, 1, 1000000000);
	p->schedules_set = true;
	seeded_option(p, opt);
}

static void set_record(struct parsed *p, const char *opt, const char *v)
{
	p->o.record = v;
	seeded_option(p, opt);
}

static void set_replay(struct parsed *p, const char *opt, const char *v)
{
	p->o.replay = v;
	seeded_option(p, opt);
}

static void set_scenario(struct parsed *p, const char *opt, const char *v)
{
	(void)opt;
	p->scenario = v;
}

static void set_choices(struct parsed *p, const char *opt, const char *v)
{
	(void)opt;
	p->choices = v;
}

static void set_watch(struct parsed *p, const char *opt, const char *v)
{
	p->watch = (unsigned)cli_u64(opt, v, 1, 86400);
}

static void set_minimize(struct parsed *p, const char *opt, const char *v)
{
	(void)opt, (void)v;
	p->minimize = true;
}

static void set_trace(struct parsed *p, const char *opt, const char *v)
{
	(void)opt, (void)v;
	p->trace = true;
}

static void set_emit_set(struct parsed *p, const char *opt, const char *v)
{
	(void)opt, (void)v;
	p->emit_set = true;
}

/* Decimal only, as cost.* values: digits and one point, 0 < X <= 10. */
static void set_ghz(struct parsed *p, const char *opt, const char *v)
{
	char *end;
	double g;

	if (strspn(v, "0123456789.") != strlen(v) || v[0] < '0' || v[0] > '9' ||
	    strchr(v, '.') != strrchr(v, '.'))
		usage_error("%s: '%s' is not a decimal number of GHz", opt, v);
	errno = 0;
	g = strtod(v, &end);
	if (*end || errno || !(g > 0 && g <= 10))
		usage_error("%s: %s is out of range (0, 10] GHz", opt, v);
	p->ghz = g;
}

/* Loaded before the other options are parsed (cli_parse()), so that a
 * policy's name and knobs are known wherever they come on the line. */
static void set_policy_lib(struct parsed *p, const char *opt, const char *v)
{
	(void)p, (void)opt, (void)v;
}

/* main.c runs run/compare under perf before parsing: nothing to do here. */
static void set_perf(struct parsed *p, const char *opt, const char *v)
{
	(void)p, (void)opt, (void)v;
}

/* The first entry whose name matches and whose commands include the one
 * being parsed applies; later entries of the same name differ in help. */
static const struct cli_option options[] = {
	{ "--workload", "NAME", CMD_RUN | CMD_SWEEP | CMD_MULTI | CMD_HOST,
	  L_WORKLOADS,
	  "the workload (knobs: 'list'); one of", set_workload },
	{ "--policy", "NAME", CMD_RUN | CMD_SWEEP | CMD_CHECK | CMD_HOST,
	  L_POLICIES,
	  "the policy (default linux); one of", set_policy },
	{ "--policy-lib", "FILE[:NAME]", CMD_RUNS | CMD_LIST, L_NONE,
	  "load a policy written in C (repeatable): FILE's symbol "
	  "shd_policy_ops_NAME, or shd_policy_ops (<shootdown/policy_ops.h>); "
	  "its name then goes wherever a policy's does, its knobs to --set",
	  set_policy_lib },
	{ "--policies", "A,B[,..]", CMD_MULTI, L_POLICIES,
	  "policies; ratios are against the first (default broadcast,linux); of",
	  set_policies },
	{ "--cpus", "N[,M,..]", CMD_MULTI, L_NONE,
	  "simulated CPU counts, 1..1024 (default 8)", set_cpus },
	{ "--cpus", "N", CMD_CHECK, L_NONE,
	  "simulated CPUs, 1..1024 (default 4)", set_cpus },
	{ "--cpus", "N", CMD_RUN | CMD_SWEEP, L_NONE,
	  "simulated CPUs, 1..1024 (default 8)", set_cpus },
	{ "--watch", "S", CMD_HOST, L_NONE,
	  "instead of a twin: watch every CPU of this host for S seconds, "
	  "1..86400: TLB and CAL interrupts a second, tlb:tlb_flush reasons, "
	  "and the processes sending the shootdowns (root)", set_watch },
	{ "--cpus", "N", CMD_HOST, L_NONE,
	  "CPUs, simulated and on the host (the first N this process may "
	  "use), 1..256 (default 2)", set_cpus },
	{ "--ops", "N", CMD_RUN | CMD_MULTI | CMD_HOST, L_NONE,
	  "operations (default: the workload's)", set_ops },
	{ "--ops", "N", CMD_SWEEP, L_NONE,
	  "operations per point (default: the workload's)", set_ops },
	{ "--ops", "N", CMD_CHECK, L_NONE,
	  "operations in all (default 200000)", set_ops },
	{ "--param", "SPEC", CMD_SWEEP, L_NONE,
	  "NAME=LO..HI[:STEP|xFACTOR], a policy knob, cost.* key or workload "
	  "knob (default ceiling=0..128:8)", set_param },
	{ "--plot", "FILE", CMD_SWEEP, L_NONE,
	  "draw the cost curve with gnuplot (.svg or .png)", set_plot },
	{ "--jobs", "N", CMD_SWEEP, L_NONE,
	  "run N points at once in separate processes (default 1)", set_jobs },
	{ "--emit-jobs", NULL, CMD_SWEEP, L_NONE,
	  "print one self-contained command per point and stop", set_emit_jobs },
	{ "--refine", NULL, CMD_SWEEP, L_NONE,
	  "sweep again around the minimum, 8 times finer (and past an edge)",
	  set_refine },
	{ "--format", "table|json|csv|wis|interrupts", CMD_RUN, L_NONE,
	  "output (default table; docs/output-schema.md); wis: will-it-scale's "
	  "lines (tlb_flush2, a timed run); interrupts: /proc/interrupts' CAL "
	  "and TLB rows, a column a CPU, and vmstat's nr_tlb_* lines",
	  set_format },
	{ "--format", "table|json|csv", CMD_RUNS & ~CMD_RUN, L_NONE,
	  "output (default table; docs/output-schema.md)", set_format },
	{ "--format", "table|json", CMD_LIST | CMD_CALIBRATE | CMD_HOST, L_NONE,
	  "output (default table)", set_format },
	{ "--emit-set", NULL, CMD_CALIBRATE, L_NONE,
	  "print the --set cost.*=CYCLES line for run/compare/sweep (the "
	  "measured costs; the rest keep their defaults, said on stderr)",
	  set_emit_set },
	{ "--ghz", "X", CMD_CALIBRATE, L_NONE,
	  "--emit-set: cycles at X GHz, 0 < X <= 10 (default: this host's, "
	  "from /proc/cpuinfo or cpufreq)", set_ghz },
	{ "--duration", "S", CMD_RUN, L_NONE,
	  "wis: measured seconds (default 5)", set_duration },
	{ "--warmup", "S", CMD_RUN, L_NONE,
	  "wis: warm-up seconds first (default 5)", set_warmup },
	{ "--all", NULL, CMD_RUN | CMD_MULTI, L_NONE,
	  "print every counter, also those zero in every column", set_all },
	{ "--set", "KNOB=VALUE", CMD_RUNS | CMD_HOST, L_KNOBS,
	  "override a knob (repeatable): a cost.* key, a workload's knob "
	  "('list'), or one of", set_set },
	{ "--inject", "FAULT[,..]", CMD_RUNS, L_FAULTS,
	  "inject protocol faults (repeatable); one or more of", set_inject },
	{ "--arch", "NAME", CMD_RUNS, L_ARCHS,
	  "caches of an architecture profile (default x86); one of", set_arch },
	{ "--tlb", "E:W", CMD_RUNS, L_NONE,
	  "data TLB entries and ways (default 1536:12)", set_tlb },
	{ "--itlb", "E:W", CMD_RUNS, L_NONE,
	  "split instruction TLB (default unified)", set_itlb },
	{ "--page-shift", "N", CMD_RUNS, L_NONE,
	  "page size 2^N bytes, 12..30 (default 12)", set_page_shift },
	{ "--frames", "N", CMD_RUNS, L_NONE,
	  "simulated physical pages (default 16384)", set_frames },
	{ "--watchdog-ms", "N", CMD_RUNS, L_NONE,
	  "report an unacknowledged IPI after N ms and stop, exit 3; 0=off "
	  "(default 5000)", set_watchdog },
	{ "--no-oracle", NULL, CMD_RUNS & ~CMD_CHECK, L_NONE,
	  "turn the stale-translation oracle off (default on)", set_no_oracle },
	{ "--no-bind", NULL, CMD_RUNS, L_NONE,
	  "do not pin CPU threads with hwloc (default pinned)", set_no_bind },
	{ "--seed", "S", CMD_RUNS | CMD_HOST, L_NONE,
	  "seed, reported with every violation (default 1)", set_seed },
	{ "--sched", "seeded|host", CMD_RUNS, L_NONE,
	  "who interleaves the CPUs: seeded (one CPU at a time, each choice "
	  "from the seed: the same counters on every run; the default) or host "
	  "(free-running pinned threads: host-time latencies; the default of "
	  "run --format wis)", set_sched },
	{ "--repeat", "N", CMD_RUN | CMD_MULTI | CMD_SWEEP, L_NONE,
	  "run each cell under N seeds (--seed, --seed+1, ..) and print the "
	  "median and min..max of each figure; compare calls a difference "
	  "inside the spread 'within noise' (default 1)", set_repeat },
	{ "--strategy", "random|pct", CMD_RUNS, L_NONE,
	  "seeded: random (a switch every 1..32 points, to a random CPU; "
	  "default) or pct (priorities, depth-1 change points)", set_strategy },
	{ "--depth", "D", CMD_RUNS, L_NONE,
	  "seeded, pct: the bug depth looked for, 1..16 (default 3)",
	  set_depth },
	{ "--switch-every", "N", CMD_RUNS, L_NONE,
	  "seeded, random: a switch every 1..2N points (default 16)",
	  set_switch_every },
	{ "--no-store-buffers", NULL, CMD_RUNS, L_NONE,
	  "seeded: protocol stores are seen at once (default: x86-TSO store "
	  "buffers, so a missing barrier can be caught)", set_no_store_buffers },
	{ "--preemptions", "N", CMD_RUNS, L_NONE,
	  "seeded: at most N switches away from a CPU that could go on "
	  "(default: no bound)", set_preemptions },
	{ "--sched-seed", "S", CMD_RUNS, L_NONE,
	  "seeded: the (first) schedule's seed (default: --seed)",
	  set_sched_seed },
	{ "--schedules", "N", CMD_CHECK, L_NONE,
	  "seeded: run N schedules (sched seeds S, S+1, ..), stop at the first "
	  "failure and print its replay line (default 1)", set_schedules },
	{ "--record", "FILE", CMD_CHECK, L_NONE,
	  "seeded: write the schedule (the failing one, else the last) to FILE "
	  "for --replay and minimize", set_record },
	{ "--replay", "FILE", CMD_CHECK, L_NONE,
	  "replay a recorded schedule exactly: the run's options come from "
	  "FILE (only --format and --record may be added)", set_replay },
	{ "--scenario", "FILE", CMD_CHECK, L_NONE,
	  "run a scenario file (docs/scenarios.md) under every schedule up to "
	  "--preemptions (default: the file's, else 2), or --schedules PCT "
	  "samples (default 10000) when there are more", set_scenario },
	{ "--choices", "K:CPU,..", CMD_CHECK, L_NONE,
	  "--scenario: run the one schedule these choices name (a failing "
	  "check prints them)", set_choices },
	{ "--trace", NULL, CMD_CHECK, L_NONE,
	  "--scenario with --choices or --replay: print each op's start and "
	  "return, CPU by CPU, in the order the schedule runs them",
	  set_trace },
	{ "--minimize", NULL, CMD_CHECK, L_NONE,
	  "on a violation, shrink the run to a small scenario that still "
	  "fails and print it (shootdown minimize)", set_minimize },
	{ "--trace-out", "FILE", CMD_RUN | CMD_CHECK, L_NONE,
	  "x86: write the run's tlb_flush tracepoint events to FILE, in "
	  "ftrace's text format (README, \"Output kernel people read\")",
	  set_trace_out },
	{ "--trace", "FILE", CMD_RUN | CMD_COMPARE | CMD_SWEEP, L_NONE,
	  "replay a program's recorded mm calls (shootdown record; "
	  "docs/trace-format.md): the trace workload", set_trace_file },
	{ "--trace-file", "FILE", CMD_CHECK, L_NONE,
	  "check a recorded trace's replay (shootdown record) instead of "
	  "random operations", set_trace_file },
	{ "--output", "FILE", CMD_RECORD, L_NONE,
	  "(-o) where the trace goes (default: COMMAND.trace, pid-PID.trace)",
	  set_output },
	{ "--pid", "PID", CMD_RECORD, L_NONE,
	  "(-p) attach to a running process and all its threads instead of "
	  "running a command; its mappings at attach come from "
	  "/proc/PID/maps; ^C or --duration stops", set_record_pid },
	{ "--duration", "S", CMD_RECORD, L_NONE,
	  "stop recording after S seconds (the program goes on running)",
	  set_record_duration },
	{ "--perf", NULL, CMD_RUN | CMD_COMPARE, L_NONE,
	  "count the USDT probes with perf stat too (scripts/perf-stat; root)",
	  set_perf },
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const char *cmd_name(unsigned cmd)
{
	static const char *const names[] = { "run", "compare", "sweep", "check",
					     "list", "calibrate", "shootdown",
					     "host", "record" };

	for (unsigned i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (cmd == 1u << i)
			return names[i];
	return "this command";
}

static const struct cli_option *find_option(const char *name, unsigned cmd)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (!strcmp(options[i].name, name) && (options[i].cmds & cmd))
			return &options[i];
	return NULL;
}

__attribute__((noreturn))
static void unknown_option(const char *name, unsigned cmd)
{
	const char *names[NOPTIONS], *s;
	size_t n = 0;

	for (size_t i = 0; i < NOPTIONS; i++)
		if (options[i].cmds & cmd)
			names[n++] = options[i].name;
	s = cli_suggest(name, names, n);
	for (size_t i = 0; !s && i < NOPTIONS; i++)
		if (!strcmp(options[i].name, name))
			usage_error("%s does not take %s (see its --help)",
				    cmd_name(cmd), name);
	if (s)
		usage_error("unknown option '%s'; did you mean '%s'? (see --help)",
			    name, s);
	usage_error("unknown option '%s' (see --help)", name);
}

static void cli_init(struct parsed *p, unsigned cmd)
{
	memset(p, 0, sizeof(*p));
	shd_config_init(&p->o.cfg);
	p->cmd = cmd;
	p->o.ncpus = cmd == CMD_CHECK ? 4 : cmd == CMD_HOST ? 2 : 8;
	p->o.seed = 1;
	p->o.policy = "linux";
	p->o.format = FMT_TABLE;
	p->o.duration_s = 5;	/* will-it-scale's defaults */
	p->o.schedules = 1;
	p->o.repeat = 1;
	/* Counters are the same on every run unless --sched host asks for
	 * host-time figures (run --format wis picks host itself). */
	p->o.cfg.sched.mode = SHD_SCHED_SEEDED;
	p->o.warmup_s = 5;
}

/* --policy-lib, first: the options after it may name what it loads. */
static void cli_load_policies(int argc, char **argv, struct parsed *p)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--policy-lib") && i + 1 < argc)
			cli_policy_lib(argv[++i]);
		else if (!strncmp(a, "--policy-lib=", 13))
			cli_policy_lib(a + 13);
	}
	p->o.nloaded = cli_loaded_policies(&p->o.loaded);
}

static void cli_parse(int argc, char **argv, struct parsed *p)
{
	p->o.argc = argc;
	p->o.argv = argv;
	if (find_option("--policy-lib", p->cmd))
		cli_load_policies(argc, argv, p);
	for (int i = 0; i < argc; i++) {
		char name[64];
		const char *arg = argv[i], *val = NULL, *eq;
		const struct cli_option *opt;

		if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			p->help = true;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0)
			usage_error("unexpected argument '%s' (see --help)", arg);
		eq = strchr(arg, '=');
		snprintf(name, sizeof(name), "%.*s",
			 (int)(eq ? (size_t)(eq - arg) : strlen(arg)), arg);
		if (eq)
			val = eq + 1;
		opt = find_option(name, p->cmd);
		if (!opt)
			unknown_option(name, p->cmd);
		if (!opt->arg && val)
			usage_error("%s takes no value", name);
		if (opt->arg && !val) {
			if (i + 1 >= argc)
				usage_error("%s needs a value", name);
			val = argv[++i];
		}
		opt->apply(p, name, val);
	}
}

/* ---- help ---- */

/* Print WORDS wrapped at 79 columns, indented like an option's help. */
static void help_words(const char *const *words, size_t n)
{
	int col = 23;

	printf("%*s", col, "");
	for (size_t i = 0; i < n; i++) {
		int len = (int)strlen(words[i]) + 1;	/* and its comma */

		if (i && col + 1 + len > 79) {
			printf("\n%*s", 23, "");
			col = 23;
		} else if (i) {
			putchar(' ');
			col++;
		}
		printf("%s%s", words[i], i + 1 < n ? "," : "\n");
		col += len;
	}
}

static void help_named(const struct shd_named *(*table)(size_t *count))
{
	const char *names[64];
	size_t n;
	const struct shd_named *v = table(&n);

	for (size_t i = 0; i < n && i < 64; i++)
		names[i] = v[i].name;
	help_words(names, n < 64 ? n : 64);
}

static void help_list(enum opt_list l)
{
	size_t n;

	switch (l) {
	case L_WORKLOADS: {
		const struct workload *const *w = wl_all(&n);
		const char *names[32];

		for (size_t i = 0; i < n && i < 32; i++)
			names[i] = w[i]->name;
		help_words(names, n < 32 ? n : 32);
		break;
	}
	case L_POLICIES:
		help_named(shd_policy_presets);
		break;
	case L_ARCHS:
		help_named(shd_arch_presets);
		break;
	case L_FAULTS:
		help_named(shd_faults);
		break;
	case L_KNOBS:
		help_named(shd_policy_knobs);
		break;
	case L_NONE:
		break;
	}
}

/* Print TEXT wrapped after the option column. */
static void help_text(const char *text, int col)
{
	const char *s = text;

	while (*s) {
		size_t len = strlen(s), cut = len;

		if ((int)len + col > 79) {
			cut = (size_t)(79 - col);
			while (cut > 0 && s[cut] != ' ')
				cut--;
			if (!cut)
				cut = len;
		}
		printf("%*s%.*s\n", col == 23 ? 0 : 23 - col, "", (int)cut, s);
		s += cut;
		while (*s == ' ')
			s++;
		col = 23;
		if (*s)
			printf("%*s", 23, "");
	}
}

static void cli_help(unsigned cmd, const char *usage, const char *about)
{
	printf("usage: shootdown %s\n\n%s%s", usage, about, *about ? "\n" : "");
	for (size_t i = 0; i < NOPTIONS; i++) {
		const struct cli_option *o = &options[i];
		char left[64];
		int len;

		if (!(o->cmds & cmd) || find_option(o->name, cmd) != o)
			continue;
		len = snprintf(left, sizeof(left), "  %s%s%s", o->name,
			       o->arg ? " " : "", o->arg ? o->arg : "");
		printf("%s", left);
		if (len >= 22) {
			printf("\n%*s", 23, "");
			len = 23;
		} else {
			printf("%*s", 23 - len, "");
			len = 23;
		}
		help_text(o->help, len);
		help_list(o->list);
	}
	printf("  %-20s this help\n", "--help");
}

void cli_print_word(FILE *f, const char *s)
{
	fprintf(f, strpbrk(s, " '\"$\\") ? "'%s'" : "%s", s);
}

bool cli_start(struct parsed *p, unsigned cmd, int argc, char **argv,
	       const char *usage, const char *about)
{
	cli_init(p, cmd);
	cli_parse(argc, argv, p);
	if (p->help)
		cli_help(cmd, usage, about);
	return p->help;
}
