/* SPDX-License-Identifier: MIT */
/* shootdown sweep: one knob over a range; a plot and the break-even. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <unistd.h>

#include "cli.h"
#define SWEEP_MAX_POINTS 1000

/* ":STEP" or "xFACTOR" after HI (SEP points at it): 0, or -1 with ERR. */
static int sweep_step(char *sep, unsigned long long *step, double *factor,
		      char *err, size_t errlen)
{
	char kind = *sep, *end;

	*sep = 0;
	errno = 0;
	if (kind == ':') {
		*step = strtoull(sep + 1, &end, 10);
		if (sep[1] < '0' || sep[1] > '9' || *end || errno || *step == 0) {
			snprintf(err, errlen, "--param: step '%s' is not a "
				 "positive whole number", sep + 1);
			return -1;
		}
		return 0;
	}
	*factor = strtod(sep + 1, &end);
	if (!sep[1] || *end || errno || !(*factor > 1.0 && *factor < 1e6)) {
		snprintf(err, errlen, "--param: factor '%s' is not a number above 1",
			 sep + 1);
		return -1;
	}
	return 0;
}

/* LO, LO+STEP (or LO*FACTOR), ... up to HI into VALS: how many, or -1. */
static int sweep_values(uint64_t lo, uint64_t hi, unsigned long long step,
			double factor, uint64_t *vals, char *err, size_t errlen)
{
	int n = 0;

	for (uint64_t v = lo;;) {
		uint64_t next;

		if (n == SWEEP_MAX_POINTS) {
			snprintf(err, errlen, "--param: more than %d points",
				 SWEEP_MAX_POINTS);
			return -1;
		}
		vals[n++] = v;
		if (factor) {
			double f = (double)v * factor;

			next = v == 0 ? 1 : f >= 18446744073709551615.0 ? UINT64_MAX
					   : (uint64_t)f;
			if (next <= v)
				next = v + 1;	/* small values: at least one */
		} else {
			next = v + step;
		}
		if (next <= v || next > hi)	/* done, or it would wrap */
			break;
		v = next;
	}
	return n;
}

/*
 * NAME=LO..HI[:STEP|xFACTOR] into up to SWEEP_MAX_POINTS values.  Returns
 * the number of points, or -1 with the reason in ERR.
 */
static int sweep_parse(const char *spec, char *name, size_t namelen, uint64_t *vals,
		       char *err, size_t errlen)
{
	char buf[128], *eq, *dots, *sep, *end;
	unsigned long long lo, hi, step = 1;
	double factor = 0;

	if (strlen(spec) >= sizeof(buf)) {
		snprintf(err, errlen, "--param: '%.40s...' is too long", spec);
		return -1;
	}
	snprintf(buf, sizeof(buf), "%s", spec);
	eq = strchr(buf, '=');
	dots = eq ? strstr(eq, "..") : NULL;
	if (!eq || eq == buf || !dots) {
		snprintf(err, errlen, "--param: '%s' is not NAME=LO..HI[:STEP|xFACTOR]",
			 spec);
		return -1;
	}
	*eq = 0;
	*dots = 0;
	if (strlen(buf) >= namelen) {
		snprintf(err, errlen, "--param: the knob's name is too long");
		return -1;
	}
	memcpy(name, buf, strlen(buf) + 1);
	sep = strpbrk(dots + 2, ":x");
	if (sep && sweep_step(sep, &step, &factor, err, errlen))
		return -1;
	errno = 0;
	lo = strtoull(eq + 1, &end, 10);
	if (eq[1] < '0' || eq[1] > '9' || *end || errno) {
		snprintf(err, errlen, "--param: start '%s' is not a whole number", eq + 1);
		return -1;
	}
	hi = strtoull(dots + 2, &end, 10);
	if (dots[2] < '0' || dots[2] > '9' || *end || errno) {
		snprintf(err, errlen, "--param: end '%s' is not a whole number", dots + 2);
		return -1;
	}
	if (lo > hi) {
		snprintf(err, errlen, "--param: start %llu > end %llu", lo, hi);
		return -1;
	}
	return sweep_values(lo, hi, step, factor, vals, err, errlen);
}

