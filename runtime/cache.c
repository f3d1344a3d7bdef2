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
#include <limits.h>
#include <inttypes.h>
#include <string.h>

#include <shootdown/smp.h>
#include "cache.h"
#include "icache.h"
#include "report.h"

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

/* A store to PA reaches every CPU but SKIP: drop the line, every colour.
 * Under PA's stripe lock. */
static void invalidate_elsewhere(struct shd_machine *m, uint64_t pa,
				 unsigned skip)
{
	for (unsigned k = 0; k < m->ncpus; k++) {
		struct shd_dcache *o = m->cpus[k]->dcache;

		if (k == skip)
			continue;
		pthread_mutex_lock(&o->lock);
		invalidate_line(m, o, pa);
		pthread_mutex_unlock(&o->lock);
	}
}

static void report_stale(struct shd_cpu *cpu, uint64_t va, uint64_t pa,
			 uint64_t got, uint64_t want)
{
	struct shd_machine *m = cpu->m;
	struct shd_frame *fr = &m->frames[pa >> m->page_shift];
	bool dma = shd_load_relaxed(&fr->store_cpu) == SHD_STORE_DEVICE;
	struct shd_violation v;
	char who[64];

	shd__violation_init(&v, m, SHD_VIOLATION_STALE_DATA, cpu->id,
			    cpu->loaded_mm ? cpu->loaded_mm->id : 0, va,
			    dma ? "invalidate_kernel_vmap_range" :
				  "flush_dcache_page");

	if (dma)
		snprintf(who, sizeof(who), "written by a device (DMA, not "
			 "snooped)");
	else
		snprintf(who, sizeof(who), "stored through colour %u on cpu %u",
			 shd_load_relaxed(&fr->store_colour),
			 shd_load_relaxed(&fr->store_cpu));
	snprintf(v.text, sizeof(v.text),
		 "stale data: cpu %u read 0x%" PRIx64 " at va 0x%" PRIx64
		 " (pa 0x%" PRIx64 ", colour %u) from its D-cache; memory holds "
		 "0x%" PRIx64 ", %s: a%s %s was missed%s, seed %" PRIu64,
		 cpu->id, got, va, pa, shd__cache_colour(m, va), want, who,
		 dma ? "n" : "", v.interface, dma ? "" : " or ran on another CPU",
		 v.seed);
	shd__report_cpu(cpu, &v);
}

static uint64_t dcache_load(struct shd_cpu *cpu, uint64_t va, uint64_t pa)
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
	mem = shd_load_relaxed(mem_word(m, pa));
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

static void dcache_store(struct shd_cpu *cpu, uint64_t va, uint64_t pa,
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
	shd_store_relaxed(mem_word(m, pa), val);
	pthread_mutex_lock(&d->lock);
	i = find(c, d, set_of(c, va), pline);
	if (i >= 0)	/* write-through; no allocation on a miss */
		memcpy(d->data + (size_t)i * c->line + (pa & c->line_mask), &val, 8);
	pthread_mutex_unlock(&d->lock);
	invalidate_elsewhere(m, pa, cpu->id);
	shd_store_relaxed(&fr->store_colour, shd__cache_colour(m, va));
	shd_store_relaxed(&fr->store_cpu, cpu->id);
	pthread_mutex_unlock(st);
}

void shd__dcache_device_store(struct shd_machine *m, uint64_t pa, uint64_t val)
{
	struct shd_cache_machine *c = m->cache;
	struct shd_frame *fr = &m->frames[pa >> m->page_shift];
	pthread_mutex_t *st;

	if (m->ilog)
		shd__ikernel_write_begin(m, pa >> m->page_shift);
	if (!c) {
		shd_store_relaxed(mem_word(m, pa), val);
		if (m->ilog)
			shd__ikernel_write_end(m, pa >> m->page_shift);
		return;
	}
	st = stripe_of(c, pa >> c->line_shift);
	pthread_mutex_lock(st);
	shd_store_relaxed(mem_word(m, pa), val);
	if (m->ilog)
		shd__ikernel_write_end(m, pa >> m->page_shift);
	if (!m->cfg.arch.dma_noncoherent)	/* the bus snoops */
		invalidate_elsewhere(m, pa, UINT_MAX);
	shd_store_relaxed(&fr->store_cpu, SHD_STORE_DEVICE);
	pthread_mutex_unlock(st);
}

