/* SPDX-License-Identifier: MIT */
/* Policies that answer a version-2 hook always one way: each must stay clean. */
#include <stddef.h>
#include <shootdown/policy_ops.h>

/*
 * flush_route and defer_flush choose between two mechanisms the engine
 * keeps correct by themselves (policy_ops.h): a policy at either extreme
 * costs IPIs or broadcasts, batches or single flushes, and the oracle
 * must find nothing (check-policies runs `check` on each).
 */
static enum shd_hook_route route_broadcast(const struct shd_hook_ctx *c,
					   enum shd_hook_route builtin)
{
	(void)c, (void)builtin;
	return SHD_HOOK_ROUTE_BROADCAST;
}

static enum shd_hook_route route_ipi(const struct shd_hook_ctx *c,
				     enum shd_hook_route builtin)
{
	(void)c, (void)builtin;
	return SHD_HOOK_ROUTE_IPI;
}

static bool defer_always(const struct shd_hook_ctx *c, bool builtin)
{
	(void)c, (void)builtin;
	return true;
}

static bool defer_never(const struct shd_hook_ctx *c, bool builtin)
{
	(void)c, (void)builtin;
	return false;
}

/* alwaysbcast: every mm flushed by IPI takes a global ASID at once. */
const struct shd_policy_ops shd_policy_ops_alwaysbcast = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "alwaysbcast",
	.help = "extreme: every mm broadcasts after its first IPI flush",
	.base = "linux-invlpgb",
	.flush_route = route_broadcast,
};

/* neverbcast: no mm ever takes a global ASID (kernel flushes still
 * broadcast). */
const struct shd_policy_ops shd_policy_ops_neverbcast = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "neverbcast",
	.help = "extreme: user flushes stay IPIs under INVLPGB",
	.base = "linux-invlpgb",
	.flush_route = route_ipi,
};

/* alwaysdefer and neverdefer: reclaim batches every page, or none. */
const struct shd_policy_ops shd_policy_ops_alwaysdefer = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "alwaysdefer",
	.help = "extreme: reclaim defers every page's flush to its batch",
	.base = "linux",
	.defer_flush = defer_always,
};

const struct shd_policy_ops shd_policy_ops_neverdefer = {
	.version = SHD_POLICY_OPS_VERSION,
	.name = "neverdefer",
	.help = "extreme: reclaim flushes every page at once",
	.base = "linux",
	.defer_flush = defer_never,
};
