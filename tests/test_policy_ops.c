/* SPDX-License-Identifier: MIT */
/* Tests of policies in C: checking a table, building a policy, the hook marker. */
#include <sys/mman.h>
#include <unistd.h>

#include "shd_test.h"
#include "../policy/policy_ops.h"

static const struct shd_policy_knob two_knobs[] = {
	{ "depth", "how deep", 3, 1, 9 },
	{ "wide", "how wide", 0, 0, 1 },
	{ NULL, NULL, 0, 0, 0 },
};

static struct shd_policy_ops table(void)
{
	return (struct shd_policy_ops){
		.version = SHD_POLICY_OPS_VERSION, .name = "mine",
		.base = "linux-6.12", .knobs = two_knobs,
	};
}

Test(policy_ops, a_sane_table_passes_and_builds_over_its_base)
{
	struct shd_policy_ops ops = table();
	struct shd_policy p, base;

	cr_assert_eq(shd_policy_ops_check(&ops), 0, "%s", shd_last_error());
	cr_assert_eq(shd_policy_from_ops(&ops, &p), 0, "%s", shd_last_error());
	cr_assert_str_eq(p.name, "mine");
	cr_assert_eq(p.ops, &ops);
	cr_assert_eq(p.knob[0], 3);
	cr_assert_eq(p.knob[1], 0);
	cr_assert_eq(shd_policy_preset("linux-6.12", &base), 0);
	cr_assert_eq(p.switch_mm, base.switch_mm, "not over its base");
	ops.base = NULL;	/* linux by default */
	cr_assert_eq(shd_policy_from_ops(&ops, &p), 0);
	cr_assert_eq(p.switch_mm, SHD_SWITCH_6_13);
}

Test(policy_ops, a_wrong_version_is_refused_naming_both)
{
	struct shd_policy_ops ops = table();

	ops.version = SHD_POLICY_OPS_VERSION + 1;
	cr_assert_eq(shd_policy_ops_check(&ops), -EINVAL);
	cr_assert(strstr(shd_last_error(), "API version"), "%s", shd_last_error());
	cr_assert_eq(shd_policy_ops_check(NULL), -EINVAL);
}

Test(policy_ops, bad_names_and_bases_are_refused)
{
	struct shd_policy_ops ops = table();

	ops.name = "Bad-Name";
	cr_assert_eq(shd_policy_ops_check(&ops), -EINVAL);
	ops.name = "linux";	/* a preset's */
	cr_assert_eq(shd_policy_ops_check(&ops), -EINVAL);
	cr_assert(strstr(shd_last_error(), "built-in"), "%s", shd_last_error());
	ops.name = "mine";
	ops.base = "nosuch";
	cr_assert_eq(shd_policy_ops_check(&ops), -EINVAL);
}

Test(policy_ops, bad_knobs_are_refused)
{
	static const struct shd_policy_knob range[] = {
		{ "k", "", 10, 0, 5 }, { NULL, NULL, 0, 0, 0 } };
	static const struct shd_policy_knob builtin[] = {
		{ "ceiling", "", 1, 0, 5 }, { NULL, NULL, 0, 0, 0 } };
	static const struct shd_policy_knob twice[] = {
		{ "k", "", 1, 0, 5 }, { "k", "", 1, 0, 5 }, { NULL, NULL, 0, 0, 0 } };
	static const struct shd_policy_knob negative[] = {
		{ "k", "", 0, -1, 5 }, { NULL, NULL, 0, 0, 0 } };
	static struct shd_policy_knob many[SHD_POLICY_KNOBS_MAX + 2];
	static char names[SHD_POLICY_KNOBS_MAX + 1][8];
	const struct shd_policy_knob *bad[] = { range, builtin, twice, negative,
						 many };
	struct shd_policy_ops ops = table();

	for (unsigned i = 0; i <= SHD_POLICY_KNOBS_MAX; i++) {
		snprintf(names[i], sizeof(names[i]), "k%u", i);
		many[i] = (struct shd_policy_knob){ names[i], "", 0, 0, 1 };
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ops.knobs = bad[i];
		cr_assert_eq(shd_policy_ops_check(&ops), -EINVAL, "table %zu", i);
	}
}

