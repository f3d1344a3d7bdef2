/* SPDX-License-Identifier: MIT */
/* Trace files: reading and writing a program's memory-management calls. */

/*
 * The format (docs/trace-format.md), one event a line after a header:
 *
 *	# shootdown-trace 1
 *	# command: xz -T2 -k data
 *	0 4242 execve = 0
 *	35 4242 brk 0x0 = 0x55d0c6a4e000
 *	61 4242 mmap 0x0 0x2000 rw- private,anon = 0x7f3c2a1f0000
 *	900 4242 clone thread = 4243
 *	950 4243 mprotect 0x7f3c29000000 0x21000 rw- = 0
 *	990 4243 madvise 0x7f3c29000000 0x800000 dontneed = 0
 *	991 4243 fault 0x7f3c29000000 w
 *	1200 4242 munmap 0x7f3c2a1f0000 0x2000 = -EINVAL
 *	1250 4243 block 830 futex
 *	1300 4243 exit
 *
 * TIME (microseconds, never decreasing) TID (decimal) CALL ARGS = RESULT.
 * Addresses and lengths are hex; a result is a number or -ENAME (the call
 * failed).  exit, exit_group, fault and block have no result.  Lines starting
 * with '#' are comments; "# command:" names the program.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "readfile.h"
#include "trace.h"

static const char *const call_names[] = {
#define TRACE_NAME_(n) #n,
	TRACE_CALLS(TRACE_NAME_)
#undef TRACE_NAME_
};

const char *trace_call_name(unsigned call)
{
	return call < TC__COUNT ? call_names[call] : "?";
}

static const char *const why_names[] = {
#define TRACE_WHY_NAME_(n) #n,
	TRACE_WHYS(TRACE_WHY_NAME_)
#undef TRACE_WHY_NAME_
};

const char *trace_why_name(unsigned why)
{
	return why < TW__COUNT ? why_names[why] : "?";
}

static const struct { const char *name; unsigned bit; } flag_names[] = {
	{ "shared", TF_SHARED }, { "private", TF_PRIVATE }, { "anon", TF_ANON },
	{ "fixed", TF_FIXED }, { "stack", TF_STACK },
	{ "noreserve", TF_NORESERVE }, { "populate", TF_POPULATE },
	{ "maymove", TF_MAYMOVE }, { "dontunmap", TF_DONTUNMAP },
	{ "thread", TF_THREAD }, { "process", TF_PROCESS },
	{ "vfork", TF_VFORK },
};
#define NFLAGS (sizeof(flag_names) / sizeof(flag_names[0]))
#define TF_MMAP (TF_SHARED | TF_PRIVATE | TF_ANON | TF_FIXED | TF_STACK | \
		 TF_NORESERVE | TF_POPULATE)
#define TF_MREMAP (TF_MAYMOVE | TF_FIXED | TF_DONTUNMAP)
#define TF_CLONE (TF_THREAD | TF_PROCESS | TF_VFORK)

static const char *const advice_names[] = {
	[0] = "normal", [1] = "random", [2] = "sequential", [3] = "willneed",
	[4] = "dontneed", [8] = "free", [9] = "remove", [10] = "dontfork",
	[11] = "dofork", [12] = "mergeable", [13] = "unmergeable",
	[14] = "hugepage", [15] = "nohugepage", [16] = "dontdump",
	[17] = "dodump", [18] = "wipeonfork", [19] = "keeponfork",
	[20] = "cold", [21] = "pageout", [22] = "populate_read",
	[23] = "populate_write", [25] = "collapse", [102] = "guard_install",
	[103] = "guard_remove",
};
#define NADVICE (sizeof(advice_names) / sizeof(advice_names[0]))

const char *trace_advice_name(uint64_t advice)
{
	return advice < NADVICE ? advice_names[advice] : NULL;
}

static const struct { const char *name; int err; } errno_names[] = {
	{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "ESRCH", ESRCH },
	{ "EINTR", EINTR }, { "EBADF", EBADF }, { "ECHILD", ECHILD },
	{ "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM }, { "EACCES", EACCES },
	{ "EFAULT", EFAULT }, { "EBUSY", EBUSY }, { "EEXIST", EEXIST },
	{ "ENODEV", ENODEV }, { "EINVAL", EINVAL }, { "ENFILE", ENFILE },
	{ "EMFILE", EMFILE }, { "ETXTBSY", ETXTBSY }, { "EFBIG", EFBIG },
	{ "ENOSYS", ENOSYS }, { "EOVERFLOW", EOVERFLOW },
	{ "EOPNOTSUPP", EOPNOTSUPP }, { "ENOEXEC", ENOEXEC },
	{ "E2BIG", E2BIG }, { "ENOTDIR", ENOTDIR }, { "EISDIR", EISDIR },
};
#define NERRNO (sizeof(errno_names) / sizeof(errno_names[0]))

const char *trace_errno_name(int err)
{
	for (size_t i = 0; i < NERRNO; i++)
		if (errno_names[i].err == err)
			return errno_names[i].name;
	return NULL;
}

int trace_errno_lookup(const char *name)
{
	for (size_t i = 0; i < NERRNO; i++)
		if (!strcmp(errno_names[i].name, name))
			return errno_names[i].err;
	return 0;
}

/* ---- reading ---- */

