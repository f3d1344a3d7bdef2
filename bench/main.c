/* SPDX-License-Identifier: MIT */
/* The shootdown CLI: run, compare, check, calibrate, list. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

static const char *prog = "shootdown";
static char self_path[4096] = "shootdown";	/* for commands we print */

__attribute__((noreturn, format(printf, 1, 2)))
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(EXIT_USAGE);
}

static uint64_t parse_u64(const char *opt, const char *s, uint64_t lo,
			  uint64_t hi)
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
	g->entries = (unsigned)parse_u64(opt, buf, 1, 1u << 20);
	g->ways = (unsigned)parse_u64(opt, colon + 1, 1, 255);
}

/* Split "a,b,c" into at most MAX pieces of BUF. */
static unsigned split_list(char *buf, char **out, unsigned max, const char *opt)
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

struct parsed {
	struct wl_opts o;
	char policies[256];
	char cpus_list[256];
	char param[128];
	char plot[256];
	unsigned jobs;
	bool emit_jobs;
	bool help;
};

static const char *need_value(int argc, char **argv, int *i, const char *opt,
			      const char *inline_val)
{
	if (inline_val)
		return inline_val;
	if (*i + 1 >= argc)
		usage_error("%s needs a value", opt);
	return argv[++*i];
}

static void parse_common(int argc, char **argv, struct parsed *p,
			 const char *allowed)
{
	struct wl_opts *o = &p->o;

	o->argc = argc;
	o->argv = argv;
	for (int i = 0; i < argc; i++) {
		char name[64];
		const char *arg = argv[i], *val = NULL, *eq;

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
		/* Only options this subcommand takes: " --x " in ALLOWED. */
		{
			char key[70];

			snprintf(key, sizeof(key), " %s ", name);
			if (!strstr(allowed, key))
				usage_error("unknown option '%s' for this command "
					    "(see --help)", name);
		}
		if (!strcmp(name, "--workload")) {
			o->workload = need_value(argc, argv, &i, name, val);
		} else if (!strcmp(name, "--policy")) {
			o->policy = need_value(argc, argv, &i, name, val);
		} else if (!strcmp(name, "--policies")) {
			const char *v = need_value(argc, argv, &i, name, val);

			if (!*v || strlen(v) >= sizeof(p->policies))
				usage_error("--policies: give one or more names, "
					    "comma separated");
			snprintf(p->policies, sizeof(p->policies), "%s", v);
		} else if (!strcmp(name, "--cpus")) {
			const char *v = need_value(argc, argv, &i, name, val);

			/* The last --cpus wins, list or not. */
			if (strchr(v, ',')) {
				if (strlen(v) >= sizeof(p->cpus_list))
					usage_error("--cpus: list too long");
				snprintf(p->cpus_list, sizeof(p->cpus_list), "%s", v);
			} else {
				o->ncpus = (unsigned)parse_u64(name, v, 1, SHD_MAX_CPUS);
				p->cpus_list[0] = 0;
			}
		} else if (!strcmp(name, "--ops")) {
			o->ops = parse_u64(name, need_value(argc, argv, &i, name, val),
					   1, 1ull << 40);
			o->ops_set = true;
		} else if (!strcmp(name, "--seed")) {
			o->seed = parse_u64(name, need_value(argc, argv, &i, name, val),
					    0, UINT64_MAX);
		} else if (!strcmp(name, "--set")) {
			const char *kv = need_value(argc, argv, &i, name, val);
			const char *e = strchr(kv, '=');

			if (!e || e == kv || !e[1])
				usage_error("--set: '%s' is not KNOB=VALUE", kv);
			if (o->nsets == 16)
				usage_error("--set: at most 16 overrides");
			if (strlen(kv) >= sizeof(o->sets[0]))
				usage_error("--set: '%s' is too long", kv);
			/* Checked once the workload is known (its knobs). */
			snprintf(o->sets[o->nsets++], sizeof(o->sets[0]), "%s", kv);
		} else if (!strcmp(name, "--inject")) {
			char buf[256], *items[SHD_FAULT__COUNT];
			const char *v = need_value(argc, argv, &i, name, val);
			unsigned n;

			snprintf(buf, sizeof(buf), "%s", v);
			n = split_list(buf, items, SHD_FAULT__COUNT, name);
			for (unsigned k = 0; k < n; k++) {
				int f = shd_fault_lookup(items[k]);

				if (f < 0)
					usage_error("--inject: %s", shd_last_error());
				o->cfg.faults |= 1ull << f;
			}
			snprintf(o->faults_text + strlen(o->faults_text),
				 sizeof(o->faults_text) - strlen(o->faults_text),
				 " --inject %s", v);
		} else if (!strcmp(name, "--format")) {
			const char *v = need_value(argc, argv, &i, name, val);

			if (!strcmp(v, "table"))
				o->format = FMT_TABLE;
			else if (!strcmp(v, "json"))
				o->format = FMT_JSON;
			else if (!strcmp(v, "csv") && strstr(allowed, " --csv "))
				o->format = FMT_CSV;
			else if (!strcmp(v, "wis") && strstr(allowed, " --wis "))
				o->format = FMT_WIS;
			else
				usage_error("--format: '%s' is not one of %s", v,
					    strstr(allowed, " --wis ") ? "table, json, csv, wis" :
					    strstr(allowed, " --csv ") ? "table, json, csv"
								     : "table, json");
		} else if (!strcmp(name, "--arch")) {
			const char *v = need_value(argc, argv, &i, name, val);

			if (shd_arch_preset(v, &o->cfg.arch) < 0)
				usage_error("--arch: %s", shd_last_error());
		} else if (!strcmp(name, "--tlb")) {
			parse_geometry(name, need_value(argc, argv, &i, name, val),
				       &o->cfg.dtlb);
		} else if (!strcmp(name, "--itlb")) {
			parse_geometry(name, need_value(argc, argv, &i, name, val),
				       &o->cfg.itlb);
			o->cfg.split_tlb = true;
		} else if (!strcmp(name, "--page-shift")) {
			o->cfg.page_shift = (unsigned)parse_u64(name,
				need_value(argc, argv, &i, name, val), 12, 30);
		} else if (!strcmp(name, "--frames")) {
			o->cfg.nframes = parse_u64(name, need_value(argc, argv, &i,
						   name, val), 16, 1ull << 24);
		} else if (!strcmp(name, "--watchdog-ms")) {
			o->cfg.watchdog_ms = (unsigned)parse_u64(name,
				need_value(argc, argv, &i, name, val), 0, 3600000);
		} else if (!strcmp(name, "--no-oracle")) {
			if (val)
				usage_error("--no-oracle takes no value");
			o->cfg.oracle = false;
		} else if (!strcmp(name, "--duration")) {
			o->duration_s = (unsigned)parse_u64(name, need_value(argc, argv,
							    &i, name, val), 1, 3600);
		} else if (!strcmp(name, "--warmup")) {
			o->warmup_s = (unsigned)parse_u64(name, need_value(argc, argv,
							  &i, name, val), 0, 3600);
		} else if (!strcmp(name, "--param")) {
			const char *v = need_value(argc, argv, &i, name, val);

			if (!*v)
				usage_error("--param: give NAME=LO..HI[:STEP|xFACTOR]");
			if (strlen(v) >= sizeof(p->param))
				usage_error("--param: '%.40s...' is too long", v);
			snprintf(p->param, sizeof(p->param), "%s", v);
		} else if (!strcmp(name, "--plot")) {
			const char *v = need_value(argc, argv, &i, name, val);

			if (strlen(v) >= sizeof(p->plot))
				usage_error("--plot: file name too long");
			snprintf(p->plot, sizeof(p->plot), "%s", v);
		} else if (!strcmp(name, "--jobs")) {
			p->jobs = (unsigned)parse_u64(name, need_value(argc, argv, &i,
						      name, val), 1, 256);
		} else if (!strcmp(name, "--emit-jobs")) {
			if (val)
				usage_error("--emit-jobs takes no value");
			p->emit_jobs = true;
		} else if (!strcmp(name, "--no-bind")) {
			if (val)
				usage_error("--no-bind takes no value");
			o->cfg.bind = false;
		} else {
			usage_error("unknown option '%s' (see --help)", name);
		}
	}
}

