/* SPDX-License-Identifier: MIT */
/* Virtually indexed D-caches with aliasing, and the stale-data oracle. */

/*
 * The model (docs/caches.md).  Under a profile with alias_dcache, every CPU
 * has a write-through D-cache of sets x ways lines, indexed by virtual
 * address bits (some above PAGE_SHIFT: the colour) and tagged by physical
 * line.  Memory always holds the latest store, so it is also the oracle's
 * shadow: a load that hits a line whose word differs from memory is a stale
 * read, and since a CPU's own kernel call cannot be interleaved with its own
 * loads, a stale read always means a flush the contract required did not
 * happen (or happened on the wrong CPU).
 *
 * Coherence.  A store writes memory, updates the storing CPU's line at the
 * store's colour if it has one (no allocation on a write miss), and
 * invalidates the physical line on every other CPU at every colour.  It does
 * not touch the storing CPU's lines at other colours: those are the aliases
 * that go stale.  A flush invalidates the executing CPU's lines of a page;
 * nothing else does.
 *
 * Locking.  Every access to a physical line holds that line's stripe lock,
 * which serialises the store, its invalidations and any load of the line,
 * so the oracle's comparison is exact.  A CPU's cache has its own lock too:
 * other CPUs' stores invalidate in it.  Order: stripe, then caches.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "internal.h"

#define STRIPES 256

struct shd_dcache {
	pthread_mutex_t lock;
	uint64_t *tag;		/* physical line + 1; 0: invalid */
	uint8_t *data;		/* sets * ways * line */
	uint8_t *victim;	/* round-robin way per set */
};

struct shd_cache_machine {
	pthread_mutex_t stripe[STRIPES];
	unsigned sets, ways, line, line_shift, colours;
	uint64_t line_mask;
};

int shd__cache_machine_init(struct shd_machine *m)
{
	const struct shd_arch *a = &m->cfg.arch;
	struct shd_cache_machine *c;

	if (!a->alias_dcache)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	for (unsigned i = 0; i < STRIPES; i++)
		pthread_mutex_init(&c->stripe[i], NULL);
	c->sets = a->dcache_sets;
	c->ways = a->dcache_ways;
	c->line = a->line;
	c->line_shift = (unsigned)__builtin_ctz(a->line);
	c->line_mask = a->line - 1;
	c->colours = (unsigned)(((uint64_t)c->sets * c->line) >> m->page_shift);
	if (!c->colours)
		c->colours = 1;
	m->cache = c;
	return 0;
}

void shd__cache_machine_free(struct shd_machine *m)
{
	if (!m->cache)
		return;
	for (unsigned i = 0; i < STRIPES; i++)
		pthread_mutex_destroy(&m->cache->stripe[i]);
	free(m->cache);
	m->cache = NULL;
}

int shd__dcache_init(struct shd_cpu *cpu)
{
	struct shd_cache_machine *c = cpu->m->cache;
	struct shd_dcache *d;
	size_t n;

	if (!c)
		return 0;
	n = (size_t)c->sets * c->ways;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->tag = calloc(n, sizeof(*d->tag));
	d->data = malloc(n * c->line);
	d->victim = calloc(c->sets, 1);
	pthread_mutex_init(&d->lock, NULL);
	cpu->dcache = d;
	return d->tag && d->data && d->victim ? 0 : -ENOMEM;
}

void shd__dcache_free(struct shd_cpu *cpu)
{
	struct shd_dcache *d = cpu->dcache;

	if (!d)
		return;
	pthread_mutex_destroy(&d->lock);
	free(d->tag);
	free(d->data);
	free(d->victim);
	free(d);
	cpu->dcache = NULL;
}

unsigned shd__cache_colour(const struct shd_machine *m, uint64_t va)
{
	return m->cache ? (unsigned)((va >> m->page_shift) &
				     (m->cache->colours - 1)) : 0;
}

static inline unsigned set_of(const struct shd_cache_machine *c, uint64_t va)
{
	return (unsigned)((va >> c->line_shift) & (c->sets - 1));
}

static inline pthread_mutex_t *stripe_of(struct shd_cache_machine *c,
					 uint64_t pline)
{
	return &c->stripe[shd__mix64(pline) % STRIPES];
}

static inline uint64_t *mem_word(struct shd_machine *m, uint64_t pa)
{
	return (uint64_t *)(m->mem + pa);
}

/* The way of SET holding PLINE in D, or -1.  Under D's lock. */
static int find(const struct shd_cache_machine *c, const struct shd_dcache *d,
		unsigned set, uint64_t pline)
{
	for (unsigned w = 0; w < c->ways; w++)
		if (d->tag[set * c->ways + w] == pline + 1)
			return (int)(set * c->ways + w);
	return -1;
}

