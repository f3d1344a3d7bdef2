/* SPDX-License-Identifier: MIT */
/* The scenario file parser: text in, a struct scenario or one precise
 * "FILE:LINE: what is wrong" out (docs/scenarios.md has the format). */

/*
 * Theory of operation.
 *
 * The text is read a line at a time into a bounded buffer (a longer line
 * is an error, not a truncation), never past LEN, and every byte must be
 * printable ASCII or a tab: NULs and binary input end in an error at the
 * line that holds them.  A line splits into at most MAX_WORDS words after
 * '#' comments are cut.  Lines that start with a blank are ops and belong
 * to the block opened last ('setup' or 'cpu N'); the others are
 * directives, which all come before the first block.
 *
 * Two passes.  The first only collects names, from 'mm' and 'file' lines
 * and from fork's CHILD (a fork in one CPU's block may name an mm another
 * block uses, above or below it), and ignores anything malformed.  The
 * second parses for real and reports the first problem in file order; a
 * name the first pass saw declared on another line than the second is on
 * is a duplicate.  Memory grows with the ops read, each at least a few
 * bytes of input, and names are capped, so it is bounded by LEN.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "scenario.h"
#include "suggest.h"

#define MAX_WORDS 16

enum { D_HEADER, D_CPUS, D_POLICY, D_ARCH, D_EXPECT, D_PREEMPTIONS, D__ONCE };

static const char *const directives[] = {
	"shootdown-scenario", "cpus", "policy", "arch", "inject", "set", "mm",
	"file", "expect", "preemptions", "setup", "cpu",
};

struct parser {
	const char *text;
	size_t len, pos;
	unsigned line;
	char buf[SCN_MAX_LINE + 1];
	char *word[MAX_WORDS];
	unsigned nwords;
	bool indented;
	const char *comment;	/* the line's comment, if it has one */
	struct scenario *s;
	char *err;
	size_t errlen;
	int block;		/* the block ops go to; -1: none yet */
	bool header, blocks_started, directive_seen;
	unsigned once[D__ONCE];	/* the line each was given on */
	size_t comment_len;
	unsigned ncomment;	/* comment lines kept (one may be empty) */
	bool first_pass;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	size_t at;

	if (p->first_pass)
		return -1;
	at = (size_t)snprintf(p->err, p->errlen, "%s:%u: ", p->s->file, p->line);
	if (at >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + at, p->errlen - at, fmt, ap);
	va_end(ap);
	return -1;
}

/* The next line into buf, cut at '#' and split into words: 1, 0 at the
 * end of the text, -1 (an error) for an overlong line or a binary byte. */
static int line_next(struct parser *p)
{
	size_t start = p->pos, end, n;
	char *c;

	if (p->pos >= p->len)
		return 0;
	p->line++;
	end = start;
	while (end < p->len && p->text[end] != '\n')
		end++;
	p->pos = end < p->len ? end + 1 : end;
	n = end - start;
	if (n && p->text[end - 1] == '\r')
		n--;
	if (n > SCN_MAX_LINE)
		return fail(p, "the line is longer than %d bytes", SCN_MAX_LINE);
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p->text[start + i];

		if (ch != '\t' && (ch < 0x20 || ch > 0x7e))
			return fail(p, "byte 0x%02x at column %zu is not text "
				    "(printable ASCII or a tab)", ch, i + 1);
	}
	memcpy(p->buf, p->text + start, n);
	p->buf[n] = 0;
	p->comment = NULL;
	if ((c = strchr(p->buf, '#'))) {
		*c = 0;
		p->comment = c + 1 + (c[1] == ' ');
	}
	p->indented = p->buf[0] == ' ' || p->buf[0] == '\t';
	p->nwords = 0;
	for (c = p->buf; *c;) {
		c += strspn(c, " \t");
		if (!*c)
			break;
		if (p->nwords == MAX_WORDS)
			return fail(p, "more than %d words on a line", MAX_WORDS);
		p->word[p->nwords++] = c;
		c += strcspn(c, " \t");
		if (*c)
			*c++ = 0;
	}
	return 1;
}

