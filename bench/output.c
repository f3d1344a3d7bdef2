/* SPDX-License-Identifier: MIT */
/*
 * THE output module of the CLI: every command's JSON and CSV, and the
 * counter table.  The schema is docs/output-schema.md (prose) and
 * docs/output-schema.json (what tests/check-output-schema validates):
 *
 *   JSON  {"schema_version", "command", "program", "machine", "results": [
 *           one record per cell, each on one line ], "complete", extras}
 *   CSV   one header, one row per cell; a column is a record's key, a
 *         "knobs.NAME", or a document field ("machine.tlb.entries").
 *
 * Every record carries every counter of SHD_STATS_MAP; tables hide rows
 * that are zero in every column unless --all.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

void out_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

const char *out_status_name(enum cell_status s)
{
	static const char *const names[] = { "not_run", "ok", "violation",
					     "incomplete" };

	return names[s];
}

static uint64_t stat_value(const struct shd_stats *s,
			   const struct shd_stat_field *f)
{
	return *(const uint64_t *)((const char *)s + f->offset);
}

static double per_op(double v, uint64_t ops)
{
	return ops ? v / (double)ops : 0.0;
}

/* ---- the document: program and machine ---- */

static void faults_text(const struct wl_opts *o, char *buf, size_t len,
			const char *sep)
{
	size_t n, at = 0;
	const struct shd_named *f = shd_faults(&n);

	buf[0] = 0;
	for (size_t i = 0; i < n && at < len; i++)
		if ((o->cfg.faults >> i) & 1)
			at += (size_t)snprintf(buf + at, len - at, "%s%s",
					       at ? sep : "", f[i].name);
}

static void machine_json(FILE *f, const struct wl_opts *o)
{
	const struct shd_config *c = &o->cfg;
	const char *const *cn, *const *ch;
	size_t nc = cost_keys(&cn, &ch);
	char faults[1024];

	fprintf(f, "\"machine\": {\"arch\": ");
	out_json_string(f, c->arch.name);
	fprintf(f, ", \"page_size\": %" PRIu64 ", \"tlb\": {\"entries\": %u, "
		"\"ways\": %u}, \"itlb\": ", (uint64_t)1 << c->page_shift,
		c->dtlb.entries, c->dtlb.ways);
	if (c->split_tlb)
		fprintf(f, "{\"entries\": %u, \"ways\": %u}", c->itlb.entries,
			c->itlb.ways);
	else
		fprintf(f, "null");
	fprintf(f, ", \"frames\": %" PRIu64 ", \"seed\": %" PRIu64
		", \"sched\": \"%s\", \"repeat\": %u"
		", \"watchdog_ms\": %u, \"oracle\": %s, \"faults\": [", c->nframes,
		o->seed, (c->sched.mode == SHD_SCHED_SEEDED ? "seeded" : "host"), o->repeat ? o->repeat : 1,
		c->watchdog_ms, c->oracle ? "true" : "false");
	faults_text(o, faults, sizeof(faults), "\", \"");
	if (faults[0])
		fprintf(f, "\"%s\"", faults);
	fprintf(f, "], \"cost\": {");
	for (size_t k = 0; k < nc; k++)
		fprintf(f, "%s\"%s\": %g", k ? ", " : "", cn[k] + 5,
			cost_get(&o->cost, k));
	fprintf(f, "}}");
}

static void machine_csv_header(FILE *f)
{
	const char *const *cn, *const *ch;
	size_t nc = cost_keys(&cn, &ch);

	fprintf(f, ",schema_version,command,program.version,machine.arch,"
		"machine.page_size,machine.tlb.entries,machine.tlb.ways,"
		"machine.itlb.entries,machine.itlb.ways,machine.frames,"
		"machine.seed,machine.sched,machine.repeat,machine.watchdog_ms,"
		"machine.oracle,machine.faults");
	for (size_t k = 0; k < nc; k++)
		fprintf(f, ",machine.%s", cn[k]);
}

