/* SPDX-License-Identifier: MIT */
/* The scenario interpreter: one run of a scenario on a fresh machine, each
 * CPU's block as its task, under a seeded schedule the caller chooses. */

/*
 * Theory of operation.
 *
 * A run builds the machine the scenario names, creates its declared mms
 * and files from the controlling thread, runs the setup block as a task
 * on CPU 0, then submits one task per CPU block and joins them; CPUs with
 * no block stay idle and take IPIs.  Every op is one library call.
 *
 * Names and lifetimes.  A fork child exists from its fork's return, a
 * destroyed mm from its mm_destroy on; an op whose mm is not there at that
 * moment (not forked yet under this schedule, or gone) is skipped and
 * counted, as a process that does not exist makes no calls.  mm_destroy
 * is shd_mm_destroy(), whose contract wants no call in flight on the mm:
 * the interpreter counts calls in flight per name and the destroyer takes
 * IPIs and lets the others run (shd_cpu_poll()) until there are none.
 * These counters need no atomics: under the seeded scheduler one CPU runs
 * at a time and the token's hand-over orders everything it did.
 *
 * Errors.  The errors wl_random tolerates (-EFAULT, -EACCES, -EEXIST,
 * -ENOMEM) are a program's ordinary failures.  -ETIMEDOUT is a watchdog
 * (the run is incomplete).  Anything else is the scenario's fault (the
 * library refused an op it could not know was wrong: a shared mapping at
 * the wrong colour) and ends that CPU's list, except a user access in lazy
 * mode after a switch_mm this schedule had to skip.
 *
 * Ordered runs (minimize): ops start one at a time in the order of their
 * seq, each once the one before it has returned; a CPU waiting for its
 * turn takes IPIs, so a flush waiting for it completes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_run.h"

struct run {
	const struct scenario *s;
	const struct scn_run_opts *o;
	struct shd_mm **mm;		/* [nnames]: there now (NULL: not) */
	unsigned *busy;			/* [nnames]: calls in flight on it */
	struct shd_file **file;		/* [nnames] */
	uint64_t *rank[SCN_MAX_CPUS];	/* ordered: each op's turn */
	bool *gone;			/* ordered: [turn] returned, or never
					 * to run (its CPU stopped) */
	uint64_t turn, nturns;		/* ordered: the op that may start */
	bool off_script[SCN_MAX_CPUS];	/* a switch_mm was skipped */
	bool timedout;
	bool failed;
	unsigned skipped;
	char err[1024];
};

static bool err_tolerated(int err)
{
	return err == 0 || err == -EFAULT || err == -EACCES || err == -EEXIST ||
	       err == -ENOMEM;
}

static bool op_has_mm(const struct scn_op *o)
{
	return strchr(scenario_kind_args(o->kind), 'M') != NULL;
}

/* mm_destroy: no new calls on it, none in flight, then the library's. */
static void run_mm_destroy(struct run *run, struct shd_cpu *cpu, unsigned n)
{
	struct shd_mm *mm = run->mm[n];

	run->mm[n] = NULL;
	while (run->busy[n])
		shd_cpu_poll(cpu);
	shd_mm_destroy(mm);
}

static int op_mm(struct run *run, struct shd_cpu *cpu, const struct scn_op *o,
		 struct shd_mm *mm)
{
	uint64_t len = o->n * SCN_PAGE;
	struct shd_mm *child;
	int err;

	switch (o->kind) {
	case SCN_SWITCH_MM:
		return shd_switch_mm(cpu, mm);
	case SCN_MMAP:
		return shd_mmap(cpu, mm, o->addr, len, o->prot);
	case SCN_MMAP_FILE:
		return shd_mmap_file(cpu, mm, o->addr, len, o->prot, o->shared,
				     run->file[o->other], o->pgoff);
	case SCN_MUNMAP:
		return shd_munmap(cpu, mm, o->addr, len);
	case SCN_MPROTECT:
		return shd_mprotect(cpu, mm, o->addr, len, o->prot);
	case SCN_MADVISE:
		return shd_madvise_dontneed(cpu, mm, o->addr, len);
	case SCN_FLUSH_TLB_PAGE:
		return shd_flush_tlb_page(cpu, mm, o->addr);
	case SCN_FLUSH_TLB_RANGE:
		return shd_flush_tlb_range(cpu, mm, o->addr, o->addr + len);
	case SCN_FLUSH_TLB_MM:
		return shd_flush_tlb_mm(cpu, mm);
	case SCN_TRY_TO_UNMAP:
		err = shd_try_to_unmap(cpu, mm, o->addr);
		return err > 0 ? 0 : err;
	case SCN_FORK:
		err = shd_mm_dup(cpu, mm, &child);
		if (!err)
			run->mm[o->other] = child;
		return err;
	case SCN_PTRACE_POKE:
		return shd_ptrace_poke(cpu, mm, o->addr, o->n);
	default:
		return -ENOSYS;
	}
}