static int parse_u64(struct parser *p, const char *w, const char *what,
		     uint64_t *out)
{
	bool hex = w[0] == '0' && (w[1] == 'x' || w[1] == 'X');
	const char *d = hex ? w + 2 : w;
	uint64_t v = 0;

	if (!*d)
		return fail(p, "bad number '%s' for %s", w, what);
	for (; *d; d++) {
		unsigned x;

		if (*d >= '0' && *d <= '9')
			x = (unsigned)(*d - '0');
		else if (hex && *d >= 'a' && *d <= 'f')
			x = (unsigned)(*d - 'a' + 10);
		else if (hex && *d >= 'A' && *d <= 'F')
			x = (unsigned)(*d - 'A' + 10);
		else
			return fail(p, "bad number '%s' for %s (decimal, or hex "
				    "with 0x)", w, what);
		if (v > (UINT64_MAX - x) / (hex ? 16 : 10))
			return fail(p, "number '%s' for %s is too large", w, what);
		v = v * (hex ? 16 : 10) + x;
	}
	*out = v;
	return 0;
}

static bool is_name(const char *w)
{
	if (!((*w >= 'A' && *w <= 'Z') || (*w >= 'a' && *w <= 'z') || *w == '_'))
		return false;
	if (strlen(w) >= SCN_MAX_NAME)
		return false;
	for (; *w; w++)
		if (!((*w >= 'A' && *w <= 'Z') || (*w >= 'a' && *w <= 'z') ||
		      (*w >= '0' && *w <= '9') || *w == '_'))
			return false;
	return true;
}

static int name_find(const struct scenario *s, const char *w)
{
	for (unsigned i = 0; i < s->nnames; i++)
		if (!strcmp(s->names[i].name, w))
			return (int)i;
	return -1;
}

/* First pass: a name declared on this line (kept only if new). */
static void name_collect(struct parser *p, const char *w, bool file,
			 uint64_t pages, int fork_cpu)
{
	struct scenario *s = p->s;
	struct scn_name *n;

	if (!is_name(w) || name_find(s, w) >= 0 || s->nnames == SCN_MAX_NAMES)
		return;
	if (!s->names && !(s->names = calloc(SCN_MAX_NAMES, sizeof(*n))))
		return;
	n = &s->names[s->nnames++];
	snprintf(n->name, sizeof(n->name), "%s", w);
	n->file = file;
	n->pages = pages;
	n->fork_cpu = fork_cpu;
	n->line = p->line;
}

static void first_pass(struct parser *p)
{
	int block = -1;

	p->first_pass = true;
	while (line_next(p) > 0) {
		char **w = p->word;
		uint64_t v;

		if (!p->nwords)
			continue;
		if (!p->indented && p->nwords == 2 && !strcmp(w[0], "cpu") &&
		    !parse_u64(p, w[1], "", &v) && v < SCN_MAX_CPUS)
			block = (int)v;
		else if (!p->indented && p->nwords == 1 && !strcmp(w[0], "setup"))
			block = SCN_SETUP;
		else if (!p->indented && p->nwords == 2 && !strcmp(w[0], "mm"))
			name_collect(p, w[1], false, 0, -1);
		else if (!p->indented && p->nwords == 3 && !strcmp(w[0], "file"))
			name_collect(p, w[1], true, parse_u64(p, w[2], "", &v) ?
				     0 : v, -1);
		else if (p->indented && p->nwords == 3 && !strcmp(w[0], "fork"))
			name_collect(p, w[2], false, 0, block < 0 ? 0 : block);
	}
	p->first_pass = false;
	p->pos = 0;
	p->line = 0;
}

/* Second pass: a reference to, or the declaration of, name W. */
static int name_use(struct parser *p, const char *w, bool file, bool declare,
		    uint16_t *out)
{
	int n = is_name(w) ? name_find(p->s, w) : -1;

	if (!is_name(w))
		return fail(p, "'%s' is not a name (letters, digits and '_', "
			    "not starting with a digit, at most %d)", w,
			    SCN_MAX_NAME - 1);
	if (n < 0 && declare)
		return fail(p, "too many names (at most %d)", SCN_MAX_NAMES);
	if (n < 0)
		return fail(p, "undeclared %s '%s'", file ? "file" : "mm", w);
	if (declare && p->s->names[n].line != p->line)
		return fail(p, "'%s' is already declared on line %u", w,
			    p->s->names[n].line);
	if (p->s->names[n].file != file)
		return fail(p, "'%s' is %s, not %s", w, file ? "an mm" : "a file",
			    file ? "a file" : "an mm");
	*out = (uint16_t)n;
	return 0;
}

