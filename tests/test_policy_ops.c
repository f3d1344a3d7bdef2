/* SPDX-License-Identifier: MIT */
/* Tests of policies in C: checking a table, building a policy, the hook marker. */
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