static int op_other(struct run *run, struct shd_cpu *cpu, const struct scn_op *o)
{
	uint64_t v, len = o->n * SCN_PAGE;

	switch (o->kind) {
	case SCN_LAZY:
		shd_enter_lazy_tlb(cpu);
		return 0;
	case SCN_LOAD:
		return shd_load(cpu, o->addr, &v);
	case SCN_STORE:
		return shd_store(cpu, o->addr, o->n);
	case SCN_FETCH:
		return shd_fetch(cpu, o->addr, &v);
	case SCN_FLUSH_TLB_ALL:
		return shd_flush_tlb_all(cpu);
	case SCN_FLUSH_TLB_KERNEL_RANGE:
		return shd_flush_tlb_kernel_range(cpu, o->addr, o->addr + len);
	case SCN_TRY_TO_UNMAP_FLUSH:
		return shd_try_to_unmap_flush(cpu);
	case SCN_FILE_WRITE:
		return shd_file_write(cpu, run->file[o->other], o->addr, o->n);
	case SCN_FILE_READ:
		return shd_file_read(cpu, run->file[o->other], o->addr, &v);
	case SCN_VMAP:
		return shd_vmap(cpu, o->addr, len);
	case SCN_VUNMAP:
		return shd_vunmap(cpu, o->addr, len);
	case SCN_FLUSH_ICACHE_RANGE:
		return shd_flush_icache_range(cpu, o->addr, o->n);
	case SCN_DMA_WRITE:
		return shd_dma_write(cpu, o->addr, o->n);
	case SCN_DMA_READ:
		return shd_dma_read(cpu, o->addr, &v);
	case SCN_INVALIDATE_KERNEL_VMAP_RANGE:
		return shd_invalidate_kernel_vmap_range(cpu, o->addr, o->n);
	case SCN_FLUSH_KERNEL_VMAP_RANGE:
		return shd_flush_kernel_vmap_range(cpu, o->addr, o->n);
	case SCN_POLL:
		shd_cpu_poll(cpu);
		return 0;
	default:
		return -ENOSYS;
	}
}

/* One op; 1 when it was skipped (its mm is not there). */
static int op_run(struct run *run, struct shd_cpu *cpu, const struct scn_op *o,
		  int *err)
{
	unsigned n = o->mm;

	*err = 0;
	if (!op_has_mm(o)) {
		*err = op_other(run, cpu, o);
		return 0;
	}
	if (!run->mm[n]) {
		if (o->kind == SCN_SWITCH_MM)
			run->off_script[shd_cpu_id(cpu)] = true;
		return 1;
	}
	if (o->kind == SCN_MM_DESTROY) {
		run_mm_destroy(run, cpu, n);
		return 0;
	}
	run->busy[n]++;
	*err = op_mm(run, cpu, o, run->mm[n]);
	run->busy[n]--;
	return 0;
}

/* An op's error that no schedule excuses: the first one is kept. */
static void op_failed(struct run *run, unsigned b, unsigned i,
		      const struct scn_op *o, int err)
{
	char where[300], text[200];

	if (run->failed)
		return;
	run->failed = true;
	scenario_where(run->s, b, i, o, where, sizeof(where));
	scenario_format_op(run->s, o, text, sizeof(text));
	snprintf(run->err, sizeof(run->err), "%s: %s: %s (%s)", where, text,
		 shd_strerror(err), shd_last_error());
}

/* --trace: op O of block B starts (ERR NULL) or returns *ERR.  One CPU
 * runs at a time: the lines come out in the schedule's order. */
