/* SPDX-License-Identifier: MIT */
/* The recording shim: each wrapper writes its call as a scenario op line,
 * then makes it (minimize turns the lines into a scenario). */

/*
 * Theory of operation.
 *
 * A workload that may be recorded calls the library through oplog_*()
 * with its log (NULL: no log, the wrapper is the call).  An entry is
 * appended before the call, so entries are in the order calls started:
 * under the seeded scheduler one CPU runs at a time and that order is the
 * run's.  Addresses and values are the concrete ones; mms and files are
 * named as the workload declared them, fork children X1, X2, .. in the
 * order of the forks.  The lines are the scenario format's ops
 * (bench/scenario_ops.c): minimize parses them back with scenario_parse(),
 * so a line this file got wrong is caught there, never run.
 *
 * After each call the wrapper asks the oracle whether anything was
 * reported.  The first time something was, the log stops: every call that
 * started before is kept (one in flight on another CPU may be the cause),
 * none after, since a call that started after the report cannot have
 * caused it.  The workload may stop issuing calls then (oplog_stopped()).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oplog.h"

void oplog_init(struct oplog *lg)
{
	memset(lg, 0, sizeof(*lg));
	pthread_mutex_init(&lg->lock, NULL);
}

void oplog_free(struct oplog *lg)
{
	free(lg->e);
	free(lg->text);
	pthread_mutex_destroy(&lg->lock);
	memset(lg, 0, sizeof(*lg));
}

const char *oplog_text(const struct oplog *lg, size_t i)
{
	return lg->text + lg->e[i].text;
}

bool oplog_stopped(struct oplog *lg)
{
	bool s;

	if (!lg)
		return false;
	pthread_mutex_lock(&lg->lock);
	s = lg->stopped;
	pthread_mutex_unlock(&lg->lock);
	return s;
}

/* Under the lock. */
static void name_add(struct oplog *lg, const void *p, const char *name,
		     uint64_t pages)
{
	unsigned i;

	for (i = 0; i < lg->nnames && lg->names[i].p; i++)
		;
	if (i == OPLOG_MAX_NAMES + SHD_MAX_CPUS) {
		lg->nomem = true;
		return;
	}
	lg->names[i].p = p;
	lg->names[i].pages = pages;
	snprintf(lg->names[i].name, sizeof(lg->names[i].name), "%s", name);
	if (i == lg->nnames)
		lg->nnames++;
}

void oplog_name_mm(struct oplog *lg, const struct shd_mm *mm, const char *name)
{
	pthread_mutex_lock(&lg->lock);
	name_add(lg, mm, name, 0);
	lg->ndeclared = lg->nnames;
	pthread_mutex_unlock(&lg->lock);
}

void oplog_name_file(struct oplog *lg, const struct shd_file *f,
		     const char *name, uint64_t pages)
{
	pthread_mutex_lock(&lg->lock);
	name_add(lg, f, name, pages);
	lg->ndeclared = lg->nnames;
	pthread_mutex_unlock(&lg->lock);
}

static const char *name_of(struct oplog *lg, const void *p)
{
	for (unsigned i = 0; i < lg->nnames; i++)
		if (lg->names[i].p == p)
			return lg->names[i].name;
	lg->nomem = true;	/* a call on something never declared */
	return "?";
}

static void text_add(struct oplog *lg, uint32_t cpu, const char *line)
{
	size_t n = strlen(line) + 1;

	if (lg->n == lg->cap) {
		size_t cap = lg->cap ? lg->cap * 2 : 4096;
		void *p = realloc(lg->e, cap * sizeof(*lg->e));

		if (!p) {
			lg->nomem = true;
			return;
		}
		lg->e = p;
		lg->cap = cap;
	}
	while (lg->len + n > lg->tcap) {
		size_t cap = lg->tcap ? lg->tcap * 2 : 65536;
		void *p = cap > UINT32_MAX ? NULL : realloc(lg->text, cap);

		if (!p) {
			lg->nomem = true;
			return;
		}
		lg->text = p;
		lg->tcap = cap;
	}
	memcpy(lg->text + lg->len, line, n);
	lg->e[lg->n++] = (struct oplog_entry){ cpu, (uint32_t)lg->len };
	lg->len += n;
}

