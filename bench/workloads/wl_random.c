/* SPDX-License-Identifier: MIT */
/* Workload random: the check mix, a table of operations on every CPU. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "oplog.h"
#include "workload.h"

#define RND_MMS 3
#define RND_WINDOW 64			/* pages per mm, shared by all CPUs */
#define RND_KSLOT 4			/* vmap pages per CPU; the last is an
					 * I/O buffer only its CPU reads */
#define RND_FILE2 4			/* pages of file2 */
#define RND_REVISIT 256		/* ops before a CPU looks again at a file2
					 * page it left marked */
#define RND_F2_OFF 2048			/* where in a page file2's traffic goes:
					 * sets the window's hot lines (the
					 * first 4 of a page) do not evict */

struct rnd {
	struct shd_mm *mm[RND_MMS];
	struct shd_file *file;		/* RND_WINDOW pages, mapped at page pg */
	struct shd_file *file2;		/* RND_FILE2 pages, mapped only for a
					 * moment (flush_dcache_page defers) */
	uint64_t page;
	uint64_t ops;			/* in all; CPU i does its share */
	uint64_t seed;
	unsigned ncpus;
	uint64_t revisit[SHD_MAX_CPUS];	/* op << 8 | file2 page + 1 that a CPU
					 * left marked at op */
	uint64_t unexpected;		/* library errors the mix should not get */
	char note[160];
	struct oplog *log;		/* record every call (minimize); NULL */
};

static uint64_t rnd_base(const struct rnd *r)
{
	(void)r;
	return 0x40000000ull;
}

static uint64_t kslot(const struct rnd *r, unsigned cpu)
{
	return SHD_KERNEL_BASE + (uint64_t)cpu * RND_KSLOT * r->page;
}

static bool expected_err(int err)
{
	return err == 0 || err == -EFAULT || err == -EACCES || err == -EEXIST ||
	       err == -ENOMEM;
}

/*
 * fork() CUR, run the child here for a few accesses (copy-on-write copies,
 * with their flush_tlb_page()), and let it exit.
 */
static int rnd_fork(struct shd_cpu *cpu, struct rnd *r, struct shd_mm *cur,
		    uint64_t *s)
{
	struct shd_mm *child;
	uint64_t v;
	int err = oplog_mm_dup(r->log, cpu, cur, &child);

	if (err)
		return err;
	err = oplog_switch_mm(r->log, cpu, child);
	for (unsigned i = 0; !err && i < 4; i++) {
		uint64_t va = rnd_base(r) + wl_rng_below(s, RND_WINDOW) * r->page;

		err = wl_rng_below(s, 2) ? oplog_store(r->log, cpu, va, i) :
		      oplog_load(r->log, cpu, va, &v);
		if (err == -EFAULT || err == -EACCES)
			err = 0;
	}
	if (!err)
		err = oplog_switch_mm(r->log, cpu, cur);
	oplog_mm_destroy(r->log, cpu, child);
	return err;
}

/* A program maps page PG of file2 at its slot twice, shared (at the page's
 * colour, as SHMLBA wants) and private read-only one colour up, so that
 * one of the two differs from the kernel's linear alias whatever frame
 * the page has; it reads the 32 words the kernel writes through both
 * (caching their 4 lines at both colours) and runs the one at OFF. */
static int rnd_slot_read(struct shd_cpu *cpu, struct rnd *r, struct shd_mm *cur,
			 uint64_t pg, uint64_t off)
{
	uint64_t slot = 0x50000000ull + (uint64_t)shd_cpu_id(cpu) *
				       WL_SHMLBA_PAGES * r->page;
	uint64_t uva = slot + pg * r->page, uva2 = slot + (9 + pg) * r->page;
	uint64_t v;
	int err = oplog_mmap_file(r->log, cpu, cur, uva, r->page,
				  SHD_PROT_READ | SHD_PROT_EXEC, SHD_MAP_SHARED,
				  r->file2, pg);

	if (!err && !(err = oplog_mmap_file(r->log, cpu, cur, uva2, r->page,
					    SHD_PROT_READ, SHD_MAP_PRIVATE,
					    r->file2, pg))) {
		for (uint64_t w = 0; !err && w < 32; w++)
			err = oplog_load(r->log, cpu, uva2 + RND_F2_OFF + 8 * w,
					 &v);
		oplog_munmap(r->log, cpu, cur, uva2, r->page);
	}
	for (uint64_t w = 0; !err && w < 32; w++)
		err = oplog_load(r->log, cpu, uva + RND_F2_OFF + 8 * w, &v);
	if (!err)
		err = oplog_fetch(r->log, cpu, uva + off, &v);
	oplog_munmap(r->log, cpu, cur, uva, r->page);
	return err;
}

