/* SPDX-License-Identifier: MIT */
/* Helpers shared by the Criterion tests: machines, checks inside tasks, steps. */
#ifndef SHD_TEST_H
#define SHD_TEST_H

/*
 * Criterion's cr_assert*() must only run on the test's own thread: a failure
 * longjmps out of the test function.  Tasks run on CPU threads, so they never
 * assert; they record the first unexpected return value with T_OK()/T_EQ()
 * and carry on (returning early could leave another CPU waiting for a step
 * forever), and the test thread calls assert_tasks_ok() after the join.
 *
 * CPUs of one scenario move through numbered steps: step_wait() spins until
 * the shared counter reaches a value, taking IPIs meanwhile (shd_cpu_poll), as
 * a running CPU takes interrupts.  A CPU waiting there is running its task:
 * it is in its mm, not lazy.
 *
 * Machines run under the seeded scheduler unless a test says otherwise (and
 * why): one CPU at a time, the interleaving a function of the seed, so a
 * scenario's outcome is the same on every run and on any host.  A task
 * that waits for another CPU must yield in its loop: shd_cpu_poll() (takes
 * IPIs) or shd_cpu_compute() (takes none).  Other library calls are
 * scheduling points, where a strategy may switch but need not (PCT keeps
 * its highest-priority CPU running): a loop of them alone can keep the
 * only running CPU forever.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <shootdown/shootdown.h>

/*
 * Under ThreadSanitizer every thread and every synchronisation costs far
 * more (a 1024-CPU machine takes seconds to start): the few tests that
 * build very large machines build smaller ones there, and say so.
 */
#if defined(__SANITIZE_THREAD__)
#define SHD_TEST_TSAN	1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHD_TEST_TSAN	1
#endif
#endif
#ifndef SHD_TEST_TSAN
#define SHD_TEST_TSAN	0
#endif

#define PAGE		4096ull
#define UBASE		0x10000000ull			/* tests' user window */
#define FAR		(UBASE + 0x1000000ull)		/* a second window, other leaves */
#define KBASE		(SHD_KERNEL_BASE + 0x200000ull)	/* tests' vmap window */
#define TEST_SEED	0xC0FFEEull
#define RW		(SHD_PROT_READ | SHD_PROT_WRITE)
#define RX		(SHD_PROT_READ | SHD_PROT_EXEC)
#define ARRAY_LEN(a)	(sizeof(a) / sizeof((a)[0]))

/* The three cache models: snooping (x86), aliasing VIPT (sparc64),
 * a non-snooping I-cache (arm64). */
static const char *const all_arches[] = { "x86", "sparc64", "arm64" };
#define NARCHES		ARRAY_LEN(all_arches)

/*
 * Per-policy and per-arch tests are Criterion parameterized tests:
 * POLICY_PARAMS(suite, name) before ParameterizedTest(const struct
 * preset_param *policy, suite, name) runs the test once under each of
 * Linux's policy and the naive broadcast; ARCH_PARAMS once on each of
 * all_arches.  Criterion copies a parameter into the test's own process,
 * where the parent's pointers mean nothing: parameters carry their strings
 * inline.
 */
struct preset_param {
	char name[24];
};

#define POLICY_PARAMS(suite, name)					\
	ParameterizedTestParameters(suite, name)			\
	{								\
		static struct preset_param p[] = { { "linux" }, { "broadcast" } }; \
									\
		return cr_make_param_array(struct preset_param, p, ARRAY_LEN(p)); \
	}
#define ARCH_PARAMS(suite, name)					\
	ParameterizedTestParameters(suite, name)			\
	{								\
		static struct preset_param p[] = {			\
			{ "x86" }, { "sparc64" }, { "arm64" },		\
		};							\
									\
		_Static_assert(ARRAY_LEN(p) == NARCHES, "all_arches"); \
		return cr_make_param_array(struct preset_param, p, ARRAY_LEN(p)); \
	}

