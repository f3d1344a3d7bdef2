/* SPDX-License-Identifier: MIT */
/* Tests of the scenario parser (bench/scenario.c): one precise message for
 * every kind of malformed file, round trips, and no read past the text. */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../bench/scenario.h"

#define HEAD "shootdown-scenario 1\ncpus 2\nexpect clean\nmm A\nfile F 4\n"

/* Parse TEXT from an allocation of exactly its length (no NUL after it:
 * a read past the end is an ASan report). */
static int parse(const char *text, struct scenario *s, char *err, size_t len)
{
	size_t n = strlen(text);
	char *exact = malloc(n ? n : 1);
	int rc;

	cr_assert_not_null(exact);
	memcpy(exact, text, n);
	rc = scenario_parse("t.scn", exact, n, s, err, len);
	free(exact);
	return rc;
}

static void fails_with(const char *text, const char *want)
{
	struct scenario s;
	char err[512];

	cr_assert_eq(parse(text, &s, err, sizeof(err)), -1, "parsed: %s", text);
	cr_assert_str_eq(err, want);
	scenario_free(&s);
}

Test(scenario, names_the_line_of_every_kind_of_mistake)
{
	fails_with("cpus 2\n", "t.scn:1: missing header: the first line must "
		   "be 'shootdown-scenario 1'");
	fails_with("# c\nshootdown-scenario 2\n", "t.scn:2: unsupported version 2 "
		   "(this shootdown reads version 1)");
	fails_with(HEAD "cpu 0\n\tswitch_mm A\n\tlod 0x1000\n",
		   "t.scn:8: unknown op 'lod'; did you mean 'load'?");
	fails_with(HEAD "cpu 0\n\tmunmap A 0x1000\n", "t.scn:7: munmap takes 3 "
		   "arguments (munmap MM ADDR PAGES), not 2");
	fails_with(HEAD "cpu 0\n\tmunmap A 0x10z0 1\n", "t.scn:7: bad number "
		   "'0x10z0' for ADDR (decimal, or hex with 0x)");
	fails_with(HEAD "cpu 0\n\tmunmap A 0x1001 1\n", "t.scn:7: munmap: "
		   "unaligned address 0x1001 (it must be page aligned)");
	fails_with(HEAD "cpu 0\n\tmunmap B 0x1000 1\n",
		   "t.scn:7: undeclared mm 'B'");
	fails_with(HEAD "cpu 0\n\tfile_read G 0\n",
		   "t.scn:7: undeclared file 'G'");
	fails_with(HEAD "cpu 2\n", "t.scn:6: cpu 2 is out of range (cpus 2: 0..1)");
	fails_with(HEAD "cpu 1\ncpu 1\n", "t.scn:7: duplicate cpu block (the "
		   "first is on line 6)");
	fails_with(HEAD "policy linx\n", "t.scn:6: unknown policy 'linx'; did you "
		   "mean 'linux'?");
	fails_with(HEAD "arch sparc65\n", "t.scn:6: unknown architecture "
		   "'sparc65'; did you mean 'sparc64'?");
	fails_with(HEAD "inject range_shrt\n", "t.scn:6: unknown fault "
		   "'range_shrt'; did you mean 'range_short'?");
	fails_with(HEAD "set celing=3\n", "t.scn:6: unknown knob 'celing'; did "
		   "you mean 'ceiling'?");
}

Test(scenario, refuses_what_cannot_run_as_written)
{
	fails_with(HEAD "cpu 0\n\tload 0x1000\n", "t.scn:7: load: 0x1000 is user "
		   "memory and cpu 0 has loaded no mm here (switch_mm first)");
	fails_with(HEAD "cpu 1\n\tswitch_mm A\n\tlazy\n\tstore 0x1000 1\n",
		   "t.scn:9: store: 0x1000 is user memory and cpu 1 is in lazy TLB "
		   "mode here (switch_mm first)");
	fails_with(HEAD "cpu 0\n\tmmap_file A 0x1000 2 r shared F 3\n",
		   "t.scn:7: mmap_file: pages 3..4 run past the end of file F (4 "
		   "pages)");
	fails_with(HEAD "inject async_early_free\n", "t.scn:6: inject "
		   "async_early_free: fault async_early_free cannot happen under "
		   "policy linux: it needs async=on (e.g. --policy latr)");
	fails_with(HEAD "cpu 0\n\tswitch_mm F\n", "t.scn:7: 'F' is a file, not "
		   "an mm");
	fails_with(HEAD "cpu 0\n\tfork A A\n", "t.scn:7: 'A' is already declared "
		   "on line 4");
	fails_with(HEAD "cpu 0\n\tpoll\npolicy linux\n", "t.scn:8: 'policy' must "
		   "come before the first block");
	fails_with("shootdown-scenario 1\ncpus 1\n", "t.scn:3: no 'expect' line "
		   "(expect clean, or expect violation [KIND])");
	fails_with(HEAD "\tpoll\n", "t.scn:6: an indented line outside a block "
		   "(ops go under 'setup' or 'cpu N')");
	fails_with(HEAD "load 0x1000\n", "t.scn:6: 'load' is an op: indent it "
		   "under 'setup' or 'cpu N'");
}

