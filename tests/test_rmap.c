/* SPDX-License-Identifier: MIT */
/* Tests of reclaim batching (try_to_unmap, arch_tlbbatch) and flush_tlb_batched_pending. */
#include <inttypes.h>

#include "shd_test.h"

#define NPAGES	8				/* pages reclaimed per scenario */
#define SCRATCH	(UBASE + 0x4000000ull)		/* in-task frame counting */

struct bt {
	struct shd_machine *m;
	struct shd_mm *mm, *mm2, *mm3;
	struct shd_mm *scr;	/* count_free_here()'s */
	bool scr_mapped;
	unsigned ncpus;
	int step;
	int ready;		/* CPUs that reached a stage (cumulative) */
	bool deferred;		/* x86: translations survive until the flush */
	int op;			/* scenario selector */
	unsigned npages;
	uint64_t nframes;
	int rc[8];
	uint64_t v[8];
};

static void arrive(int *ready)
{
	__atomic_add_fetch(ready, 1, __ATOMIC_RELEASE);
}

/*
 * Count free frames from inside a task: in B's scratch mm (a mapping of
 * NFRAMES + 1 pages made on first use), store until the machine runs out,
 * drop the pages with madvise, and switch back to B->mm.  A separate mm, so
 * that counting neither runs flush_tlb_batched_pending() on B->mm (its
 * flush_tlb_mm reaches lazy CPUs and sends them to init_mm, out of the mask,
 * which changes what reclaim defers) nor frees a page table.
 */
static uint64_t count_free_here(struct shd_cpu *cpu, struct bt *b)
{
	uint64_t i, max = b->nframes;
	int rc = 0;

	T_OK(shd_switch_mm(cpu, b->scr));
	if (!b->scr_mapped) {
		T_OK(shd_mmap(cpu, b->scr, SCRATCH, (max + 1) * PAGE, RW));
		b->scr_mapped = true;
	}
	for (i = 0; i <= max; i++)
		if ((rc = shd_store(cpu, SCRATCH + i * PAGE, 1)) != 0)
			break;
	T_EQ(rc, -ENOMEM);
	T_OK(shd_madvise_dontneed(cpu, b->scr, SCRATCH, (max + 1) * PAGE));
	T_OK(shd_switch_mm(cpu, b->mm));
	return i;
}

/* ---- 1, 2. the batch: cpu 0 reclaims pages the others are using ---- */

/*
 * cpus 1..n-1 run the mm (spinning in step_wait, taking IPIs) and store to
 * each of NPAGES pages; cpu 0 reclaims them all, lets the others look, then
 * flushes its batch; the others look again.  Between the reclaim and the
 * flush a deferred (x86) batch leaves their translations in place (legal:
 * no flush has returned), arm64 has already invalidated them and an
 * unbatched policy has flushed page by page.  After it the pages are gone:
 * the next load faults in the zero page.
 */
static int reclaim_task(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;
	unsigned id = shd_cpu_id(cpu);
	int others = (int)b->ncpus - 1;

	T_OK(shd_switch_mm(cpu, b->mm));
	if (id == 0) {
		T_OK(shd_mmap(cpu, b->mm, UBASE, NPAGES * PAGE, RW));
		step_set(&b->step, 1);
		step_wait(cpu, &b->ready, others);
		for (unsigned i = 0; i < NPAGES; i++)
			T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + i * PAGE), 1);
		step_set(&b->step, 2);
		step_wait(cpu, &b->ready, 2 * others);
		T_OK(shd_try_to_unmap_flush(cpu));
		step_set(&b->step, 3);
		step_wait(cpu, &b->ready, 3 * others);
		return 0;
	}
	step_wait(cpu, &b->step, 1);
	for (unsigned i = 0; i < NPAGES; i++) {
		T_OK(shd_store(cpu, page_va(i, id), page_val(i, id)));
		T_LOAD(cpu, page_va(i, id), page_val(i, id));
	}
	arrive(&b->ready);
	step_wait(cpu, &b->step, 2);
	for (unsigned i = 0; i < NPAGES; i++)
		T_LOAD(cpu, page_va(i, id), b->deferred ? page_val(i, id) : 0);
	arrive(&b->ready);
	step_wait(cpu, &b->step, 3);
	for (unsigned i = 0; i < NPAGES; i++)
		T_LOAD(cpu, page_va(i, id), 0);
	arrive(&b->ready);
	return 0;
}

