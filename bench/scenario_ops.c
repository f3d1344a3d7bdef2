/* SPDX-License-Identifier: MIT */
/* A scenario in memory: the ops' syntax, their checks, printing, copying,
 * and the machine a scenario asks for. */

/*
 * Theory of operation.
 *
 * One table (syntax[]) says, for each op, its name and its arguments as
 * letters; the parser reads words by those letters, the printer writes
 * them back by the same letters, so a scenario round-trips.  Each letter
 * fills one field of struct scn_op:
 *
 *   M  an mm's name (mm)             C  fork's new child (other)
 *   F  a file's name (other)         U  a page-aligned user address (addr)
 *   W  an 8-byte aligned user or vmap address, for an access (addr)
 *   w  an 8-byte aligned user address (ptrace) (addr)
 *   K  a page-aligned vmap address (addr)
 *   k  an 8-byte aligned vmap address (DMA) (addr)
 *   b  a vmap byte address (addr)    O  a file's byte offset, 8-aligned (addr)
 *   P  pages, 1 or more (n)          L  a byte length, 1 or more (n)
 *   E  a range's end, above its start (n)
 *   V  a 64-bit value (n)            R  none|r|rw|rx|rwx (prot)
 *   S  shared|private (shared)       N  a file's page (pgoff)
 *
 * scenario_check_op() holds every rule on values, and
 * scenario_validate() the rules across ops: the names, the CPUs, and
 * that a CPU touches user memory only where its op list has loaded an mm
 * and left lazy mode (the library's -EPERM, decided statically, since a
 * CPU's own list fixes its state).  The parser calls both, so a file and a
 * candidate built in memory pass the same checks.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_ops.h"

static const struct scn_syntax {
	const char *name;
	const char *args;
	const char *usage;
} syntax[SCN__KINDS] = {
	[SCN_SWITCH_MM] = { "switch_mm", "M", "MM" },
	[SCN_LAZY] = { "lazy", "", "" },
	[SCN_MMAP] = { "mmap", "MUPR", "MM ADDR PAGES PROT" },
	[SCN_MMAP_FILE] = { "mmap_file", "MUPRSFN",
			    "MM ADDR PAGES PROT shared|private FILE PGOFF" },
	[SCN_MUNMAP] = { "munmap", "MUP", "MM ADDR PAGES" },
	[SCN_MPROTECT] = { "mprotect", "MUPR", "MM ADDR PAGES PROT" },
	[SCN_MADVISE] = { "madvise", "MUP", "MM ADDR PAGES" },
	[SCN_LOAD] = { "load", "W", "ADDR" },
	[SCN_STORE] = { "store", "WV", "ADDR VALUE" },
	[SCN_FETCH] = { "fetch", "W", "ADDR" },
	[SCN_FLUSH_TLB_PAGE] = { "flush_tlb_page", "MU", "MM ADDR" },
	[SCN_FLUSH_TLB_RANGE] = { "flush_tlb_range", "MUP", "MM ADDR PAGES" },
	[SCN_FLUSH_TLB_MM] = { "flush_tlb_mm", "M", "MM" },
	[SCN_FLUSH_TLB_ALL] = { "flush_tlb_all", "", "" },
	[SCN_FLUSH_TLB_KERNEL_RANGE] = { "flush_tlb_kernel_range", "KP",
					 "ADDR PAGES" },
	[SCN_TRY_TO_UNMAP] = { "try_to_unmap", "MU", "MM ADDR" },
	[SCN_TRY_TO_UNMAP_FLUSH] = { "try_to_unmap_flush", "", "" },
	[SCN_FORK] = { "fork", "MC", "MM CHILD" },
	[SCN_MM_DESTROY] = { "mm_destroy", "M", "MM" },
	[SCN_FILE_WRITE] = { "file_write", "FOV", "FILE OFF VALUE" },
	[SCN_FILE_READ] = { "file_read", "FO", "FILE OFF" },
	[SCN_PTRACE_POKE] = { "ptrace_poke", "MwV", "MM ADDR VALUE" },
	[SCN_VMAP] = { "vmap", "KP", "ADDR PAGES" },
	[SCN_VUNMAP] = { "vunmap", "KP", "ADDR PAGES" },
	[SCN_FLUSH_ICACHE_RANGE] = { "flush_icache_range", "bE", "START END" },
	[SCN_DMA_WRITE] = { "dma_write", "kV", "ADDR VALUE" },
	[SCN_DMA_READ] = { "dma_read", "k", "ADDR" },
	[SCN_INVALIDATE_KERNEL_VMAP_RANGE] = { "invalidate_kernel_vmap_range",
					       "bL", "ADDR LEN" },
	[SCN_FLUSH_KERNEL_VMAP_RANGE] = { "flush_kernel_vmap_range", "bL",
					  "ADDR LEN" },
	[SCN_POLL] = { "poll", "", "" },
};

static const char *const prot_names[8] = {
	[SHD_PROT_NONE] = "none", [SHD_PROT_READ] = "r",
	[SHD_PROT_READ | SHD_PROT_WRITE] = "rw",
	[SHD_PROT_READ | SHD_PROT_EXEC] = "rx",
	[SHD_PROT_READ | SHD_PROT_WRITE | SHD_PROT_EXEC] = "rwx",
};

const char *scenario_kind_name(unsigned k)
{
	return k < SCN__KINDS ? syntax[k].name : "?";
}

const char *scenario_kind_args(unsigned k)
{
	return k < SCN__KINDS ? syntax[k].args : "";
}

const char *scenario_kind_usage(unsigned k)
{
	return k < SCN__KINDS ? syntax[k].usage : "";
}

int scenario_kind_lookup(const char *name)
{
	for (unsigned k = 0; k < SCN__KINDS; k++)
		if (!strcmp(name, syntax[k].name))
			return (int)k;
	return -1;
}

const char *const *scenario_kind_names(size_t *n)
{
	static const char *names[SCN__KINDS];

	for (unsigned k = 0; k < SCN__KINDS; k++)
		names[k] = syntax[k].name;
	*n = SCN__KINDS;
	return names;
}

const char *scenario_prot_name(unsigned prot)
{
	return prot < 8 ? prot_names[prot] : NULL;
}

int scenario_prot_parse(const char *word)
{
	for (int p = 0; p < 8; p++)
		if (prot_names[p] && !strcmp(word, prot_names[p]))
			return p;
	return -1;
}

void scenario_where(const struct scenario *s, unsigned b, unsigned idx,
		    const struct scn_op *op, char *buf, size_t len)
{
	if (op && op->line)
		snprintf(buf, len, "%s:%u", s->file, op->line);
	else if (b == SCN_SETUP)
		snprintf(buf, len, "%s: setup op %u", s->file, idx + 1);
	else
		snprintf(buf, len, "%s: cpu %u op %u", s->file, b, idx + 1);
}

bool scenario_op_uses(const struct scn_op *o, unsigned n)
{
	const char *a = scenario_kind_args(o->kind);

	return (strchr(a, 'M') && o->mm == n) ||
	       ((strchr(a, 'C') || strchr(a, 'F')) && o->other == n);
}

static bool is_vmap(uint64_t a)
{
	return a >= SHD_KERNEL_BASE && a < SHD_KERNEL_TOP;
}

static const char *unaligned(char *why, size_t len, uint64_t a, bool page)
{
	snprintf(why, len, "unaligned address 0x%" PRIx64 " (it must be %s "
		 "aligned)", a, page ? "page" : "8-byte");
	return why;
}

/* An address letter's rule (see the top); NULL when O's is fine. */
static const char *check_address(char c, const struct scn_op *o, char *why,
				 size_t len)
{
	uint64_t a = o->addr;

	switch (c) {
	case 'U':
		if (a & (SCN_PAGE - 1))
			return unaligned(why, len, a, true);
		if (a < SHD_USER_TOP)
			return NULL;
		snprintf(why, len, "0x%" PRIx64 " is not a user address", a);
		return why;
	case 'W':
	case 'w':
	case 'k':
		if (a & 7)
			return unaligned(why, len, a, false);
		if ((c != 'k' && a < SHD_USER_TOP) || (c != 'w' && is_vmap(a)))
			return NULL;
		snprintf(why, len, "0x%" PRIx64 " is not a %s address", a,
			 c == 'W' ? "user or vmap" : c == 'w' ? "user" : "vmap");
		return why;
	case 'K':
	case 'b':
		if (c == 'K' && a & (SCN_PAGE - 1))
			return unaligned(why, len, a, true);
		if (is_vmap(a))
			return NULL;
		snprintf(why, len, "0x%" PRIx64 " is not a vmap address "
			 "(0x%llx..0x%llx)", a, SHD_KERNEL_BASE, SHD_KERNEL_TOP);
		return why;
	default:
		return NULL;
	}
}