/* Index of the cheapest point (modelled cycles per op), first on ties. */
static int sweep_best(const double *cost, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (cost[i] < cost[best])
			best = i;
	return best;
}

static int sweep_plot(const char *file, const char *workload, const char *name,
		      const uint64_t *vals, const double *cost, int n, int best,
		      char *err, size_t errlen)
{
	const char *ext = strrchr(file, '.');
	const char *term;
	char data[] = "/tmp/shootdown-sweep-XXXXXX";
	FILE *f, *g;
	int fd, rc;

	/* sweep_plot_check() accepted only .svg and .png. */
	term = ext && !strcmp(ext, ".png") ? "pngcairo size 800,500" :
	       "svg size 800,500 dynamic background '#ffffff'";
	fd = mkstemp(data);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		snprintf(err, errlen, "--plot: cannot write a data file: %s",
			 strerror(errno));
		return 1;
	}
	for (int i = 0; i < n; i++)
		fprintf(f, "%" PRIu64 " %.3f\n", vals[i], cost[i]);
	fclose(f);
	/* gnuplot's own chatter goes to stderr: stdout holds our CSV/JSON. */
	g = popen("gnuplot 1>&2", "w");
	if (!g) {
		unlink(data);
		snprintf(err, errlen, "--plot: cannot run gnuplot (install gnuplot-nox)");
		return 1;
	}
	fprintf(g, "set terminal %s\nset output '%s'\n", term, file);
	fprintf(g, "set title 'shootdown sweep: %s, modelled cost per operation'\n",
		workload);
	fprintf(g, "set xlabel '%s%s'\nset ylabel 'modelled cycles per op'\n", name,
		strcmp(name, "ceiling") ? "" : " (pages)");
	fprintf(g, "set grid\nset key bottom right\n");
	fprintf(g, "set arrow from %" PRIu64 ", graph 0 to %" PRIu64 ", graph 1 "
		"nohead dt 2 lw 2 lc rgb '#c03030'\n", vals[best], vals[best]);
	fprintf(g, "set label 'break-even: %s = %" PRIu64 "' at %" PRIu64
		", graph 0.5 offset 1,0 tc rgb '#c03030'\n", name, vals[best],
		vals[best]);
	if (!strcmp(name, "ceiling") && vals[0] <= 33 && vals[n - 1] >= 33) {
		/* Linux x86's tlb_single_page_flush_ceiling, for reference. */
		fprintf(g, "set arrow from 33, graph 0 to 33, graph 1 nohead "
			"dt 3 lc rgb '#808080'\n");
		fprintf(g, "set label 'Linux x86: 33' at 33, graph 0.9 offset 1,0 "
			"tc rgb '#606060'\n");
	}
	fprintf(g, "plot '%s' using 1:2 with linespoints lw 2 pt 7 title "
		"'counters x cost.*'\n", data);
	rc = pclose(g);
	unlink(data);
	if (rc != 0) {
		snprintf(err, errlen, "--plot: gnuplot failed (%s %d)",
			 WIFEXITED(rc) ? "exit status" : "signal",
			 WIFEXITED(rc) ? WEXITSTATUS(rc) : WTERMSIG(rc));
		return 1;
	}
	return 0;
}

static int sweep_plot_check(const char *file, char *err, size_t errlen)
{
	const char *ext = strrchr(file, '.');
	FILE *f;
	bool existed = access(file, F_OK) == 0;

	if (!ext || (strcmp(ext, ".svg") && strcmp(ext, ".png"))) {
		snprintf(err, errlen, "--plot: '%s' must end in .svg or .png", file);
		return 2;
	}
	/* The name goes into a gnuplot script between single quotes. */
	for (const char *c = file; *c; c++)
		if (*c == '\'' || *c == '\\' || (unsigned char)*c < 0x20) {
			snprintf(err, errlen, "--plot: the file name may not contain "
				 "quotes, backslashes or control characters");
			return 2;
		}
	f = fopen(file, "a");	/* writable?  (before any point runs) */
	if (!f) {
		snprintf(err, errlen, "--plot: cannot write '%s': %s", file,
			 strerror(errno));
		return 2;
	}
	fclose(f);
	if (!existed)
		unlink(file);
	if (system("command -v gnuplot >/dev/null 2>&1") != 0) {
		snprintf(err, errlen, "--plot needs gnuplot (apt-get install "
			 "gnuplot-nox, or run scripts/setup)");
		return 1;
	}
	return 0;
}

