/* SPDX-License-Identifier: MIT */
/* Exploring a scenario's schedules: a stateless DFS over the seeded
 * scheduler's choices up to a preemption bound, or PCT/random samples. */

/*
 * Theory of operation.
 *
 * A run under SHD_STRATEGY_CHOOSE calls dfs_choose() at every scheduling
 * point with the CPUs that can run.  A point where only one can is no
 * choice; the others ("branch points", numbered from 0 in a run) are the
 * tree.  The default at a branch point is CHESS's: keep the running CPU
 * if it could go on, else the lowest that can run (after one that spins,
 * the next after it, round robin: spinning CPUs must not starve the one
 * they wait for, as CHESS's fairness ensures).  Choosing another CPU
 * where the running one could go on is a preemption; a choice where it
 * waits, spins or ends is free.
 *
 * Stateless DFS (Godefroid's VeriSoft; CHESS, Musuvathi and Qadeer,
 * PLDI'07): a run is a pure function of its choices, so a schedule is the
 * list of choices made at its branch points, and the tree is walked by
 * re-running from scratch: replay the path's prefix, take the default
 * after it, and record each new branch point with the CPUs that could
 * have run there.  Then backtrack to the deepest point with an untried
 * CPU the bound allows, and run again.  A prefix that meets other
 * runnable CPUs than recorded means a run is not a function of its
 * schedule; that is reported, never ignored.
 *
 * Iterative context bounding (Musuvathi and Qadeer, PLDI'07): with
 * ITERATE the DFS runs with bound 0, then 1, .. up to the bound, so the
 * schedule found has the fewest preemptions and small bounds, where most
 * bugs are, are done first.  A pass re-runs the schedules of the passes
 * before it (a stateless search must, to reach the new branches): they
 * count as runs, not as new schedules.
 *
 * When the runs outgrow the budget, the DFS stops and PCT samples follow
 * (seeds S, S+1, ..), with k (the run's length) taken from the default
 * schedule's steps.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "explore.h"

struct dfs_node {
	uint64_t runnable;	/* the CPUs that could run here */
	uint64_t tried;		/* ... and those taken so far */
	unsigned cur;		/* the one running (ncpus: the controller) */
	unsigned def;		/* the default here */
	unsigned chosen;
	bool preempt;		/* cur could go on: another costs one */
	unsigned pre;		/* preemptions before this point */
};

struct dfs {
	struct dfs_node *node;	/* the path: branch points of the last run */
	size_t n, cap;
	size_t at;		/* branch points passed in this run */
	size_t prefix;		/* how many of node[] this run replays */
	unsigned preempts;	/* preemptions in this run so far */
	int bound;
	bool diverged, nomem;
	bool misfit;		/* a choice named a CPU that could not run */
	/* EXPLORE_CHOICES: (point, cpu) pairs, by point. */
	uint64_t (*pick)[2];
	size_t npick, at_pick;
};

static unsigned lowest(uint64_t mask)
{
	return (unsigned)__builtin_ctzll(mask);
}

/* The default after a CPU that spins (yields): the next that can run
 * after it, round robin, so that two spinning CPUs cannot pass the turn
 * between them forever while the one they wait for never runs. */
static unsigned next_after(uint64_t mask, unsigned cur)
{
	uint64_t later = cur + 1 < 64 ? mask & ~((2ull << cur) - 1) : 0;

	return lowest(later ? later : mask);
}

static uint64_t view_mask(const struct shd_sched_view *v, unsigned *count)
{
	uint64_t mask = 0;

	*count = 0;
	for (unsigned i = 0; i < v->ncpus && i < 64; i++)
		if (v->runnable[i]) {
			mask |= 1ull << i;
			(*count)++;
		}
	return mask;
}

static bool node_push(struct dfs *d, const struct dfs_node *nd)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		void *p = realloc(d->node, cap * sizeof(*d->node));

		if (!p)
			return false;
		d->node = p;
		d->cap = cap;
	}
	d->node[d->n++] = *nd;
	return true;
}

/* The CHOOSE callback: called by whichever thread holds the scheduler's
 * token, one at a time; the token's hand-over orders our state. */
