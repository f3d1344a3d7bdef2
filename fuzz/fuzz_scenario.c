/* SPDX-License-Identifier: MIT */
/* libFuzzer harness of the scenario-file parser (bench/scenario.c). */

/*
 * Any input: scenario_parse() returns 0 or -1 with "fuzz:LINE: ..." in
 * ERR, never reads past LEN, and leaves nothing behind scenario_free().
 * An input it accepts passes scenario_validate() (the same checks, made
 * on the struct), and its printer round-trips: scenario_write() of it
 * parses again into the same scenario (every field but line numbers), and
 * prints the same text a second time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_scenario: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			fprintf(stderr, "  " __VA_ARGS__);		\
			fputc('\n', stderr);				\
			abort();					\
		}							\
	} while (0)

/* S printed to a new buffer (malloc'ed), its length in *LEN. */
static char *print(const struct scenario *s, size_t *len)
{
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	CHECK(f, "open_memstream");
	CHECK(scenario_write(f, s) == 0, "scenario_write failed");
	CHECK(fclose(f) == 0, "fclose");
	return buf;
}

/* S and T describe the same run: all but where things were written. */
static void check_same(const struct scenario *s, const struct scenario *t)
{
	CHECK(s->ncpus == t->ncpus, "cpus %u, then %u", s->ncpus, t->ncpus);
	CHECK(!strcmp(s->policy, t->policy), "policy %s, then %s", s->policy,
	      t->policy);
	CHECK(!strcmp(s->arch, t->arch), "arch %s, then %s", s->arch, t->arch);
	CHECK(s->faults == t->faults, "faults");
	CHECK(s->nsets == t->nsets, "%u sets, then %u", s->nsets, t->nsets);
	for (unsigned i = 0; i < s->nsets; i++)
		CHECK(!strcmp(s->sets[i], t->sets[i]), "set %s, then %s",
		      s->sets[i], t->sets[i]);
	CHECK(s->expect_violation == t->expect_violation &&
	      s->expect_kind == t->expect_kind, "expect");
	CHECK(s->preemptions == t->preemptions, "preemptions %d, then %d",
	      s->preemptions, t->preemptions);
	CHECK(!s->comment == !t->comment &&
	      (!s->comment || !strcmp(s->comment, t->comment)),
	      "comment \"%s\", then \"%s\"", s->comment ? s->comment : "",
	      t->comment ? t->comment : "");
	CHECK(s->nnames == t->nnames, "%u names, then %u", s->nnames,
	      t->nnames);
	for (unsigned i = 0; i < s->nnames; i++)
		CHECK(!strcmp(s->names[i].name, t->names[i].name) &&
		      s->names[i].file == t->names[i].file &&
		      s->names[i].pages == t->names[i].pages &&
		      s->names[i].fork_cpu == t->names[i].fork_cpu,
		      "name %u: %s, then %s", i, s->names[i].name,
		      t->names[i].name);
	for (unsigned b = 0; b <= SCN_SETUP; b++) {
		const struct scn_block *x = &s->blocks[b], *y = &t->blocks[b];

		CHECK(x->n == y->n && !x->line == !y->line,
		      "block %u: %u ops, then %u", b, x->n, y->n);
		for (unsigned i = 0; i < x->n; i++) {
			const struct scn_op *o = &x->op[i], *q = &y->op[i];

			CHECK(o->kind == q->kind && o->prot == q->prot &&
			      o->shared == q->shared && o->mm == q->mm &&
			      o->other == q->other && o->addr == q->addr &&
			      o->n == q->n && o->pgoff == q->pgoff,
			      "block %u op %u (%s) differs", b, i,
			      scenario_kind_name(o->kind));
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct scenario s, t;
	char err[512] = "", *once, *twice;
	size_t n1, n2;

	/* libFuzzer's copy of the input is exactly SIZE bytes, with no NUL
	 * after it: ASan sees any read past the end. */
	if (scenario_parse("fuzz", (const char *)data, size, &s, err,
			   sizeof(err))) {
		CHECK(!strncmp(err, "fuzz:", 5), "error \"%s\"", err);
		scenario_free(&s);
		return 0;
	}
	CHECK(scenario_validate(&s, err, sizeof(err)) == 0,
	      "parsed, then invalid: %s", err);
	once = print(&s, &n1);
	CHECK(scenario_parse("printed", once, n1, &t, err, sizeof(err)) == 0,
	      "what scenario_write printed does not parse: %s\n---\n%s---",
	      err, once);
	check_same(&s, &t);
	twice = print(&t, &n2);
	CHECK(n1 == n2 && !memcmp(once, twice, n1),
	      "printed twice, two texts:\n---\n%s---\n%s---", once, twice);
	free(once);
	free(twice);
	scenario_free(&t);
	scenario_free(&s);
	return 0;
}
