/* SPDX-License-Identifier: MIT */
/* Workload trace: a real program's memory-management calls, replayed. */

/*
 * The trace (--trace FILE, docs/trace-format.md) is replayed event by event
 * in its time order, one event at a time: a global cursor says which event
 * is next, and only the CPU of that event's thread runs it while every other
 * CPU waits, taking IPIs.  So the order of the calls is the trace's and the
 * counters are a pure function of the trace, the options and the seed.
 *
 * Threads become CPUs by the order in which their tids first appear: the
 * i-th tid runs on CPU i mod --cpus.  A CPU switches to its thread's mm
 * before that thread's event (switch_mm, as a context switch would), runs
 * the mm from its first event, and goes idle (lazy TLB) after its last;
 * with --set idle_us=N also whenever its thread has no event for N us
 * (an idle step, in time order, on that CPU's own thread: the thread is
 * taken to block), until its next event switches back.
 * clone thread/vfork shares the parent's mm; clone process is fork
 * (dup_mmap, copy-on-write); execve gives the thread a fresh mm and exits
 * the old one when nothing else uses it; exit_group and the last exit of
 * an mm tear it down (exit_mmap).  A tid that no clone names belongs to the
 * first process.
 *
 * Sleep: a block event (a futex wait, wait4, nanosleep, poll... that lasted
 * --set block_us or more, 50 by default) idles the thread's CPU (lazy TLB)
 * from the call until it returns (a wake step at its end), as the kernel
 * would switch to idle: a flush then skips that CPU (or not: the policy
 * says).  Without block events the threads run from their first event to
 * their last (an upper bound on the IPIs), unless --set idle_us says when
 * a quiet thread counts as asleep.
 *
 * Pages: strace sees no page faults.  A trace with fault events is touched
 * exactly where they say (a store for w, a load for r).  One without: after
 * each mmap, brk growth or mremap growth of an accessible region, and each
 * mprotect that makes a region writable (PROT_NONE reservations made
 * usable: thread stacks, malloc arenas), the calling thread touches its
 * first --set touch=N pages (16 by default; stores if writable, loads if
 * not), so the later munmap, mprotect or madvise has translations to
 * shoot down.  Only touched pages take frames:
 * a 1 GB reservation costs nothing until touched.
 *
 * Before each of its calls a thread reads again the --set reread=N pages
 * it touched last (reread()): the oracle's checks need uses.
 *
 * Addresses are the program's own (user space is the same 47 bits); on a
 * machine whose page is larger than 4 KB a range is widened to whole
 * simulated pages.  What cannot be replayed is counted as skipped: calls
 * that failed on the host, and ranges the simulation never mapped (the
 * kernel mapped them at exec: the binary, the stack, the vdso).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>

#include "trace.h"
#include "workload.h"

enum { K_TOUCH, K_IDLE_US, K_BLOCK_US, K_REREAD };
#define RT_REREAD_MAX 16

static const struct wl_knob trace_knobs[] = {
	{ "touch", "pages the mapping thread touches of each new mapping "
	  "(traces without fault events)", 16, 0, 1u << 20 },
	{ "idle_us", "a thread with no event for this long (trace time, us) "
	  "leaves its CPU idle (lazy TLB) until its next; 0: never", 0, 0,
	  1ull << 40 },
	{ "block_us", "a block event at least this long (us) idles its CPU "
	  "until the thread wakes; 0: block events ignored", 50, 0,
	  1ull << 40 },
	{ "reread", "pages a thread reads again before each of its calls (its "
	  "latest touched): what the oracle checks", 4, 0, RT_REREAD_MAX },
	{ NULL, NULL, 0, 0, 0 },
};

/* One step of the replay: an event, a CPU going idle between two (its
 * thread blocked or, idle_us, quiet), or a blocked thread waking up. */
enum step_kind { STEP_EVENT, STEP_IDLE, STEP_WAKE };
struct step {
	uint64_t t_us;
	size_t ev;
	unsigned cpu;
	uint8_t kind;			/* enum step_kind */
	size_t seq;			/* ties: the trace's order */
};

