/* SPDX-License-Identifier: MIT */
/*
 * Running a command's cells (a policy x CPU count, a sweep point) one after
 * another, and keeping the ones done.  JSON and CSV stream each cell as it
 * finishes; tables print at the end.  When a watchdog fires, a run fails,
 * or SIGINT/SIGTERM arrives, what finished is printed, the rest is marked
 * not run, and the exit status says why (3, or 128 + the signal).
 *
 * Signals: cells_run() blocks SIGINT and SIGTERM before the first machine
 * exists, so every CPU thread inherits the mask, and one thread takes them
 * with sigwait().  It prints under cells_lock, which the main thread holds
 * while it records a cell, so a cell is printed whole or not at all; then it
 * _exit()s: a machine may be mid-run, and nothing tears it down.
 */
#include <errno.h>
#include <stddef.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static pthread_mutex_t cells_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cells *active;		/* under cells_lock */
static unsigned printed;		/* cells streamed so far */
static unsigned records;		/* records streamed: the first has no comma */

/* One line when a cell stopped before its workload's counters were steady;
 * once per warm-up (cells of one CPU count share it). */
static void cell_warn_warmup(const struct cell *c)
{
	static uint64_t warned = UINT64_MAX;
	const struct wl_result *r = &c->r;

	/* check's verdict is about violations, not rates: its records say
	 * steady or not, its stderr keeps to the verdict. */
	if (c->status == CELL_NOT_RUN || wl_steady(r) || warned == r->warmup_ops ||
	    c->o->format == FMT_WIS ||	/* timed: it has --warmup seconds */
	    (active && !strcmp(active->command, "check")))
		return;
	warned = r->warmup_ops;
	fprintf(stderr, "%s: warning: --ops %" PRIu64 "%s ends before %s reaches "
		"steady state (%s); counters include the warm-up\n", cli_prog,
		c->o->ops, c->o->ops_set ? "" : " (the default)",
		active ? active->w->name : c->o->workload, r->warmup_why);
}

void cells_report(const struct cell *c)
{
	const struct wl_result *r = &c->r;

	/* --repeat: a cell's faults are reported once, over all its runs. */
	if (c->nrep < 2 || c->rep)
		faults_report(c, !active || active->n > 1);

	cell_warn_warmup(c);
	if (c->status == CELL_INCOMPLETE) {
		fprintf(stderr, "%s: %s under %s on %u CPUs could not complete: %s\n",
			cli_prog, active ? active->w->name : "run", c->policy,
			c->cpus, c->err);
		return;
	}
	if (r->stats.violations)
		fprintf(stderr, "%s: %" PRIu64 " violation(s) under %s; first: %s\n",
			cli_prog, r->stats.violations, c->policy, c->err);
	if (r->check_failures)
		fprintf(stderr, "%s: %" PRIu64 " workload check failure(s) "
			"under %s; first: %s\n", cli_prog, r->check_failures,
			c->policy, r->note);
}

int cells_exit_status(const struct cells *cs)
{
	int rc = EXIT_CLEAN;

	for (unsigned i = 0; i < cs->n; i++) {
		if (cs->cell[i].status == CELL_INCOMPLETE)
			return EXIT_INCOMPLETE;
		if (cs->cell[i].status == CELL_VIOLATION)
			rc = EXIT_VIOLATION;
	}
	/* An injected fault that never fired: the run did not test what was
	 * asked, whatever it found (3 before 1). */
	for (unsigned i = 0; i < cs->n; i++)
		if (cell_unfired(&cs->cell[i]))
			return EXIT_INCOMPLETE;
	/* check exists to catch what it injects: a fault that fired and went
	 * unseen leaves the check inconclusive, not passed. */
	if (!strcmp(cs->command, "check") && cs->n == 1 &&
	    cell_undetected(&cs->cell[0]))
		return EXIT_INCOMPLETE;
	return rc;
}

/* Print what is left: the cells not streamed (not run), then the close. */
static void cells_close(struct cells *cs, bool complete)
{
	for (; printed < cs->n; printed++)
		out_cell(stdout, cs->fmt, cs->w->name, &cs->cell[printed],
			 records++ == 0);
	cs->extra[0] = 0;
	cs->finish(cs, complete);
	out_end(stdout, cs->fmt, complete, cs->extra, cs->cell, cs->n);
	fflush(NULL);
}

static void *signal_main(void *arg)
{
	sigset_t *set = arg;
	int sig;

	if (sigwait(set, &sig))
		return NULL;
	pthread_mutex_lock(&cells_lock);
	if (isatty(2))
		fprintf(stderr, "\r\033[K");
	fprintf(stderr, "%s: %s: stopped by SIG%s; printing the cells done\n",
		cli_prog, active->command, sig == SIGINT ? "INT" : "TERM");
	cells_close(active, false);
	_exit(EXIT_SIGNAL + sig);
}