struct reader {
	const char *name;
	const char *p, *end;
	unsigned line;
	char buf[TRACE_MAX_LINE + 1];
	char *tok[16];
	unsigned ntok;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3)))
static int fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	file_line_error(r->err, r->errlen, r->name, r->line, fmt, ap);
	va_end(ap);
	return -1;
}

/* The next line into r->buf (comments too): 0 at the end, 1, -1. */
static int next_line(struct reader *r)
{
	return text_next_line(&r->p, r->end, &r->line, r->buf, TRACE_MAX_LINE,
			      r->name, r->err, r->errlen);
}

static int split(struct reader *r)
{
	char *s = r->buf;

	r->ntok = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return 0;
		if (r->ntok == sizeof(r->tok) / sizeof(r->tok[0]))
			return fail(r, "too many fields");
		r->tok[r->ntok++] = s;
		while (*s && *s != ' ' && *s != '\t')
			s++;
		if (*s)
			*s++ = 0;
	}
}

/* A decimal number, or hex with 0x: 0 or -1. */
static int parse_num(struct reader *r, const char *s, const char *what,
		     uint64_t max, uint64_t *out)
{
	const char *d = s;
	uint64_t v = 0;
	unsigned base = 10;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		d = s + 2;
	}
	if (!*d)
		return fail(r, "%s: '%s' is not a number", what, s);
	for (; *d; d++) {
		unsigned dig;

		if (*d >= '0' && *d <= '9')
			dig = (unsigned)(*d - '0');
		else if (base == 16 && *d >= 'a' && *d <= 'f')
			dig = (unsigned)(*d - 'a' + 10);
		else if (base == 16 && *d >= 'A' && *d <= 'F')
			dig = (unsigned)(*d - 'A' + 10);
		else
			return fail(r, "%s: '%s' is not a number", what, s);
		if (v > (UINT64_MAX - dig) / base)
			return fail(r, "%s: '%s' is too large", what, s);
		v = v * base + dig;
	}
	if (v > max)
		return fail(r, "%s: %s is out of range (at most %" PRIu64 ")",
			    what, s, max);
	*out = v;
	return 0;
}

static int parse_prot(struct reader *r, const char *s, uint8_t *out)
{
	if (strlen(s) != 3 || (s[0] != 'r' && s[0] != '-') ||
	    (s[1] != 'w' && s[1] != '-') || (s[2] != 'x' && s[2] != '-'))
		return fail(r, "protection '%s' is not three of r/w/x or - "
			    "(rw-, r-x, ---)", s);
	*out = (uint8_t)((s[0] == 'r' ? TP_R : 0) | (s[1] == 'w' ? TP_W : 0) |
			 (s[2] == 'x' ? TP_X : 0));
	return 0;
}

/* A comma list of flag names, all in ALLOWED; "-" for none. */
static int parse_flags(struct reader *r, char *s, unsigned allowed,
		       uint16_t *out)
{
	unsigned v = 0;

	if (!strcmp(s, "-")) {
		*out = 0;
		return 0;
	}
	for (char *tok = s, *comma; tok; tok = comma ? comma + 1 : NULL) {
		size_t i;

		comma = strchr(tok, ',');
		if (comma)
			*comma = 0;
		for (i = 0; i < NFLAGS; i++)
			if (!strcmp(flag_names[i].name, tok) &&
			    (flag_names[i].bit & allowed))
				break;
		if (i == NFLAGS)
			return fail(r, "unknown flag '%s'", tok);
		v |= flag_names[i].bit;
	}
	*out = (uint16_t)v;
	return 0;
}

