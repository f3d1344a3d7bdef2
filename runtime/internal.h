/* SPDX-License-Identifier: MIT */
/* Private structures of the simulated machine; never installed. */
#ifndef SHD_RUNTIME_INTERNAL_H
#define SHD_RUNTIME_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define _LGPL_SOURCE
#include <urcu.h>
#include <urcu/list.h>
#include <urcu/rculist.h>
#include <urcu/ref.h>
#include <hwloc.h>

#include <shootdown/shootdown.h>
#include "../ipi/ipi.h"
#include "../policy/decide.h"
#include "../common/atomics.h"
#include "../common/error.h"

#define SHD_CL SHD_CACHELINE
#define SHD_NR_ASIDS 6		/* TLB_NR_DYN_ASIDS on x86 */
#define SHD_ASID_GLOBAL 7	/* tag of kernel (global) entries */
#define SHD_ASID_NONE 0xffu	/* init_mm loaded: no user ASID */
#define SHD_PT_BITS 9
#define SHD_PT_ENTRIES (1u << SHD_PT_BITS)
#define SHD_VA_BITS 48
#define SHD_MAX_VIOLATIONS 16
#define SHD_HIST_BUCKETS (64 * 8)

/* PTE value bits (the pfn sits above bit 12 whatever the page size). */
#define SHD_PTE_PRESENT	1ull
#define SHD_PTE_WRITE	2ull
#define SHD_PTE_EXEC	4ull
#define SHD_PTE_GLOBAL	8ull
#define SHD_PTE_FRAME	16ull	/* a frame is attached (even if PROT_NONE) */
#define SHD_PTE_PFN_SHIFT 12

/*
 * One page-table entry with the oracle's bookkeeping.  `val` and the
 * versions are written under the mm lock as a seqlock (version 0 while a
 * change is being written) and read lock-free by page walks.  `credited` is
 * raised by completed flushes (CAS max) without the lock.
 */
struct shd_pte {
	uint64_t version;	/* clock value of the latest change */
	uint64_t val;
	uint64_t prev;		/* version of the change before it */
	uint64_t credited;	/* newest change a completed flush covers */
	uint32_t credit_iface;	/* enum shd_iface of that flush */
	uint32_t pad;
};

/*
 * struct page, reduced to what the model needs.  `ref` counts the PTEs
 * that map the frame plus the page cache's own reference; the frame goes
 * back to the allocator when it drops to 0 (after the flush that removed
 * the last translation: callers drop references only then).
 */
struct shd_frame {
	uint32_t ref;
	uint32_t flags;
	uint32_t gen;		/* bumped each time it is freed (oracle) */
	uint32_t arch1;		/* PG_arch_1.  sparc64: dirtying CPU + 1 (low
				 * 16 bits; 0: clean) and a mark count (high
				 * 16, never reset).  arm64: PG_dcache_clean
				 * (bit 0) and a count of the writes that
				 * cleared it (above) */
	uint16_t store_colour;	/* the last store's colour and CPU (reports) */
	uint16_t store_cpu;
	/* The I-cache oracle (non-snooping I-caches only, cache.c): kernel
	 * writes running (iwriters) and done (iseq); isynced, the newest iseq
	 * an I-cache invalidation of the page has covered; iuser, set by a
	 * user store (its I-cache upkeep is the program's business). */
	uint32_t iwriters, iseq, isynced, iuser;
};
#define SHD_FRAME_PAGECACHE 1u	/* belongs to a file's page cache */
#define SHD_FRAME_ZERO	2u	/* the shared zero page (never freed) */

/* A leaf page-table page; interior levels are arrays of pointers. */
struct shd_pt_leaf {
	struct shd_pte pte[SHD_PT_ENTRIES];
	unsigned nr_frames;		/* PTEs with a frame; under the mm lock */
	struct rcu_head rcu;
	struct shd_machine *m;
	struct shd_pt_leaf *next_free;
	uint64_t base_vpn;		/* first vpn it maps */
};

struct shd_pt_dir {
	void *slot[SHD_PT_ENTRIES];	/* rcu pointers to dirs or leaves */
};