struct task_failures {
	pthread_mutex_t lock;
	unsigned n;
	char first[512];
};

static struct task_failures task_failures = { PTHREAD_MUTEX_INITIALIZER, 0, "" };

static inline int t_check(int rc, int want, const char *expr,
			  const char *file, int line)
{
	if (rc != want) {
		pthread_mutex_lock(&task_failures.lock);
		if (task_failures.n++ == 0)
			snprintf(task_failures.first, sizeof(task_failures.first),
				 "%s:%d: %s returned %d (%s), expected %d (%s); "
				 "last error: %s", file, line, expr, rc,
				 shd_strerror(rc), want, shd_strerror(want),
				 shd_last_error());
		pthread_mutex_unlock(&task_failures.lock);
	}
	return rc;
}

/* Record (not assert) an unexpected result inside a task. */
#define T_OK(e)		t_check((e), 0, #e, __FILE__, __LINE__)
#define T_EQ(e, want)	t_check((e), (want), #e, __FILE__, __LINE__)

/* -EINVAL, with an explanation that mentions KEY. */
static inline void t_einval(int rc, const char *key, const char *expr,
			    const char *file, int line)
{
	t_check(rc, -EINVAL, expr, file, line);
	if (rc == -EINVAL && !strstr(shd_last_error(), key)) {
		char what[256];

		snprintf(what, sizeof(what), "shd_last_error() \"%s\" names %s",
			 shd_last_error(), key);
		t_check(-1, 0, what, file, line);
	}
}
#define T_EINVAL(e, key)	t_einval((e), (key), #e, __FILE__, __LINE__)

/* Load ADDR in the current mm and record a mismatch with WANT. */
#define T_LOAD(cpu, addr, want)						\
	do {								\
		uint64_t v_ = 0xdeadbeefull;				\
		T_OK(shd_load((cpu), (addr), &v_));			\
		T_EQ((int)(v_ == (want)), 1);				\
		if (v_ != (want))					\
			fprintf(stderr, "%s:%d: cpu %u load 0x%" PRIx64 \
				" read 0x%" PRIx64 ", expected 0x%" PRIx64 "\n", \
				__FILE__, __LINE__, shd_cpu_id(cpu),	\
				(uint64_t)(addr), v_, (uint64_t)(want)); \
	} while (0)

/* Fetch (execute) ADDR in the current mm and record a mismatch with WANT. */
#define T_FETCH(cpu, addr, want)					\
	do {								\
		uint64_t v_ = 0xdeadbeefull;				\
		T_OK(shd_fetch((cpu), (addr), &v_));			\
		T_EQ((int)(v_ == (want)), 1);				\
		if (v_ != (want))					\
			fprintf(stderr, "%s:%d: cpu %u fetch 0x%" PRIx64 \
				" read 0x%" PRIx64 ", expected 0x%" PRIx64 "\n", \
				__FILE__, __LINE__, shd_cpu_id(cpu),	\
				(uint64_t)(addr), v_, (uint64_t)(want)); \
	} while (0)

#define assert_tasks_ok() \
	cr_assert_eq(task_failures.n, 0, "%u failure(s) inside tasks, first: %s", \
		     task_failures.n, task_failures.first)

/* A small config: NCPUS CPUs, the named preset, not bound (the test host may
 * have two PUs and Criterion runs tests side by side), a fixed seed, seeded
 * scheduling from that seed. */
static inline struct shd_config test_config(unsigned ncpus, const char *policy)
{
	struct shd_config c;

	shd_config_init(&c);
	c.ncpus = ncpus;
	c.bind = false;
	c.seed = TEST_SEED;
	c.sched.mode = SHD_SCHED_SEEDED;
	c.sched.seed = TEST_SEED;
	if (policy)
		cr_assert_eq(shd_policy_preset(policy, &c.policy), 0,
			     "preset %s: %s", policy, shd_last_error());
	return c;
}