static struct shd_stats run_reclaim(unsigned ncpus, const char *policy,
				    const char *batch, bool deferred)
{
	struct shd_machine *m = MACHINE(.ncpus = ncpus, .policy = policy,
					.batch = batch);
	struct bt b = { .m = m, .ncpus = ncpus, .deferred = deferred };
	struct shd_violation v;
	struct shd_stats st;

	memset(&v, 0, sizeof(v));
	b.mm = test_mm(m);
	cr_assert_eq(shd_run_on(m, 0, ncpus, reclaim_task, &b), 0);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(shd_machine_violations(m, &v, 1), 0, "%s", v.text);
	cr_assert_eq(st.violations, 0);
	cr_assert_eq(st.reclaim_pages, NPAGES);
	cr_assert_eq(st.batched_pending_flushes, 0);
	shd_machine_destroy(m);
	return st;
}

Test(rmap, x86_one_shootdown_for_the_whole_batch)
{
	for (unsigned n = 2; n <= 4; n++) {
		struct shd_stats st = run_reclaim(n, "linux", NULL, true);

		cr_assert_eq(st.tlbbatch_pages, NPAGES, "%u cpus", n);
		cr_assert_eq(st.tlbbatch_flushes, 1, "%u cpus", n);
		cr_assert_eq(st.flush_calls, 1, "%u cpus", n);
		cr_assert_eq(st.shootdowns, 1, "%u cpus", n);
		/* One IPI to each other CPU running the mm, none lost. */
		cr_assert_eq(st.ipis_sent, n - 1, "%u cpus: %" PRIu64, n,
			     st.ipis_sent);
		cr_assert_eq(st.ipis_coalesced + st.ipis_avoided_pruned +
			     st.ipis_avoided_lazy, 0, "%u cpus", n);
		cr_assert_eq(st.ipi_requests, n - 1, "%u cpus", n);
		cr_assert_eq(candidates(&st), st.flush_calls * (n - 1));
	}
}

Test(rmap, unbatched_flushes_every_page)
{
	for (unsigned n = 2; n <= 4; n++) {
		struct shd_stats st = run_reclaim(n, "linux-unbatched", NULL,
						  false);

		cr_assert_eq(st.tlbbatch_pages, 0, "%u cpus", n);
		cr_assert_eq(st.tlbbatch_flushes, 0, "%u cpus", n);
		cr_assert_eq(st.flush_calls, NPAGES, "%u cpus", n);
		cr_assert_eq(st.shootdowns, NPAGES, "%u cpus", n);
		cr_assert_eq(st.ipis_sent, NPAGES * (n - 1), "%u cpus", n);
		cr_assert_eq(st.ipi_requests, NPAGES * (n - 1), "%u cpus", n);
		cr_assert_eq(candidates(&st), st.flush_calls * (n - 1));
	}
}

Test(rmap, arm64_invalidates_as_it_adds_and_the_flush_waits)
{
	for (unsigned n = 2; n <= 4; n++) {
		struct shd_stats st = run_reclaim(n, "linux", "arm64", false);

		cr_assert_eq(st.tlbbatch_pages, NPAGES, "%u cpus", n);
		cr_assert_eq(st.tlbbatch_flushes, 1, "%u cpus", n);
		/* One invalidation per page and CPU, a doorbell or not. */
		cr_assert_eq(st.ipis_sent + st.ipis_coalesced, NPAGES * (n - 1),
			     "%u cpus", n);
		cr_assert_geq(st.ipis_sent, 1, "%u cpus", n);
		cr_assert_eq(st.ipis_avoided_pruned + st.ipis_avoided_lazy, 0);
		cr_assert_eq(st.ipi_requests, NPAGES * (n - 1), "%u cpus", n);
	}
}

/* ---- the union of several mms' masks ---- */

/*
 * cpu 1 runs mm, cpu 2 runs mm2, cpu 3 runs mm3; cpu 0 (in mm) reclaims
 * pages of mm and mm2 in one batch: one flush reaches cpus 1 and 2, not 3.
 */