/* ---- the command ---- */

struct sweep {
	char name[64];			/* the knob swept */
	uint64_t vals[SWEEP_MAX_POINTS];
	struct wl_opts po[SWEEP_MAX_POINTS];	/* one point's options each */
	double cost[SWEEP_MAX_POINTS];		/* modelled cycles per op */
	int n, best;
	const char *plot;
};

static void sweep_table(const struct cells *cs, const struct sweep *sw)
{
	const struct cell *c0 = &cs->cell[0];

	printf("sweep of %s on %s, %u CPUs, %s, %" PRIu64 " ops per point\n",
	       sw->name, cs->w->name, c0->cpus, c0->policy, sw->po[0].ops);
	printf("  %10s %10s %12s %12s %12s %12s %14s %10s\n", sw->name,
	       "ipis/op", "full/op", "partial/op", "invlpg/op", "misses/op",
	       "cycles/op", "wall_ms");
	for (int i = 0; i < sw->n; i++) {
		const struct cell *c = &cs->cell[i];
		double ops = c->r.ops ? (double)c->r.ops : 1.0;
		const struct shd_stats *s = &c->r.stats;

		if (c->status == CELL_NOT_RUN) {
			printf("  %10" PRIu64 "   (not run)\n", sw->vals[i]);
			continue;
		}
		printf("  %10" PRIu64 " %10.3f %12.3f %12.3f %12.2f %12.2f %14.1f "
		       "%10.1f%s\n", sw->vals[i], s->ipis_sent / ops,
		       (s->flushes_full + s->switch_flushes) / ops,
		       s->flushes_partial / ops, s->pages_invalidated / ops,
		       s->tlb_misses / ops, sw->cost[i], c->r.wall_ns / 1e6,
		       i == sw->best ? "  <- cheapest" : "");
	}
}

/* The cheapest point among those run; -1 if none ran. */
static int sweep_cheapest(const struct cells *cs, struct sweep *sw)
{
	double cost[SWEEP_MAX_POINTS];
	int n = 0;

	for (int i = 0; i < sw->n; i++) {
		const struct cell *c = &cs->cell[i];

		if (c->status == CELL_NOT_RUN)
			break;
		sw->cost[i] = c->r.ops ? cost_cycles(&c->o->cost, &c->r.stats) /
					 (double)c->r.ops : 0.0;
		cost[n++] = sw->cost[i];
	}
	return n ? sweep_best(cost, n) : -1;
}

static void sweep_finish(struct cells *cs, bool complete)
{
	struct sweep *sw = cs->arg;

	(void)complete;
	sw->best = sweep_cheapest(cs, sw);
	if (cs->fmt == FMT_TABLE)
		sweep_table(cs, sw);
	if (sw->best < 0)
		return;
	if (cs->fmt == FMT_JSON)
		snprintf(cs->extra, sizeof(cs->extra), ", \"param\": \"%s\", "
			 "\"best\": %" PRIu64 ", \"best_modelled_cycles_per_op\": %.1f",
			 sw->name, sw->vals[sw->best], sw->cost[sw->best]);
	/* The answer, on stderr so that CSV and JSON stay clean. */
	if (!strcmp(sw->name, "ceiling"))
		fprintf(stderr, "break-even ceiling: %" PRIu64 " pages (lowest "
			"modelled cost, %.1f cycles/op; Linux x86 uses 33)\n",
			sw->vals[sw->best], sw->cost[sw->best]);
	else
		fprintf(stderr, "cheapest %s: %" PRIu64 " (%.1f modelled cycles/op)\n",
			sw->name, sw->vals[sw->best], sw->cost[sw->best]);
}

