/* SPDX-License-Identifier: MIT */
/* strace's output read into a trace of memory-management calls. */

/*
 * strace -f -ttt -T -X raw prints one call a line, its time in it last:
 *
 *	16217 1796530649.610581 brk(0x557853e22000) = 0x557853e22000
 *	16217 1796530649.613472 clone3({flags=0x3d0f00, ...} => {...}, 88) = 16220
 *	16648 1796530654.055558 vfork( <unfinished ...>
 *	16648 1796530654.056012 <... vfork resumed>) = 16649
 *	16220 1796530650.100000 munmap(0x7f00, 4096) = -1 EINVAL (Invalid argument)
 *	16220 1796530650.100100 futex(0x3588, 0x189, 0, NULL, 0xffffffff) = 0 <0.000368>
 *
 * A wait (futex, wait4, nanosleep, poll...) that lasted STRACE_BLOCK_US
 * or more becomes a block event: the thread slept, its CPU could idle.
 * A call another thread interrupted is split into "<unfinished ...>" and
 * "<... NAME resumed>": the two halves are joined, and the call keeps the
 * time it was entered.  Constants are hex (-X raw), so no flag name of
 * one strace version is needed.  Events are then sorted by time (stable),
 * which puts a clone before its child's first call.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "strace.h"

#define LINE_MAX_ 65536

/* The calls a thread sleeps in, and what the trace calls each. */
static const struct { const char *name; enum trace_why why; } waits[] = {
	{ "futex", TW_futex }, { "wait4", TW_wait }, { "waitid", TW_wait },
	{ "nanosleep", TW_sleep }, { "clock_nanosleep", TW_sleep },
	{ "poll", TW_poll }, { "ppoll", TW_poll }, { "select", TW_poll },
	{ "pselect6", TW_poll }, { "epoll_wait", TW_poll },
	{ "epoll_pwait", TW_poll }, { "epoll_pwait2", TW_poll },
};

struct pending {
	unsigned long pid;
	double t;
	char *text;			/* the call up to <unfinished ...> */
};

struct conv {
	struct trace *t;
	size_t cap;
	struct pending *pend;
	size_t npend, pcap;
	double t0, tmax;		/* the first event's time, the last line's */
	bool have_t0;
	struct strace_stats *st;
};

/* Split ARGS (between the call's parentheses) at top-level commas. */
static unsigned split_args(char *s, char **a, unsigned max)
{
	unsigned n = 0, depth = 0;
	bool quote = false;

	while (*s == ' ')
		s++;
	if (!*s)
		return 0;
	a[n++] = s;
	for (; *s; s++) {
		if (quote) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				quote = false;
			continue;
		}
		if (*s == '"')
			quote = true;
		else if (*s == '(' || *s == '[' || *s == '{')
			depth++;
		else if ((*s == ')' || *s == ']' || *s == '}') && depth)
			depth--;
		else if (*s == ',' && !depth) {
			*s = 0;
			if (n == max)
				return n;
			s++;
			while (*s == ' ')
				s++;
			a[n++] = s;
			s--;
		}
	}
	return n;
}

/* A number as strace prints it raw: NULL, 0x1f, 42, -1, 0x1200000|17. */
static bool num(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (!strncmp(s, "NULL", 4) && (!s[4] || s[4] == ' ')) {
		*out = 0;
		return true;
	}
	for (;;) {
		char *end;
		unsigned long long x;

		errno = 0;
		if (*s == '-')
			x = (unsigned long long)strtoll(s, &end, 0);
		else if (*s >= '0' && *s <= '9')
			x = strtoull(s, &end, 0);
		else
			return false;
		if (end == s || errno)
			return false;
		v |= x;
		if (*end != '|')
			break;
		s = end + 1;
	}
	*out = v;
	return true;
}

/* The value of KEY=... inside S ("flags=0x3d0f00"). */
static bool keyed(const char *s, const char *key, uint64_t *out)
{
	const char *p = strstr(s, key);

	return p && num(p + strlen(key), out);
}