static void init_parsed(struct parsed *p)
{
	memset(p, 0, sizeof(*p));
	shd_config_init(&p->o.cfg);
	p->o.ncpus = 8;
	p->o.seed = 1;
	p->o.policy = "linux";
	p->o.format = FMT_TABLE;
	p->o.duration_s = 5;	/* will-it-scale's defaults */
	p->o.warmup_s = 5;
}

#define MACHINE_OPTS " --set --arch --tlb --itlb --page-shift --frames --watchdog-ms " \
	"--no-oracle --no-bind --seed --format --inject "

static const char machine_help[] =
"  --set KNOB=VALUE     override a policy knob (repeatable; see 'list')\n"
"  --inject FAULT[,..]  inject protocol faults (repeatable; see 'list')\n"
"  --arch NAME          caches of an architecture profile (default x86;\n"
"                       see 'list')\n"
"  --tlb E:W            data TLB entries and ways        (default 1536:12)\n"
"  --itlb E:W           split instruction TLB            (default unified)\n"
"  --page-shift N       page size 2^N bytes, 12..30      (default 12)\n"
"  --frames N           simulated physical pages         (default 16384)\n"
"  --watchdog-ms N      unacknowledged-IPI report, 0=off (default 5000)\n"
"  --no-oracle          turn the stale-translation oracle off (default on)\n"
"  --no-bind            do not pin CPU threads with hwloc (default pinned)\n"
"  --seed S             seed, reported with every violation (default 1)\n"
"  --perf               (run, compare) count the USDT probes with perf stat\n"
"                       too (scripts/perf-stat; root)\n";

static void print_help(void)
{
	printf("usage: shootdown [COMMAND] [OPTIONS]\n\n"
	       "A userspace SMP machine for studying TLB shootdowns.\n\n"
	       "commands:\n"
	       "  (none)      munmap workload on 8 CPUs under broadcast and linux, "
	       "side by side\n"
	       "  run         run one workload under one policy\n"
	       "  compare     run one workload under several policies and CPU counts\n"
	       "  sweep       run a workload over a range of one knob; plot, break-even\n"
	       "  check       random operations with the oracle on; exit 1 on a "
	       "violation\n"
	       "  calibrate   measure this host: cache-line and emulated IPI round "
	       "trips,\n"
	       "              a one-page shootdown, the real kernel's shootdown\n"
	       "  list        workloads, policies, knobs, faults, counters\n\n"
	       "'shootdown COMMAND --help' lists a command's options.\n"
	       "Exit status: 0 success, 1 violation or failed check, 2 bad input.\n");
}

static void print_stats_table(const struct wl_result *r)
{
	size_t n;
	const struct shd_stat_field *f = shd_stat_fields(&n);

	for (size_t i = 0; i < n; i++)
		printf("  %-24s %12" PRIu64 "   %s\n", f[i].name,
		       *(const uint64_t *)((const char *)&r->stats + f[i].offset),
		       f[i].help);
}

static int report_failures(const char *policy, const struct wl_result *r,
			   const char *errtxt)
{
	int rc = 0;

	if (r->stats.violations) {
		fprintf(stderr, "%s: %" PRIu64 " violation(s) under %s; first: %s\n",
			prog, r->stats.violations, policy, errtxt);
		rc = 1;
	}
	if (r->check_failures) {
		fprintf(stderr, "%s: %" PRIu64 " workload check failure(s) "
			"under %s; first: %s\n", prog, r->check_failures, policy,
			r->note);
		rc = 1;
	}
	return rc;
}

static const struct workload *need_workload(const char *name)
{
	const struct workload *w;

	if (!name)
		usage_error("--workload is required (see 'shootdown list')");
	w = wl_find(name);
	if (!w)
		usage_error("unknown workload '%s' (see 'shootdown list')", name);
	return w;
}

