/* SPDX-License-Identifier: MIT */
/* Simulated physical memory: frames handed out and reference counted (mm/page_alloc.c). */

/*
 * Memory is one host mapping of nframes pages; a frame's struct page
 * (struct shd_frame) counts the PTEs that map it plus the page cache's own
 * reference.  Free frames sit on a stack under m->frame_lock.  A frame's
 * generation moves on each time it is freed, so a translation filled
 * before the free is recognisably stale (oracle.c).
 */
#include <inttypes.h>

#include "page_alloc.h"

uint64_t shd__frame_alloc(struct shd_machine *m)
{
	uint64_t pfn = UINT64_MAX;

	pthread_mutex_lock(&m->frame_lock);
	if (m->nfree) {
		pfn = m->free_pfns[--m->nfree];
		m->frames[pfn].flags = 0;
		if (m->ilog) {	/* page flags start clear (PG_dcache_clean too) */
			shd_store_relaxed(&m->frames[pfn].arch1, 0);
			shd_store_relaxed(&m->frames[pfn].iuser, 0);
		}
		shd_store_relaxed(&m->frames[pfn].ref, 1);
	}
	pthread_mutex_unlock(&m->frame_lock);
	return pfn;
}

void shd__frames_put(struct shd_machine *m, const uint64_t *pfns, size_t n)
{
	bool locked = false;

	for (size_t i = 0; i < n; i++) {
		/* Acq-rel: the last put sees every holder's accesses (their
		 * releases), and the free below comes after it. */
		uint32_t r = shd_sub_return_acq_rel(&m->frames[pfns[i]].ref, 1);

		if (r == UINT32_MAX)
			shd_die("frame %" PRIu64 " put more often than got", pfns[i]);
		if (r)
			continue;
		/* The oracle's use-after-free check: translations filled
		 * before this point name the old generation.  Seq-cst: read
		 * with acquire by TLB fills and hits (memory.c, oracle.c). */
		shd_add_return(&m->frames[pfns[i]].gen, 1);
		if (!locked) {
			pthread_mutex_lock(&m->frame_lock);
			locked = true;
		}
		m->free_pfns[m->nfree++] = pfns[i];
	}
	if (locked)
		pthread_mutex_unlock(&m->frame_lock);
}

int shd__pfn_list_add(struct shd_pfn_list *l, uint64_t pfn)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		uint64_t *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = pfn;
	return 0;
}
