/* SPDX-License-Identifier: MIT */
/* Violation reports: kept, counted, and read back. */
#ifndef SHD_RUNTIME_REPORT_H
#define SHD_RUNTIME_REPORT_H

#include "types.h"

/* Record V (the machine keeps the first SHD_MAX_VIOLATIONS and counts
 * all).  Any thread; takes m->viol_lock. */
void shd__report(struct shd_machine *m, const struct shd_violation *v);

/* The oracle's report, made by CPU on its own thread: counted in its
 * counters too (violations made elsewhere, as the watchdog's, only by the
 * machine). */
void shd__report_cpu(struct shd_cpu *cpu, const struct shd_violation *v);

/* Start a report of KIND at ADDR by CPU in mm MM_ID (0: the kernel),
 * blamed on the interface IFACE; the caller fills in the versions and the
 * text (which must name the seed, as every report does). */
void shd__violation_init(struct shd_violation *v, const struct shd_machine *m,
			 enum shd_violation_kind kind, unsigned cpu,
			 uint64_t mm_id, uint64_t addr, const char *iface);

/* Violations reported so far; forget them (shd_machine_stats_reset()). */
uint64_t shd__violations_count(struct shd_machine *m);
void shd__violations_reset(struct shd_machine *m);

#endif