static void need_policy(const char *name)
{
	struct shd_policy p;

	if (shd_policy_preset(name, &p) < 0)
		usage_error("%s", shd_last_error());
}

static int run_or_die(const struct workload *w, struct wl_opts *o,
		      const char *policy, struct wl_result *r, char *errtxt,
		      size_t len)
{
	int err = wl_execute(w, o, policy, r, errtxt, len);

	if (err == WL_BAD_INPUT)
		usage_error("%s", errtxt);
	if (err < 0 && err != -ETIMEDOUT) {
		fprintf(stderr, "%s: %s workload failed under %s: %s\n", prog,
			w->name, policy, errtxt);
		exit(1);
	}
	if (err == -ETIMEDOUT) {
		fprintf(stderr, "%s: %s\n", prog, errtxt);
		fflush(NULL);
		_exit(1);	/* a CPU is wedged: no orderly teardown */
	}
	return 0;
}

static void print_run_json(const struct wl_opts *o, const char *policy,
			   const struct wl_result *r, const char *w)
{
	char knobs[160];
	struct shd_config cfg = o->cfg;

	wl_policy(o, policy, &cfg.policy);	/* validated by the run */
	shd_policy_format(&cfg.policy, knobs, sizeof(knobs));
	printf("{\"workload\": ");
	out_json_string(stdout, w);
	printf(", \"policy\": ");
	out_json_string(stdout, policy);
	printf(", \"knobs\": ");
	out_json_string(stdout, knobs);
	printf(", \"cpus\": %u, \"seed\": %" PRIu64 ", \"ops\": %" PRIu64
	       ", \"wall_ns\": %" PRIu64 ", \"check_failures\": %" PRIu64
	       ", \"modelled_cycles\": %.0f, \"modelled_cycles_per_op\": %.1f"
	       ", \"ipis_sent_per_op\": %.4f, \"op_p50_ns\": %" PRIu64 ", ",
	       o->cfg.ncpus, o->seed, r->ops, r->wall_ns, r->check_failures,
	       cost_cycles(&o->cost, &r->stats),
	       r->ops ? cost_cycles(&o->cost, &r->stats) / (double)r->ops : 0.0,
	       r->ops ? (double)r->stats.ipis_sent / (double)r->ops : 0.0,
	       r->op_p50_ns);
	out_stats_json(stdout, &r->stats);
	printf("}");
}

/* Print S as one shell word (single-quoted if it needs it), for commands
 * we print for the user to run: replay lines and --emit-jobs. */
static void print_word(FILE *f, const char *s)
{
	fprintf(f, strpbrk(s, " '\"$\\") ? "'%s'" : "%s", s);
}

/* One CSV header and one row per run, the same for run and compare. */
static void print_csv_header(void)
{
	size_t n;
	const struct shd_stat_field *f = shd_stat_fields(&n);

	printf("workload,policy,sets,cpus,seed,ops,wall_ns,modelled_cycles");
	for (size_t k = 0; k < n; k++)
		printf(",%s", f[k].name);
	printf("\n");
}

static void print_csv_row(const struct wl_opts *o, const char *workload,
			  const char *policy, unsigned cpus,
			  const struct wl_result *r)
{
	size_t n;
	const struct shd_stat_field *f = shd_stat_fields(&n);

	printf("%s,%s,", workload, policy);
	for (unsigned i = 0; i < o->nsets; i++)	/* which point this is */
		printf("%s%s", i ? ";" : "", o->sets[i]);
	printf(",%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.0f", cpus, o->seed,
	       r->ops, r->wall_ns, cost_cycles(&o->cost, &r->stats));
	for (size_t k = 0; k < n; k++)
		printf(",%" PRIu64, *(const uint64_t *)((const char *)&r->stats +
							 f[k].offset));
	printf("\n");
}

static void finish_opts(struct wl_opts *o, const struct workload *w)
{
	char err[256];

	o->cfg.ncpus = o->ncpus;
	o->cfg.seed = o->seed;
	if (!o->ops_set)
		o->ops = w->default_ops;
	if (cli_resolve_sets(o, w, err, sizeof(err)) < 0)
		usage_error("%s", err);
	if (w->check && w->check(o, err, sizeof(err)) < 0)
		usage_error("%s", err);
	if (o->ncpus < w->min_cpus)
		usage_error("workload %s needs at least %u CPUs", w->name,
			    w->min_cpus);
}

