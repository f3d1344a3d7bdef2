/* SPDX-License-Identifier: MIT */
/* The simulated machine's construction and teardown: configuration, memory, CPUs. */

/*
 * shd_machine_create() checks the configuration, builds memory, the caches'
 * shared state, every CPU (TLBs, caches, call queues, reclaim batch) and
 * the kernel's mm, then starts the CPU threads (sched.c); teardown stops
 * them, waits for the deferred frees and frees what the user did not.
 * Nothing here runs on the hot path.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bcast.h"
#include "cache.h"
#include "context.h"
#include "context_sparc64.h"
#include "icache.h"
#include "mm.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "rmap.h"
#include "sched.h"
#include "srmmu.h"
#include "seeded.h"
#include "tlb.h"
#include "tlb_batch.h"
#include "trace.h"

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
	cfg->sched.mode = SHD_SCHED_HOST;
	cfg->sched.strategy = SHD_STRATEGY_RANDOM;
	cfg->sched.depth = 3;
	cfg->sched.run = 16;
	cfg->sched.preemptions = -1;
	cfg->sched.store_buffers = true;
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

/* The cache profile: geometry and combinations the model has. */
static int check_arch(const struct shd_config *c)
{
	int err;

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
	if (c->arch.tlb > SHD_TLB_HYPERSPARC)
		return shd__fail(-EINVAL, "arch %s: TLB engine %u is unknown",
				 c->arch.name, c->arch.tlb);
	if ((c->arch.tlb == SHD_TLB_ARM64 || c->arch.tlb == SHD_TLB_RISCV) &&
	    (c->arch.asid_bits < 3 || c->arch.asid_bits > 16))
		return shd__fail(-EINVAL, "arch %s: asid_bits %u is out of range "
				 "3..16", c->arch.name, c->arch.asid_bits);
	/* x86's broadcast and LATR replace or defer IPIs that arm64's,
	 * riscv's and sparc64's engines do not send as x86's does. */
	if (c->arch.tlb != SHD_TLB_X86 &&
	    (c->policy.bcast != SHD_BCAST_OFF || c->policy.async))
		return shd__fail(-EINVAL, "arch %s: policy %s %s; %s "
				 "(--arch %s,tlb=x86 keeps x86's)",
				 c->arch.name, c->policy.name,
				 c->policy.async ? "has async=on (LATR)" :
				 "has bcast on (an x86 feature)",
				 c->arch.tlb == SHD_TLB_ARM64 ?
				 "arm64's TLB engine broadcasts TLBIs and sends "
				 "no IPI to replace or defer" :
				 c->arch.tlb == SHD_TLB_RISCV ?
				 "riscv's TLB engine fences by IPI or SBI and "
				 "has neither" :
				 c->arch.tlb == SHD_TLB_SPARC64 ?
				 "sparc64's TLB engine cross-calls and has "
				 "neither" :
				 "hypersparc's TLB engine cross-calls and has "
				 "neither", c->arch.name);
	if (c->arch.tlb == SHD_TLB_SPARC64 &&
	    (c->arch.ctx_bits < 2 || c->arch.ctx_bits > 13))
		return shd__fail(-EINVAL, "arch %s: ctx_bits %u is out of range "
				 "2..13", c->arch.name, c->arch.ctx_bits);
	/* mmu_context_wrap() keeps a number for each CPU's mm and context
	 * 0 is the kernel's: with no number left over it would loop. */
	if (c->arch.tlb == SHD_TLB_SPARC64 &&
	    (1ull << c->arch.ctx_bits) <= c->ncpus + 1ull)
		return shd__fail(-EINVAL, "arch %s: %u-bit contexts leave no "
				 "number free for a wrap at %u CPUs (each keeps "
				 "one, and 0 is the kernel's; raise ctx_bits)",
				 c->arch.name, c->arch.ctx_bits, c->ncpus);
	/* alloc_context() passes over contexts whose mm a CPU runs: with
	 * no more contexts than CPUs none might be left to steal. */
	if (c->arch.tlb == SHD_TLB_HYPERSPARC &&
	    (c->arch.nctx < 8 || c->arch.nctx > 65536 ||
	     c->arch.nctx <= c->ncpus))
		return shd__fail(-EINVAL, "arch %s: %u contexts for %u CPUs: "
				 "nctx must be in 8..65536 and more than the "
				 "CPUs (each may hold one)", c->arch.name,
				 c->arch.nctx, c->ncpus);
	if (c->arch.sme_erratum && c->arch.tlb != SHD_TLB_ARM64)
		return shd__fail(-EINVAL, "arch %s: sme_erratum is a workaround "
				 "in arm64's TLB engine (drop tlb=x86)",
				 c->arch.name);
	/* riscv asids_init(): the allocator only with more ASIDs than
	 * twice the CPUs; without it every switch flushes everything. */
	if (c->arch.tlb == SHD_TLB_RISCV &&
	    (1ull << c->arch.asid_bits) <= 2ull * c->ncpus)
		return shd__fail(-EINVAL, "arch %s: %u-bit ASIDs are not more "
				 "than twice %u CPUs: riscv would run without "
				 "its ASID allocator, which is not modelled "
				 "(raise asid_bits)", c->arch.name,
				 c->arch.asid_bits, c->ncpus);
	if (c->arch.tlb != SHD_TLB_X86 && c->policy.ops)
		return shd__fail(-EINVAL, "arch %s: policy %s is written in C; "
				 "its hooks are x86's engine's decision points "
				 "(--arch %s,tlb=x86 runs it there)",
				 c->arch.name, c->policy.name, c->arch.name);
	return 0;
}