static int parse_result(struct reader *r, const char *s, struct trace_event *e)
{
	if (s[0] == '-') {
		uint64_t n;

		if (s[1] == 'E' && (e->err = trace_errno_lookup(s + 1)))
			return 0;
		if (s[1] >= '0' && s[1] <= '9') {
			if (parse_num(r, s + 1, "errno", 4095, &n))
				return -1;
			if (!n)
				return fail(r, "errno 0 is not a failure");
			e->err = (int)n;
			return 0;
		}
		return fail(r, "result '%s' is not a number or -ENAME (a "
			    "failed call, e.g. -ENOMEM)", s);
	}
	e->has_ret = true;
	return parse_num(r, s, "result", UINT64_MAX, &e->ret);
}

/* Arguments each call takes between the call's name and "= RESULT". */
static const unsigned nargs[TC__COUNT] = {
	[TC_mmap] = 4, [TC_munmap] = 2, [TC_mprotect] = 3, [TC_madvise] = 3,
	[TC_mremap] = 4, [TC_brk] = 1, [TC_clone] = 1, [TC_execve] = 0,
	[TC_exit] = 0, [TC_exit_group] = 0, [TC_fault] = 2, [TC_block] = 2,
};
static const char *const syntax[TC__COUNT] = {
	[TC_mmap] = "mmap ADDR LEN PROT FLAGS = RESULT",
	[TC_munmap] = "munmap ADDR LEN = RESULT",
	[TC_mprotect] = "mprotect ADDR LEN PROT = RESULT",
	[TC_madvise] = "madvise ADDR LEN ADVICE = RESULT",
	[TC_mremap] = "mremap ADDR OLDLEN NEWLEN FLAGS = RESULT",
	[TC_brk] = "brk ADDR = RESULT",
	[TC_clone] = "clone thread|process|vfork = CHILD_TID",
	[TC_execve] = "execve = RESULT",
	[TC_exit] = "exit", [TC_exit_group] = "exit_group",
	[TC_fault] = "fault ADDR r|w",
	[TC_block] = "block MICROSECONDS futex|wait|sleep|poll",
};

static int parse_advice(struct reader *r, const char *s, uint64_t *out)
{
	for (size_t i = 0; i < NADVICE; i++)
		if (advice_names[i] && !strcmp(advice_names[i], s)) {
			*out = i;
			return 0;
		}
	if (s[0] >= '0' && s[0] <= '9')
		return parse_num(r, s, "advice", 1023, out);
	return fail(r, "unknown madvise advice '%s' (a name such as "
		    "dontneed, or a number)", s);
}

static int parse_event(struct reader *r, struct trace_event *e)
{
	unsigned c, want, i;
	uint64_t v;
	char **a;

	memset(e, 0, sizeof(*e));
	e->line = r->line;
	if (r->ntok < 3)
		return fail(r, "expected TIME TID CALL ...");
	if (parse_num(r, r->tok[0], "time", UINT64_MAX / 2, &e->t_us))
		return -1;
	if (parse_num(r, r->tok[1], "tid", INT32_MAX, &v))
		return -1;
	if (!v)
		return fail(r, "tid 0 is not a thread");
	e->tid = (uint32_t)v;
	for (c = 0; c < TC__COUNT; c++)
		if (!strcmp(r->tok[2], call_names[c]))
			break;
	if (c == TC__COUNT)
		return fail(r, "unknown call '%s' (one of mmap, munmap, mprotect, "
			    "madvise, mremap, brk, clone, execve, exit, "
			    "exit_group, fault, block)", r->tok[2]);
	e->call = (uint8_t)c;
	want = 3 + nargs[c];
	if (c == TC_exit || c == TC_exit_group || c == TC_fault ||
	    c == TC_block) {
		if (r->ntok != want)
			return fail(r, "expected '%s'", syntax[c]);
	} else if (r->ntok != want + 2 || strcmp(r->tok[want], "=")) {
		return fail(r, "expected '%s'", syntax[c]);
	}
	a = r->tok + 3;
	i = 0;
	switch (c) {
	case TC_mmap:
	case TC_munmap:
	case TC_mprotect:
	case TC_madvise:
	case TC_mremap:
	case TC_fault:
	case TC_brk:
		if (parse_num(r, a[i++], "address", UINT64_MAX, &e->addr))
			return -1;
		break;
	default:
		break;
	}
	if (c != TC_brk && c != TC_fault && i == 1 &&
	    (parse_num(r, a[i++], "length", UINT64_MAX - e->addr, &e->len)))
		return -1;
	switch (c) {
	case TC_mmap:
		if (parse_prot(r, a[i++], &e->prot) ||
		    parse_flags(r, a[i++], TF_MMAP, &e->flags))
			return -1;
		if (!(e->flags & TF_SHARED) == !(e->flags & TF_PRIVATE))
			return fail(r, "mmap flags need one of shared, private");
		break;
	case TC_mprotect:
		if (parse_prot(r, a[i++], &e->prot))
			return -1;
		break;
	case TC_madvise:
		if (parse_advice(r, a[i++], &e->arg))
			return -1;
		break;
	case TC_mremap:
		if (parse_num(r, a[i++], "new length", UINT64_MAX, &e->arg) ||
		    parse_flags(r, a[i++], TF_MREMAP, &e->flags))
			return -1;
		break;
	case TC_clone:
		if (parse_flags(r, a[i++], TF_CLONE, &e->flags))
			return -1;
		if (__builtin_popcount(e->flags) != 1)
			return fail(r, "clone takes one of thread, process, vfork");
		break;
	case TC_block:
		if (parse_num(r, a[0], "microseconds", UINT64_MAX / 4, &e->arg))
			return -1;
		for (e->why = 0; e->why < TW__COUNT; e->why++)
			if (!strcmp(a[1], why_names[e->why]))
				return 0;
		return fail(r, "a block is in futex, wait, sleep or poll, not "
			    "'%s'", a[1]);
	case TC_fault:
		if (strcmp(a[i], "r") && strcmp(a[i], "w"))
			return fail(r, "a fault is r (read) or w (write), not "
				    "'%s'", a[i]);
		e->prot = a[i][0] == 'w' ? TP_W : TP_R;
		return 0;
	default:
		break;
	}
	if (c == TC_exit || c == TC_exit_group)
		return 0;
	if (parse_result(r, r->tok[want + 1], e))
		return -1;
	if (c == TC_clone && e->has_ret && (!e->ret || e->ret > INT32_MAX))
		return fail(r, "clone's result is the child's tid (1..%d)",
			    INT32_MAX);
	return 0;
}