/*
 * The seldom-mapped file2, through a slot of the program's own.  Either
 * it maps a page, reads and runs it, unmaps it, and write(2)s it: nobody
 * maps the file, so flush_dcache_page defers to the next mapping (sparc64;
 * arm64 clears PG_dcache_clean), and the program may map it again at once
 * (update_mmu_cache then runs the deferred flush on the CPU that wrote;
 * set_pte_at syncs the I-cache) or leave the page marked for whoever maps
 * it next, perhaps after another CPU wrote it too.  Or a debugger sets
 * breakpoints in the program's text (a private mapping it cannot write):
 * the first poke copies the page, the second lands in the copy; the
 * program runs the word after each (copy_to_user_page invalidates the
 * I-cache).
 */
static int rnd_remap_poke(struct shd_cpu *cpu, struct rnd *r,
			  struct shd_mm *cur, uint64_t *s, uint64_t i)
{
	/* Each page is mapped by its own CPUs only (others write it), so a
	 * page one CPU left marked stays so until that CPU comes back. */
	unsigned id = shd_cpu_id(cpu);
	uint64_t pg = r->ncpus >= RND_FILE2 ? id % RND_FILE2 :
		      id + r->ncpus * wl_rng_below(s, RND_FILE2 / r->ncpus), v;
	uint64_t off = RND_F2_OFF + 8 * wl_rng_below(s, 32);
	uint64_t uva = 0x50000000ull + ((uint64_t)id * WL_SHMLBA_PAGES + pg) *
				       r->page;
	uint64_t *revisit = &r->revisit[id];
	int err = 0;

	/* Back, a while later, to a page this CPU wrote and left marked:
	 * its lines of the page must have been flushed, whichever CPU
	 * wrote the page and took the mark over meanwhile. */
	if (*revisit && i >= (*revisit >> 8) + RND_REVISIT) {
		pg = (*revisit & 0xff) - 1;
		*revisit = 0;
		return rnd_slot_read(cpu, r, cur, pg, off);
	}
	switch (wl_rng_below(s, 4)) {
	case 0:
		if ((err = oplog_mmap_file(r->log, cpu, cur, uva, r->page,
					   SHD_PROT_READ | SHD_PROT_EXEC,
					   SHD_MAP_PRIVATE, r->file2, pg)))
			return err;
		err = oplog_fetch(r->log, cpu, uva + off, &v);
		for (int k = 0; k < 2 && !err; k++) {
			err = oplog_ptrace_poke(r->log, cpu, cur, uva + off,
						i << 1 | (unsigned)k);
			if (!err)
				err = oplog_fetch(r->log, cpu, uva + off, &v);
		}
		oplog_munmap(r->log, cpu, cur, uva, r->page);
		return err;
	case 1:
	case 2:
		err = rnd_slot_read(cpu, r, cur, pg, off);
		if (!err)
			err = oplog_file_write(r->log, cpu, r->file2,
					       pg * r->page + off, i);
		if (!err && !*revisit)
			*revisit = i << 8 | (pg + 1);
		return err;
	default:
		err = rnd_slot_read(cpu, r, cur, pg, off);
		if (!err)
			err = oplog_file_write(r->log, cpu, r->file2,
					       pg * r->page + off, i);
		if (!err)
			err = rnd_slot_read(cpu, r, cur, pg, off);
		return err;
	}
}

/*
 * One CPU's share of the check mix.  Accesses favour a small per-CPU hot set
 * so translations stay cached long enough for a missed flush to be used;
 * lazy spells last several operations (kernel work only), so flushes really
 * do skip lazy CPUs while they hold stale entries.
 *
 * Each step draws its arguments (a page, an address, a length) and a dice
 * roll in 0..999 that picks the operation from rnd_ops[] by weight.  An
 * operation that does not apply (a vmap I/O with nothing vmapped) declines,
 * and the next one in the table runs instead: the table's order matters.
 */