static void machine_csv(FILE *f, const char *command, const struct wl_opts *o)
{
	const struct shd_config *c = &o->cfg;
	const char *const *cn, *const *ch;
	size_t nc = cost_keys(&cn, &ch);
	char faults[1024];

	faults_text(o, faults, sizeof(faults), ";");
	fprintf(f, ",%d,%s,%s,%s,%" PRIu64 ",%u,%u,", OUT_SCHEMA_VERSION, command,
		SHD_VERSION, c->arch.name, (uint64_t)1 << c->page_shift,
		c->dtlb.entries, c->dtlb.ways);
	if (c->split_tlb)
		fprintf(f, "%u,%u", c->itlb.entries, c->itlb.ways);
	else
		fprintf(f, ",");
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%s,%u,%u,%s,%s", c->nframes,
		o->seed, (c->sched.mode == SHD_SCHED_SEEDED ? "seeded" : "host"),
		o->repeat ? o->repeat : 1, c->watchdog_ms,
		c->oracle ? "true" : "false", faults);
	for (size_t k = 0; k < nc; k++)
		fprintf(f, ",%g", cost_get(&o->cost, k));
}

/* ---- records ---- */

/* A latency the workload timed itself is host time: only --sched host's. */
bool host_latency(const struct cell *c)
{
	return c->o->cfg.sched.mode == SHD_SCHED_HOST;
}

/* The policy's knobs, as "name=value" words (shd_policy_format). */
static unsigned cell_knobs(const struct cell *c, char *buf, size_t len,
			   char **words, unsigned max)
{
	struct shd_policy pol;
	unsigned n = 0;

	if (wl_policy(c->o, c->policy, &pol) < 0 ||
	    shd_policy_format(&pol, buf, len) < 0)
		return 0;
	for (char *w = strtok(buf, " "); w && n < max; w = strtok(NULL, " "))
		words[n++] = w;
	return n;
}

/* A knob whose help says "on|off" is a boolean (batch=off is not). */
static bool knob_is_bool(const char *word)
{
	size_t n, len = strcspn(word, "=");
	const struct shd_named *k = shd_policy_knobs(&n);

	for (size_t i = 0; i < n; i++)
		if (strlen(k[i].name) == len && !strncmp(k[i].name, word, len))
			return !strncmp(k[i].help, "on|off", 6);
	return false;
}

static void knob_json(FILE *f, const char *word, bool first)
{
	const char *eq = strchr(word, '=');
	const char *v = eq ? eq + 1 : "";

	fprintf(f, "%s\"%.*s\": ", first ? "" : ", ", (int)(eq ? eq - word : 0),
		word);
	if (knob_is_bool(word))
		fprintf(f, "%s", !strcmp(v, "on") ? "true" : "false");
	else if (*v && strspn(v, "0123456789") == strlen(v))
		fprintf(f, "%s", v);
	else
		out_json_string(f, v);
}

static void violation_json(FILE *f, const struct shd_violation *v)
{
	fprintf(f, "{\"kind\": \"%s\", \"cpu\": %u, \"mm\": %" PRIu64
		", \"address\": \"0x%" PRIx64 "\", \"interface\": ",
		shd_violation_kind_name(v->kind), v->cpu, v->mm_id, v->addr);
	out_json_string(f, v->interface ? v->interface : "");
	fprintf(f, ", \"entry_version\": %" PRIu64 ", \"pte_version\": %" PRIu64
		", \"flushed_version\": %" PRIu64 ", \"seed\": %" PRIu64
		", \"text\": ", v->entry_version, v->pte_version,
		v->flushed_version, v->seed);
	out_json_string(f, v->text);
	fputc('}', f);
}

static void sets_text(const struct wl_opts *o, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < o->nsets && at < len; i++)
		at += (size_t)snprintf(buf + at, len - at, "%s%s", i ? ";" : "",
				       o->sets[i]);
}

/* A cell's key fields: "policy", "cpus", "param", "value" (the last two
 * null outside a sweep).  Records and the --repeat summary share them. */
static void cell_key_json(FILE *f, const struct cell *c)
{
	fprintf(f, "\"policy\": ");
	out_json_string(f, c->policy);
	fprintf(f, ", \"cpus\": %u, \"param\": ", c->cpus);
	if (c->param) {
		out_json_string(f, c->param);
		fprintf(f, ", \"value\": %" PRIu64, c->value);
	} else {
		fprintf(f, "null, \"value\": null");
	}
}