static unsigned prot_of(uint64_t p)
{
	return (p & 1 ? TP_R : 0) | (p & 2 ? TP_W : 0) | (p & 4 ? TP_X : 0);
}

static unsigned mmap_flags(uint64_t f, int64_t fd)
{
	unsigned v = (f & 3) == 2 ? TF_PRIVATE : TF_SHARED;

	if (f & 0x20 || fd < 0)
		v |= TF_ANON;
	if (f & 0x10 || f & 0x100000)
		v |= TF_FIXED;
	if (f & 0x20000)
		v |= TF_STACK;
	if (f & 0x4000)
		v |= TF_NORESERVE;
	if (f & 0x8000)
		v |= TF_POPULATE;
	return v;
}

static int add(struct conv *c, const struct trace_event *e)
{
	if (c->t->n == TRACE_MAX_EVENTS)
		return -1;
	if (c->t->n == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 1024;
		void *p = realloc(c->t->ev, nc * sizeof(*c->t->ev));

		if (!p)
			return -1;
		c->t->ev = p;
		c->cap = nc;
	}
	c->t->ev[c->t->n++] = *e;
	c->st->events++;
	return 0;
}

/* One whole call: "NAME(ARGS) = RESULT ...".  0, or -1 when out of room. */
static int call(struct conv *c, unsigned long pid, double t, char *text)
{
	struct trace_event e = { 0 };
	char *open = strchr(text, '('), *close, *res, *a[8];
	unsigned n;
	uint64_t v[6] = { 0 };
	bool ok = true;

	if (!open) {
		c->st->unparsed++;
		return 0;
	}
	*open = 0;
	/* The last ") = " (strace pads short calls: ")       = "); the
	 * arguments may hold one too. */
	res = NULL;
	for (char *r = strchr(open + 1, ')'); r; r = strchr(r + 1, ')')) {
		char *q = r + 1;

		while (*q == ' ')
			q++;
		if (q > r + 1 && q[0] == '=' && q[1] == ' ')
			res = r;
	}
	if (!res) {
		c->st->unparsed++;
		return 0;
	}
	close = res;
	res = strchr(res + 1, '=') + 2;
	*close = 0;
	e.tid = (uint32_t)pid;
	if (!strcmp(text, "exit") || !strcmp(text, "exit_group")) {
		e.call = text[4] ? TC_exit_group : TC_exit;
		goto keep;
	}
	if (res[0] == '?') {
		c->st->ignored++;
		return 0;
	}
	for (size_t w = 0; w < sizeof(waits) / sizeof(waits[0]); w++) {
		char *lt = strrchr(res, '<');
		double secs;

		if (strcmp(text, waits[w].name))
			continue;
		if (!lt || sscanf(lt, "<%lf>", &secs) != 1 || secs < 0) {
			c->st->unparsed++;
			return 0;
		}
		if (secs * 1e6 < STRACE_BLOCK_US) {
			c->st->ignored++;	/* did not sleep to speak of */
			return 0;
		}
		e.call = TC_block;
		e.why = (uint8_t)waits[w].why;
		e.arg = (uint64_t)(secs * 1e6 + 0.5);
		goto keep;
	}
	if (res[0] == '-' && res[1] == '1' && res[2] == ' ') {
		char name[32];

		if (sscanf(res + 3, "%31[A-Z0-9]", name) != 1 ||
		    !(e.err = trace_errno_lookup(name))) {
			c->st->ignored++;	/* an errno the format lacks */
			return 0;
		}
	} else if (!num(res, &e.ret)) {
		c->st->unparsed++;
		return 0;
	}
	n = split_args(open + 1, a, 8);
	for (unsigned i = 0; i < n && i < 6; i++)
		if (!num(a[i], &v[i]))
			v[i] = 0;
	if (!strcmp(text, "mmap")) {
		ok = n == 6;
		e.call = TC_mmap;
		e.addr = v[0];
		e.len = v[1];
		e.prot = (uint8_t)prot_of(v[2]);
		e.flags = (uint16_t)mmap_flags(v[3], (int64_t)v[4]);
	} else if (!strcmp(text, "munmap")) {
		ok = n == 2;
		e.call = TC_munmap;
		e.addr = v[0];
		e.len = v[1];
	} else if (!strcmp(text, "mprotect") || !strcmp(text, "pkey_mprotect")) {
		ok = n >= 3;
		e.call = TC_mprotect;
		e.addr = v[0];
		e.len = v[1];
		e.prot = (uint8_t)prot_of(v[2]);
	} else if (!strcmp(text, "madvise")) {
		ok = n == 3 && v[2] < 1024;
		e.call = TC_madvise;
		e.addr = v[0];
		e.len = v[1];
		e.arg = v[2];
	} else if (!strcmp(text, "mremap")) {
		ok = n >= 4;
		e.call = TC_mremap;
		e.addr = v[0];
		e.len = v[1];
		e.arg = v[2];
		e.flags = (uint16_t)((v[3] & 1 ? TF_MAYMOVE : 0) |
				     (v[3] & 2 ? TF_FIXED : 0) |
				     (v[3] & 4 ? TF_DONTUNMAP : 0));
	} else if (!strcmp(text, "brk")) {
		ok = n == 1;
		e.call = TC_brk;
		e.addr = v[0];
	} else if (!strcmp(text, "clone") || !strcmp(text, "clone3") ||
		   !strcmp(text, "fork") || !strcmp(text, "vfork")) {
		uint64_t f = 0;

		e.call = TC_clone;
		if (text[0] == 'f')
			f = 0;
		else if (text[0] == 'v')
			f = 0x100 | 0x4000;
		else {		/* the arguments are split: look in each */
			ok = false;
			for (unsigned k = 0; k < n && !ok; k++)
				ok = keyed(a[k], "flags=", &f);
		}
		e.flags = f & 0x100 ? (f & 0x4000 ? TF_VFORK : TF_THREAD) :
			  TF_PROCESS;
		if (!e.err && (!e.ret || e.ret > INT32_MAX))
			ok = false;
	} else if (!strcmp(text, "execve") || !strcmp(text, "execveat")) {
		e.call = TC_execve;
	} else {
		c->st->ignored++;
		return 0;
	}
	if (!ok) {
		c->st->unparsed++;
		return 0;
	}
	e.has_ret = !e.err;
keep:
	if (!c->have_t0) {
		c->t0 = t;
		c->have_t0 = true;
	}
	e.t_us = t > c->t0 ? (uint64_t)((t - c->t0) * 1e6 + 0.5) : 0;
	return add(c, &e);
}