struct rnd_cpu {
	struct shd_cpu *cpu;
	struct rnd *r;
	struct oplog *lg;		/* r->log */
	unsigned id;
	uint64_t s;			/* this CPU's random stream */
	uint64_t base, page;
	uint64_t hot[8];		/* pages this CPU favours */
	struct shd_mm *cur;		/* the mm it runs (lazy: the one it left) */
	bool lazy, kmapped;		/* a kernel thread; its vmap slot is mapped */
	const char *what;		/* the operation, for the error note */
	/* The step's arguments, drawn before the operation is chosen. */
	uint64_t i, pg, va, npages;
};

#define RND_DECLINE 0x7fff		/* the operation does not apply now */

static const unsigned rnd_prots[] = {
	SHD_PROT_READ, SHD_PROT_READ | SHD_PROT_WRITE,
	SHD_PROT_READ | SHD_PROT_WRITE, SHD_PROT_READ | SHD_PROT_EXEC,
	SHD_PROT_READ | SHD_PROT_WRITE | SHD_PROT_EXEC, SHD_PROT_NONE,
};

static uint64_t rnd_addr(const struct rnd_cpu *c, uint64_t pg)
{
	return c->base + pg * c->page;
}

static int op_store(struct rnd_cpu *c)
{
	return oplog_store(c->lg, c->cpu, c->va, (uint64_t)c->id << 48 | c->i);
}

static int op_load(struct rnd_cpu *c)
{
	uint64_t v;

	return oplog_load(c->lg, c->cpu, c->va, &v);
}

static int op_fetch(struct rnd_cpu *c)
{
	uint64_t v;

	return oplog_fetch(c->lg, c->cpu, c->va, &v);
}

/* A reclaim scan of a few pages. */
static int op_try_to_unmap(struct rnd_cpu *c)
{
	int err = 0;

	for (uint64_t k = 0; k < c->npages && err >= 0; k++)
		err = oplog_try_to_unmap(c->lg, c->cpu, c->cur,
					 rnd_addr(c, c->pg + k));
	return err > 0 ? 0 : err;
}

static int op_try_to_unmap_flush(struct rnd_cpu *c)
{
	if (wl_rng_below(&c->s, 4) != 0)
		return RND_DECLINE;
	return oplog_try_to_unmap_flush(c->lg, c->cpu);
}

static int op_mmap(struct rnd_cpu *c)
{
	return oplog_mmap(c->lg, c->cpu, c->cur, rnd_addr(c, c->pg),
			  c->npages * c->page,
			  rnd_prots[wl_rng_below(&c->s, 5)]);
}

static int op_mmap_file(struct rnd_cpu *c)
{
	uint64_t *s = &c->s;

	return oplog_mmap_file(c->lg, c->cpu, c->cur, rnd_addr(c, c->pg),
			       c->npages * c->page,
			       rnd_prots[wl_rng_below(s, 5)],
			       wl_rng_below(s, 2) ? SHD_MAP_SHARED :
			       SHD_MAP_PRIVATE, c->r->file, c->pg);
}

static int op_remap_poke(struct rnd_cpu *c)
{
	return rnd_remap_poke(c->cpu, c->r, c->cur, &c->s, c->i);
}

static int op_munmap(struct rnd_cpu *c)
{
	if (wl_rng_below(&c->s, 4) == 0)	/* sometimes over the ceiling */
		c->npages = RND_WINDOW - c->pg;
	return oplog_munmap(c->lg, c->cpu, c->cur, rnd_addr(c, c->pg),
			    c->npages * c->page);
}

static int op_mprotect(struct rnd_cpu *c)
{
	return oplog_mprotect(c->lg, c->cpu, c->cur, rnd_addr(c, c->pg),
			      c->npages * c->page,
			      rnd_prots[wl_rng_below(&c->s, 6)]);
}

static int op_madvise(struct rnd_cpu *c)
{
	return oplog_madvise_dontneed(c->lg, c->cpu, c->cur, rnd_addr(c, c->pg),
				      c->npages * c->page);
}

static int op_switch_mm(struct rnd_cpu *c)
{
	c->cur = c->r->mm[wl_rng_below(&c->s, RND_MMS)];
	return oplog_switch_mm(c->lg, c->cpu, c->cur);
}

static int op_enter_lazy_tlb(struct rnd_cpu *c)
{
	oplog_enter_lazy_tlb(c->lg, c->cpu);
	c->lazy = true;
	return 0;
}