void shd__mem_access(struct shd_cpu *cpu, uint64_t va, uint64_t pa,
		     bool write, uint64_t *val)
{
	struct shd_machine *m = cpu->m;
	uint64_t *w = (uint64_t *)(m->mem + pa);

	/* Relaxed atomics: simulated memory is shared by all CPUs. */
	if (m->cache && write)
		dcache_store(cpu, va, pa, *val);
	else if (m->cache)
		*val = dcache_load(cpu, va, pa);
	else if (write)
		shd_store_relaxed(w, *val);
	else
		*val = shd_load_relaxed(w);
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

/* Drop D's lines of frame PFN at the colour of virtual page VA; how many. */
static unsigned drop_va_page(struct shd_machine *m, struct shd_dcache *d,
			     uint64_t va, uint64_t pfn)
{
	struct shd_cache_machine *c = m->cache;
	uint64_t pline = pfn << (m->page_shift - c->line_shift);
	unsigned lines = (unsigned)(m->page_size >> c->line_shift), n = 0;

	va &= ~(m->page_size - 1);
	pthread_mutex_lock(&d->lock);
	for (unsigned l = 0; l < lines; l++) {
		int i = find(c, d, set_of(c, va + ((uint64_t)l << c->line_shift)),
			     pline + l);

		if (i >= 0) {
			d->tag[i] = 0;
			n++;
		}
	}
	pthread_mutex_unlock(&d->lock);
	return n;
}

unsigned shd__dcache_flush_va_page(struct shd_cpu *cpu, uint64_t va,
				   uint64_t pfn)
{
	unsigned n = drop_va_page(cpu->m, cpu->dcache, va, pfn);

	cpu->cnt.s.dcache_lines_invalidated += n;
	return n;
}

unsigned shd__dcache_flush_all(struct shd_cpu *cpu)
{
	struct shd_cache_machine *c = cpu->m->cache;
	struct shd_dcache *d = cpu->dcache;
	unsigned n = 0;

	if (!d)
		return 0;
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < (size_t)c->sets * c->ways; i++) {
		if (d->tag[i]) {
			d->tag[i] = 0;
			n++;
		}
	}
	pthread_mutex_unlock(&d->lock);
	cpu->cnt.s.dcache_lines_invalidated += n;
	return n;
}

/* Memory of PFN was just written behind the caches (device I/O): drop
 * its lines on every CPU, as coherent DMA does. */
static void dcache_dma_page(struct shd_machine *m, uint64_t pfn)
{
	if (!m->cache)
		return;
	for (unsigned k = 0; k < m->ncpus; k++)
		drop_page(m, m->cpus[k]->dcache, pfn);
}

/* Write frame DST with SRC's bytes (UINT64_MAX: zeroes) behind every cache:
 * a kernel write of DST for the I-cache oracle. */
static void frame_fill(struct shd_machine *m, uint64_t dst, uint64_t src)
{
	uint64_t *d = (uint64_t *)(m->mem + (dst << m->page_shift));
	const uint64_t *sp = src == UINT64_MAX ? NULL :
			     (const uint64_t *)(m->mem + (src << m->page_shift));

	if (m->ilog)
		shd__ikernel_write_begin(m, dst);
	/* Relaxed atomics: a CPU using a stale translation (a bug the oracle
	 * reports) may touch these frames concurrently. */
	for (uint64_t w = 0; w < m->page_size / 8; w++)
		shd_store_relaxed(&d[w], sp ? shd_load_relaxed(&sp[w]) : 0);
	if (m->ilog)
		shd__ikernel_write_end(m, dst);
}

/* A fresh page-cache or vmalloc page: zeroed behind the caches (the
 * device or the kernel's own colour-independent clear), so no CPU keeps an
 * older line of it. */
void shd__frame_zero(struct shd_machine *m, uint64_t pfn)
{
	frame_fill(m, pfn, UINT64_MAX);
	dcache_dma_page(m, pfn);
}

/*
 * clear_user_page() / copy_user_page(): the kernel writes a fresh frame for
 * user address UVA.  With colour_kmap (sparc64) it writes through a kernel
 * address of UVA's colour: the stores update this CPU's lines at that
 * colour (here: drop them, the same to every later load) and invalidate
 * the page on every other CPU, as any store does; the lines this CPU holds
 * at other colours are left alone, the user never uses them, and no flush
 * is needed.  Without it the kernel writes through the linear map and then
 * flushes the page (flush_dcache_page()).  The frame is not yet mapped, so
 * no load can race these writes.
 */