/* One argument of an op, by its letter (scenario_ops.c). */
static int parse_arg(struct parser *p, char c, const char *w, struct scn_op *o)
{
	int prot;

	switch (c) {
	case 'M':
		return name_use(p, w, false, false, &o->mm);
	case 'C':
		return name_use(p, w, false, true, &o->other);
	case 'F':
		return name_use(p, w, true, false, &o->other);
	case 'R':
		if ((prot = scenario_prot_parse(w)) >= 0 &&
		    scenario_prot_name((unsigned)prot)) {
			o->prot = (uint8_t)prot;
			return 0;
		}
		return fail(p, "%s: bad protection '%s' (none, r, rw, rx or rwx)",
			    scenario_kind_name(o->kind), w);
	case 'S':
		if (strcmp(w, "shared") && strcmp(w, "private"))
			return fail(p, "%s: '%s' is not shared or private",
				    scenario_kind_name(o->kind), w);
		o->shared = !strcmp(w, "shared") ? SHD_MAP_SHARED : SHD_MAP_PRIVATE;
		return 0;
	case 'N':
		return parse_u64(p, w, "PGOFF", &o->pgoff);
	case 'P':
		return parse_u64(p, w, "PAGES", &o->n);
	case 'L':
		return parse_u64(p, w, "LEN", &o->n);
	case 'E':
		return parse_u64(p, w, "END", &o->n);
	case 'V':
		return parse_u64(p, w, "VALUE", &o->n);
	case 'O':
		return parse_u64(p, w, "OFF", &o->addr);
	default:
		return parse_u64(p, w, "ADDR", &o->addr);
	}
}

static int parse_op(struct parser *p)
{
	struct scenario *s = p->s;
	struct scn_op o = { .line = p->line };
	int k = scenario_kind_lookup(p->word[0]);
	const char *args;
	size_t nk;

	if (p->block < 0)
		return fail(p, "an indented line outside a block (ops go under "
			    "'setup' or 'cpu N')");
	if (k < 0) {
		const char *const *names = scenario_kind_names(&nk);
		const char *hint = cli_suggest(p->word[0], names, nk);

		if (hint)
			return fail(p, "unknown op '%s'; did you mean '%s'?",
				    p->word[0], hint);
		return fail(p, "unknown op '%s' (docs/scenarios.md lists them)",
			    p->word[0]);
	}
	o.kind = (uint8_t)k;
	args = scenario_kind_args((unsigned)k);
	if (p->nwords - 1 != strlen(args))
		return fail(p, "%s takes %zu argument%s (%s%s%s), not %u",
			    p->word[0], strlen(args), strlen(args) == 1 ? "" : "s",
			    p->word[0], *args ? " " : "",
			    scenario_kind_usage((unsigned)k), p->nwords - 1);
	for (unsigned i = 0; args[i]; i++)
		if (parse_arg(p, args[i], p->word[i + 1], &o))
			return -1;
	if (scenario_ops(s) >= SCN_MAX_OPS)
		return fail(p, "more than %u ops", SCN_MAX_OPS);
	if (scenario_check_op(s, (unsigned)p->block, s->blocks[p->block].n, &o,
			      p->err, p->errlen))
		return -1;
	if (scenario_add_op(s, (unsigned)p->block, &o))
		return fail(p, "out of memory");
	return 0;
}

static int want_words(struct parser *p, unsigned lo, unsigned hi,
		      const char *usage)
{
	unsigned n = p->nwords - 1;

	if (n >= lo && n <= hi)
		return 0;
	return fail(p, "%s takes %s%u argument%s (%s), not %u", p->word[0],
		    lo == hi ? "" : "at most ", hi, hi == 1 ? "" : "s", usage, n);
}