/* The kernel's write(2)/read(2) of a file page; or a tracer pokes the
 * current mm (ptrace: a breakpoint, where the program may execute) and the
 * tracee reads and runs it here; or a program reads its mapping, write(2)s
 * the file there, reads the mapping again. */
static int op_file_io(struct rnd_cpu *c)
{
	struct rnd *r = c->r;
	struct shd_file *f = wl_rng_below(&c->s, 2) ? r->file : r->file2;
	uint64_t fp = f == r->file ? c->pg : c->pg % RND_FILE2;
	uint64_t off = fp * c->page + 8 * wl_rng_below(&c->s, 32) +
		       (f == r->file2 ? RND_F2_OFF : 0);
	uint64_t uva = rnd_addr(c, c->pg) + (off & (c->page - 1)), v;
	int err;

	switch (wl_rng_below(&c->s, 4)) {
	case 3:
		c->what = "ptrace poke";
		oplog_load(c->lg, c->cpu, uva, &v);
		oplog_fetch(c->lg, c->cpu, uva, &v);
		err = oplog_ptrace_poke(c->lg, c->cpu, c->cur, uva, c->i);
		if (!err)
			err = oplog_load(c->lg, c->cpu, uva, &v);
		if (!err)
			err = oplog_fetch(c->lg, c->cpu, uva, &v);
		return err;
	case 0:
		c->what = "file write";
		return oplog_file_write(c->lg, c->cpu, f, off, c->i);
	case 1:
		c->what = "file read";
		return oplog_file_read(c->lg, c->cpu, f, off, &v);
	default:
		c->what = "file poke";
		oplog_load(c->lg, c->cpu, uva, &v);
		err = oplog_file_write(c->lg, c->cpu, f, off, c->i);
		if (!err)
			err = oplog_load(c->lg, c->cpu, uva, &v);
		return err;
	}
}

/* Reclaim takes a page (its flush batched while other CPUs may still hold
 * the translation), and the program drops it at once: madvise finds the
 * PTE clear and must wait for the batch (flush_tlb_batched_pending). */
static int op_reclaim_madvise(struct rnd_cpu *c)
{
	int err = oplog_try_to_unmap(c->lg, c->cpu, c->cur, rnd_addr(c, c->pg));

	if (err >= 0)
		err = oplog_madvise_dontneed(c->lg, c->cpu, c->cur,
					     rnd_addr(c, c->pg), c->page);
	return err;
}

static int op_flush_tlb_page(struct rnd_cpu *c)
{
	return oplog_flush_tlb_page(c->lg, c->cpu, c->cur, rnd_addr(c, c->pg));
}

static int op_flush_tlb_range(struct rnd_cpu *c)
{
	return oplog_flush_tlb_range(c->lg, c->cpu, c->cur, rnd_addr(c, c->pg),
				     rnd_addr(c, c->pg + c->npages));
}

static int op_flush_tlb_mm(struct rnd_cpu *c)
{
	return oplog_flush_tlb_mm(c->lg, c->cpu, c->cur);
}

static int op_flush_tlb_all(struct rnd_cpu *c)
{
	return oplog_flush_tlb_all(c->lg, c->cpu);
}

static int op_fork(struct rnd_cpu *c)
{
	return rnd_fork(c->cpu, c->r, c->cur, &c->s);
}

static int op_vmap(struct rnd_cpu *c)
{
	uint64_t slot = kslot(c->r, c->id), len = RND_KSLOT * c->page;
	int err;

	c->what = c->kmapped ? "vunmap" : "vmap";
	err = c->kmapped ? oplog_vunmap(c->lg, c->cpu, slot, len)
			 : oplog_vmap(c->lg, c->cpu, slot, len);
	c->kmapped = !c->kmapped;
	return err;
}

/* A module load: new code in this CPU's vmap slot, flush_icache_range,
 * run it (it ran before). */
static int op_module_load(struct rnd_cpu *c)
{
	uint64_t kva, v;
	int err;

	if (!c->kmapped)
		return RND_DECLINE;
	kva = kslot(c->r, c->id) + wl_rng_below(&c->s, RND_KSLOT) * c->page +
	      8 * wl_rng_below(&c->s, 32);
	err = oplog_fetch(c->lg, c->cpu, kva, &v);
	if (!err)
		err = oplog_store(c->lg, c->cpu, kva, c->i);
	if (!err)
		err = oplog_flush_icache_range(c->lg, c->cpu, kva & ~(c->page - 1),
					(kva & ~(c->page - 1)) + c->page);
	if (!err)
		err = oplog_fetch(c->lg, c->cpu, kva, &v);
	return err;
}