static int union_task(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;
	unsigned id = shd_cpu_id(cpu);
	struct shd_mm *mine = id == 2 ? b->mm2 : id == 3 ? b->mm3 : b->mm;

	T_OK(shd_switch_mm(cpu, mine));
	if (id == 0) {
		T_OK(shd_mmap(cpu, b->mm, UBASE, NPAGES * PAGE, RW));
		T_OK(shd_mmap(cpu, b->mm2, UBASE, NPAGES * PAGE, RW));
		T_OK(shd_mmap(cpu, b->mm3, UBASE, NPAGES * PAGE, RW));
		step_set(&b->step, 1);
		step_wait(cpu, &b->ready, 3);
		for (unsigned i = 0; i < NPAGES / 2; i++) {
			T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + i * PAGE), 1);
			T_EQ(shd_try_to_unmap(cpu, b->mm2, UBASE + i * PAGE), 1);
		}
		T_OK(shd_try_to_unmap_flush(cpu));
		step_set(&b->step, 2);
		step_wait(cpu, &b->ready, 6);
		return 0;
	}
	step_wait(cpu, &b->step, 1);
	for (unsigned i = 0; i < NPAGES; i++)
		T_OK(shd_store(cpu, page_va(i, id), page_val(i, id)));
	arrive(&b->ready);
	step_wait(cpu, &b->step, 2);
	for (unsigned i = 0; i < NPAGES; i++)
		T_LOAD(cpu, page_va(i, id),
		       id != 3 && i < NPAGES / 2 ? 0 : page_val(i, id));
	arrive(&b->ready);
	return 0;
}

Test(rmap, x86_flushes_the_union_of_the_masks_once)
{
	struct shd_machine *m = MACHINE(.ncpus = 4);
	struct bt b = { .m = m, .ncpus = 4 };
	struct shd_stats st;

	b.mm = test_mm(m);
	b.mm2 = test_mm(m);
	b.mm3 = test_mm(m);
	cr_assert_eq(shd_run_on(m, 0, 4, union_task, &b), 0);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.violations, 0);
	cr_assert_eq(st.reclaim_pages, NPAGES);
	cr_assert_eq(st.tlbbatch_pages, NPAGES);
	cr_assert_eq(st.tlbbatch_flushes, 1);
	cr_assert_eq(st.flush_calls, 1);
	cr_assert_eq(st.ipis_sent, 2, "cpus 1 and 2: %" PRIu64, st.ipis_sent);
	cr_assert_eq(st.ipis_avoided_pruned, 1, "cpu 3 runs another mm");
	cr_assert_eq(candidates(&st), st.flush_calls * 3);
	shd_machine_destroy(m);
}

/* ---- a lazy CPU in the mask is skipped and catches up ---- */

static int touch_pages(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;
	unsigned id = shd_cpu_id(cpu);

	T_OK(shd_switch_mm(cpu, b->mm));
	for (unsigned i = 0; i < b->npages; i++)
		T_OK(shd_store(cpu, page_va(i, id), page_val(i, id)));
	return 0;	/* lazy in mm from here, still in its mask */
}

static int reclaim_and_flush(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	for (unsigned i = 0; i < b->npages; i++)
		T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + i * PAGE), 1);
	T_OK(shd_try_to_unmap_flush(cpu));
	return 0;
}

static int come_back_and_read(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));	/* leaves lazy mode */
	for (unsigned i = 0; i < b->npages; i++)
		T_LOAD(cpu, page_va(i, 1), 0);
	return 0;
}

static int map_pages(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	T_OK(shd_mmap(cpu, b->mm, UBASE, b->npages * PAGE, RW));
	return 0;
}

Test(rmap, x86_skips_a_lazy_cpu_which_catches_up_when_it_returns)
{
	struct shd_machine *m = MACHINE(.ncpus = 2);
	struct bt b = { .m = m, .ncpus = 2, .npages = NPAGES };
	struct shd_stats st;

	b.mm = test_mm(m);
	run_one(m, 0, map_pages, &b);
	run_one(m, 1, touch_pages, &b);
	run_one(m, 0, reclaim_and_flush, &b);
	st = test_stats(m);
	cr_assert_eq(st.tlbbatch_pages, NPAGES, "cpu 1 is in the mask: deferred");
	cr_assert_eq(st.tlbbatch_flushes, 1);
	cr_assert_eq(st.ipis_sent, 0);
	cr_assert_eq(st.ipis_avoided_lazy, 1);
	run_one(m, 1, come_back_and_read, &b);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.violations, 0);
	cr_assert_geq(st.switch_flushes, 1, "cpu 1 was behind the mm's tlb_gen");
	shd_machine_destroy(m);
}

/* ---- 3. the batch is bounded, and a returning task flushes it ---- */

#define SMALL_FRAMES	64
#define TOUCHED		40

/*
 * cpu 1 touched TOUCHED pages and went lazy (still in the mm's mask, so
 * reclaim defers).  cpu 0 reclaims 33 of them, counting free frames as it
 * goes: none come back while the batch holds them, 32 when the 33rd page
 * makes the full batch flush by itself; the 33rd is still pending when the
 * task returns.
 */
static int reclaim_33(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	b->v[0] = count_free_here(cpu, b);
	for (unsigned i = 0; i < 31; i++)
		T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + i * PAGE), 1);
	b->v[1] = count_free_here(cpu, b);
	T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + 31 * PAGE), 1);
	b->v[2] = count_free_here(cpu, b);
	T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + 32 * PAGE), 1);
	b->v[3] = count_free_here(cpu, b);
	return 0;	/* with page 32 in the batch */
}