static inline struct shd_machine *test_machine(const struct shd_config *c)
{
	struct shd_machine *m = NULL;
	int err = shd_machine_create(c, &m);

	cr_assert_eq(err, 0, "shd_machine_create: %d %s", err, shd_last_error());
	cr_assert_not_null(m);
	return m;
}

/*
 * What a test's machine differs in from test_config(); a field left 0 or
 * NULL keeps the default.  MACHINE(.ncpus = 2, .arch = "arm64") reads as
 * the machine it builds.
 */
struct machine_spec {
	unsigned ncpus;
	const char *policy;	/* a policy preset; NULL: "linux" */
	const char *arch;	/* an arch preset; NULL: the default (x86) */
	const char *batch;	/* the policy's batch knob; NULL: the preset's */
	uint64_t nframes;	/* 0: the default */
	uint64_t faults;	/* injected faults, 1 << enum shd_fault */
	const char *set;	/* one more policy knob, "key=value" */
};

static inline struct shd_machine *spec_machine(struct machine_spec s)
{
	struct shd_config c = test_config(s.ncpus, s.policy ? s.policy : "linux");
	int err;

	if (s.batch)
		cr_assert_eq(shd_policy_set(&c.policy, "batch", s.batch), 0,
			     "%s", shd_last_error());
	if (s.arch) {
		err = shd_arch_preset(s.arch, &c.arch);
		cr_assert_eq(err, 0, "arch %s: %d %s", s.arch, err,
			     shd_last_error());
	}
	if (s.set) {
		char kv[64], *eq;

		snprintf(kv, sizeof(kv), "%s", s.set);
		eq = strchr(kv, '=');
		cr_assert_not_null(eq, "set '%s' is not key=value", s.set);
		*eq = 0;
		cr_assert_eq(shd_policy_set(&c.policy, kv, eq + 1), 0, "%s",
			     shd_last_error());
	}
	if (s.nframes)
		c.nframes = s.nframes;
	c.faults = s.faults;
	return test_machine(&c);
}
#define MACHINE(...)	spec_machine((struct machine_spec){ __VA_ARGS__ })

static inline struct shd_mm *test_mm(struct shd_machine *m)
{
	struct shd_mm *mm = NULL;

	cr_assert_eq(shd_mm_create(m, &mm), 0, "shd_mm_create: %s",
		     shd_last_error());
	return mm;
}

static inline struct shd_file *test_file(struct shd_machine *m,
					 uint64_t npages)
{
	struct shd_file *f = NULL;

	cr_assert_eq(shd_file_create(m, npages, &f), 0, "shd_file_create: %s",
		     shd_last_error());
	cr_assert_not_null(f);
	return f;
}

static inline struct shd_stats test_stats(struct shd_machine *m)
{
	struct shd_stats s;

	shd_machine_stats(m, &s);
	return s;
}

/* The work done between two snapshots: AFTER less BEFORE, for the counters
 * the tests compare (the others keep AFTER's values). */
static inline struct shd_stats stats_delta(const struct shd_stats *before,
					   struct shd_stats after)
{
	after.flush_calls -= before->flush_calls;
	after.ipis_sent -= before->ipis_sent;
	after.ipis_coalesced -= before->ipis_coalesced;
	after.ipis_avoided_pruned -= before->ipis_avoided_pruned;
	after.ipis_avoided_lazy -= before->ipis_avoided_lazy;
	after.ipi_requests -= before->ipi_requests;
	after.switch_flushes -= before->switch_flushes;
	after.tlb_hits -= before->tlb_hits;
	after.tlb_misses -= before->tlb_misses;
	after.flushes_full -= before->flushes_full;
	after.flushes_partial -= before->flushes_partial;
	after.pages_invalidated -= before->pages_invalidated;
	after.page_faults -= before->page_faults;
	after.violations -= before->violations;
	return after;
}

/* Every IPI candidate ends in exactly one of these (the counting identity,
 * include/shootdown/stats.h): their sum is ipi_candidates. */