static int once(struct parser *p, int d)
{
	if (p->once[d])
		return fail(p, "'%s' is given twice (first on line %u)",
			    p->word[0], p->once[d]);
	p->once[d] = p->line;
	return 0;
}

static const char *named_suggest(const char *w, const struct shd_named *v,
				 size_t n)
{
	const char *names[64];

	for (size_t i = 0; i < n && i < 64; i++)
		names[i] = v[i].name;
	return cli_suggest(w, names, n < 64 ? n : 64);
}

static int unknown(struct parser *p, const char *what, const char *w,
		   const char *hint)
{
	if (hint)
		return fail(p, "unknown %s '%s'; did you mean '%s'?", what, w, hint);
	return fail(p, "unknown %s '%s'", what, w);
}

static int parse_expect(struct parser *p)
{
	struct scenario *s = p->s;
	const char *kinds[16];
	size_t nk = 0;

	if (once(p, D_EXPECT) || want_words(p, 1, 2, "clean, or violation [KIND]"))
		return -1;
	if (!strcmp(p->word[1], "clean") && p->nwords == 2)
		return 0;
	if (strcmp(p->word[1], "violation"))
		return fail(p, "expect '%s': say 'expect clean' or 'expect "
			    "violation [KIND]'", p->word[1]);
	s->expect_violation = true;
	if (p->nwords == 2)
		return 0;
	for (; nk < 16; nk++) {
		kinds[nk] = shd_violation_kind_name((enum shd_violation_kind)nk);
		if (!strcmp(kinds[nk], "unknown"))
			break;
		if (!strcmp(kinds[nk], p->word[2])) {
			s->expect_kind = (int)nk;
			return 0;
		}
	}
	return unknown(p, "violation kind", p->word[2],
		       cli_suggest(p->word[2], kinds, nk));
}

static int parse_set(struct parser *p)
{
	struct scenario *s = p->s;
	struct shd_policy scratch;
	char kv[64], *eq;
	size_t n;
	int err;

	if (want_words(p, 1, 1, "KNOB=VALUE"))
		return -1;
	snprintf(kv, sizeof(kv), "%s", p->word[1]);
	eq = strchr(kv, '=');
	if (!eq || eq == kv || !eq[1] || strlen(p->word[1]) >= sizeof(kv))
		return fail(p, "set: '%s' is not KNOB=VALUE", p->word[1]);
	if (s->nsets == SCN_MAX_SETS)
		return fail(p, "more than %d 'set' lines", SCN_MAX_SETS);
	*eq = 0;
	shd_policy_preset("linux", &scratch);
	err = shd_policy_set(&scratch, kv, eq + 1);
	if (err == -ENOENT) {
		const struct shd_named *knobs = shd_policy_knobs(&n);

		return unknown(p, "knob", kv, named_suggest(kv, knobs, n));
	}
	if (err)
		return fail(p, "set %s: %s", p->word[1], shd_last_error());
	s->line_set[s->nsets] = p->line;
	snprintf(s->sets[s->nsets++], sizeof(s->sets[0]), "%s", p->word[1]);
	return 0;
}

static int parse_inject(struct parser *p)
{
	struct scenario *s = p->s;
	size_t n;
	const struct shd_named *all = shd_faults(&n);
	int f;

	if (want_words(p, 1, 1, "FAULT"))
		return -1;
	f = shd_fault_lookup(p->word[1]);
	if (f < 0 || f >= 64)
		return unknown(p, "fault", p->word[1],
			       named_suggest(p->word[1], all, n));
	if (s->faults >> f & 1)
		return fail(p, "fault '%s' is injected twice (first on line %u)",
			    p->word[1], s->line_inject[f]);
	s->faults |= 1ull << f;
	s->line_inject[f] = p->line;
	return 0;
}

