/* SPDX-License-Identifier: MIT */
/* Workload ptrace: a tracer pokes its tracee's text (copy_to_user_page). */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"

/*
 * A debugger and its tracee share each CPU (ptrace stops the tracee, the
 * tracer runs, often on the same CPU): the tracee reads `words` words of a
 * page of its data, the tracer pokes new values into them
 * (PTRACE_POKEDATA: copy_to_user_page() through the kernel alias), and the
 * tracee reads them again, which must show the pokes; then it "executes"
 * the page (fetches).  One operation is one poke.
 */
enum { K_PT_WORDS };

static const struct wl_knob wl_ptrace_knobs[] = {
	{ "words", "words poked into the tracee each round", 8, 1, 512 },
	{ NULL, NULL, 0, 0, 0 },
};

struct pt {
	struct shd_mm *mm[SHD_MAX_CPUS];	/* a tracee per CPU */
	uint64_t page, words, rounds;
	uint64_t failures;
	char note[160];
};

static int pt_task(struct shd_cpu *cpu, void *arg)
{
	struct pt *w = arg;
	unsigned id = shd_cpu_id(cpu);
	struct shd_mm *mm = w->mm[id];
	int err = shd_switch_mm(cpu, mm);

	if (!err)
		err = shd_mmap(cpu, mm, PROC_BASE, w->page, SHD_PROT_READ |
			       SHD_PROT_WRITE | SHD_PROT_EXEC);
	for (uint64_t r = 0; !err && r < w->rounds; r++) {
		uint64_t v;

		for (uint64_t k = 0; !err && k < w->words; k++)	/* tracee */
			err = shd_load(cpu, PROC_BASE + 8 * k, &v);
		shd_enter_lazy_tlb(cpu);			/* tracer */
		for (uint64_t k = 0; !err && k < w->words; k++)
			err = shd_ptrace_poke(cpu, mm, PROC_BASE + 8 * k,
					      r << 16 | k);
		if (!err)
			err = shd_switch_mm(cpu, mm);		/* tracee */
		for (uint64_t k = 0; !err && k < w->words; k++) {
			if (!(err = shd_load(cpu, PROC_BASE + 8 * k, &v)) &&
			    v != (r << 16 | k))
				wl_note_first(&w->failures, w->note,
					      sizeof(w->note), "tracee on cpu %u "
					      "read %#" PRIx64 " where the tracer "
					      "poked %#" PRIx64, id, v, r << 16 | k);
			if (!err)
				err = shd_fetch(cpu, PROC_BASE + 8 * k, &v);
		}
	}
	return err;
}

static int wl_ptrace(struct shd_machine *m, const struct wl_opts *o,
		     struct wl_result *res)
{
	struct pt *w = calloc(1, sizeof(*w));
	unsigned n = shd_machine_ncpus(m);
	int err = 0;

	if (!w)
		return -ENOMEM;
	w->page = 1ull << shd_machine_config(m)->page_shift;
	w->words = o->knob[K_PT_WORDS];
	if (w->words * 8 > w->page)
		w->words = w->page / 8;
	w->rounds = (o->ops + n * w->words - 1) / (n * w->words);
	for (unsigned i = 0; !err && i < n; i++)
		err = shd_mm_create(m, &w->mm[i]);
	if (!err)
		err = wl_run_timed(m, n, pt_task, w, res);
	res->ops = w->rounds * n * w->words;
	res->check_failures = w->failures;
	snprintf(res->note, sizeof(res->note), "%s", w->note);
	for (unsigned i = 0; i < n; i++)
		if (w->mm[i])
			shd_mm_destroy(w->mm[i]);
	free(w);
	return err;
}

const struct workload wl_def_ptrace = {
	.name = "ptrace",
	.help = "a tracer pokes words into its tracee on the same CPU "
		"(copy_to_user_page); the tracee reads and runs them",
	.default_ops = 4096,
	.min_cpus = 1,
	.run = wl_ptrace,
	.knobs = wl_ptrace_knobs,
	.check = NULL,
};
