/* SPDX-License-Identifier: MIT */
/* Seeded pseudo-random numbers: splitmix64's finaliser. */
#ifndef SHD_COMMON_RNG_H
#define SHD_COMMON_RNG_H

#include <stdint.h>

/* A 64-bit mix with full avalanche (splitmix64's output function): seeds
 * per-CPU streams and spreads keys over hash stripes. */
static inline uint64_t shd__mix64(uint64_t x)
{
	x ^= x >> 30; x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27; x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

#endif