/* Record one call of CPU: its op line. */
__attribute__((format(printf, 3, 4)))
static void rec(struct oplog *lg, struct shd_cpu *cpu, const char *fmt, ...)
{
	char line[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&lg->lock);
	if (!lg->stopped)
		text_add(lg, lg->setup ? OPLOG_SETUP : shd_cpu_id(cpu), line);
	pthread_mutex_unlock(&lg->lock);
}

/* After a call: the first report stops the log. */
static void after(struct oplog *lg, struct shd_cpu *cpu)
{
	struct shd_violation v;

	if (!shd_machine_violations(shd_cpu_machine(cpu), &v, 1))
		return;
	pthread_mutex_lock(&lg->lock);
	if (!lg->stopped) {
		lg->stopped = true;
		lg->stop_at = lg->n;
		lg->first = v;
	}
	pthread_mutex_unlock(&lg->lock);
}

static const char *prot_name(unsigned prot)
{
	static const char *const names[8] = {
		"none", "r", NULL, "rw", NULL, "rx", NULL, "rwx",
	};

	return prot < 8 && names[prot] ? names[prot] : "?";
}

static const char *name_get(struct oplog *lg, const void *p)
{
	const char *n;

	pthread_mutex_lock(&lg->lock);
	n = name_of(lg, p);
	pthread_mutex_unlock(&lg->lock);
	return n;	/* names stay while their mm is in use */
}

static uint64_t pages(struct shd_cpu *cpu, uint64_t len)
{
	return len >> shd_machine_config(shd_cpu_machine(cpu))->page_shift;
}

static int done(struct oplog *lg, struct shd_cpu *cpu, int err)
{
	if (lg)
		after(lg, cpu);
	return err;
}

#define X64 "0x%" PRIx64

int oplog_switch_mm(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm)
{
	if (lg)
		rec(lg, cpu, "switch_mm %s", name_get(lg, mm));
	return done(lg, cpu, shd_switch_mm(cpu, mm));
}

void oplog_enter_lazy_tlb(struct oplog *lg, struct shd_cpu *cpu)
{
	if (lg)
		rec(lg, cpu, "lazy");
	shd_enter_lazy_tlb(cpu);
	done(lg, cpu, 0);
}

int oplog_mmap(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm,
	       uint64_t addr, uint64_t len, unsigned prot)
{
	if (lg)
		rec(lg, cpu, "mmap %s " X64 " %" PRIu64 " %s", name_get(lg, mm),
		    addr, pages(cpu, len), prot_name(prot));
	return done(lg, cpu, shd_mmap(cpu, mm, addr, len, prot));
}

int oplog_mmap_file(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm,
		    uint64_t addr, uint64_t len, unsigned prot, unsigned flags,
		    struct shd_file *f, uint64_t pgoff)
{
	if (lg)
		rec(lg, cpu, "mmap_file %s " X64 " %" PRIu64 " %s %s %s %" PRIu64,
		    name_get(lg, mm), addr, pages(cpu, len), prot_name(prot),
		    flags == SHD_MAP_SHARED ? "shared" : "private",
		    name_get(lg, f), pgoff);
	return done(lg, cpu, shd_mmap_file(cpu, mm, addr, len, prot, flags, f,
					   pgoff));
}

int oplog_munmap(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm,
		 uint64_t addr, uint64_t len)
{
	if (lg)
		rec(lg, cpu, "munmap %s " X64 " %" PRIu64, name_get(lg, mm), addr,
		    pages(cpu, len));
	return done(lg, cpu, shd_munmap(cpu, mm, addr, len));
}

int oplog_mprotect(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm,
		   uint64_t addr, uint64_t len, unsigned prot)
{
	if (lg)
		rec(lg, cpu, "mprotect %s " X64 " %" PRIu64 " %s", name_get(lg, mm),
		    addr, pages(cpu, len), prot_name(prot));
	return done(lg, cpu, shd_mprotect(cpu, mm, addr, len, prot));
}

