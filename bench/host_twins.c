/* SPDX-License-Identifier: MIT */
/* Native twins of the workloads: the same shape on the host kernel. */

/*
 * Each twin is the workload of bench/workloads/ written against the real
 * system calls: the same CPUs doing the same roles (who maps, who touches,
 * who unmaps, who stays idle after running the mm, who runs another
 * process), the same knobs, the same count of operations.  The host
 * command runs a twin in a process of its own, forked with its first thread
 * pinned to the twin's CPU 0, so that the mm's cpumask starts with that CPU
 * alone, as the simulated mm's does; every other thread is created pinned
 * to its CPU (pthread_attr_setaffinity_np), never running anywhere else.
 *
 * Waiting.  A thread that must stay "running the mm" while it waits (the
 * simulated CPU spinning in a lockstep wait, taking IPIs) spins with
 * pause; a thread that must leave its CPU idle (lazy TLB) sleeps in a
 * futex.  The coordinating thread sleeps, so it never holds a CPU the
 * shape says is idle.  The host's own scheduler can still run something
 * else on a twin's CPU; a CPU running another mm is then skipped by the
 * kernel's flush (should_flush_tlb(), 6.13+), which is the noise the host
 * command's baseline cannot remove: run it on a quiet machine.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host_twins.h"

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static void futex_wait(uint32_t *w, uint32_t val)
{
	syscall(SYS_futex, w, FUTEX_WAIT, val, NULL, NULL, 0);
}

static void futex_wake(uint32_t *w)
{
	syscall(SYS_futex, w, FUTEX_WAKE, INT32_MAX, NULL, NULL, 0);
}

/* Sleep (leaving the CPU idle) until *W != VAL. */
static void sleep_while(uint32_t *w, uint32_t val)
{
	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) == val)
		futex_wait(w, val);
}

static void set_and_wake(uint32_t *w, uint32_t val)
{
	__atomic_store_n(w, val, __ATOMIC_RELEASE);
	futex_wake(w);
}

/* Spin (running the mm) until *P >= WANT. */
static void spin_until(const uint64_t *p, uint64_t want)
{
	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < want)
		cpu_relax();
}

/* A spinning barrier of N threads: they stay on their CPUs, in the mm. */
struct sbar {
	uint64_t arrived __attribute__((aligned(64)));
	uint64_t round __attribute__((aligned(64)));
	unsigned n;
};

static void sbar_wait(struct sbar *b, uint64_t r)
{
	if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == (r + 1) * b->n)
		__atomic_store_n(&b->round, r + 1, __ATOMIC_RELEASE);
	spin_until(&b->round, r + 1);
}

/* The measured phase: everyone ready, thread 0 reads the counters, all go;
 * at the end (barrier round R) thread 0 reads them again. */
static void phase_begin(struct twin_run *t, struct sbar *b, unsigned id)
{
	sbar_wait(b, 0);
	if (id == 0)
		t->mark(t, 0);
	sbar_wait(b, 1);
}

static void phase_end(struct twin_run *t, struct sbar *b, unsigned id,
		      uint64_t r)
{
	sbar_wait(b, r);
	if (id == 0)
		t->mark(t, 1);
}

uint64_t twin_knob(const struct twin_run *t, const char *name)
{
	for (unsigned i = 0; t->w->knobs && t->w->knobs[i].name; i++)
		if (!strcmp(t->w->knobs[i].name, name))
			return t->o->knob[i];
	return 0;
}

/* The threads of one twin: fn(arg, id) on CPUs FIRST..FIRST+N-1. */
struct spawn {
	pthread_t th[HOST_TWIN_MAX];
	unsigned n;
};

struct thread_arg {
	void *(*fn)(void *, unsigned);
	void *arg;
	unsigned id;
};

static void *thread_main(void *p)
{
	struct thread_arg a = *(struct thread_arg *)p;

	free(p);
	return a.fn(a.arg, a.id);
}

