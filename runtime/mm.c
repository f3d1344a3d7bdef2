/* SPDX-License-Identifier: MIT */
/* Address spaces: page tables, VMAs, faults, simulated accesses, switch_mm. */

/*
 * Locking.  mm->lock plays mmap_lock and the page-table lock together: every
 * PTE change, VMA change and the flush that follows it happen under it.
 * Page walks (TLB misses on any CPU) are lock-free under rcu_read_lock();
 * leaf tables are unlinked under the lock and handed back to the machine's
 * pool after the flush and a grace period.  A CPU waiting for an mm lock
 * keeps taking IPIs, as a kernel CPU sleeping on mmap_lock keeps taking
 * interrupts; otherwise the holder's shootdown would wait for it forever.
 *
 * References.  mm->ref counts the creator and every CPU that has the mm
 * loaded (running or lazy).  The last put unlinks it and frees it after a
 * grace period; by then no CPU can use its translations: a CPU's ASID slot
 * that still names it is flushed when reused for another mm.
 */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <string.h>

#include "internal.h"
#include "../common/probes.h"

static inline unsigned pt_index(const struct shd_machine *m, uint64_t vpn,
				unsigned level)
{
	return (unsigned)(vpn >> ((m->pt_levels - 1 - level) * SHD_PT_BITS)) &
	       (SHD_PT_ENTRIES - 1);
}

static bool is_kernel_va(uint64_t va)
{
	return va >= SHD_KERNEL_BASE && va < SHD_KERNEL_TOP;
}

/* ---- frames ---- */

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
		uint32_t r = __atomic_sub_fetch(&m->frames[pfns[i]].ref, 1,
						__ATOMIC_ACQ_REL);

		if (r == UINT32_MAX)
			shd_die("frame %" PRIu64 " put more often than got", pfns[i]);
		if (r)
			continue;
		/* The oracle's use-after-free check: translations filled
		 * before this point name the old generation. */
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

/* A fresh page-cache or vmalloc page: zeroed behind the caches (the
 * device or the kernel's own colour-independent clear), so no CPU keeps an
 * older line of it. */
void shd__frame_zero(struct shd_machine *m, uint64_t pfn)
{
	shd__frame_fill(m, pfn, UINT64_MAX);
	shd__dcache_dma_page(m, pfn);
}

/* A growable list of frames to free after a flush. */
struct pfn_list {
	uint64_t *v;
	size_t n, cap;
};

static int pfn_list_add(struct pfn_list *l, uint64_t pfn)
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

/* ---- page tables ---- */

static struct shd_pt_leaf *leaf_alloc(struct shd_machine *m)
{
	struct shd_pt_leaf *leaf;

	pthread_mutex_lock(&m->leaf_lock);
	leaf = m->leaf_free;
	if (leaf)
		m->leaf_free = leaf->next_free;
	pthread_mutex_unlock(&m->leaf_lock);
	if (leaf) {
		/* Reused: keep the versions (monotonic history, oracle.c). */
		leaf->nr_frames = 0;
		leaf->next_free = NULL;
		return leaf;
	}
	leaf = calloc(1, sizeof(*leaf));
	if (!leaf)
		return NULL;
	leaf->m = m;
	for (unsigned i = 0; i < SHD_PT_ENTRIES; i++)
		leaf->pte[i].version = 1;
	return leaf;
}

static void leaf_to_pool(struct shd_pt_leaf *leaf)
{
	struct shd_machine *m = leaf->m;

	pthread_mutex_lock(&m->leaf_lock);
	leaf->next_free = m->leaf_free;
	m->leaf_free = leaf;
	pthread_mutex_unlock(&m->leaf_lock);
}

static void leaf_free_rcu(struct rcu_head *head)
{
	leaf_to_pool(caa_container_of(head, struct shd_pt_leaf, rcu));
}

void shd__pt_leaf_release_all(struct shd_machine *m)
{
	struct shd_pt_leaf *leaf, *next;

	/* The lock orders us after the last callback's leaf_to_pool() for
	 * TSan too (rcu_barrier()'s own wait is invisible to it). */
	pthread_mutex_lock(&m->leaf_lock);
	leaf = m->leaf_free;
	m->leaf_free = NULL;
	pthread_mutex_unlock(&m->leaf_lock);
	for (; leaf; leaf = next) {
		next = leaf->next_free;
		free(leaf);
	}
}

/* Leaf holding VPN, or NULL.  Under rcu_read_lock() or the mm lock. */
static struct shd_pt_leaf *pt_leaf(struct shd_mm *mm, uint64_t vpn)
{
	struct shd_machine *m = mm->m;
	void *node = mm->pgd;

	/* Acquire: pairs with the release that published each table, so its
	 * initialised contents are visible (rcu_dereference, seen by TSan). */
	for (unsigned l = 0; node && l < m->pt_levels - 1; l++)
		node = shd_load_acquire(&((struct shd_pt_dir *)node)->slot[pt_index(m, vpn, l)]);
	return node;
}

struct shd_pte *shd__pte_lookup(struct shd_mm *mm, uint64_t vpn)
{
	struct shd_pt_leaf *leaf = pt_leaf(mm, vpn);

	return leaf ? &leaf->pte[pt_index(mm->m, vpn, mm->m->pt_levels - 1)] : NULL;
}

/* Leaf for VPN, allocating the path.  Under the mm lock. */
static struct shd_pt_leaf *pt_leaf_alloc(struct shd_mm *mm, uint64_t vpn)
{
	struct shd_machine *m = mm->m;
	struct shd_pt_dir *dir = mm->pgd;

	for (unsigned l = 0; l < m->pt_levels - 1; l++) {
		unsigned i = pt_index(m, vpn, l);
		void *child = dir->slot[i];

		if (!child) {
			if (l == m->pt_levels - 2) {
				child = leaf_alloc(m);
				if (child)
					((struct shd_pt_leaf *)child)->base_vpn =
						vpn & ~(uint64_t)(SHD_PT_ENTRIES - 1);
			} else {
				child = calloc(1, sizeof(struct shd_pt_dir));
			}
			if (!child)
				return NULL;
			/* Release: rcu_assign_pointer() that TSan can see. */
			shd_store_release(&dir->slot[i], child);
		}
		if (l == m->pt_levels - 2)
			return child;
		dir = child;
	}
	return NULL;	/* pt_levels >= 2 always */
}

/*
 * Call FN(mm, leaf, pte, val, arg) for every PTE of [s, e) (vpns) that has a
 * frame attached, skipping absent leaves a leaf at a time.  Under the mm lock
 * (or when nobody else can reach MM).
 */
static void for_each_frame(struct shd_mm *mm, uint64_t s, uint64_t e,
			   void (*fn)(struct shd_mm *, struct shd_pt_leaf *,
				      struct shd_pte *, uint64_t, void *),
			   void *arg)
{
	for (uint64_t vpn = s; vpn < e;) {
		struct shd_pt_leaf *leaf = pt_leaf(mm, vpn);
		uint64_t next = (vpn | (SHD_PT_ENTRIES - 1)) + 1;

		if (!leaf) {
			vpn = next;
			continue;
		}
		for (; vpn < e && vpn < next; vpn++) {
			struct shd_pte *p = &leaf->pte[vpn & (SHD_PT_ENTRIES - 1)];
			uint64_t val = p->val;

			if (val & SHD_PTE_FRAME)
				fn(mm, leaf, p, val, arg);
		}
	}
}

static void pt_free_dir(struct shd_machine *m, void *node, unsigned level)
{
	if (!node)
		return;
	if (level == m->pt_levels - 1) {
		free(node);
		return;
	}
	for (unsigned i = 0; i < SHD_PT_ENTRIES; i++)
		pt_free_dir(m, ((struct shd_pt_dir *)node)->slot[i], level + 1);
	free(node);
}

/* ---- VMAs (sorted array, under the mm lock) ---- */

static struct shd_vma *vma_find(struct shd_mm *mm, uint64_t va)
{
	size_t lo = 0, hi = mm->nvmas;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (mm->vmas[mid].end <= va)
			lo = mid + 1;
		else if (mm->vmas[mid].start > va)
			hi = mid;
		else
			return &mm->vmas[mid];
	}
	return NULL;
}

static bool vma_overlaps(struct shd_mm *mm, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < mm->nvmas; i++)
		if (mm->vmas[i].start < end && start < mm->vmas[i].end)
			return true;
	return false;
}

