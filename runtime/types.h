/* SPDX-License-Identifier: MIT */
/* The private types of the simulated machine (Linux's mm_types.h and percpu state); never installed. */
#ifndef SHD_RUNTIME_TYPES_H
#define SHD_RUNTIME_TYPES_H

/*
 * Every runtime file includes this header and the private headers of the
 * files it calls, which sit below it in the order the README's Layout
 * section gives.  The structures are shared; the functions are not.
 *
 * Lock nesting, outermost first (each lock is described where it is
 * declared below):
 *   mm->lock (mmap_lock + page-table lock)
 *     file->lock (page cache)       m->frame_lock (free frames)
 *     m->leaf_lock (page-table pool)
 *   cache stripe lock, then a CPU's dcache->lock (cache.c)
 *   m->viol_lock, m->mms_lock: leaves, nothing nests inside them
 * A CPU waiting for mm->lock keeps taking IPIs (mm.c); IPI handlers take
 * no mm lock.
 */
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

#include <shootdown/fault.h>
#include <shootdown/machine.h>
#include <shootdown/mm.h>
#include <shootdown/report.h>
#include <shootdown/sched.h>
#include <shootdown/stats.h>
#include "../ipi/ipi.h"
#include "../policy/decide.h"
#include "../common/atomics.h"
#include "../common/clock.h"
#include "../common/error.h"
#include "../common/rng.h"

#define SHD_CL SHD_CACHELINE
#define SHD_NR_ASIDS 6		/* TLB_NR_DYN_ASIDS on x86 */
/* Global ASIDs (bcast=invlpgb|rar): SHD_NR_ASIDS..asid_space-1, the same
 * on every CPU; arm64's ASIDs, SHD_NR_ASIDS up (context.c).  A TLB tag
 * holds SHD_ASID_TAG_BITS of ASID. */
#define SHD_ASID_TAG_BITS 23
#define SHD_ASID_GLOBAL ((1u << SHD_ASID_TAG_BITS) - 1)	/* kernel entries */
#define SHD_ASID_NONE 0xffffffffu	/* init_mm loaded: no user ASID */
#define SHD_LOADED_MM_SWITCHING UINT64_MAX	/* loaded_mm_id mid-switch_mm */
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
/* In a TLB entry's val only: the entry has set its PTE's D bit (a later
 * store through it need not; the PTE keeps its own in shd_pte.dirty). */
#define SHD_PTE_DIRTY	32ull
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
	/* x86's D bit: set by a write fault and by the first store through
	 * a translation (the walk's assist); a PTE cleared, or made where
	 * there was none, is clean; a change of a mapped one keeps it
	 * (pte_modify()).  zap_pte_range() reads it (delayed rmap). */
	uint32_t dirty;
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
	/* The I-cache oracle (non-snooping I-caches only, icache.c): kernel
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

/*
 * A file: an inode and its page cache (struct address_space).  file.c
 * owns it; the D-cache reads whether it is mapped (mapping_mapped()).
 */
struct shd_file {
	struct shd_machine *m;
	struct urcu_ref ref;
	pthread_mutex_t lock;		/* protects pfn[] */
	uint64_t npages;
	uint64_t *pfn;			/* UINT64_MAX: not cached */
	uint32_t nvmas;			/* VMAs mapping it: mapping_mapped() */
};

/* mapping_mapped(): some VMA maps F.  Seq-cst: pairs with the count's
 * RMWs in shd__file_map()/shd__file_unmap() (file.c). */
