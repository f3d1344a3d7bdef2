/* SPDX-License-Identifier: MIT */
/*
 * What a run did not really test: an injected fault that never fired, and
 * a LATR run whose lazy requests mostly fell back to an interrupt.
 *
 * A fault fires when it makes a CPU do other than the correct path would
 * (shd_fault_firings()).  An injected fault that never fired proves
 * nothing about the oracle, so a cell where one did not is incomplete
 * (exit 3), whatever else it found: the run did not test what was asked.
 * Detections are the cell's oracle violations plus its failed read-backs:
 * per run, not per fault, when several faults are injected.
 */
#include <inttypes.h>

#include "cli.h"

/* What exercises each fault: the hint when it never fired. */
static const char *const hints[SHD_FAULT__COUNT] = {
	[SHD_FAULT_SKIP_REMOTE_IPI] = "it needs a flush with another CPU to "
		"send to: 2 or more CPUs sharing an mm, e.g. check --cpus 4",
	[SHD_FAULT_SKIP_LOCAL_FLUSH] = "it needs a TLB flush on the CPU that "
		"changes a mapping: any unmap or protection change, e.g. check",
	[SHD_FAULT_IGNORE_TLB_GEN] = "it needs a CPU switching back to an mm "
		"flushed while it was away: gen=on and context switches, e.g. "
		"check --cpus 4",
	[SHD_FAULT_DROP_LAZY_FLUSH] = "it needs a CPU leaving lazy TLB mode "
		"after a flush skipped it: lazy=on (not broadcast), e.g. check "
		"--cpus 4",
	[SHD_FAULT_RANGE_SHORT] = "it needs a page-by-page range flush: a "
		"range under the ceiling, e.g. run --workload rangeflush",
	[SHD_FAULT_FREE_BEFORE_FLUSH] = "it needs an unmap that frees frames "
		"through the mmu_gather (not one LATR defers), e.g. run "
		"--workload munmap",
	[SHD_FAULT_SKIP_BATCHED_PENDING] = "it needs munmap, mprotect or "
		"madvise while a reclaim batch is pending: batch on, e.g. check "
		"--cpus 4",
	[SHD_FAULT_ASYNC_EARLY_FREE] = "it needs a LATR unmap that frees "
		"frames: --policy latr with unmaps of touched pages, e.g. run "
		"--workload mmap_micro --policy latr",
	[SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE] = "it needs the kernel writing a "
		"page-cache page, e.g. run --workload pagecache --arch sparc64",
	[SHD_FAULT_DEFERRED_FLUSH_WRONG_CPU] = "it needs a deferred D-cache "
		"flush done by update_mmu_cache on 2 or more CPUs, e.g. run "
		"--workload pagecache --arch sparc64",
	[SHD_FAULT_SKIP_PTRACE_FLUSH] = "it needs a ptrace poke, e.g. run "
		"--workload ptrace --arch sparc64",
	[SHD_FAULT_ARCH1_OVERWRITTEN] = "it needs flush_dcache_page on a page "
		"another CPU left marked dirty, e.g. check --arch sparc64 --cpus 4",
	[SHD_FAULT_ARCH1_NOT_CLEARED] = "it needs the kernel writing a page "
		"already synced for execution, e.g. check --arch arm64",
	[SHD_FAULT_SKIP_PTRACE_ICACHE] = "it needs a ptrace poke into an "
		"executable mapping, e.g. run --workload ptrace --arch arm64",
	[SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE] = "it needs flush_icache_range on "
		"written kernel code, e.g. run --workload modload --arch arm64",
	[SHD_FAULT_TLB_BEFORE_CACHE] = "it needs an unmap or protection change "
		"on a cache whose flush needs the translation, e.g. check --arch "
		"hypersparc",
	[SHD_FAULT_SKIP_KERNEL_VMAP_INVALIDATE] = "it needs "
		"invalidate_kernel_vmap_range after DMA, e.g. run --workload "
		"vmapio --arch hypersparc",
	[SHD_FAULT_SWITCH_MM_NO_BARRIER] = "it needs switch_mm into an mm "
		"whose mm_cpumask bit is still set, e.g. check --policy "
		"linux --cpus 4",
	[SHD_FAULT_SKIP_LOADED_MM_SWITCHING] = "it needs a flush that finds a "
		"target in the middle of switch_mm and would have sent to it: "
		"many schedules, e.g. run --workload cow_switch --policy "
		"linux",
	[SHD_FAULT_WRONG_CPU_CLEARS_RUNNING] = "it needs a flush reaching "
		"another CPU that runs the mm, under switch=6.13, e.g. check "
		"--policy linux --cpus 4",
	[SHD_FAULT_SKIP_NESTED_FLUSH] = "it needs two madvise/munmap calls "
		"on one mm at once, the second finishing while the first's "
		"flush is pending: 2 or more CPUs, e.g. run --workload "
		"tlb_flush2 --cpus 4",
	[SHD_FAULT_INVLPGB_NO_TLBSYNC] = "it needs a broadcast flush of an mm "
		"with a global ASID another CPU runs, e.g. run --workload "
		"tlb_flush2 --cpus 8 --policy linux-invlpgb",
	[SHD_FAULT_GLOBAL_ASID_REUSE_EARLY] = "it needs more mms with global "
		"ASIDs than the space holds, e.g. check --policy linux-invlpgb "
		"--set asid_space=8 --set broadcast_min_cpus=0",
	[SHD_FAULT_TLBI_NO_DSB] = "it needs a flush another CPU still holds an "
		"entry of, e.g. check --arch arm64 --cpus 4",
	[SHD_FAULT_TLBI_RANGE_NUM] = "it needs a range of exactly "
		"MAX_TLBI_RANGE_PAGES (8 GiB at 4 KiB pages), e.g. its scenario "
		"tests/scenarios/tlbi_range_num.scn",
	[SHD_FAULT_ASID_ROLLOVER_NO_FLUSH] = "it needs an ASID rollover, e.g. "
		"check --arch arm64,asid_bits=3 --cpus 4",
	[SHD_FAULT_CPUMASK_CLEAR_NO_FLUSH] = "it needs a CPU that leaves an mm "
		"and comes back after a flush, e.g. check --arch riscv --cpus 4",
	[SHD_FAULT_SBI_MISSING_FENCE] = "it needs an SBI remote fence to "
		"another CPU, e.g. check --arch riscv --cpus 4 --set rfence=sbi",
	[SHD_FAULT_BATCHED_PENDING_DSB_ONLY] = "it needs a reclaim batch "
		"racing an unmap of the same mm, e.g. its scenario "
		"tests/scenarios/batched_pending_dsb_only.scn",
	[SHD_FAULT_TLB_BATCH_DROP_LAST] = "it needs a tlb_batch of two or "
		"more addresses, e.g. check --arch sparc64 --cpus 4",
	[SHD_FAULT_TLB_PENDING_ASYNC] = "it needs a tlb_batch of two or more "
		"addresses cross-called to another CPU, e.g. check --arch "
		"sparc64 --cpus 4",
	[SHD_FAULT_CTX_KEEP_CPUMASK] = "it needs a context wrap and an mm "
		"renumbered after it, e.g. check --arch sparc64,ctx_bits=3 "
		"--cpus 4",
	[SHD_FAULT_CTX_STEAL_NO_FLUSH] = "it needs a context stolen from an "
		"mm whose entries a CPU still holds, e.g. check --arch "
		"hypersparc,nctx=8 --cpus 4",
};
_Static_assert(SHD_FAULT__COUNT == SHD_FAULT_CTX_STEAL_NO_FLUSH + 1,
	       "a hint for every fault: add the new one's above");