static int reclaim_5_and_return(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	for (unsigned i = 33; i < 38; i++)
		T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + i * PAGE), 1);
	b->v[4] = count_free_here(cpu, b);
	return 0;
}

static int come_back_and_read_some(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	for (unsigned i = 0; i < b->npages; i++)
		T_LOAD(cpu, page_va(i, 1), i < 38 ? 0 : page_val(i, 1));
	return 0;
}

Test(rmap, a_full_batch_flushes_itself_and_a_returning_task_flushes_its_own)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .nframes = SMALL_FRAMES);
	struct bt b = { .m = m, .ncpus = 2, .npages = TOUCHED,
			.nframes = SMALL_FRAMES };
	uint64_t base, after_touch;
	struct shd_stats st;

	base = free_frames(m, SMALL_FRAMES);
	cr_assert(base == SMALL_FRAMES || base == SMALL_FRAMES - 1, "%" PRIu64,
		  base);
	b.mm = test_mm(m);
	b.scr = test_mm(m);
	run_one(m, 0, map_pages, &b);
	run_one(m, 1, touch_pages, &b);
	after_touch = free_frames(m, SMALL_FRAMES);
	cr_assert_eq(after_touch, base - TOUCHED);

	run_one(m, 0, reclaim_33, &b);
	assert_tasks_ok();
	cr_assert_eq(b.v[0], after_touch);
	cr_assert_eq(b.v[1], after_touch, "frames came back before the flush");
	cr_assert_eq(b.v[2], after_touch, "a batch of 32 is not full yet");
	cr_assert_eq(b.v[3], after_touch + 32, "the 33rd page did not flush "
		     "the full batch: %" PRIu64 " free", b.v[3]);
	st = test_stats(m);
	cr_assert_eq(st.reclaim_pages, 33);
	cr_assert_eq(st.tlbbatch_pages, 33);
	cr_assert_eq(st.tlbbatch_flushes, 2, "one by itself, one at return");
	cr_assert_eq(free_frames(m, SMALL_FRAMES), after_touch + 33,
		     "the returning task's batch was not flushed");

	run_one(m, 0, reclaim_5_and_return, &b);
	assert_tasks_ok();
	cr_assert_eq(b.v[4], after_touch + 33, "freed before the flush");
	st = test_stats(m);
	cr_assert_eq(st.tlbbatch_flushes, 3);
	cr_assert_eq(free_frames(m, SMALL_FRAMES), after_touch + 38);

	/* cpu 1 comes back: the reclaimed pages read 0, the rest its data. */
	b.npages = TOUCHED;
	run_one(m, 1, come_back_and_read_some, &b);
	assert_tasks_ok();
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

/* ---- a pending batch keeps its mm: exit while pages are in it ---- */

static int reclaim_then_exit(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	for (unsigned i = 0; i < 4; i++)
		T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + i * PAGE), 1);
	T_OK(shd_switch_mm(cpu, NULL));
	T_OK(shd_mm_exit(cpu, b->mm));	/* the batch still holds 4 pages */
	b->mm = NULL;
	b->v[0] = count_free_here(cpu, b);	/* the 4 are not back yet */
	return 0;	/* the batch is flushed here */
}

Test(rmap, a_pending_batch_outlives_the_exit_of_its_mm)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .nframes = SMALL_FRAMES);
	struct bt b = { .m = m, .ncpus = 2, .npages = NPAGES,
			.nframes = SMALL_FRAMES };
	uint64_t base;
	struct shd_stats st;

	base = free_frames(m, SMALL_FRAMES);
	b.mm = test_mm(m);
	b.scr = test_mm(m);
	run_one(m, 0, map_pages, &b);
	run_one(m, 1, touch_pages, &b);		/* lazy in mm: defer */
	run_one(m, 0, reclaim_then_exit, &b);
	assert_tasks_ok();
	cr_assert_eq(b.v[0], base - 4, "exit gave back %" PRIu64 " of the "
		     "%u unreclaimed frames", b.v[0] - (base - NPAGES),
		     NPAGES - 4);
	st = test_stats(m);
	cr_assert_eq(st.tlbbatch_pages, 4);
	cr_assert_eq(st.tlbbatch_flushes, 1);
	cr_assert_eq(st.violations, 0);
	cr_assert_eq(free_frames(m, SMALL_FRAMES), base, "frames lost");
	shd_machine_destroy(m);
}