static unsigned dfs_choose(void *ctx, const struct shd_sched_view *v)
{
	struct dfs *d = ctx;
	unsigned count;
	uint64_t mask = view_mask(v, &count);
	bool preempt = v->why == SHD_WHY_PREEMPT && v->cur < v->ncpus &&
		       v->runnable[v->cur];
	unsigned def = preempt ? v->cur : v->why == SHD_WHY_YIELD &&
		       v->cur < v->ncpus ? next_after(mask, v->cur) :
		       lowest(mask), c;
	struct dfs_node nd;

	if (count < 2)
		return def;
	if (d->pick) {		/* one schedule, from its choice list */
		size_t k = d->at++;

		if (d->at_pick < d->npick && d->pick[d->at_pick][0] == k) {
			c = (unsigned)d->pick[d->at_pick++][1];
			if (c < 64 && mask >> c & 1)
				return c;
			d->misfit = true;
		}
		return def;
	}
	if (d->at < d->prefix) {
		struct dfs_node *p = &d->node[d->at++];

		if (p->runnable != mask || p->cur != v->cur) {
			d->diverged = true;
			return def;
		}
		d->preempts += p->preempt && p->chosen != p->cur;
		return p->chosen;
	}
	nd = (struct dfs_node){ .runnable = mask, .tried = 1ull << def,
				.cur = v->cur, .def = def, .chosen = def,
				.preempt = preempt, .pre = d->preempts };
	d->at++;
	if (!node_push(d, &nd))
		d->nomem = true;
	return def;
}

/* The next schedule: the deepest point with a CPU left that the bound
 * allows.  False when the tree is done. */
static bool dfs_backtrack(struct dfs *d)
{
	while (d->n) {
		struct dfs_node *p = &d->node[d->n - 1];
		uint64_t left = p->runnable & ~p->tried;

		while (left) {
			unsigned c = lowest(left);
			unsigned cost = p->preempt && c != p->cur;

			left &= left - 1;
			p->tried |= 1ull << c;
			if (d->bound >= 0 && p->pre + cost > (unsigned)d->bound)
				continue;
			p->chosen = c;
			d->prefix = d->n;
			return true;
		}
		d->n--;
	}
	return false;
}

