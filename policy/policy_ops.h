/* SPDX-License-Identifier: MIT */
/* Calls into a policy's hooks (policy_ops.c); the engine's side. */
#ifndef SHD_POLICY_POLICY_OPS_H
#define SHD_POLICY_POLICY_OPS_H

#include <stddef.h>
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
enum shd_hook_route shd__hook_flush_route(const struct shd_policy *p,
					  const struct shd_hook_ctx *ctx,
					  enum shd_hook_route builtin);
bool shd__hook_defer_flush(const struct shd_policy *p,
			   const struct shd_hook_ctx *ctx, bool builtin);

/*
 * The table of version 1, as a library built against that header lays it
 * out: a member at or past its end is not there to read (invariant 4 of
 * policy_ops.c).  Frozen: never edit.
 */
struct shd__policy_ops_v1 {
	unsigned version;
	const char *name;
	const char *help;
	const char *base;
	const struct shd_policy_knob *knobs;
	void (*should_send)(void);
	void (*flush_action)(void);
	void (*switch_flush)(void);
	void (*lazy_exit_flush)(void);
};

/* Bytes of a table of VERSION a library may read. */
#define shd__ops_size(version)						\
	((version) >= 2 ? sizeof(struct shd_policy_ops) :		\
			  sizeof(struct shd__policy_ops_v1))

/* Whether P has the hook H (a member of struct shd_policy_ops): its
 * table's version has the member, and it is set. */
#define shd__has_hook(p, h)						\
	((p)->ops &&							\
	 offsetof(struct shd_policy_ops, h) <				\
		shd__ops_size((p)->ops->version) &&			\
	 (p)->ops->h)

#endif
