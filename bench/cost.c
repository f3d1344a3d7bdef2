/* SPDX-License-Identifier: MIT */
/* The cost model: what a run's counters would cost on hardware, in cycles. */

/*
 * Wall-clock time in an emulator is not hardware time, so every run also
 * reports a modelled cost: each counter times a per-event cost in cycles.
 * The defaults are the published Intel measurements (shared/reference/
 * linux-notes.md §3): INVLPG ~100 cycles (Dave Hansen 2014, IvyBridge; Ingo
 * Molnar measured 260), a CR3-write full flush ~150 cycles hot (Molnar:
 * 96–152) whose real price is the refills it causes, each dTLB miss ~45
 * cycles (Hansen: 17.1 ns).  IPI costs have no peer-reviewed figure: the
 * defaults (2000 cycles to send, 2000 to take) are placeholders to be
 * replaced by `shootdown calibrate`'s host_kernel_shootdown_ns on your
 * machine.  Every cost is settable: --set cost.invlpg=260.
 *
 * LATR's fallback interrupts (async_fallback_ipis) are not in ipis_sent or
 * ipis_received (their CPUs were counted deferred: the counting identity
 * of include/shootdown/stats.h): each is charged here as one IPI sent and
 * one taken, whether or not the target had swept meanwhile.
 *
 * Hardware broadcast has no published per-instruction figure either
 * (Rik van Riel's INVLPGB series reports throughput only: tlb_flush2
 * threads on a 72-CPU Milan, 652k -> 1267k loops/s at 8 threads), so its
 * three keys are assumptions, marked so in `list`:
 *   cost.invlpgb 200: INVLPGB does not wait; it costs at least what a
 *     local INVLPG does (~100) plus handing a message to the coherent
 *     fabric, about one more INVLPG's worth;
 *   cost.tlbsync 1000: TLBSYNC waits until every CPU's TLB has done this
 *     CPU's INVLPGBs, one round trip to the farthest core: of the order of
 *     a cross-socket cache-line round trip (~300 ns at 3 GHz);
 *   cost.rar 500 per target: RAR's APIC message and the initiator's spin
 *     on the target's status byte, without the target's interrupt entry
 *     and exit (the 2000 of cost.ipi_recv), which its microcode avoids.
 * arm64's TLBI and DSB have no published per-instruction figure either
 * (none found for Neoverse cores; the costs people quote are whole
 * syscalls): two more assumptions, marked so in `list`:
 *   cost.tlbi 200: a TLBI ...IS is issued without waiting, like INVLPGB,
 *     a DVM message handed to the interconnect;
 *   cost.dsb 1000: DSB ISH after TLBIs waits for every CPU to
 *     acknowledge (the DVM sync), one round trip like TLBSYNC.
 * riscv's SBI call and Svinval have none either:
 *   cost.sbi_ecall 1000: one RFENCE ecall, the trap into M-mode, the
 *     firmware's dispatch and its mret (its IPIs count as ipi_send, its
 *     handlers on the targets as ipi_recv); Samuel Holland's reason for
 *     dc892fb44322 is only that SBI is slower than an IPI;
 *   cost.sinval 40: a sinval.vma, which needs no ordering of its own
 *     (Svinval), about half a sfence.vma (cost.invlpg) and less;
 *   cost.svinval_fence 100: sfence.w.inval or sfence.inval.ir, one
 *     sfence.vma's ordering.
 * The targets' side of a broadcast (hw_invalidations) costs no software
 * cycles; the refills it causes are counted as tlb_misses.
 *
 * The ceiling these costs imply: N invalidations cost as much as a full
 * flush and the refills it causes at N* = (full + refills * miss + ipi) /
 * invlpg; bench/breakeven.c derives refills from a sweep's counters.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct cost_key {
	const char *name;
	size_t offset;
	const char *help;
} keys[] = {
#define K(n, h) { "cost." #n, offsetof(struct cost_model, n), h }
	K(invlpg, "cycles per single-page invalidation (default 100)"),
	K(full, "cycles per full flush, refills not included (default 150)"),
	K(miss, "cycles per TLB miss / refill (default 45)"),
	K(ipi_send, "cycles per IPI sent (default 2000; unverified, calibrate)"),
	K(ipi_recv, "cycles per IPI taken (default 2000; unverified, calibrate)"),
	K(invlpgb, "cycles per INVLPGB issued (default 200; unverified/assumed, "
	  "no published figure)"),
	K(tlbsync, "cycles per TLBSYNC (default 1000; unverified/assumed, one "
	  "fabric round trip)"),
	K(rar, "cycles per RAR request to a target (default 500; "
	  "unverified/assumed; RFC, unmerged)"),
	K(tlbi, "cycles per arm64 TLBI ...IS issued (default 200; "
	  "unverified/assumed, no published figure)"),
	K(dsb, "cycles per arm64 DSB ISH after TLBIs (default 1000; "
	  "unverified/assumed, one DVM sync round trip)"),
	K(sbi_ecall, "cycles per riscv SBI RFENCE call (default 1000; "
	  "unverified/assumed, a trap into firmware and back)"),
	K(sinval, "cycles per riscv sinval.vma (default 40; unverified/"
	  "assumed, Svinval)"),
	K(svinval_fence, "cycles per riscv sfence.w.inval or sfence.inval.ir "
	  "(default 100; unverified/assumed)"),
#undef K
};

void cost_defaults(struct cost_model *c)
{
	c->invlpg = 100;
	c->full = 150;
	c->miss = 45;
	c->ipi_send = 2000;
	c->ipi_recv = 2000;
	c->invlpgb = 200;
	c->tlbsync = 1000;
	c->rar = 500;
	c->tlbi = 200;
	c->dsb = 1000;
	c->sbi_ecall = 1000;
	c->sinval = 40;
	c->svinval_fence = 100;
}

int cost_set(struct cost_model *c, const char *key, const char *value)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *end;
		double v;

		if (strcmp(key, keys[i].name))
			continue;
		/* Decimal only, like every other number: digits, one point. */
		if (strspn(value, "0123456789.") != strlen(value) ||
		    strchr(value, '.') != strrchr(value, '.') ||
		    value[0] < '0' || value[0] > '9')
			return -EINVAL;
		errno = 0;
		v = strtod(value, &end);
		if (*end || errno || !(v >= 0 && v <= 1e9))
			return -EINVAL;
		*(double *)((char *)c + keys[i].offset) = v;
		return 0;
	}
	return -ENOENT;
}