static int vma_reserve(struct shd_mm *mm, size_t more)
{
	if (mm->nvmas + more > mm->cap_vmas) {
		size_t cap = (mm->nvmas + more) * 2;
		struct shd_vma *v = realloc(mm->vmas, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		mm->vmas = v;
		mm->cap_vmas = cap;
	}
	return 0;
}

/* Insert NV (taking over its file reference).  Needs a reserved slot. */
static void vma_insert(struct shd_mm *mm, const struct shd_vma *nv)
{
	size_t i = 0;

	while (i < mm->nvmas && mm->vmas[i].start < nv->start)
		i++;
	memmove(&mm->vmas[i + 1], &mm->vmas[i],
		(mm->nvmas - i) * sizeof(*mm->vmas));
	mm->vmas[i] = *nv;
	mm->nvmas++;
}

static void vma_drop(struct shd_vma *v)
{
	if (v->file)
		shd__file_unmap(v->file);
}

/* B continues A: same protection, same backing, contiguous file pages. */
static bool vma_mergeable(const struct shd_mm *mm, const struct shd_vma *a,
			  const struct shd_vma *b)
{
	return a->end == b->start && a->prot == b->prot && a->file == b->file &&
	       a->shared == b->shared &&
	       (!a->file || a->pgoff + ((a->end - a->start) >> mm->m->page_shift) ==
			    b->pgoff);
}

static void vma_merge(struct shd_mm *mm)
{
	size_t out = 0;

	for (size_t i = 0; i < mm->nvmas; i++) {
		if (out && vma_mergeable(mm, &mm->vmas[out - 1], &mm->vmas[i])) {
			mm->vmas[out - 1].end = mm->vmas[i].end;
			vma_drop(&mm->vmas[i]);
		} else {
			mm->vmas[out++] = mm->vmas[i];
		}
	}
	mm->nvmas = out;
}

/* Make a VMA boundary at AT (split_vma()).  Needs a reserved slot. */
static void vma_split(struct shd_mm *mm, uint64_t at)
{
	struct shd_vma *v = vma_find(mm, at), right;

	if (!v || v->start == at)
		return;
	right = *v;
	right.start = at;
	if (right.file) {
		right.pgoff += (at - v->start) >> mm->m->page_shift;
		shd__file_map(right.file);
	}
	v->end = at;
	vma_insert(mm, &right);
}

/* Cut [start, end) out of the VMA list (splitting as needed). */
static int vma_remove(struct shd_mm *mm, uint64_t start, uint64_t end)
{
	size_t out = 0;

	if (vma_reserve(mm, 2) < 0)
		return -ENOMEM;
	vma_split(mm, start);
	vma_split(mm, end);
	for (size_t i = 0; i < mm->nvmas; i++) {
		if (mm->vmas[i].start >= start && mm->vmas[i].end <= end)
			vma_drop(&mm->vmas[i]);
		else
			mm->vmas[out++] = mm->vmas[i];
	}
	mm->nvmas = out;
	return 0;
}

static bool vma_covers(struct shd_mm *mm, uint64_t start, uint64_t end)
{
	uint64_t at = start;

	while (at < end) {
		struct shd_vma *v = vma_find(mm, at);

		if (!v)
			return false;
		at = v->end;
	}
	return true;
}

/* ---- mm lifetime ---- */

struct shd_mm *shd__mm_alloc(struct shd_machine *m, bool kernel)
{
	struct shd_mm *mm;

	if (posix_memalign((void **)&mm, SHD_CL, sizeof(*mm)))
		return NULL;
	memset(mm, 0, sizeof(*mm));
	mm->m = m;
	mm->is_kernel = kernel;
	mm->cpumask = calloc(m->mask_words, sizeof(unsigned long));
	mm->pgd = calloc(1, sizeof(*mm->pgd));
	if (!mm->cpumask || !mm->pgd) {
		free(mm->cpumask);
		free(mm->pgd);
		free(mm);
		return NULL;
	}
	pthread_mutex_init(&mm->lock, NULL);
	urcu_ref_init(&mm->ref);
	mm->tlb_gen = 1;
	mm->stable_clock = 0;
	if (!kernel) {
		pthread_mutex_lock(&m->mms_lock);
		mm->id = m->next_ctx_id++;
		cds_list_add_tail_rcu(&mm->node, &m->mms);
		pthread_mutex_unlock(&m->mms_lock);
	}
	return mm;
}

static void free_frame_of(struct shd_mm *mm, struct shd_pt_leaf *leaf,
			  struct shd_pte *p, uint64_t val, void *arg)
{
	uint64_t pfn = val >> SHD_PTE_PFN_SHIFT;

	shd__frames_put(mm->m, &pfn, 1);
}

/* Free everything now: no CPU can reach MM any more. */
void shd__mm_free_now(struct shd_mm *mm)
{
	struct shd_machine *m = mm->m;

	/* Frames go back to the allocator. */
	if (mm->is_kernel)
		for_each_frame(mm, shd__va_vpn(m, SHD_KERNEL_BASE),
			       shd__va_vpn(m, SHD_KERNEL_TOP), free_frame_of, NULL);
	for (size_t i = 0; i < mm->nvmas; i++)
		for_each_frame(mm, mm->vmas[i].start >> m->page_shift,
			       mm->vmas[i].end >> m->page_shift, free_frame_of, NULL);
	for (size_t i = 0; i < mm->nvmas; i++)
		vma_drop(&mm->vmas[i]);
	pt_free_dir(m, mm->pgd, 0);
	free(mm->vmas);
	free(mm->cpumask);
	pthread_mutex_destroy(&mm->lock);
	free(mm);
}

static void mm_free_rcu(struct rcu_head *head)
{
	shd__mm_free_now(caa_container_of(head, struct shd_mm, rcu));
}

static void mm_release(struct urcu_ref *ref)
{
	struct shd_mm *mm = caa_container_of(ref, struct shd_mm, ref);
	struct shd_machine *m = mm->m;

	pthread_mutex_lock(&m->mms_lock);
	cds_list_del_rcu(&mm->node);
	pthread_mutex_unlock(&m->mms_lock);
	/* call_rcu() is for registered threads (CPU threads are); a user
	 * thread waits for the grace period itself and frees at once, so the
	 * library never registers a thread it does not own. */
	if (shd__this_cpu) {
		call_rcu(&mm->rcu, mm_free_rcu);
	} else {
		synchronize_rcu();
		shd__mm_free_now(mm);
	}
}

void shd__mm_get(struct shd_mm *mm)
{
	urcu_ref_get(&mm->ref);
}

void shd__mm_put(struct shd_mm *mm)
{
	urcu_ref_put(&mm->ref, mm_release);
}

int shd_mm_create(struct shd_machine *m, struct shd_mm **out)
{
	if (!m || !out)
		return shd__fail(-EINVAL, "shd_mm_create: machine and out needed");
	*out = shd__mm_alloc(m, false);
	return *out ? 0 : shd__fail(-ENOMEM, "out of memory for an mm");
}

void shd_mm_destroy(struct shd_mm *mm)
{
	if (!mm || mm->is_kernel)
		return;
	/* Relaxed: a hint for switch_mm's error message; the reference count
	 * is what keeps the memory alive. */
	shd_store_relaxed(&mm->dead, true);
	shd__mm_put(mm);
}

uint64_t shd_mm_id(const struct shd_mm *mm)
{
	return mm ? mm->id : 0;
}

void shd__mm_lock(struct shd_cpu *cpu, struct shd_mm *mm)
{
	unsigned spins = 0;

	if (!cpu) {
		pthread_mutex_lock(&mm->lock);
		return;
	}
	while (pthread_mutex_trylock(&mm->lock) != 0) {
		if (shd__ipi_pending(&cpu->ipi))
			shd__cpu_take_ipis(cpu);
		if (++spins < 64)
			caa_cpu_relax();
		else
			sched_yield();
	}
}

void shd__mm_unlock(struct shd_mm *mm)
{
	struct shd_cpu *cpu = shd__this_cpu;

	/* hypersparc's ordering window covers one operation under the lock,
	 * whatever path it leaves by. */
	if (cpu && cpu->cwin_mm == mm)
		cpu->cwin_mm = NULL;
	pthread_mutex_unlock(&mm->lock);
}

/* ---- argument checks ---- */

int shd__check_user_range(struct shd_machine *m, const char *what,
			    uint64_t addr, uint64_t len)
{
	if (addr & (m->page_size - 1) || len & (m->page_size - 1))
		return shd__fail(-EINVAL, "%s: address 0x%" PRIx64 " / length 0x%"
				 PRIx64 " not aligned to the %" PRIu64 "-byte page",
				 what, addr, len, m->page_size);
	if (len == 0)
		return shd__fail(-EINVAL, "%s: empty range", what);
	if (addr >= SHD_USER_TOP || len > SHD_USER_TOP - addr)
		return shd__fail(-EINVAL, "%s: [0x%" PRIx64 ", +0x%" PRIx64
				 ") is outside user space", what, addr, len);
	return 0;
}

int shd__check_kernel_range(struct shd_machine *m, const char *what,
			      uint64_t addr, uint64_t len)
{
	if (addr & (m->page_size - 1) || len & (m->page_size - 1))
		return shd__fail(-EINVAL, "%s: address 0x%" PRIx64 " / length 0x%"
				 PRIx64 " not page aligned", what, addr, len);
	if (len == 0)
		return shd__fail(-EINVAL, "%s: empty range", what);
	if (!is_kernel_va(addr) || len > SHD_KERNEL_TOP - addr)
		return shd__fail(-EINVAL, "%s: [0x%" PRIx64 ", +0x%" PRIx64
				 ") is outside the vmap area", what, addr, len);
	return 0;
}

int shd__check_user_mm(struct shd_cpu *cpu, struct shd_mm *mm, const char *what)
{
	int err = shd__check_cpu(cpu, what);

	if (err)
		return err;
	if (!mm || mm->m != cpu->m || mm->is_kernel)
		return shd__fail(-EINVAL, "%s: not a user mm of this machine", what);
	return 0;
}

/* ---- changes ---- */

static inline uint64_t clock_next(struct shd_machine *m)
{
	return shd_add_return(&m->clock, 1);
}

static inline void publish_changes(struct shd_mm *mm, uint64_t v)
{
	/* Release: the PTE writes of version v are complete (oracle.c). */
	shd_store_release(&mm->stable_clock, v);
}

static uint64_t prot_bits(unsigned prot)
{
	uint64_t b = 0;

	if (prot & (SHD_PROT_READ | SHD_PROT_WRITE | SHD_PROT_EXEC))
		b |= SHD_PTE_PRESENT;
	if (prot & SHD_PROT_WRITE)
		b |= SHD_PTE_WRITE;
	if (prot & SHD_PROT_EXEC)
		b |= SHD_PTE_EXEC;
	return b;
}

static int mmap_common(struct shd_cpu *cpu, struct shd_mm *mm,
		       const struct shd_vma *nv)
{
	int err = 0;

	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, mm);
	/* LATR: the range is not reused while CPUs may still map it. */
	if (mm->latr && (err = shd__latr_settle(cpu, mm,
						nv->start >> cpu->m->page_shift,
						nv->end >> cpu->m->page_shift))) {
		shd__mm_unlock(mm);
		return err;
	}
	if (vma_overlaps(mm, nv->start, nv->end)) {
		err = shd__fail(-EEXIST, "mmap: [0x%" PRIx64 ", +0x%" PRIx64
				") overlaps a mapping", nv->start,
				nv->end - nv->start);
	} else if (vma_reserve(mm, 1) < 0) {
		err = shd__fail(-ENOMEM, "mmap: out of memory for a VMA");
	} else {
		if (nv->file)
			shd__file_map(nv->file);
		vma_insert(mm, nv);
		vma_merge(mm);
	}
	shd__mm_unlock(mm);
	return err;
}

