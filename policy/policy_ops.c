/* SPDX-License-Identifier: MIT */
/* Policies in C: checking a hook table, building a policy of it, calling its hooks. */

/*
 * Theory.  A policy in C is the kernel's way of trying a shootdown idea
 * without forking the engine, as a struct of function pointers is the
 * kernel's way of varying a mechanism (struct mmu_notifier_ops, the
 * paravirt flush_tlb_multi hook that Xen and Hyper-V fill): the engine
 * keeps the protocol — generations, call queues, acknowledgements, the
 * oracle — and asks the hook only at a point where Linux itself makes a
 * choice (native_flush_tlb_multi()'s should_flush_tlb(), flush_tlb_func()'s
 * partial-or-full, switch_mm_irqs_off()'s need_flush).  Every answer is one
 * the engine could give by itself, so a policy can be wrong (the oracle
 * then says so) but cannot break the machine or its counting.
 *
 * Invariants:
 *  1. A table is used only once shd_policy_ops_check() accepted it: its
 *     version is this header's, its knobs are declared sanely.
 *  2. A hook's answer outside its enum is the built-in answer; the first
 *     such answer of the process is kept for one message
 *     (shd_policy_hook_bad_verdict()).
 *  3. While a hook runs, its thread's marker names the policy, the hook
 *     and the simulated CPU, and it is clear otherwise: a crash in a hook
 *     is reported as the hook's, not the engine's.
 *  4. No member of a table past its version's layout is read: a library
 *     built against version 1's header exports a shorter table, which
 *     keeps working with no version-2 hooks (shd__has_hook()).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <shootdown/error.h>
#include <shootdown/policy_ops.h>
#include "../common/error.h"
#include "policy_ops.h"

/* Version 1's members lie where version 1 put them (invariant 4). */
_Static_assert(offsetof(struct shd_policy_ops, lazy_exit_flush) ==
	       offsetof(struct shd__policy_ops_v1, lazy_exit_flush) &&
	       offsetof(struct shd_policy_ops, knobs) ==
	       offsetof(struct shd__policy_ops_v1, knobs) &&
	       offsetof(struct shd_policy_ops, flush_route) >=
	       sizeof(struct shd__policy_ops_v1),
	       "a version-1 table is a prefix of this one");

/* The calling thread's hook, if any (invariant 3). */
static __thread struct {
	const char *policy;
	const char *hook;
	unsigned cpu;
	volatile int in;	/* read by a signal handler on this thread */
} hook_at;

/* The first verdict outside its enum (invariant 2).  bad_state: 0 none,
 * 1 being written, 2 written. */
static struct {
	const char *policy;
	const char *hook;
	int value;
} bad;
static int bad_state;

