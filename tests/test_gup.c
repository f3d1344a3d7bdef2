/* SPDX-License-Identifier: MIT */
/* Tests of ptrace pokes (access_process_vm, FOLL_FORCE): COW, the D-cache, the I-cache. */
#include <inttypes.h>

#include "shd_test.h"

/* One ptrace scenario: the tracee's mm (and its child), the file it maps. */
struct poke {
	struct shd_mm *a, *child;
	struct shd_file *f;
	int step;
	int rc[8];
	uint64_t v[8];
};

/* ---- ptrace: FOLL_FORCE into a private read-only mapping ---- */

static int force_poke_task(struct shd_cpu *cpu, void *arg)
{
	struct poke *s = arg;
	uint64_t v = 0;

	/* The file holds 0x80 at offset 8 of both pages. */
	T_OK(shd_file_write(cpu, s->f, 8, 0x80));
	T_OK(shd_file_write(cpu, s->f, PAGE + 8, 0x80));
	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap_file(cpu, s->a, UBASE, 2 * PAGE, RX, SHD_MAP_PRIVATE,
			   s->f, 0));
	T_OK(shd_mmap_file(cpu, s->a, FAR, 2 * PAGE, SHD_PROT_READ,
			   SHD_MAP_SHARED, s->f, 0));
	/* Page 0 is mapped (the page cache's page) before the poke; page 1
	 * is not. */
	T_LOAD(cpu, UBASE + 8, 0x80);
	T_FETCH(cpu, UBASE + 8, 0x80);
	shd_enter_lazy_tlb(cpu);
	T_OK(shd_ptrace_poke(cpu, s->a, UBASE + 8, 0x81));
	T_OK(shd_ptrace_poke(cpu, s->a, UBASE + PAGE + 8, 0x82));
	T_OK(shd_ptrace_peek(cpu, s->a, UBASE + 8, &v));
	T_EQ((int)v, 0x81);
	T_OK(shd_ptrace_peek(cpu, s->a, UBASE + PAGE + 8, &v));
	T_EQ((int)v, 0x82);
	T_OK(shd_switch_mm(cpu, s->a));
	T_LOAD(cpu, UBASE + 8, 0x81);
	T_LOAD(cpu, UBASE + PAGE + 8, 0x82);
	T_FETCH(cpu, UBASE + 8, 0x81);
	T_FETCH(cpu, UBASE + PAGE + 8, 0x82);
	/* The page stays read-only to the program. */
	T_EQ(shd_store(cpu, UBASE + 8, 0x83), -EACCES);
	T_EQ(shd_store(cpu, UBASE + PAGE + 8, 0x83), -EACCES);
	/* The page cache and its shared mapping keep the file's data. */
	T_OK(shd_file_read(cpu, s->f, 8, &v));
	T_EQ((int)v, 0x80);
	T_OK(shd_file_read(cpu, s->f, PAGE + 8, &v));
	T_EQ((int)v, 0x80);
	T_LOAD(cpu, FAR + 8, 0x80);
	/* A second poke lands in the copy. */
	shd_enter_lazy_tlb(cpu);
	T_OK(shd_ptrace_poke(cpu, s->a, UBASE + 8, 0x84));
	T_OK(shd_switch_mm(cpu, s->a));
	T_LOAD(cpu, UBASE + 8, 0x84);
	T_FETCH(cpu, UBASE + 8, 0x84);
	T_OK(shd_file_read(cpu, s->f, 8, &v));
	T_EQ((int)v, 0x80);
	/* A shared mapping the program cannot write is not forced: touched
	 * (FAR) or not (FAR + PAGE). */
	T_EQ(shd_ptrace_poke(cpu, s->a, FAR + 8, 0x85), -EACCES);
	T_EQ(shd_ptrace_poke(cpu, s->a, FAR + PAGE + 8, 0x85), -EACCES);
	T_LOAD(cpu, FAR + 8, 0x80);
	T_LOAD(cpu, FAR + PAGE + 8, 0x80);
	T_OK(shd_file_read(cpu, s->f, 8, &v));
	T_EQ((int)v, 0x80);
	T_OK(shd_file_read(cpu, s->f, PAGE + 8, &v));
	T_EQ((int)v, 0x80);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static void force_poke_on(const char *arch)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .arch = arch);
	struct shd_stats st;
	struct poke s;

	memset(&s, 0, sizeof(s));
	s.a = test_mm(m);
	s.f = test_file(m, 2);
	run_one(m, 0, force_poke_task, &s);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.cow_copies, 2, "%s: %" PRIu64 " copies", arch,
		     st.cow_copies);
	cr_assert_eq(st.violations, 0, "%s", arch);
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
}

Test(gup, ptrace_pokes_a_private_read_only_mapping_like_foll_force)
{
	for (size_t i = 0; i < NARCHES; i++)
		force_poke_on(all_arches[i]);
}