enum shd_iface {
	SHD_IF_NONE,
	SHD_IF_ALL,
	SHD_IF_MM,
	SHD_IF_RANGE,
	SHD_IF_PAGE,
	SHD_IF_KERNEL_RANGE,
	SHD_IF_BATCH,
	SHD_IF__COUNT
};
extern const char *const shd__iface_names[SHD_IF__COUNT];

struct shd_vma {
	uint64_t start, end;	/* page aligned, [start, end) */
	unsigned prot;
	bool shared;		/* MAP_SHARED (file mappings only) */
	struct shd_file *file;	/* NULL: anonymous; else a reference held */
	uint64_t pgoff;		/* file page mapped at start */
};

struct shd_mm {
	/* Read and bumped by every flusher of this mm: its own line. */
	uint64_t tlb_gen __attribute__((aligned(SHD_CL)));
	/* mm_cpumask: CPUs that may hold translations.  Atomic bit ops. */
	unsigned long *cpumask;

	struct shd_machine *m;
	uint64_t id;			/* ctx_id: never reused */
	bool is_kernel;
	struct urcu_ref ref;		/* creator + each CPU that loads it */
	struct rcu_head rcu;
	struct cds_list_head node;	/* m->mms, RCU list */
	bool dead;			/* shd_mm_destroy() called */

	/* mmap_lock + page table lock; waiters keep taking IPIs. */
	pthread_mutex_t lock;
	struct shd_pt_dir *pgd;
	struct shd_vma *vmas;		/* sorted, non-overlapping */
	size_t nvmas, cap_vmas;

	/* mm->tlb_flush_batched: reclaim batches that cleared PTEs here, and
	 * how many of them flush_tlb_batched_pending() has covered.  Under
	 * the mm lock. */
	uint32_t batched_pending, batched_flushed;
	struct shd_latr *latr;		/* LATR flushes in flight; mm lock */

	/* Oracle clocks (see oracle.c). */
	uint64_t stable_clock;		/* newest complete change (release) */
	uint64_t full_credit;		/* clock covered by a full flush */
	uint32_t full_credit_iface;
};

struct shd_tlbe {
	uint64_t tag;		/* vpn << 4 | asid << 1 | valid */
	uint64_t val;		/* the PTE as walked */
	uint64_t version;	/* its version (oracle) */
	struct shd_pte *ptep;	/* where it came from (oracle) */
	uint32_t fgen;		/* its frame's gen when filled (oracle) */
	uint32_t pad;
};

struct shd_tlb {
	struct shd_tlbe *e;	/* nsets * ways */
	uint8_t *victim;	/* round-robin way per set */
	unsigned ways, nsets;
	uint64_t set_mask;
};

/* The request a flush initiator sends (x86 struct flush_tlb_info). */
enum shd_flush_kind {
	SHD_FLUSH_USER,
	SHD_FLUSH_KERNEL,
	SHD_FLUSH_ALL,
	SHD_FLUSH_BATCH,	/* x86 arch_tlbbatch_flush(): whatever is loaded */
};
#define SHD_FLUSH_END_ALL UINT64_MAX

struct shd_flush_info {
	struct shd_mm *mm;
	uint64_t start_vpn, end_vpn;	/* end SHD_FLUSH_END_ALL: whole mm */
	uint64_t new_tlb_gen;
	enum shd_flush_kind kind;
	bool freed_tables;
	unsigned initiator;
} __attribute__((aligned(SHD_CL)));

/*
 * A CPU's pending reclaim batch (current->tlb_ubc): pages whose PTEs were
 * cleared and whose flush is deferred.  The frames (and references to their
 * mms) are held until the batch is flushed.
 */
struct shd_tlbbatch_ent {
	struct shd_mm *mm;
	uint64_t vpn, pfn;
	uint64_t t;		/* oracle clock covering the clear */
};

struct shd_tlbbatch_req {	/* arm64: an invalidation issued, not waited for */
	struct shd_csd csd;
	unsigned target;
};

struct shd_tlbbatch {
	unsigned long *cpumask;		/* x86: union of the mms' masks */
	struct shd_tlbbatch_ent *e;
	size_t n;
	struct shd_flush_info *info;	/* arm64: one a page (SHD_TLBBATCH_MAX) */
	struct shd_tlbbatch_req *req;	/* arm64: SHD_TLBBATCH_MAX * ncpus */
	size_t nreq;
};
#define SHD_TLBBATCH_MAX 32	/* SWAP_CLUSTER_MAX: pages between flushes */

