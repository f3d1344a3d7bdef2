/* SPDX-License-Identifier: MIT */
/* Tests of simulated accesses through a CPU's TLB, via the public API only. */
#include "shd_test.h"


struct tlb_scn {
	struct shd_mm *mm, *mm2;
	uint64_t v[8];
	int rc[8];
};

/* ---- values ---- */

static int store_load(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	s->mm2 = shd_cpu_active_mm(cpu);
	T_OK(shd_mmap(cpu, s->mm, UBASE, 2 * PAGE, RW));
	T_OK(shd_load(cpu, UBASE + PAGE + 8, &s->v[0]));	/* fresh: zero */
	T_OK(shd_store(cpu, UBASE + 8, 0x1122334455667788ull));
	T_OK(shd_store(cpu, UBASE + PAGE + 8, 0x99));
	T_OK(shd_store(cpu, UBASE + PAGE - 8, 0xabcdef));
	T_OK(shd_load(cpu, UBASE + 8, &s->v[1]));
	T_OK(shd_load(cpu, UBASE + PAGE + 8, &s->v[2]));
	T_OK(shd_load(cpu, UBASE + PAGE - 8, &s->v[3]));
	T_OK(shd_load(cpu, UBASE + 16, &s->v[4]));
	return 0;
}

Test(tlb, a_store_then_a_load_returns_the_value)
{
	struct shd_machine *m = MACHINE(.ncpus = 1);
	struct tlb_scn s = { .mm = test_mm(m) };

	run_one(m, 0, store_load, &s);
	assert_tasks_ok();
	cr_assert_eq(s.mm2, s.mm, "switch_mm did not load the mm");
	cr_assert_eq(s.v[0], 0, "a fresh page is not zeroed");
	cr_assert_eq(s.v[1], 0x1122334455667788ull);
	cr_assert_eq(s.v[2], 0x99);
	cr_assert_eq(s.v[3], 0xabcdef);
	cr_assert_eq(s.v[4], 0, "neighbouring word changed");
	shd_machine_destroy(m);
}

/* ---- hits, misses and faults ---- */

static int map_and_touch(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, 64 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 5));
	return 0;
}

static int reload_first(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));	/* leave lazy mode */
	T_OK(shd_load(cpu, UBASE + 64, &s->v[0]));
	return 0;
}

static int load_second_page(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_load(cpu, UBASE + PAGE, &s->v[1]));
	return 0;
}

Test(tlb, first_touch_faults_and_the_second_access_hits)
{
	struct shd_machine *m = MACHINE(.ncpus = 1);
	struct tlb_scn s = { .mm = test_mm(m) };
	struct shd_stats a, b, c, d;

	a = test_stats(m);
	run_one(m, 0, map_and_touch, &s);
	b = test_stats(m);
	d = stats_delta(&a, b);
	cr_assert_eq(d.page_faults, 1);
	cr_assert_geq(d.tlb_misses, 1);
	cr_assert_eq(d.tlb_hits, 0);

	run_one(m, 0, reload_first, &s);
	c = test_stats(m);
	d = stats_delta(&b, c);
	cr_assert_eq(d.tlb_hits, 1, "second access to the page did not hit");
	cr_assert_eq(d.tlb_misses, 0);
	cr_assert_eq(d.page_faults, 0);

	run_one(m, 0, load_second_page, &s);
	b = test_stats(m);
	d = stats_delta(&c, b);
	cr_assert_eq(d.tlb_hits, 0, "a new page hit");
	cr_assert_geq(d.tlb_misses, 1);
	cr_assert_eq(d.page_faults, 1);
	cr_assert_eq(b.violations, 0);
	assert_tasks_ok();
	shd_machine_destroy(m);
}

/* Pages whose vpns are 16 apart share a set of the 16-set default dTLB. */
static int fill_one_set(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, 128 * PAGE, RW));
	for (uint64_t i = 0; i < 5; i++)
		T_OK(shd_store(cpu, UBASE + i * 16 * PAGE, i));
	return 0;
}

static int reload_set(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_load(cpu, UBASE + 16 * PAGE, &s->v[1]));	/* still cached */
	T_OK(shd_load(cpu, UBASE, &s->v[0]));			/* evicted */
	return 0;
}

