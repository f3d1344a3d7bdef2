/* SPDX-License-Identifier: MIT */
/* Workload mmap_micro: LATR's microbenchmark. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

/*
 * CPU 0 maps `pages` pages; every CPU touches all of them (so every CPU
 * holds the translations and is in mm_cpumask, running the mm); CPU 0 then
 * munmaps them (madvise=1: MADV_DONTNEED), as LATR's mmap_micro times
 * munmap/madvise with N pinned threads: op_p50_ns is the median munmap
 * (or madvise) call, lat_* its shootdown.  Lockstep per operation, like
 * rangeflush.  Each mapping takes the next of MMU_SLOTS address ranges, as
 * mmap(NULL) would hand out a fresh range (under LATR the old one stays
 * reserved until every CPU has swept its flush).
 */
#define MMU_BASE (1ull << 30)
#define MMU_SLOTS 16
enum { K_MM_PAGES, K_MM_MADVISE };

static const struct wl_knob mmap_micro_knobs[] = {
	{ "pages", "pages mapped, touched by every CPU, then unmapped", 16, 1, 65536 },
	{ "madvise", "0: munmap (and map again); 1: MADV_DONTNEED", 0, 0, 1 },
	{ NULL, NULL, 0, 0, 0 },
};

struct mmu {
	struct shd_mm *mm;
	uint64_t page, pages, ops, madvise;
	unsigned ncpus;
	uint64_t epoch;			/* mappings made; touch once per */
	uint64_t *done;			/* per CPU, 64 bytes apart */
	uint64_t *op_ns;		/* CPU 0: each munmap's host time */
	int32_t abort;			/* a CPU failed: nobody waits */
};

static int mmu_task(struct shd_cpu *cpu, void *arg)
{
	struct mmu *u = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t len = u->pages * u->page;
	int err;

	if ((err = shd_switch_mm(cpu, u->mm)))
		return wl_lockstep_fail(&u->abort, err);
	for (uint64_t e = 0; e < u->ops && !err; e++) {
		uint64_t base = MMU_BASE + (u->madvise ? 0 : e % MMU_SLOTS) *
					  (len + u->page);

		if (id == 0) {
			if (e == 0 || !u->madvise)
				err = shd_mmap(cpu, u->mm, base, len,
					       SHD_PROT_READ | SHD_PROT_WRITE);
			if (err)
				break;
			__atomic_store_n(&u->epoch, e + 1, __ATOMIC_RELEASE);
		} else if ((err = wl_lockstep_wait(cpu, &u->epoch, e + 1, &u->abort))) {
			break;
		}
		for (uint64_t p = 0; p < u->pages && !err; p++)
			err = shd_store(cpu, base + p * u->page, e);
		if (err)
			break;
		__atomic_store_n(&u->done[id * 8], e + 1, __ATOMIC_RELEASE);
		if (id != 0)
			continue;
		for (unsigned c = 1; c < u->ncpus && !err; c++)
			err = wl_lockstep_wait(cpu, &u->done[c * 8], e + 1, &u->abort);
		if (!err) {
			uint64_t t0 = wl_now_ns();

			err = u->madvise ? shd_madvise_dontneed(cpu, u->mm, base, len)
					 : shd_munmap(cpu, u->mm, base, len);
			u->op_ns[e] = wl_now_ns() - t0;
		}
	}
	return wl_lockstep_fail(&u->abort, err);
}

static int wl_mmap_micro(struct shd_machine *m, const struct wl_opts *o,
			 struct wl_result *res)
{
	struct mmu u = { 0 };
	int err;

	u.page = 1ull << shd_machine_config(m)->page_shift;
	u.pages = o->knob[K_MM_PAGES];
	u.madvise = o->knob[K_MM_MADVISE];
	u.ops = o->ops;
	u.ncpus = shd_machine_ncpus(m);
	u.done = calloc((size_t)u.ncpus * 8, sizeof(uint64_t));
	u.op_ns = calloc(u.ops, sizeof(uint64_t));
	if (!u.done || !u.op_ns || shd_mm_create(m, &u.mm)) {
		free(u.done);
		free(u.op_ns);
		return -ENOMEM;
	}
	err = wl_run_timed(m, u.ncpus, mmu_task, &u, res);
	res->ops = u.ops;
	if (!err && u.ops) {
		res->op_p50_ns = wl_median(u.op_ns, u.ops);
	}
	shd_mm_destroy(u.mm);
	free(u.done);
	free(u.op_ns);
	return err;
}

const struct workload wl_def_mmap_micro = {
	.name = "mmap_micro",
	.help = "LATR mmap_micro: every CPU touches the pages, CPU 0 "
		"unmaps them; lat_* time that shootdown",
	.default_ops = 2000,
	.min_cpus = 1,
	.run = wl_mmap_micro,
	.knobs = mmap_micro_knobs,
	.check = NULL,
};
