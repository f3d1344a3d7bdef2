/* SPDX-License-Identifier: MIT */
/* Workload pagecache: deferred D-cache flushes of page-cache pages nobody maps. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

/*
 * The kernel writes page-cache pages, then users map and read them: each
 * round CPU 0 write(2)s `pages` pages of a file nobody maps (on an aliasing
 * D-cache flush_dcache_page defers: the pages are marked dirty on CPU 0),
 * then every other CPU maps the file, reads every page and unmaps it (the
 * first fault on a page runs the deferred flush on CPU 0, by IPI), then
 * CPU 0 reads them through a mapping of its own (its own older lines of the
 * pages, at the mapping's colour, must be gone).  Each read must see the
 * round's value.  One operation is one page written and read.
 */
enum { K_PC_PAGES };

static const struct wl_knob wl_pagecache_knobs[] = {
	{ "pages", "page-cache pages written and read each round", 16, 1, 4096 },
	{ NULL, NULL, 0, 0, 0 },
};

struct pc {
	struct shd_mm *mm;
	struct shd_file *f;
	struct wl_barrier bar;
	uint64_t page, pages, rounds;
	uint64_t failures;
	char note[160];
};

static int wl_pagecache_check(const struct wl_opts *o, char *err, size_t len)
{
	return wl_check_frames(o, o->knob[K_PC_PAGES], "pages", err, len);
}

static int pc_read_all(struct shd_cpu *cpu, struct pc *w, uint64_t r)
{
	uint64_t va = PROC_BASE + (uint64_t)shd_cpu_id(cpu) *
		      wl_colour_round(w->pages + 1) * w->page;
	int err = shd_mmap_file(cpu, w->mm, va, w->pages * w->page, SHD_PROT_READ,
				SHD_MAP_SHARED, w->f, 0);

	for (uint64_t p = 0; !err && p < w->pages; p++) {
		uint64_t v = 0;

		if (!(err = shd_load(cpu, va + p * w->page, &v)) && v != r + 1)
			wl_note_first(&w->failures, w->note, sizeof(w->note),
				      "cpu %u read %" PRIu64 " from page %" PRIu64
				      " in round %" PRIu64 ", the kernel wrote %"
				      PRIu64, shd_cpu_id(cpu), v, p, r, r + 1);
	}
	if (!err)
		err = shd_munmap(cpu, w->mm, va, w->pages * w->page);
	return err;
}

static int pc_task(struct shd_cpu *cpu, void *arg)
{
	struct pc *w = arg;
	unsigned id = shd_cpu_id(cpu);
	int err = shd_switch_mm(cpu, w->mm);

	for (uint64_t r = 0; r < w->rounds; r++) {
		for (uint64_t p = 0; !err && id == 0 && p < w->pages; p++)
			err = shd_file_write(cpu, w->f, p * w->page, r + 1);
		wl_barrier_wait(cpu, &w->bar, 3 * r);
		if (!err && id != 0)
			err = pc_read_all(cpu, w, r);
		wl_barrier_wait(cpu, &w->bar, 3 * r + 1);
		if (!err && id == 0)
			err = pc_read_all(cpu, w, r);
		wl_barrier_wait(cpu, &w->bar, 3 * r + 2);
	}
	return err;
}

static int wl_pagecache(struct shd_machine *m, const struct wl_opts *o,
			struct wl_result *res)
{
	struct pc w = { 0 };
	int err;

	w.page = 1ull << shd_machine_config(m)->page_shift;
	w.pages = o->knob[K_PC_PAGES];
	w.bar.n = shd_machine_ncpus(m);
	w.rounds = (o->ops + w.pages - 1) / w.pages;
	if ((err = shd_mm_create(m, &w.mm)))
		return err;
	if ((err = shd_file_create(m, w.pages, &w.f))) {
		shd_mm_destroy(w.mm);
		return err;
	}
	err = wl_run_timed(m, w.bar.n, pc_task, &w, res);
	res->ops = w.rounds * w.pages;
	res->check_failures = w.failures;
	snprintf(res->note, sizeof(res->note), "%s", w.note);
	shd_mm_destroy(w.mm);
	shd_file_destroy(w.f);
	return err;
}

const struct workload wl_def_pagecache = {
	.name = "pagecache",
	.help = "CPU 0 writes page-cache pages nobody maps; the other "
		"CPUs, then CPU 0, map and read them (deferred D-cache flushes)",
	.default_ops = 1600,
	.min_cpus = 1,
	.run = wl_pagecache,
	.knobs = wl_pagecache_knobs,
	.check = wl_pagecache_check,
};
