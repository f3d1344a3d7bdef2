/* SPDX-License-Identifier: MIT */
/* The CPUs' threads: the idle loop, and tasks handed to them (kernel/sched). */

/*
 * Under the host scheduler each simulated CPU is a thread bound (hwloc) to
 * one host PU, round-robin when CPUs outnumber PUs; under the seeded one,
 * a context on the scheduler's carrier thread (seeded.c).  A CPU loops
 * (shd__cpu_run()): take IPIs, run a submitted task, otherwise idle: spin
 * briefly and sleep on its doorbell futex, or, seeded, block until the
 * scheduler may choose it again.  A task's return leaves the CPU in lazy
 * TLB mode with its mm still loaded, as an idle kernel CPU would be, after
 * flushing its reclaim batch and LATR posts (a switch to idle).  Task
 * hand-off uses the task.state word: the controller stores PENDING
 * (release) and rings the doorbell; the CPU stores DONE (release) and
 * futex-wakes the joiner, who acquires it.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <shootdown/mmu_context.h>
#include <shootdown/sched.h>
#include "latr.h"
#include "rmap.h"
#include "sched.h"
#include "tlb.h"
#include "seeded.h"
#include "smp.h"
#include "tlbflush.h"

static long sys_futex(int32_t *uaddr, int op, int32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

bool shd__cpu_idle_done(void *arg)
{
	struct shd_cpu *cpu = arg;

	/* Acquire: pairs with the release of PENDING (shd_cpu_submit())
	 * and of stopping (the machine's teardown). */
	return shd_load_acquire(&cpu->task.state) == SHD_TASK_PENDING ||
	       shd_load_acquire(&cpu->m->stopping);
}

static void cpu_bind(struct shd_cpu *cpu)
{
	struct shd_machine *m = cpu->m;
	hwloc_obj_t pu;

	if (!m->cfg.bind || !m->topo)
		return;
	pu = hwloc_get_obj_by_type(m->topo, HWLOC_OBJ_PU, cpu->pu);
	/* Binding can be refused (cgroups); the simulation stays correct. */
	if (pu)
		(void)hwloc_set_cpubind(m->topo, pu->cpuset, HWLOC_CPUBIND_THREAD);
}

void shd__cpu_run(struct shd_cpu *cpu)
{
	struct shd_machine *m = cpu->m;

	for (;;) {
		if (shd__ipi_pending(&cpu->ipi))
			shd__cpu_take_ipis(cpu);
		/* Acquire: pairs with shd_cpu_submit()'s release of PENDING:
		 * fn and arg are visible. */
		if (shd_load_acquire(&cpu->task.state) == SHD_TASK_PENDING) {
			shd_store_relaxed(&cpu->task.state, SHD_TASK_RUNNING);
			cpu->task.ret = cpu->task.fn(cpu, cpu->task.arg);
			/* As shrink_folio_list() ends in try_to_unmap_flush(),
			 * no task leaves a reclaim batch behind. */
			int berr = shd__tlbbatch_flush(cpu);
			int lerr = shd__latr_reap(cpu, true);

			berr = berr ? berr : lerr;
			shd__cpu_sweep(cpu);	/* a switch to idle */

			if (berr && !cpu->task.ret)
				cpu->task.ret = berr;
			shd_enter_lazy_tlb(cpu);
			/* Release: the task's effects and counters are
			 * visible to the joiner that acquires DONE. */
			shd_store_release(&cpu->task.state, SHD_TASK_DONE);
			sys_futex(&cpu->task.state, FUTEX_WAKE_PRIVATE, INT_MAX);
			shd__seeded_wake(m);
			continue;
		}
		/* Acquire: pairs with the teardown's release. */
		if (shd_load_acquire(&m->stopping))
			break;
		shd__cpu_sweep(cpu);	/* idle: LATR's state too */
		if (m->seeded)
			shd__seeded_block(cpu, shd__cpu_idle_done, cpu, true, 0);
		else
			shd__ipi_idle_wait(&cpu->ipi, shd__cpu_idle_done, cpu,
					   m->spin_ns, 0);
	}
	shd__leave_mm(cpu);
}

void *shd__cpu_main(void *arg)
{
	struct shd_cpu *cpu = arg;

	shd__this_cpu = cpu;
	rcu_register_thread();
	cpu_bind(cpu);
	shd__cpu_run(cpu);
	rcu_unregister_thread();
	return NULL;
}

void shd_cpu_poll(struct shd_cpu *cpu)
{
	if (!cpu || cpu != shd__this_cpu)
		return;
	if (cpu->m->seeded)
		shd__seeded_yield(cpu);	/* it spins on another CPU */
	if (shd__ipi_pending(&cpu->ipi))
		shd__cpu_take_ipis(cpu);
	if (cpu->m->cfg.policy.async)
		shd__latr_tick(cpu);
}