static int mmap_check(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
		      uint64_t len, unsigned prot)
{
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "mmap")) ||
	    (err = shd__check_user_range(cpu->m, "mmap", addr, len)))
		return err;
	if (prot & ~7u)
		return shd__fail(-EINVAL, "mmap: unknown protection bits 0x%x", prot);
	return 0;
}

int shd_mmap(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
	     uint64_t len, unsigned prot)
{
	int err = mmap_check(cpu, mm, addr, len, prot);

	return err ? err : mmap_common(cpu, mm, &(struct shd_vma){
		.start = addr, .end = addr + len, .prot = prot });
}

int shd_mmap_file(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
		  uint64_t len, unsigned prot, unsigned flags,
		  struct shd_file *f, uint64_t pgoff)
{
	uint64_t pages;
	int err;

	if ((err = mmap_check(cpu, mm, addr, len, prot)))
		return err;
	if (flags & ~SHD_MAP_SHARED)
		return shd__fail(-EINVAL, "mmap: unknown flags 0x%x", flags);
	if (!f || shd__file_machine(f) != cpu->m)
		return shd__fail(-EINVAL, "mmap: not a file of this machine");
	pages = len >> cpu->m->page_shift;
	if (pgoff > shd__file_npages(f) || pages > shd__file_npages(f) - pgoff)
		return shd__fail(-EINVAL, "mmap: pages [%" PRIu64 ", %" PRIu64
				 ") run past the end of the file (%" PRIu64
				 " pages)", pgoff, pgoff + pages,
				 shd__file_npages(f));
	/* sparc's arch_get_unmapped_area(): a shared mapping whose colour is
	 * not its file offset's would alias other mappings of the file. */
	if ((flags & SHD_MAP_SHARED) && cpu->m->cache &&
	    shd__cache_colour(cpu->m, addr) !=
	    shd__cache_colour(cpu->m, pgoff << cpu->m->page_shift))
		return shd__fail(-EINVAL, "mmap: a shared mapping of page %" PRIu64
				 " at 0x%" PRIx64 " would have colour %u, not the "
				 "file offset's %u (SHMLBA: it would alias other "
				 "mappings)", pgoff, addr, shd__cache_colour(cpu->m, addr),
				 shd__cache_colour(cpu->m, pgoff << cpu->m->page_shift));
	return mmap_common(cpu, mm, &(struct shd_vma){ .start = addr,
		.end = addr + len, .prot = prot, .shared = flags & SHD_MAP_SHARED,
		.file = f, .pgoff = pgoff });
}

/* The vpn of P in LEAF. */
static inline uint64_t pte_vpn(const struct shd_pt_leaf *leaf,
			       const struct shd_pte *p)
{
	return leaf->base_vpn + (uint64_t)(p - leaf->pte);
}

/*
 * A page that VMA may map but not write yet: private, and the frame is the
 * zero page, the page cache's, or still shared with another mm after fork.  The reference
 * count can only fall under us (the other mm lets go), so a stale "shared"
 * answer costs one needless copy, never a lost one.
 */
static bool page_is_cow(struct shd_machine *m, const struct shd_vma *vma,
			uint64_t pfn)
{
	return !vma->shared &&
	       ((m->frames[pfn].flags & (SHD_FRAME_PAGECACHE | SHD_FRAME_ZERO)) ||
		shd_load_acquire(&m->frames[pfn].ref) > 1);
}

/* ---- hypersparc: the cache flush comes first ---- */

/*
 * On a cache flushed by virtual address through the MMU (HyperSparc), the
 * flush of a mapping must run while its translation exists: cache flush,
 * then PTE change, then TLB flush (cachetlb.rst).  Every path below that
 * removes, replaces or write-protects a present PTE flushes the range
 * first; the flush records the range it covered on the CPU, and changing a
 * PTE outside it is an ordering violation (the oracle).  The flush runs on
 * every CPU of the mm (sun4m's cross-calls): each drops its own lines of the
 * mapped frames (write-through: nothing to write back).
 */
/* The vpns MM's mappings span, [*S, *E) (empty without any).  Under the
 * mm lock. */
static void mm_span(const struct shd_mm *mm, uint64_t *s, uint64_t *e)
{
	*s = *e = 0;
	if (mm->nvmas) {
		*s = mm->vmas[0].start >> mm->m->page_shift;
		*e = mm->vmas[mm->nvmas - 1].end >> mm->m->page_shift;
	}
}

#define CFLUSH_MAX 64	/* more pages: each CPU flushes its whole cache */

struct cflush {
	uint64_t pfn[CFLUSH_MAX], va[CFLUSH_MAX];
	size_t n;
};

static void cflush_fn(struct shd_cpu *cpu, void *info)
{
	const struct cflush *cf = info;

	if (cf->n > CFLUSH_MAX) {
		shd__dcache_flush_all(cpu);
		return;
	}
	for (size_t i = 0; i < cf->n; i++)
		shd__dcache_flush_va_page(cpu, cf->va[i], cf->pfn[i]);
}

static void cflush_collect(struct shd_mm *mm, struct shd_pt_leaf *leaf,
			   struct shd_pte *p, uint64_t val, void *arg)
{
	struct cflush *cf = arg;

	if (!(val & SHD_PTE_PRESENT))
		return;
	if (cf->n < CFLUSH_MAX) {
		cf->pfn[cf->n] = val >> SHD_PTE_PFN_SHIFT;
		cf->va[cf->n] = pte_vpn(leaf, p) << mm->m->page_shift;
	}
	cf->n++;
}

int shd__cache_flush_mm_range(struct shd_cpu *cpu, struct shd_mm *mm,
			      uint64_t s, uint64_t e)
{
	struct shd_machine *m = cpu->m;
	struct cflush cf;
	int err = 0;

	if (!m->cfg.arch.flush_needs_mapping)
		return 0;
	cf.n = 0;
	if (!mm->is_kernel) {	/* walk only where mappings are */
		uint64_t ms, me;

		mm_span(mm, &ms, &me);
		for_each_frame(mm, s > ms ? s : ms, e < me ? e : me,
			       cflush_collect, &cf);
	} else {
		for_each_frame(mm, s, e, cflush_collect, &cf);
	}
	cpu->cwin_mm = mm;
	cpu->cwin_s = s;
	cpu->cwin_e = e;
	if (!cf.n)
		return 0;
	cpu->cnt.s.dcache_flushes++;
	cflush_fn(cpu, &cf);
	for (unsigned t = 0; t < m->ncpus; t++) {
		int r;

		if (t == cpu->id || !shd__mask_test(m->online_mask, t) ||
		    (!mm->is_kernel && !shd__mask_test(mm->cpumask, t)))
			continue;
		cpu->cnt.s.dcache_cross_cpu++;
		if ((r = shd_smp_call_function_single(cpu, t, cflush_fn, &cf)) &&
		    !err)
			err = r;
	}
	return err;
}

/* The flush comes after the PTE change and the TLB flush: the fault. */
static bool cache_flush_late(struct shd_machine *m)
{
	return m->cfg.arch.flush_needs_mapping &&
	       shd__fault(m, SHD_FAULT_TLB_BEFORE_CACHE);
}

static int cache_flush_first(struct shd_cpu *cpu, struct shd_mm *mm,
			     uint64_t s, uint64_t e)
{
	return cache_flush_late(cpu->m) ? 0 :
	       shd__cache_flush_mm_range(cpu, mm, s, e);
}

/* After the TLB flush: the faulty order's flush (which finds nothing left
 * to flush).  The window ends with the mm lock (shd__mm_unlock()). */
static int cache_flush_done(struct shd_cpu *cpu, struct shd_mm *mm,
			    uint64_t s, uint64_t e)
{
	return cache_flush_late(cpu->m) ?
	       shd__cache_flush_mm_range(cpu, mm, s, e) : 0;
}

/* A present PTE of MM at VPN is about to change (under the mm lock); IFACE
 * is the flush that must have come first. */
static void cache_order_check(struct shd_mm *mm, uint64_t vpn,
			      const char *iface)
{
	struct shd_machine *m = mm->m;
	struct shd_cpu *cpu = shd__this_cpu;
	struct shd_violation v;
	uint64_t va;

	if (!m->cfg.arch.flush_needs_mapping || !m->cfg.oracle || !cpu ||
	    (cpu->cwin_mm == mm && vpn >= cpu->cwin_s && vpn < cpu->cwin_e))
		return;
	va = vpn << m->page_shift;
	if (mm->is_kernel)
		va |= 0xffff000000000000ull;
	memset(&v, 0, sizeof(v));
	v.kind = SHD_VIOLATION_ORDERING;
	v.cpu = cpu->id;
	v.mm_id = mm->is_kernel ? 0 : mm->id;
	v.addr = va;
	v.interface = mm->is_kernel ? "flush_cache_vunmap" : iface;
	v.seed = m->cfg.seed;
	snprintf(v.text, sizeof(v.text), "ordering: cpu %u changed the PTE of "
		 "va 0x%" PRIx64 " in mm %" PRIu64 " before flushing the cache "
		 "there (%s needs the translation: cache flush, PTE change, TLB "
		 "flush), seed %" PRIu64, cpu->id, va, v.mm_id, v.interface,
		 v.seed);
	cpu->cnt.s.violations++;
	shd__report(m, &v);
}

