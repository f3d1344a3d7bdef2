/* SPDX-License-Identifier: MIT */
/* Workload vmapio: I/O through a vmap'd buffer (kernel vmap range flushes). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

/*
 * I/O through a vmap alias (a filesystem's log buffer, XFS-style): each CPU
 * owns a buffer of `pages` vmap'd pages.  Each round it writes a word into
 * every line of the buffer through the alias, flush_kernel_vmap_range()s
 * it and lets the device read it (DMA out, checked); then the device writes
 * the buffer (DMA in), the CPU invalidate_kernel_vmap_range()s it and reads
 * the device's words through the alias (checked).  A D-cache the device
 * does not snoop (hypersparc) keeps the old words without the invalidate.
 * One operation is one page written out and read back.
 */
enum { K_VI_PAGES };

static const struct wl_knob wl_vmapio_knobs[] = {
	{ "pages", "pages in each CPU's I/O buffer", 4, 1, 256 },
	{ NULL, NULL, 0, 0, 0 },
};

struct vi {
	uint64_t page, pages, rounds, words;
	uint64_t failures;
	char note[160];
};

static int wl_vmapio_check(const struct wl_opts *o, char *err, size_t len)
{
	return wl_check_frames(o, o->knob[K_VI_PAGES] * o->ncpus,
			       "pages x cpus", err, len);
}

static int vi_task(struct shd_cpu *cpu, void *arg)
{
	struct vi *w = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t len = w->pages * w->page, v = 0;
	uint64_t buf = SHD_KERNEL_BASE + (2ull << 30) + id * (len + w->page);
	int err = shd_vmap(cpu, buf, len);

	for (uint64_t r = 0; !err && r < w->rounds; r++) {
		uint64_t out = (r + 1) << 40 | (uint64_t)id << 32;
		uint64_t in = out | 1ull << 63;

		for (uint64_t k = 0; !err && k < w->words; k++)
			err = shd_store(cpu, buf + 64 * k, out | k);
		if (!err)
			err = shd_flush_kernel_vmap_range(cpu, buf, len);
		for (uint64_t k = 0; !err && k < w->words; k++) {
			if (!(err = shd_dma_read(cpu, buf + 64 * k, &v)) &&
			    v != (out | k))
				wl_note_first(&w->failures, w->note, sizeof(w->note),
					      "the device read %#" PRIx64 " from "
					      "cpu %u's buffer, which holds %#"
					      PRIx64, v, id, out | k);
		}
		for (uint64_t k = 0; !err && k < w->words; k++)
			err = shd_dma_write(cpu, buf + 64 * k, in | k);
		if (!err)
			err = shd_invalidate_kernel_vmap_range(cpu, buf, len);
		for (uint64_t k = 0; !err && k < w->words; k++) {
			if (!(err = shd_load(cpu, buf + 64 * k, &v)) && v != (in | k))
				wl_note_first(&w->failures, w->note, sizeof(w->note),
					      "cpu %u read %#" PRIx64 " from its "
					      "buffer after the device wrote %#"
					      PRIx64, id, v, in | k);
		}
	}
	if (!err)
		err = shd_vunmap(cpu, buf, len);
	return err;
}

static int wl_vmapio(struct shd_machine *m, const struct wl_opts *o,
		     struct wl_result *res)
{
	struct vi w = { 0 };
	unsigned n = shd_machine_ncpus(m);
	int err;

	w.page = 1ull << shd_machine_config(m)->page_shift;
	w.pages = o->knob[K_VI_PAGES];
	w.words = w.pages * w.page / 64;
	w.rounds = (o->ops + n * w.pages - 1) / (n * w.pages);
	err = wl_run_timed(m, n, vi_task, &w, res);
	res->ops = w.rounds * n * w.pages;
	res->check_failures = w.failures;
	snprintf(res->note, sizeof(res->note), "%s", w.note);
	return err;
}

const struct workload wl_def_vmapio = {
	.name = "vmapio",
	.help = "each CPU does I/O through a vmap'd buffer: write, "
		"flush_kernel_vmap_range, DMA out; DMA in, "
		"invalidate_kernel_vmap_range, read",
	.default_ops = 4096,
	.min_cpus = 1,
	.run = wl_vmapio,
	.knobs = wl_vmapio_knobs,
	.check = wl_vmapio_check,
};
