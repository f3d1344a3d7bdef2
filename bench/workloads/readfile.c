/* SPDX-License-Identifier: MIT */
/* A whole file into memory, in doubling chunks up to a limit. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
