/* SPDX-License-Identifier: MIT */
/* shootdown: a userspace SMP machine for studying TLB shootdowns (umbrella header). */
#ifndef SHOOTDOWN_H
#define SHOOTDOWN_H

#include <shootdown/error.h>
#include <shootdown/policy.h>
#include <shootdown/arch.h>
#include <shootdown/machine.h>
#include <shootdown/mm.h>
#include <shootdown/tlbflush.h>
#include <shootdown/cacheflush.h>
#include <shootdown/stats.h>

#define SHD_VERSION "0.2.0"

#endif
