/* SPDX-License-Identifier: MIT */
/* Workload rangeflush: MMTests' tlbflush (Alex Shi's range-flush benchmark). */
#include <errno.h>
#include <sched.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

/*
 * CPU 0 unmaps a random range of range_min..range_max pages of a shared
 * region and maps it back, over and over; every other CPU reads pages of
 * its own hot set (hot pages, fitting its TLB) in between.  Each unmap must
 * reach the readers: page by page if the range is at most the ceiling,
 * otherwise as a full flush that throws their hot sets away, to be refilled
 * miss by miss.  To keep the counts independent of host scheduling the CPUs
 * go in lockstep: each reader makes exactly `accesses` reads per epoch, and
 * CPU 0 unmaps only when every reader is done with the epoch: the cost curve
 * over the ceiling then depends on the policy, not on luck.  (The remapped
 * pages fault back in on first read: the same faults at every ceiling.)
 */
enum { K_RF_PAGES, K_RF_HOT, K_RF_ACCESSES, K_RF_MIN, K_RF_MAX };

static const struct wl_knob rangeflush_knobs[] = {
	{ "pages", "pages in the shared region", 512, 16, 65536 },
	{ "hot", "pages each reader keeps reading (its TLB working set)", 32, 1, 4096 },
	{ "accesses", "reads per reader between two unmaps", 64, 1, 1000000 },
	{ "range_min", "smallest range unmapped, pages", 1, 1, 65536 },
	{ "range_max", "largest range unmapped, pages", 64, 1, 65536 },
	{ NULL, NULL, 0, 0, 0 },
};

#define RF_BASE (1ull << 30)

struct rf {
	struct shd_mm *mm;
	uint64_t page, pages, hot, accesses, rmin, rmax, ops, seed;
	unsigned ncpus;
	uint64_t epoch;			/* unmaps done; readers read once per */
	uint64_t *done;			/* per reader, 64 bytes apart: epochs read */
	int32_t *abort;			/* set by a CPU that fails: nobody waits */
};

static uint64_t *rf_done(struct rf *r, unsigned cpu)
{
	return &r->done[cpu * 8];
}

static int rf_reader(struct shd_cpu *cpu, void *arg)
{
	struct rf *r = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t s = r->seed * 0x9e3779b97f4a7c15ull + id, first, v;
	int err;

	if ((err = shd_switch_mm(cpu, r->mm)))
		return wl_lockstep_fail(r->abort, err);
	/* The hot set: consecutive pages, disjoint between readers while
	 * they fit, so no two readers race to fault the same page and the
	 * counts stay the same from run to run. */
	first = ((uint64_t)(id - 1) * r->hot) % (r->pages - r->hot + 1);
	for (uint64_t e = 0; e <= r->ops; e++) {
		if ((err = wl_lockstep_wait(cpu, &r->epoch, e, r->abort)))
			return wl_lockstep_fail(r->abort, err);
		for (uint64_t i = 0; i < r->accesses; i++) {
			uint64_t va = RF_BASE + (first + wl_rng_below(&s, r->hot)) * r->page;

			err = shd_load(cpu, va, &v);
			if (err)	/* the region is always mapped between unmaps */
				return wl_lockstep_fail(r->abort, err);
		}
		__atomic_store_n(rf_done(r, id), e + 1, __ATOMIC_RELEASE);
	}
	return 0;
}

static int rf_unmapper(struct shd_cpu *cpu, void *arg)
{
	struct rf *r = arg;
	uint64_t s = r->seed * 0x100000001b3ull + 7;
	int err;

	if ((err = shd_switch_mm(cpu, r->mm)))
		return wl_lockstep_fail(r->abort, err);
	for (uint64_t i = 0; i < r->ops && !err; i++) {
		uint64_t n = r->rmin + wl_rng_below(&s, r->rmax - r->rmin + 1);
		uint64_t at = wl_rng_below(&s, r->pages - n + 1);
		uint64_t va = RF_BASE + at * r->page;

		for (unsigned c = 1; c < r->ncpus && !err; c++)	/* epoch i read */
			err = wl_lockstep_wait(cpu, rf_done(r, c), i + 1, r->abort);
		if (!err)
			err = shd_munmap(cpu, r->mm, va, n * r->page);
		if (!err)
			err = shd_mmap(cpu, r->mm, va, n * r->page,
				       SHD_PROT_READ | SHD_PROT_WRITE);
		if (!err)
			__atomic_store_n(&r->epoch, i + 1, __ATOMIC_RELEASE);
	}
	return wl_lockstep_fail(r->abort, err);
}

