/* SPDX-License-Identifier: MIT */
/* A scenario in memory: its machine, names and per-CPU op lists, the ops'
 * syntax, printing, checking, and the machine it asks for. */
#ifndef SHD_BENCH_SCENARIO_OPS_H
#define SHD_BENCH_SCENARIO_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <shootdown/shootdown.h>

#define SCN_VERSION 1
#define SCN_MAX_CPUS 64		/* the explorer's masks are 64 bits */
#define SCN_MAX_NAMES 512	/* mms (declared and forked) and files */
#define SCN_MAX_NAME 32		/* a name's length, NUL included */
#define SCN_MAX_OPS (1u << 20)	/* in all blocks */
#define SCN_MAX_LINE 4096	/* bytes in one line */
#define SCN_MAX_SETS 16
#define SCN_MAX_FILE_PAGES 4096
#define SCN_PAGE 4096ull	/* scenarios run with 4 KiB pages */
#define SCN_SETUP SCN_MAX_CPUS	/* the setup block's index in blocks[] */

/* The ops, one library call each (bench/scenario.c has their syntax). */
enum scn_kind {
	SCN_SWITCH_MM, SCN_LAZY, SCN_MMAP, SCN_MMAP_FILE, SCN_MUNMAP,
	SCN_MPROTECT, SCN_MADVISE, SCN_LOAD, SCN_STORE, SCN_FETCH,
	SCN_FLUSH_TLB_PAGE, SCN_FLUSH_TLB_RANGE, SCN_FLUSH_TLB_MM,
	SCN_FLUSH_TLB_ALL, SCN_FLUSH_TLB_KERNEL_RANGE, SCN_TRY_TO_UNMAP,
	SCN_TRY_TO_UNMAP_FLUSH, SCN_FORK, SCN_MM_DESTROY, SCN_FILE_WRITE,
	SCN_FILE_READ, SCN_PTRACE_POKE, SCN_VMAP, SCN_VUNMAP,
	SCN_FLUSH_ICACHE_RANGE, SCN_DMA_WRITE, SCN_DMA_READ,
	SCN_INVALIDATE_KERNEL_VMAP_RANGE, SCN_FLUSH_KERNEL_VMAP_RANGE,
	SCN_POLL,
	SCN__KINDS
};

/* An op's arguments by role; which it has is the op's syntax. */
struct scn_op {
	uint8_t kind;		/* enum scn_kind */
	uint8_t prot;		/* SHD_PROT_* */
	uint8_t shared;		/* mmap_file: SHD_MAP_SHARED or _PRIVATE */
	uint16_t mm;		/* the mm's name (index in names[]) */
	uint16_t other;		/* fork's child, or the file */
	uint64_t addr;		/* an address, or a file offset */
	uint64_t n;		/* pages, a length, an end, or a value */
	uint64_t pgoff;		/* mmap_file: the file's first page */
	unsigned line;		/* in the file (0: built, not parsed) */
	uint64_t seq;		/* the order it ran in, when recorded (minimize) */
};

struct scn_block {
	struct scn_op *op;
	unsigned n, cap;
	unsigned line;		/* of 'cpu N' or 'setup'; 0: absent */
};

struct scn_name {
	char name[SCN_MAX_NAME];
	bool file;
	uint64_t pages;		/* a file's size */
	int fork_cpu;		/* a fork child: the block of its fork (-1: an mm line) */
	unsigned line;		/* where it is declared */
};

struct scenario {
	char file[256];		/* where it was read from, for messages */
	char *comment;		/* '#' lines before the first directive, joined
				 * with '\n' (no '#'); NULL: none */
	unsigned ncpus;
	char policy[32];
	char arch[64];
	uint64_t faults;	/* 1 << enum shd_fault */
	char sets[SCN_MAX_SETS][64];	/* KNOB=VALUE, as written */
	unsigned nsets;
	bool expect_violation;
	int expect_kind;	/* enum shd_violation_kind; -1: any */
	int preemptions;	/* the file's default bound; -1: none given */
	struct scn_name *names;
	unsigned nnames;
	struct scn_block blocks[SCN_MAX_CPUS + 1];	/* [SCN_SETUP]: setup */
	/* Lines of the directives, for messages about their values. */
	unsigned line_policy, line_arch, line_inject[64], line_set[SCN_MAX_SETS];
};

/*
 * The checks scenario_parse() makes once the whole file is read, for a
 * scenario built or edited in memory (minimize's candidates): names
 * declared, CPUs in range, a user access only where its CPU runs an mm,
 * faults that can fire under the policy and architecture.  0 or -1 with
 * the reason in ERR.
 */
int scenario_validate(const struct scenario *s, char *err, size_t errlen);
/* The machine S describes (policy, knobs, arch, faults), seeded
 * scheduling and the oracle on.  0 or -1 with the reason in ERR. */
int scenario_config(const struct scenario *s, struct shd_config *cfg,
		    char *err, size_t errlen);
/* Deep copy (for minimize's candidates); 0 or -ENOMEM. */
int scenario_copy(struct scenario *dst, const struct scenario *src);
/* Ops in every block, setup included. */
unsigned scenario_ops(const struct scenario *s);
/* Append OP to block B; 0 or -ENOMEM. */
int scenario_add_op(struct scenario *s, unsigned b, const struct scn_op *op);
/* OP as a line of the file ("mmap A 0x400000 4 rw"). */
void scenario_format_op(const struct scenario *s, const struct scn_op *op,
			char *buf, size_t len);
/* The name of op kind K ("flush_tlb_range"), its arguments as letters
 * (scenario_ops.c says what each is), and as words for messages ("MM
 * ADDR PAGES"). */
const char *scenario_kind_name(unsigned k);
const char *scenario_kind_args(unsigned k);
const char *scenario_kind_usage(unsigned k);
/* The op kind called NAME, or -1. */
int scenario_kind_lookup(const char *name);
/* Every op's name, for "did you mean"; *n is set. */
const char *const *scenario_kind_names(size_t *n);
/* Check OP's values (alignment, ranges, the file's size, whether its
 * names are mms or files) as op IDX of block B of S; 0 or -1 with
 * "WHERE: OP: what is wrong" in ERR. */
int scenario_check_op(const struct scenario *s, unsigned b, unsigned idx,
		      const struct scn_op *op, char *err, size_t errlen);
/* "FILE:LINE" for OP (or "FILE: cpu N op K" for a built one). */
void scenario_where(const struct scenario *s, unsigned b, unsigned idx,
		    const struct scn_op *op, char *buf, size_t len);
/* PROT as the file spells it ("rw"), or NULL; and back (-1: not one). */
const char *scenario_prot_name(unsigned prot);
int scenario_prot_parse(const char *word);
/* Whether op O names mm or file N (as an argument or fork's child). */
bool scenario_op_uses(const struct scn_op *o, unsigned n);

void scenario_free(struct scenario *s);
/* Print S in the file format: scenario_parse() gives S back. 0 or -1. */
int scenario_write(FILE *f, const struct scenario *s);

#endif
