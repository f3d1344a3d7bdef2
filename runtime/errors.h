/* SPDX-License-Identifier: MIT */
/* Error helpers shared by every layer of the library. */
#ifndef SHD_RUNTIME_ERRORS_H
#define SHD_RUNTIME_ERRORS_H

/* Set the thread's error text and return ERR (negative errno). */
__attribute__((format(printf, 2, 3)))
int shd__fail(int err, const char *fmt, ...);

#endif