static int rf_map_all(struct shd_cpu *cpu, void *arg)
{
	struct rf *r = arg;
	int err;

	if ((err = shd_switch_mm(cpu, r->mm)))
		return err;
	return shd_mmap(cpu, r->mm, RF_BASE, r->pages * r->page,
			SHD_PROT_READ | SHD_PROT_WRITE);
}

static int rf_task(struct shd_cpu *cpu, void *arg)
{
	return shd_cpu_id(cpu) == 0 ? rf_unmapper(cpu, arg) : rf_reader(cpu, arg);
}

static int rangeflush_check(const struct wl_opts *o, char *err, size_t len)
{
	if (o->knob[K_RF_HOT] > o->knob[K_RF_PAGES] ||
	    o->knob[K_RF_MIN] > o->knob[K_RF_MAX] ||
	    o->knob[K_RF_MAX] > o->knob[K_RF_PAGES]) {
		snprintf(err, len, "rangeflush needs hot <= pages and range_min "
			 "<= range_max <= pages");
		return -1;
	}
	return 0;
}

/*
 * The first unmaps reach fewer readers (--sched seeded: 2.2-2.8 IPIs per op
 * over the first 64 at 8 CPUs, 3.2-3.7 from 128 on; 0.47 against 0.6 at 4
 * CPUs; steady from the first at 16).  CPU 0 makes every op, so the warm-up
 * does not grow with the CPU count.
 */
#define RF_WARMUP 128

static uint64_t rangeflush_warmup(const struct wl_opts *o, char *why, size_t len)
{
	(void)o;
	snprintf(why, len, "its first %d unmaps reach fewer readers than the "
		 "rest", RF_WARMUP);
	return RF_WARMUP;
}

static int wl_rangeflush(struct shd_machine *m, const struct wl_opts *o,
			 struct wl_result *res)
{
	struct rf r = { 0 };
	int err;

	r.page = 1ull << shd_machine_config(m)->page_shift;
	r.pages = o->knob[K_RF_PAGES];
	r.hot = o->knob[K_RF_HOT];
	r.accesses = o->knob[K_RF_ACCESSES];
	r.rmin = o->knob[K_RF_MIN];
	r.rmax = o->knob[K_RF_MAX];
	r.ops = o->ops;
	r.seed = o->seed;
	r.ncpus = shd_machine_ncpus(m);
	int32_t abort = 0;

	r.abort = &abort;
	r.done = calloc((size_t)r.ncpus * 8, sizeof(uint64_t));
	if (!r.done || (err = shd_mm_create(m, &r.mm))) {
		free(r.done);
		return -ENOMEM;
	}
	/* Map the whole region first (CPU 0), then run. */
	err = wl_run_on(m, 0, 1, rf_map_all, &r, res->errtxt, sizeof(res->errtxt));
	if (!err)
		err = wl_run_timed(m, r.ncpus, rf_task, &r, res);
	res->ops = r.ops;
	shd_mm_destroy(r.mm);
	free(r.done);
	return err;
}

const struct workload wl_def_rangeflush = {
	.name = "rangeflush",
	.help = "MMTests tlbflush: CPU 0 unmaps and remaps random "
		"ranges while the others read their hot sets",
	.default_ops = 2000,
	.min_cpus = 2,
	.run = wl_rangeflush,
	.knobs = rangeflush_knobs,
	.check = rangeflush_check,
	.warmup = rangeflush_warmup,
};
