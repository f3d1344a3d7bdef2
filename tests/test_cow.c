/* SPDX-License-Identifier: MIT */
/* Tests of files, file mappings, fork (dup_mmap) and copy-on-write. */
#include <inttypes.h>

#include "shd_test.h"


/*
 * Every scenario leaves its CPUs in init_mm (switch_mm(NULL)) before its task
 * returns, so no CPU holds an mm lazily: shd_mm_destroy() from the test
 * thread then frees the mm (and drops its frame references) at once, and the
 * next step can count frames and copies exactly.
 */
struct cow {
	struct shd_mm *a, *b, *c;
	struct shd_file *f;
	uint64_t npages;		/* frames of the machine */
	bool exit_child;		/* shd_mm_exit() it in the task */
	int step;
	int rc[16];
	uint64_t v[16];
};

/* A fresh machine: every frame but the zero page can be used. */
static uint64_t baseline_frames(struct shd_machine *m, uint64_t nframes)
{
	uint64_t n = free_frames(m, nframes);

	cr_assert(n == nframes || n == nframes - 1, "a fresh machine of %"
		  PRIu64 " frames has %" PRIu64 " free", nframes, n);
	/* Counting gave them all back. */
	cr_assert_eq(free_frames(m, nframes), n);
	return n;
}

/* ---- 1. bad input ---- */

static int bad_mmap_task(struct shd_cpu *cpu, void *arg)
{
	struct cow *s = arg;
	struct shd_mm *child = NULL;

	T_OK(shd_switch_mm(cpu, s->a));
	/* s->f has 4 pages. */
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, PAGE, RW, 2, s->f, 0), "flags");
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, PAGE, RW, SHD_MAP_SHARED | 4,
			       s->f, 0), "flags");
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, PAGE, RW, SHD_MAP_PRIVATE,
			       NULL, 0), "file");
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, 5 * PAGE, RW, SHD_MAP_SHARED,
			       s->f, 0), "file");
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, 2 * PAGE, RW, SHD_MAP_SHARED,
			       s->f, 3), "file");
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, PAGE, RW, SHD_MAP_PRIVATE,
			       s->f, 4), "file");
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, PAGE, RW, SHD_MAP_PRIVATE,
			       s->f, 5), "file");
	/* pgoff + pages wraps around to a small number. */
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, PAGE, RW, SHD_MAP_SHARED,
			       s->f, UINT64_MAX), "file");
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, 2 * PAGE, RW, SHD_MAP_SHARED,
			       s->f, UINT64_MAX), "file");
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, 4 * PAGE, RW, SHD_MAP_SHARED,
			       s->f, UINT64_MAX - 2), "file");
	/* Unaligned address or length, empty. */
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE + 8, PAGE, RW, SHD_MAP_SHARED,
			       s->f, 0), "align");
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, PAGE + 8, RW, SHD_MAP_SHARED,
			       s->f, 0), "align");
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, 0, RW, SHD_MAP_SHARED,
			       s->f, 0), "empty");
	T_EINVAL(shd_mmap_file(cpu, s->a, UBASE, PAGE, 8, SHD_MAP_SHARED,
			       s->f, 0), "prot");
	T_EINVAL(shd_mmap_file(cpu, NULL, UBASE, PAGE, RW, SHD_MAP_SHARED,
			       s->f, 0), "mm");
	/* fork */
	T_EINVAL(shd_mm_dup(cpu, s->a, NULL), "out");
	T_EINVAL(shd_mm_dup(cpu, NULL, &child), "mm");
	T_EQ((int)(child == NULL), 1);

	/* Nothing was half made: the edges of the file map fine. */
	T_OK(shd_mmap_file(cpu, s->a, UBASE, PAGE, RW, SHD_MAP_SHARED, s->f, 3));
	T_OK(shd_mmap_file(cpu, s->a, FAR, 4 * PAGE, RW, SHD_MAP_PRIVATE,
			   s->f, 0));
	T_EQ(shd_mmap_file(cpu, s->a, UBASE, PAGE, RW, SHD_MAP_SHARED, s->f, 0),
	     -EEXIST);
	T_LOAD(cpu, UBASE, 0);
	T_LOAD(cpu, FAR + 3 * PAGE, 0);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

