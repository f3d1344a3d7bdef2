/* SPDX-License-Identifier: MIT */
/* shootdown host --watch: the box's TLB shootdowns, and who sends them. */
#ifndef SHD_BENCH_HOST_WATCH_H
#define SHD_BENCH_HOST_WATCH_H

#include "workloads/workload.h"

/* Watch every online CPU for SECONDS and print (FMT: table or json) the
 * TLB and CAL rates per CPU, the tlb:tlb_flush reasons, and the processes
 * that sent remote flushes.  An exit status. */
int host_watch(unsigned seconds, enum out_format fmt);

#endif
