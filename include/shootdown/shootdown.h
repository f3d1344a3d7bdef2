/* SPDX-License-Identifier: MIT */
/* shootdown: a userspace SMP machine for studying TLB shootdowns (umbrella header). */
#ifndef SHOOTDOWN_H
#define SHOOTDOWN_H

/*
 * One header a concept, each named after the library file that implements
 * it (and, where there is one, the Linux file it models).  A program
 * includes this one.
 */
#include <shootdown/error.h>
#include <shootdown/policy.h>
#include <shootdown/policy_ops.h>
#include <shootdown/arch.h>
#include <shootdown/fault.h>
#include <shootdown/machine.h>
#include <shootdown/sched.h>
#include <shootdown/seeded.h>
#include <shootdown/smp.h>
#include <shootdown/litmus.h>
#include <shootdown/stats.h>
#include <shootdown/trace.h>
#include <shootdown/report.h>
#include <shootdown/mm.h>
#include <shootdown/mmap.h>
#include <shootdown/mprotect.h>
#include <shootdown/madvise.h>
#include <shootdown/memory.h>
#include <shootdown/mmu_context.h>
#include <shootdown/fork.h>
#include <shootdown/rmap.h>
#include <shootdown/file.h>
#include <shootdown/ptrace.h>
#include <shootdown/vmalloc.h>
#include <shootdown/highmem.h>
#include <shootdown/tlbflush.h>
#include <shootdown/cacheflush.h>

#define SHD_VERSION "0.2.0"

#endif
