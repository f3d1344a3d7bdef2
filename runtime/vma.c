/* SPDX-License-Identifier: MIT */
/* VMAs: an mm's mappings, a sorted array under its lock (mm/vma.c). */
#include <errno.h>
#include <string.h>

#include "file.h"
#include "vma.h"

struct shd_vma *shd__vma_find(struct shd_mm *mm, uint64_t va)
{
	size_t lo = 0, hi = mm->nvmas;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (mm->vmas[mid].end <= va)
			lo = mid + 1;
		else if (mm->vmas[mid].start > va)
			hi = mid;
		else
			return &mm->vmas[mid];
	}
	return NULL;
}

bool shd__vma_overlaps(struct shd_mm *mm, uint64_t start, uint64_t end)
{
	for (size_t i = 0; i < mm->nvmas; i++)
		if (mm->vmas[i].start < end && start < mm->vmas[i].end)
			return true;
	return false;
}

int shd__vma_reserve(struct shd_mm *mm, size_t more)
{
	if (mm->nvmas + more > mm->cap_vmas) {
		size_t cap = (mm->nvmas + more) * 2;
		struct shd_vma *v = realloc(mm->vmas, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		mm->vmas = v;
		mm->cap_vmas = cap;
	}
	return 0;
}

void shd__vma_insert(struct shd_mm *mm, const struct shd_vma *nv)
{
	size_t i = 0;

	while (i < mm->nvmas && mm->vmas[i].start < nv->start)
		i++;
	memmove(&mm->vmas[i + 1], &mm->vmas[i],
		(mm->nvmas - i) * sizeof(*mm->vmas));
	mm->vmas[i] = *nv;
	mm->nvmas++;
}

void shd__vma_drop(struct shd_vma *v)
{
	if (v->file)
		shd__file_unmap(v->file);
}

/* B continues A: same protection, same backing, contiguous file pages. */
static bool vma_mergeable(const struct shd_mm *mm, const struct shd_vma *a,
			  const struct shd_vma *b)
{
	return a->end == b->start && a->prot == b->prot && a->file == b->file &&
	       a->shared == b->shared &&
	       (!a->file || a->pgoff + ((a->end - a->start) >> mm->m->page_shift) ==
			    b->pgoff);
}

void shd__vma_merge(struct shd_mm *mm)
{
	size_t out = 0;

	for (size_t i = 0; i < mm->nvmas; i++) {
		if (out && vma_mergeable(mm, &mm->vmas[out - 1], &mm->vmas[i])) {
			mm->vmas[out - 1].end = mm->vmas[i].end;
			shd__vma_drop(&mm->vmas[i]);
		} else {
			mm->vmas[out++] = mm->vmas[i];
		}
	}
	mm->nvmas = out;
}

void shd__vma_split(struct shd_mm *mm, uint64_t at)
{
	struct shd_vma *v = shd__vma_find(mm, at), right;

	if (!v || v->start == at)
		return;
	right = *v;
	right.start = at;
	if (right.file) {
		right.pgoff += (at - v->start) >> mm->m->page_shift;
		shd__file_map(right.file);
	}
	v->end = at;
	shd__vma_insert(mm, &right);
}

int shd__vma_remove(struct shd_mm *mm, uint64_t start, uint64_t end)
{
	size_t out = 0;

	if (shd__vma_reserve(mm, 2) < 0)
		return -ENOMEM;
	shd__vma_split(mm, start);
	shd__vma_split(mm, end);
	for (size_t i = 0; i < mm->nvmas; i++) {
		if (mm->vmas[i].start >= start && mm->vmas[i].end <= end)
			shd__vma_drop(&mm->vmas[i]);
		else
			mm->vmas[out++] = mm->vmas[i];
	}
	mm->nvmas = out;
	return 0;
}

bool shd__vma_covers(struct shd_mm *mm, uint64_t start, uint64_t end)
{
	uint64_t at = start;

	while (at < end) {
		struct shd_vma *v = shd__vma_find(mm, at);

		if (!v)
			return false;
		at = v->end;
	}
	return true;
}

void shd__mm_span(const struct shd_mm *mm, uint64_t *s, uint64_t *e)
{
	*s = *e = 0;
	if (mm->nvmas) {
		*s = mm->vmas[0].start >> mm->m->page_shift;
		*e = mm->vmas[mm->nvmas - 1].end >> mm->m->page_shift;
	}
}