Test(cow, bad_input_gives_einval)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .nframes = 64);
	struct shd_file *f = (struct shd_file *)&f;	/* not NULL */
	struct cow s = { 0 };

	cr_assert_eq(shd_file_create(m, 0, &f), -EINVAL);
	cr_assert_null(f, "*out is cleared on failure");
	cr_assert_str_not_empty(shd_last_error());
	cr_assert_eq(shd_file_create(m, 65, &f), -EINVAL);
	cr_assert_str_not_empty(shd_last_error());
	cr_assert_not_null(strstr(shd_last_error(), "65"), "'%s'",
			   shd_last_error());
	cr_assert_eq(shd_file_create(m, UINT64_MAX, &f), -EINVAL);
	cr_assert_eq(shd_file_create(m, 1, NULL), -EINVAL);
	cr_assert_str_not_empty(shd_last_error());
	cr_assert_eq(shd_file_create(NULL, 1, &f), -EINVAL);
	shd_file_destroy(NULL);

	/* As big as memory is fine (its pages are only used when touched). */
	f = test_file(m, 64);
	shd_file_destroy(f);

	s.f = test_file(m, 4);
	s.a = test_mm(m);
	run_one(m, 0, bad_mmap_task, &s);
	assert_tasks_ok();
	shd_mm_destroy(s.a);
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
}

/* ---- 2. private file mappings ---- */

static int private_file_task(struct shd_cpu *cpu, void *arg)
{
	struct cow *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap_file(cpu, s->a, UBASE, 2 * PAGE, RW, SHD_MAP_PRIVATE,
			   s->f, 1));
	T_LOAD(cpu, UBASE, 0);
	T_OK(shd_store(cpu, UBASE, 1));		/* copies the page */
	T_LOAD(cpu, UBASE, 1);
	T_OK(shd_store(cpu, UBASE + 8, 7));	/* our copy now: no copy */
	T_LOAD(cpu, UBASE + 8, 7);

	/* Another mm's private mapping of the same file page. */
	T_OK(shd_switch_mm(cpu, s->b));
	T_OK(shd_mmap_file(cpu, s->b, FAR, PAGE, RW, SHD_MAP_PRIVATE, s->f, 1));
	T_LOAD(cpu, FAR, 0);
	T_LOAD(cpu, FAR + 8, 0);

	/* Dropping the private copy shows the file again. */
	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_madvise_dontneed(cpu, s->a, UBASE, 2 * PAGE));
	T_LOAD(cpu, UBASE, 0);
	T_LOAD(cpu, UBASE + 8, 0);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

/* FN on one CPU with a file of FILE_PAGES and mms a, b: one copy, clean. */
static void one_copy_case(int (*fn)(struct shd_cpu *, void *),
			  uint64_t file_pages)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .nframes = 64);
	struct cow s = { 0 };
	struct shd_stats st;

	s.f = test_file(m, file_pages);
	s.a = test_mm(m);
	s.b = test_mm(m);
	run_one(m, 0, fn, &s);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.cow_copies, 1, "cow_copies %" PRIu64, st.cow_copies);
	cr_assert_eq(st.violations, 0);
	shd_mm_destroy(s.a);
	shd_mm_destroy(s.b);
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
}

Test(cow, a_private_file_mapping_copies_on_the_first_store)
{
	one_copy_case(private_file_task, 4);
}

/* ---- 3. shared file mappings ---- */

