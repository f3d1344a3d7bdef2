/* SPDX-License-Identifier: MIT */
/* A workload's library calls, recorded as scenario ops (docs/scenarios.md)
 * while it runs: the raw material of shootdown minimize. */
#ifndef SHD_BENCH_OPLOG_H
#define SHD_BENCH_OPLOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <shootdown/shootdown.h>

#define OPLOG_SETUP UINT32_MAX	/* an entry of the setup task */
#define OPLOG_MAX_NAMES 64	/* declared mms and files (forks are not) */

struct oplog_entry {
	uint32_t cpu;		/* who called (OPLOG_SETUP: the setup task) */
	uint32_t text;		/* offset of its line in the log's text */
};

/*
 * The log of one run.  Calls go through the oplog_*() wrappers below,
 * which append a line ("munmap A 0x40000000 3") and then make the call.
 * Entries are in the order the calls started, which under the seeded
 * scheduler is the run's own order.  Once a call returns and the oracle
 * has reported a violation, the log stops: entries past STOP_AT started
 * after it and cannot have caused it.  Any thread; one lock.
 */
struct oplog {
	pthread_mutex_t lock;
	struct oplog_entry *e;
	size_t n, cap;
	char *text;
	size_t len, tcap;
	bool setup;			/* calls now are the setup task's */
	bool stopped;			/* a violation was seen */
	size_t stop_at;			/* entries before it are all that count */
	struct shd_violation first;	/* the first report */
	unsigned nforks;
	bool nomem;			/* an entry was lost: the log is unusable */
	struct {
		const void *p;
		char name[16];
		uint64_t pages;		/* a file's; 0: an mm */
	} names[OPLOG_MAX_NAMES + SHD_MAX_CPUS];
	unsigned nnames, ndeclared;	/* all names; those declared up front */
};

void oplog_init(struct oplog *lg);
void oplog_free(struct oplog *lg);
/* Declare an mm or a file (PAGES) created before the run, as NAME. */
void oplog_name_mm(struct oplog *lg, const struct shd_mm *mm, const char *name);
void oplog_name_file(struct oplog *lg, const struct shd_file *f,
		     const char *name, uint64_t pages);
/* Whether the log has stopped (no later call can matter); false if LG
 * is NULL. */
bool oplog_stopped(struct oplog *lg);
/* The text of entry I. */
const char *oplog_text(const struct oplog *lg, size_t i);

/* The wrappers: each records its call in LG (if not NULL) and makes it. */
int oplog_switch_mm(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm);
void oplog_enter_lazy_tlb(struct oplog *lg, struct shd_cpu *cpu);
int oplog_mmap(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm,
	       uint64_t addr, uint64_t len, unsigned prot);
int oplog_mmap_file(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm,
		    uint64_t addr, uint64_t len, unsigned prot, unsigned flags,
		    struct shd_file *f, uint64_t pgoff);
int oplog_munmap(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm,
		 uint64_t addr, uint64_t len);
int oplog_mprotect(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm,
		   uint64_t addr, uint64_t len, unsigned prot);
int oplog_madvise_dontneed(struct oplog *lg, struct shd_cpu *cpu,
			   struct shd_mm *mm, uint64_t addr, uint64_t len);
int oplog_load(struct oplog *lg, struct shd_cpu *cpu, uint64_t addr,
	       uint64_t *val);
int oplog_store(struct oplog *lg, struct shd_cpu *cpu, uint64_t addr,
		uint64_t val);
int oplog_fetch(struct oplog *lg, struct shd_cpu *cpu, uint64_t addr,
		uint64_t *val);
int oplog_flush_tlb_page(struct oplog *lg, struct shd_cpu *cpu,
			 struct shd_mm *mm, uint64_t addr);
int oplog_flush_tlb_range(struct oplog *lg, struct shd_cpu *cpu,
			  struct shd_mm *mm, uint64_t start, uint64_t end);
int oplog_flush_tlb_mm(struct oplog *lg, struct shd_cpu *cpu,
		       struct shd_mm *mm);
int oplog_flush_tlb_all(struct oplog *lg, struct shd_cpu *cpu);
int oplog_try_to_unmap(struct oplog *lg, struct shd_cpu *cpu,
		       struct shd_mm *mm, uint64_t va);
int oplog_try_to_unmap_flush(struct oplog *lg, struct shd_cpu *cpu);
int oplog_mm_dup(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *parent,
		 struct shd_mm **child);
void oplog_mm_destroy(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm);
int oplog_file_write(struct oplog *lg, struct shd_cpu *cpu, struct shd_file *f,
		     uint64_t off, uint64_t val);
int oplog_file_read(struct oplog *lg, struct shd_cpu *cpu, struct shd_file *f,
		    uint64_t off, uint64_t *val);
int oplog_ptrace_poke(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm,
		      uint64_t va, uint64_t val);
int oplog_vmap(struct oplog *lg, struct shd_cpu *cpu, uint64_t addr,
	       uint64_t len);
int oplog_vunmap(struct oplog *lg, struct shd_cpu *cpu, uint64_t addr,
		 uint64_t len);
int oplog_flush_icache_range(struct oplog *lg, struct shd_cpu *cpu,
			     uint64_t start, uint64_t end);
int oplog_dma_write(struct oplog *lg, struct shd_cpu *cpu, uint64_t kva,
		    uint64_t val);
int oplog_dma_read(struct oplog *lg, struct shd_cpu *cpu, uint64_t kva,
		   uint64_t *val);
int oplog_invalidate_kernel_vmap_range(struct oplog *lg, struct shd_cpu *cpu,
				       uint64_t addr, uint64_t len);
int oplog_flush_kernel_vmap_range(struct oplog *lg, struct shd_cpu *cpu,
				  uint64_t addr, uint64_t len);

#endif
