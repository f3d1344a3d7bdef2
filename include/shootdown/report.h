/* SPDX-License-Identifier: MIT */
/* shootdown reports: the oracle's violations and the watchdog's. */
#ifndef SHOOTDOWN_REPORT_H
#define SHOOTDOWN_REPORT_H

#include <stdint.h>
#include <shootdown/export.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_machine;

enum shd_violation_kind {
	SHD_VIOLATION_STALE_TLB,	/* a hit on a translation a completed flush removed */
	SHD_VIOLATION_WATCHDOG,		/* a CPU did not acknowledge an IPI in time */
	SHD_VIOLATION_USE_AFTER_FREE,	/* a hit on a translation to a freed frame */
	SHD_VIOLATION_STALE_DATA,	/* a load returned a stale cache line */
	SHD_VIOLATION_STALE_INSN,	/* a fetch returned a stale I-cache line */
	SHD_VIOLATION_ORDERING,		/* a PTE changed before its cache flush */
};

/*
 * One oracle report.  `interface` is the flush interface whose return made
 * the translation illegal; versions are the entry's, the PTE's latest and the
 * newest version a completed flush covers.
 */
struct shd_violation {
	enum shd_violation_kind kind;
	unsigned cpu;
	uint64_t mm_id;		/* 0 for the kernel */
	uint64_t addr;
	const char *interface;
	uint64_t entry_version;
	uint64_t pte_version;
	uint64_t flushed_version;
	uint64_t seed;
	char text[384];		/* the whole report, one line */
};

/*
 * Copy the first reports (at most MAX, the machine keeps the first 16) into
 * OUT; returns how many violations there were in all.  Any thread.
 */
SHD_EXPORT uint64_t shd_machine_violations(struct shd_machine *m,
					   struct shd_violation *out,
					   size_t max);


#ifdef __cplusplus
}
#endif
#endif