Test(tlb, a_fifth_page_in_a_four_way_set_evicts_one)
{
	struct shd_config c = test_config(1, NULL);
	struct shd_machine *m;

	c.dtlb.entries = 64;	/* 16 sets of 4: pages 16 apart share a set */
	c.dtlb.ways = 4;
	m = test_machine(&c);
	struct tlb_scn s = { .mm = test_mm(m) };
	struct shd_stats a, b, d;

	run_one(m, 0, fill_one_set, &s);
	a = test_stats(m);
	run_one(m, 0, reload_set, &s);
	b = test_stats(m);
	d = stats_delta(&a, b);
	assert_tasks_ok();
	cr_assert_eq(d.tlb_hits, 1);
	cr_assert_eq(d.tlb_misses, 1);
	cr_assert_eq(d.page_faults, 0);
	cr_assert_eq(s.v[0], 0);
	cr_assert_eq(s.v[1], 1);
	shd_machine_destroy(m);
}

static int map64k(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, 0x10000, RW));
	T_OK(shd_store(cpu, UBASE + 0xfff8, 64));
	return 0;
}

static int load64k(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_load(cpu, UBASE, &s->v[0]));
	T_OK(shd_load(cpu, UBASE + 0xfff8, &s->v[1]));
	s->rc[0] = shd_mmap(cpu, s->mm, UBASE + 0x10000, PAGE, RW);
	return 0;
}

Test(tlb, one_translation_covers_a_whole_large_page)
{
	struct shd_config c = test_config(1, NULL);
	struct shd_machine *m;
	struct tlb_scn s;
	struct shd_stats a, b, d;

	c.page_shift = 16;
	c.nframes = 256;
	m = test_machine(&c);
	memset(&s, 0, sizeof(s));
	s.mm = test_mm(m);
	run_one(m, 0, map64k, &s);
	a = test_stats(m);
	run_one(m, 0, load64k, &s);
	b = test_stats(m);
	d = stats_delta(&a, b);
	assert_tasks_ok();
	cr_assert_eq(d.tlb_hits, 2);
	cr_assert_eq(d.tlb_misses, 0);
	cr_assert_eq(s.v[0], 0);
	cr_assert_eq(s.v[1], 64);
	cr_assert_eq(s.rc[0], -EINVAL, "a 4 KiB mapping on 64 KiB pages");
	shd_machine_destroy(m);
}

/* ---- protection and errors ---- */

static int protections(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, PAGE, SHD_PROT_READ));
	T_OK(shd_mmap(cpu, s->mm, UBASE + PAGE, PAGE, SHD_PROT_NONE));
	T_OK(shd_mmap(cpu, s->mm, UBASE + 2 * PAGE, PAGE, RW));
	s->rc[0] = shd_load(cpu, UBASE, &s->v[0]);
	s->rc[1] = shd_store(cpu, UBASE, 1);
	s->rc[2] = shd_load(cpu, UBASE + PAGE, &s->v[1]);
	s->rc[3] = shd_fetch(cpu, UBASE + 2 * PAGE, &s->v[2]);
	/* A write after a read of the same page (cached read-only). */
	s->rc[4] = shd_store(cpu, UBASE + 8, 1);
	return 0;
}

Test(tlb, protection_is_enforced_with_eacces)
{
	struct shd_machine *m = MACHINE(.ncpus = 1);
	struct tlb_scn s = { .mm = test_mm(m) };

	run_one(m, 0, protections, &s);
	assert_tasks_ok();
	cr_assert_eq(s.rc[0], 0, "read of PROT_READ");
	cr_assert_eq(s.v[0], 0);
	cr_assert_eq(s.rc[1], -EACCES, "write to PROT_READ: %d", s.rc[1]);
	cr_assert_eq(s.rc[2], -EACCES, "read of PROT_NONE: %d", s.rc[2]);
	cr_assert_eq(s.rc[3], -EACCES, "fetch from non-exec: %d", s.rc[3]);
	cr_assert_eq(s.rc[4], -EACCES, "write via a cached read-only entry");
	shd_machine_destroy(m);
}

