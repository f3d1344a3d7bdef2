/* SPDX-License-Identifier: MIT */
/* shootdown calibrate: what this host costs, measured in one run. */

/*
 * floor_ns              cache-line round trip between simulated CPUs 0 and 1
 *                       (two tasks ping-pong one line; the threads are the
 *                       machine's, pinned to the same PUs the IPIs use)
 * ipi_roundtrip_ns      emulated smp_call_function_single() from CPU 0 to an
 *                       idle CPU 1 running a no-op, until the acknowledgement
 * shootdown_1page_ns    flush_tlb_page() from CPU 0 with CPU 1 running the mm
 * host_kernel_madvise_ns     madvise(MADV_DONTNEED) of one page, one thread
 * host_kernel_shootdown_ns   the same while a second thread of this process
 *                            runs on another CPU: the kernel's real IPI
 * host_membarrier_ns    membarrier(PRIVATE_EXPEDITED) with that thread running
 * tlb_hit_ns            one simulated load that hits the TLB, oracle on
 * tlb_hit_no_oracle_ns  the same with the oracle off (the oracle's cost)
 * host_tlb_miss_ns      what a real load's dTLB (and STLB) miss adds to it:
 *                       the page walk
 *
 * Each figure is the median of several batches; the ratio
 * ipi_roundtrip_ns / floor_ns is the emulation's overhead over the hardware's
 * own cost of moving a line there and back (goal <= 1.3).
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define BATCHES 9


/* ---- floor: one line, two CPUs ---- */

struct pingpong {
	uint64_t line __attribute__((aligned(64)));
	unsigned iters;
	uint64_t ns[BATCHES];
};

static int ping_task(struct shd_cpu *cpu, void *arg)
{
	struct pingpong *p = arg;
	uint64_t v = 0;

	for (unsigned b = 0; b < BATCHES; b++) {
		uint64_t t0 = wl_now_ns();

		for (unsigned i = 0; i < p->iters; i++) {
			/* Release/acquire: the round trip itself, nothing more. */
			__atomic_store_n(&p->line, ++v, __ATOMIC_RELEASE);
			while (__atomic_load_n(&p->line, __ATOMIC_ACQUIRE) != v + 1)
				__builtin_ia32_pause();
			v++;
		}
		p->ns[b] = (wl_now_ns() - t0) / p->iters;
	}
	__atomic_store_n(&p->line, UINT64_MAX, __ATOMIC_RELEASE);
	return 0;
}

static int pong_task(struct shd_cpu *cpu, void *arg)
{
	struct pingpong *p = arg;
	uint64_t seen = 0;

	for (;;) {
		uint64_t v = __atomic_load_n(&p->line, __ATOMIC_ACQUIRE);

		if (v == UINT64_MAX)
			return 0;
		if ((v & 1) && v != seen) {
			seen = v + 1;
			__atomic_store_n(&p->line, seen, __ATOMIC_RELEASE);
		} else {
			__builtin_ia32_pause();
		}
	}
}

/* ---- emulated IPI and shootdown ---- */

static void noop(struct shd_cpu *cpu, void *info)
{
	(void)cpu;
	(void)info;
}

struct ipi_bench {
	unsigned iters;
	uint64_t ns[BATCHES];
	struct shd_mm *mm;
	int stop;
	int ready;
};

static int ipi_task(struct shd_cpu *cpu, void *arg)
{
	struct ipi_bench *b = arg;
	int err;

	for (unsigned i = 0; i < 2000; i++)	/* warm: CPU 1 is spinning */
		if ((err = shd_smp_call_function_single(cpu, 1, noop, NULL)))
			return err;
	for (unsigned k = 0; k < BATCHES; k++) {
		uint64_t t0 = wl_now_ns();

		for (unsigned i = 0; i < b->iters; i++)
			if ((err = shd_smp_call_function_single(cpu, 1, noop, NULL)))
				return err;
		b->ns[k] = (wl_now_ns() - t0) / b->iters;
	}
	return 0;
}

#define BENCH_VA 0x20000000ull