/* ---- mmu_gather ---- */

/*
 * asm-generic/tlb.h's mmu_gather, reduced: PTE changes made under the mm
 * lock gather the range they cleared, the frames whose references they
 * dropped and the page tables they unlinked; one flush covers the range,
 * and only after it has completed on every CPU are the frames released and
 * the tables handed to call_rcu() (a walker may still be reading them).
 * The batch is bounded: when it holds SHD_GATHER_BATCH frames, or cannot
 * grow, it is flushed and freed there and then (tlb_flush_mmu()), so an
 * unmap of any size makes progress in bounded memory.
 */
#define SHD_GATHER_BATCH 512

struct mmu_gather {
	struct shd_cpu *cpu;
	struct shd_mm *mm;
	uint64_t start, end;		/* vpns cleared since the last flush */
	uint64_t version;		/* of the changes being made */
	bool freed_tables;
	struct pfn_list pages;
	struct shd_pt_leaf *tables;
	uint64_t n;			/* PTEs cleared in all */
	unsigned flushes;		/* flushes done so far */
	bool may_defer;			/* the VMA is gone: LATR may post it */
	int err;			/* out of memory while gathering */
	int ferr;			/* the first flush that failed */
};

static void tlb_gather_mmu(struct mmu_gather *tlb, struct shd_cpu *cpu,
			   struct shd_mm *mm)
{
	memset(tlb, 0, sizeof(*tlb));
	tlb->cpu = cpu;
	tlb->mm = mm;
	tlb->start = UINT64_MAX;
	tlb->version = clock_next(mm->m);
}

static void tlb_adjust_range(struct mmu_gather *tlb, uint64_t s, uint64_t e)
{
	tlb->start = s < tlb->start ? s : tlb->start;
	tlb->end = e > tlb->end ? e : tlb->end;
}


/* tlb_flush_mmu(): flush what was gathered, then free it.  Under the lock. */
static void tlb_flush_mmu(struct mmu_gather *tlb)
{
	struct shd_mm *mm = tlb->mm;
	struct shd_machine *m = mm->m;
	uint64_t t = 0, s = tlb->start, e = tlb->end;
	bool early = shd__fault(m, SHD_FAULT_FREE_BEFORE_FLUSH);
	int err;

	if (s >= e)
		return;
	publish_changes(mm, tlb->version);
	tlb->flushes++;
	if (tlb->may_defer && m->cfg.policy.async && !mm->is_kernel &&
	    shd__latr_post(tlb->cpu, mm, s, e, tlb->freed_tables, &tlb->pages.v,
			   &tlb->pages.n, &tlb->tables) == 0) {
		tlb->pages = (struct pfn_list){ 0 };
		goto reset;
	}
	if (early)	/* the bug: frames reusable while still mapped in TLBs */
		shd__frames_put(m, tlb->pages.v, tlb->pages.n);
	if (mm->is_kernel)
		err = shd_flush_tlb_kernel_range(tlb->cpu, s << m->page_shift |
						 (SHD_KERNEL_BASE & ~((1ull << SHD_VA_BITS) - 1)),
						 e << m->page_shift |
						 (SHD_KERNEL_BASE & ~((1ull << SHD_VA_BITS) - 1)));
	else
		err = shd__flush_tlb_mm_range(tlb->cpu, mm, s << m->page_shift,
					      e << m->page_shift, tlb->freed_tables,
					      SHD_IF_RANGE, &t);
	/* After the flush nobody can reach these frames and tables.  If it
	 * failed (a CPU did not answer), a CPU may still hold translations to
	 * them: they are quarantined (never reused) instead of freed. */
	if (!err) {
		if (!early)
			shd__frames_put(m, tlb->pages.v, tlb->pages.n);
		shd__leaves_release(mm, tlb->tables, s, e, t);
	} else if (!tlb->ferr) {
		tlb->ferr = err;
	}
reset:
	tlb->pages.n = 0;
	tlb->tables = NULL;
	tlb->freed_tables = false;
	tlb->start = UINT64_MAX;
	tlb->end = 0;
	tlb->version = clock_next(m);	/* later changes need a later flush */
}

/* tlb_remove_page(): the frame's reference goes after the flush. */
static void tlb_remove_page(struct mmu_gather *tlb, uint64_t pfn)
{
	if (tlb->pages.n >= SHD_GATHER_BATCH) {
		tlb->cpu->cnt.s.gather_batch_flushes++;
		tlb_flush_mmu(tlb);
	}
	if (pfn_list_add(&tlb->pages, pfn) < 0) {
		/* Cannot grow: flush what we have, then this one fits. */
		tlb_flush_mmu(tlb);
		if (pfn_list_add(&tlb->pages, pfn) < 0)
			tlb->err = -ENOMEM;	/* leaks the frame */
	}
}

/* tlb_finish_mmu(): the last flush.  0 or the first flush's error. */
static int tlb_finish_mmu(struct mmu_gather *tlb)
{
	tlb_flush_mmu(tlb);
	free(tlb->pages.v);
	return tlb->ferr;
}

static void zap_one(struct shd_mm *mm, struct shd_pt_leaf *leaf,
		    struct shd_pte *p, uint64_t val, void *arg)
{
	struct mmu_gather *tlb = arg;
	uint64_t vpn = pte_vpn(leaf, p);

	cache_order_check(mm, vpn, "flush_cache_range");
	shd__pte_write(p, 0, tlb->version, mm);
	leaf->nr_frames--;
	tlb->n++;
	tlb_adjust_range(tlb, vpn, vpn + 1);
	tlb_remove_page(tlb, val >> SHD_PTE_PFN_SHIFT);
}

/* Clear the PTEs of [s, e) (vpns) that have frames into TLB.  Under the
 * mm lock. */
static void zap_range(struct mmu_gather *tlb, uint64_t s, uint64_t e)
{
	for_each_frame(tlb->mm, s, e, zap_one, tlb);
}

/* Unlink empty leaves in [s, e) that no VMA uses; collect them in *out. */
static unsigned free_empty_leaves(struct shd_mm *mm, uint64_t s, uint64_t e,
				  struct shd_pt_leaf **out)
{
	struct shd_machine *m = mm->m;
	unsigned n = 0;

	for (uint64_t base = s & ~(uint64_t)(SHD_PT_ENTRIES - 1); base < e;
	     base += SHD_PT_ENTRIES) {
		struct shd_pt_dir *dir = mm->pgd;
		struct shd_pt_leaf *leaf;
		unsigned l;

		for (l = 0; dir && l < m->pt_levels - 2; l++)
			dir = dir->slot[pt_index(m, base, l)];
		if (!dir)
			continue;
		leaf = dir->slot[pt_index(m, base, m->pt_levels - 2)];
		if (!leaf || leaf->nr_frames)
			continue;
		if (vma_overlaps(mm, base << m->page_shift,
				 (base + SHD_PT_ENTRIES) << m->page_shift))
			continue;
		shd_store_release(&dir->slot[pt_index(m, base, m->pt_levels - 2)],
				  (void *)NULL);
		leaf->base_vpn = base;
		leaf->next_free = *out;
		*out = leaf;
		n++;
	}
	return n;
}

/*
 * Hand detached leaves back after their flush (covering clock T over vpns
 * [s, e)) completed: the flush's credit walk could not reach them, so they
 * are credited here before their history goes to the pool.
 */
void shd__leaves_release(struct shd_mm *mm, struct shd_pt_leaf *list,
			 uint64_t s, uint64_t e, uint64_t t)
{
	while (list) {
		struct shd_pt_leaf *next = list->next_free;

		if (t)
			shd__oracle_credit_leaf(list, list->base_vpn, s, e, t,
						SHD_IF_RANGE);
		shd__oracle_fold_leaf(mm, list);
		call_rcu(&list->rcu, leaf_free_rcu);
		list = next;
	}
}