const char *fault_hint(enum shd_fault f)
{
	return (unsigned)f < SHD_FAULT__COUNT ? hints[f] : "";
}

void faults_never_fired(enum shd_fault f, const char *who)
{
	size_t n;
	const struct shd_named *names = shd_faults(&n);

	fprintf(stderr, "%s: %s%sfault %s never fired: this run did not exercise "
		"it (%s)\n", cli_prog, who ? who : "", who ? ": " : "",
		names[f].name, hints[f]);
}

static bool injected(const struct cell *c, int f)
{
	return (c->o->cfg.faults >> f) & 1;
}

/* The runs behind C's figures: its --repeat runs, or the one in c->r. */
static unsigned own_runs(const struct cell *c, const struct wl_result **r)
{
	if (c->nrep > 1 && c->rep) {
		*r = c->rep;
		return c->nrep;
	}
	*r = &c->r;
	return 1;
}

uint64_t cell_fired(const struct cell *c, enum shd_fault f)
{
	const struct wl_result *r;
	unsigned n = own_runs(c, &r);
	uint64_t sum = c->prior.fired[f];

	for (unsigned k = 0; k < n; k++)
		sum += r[k].fault_fired[f];
	return sum;
}

uint64_t cell_detected(const struct cell *c)
{
	const struct wl_result *r;
	unsigned n = own_runs(c, &r);
	uint64_t sum = c->prior.detected;

	for (unsigned k = 0; k < n; k++)
		sum += r[k].stats.violations + r[k].check_failures;
	return sum;
}

unsigned cell_runs(const struct cell *c)
{
	const struct wl_result *r;

	return c->prior.runs + own_runs(c, &r);
}