static int mm_runner(struct shd_cpu *cpu, void *arg)
{
	struct ipi_bench *b = arg;
	int err;

	err = shd_switch_mm(cpu, b->mm);
	if (!err)
		err = shd_mmap(cpu, b->mm, BENCH_VA, 4096,
			       SHD_PROT_READ | SHD_PROT_WRITE);
	if (!err)
		err = shd_store(cpu, BENCH_VA, 1);
	/* Release: the mapping is in place (or the flusher must give up). */
	__atomic_store_n(&b->ready, err ? -1 : 1, __ATOMIC_RELEASE);
	if (err)
		return err;
	while (!__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
		shd_cpu_poll(cpu);	/* running the mm, taking IPIs */
	return 0;
}

static int flusher(struct shd_cpu *cpu, void *arg)
{
	struct ipi_bench *b = arg;
	int err = 0;

	while (!__atomic_load_n(&b->ready, __ATOMIC_ACQUIRE))
		shd_cpu_poll(cpu);
	if (__atomic_load_n(&b->ready, __ATOMIC_ACQUIRE) < 0)
		return -EFAULT;
	if ((err = shd_switch_mm(cpu, b->mm)))
		goto out;
	for (unsigned k = 0; k < BATCHES && !err; k++) {
		uint64_t total = 0;

		for (unsigned i = 0; i < b->iters && !err; i++) {
			uint64_t t0;

			if ((err = shd_store(cpu, BENCH_VA, i)))
				break;
			t0 = wl_now_ns();
			err = shd_flush_tlb_page(cpu, b->mm, BENCH_VA);
			total += wl_now_ns() - t0;
		}
		b->ns[k] = total / b->iters;
	}
out:
	__atomic_store_n(&b->stop, 1, __ATOMIC_RELEASE);
	return err;
}

/* ---- TLB-hit access cost ---- */

struct hit_bench {
	struct shd_mm *mm;
	unsigned iters;
	uint64_t ns[BATCHES];
};

static int hit_task(struct shd_cpu *cpu, void *arg)
{
	struct hit_bench *h = arg;
	uint64_t v, sum = 0;
	int err;

	if ((err = shd_switch_mm(cpu, h->mm)) ||
	    (err = shd_mmap(cpu, h->mm, BENCH_VA, 4 * 4096,
			    SHD_PROT_READ | SHD_PROT_WRITE)))
		return err;
	for (unsigned p = 0; p < 4; p++)
		if ((err = shd_store(cpu, BENCH_VA + p * 4096, p)))
			return err;
	for (unsigned k = 0; k < BATCHES; k++) {
		uint64_t t0 = wl_now_ns();

		for (unsigned i = 0; i < h->iters; i++) {
			if ((err = shd_load(cpu, BENCH_VA + (i & 3) * 4096 + 8, &v)))
				return err;
			sum += v;
		}
		h->ns[k] = (wl_now_ns() - t0) * 1000 / h->iters;	/* ps */
	}
	return sum == UINT64_MAX;	/* keep the loads */
}

/* Median cost of a TLB-hit load in picoseconds, or 0 on failure. */
static uint64_t tlb_hit_ps(bool oracle)
{
	struct shd_config cfg;
	struct shd_machine *m;
	struct hit_bench h = { .iters = 1000000 };
	int ret = -1;

	shd_config_init(&cfg);
	cfg.ncpus = 1;
	cfg.oracle = oracle;
	if (shd_machine_create(&cfg, &m))
		return 0;
	if (!shd_mm_create(m, &h.mm)) {
		if (shd_run_on(m, 0, 1, hit_task, &h) == 0)
			ret = 0;
		shd_mm_destroy(h.mm);
	}
	shd_machine_destroy(m);
	return ret ? 0 : wl_median(h.ns, BATCHES);
}

/* ---- the real kernel ---- */

struct host_bench {
	volatile uint64_t *page;
	int stop;
	int cpu;
};

static int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *host_spinner(void *arg)
{
	struct host_bench *h = arg;

	pin_self(h->cpu);
	/* Relaxed: the load keeps the translation hot; its value is unused. */
	while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE))
		(void)__atomic_load_n(&h->page[0], __ATOMIC_RELAXED);
	return NULL;
}