static inline bool shd__file_mapped(struct shd_file *f)
{
	return shd_load_seq(&f->nvmas) != 0;
}

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

	/* mmap_lock (mm.c): count > 0 readers, -1 a writer, 0 free; writers
	 * waiting hold new readers back.  Atomics (acquire to take, release
	 * to drop). */
	int64_t mmap_count;
	int32_t mmap_writers_waiting;
	/* mm->tlb_flush_pending: live mmu_gathers (inc at gather start,
	 * before any PTE change under the page-table lock; dec after the
	 * finish-time flush).  Seq-cst RMWs. */
	int32_t tlb_flush_pending;
	/* The page-table lock (mm-wide, below mmap_lock): PTEs, page-table
	 * pages, the VMA array's contents (changed under both locks), the
	 * reclaim/LATR lists below.  Waiters keep taking IPIs. */
	pthread_mutex_t lock;
	bool lock_held;		/* under lock; the seeded scheduler waits on it */
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

	/* bcast: mm->context.global_asid (0: none; sticky until the mm is
	 * freed) and asid_transition (CPUs may still run it on a dynamic
	 * ASID).  Seq-cst atomics: read by flushers and switch_mm. */
	uint32_t global_asid;
	int32_t asid_transition;

	/* switch=6.13: mm->context.next_trim_cpumask, in jiffies: a flush
	 * after it trims mm_cpumask (should_trim_cpumask()).  Racy by
	 * design, as in Linux: relaxed. */
	uint64_t next_trim_cpumask;

	/* The context the arch's allocator gave the mm (0: none yet).  arm64
	 * and riscv engines: mm->context.id, generation | ASID;
	 * sparc64 engine: mm->context.sparc64_ctx_val, version | number;
	 * hypersparc engine: mm->context + 1 (0: NO_CONTEXT).
	 * Written under the allocator's lock, read racily by switch_mm's
	 * fast path and by flushers (TLBI by ASID): relaxed atomics. */
	uint64_t hw_ctx;
};
/* m->mms's "container" (see struct shd_machine) is aligned only if node
 * sits at a line boundary. */
_Static_assert(offsetof(struct shd_mm, node) % SHD_CL == 0,
	       "struct shd_mm's node must start a cache line");

struct shd_tlbe {
	uint64_t tag;		/* vpn << 24 | asid << 1 | valid */
	uint64_t val;		/* the PTE as walked */
	uint64_t version;	/* its version (oracle) */
	struct shd_pte *ptep;	/* where it came from (oracle) */
	uint32_t fgen;		/* its frame's gen when filled (oracle) */
	uint32_t mm_id;		/* the mm walked, low 32 bits of its id (oracle) */
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
	bool trim_cpumask;	/* switch=6.13: should_trim_cpumask() said so */
	bool asid_transition;	/* finish_asid_transition(): the whole mask */
	bool hw_covered;	/* a broadcast did it on global-ASID CPUs */
	bool sbi;		/* riscv: an SBI RFENCE (the firmware's rules) */
	unsigned asid;		/* riscv, sparc64: the TLB tag to fence
				 * (the context), or SHD_ASID_NONE
				 * (riscv's FLUSH_TLB_NO_ASID) */
	const uint64_t *vaddrs;	/* sparc64: a tlb_batch's vpns, nr of them */
	uint64_t nr;
	bool live_batch;	/* sparc64, tlb_pending_async: read the
				 * initiator's batch as it is now */
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
	int32_t kicked;		/* LATR: its fallback interrupt was sent */
};

struct shd_tlbbatch {
	unsigned long *cpumask;		/* x86: union of the mms' masks */
	struct shd_tlbbatch_ent *e;
	size_t n;
	struct shd_flush_info *info;	/* arm64: one a page (SHD_TLBBATCH_MAX) */
	struct shd_tlbbatch_req *req;	/* arm64: SHD_TLBBATCH_MAX * ncpus */
	size_t nreq;
};
/* sparc64's per-CPU tlb_batch (arch/sparc/include/asm/tlbflush_64.h):
 * addresses of one mm whose PTEs changed in lazy MMU mode.  nr and
 * vaddrs are relaxed atomics: tlb_pending_async's targets read them. */
struct shd_tlb_batch {
	struct shd_mm *mm;
	uint64_t nr;
	uint64_t vaddrs[192];	/* SHD_TLB_BATCH_NR_MAX */
};

#define SHD_TLBBATCH_MAX 32	/* SWAP_CLUSTER_MAX: pages between flushes */

