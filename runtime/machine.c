/* SPDX-License-Identifier: MIT */
/* The simulated machine: configuration, CPU threads, tasks, counters, reports. */

/*
 * Each simulated CPU is a thread bound (hwloc) to one host PU, round-robin
 * when CPUs outnumber PUs.  A CPU thread loops: take IPIs, run a submitted
 * task, otherwise spin briefly and sleep on its doorbell futex.  A task's
 * return leaves the CPU in lazy TLB mode with its mm still loaded, as an idle
 * kernel CPU would be.  Task hand-off uses the task.state word: the
 * controller stores PENDING (release) and rings the doorbell; the CPU stores
 * DONE (release) and futex-wakes the joiner, who acquires it.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "../common/probes.h"

__thread struct shd_cpu *shd__this_cpu __attribute__((tls_model("initial-exec")));
static long sys_futex(int32_t *uaddr, int op, int32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

void shd_config_init(struct shd_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->ncpus = 8;
	cfg->dtlb.entries = 1536;	/* Skylake STLB: 1536 entries, 12-way */
	cfg->dtlb.ways = 12;
	cfg->itlb.entries = 128;	/* L1 iTLB: 128 entries, 8-way */
	cfg->itlb.ways = 8;
	cfg->page_shift = 12;
	cfg->nframes = 16384;		/* 64 MiB */
	shd_policy_preset("linux", &cfg->policy);
	shd_arch_preset("x86", &cfg->arch);
	cfg->seed = 1;
	cfg->watchdog_ms = 5000;	/* CSD_LOCK_TIMEOUT */
	cfg->oracle = true;
	cfg->bind = true;
	cfg->spin_us = UINT_MAX;	/* auto */
}

static int check_tlb(const char *which, const struct shd_tlb_geometry *g)
{
	unsigned sets;

	if (g->ways == 0 || g->entries == 0 || g->entries > (1u << 20))
		return shd__fail(-ERANGE, "%s: entries %u / ways %u out of "
				 "range (1..1048576 entries, ways >= 1)",
				 which, g->entries, g->ways);
	if (g->ways > 255 || g->entries % g->ways)
		return shd__fail(-EINVAL, "%s: %u entries is not a multiple of "
				 "%u ways (ways <= 255)", which, g->entries, g->ways);
	sets = g->entries / g->ways;
	if (sets & (sets - 1))
		return shd__fail(-EINVAL, "%s: %u sets (entries/ways) is not a "
				 "power of two", which, sets);
	return 0;
}

static int check_cache(const struct shd_arch *a, const char *which,
		       unsigned sets, unsigned ways)
{
	if (a->line < 8 || a->line > 4096 || (a->line & (a->line - 1)) ||
	    !sets || (sets & (sets - 1)) || sets > (1u << 16) || !ways ||
	    ways > 64)
		return shd__fail(-EINVAL, "arch %s: %s-cache of %u sets x %u ways "
				 "x %u-byte lines: sets and line must be powers "
				 "of two (line 8..4096, sets up to 65536, ways "
				 "1..64)", a->name, which, sets, ways, a->line);
	return 0;
}