static int spawn_on(struct twin_run *t, struct spawn *s, unsigned first,
		    unsigned n, void *(*fn)(void *, unsigned), void *arg)
{
	for (unsigned i = first; i < first + n; i++) {
		struct thread_arg *a = malloc(sizeof(*a));
		pthread_attr_t at;
		cpu_set_t set;
		int e;

		if (!a) {
			snprintf(t->err, sizeof(t->err), "out of memory");
			return -1;
		}
		*a = (struct thread_arg){ fn, arg, i };
		CPU_ZERO(&set);
		CPU_SET(t->pu[i], &set);
		pthread_attr_init(&at);
		pthread_attr_setaffinity_np(&at, sizeof(set), &set);
		e = pthread_create(&s->th[s->n], &at, thread_main, a);
		pthread_attr_destroy(&at);
		if (e) {
			free(a);
			snprintf(t->err, sizeof(t->err), "pthread_create on CPU %d: %s",
				 t->pu[i], strerror(e));
			return -1;
		}
		s->n++;
	}
	return 0;
}

static void join_all(struct spawn *s)
{
	for (unsigned i = 0; i < s->n; i++)
		pthread_join(s->th[i], NULL);
	s->n = 0;
}

static void *map_anon(struct twin_run *t, void *at, uint64_t len)
{
	void *p = mmap(at, len, PROT_READ | PROT_WRITE, MAP_PRIVATE |
		       MAP_ANONYMOUS | (at ? MAP_FIXED : 0), -1, 0);

	if (p == MAP_FAILED) {
		snprintf(t->err, sizeof(t->err), "mmap of %" PRIu64 " bytes: %s",
			 len, strerror(errno));
		return NULL;
	}
	return p;
}

/* Free address space of LEN bytes, aligned to 2 MiB (one page table's
 * span), left unmapped for the caller to map into with MAP_FIXED. */
static char *free_range(struct twin_run *t, uint64_t len)
{
	uint64_t al = 2ull << 20;
	char *p = mmap(NULL, len + al, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED) {
		snprintf(t->err, sizeof(t->err), "no %" PRIu64 " bytes of address "
			 "space: %s", len, strerror(errno));
		return NULL;
	}
	munmap(p, len + al);
	return (char *)(((uintptr_t)p + al - 1) & ~(uintptr_t)(al - 1));
}

/* ---- mmap_micro ---- */

struct mmu_twin {
	struct twin_run *t;
	uint64_t pages, madvise, len;
	char *volatile base;
	uint64_t epoch __attribute__((aligned(64)));
	uint64_t *done;			/* per CPU, 64 bytes apart */
	struct sbar bar;
	uint32_t started, finished;
};

static void *mmu_thread(void *arg, unsigned id)
{
	struct mmu_twin *u = arg;
	struct twin_run *t = u->t;

	phase_begin(t, &u->bar, id);
	for (uint64_t e = 0; e < t->ops; e++) {
		char *base;

		if (id == 0) {
			if (e == 0 || !u->madvise)
				u->base = map_anon(t, NULL, u->len);
			if (!u->base)
				abort();	/* t->err says why; the parent reports it */
			__atomic_store_n(&u->epoch, e + 1, __ATOMIC_RELEASE);
		} else {
			spin_until(&u->epoch, e + 1);
		}
		base = u->base;
		for (uint64_t p = 0; p < u->pages; p++)
			((volatile uint64_t *)(base + p * t->page))[0] = e;
		__atomic_store_n(&u->done[id * 8], e + 1, __ATOMIC_RELEASE);
		if (id != 0)
			continue;
		for (unsigned c = 1; c < t->ncpus; c++)
			spin_until(&u->done[c * 8], e + 1);
		if (u->madvise)
			madvise(base, u->len, MADV_DONTNEED);
		else
			munmap(base, u->len);
	}
	phase_end(t, &u->bar, id, 2);
	return NULL;
}

