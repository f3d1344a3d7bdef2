/* SPDX-License-Identifier: MIT */
/* "Did you mean": the closest of a list of names to a misspelt word (edit
 * distance).  Needs nothing but libc, so the scenario parser can use it. */
#include <string.h>

#include "suggest.h"

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 63 || lb >= 63)
		return 64;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			diag = up;
			row[j] = best;
		}
	}
	return row[lb];
}

const char *cli_suggest(const char *word, const char *const *names, size_t n)
{
	const char *best = NULL;
	size_t bestd = strlen(word) / 3 + 1;	/* a typo, not another word */

	if (bestd > 3)
		bestd = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d = edit_distance(word, names[i]);

		if (d <= bestd && (!best || d < bestd)) {
			best = names[i];
			bestd = d;
		}
	}
	return best;
}