static uint64_t host_madvise(volatile uint64_t *page, unsigned iters)
{
	uint64_t ns[BATCHES];

	for (unsigned k = 0; k < BATCHES; k++) {
		uint64_t total = 0;

		for (unsigned i = 0; i < iters; i++) {
			uint64_t t0;

			/* Fault the page in again; the spinner's relaxed load
			 * pairs with nothing (it only wants the translation). */
			__atomic_store_n(&page[0], i + 1, __ATOMIC_RELAXED);
			t0 = wl_now_ns();
			madvise((void *)page, 4096, MADV_DONTNEED);
			total += wl_now_ns() - t0;
		}
		ns[k] = total / iters;
	}
	return wl_median(ns, BATCHES);
}

static uint64_t host_membarrier(unsigned iters)
{
	uint64_t ns[BATCHES];

	if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0))
		return 0;
	for (unsigned k = 0; k < BATCHES; k++) {
		uint64_t t0 = wl_now_ns();

		for (unsigned i = 0; i < iters; i++)
			syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
		ns[k] = (wl_now_ns() - t0) / iters;
	}
	return wl_median(ns, BATCHES);
}

/*
 * A real dTLB miss.  MISS_PAGES pages (16 MiB: more than any STLB covers
 * with 4 KiB pages), one line read from each, in random order; then the
 * same number of lines packed into MISS_PAGES / 64 pages (which the STLB
 * holds), in the same order.  Both loops read 256 KiB of lines, so the
 * caches treat them alike and the difference is the TLB miss and its page
 * walk.  Each page is written first (no zero-page aliases), each page's line
 * sits at a different offset (no cache-set conflicts), and each load's
 * address adds the previous load's value (always 0), so walks cannot overlap.
 */
#define MISS_PAGES 4096

static uint64_t miss_chase(const char *base, const uint64_t *off)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < MISS_PAGES; i++)
		v = *(const volatile uint64_t *)(base + v + off[i]);
	return v;
}

/* Median picoseconds a TLB miss adds to a load, or 0 if it cannot tell. */
static uint64_t host_tlb_miss_ps(void)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), len = MISS_PAGES * pg;
	uint64_t ps[BATCHES], seed = 1, sink = 0;
	uint64_t *spread = malloc(MISS_PAGES * sizeof(*spread));
	uint64_t *packed = malloc(MISS_PAGES * sizeof(*packed));
	char *a = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *b = mmap(NULL, MISS_PAGES * 64, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool ok = spread && packed && a != MAP_FAILED && b != MAP_FAILED &&
		  pg >= 4096;

	if (ok) {
		madvise(a, len, MADV_NOHUGEPAGE);	/* the walk of a 4K page */
		memset(a, 0, len);
		memset(b, 0, MISS_PAGES * 64);
	}
	for (unsigned i = 0; ok && i < MISS_PAGES; i++)
		spread[i] = i;
	for (unsigned i = MISS_PAGES - 1; ok && i > 0; i--) {	/* shuffle */
		uint64_t j = wl_rng_below(&seed, i + 1), t = spread[i];

		spread[i] = spread[j];
		spread[j] = t;
	}
	for (unsigned i = 0; ok && i < MISS_PAGES; i++) {
		packed[i] = spread[i] * 64;
		spread[i] = spread[i] * pg + (spread[i] % (pg / 64)) * 64;
	}
	for (unsigned k = 0; ok && k < BATCHES; k++) {
		uint64_t t0, t1, t2;

		sink += miss_chase(a, spread) + miss_chase(b, packed);
		t0 = wl_now_ns();
		for (unsigned r = 0; r < 8; r++)
			sink += miss_chase(a, spread);
		t1 = wl_now_ns();
		for (unsigned r = 0; r < 8; r++)
			sink += miss_chase(b, packed);
		t2 = wl_now_ns();
		ps[k] = t1 - t0 > t2 - t1 ?
			((t1 - t0) - (t2 - t1)) * 1000 / (8 * MISS_PAGES) : 0;
	}
	if (a != MAP_FAILED)
		munmap(a, len);
	if (b != MAP_FAILED)
		munmap(b, MISS_PAGES * 64);
	free(spread);
	free(packed);
	return ok && !sink ? wl_median(ps, BATCHES) : 0;
}

