/* SPDX-License-Identifier: MIT */
/* The atomic operations of the library: the only place that names __atomic builtins. */
#ifndef SHD_COMMON_ATOMICS_H
#define SHD_COMMON_ATOMICS_H

/*
 * liburcu 0.13's uatomic_* are inline assembly on x86, which ThreadSanitizer
 * cannot see: a flag published with uatomic_xchg gives TSan no happens-before
 * edge and every payload behind it looks racy.  The flags whose ordering
 * protects data (doorbells, csd states, task hand-off, cpumasks, PTE
 * seqlocks, per-slot oracle credits, page flags) therefore use the compiler's
 * __atomic builtins, which compile to the same instructions and which TSan
 * understands, and only through the names below, so that each use says its
 * ordering in its name.  Queues, barriers, reference counts and deferred
 * frees stay liburcu's.
 *
 * Every use that is not relaxed carries a comment at its call site naming
 * the access it pairs with.  `_seq` and the unsuffixed read-modify-writes
 * are sequentially consistent: the library uses them where two CPUs each
 * store one word and then load the other's (Dekker: mm_cpumask against
 * tlb_gen, is_lazy against tlb_gen, a doorbell against a sleeper's state).
 */
#define shd_load_relaxed(p)	__atomic_load_n((p), __ATOMIC_RELAXED)
#define shd_load_acquire(p)	__atomic_load_n((p), __ATOMIC_ACQUIRE)
#define shd_load_seq(p)		__atomic_load_n((p), __ATOMIC_SEQ_CST)
#define shd_store_relaxed(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELAXED)
#define shd_store_release(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)
#define shd_store_seq(p, v)	__atomic_store_n((p), (v), __ATOMIC_SEQ_CST)

#define shd_xchg(p, v)		__atomic_exchange_n((p), (v), __ATOMIC_SEQ_CST)
#define shd_xchg_acq_rel(p, v)	__atomic_exchange_n((p), (v), __ATOMIC_ACQ_REL)
#define shd_xchg_relaxed(p, v)	__atomic_exchange_n((p), (v), __ATOMIC_RELAXED)
#define shd_add_return(p, v)	__atomic_add_fetch((p), (v), __ATOMIC_SEQ_CST)
#define shd_sub_return(p, v)	__atomic_sub_fetch((p), (v), __ATOMIC_SEQ_CST)
#define shd_sub_return_acq_rel(p, v) \
	__atomic_sub_fetch((p), (v), __ATOMIC_ACQ_REL)
#define shd_fetch_add(p, v)	__atomic_fetch_add((p), (v), __ATOMIC_SEQ_CST)
#define shd_fetch_or(p, v)	__atomic_fetch_or((p), (v), __ATOMIC_SEQ_CST)
#define shd_fetch_and(p, v)	__atomic_fetch_and((p), (v), __ATOMIC_SEQ_CST)

/* Compare *P with *OLDP and store V if equal; else *OLDP gets *P. */
#define shd_cas(p, oldp, v)	__atomic_compare_exchange_n((p), (oldp), (v), 0, \
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)
/* ... acquire on success, relaxed on failure (a lock's trylock). */
#define shd_cas_acquire(p, oldp, v) \
	__atomic_compare_exchange_n((p), (oldp), (v), 0, __ATOMIC_ACQUIRE, \
				    __ATOMIC_RELAXED)
/* ... relaxed either way (arm64's atomic64_cmpxchg_relaxed()). */
#define shd_cas_relaxed(p, oldp, v) \
	__atomic_compare_exchange_n((p), (oldp), (v), 0, __ATOMIC_RELAXED, \
				    __ATOMIC_RELAXED)

#endif
