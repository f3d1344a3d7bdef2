/* SPDX-License-Identifier: MIT */
/* kmap/kunmap of page-cache pages, at a chosen colour (mm/highmem.c). */

/*
 * kmap()/kunmap() of a page-cache page, as highmem's pkmap area does it: a
 * global kernel mapping in a slot of this CPU's, unmapped with the cache
 * flushed first (flush_cache_kmaps()'s job; here the vunmap path's
 * flush_cache_vunmap) and then flush_tlb_kernel_range().  Each slot spans
 * SHD_KMAP_COLOURS pages, so a page can be mapped at any colour: the
 * user's, when the profile colours kernel addresses (the email's scheme),
 * else its linear map's.
 */
#include <errno.h>
#include <inttypes.h>

#include <shootdown/highmem.h>
#include <shootdown/vmalloc.h>
#include "cache.h"
#include "file.h"
#include "mm.h"
#include "oracle.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "smp.h"

#define SHD_KMAP_BASE (SHD_KERNEL_BASE + (1ull << 40))
#define SHD_KMAP_SLOTS 8	/* per CPU */
#define SHD_KMAP_COLOURS 64	/* pages a slot spans: up to 64 colours */

static uint64_t kmap_va(const struct shd_machine *m, unsigned cpu, unsigned slot,
			unsigned colour)
{
	return SHD_KMAP_BASE + ((((uint64_t)cpu * SHD_KMAP_SLOTS + slot) *
				 SHD_KMAP_COLOURS + colour) << m->page_shift);
}

int shd_kmap(struct shd_cpu *cpu, struct shd_file *f, uint64_t pgoff,
	     uint64_t colour_va, uint64_t *kva)
{
	struct shd_machine *m;
	struct shd_mm *k;
	uint64_t pfn, v;
	unsigned colour;
	int err = shd__check_cpu(cpu, "kmap");

	if (err)
		return err;
	m = cpu->m;
	if (!f || shd__file_machine(f) != m || !kva)
		return shd__fail(-EINVAL, "kmap: a file of this machine and a "
				 "place for the address are needed");
	if (pgoff >= shd__file_npages(f))
		return shd__fail(-EINVAL, "kmap: page %" PRIu64 " is past the end "
				 "of the file (%" PRIu64 " pages)", pgoff,
				 shd__file_npages(f));
	if (colour_va >= SHD_USER_TOP)
		return shd__fail(-EINVAL, "kmap: 0x%" PRIx64 " is not a user "
				 "address to match the colour of", colour_va);
	shd__cpu_take_ipis(cpu);
	pfn = shd__file_page(f, pgoff);		/* a reference for the PTE */
	if (pfn == UINT64_MAX)
		return shd__fail(-ENOMEM, "kmap: out of simulated memory");
	colour = shd__cache_colour(m, pfn << m->page_shift);
	/* Only while users map the file: then flush_dcache_page() flushes
	 * at once.  With nobody mapping it, sparc64 defers the flush to the
	 * next user mapping and assumes the kernel wrote through the linear
	 * map (its kmap is page_address()), so a kmap of another colour
	 * would leave the linear alias stale. */
	if (m->cache && m->cfg.arch.colour_kmap && colour_va &&
	    shd__file_mapped(f) && shd__cache_colour(m, colour_va) != colour) {
		colour = shd__cache_colour(m, colour_va);
		cpu->cnt.s.dcache_flushes_avoided++;
	}
	k = m->kernel_mm;
	shd__mm_lock(cpu, k);
	for (unsigned slot = 0; slot < SHD_KMAP_SLOTS; slot++) {
		uint64_t va = kmap_va(m, cpu->id, slot, colour);
		uint64_t vpn = shd__va_vpn(m, va);
		struct shd_pt_leaf *leaf = shd__pt_leaf_alloc(k, vpn);
		struct shd_pte *p;

		if (!leaf) {
			shd__mm_unlock(k);
			shd__frames_put(m, &pfn, 1);
			return shd__fail(-ENOMEM, "kmap: out of memory for a page "
					 "table");
		}
		p = &leaf->pte[vpn & (SHD_PT_ENTRIES - 1)];
		if (p->val)
			continue;
		v = shd__clock_next(m);
		shd__pte_write(p, pfn << SHD_PTE_PFN_SHIFT | SHD_PTE_FRAME |
			       SHD_PTE_PRESENT | SHD_PTE_WRITE | SHD_PTE_GLOBAL,
			       v, k);
		leaf->nr_frames++;
		shd__publish_changes(k, v);
		shd__mm_unlock(k);
		*kva = va;
		return 0;
	}
	shd__mm_unlock(k);
	shd__frames_put(m, &pfn, 1);
	return shd__fail(-ENOSPC, "kmap: cpu %u has all its %u kmap slots of "
			 "colour %u in use (kunmap some)", cpu->id,
			 SHD_KMAP_SLOTS, colour);
}

int shd_kunmap(struct shd_cpu *cpu, uint64_t kva)
{
	struct shd_machine *m;
	uint64_t first, end;
	int err = shd__check_cpu(cpu, "kunmap");

	if (err)
		return err;
	m = cpu->m;
	first = kmap_va(m, cpu->id, 0, 0);
	end = kmap_va(m, cpu->id + 1, 0, 0);
	if (kva < first || kva >= end || (kva & (m->page_size - 1)))
		return shd__fail(-EINVAL, "kunmap: 0x%" PRIx64 " is not one of "
				 "cpu %u's kmap addresses", kva, cpu->id);
	rcu_read_lock();
	{
		struct shd_pte *p = shd__pte_lookup(m->kernel_mm, shd__va_vpn(m, kva));
		uint64_t ver, val = p ? shd__pte_read(p, &ver) : 0;

		rcu_read_unlock();
		if (!(val & SHD_PTE_PRESENT))
			return shd__fail(-EINVAL, "kunmap: 0x%" PRIx64 " is not "
					 "mapped", kva);
	}
	return shd_vunmap(cpu, kva, m->page_size);
}