/* One mm of the replay: the program's processes and exec images. */
struct rmm {
	struct shd_mm *mm;
	unsigned users;			/* live threads */
	uint64_t brk;			/* the current break (0: not yet seen) */
	bool used;			/* a call has changed it */
};

struct rthread {
	uint32_t tid;
	unsigned cpu;
	uint64_t recent[RT_REREAD_MAX];	/* pages it touched last (0: none) */
	unsigned nrecent;
	uint64_t calls, ipis_sent;	/* replayed, and what they sent */
	struct rmm *mm;			/* NULL: not started, or exited */
	bool exited;
};

struct replay {
	const struct trace *t;
	size_t nev;
	unsigned ncpus;
	uint64_t page;
	uint64_t touch;
	struct rthread *th;
	unsigned nth;
	unsigned *ev_th;		/* event -> thread */
	struct step *step;
	size_t nstep;
	size_t *last;			/* CPU -> its last step + 1 (0: none) */
	bool *lazy;			/* CPU -> went idle (own CPU) */
	uint64_t idle_us, block_us;
	uint64_t blocked_us;		/* block events honoured: their time */
	uint64_t events;		/* events run */
	struct rmm **mms;
	size_t nmms, mcap;
	uint64_t next;			/* the step to run (release/acquire) */
	int32_t abort;
	struct shd_mm **running;	/* CPU -> the mm it switched to; own CPU */
	/* Written by the CPU running the current event only. */
	struct wl_call call[TC__COUNT];
	struct wl_top top[WL_MAX_TOP];
	unsigned ntop;
	uint64_t touched, unmapped_touch, no_frames, rereads;
	uint64_t reread;		/* pages each thread reads again */
	struct rthread *toucher;	/* the thread whose event runs */
	unsigned processes;
	char errtxt[256];
};

/* ---- parsing once: check() and every run's policy read the same file ---- */

static struct trace cached;
static char cached_path[4096];

static int trace_get(const char *path, const struct trace **out, char *err,
		     size_t len)
{
	if (!path) {
		snprintf(err, len, "workload trace replays a trace file: "
			 "--trace FILE (shootdown record writes one)");
		return -1;
	}
	if (!cached_path[0] || strcmp(cached_path, path)) {
		trace_free(&cached);
		cached_path[0] = 0;
		if (trace_load(path, &cached, err, len) < 0)
			return -1;
		snprintf(cached_path, sizeof(cached_path), "%s", path);
	}
	*out = &cached;
	return 0;
}

static int trace_check(const struct wl_opts *o, char *err, size_t len)
{
	const struct trace *t;

	return trace_get(o->trace_file, &t, err, len);
}

/* ---- threads ---- */

static int thread_index(struct replay *rp, uint32_t tid)
{
	for (unsigned i = 0; i < rp->nth; i++)
		if (rp->th[i].tid == tid)
			return (int)i;
	return -1;
}