static int tid_seen(uint32_t *tids, size_t n, uint32_t tid)
{
	for (size_t i = 0; i < n; i++)
		if (tids[i] == tid)
			return 1;
	return 0;
}

int trace_parse(const char *name, const char *buf, size_t len,
		struct trace *t, char *err, size_t errlen)
{
	struct reader *r = calloc(1, sizeof(*r));
	size_t cap = 0;
	uint32_t *tids = NULL;
	size_t ntids = 0, tcap = 0;
	bool header = false;
	int rc = 0;

	memset(t, 0, sizeof(*t));
	if (!r) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	r->name = name;
	r->p = buf;
	r->end = buf + len;
	r->err = err;
	r->errlen = errlen;
	while (!rc && (rc = next_line(r)) == 1) {
		char *s = r->buf;
		struct trace_event *e;

		rc = 0;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!header) {
			unsigned long ver;
			char *end;

			if (strncmp(s, "# shootdown-trace ", 18)) {
				rc = fail(r, "not a shootdown trace: the first "
					  "line must be '# shootdown-trace %d'",
					  TRACE_VERSION);
				break;
			}
			ver = strtoul(s + 18, &end, 10);
			if (end == s + 18 || *end || ver != TRACE_VERSION) {
				rc = fail(r, "trace format version '%s' is not "
					  "one this build reads (%d)", s + 18,
					  TRACE_VERSION);
				break;
			}
			header = true;
			continue;
		}
		if (!*s)
			continue;
		if (*s == '#') {
			if (!strncmp(s, "# command: ", 11) && !t->command[0])
				snprintf(t->command, sizeof(t->command), "%s", s + 11);
			continue;
		}
		if ((rc = split(r)))
			break;
		if (t->n == TRACE_MAX_EVENTS) {
			rc = fail(r, "more than %u events", TRACE_MAX_EVENTS);
			break;
		}
		if (t->n == cap) {
			size_t nc = cap ? cap * 2 : 256;
			void *p = realloc(t->ev, nc * sizeof(*t->ev));

			if (!p) {
				rc = fail(r, "out of memory");
				break;
			}
			t->ev = p;
			cap = nc;
		}
		e = &t->ev[t->n];
		if ((rc = parse_event(r, e)))
			break;
		if (t->n && e->t_us < t->ev[t->n - 1].t_us) {
			rc = fail(r, "time %" PRIu64 " is before the previous "
				  "event's (%" PRIu64 "): events are in time "
				  "order", e->t_us, t->ev[t->n - 1].t_us);
			break;
		}
		if (e->call == TC_fault)
			t->has_faults = true;
		if (e->call == TC_block)
			t->has_blocks = true;
		if (!tid_seen(tids, ntids, e->tid)) {
			if (ntids == tcap) {
				size_t nc = tcap ? tcap * 2 : 16;
				void *p = realloc(tids, nc * sizeof(*tids));

				if (!p) {
					rc = fail(r, "out of memory");
					break;
				}
				tids = p;
				tcap = nc;
			}
			tids[ntids++] = e->tid;
		}
		t->n++;
	}
	if (!rc && !header) {
		r->line = 1;
		rc = fail(r, "empty file: not a shootdown trace (the first "
			  "line must be '# shootdown-trace %d')", TRACE_VERSION);
	} else if (!rc && !t->n) {
		rc = fail(r, "the trace has no events (the program made no "
			  "memory-management call?)");
	}
	t->nthreads = (unsigned)ntids;
	free(tids);
	free(r);
	if (rc) {
		trace_free(t);
		return -1;
	}
	return 0;
}