static int bad_accesses(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;
	uint64_t v;

	s->rc[0] = shd_load(cpu, UBASE, &v);		/* no mm loaded yet */
	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, PAGE, RW));
	s->rc[1] = shd_load(cpu, UBASE + PAGE, &v);	/* just past it */
	s->rc[2] = shd_store(cpu, UBASE - 8, 1);	/* just before it */
	s->rc[3] = shd_load(cpu, KBASE, &v);		/* vmap area, unmapped */
	s->rc[4] = shd_load(cpu, 0xffff800000000000ull, &v); /* not vmap */
	s->rc[5] = shd_load(cpu, UBASE + 4, &v);
	s->rc[6] = shd_store(cpu, UBASE + 1, 1);
	s->rc[7] = shd_fetch(cpu, UBASE + 2, &v);
	return 0;
}

Test(tlb, unmapped_is_efault_and_unaligned_is_einval)
{
	struct shd_machine *m = MACHINE(.ncpus = 1);
	struct tlb_scn s = { .mm = test_mm(m) };

	run_one(m, 0, bad_accesses, &s);
	assert_tasks_ok();
	cr_assert_eq(s.rc[0], -EFAULT, "user access with no mm: %d", s.rc[0]);
	cr_assert_eq(s.rc[1], -EFAULT, "%d", s.rc[1]);
	cr_assert_eq(s.rc[2], -EFAULT, "%d", s.rc[2]);
	cr_assert_eq(s.rc[3], -EFAULT, "%d", s.rc[3]);
	cr_assert_eq(s.rc[4], -EFAULT, "%d", s.rc[4]);
	cr_assert_eq(s.rc[5], -EINVAL, "%d", s.rc[5]);
	cr_assert_eq(s.rc[6], -EINVAL, "%d", s.rc[6]);
	cr_assert_eq(s.rc[7], -EINVAL, "%d", s.rc[7]);
	shd_machine_destroy(m);
}

static int noncanonical(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, s->mm));
	s->rc[0] = shd_load(cpu, 0x0000900000000000ull, &v);
	s->rc[1] = shd_load(cpu, 0x8000000000000000ull, &v);
	return 0;
}

/*
 * Was a BUG (do_access(), then in runtime/mm.c, now memory.c access_space(),
 * the "neither user space nor the vmap area" branch): the public header
 * documents -EINVAL for a non-canonical
 * address, but every address outside user space and the vmap area gets
 * -EFAULT, non-canonical ones included.
 */
Test(tlb, a_non_canonical_address_is_einval)
{
	struct shd_machine *m = MACHINE(.ncpus = 1);
	struct tlb_scn s = { .mm = test_mm(m) };

	run_one(m, 0, noncanonical, &s);
	assert_tasks_ok();
	cr_assert_eq(s.rc[0], -EINVAL, "%d", s.rc[0]);
	cr_assert_eq(s.rc[1], -EINVAL, "%d", s.rc[1]);
	shd_machine_destroy(m);
}

static int upgrade(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, 2 * PAGE, SHD_PROT_READ));
	T_OK(shd_load(cpu, UBASE, &s->v[0]));		/* cache it read-only */
	s->rc[0] = shd_store(cpu, UBASE, 3);
	T_OK(shd_mprotect(cpu, s->mm, UBASE, 2 * PAGE, RW));
	s->rc[1] = shd_store(cpu, UBASE, 3);
	s->rc[2] = shd_store(cpu, UBASE + PAGE, 4);	/* never touched */
	T_OK(shd_load(cpu, UBASE, &s->v[1]));
	T_OK(shd_load(cpu, UBASE + PAGE, &s->v[2]));
	/* ... and back down: the data stays, writes stop. */
	T_OK(shd_mprotect(cpu, s->mm, UBASE, PAGE, SHD_PROT_READ));
	s->rc[3] = shd_store(cpu, UBASE, 9);
	T_OK(shd_load(cpu, UBASE, &s->v[3]));
	s->rc[4] = shd_store(cpu, UBASE + PAGE, 10);	/* other page still RW */
	s->rc[5] = shd_mprotect(cpu, s->mm, UBASE, 4 * PAGE, RW); /* hole */
	s->rc[6] = shd_store(cpu, UBASE, 11);		/* nothing changed */
	return 0;
}