static void record_json(FILE *f, const char *workload, const struct cell *c)
{
	const struct wl_result *r = &c->r;
	double cycles = cost_cycles(&c->o->cost, &r->stats);
	char sets[1100], kbuf[1024], *words[48];
	size_t n;
	const struct shd_stat_field *fl = shd_stat_fields(&n);
	unsigned nk;

	sets_text(c->o, sets, sizeof(sets));
	fprintf(f, "{\"workload\": ");
	out_json_string(f, workload);
	fprintf(f, ", ");
	cell_key_json(f, c);
	fprintf(f, ", \"seed\": %" PRIu64 ", \"sets\": ", c->seed ? c->seed :
		c->o->seed);
	out_json_string(f, sets);
	fprintf(f, ", \"status\": \"%s\"", out_status_name(c->status));
	if (c->status == CELL_NOT_RUN) {
		fputc('}', f);
		return;
	}
	fprintf(f, ", \"ops\": %" PRIu64 ", \"wall_ns\": %" PRIu64
		", \"check_failures\": %" PRIu64 ", \"modelled_cycles\": %.0f"
		", \"modelled_cycles_per_op\": %.1f, \"ipis_sent_per_op\": %.4f"
		", \"op_p50_host_ns\": ", r->ops, r->wall_ns, r->check_failures,
		cycles, per_op(cycles, r->ops),
		per_op((double)r->stats.ipis_sent, r->ops));
	if (host_latency(c))
		fprintf(f, "%" PRIu64, r->op_p50_ns);
	else
		fprintf(f, "null");
	fprintf(f, ", \"warmup_ops\": %" PRIu64 ", \"steady\": %s", r->warmup_ops,
		wl_steady(r) ? "true" : "false");
	for (size_t i = 0; i < n; i++)
		fprintf(f, ", \"%s\": %" PRIu64, fl[i].name,
			stat_value(&r->stats, &fl[i]));
	faults_json(f, c);
	out_trace_json(f, r);
	fprintf(f, ", \"async_fallback_fraction\": ");
	if (cell_async_fallback(c) < 0)
		fputs("null", f);
	else
		fprintf(f, "%.4f", cell_async_fallback(c));
	fprintf(f, ", \"async_slow_path\": %s",
		cell_async_slow(c) ? "true" : "false");
	fprintf(f, ", \"knobs\": {");
	nk = cell_knobs(c, kbuf, sizeof(kbuf), words, 48);
	for (unsigned k = 0; k < nk; k++)
		knob_json(f, words[k], k == 0);
	fprintf(f, "}, \"violation_reports\": [");
	for (unsigned v = 0; v < r->nviolations; v++) {
		fprintf(f, "%s", v ? ", " : "");
		violation_json(f, &r->violation[v]);
	}
	fprintf(f, "]}");
}

static const char *const fixed_csv[] = {
	"workload", "policy", "cpus", "param", "value", "seed", "sets", "status",
	"ops", "wall_ns", "check_failures", "modelled_cycles",
	"modelled_cycles_per_op", "ipis_sent_per_op", "op_p50_host_ns",
	"warmup_ops", "steady", "async_fallback_fraction", "async_slow_path",
};

static void csv_header(FILE *f)
{
	size_t n, nk;
	const struct shd_stat_field *fl = shd_stat_fields(&n);
	const struct shd_named *k = shd_policy_knobs(&nk);

	for (size_t i = 0; i < sizeof(fixed_csv) / sizeof(fixed_csv[0]); i++)
		fprintf(f, "%s%s", i ? "," : "", fixed_csv[i]);
	for (size_t i = 0; i < n; i++)
		fprintf(f, ",%s", fl[i].name);
	for (size_t i = 0; i < nk; i++)
		fprintf(f, ",knobs.%s", k[i].name);
	machine_csv_header(f);
	fputc('\n', f);
}

/* The value of knob NAME among WORDS, as the JSON record gives it. */
static const char *knob_csv(char **words, unsigned nk, const char *name)
{
	size_t len = strlen(name);

	for (unsigned i = 0; i < nk; i++)
		if (!strncmp(words[i], name, len) && words[i][len] == '=') {
			const char *v = words[i] + len + 1;

			if (!knob_is_bool(words[i]))
				return v;
			return !strcmp(v, "on") ? "true" : "false";
		}
	return "";
}

