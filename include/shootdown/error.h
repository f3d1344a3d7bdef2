/* SPDX-License-Identifier: MIT */
/* shootdown error reporting: negative errno values plus a per-thread detail. */
#ifndef SHOOTDOWN_ERROR_H
#define SHOOTDOWN_ERROR_H

#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Every call that can fail returns 0 or a negative errno from the map
 * below.  A failure caused by the caller's input also leaves a one-line
 * human explanation in a thread-local buffer, read with shd_last_error();
 * it names the offending value ("ncpus 0 is out of range 1..1024").
 *
 * SHD_ERRNO_MAP(X) calls X(errno name, text) for each errno the library
 * returns; shd_strerror() is generated from it.
 */
#define SHD_ERRNO_MAP(X) \
	X(EINVAL, "invalid argument") \
	X(ERANGE, "value out of range") \
	X(ENOMEM, "out of memory") \
	X(ENOENT, "no such name") \
	X(EEXIST, "already mapped") \
	X(EFAULT, "bad address (no mapping)") \
	X(EACCES, "protection fault") \
	X(EPERM, "not allowed from this thread or state") \
	X(EBUSY, "busy") \
	X(ESRCH, "no task") \
	X(ETIMEDOUT, "IPI not acknowledged (watchdog)")

/* The explanation of the last failure on this thread ("" if none). Any thread. */
SHD_EXPORT const char *shd_last_error(void);

/* Text for a negative errno returned by this library ("invalid argument"). */
SHD_EXPORT const char *shd_strerror(int err);

#ifdef __cplusplus
}
#endif
#endif
