/* SPDX-License-Identifier: MIT */
/* shootdown check: the random mix with the oracle on; exit 1 on a violation,
 * with the command that replays it. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

/* The command as given (every option that shaped the run), with the seed
 * made explicit if it was the default. */
static void check_replay(const struct wl_opts *o, char *buf, size_t len)
{
	size_t at = (size_t)snprintf(buf, len, "shootdown check");
	bool seeded = false;

	for (int i = 0; i < o->argc && at < len; i++) {
		const char *s = o->argv[i];

		seeded |= !strncmp(s, "--seed", 6);
		at += (size_t)snprintf(buf + at, len - at,
				       strpbrk(s, " '\"$\\") ? " '%s'" : " %s", s);
	}
	if (!seeded && at < len)
		snprintf(buf + at, len - at, " --seed %" PRIu64, o->seed);
}

static void check_table(const struct cell *c)
{
	const struct wl_result *r = &c->r;
	const struct wl_opts *o = c->o;

	printf("check: %" PRIu64 " random ops on %u CPUs under %s on %s, "
	       "seed %" PRIu64 "%s: %s\n", r->ops, c->cpus, c->policy,
	       o->cfg.arch.name, o->seed, o->faults_text,
	       c->status == CELL_OK ? "clean" : c->status == CELL_VIOLATION ?
	       "FAILED" : "INCOMPLETE");
	printf("  %" PRIu64 " flush calls, %" PRIu64 " IPIs, %" PRIu64
	       " TLB hits checked, %" PRIu64 " violations", r->stats.flush_calls,
	       r->stats.ipis_sent, r->stats.tlb_hits, r->stats.violations);
	if (o->cfg.arch.alias_dcache)
		printf(", %" PRIu64 " D-cache fills, %" PRIu64
		       " D-cache flushes (%" PRIu64 " deferred)",
		       r->stats.dcache_misses, r->stats.dcache_flushes +
		       r->stats.dcache_deferred_done, r->stats.dcache_deferred);
	if (o->cfg.arch.icache_nosnoop)
		printf(", %" PRIu64 " I-cache fills, %" PRIu64
		       " I-cache page invalidations", r->stats.icache_misses,
		       r->stats.icache_flushes);
	printf("\n");
}

static void check_finish(struct cells *cs, bool complete)
{
	const struct cell *c = &cs->cell[0];
	char replay[1024];
	bool failed = c->status == CELL_VIOLATION || c->status == CELL_INCOMPLETE;

	(void)complete;
	if (c->status == CELL_NOT_RUN)
		return;
	check_replay(c->o, replay, sizeof(replay));
	if (cs->fmt == FMT_TABLE)
		check_table(c);
	if (cs->fmt == FMT_JSON) {
		size_t at = (size_t)snprintf(cs->extra, sizeof(cs->extra),
					     ", \"replay\": ");
		FILE *f = fmemopen(cs->extra + at, sizeof(cs->extra) - at, "w");

		if (f) {
			if (failed)
				out_json_string(f, replay);
			else
				fputs("null", f);
			fclose(f);
		}
	}
	if (failed) {
		fprintf(stderr, "replay: %s\n", replay);
		fprintf(stderr, "(the seed fixes each CPU's operations; the "
			"interleaving is the host scheduler's)\n");
	}
}

int cmd_check(int argc, char **argv)
{
	struct parsed p;
	struct cell cell = { 0 };
	struct cells cs = { .command = "check", .cell = &cell, .n = 1,
			    .finish = check_finish };
	int rc;

	if (cli_start(&p, CMD_CHECK, argc, argv, "check [options]",
		      "Random map/unmap/protect/madvise/access/fork/reclaim/file/"
		      "ptrace/switch/lazy/\nflush/vmap operations on every CPU with "
		      "the oracle on.  Exit 0 when clean,\n1 on a violation (the "
		      "first is printed with a command that replays it),\n3 when "
		      "the run could not complete (a watchdog fired).\n"))
		return 0;
	if (p.scenario)
		return check_scenario(&p);
	cs.w = wl_find("random");
	cli_finish(&p.o, cs.w);
	cell.policy = p.o.policy;
	cell.cpus = p.o.ncpus;
	cell.o = &p.o;
	cs.fmt = p.o.format;
	rc = cells_run(&cs);
	if (p.minimize && rc == EXIT_VIOLATION && check_minimize(&p))
		return EXIT_INCOMPLETE;
	return rc;
}
