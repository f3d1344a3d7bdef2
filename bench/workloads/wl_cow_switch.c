/* SPDX-License-Identifier: MIT */
/* Workload cow_switch: CVE-2025-37964's reproducer (a fork's copy-on-write racing a CPU's switch_mm). */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "workload.h"

/*
 * Stephen Dolan's reproducer (LKML, 9 Oct 2025, "x86/mm: Finishing off the
 * fix for a should_flush_tlb race").  A process P has A, a private
 * anonymous page, and B, a MAP_SHARED page (here a shared file mapping).
 * CPU 0 is P's writer thread: fork(), ++*A (a copy-on-write fault: a new
 * frame and flush_tlb_page(P)), ++*B, reap the child.  CPU 1 is P's
 * reader thread, which ping-pongs through a pipe with another process Q:
 * switch to P, read B then A, switch to Q, let Q run.  A is written before
 * B and B is read first, so the reader never sees A behind B, unless the
 * copy-on-write's flush skipped CPU 1 while it was switching back to P and
 * CPU 1 kept using P's old translation of A: the read-back fails (exit 1)
 * and the oracle reports the stale hit.  One operation is one fork.  Any
 * other CPUs stay idle.
 *
 * Under --policy linux --sched seeded, --inject switch_mm_no_barrier
 * (caught only with the store buffers) and skip_loaded_mm_switching are
 * its bugs; see tests/test_tso.c for the schedules that catch them.
 */
#define A_VA	0x10000000ull
#define B_VA	0x11000000ull
#define Q_VA	0x10000000ull

struct cow_switch {
	struct shd_mm *p, *q;
	struct shd_file *b;
	uint64_t forks;
	int32_t done;
	uint64_t rounds;		/* the reader's */
	uint64_t failures;
	char note[160];
};

static int writer(struct shd_cpu *cpu, struct cow_switch *c)
{
	int err = shd_switch_mm(cpu, c->p);

	for (uint64_t i = 1; !err && i <= c->forks; i++) {
		struct shd_mm *child;
		int xerr;

		if ((err = shd_mm_dup(cpu, c->p, &child)))	/* fork() */
			break;
		err = shd_store(cpu, A_VA, i);			/* (*A)++ */
		if (!err)
			err = shd_store(cpu, B_VA, i);		/* (*B)++ */
		xerr = shd_mm_exit(cpu, child);			/* wait() */
		err = err ? err : xerr;
	}
	/* Release: the reader's acquire; it stops after its next round. */
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return err;
}

static int reader(struct shd_cpu *cpu, struct cow_switch *c)
{
	uint64_t a = 0, b = 0, q;
	int err;

	do {
		if ((err = shd_switch_mm(cpu, c->p)) ||
		    (err = shd_load(cpu, B_VA, &b)) ||
		    (err = shd_load(cpu, A_VA, &a)))
			return err;
		if (a < b)
			wl_note_first(&c->failures, c->note, sizeof(c->note),
				      "cpu 1 read A = %" PRIu64 " after B = %"
				      PRIu64 " (A is written first, B read "
				      "first): a stale translation of A", a, b);
		c->rounds++;
		if ((err = shd_switch_mm(cpu, c->q)) ||	/* write(p); read(q) */
		    (err = shd_load(cpu, Q_VA, &q)))
			return err;
		shd_cpu_poll(cpu);			/* Q runs */
	/* Acquire: pairs with the writer's release of done. */
	} while (!__atomic_load_n(&c->done, __ATOMIC_ACQUIRE));
	return 0;
}

static int cow_switch_task(struct shd_cpu *cpu, void *arg)
{
	return shd_cpu_id(cpu) == 0 ? writer(cpu, arg) : reader(cpu, arg);
}

static int cow_switch_setup(struct shd_cpu *cpu, void *arg)
{
	struct cow_switch *c = arg;
	int err;

	if (shd_cpu_id(cpu) == 1) {	/* the pipe's other end: process Q */
		if ((err = shd_switch_mm(cpu, c->q)) ||
		    (err = shd_mmap(cpu, c->q, Q_VA, 4096, SHD_PROT_READ |
				    SHD_PROT_WRITE)))
			return err;
		return shd_store(cpu, Q_VA, 1);
	}
	if ((err = shd_switch_mm(cpu, c->p)) ||
	    (err = shd_mmap(cpu, c->p, A_VA, 4096, SHD_PROT_READ |
			    SHD_PROT_WRITE)) ||
	    (err = shd_mmap_file(cpu, c->p, B_VA, 4096, SHD_PROT_READ |
				 SHD_PROT_WRITE, SHD_MAP_SHARED, c->b, 0)) ||
	    (err = shd_store(cpu, A_VA, 0)))
		return err;
	return shd_store(cpu, B_VA, 0);
}

static int wl_cow_switch_check(const struct wl_opts *o, char *err, size_t len)
{
	if (o->cfg.page_shift != 12) {
		snprintf(err, len, "cow_switch maps 4 KiB pages: drop --page-shift");
		return -1;
	}
	return wl_check_frames(o, 8, "A, its copies, B and Q's page", err, len);
}

static int wl_cow_switch(struct shd_machine *m, const struct wl_opts *o,
			 struct wl_result *res)
{
	struct cow_switch c = { .forks = o->ops };
	int err;

	if ((err = shd_mm_create(m, &c.p)) || (err = shd_mm_create(m, &c.q)) ||
	    (err = shd_file_create(m, 1, &c.b)))
		goto out;
	err = wl_run_on(m, 0, 2, cow_switch_setup, &c, res->errtxt,
			sizeof(res->errtxt));
	if (!err)
		err = wl_run_timed(m, 2, cow_switch_task, &c, res);
	res->ops = c.forks;
	res->check_failures = c.failures;
	snprintf(res->note, sizeof(res->note), "%s", c.note);
out:
	if (c.b)
		shd_file_destroy(c.b);
	if (c.q)
		shd_mm_destroy(c.q);
	if (c.p)
		shd_mm_destroy(c.p);
	return err;
}

const struct workload wl_def_cow_switch = {
	.name = "cow_switch",
	.help = "CVE-2025-37964's reproducer: CPU 0 forks and writes a "
		"copy-on-write page A, then a shared page B; CPU 1 switches "
		"between two processes and must never read A behind B",
	.default_ops = 2000,
	.min_cpus = 2,
	.run = wl_cow_switch,
	.knobs = NULL,
	.check = wl_cow_switch_check,
};