static int twin_mmap_micro(struct twin_run *t)
{
	struct mmu_twin u = { .t = t };
	struct spawn s = { 0 };
	int err;

	u.pages = twin_knob(t, "pages");
	u.madvise = twin_knob(t, "madvise");
	u.len = u.pages * t->page;
	u.bar.n = t->ncpus;
	u.done = calloc((size_t)t->ncpus * 8, sizeof(uint64_t));
	if (!u.done)
		return -1;
	err = spawn_on(t, &s, 0, t->ncpus, mmu_thread, &u);
	join_all(&s);
	if (u.madvise && u.base)
		munmap(u.base, u.len);
	free(u.done);
	t->ops_done = err ? 0 : t->ops;
	return err;
}

/* ---- tlb_flush1/2/3 ---- */

struct tf_twin {
	struct twin_run *t;
	unsigned kind, tasks, processes, remap;
	uint64_t pages, iters;
	struct sbar *bar;		/* shared between processes */
	uint64_t *failures;		/* shared */
};

static char *tf_map(struct tf_twin *f, int fd, char *at)
{
	struct twin_run *t = f->t;
	uint64_t len = f->pages * t->page;
	char *p;

	if (f->kind == 2)
		return map_anon(t, at, len);
	p = mmap(at, len, PROT_READ | PROT_WRITE, (f->kind == 3 ? MAP_SHARED :
		 MAP_PRIVATE) | (at ? MAP_FIXED : 0), fd, 0);
	return p == MAP_FAILED ? NULL : p;
}

/*
 * will-it-scale's tlb_flush loop: store, MADV_DONTNEED, read back; in the
 * simulated workload's lockstep (a barrier after the store and after the
 * madvise and read), so that the tasks' madvise calls overlap as they do
 * there: nested gathers, each finishing with a second, whole-mm flush
 * (tlb_finish_mmu()'s mm_tlb_flush_nested()).  Free-running, as
 * will-it-scale runs, they overlap as often as the host's timing has them.
 */
static void tf_loop(struct tf_twin *f, unsigned id)
{
	struct twin_run *t = f->t;
	uint64_t expect = f->kind == 3, pg = 0;
	int fd = -1;
	char *base;

	if (f->kind != 2) {
		char name[32];

		snprintf(name, sizeof(name), "tlb_flush%u.%u", f->kind, id);
		fd = memfd_create(name, MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, (off_t)(f->pages * t->page)))
			abort();
	}
	base = tf_map(f, fd, NULL);
	if (!base)
		abort();
	phase_begin(t, f->bar, id);
	for (uint64_t i = 0; i < f->iters; i++) {
		volatile uint64_t *va = (volatile uint64_t *)(base + pg * t->page);

		*va = 1;
		sbar_wait(f->bar, 2 + 2 * i);
		madvise((void *)va, t->page, MADV_DONTNEED);
		if (*va != expect)
			__atomic_add_fetch(f->failures, 1, __ATOMIC_RELAXED);
		pg = (pg + 1) % f->pages;
		if (f->remap && pg == 0) {
			munmap(base, f->pages * t->page);
			if (!(base = tf_map(f, fd, base)))
				abort();
		}
		sbar_wait(f->bar, 3 + 2 * i);
	}
	phase_end(t, f->bar, id, 2 + 2 * f->iters);
	munmap(base, f->pages * t->page);
	if (fd >= 0)
		close(fd);
}

static void *tf_thread(void *arg, unsigned id)
{
	tf_loop(arg, id);
	return NULL;
}

static int tf_refuse(const struct twin_run *t, char *why, size_t len)
{
	if (twin_knob(t, "migrate")) {
		snprintf(why, len, "migrate=%" PRIu64 " has no native twin: on the "
			 "host the scheduler, not the workload, moves threads",
			 twin_knob(t, "migrate"));
		return -1;
	}
	return 0;
}