bool cell_unfired(const struct cell *c)
{
	if (c->status == CELL_NOT_RUN || c->status == CELL_INCOMPLETE)
		return false;	/* incomplete already; not run: nothing known */
	for (int f = 0; f < SHD_FAULT__COUNT; f++)
		if (injected(c, f) && !cell_fired(c, (enum shd_fault)f))
			return true;
	return false;
}

bool cell_undetected(const struct cell *c)
{
	if (c->status != CELL_OK || !(c->o->cfg.faults) || cell_unfired(c))
		return false;
	return cell_detected(c) == 0;
}

void faults_prior_add(struct cell *c, const struct wl_result *r)
{
	for (int f = 0; f < SHD_FAULT__COUNT; f++)
		c->prior.fired[f] += r->fault_fired[f];
	c->prior.detected += r->stats.violations + r->check_failures;
	c->prior.runs++;
}

/* "linux on 4 CPUs, ceiling=8: " when the command runs several cells. */
static void cell_name(FILE *f, const struct cell *c)
{
	fprintf(f, "%s on %u CPUs", c->policy, c->cpus);
	if (c->param)
		fprintf(f, ", %s=%" PRIu64, c->param, c->value);
}

void faults_report(const struct cell *c, bool several)
{
	size_t n;
	const struct shd_named *names = shd_faults(&n);
	char who[128] = "";
	FILE *w;

	if (c->status == CELL_NOT_RUN || c->status == CELL_INCOMPLETE)
		return;
	if (several && (w = fmemopen(who, sizeof(who), "w"))) {
		cell_name(w, c);
		fclose(w);
	}
	for (int f = 0; f < SHD_FAULT__COUNT; f++) {
		uint64_t fired = cell_fired(c, (enum shd_fault)f);

		if (!injected(c, f))
			continue;
		if (!fired) {
			faults_never_fired((enum shd_fault)f, who[0] ? who : NULL);
			continue;
		}
		/* Fired, and the run is clean: say so, not just "clean". */
		if (!cell_detected(c))
			fprintf(stderr, "%s: %s%sfault %s fired %" PRIu64 " times "
				"but nothing detected it: no CPU used what it "
				"left stale in this run (more --ops or "
				"--schedules may)\n", cli_prog, who, who[0] ?
				": " : "", names[f].name, fired);
	}
}

void faults_lines(FILE *out, const struct cell *c, bool several)
{
	size_t n;
	const struct shd_named *names = shd_faults(&n);

	if (c->status == CELL_NOT_RUN)
		return;
	for (int f = 0; f < SHD_FAULT__COUNT; f++) {
		if (!injected(c, f))
			continue;
		fprintf(out, "  fault %s fired %" PRIu64 " times, detected %" PRIu64,
			names[f].name, cell_fired(c, (enum shd_fault)f),
			cell_detected(c));
		if (cell_runs(c) > 1)
			fprintf(out, " (over %u %s)", cell_runs(c),
				c->nrep > 1 ? "seeds" : "schedules");
		if (several) {
			fputs(" (", out);
			cell_name(out, c);
			fputc(')', out);
		}
		fputc('\n', out);
	}
}

void faults_json(FILE *out, const struct cell *c)
{
	size_t n;
	const struct shd_named *names = shd_faults(&n);
	bool first = true;

	fputs(", \"faults\": {", out);
	for (int f = 0; f < SHD_FAULT__COUNT; f++) {
		if (!injected(c, f))
			continue;
		fprintf(out, "%s\"%s\": {\"fired\": %" PRIu64 ", \"detected\": %"
			PRIu64 "}", first ? "" : ", ", names[f].name,
			cell_fired(c, (enum shd_fault)f), cell_detected(c));
		first = false;
	}
	fputc('}', out);
}

/* ---- LATR's slow path ---- */

double cell_async_fallback(const struct cell *c)
{
	const struct shd_stats *s = &c->r.stats;

	return s->async_requests ? (double)s->async_fallback_ipis /
				   (double)s->async_requests : -1.0;
}

bool cell_async_slow(const struct cell *c)
{
	const struct shd_stats *s = &c->r.stats;

	/* More than a tenth of the lazy requests ended in an interrupt. */
	return c->status != CELL_NOT_RUN && s->async_requests &&
	       s->async_fallback_ipis * 10 > s->async_requests;
}

void faults_async_note(FILE *out, const struct cell *c)
{
	const struct shd_stats *s = &c->r.stats;

	if (!cell_async_slow(c))
		return;
	fprintf(out, "%s: %" PRIu64 " of %" PRIu64 " lazy requests fell back to "
		"an IPI (%.0f%%): its latency is mostly the fallback's\n",
		c->policy, s->async_fallback_ipis, s->async_requests,
		100.0 * cell_async_fallback(c));
}
