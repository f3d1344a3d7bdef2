/* SPDX-License-Identifier: MIT */
/* The machine's counters: per-CPU, summed on demand, with a latency histogram. */

/*
 * Each CPU owns a cache-line-aligned struct shd_counters and is the only
 * writer of it (plain increments); the sums are taken when no task runs.
 * Shootdown latency goes into a log-linear histogram (8 buckets per power
 * of two), from which the percentiles are read.
 */
#include <errno.h>
#include <string.h>

#include "report.h"
#include "stats.h"

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

/* Merge the counters of CPUs [FIRST, END) of M into OUT (zeroed here). */
static void stats_merge(struct shd_machine *m, unsigned first, unsigned end,
			struct shd_stats *out)
{
	uint32_t hist[SHD_HIST_BUCKETS];
	uint64_t total = 0, seen = 0;
	size_t nf;
	const struct shd_stat_field *f = shd_stat_fields(&nf);

	memset(out, 0, sizeof(*out));
	memset(hist, 0, sizeof(hist));
	for (unsigned c = first; c < end; c++) {
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
}

void shd_machine_stats(struct shd_machine *m, struct shd_stats *out)
{
	uint64_t total;

	if (!out)
		return;
	memset(out, 0, sizeof(*out));
	if (!m)
		return;
	stats_merge(m, 0, m->ncpus, out);
	/* Violations also count reports made outside a CPU (watchdog). */
	total = shd__violations_count(m);
	if (total > out->violations)
		out->violations = total;
}

int shd_machine_cpu_stats(struct shd_machine *m, unsigned cpu,
			  struct shd_stats *out)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (!m || !out || cpu >= m->ncpus)
		return -EINVAL;
	stats_merge(m, cpu, cpu + 1, out);
	return 0;
}

void shd_cpu_stats(const struct shd_cpu *cpu, struct shd_stats *out)
{
	if (out)
		*out = cpu->cnt.s;
}

uint64_t shd_fault_firings(struct shd_machine *m, enum shd_fault f)
{
	uint64_t n = 0;

	if (!m || (unsigned)f >= SHD_FAULT__COUNT)
		return 0;
	for (unsigned c = 0; c < m->ncpus; c++)
		n += m->cpus[c]->cnt.fault_fired[f];
	return n;
}

void shd_machine_stats_reset(struct shd_machine *m)
{
	if (!m)
		return;
	for (unsigned c = 0; c < m->ncpus; c++)
		memset(&m->cpus[c]->cnt, 0, sizeof(m->cpus[c]->cnt));
	shd__violations_reset(m);
}