static int unmap_common(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
			uint64_t len, bool drop_vma)
{
	struct shd_machine *m = cpu->m;
	struct mmu_gather tlb;
	uint64_t s = addr >> m->page_shift, e = (addr + len) >> m->page_shift, t0;
	int err = 0, ferr, err2;
	bool hole = false;

	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, mm);
	if (!drop_vma)
		hole = !vma_covers(mm, addr, addr + len);
	/* A reclaim batch may have cleared PTEs here whose flush is still
	 * pending: finding them clear, we must not return before it. */
	ferr = shd__flush_tlb_batched_pending(cpu, mm);
	/* ... and so may a LATR flush not yet swept everywhere. */
	if (mm->latr && !ferr)
		ferr = shd__latr_settle(cpu, mm, s, e);
	/* flush_cache_range() (tlb_start_vma()), while the PTEs exist */
	if ((err2 = cache_flush_first(cpu, mm, s, e)) && !ferr)
		ferr = err2;
	t0 = shd__oracle_begin(mm);
	tlb_gather_mmu(&tlb, cpu, mm);
	tlb.may_defer = drop_vma;
	zap_range(&tlb, s, e);
	if (drop_vma) {
		if (vma_remove(mm, addr, addr + len) < 0) {
			err = -ENOMEM;
			tlb.may_defer = false;	/* the VMA stays: flush now */
		}
		/* free_pgtables(): the flush must then cover the tables'
		 * span and reach lazy CPUs too. */
		if (free_empty_leaves(mm, s, e, &tlb.tables)) {
			tlb.freed_tables = true;
			tlb_adjust_range(&tlb, s, e);
		}
	}
	if ((err2 = tlb_finish_mmu(&tlb)) && !ferr)
		ferr = err2;
	if ((err2 = cache_flush_done(cpu, mm, s, e)) && !ferr)
		ferr = err2;
	/* The contract: once this returns, no CPU may use a translation of
	 * the range older than the call.  PTEs that were already clear were
	 * flushed by whoever cleared them (under this lock), by the
	 * batched-pending flush or the LATR settle above: the oracle holds
	 * us to it, whatever this call flushed itself. */
	if (!ferr)
		shd__oracle_credit_absent(mm, s, e, t0, SHD_IF_RANGE);
	shd__mm_unlock(mm);
	if (ferr)
		return ferr;
	if (err || tlb.err)
		return shd__fail(-ENOMEM, "out of memory while unmapping");
	if (hole)
		return shd__fail(-ENOMEM, "madvise: part of [0x%" PRIx64 ", +0x%"
				 PRIx64 ") is not mapped", addr, len);
	return 0;
}

int shd_munmap(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
	       uint64_t len)
{
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "munmap")) ||
	    (err = shd__check_user_range(cpu->m, "munmap", addr, len)))
		return err;
	return unmap_common(cpu, mm, addr, len, true);
}

int shd_try_to_unmap(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t va)
{
	struct shd_machine *m;
	struct shd_pt_leaf *leaf;
	struct shd_pte *p;
	uint64_t vpn, val, v;
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "try_to_unmap")))
		return err;
	m = cpu->m;
	if ((va & (m->page_size - 1)) || va >= SHD_USER_TOP)
		return shd__fail(-EINVAL, "try_to_unmap: 0x%" PRIx64 " is not a "
				 "page-aligned user address", va);
	vpn = va >> m->page_shift;
	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, mm);
	leaf = pt_leaf(mm, vpn);
	p = leaf ? &leaf->pte[vpn & (SHD_PT_ENTRIES - 1)] : NULL;
	val = p ? p->val : 0;
	if (!(val & SHD_PTE_PRESENT) || (val >> SHD_PTE_PFN_SHIFT) == m->zero_pfn) {
		shd__mm_unlock(mm);
		return 0;
	}
	/* flush_cache_page(), while the PTE exists */
	if ((err = cache_flush_first(cpu, mm, vpn, vpn + 1))) {
		shd__mm_unlock(mm);
		return err;
	}
	cache_order_check(mm, vpn, "flush_cache_page");
	v = clock_next(m);
	shd__pte_write(p, 0, v, mm);
	leaf->nr_frames--;
	publish_changes(mm, v);
	err = shd__tlbbatch_add(cpu, mm, vpn, val >> SHD_PTE_PFN_SHIFT);
	if (!err)
		err = cache_flush_done(cpu, mm, vpn, vpn + 1);
	shd__mm_unlock(mm);
	return err ? err : 1;
}

int shd_try_to_unmap_flush(struct shd_cpu *cpu)
{
	int err = shd__check_cpu(cpu, "try_to_unmap_flush");

	return err ? err : shd__tlbbatch_flush(cpu);
}

int shd_mm_exit(struct shd_cpu *cpu, struct shd_mm *mm)
{
	uint64_t start = 0, end = 0;
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "exit_mmap")))
		return err;
	shd__mm_lock(cpu, mm);
	if (mm->nvmas) {
		start = mm->vmas[0].start;
		end = mm->vmas[mm->nvmas - 1].end;
	}
	shd__mm_unlock(mm);
	if (end)
		err = unmap_common(cpu, mm, start, end - start, true);
	shd_mm_destroy(mm);
	return err;
}

int shd_madvise_dontneed(struct shd_cpu *cpu, struct shd_mm *mm,
			 uint64_t addr, uint64_t len)
{
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "madvise")) ||
	    (err = shd__check_user_range(cpu->m, "madvise", addr, len)))
		return err;
	return unmap_common(cpu, mm, addr, len, false);
}

struct protect {
	struct shd_cpu *cpu;
	uint64_t version;
	uint64_t bits;
	uint64_t changed;
};

static void protect_one(struct shd_mm *mm, struct shd_pt_leaf *leaf,
			struct shd_pte *p, uint64_t val, void *arg)
{
	struct protect *pc = arg;
	uint64_t nval = (val & ~(uint64_t)0xfff) | SHD_PTE_FRAME | pc->bits;

	if ((nval & SHD_PTE_WRITE) &&
	    page_is_cow(mm->m, vma_find(mm, pte_vpn(leaf, p) << mm->m->page_shift),
			val >> SHD_PTE_PFN_SHIFT))
		nval &= ~SHD_PTE_WRITE;	/* the next store copies it */

	if (nval == val)
		return;
	if (val & SHD_PTE_PRESENT)
		cache_order_check(mm, pte_vpn(leaf, p), "flush_cache_range");
	if ((nval & SHD_PTE_EXEC) && (nval & SHD_PTE_PRESENT))
		shd__icache_set_pte_exec(pc->cpu, nval >> SHD_PTE_PFN_SHIFT);
	shd__pte_write(p, nval, pc->version, mm);
	pc->changed++;
}

int shd_mprotect(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
		 uint64_t len, unsigned prot)
{
	struct shd_machine *m;
	struct protect pc = { 0 };
	uint64_t s, e, t0;
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "mprotect")) ||
	    (err = shd__check_user_range(cpu->m, "mprotect", addr, len)))
		return err;
	if (prot & ~7u)
		return shd__fail(-EINVAL, "mprotect: unknown protection bits 0x%x",
				 prot);
	m = cpu->m;
	s = addr >> m->page_shift;
	e = (addr + len) >> m->page_shift;
	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, mm);
	if (!vma_covers(mm, addr, addr + len)) {
		shd__mm_unlock(mm);
		return shd__fail(-ENOMEM, "mprotect: part of [0x%" PRIx64 ", +0x%"
				 PRIx64 ") is not mapped", addr, len);
	}
	if ((err = shd__flush_tlb_batched_pending(cpu, mm)) ||
	    (mm->latr && (err = shd__latr_settle(cpu, mm, s, e)))) {
		shd__mm_unlock(mm);
		return err;
	}
	t0 = shd__oracle_begin(mm);
	if (vma_reserve(mm, 2) < 0) {
		shd__mm_unlock(mm);
		return shd__fail(-ENOMEM, "mprotect: out of memory for VMAs");
	}
	/* flush_cache_range() (change_protection()), while the PTEs exist */
	if ((err = cache_flush_first(cpu, mm, s, e))) {
		shd__mm_unlock(mm);
		return err;
	}
	vma_split(mm, addr);
	vma_split(mm, addr + len);
	for (size_t i = 0; i < mm->nvmas; i++)
		if (mm->vmas[i].start >= addr && mm->vmas[i].end <= addr + len)
			mm->vmas[i].prot = prot;
	vma_merge(mm);
	pc.version = clock_next(m);
	pc.bits = prot_bits(prot);
	pc.cpu = cpu;
	for_each_frame(mm, s, e, protect_one, &pc);
	publish_changes(mm, pc.version);
	if (pc.changed)
		err = shd__flush_tlb_mm_range(cpu, mm, addr, addr + len, false,
					      SHD_IF_RANGE, NULL);
	{
		int cerr = cache_flush_done(cpu, mm, s, e);

		err = err ? err : cerr;
	}
	/* Pages reclaimed before the call are clear: no translation of them
	 * may be used once mprotect returns (the batched-pending flush). */
	if (!err)
		shd__oracle_credit_absent(mm, s, e, t0, SHD_IF_RANGE);
	shd__mm_unlock(mm);
	return err;
}

int shd_vmap(struct shd_cpu *cpu, uint64_t addr, uint64_t len)
{
	struct shd_machine *m;
	struct shd_mm *k;
	uint64_t s, e, v;
	int err;

	if ((err = shd__check_cpu(cpu, "vmap")) ||
	    (err = shd__check_kernel_range(cpu->m, "vmap", addr, len)))
		return err;
	m = cpu->m;
	if ((len >> m->page_shift) > m->nframes)
		return shd__fail(-ENOMEM, "vmap: %" PRIu64 " pages is more than "
				 "the machine's %" PRIu64 " frames",
				 len >> m->page_shift, m->nframes);
	k = m->kernel_mm;
	s = shd__va_vpn(m, addr);
	e = s + (len >> m->page_shift);
	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, k);
	for (uint64_t vpn = s; vpn < e;) {
		struct shd_pt_leaf *leaf = pt_leaf(k, vpn);
		uint64_t next = (vpn | (SHD_PT_ENTRIES - 1)) + 1;

		for (; leaf && vpn < e && vpn < next; vpn++) {
			if (leaf->pte[vpn & (SHD_PT_ENTRIES - 1)].val) {
				shd__mm_unlock(k);
				return shd__fail(-EEXIST, "vmap: 0x%" PRIx64 " is "
						 "already mapped",
						 addr + ((vpn - s) << m->page_shift));
			}
		}
		vpn = next;
	}
	v = clock_next(m);
	for (uint64_t vpn = s; vpn < e; vpn++) {
		struct shd_pt_leaf *leaf = pt_leaf_alloc(k, vpn);
		uint64_t pfn = leaf ? shd__frame_alloc(m) : UINT64_MAX;

		/* Handlers take no mm lock: taking IPIs here is safe, and a
		 * large vmap must not stall other CPUs' shootdowns. */
		if ((vpn & (SHD_PT_ENTRIES - 1)) == 0 &&
		    shd__ipi_pending(&cpu->ipi))
			shd__cpu_take_ipis(cpu);

		if (pfn == UINT64_MAX) {
			publish_changes(k, v);
			shd__mm_unlock(k);
			/* Undo what was mapped (flushes nothing: never used). */
			if (vpn > s)
				shd_vunmap(cpu, addr, (vpn - s) << m->page_shift);
			return shd__fail(-ENOMEM, "vmap: out of simulated memory");
		}
		shd__frame_zero(m, pfn);
		shd__pte_write(&leaf->pte[vpn & (SHD_PT_ENTRIES - 1)],
			       pfn << SHD_PTE_PFN_SHIFT | SHD_PTE_FRAME |
			       SHD_PTE_PRESENT | SHD_PTE_WRITE | SHD_PTE_EXEC |
			       SHD_PTE_GLOBAL, v, k);
		leaf->nr_frames++;
	}
	publish_changes(k, v);
	shd__mm_unlock(k);
	return 0;
}