/* Any other letter's rule (see the top); NULL when O's is fine. */
static const char *check_letter(const struct scenario *s, char c,
				const struct scn_op *o, char *why, size_t len)
{
	uint64_t a = o->addr, n = o->n;
	uint64_t pages = o->other < s->nnames ? s->names[o->other].pages : 0;

	if (strchr("UWwkKb", c))
		return check_address(c, o, why, len);
	if (c == 'P' && (n == 0 || n > (1ull << 24)))
		snprintf(why, len, "%" PRIu64 " pages: give 1..%llu", n, 1ull << 24);
	else if (c == 'P' && a + n * SCN_PAGE > (a < SHD_USER_TOP ?
						  SHD_USER_TOP : SHD_KERNEL_TOP))
		snprintf(why, len, "0x%" PRIx64 " + %" PRIu64 " pages runs past "
			 "the end of its area", a, n);
	else if (c == 'L' && (n == 0 || n > SHD_KERNEL_TOP - a))
		snprintf(why, len, "length %" PRIu64 " is empty or runs past the "
			 "vmap area", n);
	else if (c == 'E' && (n <= a || n > SHD_KERNEL_TOP))
		snprintf(why, len, "end 0x%" PRIx64 " is not above start 0x%"
			 PRIx64 " in the vmap area", n, a);
	else if (c == 'R' && !scenario_prot_name(o->prot))
		snprintf(why, len, "protection 0x%x is not none, r, rw, rx or rwx",
			 o->prot);
	else if (c == 'O' && a & 7)
		snprintf(why, len, "unaligned offset 0x%" PRIx64 " (it must be "
			 "8-byte aligned)", a);
	else if (c == 'O' && a >= pages * SCN_PAGE)
		snprintf(why, len, "offset 0x%" PRIx64 " is past the end of file "
			 "%s (%" PRIu64 " pages)", a, s->names[o->other].name, pages);
	else if (c == 'N' && (o->pgoff >= pages || n > pages - o->pgoff))
		snprintf(why, len, "pages %" PRIu64 "..%" PRIu64 " run past the "
			 "end of file %s (%" PRIu64 " pages)", o->pgoff,
			 o->pgoff + n - 1, s->names[o->other].name, pages);
	else
		return NULL;
	return why;
}