static inline uint64_t candidates(const struct shd_stats *s)
{
	return s->ipis_sent + s->ipis_coalesced + s->ipis_avoided_pruned +
	       s->ipis_avoided_lazy + s->ipis_deferred + s->ipis_timed_out +
	       s->ipis_broadcast_hw;
}

/* Run FN on CPU alone and join it; asserts the task returned 0. */
static inline void run_one(struct shd_machine *m, unsigned cpu,
			   shd_task_fn fn, void *arg)
{
	int ret = -1;

	cr_assert_eq(shd_cpu_submit(m, cpu, fn, arg), 0, "submit: %s",
		     shd_last_error());
	cr_assert_eq(shd_cpu_join(m, cpu, &ret), 0, "join: %s",
		     shd_last_error());
	cr_assert_eq(ret, 0, "task on cpu %u returned %d", cpu, ret);
}

static inline uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* A scenario on one mm: its steps, what its accesses returned and read,
 * the mm a CPU found active. */
struct scn {
	struct shd_mm *mm;
	int step;
	int rc[8];
	uint64_t v[8];
	struct shd_mm *active;
};

/* What cpu C stores in page I (at offset 8 * C): never 0. */
static inline uint64_t page_val(unsigned i, unsigned c)
{
	return ((uint64_t)i << 8 | c) + 0x100000;
}

/* Where: page I of the user window, offset 8 * C. */
static inline uint64_t page_va(unsigned i, unsigned c)
{
	return UBASE + (uint64_t)i * PAGE + 8ull * c;
}

/* Spin until *STEP >= WANT, taking IPIs.  Gives up after 20 s (recorded). */
static inline void step_wait(struct shd_cpu *cpu, int *step, int want)
{
	uint64_t deadline = now_ms() + 20000;

	while (__atomic_load_n(step, __ATOMIC_ACQUIRE) < want) {
		shd_cpu_poll(cpu);
		sched_yield();
		if (now_ms() > deadline) {
			T_EQ(-ETIMEDOUT, 0);	/* a scenario step never came */
			return;
		}
	}
}

/* Release: what this CPU did before is visible to the CPU that waits. */
static inline void step_set(int *step, int v)
{
	__atomic_store_n(step, v, __ATOMIC_RELEASE);
}

struct free_frames {
	struct shd_mm *mm;
	uint64_t nframes, nfree;
};

/* A task: CPU switches to each of the N mms MMS in turn, then to AFTER
 * (NULL: init_mm) -- an allocator of contexts walked through. */
struct mm_walk {
	struct shd_mm **mms;
	unsigned n;
	struct shd_mm *after;
};

static inline int mm_walk_task(struct shd_cpu *cpu, void *arg)
{
	const struct mm_walk *w = arg;

	for (unsigned i = 0; i < w->n; i++)
		T_OK(shd_switch_mm(cpu, w->mms[i]));
	T_OK(shd_switch_mm(cpu, w->after));
	return 0;
}

/*
 * A TLB engine's bench: cpus 1-3 run a fresh mm and read its first page
 * (with LEAVE they then switch to another), and once all have, cpu 0
 * DONTNEEDs the PAGES pages it made present; *BEFORE and *AFTER are the
 * machine's counters around that.  It asserts no violation and the
 * counting identity.  4 CPUs.
 */
struct eng_bench {
	struct shd_mm *mm, *other;
	uint64_t pages;
	bool leave;
	int ready, step;
};

static inline int eng_bench_runner(struct shd_cpu *cpu, void *arg)
{
	struct eng_bench *e = arg;

	T_OK(shd_switch_mm(cpu, e->mm));
	T_LOAD(cpu, UBASE, 1);
	if (e->leave)
		T_OK(shd_switch_mm(cpu, e->other));
	__atomic_add_fetch(&e->ready, 1, __ATOMIC_RELEASE);
	step_wait(cpu, &e->step, 1);
	if (!e->leave)	/* the flusher's DONTNEED: a fresh walk reads 0 */
		T_LOAD(cpu, UBASE, 0);
	return 0;
}