int shd_vunmap(struct shd_cpu *cpu, uint64_t addr, uint64_t len)
{
	struct shd_machine *m;
	struct shd_mm *k;
	struct mmu_gather tlb;
	uint64_t s;
	int err;

	if ((err = shd__check_cpu(cpu, "vunmap")) ||
	    (err = shd__check_kernel_range(cpu->m, "vunmap", addr, len)))
		return err;
	m = cpu->m;
	k = m->kernel_mm;
	s = shd__va_vpn(m, addr);
	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, k);
	/* flush_cache_vunmap(), while the PTEs exist */
	err = cache_flush_first(cpu, k, s, s + (len >> m->page_shift));
	tlb_gather_mmu(&tlb, cpu, k);
	zap_range(&tlb, s, s + (len >> m->page_shift));
	{
		int ferr = tlb_finish_mmu(&tlb);
		int cerr = cache_flush_done(cpu, k, s, s + (len >> m->page_shift));

		err = err ? err : ferr ? ferr : cerr;
	}
	shd__mm_unlock(k);
	if (!err && tlb.err)
		err = shd__fail(-ENOMEM, "out of memory while unmapping");
	return err;
}

/* ---- kmap ---- */

/*
 * kmap()/kunmap() of a page-cache page, as highmem's pkmap area does it: a
 * global kernel mapping in a slot of this CPU's, unmapped with the cache
 * flushed first (flush_cache_kmaps()'s job; here the vunmap path's
 * flush_cache_vunmap) and then flush_tlb_kernel_range().  Each slot spans
 * SHD_KMAP_COLOURS pages, so a page can be mapped at any colour: the
 * user's, when the profile colours kernel addresses (the email's scheme),
 * else its linear map's.
 */
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
		struct shd_pt_leaf *leaf = pt_leaf_alloc(k, vpn);
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
		v = clock_next(m);
		shd__pte_write(p, pfn << SHD_PTE_PFN_SHIFT | SHD_PTE_FRAME |
			       SHD_PTE_PRESENT | SHD_PTE_WRITE | SHD_PTE_GLOBAL,
			       v, k);
		leaf->nr_frames++;
		publish_changes(k, v);
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

/* ---- fork ---- */

struct dup {
	struct shd_mm *child;
	const struct shd_vma *vma;
	uint64_t version;
	int err;
};

/* copy_present_pte(): share the frame; write-protect a private page. */
static void dup_one(struct shd_mm *mm, struct shd_pt_leaf *leaf,
		    struct shd_pte *p, uint64_t val, void *arg)
{
	struct dup *d = arg;
	uint64_t vpn = pte_vpn(leaf, p);
	struct shd_pt_leaf *cleaf;

	if (d->err)
		return;
	cleaf = pt_leaf_alloc(d->child, vpn);
	if (!cleaf) {
		d->err = -ENOMEM;
		return;
	}
	if (!d->vma->shared && (val & SHD_PTE_WRITE)) {
		val &= ~SHD_PTE_WRITE;
		cache_order_check(mm, vpn, "flush_cache_dup_mm");
		shd__pte_write(p, val, d->version, mm);
	}
	shd__frame_get(mm->m, val >> SHD_PTE_PFN_SHIFT);
	if ((val & SHD_PTE_EXEC) && (val & SHD_PTE_PRESENT) && shd__this_cpu)
		shd__icache_set_pte_exec(shd__this_cpu, val >> SHD_PTE_PFN_SHIFT);
	shd__pte_write(&cleaf->pte[vpn & (SHD_PT_ENTRIES - 1)], val, d->version,
		       d->child);
	cleaf->nr_frames++;
}

int shd_mm_dup(struct shd_cpu *cpu, struct shd_mm *parent,
	       struct shd_mm **out)
{
	struct shd_machine *m;
	struct shd_mm *child;
	struct dup d = { 0 };
	int err, ferr;

	if ((err = shd__check_user_mm(cpu, parent, "fork")))
		return err;
	if (!out)
		return shd__fail(-EINVAL, "fork: out needed");
	*out = NULL;
	m = cpu->m;
	child = shd__mm_alloc(m, false);
	if (!child)
		return shd__fail(-ENOMEM, "fork: out of memory for an mm");
	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, parent);
	if (vma_reserve(child, parent->nvmas) < 0) {
		d.err = -ENOMEM;
	} else {
		for (size_t i = 0; i < parent->nvmas; i++) {
			child->vmas[i] = parent->vmas[i];
			if (child->vmas[i].file)
				shd__file_map(child->vmas[i].file);
		}
		child->nvmas = parent->nvmas;
	}
	d.child = child;
	/* flush_cache_dup_mm(), before the parent's PTEs are write-protected */
	if (!d.err)
		d.err = cache_flush_first(cpu, parent, 0,
					  SHD_USER_TOP >> m->page_shift);
	d.version = clock_next(m);
	for (size_t i = 0; !d.err && i < parent->nvmas; i++) {
		d.vma = &parent->vmas[i];
		for_each_frame(parent, d.vma->start >> m->page_shift,
			       d.vma->end >> m->page_shift, dup_one, &d);
	}
	publish_changes(child, d.version);
	publish_changes(parent, d.version);
	/* dup_mmap() ends with flush_tlb_mm(oldmm): the parent's writable
	 * translations are now stale on every CPU that runs it. */
	ferr = shd__flush_tlb_mm_range(cpu, parent, 0, SHD_FLUSH_END_ALL, true,
				       SHD_IF_MM, NULL);
	{
		int cerr = cache_flush_done(cpu, parent, 0,
					    SHD_USER_TOP >> m->page_shift);

		ferr = ferr ? ferr : cerr;
	}
	shd__mm_unlock(parent);
	if (d.err || ferr) {
		shd_mm_destroy(child);
		return ferr ? ferr : shd__fail(d.err, "fork: out of memory for "
					       "page tables");
	}
	*out = child;
	return 0;
}

/* ---- context switches ---- */

void shd__cpu_switch_to_init_mm(struct shd_cpu *cpu)
{
	struct shd_mm *prev = cpu->loaded_mm;

	/* Seq-cst: a flusher that still sees us lazy sends nothing; one that
	 * sees us not lazy finds us out of the mask or gets a no-op. */
	shd_store_relaxed(&cpu->is_lazy, 0);
	if (!prev)
		return;
	shd__mask_clear(prev->cpumask, cpu->id);
	cpu->loaded_mm = NULL;
	cpu->loaded_asid = SHD_ASID_NONE;
	shd__mm_put(prev);
}

/* x86 choose_new_asid(): slot for NEXT, and whether to flush it. */
static unsigned choose_asid(struct shd_cpu *cpu, struct shd_mm *next,
			    uint64_t mm_gen, bool *need_flush)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	unsigned a;

	for (a = 0; a < SHD_NR_ASIDS; a++) {
		if (cpu->ctxs[a].ctx_id != next->id)
			continue;
		*need_flush = shd__policy_switch_flush(p, cpu->ctxs[a].tlb_gen,
						       mm_gen);
		if (*need_flush && shd__fault(cpu->m, SHD_FAULT_IGNORE_TLB_GEN))
			*need_flush = false;
		return a;
	}
	a = cpu->next_asid;
	cpu->next_asid = (a + 1) % SHD_NR_ASIDS;
	cpu->ctxs[a].ctx_id = next->id;
	*need_flush = true;
	return a;
}

