/* SPDX-License-Identifier: MIT */
/* shootdown symbol visibility: everything not marked SHD_EXPORT is hidden. */
#ifndef SHOOTDOWN_EXPORT_H
#define SHOOTDOWN_EXPORT_H

#if defined(SHD_BUILDING_LIBRARY)
#define SHD_EXPORT __attribute__((visibility("default")))
#else
#define SHD_EXPORT
#endif

#endif