/*
 * arm64: a poke into text another CPU runs.  The first poke copies the page
 * (FOLL_FORCE); cpu 1 runs the tracee and fetches the poked word; cpu 0
 * pokes it again in the copy; cpu 1 fetches the new word (the poke's
 * I-cache invalidation is broadcast).
 */
static int poke_text_task(struct shd_cpu *cpu, void *arg)
{
	struct poke *s = arg;

	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_switch_mm(cpu, s->a));
		T_OK(shd_mmap_file(cpu, s->a, UBASE, PAGE, RX, SHD_MAP_PRIVATE,
				   s->f, 0));
		shd_enter_lazy_tlb(cpu);
		T_OK(shd_ptrace_poke(cpu, s->a, UBASE + 8, 0x90));
		T_OK(shd_switch_mm(cpu, NULL));
		step_set(&s->step, 1);
		step_wait(cpu, &s->step, 2);
		T_OK(shd_ptrace_poke(cpu, s->a, UBASE + 8, 0x91));
		step_set(&s->step, 3);
		step_wait(cpu, &s->step, 4);
	} else {
		step_wait(cpu, &s->step, 1);
		T_OK(shd_switch_mm(cpu, s->a));
		T_FETCH(cpu, UBASE + 8, 0x90);
		step_set(&s->step, 2);
		step_wait(cpu, &s->step, 3);
		s->rc[1] = shd_fetch(cpu, UBASE + 8, &s->v[1]);
		T_OK(shd_switch_mm(cpu, NULL));
		step_set(&s->step, 4);
	}
	return 0;
}

static struct outcome poke_text(const struct fault_row *row, uint64_t faults)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = row->arch,
					.policy = row->policy, .faults = faults);
	struct outcome o;
	struct poke s;

	memset(&s, 0, sizeof(s));
	s.a = test_mm(m);
	s.f = test_file(m, 1);
	cr_assert_eq(shd_run_on(m, 0, 2, poke_text_task, &s), 0);
	assert_tasks_ok();
	o = row_outcome(m, s.rc[1], s.v[1]);
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
	return o;
}

/* The poke's I-cache invalidation, and the same run without it: stale,
 * reported. */
static const struct fault_row poke_rows[] = {
	{ "a poke into text", poke_text, "arm64", NULL,
	  SHD_FAULT_SKIP_PTRACE_ICACHE, false, 0, 0x91, 0, NULL, 0, 0 },
	{ "a poke into text", poke_text, "arm64", NULL,
	  SHD_FAULT_SKIP_PTRACE_ICACHE, true, 0, 0x90, 1, NULL, 0, 0 },
};

TABLE_PARAMS(gup, a_ptrace_poke_into_text_reaches_the_icache_of_every_cpu,
	     poke_rows)
ParameterizedTest(const size_t *row, gup,
		  a_ptrace_poke_into_text_reaches_the_icache_of_every_cpu)
{
	check_fault_row(&poke_rows[*row]);
}

/* ---- ptrace: FOLL_FORCE into a write-protected page after fork ---- */

static int fork_setup_task(struct shd_cpu *cpu, void *arg)
{
	struct poke *s = arg;

	T_OK(shd_file_write(cpu, s->f, 8, 0x77));
	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap(cpu, s->a, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 0x1));
	T_OK(shd_mmap_file(cpu, s->a, FAR, PAGE, SHD_PROT_EXEC,
			   SHD_MAP_PRIVATE, s->f, 0));
	T_OK(shd_mmap(cpu, s->a, FAR + 2 * PAGE, PAGE, SHD_PROT_EXEC));
	/* fork: the parent's private page is write-protected, shared */
	T_OK(shd_mm_dup(cpu, s->a, &s->child));
	return 0;
}

/* The tracer, on another CPU, pokes the parent. */
static int fork_poke_task(struct shd_cpu *cpu, void *arg)
{
	struct poke *s = arg;

	s->rc[0] = shd_ptrace_poke(cpu, s->a, UBASE + 8, 0x2);
	T_OK(shd_ptrace_peek(cpu, s->a, UBASE + 8, &s->v[0]));
	return 0;
}

/* The parent runs: its PTE is writable, no fault, no copy. */
static int parent_store_task(struct shd_cpu *cpu, void *arg)
{
	struct poke *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	T_LOAD(cpu, UBASE + 8, 0x2);
	s->rc[1] = shd_store(cpu, UBASE + 8, 0x3);
	T_LOAD(cpu, UBASE + 8, 0x3);
	return 0;
}