/* A driver's I/O through its vmap'd buffer: the device writes memory
 * (DMA), the driver invalidates its alias and reads (and the other way:
 * it writes, flushes the alias, the device reads). */
static int op_vmap_io(struct rnd_cpu *c)
{
	uint64_t kva, v, i = c->i;
	int err;

	if (!c->kmapped)
		return RND_DECLINE;
	kva = kslot(c->r, c->id) + (RND_KSLOT - 1) * c->page +
	      8 * wl_rng_below(&c->s, 32);
	err = oplog_load(c->lg, c->cpu, kva, &v);
	if (!err)
		err = oplog_dma_write(c->lg, c->cpu, kva, i);
	if (!err)
		err = oplog_invalidate_kernel_vmap_range(c->lg, c->cpu, kva, 8);
	if (!err)
		err = oplog_load(c->lg, c->cpu, kva, &v);
	if (!err)
		err = oplog_store(c->lg, c->cpu, kva, ~i);
	if (!err)
		err = oplog_flush_kernel_vmap_range(c->lg, c->cpu, kva, 8);
	if (!err)
		err = oplog_dma_read(c->lg, c->cpu, kva, &v);
	if (!err && v != ~i)
		wl_note_first(&c->r->unexpected, c->r->note, sizeof(c->r->note),
			      "vmap I/O: the device read %#" PRIx64
			      " where cpu %u wrote %#" PRIx64, v, c->id, ~i);
	return err;
}

/* Kernel code runs other CPUs' modules too. */
static int op_kernel_load(struct rnd_cpu *c)
{
	uint64_t *s = &c->s;
	uint64_t kva = kslot(c->r, (unsigned)wl_rng_below(s, c->r->ncpus)) +
		       wl_rng_below(s, RND_KSLOT - 1) * c->page +
		       8 * wl_rng_below(s, 32), v;

	return wl_rng_below(s, 4) ? oplog_load(c->lg, c->cpu, kva, &v) :
	       oplog_fetch(c->lg, c->cpu, kva, &v);
}

static int op_kernel_store(struct rnd_cpu *c)
{
	if (!c->kmapped)
		return 0;
	return oplog_store(c->lg, c->cpu, kslot(c->r, c->id) +
			 wl_rng_below(&c->s, RND_KSLOT) * c->page, c->i);
}

/* The mix, per mille; the weights sum to 1000. */
static const struct rnd_op {
	const char *name;
	unsigned weight;
	int (*fn)(struct rnd_cpu *c);
} rnd_ops[] = {
	{ "store", 330, op_store },
	{ "load", 230, op_load },
	{ "fetch", 5, op_fetch },
	{ "try_to_unmap", 34, op_try_to_unmap },
	{ "try_to_unmap_flush", 1, op_try_to_unmap_flush },
	{ "mmap", 27, op_mmap },
	{ "mmap(file)", 23, op_mmap_file },
	{ "remap poke", 20, op_remap_poke },
	{ "munmap", 50, op_munmap },
	{ "mprotect", 60, op_mprotect },
	{ "madvise", 30, op_madvise },
	{ "switch_mm", 40, op_switch_mm },
	{ "enter_lazy_tlb", 30, op_enter_lazy_tlb },
	{ "file I/O", 15, op_file_io },
	{ "reclaim, then madvise", 15, op_reclaim_madvise },
	{ "flush_tlb_page", 5, op_flush_tlb_page },
	{ "flush_tlb_range", 10, op_flush_tlb_range },
	{ "flush_tlb_mm", 3, op_flush_tlb_mm },
	{ "flush_tlb_all", 1, op_flush_tlb_all },
	{ "fork", 4, op_fork },
	{ "vmap", 12, op_vmap },
	{ "module load", 5, op_module_load },
	{ "vmap I/O", 5, op_vmap_io },
	{ "kernel load", 25, op_kernel_load },
	{ "kernel store", 20, op_kernel_store },	/* never declines */
};

#define RND_NOPS (sizeof(rnd_ops) / sizeof(rnd_ops[0]))

