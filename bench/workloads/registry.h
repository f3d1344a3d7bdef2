/* SPDX-License-Identifier: MIT */
/* Every workload, once: X(name) for the struct workload wl_def_<name> that
 * its wl_<family>.c defines.  `list`, the help and --workload follow this order. */
#ifndef SHD_BENCH_REGISTRY_H
#define SHD_BENCH_REGISTRY_H

#define WL_REGISTRY(X) \
	X(munmap)	/* wl_roles.c */ \
	X(mprotect)	/* wl_roles.c */ \
	X(rangeflush)	/* wl_rangeflush.c */ \
	X(mmap_micro)	/* wl_mmap_micro.c */ \
	X(tlb_flush1)	/* wl_tlb_flush.c */ \
	X(tlb_flush2) \
	X(tlb_flush3) \
	X(fork)		/* wl_fork.c */ \
	X(exec)		/* wl_exec.c */ \
	X(reclaim)	/* wl_reclaim.c */ \
	X(pagecache)	/* wl_pagecache.c */ \
	X(ptrace)	/* wl_ptrace.c */ \
	X(modload)	/* wl_modload.c */ \
	X(vmapio)	/* wl_vmapio.c */ \
	X(cow_switch)	/* wl_cow_switch.c: CVE-2025-37964's reproducer */ \
	X(random)	/* wl_random.c: the check mix */ \
	X(trace)	/* wl_trace.c: a recorded program (--trace FILE) */

#define WL_DECLARE(name) extern const struct workload wl_def_##name;
WL_REGISTRY(WL_DECLARE)
#undef WL_DECLARE

#endif