static int check_config(const struct shd_config *c)
{
	int err;

	if (c->ncpus < 1 || c->ncpus > SHD_MAX_CPUS)
		return shd__fail(-ERANGE, "ncpus %u is out of range 1..%u",
				 c->ncpus, SHD_MAX_CPUS);
	if ((err = check_tlb("dtlb", &c->dtlb)) < 0)
		return err;
	if (c->split_tlb && (err = check_tlb("itlb", &c->itlb)) < 0)
		return err;
	if (c->page_shift < 12 || c->page_shift > 30)
		return shd__fail(-ERANGE, "page_shift %u is out of range 12..30",
				 c->page_shift);
	if (c->arch.alias_dcache &&
	    (err = check_cache(&c->arch, "D", c->arch.dcache_sets,
			       c->arch.dcache_ways)) < 0)
		return err;
	if (c->arch.alias_dcache && c->arch.line && c->arch.dcache_sets &&
	    (((uint64_t)c->arch.dcache_sets * c->arch.line) >> c->page_shift) > 64)
		return shd__fail(-EINVAL, "arch %s: %" PRIu64 " colours; the model "
				 "has room for 64 (kmap slots, workloads' "
				 "SHMLBA)", c->arch.name,
				 ((uint64_t)c->arch.dcache_sets * c->arch.line) >>
				 c->page_shift);
	if ((c->arch.flush_needs_mapping || c->arch.dma_noncoherent ||
	     c->arch.deferred_dcache) && !c->arch.alias_dcache)
		return shd__fail(-EINVAL, "arch %s: flush_needs_mapping, "
				 "dma_noncoherent and deferred_dcache need an "
				 "aliasing D-cache (alias_dcache)", c->arch.name);
	if (c->arch.alias_dcache && c->arch.icache_nosnoop)
		return shd__fail(-EINVAL, "arch %s: an aliasing D-cache with a "
				 "non-snooping I-cache is not modelled (their "
				 "PG_arch_1 protocols differ)", c->arch.name);
	if (c->arch.icache_nosnoop &&
	    (err = check_cache(&c->arch, "I", c->arch.icache_sets,
			       c->arch.icache_ways)) < 0)
		return err;
	if (c->nframes < 16 || c->nframes > (1ull << 24))
		return shd__fail(-ERANGE, "nframes %" PRIu64 " is out of range "
				 "16..16777216", c->nframes);
	if ((c->nframes << c->page_shift) > (64ull << 30))
		return shd__fail(-ERANGE, "physical memory %" PRIu64 " MiB is "
				 "over 64 GiB", (c->nframes << c->page_shift) >> 20);
	{
		/* Frames are backed by host memory as they are touched: more
		 * than half the host's RAM would end in the OOM killer. */
		long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
		uint64_t host = pages > 0 && psz > 0 ? (uint64_t)pages * (uint64_t)psz : 0;

		if (host && (c->nframes << c->page_shift) > host / 2)
			return shd__fail(-ERANGE, "physical memory %" PRIu64 " MiB "
					 "is over half of this host's %" PRIu64 " MiB",
					 (c->nframes << c->page_shift) >> 20, host >> 20);
	}
	if (c->policy.ceiling > SHD_CEILING_MAX)
		return shd__fail(-ERANGE, "ceiling %u is over %u",
				 c->policy.ceiling, SHD_CEILING_MAX);
	if (c->faults >> SHD_FAULT__COUNT)
		return shd__fail(-EINVAL, "fault mask 0x%" PRIx64 " has unknown "
				 "bits", c->faults);
	if (c->watchdog_ms > 3600 * 1000)
		return shd__fail(-ERANGE, "watchdog %u ms is over one hour",
				 c->watchdog_ms);
	if (c->spin_us != UINT_MAX && c->spin_us > 1000000)
		return shd__fail(-ERANGE, "spin %u us is over one second",
				 c->spin_us);
	return 0;
}

int shd__check_cpu(struct shd_cpu *cpu, const char *what)
{
	if (!cpu)
		return shd__fail(-EINVAL, "%s: no CPU given", what);
	if (shd__this_cpu != cpu)
		return shd__fail(-EPERM, "%s: must run on CPU %u's own thread "
				 "(inside a task on it)", what, cpu->id);
	if (cpu->in_ipi)
		return shd__fail(-EPERM, "%s: not allowed from an IPI handler",
				 what);
	return 0;
}

/* An interrupt taken (LATR's fallback kick included).  Counted before any
 * acknowledgement, so a joiner sees it; also when the doorbell had not rung
 * yet: the sender rings right after queueing (a ring that then finds
 * nothing is not counted). */
static void ipi_batch(void *ctx)
{
	struct shd_cpu *cpu = ctx;

	cpu->cnt.s.ipis_received++;
}

static void latr_batch(void *ctx)
{
	struct shd_cpu *cpu = ctx;

	cpu->cnt.s.async_sweeps++;	/* swept with no interrupt */
}

void shd__cpu_sweep(struct shd_cpu *cpu)
{
	if (cpu->in_ipi || !shd__ipi_queued(&cpu->latr_q))
		return;
	cpu->in_ipi = true;
	(void)shd__ipi_handle(&cpu->latr_q, cpu, latr_batch);
	cpu->in_ipi = false;
}

void shd__cpu_kick(struct shd_cpu *target)
{
	/* Seq-cst: the kick is seen by the handler the ring wakes. */
	shd_xchg(&target->latr_kick, 1);
	shd__ipi_ring(&target->ipi);
}