/* ---- 4. x86 defers only when another CPU may cache the translation ---- */

static int reclaim_alone(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	T_OK(shd_mmap(cpu, b->mm, UBASE, NPAGES * PAGE, RW));
	for (unsigned i = 0; i < NPAGES; i++)
		T_OK(shd_store(cpu, page_va(i, 0), page_val(i, 0)));
	b->v[0] = count_free_here(cpu, b);
	for (unsigned i = 0; i < NPAGES; i++) {
		T_LOAD(cpu, page_va(i, 0), page_val(i, 0));
		T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + i * PAGE), 1);
		T_LOAD(cpu, page_va(i, 0), 0);	/* flushed at once */
	}
	/* Back at once, not at a batch flush. */
	b->v[1] = count_free_here(cpu, b);
	return 0;
}

static void defer_check(const char *policy)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .policy = policy,
					.nframes = SMALL_FRAMES);
	struct bt b = { .m = m, .ncpus = 2, .nframes = SMALL_FRAMES };
	struct shd_stats st;

	b.mm = test_mm(m);
	b.scr = test_mm(m);
	run_one(m, 0, reclaim_alone, &b);
	assert_tasks_ok();
	/* The loads after reclaim faulted in the zero page: no frame. */
	cr_assert_eq(b.v[1], b.v[0] + NPAGES, "%s: %" PRIu64 " -> %" PRIu64,
		     policy, b.v[0], b.v[1]);
	st = test_stats(m);
	cr_assert_eq(st.violations, 0);
	cr_assert_eq(st.reclaim_pages, NPAGES);
	cr_assert_eq(st.tlbbatch_pages, 0, "%s deferred", policy);
	cr_assert_eq(st.tlbbatch_flushes, 0);
	cr_assert_eq(st.ipis_sent, 0);
	cr_assert_geq(st.flushes_partial, NPAGES, "one flush_tlb_page each");
	shd_machine_destroy(m);
}

/* linux: x86 batching with no other CPU in the mask; linux-unbatched:
 * batch off. */
ParameterizedTestParameters(rmap, reclaim_flushes_at_once_when_it_need_not_defer)
{
	static struct preset_param p[] = { { "linux" }, { "linux-unbatched" } };

	return cr_make_param_array(struct preset_param, p, ARRAY_LEN(p));
}

ParameterizedTest(const struct preset_param *policy, rmap,
		  reclaim_flushes_at_once_when_it_need_not_defer)
{
	defer_check(policy->name);
}

/* ---- 5. flush_tlb_batched_pending ---- */

enum { OP_MUNMAP, OP_MADVISE, OP_MPROTECT, OP_MUNMAP2 };

/*
 * cpu 1 holds a writable translation of P; cpu 0 reclaims P (deferred:
 * cpu 1 is in the mm); then cpu 0, or cpu 2, munmaps / madvises /
 * mprotects exactly P.  There is nothing left to zap or change, so only
 * flush_tlb_batched_pending() flushes cpu 1's entry before the call
 * returns; the batch itself waits for cpu 0's task to return.
 */
static int pending_task(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;
	unsigned id = shd_cpu_id(cpu), who = b->ncpus == 3 ? 2 : 0;

	T_OK(shd_switch_mm(cpu, b->mm));
	if (id == 0) {
		/* Two pages: unmapping one keeps the page table. */
		T_OK(shd_mmap(cpu, b->mm, UBASE, 2 * PAGE, RW));
		if (b->op == OP_MUNMAP2) {
			/* The neighbour is mapped, and another VMA keeps
			 * the page table (no table flush over P). */
			T_OK(shd_store(cpu, UBASE + PAGE, 1));
			T_OK(shd_mmap(cpu, b->mm, UBASE + 10 * PAGE, PAGE,
				      SHD_PROT_READ));
		}
		step_set(&b->step, 1);
		step_wait(cpu, &b->step, 2);
		T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE), 1);
		step_set(&b->step, 3);
	}
	if (id == who) {
		step_wait(cpu, &b->step, 3);
		switch (b->op) {
		case OP_MUNMAP:
			T_OK(shd_munmap(cpu, b->mm, UBASE, PAGE));
			break;
		case OP_MADVISE:
			T_OK(shd_madvise_dontneed(cpu, b->mm, UBASE, PAGE));
			break;
		case OP_MPROTECT:
			T_OK(shd_mprotect(cpu, b->mm, UBASE, PAGE, SHD_PROT_READ));
			break;
		case OP_MUNMAP2:
			T_OK(shd_munmap(cpu, b->mm, UBASE, 2 * PAGE));
			break;
		}
		step_set(&b->step, 4);
	}
	if (id == 1) {
		step_wait(cpu, &b->step, 1);
		T_OK(shd_store(cpu, UBASE + 8, 0x49));
		step_set(&b->step, 2);
		step_wait(cpu, &b->step, 4);
		b->rc[0] = shd_load(cpu, UBASE + 8, &b->v[0]);
		b->rc[1] = shd_store(cpu, UBASE + 8, 0x4a);
		step_set(&b->step, 5);
	}
	step_wait(cpu, &b->step, 5);
	return 0;
}