static int cmd_run(int argc, char **argv)
{
	struct parsed p;
	const struct workload *w;
	struct wl_result r;
	char errtxt[320];
	int rc;

	init_parsed(&p);
	parse_common(argc, argv, &p, " --workload --policy --cpus --ops --csv --wis "
		     "--duration --warmup" MACHINE_OPTS);
	if (p.help) {
		size_t nw;
		const struct workload *const *all = wl_all(&nw);

		printf("usage: shootdown run --workload NAME [options]\n\n"
		       "  --workload NAME      one of:");
		for (size_t i = 0; i < nw; i++)
			printf(" %s", all[i]->name);
		printf(" (knobs: 'list')\n"
		       "  --policy NAME        broadcast or linux     (default linux)\n"
		       "  --cpus N             simulated CPUs, 1..%u  (default 8)\n"
		       "  --ops N              operations (default: the workload's)\n"
		       "  --format table|json|csv|wis                 (default table)\n"
		       "                       wis: will-it-scale's min/max/total per second\n"
		       "                       and average (tlb_flush2; runs for a time)\n"
		       "  --duration S         wis: measured seconds       (default 5)\n"
		       "  --warmup S           wis: warm-up seconds first  (default 5)\n%s",
		       SHD_MAX_CPUS, machine_help);
		return 0;
	}
	if (p.cpus_list[0])
		usage_error("run takes one --cpus value (use compare for a list)");
	w = need_workload(p.o.workload);
	need_policy(p.o.policy);
	if (p.o.format == FMT_WIS && strcmp(w->name, "tlb_flush2"))
		usage_error("--format wis is will-it-scale's output: for tlb_flush2");
	for (int i = 0; p.o.format != FMT_WIS && i < argc; i++)
		if (!strncmp(argv[i], "--duration", 10) || !strncmp(argv[i], "--warmup", 8))
			usage_error("%s is for --format wis (a timed run)", argv[i]);
	if (p.o.format == FMT_WIS && p.o.ops_set)
		usage_error("--format wis runs for --duration seconds, not --ops");
	finish_opts(&p.o, w);
	run_or_die(w, &p.o, p.o.policy, &r, errtxt, sizeof(errtxt));
	if (p.o.format == FMT_WIS) {
		/* Printed live by the workload. */
	} else if (p.o.format == FMT_JSON) {
		print_run_json(&p.o, p.o.policy, &r, w->name);
		printf("\n");
	} else if (p.o.format == FMT_CSV) {
		print_csv_header();
		print_csv_row(&p.o, w->name, p.o.policy, p.o.cfg.ncpus, &r);
	} else {
		printf("%s on %u CPUs under %s on %s: %" PRIu64 " ops in %.3f s "
		       "(host time)\n", w->name, p.o.cfg.ncpus, p.o.policy,
		       p.o.cfg.arch.name, r.ops, r.wall_ns / 1e9);
		print_stats_table(&r);
		printf("  %-24s %12.0f   modelled hardware cost: counters x "
		       "cost.* (cycles)\n", "modelled_cycles",
		       cost_cycles(&p.o.cost, &r.stats));
		printf("  %-24s %12.1f   ... per op\n", "modelled_cycles/op",
		       r.ops ? cost_cycles(&p.o.cost, &r.stats) / (double)r.ops : 0.0);
		if (r.op_p50_ns)
			printf("  %-24s %12" PRIu64 "   the workload's timed "
			       "operation, median (ns, host)\n", "op_p50_ns",
			       r.op_p50_ns);
	}
	rc = report_failures(p.o.policy, &r, errtxt);
	return rc;
}