/* Per-CPU counters, owned by their CPU. Layout mirrors struct shd_stats. */
struct shd_counters {
	struct shd_stats s;
	uint32_t hist[SHD_HIST_BUCKETS];	/* shootdown latency */
} __attribute__((aligned(SHD_CL)));

struct shd_asid_ctx {
	uint64_t ctx_id;	/* 0: free */
	uint64_t tlb_gen;
};

enum { SHD_TASK_NONE, SHD_TASK_PENDING, SHD_TASK_RUNNING, SHD_TASK_DONE };

struct shd_cpu {
	/* Written by senders (queue, doorbell). */
	struct shd_ipi_queue ipi;
	/* LATR's per-CPU state: requests posted with no doorbell, swept at
	 * ticks (and with the IPIs, when an interrupt comes anyway). */
	struct shd_ipi_queue latr_q;
	int32_t latr_kick;		/* LATR's fallback: sweep at the IPI */
	/* Read by flushers deciding whether to skip us. */
	int32_t is_lazy __attribute__((aligned(SHD_CL)));
	/* Task hand-off with the controlling thread. */
	struct {
		shd_task_fn fn;
		void *arg;
		int ret;
		int32_t state;		/* SHD_TASK_*, futex for join */
	} task __attribute__((aligned(SHD_CL)));

	/* Owned by the CPU's thread from here on. */
	unsigned id __attribute__((aligned(SHD_CL)));
	struct shd_machine *m;
	struct shd_mm *loaded_mm;	/* reference held; NULL = init_mm */
	unsigned loaded_asid;		/* SHD_ASID_NONE with init_mm */
	struct shd_asid_ctx ctxs[SHD_NR_ASIDS];
	unsigned next_asid;
	struct shd_tlb dtlb, itlb;
	struct shd_dcache *dcache;	/* NULL: coherent (not simulated) */
	struct shd_icache *icache;	/* NULL: snooping (not simulated) */
	/* hypersparc: the range this CPU's last flush_cache_* covered, which
	 * the ordering oracle requires of each PTE it then changes */
	struct shd_mm *cwin_mm;
	uint64_t cwin_s, cwin_e;
	bool split;
	bool in_ipi;			/* running an IPI handler */
	bool in_flush;			/* initiating a flush */
	struct shd_csd *csd;		/* outgoing, one per target */
	unsigned *targets;		/* scratch: CPUs a flush was sent to */
	struct shd_flush_info info;	/* outgoing request */
	struct shd_tlbbatch batch;
	struct shd_latr *latr;		/* LATR flushes it posted, in flight */
	uint32_t ticks;			/* accesses, for LATR's sweeps */
	uint64_t rng;
	unsigned pu;			/* host PU it is bound to */
	pthread_t thread;
	struct shd_counters cnt;
};

struct shd_machine {
	struct shd_config cfg;
	unsigned ncpus;
	unsigned host_pus;
	struct shd_cpu **cpus;
	unsigned page_shift;
	uint64_t page_size;
	unsigned pt_levels;		/* including the leaf level */
	uint64_t spin_ns;
	uint64_t spin_iters;		/* fast spin before reading the clock */
	uint64_t watchdog_ns;
	size_t mask_words;
	unsigned long *online_mask;

	/* Physical memory. */
	uint8_t *mem;
	uint64_t nframes;
	struct shd_frame *frames;	/* struct page: one per frame */
	uint64_t zero_pfn;		/* ZERO_PAGE(0): read faults of anon memory */
	struct shd_cache_machine *cache;	/* NULL: coherent D-cache */
	struct shd_ilog *ilog;		/* NULL: snooping I-cache */
	pthread_mutex_t frame_lock;	/* protects free_pfns/nfree */
	uint64_t *free_pfns;
	uint64_t nfree;

	/* Leaf page tables return here after a grace period (see oracle.c:
	 * their versions must stay monotonic across reuse). */
	pthread_mutex_t leaf_lock;	/* protects leaf_free */
	struct shd_pt_leaf *leaf_free;