/* Whether name N is of the kind letter C wants. */
static const char *check_name(const struct scenario *s, char c, unsigned n,
			      char *why, size_t len)
{
	bool want_file = c == 'F';

	if (n >= s->nnames) {
		snprintf(why, len, "name %u is not declared", n);
		return why;
	}
	if (s->names[n].file == want_file)
		return NULL;
	snprintf(why, len, "'%s' is %s, not %s", s->names[n].name,
		 want_file ? "an mm" : "a file", want_file ? "a file" : "an mm");
	return why;
}

int scenario_check_op(const struct scenario *s, unsigned b, unsigned idx,
		      const struct scn_op *op, char *err, size_t errlen)
{
	char why[256], where[300];
	const char *bad = NULL;

	if (op->kind >= SCN__KINDS) {
		snprintf(why, sizeof(why), "op kind %u does not exist", op->kind);
		bad = why;
	}
	for (const char *c = scenario_kind_args(op->kind); !bad && *c; c++) {
		if (*c == 'M')
			bad = check_name(s, 'M', op->mm, why, sizeof(why));
		else if (*c == 'C' || *c == 'F')
			bad = check_name(s, *c, op->other, why, sizeof(why));
		else
			bad = check_letter(s, *c, op, why, sizeof(why));
	}
	if (!bad)
		return 0;
	scenario_where(s, b, idx, op, where, sizeof(where));
	snprintf(err, errlen, "%s: %s: %s", where, scenario_kind_name(op->kind),
		 bad);
	return -1;
}