/* The operation the dice picks, or the first after it that applies. */
static int rnd_step(struct rnd_cpu *c, uint64_t dice)
{
	size_t k = 0;
	int err = 0;

	for (unsigned upto = rnd_ops[0].weight; dice >= upto && k + 1 < RND_NOPS;)
		upto += rnd_ops[++k].weight;
	for (; k < RND_NOPS; k++) {
		c->what = rnd_ops[k].name;
		err = rnd_ops[k].fn(c);
		if (err != RND_DECLINE)
			break;
	}
	return err;
}

/* A kernel thread (lazy TLB) does kernel work until it switches back. */
static int rnd_lazy_step(struct rnd_cpu *c, uint64_t dice)
{
	uint64_t v;
	int err = 0;

	if (wl_rng_below(&c->s, 16) == 0) {
		c->what = "switch_mm(lazy exit)";
		err = oplog_switch_mm(c->lg, c->cpu, c->cur);
		c->lazy = false;
		/* The task resumes where it was: its hot pages, through
		 * whatever the TLB kept meanwhile. */
		for (unsigned h = 0; !err && h < 8; h++) {
			int e = oplog_load(c->lg, c->cpu,
					   rnd_addr(c, c->hot[h]), &v);

			err = expected_err(e) ? 0 : e;
		}
	} else if (c->kmapped && dice < 500) {
		c->what = "kernel store";
		err = oplog_store(c->lg, c->cpu, kslot(c->r, c->id) +
				wl_rng_below(&c->s, RND_KSLOT) * c->page, c->i);
	} else {
		c->what = "kernel load";
		err = oplog_load(c->lg, c->cpu, kslot(c->r, (unsigned)
				 wl_rng_below(&c->s, c->r->ncpus)) +
				 wl_rng_below(&c->s, RND_KSLOT - 1) * c->page,
				 &v);
	}
	return err;
}

/* Draw a step's page, address and length (the order fixes the stream). */
static void rnd_draw(struct rnd_cpu *c)
{
	uint64_t *s = &c->s;
	uint64_t base = c->base, page = c->page, pg, va, npages;

	pg = wl_rng_below(s, 4) ? c->hot[wl_rng_below(s, 8)] :
	     wl_rng_below(s, RND_WINDOW);
	/* Half the accesses go to a page's first 4 lines, where the
	 * kernel's file writes go too (D-cache aliases need the same
	 * line read through two colours). */
	va = base + pg * page + 8 * wl_rng_below(s, wl_rng_below(s, 2) ?
						  32 : page / 8);
	npages = 1 + wl_rng_below(s, 8);
	if (wl_rng_below(s, 100) == 0)
		c->hot[wl_rng_below(s, 8)] = wl_rng_below(s, RND_WINDOW);
	if (pg + npages > RND_WINDOW)
		npages = RND_WINDOW - pg;
	c->pg = pg;
	c->va = va;
	c->npages = npages;
}

static int random_task(struct shd_cpu *cpu, void *arg)
{
	struct rnd *r = arg;
	struct rnd_cpu c = { .cpu = cpu, .r = r, .lg = r->log,
			     .id = shd_cpu_id(cpu) };
	uint64_t my_ops = r->ops / r->ncpus + (c.id < r->ops % r->ncpus);
	int err;

	c.s = r->seed * 0x100000001b3ull + c.id * 0x9e3779b97f4a7c15ull + 1;
	c.base = rnd_base(r);
	c.page = r->page;
	c.cur = r->mm[wl_rng_below(&c.s, RND_MMS)];
	for (unsigned h = 0; h < 8; h++)
		c.hot[h] = wl_rng_below(&c.s, RND_WINDOW);
	if ((err = oplog_switch_mm(r->log, cpu, c.cur)))
		return err;
	for (c.i = 0; c.i < my_ops && !oplog_stopped(r->log); c.i++) {
		uint64_t dice = wl_rng_below(&c.s, 1000);

		rnd_draw(&c);
		err = c.lazy ? rnd_lazy_step(&c, dice) : rnd_step(&c, dice);
		if (err == -ETIMEDOUT)
			return err;
		if (!expected_err(err))
			wl_note_first(&r->unexpected, r->note, sizeof(r->note),
				      "%s: %s (%s)", c.what, shd_strerror(err),
				      shd_last_error());
	}
	if (c.kmapped)
		oplog_vunmap(r->log, cpu, kslot(r, c.id), RND_KSLOT * c.page);
	return 0;
}

