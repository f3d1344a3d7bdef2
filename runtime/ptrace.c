/* SPDX-License-Identifier: MIT */
/* ptrace PEEKDATA/POKEDATA: access_process_vm through the kernel alias (kernel/ptrace.c). */
#include <errno.h>
#include <inttypes.h>

#include <shootdown/ptrace.h>
#include "cache.h"
#include "gup.h"
#include "icache.h"
#include "mm.h"
#include "smp.h"

static int ptrace_access(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t va,
			 uint64_t *val, bool write)
{
	struct shd_machine *m;
	uint64_t pfn, pa, pte = 0;
	bool exec, isync;
	uint32_t seq = 0;
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "ptrace")))
		return err;
	m = cpu->m;
	if ((va & 7) || va >= SHD_USER_TOP)
		return shd__fail(-EINVAL, "ptrace: 0x%" PRIx64 " is not an "
				 "8-byte aligned user address", va);
	shd__cpu_take_ipis(cpu);
	pfn = shd__gup_frame(cpu, mm, va, write, &pte, &err);
	if (pfn == UINT64_MAX)
		return err;
	pa = (pfn << m->page_shift) + (va & (m->page_size - 1));
	exec = pte & SHD_PTE_EXEC;
	isync = write && m->ilog && exec;
	/* copy_to_user_page() / copy_from_user_page(): through the kernel
	 * alias, then (to user) flush this CPU's lines of the page, as
	 * sparc64's flush_ptrace_access() does; from user, flush first so
	 * the kernel alias reads what the tracee stored.  (No-ops when the
	 * D-cache does not alias.)  Into an executable mapping, arm64's
	 * flush_ptrace_access() also cleans D and invalidates I on every CPU
	 * (the poke has not returned until then: the I-cache oracle counts
	 * it a kernel write that ends after its invalidation).  A poke where
	 * the program cannot execute is, for the I-cache, like the program's
	 * own store. */
	if (!write)
		shd__dcache_flush_page(cpu, pfn);
	if (isync) {
		shd__ikernel_write_begin(m, pfn);
		seq = shd__icache_seq(m, pfn);
	} else if (write && m->ilog) {
		shd__icache_user_store(m, pfn);
	}
	shd__mem_access(cpu, SHD_PAGE_OFFSET + pa, pa, write, val);
	if (write && m->cache && !shd__fault_fires(cpu, SHD_FAULT_SKIP_PTRACE_FLUSH)) {
		shd__dcache_flush_page(cpu, pfn);
		cpu->cnt.s.dcache_flushes++;
	}
	if (isync) {
		if (!shd__fault_fires(cpu, SHD_FAULT_SKIP_PTRACE_ICACHE))
			shd__icache_invalidate(cpu, pfn);
		shd__ikernel_write_end(m, pfn);
		/* Credit this write, and the ones finished before the
		 * invalidation; not one that ended meanwhile (unknown). */
		shd__icache_credit(m, pfn, shd__icache_seq(m, pfn) == seq + 1 ?
				   seq + 1 : seq);
	}
	return 0;
}

int shd_ptrace_poke(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t va,
		    uint64_t val)
{
	return ptrace_access(cpu, mm, va, &val, true);
}

int shd_ptrace_peek(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t va,
		    uint64_t *val)
{
	uint64_t tmp;

	return ptrace_access(cpu, mm, va, val ? val : &tmp, false);
}