Test(policy_ops, knobs_set_in_range_and_format_after_the_builtins)
{
	struct shd_policy_ops ops = table();
	struct shd_policy p;
	char buf[1024];

	cr_assert_eq(shd_policy_from_ops(&ops, &p), 0);
	cr_assert_eq(shd_policy_set(&p, "depth", "9"), 0);
	cr_assert_eq(p.knob[0], 9);
	cr_assert_eq(shd_policy_set(&p, "depth", "10"), -EINVAL);
	cr_assert_eq(shd_policy_set(&p, "depth", "0"), -EINVAL);
	cr_assert_eq(shd_policy_set(&p, "depth", "-1"), -EINVAL);
	cr_assert_eq(p.knob[0], 9, "a refused value changed the knob");
	cr_assert_eq(shd_policy_set(&p, "ceiling", "7"), 0, "the base's knobs");
	cr_assert_eq(shd_policy_set(&p, "nosuch", "1"), -ENOENT);
	cr_assert_eq(shd_policy_format(&p, buf, sizeof(buf)), 0);
	cr_assert(strstr(buf, "ceiling=7 "), "%s", buf);
	cr_assert(strstr(buf, " depth=9 wide=0"), "%s", buf);
	/* A preset has no such knob. */
	cr_assert_eq(shd_policy_preset("linux", &p), 0);
	cr_assert_eq(shd_policy_set(&p, "depth", "3"), -ENOENT);
}

/* ---- hooks in a machine ---- */

/* CPU 0 maps and CPU 1 caches a writable translation; CPU 0 makes the
 * page read-only; CPU 1 then stores through what it cached, if it can. */
static int write_after_mprotect(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, s->mm, UBASE, PAGE, RW));
		step_set(&s->step, 1);
		step_wait(cpu, &s->step, 2);
		T_OK(shd_mprotect(cpu, s->mm, UBASE, PAGE, SHD_PROT_READ));
		step_set(&s->step, 3);
	} else {
		step_wait(cpu, &s->step, 1);
		T_OK(shd_store(cpu, UBASE, 0x66));
		step_set(&s->step, 2);
		step_wait(cpu, &s->step, 3);
		s->rc[0] = shd_store(cpu, UBASE, 0x67);
	}
	return 0;
}

static struct shd_stats run_with(const struct shd_policy_ops *ops, int *rc)
{
	struct shd_config c = test_config(2, NULL);
	struct shd_machine *m;
	struct scn s = { 0 };
	struct shd_stats st;

	cr_assert_eq(shd_policy_from_ops(ops, &c.policy), 0, "%s",
		     shd_last_error());
	m = test_machine(&c);
	s.mm = test_mm(m);
	cr_assert_eq(shd_run_on(m, 0, 2, write_after_mprotect, &s), 0);
	assert_tasks_ok();
	st = test_stats(m);
	*rc = s.rc[0];
	shd_machine_destroy(m);
	return st;
}

static int hook_calls, hook_marked;
static enum shd_hook_send skip_hook(const struct shd_hook_ctx *c,
				    enum shd_hook_send builtin);

static enum shd_hook_send where_hook(const struct shd_hook_ctx *c,
				     enum shd_hook_send builtin)
{
	const char *pol, *hook;
	unsigned cpu;

	hook_calls++;	/* the seeded scheduler: one CPU at a time */
	hook_marked += shd_policy_hook_where(&pol, &hook, &cpu) &&
		       !strcmp(pol, "mine") && !strcmp(hook, "should_send") &&
		       cpu == c->self && c->cpu != c->self &&
		       c->in_mm_cpumask && c->loaded == SHD_HOOK_LOADED_THIS &&
		       c->knobs[0] == 3 && c->mask_weight == 2;
	return (enum shd_hook_send)42;	/* not a verdict: the base's */
}

Test(policy_ops, a_hook_runs_marked_and_a_bad_verdict_is_the_builtin_one)
{
	struct shd_policy_ops ops = table();
	struct shd_stats st;
	int rc;

	ops.base = "linux";
	ops.should_send = where_hook;
	cr_assert(!shd_policy_hook_where(NULL, NULL, NULL));
	st = run_with(&ops, &rc);
	cr_assert_eq(hook_calls, 1, "the hook ran %d times", hook_calls);
	cr_assert_eq(hook_marked, 1, "the marker or the context was wrong");
	cr_assert(!shd_policy_hook_where(NULL, NULL, NULL), "marker left set");
	cr_assert_eq(st.ipis_sent + st.ipis_coalesced, 1, "not linux's verdict");
	cr_assert_eq(rc, -EACCES, "a store through a stale entry: %d", rc);
	cr_assert_eq(st.violations, 0);
}