Test(tlb, mprotect_upgrades_and_downgrades_a_mapping)
{
	struct shd_machine *m = MACHINE(.ncpus = 1);
	struct tlb_scn s = { .mm = test_mm(m) };

	run_one(m, 0, upgrade, &s);
	assert_tasks_ok();
	cr_assert_eq(s.rc[0], -EACCES);
	cr_assert_eq(s.rc[1], 0, "store after upgrade: %d", s.rc[1]);
	cr_assert_eq(s.rc[2], 0);
	cr_assert_eq(s.v[1], 3);
	cr_assert_eq(s.v[2], 4);
	cr_assert_eq(s.rc[3], -EACCES, "store after downgrade: %d", s.rc[3]);
	cr_assert_eq(s.v[3], 3, "downgrade lost the data");
	cr_assert_eq(s.rc[4], 0);
	cr_assert_eq(s.rc[5], -ENOMEM, "mprotect over a hole: %d", s.rc[5]);
	cr_assert_eq(s.rc[6], -EACCES, "failed mprotect changed something");
	shd_machine_destroy(m);
}

static int unmap_then_touch(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_store(cpu, UBASE + PAGE, 2));
	T_OK(shd_munmap(cpu, s->mm, UBASE, PAGE));
	s->rc[0] = shd_load(cpu, UBASE, &v);
	s->rc[1] = shd_store(cpu, UBASE, 1);
	T_OK(shd_load(cpu, UBASE + PAGE, &s->v[0]));
	T_OK(shd_munmap(cpu, s->mm, UBASE, 2 * PAGE));	/* hole: fine */
	s->rc[2] = shd_load(cpu, UBASE + PAGE, &v);
	/* The address can be mapped again, fresh. */
	T_OK(shd_mmap(cpu, s->mm, UBASE, PAGE, RW));
	T_OK(shd_load(cpu, UBASE, &s->v[1]));
	return 0;
}

Test(tlb, munmap_then_access_is_efault)
{
	struct shd_machine *m = MACHINE(.ncpus = 1);
	struct tlb_scn s = { .mm = test_mm(m) };

	run_one(m, 0, unmap_then_touch, &s);
	assert_tasks_ok();
	cr_assert_eq(s.rc[0], -EFAULT, "load after munmap: %d", s.rc[0]);
	cr_assert_eq(s.rc[1], -EFAULT, "store after munmap: %d", s.rc[1]);
	cr_assert_eq(s.v[0], 2, "the neighbour page lost its data");
	cr_assert_eq(s.rc[2], -EFAULT);
	cr_assert_eq(s.v[1], 0, "a remapped page is not fresh");
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

static int dontneed(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 77));
	T_OK(shd_madvise_dontneed(cpu, s->mm, UBASE, PAGE));
	T_OK(shd_load(cpu, UBASE, &s->v[0]));
	T_OK(shd_store(cpu, UBASE, 78));
	T_OK(shd_load(cpu, UBASE, &s->v[1]));
	s->rc[0] = shd_madvise_dontneed(cpu, s->mm, UBASE, 4 * PAGE);
	return 0;
}

Test(tlb, madvise_dontneed_drops_the_data_but_keeps_the_mapping)
{
	struct shd_machine *m = MACHINE(.ncpus = 1);
	struct tlb_scn s = { .mm = test_mm(m) };

	run_one(m, 0, dontneed, &s);
	assert_tasks_ok();
	cr_assert_eq(s.v[0], 0, "old data after MADV_DONTNEED");
	cr_assert_eq(s.v[1], 78);
	cr_assert_eq(s.rc[0], -ENOMEM, "madvise over a hole: %d", s.rc[0]);
	shd_machine_destroy(m);
}