int trace_load(const char *path, struct trace *t, char *err, size_t errlen)
{
	char *buf;
	size_t len;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((rc = read_whole_file(path, 256u << 20, &buf, &len))) {
		snprintf(err, errlen, rc == -EFBIG ? "%s: too large to read" :
			 "%s: %s", path, strerror(-rc));
		return -1;
	}
	rc = trace_parse(path, buf, len, t, err, errlen);
	free(buf);
	return rc;
}

void trace_free(struct trace *t)
{
	free(t->ev);
	t->ev = NULL;
	t->n = 0;
}

/* ---- writing ---- */

void trace_write_header(FILE *f, const char *command, const char *note)
{
	fprintf(f, "# shootdown-trace %d\n", TRACE_VERSION);
	if (command)
		fprintf(f, "# command: %s\n", command);
	if (note)
		fprintf(f, "%s", note);
}

static void write_flags(FILE *f, unsigned flags)
{
	bool any = false;

	for (size_t i = 0; i < NFLAGS; i++)
		if (flags & flag_names[i].bit) {
			fprintf(f, "%s%s", any ? "," : "", flag_names[i].name);
			any = true;
		}
	if (!any)
		fputc('-', f);
}

static void write_prot(FILE *f, unsigned prot)
{
	fprintf(f, "%c%c%c", prot & TP_R ? 'r' : '-', prot & TP_W ? 'w' : '-',
		prot & TP_X ? 'x' : '-');
}

void trace_write_event(FILE *f, const struct trace_event *e)
{
	fprintf(f, "%" PRIu64 " %" PRIu32 " %s", e->t_us, e->tid,
		trace_call_name(e->call));
	switch (e->call) {
	case TC_mmap:
		fprintf(f, " 0x%" PRIx64 " 0x%" PRIx64 " ", e->addr, e->len);
		write_prot(f, e->prot);
		fputc(' ', f);
		write_flags(f, e->flags);
		break;
	case TC_munmap:
		fprintf(f, " 0x%" PRIx64 " 0x%" PRIx64, e->addr, e->len);
		break;
	case TC_mprotect:
		fprintf(f, " 0x%" PRIx64 " 0x%" PRIx64 " ", e->addr, e->len);
		write_prot(f, e->prot);
		break;
	case TC_madvise:
		fprintf(f, " 0x%" PRIx64 " 0x%" PRIx64 " ", e->addr, e->len);
		if (trace_advice_name(e->arg))
			fprintf(f, "%s", trace_advice_name(e->arg));
		else
			fprintf(f, "%" PRIu64, e->arg);
		break;
	case TC_mremap:
		fprintf(f, " 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " ",
			e->addr, e->len, e->arg);
		write_flags(f, e->flags);
		break;
	case TC_brk:
		fprintf(f, " 0x%" PRIx64, e->addr);
		break;
	case TC_clone:
		fputc(' ', f);
		write_flags(f, e->flags);
		break;
	case TC_fault:
		fprintf(f, " 0x%" PRIx64 " %c\n", e->addr,
			e->prot & TP_W ? 'w' : 'r');
		return;
	case TC_block:
		fprintf(f, " %" PRIu64 " %s\n", e->arg, trace_why_name(e->why));
		return;
	case TC_exit:
	case TC_exit_group:
		fputc('\n', f);
		return;
	default:
		break;
	}
	if (e->err && trace_errno_name(e->err))
		fprintf(f, " = -%s\n", trace_errno_name(e->err));
	else if (e->err)
		fprintf(f, " = -%d\n", e->err);
	else if (e->call == TC_clone)
		fprintf(f, " = %" PRIu64 "\n", e->ret);
	else if (e->call == TC_execve || e->call == TC_munmap ||
		 e->call == TC_mprotect || e->call == TC_madvise)
		fprintf(f, " = %" PRIu64 "\n", e->ret);
	else
		fprintf(f, " = 0x%" PRIx64 "\n", e->ret);
}