void shd__cpu_take_ipis(struct shd_cpu *cpu)
{
	unsigned n;

	if (cpu->in_ipi)
		return;		/* handlers do not nest */
	cpu->in_ipi = true;
	n = shd__ipi_handle(&cpu->ipi, cpu, ipi_batch);
	/* LATR's fallback interrupt: sweep now.  One that found only that
	 * is still an interrupt taken. */
	if (shd_load_relaxed(&cpu->latr_kick) && shd_xchg(&cpu->latr_kick, 0))
		n += shd__ipi_handle(&cpu->latr_q, cpu, n ? NULL : ipi_batch);
	cpu->in_ipi = false;
	if (n)
		SHD_PROBE2(ipi_handle, cpu->id, n);
}

void shd_cpu_poll(struct shd_cpu *cpu)
{
	if (!cpu || cpu != shd__this_cpu)
		return;
	if (shd__ipi_pending(&cpu->ipi))
		shd__cpu_take_ipis(cpu);
	if (cpu->m->cfg.policy.async)
		shd__latr_tick(cpu);
}

struct csd_wait_arg {
	struct shd_csd *csd;
};

static bool csd_done_cb(void *arg)
{
	return shd__csd_done(arg);
}

int shd__csd_wait(struct shd_cpu *cpu, struct shd_csd *csd, unsigned target,
		  const char *what)
{
	struct shd_machine *m = cpu->m;
	uint64_t deadline = 0;
	struct shd_violation v;
	int32_t st;

	/* Fast path: spin on the ack (and our own doorbell) before reading
	 * the clock; the watchdog bound starts when this spin gives up. */
	for (uint64_t i = 0; i < m->spin_iters; i++) {
		if (shd__csd_done(csd))
			return 0;
		if (shd__ipi_pending(&cpu->ipi))
			shd__cpu_take_ipis(cpu);
		caa_cpu_relax();
	}
	if (m->watchdog_ns)
		deadline = shd_now_ns() + m->watchdog_ns;
	for (;;) {
		if (shd__ipi_pending(&cpu->ipi))
			shd__cpu_take_ipis(cpu);
		if (shd__csd_done(csd))
			return 0;
		if (deadline && shd_now_ns() >= deadline) {
			/* Withdraw it if the target has not taken it; if it
			 * is running, it will finish: wait on, unbounded. */
			if (shd__csd_abandon(csd) ||
			    (st = shd__csd_state(csd)) == SHD_CSD_ABANDONED)
				break;
			if (st == SHD_CSD_FREE)
				return 0;
			deadline = 0;
		}
		shd__ipi_idle_wait(&cpu->ipi, csd_done_cb, csd, m->spin_ns,
				   deadline);
	}
	memset(&v, 0, sizeof(v));
	v.kind = SHD_VIOLATION_WATCHDOG;
	v.cpu = target;
	v.interface = what;
	v.seed = m->cfg.seed;
	snprintf(v.text, sizeof(v.text),
		 "watchdog: cpu %u did not take %s from cpu %u within %u ms (not "
		 "taking IPIs: a task that never calls the library?); the request "
		 "is withdrawn, seed %" PRIu64, target, what, cpu->id,
		 m->cfg.watchdog_ms, m->cfg.seed);
	shd__report(m, &v);
	return shd__fail(-ETIMEDOUT, "%s", v.text);
}

void shd__report(struct shd_machine *m, const struct shd_violation *v)
{
	pthread_mutex_lock(&m->viol_lock);
	if (m->nviol < SHD_MAX_VIOLATIONS)
		m->viol[m->nviol] = *v;
	m->nviol++;
	pthread_mutex_unlock(&m->viol_lock);
}

uint64_t shd_machine_violations(struct shd_machine *m,
				struct shd_violation *out, size_t max)
{
	uint64_t n;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->viol_lock);
	n = m->nviol;
	for (size_t i = 0; out && i < max && i < n && i < SHD_MAX_VIOLATIONS; i++)
		out[i] = m->viol[i];
	pthread_mutex_unlock(&m->viol_lock);
	return n;
}

static unsigned hist_bucket(uint64_t ns)
{
	unsigned msb;

	if (ns < 8)
		return (unsigned)ns;
	msb = 63u - (unsigned)__builtin_clzll(ns);
	return (msb - 2) * 8 + (unsigned)((ns >> (msb - 3)) & 7);
}

static uint64_t hist_value(unsigned b)
{
	unsigned msb;

	if (b < 8)
		return b;
	msb = b / 8 + 2;
	return (1ull << msb) | ((uint64_t)(b % 8) << (msb - 3));
}