/* Which names fork creates, and how often (a candidate may lose a fork). */
static int check_forks(const struct scenario *s, char *err, size_t errlen)
{
	unsigned *made = calloc(s->nnames ? s->nnames : 1, sizeof(*made));
	int rc = 0;

	if (!made) {
		snprintf(err, errlen, "%s: out of memory", s->file);
		return -1;
	}
	for (unsigned b = 0; b <= SCN_SETUP; b++)
		for (unsigned i = 0; i < s->blocks[b].n; i++)
			if (s->blocks[b].op[i].kind == SCN_FORK)
				made[s->blocks[b].op[i].other]++;
	for (unsigned b = 0; !rc && b <= SCN_SETUP; b++) {
		for (unsigned i = 0; !rc && i < s->blocks[b].n; i++) {
			const struct scn_op *o = &s->blocks[b].op[i];
			char where[300];
			unsigned n = o->kind == SCN_FORK ? o->other : o->mm;

			if (!strchr(scenario_kind_args(o->kind), 'M') ||
			    s->names[n].fork_cpu < 0 || made[n] == 1)
				continue;
			scenario_where(s, b, i, o, where, sizeof(where));
			snprintf(err, errlen, "%s: %s: mm '%s' is %s", where,
				 scenario_kind_name(o->kind), s->names[n].name,
				 made[n] ? "forked more than once" :
				 "never created (no fork makes it)");
			rc = -1;
		}
	}
	free(made);
	return rc;
}

/*
 * A CPU's own list fixes whether it runs an mm when it touches user
 * memory: every block starts with none loaded (the setup's task, like
 * every task, ends lazy), switch_mm loads one, lazy leaves it.
 */
static int check_block_mm(const struct scenario *s, unsigned b, char *err,
			  size_t errlen)
{
	enum { NO_MM, RUNNING, LAZY } st = NO_MM;

	for (unsigned i = 0; i < s->blocks[b].n; i++) {
		const struct scn_op *o = &s->blocks[b].op[i];
		char where[300], who[16];

		if (o->kind == SCN_SWITCH_MM)
			st = RUNNING;
		else if (o->kind == SCN_LAZY)
			st = st == NO_MM ? NO_MM : LAZY;
		if ((o->kind != SCN_LOAD && o->kind != SCN_STORE &&
		     o->kind != SCN_FETCH) || o->addr >= SHD_USER_TOP ||
		    st == RUNNING)
			continue;
		scenario_where(s, b, i, o, where, sizeof(where));
		if (b == SCN_SETUP)
			snprintf(who, sizeof(who), "the setup");
		else
			snprintf(who, sizeof(who), "cpu %u", b);
		snprintf(err, errlen, "%s: %s: 0x%" PRIx64 " is user memory and "
			 "%s %s here (switch_mm first)", where,
			 scenario_kind_name(o->kind), o->addr, who,
			 st == NO_MM ? "has loaded no mm" : "is in lazy TLB mode");
		return -1;
	}
	return 0;
}

int scenario_validate(const struct scenario *s, char *err, size_t errlen)
{
	struct shd_config cfg;

	if (s->ncpus < 1 || s->ncpus > SCN_MAX_CPUS) {
		snprintf(err, errlen, "%s: cpus %u: give 1..%u", s->file,
			 s->ncpus, SCN_MAX_CPUS);
		return -1;
	}
	for (unsigned b = 0; b <= SCN_SETUP; b++) {
		const struct scn_block *k = &s->blocks[b];

		if (b < SCN_SETUP && b >= s->ncpus && (k->n || k->line)) {
			snprintf(err, errlen, "%s:%u: cpu %u is out of range "
				 "(cpus %u: 0..%u)", s->file, k->line, b,
				 s->ncpus, s->ncpus - 1);
			return -1;
		}
		for (unsigned i = 0; i < k->n; i++)
			if (scenario_check_op(s, b, i, &k->op[i], err, errlen))
				return -1;
		if (check_block_mm(s, b, err, errlen))
			return -1;
	}
	if (check_forks(s, err, errlen))
		return -1;
	return scenario_config(s, &cfg, err, errlen);
}