static void record_csv(FILE *f, const char *command, const char *workload,
		       const struct cell *c)
{
	const struct wl_result *r = &c->r;
	double cycles = cost_cycles(&c->o->cost, &r->stats);
	char sets[1100], kbuf[1024], *words[48];
	size_t n, nkn;
	const struct shd_stat_field *fl = shd_stat_fields(&n);
	const struct shd_named *kn = shd_policy_knobs(&nkn);
	unsigned nk = 0;

	sets_text(c->o, sets, sizeof(sets));
	fprintf(f, "%s,%s,%u,%s,", workload, c->policy, c->cpus,
		c->param ? c->param : "");
	if (c->param)
		fprintf(f, "%" PRIu64, c->value);
	fprintf(f, ",%" PRIu64 ",%s,%s", c->seed ? c->seed : c->o->seed, sets,
		out_status_name(c->status));
	if (c->status == CELL_NOT_RUN) {
		for (size_t i = 0; i < 11 + n + nkn; i++)
			fputc(',', f);
	} else {
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.0f,%.1f,%.4f,",
			r->ops, r->wall_ns, r->check_failures, cycles,
			per_op(cycles, r->ops),
			per_op((double)r->stats.ipis_sent, r->ops));
		if (host_latency(c))
			fprintf(f, "%" PRIu64, r->op_p50_ns);
		fprintf(f, ",%" PRIu64 ",%s", r->warmup_ops,
			wl_steady(r) ? "true" : "false");
		if (cell_async_fallback(c) >= 0)
			fprintf(f, ",%.4f", cell_async_fallback(c));
		else
			fputc(',', f);
		fprintf(f, ",%s", cell_async_slow(c) ? "true" : "false");
		for (size_t i = 0; i < n; i++)
			fprintf(f, ",%" PRIu64, stat_value(&r->stats, &fl[i]));
		nk = cell_knobs(c, kbuf, sizeof(kbuf), words, 48);
		for (size_t i = 0; i < nkn; i++)
			fprintf(f, ",%s", knob_csv(words, nk, kn[i].name));
	}
	machine_csv(f, command, c->o);
	fputc('\n', f);
}

/* ---- the document ---- */

static const char *out_command = "run";

void out_begin(FILE *f, enum out_format fmt, const char *command,
	       const struct wl_opts *o)
{
	out_command = command;
	if (fmt == FMT_CSV) {
		csv_header(f);
	} else if (fmt == FMT_JSON) {
		fprintf(f, "{\"schema_version\": %d, \"command\": \"%s\", "
			"\"program\": {\"name\": \"shootdown\", \"version\": \"%s\"}, ",
			OUT_SCHEMA_VERSION, command, SHD_VERSION);
		machine_json(f, o);
		fprintf(f, ",\n \"results\": [");
	}
	fflush(f);
}

void out_cell(FILE *f, enum out_format fmt, const char *workload,
	      const struct cell *c, bool first)
{
	if (fmt == FMT_CSV) {
		record_csv(f, out_command, workload, c);
	} else if (fmt == FMT_JSON) {
		fprintf(f, "%s\n  ", first ? "" : ",");
		record_json(f, workload, c);
	}
	fflush(f);
}

/* One figure's spread as {"median", "min", "max"}. */
static void spread_json(FILE *f, const char *name, struct spread s, bool first)
{
	fprintf(f, "%s\"%s\": {\"median\": %.6g, \"min\": %.6g, \"max\": %.6g}",
		first ? "" : ", ", name, s.med, s.lo, s.hi);
}

/* --repeat: per cell, each figure's median and range over its runs. */
static void summary_json(FILE *f, const struct cell *cells, unsigned n)
{
	size_t nf;
	const struct shd_stat_field *fl = shd_stat_fields(&nf);
	bool any = false;

	for (unsigned i = 0; i < n; i++)
		any |= cells[i].nrep > 1;
	if (!any)
		return;
	fprintf(f, ", \"summary\": [");
	for (unsigned i = 0; i < n; i++) {
		const struct cell *c = &cells[i];

		fprintf(f, "%s\n  {", i ? "," : "");
		cell_key_json(f, c);
		fprintf(f, ", \"status\": \"%s\", \"runs\": %u",
			out_status_name(c->status),
			c->status == CELL_NOT_RUN ? 0 : c->nrep);
		if (c->status == CELL_NOT_RUN) {
			fputc('}', f);
			continue;
		}
		fprintf(f, ", \"seeds\": [%" PRIu64 ", %" PRIu64 "], ", c->seed,
			c->seed + c->nrep - 1);
		spread_json(f, "modelled_cycles_per_op",
			    cell_spread(c, fig_cycles_per_op, NULL), true);
		spread_json(f, "ipis_sent_per_op",
			    cell_spread(c, fig_ipis_per_op, NULL), false);
		spread_json(f, "wall_ms", cell_spread(c, fig_wall_ms, NULL), false);
		fprintf(f, ", \"counters\": {");
		for (size_t k = 0; k < nf; k++)
			spread_json(f, fl[k].name,
				    cell_spread(c, fig_counter, &fl[k]), k == 0);
		fprintf(f, "}}");
	}
	fprintf(f, "\n ]");
}