Test(policy_ops, the_first_bad_verdict_is_kept_for_a_message)
{
	struct shd_policy_ops ops = table();
	const char *pol, *hook;
	int rc, value;

	ops.base = "linux";
	ops.should_send = skip_hook;
	(void)run_with(&ops, &rc);
	cr_assert(!shd_policy_hook_bad_verdict(&pol, &hook, &value),
		  "good verdicts were taken as bad");
	ops.should_send = where_hook;
	(void)run_with(&ops, &rc);
	cr_assert(shd_policy_hook_bad_verdict(&pol, &hook, &value));
	cr_assert_str_eq(pol, "mine");
	cr_assert_str_eq(hook, "should_send");
	cr_assert_eq(value, 42);
}

static enum shd_hook_send skip_hook(const struct shd_hook_ctx *c,
				    enum shd_hook_send builtin)
{
	(void)c, (void)builtin;
	return SHD_HOOK_SKIP_PRUNED;
}

Test(policy_ops, a_hook_that_skips_a_running_cpu_is_caught_by_the_oracle)
{
	struct shd_policy_ops ops = table();
	struct shd_stats st;
	int rc;

	ops.base = "linux";
	ops.should_send = skip_hook;
	st = run_with(&ops, &rc);
	cr_assert_eq(st.ipis_sent, 0);
	cr_assert_eq(st.ipis_avoided_pruned, 1, "counted as pruned");
	cr_assert_eq(st.ipi_candidates, st.ipis_avoided_pruned);
	cr_assert_gt(st.violations, 0, "the stale store went unseen (rc %d)",
		     rc);
}

static enum shd_hook_action nothing_hook(const struct shd_hook_ctx *c,
					 enum shd_hook_action builtin)
{
	(void)c, (void)builtin;
	return SHD_HOOK_NOTHING;
}

Test(policy_ops, a_flush_action_that_does_nothing_is_caught_by_the_oracle)
{
	struct shd_policy_ops ops = table();
	struct shd_stats st;
	int rc;

	ops.base = "linux";
	ops.flush_action = nothing_hook;
	st = run_with(&ops, &rc);
	cr_assert_eq(st.ipis_sent + st.ipis_coalesced, 1, "the IPI still goes");
	cr_assert_gt(st.violations, 0, "no flush went unseen (rc %d)", rc);
}

Test(policy_ops, versions_1_and_2_load_and_others_are_refused)
{
	struct shd_policy_ops ops = table();

	for (unsigned v = 0; v <= SHD_POLICY_OPS_VERSION + 1; v++) {
		bool ok = v >= SHD_POLICY_OPS_VERSION_MIN &&
			  v <= SHD_POLICY_OPS_VERSION;

		ops.version = v;
		cr_assert_eq(shd_policy_ops_check(&ops), ok ? 0 : -EINVAL,
			     "version %u", v);
		if (!ok)
			cr_assert(strstr(shd_last_error(), "takes 1 to 2"), "%s",
				  shd_last_error());
	}
}

/* ---- defer_flush: reclaim's batch or flush now ---- */

#define NRECLAIM 8

struct rc {
	struct shd_mm *mm;
	int step, ready;
};

/* CPU 1 stores to NRECLAIM pages of the mm; CPU 0 reclaims them all and
 * flushes its batch; CPU 1 then reads zeroes (the pages are gone). */