int oplog_madvise_dontneed(struct oplog *lg, struct shd_cpu *cpu,
			   struct shd_mm *mm, uint64_t addr, uint64_t len)
{
	if (lg)
		rec(lg, cpu, "madvise %s " X64 " %" PRIu64, name_get(lg, mm), addr,
		    pages(cpu, len));
	return done(lg, cpu, shd_madvise_dontneed(cpu, mm, addr, len));
}

int oplog_load(struct oplog *lg, struct shd_cpu *cpu, uint64_t addr,
	       uint64_t *val)
{
	if (lg)
		rec(lg, cpu, "load " X64, addr);
	return done(lg, cpu, shd_load(cpu, addr, val));
}

int oplog_store(struct oplog *lg, struct shd_cpu *cpu, uint64_t addr,
		uint64_t val)
{
	if (lg)
		rec(lg, cpu, "store " X64 " " X64, addr, val);
	return done(lg, cpu, shd_store(cpu, addr, val));
}

int oplog_fetch(struct oplog *lg, struct shd_cpu *cpu, uint64_t addr,
		uint64_t *val)
{
	if (lg)
		rec(lg, cpu, "fetch " X64, addr);
	return done(lg, cpu, shd_fetch(cpu, addr, val));
}

int oplog_flush_tlb_page(struct oplog *lg, struct shd_cpu *cpu,
			 struct shd_mm *mm, uint64_t addr)
{
	if (lg)
		rec(lg, cpu, "flush_tlb_page %s " X64, name_get(lg, mm), addr);
	return done(lg, cpu, shd_flush_tlb_page(cpu, mm, addr));
}

int oplog_flush_tlb_range(struct oplog *lg, struct shd_cpu *cpu,
			  struct shd_mm *mm, uint64_t start, uint64_t end)
{
	if (lg)
		rec(lg, cpu, "flush_tlb_range %s " X64 " %" PRIu64,
		    name_get(lg, mm), start, pages(cpu, end - start));
	return done(lg, cpu, shd_flush_tlb_range(cpu, mm, start, end));
}

int oplog_flush_tlb_mm(struct oplog *lg, struct shd_cpu *cpu,
		       struct shd_mm *mm)
{
	if (lg)
		rec(lg, cpu, "flush_tlb_mm %s", name_get(lg, mm));
	return done(lg, cpu, shd_flush_tlb_mm(cpu, mm));
}

int oplog_flush_tlb_all(struct oplog *lg, struct shd_cpu *cpu)
{
	if (lg)
		rec(lg, cpu, "flush_tlb_all");
	return done(lg, cpu, shd_flush_tlb_all(cpu));
}

int oplog_try_to_unmap(struct oplog *lg, struct shd_cpu *cpu,
		       struct shd_mm *mm, uint64_t va)
{
	if (lg)
		rec(lg, cpu, "try_to_unmap %s " X64, name_get(lg, mm), va);
	return done(lg, cpu, shd_try_to_unmap(cpu, mm, va));
}

int oplog_try_to_unmap_flush(struct oplog *lg, struct shd_cpu *cpu)
{
	if (lg)
		rec(lg, cpu, "try_to_unmap_flush");
	return done(lg, cpu, shd_try_to_unmap_flush(cpu));
}

/* fork: the child gets the next name, X1, X2, .. (under the lock: the
 * name and the entry go together). */
int oplog_mm_dup(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *parent,
		 struct shd_mm **child)
{
	char name[16];
	int err;

	if (!lg)
		return shd_mm_dup(cpu, parent, child);
	pthread_mutex_lock(&lg->lock);
	snprintf(name, sizeof(name), "X%u", ++lg->nforks);
	pthread_mutex_unlock(&lg->lock);
	rec(lg, cpu, "fork %s %s", name_get(lg, parent), name);
	err = shd_mm_dup(cpu, parent, child);
	if (!err) {
		pthread_mutex_lock(&lg->lock);
		name_add(lg, *child, name, 0);
		pthread_mutex_unlock(&lg->lock);
	}
	return done(lg, cpu, err);
}

