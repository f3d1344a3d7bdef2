/* SPDX-License-Identifier: MIT */
/* Flush policies: knobs and named presets, as data. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <shootdown/error.h>
#include <shootdown/policy.h>
#include <shootdown/policy_ops.h>
#include "../common/error.h"

/* The broadcast knobs' defaults, in every preset (bcast itself off), and
 * arm64's (used only by its engine, --arch arm64). */
#define BCAST_DEFAULTS .invlpgb_count_max = 8, .asid_space = SHD_ASID_SPACE_MAX, \
	.broadcast_min_cpus = 4, .rar_slots = SHD_RAR_SLOTS_MAX, \
	.tlbi_range = true, .max_dvm_ops = 512, .rfence = SHD_RFENCE_IPI, \
	.flush_all_threshold = 64, .sbi_flush_limit = 1, \
	.tlb_batch_nr = SHD_TLB_BATCH_NR_MAX

/* Presets are data; preset_names below describes them in the same order. */
static const struct shd_policy presets[] = {
	{ "broadcast", .prune = false, .lazy = false, .gen = false,
	  .coalesce = false, .concurrent = false, .ceiling = 33,
	  .async_us = 1000, .hz = 250, .trim_ms = 1000,
	  BCAST_DEFAULTS },
	{ "linux", .prune = true, .lazy = true, .gen = true,
	  .coalesce = true, .concurrent = true, .ceiling = 33,
	  .batch = SHD_BATCH_X86, .async_us = 1000,
	  .switch_mm = SHD_SWITCH_6_13, .hz = 250, .trim_ms = 1000,
	  BCAST_DEFAULTS },
	{ "linux-6.12", .prune = true, .lazy = true, .gen = true,
	  .coalesce = true, .concurrent = true, .ceiling = 33,
	  .batch = SHD_BATCH_X86, .async_us = 1000, .hz = 250, .trim_ms = 1000,
	  BCAST_DEFAULTS },
	{ "linux-unbatched", .prune = true, .lazy = true, .gen = true,
	  .coalesce = true, .concurrent = true, .ceiling = 33,
	  .batch = SHD_BATCH_OFF, .async_us = 1000,
	  .switch_mm = SHD_SWITCH_6_13, .hz = 250, .trim_ms = 1000,
	  BCAST_DEFAULTS },
	{ "latr", .prune = true, .lazy = true, .gen = true,
	  .coalesce = true, .concurrent = true, .ceiling = 33,
	  .batch = SHD_BATCH_X86, .async = true, .async_us = 1000, .hz = 250, .trim_ms = 1000,
	  BCAST_DEFAULTS },
	{ "linux-invlpgb", .prune = true, .lazy = true, .gen = true,
	  .coalesce = true, .concurrent = true, .ceiling = 33,
	  .batch = SHD_BATCH_X86, .async_us = 1000,
	  .switch_mm = SHD_SWITCH_6_13, .hz = 250, .trim_ms = 1000,
	  .bcast = SHD_BCAST_INVLPGB, BCAST_DEFAULTS },
	{ "linux-rar", .prune = true, .lazy = true, .gen = true,
	  .coalesce = true, .concurrent = true, .ceiling = 33,
	  .batch = SHD_BATCH_X86, .async_us = 1000,
	  .switch_mm = SHD_SWITCH_6_13, .hz = 250, .trim_ms = 1000,
	  .bcast = SHD_BCAST_RAR, BCAST_DEFAULTS },
};

#define NPRESETS (sizeof(presets) / sizeof(presets[0]))