void out_end(FILE *f, enum out_format fmt, bool complete, const char *extra,
	     const struct cell *c, unsigned n)
{
	if (fmt == FMT_JSON) {
		fprintf(f, "\n ], \"complete\": %s", complete ? "true" : "false");
		summary_json(f, c, n);
		fprintf(f, "%s}\n", extra ? extra : "");
	}
	fflush(f);
}

/* ---- the counter table ---- */

static bool row_shown(const struct shd_stat_field *fl,
		      const struct cell *const *c, unsigned n, bool all)
{
	if (all || (fl->flags & SHD_STAT_HEADLINE))
		return true;
	for (unsigned i = 0; i < n; i++)
		if (c[i]->status != CELL_NOT_RUN && stat_value(&c[i]->r.stats, fl))
			return true;
	return false;
}

/*
 * The name column: at least MIN wide (the tables' usual 22, run's 24),
 * wider when a shown counter's name is longer, so no row pushes its
 * cells out of line (nr_tlb_remote_flush_received is 28).
 */
int out_name_width(const struct cell *const *c, unsigned n, bool all, int min)
{
	size_t nf;
	const struct shd_stat_field *fl = shd_stat_fields(&nf);
	int w = min;

	for (size_t k = 0; k < nf; k++)
		if (row_shown(&fl[k], c, n, all) && (int)strlen(fl[k].name) > w)
			w = (int)strlen(fl[k].name);
	return w;
}

/* A counter's cell in a table: its value, or its median and range. */
static void counter_text(char *buf, size_t len, const struct cell *c,
			 const struct shd_stat_field *fl)
{
	if (c->status == CELL_NOT_RUN)
		snprintf(buf, len, "-");
	else
		spread_format(buf, len, cell_spread(c, fig_counter, fl), 0);
}

/* The width of a table's columns: wide enough for a median and range. */
int out_column_width(const struct cell *const *c, unsigned n)
{
	return cells_repeated(c, n) ? 26 : 14;
}

/* A ratio against the first column; "~" marks one inside the noise. */
void out_ratio(FILE *f, struct spread a, struct spread b, bool repeated)
{
	if (a.med == 0) {
		fprintf(f, "  %14s", "-");
		return;
	}
	if (repeated && spread_overlap(a, b) && (a.lo != a.hi || b.lo != b.hi ||
						 a.med != b.med))
		fprintf(f, "  %8.3f noise", b.med / a.med);
	else
		fprintf(f, "  %14.3f", b.med / a.med);
}

static void table_row(FILE *f, const struct shd_stat_field *fl,
		      const struct cell *const *c, unsigned n, bool ratios,
		      int nw)
{
	int w = out_column_width(c, n);
	bool rep = cells_repeated(c, n);
	char buf[96];

	fprintf(f, "  %-*s", nw, fl->name);
	for (unsigned i = 0; i < n; i++) {
		counter_text(buf, sizeof(buf), c[i], fl);
		fprintf(f, " %*s", w, buf);
	}
	for (unsigned i = 1; ratios && i < n; i++) {
		if (c[0]->status == CELL_NOT_RUN || c[i]->status == CELL_NOT_RUN) {
			fprintf(f, "  %14s", "-");
			continue;
		}
		out_ratio(f, cell_spread(c[0], fig_counter, fl),
			  cell_spread(c[i], fig_counter, fl), rep);
	}
	fputc('\n', f);
}

void out_counter_table(FILE *f, const struct cell *const *c, unsigned n,
		       bool ratios, bool all)
{
	size_t nf, hidden = 0;
	const struct shd_stat_field *fl = shd_stat_fields(&nf);
	int w = cells_repeated(c, n) ? 26 : 12;
	int nw = out_name_width(c, n, all, n == 1 && !ratios ? 24 : 22);
	char buf[96];

	for (size_t k = 0; k < nf; k++) {
		if (!row_shown(&fl[k], c, n, all)) {
			hidden++;
			continue;
		}
		if (n == 1 && !ratios) {	/* run: one column and the help */
			counter_text(buf, sizeof(buf), c[0], &fl[k]);
			fprintf(f, "  %-*s %*s   %s\n", nw, fl[k].name, w, buf,
				fl[k].help);
		} else {
			table_row(f, &fl[k], c, n, ratios, nw);
		}
	}
	if (hidden)
		fprintf(f, "  %zu counters are zero%s (--all shows them)\n",
			hidden, n > 1 ? " in every column" : "");
}

/* A trace replay's table: per kind of call, its count and the IPIs its
 * calls sent (by the calling CPU, during the call), per cell. */