/* The remap pokes' slots (0x50000000 + cpu x WL_SHMLBA_PAGES pages, so
 * that file2's page PG sits at PG's colour) share page tables with a guard
 * page each mm keeps at the end of each table, so unmapping a slot never
 * frees a page table (whose flush would reach lazy CPUs and hide other
 * faults).  A slot uses its first RND_FILE2 pages: never a guard. */
static int rnd_setup(struct shd_cpu *cpu, void *arg)
{
	struct rnd *r = arg;
	uint64_t tables = (r->ncpus * WL_SHMLBA_PAGES + 511) / 512;
	int err = 0;

	for (unsigned i = 0; !err && i < RND_MMS; i++)
		for (uint64_t t = 0; !err && t < tables; t++)
			err = oplog_mmap(r->log, cpu, r->mm[i], 0x50000000ull +
				       (t * 512 + 511) * 4096ull, r->page,
				       SHD_PROT_READ);
	return err;
}

/* The names a recorded run's calls use, in the order they were created
 * (a scenario creates them in its order): files F and G, mms A, B, C. */
static void rnd_log_names(struct rnd *r)
{
	static const char *const mms[RND_MMS] = { "A", "B", "C" };

	oplog_name_file(r->log, r->file, "F", RND_WINDOW);
	oplog_name_file(r->log, r->file2, "G", RND_FILE2);
	for (unsigned i = 0; i < RND_MMS; i++)
		oplog_name_mm(r->log, r->mm[i], mms[i]);
}

static int wl_random(struct shd_machine *m, const struct wl_opts *o,
		     struct wl_result *res)
{
	struct rnd r = { 0 };
	unsigned n = shd_machine_ncpus(m);
	int err = 0;

	r.page = 1ull << shd_machine_config(m)->page_shift;
	r.seed = o->seed;
	r.ncpus = n;
	r.ops = o->ops;
	if ((err = shd_file_create(m, RND_WINDOW, &r.file)))
		return err;
	if ((err = shd_file_create(m, RND_FILE2, &r.file2))) {
		shd_file_destroy(r.file);
		return err;
	}
	for (unsigned i = 0; i < RND_MMS && !err; i++)
		err = shd_mm_create(m, &r.mm[i]);
	if (!err && (r.log = o->oplog))
		rnd_log_names(&r);
	if (r.log)
		r.log->setup = true;
	if (!err && r.page == 4096)
		err = wl_run_on(m, 0, 1, rnd_setup, &r, res->errtxt,
				sizeof(res->errtxt));
	if (r.log)
		r.log->setup = false;
	if (err)
		goto out;
	err = wl_run_timed(m, n, random_task, &r, res);
	res->ops = r.ops;
	res->check_failures = r.unexpected;
	snprintf(res->note, sizeof(res->note), "%s", r.note);
out:
	for (unsigned i = 0; i < RND_MMS; i++)
		shd_mm_destroy(r.mm[i]);
	shd_file_destroy(r.file);
	shd_file_destroy(r.file2);
	return err;
}

/*
 * Measured, not derived (--sched seeded, IPIs per op): at 4 CPUs 0.12 at
 * 1024 ops, 0.09 from 4096 on; at 8 CPUs 0.32 at 2048, 0.27 at 16384, 0.22
 * at 65536, 0.21 from 131072 on; at 16 CPUs 0.48-0.54 at every length from
 * 1024.  4096 ops a CPU covers all three.
 */
static uint64_t random_warmup(const struct wl_opts *o, char *why, size_t len)
{
	uint64_t w = 4096ull * o->ncpus;

	snprintf(why, len, "its IPIs per op drift for about %" PRIu64 " ops "
		 "at %u CPUs", w, o->ncpus);
	return w;
}

const struct workload wl_def_random = {
	.name = "random",
	.help = "random map (anonymous, file private/shared)/unmap/protect/"
		"madvise/access/fork/reclaim/file write and read/ptrace/switch/lazy/"
		"flush/vmap on all CPUs over 3 shared mms (the check mix)",
	.default_ops = 200000,
	.min_cpus = 1,
	.run = wl_random,
	.knobs = NULL,
	.check = NULL,
	.warmup = random_warmup,
};
