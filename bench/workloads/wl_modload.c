/* SPDX-License-Identifier: MIT */
/* Workload modload: vmap, write code, flush_icache_range, run, unload. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

/*
 * Module loading: each round CPU 0 vmaps `pages` fresh pages at the module
 * area, writes a word of "code" into each line it uses, and calls
 * flush_icache_range() (arm64: invalidate I everywhere, then kick every
 * CPU); every CPU then runs the module (fetches each word, which must be
 * the round's); CPU 0 unloads it (vunmap: flush_cache_vunmap, then the
 * kernel TLB flush).  The next round's pages are likely the same frames,
 * so an I-cache that kept the old code would run it.  One operation is one
 * page loaded and run on every CPU.
 */
enum { K_ML_PAGES };

static const struct wl_knob wl_modload_knobs[] = {
	{ "pages", "pages of module code loaded each round", 4, 1, 1024 },
	{ NULL, NULL, 0, 0, 0 },
};

#define ML_BASE (SHD_KERNEL_BASE + (1ull << 30))
#define ML_WORDS 8	/* code words per page, one per 64-byte line */

struct ml {
	struct wl_barrier bar;
	uint64_t page, pages, rounds;
	uint64_t failures;
	char note[160];
};

static int wl_modload_check(const struct wl_opts *o, char *err, size_t len)
{
	return wl_check_frames(o, o->knob[K_ML_PAGES], "pages", err, len);
}

static uint64_t ml_code(uint64_t r, uint64_t p, uint64_t w)
{
	return (r + 1) << 32 | p << 8 | w;
}

static int ml_task(struct shd_cpu *cpu, void *arg)
{
	struct ml *w = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t len = w->pages * w->page;
	int err = 0;

	for (uint64_t r = 0; r < w->rounds; r++) {
		if (!err && id == 0) {	/* load_module() */
			err = shd_vmap(cpu, ML_BASE, len);
			for (uint64_t p = 0; !err && p < w->pages; p++)
				for (uint64_t k = 0; !err && k < ML_WORDS; k++)
					err = shd_store(cpu, ML_BASE + p * w->page +
							64 * k, ml_code(r, p, k));
			if (!err)
				err = shd_flush_icache_range(cpu, ML_BASE,
							     ML_BASE + len);
		}
		wl_barrier_wait(cpu, &w->bar, 3 * r);
		for (uint64_t p = 0; !err && p < w->pages; p++) {
			for (uint64_t k = 0; !err && k < ML_WORDS; k++) {
				uint64_t v = 0;

				err = shd_fetch(cpu, ML_BASE + p * w->page + 64 * k, &v);
				if (!err && v != ml_code(r, p, k))
					wl_note_first(&w->failures, w->note,
						      sizeof(w->note), "cpu %u ran "
						      "%#" PRIx64 " where round %"
						      PRIu64 " loaded %#" PRIx64, id,
						      v, r, ml_code(r, p, k));
			}
		}
		wl_barrier_wait(cpu, &w->bar, 3 * r + 1);
		if (!err && id == 0)	/* delete_module() */
			err = shd_vunmap(cpu, ML_BASE, len);
		wl_barrier_wait(cpu, &w->bar, 3 * r + 2);
	}
	return err;
}

static int wl_modload(struct shd_machine *m, const struct wl_opts *o,
		      struct wl_result *res)
{
	struct ml w = { 0 };
	int err;

	w.page = 1ull << shd_machine_config(m)->page_shift;
	w.pages = o->knob[K_ML_PAGES];
	w.bar.n = shd_machine_ncpus(m);
	w.rounds = (o->ops + w.pages - 1) / w.pages;
	err = wl_run_timed(m, w.bar.n, ml_task, &w, res);
	res->ops = w.rounds * w.pages;
	res->check_failures = w.failures;
	snprintf(res->note, sizeof(res->note), "%s", w.note);
	return err;
}

const struct workload wl_def_modload = {
	.name = "modload",
	.help = "CPU 0 loads a module (vmap, write code, "
		"flush_icache_range), every CPU runs it, CPU 0 unloads it",
	.default_ops = 1024,
	.min_cpus = 1,
	.run = wl_modload,
	.knobs = wl_modload_knobs,
	.check = wl_modload_check,
};