	uint64_t clock __attribute__((aligned(SHD_CL)));	/* version clock */
	uint64_t next_ctx_id;
	struct shd_mm *kernel_mm;
	pthread_mutex_t mms_lock;	/* writers of mms; readers use RCU */
	struct cds_list_head mms;

	pthread_mutex_t viol_lock;	/* protects viol[], nviol */
	struct shd_violation viol[SHD_MAX_VIOLATIONS];
	uint64_t nviol;

	int32_t stopping;
	hwloc_topology_t topo;
};

/* The page number of VA (user or kernel: the low SHD_VA_BITS bits). */
static inline uint64_t shd__va_vpn(const struct shd_machine *m, uint64_t va)
{
	return (va & ((1ull << SHD_VA_BITS) - 1)) >> m->page_shift;
}

/*
 * The CPU whose thread this is (NULL on other threads).  Initial-exec TLS:
 * every simulated access checks it, and the default model for a shared
 * library would call __tls_get_addr each time.  (The library is linked, not
 * dlopen()ed late, so the static TLS block has room for one pointer.)
 */
extern __thread struct shd_cpu *shd__this_cpu
	__attribute__((tls_model("initial-exec")));

static inline bool shd__fault(const struct shd_machine *m, enum shd_fault f)
{
	return (m->cfg.faults >> f) & 1;
}