/* Every point's options, each valid before the first one runs. */
static void sweep_points(struct parsed *p, const struct workload *w,
			 struct sweep *sw)
{
	char err[320];

	sw->n = sweep_parse(p->param[0] ? p->param : "ceiling=0..128:8", sw->name,
			    sizeof(sw->name), sw->vals, err, sizeof(err));
	if (sw->n < 0)
		usage_error("%s", err);
	for (int i = 0; i < sw->n; i++) {
		struct wl_opts *o = &sw->po[i];
		char kv[128];

		*o = p->o;
		if (o->nsets == WL_MAX_SETS)
			usage_error("--set: at most %d overrides with --param",
				    WL_MAX_SETS - 1);
		snprintf(kv, sizeof(kv), "%s=%" PRIu64, sw->name, sw->vals[i]);
		if (strlen(kv) >= sizeof(o->sets[0]))
			usage_error("--param: '%s' is too long", kv);
		memcpy(o->sets[o->nsets++], kv, strlen(kv) + 1);
		cli_finish(o, w);	/* the knob's own range check */
	}
}

/* --emit-jobs: one self-contained `run` per point. */
static int sweep_emit_jobs(struct parsed *p, const struct sweep *sw, int argc,
			   char **argv)
{
	bool seeded = false;

	if (p->plot[0] || p->jobs || p->o.format != FMT_TABLE)
		usage_error("--emit-jobs only prints the commands: drop "
			    "--plot, --jobs and --format");
	for (int a = 0; a < argc; a++)
		seeded |= !strncmp(argv[a], "--seed", 6);
	for (int i = 0; i < sw->n; i++) {
		cli_print_word(stdout, cli_self);
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
			cli_print_word(stdout, s);
		}
		if (!seeded)
			printf(" --seed %" PRIu64, p->o.seed);
		printf(" --set %s=%" PRIu64 " --format csv\n", sw->name, sw->vals[i]);
	}
	return EXIT_CLEAN;
}

/* Write LEN bytes of BUF to FD whole; false if it could not. */
static bool write_all(int fd, const void *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t k = write(fd, (const char *)buf + off, len - off);

		if (k <= 0)
			return false;
		off += (size_t)k;
	}
	return true;
}

static bool read_all(int fd, void *buf, size_t len)
{
	size_t off = 0;
	ssize_t k;

	while (off < len && (k = read(fd, (char *)buf + off, len - off)) > 0)
		off += (size_t)k;
	return off == len;
}

/* Run one sweep point (its --repeat runs) in a child; the cell, then each
 * run's result, come back through FD. */
static void sweep_child(struct cells *cs, struct cell *c, int fd)
{
	int rc = cells_execute(cs, c);

	if (rc == WL_BAD_INPUT)
		c->status = CELL_NOT_RUN;
	if (write_all(fd, c, sizeof(*c)) && c->nrep > 1)
		write_all(fd, c->rep, c->nrep * sizeof(*c->rep));
	_exit(rc == WL_BAD_INPUT ? EXIT_USAGE : 0);
}

/* Read point I's cell back from its child; false if the child died. */
static bool sweep_collect(struct cell *c, int fd, pid_t pid)
{
	struct cell in;
	bool ok = read_all(fd, &in, sizeof(in));
	struct wl_result *rep = NULL;
	int st = 0;

	if (ok && in.nrep > 1) {
		rep = calloc(in.nrep, sizeof(*rep));
		ok = rep && in.nrep <= WL_MAX_REPEAT &&
		     read_all(fd, rep, in.nrep * sizeof(*rep));
	}
	close(fd);
	waitpid(pid, &st, 0);
	if (!ok) {
		free(rep);
		return false;
	}
	if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_USAGE)
		usage_error("%s", in.err);
	c->status = in.status;
	c->r = in.r;
	c->seed = in.seed;
	c->nrep = in.nrep;
	c->rep = rep;
	memcpy(c->err, in.err, sizeof(c->err));
	return true;
}

