/* SPDX-License-Identifier: MIT */
/* Tests of running out of simulated frames: copy-on-write, fork, page-cache fill, flush_dcache_page. */
#include <inttypes.h>

#include "shd_test.h"

/*
 * A hog mm takes every free frame (stores until -ENOMEM), so the next
 * allocation of the path under test fails; giving one frame back lets the
 * same call succeed.  Each failing call must return -ENOMEM and change
 * nothing: the mm reads what it read before, the oracle reports nothing,
 * and once every mm and file is gone the machine has as many free frames
 * as it had fresh.  Page tables are host memory, not frames: fork needs
 * none, its copies are what run out.  One CPU, and every task ends in
 * init_mm, so shd_mm_destroy() from the test thread frees at once.
 */
#define NFRAMES	48
#define HOG	(UBASE + 0x8000000ull)		/* the hog's window */

struct oom {
	struct shd_mm *a, *b, *hog;
	struct shd_file *f;
	bool hog_mapped;
	uint64_t hogged;	/* frames the hog holds */
};

/* Take every free frame into O->hog; the CPU ends in BACK. */
static void hog_all(struct shd_cpu *cpu, struct oom *o, struct shd_mm *back)
{
	uint64_t i;
	int rc = 0;

	T_OK(shd_switch_mm(cpu, o->hog));
	if (!o->hog_mapped) {
		T_OK(shd_mmap(cpu, o->hog, HOG, (NFRAMES + 1) * PAGE, RW));
		o->hog_mapped = true;
	}
	for (i = 0; i <= NFRAMES; i++)
		if ((rc = shd_store(cpu, HOG + i * PAGE, 1)) != 0)
			break;
	T_EQ(rc, -ENOMEM);
	o->hogged = i;
	T_OK(shd_switch_mm(cpu, back));
}

/* Give the hog's last frame back; the CPU ends in BACK. */
static void hog_release_one(struct shd_cpu *cpu, struct oom *o,
			    struct shd_mm *back)
{
	T_OK(shd_switch_mm(cpu, o->hog));
	T_OK(shd_madvise_dontneed(cpu, o->hog, HOG + (o->hogged - 1) * PAGE,
				  PAGE));
	o->hogged--;
	T_OK(shd_switch_mm(cpu, back));
}

static uint64_t fresh_frames(struct shd_machine *m)
{
	uint64_t n = free_frames(m, NFRAMES);

	cr_assert(n == NFRAMES || n == NFRAMES - 1, "a fresh machine of %u "
		  "frames has %" PRIu64 " free", NFRAMES, n);
	return n;
}

/* Tear down, then every frame is back and nothing was reported. */
static void assert_nothing_lost(struct shd_machine *m, struct oom *o,
				uint64_t fresh)
{
	struct shd_stats st = test_stats(m);

	cr_assert_eq(st.violations, 0);
	shd_mm_destroy(o->a);
	if (o->b)
		shd_mm_destroy(o->b);
	shd_mm_destroy(o->hog);
	if (o->f)
		shd_file_destroy(o->f);
	uint64_t after = free_frames(m, NFRAMES);

	cr_assert_eq(after, fresh, "frames leaked or freed twice: %" PRIu64
		     " free after teardown, %" PRIu64 " fresh", after, fresh);
}

/* ---- copy-on-write after fork ---- */