static int reclaim_scn(struct shd_cpu *cpu, void *arg)
{
	struct rc *r = arg;

	T_OK(shd_switch_mm(cpu, r->mm));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, r->mm, UBASE, NRECLAIM * PAGE, RW));
		step_set(&r->step, 1);
		step_wait(cpu, &r->ready, 1);
		for (unsigned i = 0; i < NRECLAIM; i++)
			T_EQ(shd_try_to_unmap(cpu, r->mm, UBASE + i * PAGE), 1);
		T_OK(shd_try_to_unmap_flush(cpu));
		step_set(&r->step, 2);
		return 0;
	}
	step_wait(cpu, &r->step, 1);
	for (unsigned i = 0; i < NRECLAIM; i++)
		T_OK(shd_store(cpu, UBASE + i * PAGE, i + 1));
	step_set(&r->ready, 1);
	step_wait(cpu, &r->step, 2);
	for (unsigned i = 0; i < NRECLAIM; i++)
		T_LOAD(cpu, UBASE + i * PAGE, 0);
	return 0;
}

static struct shd_stats reclaim_with(const struct shd_policy_ops *ops,
				     const char *batch)
{
	struct shd_config c = test_config(2, NULL);
	struct shd_machine *m;
	struct rc r = { 0 };
	struct shd_stats st;

	cr_assert_eq(shd_policy_from_ops(ops, &c.policy), 0, "%s",
		     shd_last_error());
	if (batch)
		cr_assert_eq(shd_policy_set(&c.policy, "batch", batch), 0);
	m = test_machine(&c);
	r.mm = test_mm(m);
	cr_assert_eq(shd_run_on(m, 0, 2, reclaim_scn, &r), 0);
	assert_tasks_ok();
	st = test_stats(m);
	shd_machine_destroy(m);
	cr_assert_eq(st.violations, 0);
	cr_assert_eq(st.reclaim_pages, NRECLAIM);
	return st;
}

static int defer_calls, defer_marked, defer_builtin_true;

static bool defer_never(const struct shd_hook_ctx *c, bool builtin)
{
	const char *pol, *hook;
	unsigned cpu;

	defer_marked += shd_policy_hook_where(&pol, &hook, &cpu) &&
			!strcmp(hook, "defer_flush") && cpu == c->self &&
			c->npages == 1 && c->mask_weight == 2 &&
			c->batch_pages == 0 && c->loaded == SHD_HOOK_LOADED_THIS;
	defer_builtin_true += builtin;
	defer_calls++;
	return false;
}

static bool defer_always(const struct shd_hook_ctx *c, bool builtin)
{
	(void)builtin;
	cr_assert_eq(c->batch_pages, (unsigned)defer_calls, "pages deferred");
	defer_calls++;
	return true;
}

Test(policy_ops, a_defer_flush_hook_decides_between_batch_and_now)
{
	struct shd_policy_ops ops = table();
	struct shd_stats base, st;

	ops.base = "linux";
	base = reclaim_with(&ops, NULL);
	cr_assert_eq(base.tlbbatch_pages, NRECLAIM, "linux batches");
	cr_assert_eq(base.flush_calls, 1);

	ops.defer_flush = defer_never;
	st = reclaim_with(&ops, NULL);
	cr_assert_eq(defer_calls, NRECLAIM, "called %d times", defer_calls);
	cr_assert_eq(defer_marked, NRECLAIM, "the marker or context was wrong");
	cr_assert_eq(defer_builtin_true, NRECLAIM, "not linux's answer");
	cr_assert_eq(st.tlbbatch_pages, 0, "deferred anyway");
	cr_assert_eq(st.flush_calls, NRECLAIM, "one flush a page");
	cr_assert_eq(st.ipis_sent + st.ipis_coalesced, NRECLAIM);
	cr_assert_eq(st.ipi_candidates, st.ipis_sent + st.ipis_coalesced +
		     st.ipis_avoided_pruned + st.ipis_avoided_lazy);

	/* arm64's batching (invalidate now, wait at the end) asks too. */
	defer_calls = 0;
	st = reclaim_with(&ops, "arm64");
	cr_assert_eq(defer_calls, NRECLAIM);
	cr_assert_eq(st.tlbbatch_pages, 0);

	/* batch=off: Linux does not ask (no TTU_BATCH_FLUSH). */
	ops.defer_flush = defer_always;
	defer_calls = 0;
	st = reclaim_with(&ops, "off");
	cr_assert_eq(defer_calls, 0);
	cr_assert_eq(st.tlbbatch_pages, 0);
}

/* A lone CPU reclaims from an mm only it runs: linux flushes each page at
 * once (no other CPU to batch for); a hook may batch them anyway. */