/*
 * cpu 0 (with 2 CPUs) or cpu 2 (with 3) does ROW->arg; munmap of it and a
 * mapped page runs with gen off, the others with gen on.  Reclaim deferred
 * the page either way; the row's access is cpu 1's load afterwards.
 */
static struct outcome pending_run(const struct fault_row *row, uint64_t faults)
{
	static const int store_rc[] = { -EFAULT, 0, -EACCES, -EFAULT };
	struct shd_config c = test_config(row->ncpus, "linux");
	struct shd_machine *m;
	struct outcome o;
	struct bt b = { .ncpus = row->ncpus, .op = row->arg };

	cr_assert_eq(shd_policy_set(&c.policy, "gen",
				    row->arg == OP_MUNMAP2 ? "off" : "on"), 0);
	c.faults = faults;
	m = test_machine(&c);
	b.m = m;
	b.mm = test_mm(m);
	cr_assert_eq(shd_run_on(m, 0, row->ncpus, pending_task, &b), 0);
	assert_tasks_ok();
	o = row_outcome(m, b.rc[0], b.v[0]);
	cr_assert_eq(o.stats.tlbbatch_pages, 1, "%s: reclaim deferred",
		     row->scenario);
	if (!faults)
		cr_assert_eq(b.rc[1], store_rc[row->arg], "%s: store %d",
			     row->scenario, b.rc[1]);
	shd_machine_destroy(m);
	return o;
}

/* flush_tlb_batched_pending() flushed cpu 1's entry: a fresh page, or a
 * fault. */
static void pending_flushed(const struct fault_row *row,
			    const struct outcome *o)
{
	cr_assert_eq(o->stats.batched_pending_flushes, 1, "%s", row->scenario);
}

/* Without it cpu 1 read its old frame through the stale entry, and the
 * oracle reported that entry. */
static void pending_skipped(const struct fault_row *row,
			    const struct outcome *o)
{
	const struct shd_violation *v = &o->first;

	cr_assert_eq(o->stats.batched_pending_flushes, 0, "%s", row->scenario);
	cr_assert_eq(v->kind, SHD_VIOLATION_STALE_TLB, "%s", v->text);
	cr_assert_eq(v->cpu, 1);
	cr_assert_eq(v->addr, UBASE + 8);
	cr_assert_str_eq(v->interface, "flush_tlb_range");
	cr_assert_lt(v->entry_version, v->flushed_version);
}

/* Clean, then with skip_batched_pending, each for 2 and 3 CPUs; LOAD_RC is
 * what cpu 1's load returns in the clean run (0: it reads a fresh page). */
#define PENDING_ROWS(op, what, load_rc)					\
	{ what " by cpu 0", pending_run, NULL, NULL,			\
	  SHD_FAULT_SKIP_BATCHED_PENDING, false, load_rc, 0, 0,		\
	  pending_flushed, 2, op },					\
	{ what " by cpu 0", pending_run, NULL, NULL,			\
	  SHD_FAULT_SKIP_BATCHED_PENDING, true, 0, 0x49, 1,		\
	  pending_skipped, 2, op },					\
	{ what " by cpu 2", pending_run, NULL, NULL,			\
	  SHD_FAULT_SKIP_BATCHED_PENDING, false, load_rc, 0, 0,		\
	  pending_flushed, 3, op },					\
	{ what " by cpu 2", pending_run, NULL, NULL,			\
	  SHD_FAULT_SKIP_BATCHED_PENDING, true, 0, 0x49, 1,		\
	  pending_skipped, 3, op }

static const struct fault_row munmap2_rows[] = {
	PENDING_ROWS(OP_MUNMAP2, "munmap of it and a mapped page", -EFAULT),
};
static const struct fault_row munmap_rows[] = {
	PENDING_ROWS(OP_MUNMAP, "munmap", -EFAULT),
};
static const struct fault_row madvise_rows[] = {
	PENDING_ROWS(OP_MADVISE, "madvise", 0),
};
static const struct fault_row mprotect_rows[] = {
	PENDING_ROWS(OP_MPROTECT, "mprotect", 0),
};