static int shared_file_task(struct shd_cpu *cpu, void *arg)
{
	struct cow *s = arg;

	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_switch_mm(cpu, s->a));
		T_OK(shd_mmap_file(cpu, s->a, UBASE, PAGE, RW, SHD_MAP_SHARED,
				   s->f, 2));
		T_OK(shd_store(cpu, UBASE, 1));
		step_set(&s->step, 1);
		step_wait(cpu, &s->step, 2);
		/* The data is in the page cache, not in our PTE. */
		T_OK(shd_madvise_dontneed(cpu, s->a, UBASE, PAGE));
		T_LOAD(cpu, UBASE, 1);
		T_OK(shd_store(cpu, UBASE, 2));
		step_set(&s->step, 3);
		step_wait(cpu, &s->step, 4);
		T_OK(shd_store(cpu, UBASE, 3));	/* c has its own copy now */
		step_set(&s->step, 5);
		step_wait(cpu, &s->step, 6);
	} else {
		T_OK(shd_switch_mm(cpu, s->b));
		T_OK(shd_mmap_file(cpu, s->b, FAR, 2 * PAGE, RW, SHD_MAP_SHARED,
				   s->f, 1));
		T_OK(shd_mmap_file(cpu, s->c, UBASE, PAGE, RW, SHD_MAP_PRIVATE,
				   s->f, 2));
		step_wait(cpu, &s->step, 1);
		T_LOAD(cpu, FAR + PAGE, 1);	/* file page 2 */
		T_LOAD(cpu, FAR, 0);		/* file page 1 */
		T_OK(shd_switch_mm(cpu, s->c));
		T_LOAD(cpu, UBASE, 1);		/* c reads the page cache */
		step_set(&s->step, 2);
		step_wait(cpu, &s->step, 3);
		T_LOAD(cpu, UBASE, 2);		/* ... and sees a's stores */
		T_OK(shd_store(cpu, UBASE, 0x99));	/* until it writes */
		T_LOAD(cpu, UBASE, 0x99);
		step_set(&s->step, 4);
		step_wait(cpu, &s->step, 5);
		T_LOAD(cpu, UBASE, 0x99);
		T_OK(shd_switch_mm(cpu, s->b));
		T_LOAD(cpu, FAR + PAGE, 3);	/* c's store stayed private */
		step_set(&s->step, 6);
	}
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

Test(cow, a_shared_file_mapping_shares_stores_through_the_page_cache)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .nframes = 64);
	struct cow s = { 0 };
	struct shd_stats st;

	s.f = test_file(m, 4);
	s.a = test_mm(m);
	s.b = test_mm(m);
	s.c = test_mm(m);
	cr_assert_eq(shd_run_on(m, 0, 2, shared_file_task, &s), 0);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.cow_copies, 1, "cow_copies %" PRIu64, st.cow_copies);
	cr_assert_eq(st.violations, 0);
	shd_mm_destroy(s.a);
	shd_mm_destroy(s.b);
	shd_mm_destroy(s.c);
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
}

/* ---- 4. lifetimes: a file outlives its creator while mapped; no leaks ---- */

static int outlive_map(struct shd_cpu *cpu, void *arg)
{
	struct cow *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap_file(cpu, s->a, UBASE, 4 * PAGE, RW, SHD_MAP_SHARED,
			   s->f, 0));
	for (uint64_t i = 0; i < 4; i++)
		T_OK(shd_store(cpu, UBASE + i * PAGE, 0x100 + i));
	T_OK(shd_switch_mm(cpu, s->b));
	T_OK(shd_mmap_file(cpu, s->b, UBASE, 4 * PAGE, RW, SHD_MAP_PRIVATE,
			   s->f, 0));
	T_LOAD(cpu, UBASE + PAGE, 0x101);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static int outlive_use(struct shd_cpu *cpu, void *arg)
{
	struct cow *s = arg;

	/* The file is gone; its pages are still mapped and still shared. */
	T_OK(shd_switch_mm(cpu, s->a));
	for (uint64_t i = 0; i < 4; i++)
		T_LOAD(cpu, UBASE + i * PAGE, 0x100 + i);
	T_OK(shd_store(cpu, UBASE + 2 * PAGE, 0x202));
	/* Our PTE goes; the page cache (kept by the VMA) still has it. */
	T_OK(shd_madvise_dontneed(cpu, s->a, UBASE + 3 * PAGE, PAGE));
	T_LOAD(cpu, UBASE + 3 * PAGE, 0x103);
	T_OK(shd_switch_mm(cpu, s->b));
	T_LOAD(cpu, UBASE + 2 * PAGE, 0x202);	/* page cache, via b */
	T_OK(shd_store(cpu, UBASE, 0x300));	/* b's copy */
	T_LOAD(cpu, UBASE, 0x300);
	T_OK(shd_switch_mm(cpu, s->a));
	T_LOAD(cpu, UBASE, 0x100);
	T_OK(shd_munmap(cpu, s->a, UBASE, 4 * PAGE));
	T_OK(shd_switch_mm(cpu, s->b));
	T_LOAD(cpu, UBASE + 3 * PAGE, 0x103);	/* b still holds the file */
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

Test(cow, a_destroyed_file_lives_while_mapped_and_then_frees_its_pages)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .nframes = 64);
	struct cow s = { 0 };

	uint64_t nfree = baseline_frames(m, 64);

	s.f = test_file(m, 4);
	s.a = test_mm(m);
	s.b = test_mm(m);
	run_one(m, 0, outlive_map, &s);
	assert_tasks_ok();
	shd_file_destroy(s.f);
	run_one(m, 0, outlive_use, &s);
	assert_tasks_ok();
	cr_assert_eq(test_stats(m).violations, 0);
	shd_mm_destroy(s.a);
	shd_mm_destroy(s.b);
	cr_assert_eq(free_frames(m, 64), nfree, "frames leaked after munmap "
		     "and destroy");
	shd_machine_destroy(m);
}