/* Two distinct CPUs this process may run on, or -1. */
static int allowed_cpus(int *a, int *b)
{
	cpu_set_t set;

	*a = *b = -1;
	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, &set))
			continue;
		if (*a < 0)
			*a = c;
		else {
			*b = c;
			return 0;
		}
	}
	return -1;
}

/* What calibrate measured (ns; medians of BATCHES batches). */
struct calib {
	struct pingpong *pp;
	struct ipi_bench ib, sb;
	uint64_t floor_ns, ipi_ns, sd_ns, mad1, mad2, memb;
	uint64_t hit_ps, hit_plain_ps;
	uint64_t miss_ps;		/* a real dTLB miss (0: not measured) */
};

/* The simulated machine's figures: floor, IPI round trip, a shootdown. */
static int calib_sim(struct calib *c, unsigned iters)
{
	struct shd_config cfg;
	struct shd_machine *m;
	int err;

	shd_config_init(&cfg);
	cfg.ncpus = 2;
	if (shd_machine_create(&cfg, &m))
		return -1;
	if (posix_memalign((void **)&c->pp, 64, sizeof(*c->pp)))
		return -1;
	memset(c->pp, 0, sizeof(*c->pp));
	c->pp->iters = iters;
	if (shd_cpu_submit(m, 1, pong_task, c->pp) ||
	    shd_cpu_submit(m, 0, ping_task, c->pp) ||
	    shd_cpu_join(m, 0, NULL) || shd_cpu_join(m, 1, NULL))
		return -1;
	c->floor_ns = wl_median(c->pp->ns, BATCHES);	/* sorts: [0] min */
	c->ib.iters = iters;
	if (shd_run_on(m, 0, 1, ipi_task, &c->ib))
		return -1;
	c->ipi_ns = wl_median(c->ib.ns, BATCHES);
	c->sb.iters = iters / 4;
	if (shd_mm_create(m, &c->sb.mm))
		return -1;
	if (shd_cpu_submit(m, 1, mm_runner, &c->sb) ||
	    shd_cpu_submit(m, 0, flusher, &c->sb) ||
	    shd_cpu_join(m, 0, &err) || err || shd_cpu_join(m, 1, &err) || err)
		return -1;
	c->sd_ns = wl_median(c->sb.ns, BATCHES);
	shd_mm_destroy(c->sb.mm);
	shd_machine_destroy(m);
	c->hit_ps = tlb_hit_ps(true);
	c->hit_plain_ps = tlb_hit_ps(false);
	return 0;
}

/* The real kernel's: madvise alone, with a second thread, membarrier. */
static void calib_host(struct calib *c)
{
	volatile uint64_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct host_bench h = { page, 0, -1 };
	pthread_t t;
	int ca, cb;

	c->miss_ps = host_tlb_miss_ps();
	if (page == MAP_FAILED || allowed_cpus(&ca, &cb) != 0)
		return;
	pin_self(ca);
	c->mad1 = host_madvise(page, 2000);
	h.cpu = cb;
	page[0] = 1;
	if (pthread_create(&t, NULL, host_spinner, &h) == 0) {
		usleep(20000);
		c->mad2 = host_madvise(page, 2000);
		c->memb = host_membarrier(2000);
		__atomic_store_n(&h.stop, 1, __ATOMIC_RELEASE);
		pthread_join(t, NULL);
	}
}

/* ---- --emit-set: the cost model's keys in this host's cycles ---- */

/*
 * What a key of bench/cost.c is on this host.  Measured: cost.miss (a real
 * dTLB miss) and cost.ipi_send (what a second thread running the mm adds to
 * a real madvise: the kernel's IPI round trip as its sender waits for it).
 * Not measurable from user space: INVLPG and a CR3 write are privileged,
 * and the time a CPU spends taking an IPI is not visible to its sender, so
 * cost.invlpg, cost.full and cost.ipi_recv keep their defaults.
 */