/* --jobs N: N points at once in separate processes, then print them all. */
static int sweep_run_jobs(struct cells *cs, unsigned jobs)
{
	static int fds[SWEEP_MAX_POINTS];
	static pid_t pids[SWEEP_MAX_POINTS];
	unsigned next = 0, done = 0, running = 0;

	while (done < cs->n) {
		while (running < jobs && next < cs->n) {
			int pipefd[2];

			if (pipe(pipefd))
				usage_error("--jobs: %s", strerror(errno));
			fflush(NULL);
			pids[next] = fork();
			if (pids[next] == 0) {
				close(pipefd[0]);
				sweep_child(cs, &cs->cell[next], pipefd[1]);
			}
			close(pipefd[1]);
			fds[next++] = pipefd[0];
			running++;
		}
		if (!sweep_collect(&cs->cell[done], fds[done], pids[done])) {
			fprintf(stderr, "%s: sweep point %s=%" PRIu64 " died\n",
				cli_prog, cs->cell[done].param, cs->cell[done].value);
			cs->cell[done].status = CELL_INCOMPLETE;
		}
		cells_report(&cs->cell[done]);
		if (cs->cell[done].status == CELL_INCOMPLETE) {
			for (unsigned q = done + 1; q < next; q++) {
				kill(pids[q], SIGKILL);
				waitpid(pids[q], NULL, 0);
				close(fds[q]);
			}
			break;
		}
		done++;
		running--;
		if (isatty(2))
			fprintf(stderr, "\rsweep: %u/%u points", done, cs->n);
	}
	if (isatty(2))
		fprintf(stderr, "\r\033[K");
	cells_print(cs);
	return cells_exit_status(cs);
}

static int sweep_plot_now(const struct cells *cs, const struct sweep *sw)
{
	char err[320];

	if (!sw->plot[0] || sw->best < 0)
		return EXIT_CLEAN;
	if (sweep_plot(sw->plot, cs->w->name, sw->name, sw->vals, sw->cost, sw->n,
		       sw->best, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", cli_prog, err);
		return EXIT_INCOMPLETE;
	}
	fprintf(stderr, "plot: %s\n", sw->plot);
	return EXIT_CLEAN;
}

int cmd_sweep(int argc, char **argv)
{
	static struct sweep sw;
	struct parsed p;
	const struct workload *w;
	struct cells cs = { .command = "sweep", .finish = sweep_finish, .arg = &sw };
	char err[320];
	int rc;

	if (cli_start(&p, CMD_SWEEP, argc, argv,
		      "sweep --workload NAME [--param NAME=LO..HI[:STEP|xFACTOR]] "
		      "[options]",
		      "Runs the workload once per value of one knob (a policy knob, "
		      "a cost.* key\nor a workload knob), prints a row per point with "
		      "the modelled cost, and\nnames the cheapest point: for the "
		      "default, the break-even\ntlb_single_page_flush_ceiling.\n"))
		return 0;
	w = cli_workload(p.o.workload);
	sweep_points(&p, w, &sw);
	if (p.emit_jobs)
		return sweep_emit_jobs(&p, &sw, argc, argv);
	if (p.plot[0] && (rc = sweep_plot_check(p.plot, err, sizeof(err)))) {
		if (rc == 2)
			usage_error("%s", err);
		fprintf(stderr, "%s: %s\n", cli_prog, err);
		return EXIT_INCOMPLETE;
	}
	sw.plot = p.plot;
	cs.w = w;
	cs.fmt = p.o.format;
	cs.n = (unsigned)sw.n;
	cs.cell = calloc(cs.n, sizeof(*cs.cell));
	if (!cs.cell)
		usage_error("out of memory");
	for (int i = 0; i < sw.n; i++)
		cs.cell[i] = (struct cell){ .policy = p.o.policy, .cpus = p.o.ncpus,
					    .param = sw.name, .value = sw.vals[i],
					    .o = &sw.po[i] };
	rc = p.jobs > 1 ? sweep_run_jobs(&cs, p.jobs) : cells_run(&cs);
	if (rc == EXIT_CLEAN || rc == EXIT_VIOLATION) {
		int prc = sweep_plot_now(&cs, &sw);

		rc = prc ? prc : rc;
	}
	cells_release(&cs);
	free(cs.cell);
	return rc;
}
