/* SPDX-License-Identifier: MIT */
/* Page tables: a radix tree per mm, walked lock-free, with a pool of leaves. */

/*
 * Interior levels are arrays of RCU pointers; leaves hold struct shd_pte
 * (value and the oracle's versions, a seqlock).  Walkers (TLB misses on
 * any CPU) read lock-free under rcu_read_lock(); tables are linked under
 * the mm lock with release stores, and unlinked leaves go back to the
 * machine's pool only after the flush that covers them and a grace period
 * (shd__leaves_release()).  A pooled leaf keeps its PTE versions: the
 * clock is machine-wide, so an entry that outlives its table is still
 * judged against a monotonic history (oracle.c).  A leaf's memory is
 * freed only with the machine: the leaves of an mm that dies go to the
 * pool too, since a TLB entry may outlive any table when a fault skipped
 * its flush.
 */
#include "oracle.h"
#include "pgtable.h"

static struct shd_pt_leaf *leaf_alloc(struct shd_machine *m)
{
	struct shd_pt_leaf *leaf;

	pthread_mutex_lock(&m->leaf_lock);
	leaf = m->leaf_free;
	if (leaf)
		m->leaf_free = leaf->next_free;
	pthread_mutex_unlock(&m->leaf_lock);
	if (leaf) {
		/* Reused: keep the versions (monotonic history, oracle.c). */
		leaf->nr_frames = 0;
		leaf->next_free = NULL;
		return leaf;
	}
	leaf = calloc(1, sizeof(*leaf));
	if (!leaf)
		return NULL;
	leaf->m = m;
	for (unsigned i = 0; i < SHD_PT_ENTRIES; i++)
		leaf->pte[i].version = 1;
	return leaf;
}

static void leaf_to_pool(struct shd_pt_leaf *leaf)
{
	struct shd_machine *m = leaf->m;

	pthread_mutex_lock(&m->leaf_lock);
	leaf->next_free = m->leaf_free;
	m->leaf_free = leaf;
	pthread_mutex_unlock(&m->leaf_lock);
}

static void leaf_free_rcu(struct rcu_head *head)
{
	leaf_to_pool(caa_container_of(head, struct shd_pt_leaf, rcu));
}

void shd__pt_leaf_release_all(struct shd_machine *m)
{
	struct shd_pt_leaf *leaf, *next;

	/* The lock orders us after the last callback's leaf_to_pool() for
	 * TSan too (rcu_barrier()'s own wait is invisible to it). */
	pthread_mutex_lock(&m->leaf_lock);
	leaf = m->leaf_free;
	m->leaf_free = NULL;
	pthread_mutex_unlock(&m->leaf_lock);
	for (; leaf; leaf = next) {
		next = leaf->next_free;
		free(leaf);
	}
}

struct shd_pt_leaf *shd__pt_leaf(struct shd_mm *mm, uint64_t vpn)
{
	struct shd_machine *m = mm->m;
	void *node = mm->pgd;

	/* Acquire: pairs with the release that published each table, so its
	 * initialised contents are visible (rcu_dereference, seen by TSan). */
	for (unsigned l = 0; node && l < m->pt_levels - 1; l++)
		node = shd_load_acquire(&((struct shd_pt_dir *)node)->slot[shd__pt_index(m, vpn, l)]);
	return node;
}

struct shd_pte *shd__pte_lookup(struct shd_mm *mm, uint64_t vpn)
{
	struct shd_pt_leaf *leaf = shd__pt_leaf(mm, vpn);

	return leaf ? &leaf->pte[shd__pt_index(mm->m, vpn, mm->m->pt_levels - 1)] : NULL;
}

struct shd_pt_leaf *shd__pt_leaf_alloc(struct shd_mm *mm, uint64_t vpn)
{
	struct shd_machine *m = mm->m;
	struct shd_pt_dir *dir = mm->pgd;