static int fork_cow_task(struct shd_cpu *cpu, void *arg)
{
	struct oom *o = arg;
	struct shd_mm *child = NULL;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, 4 * PAGE, RW));
	for (unsigned i = 0; i < 4; i++)
		T_OK(shd_store(cpu, UBASE + i * PAGE, 0x10 + i));
	hog_all(cpu, o, o->a);

	/* fork shares every frame: it needs none. */
	T_OK(shd_mm_dup(cpu, o->a, &child));
	o->b = child;
	if (!child)
		return 0;

	/* The first store on either side must copy: no frame for it. */
	T_EQ(shd_store(cpu, UBASE, 0x99), -ENOMEM);
	T_LOAD(cpu, UBASE, 0x10);
	T_OK(shd_switch_mm(cpu, child));
	T_EQ(shd_store(cpu, UBASE + PAGE, 0x98), -ENOMEM);
	T_LOAD(cpu, UBASE + PAGE, 0x11);
	T_LOAD(cpu, UBASE, 0x10);

	/* A second fork, of the child, still needs none. */
	struct shd_mm *grandchild = NULL;

	T_OK(shd_mm_dup(cpu, child, &grandchild));
	if (grandchild) {
		T_OK(shd_switch_mm(cpu, grandchild));
		T_EQ(shd_store(cpu, UBASE + 2 * PAGE, 0x97), -ENOMEM);
		T_LOAD(cpu, UBASE + 2 * PAGE, 0x12);
		T_OK(shd_switch_mm(cpu, NULL));
		shd_mm_destroy(grandchild);
	}

	/* One frame back: the child's copy is made, the parent keeps its. */
	hog_release_one(cpu, o, child);
	T_OK(shd_store(cpu, UBASE + PAGE, 0x98));
	T_LOAD(cpu, UBASE + PAGE, 0x98);
	T_EQ(shd_store(cpu, UBASE, 0x96), -ENOMEM);	/* and no more */
	T_OK(shd_switch_mm(cpu, o->a));
	T_LOAD(cpu, UBASE + PAGE, 0x11);
	T_LOAD(cpu, UBASE, 0x10);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

Test(frames, copy_on_write_after_fork_fails_with_enomem_and_loses_nothing)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .nframes = NFRAMES);
	uint64_t fresh = fresh_frames(m);
	struct oom o = { 0 };
	struct shd_stats st;

	o.a = test_mm(m);
	o.hog = test_mm(m);
	run_one(m, 0, fork_cow_task, &o);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.cow_copies, 1, "only the copy that had a frame: %"
		     PRIu64, st.cow_copies);
	assert_nothing_lost(m, &o, fresh);
	shd_machine_destroy(m);
}

/* ---- copy-on-write of a private file mapping ---- */

/* Page 0 mapped and read (a store copies it: wp_fault), page 1 cached but
 * not mapped (a store faults and copies it: do_cow_fault), page 2 not
 * cached (nothing to copy from). */
static int private_file_task(struct shd_cpu *cpu, void *arg)
{
	struct oom *o = arg;
	uint64_t v = 0, fv = 0;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap_file(cpu, o->a, UBASE, 3 * PAGE, RW, SHD_MAP_PRIVATE,
			   o->f, 0));
	T_OK(shd_file_write(cpu, o->f, 0, 0x55));
	T_OK(shd_file_write(cpu, o->f, PAGE, 0x56));
	T_LOAD(cpu, UBASE, 0x55);
	hog_all(cpu, o, o->a);

	T_EQ(shd_store(cpu, UBASE, 0x66), -ENOMEM);
	T_LOAD(cpu, UBASE, 0x55);
	T_EQ(shd_store(cpu, UBASE + PAGE, 0x67), -ENOMEM);
	T_LOAD(cpu, UBASE + PAGE, 0x56);	/* maps the cached page */
	T_EQ(shd_load(cpu, UBASE + 2 * PAGE, &v), -ENOMEM);
	T_EQ(shd_store(cpu, UBASE + 2 * PAGE, 0x68), -ENOMEM);

	hog_release_one(cpu, o, o->a);
	T_OK(shd_store(cpu, UBASE, 0x66));
	T_LOAD(cpu, UBASE, 0x66);
	T_EQ(shd_store(cpu, UBASE + PAGE, 0x67), -ENOMEM);
	T_OK(shd_file_read(cpu, o->f, 0, &fv));		/* the file kept its */
	T_EQ((int)(fv == 0x55), 1);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

/* The same do_cow_fault() path with page 1 never read through the mapping:
 * the store finds the page cache's page, takes a reference, and has no
 * frame for the copy. */