static enum cell_status cell_status_of(int err, const struct wl_result *r)
{
	if (err < 0)
		return CELL_INCOMPLETE;
	for (unsigned v = 0; v < r->nviolations; v++)
		if (r->violation[v].kind == SHD_VIOLATION_WATCHDOG)
			return CELL_INCOMPLETE;
	if (r->stats.violations || r->check_failures)
		return CELL_VIOLATION;
	return CELL_OK;
}

/* ---- --repeat: a cell's runs and their spread ---- */

static double fig_u64(const struct cell *c, const struct wl_result *r,
		      const void *offset)
{
	(void)c;
	return (double)*(const uint64_t *)((const char *)r +
					   *(const size_t *)offset);
}

/* Round a median to the counter it stands for. */
static uint64_t med_u64(struct spread s)
{
	return (uint64_t)(s.med + 0.5);
}

void cells_summarise(struct cell *c)
{
	size_t nf;
	const struct shd_stat_field *fl = shd_stat_fields(&nf);
	static const size_t own[] = { offsetof(struct wl_result, ops),
		offsetof(struct wl_result, wall_ns),
		offsetof(struct wl_result, check_failures),
		offsetof(struct wl_result, op_p50_ns) };
	struct wl_result *m;

	if (c->nrep < 2 || !c->rep)
		return;
	m = &c->r;
	/* Reports and notes from the first run that has any. */
	*m = c->rep[0];
	for (unsigned i = 0; i < c->nrep; i++)
		if (c->rep[i].nviolations || c->rep[i].check_failures ||
		    c->rep[i].status) {
			*m = c->rep[i];
			break;
		}
	for (size_t k = 0; k < nf; k++)
		*(uint64_t *)((char *)&m->stats + fl[k].offset) =
			med_u64(cell_spread(c, fig_counter, &fl[k]));
	for (size_t k = 0; k < sizeof(own) / sizeof(own[0]); k++)
		*(uint64_t *)((char *)m + own[k]) =
			med_u64(cell_spread(c, fig_u64, &own[k]));
	m->sched_log = NULL;
}

/* Run K of cell C into R: its seeds are --seed + K (and --sched-seed + K). */
static int cell_run_one(struct cells *cs, struct cell *c, unsigned k,
			struct wl_result *r, char *err, size_t len)
{
	struct wl_opts *o = c->o;
	uint64_t seed = o->seed, sseed = o->cfg.sched.seed;
	int rc;

	o->ncpus = c->cpus;
	o->cfg.ncpus = c->cpus;
	o->seed = seed + k;
	o->cfg.seed = o->seed;
	o->cfg.sched.seed = sseed + k;
	rc = wl_execute(cs->w, o, c->policy, r, err, len);
	o->seed = seed;
	o->cfg.seed = seed;
	o->cfg.sched.seed = sseed;
	return rc;
}

/* Fold run K's outcome into C: the worst status, the first failure's text. */
static void cell_fold(struct cell *c, unsigned k, int rc,
		      const struct wl_result *r, const char *err)
{
	enum cell_status st = cell_status_of(rc, r);

	if (k == 0 || st > c->status) {
		if (k == 0 || c->status == CELL_OK)
			memcpy(c->err, err, sizeof(c->err));
		c->status = st;
	}
	if (c->nrep > 1)
		c->rep[k] = *r;
	else
		c->r = *r;
}

void cells_release(struct cells *cs)
{
	for (unsigned i = 0; i < cs->n; i++) {
		free(cs->cell[i].rep);
		cs->cell[i].rep = NULL;
	}
}

static void cell_prepare(struct cell *c)
{
	c->nrep = c->o->repeat > 1 ? c->o->repeat : 1;
	c->seed = c->o->seed;
	if (c->nrep > 1 && !(c->rep = calloc(c->nrep, sizeof(*c->rep))))
		usage_error("out of memory");
}

int cells_execute(struct cells *cs, struct cell *c)
{
	struct wl_result *r = malloc(sizeof(*r));
	char err[sizeof(c->err)];
	int rc = 0;

	if (!r)
		usage_error("out of memory");
	cell_prepare(c);
	for (unsigned k = 0; k < c->nrep; k++) {
		rc = cell_run_one(cs, c, k, r, err, sizeof(err));
		if (rc == WL_BAD_INPUT)
			break;
		cell_fold(c, k, rc, r, err);
		if (c->status == CELL_INCOMPLETE) {
			c->nrep = k + 1;
			break;
		}
	}
	free(r);
	cells_summarise(c);
	return rc;
}

/* Stream cell C's records: one per run. */
static void cell_stream(struct cells *cs, const struct cell *c)
{
	if (c->nrep < 2 || !c->rep || c->status == CELL_NOT_RUN) {
		out_cell(stdout, cs->fmt, cs->w->name, c, records++ == 0);
		return;
	}
	for (unsigned k = 0; k < c->nrep; k++) {
		struct cell one = *c;

		one.r = c->rep[k];
		one.seed = c->seed + k;
		one.status = cell_status_of(c->rep[k].status, &c->rep[k]);
		one.nrep = 1;
		one.rep = NULL;
		out_cell(stdout, cs->fmt, cs->w->name, &one, records++ == 0);
	}
}