void oplog_mm_destroy(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm)
{
	if (!lg) {
		shd_mm_destroy(mm);
		return;
	}
	rec(lg, cpu, "mm_destroy %s", name_get(lg, mm));
	shd_mm_destroy(mm);
	pthread_mutex_lock(&lg->lock);
	for (unsigned i = lg->ndeclared; i < lg->nnames; i++)
		if (lg->names[i].p == mm)
			lg->names[i].p = NULL;	/* the pointer may come back */
	pthread_mutex_unlock(&lg->lock);
	done(lg, cpu, 0);
}

int oplog_file_write(struct oplog *lg, struct shd_cpu *cpu, struct shd_file *f,
		     uint64_t off, uint64_t val)
{
	if (lg)
		rec(lg, cpu, "file_write %s " X64 " " X64,
		    name_get(lg, f), off, val);
	return done(lg, cpu, shd_file_write(cpu, f, off, val));
}

int oplog_file_read(struct oplog *lg, struct shd_cpu *cpu, struct shd_file *f,
		    uint64_t off, uint64_t *val)
{
	if (lg)
		rec(lg, cpu, "file_read %s " X64, name_get(lg, f), off);
	return done(lg, cpu, shd_file_read(cpu, f, off, val));
}

int oplog_ptrace_poke(struct oplog *lg, struct shd_cpu *cpu, struct shd_mm *mm,
		      uint64_t va, uint64_t val)
{
	if (lg)
		rec(lg, cpu, "ptrace_poke %s " X64 " " X64, name_get(lg, mm), va, val);
	return done(lg, cpu, shd_ptrace_poke(cpu, mm, va, val));
}

int oplog_vmap(struct oplog *lg, struct shd_cpu *cpu, uint64_t addr,
	       uint64_t len)
{
	if (lg)
		rec(lg, cpu, "vmap " X64 " %" PRIu64, addr, pages(cpu, len));
	return done(lg, cpu, shd_vmap(cpu, addr, len));
}

int oplog_vunmap(struct oplog *lg, struct shd_cpu *cpu, uint64_t addr,
		 uint64_t len)
{
	if (lg)
		rec(lg, cpu, "vunmap " X64 " %" PRIu64, addr, pages(cpu, len));
	return done(lg, cpu, shd_vunmap(cpu, addr, len));
}

int oplog_flush_icache_range(struct oplog *lg, struct shd_cpu *cpu,
			     uint64_t start, uint64_t end)
{
	if (lg)
		rec(lg, cpu, "flush_icache_range " X64 " " X64, start, end);
	return done(lg, cpu, shd_flush_icache_range(cpu, start, end));
}

int oplog_dma_write(struct oplog *lg, struct shd_cpu *cpu, uint64_t kva,
		    uint64_t val)
{
	if (lg)
		rec(lg, cpu, "dma_write " X64 " " X64, kva, val);
	return done(lg, cpu, shd_dma_write(cpu, kva, val));
}

int oplog_dma_read(struct oplog *lg, struct shd_cpu *cpu, uint64_t kva,
		   uint64_t *val)
{
	if (lg)
		rec(lg, cpu, "dma_read " X64, kva);
	return done(lg, cpu, shd_dma_read(cpu, kva, val));
}

int oplog_invalidate_kernel_vmap_range(struct oplog *lg, struct shd_cpu *cpu,
				       uint64_t addr, uint64_t len)
{
	if (lg)
		rec(lg, cpu, "invalidate_kernel_vmap_range " X64 " %" PRIu64,
		    addr, len);
	return done(lg, cpu, shd_invalidate_kernel_vmap_range(cpu, addr, len));
}

int oplog_flush_kernel_vmap_range(struct oplog *lg, struct shd_cpu *cpu,
				  uint64_t addr, uint64_t len)
{
	if (lg)
		rec(lg, cpu, "flush_kernel_vmap_range " X64 " %" PRIu64, addr, len);
	return done(lg, cpu, shd_flush_kernel_vmap_range(cpu, addr, len));
}