#define EMIT_MAX_KEYS 16

struct emit_key {
	double cycles;
	bool measured;
	char why[128];
};

/* The "cpu MHz" of /proc/cpuinfo, else cpufreq's base or maximum; 0 if
 * none can be read.  SRC says which. */
static double host_ghz(const char **src)
{
	static const char *const sysfs[] = {
		"/sys/devices/system/cpu/cpu0/cpufreq/base_frequency",
		"/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq",
	};
	char line[256];
	double mhz = 0, khz = 0;
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "cpu MHz", 7) && strchr(line, ':') &&
		    sscanf(strchr(line, ':') + 1, "%lf", &mhz) == 1 && mhz > 0)
			break;
	if (f)
		fclose(f);
	*src = "/proc/cpuinfo";
	if (mhz > 0)
		return mhz / 1000;
	for (size_t i = 0; i < sizeof(sysfs) / sizeof(sysfs[0]); i++) {
		if (!(f = fopen(sysfs[i], "r")))
			continue;
		if (fscanf(f, "%lf", &khz) != 1)
			khz = 0;
		fclose(f);
		*src = sysfs[i];
		if (khz > 0)
			return khz / 1e6;
	}
	return 0;
}

static void emit_keys(const struct calib *c, double ghz, struct emit_key *out)
{
	const char *const *names, *const *helps;
	size_t n = cost_keys(&names, &helps);
	struct cost_model def;

	assert(n <= EMIT_MAX_KEYS);
	cost_defaults(&def);
	for (size_t k = 0; k < n; k++) {
		struct emit_key *e = &out[k];

		e->cycles = cost_get(&def, k);
		e->measured = false;
		if (!strcmp(names[k], "cost.miss") && c->miss_ps) {
			e->cycles = c->miss_ps / 1000.0 * ghz;
			e->measured = true;
			snprintf(e->why, sizeof(e->why), "host_tlb_miss_ns %.2f",
				 c->miss_ps / 1000.0);
		} else if (!strcmp(names[k], "cost.miss")) {
			snprintf(e->why, sizeof(e->why), "the TLB-miss loop failed");
		} else if (!strcmp(names[k], "cost.ipi_send") && c->mad1 &&
			   c->mad2 > c->mad1) {
			e->cycles = (double)(c->mad2 - c->mad1) * ghz;
			e->measured = true;
			snprintf(e->why, sizeof(e->why), "host_kernel_shootdown_ns "
				 "- host_kernel_madvise_ns = %" PRIu64 " ns",
				 c->mad2 - c->mad1);
		} else if (!strcmp(names[k], "cost.ipi_send")) {
			snprintf(e->why, sizeof(e->why), "no second CPU, or a "
				 "shootdown no slower than a lone madvise");
		} else if (!strcmp(names[k], "cost.invlpg")) {
			snprintf(e->why, sizeof(e->why), "INVLPG is privileged");
		} else if (!strcmp(names[k], "cost.full")) {
			snprintf(e->why, sizeof(e->why), "a CR3 write is privileged");
		} else if (!strcmp(names[k], "cost.invlpgb") ||
			   !strcmp(names[k], "cost.tlbsync") ||
			   !strcmp(names[k], "cost.rar")) {
			snprintf(e->why, sizeof(e->why), "privileged, and absent "
				 "from most hosts (assumed: bench/cost.c)");
		} else if (!strcmp(names[k], "cost.tlbi") ||
			   !strcmp(names[k], "cost.dsb")) {
			snprintf(e->why, sizeof(e->why), "arm64 instructions, not "
				 "this host's (assumed: bench/cost.c)");
		} else if (!strcmp(names[k], "cost.sbi_ecall") ||
			   !strcmp(names[k], "cost.sinval") ||
			   !strcmp(names[k], "cost.svinval_fence")) {
			snprintf(e->why, sizeof(e->why), "riscv firmware and "
				 "instructions, not this host's (assumed: "
				 "bench/cost.c)");
		} else {
			snprintf(e->why, sizeof(e->why), "a CPU's time in the "
				 "handler is not visible to its sender");
		}
		e->cycles = (double)(uint64_t)(e->cycles + 0.5);
	}
}