void out_trace_calls(FILE *f, const struct cell *const *c, unsigned n)
{
	const struct wl_result *r0 = &c[0]->r;

	if (!r0->ncalls)
		return;
	fprintf(f, "  %s\n  trace calls (%s):\n", r0->replay_info,
		"IPIs sent by the calling CPU during the call");
	fprintf(f, "  %-11s %8s %7s %7s", "call", "calls", "failed", "skipped");
	for (unsigned k = 0; k < n; k++)
		fprintf(f, n > 1 ? " %14.14s %8s" : " %10s %9s %10s",
			n > 1 ? c[k]->policy : "ipis_sent", n > 1 ? "ipis/call" :
			"ipis/call", "shootdowns");
	fputc('\n', f);
	for (unsigned i = 0; i < r0->ncalls; i++) {
		const struct wl_call *a = &r0->call[i];
		uint64_t done = a->calls - a->failed;

		fprintf(f, "  %-11s %8" PRIu64 " %7" PRIu64 " %7" PRIu64, a->name,
			a->calls, a->failed, a->skipped);
		for (unsigned k = 0; k < n; k++) {
			const struct wl_call *b = i < c[k]->r.ncalls ?
						  &c[k]->r.call[i] : a;
			double per = done ? (double)b->ipis_sent / (double)done : 0;

			if (n > 1)
				fprintf(f, " %14" PRIu64 " %8.3f", b->ipis_sent, per);
			else
				fprintf(f, " %10" PRIu64 " %9.3f %10" PRIu64,
					b->ipis_sent, per, b->shootdowns);
		}
		fputc('\n', f);
	}
	if (n > 1)
		return;
	fprintf(f, "  threads (most IPIs first):\n");
	for (unsigned i = 0; i < r0->nthreads; i++)
		fprintf(f, "    tid %-8" PRIu32 " CPU %-3u %8" PRIu64 " calls %8"
			PRIu64 " IPIs sent\n", r0->thread[i].tid, r0->thread[i].cpu,
			r0->thread[i].calls, r0->thread[i].ipis_sent);
	if (!r0->ntop)
		return;
	fprintf(f, "  calls that sent the most IPIs (trace lines):\n");
	for (unsigned i = 0; i < r0->ntop; i++)
		fprintf(f, "    line %-7u tid %-8" PRIu32 " CPU %-3u %-9s %" PRIu64
			" IPIs\n", r0->top[i].line, r0->top[i].tid, r0->top[i].cpu,
			r0->top[i].call, r0->top[i].ipis_sent);
}

/* JSON: ', "trace": {...}' of a record, for a trace replay. */
void out_trace_json(FILE *f, const struct wl_result *r)
{
	if (!r->ncalls)
		return;
	fprintf(f, ", \"trace\": {\"replay\": ");
	out_json_string(f, r->replay_info);
	fprintf(f, ", \"calls\": [");
	for (unsigned i = 0; i < r->ncalls; i++) {
		const struct wl_call *a = &r->call[i];
		uint64_t done = a->calls - a->failed;

		fprintf(f, "%s{\"call\": \"%s\", \"calls\": %" PRIu64
			", \"failed\": %" PRIu64 ", \"skipped\": %" PRIu64
			", \"ipis_sent\": %" PRIu64 ", \"ipis_per_call\": %.6g"
			", \"shootdowns\": %" PRIu64 "}", i ? ", " : "", a->name,
			a->calls, a->failed, a->skipped, a->ipis_sent,
			done ? (double)a->ipis_sent / (double)done : 0.0,
			a->shootdowns);
	}
	fprintf(f, "], \"threads\": [");
	for (unsigned i = 0; i < r->nthreads; i++)
		fprintf(f, "%s{\"tid\": %" PRIu32 ", \"cpu\": %u, \"calls\": %"
			PRIu64 ", \"ipis_sent\": %" PRIu64 "}", i ? ", " : "",
			r->thread[i].tid, r->thread[i].cpu, r->thread[i].calls,
			r->thread[i].ipis_sent);
	fprintf(f, "], \"top\": [");
	for (unsigned i = 0; i < r->ntop; i++)
		fprintf(f, "%s{\"line\": %u, \"tid\": %" PRIu32 ", \"cpu\": %u"
			", \"call\": \"%s\", \"ipis_sent\": %" PRIu64 "}",
			i ? ", " : "", r->top[i].line, r->top[i].tid,
			r->top[i].cpu, r->top[i].call, r->top[i].ipis_sent);
	fprintf(f, "]}");
}