static inline int eng_bench_setup(struct shd_cpu *cpu, void *arg)
{
	struct eng_bench *e = arg;

	T_OK(shd_switch_mm(cpu, e->mm));
	T_OK(shd_mmap(cpu, e->mm, UBASE, e->pages * PAGE, RW));
	/* Every page present: the gather's range is what was cleared. */
	for (uint64_t i = e->pages; i-- > 0;)
		T_OK(shd_store(cpu, UBASE + i * PAGE, 1));
	return 0;
}

static inline int eng_bench_unmapper(struct shd_cpu *cpu, void *arg)
{
	struct eng_bench *e = arg;

	while (__atomic_load_n(&e->ready, __ATOMIC_ACQUIRE) < 3)
		shd_cpu_poll(cpu);
	T_OK(shd_madvise_dontneed(cpu, e->mm, UBASE, e->pages * PAGE));
	step_set(&e->step, 1);
	return 0;
}

static inline void eng_bench(struct shd_machine *m, uint64_t pages, bool leave,
			     struct shd_stats *before, struct shd_stats *after)
{
	struct eng_bench e = { test_mm(m), test_mm(m), pages, leave, 0, 0 };
	int ret;

	run_one(m, 0, eng_bench_setup, &e);
	*before = test_stats(m);
	for (unsigned c = 1; c < 4; c++)
		cr_assert_eq(shd_cpu_submit(m, c, eng_bench_runner, &e), 0);
	cr_assert_eq(shd_cpu_submit(m, 0, eng_bench_unmapper, &e), 0);
	for (unsigned c = 0; c < 4; c++) {
		cr_assert_eq(shd_cpu_join(m, c, &ret), 0);
		cr_assert_eq(ret, 0, "cpu %u returned %d", c, ret);
	}
	assert_tasks_ok();
	*after = test_stats(m);
	cr_assert_eq(after->violations, 0);
	cr_assert_eq(after->ipi_candidates, candidates(after));
	shd_mm_destroy(e.mm);
	shd_mm_destroy(e.other);
}

/* Map NFRAMES + 1 pages and store to them until the machine runs out
 * (-ENOMEM, which it must: it has only NFRAMES), then read some back. */
