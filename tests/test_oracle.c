/* SPDX-License-Identifier: MIT */
/* Tests that the oracle catches every injectable fault, and only then. */
#include <inttypes.h>

#include "shd_test.h"


/*
 * Each scenario is small and drives exactly the path its fault breaks.  Run
 * without the fault it must report nothing; with it, at least one violation
 * of the kind the table names (a stale TLB hit, or a hit on a freed frame)
 * on the CPU that holds the stale entry.  All are deterministic but one
 * (free_before_flush), whose window only a bounded loop can hit; see there.
 */
struct orc {
	struct shd_mm *a, *b;
	struct shd_file *f;
	int step;
	int rc;		/* the access that must not use a stale entry */
	uint64_t val;
	/* Racy scenarios: attempts allowed and made, and a stop flag. */
	unsigned max_tries, tries;
	int stop;
	struct shd_machine *m;
};

struct outcome {
	uint64_t nviol;
	struct shd_violation first;
	int rc;
	uint64_t val;
	uint64_t mm_id;
	unsigned tries;		/* attempts a racy scenario made */
};

typedef void (*scenario_fn)(struct shd_machine *m, struct orc *o);

/* The policy and architecture a scenario runs under (the faults of LATR
 * need "latr", the cache faults an aliasing D-cache). */
static const char *scenario_policy = "linux";
static const char *scenario_arch = "x86";

static struct outcome run_scenario_tries(scenario_fn fn, unsigned ncpus,
					 uint64_t faults, bool oracle,
					 unsigned max_tries)
{
	struct shd_config c = test_config(ncpus, scenario_policy);
	struct shd_machine *m;
	struct orc o;

	cr_assert_eq(shd_arch_preset(scenario_arch, &c.arch), 0);
	struct outcome out;
	struct shd_stats st;

	c.faults = faults;
	c.oracle = oracle;
	m = test_machine(&c);
	memset(&o, 0, sizeof(o));
	o.a = test_mm(m);
	o.b = test_mm(m);
	o.m = m;
	o.max_tries = max_tries;
	fn(m, &o);
	assert_tasks_ok();
	memset(&out, 0, sizeof(out));
	out.nviol = shd_machine_violations(m, &out.first, 1);
	shd_machine_stats(m, &st);
	cr_assert_eq(st.violations, out.nviol, "stats say %" PRIu64 ", reports "
		     "say %" PRIu64, st.violations, out.nviol);
	out.rc = o.rc;
	out.val = o.val;
	out.mm_id = shd_mm_id(o.a);
	out.tries = o.tries;
	shd_machine_destroy(m);
	return out;
}

static struct outcome run_scenario(scenario_fn fn, unsigned ncpus,
				   uint64_t faults, bool oracle)
{
	return run_scenario_tries(fn, ncpus, faults, oracle, 1);
}

/* ---- skip_remote_ipi: cpu 1 keeps a translation cpu 0 unmapped ---- */

static int remote_unmap_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		/* Two pages: unmapping one keeps the page table. */
		T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		step_set(&o->step, 3);
		step_wait(cpu, &o->step, 4);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_store(cpu, UBASE + 8, 0x42));
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 4);
	}
	return 0;
}

static void skip_remote_ipi(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, remote_unmap_task, o), 0);
}

/* ---- skip_local_flush: cpu 0 keeps a translation it unmapped itself ---- */

static int self_unmap_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 0x43));
	T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
	o->rc = shd_load(cpu, UBASE + 8, &o->val);
	return 0;
}

static void skip_local_flush(struct shd_machine *m, struct orc *o)
{
	run_one(m, 0, self_unmap_task, o);
}

/* ---- ignore_tlb_gen: cpu 1 comes back to an mm it was pruned from ---- */

static int gen_setup(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
	return 0;
}

static int gen_cache_then_leave(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_store(cpu, UBASE + 8, 0x44));
	T_OK(shd_switch_mm(cpu, o->b));	/* leaves a's mm_cpumask */
	return 0;
}

static int gen_protect(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mprotect(cpu, o->a, UBASE, PAGE, SHD_PROT_READ));
	return 0;
}

static int gen_return(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));	/* its ASID slot is behind */
	o->rc = shd_load(cpu, UBASE + 8, &o->val);
	return 0;
}

static void ignore_tlb_gen(struct shd_machine *m, struct orc *o)
{
	struct shd_stats st;

	run_one(m, 0, gen_setup, o);
	run_one(m, 1, gen_cache_then_leave, o);
	run_one(m, 0, gen_protect, o);
	shd_machine_stats(m, &st);
	/* The path under test: cpu 1 was pruned, not interrupted. */
	cr_assert_eq(st.ipis_avoided_pruned, 1);
	cr_assert_eq(st.ipis_sent, 0);
	run_one(m, 1, gen_return, o);
}

/* ---- drop_lazy_flush: cpu 1 leaves lazy mode behind ---- */

static int lazy_cache(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 0x45));
	return 0;	/* lazy from here */
}

static int lazy_return(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));	/* prev == next: leave lazy mode */
	o->rc = shd_load(cpu, UBASE + 8, &o->val);
	return 0;
}

