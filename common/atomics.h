/* SPDX-License-Identifier: MIT */
/* Atomic flag helpers used where ThreadSanitizer must see the synchronisation. */
#ifndef SHD_RUNTIME_ATOMICS_H
#define SHD_RUNTIME_ATOMICS_H

/*
 * liburcu 0.13's uatomic_* are inline assembly on x86, which ThreadSanitizer
 * cannot see: a flag published with uatomic_xchg gives TSan no happens-before
 * edge and every payload behind it looks racy.  The few flags whose ordering
 * protects data (doorbells, csd completion, task hand-off, per-slot oracle
 * credits) therefore use the compiler's __atomic builtins, which compile to
 * the same instructions and which TSan understands.  Queues, barriers,
 * reference counts and deferred frees stay liburcu's.  Each use names its
 * ordering at the call site.
 */
#define shd_load_relaxed(p)	__atomic_load_n((p), __ATOMIC_RELAXED)
#define shd_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define shd_store_relaxed(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define shd_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define shd_xchg(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define shd_add_return(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define shd_fetch_or(p, v)	__atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
#define shd_fetch_and(p, v)	__atomic_fetch_and((p), (v), __ATOMIC_SEQ_CST)
#define shd_cas(p, oldp, v)	__atomic_compare_exchange_n((p), (oldp), (v), 0, \
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
#define shd_smp_mb()		__atomic_thread_fence(__ATOMIC_SEQ_CST)

#endif