/* A parent with anonymous, private-file and shared-file pages forks; the
 * child writes all of them, the parent some; all goes away each round. */
static int cycle_task(struct shd_cpu *cpu, void *arg)
{
	struct cow *s = arg;
	const uint64_t file_at = FAR, priv_at = FAR + 8 * PAGE;

	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap_file(cpu, s->a, file_at, 4 * PAGE, RW, SHD_MAP_SHARED,
			   s->f, 0));
	T_OK(shd_mmap_file(cpu, s->a, priv_at, 4 * PAGE, RW, SHD_MAP_PRIVATE,
			   s->f, 0));
	for (uint64_t i = 0; i < 4; i++) {
		T_OK(shd_store(cpu, file_at + i * PAGE, i));
		T_LOAD(cpu, priv_at + i * PAGE, i);
	}
	T_OK(shd_store(cpu, priv_at, 0x55));	/* one private copy */
	T_OK(shd_mm_dup(cpu, s->a, &s->b));
	T_OK(shd_switch_mm(cpu, s->b));
	for (uint64_t i = 0; i < 8; i++)
		T_OK(shd_store(cpu, UBASE + i * PAGE, 0xc0 + i));
	for (uint64_t i = 0; i < 4; i++) {
		T_OK(shd_store(cpu, file_at + i * PAGE, 0xf0 + i));
		T_OK(shd_store(cpu, priv_at + i * PAGE, 0xe0 + i));
	}
	T_OK(shd_switch_mm(cpu, s->a));
	for (uint64_t i = 0; i < 8; i += 2)
		T_OK(shd_store(cpu, UBASE + i * PAGE, 0xa0 + i));
	T_LOAD(cpu, UBASE + PAGE, 0x11);
	T_LOAD(cpu, file_at + 3 * PAGE, 0xf3);	/* the child's shared store */
	T_LOAD(cpu, priv_at, 0x55);
	T_LOAD(cpu, priv_at + PAGE, 0xf1);	/* page cache, not the child's */
	T_OK(shd_munmap(cpu, s->a, file_at, 12 * PAGE));
	if (s->exit_child) {
		T_OK(shd_mm_exit(cpu, s->b));
		s->b = NULL;
	}
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static int cycle_setup(struct shd_cpu *cpu, void *arg)
{
	struct cow *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap(cpu, s->a, UBASE, 8 * PAGE, RW));
	for (uint64_t i = 0; i < 8; i++)
		T_OK(shd_store(cpu, UBASE + i * PAGE, 0x10 + i));
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static void fork_file_cycles(bool exit_child)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .nframes = 64);
	struct cow s = { .exit_child = exit_child };
	struct shd_stats st;
	uint64_t nfree = baseline_frames(m, 64);

	shd_machine_stats_reset(m);
	s.a = test_mm(m);
	run_one(m, 0, cycle_setup, &s);
	assert_tasks_ok();
	for (int round = 0; round < 50; round++) {
		s.f = test_file(m, 4);
		s.b = NULL;
		run_one(m, 0, cycle_task, &s);
		cr_assert_eq(task_failures.n, 0, "round %d: %s", round,
			     task_failures.first);
		shd_file_destroy(s.f);
		shd_mm_destroy(s.b);
	}
	st = test_stats(m);
	/* Per round: 1 private file copy before the fork; in the child 8
	 * anonymous + 4 private (the one copied before the fork is shared
	 * with the parent, the other 3 are page cache); the parent's 4
	 * anonymous stores then find their pages unshared (reuse). */
	cr_assert_eq(st.cow_copies, 50 * (1 + 8 + 4), "cow_copies %" PRIu64,
		     st.cow_copies);
	cr_assert_eq(st.violations, 0);
	shd_mm_destroy(s.a);
	cr_assert_eq(free_frames(m, 64), nfree, "frames leaked over 50 rounds");
	shd_machine_destroy(m);
}

Test(cow, repeated_fork_cow_and_file_cycles_leak_no_frames, .timeout = 60)
{
	fork_file_cycles(false);
}

