/* SPDX-License-Identifier: MIT */
/* Workload exec: a threaded process execs over and over. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

/*
 * A threaded process that execs over and over.  Each round every thread
 * stores to its `pages` pages; then exec on CPU 0: the other threads exit
 * (de_thread()), leaving their CPUs idle and lazy on the old image; CPU 0
 * switches to a new mm and the old one is torn down as exit_mmap() does
 * (unmap everything and free the page tables: a flush that must reach the
 * lazy CPUs too, since their walkers may still read those tables); then the
 * new image maps its memory and its threads start.  One operation is one
 * exec.
 */
enum { K_EXEC_PAGES, K_EXEC_LOAD };

static const struct wl_knob wl_exec_knobs[] = {
	{ "pages", "pages each thread stores to in every image", 16, 1, 4096 },
	{ "load", "percent of the CPUs that run the process's threads; the "
	  "others stay idle", 50, 1, 100 },
	{ NULL, NULL, 0, 0, 0 },
};

static int wl_exec_check(const struct wl_opts *o, char *err, size_t len)
{
	return wl_check_frames(o, wl_load_tasks(o->cfg.ncpus, o->knob[K_EXEC_LOAD]) *
			       o->knob[K_EXEC_PAGES], "threads x pages", err, len);
}

static int exec_image(struct shd_cpu *cpu, struct proc *p)
{
	struct shd_mm *old = p->mm, *img;
	uint64_t len = p->bar.n * p->pages * p->page;
	int err = shd_mm_create(shd_cpu_machine(cpu), &img);

	if (err)
		return err;
	if (!(err = shd_switch_mm(cpu, img)))
		err = shd_mmap(cpu, img, PROC_BASE, len,
			       SHD_PROT_READ | SHD_PROT_WRITE);
	if (err) {
		shd_mm_destroy(img);
		return err;
	}
	p->mm = img;
	return shd_mm_exit(cpu, old);
}

static int exec_task(struct shd_cpu *cpu, void *arg)
{
	struct proc *p = arg;
	int err = 0;

	for (uint64_t r = 0; r < p->rounds; r++) {
		if (!err)
			err = wl_proc_touch(cpu, p, r);
		if (shd_cpu_id(cpu) != 0)
			shd_enter_lazy_tlb(cpu);	/* the thread exits */
		wl_barrier_wait(cpu, &p->bar, 2 * r);
		if (!err && shd_cpu_id(cpu) == 0)
			err = exec_image(cpu, p);
		wl_barrier_wait(cpu, &p->bar, 2 * r + 1);
	}
	return err;
}

static int wl_exec(struct shd_machine *m, const struct wl_opts *o,
		   struct wl_result *res)
{
	struct proc p = { 0 };

	p.pages = o->knob[K_EXEC_PAGES];
	p.bar.n = wl_load_tasks(shd_machine_ncpus(m), o->knob[K_EXEC_LOAD]);
	return wl_proc_run(m, o, res, &p, exec_task);
}

const struct workload wl_def_exec = {
	.name = "exec",
	.help = "a threaded process execs over and over: its threads exit "
		"(lazy), the old image is torn down, new threads start",
	.default_ops = 1000,
	.min_cpus = 1,
	.run = wl_exec,
	.knobs = wl_exec_knobs,
	.check = wl_exec_check,
};