static int parse_machine(struct parser *p, bool policy)
{
	struct scenario *s = p->s;
	struct shd_policy pol;
	struct shd_arch arch;
	char name[64];
	size_t np, na;
	const struct shd_named *pols = shd_policy_presets(&np);
	const struct shd_named *archs = shd_arch_presets(&na);
	int err;

	if (once(p, policy ? D_POLICY : D_ARCH) || want_words(p, 1, 1, "NAME"))
		return -1;
	if (policy) {
		if (shd_policy_preset(p->word[1], &pol))
			return unknown(p, "policy", p->word[1],
				       named_suggest(p->word[1], pols, np));
		snprintf(s->policy, sizeof(s->policy), "%s", p->word[1]);
		s->line_policy = p->line;
		return 0;
	}
	if (strlen(p->word[1]) >= sizeof(s->arch))
		return fail(p, "arch: '%.40s...' is too long", p->word[1]);
	err = shd_arch_preset(p->word[1], &arch);
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(p->word[1], ","),
		 p->word[1]);
	if (err == -ENOENT || (err && shd_arch_preset(name, &arch)))
		return unknown(p, "architecture", name,
			       named_suggest(name, archs, na));
	if (err)
		return fail(p, "arch %s: %s", p->word[1], shd_last_error());
	snprintf(s->arch, sizeof(s->arch), "%s", p->word[1]);
	s->line_arch = p->line;
	return 0;
}

static int parse_count(struct parser *p, int d, uint64_t lo, uint64_t hi)
{
	uint64_t v;

	if (once(p, d) || want_words(p, 1, 1, "N") ||
	    parse_u64(p, p->word[1], p->word[0], &v))
		return -1;
	if (v < lo || v > hi)
		return fail(p, "%s %s: give %" PRIu64 "..%" PRIu64, p->word[0],
			    p->word[1], lo, hi);
	if (d == D_CPUS)
		p->s->ncpus = (unsigned)v;
	else
		p->s->preemptions = (int)v;
	return 0;
}

static int parse_name(struct parser *p, bool file)
{
	uint16_t n;
	uint64_t pages;

	if (want_words(p, file ? 2 : 1, file ? 2 : 1, file ? "NAME PAGES" : "NAME") ||
	    name_use(p, p->word[1], file, true, &n))
		return -1;
	if (!file)
		return 0;
	if (parse_u64(p, p->word[2], "PAGES", &pages))
		return -1;
	if (pages < 1 || pages > SCN_MAX_FILE_PAGES)
		return fail(p, "file %s: %" PRIu64 " pages: give 1..%d",
			    p->word[1], pages, SCN_MAX_FILE_PAGES);
	return 0;
}

static int parse_block(struct parser *p, bool setup)
{
	struct scenario *s = p->s;
	uint64_t cpu = SCN_SETUP;

	if (want_words(p, setup ? 0 : 1, setup ? 0 : 1, setup ? "none" : "N"))
		return -1;
	if (!setup) {
		if (!p->once[D_CPUS])
			return fail(p, "'cpu %s' comes before the 'cpus' line",
				    p->word[1]);
		if (parse_u64(p, p->word[1], "cpu", &cpu))
			return -1;
		if (cpu >= s->ncpus)
			return fail(p, "cpu %s is out of range (cpus %u: 0..%u)",
				    p->word[1], s->ncpus, s->ncpus - 1);
	}
	if (s->blocks[cpu].line)
		return fail(p, "duplicate %s block (the first is on line %u)",
			    setup ? "setup" : "cpu", s->blocks[cpu].line);
	s->blocks[cpu].line = p->line;
	p->block = (int)cpu;
	p->blocks_started = true;
	return 0;
}

static int parse_header(struct parser *p)
{
	uint64_t v;

	if (strcmp(p->word[0], "shootdown-scenario") || p->indented)
		return fail(p, "missing header: the first line must be "
			    "'shootdown-scenario %d'", SCN_VERSION);
	if (want_words(p, 1, 1, "the format's version") ||
	    parse_u64(p, p->word[1], "the version", &v))
		return -1;
	if (v != SCN_VERSION)
		return fail(p, "unsupported version %s (this shootdown reads "
			    "version %d)", p->word[1], SCN_VERSION);
	p->header = true;
	return 0;
}

