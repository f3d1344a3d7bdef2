/* SPDX-License-Identifier: MIT */
/* Output helpers of the CLI: JSON strings, counters, readable numbers. */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"

void out_json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void out_stats_json(FILE *f, const struct shd_stats *s)
{
	size_t n;
	const struct shd_stat_field *fl = shd_stat_fields(&n);

	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s\"%s\": %" PRIu64, i ? ", " : "", fl[i].name,
			*(const uint64_t *)((const char *)s + fl[i].offset));
}

const char *fmt_count(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, "%" PRIu64, v);
	return buf;
}
