/* SPDX-License-Identifier: MIT */
/* Names on the command line: "did you mean" (edit distance against the
 * library's tables and the workload registry), and --set resolution. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *cli_suggest_named(const char *word, const struct shd_named *v,
			      size_t n)
{
	const char *names[64];

	if (n > 64)
		n = 64;
	for (size_t i = 0; i < n; i++)
		names[i] = v[i].name;
	return cli_suggest(word, names, n);
}

void cli_unknown_name(const char *what, const char *word,
		      const char *suggestion)
{
	if (suggestion)
		usage_error("unknown %s '%s'; did you mean '%s'? (see "
			    "'shootdown list')", what, word, suggestion);
	usage_error("unknown %s '%s' (see 'shootdown list')", what, word);
}

const struct workload *cli_workload(const char *name)
{
	const struct workload *w;
	const struct workload *const *all;
	const char *names[32];
	size_t n;

	if (!name)
		usage_error("--workload is required (see 'shootdown list')");
	w = wl_find(name);
	if (w)
		return w;
	all = wl_all(&n);
	for (size_t i = 0; i < n && i < 32; i++)
		names[i] = all[i]->name;
	cli_unknown_name("workload", name, cli_suggest(name, names, n < 32 ? n : 32));
}

void cli_need_policy(const char *name)
{
	struct shd_policy p;
	size_t n;
	const struct shd_named *all = shd_policy_presets(&n);

	if (!cli_loaded_policy(name) && shd_policy_preset(name, &p) < 0)
		cli_unknown_name("policy", name, cli_suggest_named(name, all, n));
}

/* The closest of the policy knobs, cost keys and W's knobs to KEY. */
static const char *suggest_knob(const char *key, const struct workload *w)
{
	const char *names[64];
	const char *const *cn, *const *ch;
	size_t n = 0, nk, nc = cost_keys(&cn, &ch);
	const struct shd_named *k = shd_policy_knobs(&nk);

	for (size_t i = 0; i < nk && n < 64; i++)
		names[n++] = k[i].name;
	for (size_t i = 0; i < nc && n < 64; i++)
		names[n++] = cn[i];
	for (unsigned i = 0; w && w->knobs && w->knobs[i].name && n < 64; i++)
		names[n++] = w->knobs[i].name;
	{
		const struct shd_policy_ops *const *lp;
		unsigned nl = cli_loaded_policies(&lp);

		for (unsigned i = 0; i < nl; i++)
			for (unsigned j = 0; lp[i]->knobs &&
			     lp[i]->knobs[j].name && n < 64; j++)
				names[n++] = lp[i]->knobs[j].name;
	}
	return cli_suggest(key, names, n);
}

static int set_workload_knob(struct wl_opts *o, const struct workload *w,
			     const char *key, const char *val, char *errtxt,
			     size_t len)
{
	unsigned k;
	char *end;

	for (k = 0; w && w->knobs && w->knobs[k].name; k++)
		if (!strcmp(w->knobs[k].name, key))
			break;
	if (!w || !w->knobs || !w->knobs[k].name) {
		const char *s = suggest_knob(key, w);

		snprintf(errtxt, len, "--set: unknown knob '%s': not a policy "
			 "knob, a cost.* key or a knob of workload %s%s%s%s (see "
			 "'shootdown list')", key, w ? w->name : "(none)",
			 s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
		return -1;
	}
	errno = 0;
	o->knob[k] = strtoull(val, &end, 10);
	if (*val < '0' || *val > '9' || *end || errno ||
	    o->knob[k] < w->knobs[k].lo || o->knob[k] > w->knobs[k].hi) {
		snprintf(errtxt, len, "--set: %s=%s: %s takes %" PRIu64 "..%"
			 PRIu64, key, val, key, w->knobs[k].lo, w->knobs[k].hi);
		return -1;
	}
	return 0;
}

/*
 * Resolve O's --set list for workload W: policy knobs are checked against a
 * preset, cost.* keys go to o->cost, W's knobs to o->knob[] (defaults
 * first).  0, or -1 with a one-line reason in ERRTXT.
 */
static int resolve_sets(struct wl_opts *o, const struct workload *w,
			char *errtxt, size_t len)
{
	struct shd_policy scratch;

	cost_defaults(&o->cost);
	for (unsigned k = 0; w && w->knobs && w->knobs[k].name; k++)
		o->knob[k] = w->knobs[k].def;
	for (unsigned i = 0; i < o->nsets; i++) {
		char kv[sizeof(o->sets[0])], *key, *val;
		int err;

		snprintf(kv, sizeof(kv), "%s", o->sets[i]);
		key = kv;
		val = strchr(kv, '=');
		*val++ = 0;
		if (!strncmp(key, "cost.", 5)) {
			err = cost_set(&o->cost, key, val);
			if (err == -ENOENT) {
				const char *sg = suggest_knob(key, NULL);

				snprintf(errtxt, len, "--set: unknown cost key '%s'%s%s%s "
					 "(see 'shootdown list')", key,
					 sg ? "; did you mean '" : "", sg ? sg : "",
					 sg ? "'?" : "");
				return -1;
			}
			if (err) {
				snprintf(errtxt, len, "--set: %s takes a number of "
					 "cycles in 0..1e9, not '%s'", key, val);
				return -1;
			}
			continue;
		}
		shd_policy_preset("linux", &scratch);
		err = shd_policy_set(&scratch, key, val);
		/* ... or a knob of a policy in C */
		for (unsigned l = 0; err == -ENOENT && l < o->nloaded; l++)
			if (shd_policy_from_ops(o->loaded[l], &scratch) == 0)
				err = shd_policy_set(&scratch, key, val);
		if (err == 0)
			continue;
		if (err != -ENOENT) {
			snprintf(errtxt, len, "--set: %s", shd_last_error());
			return -1;
		}
		if (set_workload_knob(o, w, key, val, errtxt, len))
			return -1;
	}
	return 0;
}

bool cli_set_ok(const struct wl_opts *o, const struct workload *w,
		const char *kv)
{
	static struct wl_opts t;	/* large: not on the stack */
	char err[1024];

	if (o->nsets == WL_MAX_SETS || strlen(kv) >= sizeof(o->sets[0]))
		return false;
	t = *o;
	memcpy(t.sets[t.nsets++], kv, strlen(kv) + 1);
	return resolve_sets(&t, w, err, sizeof(err)) == 0 &&
	       (!w->check || w->check(&t, err, sizeof(err)) == 0);
}

void cli_finish(struct wl_opts *o, const struct workload *w)
{
	char err[1024];

	o->cfg.ncpus = o->ncpus;
	o->cfg.seed = o->seed;
	if (o->sched_given && o->cfg.sched.mode == SHD_SCHED_HOST)
		usage_error("%s needs the seeded scheduler (drop --sched host)",
			    o->sched_opt);
	o->cfg.sched.seed = o->sched_seed_set ? o->sched_seed : o->seed;
	if (!o->ops_set)
		o->ops = w->default_ops;
	if (resolve_sets(o, w, err, sizeof(err)) < 0)
		usage_error("%s", err);
	if (w->check && w->check(o, err, sizeof(err)) < 0)
		usage_error("%s", err);
	if (o->ncpus < w->min_cpus)
		usage_error("workload %s needs at least %u CPUs", w->name,
			    w->min_cpus);
}