/*
 * Hardware broadcast invalidation (bcast.c).  A payload says what to
 * invalidate; a CPU's action vector holds one byte per payload slot,
 * PENDING while its hardware owes that invalidation.  Slots 0..rar_slots-1
 * are RAR's shared table; slot rar_slots + c is CPU c's INVLPGB "in
 * flight" (what its TLBSYNC waits for).
 */
enum shd_hw_kind {
	SHD_HW_ASID,		/* [start, end) of one ASID (END_ALL: all of it) */
	SHD_HW_NONGLOBAL,	/* every entry but the global (kernel) ones */
	SHD_HW_KERNEL,		/* [start, end) of the global entries */
	SHD_HW_EVERYTHING,	/* every entry, global ones included */
};
enum { SHD_HW_DONE = 0, SHD_HW_PENDING = 1 };

struct shd_hw_payload {
	uint64_t start_vpn, end_vpn;
	uint32_t kind;		/* enum shd_hw_kind */
	uint32_t asid;
	unsigned initiator;	/* whose TLBSYNC/spin to wake */
} __attribute__((aligned(SHD_CL)));

/* Global ASID bitmaps: SHD_ASID_SPACE_MAX bits. */
#define SHD_ASID_WORDS ((SHD_ASID_SPACE_MAX + 63) / 64)

struct shd_bcast {
	unsigned rar_slots, nslots;
	struct shd_hw_payload *payload;	/* [nslots] */
	int32_t *slot_busy;		/* [rar_slots]: RAR's slot bitmap */
	/* global_asid_lock: a spinlock whose waiters keep their hardware
	 * draining; protects last_asid and used[].  freed[] and available
	 * are atomics (mm_free_global_asid() runs on any thread). */
	int32_t lock;
	unsigned last_asid;
	uint32_t available;
	unsigned long used[SHD_ASID_WORDS];
	unsigned long freed[SHD_ASID_WORDS];
};

/* Per-CPU counters, owned by their CPU. Layout mirrors struct shd_stats. */
struct shd_counters {
	struct shd_stats s;
	uint64_t fault_fired[SHD_FAULT__COUNT];	/* shd__fault_fires() */
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
	/* bcast: PENDING bytes in hw_act (initiators add, this CPU's
	 * hardware subtracts); hw_act itself is written by both. */
	uint32_t hw_pending;
	uint8_t *hw_act;		/* [m->bcast->nslots] action vector */
	/* Read by flushers deciding whether to skip us: cpu_tlbstate_shared
	 * .is_lazy and (switch=6.13) cpu_tlbstate.loaded_mm, as the id of the
	 * mm (0: init_mm, SHD_LOADED_MM_SWITCHING).  Written by this CPU
	 * only, through tso.h. */
	int32_t is_lazy __attribute__((aligned(SHD_CL)));
	uint64_t loaded_mm_id;
	uint32_t loaded_asid_pub;	/* cpu_tlbstate.loaded_mm_asid (bcast) */
	/* arm64 engine: active_asids (this CPU's cmpxchg, a rollover's
	 * xchg to 0 by the CPU that rolls over) and reserved_asids (under
	 * the allocator's lock). */
	uint64_t arm64_active;
	uint64_t arm64_reserved;
	/* sparc64 engine: per_cpu_secondary_mm, the mm whose context this
	 * CPU's secondary context register holds; hypersparc's: the mm of
	 * its context register (each under its allocator's lock). */
	struct shd_mm *ctx_loaded_mm;
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
	struct shd_tlb_batch *tlb_batch;	/* sparc64's (tlb_batch.c) */
	bool hw_issued;			/* an INVLPGB not yet TLBSYNCed */
	struct shd_latr *latr;		/* LATR flushes it posted, in flight */
	struct shd_trace_buf *tbuf;	/* tlb_flush events; NULL: not traced */
	struct shd_sb *sb;		/* x86-TSO store buffer (tso.c); NULL: none */
	uint32_t ticks;			/* accesses, for LATR's sweeps */
	uint64_t rng;
	unsigned pu;			/* host PU it is bound to */
	pthread_t thread;
	struct shd_counters cnt;
};

