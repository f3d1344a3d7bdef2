/* SPDX-License-Identifier: MIT */
/* Tests of mmu_gather: a big unmap frees its pages in bounded batches. */
#include <inttypes.h>

#include "shd_test.h"

struct gather {
	struct shd_mm *mm;
	int step;
	int op;		/* BIG_MUNMAP, BIG_MADVISE or BIG_EXIT */
};

/* Two full gathers of 9,678 pages (7 + 19 x 509, Linux's x86-64 batch
 * geometry) and a part of a third. */
#define BIG		20000
#define BIG_FRAMES	20112

enum { BIG_MUNMAP, BIG_MADVISE, BIG_EXIT };

/* cpu 0 unmaps BIG touched pages while cpu 1 runs the mm with some of
 * them cached (for exit, cpu 1 has left the mm: exit_mmap needs no task). */
static int big_task(struct shd_cpu *cpu, void *arg)
{
	struct gather *b = arg;
	static const unsigned watched[] = { 0, 511, 512, 9677, 9678, 19999 };

	T_OK(shd_switch_mm(cpu, b->mm));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, b->mm, UBASE, BIG * PAGE, RW));
		for (unsigned i = 0; i < BIG; i++)
			T_OK(shd_store(cpu, page_va(i, 0), page_val(i, 0)));
		step_set(&b->step, 1);
		step_wait(cpu, &b->step, 2);
		switch (b->op) {
		case BIG_MUNMAP:
			T_OK(shd_munmap(cpu, b->mm, UBASE, BIG * PAGE));
			break;
		case BIG_MADVISE:
			T_OK(shd_madvise_dontneed(cpu, b->mm, UBASE, BIG * PAGE));
			break;
		case BIG_EXIT:
			T_OK(shd_switch_mm(cpu, NULL));
			T_OK(shd_mm_exit(cpu, b->mm));
			b->mm = NULL;
			break;
		}
		step_set(&b->step, 3);
		step_wait(cpu, &b->step, 4);
		return 0;
	}
	step_wait(cpu, &b->step, 1);
	for (unsigned i = 0; i < sizeof(watched) / sizeof(watched[0]); i++)
		T_LOAD(cpu, page_va(watched[i], 0), page_val(watched[i], 0));
	if (b->op == BIG_EXIT)
		T_OK(shd_switch_mm(cpu, NULL));
	step_set(&b->step, 2);
	step_wait(cpu, &b->step, 3);
	for (unsigned i = 0; b->op != BIG_EXIT &&
	     i < sizeof(watched) / sizeof(watched[0]); i++) {
		uint64_t v = 0xdeadbeef;
		int rc = shd_load(cpu, page_va(watched[i], 0), &v);

		if (b->op == BIG_MUNMAP) {
			T_EQ(rc, -EFAULT);
		} else {
			T_OK(rc);
			T_EQ((int)(v == 0), 1);
		}
	}
	step_set(&b->step, 4);
	return 0;
}

static void big_check(int op)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .nframes = BIG_FRAMES);
	struct gather b = { .op = op };
	struct shd_violation v;
	struct shd_stats st;
	uint64_t base;

	memset(&v, 0, sizeof(v));
	base = free_frames(m, BIG_FRAMES);
	b.mm = test_mm(m);
	cr_assert_eq(shd_run_on(m, 0, 2, big_task, &b), 0);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(shd_machine_violations(m, &v, 1), 0, "%s", v.text);
	cr_assert_geq(st.gather_batch_flushes, BIG / 9678, "op %d: %" PRIu64, op,
		      st.gather_batch_flushes);
	/* The madvised range reads as zero pages: no frames. */
	cr_assert_eq(free_frames(m, BIG_FRAMES), base, "op %d: frames lost", op);
	if (b.mm)
		shd_mm_destroy(b.mm);
	shd_machine_destroy(m);
}

/* One test each for munmap, madvise(DONTNEED) and exit. */
ParameterizedTestParameters(mmu_gather, a_big_unmap_flushes_in_bounded_batches)
{
	static int ops[] = { BIG_MUNMAP, BIG_MADVISE, BIG_EXIT };

	return cr_make_param_array(int, ops, ARRAY_LEN(ops));
}

ParameterizedTest(const int *op, mmu_gather,
		  a_big_unmap_flushes_in_bounded_batches)
{
	big_check(*op);
}
