/* SPDX-License-Identifier: MIT */
/* mmap_lock: a reader-writer semaphore above the page-table lock (kernel/locking/rwsem.c, mm/mmap_lock.c). */

/*
 * Moved out of mm.c (no behaviour change): a task that sleeps on the
 * rwsem leaves its CPU idle in lazy TLB mode and switches back when it
 * wakes, which needs mmu_context.c; mm.c sits below mmu_context.c.
 */
#include <sched.h>

#include <shootdown/mmu_context.h>
#include "mm.h"
#include "mmap_lock.h"
#include "seeded.h"
#include "smp.h"
#include "tso.h"

/* A reader gets in while no writer holds or waits for the lock. */
static bool mmap_read_free(void *arg)
{
	struct shd_mm *mm = arg;

	return shd_load_acquire(&mm->mmap_count) >= 0 &&
	       !shd_load_relaxed(&mm->mmap_writers_waiting);
}

static bool mmap_write_free(void *arg)
{
	struct shd_mm *mm = arg;

	return shd_load_acquire(&mm->mmap_count) == 0;
}

static bool mmap_read_trylock(struct shd_mm *mm)
{
	int64_t c = shd_load_relaxed(&mm->mmap_count);

	if (shd_load_relaxed(&mm->mmap_writers_waiting))
		return false;
	/* Acquire CAS: pairs with the unlocks' releases. */
	while (c >= 0)
		if (shd_cas_acquire(&mm->mmap_count, &c, c + 1))
			return true;
	return false;
}

static bool mmap_write_trylock(struct shd_mm *mm)
{
	int64_t c = 0;

	return shd_cas_acquire(&mm->mmap_count, &c, -1);
}

/*
 * rwsem_optimistic_spin(): a writer spins while another writer owns the
 * lock (the owner is running: nothing here sleeps holding mmap_lock for
 * write); readers (which no longer spin) and a writer facing readers
 * sleep.
 */
static bool mmap_lock_spins(struct shd_mm *mm, bool write)
{
	return write && shd_load_relaxed(&mm->mmap_count) == -1;
}

/* CPU's task goes to sleep: if it was running MM, its CPU idles in lazy
 * TLB mode (enter_lazy_tlb()); MM, with a reference, or NULL. */
static struct shd_mm *mmap_lock_sleep(struct shd_cpu *cpu, struct shd_mm *mm)
{
	if (!cpu || cpu->in_ipi || cpu->loaded_mm != mm ||
	    shd__tso_load(cpu, &cpu->is_lazy, shd_load_relaxed))
		return NULL;
	shd__mm_get(mm);	/* a freed_tables flush may unload it */
	shd_enter_lazy_tlb(cpu);
	return mm;
}

/*
 * rwsem_down_{read,write}_slowpath(): spin, or sleep (see above): a
 * sleeping task's CPU keeps taking IPIs (a flush may now skip it, or on
 * freed_tables switch it to init_mm), and on waking switches back to MM
 * (switch_mm() from lazy: flush if tlb_gen moved on).  No lock held.
 */
static void mmap_lock_slowpath(struct shd_cpu *cpu, struct shd_mm *mm,
			       bool write)
{
	bool (*is_free)(void *) = write ? mmap_write_free : mmap_read_free;
	bool (*trylock)(struct shd_mm *) = write ? mmap_write_trylock :
						   mmap_read_trylock;
	struct shd_mm *was = NULL;
	bool asleep = false;
	unsigned spins = 0;

	if (write)
		shd_add_return(&mm->mmap_writers_waiting, 1);
	while (!trylock(mm)) {
		if (!asleep && !mmap_lock_spins(mm, write)) {
			was = mmap_lock_sleep(cpu, mm);
			asleep = true;
		}
		if (cpu && shd__ipi_pending(&cpu->ipi))
			shd__cpu_take_ipis(cpu);
		else if (cpu && cpu->m->seeded)
			shd__seeded_block(cpu, is_free, mm, true, 0);
		else if (++spins < 64)
			caa_cpu_relax();
		else
			sched_yield();
	}
	if (write)
		shd_sub_return(&mm->mmap_writers_waiting, 1);
	if (was) {
		(void)shd_switch_mm(cpu, was);	/* cannot fail: ours, alive */
		shd__mm_put(was);
	}
}

static void mmap_lock(struct shd_cpu *cpu, struct shd_mm *mm, bool write)
{
	if (cpu && cpu->m->seeded) {
		shd__sched_point(cpu);
		shd__tso_drain(cpu);	/* a lock's acquire: locked */
	}
	if (!(write ? mmap_write_trylock(mm) : mmap_read_trylock(mm)))
		mmap_lock_slowpath(cpu, mm, write);
}

void shd__mmap_read_lock(struct shd_cpu *cpu, struct shd_mm *mm)
{
	mmap_lock(cpu, mm, false);
}

void shd__mmap_write_lock(struct shd_cpu *cpu, struct shd_mm *mm)
{
	mmap_lock(cpu, mm, true);
}

void shd__mmap_write_downgrade(struct shd_mm *mm)
{
	/* Release: our VMA changes before the readers let in. */
	shd_store_release(&mm->mmap_count, 1);
	shd__seeded_wake(mm->m);
}

void shd__mmap_read_unlock(struct shd_mm *mm)
{
	/* Release: pairs with the next writer's acquire CAS. */
	__atomic_sub_fetch(&mm->mmap_count, 1, __ATOMIC_RELEASE);
	shd__seeded_wake(mm->m);
}

void shd__mmap_write_unlock(struct shd_mm *mm)
{
	/* Release: as above. */
	shd_store_release(&mm->mmap_count, 0);
	shd__seeded_wake(mm->m);
}