	for (unsigned l = 0; l < m->pt_levels - 1; l++) {
		unsigned i = shd__pt_index(m, vpn, l);
		void *child = dir->slot[i];

		if (!child) {
			if (l == m->pt_levels - 2) {
				child = leaf_alloc(m);
				if (child)
					((struct shd_pt_leaf *)child)->base_vpn =
						vpn & ~(uint64_t)(SHD_PT_ENTRIES - 1);
			} else {
				child = calloc(1, sizeof(struct shd_pt_dir));
			}
			if (!child)
				return NULL;
			/* Release: rcu_assign_pointer() that TSan can see. */
			shd_store_release(&dir->slot[i], child);
		}
		if (l == m->pt_levels - 2)
			return child;
		dir = child;
	}
	return NULL;	/* pt_levels >= 2 always */
}

/* The leaf that holds VPN; or NULL, and *NEXT is the first vpn past the
 * span of the missing table the walk met. */
static struct shd_pt_leaf *leaf_or_hole(struct shd_mm *mm, uint64_t vpn,
					uint64_t *next)
{
	struct shd_machine *m = mm->m;
	void *node = mm->pgd;

	for (unsigned l = 0; l < m->pt_levels - 1; l++) {
		unsigned span = (m->pt_levels - 1 - l) * SHD_PT_BITS;

		/* Acquire: as in shd__pt_leaf(). */
		node = shd_load_acquire(&((struct shd_pt_dir *)node)->slot[shd__pt_index(m, vpn, l)]);
		if (!node) {
			*next = ((vpn >> span) + 1) << span;
			return NULL;
		}
	}
	return node;
}

/* A missing table is skipped whole: the vmap area alone spans 2^33 pages. */
void shd__for_each_frame(struct shd_mm *mm, uint64_t s, uint64_t e,
			 shd_pte_fn fn, void *arg)
{
	for (uint64_t vpn = s; vpn < e;) {
		uint64_t next = e;
		struct shd_pt_leaf *leaf = leaf_or_hole(mm, vpn, &next);

		if (!leaf) {
			vpn = next;
			continue;
		}
		next = (vpn | (SHD_PT_ENTRIES - 1)) + 1;
		for (; vpn < e && vpn < next; vpn++) {
			struct shd_pte *p = &leaf->pte[vpn & (SHD_PT_ENTRIES - 1)];
			uint64_t val = p->val;

			if (val & SHD_PTE_FRAME)
				fn(mm, leaf, p, val, arg);
		}
	}
}

void shd__pt_free_dir(struct shd_machine *m, void *node, unsigned level)
{
	if (!node)
		return;
	if (level == m->pt_levels - 1) {
		/* Back to the pool, never to free(): a TLB entry may still
		 * point into this leaf (one whose flush a fault skipped, and
		 * whose table went to the pool and then to this mm), and the
		 * oracle reads its PTE on a hit.  No walker can reach the
		 * dead mm: its values can go. */
		struct shd_pt_leaf *leaf = node;

		for (unsigned i = 0; i < SHD_PT_ENTRIES; i++)
			shd_store_relaxed(&leaf->pte[i].val, 0);
		leaf_to_pool(leaf);
		return;
	}
	for (unsigned i = 0; i < SHD_PT_ENTRIES; i++)
		shd__pt_free_dir(m, ((struct shd_pt_dir *)node)->slot[i], level + 1);
	free(node);
}

/*
 * Hand detached leaves back after their flush (covering clock T over vpns
 * [s, e)) completed: the flush's credit walk could not reach them, so they
 * are credited here before their history goes to the pool.
 */
void shd__leaves_release(struct shd_mm *mm, struct shd_pt_leaf *list,
			 uint64_t s, uint64_t e, uint64_t t)
{
	while (list) {
		struct shd_pt_leaf *next = list->next_free;

		if (t)
			shd__oracle_credit_leaf(list, list->base_vpn, s, e, t,
						SHD_IF_RANGE);
		shd__oracle_fold_leaf(mm, list);
		/* Seeded: the pool's order must not depend on when the
		 * RCU thread runs; no CPU waits inside a read section. */
		if (mm->m->seeded) {
			synchronize_rcu();
			leaf_to_pool(list);
		} else {
			call_rcu(&list->rcu, leaf_free_rcu);
		}
		list = next;
	}
}
