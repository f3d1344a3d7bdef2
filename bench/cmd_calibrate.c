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
 *
 * Each figure is the median of several batches; the ratio
 * ipi_roundtrip_ns / floor_ns is the emulation's overhead over the hardware's
 * own cost of moving a line there and back (goal <= 1.3).
 */
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
	       ", \"tlb_hit_ns\": %.2f, \"tlb_hit_no_oracle_ns\": %.2f}\n",
	       c->ipi_ns, c->floor_ns ? (double)c->ipi_ns / c->floor_ns : 0.0,
	       c->sd_ns, c->mad1, c->mad2, c->memb, c->hit_ps / 1000.0,
	       c->hit_plain_ps / 1000.0);
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
}

int cmd_calibrate(int argc, char **argv)
{
	struct parsed p;
	struct calib c = { 0 };

	if (cli_start(&p, CMD_CALIBRATE, argc, argv, "calibrate [--format table|json]",
		      "Measures, in one run on this host: the cache-line round "
		      "trip between two\nsimulated CPUs' threads (floor_ns), the "
		      "emulated IPI round trip to an idle\nCPU (ipi_roundtrip_ns) "
		      "and their ratio (goal <= 1.3), a one-page shootdown,\nand "
		      "the real kernel's madvise shootdown and membarrier.  Takes "
		      "a few seconds.\n"))
		return 0;
	if (calib_sim(&c, 20000) < 0) {
		fprintf(stderr, "%s: calibrate failed: %s\n", cli_prog,
			shd_last_error());
		return EXIT_INCOMPLETE;
	}
	calib_host(&c);
	if (p.o.format == FMT_JSON)
		calib_json(&c);
	else
		calib_table(&c);
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