/* Policy, knobs, architecture and faults, each error at its line. */
int scenario_config(const struct scenario *s, struct shd_config *cfg,
		    char *err, size_t errlen)
{
	size_t nf;
	const struct shd_named *faults = shd_faults(&nf);

	shd_config_init(cfg);
	cfg->ncpus = s->ncpus;
	cfg->bind = false;	/* one CPU runs at a time: pinning buys nothing */
	cfg->oracle = true;
	cfg->faults = s->faults;
	cfg->sched.mode = SHD_SCHED_SEEDED;
	if (shd_policy_preset(s->policy, &cfg->policy)) {
		snprintf(err, errlen, "%s:%u: unknown policy '%s'", s->file,
			 s->line_policy, s->policy);
		return -1;
	}
	for (unsigned i = 0; i < s->nsets; i++) {
		char kv[64], *eq;

		snprintf(kv, sizeof(kv), "%s", s->sets[i]);
		eq = strchr(kv, '=');
		if (eq)
			*eq = 0;
		if (!eq || shd_policy_set(&cfg->policy, kv, eq + 1)) {
			snprintf(err, errlen, "%s:%u: set %s: %s", s->file,
				 s->line_set[i], s->sets[i], eq ? shd_last_error() :
				 "not KNOB=VALUE");
			return -1;
		}
	}
	if (shd_arch_preset(s->arch, &cfg->arch)) {
		snprintf(err, errlen, "%s:%u: arch %s: %s", s->file, s->line_arch,
			 s->arch, shd_last_error());
		return -1;
	}
	for (unsigned f = 0; f < nf && f < 64; f++) {
		if (!(s->faults >> f & 1) ||
		    !shd_fault_applies(&cfg->policy, &cfg->arch, (enum shd_fault)f))
			continue;
		snprintf(err, errlen, "%s:%u: inject %s: %s", s->file,
			 s->line_inject[f], faults[f].name, shd_last_error());
		return -1;
	}
	return 0;
}

static void format_value(char *buf, size_t len, uint64_t v)
{
	snprintf(buf, len, v < 1000000 ? "%" PRIu64 : "0x%" PRIx64, v);
}

void scenario_format_op(const struct scenario *s, const struct scn_op *op,
			char *buf, size_t len)
{
	size_t at = (size_t)snprintf(buf, len, "%s", scenario_kind_name(op->kind));

	for (const char *c = scenario_kind_args(op->kind); *c && at < len; c++) {
		char word[64];
		unsigned n = *c == 'M' ? op->mm : op->other;
		const char *p;

		switch (*c) {
		case 'M':
		case 'C':
		case 'F':
			snprintf(word, sizeof(word), "%s", n < s->nnames ?
				 s->names[n].name : "?");
			break;
		case 'P':
		case 'L':
		case 'V':
			format_value(word, sizeof(word), op->n);
			break;
		case 'E':
			snprintf(word, sizeof(word), "0x%" PRIx64, op->n);
			break;
		case 'R':
			p = scenario_prot_name(op->prot);
			snprintf(word, sizeof(word), "%s", p ? p : "?");
			break;
		case 'S':
			snprintf(word, sizeof(word), "%s", op->shared ? "shared" :
				 "private");
			break;
		case 'N':
			format_value(word, sizeof(word), op->pgoff);
			break;
		default:	/* an address or an offset */
			snprintf(word, sizeof(word), "0x%" PRIx64, op->addr);
			break;
		}
		at += (size_t)snprintf(buf + at, len - at, " %s", word);
	}
}

static void write_block(FILE *f, const struct scenario *s, unsigned b)
{
	const struct scn_block *k = &s->blocks[b];
	char line[256];

	if (b == SCN_SETUP)
		fprintf(f, "\nsetup\n");
	else
		fprintf(f, "\ncpu %u\n", b);
	for (unsigned i = 0; i < k->n; i++) {
		scenario_format_op(s, &k->op[i], line, sizeof(line));
		fprintf(f, "\t%s\n", line);
	}
}