static const struct shd_named preset_names[] = {
	{ "broadcast", "naive SMP: every flush to every online CPU, no pruning, "
	  "no lazy skip, no generations, no coalescing" },
	{ "linux", "Linux 6.18 x86 (arch/x86/mm/tlb.c as of 83b0177a6c48): "
	  "lazy mm_cpumask trimmed once a second (209954cbc7d0, 6db2526c1d69), "
	  "flushes to CPUs running the mm or LOADED_MM_SWITCHING "
	  "(fea4e317f9e7), smp_mb in switch_mm (83b0177a6c48), lazy skip, "
	  "tlb_gen, coalesced IPIs, ceiling 33, batched reclaim (switch=6.13)" },
	{ "linux-6.12", "Linux 5.13 to 6.12 x86: a CPU leaving an mm clears its "
	  "mm_cpumask bit, flushes to every non-lazy CPU in the mask "
	  "(switch=5.13), tlb_gen, coalesced IPIs, ceiling 33, batched "
	  "reclaim" },
	{ "linux-unbatched", "linux, but reclaim flushes each page as it "
	  "unmaps it (before Mel Gorman's 2015 batching, 72b252aed506)" },
	{ "latr", "LATR (Kumar et al., ASPLOS'18) on linux-6.12: lazy munmap, "
	  "remote CPUs sweep the flush at their next switch or tick, an "
	  "interrupt after async_us" },
	{ "linux-invlpgb", "linux with AMD INVLPGB (bcast=invlpgb; Linux "
	  "6.15, CONFIG_BROADCAST_TLB_FLUSH, 4afeb0ed1753 and its series): an mm "
	  "sampled running on 4+ CPUs gets a global ASID, its flushes are "
	  "INVLPGB + TLBSYNC with no IPIs; kernel and reclaim flushes broadcast. "
	  "INVLPGB/TLBSYNC cycle costs and invlpgb_count_max=8 are "
	  "unverified/assumed" },
	{ "linux-rar", "linux with Intel RAR (bcast=rar; RFC v1-v4, "
	  "May-June 2025, Rik van Riel; RFC, unmerged): global ASIDs as "
	  "linux-invlpgb, flushes as requests to mm_cpumask through a 64-slot "
	  "payload table, completed by the target without a handler; a CPU "
	  "new to the mask flushes on switch-in; cpumask trims stay IPIs. "
	  "Cycle cost assumed" },
};
_Static_assert(sizeof(preset_names) / sizeof(preset_names[0]) == NPRESETS,
	       "one description per preset");

static const struct shd_named knobs[] = {
	{ "prune", "on|off: send only to CPUs in mm_cpumask" },
	{ "lazy", "on|off: skip lazy-TLB CPUs unless page tables were freed" },
	{ "gen", "on|off: tlb_gen decides nothing/partial/full, and switch-in flushes" },
	{ "coalesce", "on|off: ring a doorbell only when the call queue was empty" },
	{ "concurrent", "on|off: flush locally while remote requests are in flight" },
	{ "ceiling", "pages: ranges above this become full flushes (0..16777216)" },
	{ "batch", "off|x86|arm64: how reclaim's unmaps flush (see policy.h)" },
	{ "async", "on|off: LATR lazy munmap (remote CPUs sweep; frees wait)" },
	{ "async_us", "µs: LATR's bound before a real interrupt (1..10000000)" },
	{ "switch", "5.13|6.13: switch_mm and should_flush_tlb as in that Linux "
	  "(6.13: lazy mm_cpumask, LOADED_MM_SWITCHING; see policy.h)" },
	{ "hz", "ticks per simulated second (CONFIG_HZ: 100, 250, 300, 1000; "
	  "1..100000): jiffies for the cpumask trim" },
	{ "trim_ms", "ms: switch=6.13 trims mm_cpumask at most this often per "
	  "mm (1000, 6db2526c1d69; 0: every flush, 209954cbc7d0 alone)" },
	{ "bcast", "off|invlpgb|rar: hardware broadcast invalidation with "
	  "global ASIDs (AMD INVLPGB, Linux 6.15; Intel RAR, RFC, unmerged)" },
	{ "invlpgb_count_max", "pages per INVLPGB (1..65536; CPUID "
	  "0x80000008 EDX+1, default 8 unverified/assumed)" },
	{ "asid_space", "MAX_ASID_AVAILABLE: global ASIDs 6..N-1 (8..4094; "
	  "small values wrap the allocator)" },
	{ "broadcast_min_cpus", "CPUs running an mm (not lazy) for it to get a "
	  "global ASID and hardware broadcast (0..8192; Linux: >3, so 4)" },
	{ "rar_slots", "RAR payload table entries (1..64; the RFC: 64)" },
	{ "tlbi_range", "on|off: arm64 engine: range TLBIs (FEAT_TLBIRANGE, "
	  "Armv8.4) for ranges; off: one TLBI a page (Armv8.2)" },
	{ "max_dvm_ops", "arm64 engine: MAX_DVM_OPS, pages at which a range "
	  "without range TLBIs becomes one ASID flush (PTRS_PER_PTE: 512 at "
	  "4 KiB pages; 1..16777216)" },
	{ "rfence", "ipi|sbi: riscv engine: remote sfence.vma by IPI (Linux "
	  "since dc892fb44322) or by the SBI RFENCE call into firmware" },
	{ "flush_all_threshold", "riscv engine: tlb_flush_all_threshold, pages "
	  "above which a range is flushed whole (64, ba6f35964c51; 0..16777216)" },
	{ "sbi_flush_limit", "riscv engine, rfence=sbi: the firmware's "
	  "tlb_range_flush_limit in pages, above which it flushes the whole "
	  "ASID (OpenSBI: 4 KiB, so 1; 1..16777216)" },
	{ "clear_cpumask", "on|off: riscv engine: clear this CPU from "
	  "mm_cpumask after a whole-ASID flush of an mm it is not running (Xu "
	  "Lu's 2025 patch, unmerged; off: Linux, 82dd33fde026)" },
	{ "svinval", "on|off: riscv engine: a range's per-page loop as "
	  "sfence.w.inval, sinval.vma per page, sfence.inval.ir (the Svinval "
	  "patch, unmerged)" },
	{ "tlb_batch_nr", "sparc64 engine: addresses a tlb_batch holds before "
	  "it is flushed (TLB_BATCH_NR: 192; 1..192)" },
};