static void drop_lazy_flush(struct shd_machine *m, struct orc *o)
{
	struct shd_stats st;

	run_one(m, 1, lazy_cache, o);
	run_one(m, 0, gen_protect, o);	/* mprotect frees no page table */
	shd_machine_stats(m, &st);
	cr_assert_eq(st.ipis_avoided_lazy, 1);
	cr_assert_eq(st.ipis_sent, 0);
	run_one(m, 1, lazy_return, o);
}

/* ---- range_short: the last page of a partial flush survives ---- */

static int short_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, o->a, UBASE, 8 * PAGE, RW));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		/* 4 pages, under the 33-page ceiling: a partial flush. */
		T_OK(shd_munmap(cpu, o->a, UBASE, 4 * PAGE));
		step_set(&o->step, 3);
		step_wait(cpu, &o->step, 4);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_store(cpu, UBASE, 0x1));
		T_OK(shd_store(cpu, UBASE + 3 * PAGE + 8, 0x46));
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
		o->rc = shd_load(cpu, UBASE + 3 * PAGE + 8, &o->val);
		step_set(&o->step, 4);
	}
	return 0;
}

static void range_short(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, short_task, o), 0);
}

/*
 * ---- free_before_flush: cpu 1 reads a frame munmap freed before its flush ----
 *
 * With the fault, munmap's mmu_gather releases the frames and only then sends
 * the flush; cpu 1, which holds a translation of the first page, drops it
 * when it takes that IPI, at its next access.  Only its loads in between use
 * the freed frame, and nothing in the library lets a test stop cpu 0 inside
 * that window (it holds the mm lock and takes no IPIs between freeing the
 * frames and sending the requests).  So the scenario is a bounded loop: each
 * attempt unmaps UAF_PAGES touched pages with the watched page the lowest,
 * first in the gather, so its frame is freed first and the IPI goes only
 * after the other UAF_PAGES - 1 frames; cpu 1 loads it in a loop until it
 * faults.  Attempts stop at the first report.  Without the fault every hit
 * is before the flush and the frame still belongs to the page: nothing.
 */
#define UAF_PAGES	64
#define UAF_TRIES	2000
#define CLEAN_TRIES	500	/* attempts without the fault, at least */

static int free_early_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	for (unsigned i = 0; i < o->max_tries; i++) {
		int base = 4 * (int)i;

		if (shd_cpu_id(cpu) == 0) {
			T_OK(shd_mmap(cpu, o->a, UBASE, UAF_PAGES * PAGE, RW));
			for (uint64_t p = 0; p < UAF_PAGES; p++)
				T_OK(shd_store(cpu, UBASE + p * PAGE + 8, 0x48));
			step_set(&o->step, base + 1);
			step_wait(cpu, &o->step, base + 2);
			T_OK(shd_munmap(cpu, o->a, UBASE, UAF_PAGES * PAGE));
			step_wait(cpu, &o->step, base + 3);
			o->tries = i + 1;
			if (shd_machine_violations(o->m, NULL, 0))
				__atomic_store_n(&o->stop, 1, __ATOMIC_RELAXED);
			step_set(&o->step, base + 4);
		} else {
			uint64_t before = shd_machine_violations(o->m, NULL, 0);
			uint64_t v = 0, hit = 0;
			int rc;

			step_wait(cpu, &o->step, base + 1);
			T_OK(shd_load(cpu, UBASE + 8, &v));	/* cached */
			step_set(&o->step, base + 2);
			/* Hits until the flush reaches this CPU, then a fault. */
			while ((rc = shd_load(cpu, UBASE + 8, &v)) == 0) {
				T_EQ((int)v, 0x48);
				hit = v;
			}
			T_EQ(rc, -EFAULT);
			if (shd_machine_violations(o->m, NULL, 0) > before) {
				o->rc = 0;	/* one of the hits was reported */
				o->val = hit;
			} else {
				o->rc = rc;
				o->val = v;
			}
			step_set(&o->step, base + 3);
		}
		if (shd_cpu_id(cpu) != 0)
			step_wait(cpu, &o->step, base + 4);
		if (__atomic_load_n(&o->stop, __ATOMIC_RELAXED))
			break;
	}
	return 0;
}

static void free_before_flush(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, free_early_task, o), 0);
}

/*
 * ---- skip_batched_pending: munmap finds the PTE reclaim cleared ----
 *
 * cpu 1 holds a writable translation of P; cpu 0 reclaims P with the flush
 * deferred to its batch (cpu 1 is in the mm), then munmaps exactly P: there
 * is nothing left to zap, so only flush_tlb_batched_pending() removes cpu
 * 1's entry before munmap returns.  The batch itself is flushed only when
 * cpu 0's task returns, after cpu 1's access.
 */
static int batched_pending_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		/* Two pages: unmapping one keeps the page table. */
		T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		T_EQ(shd_try_to_unmap(cpu, o->a, UBASE), 1);
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		step_set(&o->step, 3);
		step_wait(cpu, &o->step, 4);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_store(cpu, UBASE + 8, 0x49));
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 4);
	}
	return 0;
}