static int private_file_unmapped_task(struct shd_cpu *cpu, void *arg)
{
	struct oom *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap_file(cpu, o->a, UBASE, 3 * PAGE, RW, SHD_MAP_PRIVATE,
			   o->f, 0));
	T_OK(shd_file_write(cpu, o->f, PAGE, 0x56));
	hog_all(cpu, o, o->a);
	for (unsigned i = 0; i < 4; i++)
		T_EQ(shd_store(cpu, UBASE + PAGE, 0x67), -ENOMEM);
	hog_release_one(cpu, o, o->a);
	T_OK(shd_store(cpu, UBASE + PAGE, 0x67));
	T_LOAD(cpu, UBASE + PAGE, 0x67);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

Test(frames, a_private_file_copy_fails_with_enomem_and_loses_nothing)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .nframes = NFRAMES);
	uint64_t fresh = fresh_frames(m);
	struct oom o = { 0 };

	o.a = test_mm(m);
	o.hog = test_mm(m);
	o.f = test_file(m, 3);
	run_one(m, 0, private_file_task, &o);
	assert_tasks_ok();
	cr_assert_eq(test_stats(m).cow_copies, 1);
	assert_nothing_lost(m, &o, fresh);
	shd_machine_destroy(m);
}

Test(frames, a_private_file_fault_without_a_frame_drops_its_page_reference)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .nframes = NFRAMES);
	uint64_t fresh = fresh_frames(m);
	struct oom o = { 0 };

	o.a = test_mm(m);
	o.hog = test_mm(m);
	o.f = test_file(m, 3);
	run_one(m, 0, private_file_unmapped_task, &o);
	assert_tasks_ok();
	cr_assert_eq(test_stats(m).cow_copies, 1);
	assert_nothing_lost(m, &o, fresh);
	shd_machine_destroy(m);
}

/* ---- page-cache fill and flush_dcache_page, on each cache model ---- */

static int pagecache_task(struct shd_cpu *cpu, void *arg)
{
	struct oom *o = arg;
	uint64_t v = 0xdead;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap_file(cpu, o->a, UBASE, 4 * PAGE, RW, SHD_MAP_SHARED,
			   o->f, 0));
	T_OK(shd_store(cpu, UBASE + 3 * PAGE, 0x33));	/* page 3 cached */
	hog_all(cpu, o, o->a);

	/* No page of 0..2 can come into the page cache, by any path. */
	T_EQ(shd_file_write(cpu, o->f, 0, 0x11), -ENOMEM);
	T_EQ(shd_file_read(cpu, o->f, PAGE, &v), -ENOMEM);
	T_EQ((int)(v == 0xdead), 1);
	T_EQ(shd_load(cpu, UBASE + 2 * PAGE, &v), -ENOMEM);
	T_EQ(shd_store(cpu, UBASE + 2 * PAGE, 0x22), -ENOMEM);
	T_EQ(shd_flush_dcache_page(cpu, o->f, 1), -ENOMEM);
	T_EQ(shd_flush_dcache_folio(cpu, o->f, 0, 3), -ENOMEM);
	/* The cached page needs no frame. */
	T_OK(shd_flush_dcache_page(cpu, o->f, 3));
	T_OK(shd_file_write(cpu, o->f, 3 * PAGE + 8, 0x34));
	T_LOAD(cpu, UBASE + 3 * PAGE, 0x33);
	T_LOAD(cpu, UBASE + 3 * PAGE + 8, 0x34);

	/* One frame back: page 0 fills, and is the only one that can. */
	hog_release_one(cpu, o, o->a);
	T_OK(shd_file_write(cpu, o->f, 0, 0x11));
	T_LOAD(cpu, UBASE, 0x11);
	T_OK(shd_flush_dcache_page(cpu, o->f, 0));
	T_EQ(shd_flush_dcache_page(cpu, o->f, 1), -ENOMEM);
	T_EQ(shd_file_read(cpu, o->f, 2 * PAGE, &v), -ENOMEM);
	T_OK(shd_file_read(cpu, o->f, 0, &v));
	T_EQ((int)(v == 0x11), 1);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