int shd_cpu_compute(struct shd_cpu *cpu, uint64_t ns)
{
	struct shd_machine *m;
	uint64_t end;
	int err = shd__check_cpu(cpu, "shd_cpu_compute");

	if (err)
		return err;
	m = cpu->m;
	end = shd__machine_now(m);
	end = ns > UINT64_MAX - end ? UINT64_MAX : end + ns;
	/* Blocked on its deadline alone: an IPI does not wake it. */
	while (shd__machine_now(m) < end)
		if (m->seeded) {
			shd__seeded_block(cpu, NULL, NULL, false, end);
		} else {
			(void)shd__hw_drain(cpu);	/* hardware, interrupts off */
			caa_cpu_relax();
		}
	return 0;
}

unsigned shd_cpu_id(const struct shd_cpu *cpu)
{
	return cpu ? cpu->id : 0;
}

struct shd_machine *shd_cpu_machine(const struct shd_cpu *cpu)
{
	return cpu ? cpu->m : NULL;
}

int shd_cpu_submit(struct shd_machine *m, unsigned id, shd_task_fn fn,
		   void *arg)
{
	struct shd_cpu *cpu;
	int32_t st;

	if (!m || !fn)
		return shd__fail(-EINVAL, "shd_cpu_submit: machine and task needed");
	if (shd__this_cpu)
		return shd__fail(-EPERM, "shd_cpu_submit: not from a CPU thread");
	if (id >= m->ncpus)
		return shd__fail(-ERANGE, "cpu %u does not exist (machine has "
				 "%u)", id, m->ncpus);
	if (m->stopped)
		return shd__fail(-ESRCH, "shd_cpu_submit: the machine was stopped");
	cpu = m->cpus[id];
	/* Acquire: pairs with the CPU's release of DONE. */
	st = shd_load_acquire(&cpu->task.state);
	if (st == SHD_TASK_PENDING || st == SHD_TASK_RUNNING ||
	    st == SHD_TASK_DONE)
		return shd__fail(-EBUSY, "cpu %u already has a task (join it "
				 "first)", id);
	cpu->task.fn = fn;
	cpu->task.arg = arg;
	/* Release: fn/arg visible to the CPU that acquires PENDING. */
	shd_store_release(&cpu->task.state, SHD_TASK_PENDING);
	shd__ipi_ring(&cpu->ipi);
	return 0;
}

/* The controller's wait in a join: DONE, or nothing to wait for. */
static bool task_settled(void *arg)
{
	struct shd_cpu *cpu = arg;
	/* Acquire: pairs with the CPU's release of DONE. */
	int32_t st = shd_load_acquire(&cpu->task.state);

	return st == SHD_TASK_DONE || st == SHD_TASK_NONE;
}

int shd_cpu_join(struct shd_machine *m, unsigned id, int *ret)
{
	struct shd_cpu *cpu;
	int32_t st;

	if (!m)
		return shd__fail(-EINVAL, "shd_cpu_join: no machine");
	if (shd__this_cpu)
		return shd__fail(-EPERM, "shd_cpu_join: not from a CPU thread");
	if (id >= m->ncpus)
		return shd__fail(-ERANGE, "cpu %u does not exist (machine has "
				 "%u)", id, m->ncpus);
	cpu = m->cpus[id];
	if (m->seeded)
		shd__seeded_ctl_wait(m, task_settled, cpu);
	/* Acquire: pairs with the CPU's release of DONE: the task's
	 * effects and counters are visible. */
	while ((st = shd_load_acquire(&cpu->task.state)) != SHD_TASK_DONE) {
		if (st == SHD_TASK_NONE)
			return shd__fail(-ESRCH, "cpu %u has no task", id);
		sys_futex(&cpu->task.state, FUTEX_WAIT_PRIVATE, st);
	}
	if (ret)
		*ret = cpu->task.ret;
	shd_store_relaxed(&cpu->task.state, SHD_TASK_NONE);
	return 0;
}

int shd_run_on(struct shd_machine *m, unsigned first, unsigned n,
	       shd_task_fn fn, void *arg)
{
	int err = 0, r;
	unsigned i;

	if (!m || first >= m->ncpus || n > m->ncpus - first)
		return shd__fail(-ERANGE, "cpus %u..%u are not all in the "
				 "machine", first, first + n - 1);
	for (i = 0; i < n; i++)
		if ((err = shd_cpu_submit(m, first + i, fn, arg)) < 0)
			break;
	for (unsigned j = 0; j < i; j++) {
		int ret = 0;

		if ((r = shd_cpu_join(m, first + j, &ret)) < 0 && !err)
			err = r;
		if (ret < 0 && !err)
			err = ret;
	}
	return err;
}