static void skip_batched_pending(struct shd_machine *m, struct orc *o)
{
	bool faulty = shd_machine_config(m)->faults &
		      (1ull << SHD_FAULT_SKIP_BATCHED_PENDING);
	struct shd_stats st;

	cr_assert_eq(shd_run_on(m, 0, 2, batched_pending_task, o), 0);
	shd_machine_stats(m, &st);
	/* The path under test: the reclaim flush was deferred, and only
	 * the batched-pending flush (if any) ran before cpu 1's access. */
	cr_assert_eq(st.reclaim_pages, 1);
	cr_assert_eq(st.tlbbatch_pages, 1);
	cr_assert_eq(st.tlbbatch_flushes, 1, "flushed at the task's return");
	cr_assert_eq(st.batched_pending_flushes, faulty ? 0 : 1);
}

/* ---- async_early_free: LATR frees before cpu 1 has swept ---- */

/*
 * Under LATR cpu 0's munmap returns before cpu 1 has swept its flush; cpu 1
 * keeps using its old translation until it does (legal: the frame stays
 * until then).  Both wait without polling, so nothing sweeps or interrupts
 * before cpu 1 loads through the entry: clean, that reads the old value;
 * with the frame freed at the post, it is a use after free.
 */
static int early_free_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, o->a, UBASE, PAGE, RW));
		T_OK(shd_store(cpu, UBASE + 8, 0x4a));
		step_set(&o->step, 1);
		while (__atomic_load_n(&o->step, __ATOMIC_ACQUIRE) < 2)
			shd_cpu_poll(cpu);
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		step_set(&o->step, 3);
		/* No polling either: our tick would interrupt cpu 1 once
		 * async_us passed, and our task's end interrupts it anyway. */
		while (__atomic_load_n(&o->step, __ATOMIC_ACQUIRE) < 4)
			sched_yield();
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_load(cpu, UBASE + 8, &o->val));	/* cached */
		step_set(&o->step, 2);
		/* No polling: a LATR sweep would remove the entry. */
		while (__atomic_load_n(&o->step, __ATOMIC_ACQUIRE) < 3)
			sched_yield();
		o->val = 0;
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 4);
	}
	return 0;
}

static void async_early_free(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, early_free_task, o), 0);
}

/* ---- cache faults (sparc64: aliasing, write-through D-cache) ---- */

/*
 * The file's page is the first frame a fresh machine hands out after the
 * zero page (frame 1: kernel colour 1); the user maps it at UBASE (colour
 * 0).  Cpu 0 reads it (a colour-0 line), the kernel writes the same word
 * through colour 1: without flush_dcache_page cpu 0's colour-0 line stays
 * stale.
 */
static int skip_dflush_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, SHD_PROT_READ, SHD_MAP_SHARED,
			   o->f, 0));
	T_OK(shd_load(cpu, UBASE + 8, &v));
	T_OK(shd_file_write(cpu, o->f, 8, 0x4b));
	o->rc = shd_load(cpu, UBASE + 8, &o->val);
	return 0;
}

static void skip_flush_dcache_page(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_file_create(m, 1, &o->f), 0);
	cr_assert_eq(shd_run_on(m, 0, 1, skip_dflush_task, o), 0);
	shd_file_destroy(o->f);
}

/*
 * Cpu 0 reads the page (colour-0 line), unmaps it, and writes it through
 * the kernel: nobody maps the file, so flush_dcache_page only marks the
 * page for cpu 0.  Cpu 1 maps and reads it: its update_mmu_cache must flush
 * on cpu 0.  Cpu 0 then reads through cpu 1's mapping without faulting.
 */
static int wrong_cpu_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, SHD_PROT_READ,
				   SHD_MAP_SHARED, o->f, 0));
		T_OK(shd_load(cpu, UBASE + 8, &v));
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		T_OK(shd_file_write(cpu, o->f, 8, 0x4c));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 3);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, SHD_PROT_READ,
				   SHD_MAP_SHARED, o->f, 0));
		T_OK(shd_load(cpu, UBASE + 8, &v));
		T_EQ((int)(v == 0x4c), 1);
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
	}
	return 0;
}

static void deferred_flush_wrong_cpu(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_file_create(m, 1, &o->f), 0);
	cr_assert_eq(shd_run_on(m, 0, 2, wrong_cpu_task, o), 0);
	shd_file_destroy(o->f);
}

/*
 * The tracee reads its page at UBASE (colour 0; its frame is frame 1,
 * kernel colour 1); the tracer on the same CPU pokes the word through the
 * kernel alias: without copy_to_user_page's flush the tracee's colour-0
 * line stays stale.
 */
static int ptrace_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 1));
	T_OK(shd_load(cpu, UBASE + 8, &v));
	shd_enter_lazy_tlb(cpu);
	T_OK(shd_ptrace_poke(cpu, o->a, UBASE + 8, 0x4d));
	T_OK(shd_switch_mm(cpu, o->a));
	o->rc = shd_load(cpu, UBASE + 8, &o->val);
	return 0;
}

static void skip_ptrace_flush(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 1, ptrace_task, o), 0);
}

/*
 * Cpu 0 reads the page (a colour-0 line), unmaps it and writes the word
 * through the kernel (colour 1): the page is marked dirty on cpu 0.  Cpu 1
 * writes another line of it: flush_dcache_page must first flush the page
 * on cpu 0 before taking the mark.  Cpu 1 maps and reads the page (its
 * update_mmu_cache flushes where the mark says, cpu 1), and cpu 0 reads
 * the word through that mapping.
 */