/* The same with the child torn down by exit_mmap on the CPU. */
Test(cow, repeated_fork_and_exit_cycles_leak_no_frames, .timeout = 60)
{
	fork_file_cycles(true);
}

/* ---- 5. fork: each side keeps its own values ---- */

struct fork_order {
	struct cow s;
	bool child_first;
	bool exit_child;	/* shd_mm_exit() instead of shd_mm_destroy() */
};

static int fork_task(struct shd_cpu *cpu, void *arg)
{
	struct fork_order *o = arg;
	struct cow *s = &o->s;

	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap(cpu, s->a, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_store(cpu, UBASE + PAGE, 0x51));
	T_OK(shd_mm_dup(cpu, s->a, &s->b));
	T_OK(shd_switch_mm(cpu, s->b));
	T_LOAD(cpu, UBASE, 1);
	T_LOAD(cpu, UBASE + PAGE, 0x51);
	if (o->child_first) {
		T_OK(shd_store(cpu, UBASE, 2));		/* copies */
		T_LOAD(cpu, UBASE, 2);
		T_OK(shd_switch_mm(cpu, s->a));
		T_LOAD(cpu, UBASE, 1);
		T_OK(shd_store(cpu, UBASE, 3));		/* ours alone: reuse */
		T_LOAD(cpu, UBASE, 3);
		T_OK(shd_switch_mm(cpu, s->b));
		T_LOAD(cpu, UBASE, 2);
	} else {
		T_OK(shd_switch_mm(cpu, s->a));
		T_OK(shd_store(cpu, UBASE, 3));		/* copies */
		T_LOAD(cpu, UBASE, 3);
		T_OK(shd_switch_mm(cpu, s->b));
		T_LOAD(cpu, UBASE, 1);
		T_OK(shd_store(cpu, UBASE, 2));		/* ours alone: reuse */
		T_LOAD(cpu, UBASE, 2);
		T_OK(shd_switch_mm(cpu, s->a));
		T_LOAD(cpu, UBASE, 3);
		T_OK(shd_switch_mm(cpu, s->b));
	}
	T_LOAD(cpu, UBASE + PAGE, 0x51);		/* still shared */
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static int after_child_task(struct shd_cpu *cpu, void *arg)
{
	struct fork_order *o = arg;
	struct cow *s = &o->s;

	if (o->exit_child) {
		T_OK(shd_mm_exit(cpu, s->b));	/* gives its pages back now */
		s->b = NULL;
	}
	T_OK(shd_switch_mm(cpu, s->a));
	T_LOAD(cpu, UBASE + PAGE, 0x51);
	T_OK(shd_store(cpu, UBASE + PAGE, 0x52));	/* no longer shared */
	T_LOAD(cpu, UBASE + PAGE, 0x52);
	T_LOAD(cpu, UBASE, 3);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static void fork_semantics(bool child_first, bool exit_child)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .nframes = 64);
	struct fork_order o = { .child_first = child_first,
				.exit_child = exit_child };
	struct shd_stats st;

	o.s.a = test_mm(m);
	run_one(m, 0, fork_task, &o);
	assert_tasks_ok();
	cr_assert_not_null(o.s.b);
	st = test_stats(m);
	cr_assert_eq(st.cow_copies, 1, "%s first: cow_copies %" PRIu64,
		     child_first ? "child" : "parent", st.cow_copies);
	cr_assert_eq(st.violations, 0);
	if (!exit_child)
		shd_mm_destroy(o.s.b);
	run_one(m, 0, after_child_task, &o);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.cow_copies, 1, "%s first: the parent's store after the "
		     "child went copied: cow_copies %" PRIu64,
		     child_first ? "child" : "parent", st.cow_copies);
	cr_assert_eq(st.violations, 0);
	shd_mm_destroy(o.s.a);
	shd_machine_destroy(m);
}

Test(cow, fork_child_writes_first)
{
	fork_semantics(true, false);
}

Test(cow, fork_parent_writes_first)
{
	fork_semantics(false, false);
}

Test(cow, fork_a_child_that_exits_leaves_the_parent_its_pages)
{
	fork_semantics(true, true);
}

/* ---- 6. fork write-protects the parent on every CPU that runs it ---- */

