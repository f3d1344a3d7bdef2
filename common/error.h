/* SPDX-License-Identifier: MIT */
/* Error helpers of every layer: the thread's error text, and the die helper. */
#ifndef SHD_COMMON_ERROR_H
#define SHD_COMMON_ERROR_H

#include <shootdown/error.h>

/* Set the calling thread's error text (shd_last_error()) and return ERR, a
 * negative errno.  Any thread. */
__attribute__((format(printf, 2, 3)))
int shd__fail(int err, const char *fmt, ...);

/* Die on a failure a correct program cannot have (pthread_create...):
 * print where and abort. */
#define shd_die(...) shd__die(__FILE__, __LINE__, __func__, __VA_ARGS__)
__attribute__((noreturn, format(printf, 4, 5)))
void shd__die(const char *file, int line, const char *func, const char *fmt, ...);

#endif
