/* SPDX-License-Identifier: MIT */
/* Files: an inode's page cache, shared by every mapping of the file (mm/filemap.c). */

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

#include <shootdown/file.h>
#include "cache.h"
#include "file.h"
#include "icache.h"
#include "page_alloc.h"
#include "smp.h"

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

static void file_get(struct shd_file *f)
{
	urcu_ref_get(&f->ref);
}

static void file_put(struct shd_file *f)
{
	urcu_ref_put(&f->ref, file_release);
}

/* nvmas is mapping_mapped()'s count, seq-cst: a write(2) on another CPU
 * that reads 0 defers its flush to update_mmu_cache(), which the first
 * fault of a mapping counted here runs after the count. */
void shd__file_map(struct shd_file *f)
{
	file_get(f);
	shd_add_return(&f->nvmas, 1);
}

void shd__file_unmap(struct shd_file *f)
{
	shd_sub_return(&f->nvmas, 1);
	file_put(f);
}

void shd_file_destroy(struct shd_file *f)
{
	if (f)
		file_put(f);
}

uint64_t shd__file_npages(const struct shd_file *f)
{
	return f->npages;
}

struct shd_machine *shd__file_machine(const struct shd_file *f)
{
	return f->m;
}

static uint64_t file_page(struct shd_file *f, uint64_t idx, bool ref)
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
	if (pfn != UINT64_MAX && ref)
		shd__frame_get(f->m, pfn);
	pthread_mutex_unlock(&f->lock);
	return pfn;
}

uint64_t shd__file_page(struct shd_file *f, uint64_t idx)
{
	return file_page(f, idx, true);
}

uint64_t shd__file_cached(struct shd_file *f, uint64_t idx)
{
	uint64_t pfn;

	pthread_mutex_lock(&f->lock);
	pfn = idx < f->npages ? f->pfn[idx] : UINT64_MAX;
	if (pfn != UINT64_MAX)
		shd__frame_get(f->m, pfn);
	pthread_mutex_unlock(&f->lock);
	return pfn;
}

/* ---- the kernel's accesses through the linear map ---- */

int shd__file_check(struct shd_cpu *cpu, struct shd_file *f, uint64_t off,
		    const char *what)
{
	int err = shd__check_cpu(cpu, what);

	if (err)
		return err;
	if (!f || f->m != cpu->m)
		return shd__fail(-EINVAL, "%s: not a file of this machine", what);
	if ((off & 7) || off >= f->npages << f->m->page_shift)
		return shd__fail(-EINVAL, "%s: offset 0x%" PRIx64 " is not an "
				 "8-byte aligned offset inside the file (%"
				 PRIu64 " pages)", what, off, f->npages);
	return 0;
}

uint64_t shd__file_frame(struct shd_file *f, uint64_t idx)
{
	return file_page(f, idx, false);
}

/*
 * The kernel's access to the 8 bytes at OFF of F through the page's
 * linear-map address: read(2) (after a flush when user mappings may have
 * written) or write(2) (then flush_dcache_page(), as generic_perform_write()
 * does).
 */
static int kernel_access(struct shd_cpu *cpu, struct shd_file *f, uint64_t off,
			 bool write, uint64_t *val)
{
	struct shd_machine *m = cpu->m;
	uint64_t pfn, pa;
	int err = shd__file_check(cpu, f, off, write ? "file write" : "file read");

	if (err)
		return err;
	shd__cpu_take_ipis(cpu);
	pfn = shd__file_frame(f, off >> m->page_shift);
	if (pfn == UINT64_MAX)
		return shd__fail(-ENOMEM, "file %s: out of simulated memory",
				 write ? "write" : "read");
	/* Users may have written through shared mappings: flush first
	 * (cachetlb.rst's corollary case). */
	if (!write && shd__file_mapped(f) &&
	    (err = shd__flush_dcache_page(cpu, pfn, f)))
		return err;
	pa = (pfn << m->page_shift) + (off & (m->page_size - 1));
	if (write && m->ilog)	/* the I-cache oracle: ends after the flush */
		shd__ikernel_write_begin(m, pfn);
	shd__mem_access(cpu, SHD_PAGE_OFFSET + pa, pa, write, val);
	if (write && !shd__fault_fires(cpu, SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE))
		err = shd__flush_dcache_page(cpu, pfn, f);
	if (write && m->ilog)
		shd__ikernel_write_end(m, pfn);
	return err;
}

int shd_file_write(struct shd_cpu *cpu, struct shd_file *f, uint64_t off,
		   uint64_t val)
{
	return kernel_access(cpu, f, off, true, &val);
}

int shd_file_read(struct shd_cpu *cpu, struct shd_file *f, uint64_t off,
		  uint64_t *val)
{
	uint64_t tmp;

	return kernel_access(cpu, f, off, false, val ? val : &tmp);
}
