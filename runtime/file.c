/* SPDX-License-Identifier: MIT */
/* Files: an inode's page cache, shared by every mapping of the file. */

/*
 * A file is a fixed number of pages that read as zeros until written.  Its
 * page cache holds one frame reference per cached page; each PTE that maps
 * a cached page holds another, so a page stays while mapped after the file
 * is gone.  Cached pages carry SHD_FRAME_PAGECACHE, which tells a private
 * mapping's write fault that the page is not its own to write.
 *
 * Lifetime: the creator and every VMA that maps the file hold a reference;
 * the last put drops the page cache.  Pages are never evicted (there is no
 * reclaim); files are as big as their creator says, and no bigger.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "internal.h"

struct shd_file {
	struct shd_machine *m;
	struct urcu_ref ref;
	pthread_mutex_t lock;		/* protects pfn[] */
	uint64_t npages;
	uint64_t *pfn;			/* UINT64_MAX: not cached */
};

int shd_file_create(struct shd_machine *m, uint64_t npages,
		    struct shd_file **out)
{
	struct shd_file *f;

	if (!m || !out)
		return shd__fail(-EINVAL, "shd_file_create: machine and out needed");
	*out = NULL;
	if (npages == 0 || npages > m->nframes)
		return shd__fail(-EINVAL, "file of %" PRIu64 " pages: must be "
				 "1..%" PRIu64 " (the machine's frames)", npages,
				 m->nframes);
	f = calloc(1, sizeof(*f));
	if (f)
		f->pfn = malloc(npages * sizeof(*f->pfn));
	if (!f || !f->pfn) {
		free(f);
		return shd__fail(-ENOMEM, "out of memory for a file");
	}
	memset(f->pfn, 0xff, npages * sizeof(*f->pfn));
	f->m = m;
	f->npages = npages;
	urcu_ref_init(&f->ref);
	pthread_mutex_init(&f->lock, NULL);
	*out = f;
	return 0;
}

static void file_release(struct urcu_ref *ref)
{
	struct shd_file *f = caa_container_of(ref, struct shd_file, ref);

	for (uint64_t i = 0; i < f->npages; i++)
		if (f->pfn[i] != UINT64_MAX)
			shd__frames_put(f->m, &f->pfn[i], 1);
	pthread_mutex_destroy(&f->lock);
	free(f->pfn);
	free(f);
}

void shd__file_get(struct shd_file *f)
{
	urcu_ref_get(&f->ref);
}

void shd__file_put(struct shd_file *f)
{
	urcu_ref_put(&f->ref, file_release);
}

void shd_file_destroy(struct shd_file *f)
{
	if (f)
		shd__file_put(f);
}

uint64_t shd__file_npages(const struct shd_file *f)
{
	return f->npages;
}

struct shd_machine *shd__file_machine(const struct shd_file *f)
{
	return f->m;
}

uint64_t shd__file_page(struct shd_file *f, uint64_t idx)
{
	uint64_t pfn;

	pthread_mutex_lock(&f->lock);
	pfn = f->pfn[idx];
	if (pfn == UINT64_MAX) {
		pfn = shd__frame_alloc(f->m);
		if (pfn != UINT64_MAX) {
			shd__frame_zero(f->m, pfn);
			f->m->frames[pfn].flags = SHD_FRAME_PAGECACHE;
			f->pfn[idx] = pfn;
		}
	}
	if (pfn != UINT64_MAX)
		shd__frame_get(f->m, pfn);
	pthread_mutex_unlock(&f->lock);
	return pfn;
}