static int overwritten_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, SHD_PROT_READ,
				   SHD_MAP_SHARED, o->f, 0));
		T_OK(shd_load(cpu, UBASE + 8, &v));
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		T_OK(shd_file_write(cpu, o->f, 8, 0x4e));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 3);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_file_write(cpu, o->f, 8 + 128, 0x4f));
		T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, SHD_PROT_READ,
				   SHD_MAP_SHARED, o->f, 0));
		T_OK(shd_load(cpu, UBASE + 8, &v));
		T_EQ((int)(v == 0x4e), 1);
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
	}
	return 0;
}

static void arch1_overwritten(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_file_create(m, 1, &o->f), 0);
	cr_assert_eq(shd_run_on(m, 0, 2, overwritten_task, o), 0);
	shd_file_destroy(o->f);
}

/* ---- I-cache faults (arm64: an I-cache that does not snoop stores) ---- */


/*
 * Cpu 0 maps the file's page executable and fetches a word: set_pte_at
 * syncs the page (PG_dcache_clean set) and the fetch leaves an I-line.  It
 * unmaps the page, the kernel writes the word (flush_dcache_page must clear
 * PG_dcache_clean), and cpu 0 maps and fetches it again: only a cleared
 * mark makes the new set_pte_at invalidate the old I-line.  Every write is
 * the kernel's (no user store ever reaches the frame), so the oracle
 * judges the fetch.
 */
static int arch1_not_cleared_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v = 1;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, RX, SHD_MAP_SHARED, o->f, 0));
	T_OK(shd_fetch(cpu, UBASE + 8, &v));
	T_EQ((int)v, 0);
	T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
	T_OK(shd_file_write(cpu, o->f, 8, 0x50));
	T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, RX, SHD_MAP_SHARED, o->f, 0));
	o->rc = shd_fetch(cpu, UBASE + 8, &o->val);
	return 0;
}

static void arch1_not_cleared(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_file_create(m, 1, &o->f), 0);
	cr_assert_eq(shd_run_on(m, 0, 1, arch1_not_cleared_task, o), 0);
	shd_file_destroy(o->f);
}

/*
 * A debugger patches a private read-only executable file mapping (its
 * text): the first poke copies the page (FOLL_FORCE), the tracee fetches
 * the poked word (an I-line of the copy), the second poke lands in the
 * copy, and the tracee fetches again: only copy_to_user_page's I-cache
 * invalidation drops the line holding the first poke.
 */
static int ptrace_icache_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v = 0;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, RX, SHD_MAP_PRIVATE, o->f, 0));
	T_OK(shd_fetch(cpu, UBASE + 8, &v));
	shd_enter_lazy_tlb(cpu);
	T_OK(shd_ptrace_poke(cpu, o->a, UBASE + 8, 0x51));
	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_fetch(cpu, UBASE + 8, &v));
	T_EQ((int)(v == 0x51), 1);
	shd_enter_lazy_tlb(cpu);
	T_OK(shd_ptrace_poke(cpu, o->a, UBASE + 8, 0x52));
	T_OK(shd_switch_mm(cpu, o->a));
	o->rc = shd_fetch(cpu, UBASE + 8, &o->val);
	return 0;
}

static void skip_ptrace_icache(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_file_create(m, 1, &o->f), 0);
	cr_assert_eq(shd_run_on(m, 0, 1, ptrace_icache_task, o), 0);
	shd_file_destroy(o->f);
}

/*
 * A module load: cpu 0 vmaps a page, cpu 1 fetches a word of it (an I-line
 * of the zeroed page), cpu 0 writes the word through the vmap address and
 * calls flush_icache_range(), and cpu 1 fetches again: only the
 * invalidation drops its old line.
 */
static int icache_range_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v = 1;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_vmap(cpu, KBASE, PAGE));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		T_OK(shd_store(cpu, KBASE + 8, 0x53));
		T_OK(shd_flush_icache_range(cpu, KBASE, KBASE + PAGE));
		step_set(&o->step, 3);
		step_wait(cpu, &o->step, 4);
		T_OK(shd_vunmap(cpu, KBASE, PAGE));
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_fetch(cpu, KBASE + 8, &v));
		T_EQ((int)v, 0);
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
		o->rc = shd_fetch(cpu, KBASE + 8, &o->val);
		step_set(&o->step, 4);
	}
	return 0;
}

static void skip_flush_icache_range(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, icache_range_task, o), 0);
}

/* ---- hypersparc: the cache flush needs the translation; DMA does not
 * snoop ---- */

/*
 * Cpu 0 maps a page, stores to it and unmaps it: munmap must flush the
 * cache while the PTE is there.  With the fault it clears the PTE first
 * (and the oracle reports the PTE change, on cpu 0, at UBASE).
 */
static int order_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 0x55));
	o->rc = shd_munmap(cpu, o->a, UBASE, PAGE);
	return 0;
}

static void tlb_before_cache(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 1, order_task, o), 0);
}

/*
 * A driver on cpu 0 reads its vmap'd buffer (caching the line), the device
 * writes it (DMA, not snooped), the driver invalidates the alias and reads
 * again: without the invalidate it reads its old line.
 */