ARCH_PARAMS(frames, a_page_cache_fill_fails_with_enomem_and_loses_nothing)
ParameterizedTest(const struct preset_param *arch, frames,
		  a_page_cache_fill_fails_with_enomem_and_loses_nothing)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .nframes = NFRAMES,
					.arch = arch->name);
	uint64_t fresh = fresh_frames(m);
	struct oom o = { 0 };

	o.a = test_mm(m);
	o.hog = test_mm(m);
	o.f = test_file(m, 4);
	run_one(m, 0, pagecache_task, &o);
	assert_tasks_ok();
	assert_nothing_lost(m, &o, fresh);
	shd_machine_destroy(m);
}

/* ---- the kernel's paths: a ptrace poke (get_user_pages), kmap ---- */

static int ptrace_kmap_task(struct shd_cpu *cpu, void *arg)
{
	struct oom *o = arg;
	struct shd_mm *child = NULL;
	uint64_t v = 0, kva = 0;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 0x41));
	T_OK(shd_mmap_file(cpu, o->a, FAR, 2 * PAGE, SHD_PROT_READ,
			   SHD_MAP_PRIVATE, o->f, 0));
	T_OK(shd_file_write(cpu, o->f, 0, 0x42));
	T_LOAD(cpu, FAR, 0x42);
	T_OK(shd_mm_dup(cpu, o->a, &child));
	o->b = child;
	hog_all(cpu, o, NULL);

	/* A poke copies a shared page (the child's COW, the file's page
	 * under a read-only private mapping) or fills an empty one: none
	 * has a frame.  A peek needs none where a page is. */
	T_EQ(shd_ptrace_poke(cpu, child, UBASE, 0x51), -ENOMEM);
	T_EQ(shd_ptrace_poke(cpu, o->a, FAR, 0x52), -ENOMEM);
	T_EQ(shd_ptrace_poke(cpu, o->a, UBASE + PAGE, 0x53), -ENOMEM);
	T_EQ(shd_ptrace_poke(cpu, o->a, FAR + PAGE, 0x54), -ENOMEM);
	T_OK(shd_ptrace_peek(cpu, child, UBASE, &v));
	T_EQ((int)(v == 0x41), 1);
	T_OK(shd_ptrace_peek(cpu, o->a, FAR, &v));
	T_EQ((int)(v == 0x42), 1);
	/* kmap of a page not in the page cache; of one that is, fine. */
	T_EQ(shd_kmap(cpu, o->f, 1, 0, &kva), -ENOMEM);
	T_OK(shd_kmap(cpu, o->f, 0, 0, &kva));
	if (kva) {
		T_LOAD(cpu, kva, 0x42);
		T_OK(shd_kunmap(cpu, kva));
	}

	/* One frame back: the child's copy. */
	hog_release_one(cpu, o, NULL);
	T_OK(shd_ptrace_poke(cpu, child, UBASE, 0x51));
	T_OK(shd_ptrace_peek(cpu, child, UBASE, &v));
	T_EQ((int)(v == 0x51), 1);
	T_OK(shd_ptrace_peek(cpu, o->a, UBASE, &v));
	T_EQ((int)(v == 0x41), 1);
	T_EQ(shd_ptrace_poke(cpu, o->a, FAR, 0x52), -ENOMEM);
	T_OK(shd_switch_mm(cpu, o->a));
	T_LOAD(cpu, FAR, 0x42);
	T_LOAD(cpu, UBASE, 0x41);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

Test(frames, a_ptrace_poke_or_kmap_without_a_frame_fails_with_enomem)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .nframes = NFRAMES);
	uint64_t fresh = fresh_frames(m);
	struct oom o = { 0 };

	o.a = test_mm(m);
	o.hog = test_mm(m);
	o.f = test_file(m, 2);
	run_one(m, 0, ptrace_kmap_task, &o);
	assert_tasks_ok();
	assert_nothing_lost(m, &o, fresh);
	shd_machine_destroy(m);
}