static int fork_under_a_writer(struct shd_cpu *cpu, void *arg)
{
	struct cow *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, s->a, UBASE, 2 * PAGE, RW));
		step_set(&s->step, 1);
		step_wait(cpu, &s->step, 2);
		s->rc[0] = shd_mm_dup(cpu, s->a, &s->b);
		/* Leave the parent: its later flushes are not ours to count. */
		T_OK(shd_switch_mm(cpu, s->b));
		step_set(&s->step, 3);
		step_wait(cpu, &s->step, 4);
		s->rc[1] = shd_load(cpu, UBASE, &s->v[1]);	/* the child */
		step_set(&s->step, 5);
	} else {
		step_wait(cpu, &s->step, 1);
		T_OK(shd_store(cpu, UBASE, 0x11));	/* a writable entry */
		T_LOAD(cpu, UBASE, 0x11);
		step_set(&s->step, 2);
		step_wait(cpu, &s->step, 3);
		s->rc[2] = shd_store(cpu, UBASE, 0x22);
		s->rc[3] = shd_load(cpu, UBASE, &s->v[3]);
		step_set(&s->step, 4);
		step_wait(cpu, &s->step, 5);
	}
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

/* The child's read (rc[1], v[1]) is the row's access; cpu 1's store after
 * the fork and its read back (v[3]) work with or without the fault. */
static struct outcome fork_writer(const struct fault_row *row, uint64_t faults)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .nframes = 64,
					.policy = row->policy, .arch = row->arch,
					.faults = faults);
	struct outcome o;
	struct cow s = { 0 };

	s.a = test_mm(m);
	cr_assert_eq(shd_run_on(m, 0, 2, fork_under_a_writer, &s), 0);
	assert_tasks_ok();
	o = row_outcome(m, s.rc[1], s.v[1]);
	cr_assert_eq(s.rc[0], 0, "fork: %d", s.rc[0]);
	cr_assert_eq(s.rc[1], 0);
	cr_assert_eq(s.rc[2], 0);
	cr_assert_eq(s.rc[3], 0);
	cr_assert_eq(s.v[3], 0x22);
	shd_mm_destroy(s.b);
	shd_mm_destroy(s.a);
	shd_machine_destroy(m);
	return o;
}

/* The fork flushed cpu 1's writable entry: its store copied. */
static void fork_flushed(const struct fault_row *row, const struct outcome *o)
{
	(void)row;
	cr_assert_geq(o->stats.ipis_sent, 1, "the fork sent no IPI to cpu 1");
	cr_assert_geq(o->stats.ipi_requests, 1);
	cr_assert_eq(o->stats.cow_copies, 1, "cpu 1's store after the fork did "
		     "not copy: cow_copies %" PRIu64, o->stats.cow_copies);
}

/* The stale writable entry was used: the write reached the child. */
static void fork_did_not_copy(const struct fault_row *row,
			      const struct outcome *o)
{
	(void)row;
	cr_assert_eq(o->stats.cow_copies, 0);
}

static const struct fault_row fork_writer_rows[] = {
	{ "fork under a writer", fork_writer, NULL, NULL,
	  SHD_FAULT_SKIP_REMOTE_IPI, false, 0, 0x11, 0, fork_flushed, 0, 0 },
	{ "fork under a writer", fork_writer, NULL, NULL,
	  SHD_FAULT_SKIP_REMOTE_IPI, true, 0, 0x22, 1, fork_did_not_copy, 0, 0 },
};

/* Row 0 was fork_flushes_the_parents_writable_entries_on_other_cpus, row 1
 * the_oracle_catches_a_fork_that_skips_the_remote_flush. */
TABLE_PARAMS(cow, fork_flushes_the_parents_writable_entries_on_other_cpus,
	     fork_writer_rows)
ParameterizedTest(const size_t *row, cow,
		  fork_flushes_the_parents_writable_entries_on_other_cpus)
{
	check_fault_row(&fork_writer_rows[*row]);
}

/* ---- 7. mprotect does not make a copy-on-write page writable ---- */

