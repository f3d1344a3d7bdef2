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
	return rc;
}

/* Print what is left: the cells not streamed (not run), then the close. */
static void cells_close(struct cells *cs, bool complete)
{
	for (; printed < cs->n; printed++)
		out_cell(stdout, cs->fmt, cs->w->name, &cs->cell[printed],
			 printed == 0);
	cs->extra[0] = 0;
	cs->finish(cs, complete);
	out_end(stdout, cs->fmt, complete, cs->extra);
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
	for (unsigned i = 0; i < cs->n; i++)
		if (cs->cell[i].status != CELL_NOT_RUN) {
			out_cell(stdout, cs->fmt, cs->w->name, &cs->cell[i], i == 0);
			printed = i + 1;
		}
	cells_close(cs, cells_exit_status(cs) != EXIT_INCOMPLETE);
}

int cells_run(struct cells *cs)
{
	static sigset_t set;
	pthread_t t;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	active = cs;
	printed = 0;
	if (pthread_create(&t, NULL, signal_main, &set) == 0)
		pthread_detach(t);
	out_begin(stdout, cs->fmt, cs->command, cs->cell[0].o);
	for (unsigned i = 0; i < cs->n; i++) {
		struct cell *c = &cs->cell[i];
		struct wl_result *r = malloc(sizeof(*r));
		char err[sizeof(c->err)];
		uint64_t t0 = wl_now_ns();
		int rc;

		if (!r)
			usage_error("out of memory");
		c->o->ncpus = c->cpus;
		c->o->cfg.ncpus = c->cpus;
		rc = wl_execute(cs->w, c->o, c->policy, r, err, sizeof(err));
		if (rc == WL_BAD_INPUT)
			usage_error("%s", err);
		pthread_mutex_lock(&cells_lock);
		c->r = *r;
		memcpy(c->err, err, sizeof(err));
		c->status = cell_status_of(rc, r);
		free(r);
		cells_report(c);
		out_cell(stdout, cs->fmt, cs->w->name, c, i == 0);
		printed = i + 1;
		cell_progress(cs, i, wl_now_ns() - t0);
		if (c->status == CELL_INCOMPLETE) {
			if (isatty(2) && cs->n > 1)
				fprintf(stderr, "\r\033[K");
			cells_close(cs, false);
			if (rc == -ETIMEDOUT)
				_exit(EXIT_INCOMPLETE);	/* a CPU is wedged */
			pthread_mutex_unlock(&cells_lock);
			return EXIT_INCOMPLETE;
		}
		pthread_mutex_unlock(&cells_lock);
	}
	pthread_mutex_lock(&cells_lock);
	if (isatty(2) && cs->n > 1 && !getenv("SHD_NO_PROGRESS"))
		fprintf(stderr, "\r\033[K");
	cells_close(cs, true);
	pthread_mutex_unlock(&cells_lock);
	return cells_exit_status(cs);
}