/*
 * The same munmap also zaps a mapped neighbour: its own flush (a page-by-
 * page one, with gen off) does not cover the reclaimed page, so only the
 * batched-pending flush removes cpu 1's entry, and the oracle must hold
 * the call to that even though it flushed something itself.
 */
TABLE_PARAMS(rmap, a_munmap_that_flushes_something_else_still_waits_for_the_batch,
	     munmap2_rows)
ParameterizedTest(const size_t *row, rmap,
		  a_munmap_that_flushes_something_else_still_waits_for_the_batch)
{
	check_fault_row(&munmap2_rows[*row]);
}

TABLE_PARAMS(rmap, munmap_waits_for_a_pending_batch, munmap_rows)
ParameterizedTest(const size_t *row, rmap, munmap_waits_for_a_pending_batch)
{
	check_fault_row(&munmap_rows[*row]);
}

TABLE_PARAMS(rmap, madvise_waits_for_a_pending_batch, madvise_rows)
ParameterizedTest(const size_t *row, rmap, madvise_waits_for_a_pending_batch)
{
	check_fault_row(&madvise_rows[*row]);
}

TABLE_PARAMS(rmap, mprotect_waits_for_a_pending_batch, mprotect_rows)
ParameterizedTest(const size_t *row, rmap, mprotect_waits_for_a_pending_batch)
{
	check_fault_row(&mprotect_rows[*row]);
}

/* ---- 7. bad input ---- */

static struct shd_cpu *stolen_cpu;

static int bad_input_task(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;
	uint64_t v = 1;

	stolen_cpu = cpu;
	T_OK(shd_switch_mm(cpu, b->mm));
	T_OK(shd_mmap(cpu, b->mm, UBASE, 4 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 7));
	T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + 8), -EINVAL);
	T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + 1), -EINVAL);
	T_EQ(shd_try_to_unmap(cpu, b->mm, KBASE), -EINVAL);
	T_EQ(shd_try_to_unmap(cpu, b->mm, SHD_USER_TOP), -EINVAL);
	T_EQ(shd_try_to_unmap(cpu, NULL, UBASE), -EINVAL);
	T_EQ(shd_try_to_unmap(cpu, b->mm2, UBASE), -EINVAL);	/* other machine */
	T_EQ(shd_try_to_unmap_flush(NULL), -EINVAL);
	/* Mapped, never touched; outside every mapping. */
	T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + PAGE), 0);
	T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + 64 * PAGE), 0);
	/* The zero page, after a read-only touch. */
	T_OK(shd_load(cpu, UBASE + 2 * PAGE, &v));
	T_EQ((int)v, 0);
	T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE + 2 * PAGE), 0);
	T_OK(shd_load(cpu, UBASE + 2 * PAGE, &v));
	T_EQ((int)v, 0);
	/* Nothing was unmapped: the touched page is intact. */
	T_OK(shd_load(cpu, UBASE, &v));
	T_EQ((int)v, 7);
	/* Nothing pending: the flush is a no-op. */
	T_OK(shd_try_to_unmap_flush(cpu));
	T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE), 1);
	T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE), 0);	/* already gone */
	T_OK(shd_load(cpu, UBASE, &v));
	T_EQ((int)v, 0);
	return 0;
}

Test(rmap, try_to_unmap_refuses_bad_input_and_other_threads)
{
	struct shd_machine *m = MACHINE(.ncpus = 2);
	struct shd_machine *other = MACHINE(.ncpus = 1);
	struct bt b = { .m = m, .ncpus = 2 };
	struct shd_stats st;

	b.mm = test_mm(m);
	b.mm2 = test_mm(other);
	run_one(m, 0, bad_input_task, &b);
	assert_tasks_ok();
	/* Not from a thread that is not the CPU's own. */
	cr_assert_eq(shd_try_to_unmap(stolen_cpu, b.mm, UBASE + 3 * PAGE), -EPERM);
	cr_assert_eq(shd_try_to_unmap_flush(stolen_cpu), -EPERM);
	st = test_stats(m);
	cr_assert_eq(st.reclaim_pages, 1);
	cr_assert_eq(st.violations, 0);
	shd_machine_destroy(other);
	shd_machine_destroy(m);
}

/* ---- x86 batching needs the switch-in check it relies on ---- */

/*
 * cpu 1 caches a writable translation of P in mm a, then runs mm b (a's
 * context stays in another ASID slot); cpu 0 reclaims P (deferred: cpu 2
 * runs a) and flushes its batch; cpu 1 switches back to a and loads P.
 * The x86 batch flush flushes only the context each CPU has loaded, and
 * counts on switch_mm() to catch the others up by tlb_gen.
 */