static int twin_tlb_flush(struct twin_run *t)
{
	struct tf_twin f = { .t = t };
	struct spawn s = { 0 };
	uint64_t *shared;
	int err = 0;

	f.kind = (unsigned)(t->w->name[9] - '0');
	f.pages = twin_knob(t, "pages");
	f.processes = (unsigned)twin_knob(t, "processes");
	f.remap = (unsigned)twin_knob(t, "remap");
	f.tasks = wl_load_tasks(t->ncpus, twin_knob(t, "load"));
	f.iters = (t->ops + f.tasks - 1) / f.tasks;
	shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED |
		      MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		return -1;
	f.bar = (struct sbar *)shared;
	f.bar->n = f.tasks;
	f.failures = shared + 32;
	if (!f.processes) {
		err = spawn_on(t, &s, 0, f.tasks, tf_thread, &f);
		join_all(&s);
	} else {
		/* One process a task, each forked pinned to its CPU. */
		pid_t pid[HOST_TWIN_MAX];
		unsigned n = 0;

		for (unsigned i = 0; i < f.tasks; i++) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(t->pu[i], &set);
			sched_setaffinity(0, sizeof(set), &set);
			pid[n] = fork();
			if (pid[n] == 0) {
				tf_loop(&f, i);
				_exit(0);
			}
			if (pid[n] < 0) {
				snprintf(t->err, sizeof(t->err), "fork: %s",
					 strerror(errno));
				err = -1;
				break;
			}
			n++;
		}
		{
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(t->pu[0], &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		for (unsigned i = 0; i < n; i++) {
			int st;

			if (waitpid(pid[i], &st, 0) < 0 || !WIFEXITED(st) ||
			    WEXITSTATUS(st)) {
				snprintf(t->err, sizeof(t->err), "task %u's process "
					 "failed", i);
				err = -1;
			}
		}
	}
	t->failures = *f.failures;
	if (t->failures)
		snprintf(t->note, sizeof(t->note), "%" PRIu64 " reads after "
			 "MADV_DONTNEED saw a stale value", t->failures);
	t->ops_done = err ? 0 : f.iters * f.tasks;
	munmap(shared, 4096);
	return err;
}

/* ---- munmap and mprotect: busy, lazy and other CPUs ---- */

struct roles_twin {
	struct twin_run *t;
	unsigned busy, lazy, other, mode;
	uint64_t npages, per_cpu;
	char *base;
	uint64_t warmed __attribute__((aligned(64)));
	uint64_t go __attribute__((aligned(64)));
	uint32_t release;		/* lazy threads and B sleep on it */
	uint32_t busy_left;
	uint64_t failures;
};

static char *roles_region(const struct roles_twin *r, unsigned cpu)
{
	return r->base + (uint64_t)cpu * (r->npages + 1) * r->t->page;
}

static void *roles_thread(void *arg, unsigned id)
{
	struct roles_twin *r = arg;
	struct twin_run *t = r->t;
	char *base = roles_region(r, id), *b = base + t->page;
	uint64_t len = r->npages * t->page;

	/* Everyone runs A once: the anchor keeps the page table alive. */
	if (!map_anon(t, base, t->page))
		abort();
	*(volatile uint64_t *)base = id;
	__atomic_add_fetch(&r->warmed, 1, __ATOMIC_ACQ_REL);
	if (id >= r->busy) {		/* lazy or other: leave the CPU idle */
		sleep_while(&r->release, 0);
		return NULL;
	}
	spin_until(&r->go, 1);
	if (r->mode == 1 && !map_anon(t, b, len))
		abort();
	for (uint64_t i = 0; i < r->per_cpu; i++) {
		if (r->mode == 0) {
			if (!map_anon(t, b, len))
				abort();
			for (uint64_t p = 0; p < r->npages; p++)
				((volatile uint64_t *)(b + p * t->page))[0] = i;
			munmap(b, len);
		} else {
			int prot = (i & 1) ? PROT_READ : PROT_READ | PROT_WRITE;

			mprotect(b, len, prot);
			for (uint64_t p = 0; p < r->npages; p++) {
				volatile uint64_t *va = (volatile uint64_t *)(b + p * t->page);

				if (prot & PROT_WRITE)
					*va = i;
				else
					(void)*va;
			}
		}
	}
	if (__atomic_sub_fetch(&r->busy_left, 1, __ATOMIC_ACQ_REL) == 0)
		futex_wake(&r->busy_left);
	return NULL;
}

/* Process B on the other CPUs: touch a page each, then sleep. */
static void roles_b(struct roles_twin *r, uint32_t *b_ready)
{
	struct twin_run *t = r->t;
	pid_t a_pid = getpid();

	for (unsigned c = r->busy + r->lazy; c < t->ncpus; c++) {
		cpu_set_t set;
		pid_t pid;

		CPU_ZERO(&set);
		CPU_SET(t->pu[c], &set);
		sched_setaffinity(0, sizeof(set), &set);
		pid = fork();
		if (pid == 0) {
			char *p;

			/* Gone with A, whatever becomes of A. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() != a_pid)
				_exit(0);
			p = map_anon(t, NULL, t->page);

			if (p)
				*(volatile uint64_t *)p = 1;
			__atomic_add_fetch(b_ready, 1, __ATOMIC_ACQ_REL);
			futex_wake(b_ready);
			/* Sleep until A is done: the CPU idles lazy in B. */
			while (!__atomic_load_n(&r->release, __ATOMIC_ACQUIRE))
				usleep(20000);
			_exit(0);
		}
	}
}

static int roles_refuse(const struct twin_run *t, char *why, size_t len)
{
	if (twin_knob(t, "stall_ms")) {
		snprintf(why, len, "stall_ms has no native twin (a CPU that does "
			 "not take interrupts cannot be made on the host)");
		return -1;
	}
	return 0;
}

static int twin_roles(struct twin_run *t)
{
	struct roles_twin *r;
	struct spawn s = { 0 };
	uint32_t *b_ready;
	unsigned n = t->ncpus;
	int err = 0;

	/* Shared with process B (the release word and its readiness). */
	r = mmap(NULL, sizeof(*r) + 64, PROT_READ | PROT_WRITE, MAP_SHARED |
		 MAP_ANONYMOUS, -1, 0);
	if (r == MAP_FAILED)
		return -1;
	memset(r, 0, sizeof(*r));
	b_ready = (uint32_t *)(r + 1);
	r->t = t;
	r->mode = !strcmp(t->w->name, "mprotect");
	r->busy = n / 2 ? n / 2 : 1;
	r->lazy = (n - r->busy) / 2;
	r->other = n - r->busy - r->lazy;
	r->npages = twin_knob(t, "pages");
	r->per_cpu = (t->ops + r->busy - 1) / r->busy;
	r->busy_left = r->busy;
	r->base = free_range(t, (uint64_t)n * (r->npages + 1) * t->page);
	if (!r->base || spawn_on(t, &s, 0, n, roles_thread, r)) {
		err = -1;
		goto out;
	}
	while (__atomic_load_n(&r->warmed, __ATOMIC_ACQUIRE) < n)
		usleep(1000);
	/* The lazy and other CPUs' threads are asleep: wait until their CPUs
	 * are idle, then B runs on the other ones. */
	usleep(20000);
	if (r->other) {
		roles_b(r, b_ready);
		{
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(t->pu[0], &set);
			sched_setaffinity(0, sizeof(set), &set);
		}
		for (uint32_t v; (v = __atomic_load_n(b_ready, __ATOMIC_ACQUIRE)) <
				 r->other;)
			futex_wait(b_ready, v);
		usleep(20000);
	}
	t->mark(t, 0);
	__atomic_store_n(&r->go, 1, __ATOMIC_RELEASE);
	for (uint32_t v; (v = __atomic_load_n(&r->busy_left, __ATOMIC_ACQUIRE));)
		futex_wait(&r->busy_left, v);
	t->mark(t, 1);
	set_and_wake(&r->release, 1);
	join_all(&s);
	while (r->other && waitpid(-1, NULL, 0) > 0)
		;
	t->ops_done = r->per_cpu * r->busy;
out:
	munmap(r, sizeof(*r) + 64);
	return err;
}

/* ---- rangeflush ---- */

struct rf_twin {
	struct twin_run *t;
	uint64_t pages, hot, accesses, rmin, rmax;
	char *base;
	uint64_t epoch __attribute__((aligned(64)));
	uint64_t *done;
	struct sbar bar;
	volatile uint64_t sink;
};

static void *rf_thread(void *arg, unsigned id)
{
	struct rf_twin *r = arg;
	struct twin_run *t = r->t;

	phase_begin(t, &r->bar, id);
	if (id == 0) {
		uint64_t s = t->seed * 0x100000001b3ull + 7;

		for (uint64_t i = 0; i < t->ops; i++) {
			uint64_t n = r->rmin + wl_rng_below(&s, r->rmax - r->rmin + 1);
			uint64_t at = wl_rng_below(&s, r->pages - n + 1);
			char *va = r->base + at * t->page;

			for (unsigned c = 1; c < t->ncpus; c++)
				spin_until(&r->done[c * 8], i + 1);
			munmap(va, n * t->page);
			if (!map_anon(t, va, n * t->page))
				abort();
			__atomic_store_n(&r->epoch, i + 1, __ATOMIC_RELEASE);
		}
	} else {
		uint64_t s = t->seed * 0x9e3779b97f4a7c15ull + id, sum = 0;
		uint64_t first = ((uint64_t)(id - 1) * r->hot) % (r->pages - r->hot + 1);

		for (uint64_t e = 0; e <= t->ops; e++) {
			spin_until(&r->epoch, e);
			for (uint64_t i = 0; i < r->accesses; i++)
				sum += *(volatile uint64_t *)(r->base + (first +
					wl_rng_below(&s, r->hot)) * t->page);
			__atomic_store_n(&r->done[id * 8], e + 1, __ATOMIC_RELEASE);
		}
		r->sink += sum;
	}
	phase_end(t, &r->bar, id, 2);
	return NULL;
}

static int twin_rangeflush(struct twin_run *t)
{
	struct rf_twin r = { .t = t };
	struct spawn s = { 0 };
	int err;

	r.pages = twin_knob(t, "pages");
	r.hot = twin_knob(t, "hot");
	r.accesses = twin_knob(t, "accesses");
	r.rmin = twin_knob(t, "range_min");
	r.rmax = twin_knob(t, "range_max");
	r.bar.n = t->ncpus;
	r.done = calloc((size_t)t->ncpus * 8, sizeof(uint64_t));
	if (!r.done || !(r.base = map_anon(t, NULL, r.pages * t->page))) {
		free(r.done);
		return -1;
	}
	err = spawn_on(t, &s, 0, t->ncpus, rf_thread, &r);
	join_all(&s);
	munmap(r.base, r.pages * t->page);
	free(r.done);
	t->ops_done = err ? 0 : t->ops;
	return err;
}

/* ---- fork ---- */

struct fork_twin {
	struct twin_run *t;
	unsigned tasks;
	uint64_t pages, touch;
	char *base;
	struct sbar bar;
	uint64_t failures;
};

static void *fork_thread(void *arg, unsigned id)
{
	struct fork_twin *f = arg;
	struct twin_run *t = f->t;
	char *mine = f->base + (uint64_t)id * f->pages * t->page;

	phase_begin(t, &f->bar, id);
	for (uint64_t r = 0; r < t->ops; r++) {
		uint64_t tag = r << 16 | id;

		for (uint64_t p = 0; p < f->pages; p++)
			((volatile uint64_t *)(mine + p * t->page))[0] = tag;
		sbar_wait(&f->bar, 2 + 2 * r);
		if (id == 0) {
			pid_t pid = fork();

			if (pid == 0) {
				uint64_t bad = *(volatile uint64_t *)mine != (r << 16);

				for (uint64_t p = 0; p < f->touch; p++)
					((volatile uint64_t *)(mine + p * t->page))[0] =
						UINT64_MAX;
				_exit(bad);
			}
			if (pid > 0) {
				int st;

				if (waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
				    WEXITSTATUS(st))
					f->failures++;
			}
			if (f->touch && *(volatile uint64_t *)mine != tag)
				f->failures++;
		}
		sbar_wait(&f->bar, 3 + 2 * r);
	}
	if (id == 0)
		t->mark(t, 1);
	return NULL;
}

static int twin_fork(struct twin_run *t)
{
	struct fork_twin f = { .t = t };
	struct spawn s = { 0 };
	uint64_t len;
	int err;

	f.pages = twin_knob(t, "pages");
	f.touch = twin_knob(t, "touch");
	f.tasks = wl_load_tasks(t->ncpus, twin_knob(t, "load"));
	f.bar.n = f.tasks;
	len = f.tasks * f.pages * t->page;
	if (!(f.base = map_anon(t, NULL, len)))
		return -1;
	err = spawn_on(t, &s, 0, f.tasks, fork_thread, &f);
	join_all(&s);
	munmap(f.base, len);
	t->failures = f.failures;
	if (f.failures)
		snprintf(t->note, sizeof(t->note), "%" PRIu64 " forks saw the "
			 "other side's value", f.failures);
	t->ops_done = err ? 0 : t->ops;
	return err;
}

/* ---- exec ---- */

/*
 * An image: TWIN_EXEC_ARG ROUNDS_LEFT PAGES TASKS PU0,PU1,..  Its threads
 * (the first is the image's main thread, on PU0) store to their pages,
 * then the main thread execs the next image: de_thread() ends the others,
 * leaving their CPUs idle and lazy on the old mm, which exec_mmap() then
 * tears down.  The last image exits 0.
 */
struct exec_img {
	uint64_t pages, page;
	unsigned tasks;
	char *base;
	struct sbar bar;
};

static void exec_store(struct exec_img *e, unsigned id)
{
	char *mine = e->base + (uint64_t)id * e->pages * e->page;

	for (uint64_t p = 0; p < e->pages; p++)
		((volatile uint64_t *)(mine + p * e->page))[0] = id;
}

static void *exec_thread(void *arg, unsigned id)
{
	struct exec_img *e = arg;

	exec_store(e, id);
	sbar_wait(&e->bar, 0);
	/* Run on until the exec ends this thread (de_thread()). */
	for (;;)
		cpu_relax();
	return NULL;
}

void twin_exec_image(int argc, char **argv)
{
	struct exec_img e = { 0 };
	struct twin_run t = { 0 };
	struct spawn s = { 0 };
	int pu[HOST_TWIN_MAX];
	unsigned long long left;
	char *p, next[32];

	if (argc < 6)
		_exit(2);
	left = strtoull(argv[2], NULL, 10);
	e.pages = strtoull(argv[3], NULL, 10);
	e.tasks = (unsigned)strtoul(argv[4], NULL, 10);
	e.page = (uint64_t)sysconf(_SC_PAGESIZE);
	p = argv[5];
	for (unsigned i = 0; i < e.tasks && i < HOST_TWIN_MAX; i++) {
		pu[i] = (int)strtol(p, &p, 10);
		if (*p == ',')
			p++;
	}
	t.pu = pu;
	t.page = e.page;
	e.bar.n = e.tasks;
	e.base = map_anon(&t, NULL, e.tasks * e.pages * e.page);
	if (!e.base)
		_exit(3);
	if (e.tasks > 1 && spawn_on(&t, &s, 1, e.tasks - 1, exec_thread, &e))
		_exit(3);
	exec_store(&e, 0);
	sbar_wait(&e.bar, 0);
	if (left == 0)
		_exit(0);
	snprintf(next, sizeof(next), "%llu", left - 1);
	argv[2] = next;
	execv("/proc/self/exe", argv);
	_exit(4);
}

static int twin_exec(struct twin_run *t)
{
	unsigned tasks = wl_load_tasks(t->ncpus, twin_knob(t, "load"));
	char left[32], pages[32], ntasks[32], pus[HOST_TWIN_MAX * 6] = "";
	char *argv[] = { "shootdown", TWIN_EXEC_ARG, left, pages, ntasks, pus,
			 NULL };
	size_t off = 0;
	pid_t pid;
	int st;

	for (unsigned i = 0; i < tasks; i++)
		off += (size_t)snprintf(pus + off, sizeof(pus) - off, "%s%d",
					i ? "," : "", t->pu[i]);
	/* ops execs: the first image and ops-1 more... plus the last's exit:
	 * image k execs image k+1 for k < ops. */
	snprintf(left, sizeof(left), "%" PRIu64, t->ops);
	snprintf(pages, sizeof(pages), "%" PRIu64, twin_knob(t, "pages"));
	snprintf(ntasks, sizeof(ntasks), "%u", tasks);
	t->mark(t, 0);
	pid = fork();
	if (pid == 0) {
		execv("/proc/self/exe", argv);
		_exit(4);
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st)) {
		snprintf(t->err, sizeof(t->err), "the exec chain failed");
		return -1;
	}
	t->mark(t, 1);
	t->ops_done = t->ops;
	return 0;
}