/* Simulated memory: its size, and what this host can back. */
static int check_memory(const struct shd_config *c)
{
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
	return 0;
}

static int check_sched(const struct shd_sched_config *s, unsigned ncpus)
{
	if (s->mode != SHD_SCHED_HOST && s->mode != SHD_SCHED_SEEDED)
		return shd__fail(-EINVAL, "sched mode %d is neither host nor "
				 "seeded", (int)s->mode);
	if (s->mode == SHD_SCHED_HOST)
		return 0;
	if ((unsigned)s->strategy > SHD_STRATEGY_CHOOSE)
		return shd__fail(-EINVAL, "strategy %d is unknown", (int)s->strategy);
	if (s->depth < 1 || s->depth > 16)
		return shd__fail(-ERANGE, "PCT depth %u is out of range 1..16",
				 s->depth);
	if (s->run < 1 || s->run > (1u << 30))
		return shd__fail(-ERANGE, "random run %u is out of range "
				 "1..2^30", s->run);
	if (s->preemptions < -1)
		return shd__fail(-ERANGE, "preemption bound %d: -1 (none) or "
				 ">= 0", s->preemptions);
	if (s->strategy == SHD_STRATEGY_CHOOSE && !s->choose)
		return shd__fail(-EINVAL, "strategy choose needs a callback");
	if (s->strategy == SHD_STRATEGY_REPLAY && s->nreplay && !s->replay)
		return shd__fail(-EINVAL, "a replay of %zu switches with no "
				 "array", s->nreplay);
	for (size_t i = 0; s->strategy == SHD_STRATEGY_REPLAY && i < s->nreplay; i++) {
		if (s->replay[i].cpu >= ncpus && s->replay[i].cpu != SHD_SCHED_CTL)
			return shd__fail(-ERANGE, "replay switch %zu names cpu %u "
					 "(machine has %u)", i + 1,
					 s->replay[i].cpu, ncpus);
		if (i && s->replay[i].step < s->replay[i - 1].step)
			return shd__fail(-EINVAL, "replay switch %zu is at step %"
					 PRIu64 ", before the one above it",
					 i + 1, s->replay[i].step);
	}
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
	if ((err = check_arch(c)) < 0 || (err = check_memory(c)) < 0)
		return err;
	if (c->policy.ceiling > SHD_CEILING_MAX)
		return shd__fail(-ERANGE, "ceiling %u is over %u",
				 c->policy.ceiling, SHD_CEILING_MAX);
	if (c->policy.switch_mm > SHD_SWITCH_6_13)
		return shd__fail(-EINVAL, "policy switch %u is neither 5.13 nor "
				 "6.13", c->policy.switch_mm);
	if (c->faults >> SHD_FAULT__COUNT)
		return shd__fail(-EINVAL, "fault mask 0x%" PRIx64 " has unknown "
				 "bits", c->faults);
	if (c->watchdog_ms > 3600 * 1000)
		return shd__fail(-ERANGE, "watchdog %u ms is over one hour",
				 c->watchdog_ms);
	if (c->spin_us != UINT_MAX && c->spin_us > 1000000)
		return shd__fail(-ERANGE, "spin %u us is over one second",
				 c->spin_us);
	return check_sched(&c->sched, c->ncpus);
}

static void free_cpu(struct shd_cpu *cpu)
{
	if (!cpu)
		return;
	shd__tlb_free(&cpu->dtlb);
	shd__tlb_free(&cpu->itlb);
	shd__tlbbatch_free(cpu);
	shd__tlb_batch_free(cpu);
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
	/* Its thread's PU under the host scheduler; the seeded one runs
	 * every CPU on one unbound carrier thread (seeded.c). */
	cpu->pu = m->host_pus ? id % m->host_pus : 0;
	shd__ipi_queue_init(&cpu->ipi);
	shd__ipi_queue_init(&cpu->latr_q);
	if (shd__tlb_init(&cpu->dtlb, &m->cfg.dtlb) < 0)
		return -ENOMEM;
	if (cpu->split && shd__tlb_init(&cpu->itlb, &m->cfg.itlb) < 0)
		return -ENOMEM;
	if (shd__tlbbatch_init(cpu) < 0 || shd__tlb_batch_init(cpu) < 0 ||
	    shd__dcache_init(cpu) < 0 || shd__icache_init(cpu) < 0)
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
	shd__bcast_free(m);
	shd__asids_free(m);
	shd__sparc64_ctx_free(m);
	shd__srmmu_free(m);
	shd__trace_free(m);
	if (m->cpus)
		for (unsigned i = 0; i < m->ncpus; i++)
			free_cpu(m->cpus[i]);
	free(m->cpus);
	free(m->online_mask);
	shd__seeded_free(m);
	shd__pt_leaf_release_all(m);
	if (m->mem)
		munmap(m->mem, m->nframes << m->page_shift);
	free(m->free_pfns);
	free(m->frames);
	shd__cache_machine_free(m);
	shd__icache_machine_free(m);
	if (m->topo)
		hwloc_topology_destroy(m->topo);
	free(m);
}

