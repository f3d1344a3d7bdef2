/* SPDX-License-Identifier: MIT */
/* "Did you mean": the closest name to a misspelt word. */
#ifndef SHD_BENCH_SUGGEST_H
#define SHD_BENCH_SUGGEST_H

#include <stddef.h>

/* The closest of N names to WORD (edit distance), or NULL if none is close. */
const char *cli_suggest(const char *word, const char *const *names, size_t n);

#endif