/* Invalidate PLINE at every colour in D.  Under D's lock. */
static unsigned invalidate_line(struct shd_machine *m, struct shd_dcache *d,
				uint64_t pa)
{
	struct shd_cache_machine *c = m->cache;
	uint64_t pline = pa >> c->line_shift, off = pa & (m->page_size - 1);
	unsigned n = 0;

	for (unsigned k = 0; k < c->colours; k++) {
		int i = find(c, d, set_of(c, ((uint64_t)k << m->page_shift) | off),
			     pline);

		if (i >= 0) {
			d->tag[i] = 0;
			n++;
		}
	}
	return n;
}

static void report_stale(struct shd_cpu *cpu, uint64_t va, uint64_t pa,
			 uint64_t got, uint64_t want)
{
	struct shd_machine *m = cpu->m;
	struct shd_frame *fr = &m->frames[pa >> m->page_shift];
	struct shd_violation v;

	memset(&v, 0, sizeof(v));
	v.kind = SHD_VIOLATION_STALE_DATA;
	v.cpu = cpu->id;
	v.mm_id = cpu->loaded_mm ? cpu->loaded_mm->id : 0;
	v.addr = va;
	v.interface = "flush_dcache_page";
	v.seed = m->cfg.seed;
	snprintf(v.text, sizeof(v.text),
		 "stale data: cpu %u read 0x%" PRIx64 " at va 0x%" PRIx64
		 " (pa 0x%" PRIx64 ", colour %u) from its D-cache; memory holds "
		 "0x%" PRIx64 ", stored through colour %u on cpu %u: a "
		 "flush_dcache_page was missed or ran on another CPU, seed %"
		 PRIu64, cpu->id, got, va, pa, shd__cache_colour(m, va), want,
		 shd_load_relaxed(&fr->store_colour),
		 shd_load_relaxed(&fr->store_cpu), v.seed);
	cpu->cnt.s.violations++;
	shd__report(m, &v);
}

uint64_t shd__dcache_load(struct shd_cpu *cpu, uint64_t va, uint64_t pa)
{
	struct shd_machine *m = cpu->m;
	struct shd_cache_machine *c = m->cache;
	struct shd_dcache *d = cpu->dcache;
	uint64_t pline = pa >> c->line_shift, val, mem;
	pthread_mutex_t *st = stripe_of(c, pline);
	unsigned set = set_of(c, va);
	int i;

	pthread_mutex_lock(st);
	pthread_mutex_lock(&d->lock);
	mem = __atomic_load_n(mem_word(m, pa), __ATOMIC_RELAXED);
	i = find(c, d, set, pline);
	if (i < 0) {
		unsigned w = d->victim[set];

		d->victim[set] = (uint8_t)((w + 1) % c->ways);
		i = (int)(set * c->ways + w);
		d->tag[i] = pline + 1;
		memcpy(d->data + (size_t)i * c->line,
		       mem_word(m, pline << c->line_shift), c->line);
		cpu->cnt.s.dcache_misses++;
	}
	memcpy(&val, d->data + (size_t)i * c->line + (pa & c->line_mask), 8);
	pthread_mutex_unlock(&d->lock);
	if (val != mem && m->cfg.oracle)
		report_stale(cpu, va, pa, val, mem);
	pthread_mutex_unlock(st);
	return val;
}

void shd__dcache_store(struct shd_cpu *cpu, uint64_t va, uint64_t pa,
		       uint64_t val)
{
	struct shd_machine *m = cpu->m;
	struct shd_cache_machine *c = m->cache;
	struct shd_dcache *d = cpu->dcache;
	struct shd_frame *fr = &m->frames[pa >> m->page_shift];
	uint64_t pline = pa >> c->line_shift;
	pthread_mutex_t *st = stripe_of(c, pline);
	int i;

	pthread_mutex_lock(st);
	__atomic_store_n(mem_word(m, pa), val, __ATOMIC_RELAXED);
	pthread_mutex_lock(&d->lock);
	i = find(c, d, set_of(c, va), pline);
	if (i >= 0)	/* write-through; no allocation on a miss */
		memcpy(d->data + (size_t)i * c->line + (pa & c->line_mask), &val, 8);
	pthread_mutex_unlock(&d->lock);
	for (unsigned k = 0; k < m->ncpus; k++) {
		struct shd_dcache *o = m->cpus[k]->dcache;

		if (k == cpu->id)
			continue;
		pthread_mutex_lock(&o->lock);
		invalidate_line(m, o, pa);
		pthread_mutex_unlock(&o->lock);
	}
	shd_store_relaxed(&fr->store_colour, shd__cache_colour(m, va));
	shd_store_relaxed(&fr->store_cpu, cpu->id);
	pthread_mutex_unlock(st);
}

