/* SPDX-License-Identifier: MIT */
/* Schedule files: writing and reading a seeded run's switches. */

/*
 * The format (docs/schedule-format.md), one item a line:
 *
 *	shootdown-schedule 1
 *	# comments and blank lines anywhere
 *	command check --cpus 4 --seed 1 --inject range_short
 *	steps 183220
 *	switches 2
 *	1 2 start
 *	17 0 preempt
 *
 * The command holds the check's own options (each a shell word; one that
 * needs quoting is single-quoted and may not contain a quote).  Each switch
 * is STEP CPU WHY: at scheduling step STEP the token went to CPU (a number,
 * or "ctl" for the controlling thread) because of WHY (preempt, block,
 * yield, exit, start).  Steps never decrease.  "switches" is checked
 * against the lines that follow, so a truncated file is an error, not a
 * shorter schedule.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedfile.h"
#include "workloads/readfile.h"

#define MAX_LINE 4096
#define MAX_SWITCHES (1ull << 28)

static const char *const why_names[] = {
	[SHD_WHY_PREEMPT] = "preempt", [SHD_WHY_BLOCK] = "block",
	[SHD_WHY_YIELD] = "yield", [SHD_WHY_EXIT] = "exit",
	[SHD_WHY_START] = "start",
};
#define NWHY (sizeof(why_names) / sizeof(why_names[0]))

struct reader {
	const char *name;
	const char *p, *end;
	unsigned line;
	char buf[MAX_LINE + 1];
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	file_line_error(r->err, r->errlen, r->name, r->line, fmt, ap);
	va_end(ap);
	return -1;
}

/* The next line that is not blank or a comment, in r->buf; 0 at the end,
 * 1 for a line, -1 for an error. */
static int next_line(struct reader *r)
{
	int rc;

	while ((rc = text_next_line(&r->p, r->end, &r->line, r->buf, MAX_LINE,
				    r->name, r->err, r->errlen)) == 1) {
		const char *s = r->buf + strspn(r->buf, " \t");

		if (*s && *s != '#')
			return 1;
	}
	return rc;
}

static int parse_u64(struct reader *r, const char *what, const char *s,
		     uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		return fail(r, "%s: '%.40s' is not a number", what, s);
	v = strtoull(s, &end, 10);
	if (*end || errno == ERANGE || v > max)
		return fail(r, "%s: '%.40s' is not a number up to %" PRIu64,
			    what, s, max);
	*out = v;
	return 0;
}

/* Split "command ..." into shell words kept in f->strings. */
static int parse_command(struct reader *r, struct schedfile *f, const char *s)
{
	size_t len = strlen(s);
	char *o;

	if (f->strings)
		return fail(r, "a second command line");
	f->strings = malloc(len + 1);
	if (!f->strings)
		return fail(r, "out of memory");
	o = f->strings;
	while (*s) {
		s += strspn(s, " \t");
		if (!*s)
			break;
		if (f->argc == SCHEDFILE_MAX_ARGS)
			return fail(r, "more than %d words in the command",
				    SCHEDFILE_MAX_ARGS);
		f->argv[f->argc++] = o;
		if (*s == '\'') {
			const char *q = strchr(s + 1, '\'');

			if (!q)
				return fail(r, "a quote that does not close");
			memcpy(o, s + 1, (size_t)(q - s - 1));
			o += q - s - 1;
			s = q + 1;
			if (*s && *s != ' ' && *s != '\t')
				return fail(r, "text right after a closing quote");
		} else {
			size_t n = strcspn(s, " \t");

			if (memchr(s, '\'', n))
				return fail(r, "a quote inside a word");
			memcpy(o, s, n);
			o += n;
			s += n;
		}
		*o++ = 0;
	}
	if (!f->argc || strcmp(f->argv[0], "check"))
		return fail(r, "the command must be 'check ...' (the run to replay)");
	return 0;
}

static int parse_switch(struct reader *r, struct schedfile *f, size_t cap)
{
	char step[32], cpu[32], why[32], extra[2];
	struct shd_decision *d;
	uint64_t v;
	size_t w;

	if (sscanf(r->buf, " %31s %31s %31s %1s", step, cpu, why, extra) != 3)
		return fail(r, "expected 'STEP CPU WHY'");
	if (f->n == cap)
		return fail(r, "more switches than the 'switches' line says");
	d = &f->d[f->n];
	if (parse_u64(r, "step", step, UINT64_MAX, &d->step))
		return -1;
	if (f->n && d->step < f->d[f->n - 1].step)
		return fail(r, "step %" PRIu64 " comes before the step above it "
			    "(%" PRIu64 ")", d->step, f->d[f->n - 1].step);
	if (f->steps && d->step > f->steps)
		return fail(r, "step %" PRIu64 " is past the run's %" PRIu64
			    " steps", d->step, f->steps);
	if (!strcmp(cpu, "ctl"))
		v = UINT32_MAX;
	else if (parse_u64(r, "cpu", cpu, 65535, &v))
		return -1;
	d->cpu = (uint32_t)v;
	for (w = 0; w < NWHY && strcmp(why, why_names[w]); w++)
		;
	if (w == NWHY)
		return fail(r, "'%s' is not one of preempt, block, yield, exit, "
			    "start", why);
	d->why = (uint32_t)w;
	f->line[f->n++] = r->line;
	return 0;
}

