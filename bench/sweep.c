/* SPDX-License-Identifier: MIT */
/* shootdown sweep: one knob over a range, a row per point, a plot, the break-even. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <stdbool.h>
#include <unistd.h>

#include "cli.h"

#define SWEEP_MAX_POINTS 1000

/*
 * NAME=LO..HI[:STEP|xFACTOR] into up to SWEEP_MAX_POINTS values.  Returns
 * the number of points, or -1 with the reason in ERR.
 */
int sweep_parse(const char *spec, char *name, size_t namelen, uint64_t *vals,
		char *err, size_t errlen)
{
	char buf[128], *eq, *dots, *sep = NULL, *end;
	unsigned long long lo, hi, step = 1;
	double factor = 0;
	int n = 0;

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
	snprintf(name, namelen, "%s", buf);
	sep = strpbrk(dots + 2, ":x");
	if (sep) {
		char kind = *sep;

		*sep = 0;
		errno = 0;
		if (kind == ':') {
			step = strtoull(sep + 1, &end, 10);
			if (sep[1] < '0' || sep[1] > '9' || *end || errno || step == 0) {
				snprintf(err, errlen, "--param: step '%s' is not a "
					 "positive whole number", sep + 1);
				return -1;
			}
		} else {
			factor = strtod(sep + 1, &end);
			if (!sep[1] || *end || errno || !(factor > 1.0 && factor < 1e6)) {
				snprintf(err, errlen, "--param: factor '%s' is not a "
					 "number above 1", sep + 1);
				return -1;
			}
		}
	}
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

/* Index of the cheapest point (modelled cycles per op), first on ties. */
int sweep_best(const double *cost, int n)
{
	int best = 0;

	for (int i = 1; i < n; i++)
		if (cost[i] < cost[best])
			best = i;
	return best;
}

int sweep_plot(const char *file, const char *workload, const char *name,
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

int sweep_plot_check(const char *file, char *err, size_t errlen)
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