void shd__hist_add(struct shd_counters *c, uint64_t ns)
{
	c->hist[hist_bucket(ns)]++;
	c->s.lat_count++;
	if (ns > c->s.lat_max_ns)
		c->s.lat_max_ns = ns;
}

static const struct shd_stat_field stat_fields[] = {
#define F(n, g, fl, h) { #n, offsetof(struct shd_stats, n), h, #g, fl },
	SHD_STATS_MAP(F)
#undef F
};

const struct shd_stat_field *shd_stat_fields(size_t *count)
{
	if (count)
		*count = sizeof(stat_fields) / sizeof(stat_fields[0]);
	return stat_fields;
}

void shd_machine_stats(struct shd_machine *m, struct shd_stats *out)
{
	uint32_t hist[SHD_HIST_BUCKETS];
	uint64_t total = 0, seen = 0;
	size_t nf;
	const struct shd_stat_field *f = shd_stat_fields(&nf);

	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!m)
		return;
	memset(hist, 0, sizeof(hist));
	for (unsigned c = 0; c < m->ncpus; c++) {
		struct shd_counters *cn = &m->cpus[c]->cnt;

		for (size_t i = 0; i < nf; i++) {
			uint64_t *dst = (uint64_t *)((char *)out + f[i].offset);
			const uint64_t *src =
				(const uint64_t *)((const char *)&cn->s + f[i].offset);

			switch (f[i].flags & SHD_STAT_AGG_MASK) {
			case SHD_STAT_MAX:
				*dst = *src > *dst ? *src : *dst;
				break;
			case SHD_STAT_PCTL:	/* from the histogram below */
				break;
			default:
				*dst += *src;
			}
		}
		for (unsigned b = 0; b < SHD_HIST_BUCKETS; b++)
			hist[b] += cn->hist[b];
	}
	for (unsigned b = 0; b < SHD_HIST_BUCKETS; b++)
		total += hist[b];
	for (unsigned b = 0; b < SHD_HIST_BUCKETS && total; b++) {
		seen += hist[b];
		if (!out->lat_p50_ns && seen * 2 >= total)
			out->lat_p50_ns = hist_value(b);
		if (!out->lat_p99_ns && seen * 100 >= total * 99)
			out->lat_p99_ns = hist_value(b);
	}
	if (out->lat_p99_ns > out->lat_max_ns)
		out->lat_p99_ns = out->lat_max_ns;
	if (out->lat_p50_ns > out->lat_max_ns)
		out->lat_p50_ns = out->lat_max_ns;
	/* Violations also count reports made outside a CPU (watchdog). */
	pthread_mutex_lock(&m->viol_lock);
	if (m->nviol > out->violations)
		out->violations = m->nviol;
	pthread_mutex_unlock(&m->viol_lock);
}

void shd_machine_stats_reset(struct shd_machine *m)
{
	if (!m)
		return;
	for (unsigned c = 0; c < m->ncpus; c++)
		memset(&m->cpus[c]->cnt, 0, sizeof(m->cpus[c]->cnt));
	pthread_mutex_lock(&m->viol_lock);
	m->nviol = 0;
	pthread_mutex_unlock(&m->viol_lock);
}

static bool cpu_has_work(void *arg)
{
	struct shd_cpu *cpu = arg;

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

static void *cpu_main(void *arg)
{
	struct shd_cpu *cpu = arg;
	struct shd_machine *m = cpu->m;

	shd__this_cpu = cpu;
	rcu_register_thread();
	cpu_bind(cpu);
	for (;;) {
		if (shd__ipi_pending(&cpu->ipi))
			shd__cpu_take_ipis(cpu);
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
			continue;
		}
		if (shd_load_acquire(&m->stopping))
			break;
		shd__cpu_sweep(cpu);	/* idle: LATR's state too */
		shd__ipi_idle_wait(&cpu->ipi, cpu_has_work, cpu, m->spin_ns, 0);
	}
	shd__cpu_switch_to_init_mm(cpu);
	rcu_unregister_thread();
	return NULL;
}

static void free_cpu(struct shd_cpu *cpu)
{
	if (!cpu)
		return;
	shd__tlb_free(&cpu->dtlb);
	shd__tlb_free(&cpu->itlb);
	shd__tlbbatch_free(cpu);
	shd__dcache_free(cpu);
	shd__icache_free(cpu);
	free(cpu->csd);
	free(cpu->targets);
	free(cpu);
}