/* The one line run/compare/sweep take, no newline. */
static void emit_line(FILE *f, const struct emit_key *e)
{
	const char *const *names, *const *helps;
	size_t n = cost_keys(&names, &helps);

	for (size_t k = 0; k < n; k++)
		fprintf(f, "%s--set %s=%.0f", k ? " " : "", names[k], e[k].cycles);
}

/* On stderr: which keys were measured, which keep their defaults, why. */
static void emit_notes(const struct emit_key *e, double ghz, const char *src)
{
	const char *const *names, *const *helps;
	size_t n = cost_keys(&names, &helps);

	fprintf(stderr, "calibrate: cycles at %.3f GHz (%s)\n", ghz, src);
	for (size_t k = 0; k < n; k++)
		fprintf(stderr, "calibrate: %-14s %8.0f  %s: %s\n", names[k],
			e[k].cycles, e[k].measured ? "measured" :
			"default kept, not measurable here", e[k].why);
}

static void emit_json(const struct emit_key *e, double ghz, const char *src)
{
	const char *const *names, *const *helps;
	size_t n = cost_keys(&names, &helps);

	printf(", \"emit_set\": {\"ghz\": %.3f, \"ghz_source\": ", ghz);
	out_json_string(stdout, src);
	printf(", \"line\": \"");
	emit_line(stdout, e);
	printf("\", \"keys\": [");
	for (size_t k = 0; k < n; k++) {
		printf("%s{\"key\": \"%s\", \"cycles\": %.0f, \"measured\": %s, "
		       "\"source\": ", k ? ", " : "", names[k], e[k].cycles,
		       e[k].measured ? "true" : "false");
		out_json_string(stdout, e[k].why);
		putchar('}');
	}
	printf("]}");
}

static void calib_json(const struct calib *c)
{
	const struct pingpong *pp = c->pp;

	printf("{\"schema_version\": %d, \"command\": \"calibrate\", \"program\": "
	       "{\"name\": \"shootdown\", \"version\": \"%s\"}", OUT_SCHEMA_VERSION,
	       SHD_VERSION);
	printf(", \"floor_ns\": %" PRIu64 ", \"floor_min_ns\": %" PRIu64
	       ", \"floor_max_ns\": %" PRIu64 ", \"ipi_min_ns\": %" PRIu64
	       ", \"ipi_max_ns\": %" PRIu64, c->floor_ns, pp->ns[0],
	       pp->ns[BATCHES - 1], c->ib.ns[0], c->ib.ns[BATCHES - 1]);
	printf(", \"ipi_roundtrip_ns\": %" PRIu64
	       ", \"ipi_ratio\": %.3f, \"shootdown_1page_ns\": %" PRIu64
	       ", \"host_kernel_madvise_ns\": %" PRIu64
	       ", \"host_kernel_shootdown_ns\": %" PRIu64
	       ", \"host_membarrier_ns\": %" PRIu64
	       ", \"tlb_hit_ns\": %.2f, \"tlb_hit_no_oracle_ns\": %.2f"
	       ", \"host_tlb_miss_ns\": %.2f",
	       c->ipi_ns, c->floor_ns ? (double)c->ipi_ns / c->floor_ns : 0.0,
	       c->sd_ns, c->mad1, c->mad2, c->memb, c->hit_ps / 1000.0,
	       c->hit_plain_ps / 1000.0, c->miss_ps / 1000.0);
}