static int reclaim_alone(struct shd_cpu *cpu, void *arg)
{
	struct rc *r = arg;

	T_OK(shd_switch_mm(cpu, r->mm));
	T_OK(shd_mmap(cpu, r->mm, UBASE, NRECLAIM * PAGE, RW));
	for (unsigned i = 0; i < NRECLAIM; i++)
		T_OK(shd_store(cpu, UBASE + i * PAGE, i + 1));
	for (unsigned i = 0; i < NRECLAIM; i++)
		T_EQ(shd_try_to_unmap(cpu, r->mm, UBASE + i * PAGE), 1);
	T_OK(shd_try_to_unmap_flush(cpu));
	for (unsigned i = 0; i < NRECLAIM; i++)
		T_LOAD(cpu, UBASE + i * PAGE, 0);
	return 0;
}

Test(policy_ops, a_defer_flush_hook_may_batch_where_linux_would_not)
{
	struct shd_policy_ops ops = table();
	struct shd_stats st[2];

	ops.base = "linux";
	for (int i = 0; i < 2; i++) {
		struct shd_config c = test_config(2, NULL);
		struct shd_machine *m;
		struct rc r = { 0 };

		ops.defer_flush = i ? defer_always : NULL;
		defer_calls = 0;
		cr_assert_eq(shd_policy_from_ops(&ops, &c.policy), 0);
		m = test_machine(&c);
		r.mm = test_mm(m);
		run_one(m, 0, reclaim_alone, &r);
		st[i] = test_stats(m);
		shd_machine_destroy(m);
		cr_assert_eq(st[i].violations, 0);
	}
	cr_assert_eq(st[0].tlbbatch_pages, 0, "linux batched a lone mm");
	cr_assert_eq(st[1].tlbbatch_pages, NRECLAIM);
	cr_assert_eq(defer_calls, NRECLAIM);
	cr_assert_eq(st[1].tlbbatch_flushes, 1);
	cr_assert_lt(st[1].flush_calls, st[0].flush_calls);
}

/* ---- a table built against version 1's header ---- */

static int v1_calls;

static enum shd_hook_send v1_send(const struct shd_hook_ctx *c,
				  enum shd_hook_send builtin)
{
	(void)c;
	v1_calls++;
	return builtin;
}

/*
 * A version-1 table ends after lazy_exit_flush: placed against a page
 * the process may not read, a look at a version-2 member (flush_route,
 * defer_flush) is a SIGSEGV, which fails this test.  The runs go through
 * both places that look for one: a flush by IPI under linux-invlpgb
 * (consider_global_asid()) and reclaim (should_defer()).
 */
Test(policy_ops, a_version_1_table_works_and_is_read_no_further_than_its_end)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *mem = mmap(NULL, 2 * (size_t)pg, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct shd__policy_ops_v1 *v1;
	const struct shd_policy_ops *ops;
	struct shd_policy p;
	struct shd_stats st;
	int rc;

	cr_assert_neq(mem, MAP_FAILED);
	cr_assert_eq(mprotect(mem + pg, (size_t)pg, PROT_NONE), 0);
	v1 = (struct shd__policy_ops_v1 *)(mem + pg - sizeof(*v1));
	*v1 = (struct shd__policy_ops_v1){
		.version = 1, .name = "mine", .base = "linux-invlpgb",
		.knobs = two_knobs, .should_send = (void (*)(void))v1_send,
	};
	ops = (const struct shd_policy_ops *)(void *)v1;
	cr_assert_eq(shd_policy_ops_check(ops), 0, "%s", shd_last_error());
	cr_assert_eq(shd_policy_from_ops(ops, &p), 0);
	cr_assert(!shd__has_hook(&p, flush_route));
	cr_assert(!shd__has_hook(&p, defer_flush));
	cr_assert(shd__has_hook(&p, should_send));
	st = run_with(ops, &rc);
	cr_assert_eq(v1_calls, 1, "its version-1 hook ran %d times", v1_calls);
	cr_assert_eq(rc, -EACCES);
	cr_assert_eq(st.violations, 0);
	st = reclaim_with(ops, NULL);
	cr_assert_eq(st.tlbbatch_pages, NRECLAIM, "the base's answer");
	munmap(mem, 2 * (size_t)pg);
}