/* One line on stderr per finished cell: on a terminal, or when slow. */
static void cell_progress(const struct cells *cs, unsigned i, uint64_t ns)
{
	const struct cell *c = &cs->cell[i];
	bool tty = isatty(2);

	if (cs->n < 2 || (!tty && ns < 1000000000ull) || getenv("SHD_NO_PROGRESS"))
		return;
	fprintf(stderr, "%s%s: %u/%u done: %s on %u CPUs", tty ? "\r\033[K" : "",
		cs->command, i + 1, cs->n, c->policy, c->cpus);
	if (c->param)
		fprintf(stderr, ", %s=%" PRIu64, c->param, c->value);
	fprintf(stderr, " (%.1f s)%s", ns / 1e9, tty ? "" : "\n");
}

void cells_print(struct cells *cs)
{
	out_begin(stdout, cs->fmt, cs->command, cs->cell[0].o);
	printed = 0;
	records = 0;
	for (unsigned i = 0; i < cs->n; i++)
		if (cs->cell[i].status != CELL_NOT_RUN) {
			cell_stream(cs, &cs->cell[i]);
			printed = i + 1;
		}
	cells_close(cs, cells_exit_status(cs) != EXIT_INCOMPLETE &&
		    printed == cs->n);	/* a cell not run: stopped early */
}

/* Stop at an incomplete cell: what ran is printed, the rest is not run. */
static int cells_stop(struct cells *cs, int rc)
{
	if (isatty(2) && cs->n > 1)
		fprintf(stderr, "\r\033[K");
	cells_close(cs, false);
	if (rc == -ETIMEDOUT)
		_exit(EXIT_INCOMPLETE);	/* a CPU is wedged */
	pthread_mutex_unlock(&cells_lock);
	return EXIT_INCOMPLETE;
}

int cells_run(struct cells *cs)
{
	static sigset_t set;
	static bool listening;	/* one signal thread for every call */
	pthread_t t;
	struct wl_result *r = malloc(sizeof(*r));

	if (!r)
		usage_error("out of memory");
	pthread_mutex_lock(&cells_lock);
	active = cs;
	printed = 0;
	records = 0;
	pthread_mutex_unlock(&cells_lock);
	/* sweep --refine calls this twice: the set the thread waits on is
	 * written once, before the thread exists. */
	if (!listening) {
		sigemptyset(&set);
		sigaddset(&set, SIGINT);
		sigaddset(&set, SIGTERM);
		pthread_sigmask(SIG_BLOCK, &set, NULL);
		listening = pthread_create(&t, NULL, signal_main, &set) == 0;
		if (listening)
			pthread_detach(t);
	}
	out_begin(stdout, cs->fmt, cs->command, cs->cell[0].o);
	for (unsigned i = 0; i < cs->n; i++) {
		struct cell *c = &cs->cell[i];
		uint64_t t0 = wl_now_ns();

		cell_prepare(c);
		for (unsigned k = 0; k < c->nrep; k++) {
			char err[sizeof(c->err)];
			int rc = cell_run_one(cs, c, k, r, err, sizeof(err));

			if (rc == WL_BAD_INPUT)
				usage_error("%s", err);
			pthread_mutex_lock(&cells_lock);
			cell_fold(c, k, rc, r, err);
			if (c->nrep > 1 && cell_status_of(rc, r) != CELL_OK)
				fprintf(stderr, "%s: seed %" PRIu64 " of --repeat "
					"%u:\n", cli_prog, c->seed + k, c->nrep);
			{
				struct cell one = *c;

				one.r = *r;
				one.status = cell_status_of(rc, r);
				memcpy(one.err, err, sizeof(err));
				one.rep = NULL;	/* one of several: faults later */
				cells_report(&one);
				one.seed = c->seed + k;
				one.nrep = 1;
				out_cell(stdout, cs->fmt, cs->w->name, &one,
					 records++ == 0);
			}
			if (c->status == CELL_INCOMPLETE) {
				c->nrep = k + 1;
				cells_summarise(c);
				printed = i + 1;
				free(r);
				return cells_stop(cs, rc);
			}
			pthread_mutex_unlock(&cells_lock);
		}
		pthread_mutex_lock(&cells_lock);
		cells_summarise(c);
		if (c->nrep > 1)
			faults_report(c, cs->n > 1);
		printed = i + 1;
		cell_progress(cs, i, wl_now_ns() - t0);
		pthread_mutex_unlock(&cells_lock);
	}
	free(r);
	pthread_mutex_lock(&cells_lock);
	if (isatty(2) && cs->n > 1 && !getenv("SHD_NO_PROGRESS"))
		fprintf(stderr, "\r\033[K");
	cells_close(cs, true);
	pthread_mutex_unlock(&cells_lock);
	return cells_exit_status(cs);
}