/* The fields that follow from the configuration, and the host's PUs. */
static void machine_init(struct shd_machine *m, const struct shd_config *cfg)
{
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
}

/* Physical memory, the frames' struct pages, the zero page, the caches'
 * shared state.  0, or -ENOMEM with the message set (the caller frees the
 * machine). */
static int machine_memory(struct shd_machine *m, const struct shd_config *cfg)
{
	m->nframes = cfg->nframes;
	m->mem = mmap(NULL, m->nframes << m->page_shift, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->mem == MAP_FAILED) {
		m->mem = NULL;
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
	if (shd__cache_machine_init(m) < 0 || shd__icache_machine_init(m) < 0)
		goto nomem;
	return 0;
nomem:
	return shd__fail(-ENOMEM, "out of memory building a %u-CPU machine",
			 cfg->ncpus);
}

/* Stop the first N CPU threads and join them (the seeded scheduler lets
 * each run to its exit in turn). */
static void stop_cpus(struct shd_machine *m, unsigned n)
{
	if (m->stopped)
		return;
	m->stopped = true;
	/* Release: pairs with the CPU loops' acquire (sched.c). */
	shd_store_release(&m->stopping, 1);
	for (unsigned i = 0; i < n; i++)
		shd__ipi_ring(&m->cpus[i]->ipi);
	if (m->seeded) {
		for (unsigned i = n; i < m->ncpus; i++)
			m->seeded->c[i].exited = true;	/* never started */
		shd__seeded_ctl_wait(m, shd__seeded_all_exited, m);
		shd__seeded_stop(m);	/* their carrier thread */
		return;
	}
	for (unsigned i = 0; i < n; i++)
		pthread_join(m->cpus[i]->thread, NULL);
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
	machine_init(m, cfg);
	if ((err = machine_memory(m, cfg)) < 0) {
		machine_free(m);
		return err;
	}
	for (unsigned i = 0; i < m->ncpus; i++) {
		if (alloc_cpu(m, i) < 0)
			goto nomem;
		shd__mask_set(m->online_mask, i);
	}
	m->kernel_mm = shd__mm_alloc(m, true);
	if (!m->kernel_mm || shd__bcast_init(m) < 0 || shd__asids_init(m) < 0 ||
	    shd__sparc64_ctx_init(m) < 0 || shd__srmmu_init(m) < 0 ||
	    shd__seeded_create(m, shd__cpu_idle_done) < 0)
		goto nomem;
	if (m->seeded) {
		/* One carrier thread runs every CPU (seeded.c). */
		if (shd__seeded_start(m, shd__cpu_run) < 0) {
			err = shd__fail(-ENOMEM, "cannot start the seeded "
					"scheduler's thread");
			goto stop;
		}
		started = m->ncpus;
	}
	for (; !m->seeded && started < m->ncpus; started++) {
		if (pthread_create(&m->cpus[started]->thread, NULL, shd__cpu_main,
				   m->cpus[started]) != 0) {
			err = shd__fail(-ENOMEM, "cannot start CPU thread %u",
					started);
			goto stop;
		}
	}
	*out = m;
	return 0;
/* Release: pairs with the CPU loops' acquire (sched.c). */
stop:
	stop_cpus(m, started);
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
	stop_cpus(m, m->ncpus);
	/* CPUs dropped their lazy references on the way out; wait for the
	 * frees already queued, then free what the user did not destroy. */
	rcu_barrier();	/* needs no registration (doc/rcu-api.md) */
	cds_list_for_each_entry_safe(mm, tmp, &m->mms, node)
		shd__mm_free_now(mm);
	shd__mm_free_now(m->kernel_mm);
	machine_free(m);
}

int shd_machine_stop(struct shd_machine *m)
{
	if (!m)
		return shd__fail(-EINVAL, "shd_machine_stop: no machine");
	if (shd__this_cpu)
		return shd__fail(-EPERM, "shd_machine_stop: not from a CPU thread "
				 "(cpu %u)", shd__this_cpu->id);
	stop_cpus(m, m->ncpus);
	return 0;
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