static void calib_table(const struct calib *c)
{
	const struct pingpong *pp = c->pp;

	printf("calibrate (medians of %d batches; host time)\n", BATCHES);
	printf("  %-26s %8" PRIu64 " ns  cache-line round trip, sim CPU 0 <-> 1"
	       " (batches %" PRIu64 "..%" PRIu64 ")\n", "floor_ns", c->floor_ns,
	       pp->ns[0], pp->ns[BATCHES - 1]);
	printf("  %-26s %8" PRIu64 " ns  emulated IPI to an idle CPU and back"
	       " (batches %" PRIu64 "..%" PRIu64 ")\n", "ipi_roundtrip_ns",
	       c->ipi_ns, c->ib.ns[0], c->ib.ns[BATCHES - 1]);
	printf("  %-26s %8.2f     ipi_roundtrip / floor (goal <= 1.3)\n",
	       "ipi_ratio", c->floor_ns ? (double)c->ipi_ns / c->floor_ns : 0.0);
	printf("  %-26s %8" PRIu64 " ns  flush_tlb_page, one remote CPU\n",
	       "shootdown_1page_ns", c->sd_ns);
	printf("  %-26s %8" PRIu64 " ns  real madvise(DONTNEED), one thread\n",
	       "host_kernel_madvise_ns", c->mad1);
	printf("  %-26s %8" PRIu64 " ns  ... with a second thread running "
	       "(real shootdown)\n", "host_kernel_shootdown_ns", c->mad2);
	printf("  %-26s %8" PRIu64 " ns  membarrier(PRIVATE_EXPEDITED)\n",
	       "host_membarrier_ns", c->memb);
	printf("  %-26s %8.2f ns  simulated load, TLB hit, oracle on\n",
	       "tlb_hit_ns", c->hit_ps / 1000.0);
	printf("  %-26s %8.2f ns  ... oracle off\n",
	       "tlb_hit_no_oracle_ns", c->hit_plain_ps / 1000.0);
	printf("  %-26s %8.2f ns  real load, dTLB miss (page walk in cache)"
	       "%s\n", "host_tlb_miss_ns", c->miss_ps / 1000.0,
	       c->miss_ps ? "" : " (not measured)");
}

int cmd_calibrate(int argc, char **argv)
{
	struct parsed p;
	struct calib c = { 0 };
	struct emit_key keys[EMIT_MAX_KEYS];
	const char *src = "--ghz";
	double ghz;

	if (cli_start(&p, CMD_CALIBRATE, argc, argv,
		      "calibrate [--format table|json] [--emit-set [--ghz X]]",
		      "Measures, in one run on this host: the cache-line round "
		      "trip between two\nsimulated CPUs' threads (floor_ns), the "
		      "emulated IPI round trip to an idle\nCPU (ipi_roundtrip_ns) "
		      "and their ratio (goal <= 1.3), a one-page shootdown,\nthe "
		      "real kernel's madvise shootdown and membarrier, and a real "
		      "dTLB miss.\n--emit-set prints instead the --set cost.*=CYCLES "
		      "line that puts the measured\ncosts into the cost model.  "
		      "Takes a few seconds.\n"))
		return 0;
	if (p.ghz && !p.emit_set)
		usage_error("--ghz is for --emit-set (the cycles it prints)");
	ghz = p.ghz ? p.ghz : host_ghz(&src);
	if (p.emit_set && !(ghz > 0 && ghz <= 10))
		usage_error("--emit-set: this host's clock frequency is unknown "
			    "(no cpu MHz in /proc/cpuinfo, no cpufreq): give --ghz X");
	if (calib_sim(&c, 20000) < 0) {
		fprintf(stderr, "%s: calibrate failed: %s\n", cli_prog,
			shd_last_error());
		return EXIT_INCOMPLETE;
	}
	calib_host(&c);
	if (p.emit_set)
		emit_keys(&c, ghz, keys);
	if (p.o.format == FMT_JSON) {
		calib_json(&c);
		if (p.emit_set)
			emit_json(keys, ghz, src);
		printf("}\n");
	} else if (p.emit_set) {
		emit_line(stdout, keys);
		putchar('\n');
	} else {
		calib_table(&c);
	}
	if (p.emit_set)
		emit_notes(keys, ghz, src);
	if (c.pp->ns[BATCHES - 1] > 2 * c.pp->ns[0]) {
		/* A VM whose vCPUs moved, or a loaded host: say so. */
		fprintf(stderr, "calibrate: warning: the floor varied from %" PRIu64
			" to %" PRIu64 " ns across batches; this host's CPUs are "
			"not steady, so compare ratios only within one run\n",
			c.pp->ns[0], c.pp->ns[BATCHES - 1]);
	}
	free(c.pp);
	return 0;
}
