/* SPDX-License-Identifier: MIT */
/* get_user_pages_remote(FOLL_FORCE): a page of another mm for ptrace (mm/gup.c). */
#include <errno.h>
#include <inttypes.h>

#include "gup.h"
#include "memory.h"
#include "oracle.h"
#include "pgtable.h"

/* A write-protected PTE whose page is this mapping's own: a forced write
 * may go there (the COW was broken, or the program's own page). */
static bool frame_exclusive(struct shd_machine *m, uint64_t pte)
{
	const struct shd_frame *fr = &m->frames[pte >> SHD_PTE_PFN_SHIFT];

	/* Acquire: pairs with shd__frames_put()'s acq-rel drop by the
	 * mm that let go of the page. */
	return !(fr->flags & (SHD_FRAME_PAGECACHE | SHD_FRAME_ZERO)) &&
	       shd_load_acquire(&fr->ref) == 1;
}

uint64_t shd__gup_frame(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t va,
			  bool write, uint64_t *pte, int *err)
{
	struct shd_machine *m = cpu->m;
	bool forced = false;

	for (int tries = 0; tries < 3; tries++) {
		struct shd_pte *p;
		uint64_t val = 0, ver;

		rcu_read_lock();
		p = shd__pte_lookup(mm, va >> m->page_shift);
		if (p)
			val = shd__pte_read(p, &ver);
		rcu_read_unlock();
		*pte = val;
		/* A read-only PTE takes a forced write only once the fault
		 * has run (can_follow_write_pte()): it makes the page
		 * writable where the VMA allows, else breaks COW. */
		if ((val & SHD_PTE_PRESENT) && (!write || (val & SHD_PTE_WRITE) ||
						   (forced && frame_exclusive(m, val))))
			return val >> SHD_PTE_PFN_SHIFT;
		if ((*err = shd__handle_mm_fault(cpu, mm, va, write ? ACC_FORCE : ACC_PEEK)))
			return UINT64_MAX;
		forced = write;
	}
	*err = shd__fail(-EFAULT, "ptrace: fault at 0x%" PRIx64 " did not "
			 "resolve", va);
	return UINT64_MAX;
}