int scenario_write(FILE *f, const struct scenario *s)
{
	size_t nf;
	const struct shd_named *faults = shd_faults(&nf);

	fprintf(f, "shootdown-scenario %d\n", SCN_VERSION);
	/* Every line of the comment, empty ones too ("" is one empty line). */
	for (const char *c = s->comment; c;) {
		size_t n = strcspn(c, "\n");

		fprintf(f, "#%s%.*s\n", n ? " " : "", (int)n, c);
		c = c[n] == '\n' ? c + n + 1 : NULL;
	}
	fprintf(f, "cpus %u\npolicy %s\narch %s\n", s->ncpus, s->policy, s->arch);
	for (unsigned i = 0; i < nf && i < 64; i++)
		if (s->faults >> i & 1)
			fprintf(f, "inject %s\n", faults[i].name);
	for (unsigned i = 0; i < s->nsets; i++)
		fprintf(f, "set %s\n", s->sets[i]);
	if (s->preemptions >= 0)
		fprintf(f, "preemptions %d\n", s->preemptions);
	if (!s->expect_violation)
		fprintf(f, "expect clean\n");
	else if (s->expect_kind < 0)
		fprintf(f, "expect violation\n");
	else
		fprintf(f, "expect violation %s\n", shd_violation_kind_name(
			(enum shd_violation_kind)s->expect_kind));
	for (unsigned n = 0; n < s->nnames; n++) {
		if (s->names[n].file)
			fprintf(f, "file %s %" PRIu64 "\n", s->names[n].name,
				s->names[n].pages);
		else if (s->names[n].fork_cpu < 0)
			fprintf(f, "mm %s\n", s->names[n].name);
	}
	if (s->blocks[SCN_SETUP].line || s->blocks[SCN_SETUP].n)
		write_block(f, s, SCN_SETUP);
	for (unsigned b = 0; b < s->ncpus && b < SCN_MAX_CPUS; b++)
		if (s->blocks[b].line || s->blocks[b].n)
			write_block(f, s, b);
	return ferror(f) ? -1 : 0;
}

unsigned scenario_ops(const struct scenario *s)
{
	unsigned n = 0;

	for (unsigned b = 0; b <= SCN_SETUP; b++)
		n += s->blocks[b].n;
	return n;
}

int scenario_add_op(struct scenario *s, unsigned b, const struct scn_op *op)
{
	struct scn_block *k = &s->blocks[b];

	if (k->n == k->cap) {
		unsigned cap = k->cap ? k->cap * 2 : 16;
		void *p = realloc(k->op, cap * sizeof(*k->op));

		if (!p)
			return -ENOMEM;
		k->op = p;
		k->cap = cap;
	}
	k->op[k->n++] = *op;
	return 0;
}

void scenario_free(struct scenario *s)
{
	if (!s)
		return;
	for (unsigned b = 0; b <= SCN_SETUP; b++)
		free(s->blocks[b].op);
	free(s->names);
	free(s->comment);
	memset(s, 0, sizeof(*s));
}

int scenario_copy(struct scenario *dst, const struct scenario *src)
{
	*dst = *src;
	dst->comment = NULL;
	dst->names = NULL;
	for (unsigned b = 0; b <= SCN_SETUP; b++) {
		dst->blocks[b].op = NULL;
		dst->blocks[b].cap = 0;
	}
	if (src->comment && !(dst->comment = strdup(src->comment)))
		goto nomem;
	if (src->nnames) {
		dst->names = malloc(src->nnames * sizeof(*dst->names));
		if (!dst->names)
			goto nomem;
		memcpy(dst->names, src->names, src->nnames * sizeof(*dst->names));
	}
	for (unsigned b = 0; b <= SCN_SETUP; b++) {
		size_t bytes = src->blocks[b].n * sizeof(struct scn_op);

		if (!bytes)
			continue;
		if (!(dst->blocks[b].op = malloc(bytes)))
			goto nomem;
		memcpy(dst->blocks[b].op, src->blocks[b].op, bytes);
		dst->blocks[b].cap = src->blocks[b].n;
	}
	return 0;
nomem:
	scenario_free(dst);
	return -ENOMEM;
}