static int alloc_cpu(struct shd_machine *m, unsigned id)
{
	struct shd_cpu *cpu;

	if (posix_memalign((void **)&cpu, SHD_CL, sizeof(*cpu)))
		return -ENOMEM;
	memset(cpu, 0, sizeof(*cpu));
	m->cpus[id] = cpu;
	cpu->id = id;
	cpu->m = m;
	cpu->loaded_asid = SHD_ASID_NONE;
	cpu->split = m->cfg.split_tlb;
	cpu->rng = shd__mix64(m->cfg.seed ^ (0x9e3779b97f4a7c15ull * (id + 1)));
	cpu->pu = m->host_pus ? id % m->host_pus : 0;
	shd__ipi_queue_init(&cpu->ipi);
	shd__ipi_queue_init(&cpu->latr_q);
	if (shd__tlb_init(&cpu->dtlb, &m->cfg.dtlb) < 0)
		return -ENOMEM;
	if (cpu->split && shd__tlb_init(&cpu->itlb, &m->cfg.itlb) < 0)
		return -ENOMEM;
	if (shd__tlbbatch_init(cpu) < 0 || shd__dcache_init(cpu) < 0 ||
	    shd__icache_init(cpu) < 0)
		return -ENOMEM;
	if (posix_memalign((void **)&cpu->csd, SHD_CL,
			   sizeof(*cpu->csd) * m->ncpus))
		return -ENOMEM;
	for (unsigned t = 0; t < m->ncpus; t++)
		shd__csd_init(&cpu->csd[t], id, &cpu->ipi);
	cpu->targets = calloc(m->ncpus, sizeof(*cpu->targets));
	if (!cpu->targets)
		return -ENOMEM;
	return 0;
}

static void machine_free(struct shd_machine *m)
{
	if (m->cpus)
		for (unsigned i = 0; i < m->ncpus; i++)
			free_cpu(m->cpus[i]);
	free(m->cpus);
	free(m->online_mask);
	shd__pt_leaf_release_all(m);
	if (m->mem)
		munmap(m->mem, m->nframes << m->page_shift);
	free(m->free_pfns);
	free(m->frames);
	shd__cache_machine_free(m);
	if (m->topo)
		hwloc_topology_destroy(m->topo);
	free(m);
}

