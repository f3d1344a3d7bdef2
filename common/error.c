/* SPDX-License-Identifier: MIT */
/* The library's errors: one errno map, the thread's error text, the die helper. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "error.h"

static __thread char errbuf[1024];

void shd__die(const char *file, int line, const char *func, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "shootdown: fatal: %s:%d %s(): ", file, line, func);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

int shd__fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return err;
}

const char *shd_last_error(void)
{
	return errbuf;
}

const char *shd_strerror(int err)
{
	switch (err) {
	case 0:
		return "success";
#define SHD_STRERROR_CASE_(name, text) case -name: return text;
	SHD_ERRNO_MAP(SHD_STRERROR_CASE_)
#undef SHD_STRERROR_CASE_
	default:
		return "unknown error";
	}
}