/* The child still has the page as it was at fork, now its own alone. */
static int child_task(struct shd_cpu *cpu, void *arg)
{
	struct poke *s = arg;

	T_OK(shd_switch_mm(cpu, s->child));
	T_LOAD(cpu, UBASE + 8, 0x1);
	T_OK(shd_store(cpu, UBASE + 8, 0x4));
	T_LOAD(cpu, UBASE + 8, 0x4);
	T_OK(shd_switch_mm(cpu, s->a));
	T_LOAD(cpu, UBASE + 8, 0x3);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

/* Execute-only memory: peeks read it, a poke into private text copies. */
static int exec_only_task(struct shd_cpu *cpu, void *arg)
{
	struct poke *s = arg;
	uint64_t v = 0;

	s->rc[2] = shd_ptrace_peek(cpu, s->a, FAR + 8, &s->v[2]);
	s->rc[3] = shd_ptrace_peek(cpu, s->a, FAR + 2 * PAGE + 8, &s->v[3]);
	s->rc[4] = shd_ptrace_poke(cpu, s->a, FAR + 8, 0x78);
	T_OK(shd_ptrace_peek(cpu, s->a, FAR + 8, &s->v[4]));
	s->rc[5] = shd_ptrace_poke(cpu, s->a, FAR + 16, 0x79);	/* the copy */
	T_OK(shd_ptrace_peek(cpu, s->a, FAR + 16, &s->v[5]));
	/* the page cache keeps the file's data */
	T_OK(shd_file_read(cpu, s->f, 8, &v));
	T_EQ((int)v, 0x77);
	T_OK(shd_file_read(cpu, s->f, 16, &v));
	T_EQ((int)v, 0);
	return 0;
}

/* The program runs its poked text, and may not store to it. */
static int exec_run_task(struct shd_cpu *cpu, void *arg)
{
	struct poke *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	T_FETCH(cpu, FAR + 8, 0x78);
	T_FETCH(cpu, FAR + 16, 0x79);
	T_EQ(shd_store(cpu, FAR + 8, 0x7a), -EACCES);
	T_FETCH(cpu, FAR + 8, 0x78);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static void foll_force_after_fork_on(const char *arch)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = arch);
	struct shd_stats s0, s1, s2, s3, s4;
	struct poke s;

	memset(&s, 0, sizeof(s));
	s.a = test_mm(m);
	s.f = test_file(m, 1);
	run_one(m, 0, fork_setup_task, &s);
	assert_tasks_ok();
	cr_assert_not_null(s.child);

	s0 = test_stats(m);
	run_one(m, 1, fork_poke_task, &s);
	assert_tasks_ok();
	s1 = test_stats(m);
	cr_assert_eq(s.rc[0], 0, "%s: poke %d", arch, s.rc[0]);
	cr_assert_eq(s.v[0], 0x2, "%s: peek 0x%" PRIx64, arch, s.v[0]);
	cr_assert_eq(s1.cow_copies - s0.cow_copies, 1, "%s: %" PRIu64 " copies",
		     arch, s1.cow_copies - s0.cow_copies);

	run_one(m, 0, parent_store_task, &s);
	assert_tasks_ok();
	s2 = test_stats(m);
	cr_assert_eq(s.rc[1], 0, "%s: the parent's store: %d", arch, s.rc[1]);
	cr_assert_eq(s2.cow_copies, s1.cow_copies, "%s: the store copied "
		     "again", arch);
	cr_assert_eq(s2.page_faults, s1.page_faults, "%s: the store faulted "
		     "(the poke left the PTE read-only)", arch);

	run_one(m, 0, child_task, &s);
	assert_tasks_ok();
	s3 = test_stats(m);
	cr_assert_eq(s3.cow_copies, s2.cow_copies, "%s: the child's page is "
		     "its own since the poke: reused, not copied", arch);

	run_one(m, 1, exec_only_task, &s);
	assert_tasks_ok();
	s4 = test_stats(m);
	cr_assert_eq(s.rc[2], 0, "%s: peek of execute-only text: %d", arch,
		     s.rc[2]);
	cr_assert_eq(s.v[2], 0x77, "%s: 0x%" PRIx64, arch, s.v[2]);
	cr_assert_eq(s.rc[3], 0, "%s: peek of execute-only anon: %d", arch,
		     s.rc[3]);
	cr_assert_eq(s.v[3], 0);
	cr_assert_eq(s.rc[4], 0, "%s: poke into execute-only text: %d", arch,
		     s.rc[4]);
	cr_assert_eq(s.v[4], 0x78);
	cr_assert_eq(s.rc[5], 0, "%s: second poke: %d", arch, s.rc[5]);
	cr_assert_eq(s.v[5], 0x79);
	cr_assert_eq(s4.cow_copies - s3.cow_copies, 1, "%s: %" PRIu64
		     " copies for two pokes into one page", arch,
		     s4.cow_copies - s3.cow_copies);

	run_one(m, 0, exec_run_task, &s);
	assert_tasks_ok();
	cr_assert_eq(shd_machine_violations(m, NULL, 0), 0, "%s", arch);
	shd_mm_destroy(s.child);
	shd_mm_destroy(s.a);
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
}

Test(gup, a_poke_after_fork_breaks_cow_once_and_leaves_the_pte_writable)
{
	foll_force_after_fork_on("x86");
	foll_force_after_fork_on("sparc64");
	foll_force_after_fork_on("arm64");
	foll_force_after_fork_on("hypersparc");
}