void shd__user_page_fill(struct shd_cpu *cpu, uint64_t dst, uint64_t src,
			 uint64_t uva)
{
	struct shd_machine *m = cpu->m;

	frame_fill(m, dst, src);
	if (!m->cache)
		return;
	for (unsigned k = 0; k < m->ncpus; k++)
		if (k != cpu->id)
			drop_page(m, m->cpus[k]->dcache, dst);
	if (m->cfg.arch.colour_kmap) {
		/* the stores' own lines: updated (here dropped), not flushed */
		drop_va_page(m, cpu->dcache, uva, dst);
		cpu->cnt.s.dcache_flushes_avoided++;
	} else {
		shd__dcache_flush_page(cpu, dst);
		cpu->cnt.s.dcache_flushes++;
	}
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

	if (m->ilog) {
		/* arm64: the page is no longer known clean (bit 0); the next
		 * executable mapping syncs the I-cache (set_pte_at).  The
		 * write count above it stops a sync that began before this
		 * write from marking the page clean after it (Linux holds
		 * the folio lock across both instead).  (cur | 1) + 1 clears
		 * the bit and counts one more. */
		/* Seq-cst, load and CAS: pair with set_pte_at()'s
		 * (shd__icache_set_pte_exec()). */
		cur = shd_load_seq(&fr->arch1);
		if (shd__fault(m, SHD_FAULT_ARCH1_NOT_CLEARED)) {
			if (cur & 1)	/* known clean, and stays so */
				shd__fault_fired(cpu, SHD_FAULT_ARCH1_NOT_CLEARED);
			return 0;
		}
		while (!shd_cas(&fr->arch1, &cur, (cur | 1) + 1))
			;
		return 0;
	}
	if (!m->cache)
		return 0;	/* coherent: nothing to do, and nothing done */
	if (m->cfg.arch.deferred_dcache && f && !shd__file_mapped(f)) {
		/* No user maps it: mark it dirty on this CPU; the flush
		 * happens on it when a user maps the page.  The mark carries
		 * a count, so that update_mmu_cache() cannot clear a re-dirty
		 * that came after its flush, even by the same CPU. */
		/* Acquire: pairs with the marking and clearing CASes of
		 * other CPUs (below and shd__dcache_update_mmu()). */
		cur = shd_load_acquire(&fr->arch1);
		for (;;) {
			/* Marked by another CPU: its stores are flushed
			 * there before the mark changes hands.  (The kernel
			 * holds the folio lock here; two CPUs can race for
			 * the mark in the model, so it is a CAS loop.) */
			if ((cur & 0xffff) && (cur & 0xffff) != cpu->id + 1 &&
			    !shd__fault_fires(cpu, SHD_FAULT_ARCH1_OVERWRITTEN) &&
			    (err = flush_on(cpu, (cur & 0xffff) - 1, pfn)))
				return err;
			/* Seq-cst CAS: pairs with update_mmu_cache()'s acquire
			 * of the mark and its clearing CAS (shd__dcache_update_mmu()). */
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
	/* Acquire: pairs with the marking CAS in shd__flush_dcache_page()
	 * (the dirtying CPU stored before it marked). */
	uint32_t cur = shd_load_acquire(&fr->arch1);
	unsigned target;
	int err;

	if (!m->cache || !(cur & 0xffff))
		return 0;
	target = (cur & 0xffff) - 1;
	if (m->ncpus > 1 &&
	    shd__fault_fires(cpu, SHD_FAULT_DEFERRED_FLUSH_WRONG_CPU))
		target = (target + 1) % m->ncpus;	/* the bug: elsewhere */
	if ((err = flush_on(cpu, target, pfn)))
		return err;
	cpu->cnt.s.dcache_deferred_done++;
	/* Clear the mark only if it is still the one we flushed for: a
	 * re-dirty meanwhile (any CPU) keeps its claim.  The count stays,
	 * so a later mark never looks like this one again (no ABA).
	 * Seq-cst CAS: pairs with the marking CAS and its acquire load. */
	shd_cas(&fr->arch1, &cur, cur & 0xffff0000u);
	return 0;
}
