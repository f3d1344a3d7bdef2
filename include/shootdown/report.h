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

/*
 * The kinds of report, declared once: SHD_VIOLATIONS_MAP(X) calls
 * X(ENUM, name, meaning) for each, generating the enum and
 * shd_violation_kind_name().
 */
#define SHD_VIOLATIONS_MAP(X) \
	X(STALE_TLB, stale_tlb, "a hit on a translation a completed flush removed") \
	X(WATCHDOG, watchdog, "a CPU did not acknowledge an IPI in time") \
	X(USE_AFTER_FREE, use_after_free, "a hit on a translation to a freed frame") \
	X(STALE_DATA, stale_data, "a load returned a stale cache line") \
	X(STALE_INSN, stale_insn, "a fetch returned a stale I-cache line") \
	X(ORDERING, ordering, "a PTE changed before its cache flush")

enum shd_violation_kind {
#define SHD_VIOLATION_ENUM_(e, name, help) SHD_VIOLATION_##e,
	SHD_VIOLATIONS_MAP(SHD_VIOLATION_ENUM_)
#undef SHD_VIOLATION_ENUM_
};

/* KIND's name ("stale_tlb", as the JSON output spells it), or "unknown".
 * Any thread. */
SHD_EXPORT const char *shd_violation_kind_name(enum shd_violation_kind kind);

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
