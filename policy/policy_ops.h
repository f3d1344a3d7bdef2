/* SPDX-License-Identifier: MIT */
/* Calls into a policy's hooks (policy_ops.c); the engine's side. */
#ifndef SHD_POLICY_POLICY_OPS_H
#define SHD_POLICY_POLICY_OPS_H

#include <shootdown/policy_ops.h>

/*
 * Each wraps one hook of P's ops (which must be non-NULL) in the thread's
 * "in hook H on cpu C" marker (shd_policy_hook_where()), and takes a
 * value outside the hook's enum as BUILTIN.  Only from the CPU ctx->self.
 */
enum shd_hook_send shd__hook_should_send(const struct shd_policy *p,
					 const struct shd_hook_ctx *ctx,
					 enum shd_hook_send builtin);
enum shd_hook_action shd__hook_flush_action(const struct shd_policy *p,
					    const struct shd_hook_ctx *ctx,
					    enum shd_hook_action builtin);
bool shd__hook_switch_flush(const struct shd_policy *p,
			    const struct shd_hook_ctx *ctx, bool builtin);
bool shd__hook_lazy_exit_flush(const struct shd_policy *p,
			       const struct shd_hook_ctx *ctx, bool builtin);

/* Whether P has the hook H (a member of struct shd_policy_ops). */
#define shd__has_hook(p, h) ((p)->ops && (p)->ops->h)

#endif