static int pending_take(struct conv *c, unsigned long pid, double *t,
			char **text)
{
	for (size_t i = 0; i < c->npend; i++)
		if (c->pend[i].pid == pid) {
			*t = c->pend[i].t;
			*text = c->pend[i].text;
			c->pend[i] = c->pend[--c->npend];
			return 1;
		}
	return 0;
}

static int pending_add(struct conv *c, unsigned long pid, double t,
		       const char *text, size_t len)
{
	char *s;

	if (c->npend == c->pcap) {
		size_t nc = c->pcap ? c->pcap * 2 : 16;
		void *p = realloc(c->pend, nc * sizeof(*c->pend));

		if (!p)
			return -1;
		c->pend = p;
		c->pcap = nc;
	}
	if (!(s = strndup(text, len)))
		return -1;
	c->pend[c->npend++] = (struct pending){ pid, t, s };
	return 0;
}

static int line(struct conv *c, char *s)
{
	unsigned long pid;
	double t;
	int at = 0;
	char *rest, *u;

	if (sscanf(s, "%lu %lf %n", &pid, &t, &at) != 2 || !at) {
		c->st->unparsed++;
		return 0;
	}
	rest = s + at;
	if (t > c->tmax)
		c->tmax = t;
	if (!strncmp(rest, "+++", 3) || !strncmp(rest, "---", 3))
		return 0;
	if ((u = strstr(rest, " <unfinished ...>")))
		return pending_add(c, pid, t, rest, (size_t)(u - rest));
	if (!strncmp(rest, "<... ", 5)) {
		char *gt = strstr(rest, " resumed>"), *head, *whole;
		double t1;
		int rc;

		if (!gt || !pending_take(c, pid, &t1, &head)) {
			c->st->unparsed++;
			return 0;
		}
		if (asprintf(&whole, "%s%s", head, gt + 9) < 0) {
			free(head);
			return -1;
		}
		free(head);
		rc = call(c, pid, t1, whole);
		free(whole);
		return rc;
	}
	return call(c, pid, t, rest);
}

