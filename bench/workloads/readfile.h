/* SPDX-License-Identifier: MIT */
/* A whole file into memory: the readers of trace and schedule files. */
#ifndef SHD_BENCH_READFILE_H
#define SHD_BENCH_READFILE_H

#include <stdarg.h>
#include <stddef.h>

/*
 * Read PATH into *BUF (malloc'd, the caller frees; not NUL-terminated),
 * its length in *LEN.  0, or -errno: the open's or the read's, -ENOMEM,
 * or -EFBIG past LIMIT bytes.  *BUF is NULL on failure.
 */
int read_whole_file(const char *path, size_t limit, char **buf, size_t *len);

/*
 * The next line of the text at [*P, END) into BUF (MAX bytes at most, a
 * trailing CR dropped, NUL-terminated), *P moved past it and *LINE
 * counted: 1, 0 at the end, or -1 with ERR ("NAME:LINE: ...") for a line
 * longer than MAX or one holding a NUL byte.
 */
int text_next_line(const char **p, const char *end, unsigned *line,
		   char *buf, size_t max, const char *name, char *err,
		   size_t errlen);

/* "NAME:LINE: " and FMT's text into ERR (a parser's one-line error);
 * always -1, for the parser to return. */
__attribute__((format(printf, 5, 0)))
int file_line_error(char *err, size_t errlen, const char *name,
		    unsigned line, const char *fmt, va_list ap);

#endif