static void op_trace(struct run *run, unsigned b, const struct scn_op *o,
		     const int *err)
{
	FILE *f = run->o->trace;
	int indent = b == SCN_SETUP ? 0 : (int)b * 2;
	char text[200], who[16];

	if (!f)
		return;
	scenario_format_op(run->s, o, text, sizeof(text));
	snprintf(who, sizeof(who), b == SCN_SETUP ? "setup" : "cpu %u", b);
	fprintf(f, "  %-6s %*s%c %s", who, indent, "", err ? '<' : '>', text);
	if (err)
		fprintf(f, ": %s", *err ? shd_strerror(*err) : "0");
	if (o->line)
		fprintf(f, " (line %u)", o->line);
	fprintf(f, "\n");
}

/* Ordered runs: turn R is over; the next that is not starts. */
static void turn_done(struct run *run, uint64_t r)
{
	run->gone[r] = true;
	while (run->turn < run->nturns && run->gone[run->turn])
		run->turn++;
}

static void block_run(struct run *run, struct shd_cpu *cpu, unsigned b)
{
	const struct scn_block *k = &run->s->blocks[b];
	uint64_t *rank = b == SCN_SETUP ? NULL : run->rank[b];
	unsigned id = shd_cpu_id(cpu), i;

	for (i = 0; i < k->n; i++) {
		const struct scn_op *o = &k->op[i];
		bool access = o->kind == SCN_LOAD || o->kind == SCN_STORE ||
			      o->kind == SCN_FETCH;
		int err;

		while (rank && run->turn != rank[i])
			shd_cpu_poll(cpu);
		op_trace(run, b, o, NULL);
		run->skipped += (unsigned)op_run(run, cpu, o, &err);
		op_trace(run, b, o, &err);
		if (rank)
			turn_done(run, rank[i]);
		if (err == -ETIMEDOUT) {
			run->timedout = true;
			break;
		}
		if (err == -EPERM && access && run->off_script[id]) {
			run->skipped++;
			continue;
		}
		if (!err_tolerated(err)) {
			op_failed(run, b, i, o, err);
			break;
		}
	}
	/* A CPU that stopped early gives its other turns away. */
	while (rank && ++i < k->n)
		turn_done(run, rank[i]);
}

static int setup_task(struct shd_cpu *cpu, void *arg)
{
	block_run(arg, cpu, SCN_SETUP);
	return 0;
}

static int cpu_task(struct shd_cpu *cpu, void *arg)
{
	block_run(arg, cpu, shd_cpu_id(cpu));
	return 0;
}

struct turn_key {
	uint64_t seq;
	uint64_t *slot;
};