static int by_time(const void *a, const void *b)
{
	const struct trace_event *x = a, *y = b;

	if (x->t_us != y->t_us)
		return x->t_us < y->t_us ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

int strace_convert(FILE *in, struct trace *t, struct strace_stats *st,
		   char *err, size_t errlen)
{
	struct conv c = { .t = t, .st = st };
	char *buf = malloc(LINE_MAX_);
	int rc = 0;

	memset(t, 0, sizeof(*t));
	memset(st, 0, sizeof(*st));
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (fgets(buf, LINE_MAX_, in)) {
		size_t len = strlen(buf);

		st->lines++;
		if (len && buf[len - 1] == '\n')
			buf[--len] = 0;
		else if (len == LINE_MAX_ - 1) {	/* the rest of a long line */
			int ch;

			while ((ch = fgetc(in)) != EOF && ch != '\n')
				;
		}
		if (line(&c, buf) < 0) {
			snprintf(err, errlen, "out of memory (or more than %u "
				 "events)", TRACE_MAX_EVENTS);
			rc = -1;
			break;
		}
	}
	/* A wait still unfinished at the end (strace detached, -p): the
	 * thread slept from its start to the last line. */
	unsigned long kept = 0;

	for (size_t i = 0; !rc && i < c.npend; i++) {
		char *paren = strchr(c.pend[i].text, '(');
		size_t len = paren ? (size_t)(paren - c.pend[i].text) : 0;

		for (size_t w = 0; len && w < sizeof(waits) / sizeof(waits[0]); w++) {
			struct trace_event e = { .tid = (uint32_t)c.pend[i].pid,
						 .call = TC_block,
						 .why = (uint8_t)waits[w].why };
			double secs = c.tmax - c.pend[i].t;

			if (strlen(waits[w].name) != len ||
			    strncmp(waits[w].name, c.pend[i].text, len))
				continue;
			if (secs * 1e6 >= STRACE_BLOCK_US && c.have_t0) {
				e.t_us = c.pend[i].t > c.t0 ?
					 (uint64_t)((c.pend[i].t - c.t0) * 1e6 + 0.5) : 0;
				e.arg = (uint64_t)(secs * 1e6 + 0.5);
				if (add(&c, &e) < 0)
					rc = -1;
				kept++;
			}
			break;
		}
	}
	st->unmatched = c.npend - kept;
	for (size_t i = 0; i < c.npend; i++)
		free(c.pend[i].text);
	free(c.pend);
	free(buf);
	if (rc) {
		trace_free(t);
		return -1;
	}
	/* The order strace printed them breaks ties: line holds it here. */
	for (size_t i = 0; i < t->n; i++)
		t->ev[i].line = (unsigned)i;
	qsort(t->ev, t->n, sizeof(*t->ev), by_time);
	{
		uint32_t *tids = calloc(t->n ? t->n : 1, sizeof(*tids));

		if (!tids) {
			snprintf(err, errlen, "out of memory");
			trace_free(t);
			return -1;
		}
		for (size_t i = 0; i < t->n; i++) {
			unsigned j = 0;

			t->ev[i].line = 0;
			while (j < t->nthreads && tids[j] != t->ev[i].tid)
				j++;
			if (j == t->nthreads)
				tids[t->nthreads++] = t->ev[i].tid;
		}
		free(tids);
	}
	return 0;
}