static int step_order(const void *a, const void *b)
{
	const struct step *x = a, *y = b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Threads to CPUs, then the steps: every event, and (idle_us) an idle
 * step idle_us after an event whose CPU has nothing to do for longer. */
static int map_threads(struct replay *rp)
{
	size_t *next_on = NULL, *after = NULL;

	rp->th = calloc(rp->t->nthreads ? rp->t->nthreads : 1, sizeof(*rp->th));
	rp->ev_th = calloc(rp->nev ? rp->nev : 1, sizeof(*rp->ev_th));
	rp->last = calloc(rp->ncpus, sizeof(*rp->last));
	rp->lazy = calloc(rp->ncpus, sizeof(*rp->lazy));
	rp->running = calloc(rp->ncpus, sizeof(*rp->running));
	rp->step = calloc(rp->nev ? 2 * rp->nev : 1, sizeof(*rp->step));
	next_on = calloc(rp->ncpus, sizeof(*next_on));
	after = calloc(rp->nev ? rp->nev : 1, sizeof(*after));
	if (!rp->th || !rp->ev_th || !rp->last || !rp->lazy || !rp->running ||
	    !rp->step || !next_on || !after) {
		free(next_on);
		free(after);
		return -ENOMEM;
	}
	for (size_t i = 0; i < rp->nev; i++) {
		int k = thread_index(rp, rp->t->ev[i].tid);

		if (k < 0) {
			k = (int)rp->nth++;
			rp->th[k].tid = rp->t->ev[i].tid;
			rp->th[k].cpu = (unsigned)k % rp->ncpus;
		}
		rp->ev_th[i] = (unsigned)k;
	}
	/* after[i]: the next event on event i's CPU (SIZE_MAX: none). */
	for (unsigned c = 0; c < rp->ncpus; c++)
		next_on[c] = SIZE_MAX;
	for (size_t i = rp->nev; i-- > 0;) {
		unsigned c = rp->th[rp->ev_th[i]].cpu;

		after[i] = next_on[c];
		next_on[c] = i;
	}
	for (size_t i = 0; i < rp->nev; i++) {
		const struct trace_event *ev = &rp->t->ev[i];
		unsigned c = rp->th[rp->ev_th[i]].cpu;

		rp->step[rp->nstep++] = (struct step){ ev->t_us, i, c, STEP_EVENT,
						       2 * i };
		if (ev->call == TC_block && rp->block_us &&
		    ev->arg >= rp->block_us)	/* it sleeps from here */
			rp->step[rp->nstep++] = (struct step){
				ev->t_us + ev->arg, i, c, STEP_WAKE, 2 * i + 1 };
		else if (rp->idle_us && after[i] != SIZE_MAX &&
			 rp->t->ev[after[i]].t_us - ev->t_us > rp->idle_us)
			rp->step[rp->nstep++] = (struct step){
				ev->t_us + rp->idle_us, i, c, STEP_IDLE, 2 * i + 1 };
	}
	qsort(rp->step, rp->nstep, sizeof(*rp->step), step_order);
	for (size_t k = 0; k < rp->nstep; k++)
		rp->last[rp->step[k].cpu] = k + 1;
	free(next_on);
	free(after);
	return 0;
}

static struct rmm *rmm_new(struct replay *rp, struct shd_mm *mm)
{
	struct rmm *r;

	if (rp->nmms == rp->mcap) {
		size_t nc = rp->mcap ? rp->mcap * 2 : 8;
		void *p = realloc(rp->mms, nc * sizeof(*rp->mms));

		if (!p)
			return NULL;
		rp->mms = p;
		rp->mcap = nc;
	}
	if (!(r = calloc(1, sizeof(*r))))
		return NULL;
	r->mm = mm;
	rp->mms[rp->nmms++] = r;
	return r;
}

/* The last user of R has gone: exit_mmap from CPU, which goes lazy first
 * (as the exiting task's CPU keeps the mm as its active_mm). */
static int rmm_put(struct replay *rp, struct shd_cpu *cpu, struct rmm *r)
{
	unsigned id = shd_cpu_id(cpu);
	struct shd_mm *mm = r->mm;

	if (!r->users || --r->users || !mm)
		return 0;
	r->mm = NULL;
	if (rp->running[id] == mm) {
		if (!rp->lazy[id])
			shd_enter_lazy_tlb(cpu);
		rp->running[id] = NULL;
		rp->lazy[id] = false;
	}
	return shd_mm_exit(cpu, mm);
}

/* ---- the calls ---- */

static uint64_t page_down(const struct replay *rp, uint64_t a)
{
	return a & ~(rp->page - 1);
}

static uint64_t page_up(const struct replay *rp, uint64_t a)
{
	return a > UINT64_MAX - rp->page ? UINT64_MAX & ~(rp->page - 1) :
	       (a + rp->page - 1) & ~(rp->page - 1);
}

/* [*S, *E): ADDR..ADDR+LEN widened to simulated pages; false if it is
 * empty or not in user space. */
static bool range_of(const struct replay *rp, uint64_t addr, uint64_t len,
		     uint64_t *s, uint64_t *e)
{
	if (!len || addr >= SHD_USER_TOP || len > SHD_USER_TOP - addr)
		return false;
	*s = page_down(rp, addr);
	*e = page_up(rp, addr + len);
	return *e <= SHD_USER_TOP && *e > *s;
}

/* Touch page ADDR: a store if WRITE, else a load.  0, or the run's error
 * (a touch that faults on unmapped memory or finds no frame is counted). */
static int touch(struct replay *rp, struct shd_cpu *cpu, uint64_t addr,
		 bool write)
{
	uint64_t v;
	int err = write ? shd_store(cpu, addr, addr) : shd_load(cpu, addr, &v);

	if (err == -EFAULT || err == -EACCES || err == -EINVAL) {
		rp->unmapped_touch++;
		return 0;
	}
	if (err == -ENOMEM) {
		rp->no_frames++;
		return 0;
	}
	if (!err) {
		struct rthread *th = rp->toucher;

		rp->touched++;
		if (th && rp->reread) {	/* the newest first, no repeats */
			unsigned k = 0;

			while (k < th->nrecent && th->recent[k] != addr)
				k++;
			if (k == th->nrecent && th->nrecent < rp->reread)
				th->nrecent++;
			if (k == th->nrecent)
				k--;
			memmove(&th->recent[1], &th->recent[0],
				k * sizeof(th->recent[0]));
			th->recent[0] = addr;
		}
	}
	return err;
}

/*
 * Before each of its calls a thread reads again the pages it touched last
 * (--set reread=N): a program uses its memory between its calls, and it
 * is these reads that meet a stale translation another CPU's flush should
 * have removed (the oracle's check).  One gone since (unmapped, or made
 * unreadable) leaves the list.
 */
static int reread(struct replay *rp, struct shd_cpu *cpu, struct rthread *th)
{
	for (unsigned k = 0; k < th->nrecent;) {
		uint64_t v;
		int err = shd_load(cpu, th->recent[k], &v);

		if (err == -EFAULT || err == -EACCES || err == -EINVAL ||
		    err == -ENOMEM) {
			memmove(&th->recent[k], &th->recent[k + 1],
				(th->nrecent - k - 1) * sizeof(th->recent[0]));
			th->nrecent--;
			continue;
		}
		if (err)
			return err;
		rp->rereads++;
		k++;
	}
	return 0;
}

/* The rule for traces without fault events (the theory block). */
static int touch_new(struct replay *rp, struct shd_cpu *cpu, uint64_t s,
		     uint64_t e, unsigned prot)
{
	int err = 0;

	if (rp->t->has_faults || !(prot & (TP_R | TP_W)))
		return 0;
	for (uint64_t a = s, n = 0; a < e && n < rp->touch && !err;
	     a += rp->page, n++)
		err = touch(rp, cpu, a, prot & TP_W);
	return err;
}

static unsigned shd_prot(unsigned prot)
{
	return (prot & TP_R ? SHD_PROT_READ : 0) |
	       (prot & TP_W ? SHD_PROT_WRITE : 0) |
	       (prot & TP_X ? SHD_PROT_EXEC : 0);
}

/* mmap at [S, E), replacing what is there (MAP_FIXED's implicit munmap,
 * or a mapping the replay kept that the program had given back). */
static int map_range(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t s,
		     uint64_t e, unsigned prot)
{
	int err = shd_mmap(cpu, mm, s, e - s, shd_prot(prot));

	if (err == -EEXIST && !(err = shd_munmap(cpu, mm, s, e - s)))
		err = shd_mmap(cpu, mm, s, e - s, shd_prot(prot));
	return err;
}

/* The event could not be replayed (counted as skipped), not an error. */
#define SKIP 1

static int do_brk(struct replay *rp, struct shd_cpu *cpu, struct rmm *r,
		  const struct trace_event *ev)
{
	uint64_t old = r->brk, s, e;
	int err = 0;

	r->brk = ev->ret;
	if (!old || ev->ret == old)
		return 0;
	if (ev->ret > old) {
		s = page_up(rp, old);
		e = page_up(rp, ev->ret);
		if (e <= s)
			return 0;
		if (e > SHD_USER_TOP)
			return SKIP;
		if (!(err = map_range(cpu, r->mm, s, e, TP_R | TP_W)))
			err = touch_new(rp, cpu, s, e, TP_R | TP_W);
		return err;
	}
	s = page_up(rp, ev->ret);
	e = page_up(rp, old);
	return e > s ? shd_munmap(cpu, r->mm, s, e - s) : 0;
}

static int do_mremap(struct replay *rp, struct shd_cpu *cpu, struct shd_mm *mm,
		     const struct trace_event *ev)
{
	uint64_t os, oe, ns, ne;
	int err;

	if (!range_of(rp, ev->addr, ev->len, &os, &oe) ||
	    !range_of(rp, ev->ret, ev->arg, &ns, &ne))
		return SKIP;
	if (ns == os) {			/* in place: grow or shrink the tail */
		if (ne > oe) {
			if (!(err = map_range(cpu, mm, oe, ne, TP_R | TP_W)))
				err = touch_new(rp, cpu, oe, ne, TP_R | TP_W);
			return err;
		}
		return ne < oe ? shd_munmap(cpu, mm, ne, oe - ne) : 0;
	}
	/* Moved: the old range's PTEs go (a flush), the new one holds them. */
	if (!(ev->flags & TF_DONTUNMAP) &&
	    (err = shd_munmap(cpu, mm, os, oe - os)))
		return err;
	if (!(err = map_range(cpu, mm, ns, ne, TP_R | TP_W)))
		err = touch_new(rp, cpu, ns, ne, TP_R | TP_W);
	return err;
}

/* A thread whose first event is not its clone's child: the first process. */
static int thread_start(struct replay *rp, struct shd_machine *m,
			struct rthread *th)
{
	struct shd_mm *mm;

	if (th->mm)
		return 0;
	if (th->exited)
		return SKIP;
	if (rp->nmms && rp->mms[0]->mm) {
		th->mm = rp->mms[0];
		th->mm->users++;
		return 0;
	}
	if (shd_mm_create(m, &mm))
		return -ENOMEM;
	if (!(th->mm = rmm_new(rp, mm))) {
		shd_mm_destroy(mm);
		return -ENOMEM;
	}
	th->mm->users = 1;
	rp->processes++;
	return 0;
}

static int do_clone(struct replay *rp, struct shd_cpu *cpu, struct rthread *th,
		    const struct trace_event *ev)
{
	int k = thread_index(rp, (uint32_t)ev->ret);
	struct rthread *child;
	struct shd_mm *mm;

	if (k < 0)			/* the child never made a call */
		return 0;
	child = &rp->th[k];
	if (child->mm || child->exited)	/* it ran before its clone returned */
		return SKIP;
	if (!(ev->flags & TF_PROCESS)) {
		child->mm = th->mm;
		th->mm->users++;
		return 0;
	}
	if (shd_mm_dup(cpu, th->mm->mm, &mm))
		return -ENOMEM;
	if (!(child->mm = rmm_new(rp, mm))) {
		shd_mm_destroy(mm);
		return -ENOMEM;
	}
	child->mm->users = 1;
	rp->processes++;
	return 0;
}

static int do_execve(struct replay *rp, struct shd_machine *m,
		     struct shd_cpu *cpu, struct rthread *th)
{
	struct rmm *old = th->mm, *r;
	struct shd_mm *mm;
	int err;

	/* An exec into an mm nothing has used yet (the recorded command's
	 * own, the trace's first event) needs no new one. */
	if (old && old->users == 1 && !old->used)
		return 0;
	if (shd_mm_create(m, &mm))
		return -ENOMEM;
	if (!(r = rmm_new(rp, mm))) {
		shd_mm_destroy(mm);
		return -ENOMEM;
	}
	r->users = 1;
	rp->processes++;
	th->mm = r;
	th->nrecent = 0;		/* its pages were the old image's */
	if ((err = shd_switch_mm(cpu, mm)))
		return err;
	rp->running[shd_cpu_id(cpu)] = mm;
	return old ? rmm_put(rp, cpu, old) : 0;
}

static int do_exit(struct replay *rp, struct shd_cpu *cpu, struct rthread *th,
		   bool group)
{
	struct rmm *r = th->mm;
	int err = 0;

	if (group)			/* the whole thread group goes */
		for (unsigned i = 0; i < rp->nth; i++)
			if (&rp->th[i] != th && rp->th[i].mm == r) {
				rp->th[i].mm = NULL;
				rp->th[i].exited = true;
				r->users--;
			}
	th->mm = NULL;
	th->exited = true;
	if (r)
		err = rmm_put(rp, cpu, r);
	if (!err && rp->running[shd_cpu_id(cpu)]) {
		shd_enter_lazy_tlb(cpu);	/* the task is gone: idle */
		rp->running[shd_cpu_id(cpu)] = NULL;
		rp->lazy[shd_cpu_id(cpu)] = false;
	}
	return err;
}

/* Run event I on CPU (its thread's): 0, SKIP, or the run's error. */
static int replay_event(struct replay *rp, struct shd_cpu *cpu, size_t i)
{
	const struct trace_event *ev = &rp->t->ev[i];
	struct rthread *th = &rp->th[rp->ev_th[i]];
	struct shd_machine *m = shd_cpu_machine(cpu);
	unsigned id = shd_cpu_id(cpu);
	struct shd_mm *mm;
	uint64_t s, e;
	int err;

	if ((err = thread_start(rp, m, th)))
		return err;
	mm = th->mm->mm;
	if (rp->running[id] != mm || rp->lazy[id]) {
		if ((err = shd_switch_mm(cpu, mm)))
			return err;
		rp->running[id] = mm;
		rp->lazy[id] = false;
	}
	rp->toucher = th;
	if (ev->call != TC_exit && ev->call != TC_exit_group &&
	    (err = reread(rp, cpu, th)))
		return err;
	switch (ev->call) {
	case TC_mmap:
		if (!range_of(rp, ev->ret, ev->len, &s, &e))
			return SKIP;
		if ((err = map_range(cpu, mm, s, e, ev->prot)))
			return err;
		return touch_new(rp, cpu, s, e, ev->prot);
	case TC_munmap:
		if (!range_of(rp, ev->addr, ev->len, &s, &e))
			return SKIP;
		return shd_munmap(cpu, mm, s, e - s);
	case TC_mprotect:
		if (!range_of(rp, ev->addr, ev->len, &s, &e))
			return SKIP;
		err = shd_mprotect(cpu, mm, s, e - s, shd_prot(ev->prot));
		if (err)
			return err == -ENOMEM ? SKIP : err;
		/* PROT_NONE reserved, then made writable: glibc's thread
		 * stacks and malloc arenas. */
		return ev->prot & TP_W ? touch_new(rp, cpu, s, e, ev->prot) : 0;
	case TC_madvise:
		if (ev->arg != TRACE_MADV_DONTNEED && ev->arg != TRACE_MADV_FREE &&
		    ev->arg != 9 /* remove */)
			return 0;	/* advice that changes no PTE */
		if (!range_of(rp, ev->addr, ev->len, &s, &e))
			return SKIP;
		err = shd_madvise_dontneed(cpu, mm, s, e - s);
		return err == -ENOMEM || err == -EINVAL ? SKIP : err;
	case TC_mremap:
		return do_mremap(rp, cpu, mm, ev);
	case TC_brk:
		return do_brk(rp, cpu, th->mm, ev);
	case TC_clone:
		return do_clone(rp, cpu, th, ev);
	case TC_execve:
		return do_execve(rp, m, cpu, th);
	case TC_exit:
	case TC_exit_group:
		return do_exit(rp, cpu, th, ev->call == TC_exit_group);
	case TC_fault:
		if (ev->addr >= SHD_USER_TOP)
			return SKIP;
		return touch(rp, cpu, page_down(rp, ev->addr), ev->prot & TP_W);
	case TC_block:
		if (!rp->block_us || ev->arg < rp->block_us)
			return 0;
		/* The thread sleeps: its CPU idles until the wake step. */
		rp->blocked_us += ev->arg;
		shd_enter_lazy_tlb(cpu);
		rp->lazy[id] = true;
		return 0;
	}
	return SKIP;
}

static void top_add(struct replay *rp, const struct trace_event *ev,
		    unsigned cpu, uint64_t ipis)
{
	unsigned k;

	if (!ipis)
		return;
	if (rp->ntop == WL_MAX_TOP && ipis <= rp->top[WL_MAX_TOP - 1].ipis_sent)
		return;
	k = rp->ntop < WL_MAX_TOP ? rp->ntop++ : WL_MAX_TOP - 1;
	while (k > 0 && rp->top[k - 1].ipis_sent < ipis) {
		rp->top[k] = rp->top[k - 1];
		k--;
	}
	rp->top[k] = (struct wl_top){ .line = ev->line, .tid = ev->tid,
				      .cpu = cpu, .ipis_sent = ipis,
				      .call = trace_call_name(ev->call) };
}

static int replay_task(struct shd_cpu *cpu, void *arg)
{
	struct replay *rp = arg;
	unsigned id = shd_cpu_id(cpu);
	int err = 0;

	for (;;) {
		size_t k = __atomic_load_n(&rp->next, __ATOMIC_ACQUIRE), i;
		const struct trace_event *ev;
		struct shd_stats s0, s1;
		struct wl_call *c;

		if (k >= rp->last[id])
			break;		/* no more events here: idle */
		if (__atomic_load_n(&rp->abort, __ATOMIC_ACQUIRE))
			return 0;
		if (rp->step[k].cpu != id) {
			shd_cpu_poll(cpu);
			sched_yield();
			continue;
		}
		i = rp->step[k].ev;
		if (rp->step[k].kind == STEP_IDLE) {
			/* Its thread is quiet: the CPU idles, the mm loaded. */
			if (rp->running[id] && !rp->lazy[id]) {
				shd_enter_lazy_tlb(cpu);
				rp->lazy[id] = true;
			}
			__atomic_store_n(&rp->next, k + 1, __ATOMIC_RELEASE);
			continue;
		}
		if (rp->step[k].kind == STEP_WAKE) {
			/* The thread runs again (and a CPU in the mm's mask
			 * is a flush's target until it idles). */
			struct rthread *th = &rp->th[rp->ev_th[i]];

			if (th->mm && th->mm->mm && rp->lazy[id] &&
			    !(err = shd_switch_mm(cpu, th->mm->mm))) {
				rp->running[id] = th->mm->mm;
				rp->lazy[id] = false;
			}
			if (err) {
				__atomic_store_n(&rp->abort, 1, __ATOMIC_RELEASE);
				return err;
			}
			__atomic_store_n(&rp->next, k + 1, __ATOMIC_RELEASE);
			continue;
		}
		rp->events++;
		ev = &rp->t->ev[i];
		c = &rp->call[ev->call];
		c->calls++;
		if (ev->err) {
			c->failed++;
		} else {
			shd_cpu_stats(cpu, &s0);
			err = replay_event(rp, cpu, i);
			shd_cpu_stats(cpu, &s1);
			c->ipis_sent += s1.ipis_sent - s0.ipis_sent;
			rp->th[rp->ev_th[i]].calls++;
			rp->th[rp->ev_th[i]].ipis_sent += s1.ipis_sent - s0.ipis_sent;
			c->shootdowns += s1.shootdowns - s0.shootdowns;
			top_add(rp, ev, id, s1.ipis_sent - s0.ipis_sent);
			if (!err && ev->call != TC_fault && ev->call != TC_exit &&
			    ev->call != TC_exit_group && rp->th[rp->ev_th[i]].mm)
				rp->th[rp->ev_th[i]].mm->used = true;
			/* What the simulation refuses (a range it never
			 * mapped, a mapping over one the kernel made at
			 * exec) is the trace's, not the run's, failure. */
			if (err == -EINVAL || err == -EEXIST || err == -ENOMEM ||
			    err == -EFAULT)
				err = SKIP;
			if (err == SKIP) {
				c->skipped++;
				err = 0;
			}
			if (err) {
				snprintf(rp->errtxt, sizeof(rp->errtxt),
					 "%.160s:%u: tid %" PRIu32 "'s %s: %s",
					 cached_path, ev->line, ev->tid,
					 trace_call_name(ev->call), strerror(-err));
				__atomic_store_n(&rp->abort, 1, __ATOMIC_RELEASE);
				return err;
			}
		}
		/* Pairs with the acquire above: the next event's CPU sees
		 * this one's effects on the replay's tables. */
		__atomic_store_n(&rp->next, k + 1, __ATOMIC_RELEASE);
	}
	if (rp->running[id] && !rp->lazy[id])
		shd_enter_lazy_tlb(cpu);
	return err;
}

static int wl_trace(struct shd_machine *m, const struct wl_opts *o,
		    struct wl_result *res)
{
	struct replay rp = { 0 };
	const struct trace *t;
	char err[512];
	int rc;

	if (trace_get(o->trace_file, &t, err, sizeof(err)) < 0) {
		snprintf(res->errtxt, sizeof(res->errtxt), "%s", err);
		return -EINVAL;
	}
	rp.t = t;
	rp.nev = o->ops < t->n ? (size_t)o->ops : t->n;
	rp.ncpus = shd_machine_ncpus(m);
	rp.page = 1ull << shd_machine_config(m)->page_shift;
	rp.touch = o->knob[K_TOUCH];
	rp.idle_us = o->knob[K_IDLE_US];
	rp.block_us = o->knob[K_BLOCK_US];
	rp.reread = o->knob[K_REREAD];
	if ((rc = map_threads(&rp)))
		goto out;
	rc = wl_run_timed(m, rp.ncpus, replay_task, &rp, res);
	if (rp.errtxt[0])
		snprintf(res->errtxt, sizeof(res->errtxt), "%s", rp.errtxt);
	res->ops = rp.events;
	res->ncalls = 0;
	for (unsigned c = 0; c < TC__COUNT && res->ncalls < WL_MAX_CALLS; c++) {
		if (!rp.call[c].calls)
			continue;
		rp.call[c].name = trace_call_name(c);
		res->call[res->ncalls++] = rp.call[c];
	}
	/* The threads that sent the most (then made the most calls). */
	for (unsigned k = 0; k < rp.nth; k++) {
		struct wl_thread w = { rp.th[k].tid, rp.th[k].cpu, rp.th[k].calls,
				       rp.th[k].ipis_sent };
		unsigned at = res->nthreads;

		while (at > 0 && (res->thread[at - 1].ipis_sent < w.ipis_sent ||
				  (res->thread[at - 1].ipis_sent == w.ipis_sent &&
				   res->thread[at - 1].calls < w.calls)))
			at--;
		if (at == WL_MAX_THREADS)
			continue;
		if (res->nthreads < WL_MAX_THREADS)
			res->nthreads++;
		memmove(&res->thread[at + 1], &res->thread[at],
			(res->nthreads - 1 - at) * sizeof(res->thread[0]));
		res->thread[at] = w;
	}
	res->ntop = rp.ntop;
	memcpy(res->top, rp.top, sizeof(rp.top));
	snprintf(res->replay_info, sizeof(res->replay_info),
		 "%u threads on %u CPUs (tid i -> CPU i mod %u), %u mm%s; "
		 "%" PRIu64 " pages touched (%s), %" PRIu64 " read again; "
		 "threads asleep %.1f ms (block events)%s", rp.nth,
		 rp.nth < rp.ncpus ? rp.nth : rp.ncpus, rp.ncpus, rp.processes,
		 rp.processes == 1 ? "" : "s", rp.touched,
		 t->has_faults ? "fault events" : "touch rule", rp.rereads,
		 rp.blocked_us / 1e3,
		 rp.no_frames ? "; out of frames for some (--frames)" : "");
out:
	for (size_t i = 0; i < rp.nmms; i++) {
		shd_mm_destroy(rp.mms[i]->mm);
		free(rp.mms[i]);
	}
	free(rp.mms);
	free(rp.th);
	free(rp.ev_th);
	free(rp.last);
	free(rp.lazy);
	free(rp.step);
	free(rp.running);
	return rc;
}

const struct workload wl_def_trace = {
	.name = "trace",
	.help = "a recorded program's mm calls (--trace FILE; shootdown "
		"record writes one), replayed in time order",
	.default_ops = WL_OPS_ALL,
	.min_cpus = 1,
	.run = wl_trace,
	.knobs = trace_knobs,
	.check = trace_check,
};