static int mapping_errors(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, 4 * PAGE, RW));
	s->rc[0] = shd_mmap(cpu, s->mm, UBASE + PAGE, PAGE, RW);
	s->rc[1] = shd_mmap(cpu, s->mm, UBASE + 8 * PAGE + 16, PAGE, RW);
	s->rc[2] = shd_mmap(cpu, s->mm, UBASE + 8 * PAGE, 0, RW);
	s->rc[3] = shd_mmap(cpu, s->mm, SHD_USER_TOP - PAGE, 2 * PAGE, RW);
	s->rc[4] = shd_mmap(cpu, s->mm, UBASE + 8 * PAGE, PAGE, 8);
	s->rc[5] = shd_munmap(cpu, s->mm, UBASE, PAGE + 1);
	s->rc[6] = shd_mmap(cpu, s->mm, SHD_USER_TOP - PAGE, PAGE, RW);
	s->rc[7] = shd_munmap(cpu, s->mm, UBASE + 64 * PAGE, PAGE);
	return 0;
}

Test(tlb, mapping_calls_reject_bad_arguments)
{
	struct shd_machine *m = MACHINE(.ncpus = 1);
	struct tlb_scn s = { .mm = test_mm(m) };

	run_one(m, 0, mapping_errors, &s);
	assert_tasks_ok();
	cr_assert_eq(s.rc[0], -EEXIST, "overlap: %d", s.rc[0]);
	cr_assert_eq(s.rc[1], -EINVAL, "unaligned: %d", s.rc[1]);
	cr_assert_eq(s.rc[2], -EINVAL, "empty: %d", s.rc[2]);
	cr_assert_eq(s.rc[3], -EINVAL, "past user space: %d", s.rc[3]);
	cr_assert_eq(s.rc[4], -EINVAL, "bad prot: %d", s.rc[4]);
	cr_assert_eq(s.rc[5], -EINVAL, "unaligned munmap: %d", s.rc[5]);
	cr_assert_eq(s.rc[6], 0, "last user page: %d", s.rc[6]);
	cr_assert_eq(s.rc[7], 0, "munmap of nothing: %d", s.rc[7]);
	shd_machine_destroy(m);
}

/* ---- address spaces ---- */

static int two_spaces(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_switch_mm(cpu, s->mm2));
	s->rc[0] = shd_load(cpu, UBASE, &s->v[0]);	/* not mapped here */
	T_OK(shd_mmap(cpu, s->mm2, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 2));
	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_load(cpu, UBASE, &s->v[1]));
	T_OK(shd_switch_mm(cpu, s->mm2));
	T_OK(shd_load(cpu, UBASE, &s->v[2]));
	T_OK(shd_switch_mm(cpu, NULL));
	s->rc[1] = shd_load(cpu, UBASE, &s->v[3]);
	s->rc[2] = shd_switch_mm(cpu, (struct shd_mm *)NULL);
	return 0;
}

Test(tlb, address_spaces_do_not_see_each_others_pages)
{
	struct shd_machine *m = MACHINE(.ncpus = 1);
	struct tlb_scn s = { test_mm(m), test_mm(m), { 0 }, { 0 } };

	run_one(m, 0, two_spaces, &s);
	assert_tasks_ok();
	cr_assert_eq(s.rc[0], -EFAULT);
	cr_assert_eq(s.v[1], 1, "mm A reads %#lx", (unsigned long)s.v[1]);
	cr_assert_eq(s.v[2], 2, "mm B reads %#lx", (unsigned long)s.v[2]);
	cr_assert_eq(s.rc[1], -EFAULT, "user access under init_mm");
	cr_assert_eq(s.rc[2], 0);
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

#define NSPACES 9	/* more than the 6 ASID slots of a CPU */

struct many {
	struct shd_mm *mm[NSPACES];
	uint64_t v[2][NSPACES];
};

static int cycle_spaces(struct shd_cpu *cpu, void *arg)
{
	struct many *s = arg;

	for (int i = 0; i < NSPACES; i++) {
		T_OK(shd_switch_mm(cpu, s->mm[i]));
		T_OK(shd_mmap(cpu, s->mm[i], UBASE, PAGE, RW));
		T_OK(shd_store(cpu, UBASE, 100 + (uint64_t)i));
	}
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < NSPACES; i++) {
			int j = round ? NSPACES - 1 - i : i;

			T_OK(shd_switch_mm(cpu, s->mm[j]));
			T_OK(shd_load(cpu, UBASE, &s->v[round][j]));
		}
	}
	return 0;
}