static int vmap_io_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_vmap(cpu, KBASE, PAGE));
	T_OK(shd_load(cpu, KBASE + 8, &v));
	T_OK(shd_dma_write(cpu, KBASE + 8, 0x56));
	T_OK(shd_invalidate_kernel_vmap_range(cpu, KBASE + 8, 8));
	o->rc = shd_load(cpu, KBASE + 8, &o->val);
	T_OK(shd_vunmap(cpu, KBASE, PAGE));
	return 0;
}

static void skip_kernel_vmap_invalidate(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 1, vmap_io_task, o), 0);
}

/* ---- the table: one scenario per fault, in enum order ---- */

static const struct {
	const char *name;
	scenario_fn fn;
	unsigned cpu;		/* the CPU left with the stale entry */
	uint64_t addr;
	int clean_rc;		/* the access without the fault */
	uint64_t stale_val;	/* what the stale access reads */
	enum shd_violation_kind kind;	/* what the oracle reports */
	const char *iface;	/* the report's interface ("none": a freed frame) */
	unsigned tries;		/* 0: deterministic; else a racy loop's bound */
	const char *policy;	/* NULL: "linux" */
	const char *arch;	/* NULL: "x86" */
} scenarios[] = {
	[SHD_FAULT_SKIP_REMOTE_IPI] = { "skip_remote_ipi", skip_remote_ipi, 1,
		UBASE + 8, -EFAULT, 0x42, SHD_VIOLATION_STALE_TLB,
		"flush_tlb_range", 0 },
	[SHD_FAULT_SKIP_LOCAL_FLUSH] = { "skip_local_flush", skip_local_flush, 0,
		UBASE + 8, -EFAULT, 0x43, SHD_VIOLATION_STALE_TLB,
		"flush_tlb_range", 0 },
	[SHD_FAULT_IGNORE_TLB_GEN] = { "ignore_tlb_gen", ignore_tlb_gen, 1,
		UBASE + 8, 0, 0x44, SHD_VIOLATION_STALE_TLB,
		"flush_tlb_range", 0 },
	[SHD_FAULT_DROP_LAZY_FLUSH] = { "drop_lazy_flush", drop_lazy_flush, 1,
		UBASE + 8, 0, 0x45, SHD_VIOLATION_STALE_TLB,
		"flush_tlb_range", 0 },
	[SHD_FAULT_RANGE_SHORT] = { "range_short", range_short, 1,
		UBASE + 3 * PAGE + 8, -EFAULT, 0x46, SHD_VIOLATION_STALE_TLB,
		"flush_tlb_range", 0 },
	[SHD_FAULT_FREE_BEFORE_FLUSH] = { "free_before_flush", free_before_flush,
		1, UBASE + 8, -EFAULT, 0x48, SHD_VIOLATION_USE_AFTER_FREE,
		"none", UAF_TRIES },
	[SHD_FAULT_SKIP_BATCHED_PENDING] = { "skip_batched_pending",
		skip_batched_pending, 1, UBASE + 8, -EFAULT, 0x49,
		SHD_VIOLATION_STALE_TLB, "flush_tlb_range", 0 },
	[SHD_FAULT_ASYNC_EARLY_FREE] = { "async_early_free", async_early_free,
		1, UBASE + 8, 0, 0x4a, SHD_VIOLATION_USE_AFTER_FREE, "none", 0,
		"latr" },
	[SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE] = { "skip_flush_dcache_page",
		skip_flush_dcache_page, 0, UBASE + 8, 0, 0,
		SHD_VIOLATION_STALE_DATA, "flush_dcache_page", 0, NULL, "sparc64" },
	[SHD_FAULT_DEFERRED_FLUSH_WRONG_CPU] = { "deferred_flush_wrong_cpu",
		deferred_flush_wrong_cpu, 0, UBASE + 8, 0, 0,
		SHD_VIOLATION_STALE_DATA, "flush_dcache_page", 0, NULL, "sparc64" },
	[SHD_FAULT_SKIP_PTRACE_FLUSH] = { "skip_ptrace_flush", skip_ptrace_flush,
		0, UBASE + 8, 0, 1, SHD_VIOLATION_STALE_DATA, "flush_dcache_page",
		0, NULL, "sparc64" },
	[SHD_FAULT_ARCH1_OVERWRITTEN] = { "arch1_overwritten",
		arch1_overwritten, 0, UBASE + 8, 0, 0, SHD_VIOLATION_STALE_DATA,
		"flush_dcache_page", 0, NULL, "sparc64" },
	[SHD_FAULT_ARCH1_NOT_CLEARED] = { "arch1_not_cleared",
		arch1_not_cleared, 0, UBASE + 8, 0, 0, SHD_VIOLATION_STALE_INSN,
		"flush_icache_range", 0, NULL, "arm64" },
	[SHD_FAULT_SKIP_PTRACE_ICACHE] = { "skip_ptrace_icache",
		skip_ptrace_icache, 0, UBASE + 8, 0, 0x51,
		SHD_VIOLATION_STALE_INSN, "flush_icache_range", 0, NULL, "arm64" },
	[SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE] = { "skip_flush_icache_range",
		skip_flush_icache_range, 1, KBASE + 8, 0, 0,
		SHD_VIOLATION_STALE_INSN, "flush_icache_range", 0, NULL, "arm64" },
	[SHD_FAULT_TLB_BEFORE_CACHE] = { "tlb_before_cache", tlb_before_cache,
		0, UBASE, 0, 0, SHD_VIOLATION_ORDERING, "flush_cache_range", 0,
		NULL, "hypersparc" },
	[SHD_FAULT_SKIP_KERNEL_VMAP_INVALIDATE] = { "skip_kernel_vmap_invalidate",
		skip_kernel_vmap_invalidate, 0, KBASE + 8, 0, 0,
		SHD_VIOLATION_STALE_DATA, "invalidate_kernel_vmap_range", 0, NULL,
		"hypersparc" },
};

