/* SPDX-License-Identifier: MIT */
/* The mm: allocation, references, the lock (kernel/fork.c's mm_alloc, mmput, mmdrop). */

/*
 * Locking: two levels, as in Linux.
 *
 * mmap_lock (shd__mmap_read_lock() ...) is a reader-writer semaphore.
 * madvise(MADV_DONTNEED) and munmap's zap-and-free phase hold it for read,
 * so several of them run on one mm at once (munmap detaches its VMAs under
 * the write lock and then downgrades, as do_vmi_align_munmap() has since
 * dd2283f2605e, 4.20); mmap and mprotect hold it for write.  6.17 runs a
 * single-VMA DONTNEED under the per-VMA lock instead (a6fde7add78d): for
 * the flushes that is the read lock here, as nothing here takes a VMA
 * lock.  A waiter that cannot have it sleeps, as in rwsem_down_*_slowpath():
 * its CPU goes idle in lazy TLB mode (enter_lazy_tlb()) while it waits,
 * taking IPIs, and switches back to the same mm when it gets the lock
 * (switch_mm() from lazy: a flush if the mm's tlb_gen moved on); only a
 * writer waiting for a writer spins instead (rwsem_optimistic_spin()).  A
 * waiting writer holds new readers back, so a stream of madvises cannot
 * starve munmap.
 *
 * The page-table lock (mm->lock, shd__mm_lock()) is below it and is
 * mm-wide, as mm->page_table_lock: every PTE change, page-table page
 * allocation and unlink, and VMA change (under both locks, so that either
 * one keeps the VMAs still) happens under it, with the versions the oracle
 * stamps on them.  Linux splits it per PTE table; one lock here, because
 * the page-table pages' counts, the VMA array and the reclaim and LATR
 * lists are under it too, and what the nested-flush race needs is only
 * that the PTEs change under the PTL while the flush comes after it is
 * dropped (tlb_finish_mmu() under mmap_lock alone).  Faults, reclaim,
 * fork, LATR, cacheflush and highmem take only the PTL: a fault runs
 * under the per-VMA lock in Linux, never waiting for mmap_lock.  A CPU
 * spinning for the PTL keeps taking IPIs, or the holder's shootdown would
 * wait for it forever.
 *
 * Page walks (TLB misses on any CPU) are lock-free under rcu_read_lock();
 * leaf tables are unlinked under the PTL and handed back to the machine's
 * pool after the flush and a grace period.
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

#include <shootdown/mm.h>
#include "bcast.h"
#include "srmmu.h"
#include "mm.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "seeded.h"
#include "smp.h"
#include "tso.h"
#include "vma.h"

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
	/* init_new_context(): jiffies + HZ */
	mm->next_trim_cpumask = shd__jiffies(m) +
				shd__trim_jiffies(&m->cfg.policy);
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

void shd__mm_free_now(struct shd_mm *mm)
{
	struct shd_machine *m = mm->m;

	/* Frames go back to the allocator. */
	if (mm->is_kernel)
		shd__for_each_frame(mm, shd__va_vpn(m, SHD_KERNEL_BASE),
			       shd__va_vpn(m, SHD_KERNEL_TOP), free_frame_of, NULL);
	for (size_t i = 0; i < mm->nvmas; i++)
		shd__for_each_frame(mm, mm->vmas[i].start >> m->page_shift,
			       mm->vmas[i].end >> m->page_shift, free_frame_of, NULL);
	for (size_t i = 0; i < mm->nvmas; i++)
		shd__vma_drop(&mm->vmas[i]);
	shd__pt_free_dir(m, mm->pgd, 0);
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
	/* destroy_context(): its global ASID waits for the next wraparound. */
	shd__mm_free_global_asid(mm);
	shd__srmmu_destroy_context(mm);
	/* call_rcu() is for registered threads (CPU threads are); a user
	 * thread waits for the grace period itself and frees at once, so the
	 * library never registers a thread it does not own. */
	if (shd__this_cpu && !m->seeded) {
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

static bool mm_unlocked(void *arg)
{
	struct shd_mm *mm = arg;

	return !mm->lock_held;
}

void shd__mm_lock(struct shd_cpu *cpu, struct shd_mm *mm)
{
	unsigned spins = 0;

	if (!cpu) {
		pthread_mutex_lock(&mm->lock);
		mm->lock_held = true;
		return;
	}
	if (cpu->m->seeded) {
		/* One CPU runs at a time: the lock is free unless its holder
		 * was switched out inside it; then wait for the unlock,
		 * taking IPIs. */
		shd__sched_point(cpu);
		shd__tso_drain(cpu);	/* a lock's acquire: locked */
		while (mm->lock_held) {
			if (shd__ipi_pending(&cpu->ipi))
				shd__cpu_take_ipis(cpu);
			else
				shd__seeded_block(cpu, mm_unlocked, mm, true, 0);
		}
		pthread_mutex_lock(&mm->lock);
		mm->lock_held = true;
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
	mm->lock_held = true;
}

void shd__mm_unlock(struct shd_mm *mm)
{
	struct shd_cpu *cpu = shd__this_cpu;

	/* hypersparc's ordering window covers one operation under the lock,
	 * whatever path it leaves by. */
	if (cpu && cpu->cwin_mm == mm)
		cpu->cwin_mm = NULL;
	mm->lock_held = false;
	pthread_mutex_unlock(&mm->lock);
	shd__seeded_wake(mm->m);
}

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
	if (!shd__is_kernel_va(addr) || len > SHD_KERNEL_TOP - addr)
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