/* The header lines before the switches: command, steps, switches. */
static int parse_head(struct reader *r, struct schedfile *f, uint64_t *count)
{
	int k;

	while ((k = next_line(r)) > 0) {
		const char *s = r->buf + strspn(r->buf, " \t");
		uint64_t v;

		if (!strncmp(s, "command ", 8)) {
			if (parse_command(r, f, s + 8))
				return -1;
		} else if (!strncmp(s, "steps ", 6)) {
			if (parse_u64(r, "steps", s + 6, UINT64_MAX, &v))
				return -1;
			f->steps = v;
		} else if (!strncmp(s, "switches ", 9)) {
			if (parse_u64(r, "switches", s + 9, MAX_SWITCHES, count))
				return -1;
			break;
		} else {
			return fail(r, "expected 'command', 'steps' or 'switches', "
				    "not '%.40s'", s);
		}
	}
	if (k < 0)
		return -1;
	if (!k)
		return fail(r, "the file ends before its 'switches' line");
	if (!f->strings)
		return fail(r, "no 'command' line before the switches");
	return 0;
}

int schedfile_parse(const char *name, const char *text, size_t len,
		    struct schedfile *f, char *err, size_t errlen)
{
	struct reader *r = calloc(1, sizeof(*r));
	uint64_t count = 0, version;
	int k, rc = -1;

	memset(f, 0, sizeof(*f));
	if (!r) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	*r = (struct reader){ .name = name, .p = text, .end = text + len,
			      .err = err, .errlen = errlen };
	if ((k = next_line(r)) <= 0) {
		if (!k) {
			r->line = r->line ? r->line : 1;
			fail(r, "empty: not a schedule file");
		}
		goto out;
	}
	if (strncmp(r->buf, "shootdown-schedule ", 19)) {
		fail(r, "not a schedule file (it starts 'shootdown-schedule 1')");
		goto out;
	}
	if (parse_u64(r, "version", r->buf + 19, UINT64_MAX, &version))
		goto out;
	if (version != SCHEDFILE_VERSION) {
		fail(r, "schedule format version %" PRIu64 "; this build reads "
		     "version %d", version, SCHEDFILE_VERSION);
		goto out;
	}
	if (parse_head(r, f, &count))
		goto out;
	/* Grown as lines come: a lying count cannot allocate much. */
	for (size_t cap = 0; (k = next_line(r)) > 0;) {
		if (f->n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			void *d, *l;

			if (ncap > count)
				ncap = (size_t)count;
			if (ncap == cap) {
				fail(r, "more switches than the 'switches' line "
				     "says (%" PRIu64 ")", count);
				goto out;
			}
			d = realloc(f->d, ncap * sizeof(*f->d));
			if (d)
				f->d = d;
			l = realloc(f->line, ncap * sizeof(*f->line));
			if (l)
				f->line = l;
			if (!d || !l) {
				fail(r, "out of memory");
				goto out;
			}
			cap = ncap;
		}
		if (parse_switch(r, f, cap))
			goto out;
	}
	if (k < 0)
		goto out;
	if (f->n != count) {
		r->line++;
		fail(r, "the file ends after %zu of its %" PRIu64 " switches "
		     "(truncated?)", f->n, count);
		goto out;
	}
	rc = 0;
out:
	free(r);
	return rc;
}

int schedfile_read(const char *path, struct schedfile *f, char *err,
		   size_t errlen)
{
	char *buf;
	size_t len;
	int rc;

	memset(f, 0, sizeof(*f));
	if ((rc = read_whole_file(path, (size_t)1 << 34, &buf, &len))) {
		snprintf(err, errlen, rc == -EFBIG ? "%s: too large to read" :
			 "%s: cannot read: %s", path, strerror(-rc));
		return -1;
	}
	rc = schedfile_parse(path, buf, len, f, err, errlen);
	free(buf);
	return rc;
}

void schedfile_free(struct schedfile *f)
{
	free(f->d);
	free(f->line);
	free(f->strings);
	memset(f, 0, sizeof(*f));
}

static int write_word(FILE *fp, const char *s, char *err, size_t errlen)
{
	if (strpbrk(s, "'\n\r")) {
		snprintf(err, errlen, "cannot record the option '%.40s': it "
			 "holds a quote or a newline", s);
		return -1;
	}
	fprintf(fp, *s && !strpbrk(s, " \t\"$\\#") ? " %s" : " '%s'", s);
	return 0;
}

int schedfile_write(const char *path, int argc, char *const *argv,
		    uint64_t steps, const struct shd_decision *d, size_t n,
		    char *err, size_t errlen)
{
	FILE *fp = fopen(path, "w");

	if (!fp) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	fprintf(fp, "shootdown-schedule %d\n# replay: shootdown check --replay "
		"FILE; shrink: shootdown minimize FILE\ncommand", SCHEDFILE_VERSION);
	for (int i = 0; i < argc; i++)
		if (write_word(fp, argv[i], err, errlen)) {
			fclose(fp);
			remove(path);
			return -1;
		}
	fprintf(fp, "\nsteps %" PRIu64 "\nswitches %zu\n", steps, n);
	for (size_t i = 0; i < n; i++) {
		char cpu[16];

		if (d[i].cpu == UINT32_MAX)
			snprintf(cpu, sizeof(cpu), "ctl");
		else
			snprintf(cpu, sizeof(cpu), "%" PRIu32, d[i].cpu);
		fprintf(fp, "%" PRIu64 " %s %s\n", d[i].step, cpu,
			d[i].why < NWHY ? why_names[d[i].why] : "preempt");
	}
	if (fclose(fp) != 0) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}