static int parse_directive(struct parser *p)
{
	const char *w = p->word[0];
	size_t nd = sizeof(directives) / sizeof(directives[0]), nk;
	unsigned d;

	for (d = 0; d < nd && strcmp(w, directives[d]); d++)
		;
	if (d == nd && scenario_kind_lookup(w) >= 0)
		return fail(p, "'%s' is an op: indent it under 'setup' or "
			    "'cpu N'", w);
	if (d == nd) {
		const char *const *ops = scenario_kind_names(&nk);
		const char *hint = cli_suggest(w, directives, nd);

		if (!hint)	/* an op, unindented and misspelt */
			hint = cli_suggest(w, ops, nk);
		return unknown(p, "directive", w, hint);
	}
	if (d == 0)
		return fail(p, "the header is given twice (first on line %u)",
			    p->once[D_HEADER]);
	if (p->blocks_started && strcmp(w, "setup") && strcmp(w, "cpu"))
		return fail(p, "'%s' must come before the first block", w);
	switch (d) {
	case 1: return parse_count(p, D_CPUS, 1, SCN_MAX_CPUS);
	case 2: return parse_machine(p, true);
	case 3: return parse_machine(p, false);
	case 4: return parse_inject(p);
	case 5: return parse_set(p);
	case 6: return parse_name(p, false);
	case 7: return parse_name(p, true);
	case 8: return parse_expect(p);
	case 9: return parse_count(p, D_PREEMPTIONS, 0, 64);
	default: return parse_block(p, d == 10);
	}
}

/* A '#' line before the first directive: kept, for the printer. */
static int comment_keep(struct parser *p)
{
	struct scenario *s = p->s;
	size_t n = strlen(p->comment);
	char *c = realloc(s->comment, p->comment_len + n + 2);

	if (!c)
		return fail(p, "out of memory");
	s->comment = c;
	if (p->ncomment++)	/* lines joined by '\n', empty ones too */
		c[p->comment_len++] = '\n';
	memcpy(c + p->comment_len, p->comment, n + 1);
	p->comment_len += n;
	return 0;
}

static int parse_lines(struct parser *p)
{
	int rc;

	while ((rc = line_next(p)) > 0) {
		if (!p->nwords) {
			if (p->comment && !p->directive_seen && comment_keep(p))
				return -1;
			continue;
		}
		if (!p->header) {
			if (parse_header(p))
				return -1;
			p->once[D_HEADER] = p->line;
			continue;
		}
		if (p->indented ? parse_op(p) : parse_directive(p))
			return -1;
		p->directive_seen = true;
	}
	return rc;
}

int scenario_parse(const char *name, const char *text, size_t len,
		   struct scenario *out, char *err, size_t errlen)
{
	struct parser p = { .text = text, .len = text ? len : 0, .s = out,
			    .err = err, .errlen = errlen, .block = -1 };

	memset(out, 0, sizeof(*out));
	snprintf(out->file, sizeof(out->file), "%s", name ? name : "scenario");
	snprintf(out->policy, sizeof(out->policy), "linux");
	snprintf(out->arch, sizeof(out->arch), "x86");
	out->expect_kind = -1;
	out->preemptions = -1;
	if (errlen)
		err[0] = 0;
	first_pass(&p);
	if (parse_lines(&p))
		return -1;
	p.line++;	/* problems of the whole file: past its last line */
	if (!p.header)
		return fail(&p, "missing header: the first line must be "
			    "'shootdown-scenario %d'", SCN_VERSION);
	if (!p.once[D_CPUS])
		return fail(&p, "no 'cpus N' line");
	if (!p.once[D_EXPECT])
		return fail(&p, "no 'expect' line (expect clean, or expect "
			    "violation [KIND])");
	return scenario_validate(out, err, errlen);
}

int scenario_read(const char *path, struct scenario *out, char *err,
		  size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!f) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			char *t = cap >= (64u << 20) ? NULL : realloc(text, cap ? cap * 2 : 65536);

			if (!t) {
				snprintf(err, errlen, "%s: too large (over 64 MiB) "
					 "or out of memory", path);
				free(text);
				fclose(f);
				return -1;
			}
			text = t;
			cap = cap ? cap * 2 : 65536;
		}
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n);
	rc = ferror(f);
	fclose(f);
	if (rc) {
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		free(text);
		return -1;
	}
	rc = scenario_parse(path, text, len, out, err, errlen);
	free(text);
	return rc;
}