static int switch_away_task(struct shd_cpu *cpu, void *arg)
{
	struct bt *b = arg;

	switch (shd_cpu_id(cpu)) {
	case 0:
		T_OK(shd_switch_mm(cpu, b->mm));
		T_OK(shd_mmap(cpu, b->mm, UBASE, 2 * PAGE, RW));
		step_set(&b->step, 1);
		step_wait(cpu, &b->step, 2);
		step_wait(cpu, &b->ready, 1);	/* cpu 2 is in a */
		T_EQ(shd_try_to_unmap(cpu, b->mm, UBASE), 1);
		T_OK(shd_try_to_unmap_flush(cpu));
		step_set(&b->step, 3);
		break;
	case 1:
		step_wait(cpu, &b->step, 1);
		T_OK(shd_switch_mm(cpu, b->mm));
		T_OK(shd_store(cpu, UBASE + 8, 0x77));
		T_OK(shd_switch_mm(cpu, b->mm2));
		step_set(&b->step, 2);
		step_wait(cpu, &b->step, 3);
		T_OK(shd_switch_mm(cpu, b->mm));
		b->rc[0] = shd_load(cpu, UBASE + 8, &b->v[0]);
		step_set(&b->step, 4);
		break;
	default:
		/* Runs a: keeps cpu 0's reclaim deferred under pruning. */
		T_OK(shd_switch_mm(cpu, b->mm));
		arrive(&b->ready);
		break;
	}
	step_wait(cpu, &b->step, 4);
	return 0;
}

static void switch_away_check(const char *preset, const char *batch)
{
	struct shd_config c = test_config(3, preset);
	struct shd_machine *m = NULL;
	struct bt b = { .ncpus = 3 };
	struct shd_violation v;
	uint64_t n;
	int err;

	memset(&v, 0, sizeof(v));
	if ((err = shd_policy_set(&c.policy, "batch", batch)) == -EINVAL)
		return;		/* refusing the combination is fine too */
	cr_assert_eq(err, 0);
	if ((err = shd_machine_create(&c, &m)) == -EINVAL)
		return;
	cr_assert_eq(err, 0, "%s", shd_last_error());
	b.m = m;
	b.mm = test_mm(m);
	b.mm2 = test_mm(m);
	cr_assert_eq(shd_run_on(m, 0, 3, switch_away_task, &b), 0);
	assert_tasks_ok();
	n = shd_machine_violations(m, &v, 1);
	cr_assert_eq(test_stats(m).tlbbatch_pages, 1);
	cr_assert_eq(n, 0, "%s batch=%s: %s", preset, batch, v.text);
	cr_assert_eq(b.rc[0], 0);
	cr_assert_eq(b.v[0], 0, "%s batch=%s: read 0x%" PRIx64 " through the "
		     "reclaimed page's old translation", preset, batch, b.v[0]);
	shd_machine_destroy(m);
}

/*
 * Under broadcast with batch=x86, this was a BUG (runtime/tlbflush.c
 * flush_tlb_func(), case SHD_FLUSH_BATCH, now flush_tlb_batch_func(), with
 * policy/decide.h shd__policy_switch_flush()): under a policy that neither
 * prunes nor skips lazy CPUs (broadcast, or prune=off lazy=off) switch_mm()
 * never flushes a context it switches back to, because every flush is
 * supposed to reach every CPU and flush the mm's slot even when it is not
 * loaded (flush_tlb_func's "mm != cpu->loaded_mm" case).  The batch flush
 * flushes only the loaded context.  So with `--policy broadcast --set
 * batch=x86` cpu 1 comes back to a and reads 0x77 through its old
 * translation of the reclaimed page (whose frame was freed): the oracle
 * reports a stale hit on arch_tlbbatch_flush.  arm64 batching sends
 * ordinary per-page requests and is fine.  Either fix (flush every slot,
 * or refuse batch=x86 without prune or lazy) makes this pass.
 */
struct switch_away_row {
	char policy[16], batch[8];
};

ParameterizedTestParameters(rmap, a_cpu_that_switched_away_catches_up)
{
	static struct switch_away_row rows[] = {
		{ "linux", "x86" }, { "linux", "arm64" },
		{ "broadcast", "arm64" }, { "broadcast", "x86" },
	};

	return cr_make_param_array(struct switch_away_row, rows, ARRAY_LEN(rows));
}

ParameterizedTest(const struct switch_away_row *row, rmap,
		  a_cpu_that_switched_away_catches_up)
{
	switch_away_check(row->policy, row->batch);
}
