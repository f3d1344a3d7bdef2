/* SPDX-License-Identifier: MIT */
/* --policy-lib: policies written in C, loaded with dlopen(); a hook's crash. */

/*
 * A library is opened once per --policy-lib (RTLD_NOW: a missing symbol
 * fails here, not in the middle of a flush) and never closed: machines
 * keep pointers into its table until the process ends.  The library
 * checks the table (shd_policy_ops_check()); the names of loaded policies
 * then stand beside the presets wherever the command line takes one.
 *
 * A crash inside a hook runs on a CPU's thread, deep in the engine.  The
 * library marks each hook call (shd_policy_hook_where()); the handler
 * here reads that marker, writes one line with write(2) (async-signal-
 * safe) and ends the process with status 2: the input — the policy — is
 * at fault, not the run.  A crash outside any hook is the program's own:
 * the handler restores the default action and returns, so the faulting
 * instruction runs again and the process dies as it would have.
 *
 * A hook that answers outside its enum is taken at the base's word; at
 * exit one line names the first such answer (shd_policy_hook_bad_verdict()),
 * the exit status unchanged: the figures are the base's at those points.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <shootdown/policy_ops.h>
#include "cli.h"

static const struct shd_policy_ops *loaded[CLI_MAX_LOADED];
static unsigned nloaded;

static size_t put(char *buf, size_t at, size_t len, const char *s)
{
	while (*s && at + 1 < len)
		buf[at++] = *s++;
	return at;
}

static void hook_crash(int sig)
{
	const char *policy, *hook, *what;
	unsigned cpu;
	char line[256], num[16];
	size_t at = 0, n = 0;

	if (!shd_policy_hook_where(&policy, &hook, &cpu)) {
		signal(sig, SIG_DFL);	/* not a hook's: die as before */
		return;
	}
	what = sig == SIGSEGV ? "SIGSEGV" : sig == SIGBUS ? "SIGBUS" :
	       sig == SIGFPE ? "SIGFPE" : "SIGILL";
	do
		num[n++] = (char)('0' + cpu % 10);
	while ((cpu /= 10) && n < sizeof(num));
	at = put(line, at, sizeof(line), "shootdown: policy ");
	at = put(line, at, sizeof(line), policy);
	at = put(line, at, sizeof(line), " crashed in hook ");
	at = put(line, at, sizeof(line), hook);
	at = put(line, at, sizeof(line), " on cpu ");
	while (n && at + 1 < sizeof(line))
		line[at++] = num[--n];
	at = put(line, at, sizeof(line), " (");
	at = put(line, at, sizeof(line), what);
	at = put(line, at, sizeof(line), ")\n");
	if (write(2, line, at) < 0)
		_exit(EXIT_USAGE);
	_exit(EXIT_USAGE);
}

static void catch_hook_crashes(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL };
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = hook_crash;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static void report_bad_verdict(void)
{
	const char *policy, *hook;
	int value;

	if (shd_policy_hook_bad_verdict(&policy, &hook, &value))
		fprintf(stderr, "shootdown: policy %s: hook %s returned %d, "
			"not one of its verdicts; the base's answer was used "
			"instead\n", policy, hook, value);
}

/* SPEC is PATH or PATH:NAME; NAME, when given, is a policy name. */
static void split_spec(const char *spec, char *path, size_t plen, char *name,
		       size_t nlen)
{
	const char *colon = strrchr(spec, ':');

	name[0] = 0;
	if (colon && colon[1] && strspn(colon + 1, "abcdefghijklmnopqrstuvwxyz"
				       "0123456789_") == strlen(colon + 1)) {
		if ((size_t)(colon - spec) >= plen || strlen(colon + 1) >= nlen)
			usage_error("--policy-lib: '%.60s' is too long", spec);
		snprintf(path, plen, "%.*s", (int)(colon - spec), spec);
		snprintf(name, nlen, "%s", colon + 1);
	} else {
		if (strlen(spec) >= plen)
			usage_error("--policy-lib: '%.60s' is too long", spec);
		snprintf(path, plen, "%s", spec);
	}
	if (!path[0])
		usage_error("--policy-lib: '%s' names no file", spec);
}

void cli_policy_lib(const char *spec)
{
	char path[4096], name[64], sym[96];
	const struct shd_policy_ops *ops;
	void *h;

	split_spec(spec, path, sizeof(path), name, sizeof(name));
	snprintf(sym, sizeof(sym), "shd_policy_ops%s%s", name[0] ? "_" : "", name);
	/* dlopen() looks a name without a slash up in the library path:
	 * the user means the file. */
	if (!strchr(path, '/'))
		memmove(path + 2, path, strlen(path) + 1), memcpy(path, "./", 2);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		usage_error("--policy-lib: cannot load %s: %s", spec, dlerror());
	dlerror();
	ops = dlsym(h, sym);
	if (!ops)
		usage_error("--policy-lib: %s has no symbol %s (a policy exports "
			    "'const struct shd_policy_ops %s'; see "
			    "<shootdown/policy_ops.h>)", path, sym, sym);
	if (shd_policy_ops_check(ops) < 0)
		usage_error("--policy-lib: %s: %s", spec, shd_last_error());
	if (name[0] && strcmp(ops->name, name))
		usage_error("--policy-lib: %s: symbol %s holds policy '%s', not "
			    "'%s'", path, sym, ops->name, name);
	for (unsigned i = 0; i < nloaded; i++)
		if (!strcmp(loaded[i]->name, ops->name)) {
			if (loaded[i] == ops)
				return;		/* the same library twice */
			usage_error("--policy-lib: two libraries define policy "
				    "'%s'", ops->name);
		}
	if (nloaded == CLI_MAX_LOADED)
		usage_error("--policy-lib: at most %d policies", CLI_MAX_LOADED);
	loaded[nloaded++] = ops;
	catch_hook_crashes();
	if (nloaded == 1)
		atexit(report_bad_verdict);
}

const struct shd_policy_ops *cli_loaded_policy(const char *name)
{
	for (unsigned i = 0; name && i < nloaded; i++)
		if (!strcmp(loaded[i]->name, name))
			return loaded[i];
	return NULL;
}

unsigned cli_loaded_policies(const struct shd_policy_ops *const **all)
{
	*all = loaded;
	return nloaded;
}