static int key_cmp(const void *a, const void *b)
{
	const struct turn_key *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Ordered runs: every CPU op's turn, by seq. */
static int turns_plan(struct run *run)
{
	const struct scenario *s = run->s;
	struct turn_key *keys;
	uint64_t n = 0;

	for (unsigned b = 0; b < s->ncpus; b++) {
		if (!s->blocks[b].n)
			continue;
		run->rank[b] = calloc(s->blocks[b].n, sizeof(uint64_t));
		if (!run->rank[b])
			return -1;
		n += s->blocks[b].n;
	}
	keys = calloc(n ? n : 1, sizeof(*keys));
	run->gone = calloc(n ? n : 1, sizeof(bool));
	if (!keys || !run->gone) {
		free(keys);
		return -1;
	}
	n = 0;
	for (unsigned b = 0; b < s->ncpus; b++)
		for (unsigned i = 0; i < s->blocks[b].n; i++)
			keys[n++] = (struct turn_key){ s->blocks[b].op[i].seq,
						       &run->rank[b][i] };
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (uint64_t r = 0; r < n; r++)
		*keys[r].slot = r;
	run->nturns = n;
	free(keys);
	return 0;
}

static void run_free(struct run *run)
{
	for (unsigned b = 0; b < SCN_MAX_CPUS; b++)
		free(run->rank[b]);
	free(run->gone);
	free(run->mm);
	free(run->busy);
	free(run->file);
}

/* The declared mms and files, from the controlling thread. */
static int names_create(struct run *run, struct shd_machine *m)
{
	const struct scenario *s = run->s;

	for (unsigned n = 0; n < s->nnames; n++) {
		const struct scn_name *nm = &s->names[n];
		int err = 0;

		if (nm->file)
			err = shd_file_create(m, nm->pages, &run->file[n]);
		else if (nm->fork_cpu < 0)
			err = shd_mm_create(m, &run->mm[n]);
		if (err) {
			snprintf(run->err, sizeof(run->err), "%s: %s %s: %s",
				 s->file, nm->file ? "file" : "mm", nm->name,
				 shd_last_error());
			return err;
		}
	}
	return 0;
}

static void names_destroy(struct run *run)
{
	for (unsigned n = 0; n < run->s->nnames; n++) {
		if (run->mm[n])
			shd_mm_destroy(run->mm[n]);
		if (run->file[n])
			shd_file_destroy(run->file[n]);
		run->mm[n] = NULL;
		run->file[n] = NULL;
	}
}

/* The setup on CPU 0, then every CPU block at once. */
static int tasks_run(struct run *run, struct shd_machine *m)
{
	const struct scenario *s = run->s;
	int err = 0;

	if (s->blocks[SCN_SETUP].n &&
	    (err = shd_run_on(m, 0, 1, setup_task, run)))
		return err;
	if (run->failed || run->timedout)
		return 0;
	for (unsigned b = 0; b < s->ncpus && !err; b++)
		if (s->blocks[b].n)
			err = shd_cpu_submit(m, b, cpu_task, run);
	for (unsigned b = 0; b < s->ncpus; b++) {
		int e = s->blocks[b].n ? shd_cpu_join(m, b, NULL) : 0;

		err = err ? err : e;
	}
	return err;
}

static void result_fill(struct run *run, struct shd_machine *m,
			struct scn_result *r)
{
	struct shd_violation v[16];
	uint64_t n = shd_machine_violations(m, v, 16);
	const struct shd_decision *d;

	r->violations = n;
	for (int f = 0; f < SHD_FAULT__COUNT; f++)
		r->fault_fired[f] = shd_fault_firings(m, (enum shd_fault)f);
	for (uint64_t i = 0; i < n && i < 16; i++) {
		r->kinds |= 1u << v[i].kind;
		if (v[i].kind == SHD_VIOLATION_WATCHDOG)
			run->timedout = true;
	}
	if (n)
		r->first = v[0];
	r->steps = shd_sched_steps(m);
	r->preemptions = shd_sched_preemptions(m);
	r->skipped = run->skipped;
	r->diverged = shd_sched_diverged(m);
	snprintf(r->divergence, sizeof(r->divergence), "%s",
		 shd_sched_divergence(m));
	r->nlog = shd_sched_decisions(m, &d);
	if (run->o->keep_log && r->nlog &&
	    (r->log = malloc(r->nlog * sizeof(*d))))
		memcpy(r->log, d, r->nlog * sizeof(*d));
	if (run->failed)
		r->status = SCN_OP_ERROR;
	else if (run->timedout)
		r->status = SCN_INCOMPLETE;
	else
		r->status = n ? SCN_VIOLATION : SCN_CLEAN;
	snprintf(r->err, sizeof(r->err), "%s", run->failed ? run->err :
		 run->timedout ? "a watchdog fired (an IPI was not acknowledged)" :
		 "");
}

int scenario_run(const struct scenario *s, const struct scn_run_opts *o,
		 struct scn_result *r, char *err, size_t errlen)
{
	struct run run = { .s = s, .o = o };
	struct shd_config cfg;
	struct shd_machine *m;
	unsigned nn = s->nnames ? s->nnames : 1;
	int rc;

	memset(r, 0, sizeof(*r));
	if (scenario_config(s, &cfg, err, errlen))
		return -1;
	cfg.sched = o->sched;
	cfg.sched.mode = SHD_SCHED_SEEDED;
	run.mm = calloc(nn, sizeof(*run.mm));
	run.busy = calloc(nn, sizeof(*run.busy));
	run.file = calloc(nn, sizeof(*run.file));
	if (!run.mm || !run.busy || !run.file ||
	    (o->ordered && turns_plan(&run))) {
		run_free(&run);
		snprintf(err, errlen, "%s: out of memory", s->file);
		return -1;
	}
	if (shd_machine_create(&cfg, &m)) {
		snprintf(err, errlen, "%s: the machine: %s", s->file,
			 shd_last_error());
		run_free(&run);
		return -1;
	}
	rc = names_create(&run, m);
	if (!rc)
		rc = tasks_run(&run, m);
	names_destroy(&run);
	if (rc && !run.failed && !run.timedout) {
		run.failed = true;
		if (!run.err[0])
			snprintf(run.err, sizeof(run.err), "%s: %s: %s", s->file,
				 shd_strerror(rc), shd_last_error());
	}
	shd_machine_stop(m);
	result_fill(&run, m, r);
	shd_machine_destroy(m);
	run_free(&run);
	return 0;
}