static inline uint64_t shd__mix64(uint64_t x)
{
	x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27; x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* cpumask helpers (atomic; seq-cst so they order like the kernel's). */
static inline bool shd__mask_test(const unsigned long *mask, unsigned cpu)
{
	return (__atomic_load_n(&mask[cpu / 64], __ATOMIC_SEQ_CST) >> (cpu % 64)) & 1;
}
static inline void shd__mask_set(unsigned long *mask, unsigned cpu)
{
	__atomic_fetch_or(&mask[cpu / 64], 1ul << (cpu % 64), __ATOMIC_SEQ_CST);
}
static inline void shd__mask_clear(unsigned long *mask, unsigned cpu)
{
	__atomic_fetch_and(&mask[cpu / 64], ~(1ul << (cpu % 64)), __ATOMIC_SEQ_CST);
}

/* machine.c */
void shd__cpu_take_ipis(struct shd_cpu *cpu);
/* LATR: sweep CPU's posted requests (a tick or context switch). */
void shd__cpu_sweep(struct shd_cpu *cpu);
/* LATR's fallback: interrupt TARGET so that it sweeps now. */
void shd__cpu_kick(struct shd_cpu *target);
/* Check we are on CPU's own thread and not inside a handler. */
int shd__check_cpu(struct shd_cpu *cpu, const char *what);
/* ... and that MM is a user mm of CPU's machine. */
int shd__check_user_mm(struct shd_cpu *cpu, struct shd_mm *mm, const char *what);
/* Page-aligned, non-empty, inside user space / the vmap area: 0 or -EINVAL. */
int shd__check_user_range(struct shd_machine *m, const char *what,
			  uint64_t addr, uint64_t len);
int shd__check_kernel_range(struct shd_machine *m, const char *what,
			    uint64_t addr, uint64_t len);
void shd__report(struct shd_machine *m, const struct shd_violation *v);
void shd__hist_add(struct shd_counters *c, uint64_t ns);
/* Wait for CSD's ack, taking our own IPIs meanwhile; -ETIMEDOUT. */
int shd__csd_wait(struct shd_cpu *cpu, struct shd_csd *csd, unsigned target,
		  const char *what);

/* tlb.c: per-CPU TLB, touched only by its owner. */
int shd__tlb_init(struct shd_tlb *t, const struct shd_tlb_geometry *g);
void shd__tlb_free(struct shd_tlb *t);
struct shd_tlbe *shd__tlb_lookup(struct shd_tlb *t, uint64_t vpn, unsigned asid);
struct shd_tlbe *shd__tlb_fill(struct shd_tlb *t, uint64_t vpn, unsigned asid,
			       uint64_t val, uint64_t version, struct shd_pte *ptep);
unsigned shd__tlb_flush_page(struct shd_tlb *t, uint64_t vpn, unsigned asid);
void shd__tlb_flush_asid(struct shd_tlb *t, unsigned asid);
void shd__tlb_flush_global(struct shd_tlb *t);
void shd__tlb_flush_everything(struct shd_tlb *t);

/* mm.c: frames.  Allocated frames have ref 1; put drops one reference. */
uint64_t shd__frame_alloc(struct shd_machine *m);
void shd__frames_put(struct shd_machine *m, const uint64_t *pfns, size_t n);
void shd__frame_zero(struct shd_machine *m, uint64_t pfn);
static inline void shd__frame_get(struct shd_machine *m, uint64_t pfn)
{
	shd_add_return(&m->frames[pfn].ref, 1);
}

/* file.c: the page cache. */
void shd__file_get(struct shd_file *f);
void shd__file_put(struct shd_file *f);
/* The frame caching page IDX of F with a reference for the caller (the
 * page is allocated zeroed on first use); UINT64_MAX when out of frames. */
uint64_t shd__file_page(struct shd_file *f, uint64_t idx);
uint64_t shd__file_npages(const struct shd_file *f);
/* A VMA takes (gives back) a reference and counts as a mapping of F. */
void shd__file_map(struct shd_file *f);
void shd__file_unmap(struct shd_file *f);
/* mapping_mapped(): some VMA maps F. */
bool shd__file_mapped(struct shd_file *f);
struct shd_machine *shd__file_machine(const struct shd_file *f);

/* mm.c */
struct shd_mm *shd__mm_alloc(struct shd_machine *m, bool kernel);
void shd__mm_get(struct shd_mm *mm);
void shd__mm_put(struct shd_mm *mm);
void shd__mm_free_now(struct shd_mm *mm);
struct shd_pte *shd__pte_lookup(struct shd_mm *mm, uint64_t vpn);
void shd__pt_leaf_release_all(struct shd_machine *m);
void shd__cpu_switch_to_init_mm(struct shd_cpu *cpu);
void shd__mm_lock(struct shd_cpu *cpu, struct shd_mm *mm);
void shd__mm_unlock(struct shd_mm *mm);

/* tlbflush.c */
/* T_OUT (may be NULL) gets the oracle clock the flush covered. */
int shd__flush_tlb_mm_range(struct shd_cpu *cpu, struct shd_mm *mm,
			    uint64_t start, uint64_t end, bool freed_tables,
			    enum shd_iface iface, uint64_t *t_out);
void shd__flush_local_asid_ctx(struct shd_cpu *cpu, unsigned asid);
/* Reclaim: defer (or do) the flush of PFN's translation at VPN in MM, whose
 * PTE was just cleared under the mm lock (still held); the frame's
 * reference goes when the flush is done.  0 or a flush error. */
int shd__tlbbatch_add(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t vpn,
		      uint64_t pfn);
int shd__tlbbatch_flush(struct shd_cpu *cpu);
int shd__tlbbatch_init(struct shd_cpu *cpu);
void shd__tlbbatch_free(struct shd_cpu *cpu);
void shd__flush_tlb_func(struct shd_cpu *cpu, const struct shd_flush_info *f);
/* init_flush_tlb_info() for MM's vpns [S, E) (ceiling applied) and the
 * generation bump. */
void shd__flush_info_init(struct shd_cpu *cpu, struct shd_flush_info *f,
			  struct shd_mm *mm, uint64_t s_vpn, uint64_t e_vpn,
			  bool freed_tables);
/* Queue F to every CPU that must get it (REQ: one slot a CPU), ringing
 * doorbells, or QUIET: onto LATR's queues with none.  How many; a send
 * that failed sets *ERR. */
unsigned shd__queue_requests(struct shd_cpu *cpu, struct shd_flush_info *f,
			     struct shd_tlbbatch_req *req, bool quiet, int *err);
void shd__flush_ipi_func(void *target_ctx, struct shd_csd *csd);
int shd__send_csd(struct shd_cpu *cpu, unsigned target, struct shd_csd *csd,
		  shd_csd_fn func, void *info, void (*call)(void));
/* Whether another CPU C gets a user flush whose CPUs are MASK (counting
 * the avoided ones). */
bool shd__is_target(struct shd_cpu *cpu, unsigned c, const unsigned long *mask,
		    bool freed_tables);
void shd__probe_flush_begin(struct shd_cpu *cpu, enum shd_iface iface,
			    const struct shd_flush_info *f);
/* The end of a flush call that queued N requests: a shootdown (counted
 * and timed from T0) if N > 0, and the flush_end probe either way. */
void shd__flush_end(struct shd_cpu *cpu, enum shd_iface iface, uint64_t t0,
		    int n);
/* flush_tlb_batched_pending(): under MM's lock. */
int shd__flush_tlb_batched_pending(struct shd_cpu *cpu, struct shd_mm *mm);

/* latr.c: asynchronous (LATR) munmap flushes. */
#define SHD_LATR_TICK 256	/* a CPU sweeps every this many accesses */
int shd__latr_post(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t s,
		   uint64_t e, bool freed_tables, uint64_t **pfns, size_t *npfns,
		   struct shd_pt_leaf **tables);
int shd__latr_reap(struct shd_cpu *cpu, bool force);
int shd__latr_settle(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t s,
		     uint64_t e);
void shd__latr_tick(struct shd_cpu *cpu);
int shd__latr_relieve(struct shd_cpu *cpu, struct shd_mm *mm);

/* mm.c: hand detached page tables back after their flush (clock T over
 * vpns [S, E)). */
void shd__leaves_release(struct shd_mm *mm, struct shd_pt_leaf *list,
			 uint64_t s, uint64_t e, uint64_t t);

/* cache.c: aliasing D-caches (docs/caches.md).  All no-ops or absent when
 * the profile's D-cache is coherent (m->cache NULL). */
int shd__cache_machine_init(struct shd_machine *m);
void shd__cache_machine_free(struct shd_machine *m);
int shd__dcache_init(struct shd_cpu *cpu);
void shd__dcache_free(struct shd_cpu *cpu);
unsigned shd__cache_colour(const struct shd_machine *m, uint64_t va);
/* An 8-byte load or store at PA through virtual address VA: through CPU's
 * D-cache when it aliases, else straight to memory.  The kernel's own
 * accesses use the linear map: VA = SHD_PAGE_OFFSET + PA. */
void shd__mem_access(struct shd_cpu *cpu, uint64_t va, uint64_t pa,
		     bool write, uint64_t *val);
/* Invalidate CPU's own lines of frame PFN, every colour; how many. */
unsigned shd__dcache_flush_page(struct shd_cpu *cpu, uint64_t pfn);
/* flush_dcache_page() of frame PFN (of file F, or NULL), per profile. */
int shd__flush_dcache_page(struct shd_cpu *cpu, uint64_t pfn,
			   struct shd_file *f);
/* update_mmu_cache()'s half: a deferred flush of PFN, on its CPU. */
int shd__dcache_update_mmu(struct shd_cpu *cpu, uint64_t pfn);
/* Memory of PFN was just written behind the caches (device I/O): drop
 * its lines on every CPU, as coherent DMA does. */
void shd__dcache_dma_page(struct shd_machine *m, uint64_t pfn);
/* Write frame DST with SRC's bytes (UINT64_MAX: zeroes) behind every cache:
 * a kernel write of DST for the I-cache oracle. */
void shd__frame_fill(struct shd_machine *m, uint64_t dst, uint64_t src);
/* clear_user_page() / copy_user_page() of frame DST (from SRC, or zeroes
 * when SRC is UINT64_MAX) for user address UVA, on CPU (NULL: no CPU, the
 * frame is not yet visible to any cache) */
void shd__user_page_fill(struct shd_cpu *cpu, uint64_t dst, uint64_t src,
			 uint64_t uva);

/* A device's 8-byte DMA write at PA: memory, and on a bus that snoops,
 * every CPU's lines of it. */
void shd__dcache_device_store(struct shd_machine *m, uint64_t pa, uint64_t val);
#define SHD_STORE_DEVICE 0xffffu	/* frame.store_cpu: the last store was DMA */
/* Drop CPU's lines of frame PFN at the colour of virtual page VA (a
 * flush by virtual address); how many. */
unsigned shd__dcache_flush_va_page(struct shd_cpu *cpu, uint64_t va,
				   uint64_t pfn);
/* Drop every line of CPU's D-cache (a flush of the whole cache). */
unsigned shd__dcache_flush_all(struct shd_cpu *cpu);
/* mm.c, hypersparc: flush_cache_range() of MM's [S, E) vpns on every CPU
 * of MM (all for the kernel's), while the translations exist; records
 * the window the ordering oracle checks.  Under MM's lock. */
int shd__cache_flush_mm_range(struct shd_cpu *cpu, struct shd_mm *mm,
			      uint64_t s, uint64_t e);

/* Non-snooping I-caches (m->ilog non-NULL). */
int shd__icache_init(struct shd_cpu *cpu);
void shd__icache_free(struct shd_cpu *cpu);
uint64_t shd__icache_fetch(struct shd_cpu *cpu, uint64_t va, uint64_t pa);
/* A kernel write of frame PFN begins / ends (the I-cache oracle must not
 * judge fetches of it in between, nor count it synced). */
void shd__ikernel_write_begin(struct shd_machine *m, uint64_t pfn);
void shd__ikernel_write_end(struct shd_machine *m, uint64_t pfn);
/* Clean D / invalidate I of PFN on every CPU (ic ivau, broadcast): each
 * CPU drops its lines before its next fetch. */
void shd__icache_invalidate(struct shd_cpu *cpu, uint64_t pfn);
/* The oracle: kernel writes of PFN up to SEQ (shd__icache_seq()) are now
 * visible to every fetch. */
void shd__icache_credit(struct shd_machine *m, uint64_t pfn, uint32_t seq);
uint32_t shd__icache_seq(struct shd_machine *m, uint64_t pfn);
/* set_pte_at() of a user-executable PTE for PFN (__sync_icache_dcache). */
void shd__icache_set_pte_exec(struct shd_cpu *cpu, uint64_t pfn);

/* oracle.c */
/*
 * A consistent snapshot of P (seqlock read; the writer holds the mm lock and
 * stores version 0 while it changes the entry).  Acquire loads rather than
 * fences, which TSan cannot model, keep the version re-read last.
 */
static inline void shd__pte_snapshot(struct shd_pte *p, uint64_t *version,
				     uint64_t *val, uint64_t *prev)
{
	uint64_t v;

	for (;;) {
		v = shd_load_acquire(&p->version);
		if (v == 0) {
			caa_cpu_relax();
			continue;
		}
		*val = shd_load_acquire(&p->val);
		*prev = shd_load_acquire(&p->prev);
		if (shd_load_relaxed(&p->version) == v)
			break;
	}
	*version = v;
}

static inline uint64_t shd__pte_read(struct shd_pte *p, uint64_t *version)
{
	uint64_t val, prev;

	shd__pte_snapshot(p, version, &val, &prev);
	return val;
}
void shd__pte_write(struct shd_pte *p, uint64_t val, uint64_t version,
		    struct shd_mm *mm);
void shd__oracle_check_hit(struct shd_cpu *cpu, struct shd_mm *mm,
			   struct shd_tlbe *e, uint64_t addr);
uint64_t shd__oracle_begin(struct shd_mm *mm);
void shd__oracle_credit_range(struct shd_mm *mm, uint64_t start_vpn,
			      uint64_t end_vpn, uint64_t t, enum shd_iface iface);
void shd__oracle_credit_mm(struct shd_mm *mm, uint64_t t, enum shd_iface iface);
/* Credit T to the PTEs of [start, end) that are now clear (under the mm
 * lock): no translation of them may be used after the caller returns. */
void shd__oracle_credit_absent(struct shd_mm *mm, uint64_t start_vpn,
			       uint64_t end_vpn, uint64_t t,
			       enum shd_iface iface);
void shd__oracle_fold_leaf(struct shd_mm *mm, struct shd_pt_leaf *leaf);
/* Credit T to the slots of a detached LEAF (first vpn BASE) in [s, e). */
void shd__oracle_credit_leaf(struct shd_pt_leaf *leaf, uint64_t base,
			     uint64_t s, uint64_t e, uint64_t t,
			     enum shd_iface iface);

#endif