size_t cost_keys(const char *const **names, const char *const **helps)
{
	static const char *n[sizeof(keys) / sizeof(keys[0])];
	static const char *h[sizeof(keys) / sizeof(keys[0])];

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		n[i] = keys[i].name;
		h[i] = keys[i].help;
	}
	*names = n;
	*helps = h;
	return sizeof(keys) / sizeof(keys[0]);
}

/* The value of key K (0..cost_keys()-1) in C. */
double cost_get(const struct cost_model *c, size_t k)
{
	return *(const double *)((const char *)c + keys[k].offset);
}

double cost_cycles(const struct cost_model *c, const struct shd_stats *s)
{
	return c->invlpg * (double)(s->pages_invalidated - s->sinval_vmas) +
	       c->sinval * (double)s->sinval_vmas +
	       c->svinval_fence * (double)s->svinval_fences +
	       c->sbi_ecall * (double)s->sbi_rfences +
	       c->full * (double)(s->flushes_full + s->switch_flushes) +
	       c->miss * (double)s->tlb_misses +
	       c->ipi_send * (double)s->ipis_sent +
	       c->ipi_recv * (double)s->ipis_received +
	       (c->ipi_send + c->ipi_recv) * (double)s->async_fallback_ipis +
	       c->invlpgb * (double)s->invlpgb_issued +
	       c->tlbsync * (double)s->tlbsyncs +
	       c->rar * (double)s->rar_requests +
	       c->tlbi * (double)s->tlbi_ops +
	       c->dsb * (double)s->dsbs;
}