static const struct twin twins[] = {
	{ "munmap", "threads of process A mmap, store to and munmap their "
	  "pages on the busy CPUs; on the lazy ones A's thread ran and sleeps; "
	  "on the other ones process B ran after A and sleeps",
	  roles_refuse, twin_roles, 0 },
	{ "mprotect", "threads of A mprotect their pages RW/RO and touch them "
	  "(loads while RO: the store that must fault is not made natively); "
	  "lazy and other CPUs as munmap", roles_refuse, twin_roles, 0 },
	{ "rangeflush", "CPU 0 munmaps and mmaps random ranges of a region the "
	  "other threads read in lockstep (spinning between epochs)", NULL,
	  twin_rangeflush, 0 },
	{ "mmap_micro", "CPU 0 mmaps, every thread stores to every page, CPU 0 "
	  "munmaps (madvise=1: MADV_DONTNEED); the others spin in the mm", NULL,
	  twin_mmap_micro, 0 },
	{ "tlb_flush1", "will-it-scale: store, MADV_DONTNEED, read back, over a "
	  "private mapping of a memfd per task", tf_refuse, twin_tlb_flush, 0 },
	{ "tlb_flush2", "will-it-scale: store, MADV_DONTNEED, read back, over "
	  "private anonymous memory per task", tf_refuse, twin_tlb_flush, 0 },
	{ "tlb_flush3", "will-it-scale: store, MADV_DONTNEED, read back, over a "
	  "shared mapping of a memfd per task", tf_refuse, twin_tlb_flush, 0 },
	{ "fork", "threads store to their pages and spin; thread 0 forks, the "
	  "child stores to `touch` pages and exits, thread 0 waits for it", NULL,
	  twin_fork, 1.0 },
	{ "exec", "a threaded process stores to its pages and execs itself: "
	  "de_thread() ends the other threads (their CPUs idle, lazy), "
	  "exec_mmap() tears the old mm down", NULL, twin_exec, 0 },
};

const struct twin *twin_find(const char *name)
{
	for (size_t i = 0; i < sizeof(twins) / sizeof(twins[0]); i++)
		if (!strcmp(twins[i].workload, name))
			return &twins[i];
	return NULL;
}

const struct twin *twin_all(size_t *n)
{
	*n = sizeof(twins) / sizeof(twins[0]);
	return twins;
}