int shd_switch_mm(struct shd_cpu *cpu, struct shd_mm *next)
{
	struct shd_machine *m;
	struct shd_mm *prev;
	uint64_t mm_gen;
	bool need_flush;
	unsigned asid;
	int err;

	if ((err = shd__check_cpu(cpu, "switch_mm")))
		return err;
	m = cpu->m;
	if (next && (next->m != m || next->is_kernel))
		return shd__fail(-EINVAL, "switch_mm: not a user mm of this machine");
	if (next && shd_load_relaxed(&next->dead))
		return shd__fail(-EINVAL, "switch_mm: mm %" PRIu64 " was destroyed",
				 next->id);
	shd__cpu_take_ipis(cpu);
	if (m->cfg.policy.async)
		shd__latr_tick(cpu);	/* LATR sweeps at context switches */
	prev = cpu->loaded_mm;
	if (next == prev) {
		if (!next || !shd_load_relaxed(&cpu->is_lazy))
			return 0;
		/* Leaving lazy mode: Dekker with the flusher, which bumps
		 * tlb_gen and then reads is_lazy (both seq-cst). */
		shd_xchg(&cpu->is_lazy, 0);
		mm_gen = __atomic_load_n(&next->tlb_gen, __ATOMIC_SEQ_CST);
		if (shd__policy_switch_flush(&m->cfg.policy,
					     cpu->ctxs[cpu->loaded_asid].tlb_gen,
					     mm_gen) &&
		    !shd__fault(m, SHD_FAULT_DROP_LAZY_FLUSH)) {
			shd__flush_local_asid_ctx(cpu, cpu->loaded_asid);
			cpu->ctxs[cpu->loaded_asid].tlb_gen = mm_gen;
			cpu->cnt.s.switch_flushes++;
		}
		return 0;
	}
	shd__cpu_switch_to_init_mm(cpu);
	if (!next)
		return 0;
	shd__mm_get(next);
	/* Seq-cst RMW: set our bit before reading tlb_gen; the flusher bumps
	 * tlb_gen before reading the mask.  One of us sees the other. */
	shd__mask_set(next->cpumask, cpu->id);
	mm_gen = __atomic_load_n(&next->tlb_gen, __ATOMIC_SEQ_CST);
	asid = choose_asid(cpu, next, mm_gen, &need_flush);
	if (need_flush) {
		shd__flush_local_asid_ctx(cpu, asid);
		cpu->cnt.s.switch_flushes++;
	}
	if (need_flush || !m->cfg.policy.gen)
		cpu->ctxs[asid].tlb_gen = mm_gen;
	cpu->loaded_mm = next;
	cpu->loaded_asid = asid;
	return 0;
}

void shd_enter_lazy_tlb(struct shd_cpu *cpu)
{
	if (!cpu || cpu != shd__this_cpu || cpu->in_ipi || !cpu->loaded_mm)
		return;
	/* Seq-cst: pairs with the flusher's read (see shd_switch_mm). */
	shd_xchg(&cpu->is_lazy, 1);
}

struct shd_mm *shd_cpu_active_mm(const struct shd_cpu *cpu)
{
	return cpu ? cpu->loaded_mm : NULL;
}

/* ---- accesses ---- */

/* ACC_FORCE: a debugger's write, get_user_pages(FOLL_FORCE | FOLL_WRITE):
 * allowed into a private mapping the program cannot write (its text),
 * where it breaks copy-on-write and leaves the PTE read-only.  ACC_PEEK: a
 * debugger's read (FOLL_FORCE): any accessible mapping, execute-only too. */
enum access_kind { ACC_READ, ACC_WRITE, ACC_FETCH, ACC_FORCE, ACC_PEEK };

static bool pte_allows(uint64_t val, enum access_kind k)
{
	if (!(val & SHD_PTE_PRESENT))
		return false;
	if (k == ACC_WRITE)
		return val & SHD_PTE_WRITE;
	if (k == ACC_FETCH)
		return val & SHD_PTE_EXEC;
	return true;
}

static bool vma_allows(const struct shd_vma *vma, enum access_kind k)
{
	unsigned prot = vma->prot;

	if (k == ACC_FORCE)
		return (prot & SHD_PROT_WRITE) ||
		       (!vma->shared && (prot & (SHD_PROT_READ | SHD_PROT_EXEC)));
	if (k == ACC_PEEK || k == ACC_READ)	/* x86: executable is readable */
		return prot & (SHD_PROT_READ | SHD_PROT_WRITE | SHD_PROT_EXEC);
	if (k == ACC_WRITE)
		return prot & SHD_PROT_WRITE;
	if (k == ACC_FETCH)
		return prot & SHD_PROT_EXEC;
	return prot & (SHD_PROT_READ | SHD_PROT_WRITE);
}

/*
 * A store to a present, write-protected page of a VMA that allows it
 * (do_wp_page()): reuse the page if it is ours alone, else copy it.  The
 * copy replaces a translation other CPUs may cache, so it is flushed with
 * flush_tlb_page() before the old frame's reference goes (ptep_clear_flush()).
 * Under the mm lock.
 */
static int wp_fault(struct shd_cpu *cpu, struct shd_mm *mm,
		    const struct shd_vma *vma, struct shd_pte *p, uint64_t val,
		    uint64_t addr)
{
	struct shd_machine *m = cpu->m;
	uint64_t old = val >> SHD_PTE_PFN_SHIFT, pfn = old, v;
	uint64_t page = addr & ~(m->page_size - 1);
	bool copy = page_is_cow(m, vma, old);
	int err = 0;

	if (copy) {
		pfn = shd__frame_alloc(m);
		if (pfn == UINT64_MAX)
			return shd__fail(-ENOMEM, "out of simulated memory (%" PRIu64
					 " frames)", m->nframes);
		shd__user_page_fill(cpu, pfn, old, addr);	/* copy_user_page() */
		cpu->cnt.s.cow_copies++;
		/* wp_page_copy(): flush_cache_page() while the old PTE is
		 * there, then clear it and flush the TLB before the new one
		 * goes in, or one CPU could store to the copy while another
		 * still reads the old page through its entry. */
		if ((err = cache_flush_first(cpu, mm, page >> m->page_shift,
					     (page >> m->page_shift) + 1)))
			return err;
		cache_order_check(mm, page >> m->page_shift, "flush_cache_page");
		v = clock_next(m);
		shd__pte_write(p, 0, v, mm);
		publish_changes(mm, v);
		err = shd__flush_tlb_mm_range(cpu, mm, page, page + m->page_size,
					      false, SHD_IF_PAGE, NULL);
		if (!err)
			err = cache_flush_done(cpu, mm, page >> m->page_shift,
					       (page >> m->page_shift) + 1);
		if (err)	/* quarantined: neither frame is reused */
			return err;
		shd__frames_put(m, &old, 1);
	}
	if (!copy) {	/* wp_page_reuse(): flush_cache_page() first */
		if ((err = cache_flush_first(cpu, mm, page >> m->page_shift,
					     (page >> m->page_shift) + 1)))
			return err;
		cache_order_check(mm, page >> m->page_shift, "flush_cache_page");
	}
	if (prot_bits(vma->prot) & SHD_PTE_EXEC)	/* set_pte_at() */
		shd__icache_set_pte_exec(cpu, pfn);
	v = clock_next(m);
	shd__pte_write(p, pfn << SHD_PTE_PFN_SHIFT | SHD_PTE_FRAME |
		       prot_bits(vma->prot), v, mm);
	publish_changes(mm, v);
	cpu->cnt.s.page_faults++;
	return shd__dcache_update_mmu(cpu, pfn);	/* update_mmu_cache() */
}

/*
 * The frame a not-present page of VMA gets, with its PTE bits in *BITS: a
 * zeroed anonymous page (the zero page, read-only, for a load or fetch), the
 * page cache's page (read-only under a private
 * mapping), or for a store to a private file mapping a copy of it
 * (do_cow_fault()).  UINT64_MAX when out of frames.
 */
static uint64_t fault_page(struct shd_cpu *cpu, const struct shd_vma *vma,
			   uint64_t addr, enum access_kind k, uint64_t *bits)
{
	struct shd_machine *m = cpu->m;
	uint64_t pfn, copy;

	*bits = prot_bits(vma->prot);
	if (k == ACC_FORCE)
		k = ACC_WRITE;
	if (!vma->file && k != ACC_WRITE) {
		shd__frame_get(m, m->zero_pfn);
		*bits &= ~SHD_PTE_WRITE;
		return m->zero_pfn;
	}
	if (!vma->file) {
		pfn = shd__frame_alloc(m);
		if (pfn != UINT64_MAX)	/* clear_user_page() */
			shd__user_page_fill(cpu, pfn, UINT64_MAX, addr);
		return pfn;
	}
	pfn = shd__file_page(vma->file, vma->pgoff +
			     ((addr - vma->start) >> m->page_shift));
	if (pfn == UINT64_MAX || vma->shared)
		return pfn;
	if (k != ACC_WRITE) {
		*bits &= ~SHD_PTE_WRITE;
		return pfn;
	}
	copy = shd__frame_alloc(m);
	if (copy != UINT64_MAX) {
		shd__user_page_fill(cpu, copy, pfn, addr);	/* copy_user_page() */
		cpu->cnt.s.cow_copies++;
	}
	shd__frames_put(m, &pfn, 1);
	return copy;
}

static int handle_fault(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
			enum access_kind k)
{
	struct shd_machine *m = cpu->m;
	uint64_t vpn = addr >> m->page_shift, v, pfn, bits, val;
	struct shd_pt_leaf *leaf;
	struct shd_pte *p;
	struct shd_vma *vma;
	int err = 0;