Test(scenario, refuses_binary_and_overlong_input)
{
	struct scenario s;
	char err[512], *big = malloc(SCN_MAX_LINE + 64);
	const char bin[] = "shootdown-scenario 1\ncpus 1\n\0expect clean\n";

	cr_assert_eq(scenario_parse("t.scn", bin, sizeof(bin) - 1, &s, err,
				    sizeof(err)), -1);
	cr_assert_str_eq(err, "t.scn:3: byte 0x00 at column 1 is not text "
			 "(printable ASCII or a tab)");
	scenario_free(&s);
	memset(big, 'a', SCN_MAX_LINE + 63);
	big[SCN_MAX_LINE + 63] = 0;
	fails_with(big, "t.scn:1: the line is longer than 4096 bytes");
	free(big);
	cr_assert_eq(scenario_parse("t.scn", NULL, 0, &s, err, sizeof(err)), -1);
	scenario_free(&s);
}

/* Forks may be used by any block, above or below them. */
static const char *const good =
	"# a comment the printer keeps\n"
	"shootdown-scenario 1\n"
	"cpus 2\narch sparc64\ninject skip_flush_dcache_page\nset ceiling=0\n"
	"preemptions 1\nexpect violation stale_data\nmm A\nfile F 2\n"
	"setup\n\tmmap A 0x10000000 2 rw\n"
	"cpu 1\n\tswitch_mm X\n\tload 0xffffc90000000008\n"
	"cpu 0\n\tfork A X\n\tmmap_file A 0x20000000 2 rx private F 0\n"
	"\tflush_icache_range 0xffffc90000000000 0xffffc90000001000\n"
	"\tfile_write F 0x1ff8 0xdeadbeefcafef00d\n\tmm_destroy X\n";

Test(scenario, prints_what_it_parses)
{
	struct scenario s, t;
	char err[512], *out = NULL, *again = NULL;
	size_t n = 0, m = 0;
	FILE *f;

	cr_assert_eq(parse(good, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(s.ncpus, 2);
	cr_assert_eq(s.blocks[0].n, 5);
	cr_assert_eq(s.blocks[1].n, 2);
	cr_assert_eq(s.blocks[SCN_SETUP].n, 1);
	cr_assert_eq(s.expect_kind, SHD_VIOLATION_STALE_DATA);
	cr_assert_eq(s.preemptions, 1);
	f = open_memstream(&out, &n);
	cr_assert_eq(scenario_write(f, &s), 0);
	fclose(f);
	cr_assert_not_null(strstr(out, "# a comment the printer keeps\n"));
	cr_assert_eq(scenario_parse("t.scn", out, n, &t, err, sizeof(err)), 0,
		     "%s\n%s", err, out);
	f = open_memstream(&again, &m);
	scenario_write(f, &t);
	fclose(f);
	cr_assert_str_eq(again, out);
	scenario_free(&s);
	scenario_free(&t);
	free(out);
	free(again);
}

Test(scenario, a_copy_is_deep_and_validates_the_same)
{
	struct scenario s, c;
	char err[512];

	cr_assert_eq(parse(good, &s, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(scenario_copy(&c, &s), 0);
	scenario_free(&s);
	cr_assert_eq(scenario_validate(&c, err, sizeof(err)), 0, "%s", err);
	/* Without its fork, X is never created: a candidate minimize must
	 * not run. */
	memmove(&c.blocks[0].op[0], &c.blocks[0].op[1],
		4 * sizeof(c.blocks[0].op[0]));
	c.blocks[0].n--;
	cr_assert_eq(scenario_validate(&c, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "mm 'X' is never created"), "%s", err);
	scenario_free(&c);
}