/* The default and compare: counters side by side with ratios. */
static int cmd_compare_impl(struct parsed *p, bool defaults)
{
	char pbuf[256], cbuf[256], *pol[8], *cpl[16];
	unsigned npol, ncp;
	unsigned cpus[16];
	const struct workload *w = need_workload(p->o.workload);
	struct wl_result res[8][16];
	char errtxt[8][16][320];
	int rc = 0;

	snprintf(pbuf, sizeof(pbuf), "%s", p->policies[0] ? p->policies :
		 "broadcast,linux");
	npol = split_list(pbuf, pol, 8, "--policies");
	for (unsigned i = 0; i < npol; i++)
		need_policy(pol[i]);
	if (p->cpus_list[0]) {
		snprintf(cbuf, sizeof(cbuf), "%s", p->cpus_list);
		ncp = split_list(cbuf, cpl, 16, "--cpus");
		for (unsigned i = 0; i < ncp; i++)
			cpus[i] = (unsigned)parse_u64("--cpus", cpl[i], 1, SHD_MAX_CPUS);
	} else {
		ncp = 1;
		cpus[0] = p->o.ncpus;
	}
	for (unsigned c = 0; c < ncp; c++)	/* refuse before running any */
		if (cpus[c] < w->min_cpus)
			usage_error("workload %s needs at least %u CPUs (--cpus %u)",
				    w->name, w->min_cpus, cpus[c]);
	for (unsigned c = 0; c < ncp; c++) {
		for (unsigned i = 0; i < npol; i++) {
			/* A progress line on a terminal; quiet otherwise. */
			if (isatty(2) && (ncp * npol > 1))
				fprintf(stderr, "\rcompare: %s on %u CPUs (%u/%u)   ",
					pol[i], cpus[c], c * npol + i + 1, ncp * npol);
			p->o.ncpus = cpus[c];
			finish_opts(&p->o, w);
			run_or_die(w, &p->o, pol[i], &res[i][c], errtxt[i][c],
				   sizeof(errtxt[i][c]));
			rc |= report_failures(pol[i], &res[i][c], errtxt[i][c]);
		}
	}
	if (isatty(2) && ncp * npol > 1)
		fprintf(stderr, "\r\033[K");
	if (p->o.format == FMT_JSON) {
		printf("[");
		for (unsigned c = 0; c < ncp; c++)
			for (unsigned i = 0; i < npol; i++) {
				p->o.cfg.ncpus = cpus[c];
				printf("%s\n  ", c || i ? "," : "");
				print_run_json(&p->o, pol[i], &res[i][c], w->name);
			}
		printf("\n]\n");
		return rc;
	}
	if (p->o.format == FMT_CSV) {
		print_csv_header();
		for (unsigned c = 0; c < ncp; c++)
			for (unsigned i = 0; i < npol; i++)
				print_csv_row(&p->o, w->name, pol[i], cpus[c],
					      &res[i][c]);
		return rc;
	}
	for (unsigned c = 0; c < ncp; c++) {
		size_t n;
		const struct shd_stat_field *f = shd_stat_fields(&n);

		if (defaults)
			printf("shootdown: the %s workload on %u simulated CPUs "
			       "(%" PRIu64 " ops, seed %" PRIu64 "), %u host PUs\n"
			       "  half the CPUs run threads of one mm; of the rest, "
			       "half are idle in lazy TLB mode\n  and half run "
			       "another process.  'shootdown --help' for more.\n\n",
			       w->name, cpus[c], res[0][c].ops, p->o.seed,
			       (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
		else
			printf("%s on %u CPUs, %" PRIu64 " ops, seed %" PRIu64 "\n",
			       w->name, cpus[c], res[0][c].ops, p->o.seed);
		printf("  %-22s", "counter");
		for (unsigned i = 0; i < npol; i++)
			printf(" %14s", pol[i]);
		for (unsigned i = 1; i < npol; i++) {
			char h[64];

			snprintf(h, sizeof(h), "%s/%s", pol[i], pol[0]);
			printf("  %14s", h);
		}
		printf("\n");
		for (size_t k = 0; k < n; k++) {
			printf("  %-22s", f[k].name);
			for (unsigned i = 0; i < npol; i++)
				printf(" %14" PRIu64, *(const uint64_t *)
				       ((const char *)&res[i][c].stats + f[k].offset));
			for (unsigned i = 1; i < npol; i++) {
				uint64_t a = *(const uint64_t *)((const char *)&res[0][c].stats + f[k].offset);
				uint64_t b = *(const uint64_t *)((const char *)&res[i][c].stats + f[k].offset);

				if (a)
					printf("  %14.3f", (double)b / (double)a);
				else
					printf("  %14s", "-");
			}
			printf("\n");
		}
		printf("  %-22s", "ipis_sent/op");
		for (unsigned i = 0; i < npol; i++)
			printf(" %14.3f", res[i][c].ops ?
			       (double)res[i][c].stats.ipis_sent / (double)res[i][c].ops : 0.0);
		printf("\n  %-22s", "modelled_cycles/op");
		for (unsigned i = 0; i < npol; i++)
			printf(" %14.1f", res[i][c].ops ? cost_cycles(&p->o.cost,
			       &res[i][c].stats) / (double)res[i][c].ops : 0.0);
		printf("\n  %-22s", "wall_ms (host)");
		for (unsigned i = 0; i < npol; i++)
			printf(" %14.1f", res[i][c].wall_ns / 1e6);
		if (res[0][c].op_p50_ns) {
			printf("\n  %-22s", "op_p50_ns (host)");
			for (unsigned i = 0; i < npol; i++)
				printf(" %14" PRIu64, res[i][c].op_p50_ns);
		}
		printf("\n\n");
	}
	if (defaults && npol == 2 && ncp == 1) {
		const struct shd_stats *b = &res[0][0].stats, *l = &res[1][0].stats;

		printf("%s sent %" PRIu64 " IPIs fewer than %s: %" PRIu64
		       " avoided by mm_cpumask pruning, %" PRIu64 " by skipping "
		       "lazy CPUs, %" PRIu64 " coalesced;\n%" PRIu64 " requests were "
		       "already satisfied by tlb_gen.  Latencies are host time, "
		       "not hardware time.\n", pol[1],
		       b->ipis_sent > l->ipis_sent ? b->ipis_sent - l->ipis_sent : 0,
		       pol[0], l->ipis_avoided_pruned, l->ipis_avoided_lazy,
		       l->ipis_coalesced, l->flushes_skipped_gen);
	}
	return rc;
}

static int cmd_compare(int argc, char **argv)
{
	struct parsed p;

	init_parsed(&p);
	parse_common(argc, argv, &p, " --workload --policies --cpus --ops --csv" MACHINE_OPTS);
	if (p.help) {
		printf("usage: shootdown compare --workload NAME [options]\n\n"
		       "  --workload NAME      see 'list'\n"
		       "  --policies A,B[,..]  policies; ratios are against the first\n"
		       "                       (default broadcast,linux)\n"
		       "  --cpus N[,M,..]      CPU counts                   (default 8)\n"
		       "  --ops N              operations (default: the workload's)\n"
		       "  --format table|json|csv                      (default table)\n%s",
		       machine_help);
		return 0;
	}
	return cmd_compare_impl(&p, false);
}

/* What a sweep point's child process sends back through its pipe. */
struct point_result {
	int rc;
	struct wl_result r;
	char err[320];
};

/* Run one sweep point in a child; the result comes back through FD. */
static void sweep_child(const struct workload *w, struct wl_opts *o,
			const char *policy, int fd)
{
	struct point_result out;
	ssize_t off = 0;

	memset(&out, 0, sizeof(out));
	out.rc = wl_execute(w, o, policy, &out.r, out.err, sizeof(out.err));
	while (off < (ssize_t)sizeof(out)) {
		ssize_t k = write(fd, (char *)&out + off, sizeof(out) - (size_t)off);

		if (k <= 0)
			break;
		off += k;
	}
	_exit(0);
}

static int cmd_sweep(int argc, char **argv)
{
	static uint64_t vals[1000];
	static struct wl_opts po[1000];
	static struct wl_result res[1000];
	static double cost[1000];
	struct parsed p;
	const struct workload *w;
	char name[64], err[320];
	int n, best, rc = 0;
	bool progress = isatty(2);

	init_parsed(&p);
	parse_common(argc, argv, &p, " --workload --policy --cpus --ops --param "
		     "--plot --jobs --emit-jobs --csv" MACHINE_OPTS);
	if (p.help) {
		printf("usage: shootdown sweep --workload NAME [--param NAME=LO..HI"
		       "[:STEP|xFACTOR]] [options]\n\n"
		       "Runs the workload once per value of one knob (a policy knob, a\n"
		       "cost.* key or a workload knob), prints a row per point with\n"
		       "the modelled cost, and names the cheapest point: for the\n"
		       "default, the break-even tlb_single_page_flush_ceiling.\n\n"
		       "  --workload NAME      see 'list' (rangeflush is the range-flush one)\n"
		       "  --param SPEC         NAME=LO..HI[:STEP|xFACTOR] (default ceiling=0..128:8)\n"
		       "  --policy NAME        the policy the knob is applied to (default linux)\n"
		       "  --cpus N             simulated CPUs                (default 8)\n"
		       "  --ops N              operations per point (default: the workload's)\n"
		       "  --plot FILE          draw the cost curve with gnuplot (.svg or .png)\n"
		       "  --jobs N             run N points at once in separate processes (default 1)\n"
		       "  --emit-jobs          print one self-contained command per point and stop\n"
		       "  --format table|json|csv                         (default table)\n%s",
		       machine_help);
		return 0;
	}
	if (p.cpus_list[0])
		usage_error("sweep takes one --cpus value");
	w = need_workload(p.o.workload);
	need_policy(p.o.policy);
	n = sweep_parse(p.param[0] ? p.param : "ceiling=0..128:8", name,
			sizeof(name), vals, err, sizeof(err));
	if (n < 0)
		usage_error("%s", err);
	if (p.plot[0]) {
		int prc = sweep_plot_check(p.plot, err, sizeof(err));

		if (prc == 2)
			usage_error("%s", err);
		if (prc) {
			fprintf(stderr, "shootdown: %s\n", err);
			return 1;
		}
	}
	/* Every point must be valid before the first one runs. */
	for (int i = 0; i < n; i++) {
		char kv[128];

		po[i] = p.o;
		if (po[i].nsets == 16)
			usage_error("--set: at most 15 overrides with --param");
		snprintf(kv, sizeof(kv), "%s=%" PRIu64, name, vals[i]);
		if (strlen(kv) >= sizeof(po[i].sets[0]))
			usage_error("--param: '%s' is too long", kv);
		memcpy(po[i].sets[po[i].nsets++], kv, strlen(kv) + 1);
		finish_opts(&po[i], w);	/* the knob's own range check */
	}
	if (p.emit_jobs) {
		bool seeded = false;

		if (p.plot[0] || p.jobs || p.o.format != FMT_TABLE)
			usage_error("--emit-jobs only prints the commands: drop "
				    "--plot, --jobs and --format");
		for (int a = 0; a < argc; a++)
			seeded |= !strncmp(argv[a], "--seed", 6);
		for (int i = 0; i < n; i++) {
			print_word(stdout, self_path);
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
				print_word(stdout, s);
			}
			if (!seeded)
				printf(" --seed %" PRIu64, p.o.seed);
			printf(" --set %s=%" PRIu64 " --format csv\n", name, vals[i]);
		}
		return 0;
	}
	if (p.jobs > 1) {
		int fds[1000];
		pid_t pids[1000];
		int next = 0, done = 0, running = 0;

		while (done < n) {
			while (running < (int)p.jobs && next < n) {
				int pipefd[2];

				if (pipe(pipefd))
					usage_error("--jobs: %s", strerror(errno));
				fflush(NULL);
				pids[next] = fork();
				if (pids[next] == 0) {
					close(pipefd[0]);
					sweep_child(w, &po[next], p.o.policy, pipefd[1]);
				}
				close(pipefd[1]);
				fds[next++] = pipefd[0];
				running++;
			}
			/* Collect the oldest running point. */
			struct point_result in;
			ssize_t off = 0, k;

			memset(&in, 0, sizeof(in));
			while (off < (ssize_t)sizeof(in) &&
			       (k = read(fds[done], (char *)&in + off,
					 sizeof(in) - (size_t)off)) > 0)
				off += k;
			close(fds[done]);
			waitpid(pids[done], NULL, 0);
			if (off != (ssize_t)sizeof(in) || in.rc) {
				/* Stop and reap the points still running. */
				for (int q = done + 1; q < next; q++) {
					kill(pids[q], SIGKILL);
					waitpid(pids[q], NULL, 0);
					close(fds[q]);
				}
				if (off != (ssize_t)sizeof(in)) {
					fprintf(stderr, "shootdown: sweep point %s=%" PRIu64
						" died\n", name, vals[done]);
					return 1;
				}
				if (in.rc == WL_BAD_INPUT)
					usage_error("%s", in.err);
				fprintf(stderr, "shootdown: sweep point %s=%" PRIu64
					" failed: %s\n", name, vals[done], in.err);
				return 1;
			}
			res[done] = in.r;
			rc |= report_failures(p.o.policy, &res[done], in.err);
			done++;
			running--;
			if (progress)
				fprintf(stderr, "\rsweep: %d/%d points", done, n);
		}
	} else {
		for (int i = 0; i < n; i++) {
			if (progress)
				fprintf(stderr, "\rsweep: point %d/%d (%s=%" PRIu64 ")   ",
					i + 1, n, name, vals[i]);
			run_or_die(w, &po[i], p.o.policy, &res[i], err, sizeof(err));
			rc |= report_failures(p.o.policy, &res[i], err);
		}
	}
	if (progress)
		fprintf(stderr, "\r\033[K");
	for (int i = 0; i < n; i++)
		cost[i] = res[i].ops ? cost_cycles(&po[i].cost, &res[i].stats) /
				       (double)res[i].ops : 0.0;
	best = sweep_best(cost, n);
	if (p.o.format == FMT_JSON) {
		printf("{\"param\": ");
		out_json_string(stdout, name);
		printf(", \"best\": %" PRIu64 ", \"points\": [", vals[best]);
		for (int i = 0; i < n; i++) {
			printf("%s\n  {\"value\": %" PRIu64 ", \"run\": ", i ? "," : "",
			       vals[i]);
			print_run_json(&po[i], p.o.policy, &res[i], w->name);
			printf("}");
		}
		printf("\n]}\n");
	} else if (p.o.format == FMT_CSV) {
		size_t nf;
		const struct shd_stat_field *f = shd_stat_fields(&nf);

		printf("%s,workload,policy,cpus,ops,wall_ns,modelled_cycles,"
		       "modelled_cycles_per_op", name);
		for (size_t k = 0; k < nf; k++)
			printf(",%s", f[k].name);
		printf("\n");
		for (int i = 0; i < n; i++) {
			printf("%" PRIu64 ",%s,%s,%u,%" PRIu64 ",%" PRIu64 ",%.0f,%.1f",
			       vals[i], w->name, p.o.policy, p.o.ncpus, res[i].ops,
			       res[i].wall_ns, cost[i] * (double)res[i].ops, cost[i]);
			for (size_t k = 0; k < nf; k++)
				printf(",%" PRIu64, *(const uint64_t *)
				       ((const char *)&res[i].stats + f[k].offset));
			printf("\n");
		}
	} else {
		printf("sweep of %s on %s, %u CPUs, %s, %" PRIu64 " ops per point\n",
		       name, w->name, p.o.ncpus, p.o.policy, po[0].ops);
		printf("  %10s %10s %12s %12s %12s %12s %14s %10s\n", name,
		       "ipis/op", "full/op", "partial/op", "invlpg/op", "misses/op",
		       "cycles/op", "wall_ms");
		for (int i = 0; i < n; i++) {
			double ops = res[i].ops ? (double)res[i].ops : 1.0;
			const struct shd_stats *s = &res[i].stats;

			printf("  %10" PRIu64 " %10.3f %12.3f %12.3f %12.2f %12.2f %14.1f "
			       "%10.1f%s\n", vals[i], s->ipis_sent / ops,
			       (s->flushes_full + s->switch_flushes) / ops,
			       s->flushes_partial / ops, s->pages_invalidated / ops,
			       s->tlb_misses / ops, cost[i], res[i].wall_ns / 1e6,
			       i == best ? "  <- cheapest" : "");
		}
	}
	/* The answer, on stderr so that CSV and JSON stay clean. */
	if (!strcmp(name, "ceiling"))
		fprintf(stderr, "break-even ceiling: %" PRIu64 " pages (lowest "
			"modelled cost, %.1f cycles/op; Linux x86 uses 33)\n",
			vals[best], cost[best]);
	else
		fprintf(stderr, "cheapest %s: %" PRIu64 " (%.1f modelled cycles/op)\n",
			name, vals[best], cost[best]);
	if (p.plot[0]) {
		int prc = sweep_plot(p.plot, w->name, name, vals, cost, n, best,
				     err, sizeof(err));

		if (prc) {	/* the name was checked before the points ran */
			fprintf(stderr, "shootdown: %s\n", err);
			return 1;
		}
		fprintf(stderr, "plot: %s\n", p.plot);
	}
	return rc;
}

static int cmd_default(void)
{
	struct parsed p;

	init_parsed(&p);
	p.o.workload = "munmap";
	return cmd_compare_impl(&p, true);
}

static int cmd_check(int argc, char **argv)
{
	struct parsed p;
	const struct workload *w;
	struct wl_result r;
	char errtxt[320];
	int rc;

	init_parsed(&p);
	p.o.ncpus = 4;
	parse_common(argc, argv, &p, " --policy --cpus --ops" MACHINE_OPTS);
	if (p.help) {
		printf("usage: shootdown check [options]\n\n"
		       "Random map/unmap/protect/madvise/access/switch/lazy/flush/vmap "
		       "operations\non every CPU with the oracle on.  Exit 0 when clean, "
		       "1 on a violation\n(the first is printed with a command that "
		       "replays it).\n\n"
		       "  --policy NAME        broadcast or linux     (default linux)\n"
		       "  --cpus N             simulated CPUs, 1..%u  (default 4)\n"
		       "  --ops N              operations in all      (default 200000)\n"
		       "  --format table|json                         (default table)\n%s",
		       SHD_MAX_CPUS, machine_help);
		return 0;
	}
	if (p.cpus_list[0])
		usage_error("check takes one --cpus value");
	if (!p.o.cfg.oracle)
		usage_error("check needs the oracle; drop --no-oracle");
	w = wl_find("random");
	need_policy(p.o.policy);
	finish_opts(&p.o, w);
	run_or_die(w, &p.o, p.o.policy, &r, errtxt, sizeof(errtxt));
	rc = r.stats.violations || r.check_failures ? 1 : 0;
	if (p.o.format == FMT_JSON) {
		print_run_json(&p.o, p.o.policy, &r, "check");
		printf("\n");
	} else {
		printf("check: %" PRIu64 " random ops on %u CPUs under %s on %s, "
		       "seed %" PRIu64 "%s: %s\n", r.ops, p.o.cfg.ncpus, p.o.policy,
		       p.o.cfg.arch.name, p.o.seed, p.o.faults_text,
		       rc ? "FAILED" : "clean");
		printf("  %" PRIu64 " flush calls, %" PRIu64 " IPIs, %" PRIu64
		       " TLB hits checked, %" PRIu64 " violations", r.stats.flush_calls,
		       r.stats.ipis_sent, r.stats.tlb_hits, r.stats.violations);
		if (p.o.cfg.arch.alias_dcache)
			printf(", %" PRIu64 " D-cache fills, %" PRIu64
			       " D-cache flushes (%" PRIu64 " deferred)",
			       r.stats.dcache_misses, r.stats.dcache_flushes +
			       r.stats.dcache_deferred_done, r.stats.dcache_deferred);
		if (p.o.cfg.arch.icache_nosnoop)
			printf(", %" PRIu64 " I-cache fills, %" PRIu64
			       " I-cache page invalidations", r.stats.icache_misses,
			       r.stats.icache_flushes);
		printf("\n");
	}
	if (rc) {
		report_failures(p.o.policy, &r, errtxt);
		/* The command as given (every option that shaped the run),
		 * with the seed made explicit if it was the default. */
		bool seeded = false;

		fprintf(stderr, "replay: shootdown check");
		for (int i = 0; i < p.o.argc; i++) {
			seeded |= !strncmp(p.o.argv[i], "--seed", 6);
			fputc(' ', stderr);
			print_word(stderr, p.o.argv[i]);
		}
		if (!seeded)
			fprintf(stderr, " --seed %" PRIu64, p.o.seed);
		fputc('\n', stderr);
		fprintf(stderr, "(the seed fixes each CPU's operations; the "
			"interleaving is the host scheduler's)\n");
	}
	return rc;
}

static int cmd_list(int argc, char **argv)
{
	struct parsed p;
	size_t n;
	const struct shd_named *v;
	const struct workload *const *w;

	init_parsed(&p);
	parse_common(argc, argv, &p, " --format ");
	if (p.help) {
		printf("usage: shootdown list [--format table|json]\n");
		return 0;
	}
	if (p.o.format == FMT_JSON) {
		const char *sect[] = { "policies", "knobs", "faults" };
		const char *const *cn, *const *ch;
		size_t nc = cost_keys(&cn, &ch);

		printf("{\"workloads\": [");
		w = wl_all(&n);
		for (size_t i = 0; i < n; i++) {
			printf("%s{\"name\": ", i ? ", " : "");
			out_json_string(stdout, w[i]->name);
			printf(", \"help\": ");
			out_json_string(stdout, w[i]->help);
			printf(", \"default_ops\": %" PRIu64 ", \"knobs\": [",
			       w[i]->default_ops);
			for (unsigned k = 0; w[i]->knobs && w[i]->knobs[k].name; k++) {
				printf("%s{\"name\": ", k ? ", " : "");
				out_json_string(stdout, w[i]->knobs[k].name);
				printf(", \"help\": ");
				out_json_string(stdout, w[i]->knobs[k].help);
				printf(", \"default\": %" PRIu64 ", \"min\": %" PRIu64
				       ", \"max\": %" PRIu64 "}", w[i]->knobs[k].def,
				       w[i]->knobs[k].lo, w[i]->knobs[k].hi);
			}
			printf("]}");
		}
		printf("], \"cost\": [");
		for (size_t i = 0; i < nc; i++) {
			printf("%s{\"name\": ", i ? ", " : "");
			out_json_string(stdout, cn[i]);
			printf(", \"help\": ");
			out_json_string(stdout, ch[i]);
			printf("}");
		}
		printf("]");
		for (int s = 0; s < 3; s++) {
			v = s == 0 ? shd_policy_presets(&n) : s == 1 ?
			    shd_policy_knobs(&n) : shd_faults(&n);
			printf(", \"%s\": [", sect[s]);
			for (size_t i = 0; i < n; i++) {
				printf("%s{\"name\": ", i ? ", " : "");
				out_json_string(stdout, v[i].name);
				printf(", \"help\": ");
				out_json_string(stdout, v[i].help);
				printf("}");
			}
			printf("]");
		}
		printf("}\n");
		return 0;
	}
	printf("workloads (--workload) and their knobs (--set KNOB=N):\n");
	w = wl_all(&n);
	for (size_t i = 0; i < n; i++) {
		printf("  %-12s %s (default --ops %" PRIu64 ")\n", w[i]->name,
		       w[i]->help, w[i]->default_ops);
		for (unsigned k = 0; w[i]->knobs && w[i]->knobs[k].name; k++)
			printf("    %-14s %s (default %" PRIu64 ", %" PRIu64 "..%"
			       PRIu64 ")\n", w[i]->knobs[k].name, w[i]->knobs[k].help,
			       w[i]->knobs[k].def, w[i]->knobs[k].lo, w[i]->knobs[k].hi);
	}
	printf("\npolicies (--policy, --policies):\n");
	v = shd_policy_presets(&n);
	for (size_t i = 0; i < n; i++)
		printf("  %-16s %s\n", v[i].name, v[i].help);
	printf("\narchitectures (--arch):\n");
	v = shd_arch_presets(&n);
	for (size_t i = 0; i < n; i++)
		printf("  %-16s %s\n", v[i].name, v[i].help);
	printf("\nknobs (--set KNOB=VALUE):\n");
	v = shd_policy_knobs(&n);
	for (size_t i = 0; i < n; i++)
		printf("  %-12s %s\n", v[i].name, v[i].help);
	{
		const char *const *cn, *const *ch;
		size_t nc = cost_keys(&cn, &ch);

		printf("\ncost model (--set cost.KEY=CYCLES; reported as "
		       "modelled_cycles):\n");
		for (size_t i = 0; i < nc; i++)
			printf("  %-18s %s\n", cn[i], ch[i]);
	}
	printf("\nfaults (--inject FAULT):\n");
	v = shd_faults(&n);
	for (size_t i = 0; i < n; i++)
		printf("  %-18s %s\n", v[i].name, v[i].help);
	printf("\ncounters (run --format json):\n");
	{
		const struct shd_stat_field *f = shd_stat_fields(&n);

		for (size_t i = 0; i < n; i++)
			printf("  %-22s %s\n", f[i].name, f[i].help);
	}
	return 0;
}

/*
 * --perf on run/compare: re-run this very command under scripts/perf-stat
 * (from the source tree next to the binary, or installed in share/shootdown),
 * which registers the USDT probes and counts them with perf stat.
 */
static void exec_under_perf(int argc, char **argv)
{
	char dir[4096], script[4200], *slash;
	const char *where[] = { "/../scripts/perf-stat", "/../share/shootdown/perf-stat",
				SHD_SOURCE_DIR "/scripts/perf-stat" };
	char **args = calloc((size_t)argc + 2, sizeof(*args));
	int n = 0;

	snprintf(dir, sizeof(dir), "%s", self_path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	script[0] = 0;
	for (size_t i = 0; i < 3; i++) {
		snprintf(script, sizeof(script), "%s%s", i < 2 ? dir : "", where[i]);
		if (access(script, X_OK) == 0)
			break;
		script[0] = 0;
	}
	if (!script[0] || !args)
		usage_error("--perf needs scripts/perf-stat (in the source tree next "
			    "to the build, or installed in share/shootdown)");
	args[n++] = script;
	args[n++] = self_path;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--perf"))
			args[n++] = argv[i];
	args[n] = NULL;
	fflush(NULL);
	execv(script, args);
	fprintf(stderr, "%s: --perf: cannot run %s: %s\n", prog, script,
		strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	{
		ssize_t k = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);

		if (k > 0)
			self_path[k] = 0;
	}
	if (!cmd)
		return cmd_default();
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		print_help();
		return 0;
	}
	if (!strcmp(cmd, "--version")) {
		printf("shootdown %s\n", SHD_VERSION);
		return 0;
	}
	if (!strcmp(cmd, "run") || !strcmp(cmd, "compare"))
		for (int i = 2; i < argc; i++)
			if (!strcmp(argv[i], "--perf"))
				exec_under_perf(argc, argv);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 2, argv + 2);
	if (!strcmp(cmd, "compare"))
		return cmd_compare(argc - 2, argv + 2);
	if (!strcmp(cmd, "sweep"))
		return cmd_sweep(argc - 2, argv + 2);
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 2, argv + 2);
	if (!strcmp(cmd, "calibrate"))
		return cmd_calibrate(argc - 2, argv + 2);
	if (!strcmp(cmd, "list"))
		return cmd_list(argc - 2, argv + 2);
	usage_error("unknown command '%s' (commands: run, compare, sweep, check, "
		    "calibrate, list; --help)", cmd);
}