#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

Test(oracle, every_injectable_fault_has_a_scenario)
{
	size_t n = 0;
	const struct shd_named *f = shd_faults(&n);

	cr_assert_eq(n, NSCENARIOS, "shd_faults() lists %zu faults, this file "
		     "tests %zu: add a scenario", n, NSCENARIOS);
	for (size_t i = 0; i < n; i++) {
		cr_assert_not_null(scenarios[i].fn, "no scenario for %s",
				   f[i].name);
		cr_assert_str_eq(f[i].name, scenarios[i].name);
	}
}

static void check_fault(enum shd_fault fault)
{
	const char *name = scenarios[fault].name;
	unsigned tries = scenarios[fault].tries ? scenarios[fault].tries : 1;
	struct outcome clean, bad;
	char seed[32], who[16];

	scenario_policy = scenarios[fault].policy ? scenarios[fault].policy :
			  "linux";
	scenario_arch = scenarios[fault].arch ? scenarios[fault].arch : "x86";
	/* A racy scenario stops at its first report: run it with the fault
	 * first, then the same loop without it, as many times and at least
	 * CLEAN_TRIES (where no attempt may report anything). */
	bad = run_scenario_tries(scenarios[fault].fn, 2, 1ull << fault, true,
				 tries);
	cr_assert_geq(bad.nviol, 1, "oracle missed fault %s (%u attempt(s))",
		      name, bad.tries);
	if (scenarios[fault].tries)
		cr_log_info("%s: caught after %u attempt(s)", name, bad.tries);

	if (scenarios[fault].tries)
		tries = bad.tries > CLEAN_TRIES ? bad.tries : CLEAN_TRIES;
	clean = run_scenario_tries(scenarios[fault].fn, 2, 0, true, tries);
	cr_assert_eq(clean.nviol, 0, "%s scenario without the fault: %s",
		     name, clean.first.text);
	cr_assert_eq(clean.rc, scenarios[fault].clean_rc,
		     "%s scenario without the fault: access returned %d",
		     name, clean.rc);
	if (scenarios[fault].tries)
		cr_assert_eq(clean.tries, tries, "%s: the clean loop ran %u "
			     "attempts of %u", name, clean.tries, tries);

	/* The stale hit really used the old translation. */
	cr_assert_eq(bad.rc, 0, "%s: %d", name, bad.rc);
	cr_assert_eq(bad.val, scenarios[fault].stale_val);

	cr_assert_eq(bad.first.kind, scenarios[fault].kind, "%s: %s", name,
		     bad.first.text);
	cr_assert_eq(bad.first.cpu, scenarios[fault].cpu);
	cr_assert_eq(bad.first.mm_id, bad.mm_id);
	cr_assert_eq(bad.first.addr, scenarios[fault].addr);
	cr_assert_eq(bad.first.seed, TEST_SEED);
	cr_assert_str_eq(bad.first.interface, scenarios[fault].iface);
	snprintf(seed, sizeof(seed), "seed %" PRIu64, (uint64_t)TEST_SEED);
	snprintf(who, sizeof(who), "cpu %u", scenarios[fault].cpu);
	cr_assert_not_null(strstr(bad.first.text, who), "%s", bad.first.text);
	cr_assert_not_null(strstr(bad.first.text, seed), "%s", bad.first.text);
	if (scenarios[fault].kind == SHD_VIOLATION_STALE_DATA) {
		cr_assert_not_null(strstr(bad.first.text, "stale data"), "%s",
				   bad.first.text);
	} else if (scenarios[fault].kind == SHD_VIOLATION_STALE_INSN) {
		cr_assert_not_null(strstr(bad.first.text, "stale instruction"),
				   "%s", bad.first.text);
	} else if (scenarios[fault].kind == SHD_VIOLATION_ORDERING) {
		cr_assert_not_null(strstr(bad.first.text, "before flushing the "
					  "cache"), "%s", bad.first.text);
		cr_assert_not_null(strstr(bad.first.text, scenarios[fault].iface),
				   "%s", bad.first.text);
	} else if (scenarios[fault].kind == SHD_VIOLATION_STALE_TLB) {
		cr_assert_lt(bad.first.entry_version, bad.first.flushed_version);
		cr_assert_not_null(strstr(bad.first.text, scenarios[fault].iface),
				   "%s", bad.first.text);
	} else {
		/* Not stale by the flush history (its flush was in flight),
		 * but the PTE changed since the fill and its frame is gone. */
		cr_assert_eq(bad.first.flushed_version, 0);
		cr_assert_lt(bad.first.entry_version, bad.first.pte_version);
		cr_assert_not_null(strstr(bad.first.text, "use after free"),
				   "%s", bad.first.text);
	}
}

Test(oracle, catches_skip_remote_ipi)
{
	check_fault(SHD_FAULT_SKIP_REMOTE_IPI);
}