Test(tlb, asid_slot_reuse_never_leaks_another_spaces_translation)
{
	struct shd_machine *m = MACHINE(.ncpus = 1);
	struct many s;

	for (int i = 0; i < NSPACES; i++)
		s.mm[i] = test_mm(m);
	run_one(m, 0, cycle_spaces, &s);
	assert_tasks_ok();
	for (int r = 0; r < 2; r++)
		for (int i = 0; i < NSPACES; i++)
			cr_assert_eq(s.v[r][i], 100 + (uint64_t)i,
				     "round %d mm %d reads %lu", r, i,
				     (unsigned long)s.v[r][i]);
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

/* ---- lazy mode and instruction fetches ---- */

static int touch_rw(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, PAGE, RW | SHD_PROT_EXEC));
	T_OK(shd_store(cpu, UBASE, 0x90));
	return 0;
}

static int lazy_access(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	s->rc[0] = shd_load(cpu, UBASE, &s->v[0]);	/* still lazy */
	T_OK(shd_switch_mm(cpu, s->mm));
	s->rc[1] = shd_load(cpu, UBASE, &s->v[1]);
	shd_enter_lazy_tlb(cpu);
	s->rc[2] = shd_store(cpu, UBASE, 1);
	s->mm2 = shd_cpu_active_mm(cpu);		/* still loaded */
	return 0;
}

Test(tlb, a_lazy_cpu_keeps_its_mm_but_makes_no_user_accesses)
{
	struct shd_machine *m = MACHINE(.ncpus = 1);
	struct tlb_scn s = { .mm = test_mm(m) };

	run_one(m, 0, touch_rw, &s);
	run_one(m, 0, lazy_access, &s);
	assert_tasks_ok();
	cr_assert_lt(s.rc[0], 0, "user access while lazy succeeded");
	cr_assert_eq(s.rc[1], 0);
	cr_assert_eq(s.v[1], 0x90);
	cr_assert_lt(s.rc[2], 0, "user access after enter_lazy_tlb succeeded");
	cr_assert_eq(s.mm2, s.mm, "enter_lazy_tlb unloaded the mm");
	shd_machine_destroy(m);
}

static int fetch_twice(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_fetch(cpu, UBASE, &s->v[0]));
	return 0;
}

static void fetch_after_store(bool split, uint64_t want_hits, uint64_t want_misses)
{
	struct shd_config c = test_config(1, NULL);
	struct shd_machine *m;
	struct tlb_scn s;
	struct shd_stats a, b, d;

	c.split_tlb = split;
	m = test_machine(&c);
	memset(&s, 0, sizeof(s));
	s.mm = test_mm(m);
	run_one(m, 0, touch_rw, &s);	/* fills the data TLB */
	a = test_stats(m);
	run_one(m, 0, fetch_twice, &s);
	b = test_stats(m);
	d = stats_delta(&a, b);
	assert_tasks_ok();
	cr_assert_eq(s.v[0], 0x90);
	cr_assert_eq(d.tlb_hits, want_hits, "split=%d hits %lu", split,
		     (unsigned long)d.tlb_hits);
	cr_assert_eq(d.tlb_misses, want_misses, "split=%d misses %lu", split,
		     (unsigned long)d.tlb_misses);
	shd_machine_destroy(m);
}

Test(tlb, a_split_tlb_keeps_fetches_apart_from_data)
{
	fetch_after_store(true, 0, 1);
}

Test(tlb, a_unified_tlb_serves_fetches_from_data_entries)
{
	fetch_after_store(false, 1, 0);
}

/* ---- the first frame ---- */

static int first_frame(struct shd_cpu *cpu, void *arg)
{
	struct tlb_scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 0x31));	/* the machine's first frame */
	T_OK(shd_munmap(cpu, s->mm, UBASE, PAGE));
	s->rc[0] = shd_load(cpu, UBASE, &s->v[0]);
	return 0;
}

