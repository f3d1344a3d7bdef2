/* SPDX-License-Identifier: MIT */
/* USDT probes (provider "shootdown"), visible to perf as sdt_shootdown:*. */
#ifndef SHD_RUNTIME_PROBES_H
#define SHD_RUNTIME_PROBES_H

#ifdef SHD_WITH_PROBES
#include <sys/sdt.h>
#define SHD_PROBE2(name, a, b) DTRACE_PROBE2(shootdown, name, a, b)
#define SHD_PROBE3(name, a, b, c) DTRACE_PROBE3(shootdown, name, a, b, c)
#define SHD_PROBE4(name, a, b, c, d) DTRACE_PROBE4(shootdown, name, a, b, c, d)
#define SHD_PROBE5(name, a, b, c, d, e) DTRACE_PROBE5(shootdown, name, a, b, c, d, e)
#else
#define SHD_PROBE2(name, a, b) do { (void)(a); (void)(b); } while (0)
#define SHD_PROBE3(name, a, b, c) do { (void)(a); (void)(b); (void)(c); } while (0)
#define SHD_PROBE4(name, a, b, c, d) \
	do { (void)(a); (void)(b); (void)(c); (void)(d); } while (0)
#define SHD_PROBE5(name, a, b, c, d, e) \
	do { (void)(a); (void)(b); (void)(c); (void)(d); (void)(e); } while (0)
#endif

/*
 * The probes and their arguments:
 *   ipi_send(src_cpu, dst_cpu)                  a doorbell rung (ipis_sent;
 *                                               LATR's kicks are not)
 *   ipi_handle(cpu, nrequests)                  a call queue taken (one
 *                                               ipis_received; coalesce=off
 *                                               counts nrequests)
 *   flush_begin(cpu, iface, mm_id, start, end)  a flush interface entered
 *   flush_end(cpu, iface, ns, targets)          ... and returned
 *   tlb_miss(cpu, mm_id, addr)                  a TLB miss (page walk)
 */
#endif