int shd_machine_create(const struct shd_config *cfg, struct shd_machine **out)
{
	struct shd_machine *m;
	unsigned started = 0;
	int err;

	if (!out)
		return shd__fail(-EINVAL, "shd_machine_create: no place for the result");
	*out = NULL;
	if (!cfg)
		return shd__fail(-EINVAL, "no configuration given");
	if (shd__this_cpu)
		return shd__fail(-EPERM, "shd_machine_create: not from a CPU thread "
				 "(cpu %u)", shd__this_cpu->id);
	if ((err = check_config(cfg)) < 0)
		return err;
	if (posix_memalign((void **)&m, SHD_CL, sizeof(*m)))
		return shd__fail(-ENOMEM, "out of memory for the machine");
	memset(m, 0, sizeof(*m));
	m->cfg = *cfg;
	m->ncpus = cfg->ncpus;
	m->page_shift = cfg->page_shift;
	m->page_size = 1ull << cfg->page_shift;
	m->pt_levels = (SHD_VA_BITS - cfg->page_shift + SHD_PT_BITS - 1) / SHD_PT_BITS;
	m->watchdog_ns = (uint64_t)cfg->watchdog_ms * 1000000ull;
	m->mask_words = (m->ncpus + 63) / 64;
	m->clock = 1;
	m->next_ctx_id = 1;
	pthread_mutex_init(&m->frame_lock, NULL);
	pthread_mutex_init(&m->leaf_lock, NULL);
	pthread_mutex_init(&m->mms_lock, NULL);
	pthread_mutex_init(&m->viol_lock, NULL);
	CDS_INIT_LIST_HEAD(&m->mms);

	m->host_pus = 1;
	if (cfg->bind && hwloc_topology_init(&m->topo) == 0) {
		if (hwloc_topology_load(m->topo) == 0) {
			int n = hwloc_get_nbobjs_by_type(m->topo, HWLOC_OBJ_PU);

			m->host_pus = n > 0 ? (unsigned)n : 1;
		} else {
			hwloc_topology_destroy(m->topo);
			m->topo = NULL;
		}
	}
	if (cfg->spin_us == UINT_MAX)
		m->spin_ns = m->ncpus <= m->host_pus ? 50000 : 2000;
	else
		m->spin_ns = (uint64_t)cfg->spin_us * 1000;
	m->spin_iters = m->spin_ns / 32;	/* ~ one pause and a check */

	m->nframes = cfg->nframes;
	m->mem = mmap(NULL, m->nframes << m->page_shift, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->mem == MAP_FAILED) {
		m->mem = NULL;
		machine_free(m);
		return shd__fail(-ENOMEM, "cannot reserve %" PRIu64 " MiB of "
				 "simulated memory", (cfg->nframes << cfg->page_shift) >> 20);
	}
	m->free_pfns = malloc(sizeof(uint64_t) * m->nframes);
	m->frames = calloc(m->nframes, sizeof(*m->frames));
	m->cpus = calloc(m->ncpus, sizeof(*m->cpus));
	m->online_mask = calloc(m->mask_words, sizeof(unsigned long));
	if (!m->free_pfns || !m->frames || !m->cpus || !m->online_mask)
		goto nomem;
	for (uint64_t i = 0; i < m->nframes; i++)
		m->free_pfns[i] = m->nframes - 1 - i;
	m->nfree = m->nframes;
	/* The zero page, mapped read-only by read faults of anonymous memory
	 * (do_anonymous_page()); the machine's reference keeps it. */
	m->zero_pfn = shd__frame_alloc(m);
	m->frames[m->zero_pfn].flags = SHD_FRAME_ZERO;
	if (shd__cache_machine_init(m) < 0)
		goto nomem;
	for (unsigned i = 0; i < m->ncpus; i++) {
		if (alloc_cpu(m, i) < 0)
			goto nomem;
		shd__mask_set(m->online_mask, i);
	}
	m->kernel_mm = shd__mm_alloc(m, true);
	if (!m->kernel_mm)
		goto nomem;
	for (started = 0; started < m->ncpus; started++) {
		if (pthread_create(&m->cpus[started]->thread, NULL, cpu_main,
				   m->cpus[started]) != 0) {
			err = shd__fail(-ENOMEM, "cannot start CPU thread %u",
					started);
			goto stop;
		}
	}
	*out = m;
	return 0;
stop:
	shd_store_release(&m->stopping, 1);
	for (unsigned i = 0; i < started; i++) {
		shd__ipi_ring(&m->cpus[i]->ipi);
		pthread_join(m->cpus[i]->thread, NULL);
	}
	shd__mm_free_now(m->kernel_mm);
	machine_free(m);
	return err;
nomem:
	if (m->kernel_mm)
		shd__mm_free_now(m->kernel_mm);
	machine_free(m);
	return shd__fail(-ENOMEM, "out of memory building a %u-CPU machine",
			 cfg->ncpus);
}

void shd_machine_destroy(struct shd_machine *m)
{
	struct shd_mm *mm, *tmp;

	if (!m)
		return;
	if (shd__this_cpu) {
		/* It would join its own thread: refuse, leave it running. */
		shd__fail(-EPERM, "shd_machine_destroy: not from a CPU thread "
			  "(cpu %u); nothing was freed", shd__this_cpu->id);
		return;
	}
	shd_store_release(&m->stopping, 1);
	for (unsigned i = 0; i < m->ncpus; i++) {
		shd__ipi_ring(&m->cpus[i]->ipi);
		pthread_join(m->cpus[i]->thread, NULL);
	}
	/* CPUs dropped their lazy references on the way out; wait for the
	 * frees already queued, then free what the user did not destroy. */
	rcu_barrier();	/* needs no registration (doc/rcu-api.md) */
	cds_list_for_each_entry_safe(mm, tmp, &m->mms, node)
		shd__mm_free_now(mm);
	shd__mm_free_now(m->kernel_mm);
	machine_free(m);
}

unsigned shd_machine_ncpus(const struct shd_machine *m)
{
	return m ? m->ncpus : 0;
}

const struct shd_config *shd_machine_config(const struct shd_machine *m)
{
	return m ? &m->cfg : NULL;
}

unsigned shd_machine_host_pus(const struct shd_machine *m)
{
	return m ? m->host_pus : 0;
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
	cpu = m->cpus[id];
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