Test(oracle, catches_skip_local_flush)
{
	check_fault(SHD_FAULT_SKIP_LOCAL_FLUSH);
}

Test(oracle, catches_ignore_tlb_gen)
{
	check_fault(SHD_FAULT_IGNORE_TLB_GEN);
}

Test(oracle, catches_drop_lazy_flush)
{
	check_fault(SHD_FAULT_DROP_LAZY_FLUSH);
}

Test(oracle, catches_range_short)
{
	check_fault(SHD_FAULT_RANGE_SHORT);
}

Test(oracle, catches_free_before_flush)
{
	check_fault(SHD_FAULT_FREE_BEFORE_FLUSH);
}

Test(oracle, catches_skip_batched_pending)
{
	check_fault(SHD_FAULT_SKIP_BATCHED_PENDING);
}

Test(oracle, catches_async_early_free)
{
	check_fault(SHD_FAULT_ASYNC_EARLY_FREE);
}

Test(oracle, catches_skip_flush_dcache_page)
{
	check_fault(SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE);
}

Test(oracle, catches_deferred_flush_wrong_cpu)
{
	check_fault(SHD_FAULT_DEFERRED_FLUSH_WRONG_CPU);
}

Test(oracle, catches_arch1_overwritten)
{
	check_fault(SHD_FAULT_ARCH1_OVERWRITTEN);
}

Test(oracle, catches_skip_ptrace_flush)
{
	check_fault(SHD_FAULT_SKIP_PTRACE_FLUSH);
}

Test(oracle, catches_tlb_before_cache)
{
	check_fault(SHD_FAULT_TLB_BEFORE_CACHE);
}

Test(oracle, catches_skip_kernel_vmap_invalidate)
{
	check_fault(SHD_FAULT_SKIP_KERNEL_VMAP_INVALIDATE);
}

Test(oracle, catches_arch1_not_cleared)
{
	check_fault(SHD_FAULT_ARCH1_NOT_CLEARED);
}

Test(oracle, catches_skip_ptrace_icache)
{
	check_fault(SHD_FAULT_SKIP_PTRACE_ICACHE);
}

Test(oracle, catches_skip_flush_icache_range)
{
	check_fault(SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE);
}

/* The new value each I-cache scenario's last fetch must see. */
static const struct {
	enum shd_fault fault;
	uint64_t want;
} icache_scenarios[] = {
	{ SHD_FAULT_ARCH1_NOT_CLEARED, 0x50 },
	{ SHD_FAULT_SKIP_PTRACE_ICACHE, 0x52 },
	{ SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE, 0x53 },
};

/* The I-cache scenarios where the I-cache snoops (x86, sparc64): the same
 * runs with their faults on cannot go stale (the faults are refused by the
 * CLI there), and without them they fetch the new words. */
Test(oracle, the_icache_scenarios_are_clean_where_the_icache_snoops)
{
	static const char *const arches[] = { "x86", "sparc64" };

	scenario_policy = "linux";
	for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
		scenario_arch = arches[a];
		for (size_t i = 0; i < sizeof(icache_scenarios) /
					sizeof(icache_scenarios[0]); i++) {
			enum shd_fault f = icache_scenarios[i].fault;
			struct outcome o = run_scenario(scenarios[f].fn, 2,
							1ull << f, true);

			cr_assert_eq(o.nviol, 0, "%s on %s: %s", scenarios[f].name,
				     arches[a], o.first.text);
			cr_assert_eq(o.rc, 0, "%s on %s", scenarios[f].name,
				     arches[a]);
			cr_assert_eq(o.val, icache_scenarios[i].want, "%s on %s: "
				     "0x%" PRIx64, scenarios[f].name, arches[a],
				     o.val);
		}
	}
}

/* Without the faults the I-cache scenarios fetch the new words on arm64,
 * and with the oracle off a faulty run fetches the stale one unreported. */
Test(oracle, the_icache_scenarios_fetch_new_words_on_arm64)
{
	scenario_policy = "linux";
	scenario_arch = "arm64";
	for (size_t i = 0; i < sizeof(icache_scenarios) /
				sizeof(icache_scenarios[0]); i++) {
		enum shd_fault f = icache_scenarios[i].fault;
		struct outcome o = run_scenario(scenarios[f].fn, 2, 0, true);

		cr_assert_eq(o.nviol, 0, "%s: %s", scenarios[f].name,
			     o.first.text);
		cr_assert_eq(o.rc, 0);
		cr_assert_eq(o.val, icache_scenarios[i].want, "%s: 0x%" PRIx64,
			     scenarios[f].name, o.val);
		o = run_scenario(scenarios[f].fn, 2, 1ull << f, false);
		cr_assert_eq(o.nviol, 0);
		cr_assert_eq(o.rc, 0);
		cr_assert_eq(o.val, scenarios[f].stale_val, "%s, oracle off: "
			     "0x%" PRIx64, scenarios[f].name, o.val);
	}
}

/* On arm64 a write(2) that skips flush_dcache_page leaves PG_dcache_clean
 * set just as arch1_not_cleared does: the same scenario catches it. */