static void note_bad_verdict(const struct shd_policy *p, const char *hook,
			     int value)
{
	int none = 0;

	/* Acquire-release CAS: one writer ever; the release store of 2
	 * publishes the record to shd_policy_hook_bad_verdict()'s
	 * acquire load. */
	if (__atomic_load_n(&bad_state, __ATOMIC_RELAXED) ||
	    !__atomic_compare_exchange_n(&bad_state, &none, 1, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
		return;
	bad.policy = p->ops->name;
	bad.hook = hook;
	bad.value = value;
	__atomic_store_n(&bad_state, 2, __ATOMIC_RELEASE);
}

bool shd_policy_hook_bad_verdict(const char **policy, const char **hook,
				 int *value)
{
	if (__atomic_load_n(&bad_state, __ATOMIC_ACQUIRE) != 2)
		return false;
	if (policy)
		*policy = bad.policy;
	if (hook)
		*hook = bad.hook;
	if (value)
		*value = bad.value;
	return true;
}

static bool name_ok(const char *s, size_t max)
{
	size_t n = 0;

	for (; s && s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') ||
		      s[n] == '_'))
			return false;
	return n >= 1 && n <= max;
}

/* Whether NAME is a built-in knob's (shd_policy_set() would take it). */
static bool builtin_knob(const char *name)
{
	size_t n;
	const struct shd_named *k = shd_policy_knobs(&n);

	for (size_t i = 0; i < n; i++)
		if (strcmp(k[i].name, name) == 0)
			return true;
	return false;
}

static int check_knobs(const struct shd_policy_ops *ops)
{
	const struct shd_policy_knob *k = ops->knobs;
	unsigned n;

	for (n = 0; k && k[n].name; n++) {
		if (n == SHD_POLICY_KNOBS_MAX)
			return shd__fail(-EINVAL, "policy %s declares more than %u "
					 "knobs", ops->name, SHD_POLICY_KNOBS_MAX);
		if (!name_ok(k[n].name, 31))
			return shd__fail(-EINVAL, "policy %s: knob name '%.40s' is "
					 "not 1..31 of [a-z0-9_]", ops->name,
					 k[n].name);
		if (builtin_knob(k[n].name) || strncmp(k[n].name, "cost", 4) == 0)
			return shd__fail(-EINVAL, "policy %s: knob '%s' is a "
					 "built-in knob's name", ops->name,
					 k[n].name);
		for (unsigned j = 0; j < n; j++)
			if (strcmp(k[j].name, k[n].name) == 0)
				return shd__fail(-EINVAL, "policy %s declares knob "
						 "'%s' twice", ops->name,
						 k[n].name);
		if (k[n].min < 0 || !(k[n].min <= k[n].def && k[n].def <= k[n].max))
			return shd__fail(-EINVAL, "policy %s: knob %s needs 0 <= "
					 "min <= default <= max (min %lld, "
					 "default %lld, max %lld)", ops->name,
					 k[n].name, (long long)k[n].min,
					 (long long)k[n].def, (long long)k[n].max);
	}
	return 0;
}

int shd_policy_ops_check(const struct shd_policy_ops *ops)
{
	struct shd_policy base;

	if (!ops)
		return shd__fail(-EINVAL, "no policy table");
	if (ops->version < SHD_POLICY_OPS_VERSION_MIN ||
	    ops->version > SHD_POLICY_OPS_VERSION)
		return shd__fail(-EINVAL, "policy table has API version %u, this "
				 "library takes %u to %u (rebuild it against "
				 "this <shootdown/policy_ops.h>)", ops->version,
				 SHD_POLICY_OPS_VERSION_MIN,
				 SHD_POLICY_OPS_VERSION);
	if (!name_ok(ops->name, 31))
		return shd__fail(-EINVAL, "policy name '%.40s' is not 1..31 of "
				 "[a-z0-9_]", ops->name ? ops->name : "(null)");
	if (shd_policy_preset(ops->name, &base) == 0)
		return shd__fail(-EINVAL, "policy %s has a built-in policy's name",
				 ops->name);
	if (shd_policy_preset(ops->base ? ops->base : "linux", &base) < 0)
		return shd__fail(-EINVAL, "policy %s: base '%.40s' is not a "
				 "built-in policy", ops->name, ops->base);
	return check_knobs(ops);
}

int shd_policy_from_ops(const struct shd_policy_ops *ops, struct shd_policy *out)
{
	int err = shd_policy_ops_check(ops);

	if (err)
		return err;
	if (!out)
		return shd__fail(-EINVAL, "shd_policy_from_ops: no policy to fill");
	shd_policy_preset(ops->base ? ops->base : "linux", out);
	snprintf(out->name, sizeof(out->name), "%s", ops->name);
	out->ops = ops;
	memset(out->knob, 0, sizeof(out->knob));
	for (unsigned i = 0; ops->knobs && ops->knobs[i].name; i++)
		out->knob[i] = ops->knobs[i].def;
	return 0;
}

bool shd_policy_hook_where(const char **policy, const char **hook,
			   unsigned *cpu)
{
	if (!hook_at.in)
		return false;
	if (policy)
		*policy = hook_at.policy;
	if (hook)
		*hook = hook_at.hook;
	if (cpu)
		*cpu = hook_at.cpu;
	return true;
}

/* Mark the thread as in hook NAME of P on CTX's CPU (invariant 3); the
 * compiler barriers keep the marker around the call itself. */
static void hook_enter(const struct shd_policy *p, const char *name,
		       const struct shd_hook_ctx *ctx)
{
	hook_at.policy = p->ops->name;
	hook_at.hook = name;
	hook_at.cpu = ctx->self;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	hook_at.in = 1;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
}

static void hook_exit(void)
{
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	hook_at.in = 0;
}

enum shd_hook_send shd__hook_should_send(const struct shd_policy *p,
					 const struct shd_hook_ctx *ctx,
					 enum shd_hook_send builtin)
{
	enum shd_hook_send v;

	hook_enter(p, "should_send", ctx);
	v = p->ops->should_send(ctx, builtin);
	hook_exit();
	switch (v) {
	case SHD_HOOK_SEND:
	case SHD_HOOK_SKIP_PRUNED:
	case SHD_HOOK_SKIP_LAZY:
		return v;
	}
	note_bad_verdict(p, "should_send", (int)v);
	return builtin;	/* invariant 2 */
}

enum shd_hook_action shd__hook_flush_action(const struct shd_policy *p,
					    const struct shd_hook_ctx *ctx,
					    enum shd_hook_action builtin)
{
	enum shd_hook_action a;

	hook_enter(p, "flush_action", ctx);
	a = p->ops->flush_action(ctx, builtin);
	hook_exit();
	switch (a) {
	case SHD_HOOK_NOTHING:
	case SHD_HOOK_PARTIAL:
	case SHD_HOOK_FULL:
		return a;
	}
	note_bad_verdict(p, "flush_action", (int)a);
	return builtin;
}

bool shd__hook_switch_flush(const struct shd_policy *p,
			    const struct shd_hook_ctx *ctx, bool builtin)
{
	bool b;

	hook_enter(p, "switch_flush", ctx);
	b = p->ops->switch_flush(ctx, builtin);
	hook_exit();
	return b;
}

bool shd__hook_lazy_exit_flush(const struct shd_policy *p,
			       const struct shd_hook_ctx *ctx, bool builtin)
{
	bool b;

	hook_enter(p, "lazy_exit_flush", ctx);
	b = p->ops->lazy_exit_flush(ctx, builtin);
	hook_exit();
	return b;
}

enum shd_hook_route shd__hook_flush_route(const struct shd_policy *p,
					  const struct shd_hook_ctx *ctx,
					  enum shd_hook_route builtin)
{
	enum shd_hook_route r;

	hook_enter(p, "flush_route", ctx);
	r = p->ops->flush_route(ctx, builtin);
	hook_exit();
	switch (r) {
	case SHD_HOOK_ROUTE_IPI:
	case SHD_HOOK_ROUTE_BROADCAST:
		return r;
	}
	note_bad_verdict(p, "flush_route", (int)r);
	return builtin;
}

bool shd__hook_defer_flush(const struct shd_policy *p,
			   const struct shd_hook_ctx *ctx, bool builtin)
{
	bool b;

	hook_enter(p, "defer_flush", ctx);
	b = p->ops->defer_flush(ctx, builtin);
	hook_exit();
	return b;
}
