/* SPDX-License-Identifier: MIT */
/* Workload reclaim: kswapd against running processes (batched flushes). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

/*
 * kswapd against running processes (mm/vmscan.c): `mms` processes run
 * threads on the CPUs other than CPU 0 (CPU c runs process c % mms), each
 * thread storing to every page of its process (so each page is cached on
 * every CPU that runs that process).  Each round CPU 0 reclaims `scan`
 * pages, round-robin over the processes (shrink_folio_list: try_to_unmap
 * with TTU_BATCH_FLUSH, then try_to_unmap_flush), while the threads keep
 * running; then they store again (faulting the pages back) and check what
 * they read.  One operation is one page reclaimed.  Compare
 * --policies linux-unbatched,linux (a flush per page vs one per batch),
 * or --set batch=arm64.
 */
enum { K_RC_MMS, K_RC_PAGES, K_RC_SCAN };

static const struct wl_knob wl_reclaim_knobs[] = {
	{ "mms", "processes whose pages are reclaimed", 4, 1, 64 },
	{ "pages", "pages each process maps and touches", 32, 1, 4096 },
	{ "scan", "pages reclaimed per round (SWAP_CLUSTER_MAX: 32)", 32, 1, 4096 },
	{ NULL, NULL, 0, 0, 0 },
};

struct rc {
	struct shd_mm *mm[64];
	struct wl_barrier bar;
	uint64_t page, pages, scan, rounds, cursor;
	unsigned mms;
	uint64_t failures;
	char note[160];
};

static int wl_reclaim_check(const struct wl_opts *o, char *err, size_t len)
{
	if (o->cfg.ncpus < 2) {
		snprintf(err, len, "reclaim needs 2 CPUs or more (CPU 0 reclaims)");
		return -1;
	}
	if (o->knob[K_RC_SCAN] > o->knob[K_RC_MMS] * o->knob[K_RC_PAGES]) {
		snprintf(err, len, "scan=%" PRIu64 " is more than the %" PRIu64
			 " pages there are (mms x pages)", o->knob[K_RC_SCAN],
			 o->knob[K_RC_MMS] * o->knob[K_RC_PAGES]);
		return -1;
	}
	return wl_check_frames(o, o->knob[K_RC_MMS] * o->knob[K_RC_PAGES],
			       "mms x pages", err, len);
}

static int rc_task(struct shd_cpu *cpu, void *arg)
{
	struct rc *w = arg;
	unsigned id = shd_cpu_id(cpu);
	struct shd_mm *mm = w->mm[id % w->mms];
	int err = 0;

	for (uint64_t r = 0; r < w->rounds; r++) {
		if (!err && id != 0) {	/* a thread: store, read back */
			err = shd_switch_mm(cpu, mm);
			for (uint64_t i = 0; !err && i < w->pages; i++) {
				uint64_t va = PROC_BASE + i * w->page, v = 0;

				if (!(err = shd_store(cpu, va + 8 * id, r)) &&
				    !(err = shd_load(cpu, va + 8 * id, &v)) && v != r)
					wl_note_first(&w->failures, w->note,
						      sizeof(w->note), "cpu %u read %"
						      PRIu64 " back, stored %" PRIu64,
						      id, v, r);
			}
		}
		wl_barrier_wait(cpu, &w->bar, 2 * r);
		/* kswapd: one shrink_folio_list() pass. */
		for (uint64_t i = 0; !err && id == 0 && i < w->scan; i++, w->cursor++) {
			uint64_t k = w->cursor % (w->mms * w->pages);

			err = shd_try_to_unmap(cpu, w->mm[k % w->mms],
					       PROC_BASE + (k / w->mms) * w->page);
			err = err > 0 ? 0 : err;
		}
		if (!err && id == 0)
			err = shd_try_to_unmap_flush(cpu);
		wl_barrier_wait(cpu, &w->bar, 2 * r + 1);
	}
	return err;
}

static int rc_setup(struct shd_cpu *cpu, void *arg)
{
	struct rc *w = arg;
	int err = 0;

	for (unsigned i = 0; !err && i < w->mms; i++)
		err = shd_mmap(cpu, w->mm[i], PROC_BASE, w->pages * w->page,
			       SHD_PROT_READ | SHD_PROT_WRITE);
	return err;
}

static int wl_reclaim(struct shd_machine *m, const struct wl_opts *o,
		      struct wl_result *res)
{
	struct rc w = { 0 };
	int err = 0;

	w.page = 1ull << shd_machine_config(m)->page_shift;
	w.mms = (unsigned)o->knob[K_RC_MMS];
	w.pages = o->knob[K_RC_PAGES];
	w.scan = o->knob[K_RC_SCAN];
	w.bar.n = shd_machine_ncpus(m);
	w.rounds = (o->ops + w.scan - 1) / w.scan;
	for (unsigned i = 0; !err && i < w.mms; i++)
		err = shd_mm_create(m, &w.mm[i]);
	if (!err)
		err = wl_run_on(m, 0, 1, rc_setup, &w, res->errtxt,
				sizeof(res->errtxt));
	if (!err)
		err = wl_run_timed(m, w.bar.n, rc_task, &w, res);
	res->ops = w.rounds * w.scan;
	res->check_failures = w.failures;
	snprintf(res->note, sizeof(res->note), "%s", w.note);
	for (unsigned i = 0; i < w.mms; i++)
		if (w.mm[i])
			shd_mm_destroy(w.mm[i]);
	return err;
}

/*
 * The threads' first stores fault every page in, counted with the rest: the
 * modelled cycles per op fall until every page has been reclaimed once
 * (--sched seeded, 8 CPUs: 1440 at 32 ops, 1311 at 128, 1269 from 2048 on;
 * IPIs per op are the same at every length).
 */
static uint64_t reclaim_warmup(const struct wl_opts *o, char *why, size_t len)
{
	uint64_t w = o->knob[K_RC_MMS] * o->knob[K_RC_PAGES];

	snprintf(why, len, "the first reclaim pass over the %" PRIu64 " pages "
		 "its threads faulted in takes %" PRIu64 " ops", w, w);
	return w;
}

const struct workload wl_def_reclaim = {
	.name = "reclaim",
	.help = "CPU 0 reclaims pages of several processes running on "
		"the other CPUs, SWAP_CLUSTER_MAX at a time (batched flushes)",
	.default_ops = 4096,
	.min_cpus = 2,
	.run = wl_reclaim,
	.knobs = wl_reclaim_knobs,
	.check = wl_reclaim_check,
	.warmup = reclaim_warmup,
};