Test(oracle, catches_skip_flush_dcache_page_on_arm64)
{
	struct outcome o;

	scenario_policy = "linux";
	scenario_arch = "arm64";
	o = run_scenario(arch1_not_cleared, 2,
			 1ull << SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE, true);
	cr_assert_geq(o.nviol, 1, "oracle missed skip_flush_dcache_page on arm64");
	cr_assert_eq(o.first.kind, SHD_VIOLATION_STALE_INSN, "%s", o.first.text);
	cr_assert_eq(o.first.cpu, 0);
	cr_assert_eq(o.first.addr, UBASE + 8);
	cr_assert_eq(o.rc, 0);
	cr_assert_eq(o.val, 0);
}

/* The cache scenarios on x86: the same runs, the faults cannot matter
 * (and are refused by the CLI): no violation. */
Test(oracle, the_cache_scenarios_are_clean_on_x86)
{
	scenario_policy = "linux";
	scenario_arch = "x86";
	static const uint64_t want[] = { 0x4b, 0x4c, 0x4d };

	for (int f = SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE;
	     f <= SHD_FAULT_SKIP_PTRACE_FLUSH; f++) {
		struct outcome o = run_scenario(scenarios[f].fn, 2, 1ull << f, true);

		cr_assert_eq(o.nviol, 0, "%s on x86: %s", scenarios[f].name,
			     o.first.text);
		cr_assert_eq(o.rc, 0);
		cr_assert_eq(o.val, want[f - SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE]);
	}
}

Test(oracle, a_fault_outside_the_scenarios_path_is_not_reported)
{
	/* skip_local_flush does not matter when only a remote CPU caches. */
	struct outcome o = run_scenario(skip_remote_ipi, 2,
					1ull << SHD_FAULT_SKIP_LOCAL_FLUSH, true);

	cr_assert_eq(o.nviol, 0, "%s", o.first.text);
	cr_assert_eq(o.rc, -EFAULT);
}

Test(oracle, with_the_oracle_off_nothing_is_reported)
{
	struct outcome o = run_scenario(skip_local_flush, 2,
					1ull << SHD_FAULT_SKIP_LOCAL_FLUSH, false);

	cr_assert_eq(o.rc, 0, "the stale hit still happens");
	cr_assert_eq(o.nviol, 0);
}

/* ---- reports ---- */

static int many_stale_hits(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_mprotect(cpu, o->a, UBASE, PAGE, SHD_PROT_READ));
	for (int i = 0; i < 20; i++)
		T_OK(shd_load(cpu, UBASE, &v));
	return 0;
}

Test(oracle, keeps_the_first_16_reports_and_counts_them_all)
{
	struct shd_config c = test_config(2, "linux");
	struct shd_machine *m;
	struct shd_violation v[20];
	struct orc o;

	c.faults = 1ull << SHD_FAULT_SKIP_LOCAL_FLUSH;
	m = test_machine(&c);
	memset(&o, 0, sizeof(o));
	memset(v, 0, sizeof(v));
	o.a = test_mm(m);
	run_one(m, 0, many_stale_hits, &o);
	assert_tasks_ok();
	cr_assert_eq(shd_machine_violations(m, v, 20), 20);
	cr_assert_eq(shd_machine_violations(m, NULL, 0), 20);
	cr_assert_eq(test_stats(m).violations, 20);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(v[i].addr, UBASE, "report %d", i);
	cr_assert_eq(v[16].addr, 0, "more than 16 reports were copied");
	cr_assert_eq(v[16].text[0], '\0');
	shd_machine_destroy(m);
}

/* ---- the oracle across a freed page table ---- */

static int remote_unmap_all_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, o->a, UBASE, PAGE, RW));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		/* The whole mapping: its page table is freed too. */
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		step_set(&o->step, 3);
		step_wait(cpu, &o->step, 4);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_store(cpu, UBASE + 8, 0x47));
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 4);
	}
	return 0;
}

static void skip_remote_ipi_freeing_tables(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, remote_unmap_all_task, o), 0);
}

/*
 * BUG (runtime/mm.c unmap_common() with runtime/tlbflush.c
 * shd__flush_tlb_mm_range()): munmap unlinks empty page-table leaves
 * (free_empty_leaves) *before* the flush, and the flush then credits the
 * range by walking mm->pgd (shd__oracle_credit_range), which no longer
 * reaches those leaves; leaves_release() -> shd__oracle_fold_leaf() only
 * folds the whole-mm credit.  So the PTEs of a munmap that frees its page
 * table are never credited, and a stale TLB hit on them afterwards is not
 * reported: with skip_remote_ipi, cpu 1 reads the freed frame (rc 0, old
 * data) and the oracle reports 0 violations.
 */
Test(oracle, catches_a_stale_hit_after_a_munmap_that_freed_the_page_table)
{
	struct outcome clean, bad;

	clean = run_scenario(skip_remote_ipi_freeing_tables, 2, 0, true);
	cr_assert_eq(clean.nviol, 0);
	cr_assert_eq(clean.rc, -EFAULT);
	bad = run_scenario(skip_remote_ipi_freeing_tables, 2,
			   1ull << SHD_FAULT_SKIP_REMOTE_IPI, true);
	cr_assert_eq(bad.rc, 0, "no stale hit happened: %d", bad.rc);
	cr_assert_eq(bad.val, 0x47);
	cr_assert_geq(bad.nviol, 1, "stale hit on a freed page table's PTE "
		      "was not reported");
}