static inline int free_frames_task(struct shd_cpu *cpu, void *arg)
{
	struct free_frames *ff = arg;
	uint64_t i, len = (ff->nframes + 1) * PAGE;
	int rc = 0;

	T_OK(shd_switch_mm(cpu, ff->mm));
	T_OK(shd_mmap(cpu, ff->mm, UBASE, len, RW));
	for (i = 0; i <= ff->nframes; i++)
		if ((rc = shd_store(cpu, UBASE + i * PAGE, i + 1)) != 0)
			break;
	T_EQ(rc, -ENOMEM);
	ff->nfree = i;
	for (uint64_t j = 0; j < i; j += 7)
		T_LOAD(cpu, UBASE + j * PAGE, j + 1);
	T_OK(shd_munmap(cpu, ff->mm, UBASE, len));
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

/*
 * Count the free frames of a machine of NFRAMES frames, on cpu 0 in a fresh
 * mm it then destroys (so counting gives them all back).  Page tables are
 * not frames; the machine's zero page is one.
 */
static inline uint64_t free_frames(struct shd_machine *m, uint64_t nframes)
{
	struct free_frames ff = { .nframes = nframes };

	ff.mm = test_mm(m);
	run_one(m, 0, free_frames_task, &ff);
	assert_tasks_ok();
	shd_mm_destroy(ff.mm);
	return ff.nfree;
}


/* ---- scenarios run with and without a fault (the fault tables) ---- */

#define CLEAN_TRIES	500	/* a racy scenario's clean attempts, at least */

/*
 * Each scenario is small and drives exactly the path its fault breaks.  Run
 * without the fault it must report nothing; with it, at least one violation
 * of the kind the table names (a stale TLB hit, or a hit on a freed frame)
 * on the CPU that holds the stale entry.  All are deterministic but one
 * (free_before_flush), whose window only a bounded loop can hit; see there.
 */
struct orc {
	struct shd_mm *a, *b;
	struct shd_file *f;
	int step;
	int rc;		/* the access that must not use a stale entry */
	uint64_t val;
	/* Racy scenarios: attempts allowed and made, and a stop flag. */
	unsigned max_tries, tries;
	int stop;
	struct shd_machine *m;
};

struct outcome {
	uint64_t nviol;
	struct shd_violation first;
	int rc;
	uint64_t val;
	uint64_t mm_id;
	unsigned tries;		/* attempts a racy scenario made */
	struct shd_stats stats;	/* the machine's, at the end */
	uint64_t fired[SHD_FAULT__COUNT];	/* shd_fault_firings() */
};

typedef void (*scenario_fn)(struct shd_machine *m, struct orc *o);

/* The policy and architecture a scenario runs under (the faults of LATR
 * need "latr", the cache faults an aliasing D-cache). */
__attribute__((unused)) static const char *scenario_policy = "linux";
__attribute__((unused)) static const char *scenario_arch = "x86";

static inline struct outcome run_scenario_tries(scenario_fn fn, unsigned ncpus,
						uint64_t faults, bool oracle,
						unsigned max_tries)
{
	struct shd_config c = test_config(ncpus, scenario_policy);
	struct shd_machine *m;
	struct orc o;

	cr_assert_eq(shd_arch_preset(scenario_arch, &c.arch), 0);
	struct outcome out;
	struct shd_stats st;

	c.faults = faults;
	c.oracle = oracle;
	m = test_machine(&c);
	memset(&o, 0, sizeof(o));
	o.a = test_mm(m);
	o.b = test_mm(m);
	o.m = m;
	o.max_tries = max_tries;
	fn(m, &o);
	assert_tasks_ok();
	memset(&out, 0, sizeof(out));
	out.nviol = shd_machine_violations(m, &out.first, 1);
	shd_machine_stats(m, &st);
	out.stats = st;
	for (int f = 0; f < SHD_FAULT__COUNT; f++)
		out.fired[f] = shd_fault_firings(m, (enum shd_fault)f);
	cr_assert_eq(st.violations, out.nviol, "stats say %" PRIu64 ", reports "
		     "say %" PRIu64, st.violations, out.nviol);
	out.rc = o.rc;
	out.val = o.val;
	out.mm_id = shd_mm_id(o.a);
	out.tries = o.tries;
	shd_machine_destroy(m);
	return out;
}

static inline struct outcome run_scenario(scenario_fn fn, unsigned ncpus,
					  uint64_t faults, bool oracle)
{
	return run_scenario_tries(fn, ncpus, faults, oracle, 1);
}


/* A fault's scenario and what the oracle must say of it (a table row). */
struct fault_scenario {
	const char *name;	/* the fault's */
	scenario_fn fn;
	unsigned cpu;		/* the CPU left with the stale entry */
	uint64_t addr;
	int clean_rc;		/* the access without the fault */
	uint64_t stale_val;	/* what the stale access reads */
	enum shd_violation_kind kind;	/* what the oracle reports */
	const char *iface;	/* the report's interface ("none": a freed frame) */
	unsigned tries;		/* 0: deterministic; else a racy loop's bound */
	const char *policy;	/* NULL: "linux" */
	const char *arch;	/* NULL: "x86" */
};

/*
 * The runner of the fault tables: SCENARIOS[FAULT] run with its fault must
 * be caught, as the row says, and the same run without it must be clean.
 */
static inline void check_fault(const struct fault_scenario *scenarios,
			       enum shd_fault fault)
{
	const char *name = scenarios[fault].name;
	unsigned tries = scenarios[fault].tries ? scenarios[fault].tries : 1;
	struct outcome clean, bad;
	char seed[32], who[16];

	scenario_policy = scenarios[fault].policy ? scenarios[fault].policy :
			  "linux";
	scenario_arch = scenarios[fault].arch ? scenarios[fault].arch : "x86";
	/* A racy scenario stops at its first report: run it with the fault
	 * first, then the same loop without it, as many times and at least
	 * CLEAN_TRIES (where no attempt may report anything). */
	bad = run_scenario_tries(scenarios[fault].fn, 2, 1ull << fault, true,
				 tries);
	cr_assert_geq(bad.nviol, 1, "oracle missed fault %s (%u attempt(s))",
		      name, bad.tries);
	/* Caught, so it fired; and it counted so (a fault that stops
	 * counting would make every CLI run of it exit 3). */
	cr_assert_geq(bad.fired[fault], 1, "fault %s caught but never counted "
		      "a firing", name);
	for (int f = 0; f < SHD_FAULT__COUNT; f++)
		cr_assert(f == (int)fault || !bad.fired[f], "fault %d fired, not "
			  "injected", f);
	if (scenarios[fault].tries)
		cr_log_info("%s: caught after %u attempt(s)", name, bad.tries);

	if (scenarios[fault].tries)
		tries = bad.tries > CLEAN_TRIES ? bad.tries : CLEAN_TRIES;
	clean = run_scenario_tries(scenarios[fault].fn, 2, 0, true, tries);
	cr_assert_eq(clean.nviol, 0, "%s scenario without the fault: %s",
		     name, clean.first.text);
	cr_assert_eq(clean.fired[fault], 0, "%s fired, not injected", name);
	cr_assert_eq(clean.rc, scenarios[fault].clean_rc,
		     "%s scenario without the fault: access returned %d",
		     name, clean.rc);
	if (scenarios[fault].tries)
		cr_assert_eq(clean.tries, tries, "%s: the clean loop ran %u "
			     "attempts of %u", name, clean.tries, tries);

	/* The stale hit really used the old translation. */
	cr_assert_eq(bad.rc, 0, "%s: %d", name, bad.rc);
	cr_assert_eq(bad.val, scenarios[fault].stale_val);

	cr_assert_eq(bad.first.kind, scenarios[fault].kind, "%s: %s", name,
		     bad.first.text);
	cr_assert_eq(bad.first.cpu, scenarios[fault].cpu);
	cr_assert_eq(bad.first.mm_id, bad.mm_id);
	cr_assert_eq(bad.first.addr, scenarios[fault].addr);
	cr_assert_eq(bad.first.seed, TEST_SEED);
	cr_assert_str_eq(bad.first.interface, scenarios[fault].iface);
	snprintf(seed, sizeof(seed), "seed %" PRIu64, (uint64_t)TEST_SEED);
	snprintf(who, sizeof(who), "cpu %u", scenarios[fault].cpu);
	cr_assert_not_null(strstr(bad.first.text, who), "%s", bad.first.text);
	cr_assert_not_null(strstr(bad.first.text, seed), "%s", bad.first.text);
	if (scenarios[fault].kind == SHD_VIOLATION_STALE_DATA) {
		cr_assert_not_null(strstr(bad.first.text, "stale data"), "%s",
				   bad.first.text);
	} else if (scenarios[fault].kind == SHD_VIOLATION_STALE_INSN) {
		cr_assert_not_null(strstr(bad.first.text, "stale instruction"),
				   "%s", bad.first.text);
	} else if (scenarios[fault].kind == SHD_VIOLATION_ORDERING) {
		cr_assert_not_null(strstr(bad.first.text, "before flushing the "
					  "cache"), "%s", bad.first.text);
		cr_assert_not_null(strstr(bad.first.text, scenarios[fault].iface),
				   "%s", bad.first.text);
	} else if (scenarios[fault].kind == SHD_VIOLATION_STALE_TLB) {
		cr_assert_lt(bad.first.entry_version, bad.first.flushed_version);
		cr_assert_not_null(strstr(bad.first.text, scenarios[fault].iface),
				   "%s", bad.first.text);
	} else {
		/* Not stale by the flush history (its flush was in flight),
		 * but the PTE changed since the fill and its frame is gone. */
		cr_assert_eq(bad.first.flushed_version, 0);
		cr_assert_lt(bad.first.entry_version, bad.first.pte_version);
		cr_assert_not_null(strstr(bad.first.text, "use after free"),
				   "%s", bad.first.text);
	}
}

/*
 * Table-driven parameterized tests.  Criterion copies a parameter into the
 * test's own process, where the parent's pointers (names, functions) mean
 * nothing; an index into a static table still does.  TABLE_PARAMS(suite,
 * name, table) before ParameterizedTest(const size_t *row, suite, name)
 * runs the test once per row of TABLE.
 */
#define TABLE_PARAMS(suite, name, table)				\
	ParameterizedTestParameters(suite, name)			\
	{								\
		static size_t rows[ARRAY_LEN(table)];			\
									\
		for (size_t i = 0; i < ARRAY_LEN(table); i++)		\
			rows[i] = i;					\
		return cr_make_param_array(size_t, rows, ARRAY_LEN(rows)); \
	}

/*
 * A clean-run/faulty-run pair is two rows of a table: one scenario, on one
 * arch under one policy, run once with FAULT injected (the oracle must
 * report it, and the stale access really happened) and once without
 * (nothing reported, the access sees the new state).  A row's scenario
 * returns its outcome: what the last access returned and read, the
 * reports, the counters.
 */
struct fault_row;
typedef struct outcome (*row_scenario_fn)(const struct fault_row *row,
					  uint64_t faults);

struct fault_row {
	const char *scenario;		/* what it does, for messages */
	row_scenario_fn run;
	const char *arch, *policy;	/* NULL: x86, "linux" */
	enum shd_fault fault;
	bool injected;			/* the faulty run; else the clean one */
	int rc;				/* the last access returns */
	uint64_t val;			/* and reads (checked when rc is 0) */
	uint64_t min_reports;		/* injected: at least (0: 1); clean: 0 */
	/* Optional: what else the row expects of the outcome. */
	void (*also)(const struct fault_row *row, const struct outcome *o);
	unsigned ncpus;			/* the scenario's own: 0, its default */
	int arg;			/* the scenario's own selector */
};

/* A row scenario's outcome: its last access (RC, VAL) and M's reports. */
static inline struct outcome row_outcome(struct shd_machine *m, int rc,
					 uint64_t val)
{
	struct outcome o;

	memset(&o, 0, sizeof(o));
	o.nviol = shd_machine_violations(m, &o.first, 1);
	o.stats = test_stats(m);
	o.rc = rc;
	o.val = val;
	return o;
}

/* The runner of fault_row tables. */
static inline void check_fault_row(const struct fault_row *row)
{
	const struct shd_named *names = shd_faults(NULL);
	const char *fault = names[row->fault].name;
	const char *with = row->injected ? "with" : "without";
	struct outcome o = row->run(row, row->injected ? 1ull << row->fault : 0);

	if (row->injected)
		cr_assert_geq(o.nviol, row->min_reports ? row->min_reports : 1,
			      "%s with %s: %" PRIu64 " report(s)", row->scenario,
			      fault, o.nviol);
	else
		cr_assert_eq(o.nviol, 0, "%s without %s: %s", row->scenario,
			     fault, o.first.text);
	cr_assert_eq(o.rc, row->rc, "%s %s %s: the access returned %d",
		     row->scenario, with, fault, o.rc);
	if (row->rc == 0)
		cr_assert_eq(o.val, row->val, "%s %s %s: read 0x%" PRIx64
			     ", expected 0x%" PRIx64, row->scenario, with, fault,
			     o.val, row->val);
	if (row->also)
		row->also(row, &o);
}

#endif
