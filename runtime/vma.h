/* SPDX-License-Identifier: MIT */
/* VMAs: an mm's mappings, a sorted array under its lock. */
#ifndef SHD_RUNTIME_VMA_H
#define SHD_RUNTIME_VMA_H

#include "types.h"

/* All under the mm lock.  The VMA containing VA, or NULL. */
struct shd_vma *shd__vma_find(struct shd_mm *mm, uint64_t va);
/* Some VMA meets [START, END). */
bool shd__vma_overlaps(struct shd_mm *mm, uint64_t start, uint64_t end);
/* Room for MORE VMAs: 0 or -ENOMEM. */
int shd__vma_reserve(struct shd_mm *mm, size_t more);
/* Insert NV (taking over its file reference).  Needs a reserved slot. */
void shd__vma_insert(struct shd_mm *mm, const struct shd_vma *nv);
/* Give back V's file reference (the VMA goes). */
void shd__vma_drop(struct shd_vma *v);
/* Merge neighbours that continue each other (vma_merge()). */
void shd__vma_merge(struct shd_mm *mm);
/* Make a VMA boundary at AT (split_vma()).  Needs a reserved slot. */
void shd__vma_split(struct shd_mm *mm, uint64_t at);
/* Cut [START, END) out of the VMA list: 0 or -ENOMEM. */
int shd__vma_remove(struct shd_mm *mm, uint64_t start, uint64_t end);
/* VMAs cover all of [START, END). */
bool shd__vma_covers(struct shd_mm *mm, uint64_t start, uint64_t end);
/* The vpns MM's mappings span, [*S, *E) (empty without any). */
void shd__mm_span(const struct shd_mm *mm, uint64_t *s, uint64_t *e);

#endif