	shd__mm_lock(cpu, mm);
	vma = vma_find(mm, addr);
	if (!vma) {
		err = shd__fail(-EFAULT, "cpu %u: no mapping at 0x%" PRIx64
				" in mm %" PRIu64, cpu->id, addr, mm->id);
		goto out;
	}
	if (!vma_allows(vma, k)) {
		err = shd__fail(-EACCES, "cpu %u: %s of 0x%" PRIx64 " not allowed",
				cpu->id, k == ACC_WRITE || k == ACC_FORCE ? "write" :
				k == ACC_FETCH ? "fetch" : "read", addr);
		goto out;
	}
	leaf = pt_leaf_alloc(mm, vpn);
	if (!leaf) {
		err = shd__fail(-ENOMEM, "out of memory for a page table");
		goto out;
	}
	p = &leaf->pte[vpn & (SHD_PT_ENTRIES - 1)];
	val = p->val;
	if (val & SHD_PTE_FRAME) {
		if (k == ACC_WRITE && (val & SHD_PTE_PRESENT) &&
		    !(val & SHD_PTE_WRITE))
			err = wp_fault(cpu, mm, vma, p, val, addr);
		else if (k == ACC_FORCE && (val & SHD_PTE_PRESENT) &&
			 !(val & SHD_PTE_WRITE) &&
			 ((vma->prot & SHD_PROT_WRITE) ||
			  page_is_cow(m, vma, val >> SHD_PTE_PFN_SHIFT)))
			err = wp_fault(cpu, mm, vma, p, val, addr);
		goto out;	/* else another CPU faulted it in: retry */
	}
	pfn = fault_page(cpu, vma, addr, k, &bits);
	if (pfn == UINT64_MAX) {
		err = shd__fail(-ENOMEM, "out of simulated memory (%" PRIu64
				" frames)", m->nframes);
		goto out;
	}
	if (bits & SHD_PTE_EXEC)	/* set_pte_at(): __sync_icache_dcache() */
		shd__icache_set_pte_exec(cpu, pfn);
	v = clock_next(m);
	shd__pte_write(p, pfn << SHD_PTE_PFN_SHIFT | SHD_PTE_FRAME | bits, v, mm);
	leaf->nr_frames++;
	publish_changes(mm, v);
	cpu->cnt.s.page_faults++;
	err = shd__dcache_update_mmu(cpu, pfn);	/* update_mmu_cache() */
out:
	shd__mm_unlock(mm);
	return err;
}

/* The I-cache oracle: a store the program must sync itself reached PFN
 * (set before the store, once). */
static inline void user_store(struct shd_machine *m, uint64_t pfn)
{
	if (!shd_load_relaxed(&m->frames[pfn].iuser))
		__atomic_store_n(&m->frames[pfn].iuser, 1, __ATOMIC_SEQ_CST);
}

static int do_access(struct shd_cpu *cpu, uint64_t addr, enum access_kind k,
		  uint64_t *val)
{
	struct shd_machine *m;
	struct shd_tlb *tlb;
	struct shd_tlbe *e;
	struct shd_mm *mm;
	uint64_t vpn, pte, ver;
	unsigned asid, relieved = 0;
	bool kernel;

	if (!cpu || cpu != shd__this_cpu || cpu->in_ipi)
		return shd__check_cpu(cpu, "access");
	m = cpu->m;
	if (shd__ipi_pending(&cpu->ipi))
		shd__cpu_take_ipis(cpu);
	if (m->cfg.policy.async && !(++cpu->ticks & (SHD_LATR_TICK - 1)))
		shd__latr_tick(cpu);
	if (addr & 7)
		return shd__fail(-EINVAL, "access: 0x%" PRIx64 " is not 8-byte "
				 "aligned", addr);
	kernel = is_kernel_va(addr);
	if (kernel) {
		mm = m->kernel_mm;
		asid = SHD_ASID_GLOBAL;
	} else if (addr < SHD_USER_TOP) {
		mm = cpu->loaded_mm;
		if (!mm)
			return shd__fail(-EFAULT, "cpu %u: user access at 0x%" PRIx64
					 " with no mm (switch_mm first)",
					 cpu->id, addr);
		if (shd_load_relaxed(&cpu->is_lazy))
			return shd__fail(-EPERM, "cpu %u: user access in lazy TLB "
					 "mode (switch_mm first)", cpu->id);
		asid = cpu->loaded_asid;
	} else if (addr < 0xffff800000000000ull) {
		return shd__fail(-EINVAL, "cpu %u: 0x%" PRIx64 " is not a "
				 "canonical address", cpu->id, addr);
	} else {
		return shd__fail(-EFAULT, "cpu %u: 0x%" PRIx64 " is kernel space "
				 "outside the vmap area", cpu->id, addr);
	}
	vpn = shd__va_vpn(m, addr);
	tlb = (k == ACC_FETCH && cpu->split) ? &cpu->itlb : &cpu->dtlb;

	for (int tries = 0;; tries++) {
		e = shd__tlb_lookup(tlb, vpn, asid);
		if (e) {
			cpu->cnt.s.tlb_hits++;
			if (m->cfg.oracle)
				shd__oracle_check_hit(cpu, mm, e, addr);
			if (pte_allows(e->val, k))
				break;
			/* A stricter cached entry: spurious fault if the PTE
			 * now allows it (x86 flushes the one entry). */
			e->tag = 0;
		}
		cpu->cnt.s.tlb_misses++;
		SHD_PROBE3(tlb_miss, cpu->id, mm->id, addr);
		rcu_read_lock();
		struct shd_pte *p = shd__pte_lookup(mm, vpn);

		pte = p ? shd__pte_read(p, &ver) : 0;
		rcu_read_unlock();
		if (p && pte_allows(pte, k)) {
			e = shd__tlb_fill(tlb, vpn, asid, pte, ver, p);
			if (m->cfg.oracle)	/* only the oracle reads it */
				e->fgen = shd_load_acquire(&m->frames[pte >> SHD_PTE_PFN_SHIFT].gen);
			break;
		}
		if (kernel)
			return shd__fail(p && (pte & SHD_PTE_PRESENT) ? -EACCES : -EFAULT,
					 "cpu %u: kernel access at 0x%" PRIx64
					 " %s", cpu->id, addr,
					 p && (pte & SHD_PTE_PRESENT) ?
					 "not allowed" : "not mapped");
		if (tries >= 2)
			return shd__fail(-EFAULT, "cpu %u: fault at 0x%" PRIx64
					 " did not resolve", cpu->id, addr);
		int err = handle_fault(cpu, mm, addr, k);

		/* LATR holds frames until every CPU has swept: out of memory,
		 * hurry the sweeps along and try again (no lock held). */
		if (err == -ENOMEM && m->cfg.policy.async && relieved++ < 64 &&
		    !shd__latr_relieve(cpu, mm)) {
			tries--;
			continue;
		}
		if (err)
			return err;
	}
	uint64_t pa = ((e->val >> SHD_PTE_PFN_SHIFT) << m->page_shift) +
		      (addr & (m->page_size - 1));

	if (!m->cache && !m->ilog) {	/* coherent caches: memory, at once */
		uint64_t *w = (uint64_t *)(m->mem + pa);

		if (k == ACC_WRITE)
			__atomic_store_n(w, *val, __ATOMIC_RELAXED);
		else
			*val = __atomic_load_n(w, __ATOMIC_RELAXED);
		return 0;
	}
	if (k == ACC_FETCH && m->ilog) {
		*val = shd__icache_fetch(cpu, addr, pa);
	} else if (k == ACC_FETCH) {	/* the I-cache snoops: memory */
		*val = __atomic_load_n((uint64_t *)(m->mem + pa), __ATOMIC_RELAXED);
	} else if (k == ACC_WRITE && m->ilog) {
		/* For the I-cache oracle: a user store is the program's to
		 * sync; a kernel one (through vmap) the kernel's. */
		uint64_t pfn = pa >> m->page_shift;

		if (kernel)
			shd__ikernel_write_begin(m, pfn);
		else
			user_store(m, pfn);
		shd__mem_access(cpu, addr, pa, true, val);
		if (kernel)
			shd__ikernel_write_end(m, pfn);
	} else {
		shd__mem_access(cpu, addr, pa, k == ACC_WRITE, val);
	}
	return 0;
}

/* ---- ptrace: access_process_vm() through the kernel alias ---- */

/* A write-protected PTE whose page is this mapping's own: a forced write
 * may go there (the COW was broken, or the program's own page). */
static bool frame_exclusive(struct shd_machine *m, uint64_t pte)
{
	const struct shd_frame *fr = &m->frames[pte >> SHD_PTE_PFN_SHIFT];

	return !(fr->flags & (SHD_FRAME_PAGECACHE | SHD_FRAME_ZERO)) &&
	       shd_load_acquire(&fr->ref) == 1;
}

/*
 * The frame behind VA in MM for a ptrace access, faulting it in as
 * get_user_pages(FOLL_FORCE) would (a write to a private page copies it,
 * even where the program may not write, as into its text).  *PTE gets the
 * PTE.  UINT64_MAX with the error in *ERR.
 */
static uint64_t gup_frame(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t va,
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
		if ((*err = handle_fault(cpu, mm, va, write ? ACC_FORCE : ACC_PEEK)))
			return UINT64_MAX;
		forced = write;
	}
	*err = shd__fail(-EFAULT, "ptrace: fault at 0x%" PRIx64 " did not "
			 "resolve", va);
	return UINT64_MAX;
}

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
	pfn = gup_frame(cpu, mm, va, write, &pte, &err);
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
		user_store(m, pfn);
	}
	shd__mem_access(cpu, SHD_PAGE_OFFSET + pa, pa, write, val);
	if (write && m->cache && !shd__fault(m, SHD_FAULT_SKIP_PTRACE_FLUSH)) {
		shd__dcache_flush_page(cpu, pfn);
		cpu->cnt.s.dcache_flushes++;
	}
	if (isync) {
		if (!shd__fault(m, SHD_FAULT_SKIP_PTRACE_ICACHE))
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

int shd_load(struct shd_cpu *cpu, uint64_t addr, uint64_t *val)
{
	uint64_t tmp;

	return do_access(cpu, addr, ACC_READ, val ? val : &tmp);
}

int shd_store(struct shd_cpu *cpu, uint64_t addr, uint64_t val)
{
	return do_access(cpu, addr, ACC_WRITE, &val);
}

int shd_fetch(struct shd_cpu *cpu, uint64_t addr, uint64_t *val)
{
	uint64_t tmp;

	return do_access(cpu, addr, ACC_FETCH, val ? val : &tmp);
}