int shd_policy_preset(const char *name, struct shd_policy *out)
{
	if (!out)
		return shd__fail(-EINVAL, "shd_policy_preset: no policy to fill");
	for (size_t i = 0; name && i < NPRESETS; i++) {
		if (strcmp(name, presets[i].name) == 0) {
			*out = presets[i];
			return 0;
		}
	}
	return shd__fail(-ENOENT, "unknown policy '%s' (see 'shootdown list')",
			 name ? name : "(null)");
}

static int parse_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "on", "1", "true", "yes" };
	static const char *const no[] = { "off", "0", "false", "no" };

	for (size_t i = 0; i < 4; i++) {
		if (strcmp(v, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcmp(v, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -EINVAL;
}

/* A decimal number in LO..HI into *OUT (unchanged on error).  0 or -1. */
static int parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno || n < lo || n > hi)
		return -1;
	*out = (unsigned)n;
	return 0;
}

/* The broadcast knobs that are plain numbers, with their ranges. */
static const struct {
	const char *name;
	size_t off;
	unsigned lo, hi;
} unums[] = {
	{ "invlpgb_count_max", offsetof(struct shd_policy, invlpgb_count_max),
	  1, 65536 },
	{ "asid_space", offsetof(struct shd_policy, asid_space), 8,
	  SHD_ASID_SPACE_MAX },
	{ "broadcast_min_cpus", offsetof(struct shd_policy, broadcast_min_cpus),
	  0, 8192 },
	{ "rar_slots", offsetof(struct shd_policy, rar_slots), 1,
	  SHD_RAR_SLOTS_MAX },
	{ "max_dvm_ops", offsetof(struct shd_policy, max_dvm_ops), 1,
	  SHD_CEILING_MAX },
	{ "flush_all_threshold", offsetof(struct shd_policy, flush_all_threshold),
	  0, SHD_CEILING_MAX },
	{ "sbi_flush_limit", offsetof(struct shd_policy, sbi_flush_limit), 1,
	  SHD_CEILING_MAX },
	{ "tlb_batch_nr", offsetof(struct shd_policy, tlb_batch_nr), 1,
	  SHD_TLB_BATCH_NR_MAX },
};

/* VALUE's index among the N NAMES into *OUT (unchanged on error).  0 or -1. */
static int parse_enum(const char *v, const char *const *names, unsigned n,
		      unsigned *out)
{
	for (unsigned i = 0; i < n; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

/* -ENOENT, naming every knob (from knobs[], so the list cannot go stale). */
static int unknown_knob(const char *key)
{
	char names[512];
	size_t used = 0;

	names[0] = 0;
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		int n = snprintf(names + used, sizeof(names) - used, "%s%s",
				 i ? ", " : "", knobs[i].name);

		if (n < 0 || (size_t)n >= sizeof(names) - used)
			break;
		used += (size_t)n;
	}
	return shd__fail(-ENOENT, "unknown knob '%s' (knobs: %s)", key, names);
}

/* One of a policy in C's own knobs: 0, -ENOENT (not one), -EINVAL. */
static int set_ops_knob(struct shd_policy *p, const char *key,
			const char *value)
{
	const struct shd_policy_knob *k = p->ops ? p->ops->knobs : NULL;
	unsigned long long n;
	char *end;

	for (unsigned i = 0; k && i < SHD_POLICY_KNOBS_MAX && k[i].name; i++) {
		if (strcmp(key, k[i].name))
			continue;
		errno = 0;
		n = strtoull(value, &end, 10);
		if (*value < '0' || *value > '9' || *end || errno ||
		    n < (unsigned long long)k[i].min ||
		    n > (unsigned long long)k[i].max)
			return shd__fail(-EINVAL, "%s '%s' is not a number in "
					 "%lld..%lld (a knob of policy %s)", key,
					 value, (long long)k[i].min,
					 (long long)k[i].max, p->ops->name);
		p->knob[i] = (int64_t)n;
		return 0;
	}
	return -ENOENT;
}

int shd_policy_set(struct shd_policy *p, const char *key, const char *value)
{
	bool *flag = NULL;
	int err;

	if (!p || !key || !value)
		return shd__fail(-EINVAL, "policy knob needs a policy and key=value");
	if ((err = set_ops_knob(p, key, value)) != -ENOENT)
		return err;
	if (strcmp(key, "ceiling") == 0) {
		if (parse_uint(value, 0, SHD_CEILING_MAX, &p->ceiling) < 0)
			return shd__fail(-EINVAL, "ceiling '%s' is not a page "
					 "count in 0..%u", value, SHD_CEILING_MAX);
		return 0;
	}
	if (strcmp(key, "async_us") == 0) {
		if (parse_uint(value, 1, 10000000, &p->async_us) < 0)
			return shd__fail(-EINVAL, "async_us '%s' is not a number "
					 "of µs in 1..10000000", value);
		return 0;
	}
	if (strcmp(key, "hz") == 0) {
		if (parse_uint(value, 1, SHD_HZ_MAX, &p->hz) < 0)
			return shd__fail(-EINVAL, "hz '%s' is not a tick rate in "
					 "1..%u", value, SHD_HZ_MAX);
		return 0;
	}
	if (strcmp(key, "trim_ms") == 0) {
		if (parse_uint(value, 0, 3600000, &p->trim_ms) < 0)
			return shd__fail(-EINVAL, "trim_ms '%s' is not a number "
					 "of ms in 0..3600000", value);
		return 0;
	}
	if (strcmp(key, "batch") == 0) {
		static const char *const names[] = { "off", "x86", "arm64" };

		if (parse_enum(value, names, 3, &p->batch) < 0)
			return shd__fail(-EINVAL, "knob batch takes off, x86 or "
					 "arm64, not '%s'", value);
		return 0;
	}
	if (strcmp(key, "switch") == 0) {
		if (strcmp(value, "5.13") == 0 || strcmp(value, "6.13") == 0) {
			p->switch_mm = value[0] == '6' ? SHD_SWITCH_6_13 :
							 SHD_SWITCH_5_13;
			return 0;
		}
		return shd__fail(-EINVAL, "knob switch takes 5.13 or 6.13, not "
				 "'%s'", value);
	}
	if (strcmp(key, "bcast") == 0) {
		static const char *const names[] = { "off", "invlpgb", "rar" };

		if (parse_enum(value, names, 3, &p->bcast) < 0)
			return shd__fail(-EINVAL, "knob bcast takes off, invlpgb "
					 "or rar, not '%s'", value);
		return 0;
	}
	if (strcmp(key, "rfence") == 0) {
		static const char *const names[] = { "ipi", "sbi" };

		if (parse_enum(value, names, 2, &p->rfence) < 0)
			return shd__fail(-EINVAL, "knob rfence takes ipi or sbi, "
					 "not '%s'", value);
		return 0;
	}
	for (size_t i = 0; i < sizeof(unums) / sizeof(unums[0]); i++) {
		if (strcmp(key, unums[i].name))
			continue;
		if (parse_uint(value, unums[i].lo, unums[i].hi,
			       (unsigned *)((char *)p + unums[i].off)) < 0)
			return shd__fail(-EINVAL, "%s '%s' is not a number in "
					 "%u..%u", key, value, unums[i].lo,
					 unums[i].hi);
		return 0;
	}
	if (strcmp(key, "prune") == 0)
		flag = &p->prune;
	else if (strcmp(key, "lazy") == 0)
		flag = &p->lazy;
	else if (strcmp(key, "gen") == 0)
		flag = &p->gen;
	else if (strcmp(key, "coalesce") == 0)
		flag = &p->coalesce;
	else if (strcmp(key, "concurrent") == 0)
		flag = &p->concurrent;
	else if (strcmp(key, "async") == 0)
		flag = &p->async;
	else if (strcmp(key, "tlbi_range") == 0)
		flag = &p->tlbi_range;
	else if (strcmp(key, "clear_cpumask") == 0)
		flag = &p->clear_cpumask;
	else if (strcmp(key, "svinval") == 0)
		flag = &p->svinval;
	if (!flag)
		return unknown_knob(key);
	if (parse_bool(value, flag) < 0)
		return shd__fail(-EINVAL, "knob %s takes on or off, not '%s'",
				 key, value);
	return 0;
}

int shd_policy_format(const struct shd_policy *p, char *buf, size_t len)
{
	int n;

	if (!p || (!buf && len))
		return shd__fail(-EINVAL, "shd_policy_format: policy and buffer needed");
	n = snprintf(buf, len, "prune=%s lazy=%s gen=%s coalesce=%s "
			 "concurrent=%s ceiling=%u batch=%s async=%s async_us=%u "
			 "switch=%s hz=%u trim_ms=%u bcast=%s invlpgb_count_max=%u "
			 "asid_space=%u broadcast_min_cpus=%u rar_slots=%u "
			 "tlbi_range=%s max_dvm_ops=%u rfence=%s "
			 "flush_all_threshold=%u sbi_flush_limit=%u "
			 "clear_cpumask=%s svinval=%s tlb_batch_nr=%u",
			 p->prune ? "on" : "off", p->lazy ? "on" : "off",
			 p->gen ? "on" : "off", p->coalesce ? "on" : "off",
			 p->concurrent ? "on" : "off", p->ceiling,
			 p->batch == SHD_BATCH_X86 ? "x86" :
			 p->batch == SHD_BATCH_ARM64 ? "arm64" : "off",
			 p->async ? "on" : "off", p->async_us,
			 p->switch_mm == SHD_SWITCH_6_13 ? "6.13" : "5.13", p->hz,
			 p->trim_ms,
			 p->bcast == SHD_BCAST_INVLPGB ? "invlpgb" :
			 p->bcast == SHD_BCAST_RAR ? "rar" : "off",
			 p->invlpgb_count_max, p->asid_space,
			 p->broadcast_min_cpus, p->rar_slots,
			 p->tlbi_range ? "on" : "off", p->max_dvm_ops,
			 p->rfence == SHD_RFENCE_SBI ? "sbi" : "ipi",
			 p->flush_all_threshold, p->sbi_flush_limit,
			 p->clear_cpumask ? "on" : "off", p->svinval ? "on" : "off",
			 p->tlb_batch_nr);
	for (unsigned i = 0; p->ops && p->ops->knobs && i < SHD_POLICY_KNOBS_MAX &&
	     p->ops->knobs[i].name && n >= 0 && (size_t)n < len; i++) {
		int more = snprintf(buf + n, len - (size_t)n, " %s=%lld",
				    p->ops->knobs[i].name, (long long)p->knob[i]);

		n = more < 0 ? more : n + more;
	}
	return n < 0 || (size_t)n >= len ? -ERANGE : 0;
}

const struct shd_named *shd_policy_presets(size_t *count)
{
	if (count)
		*count = NPRESETS;
	return preset_names;
}

const struct shd_named *shd_policy_knobs(size_t *count)
{
	if (count)
		*count = sizeof(knobs) / sizeof(knobs[0]);
	return knobs;
}