struct shd_machine {
	struct shd_config cfg;
	struct shd_seeded *seeded;	/* NULL: the host schedules (seeded.c) */
	bool stopped;			/* the CPU threads have ended */
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
	struct shd_bcast *bcast;	/* NULL: bcast=off, x86's TLB engine */
	struct shd_asids *asids;	/* arm64's ASID allocator (context.c) */
	struct shd_sparc64_ctx *sparc64_ctx;	/* sparc64's contexts
						 * (context_sparc64.c) */
	struct shd_srmmu *srmmu;	/* hypersparc's contexts (srmmu.c) */
	pthread_mutex_t mms_lock;	/* writers of mms; readers use RCU */
	/* Cache-line aligned, as struct shd_mm's node is: when
	 * cds_list_for_each_entry_safe() ends it forms the head's
	 * "container", and UBSan checks that struct shd_mm's alignment. */
	struct cds_list_head mms __attribute__((aligned(SHD_CL)));

	pthread_mutex_t viol_lock;	/* protects viol[], nviol */
	struct shd_violation viol[SHD_MAX_VIOLATIONS];
	uint64_t nviol;

	int32_t stopping;
	hwloc_topology_t topo;
};

/* VA is in the kernel's vmap area. */
static inline bool shd__is_kernel_va(uint64_t va)
{
	return va >= SHD_KERNEL_BASE && va < SHD_KERNEL_TOP;
}

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
 * Defined in seeded.c, which switches it with the CPUs' contexts.
 */
extern __thread struct shd_cpu *shd__this_cpu
	__attribute__((tls_model("initial-exec")));

static inline bool shd__fault(const struct shd_machine *m, enum shd_fault f)
{
	return (m->cfg.faults >> f) & 1;
}

/* Injected fault F just made CPU do other than the correct path would:
 * count one firing (shd_fault_firings()).  The CPU's own counter. */
static inline void shd__fault_fired(struct shd_cpu *cpu, enum shd_fault f)
{
	cpu->cnt.fault_fired[f]++;
}

/*
 * Whether fault F is injected, counting a firing if it is.  Call it only
 * where the correct path would do something the fault skips or changes
 * (after the conditions under which it does), so that a firing is a real
 * divergence, not a test of the predicate: a fault that never fires was
 * not exercised.  The fault-free path pays one predictable branch.
 */
static inline bool shd__fault_fires(struct shd_cpu *cpu, enum shd_fault f)
{
	if (__builtin_expect(!shd__fault(cpu->m, f), 1))
		return false;
	shd__fault_fired(cpu, f);
	return true;
}

/*
 * cpumask helpers.  Sequentially consistent, as the kernel's atomic bitops
 * are full barriers: switch_mm's set pairs with a flusher's tlb_gen bump
 * before its test (tlbflush.c's theory).
 */
static inline bool shd__mask_test(const unsigned long *mask, unsigned cpu)
{
	return (shd_load_seq(&mask[cpu / 64]) >> (cpu % 64)) & 1;
}
static inline void shd__mask_set(unsigned long *mask, unsigned cpu)
{
	/* Seq-cst RMW: see above. */
	shd_fetch_or(&mask[cpu / 64], 1ul << (cpu % 64));
}
static inline void shd__mask_clear(unsigned long *mask, unsigned cpu)
{
	/* Seq-cst RMW: see above. */
	shd_fetch_and(&mask[cpu / 64], ~(1ul << (cpu % 64)));
}
/* CPUs in MASK of M: a policy's hint, read without ordering (a racy
 * cpumask_weight()). */
static inline unsigned shd__mask_weight(const struct shd_machine *m,
					const unsigned long *mask)
{
	unsigned n = 0;

	for (size_t w = 0; w < m->mask_words; w++)
		n += (unsigned)__builtin_popcountl(shd_load_relaxed(&mask[w]));
	return n;
}

#endif
