/* SPDX-License-Identifier: MIT */
/* A small schedule format of our own, standing in for schedfile.c until it
 * lands: the same contents (the command's arguments, the steps, every
 * switch), so swapping the two functions is all the change needed. */

/*
 * Format, one record a line:
 *
 *   shootdown-schedule-draft 1
 *   arg WORD            the check command's arguments, in order (a WORD
 *                       is the rest of the line, blanks included)
 *   steps N             the run's scheduling steps
 *   switch STEP CPU WHY one switch (struct shd_decision), by step
 *
 * The reader checks every number and bound and names the line of the
 * first problem.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shootdown/machine.h>

#include "schedrec.h"

#define SCHEDREC_MAGIC "shootdown-schedule-draft 1"
#define SCHEDREC_MAX_SWITCHES (1u << 26)

int schedrec_write(const char *path, int argc, char *const *argv,
		   uint64_t steps, const struct shd_decision *d, size_t n,
		   char *err, size_t errlen)
{
	FILE *f;

	for (int i = 0; i < argc; i++)
		if (strchr(argv[i], '\n')) {
			snprintf(err, errlen, "%s: an argument holds a newline",
				 path);
			return -1;
		}
	f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	fprintf(f, "%s\n", SCHEDREC_MAGIC);
	for (int i = 0; i < argc; i++)
		fprintf(f, "arg %s\n", argv[i]);
	fprintf(f, "steps %" PRIu64 "\n", steps);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "switch %" PRIu64 " %u %u\n", d[i].step, d[i].cpu,
			d[i].why);
	if (fclose(f)) {
		snprintf(err, errlen, "%s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

void schedrec_free(struct schedfile *f)
{
	for (int i = 0; i < f->argc; i++)
		free(f->argv[i]);
	free(f->d);
	free(f->line);
	memset(f, 0, sizeof(*f));
}

static int add_switch(struct schedfile *f, const char *rest, unsigned line,
		      size_t *cap)
{
	uint64_t step;
	unsigned cpu, why;
	int used = 0;

	if (sscanf(rest, "%" SCNu64 " %u %u%n", &step, &cpu, &why, &used) != 3 ||
	    rest[used] || why > SHD_WHY_START || cpu > SHD_MAX_CPUS ||
	    (f->n && step < f->d[f->n - 1].step) || f->n >= SCHEDREC_MAX_SWITCHES)
		return -1;
	if (f->n == *cap) {
		size_t c = *cap ? *cap * 2 : 1024;
		void *d = realloc(f->d, c * sizeof(*f->d));
		void *l = d ? realloc(f->line, c * sizeof(*f->line)) : NULL;

		if (d)
			f->d = d;
		if (!l)
			return -1;
		f->line = l;
		*cap = c;
	}
	f->d[f->n] = (struct shd_decision){ step, cpu, why };
	f->line[f->n++] = line;
	return 0;
}

static int read_line(struct schedfile *f, char *buf, unsigned line, size_t *cap)
{
	char *sp = strchr(buf, ' ');
	const char *rest = sp ? sp + 1 : "";

	if (sp)
		*sp = 0;
	if (!strcmp(buf, "arg")) {
		if (f->argc == SCHEDFILE_MAX_ARGS ||
		    !(f->argv[f->argc] = strdup(rest)))
			return -1;
		f->argc++;
		return 0;
	}
	if (!strcmp(buf, "steps"))
		return sscanf(rest, "%" SCNu64, &f->steps) == 1 ? 0 : -1;
	if (!strcmp(buf, "switch"))
		return add_switch(f, rest, line, cap);
	return -1;
}

int schedrec_read(const char *path, struct schedfile *out, char *err,
		  size_t errlen)
{
	FILE *f = fopen(path, "r");
	char buf[4200];
	unsigned line = 0;
	size_t cap = 0;

	memset(out, 0, sizeof(*out));
	if (!f) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(buf, sizeof(buf), f)) {
		size_t n = strlen(buf);

		line++;
		if (n && buf[n - 1] == '\n')
			buf[--n] = 0;
		else if (!feof(f))
			break;		/* too long */
		if (line == 1 ? strcmp(buf, SCHEDREC_MAGIC) :
		    read_line(out, buf, line, &cap))
			break;
	}
	if (!ferror(f) && feof(f) && line) {
		fclose(f);
		return 0;
	}
	fclose(f);
	snprintf(err, errlen, "%s:%u: %s", path, line ? line : 1, line <= 1 ?
		 "not a schedule (its first line is not '" SCHEDREC_MAGIC "')" :
		 "not an 'arg', 'steps' or 'switch STEP CPU WHY' line");
	return -1;
}
