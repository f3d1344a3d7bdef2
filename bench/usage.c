/* SPDX-License-Identifier: MIT */
/* The bottom of the command layer: the program's name and path, and the one
 * way bad input ends (one line on stderr, exit 2). */
#include <stdarg.h>
#include <stdlib.h>

#include "cli.h"

const char *const cli_prog = "shootdown";
char cli_self[4096] = "shootdown";

void usage_error(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(EXIT_USAGE);
}