static int mprotect_after_fork(struct shd_cpu *cpu, void *arg)
{
	struct cow *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap(cpu, s->a, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_mm_dup(cpu, s->a, &s->b));
	T_OK(shd_mprotect(cpu, s->a, UBASE, PAGE, SHD_PROT_READ));
	T_EQ(shd_store(cpu, UBASE, 9), -EACCES);
	T_OK(shd_mprotect(cpu, s->a, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 2));		/* must copy */
	T_LOAD(cpu, UBASE, 2);
	T_OK(shd_switch_mm(cpu, s->b));
	T_LOAD(cpu, UBASE, 1);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

Test(cow, mprotect_rw_does_not_make_a_page_shared_with_a_child_writable)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .nframes = 64);
	struct cow s = { 0 };
	struct shd_stats st;

	s.a = test_mm(m);
	run_one(m, 0, mprotect_after_fork, &s);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.cow_copies, 1, "cow_copies %" PRIu64, st.cow_copies);
	cr_assert_eq(st.violations, 0);
	shd_mm_destroy(s.b);
	shd_mm_destroy(s.a);
	shd_machine_destroy(m);
}

static int mprotect_private_file(struct shd_cpu *cpu, void *arg)
{
	struct cow *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap_file(cpu, s->a, UBASE, PAGE, RW, SHD_MAP_PRIVATE, s->f, 0));
	T_LOAD(cpu, UBASE, 0);			/* maps the page cache */
	T_OK(shd_mprotect(cpu, s->a, UBASE, PAGE, SHD_PROT_READ));
	T_OK(shd_mprotect(cpu, s->a, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 5));		/* must copy */
	T_LOAD(cpu, UBASE, 5);
	T_OK(shd_switch_mm(cpu, s->b));
	T_OK(shd_mmap_file(cpu, s->b, UBASE, PAGE, SHD_PROT_READ,
			   SHD_MAP_SHARED, s->f, 0));
	T_LOAD(cpu, UBASE, 0);			/* the file is untouched */
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

Test(cow, mprotect_rw_does_not_make_a_private_file_page_writable)
{
	one_copy_case(mprotect_private_file, 1);
}

/* ---- reclaim drops anonymous data and private copies, not the page cache ---- */

#define FBASE	(UBASE + 0x100000ull)	/* shared file mapping */
#define PBASE	(UBASE + 0x200000ull)	/* private file mapping */

static int file_reclaim_task(struct shd_cpu *cpu, void *arg)
{
	struct cow *s = arg;
	struct shd_file *f = s->f;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap(cpu, s->a, UBASE, PAGE, RW));
	T_OK(shd_mmap_file(cpu, s->a, FBASE, PAGE, RW, SHD_MAP_SHARED, f, 0));
	T_OK(shd_mmap_file(cpu, s->a, PBASE, PAGE, RW, SHD_MAP_PRIVATE, f, 1));
	T_OK(shd_store(cpu, UBASE, 0x11));
	T_OK(shd_store(cpu, FBASE, 0x22));	/* into the page cache */
	T_OK(shd_store(cpu, PBASE, 0x33));	/* a private copy */
	T_EQ(shd_try_to_unmap(cpu, s->a, UBASE), 1);
	T_EQ(shd_try_to_unmap(cpu, s->a, FBASE), 1);
	T_EQ(shd_try_to_unmap(cpu, s->a, PBASE), 1);
	T_OK(shd_try_to_unmap_flush(cpu));
	T_OK(shd_load(cpu, UBASE, &v));
	T_EQ((int)v, 0);
	T_OK(shd_load(cpu, FBASE, &v));
	T_EQ((int)v, 0x22);
	T_OK(shd_load(cpu, PBASE, &v));
	T_EQ((int)v, 0);		/* the file's page again */
	/* The private mapping's read-only page-cache page can go too. */
	T_EQ(shd_try_to_unmap(cpu, s->a, PBASE), 1);
	T_OK(shd_store(cpu, PBASE, 0x44));
	T_OK(shd_load(cpu, PBASE, &v));
	T_EQ((int)v, 0x44);
	T_OK(shd_load(cpu, FBASE, &v));
	T_EQ((int)v, 0x22);
	return 0;
}

Test(cow, reclaim_drops_anonymous_and_private_data_but_not_the_page_cache)
{
	struct shd_machine *m = MACHINE(.ncpus = 2);
	struct cow s = { 0 };
	struct shd_file *f = NULL;

	cr_assert_eq(shd_file_create(m, 2, &f), 0, "%s", shd_last_error());
	s.a = test_mm(m);
	s.f = f;
	run_one(m, 0, file_reclaim_task, &s);
	assert_tasks_ok();
	cr_assert_eq(test_stats(m).violations, 0);
	cr_assert_eq(test_stats(m).reclaim_pages, 4);
	shd_file_destroy(f);
	shd_machine_destroy(m);
}