/* The choices of the last run that differ from the default, "K:CPU,..". */
static void dfs_choices(const struct dfs *d, char *buf, size_t len)
{
	size_t at = 0;

	buf[0] = 0;
	for (size_t k = 0; k < d->n && at < len; k++) {
		const struct dfs_node *p = &d->node[k];

		if (p->chosen != p->def)
			at += (size_t)snprintf(buf + at, len - at, "%s%zu:%u",
					       at ? "," : "", k, p->chosen);
	}
	if (!buf[0])
		snprintf(buf, len, "none");
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One run; how it went in R.  1: keep going, 0: stop (R->res is why), -1:
 * an error (ERR). */
static int judge(const struct explore_opts *o, struct explore_result *r,
		 struct scn_result *res, const char *replay)
{
	bool hit = res->status == SCN_VIOLATION &&
		   (o->want < 0 || res->kinds >> o->want & 1);

	for (int f = 0; f < SHD_FAULT__COUNT; f++)
		r->fired[f] += res->fault_fired[f];
	r->detected += res->violations;
	r->violating += res->status == SCN_VIOLATION;
	if (!hit && res->status != SCN_OP_ERROR &&
	    res->status != SCN_INCOMPLETE) {
		free(res->log);
		return 1;
	}
	r->found = hit;
	r->stopped = !hit;
	free(r->res.log);
	r->res = *res;
	snprintf(r->replay, sizeof(r->replay), "%s", replay);
	return 0;
}

static int run_choose(const struct scenario *s, const struct explore_opts *o,
		      struct dfs *d, struct scn_result *res, char *err,
		      size_t errlen)
{
	struct scn_run_opts ro = { .keep_log = o->keep_log,
				   .ordered = o->ordered, .trace = o->trace };

	ro.sched.mode = SHD_SCHED_SEEDED;
	ro.sched.strategy = SHD_STRATEGY_CHOOSE;
	ro.sched.preemptions = -1;
	ro.sched.store_buffers = true;
	ro.sched.depth = 3;
	ro.sched.run = 16;
	ro.sched.choose = dfs_choose;
	ro.sched.choose_ctx = d;
	d->at = 0;
	d->at_pick = 0;
	d->preempts = 0;
	d->n = d->prefix;
	if (scenario_run(s, &ro, res, err, errlen))
		return -1;
	if (d->nomem || d->diverged) {
		snprintf(err, errlen, "%s: %s", s->file, d->nomem ?
			 "out of memory for the schedule tree" :
			 "a run left the schedule it was given: runs are not a "
			 "function of their schedules (a bug)");
		free(res->log);
		return -1;
	}
	return 0;
}

/* The DFS with bound B; 1: the tree is done, 0: stopped, -1: an error. */
static int dfs_pass(const struct scenario *s, const struct explore_opts *o,
		    struct explore_result *r, int b, uint64_t *steps,
		    char *err, size_t errlen)
{
	struct dfs d = { .bound = b };
	int rc = 1;

	do {
		struct scn_result res;
		char replay[160], choices[128];

		if (r->runs >= o->budget) {
			rc = 0;
			break;
		}
		if (run_choose(s, o, &d, &res, err, errlen)) {
			rc = -1;
			break;
		}
		r->runs++;
		r->dfs_runs++;
		if (!*steps)
			*steps = res.steps;
		if (b == 0 || res.preemptions == (unsigned)b || !o->iterate)
			r->schedules++;
		dfs_choices(&d, choices, sizeof(choices));
		snprintf(replay, sizeof(replay), "--choices %s", choices);
		if (!judge(o, r, &res, replay)) {
			rc = 0;
			break;
		}
	} while (dfs_backtrack(&d));
	free(d.node);
	return rc;
}

static int run_sample(const struct scenario *s, const struct explore_opts *o,
		      enum shd_strategy strategy, uint64_t seed, uint64_t steps,
		      struct scn_result *res, char *err, size_t errlen)
{
	struct scn_run_opts ro = { .keep_log = o->keep_log,
				   .ordered = o->ordered };

	ro.sched.mode = SHD_SCHED_SEEDED;
	ro.sched.strategy = strategy;
	ro.sched.seed = seed;
	ro.sched.depth = o->depth ? o->depth : 3;
	ro.sched.run = 16;
	ro.sched.steps = steps;
	ro.sched.preemptions = -1;
	ro.sched.store_buffers = true;
	return scenario_run(s, &ro, res, err, errlen);
}

static int sample(const struct scenario *s, const struct explore_opts *o,
		  struct explore_result *r, enum shd_strategy strategy,
		  uint64_t steps, char *err, size_t errlen)
{
	r->sampled = true;
	for (unsigned i = 0; i < o->budget; i++) {
		struct scn_result res;
		char replay[160];
		uint64_t seed = o->seed + i;

		if (run_sample(s, o, strategy, seed, steps, &res, err, errlen))
			return -1;
		r->runs++;
		r->schedules++;
		snprintf(replay, sizeof(replay), "--strategy %s --sched-seed %"
			 PRIu64 " --schedules 1", shd_strategy_name(strategy),
			 seed);
		if (strategy == SHD_STRATEGY_PCT && o->depth && o->depth != 3)
			snprintf(replay + strlen(replay), sizeof(replay) -
				 strlen(replay), " --depth %u", o->depth);
		if (!judge(o, r, &res, replay))
			return 0;
	}
	return 0;
}

/* "K:CPU,K:CPU" (K increasing) or "none"; -1 with ERR. */
static int choices_parse(const char *text, struct dfs *d, char *err,
			 size_t errlen)
{
	const char *c = text;

	if (!strcmp(text, "none"))
		return 0;
	d->pick = calloc(strlen(text) / 4 + 1, sizeof(*d->pick));
	if (!d->pick)
		goto bad;
	while (*c) {
		char *end;
		unsigned long long k, cpu;

		if (*c < '0' || *c > '9')
			goto bad;
		k = strtoull(c, &end, 10);
		if (*end != ':' || end[1] < '0' || end[1] > '9')
			goto bad;
		cpu = strtoull(end + 1, &end, 10);
		if ((*end && *end != ',') || cpu >= SCN_MAX_CPUS ||
		    (d->npick && k <= d->pick[d->npick - 1][0]))
			goto bad;
		d->pick[d->npick][0] = k;
		d->pick[d->npick++][1] = cpu;
		c = *end ? end + 1 : end;
	}
	if (d->npick)
		return 0;
bad:
	snprintf(err, errlen, "--choices: '%s' is not K:CPU[,K:CPU..] with K "
		 "increasing, or none", text);
	return -1;
}

int explore_choices_check(const char *text, char *err, size_t errlen)
{
	struct dfs d = { 0 };
	int rc = choices_parse(text, &d, err, errlen);

	free(d.pick);
	return rc;
}

static int one_choice_run(const struct scenario *s,
			  const struct explore_opts *o,
			  struct explore_result *r, char *err, size_t errlen)
{
	struct dfs d = { .bound = -1 };
	struct scn_result res;
	char replay[160];
	int rc = choices_parse(o->choices, &d, err, errlen);

	if (!rc)
		rc = run_choose(s, o, &d, &res, err, errlen);
	if (!rc && (d.misfit || d.at_pick < d.npick)) {
		snprintf(err, errlen, "--choices %s: not a schedule of %s (%s)",
			 o->choices, s->file, d.misfit ? "a choice names a CPU "
			 "that cannot run there" : "the run has fewer branch "
			 "points");
		free(res.log);
		rc = -2;
	}
	free(d.pick);
	if (rc)
		return rc;
	r->runs = r->schedules = 1;
	snprintf(replay, sizeof(replay), "--choices %s", o->choices);
	judge(o, r, &res, replay);
	return 0;
}

/* One run: a recorded schedule's decisions, or O->sched as it is. */
static int one_run(const struct scenario *s, const struct explore_opts *o,
		   struct explore_result *r, char *err, size_t errlen)
{
	struct scn_run_opts ro = { .keep_log = o->keep_log,
				   .ordered = o->ordered, .trace = o->trace };
	struct scn_result res;

	if (o->mode == EXPLORE_ONE) {
		ro.sched = *o->sched;
	} else {
		ro.sched.strategy = SHD_STRATEGY_REPLAY;
		ro.sched.replay = o->replay;
		ro.sched.nreplay = o->nreplay;
		ro.sched.preemptions = -1;
		ro.sched.store_buffers = true;
		ro.sched.depth = 3;
		ro.sched.run = 16;
	}
	ro.sched.mode = SHD_SCHED_SEEDED;
	if (scenario_run(s, &ro, &res, err, errlen))
		return -1;
	if (res.diverged) {
		snprintf(err, errlen, "%s: the recorded schedule does not fit "
			 "this scenario: %s", s->file, res.divergence);
		free(res.log);
		return -2;
	}
	r->runs = r->schedules = 1;
	judge(o, r, &res, o->mode == EXPLORE_ONE ? "" : "--replay FILE");
	return 0;
}

/* The DFS, pass by pass; PCT samples if it outgrows the budget. */
static int systematic(const struct scenario *s, const struct explore_opts *o,
		      struct explore_result *r, char *err, size_t errlen)
{
	int top = o->preemptions < 0 ? 2 : o->preemptions, rc = 1;
	uint64_t steps = 0;

	for (int b = o->iterate ? 0 : top; b <= top && rc == 1; b++) {
		rc = dfs_pass(s, o, r, b, &steps, err, errlen);
		r->bound = b;
	}
	if (rc < 0)
		return -1;
	r->exhaustive = rc == 1;
	if (r->exhaustive || r->found || r->stopped)
		return 0;
	return sample(s, o, r, SHD_STRATEGY_PCT, steps + steps / 4, err, errlen);
}

int explore(const struct scenario *s, const struct explore_opts *o,
	    struct explore_result *r, char *err, size_t errlen)
{
	double t0 = now_s();
	struct explore_opts pre = *o;
	uint64_t steps = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	switch (o->mode) {
	case EXPLORE_CHOICES:
		rc = one_choice_run(s, o, r, err, errlen);
		break;
	case EXPLORE_REPLAY:
	case EXPLORE_ONE:
		rc = one_run(s, o, r, err, errlen);
		break;
	case EXPLORE_SYSTEMATIC:
		rc = systematic(s, o, r, err, errlen);
		break;
	default:
		/* PCT's k is the default schedule's length: that run first. */
		pre.budget = 1;
		rc = dfs_pass(s, &pre, r, 0, &steps, err, errlen) < 0 ? -1 : 0;
		if (!rc && !r->found && !r->stopped)
			rc = sample(s, o, r, o->mode == EXPLORE_PCT ?
				    SHD_STRATEGY_PCT : SHD_STRATEGY_RANDOM,
				    steps + steps / 4, err, errlen);
		break;
	}
	r->seconds = now_s() - t0;
	return rc;
}