/*
 * Was a BUG (then in runtime/mm.c, now memory.c, mprotect.c, vmalloc.c; the
 * "never had a frame" tests `!(val >>
 * SHD_PTE_PFN_SHIFT)` in zap_range() and shd_mprotect(), and `p->val` in
 * shd_vmap()): the frame allocator (machine.c fills free_pfns so that pfn 0
 * is popped first) hands out pfn 0, whose PTE has a zero pfn field.  zap and
 * mprotect skip that PTE as if it never had a frame, so the first page a
 * machine allocates survives munmap/madvise/mprotect: no PTE change, no
 * flush, and the "unmapped" page stays readable with its old data (here the
 * load after munmap returns 0 and 0x31 instead of -EFAULT).  A vmap'd pfn 0
 * likewise survives vunmap (a later vmap gets -EEXIST).  shd_test.h works
 * around it by burning pfn 0 on a kernel page in every test machine.
 */
Test(tlb, munmap_of_the_first_frame_allocated_removes_the_page)
{
	struct shd_config c = test_config(1, NULL);
	struct shd_machine *m = NULL;
	struct tlb_scn s;

	cr_assert_eq(shd_machine_create(&c, &m), 0);	/* no pfn 0 ballast */
	memset(&s, 0, sizeof(s));
	s.mm = test_mm(m);
	run_one(m, 0, first_frame, &s);
	assert_tasks_ok();
	cr_assert_eq(s.rc[0], -EFAULT, "load after munmap returned %d (value "
		     "%#lx)", s.rc[0], (unsigned long)s.v[0]);
	shd_machine_destroy(m);
}

/* ---- the counting identity of translations ---- */

#define ID_CPUS		16
#define ID_PAGES	32	/* per CPU: far below the TLB's 1536 entries */

/*
 * Each translation counts one hit or one miss per attempt: a miss walks
 * the page table and, when the page is not there, faults it in and walks
 * again; a hit on an entry that does not allow the access (a store through
 * the read-only zero page) counts the hit, drops it and misses.  So on one
 * CPU's private pages, with nothing racing,
 *   tlb_hits + tlb_misses == accesses + page_faults + stricter hits.
 * Page i: a store (miss, fault, miss), then a load (hit); odd pages first
 * a load (miss, zero-page fault, miss), then the store (stricter hit, miss,
 * fault, miss), then the load.
 */
static int identity_task(struct shd_cpu *cpu, void *arg)
{
	struct shd_mm *mm = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t base = UBASE + (uint64_t)id * ID_PAGES * PAGE;

	T_OK(shd_switch_mm(cpu, mm));
	T_OK(shd_mmap(cpu, mm, base, ID_PAGES * PAGE, RW));
	for (unsigned i = 0; i < ID_PAGES; i++) {
		uint64_t va = base + i * PAGE;

		if (i & 1)
			T_LOAD(cpu, va, 0);
		T_OK(shd_store(cpu, va, page_val(i, id)));
		T_LOAD(cpu, va, page_val(i, id));
	}
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

Test(tlb, hits_plus_misses_count_every_access_fault_and_stricter_hit)
{
	struct shd_machine *m = MACHINE(.ncpus = ID_CPUS);
	struct shd_mm *mm = test_mm(m);
	uint64_t odd = ID_PAGES / 2, even = ID_PAGES - odd;
	uint64_t accesses = ID_CPUS * (2 * even + 3 * odd);
	uint64_t faults = ID_CPUS * (even + 2 * odd);
	uint64_t stricter = ID_CPUS * odd;
	struct shd_stats st;

	cr_assert_eq(shd_run_on(m, 0, ID_CPUS, identity_task, mm), 0);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.page_faults, faults, "%" PRIu64 " faults", st.page_faults);
	cr_assert_eq(st.tlb_hits + st.tlb_misses,
		     accesses + st.page_faults + stricter,
		     "hits %" PRIu64 " + misses %" PRIu64 " != %" PRIu64
		     " accesses + %" PRIu64 " faults + %" PRIu64 " stricter hits",
		     st.tlb_hits, st.tlb_misses, accesses, st.page_faults,
		     stricter);
	cr_assert_eq(st.tlb_hits, ID_CPUS * (even + 2 * odd));
	cr_assert_eq(st.violations, 0);
	shd_mm_destroy(mm);
	shd_machine_destroy(m);
}
