/* SPDX-License-Identifier: MIT */
/* The host's monotonic clock, in nanoseconds. */
#ifndef SHD_COMMON_CLOCK_H
#define SHD_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC now, in ns.  Any thread. */
static inline uint64_t shd_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

#endif
