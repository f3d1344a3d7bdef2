/* SPDX-License-Identifier: MIT */
/* A whole file into memory, in doubling chunks up to a limit. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "readfile.h"

int read_whole_file(const char *path, size_t limit, char **buf, size_t *len)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 0;
	int err = 0;

	*buf = NULL;
	*len = 0;
	if (!f)
		return -errno;
	for (;;) {
		size_t got;

		if (*len == cap) {
			size_t nc = cap ? cap * 2 : 1 << 16;
			char *p;

			if (cap >= limit) {
				err = -EFBIG;
				break;
			}
			if (!(p = realloc(*buf, nc))) {
				err = -ENOMEM;
				break;
			}
			*buf = p;
			cap = nc;
		}
		got = fread(*buf + *len, 1, cap - *len, f);
		*len += got;
		if (got == 0)
			break;
	}
	if (!err && ferror(f))
		err = errno ? -errno : -EIO;
	fclose(f);
	if (err) {
		free(*buf);
		*buf = NULL;
		*len = 0;
	}
	return err;
}

int file_line_error(char *err, size_t errlen, const char *name,
		    unsigned line, const char *fmt, va_list ap)
{
	int at = snprintf(err, errlen, "%s:%u: ", name, line);

	if (at >= 0 && (size_t)at < errlen)
		vsnprintf(err + at, errlen - (size_t)at, fmt, ap);
	return -1;
}

__attribute__((format(printf, 5, 6)))
static int line_error(char *err, size_t errlen, const char *name,
		      unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	file_line_error(err, errlen, name, line, fmt, ap);
	va_end(ap);
	return -1;
}

int text_next_line(const char **p, const char *end, unsigned *line,
		   char *buf, size_t max, const char *name, char *err,
		   size_t errlen)
{
	const char *s = *p, *nl;
	size_t len;

	if (s >= end)
		return 0;
	nl = memchr(s, '\n', (size_t)(end - s));
	len = nl ? (size_t)(nl - s) : (size_t)(end - s);
	*p = nl ? nl + 1 : end;
	++*line;
	if (len && s[len - 1] == '\r')
		len--;
	if (len > max)
		return line_error(err, errlen, name, *line,
				  "line longer than %zu bytes", max);
	if (memchr(s, 0, len))
		return line_error(err, errlen, name, *line,
				  "a NUL byte in the line");
	memcpy(buf, s, len);
	buf[len] = 0;
	return 1;
}
