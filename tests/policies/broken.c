/* SPDX-License-Identifier: MIT */
/* Policies that are wrong on purpose: check and the loader must catch each. */
#include <stddef.h>
#include <shootdown/policy_ops.h>

/* skipremote: no remote CPU ever gets a flush (the oracle: exit 1). */
static enum shd_hook_send skip_all(const struct shd_hook_ctx *c,
				   enum shd_hook_send builtin)
{
	(void)c, (void)builtin;
	return SHD_HOOK_SKIP_PRUNED;
}

const struct shd_policy_ops shd_policy_ops_skipremote = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "skipremote",
	.help = "broken: skips every remote CPU",
	.should_send = skip_all,
};

/* staleswitch: never flushes on switch-in (the oracle: exit 1). */
static bool never(const struct shd_hook_ctx *c, bool builtin)
{
	(void)c, (void)builtin;
	return false;
}

const struct shd_policy_ops shd_policy_ops_staleswitch = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "staleswitch",
	.help = "broken: never flushes a context on switch-in",
	.switch_flush = never,
	.lazy_exit_flush = never,
};

/* nullhook: dereferences NULL in a hook (exit 2, naming hook and CPU). */
static enum shd_hook_action null_action(const struct shd_hook_ctx *c,
					enum shd_hook_action builtin)
{
	volatile const int *p = NULL;

	(void)c;
	return *p ? SHD_HOOK_FULL : builtin;
}

const struct shd_policy_ops shd_policy_ops_nullhook = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "nullhook",
	.help = "broken: crashes in flush_action",
	.flush_action = null_action,
};

/* oldversion: built against another header (exit 2). */
const struct shd_policy_ops shd_policy_ops_oldversion = {
	.version = SHD_POLICY_OPS_VERSION + 41,
	.name = "oldversion",
};

/* badknob: a knob whose default is outside its range (exit 2). */
static const struct shd_policy_knob bad_knobs[] = {
	{ "depth", "a knob", 10, 0, 5 },
	{ NULL, NULL, 0, 0, 0 },
};

const struct shd_policy_ops shd_policy_ops_badknob = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "badknob",
	.knobs = bad_knobs,
};

/* clash: a knob named as a built-in one (exit 2). */
static const struct shd_policy_knob clash_knobs[] = {
	{ "ceiling", "shadows the built-in knob", 1, 0, 5 },
	{ NULL, NULL, 0, 0, 0 },
};

const struct shd_policy_ops shd_policy_ops_clash = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "clash",
	.knobs = clash_knobs,
};

/* badverdict: a should_send answer outside the enum (the base's answer is
 * used; one line at exit names it, exit status as the run's). */
static enum shd_hook_send not_a_verdict(const struct shd_hook_ctx *c,
					enum shd_hook_send builtin)
{
	(void)c, (void)builtin;
	return (enum shd_hook_send)9;
}

const struct shd_policy_ops shd_policy_ops_badverdict = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "badverdict",
	.help = "broken: should_send answers 9",
	.should_send = not_a_verdict,
};