void shd__mem_access(struct shd_cpu *cpu, uint64_t va, uint64_t pa,
		     bool write, uint64_t *val)
{
	struct shd_machine *m = cpu->m;
	uint64_t *w = (uint64_t *)(m->mem + pa);

	/* Relaxed atomics: simulated memory is shared by all CPUs. */
	if (m->cache && write)
		shd__dcache_store(cpu, va, pa, *val);
	else if (m->cache)
		*val = shd__dcache_load(cpu, va, pa);
	else if (write)
		__atomic_store_n(w, *val, __ATOMIC_RELAXED);
	else
		*val = __atomic_load_n(w, __ATOMIC_RELAXED);
}

/* Drop every line of frame PFN from D, at every colour; how many. */
static unsigned drop_page(struct shd_machine *m, struct shd_dcache *d,
			  uint64_t pfn)
{
	struct shd_cache_machine *c = m->cache;
	uint64_t lo = (pfn << m->page_shift) >> c->line_shift;
	uint64_t hi = ((pfn + 1) << m->page_shift) >> c->line_shift;
	unsigned n = 0;

	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < (size_t)c->sets * c->ways; i++) {
		if (d->tag[i] > lo && d->tag[i] <= hi) {
			d->tag[i] = 0;
			n++;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return n;
}

unsigned shd__dcache_flush_page(struct shd_cpu *cpu, uint64_t pfn)
{
	unsigned n;

	if (!cpu->dcache)
		return 0;
	n = drop_page(cpu->m, cpu->dcache, pfn);
	cpu->cnt.s.dcache_lines_invalidated += n;
	return n;
}

void shd__dcache_dma_page(struct shd_machine *m, uint64_t pfn)
{
	if (!m->cache)
		return;
	for (unsigned k = 0; k < m->ncpus; k++)
		drop_page(m, m->cpus[k]->dcache, pfn);
}

/* ---- flush_dcache_page() and its deferral (sparc64) ---- */

static void flush_page_fn(struct shd_cpu *cpu, void *info)
{
	shd__dcache_flush_page(cpu, *(const uint64_t *)info);
}

/* Flush PFN's lines on TARGET (here, or by IPI). */
static int flush_on(struct shd_cpu *cpu, unsigned target, uint64_t pfn)
{
	if (target == cpu->id) {
		shd__dcache_flush_page(cpu, pfn);
		return 0;
	}
	cpu->cnt.s.dcache_cross_cpu++;
	return shd_smp_call_function_single(cpu, target, flush_page_fn, &pfn);
}

int shd__flush_dcache_page(struct shd_cpu *cpu, uint64_t pfn,
			   struct shd_file *f)
{
	struct shd_machine *m = cpu->m;
	struct shd_frame *fr = &m->frames[pfn];
	uint32_t cur;
	int err;

	if (!m->cache)
		return 0;	/* coherent: nothing to do, and nothing done */
	if (m->cfg.arch.deferred_dcache && f && !shd__file_mapped(f)) {
		/* No user maps it: mark it dirty on this CPU; the flush
		 * happens on it when a user maps the page.  The mark carries
		 * a count, so that update_mmu_cache() cannot clear a re-dirty
		 * that came after its flush, even by the same CPU. */
		cur = shd_load_acquire(&fr->arch1);
		for (;;) {
			/* Marked by another CPU: its stores are flushed
			 * there before the mark changes hands.  (The kernel
			 * holds the folio lock here; two CPUs can race for
			 * the mark in the model, so it is a CAS loop.) */
			if ((cur & 0xffff) && (cur & 0xffff) != cpu->id + 1 &&
			    (err = flush_on(cpu, (cur & 0xffff) - 1, pfn)))
				return err;
			if (shd_cas(&fr->arch1, &cur, (cpu->id + 1) |
				    (((cur >> 16) + 1) << 16)))
				break;
		}
		cpu->cnt.s.dcache_deferred++;
		return 0;
	}
	shd__dcache_flush_page(cpu, pfn);
	cpu->cnt.s.dcache_flushes++;
	return 0;
}

int shd__dcache_update_mmu(struct shd_cpu *cpu, uint64_t pfn)
{
	struct shd_machine *m = cpu->m;
	struct shd_frame *fr = &m->frames[pfn];
	uint32_t cur = shd_load_acquire(&fr->arch1);
	unsigned target;
	int err;

	if (!m->cache || !(cur & 0xffff))
		return 0;
	target = (cur & 0xffff) - 1;
	if (shd__fault(m, SHD_FAULT_DEFERRED_FLUSH_WRONG_CPU))
		target = (target + 1) % m->ncpus;	/* the bug: elsewhere */
	if ((err = flush_on(cpu, target, pfn)))
		return err;
	cpu->cnt.s.dcache_deferred_done++;
	/* Clear the mark only if it is still the one we flushed for: a
	 * re-dirty meanwhile (any CPU) keeps its claim.  The count stays,
	 * so a later mark never looks like this one again (no ABA). */
	shd_cas(&fr->arch1, &cur, cur & 0xffff0000u);
	return 0;
}
