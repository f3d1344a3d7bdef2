/* SPDX-License-Identifier: MIT */
/* shootdown record: a program's memory-management calls, under strace. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "strace.h"

/* PROG on $PATH (or PROG itself when it has a slash) into BUF: true if
 * it is there and executable. */
static bool on_path(const char *prog, char *buf, size_t len)
{
	const char *path = getenv("PATH");

	if (strchr(prog, '/')) {
		snprintf(buf, len, "%s", prog);
		return access(buf, X_OK) == 0;
	}
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);

		snprintf(buf, len, "%.*s/%s", (int)n, n ? path : ".", prog);
		if (access(buf, X_OK) == 0)
			return true;
		path += n + (colon ? 1 : 0);
	}
	return false;
}

/* ARGV as shell words, for the header and the messages. */
static void words(char *buf, size_t len, int argc, char **argv)
{
	size_t at = 0;

	buf[0] = 0;
	for (int i = 0; i < argc && at < len; i++) {
		bool q = strpbrk(argv[i], " '\"$\\\t\n") || !*argv[i];
		int k = snprintf(buf + at, len - at, "%s%s%s%s", i ? " " : "",
				 q ? "'" : "", argv[i], q ? "'" : "");

		if (k < 0)
			break;
		at += (size_t)k;
	}
	for (char *s = buf; *s; s++)	/* one header line */
		if (*s == '\n' || *s == '\r')
			*s = ' ';
}

/* Run strace -o TMP -- ARGV; the program's wait status, or -1. */
static int run_strace(const char *strace, const char *tmp, int argc,
		      char **argv)
{
	static const char *const opts[] = {
		"strace", "-f", "-ttt", "-T", "-qq", "-X", "raw", "-e",
		"trace=%memory,%process,futex,wait4,waitid,nanosleep,"
		"clock_nanosleep,poll,ppoll,select,pselect6,epoll_wait,"
		"epoll_pwait,epoll_pwait2", "-e", "signal=none", "-o",
	};
	size_t no = sizeof(opts) / sizeof(opts[0]);
	char **args = calloc(no + (size_t)argc + 3, sizeof(*args));
	struct sigaction ign = { .sa_handler = SIG_IGN }, oint, oterm;
	pid_t pid;
	int st;

	if (!args)
		return -1;
	for (size_t i = 0; i < no; i++)
		args[i] = (char *)opts[i];
	args[no] = (char *)tmp;
	args[no + 1] = "--";
	for (int i = 0; i < argc; i++)
		args[no + 2 + i] = argv[i];
	fflush(NULL);
	/* ^C goes to the program (our process group): wait for it. */
	sigaction(SIGINT, &ign, &oint);
	sigaction(SIGTERM, &ign, &oterm);
	pid = fork();
	if (pid == 0) {
		sigaction(SIGINT, &oint, NULL);
		sigaction(SIGTERM, &oterm, NULL);
		execv(strace, args);
		fprintf(stderr, "%s: record: cannot run %s: %s\n", cli_prog,
			strace, strerror(errno));
		_exit(127);
	}
	free(args);
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	return pid > 0 ? st : -1;
}

static void default_output(char *buf, size_t len, const char *cmd)
{
	const char *base = strrchr(cmd, '/');

	snprintf(buf, len, "%s.trace", base ? base + 1 : cmd);
}

int cmd_record(int argc, char **argv)
{
	struct parsed p;
	char **opts = calloc((size_t)argc + 1, sizeof(*opts));
	int nopt = 0, dash = -1, ncmd, st, code;
	char strace[4096], prog[4096], out[4096], cmdline[1024], tmp[] =
		"/tmp/shootdown-record-XXXXXX", err[1024], note[1024];
	struct trace t;
	struct strace_stats ss;
	struct utsname u;
	unsigned long per[TC__COUNT] = { 0 };
	time_t now = time(NULL);
	struct tm tm;
	FILE *in, *f;
	int fd;

	if (!opts)
		usage_error("out of memory");
	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			dash = i;
			break;
		}
		opts[nopt++] = !strcmp(argv[i], "-o") ? "--output" : argv[i];
	}
	if (cli_start(&p, CMD_RECORD, nopt, opts,
		      "record [-o FILE] -- COMMAND [ARGS...]",
		      "Runs COMMAND under strace and writes its memory-management "
		      "calls (mmap,\nmunmap, mprotect, madvise, mremap, brk, "
		      "clone, execve, exit) and the waits\nit slept in (futex, "
		      "wait4, poll...: 20 us or more) with thread ids and\ntimes "
		      "to FILE (docs/trace-format.md); 'shootdown run --trace "
		      "FILE' replays\nthem.  Exits with COMMAND's status.\n")) {
		free(opts);
		return 0;
	}
	free(opts);
	if (dash < 0 || dash + 1 >= argc)
		usage_error("record needs a command: record [-o FILE] -- COMMAND "
			    "[ARGS...]");
	ncmd = argc - dash - 1;
	argv += dash + 1;
	if (!on_path("strace", strace, sizeof(strace)))
		usage_error("record runs the program under strace, which is not "
			    "installed (Debian: apt-get install strace)");
	if (!on_path(argv[0], prog, sizeof(prog)))
		usage_error("record: cannot find the command '%s'", argv[0]);
	if (p.output)
		snprintf(out, sizeof(out), "%s", p.output);
	else
		default_output(out, sizeof(out), argv[0]);
	f = fopen(out, "w");		/* before the run: fail early */
	if (!f)
		usage_error("record: cannot write %s: %s", out, strerror(errno));
	if ((fd = mkstemp(tmp)) < 0) {
		fclose(f);
		usage_error("record: cannot create a file in /tmp: %s",
			    strerror(errno));
	}
	close(fd);
	st = run_strace(strace, tmp, ncmd, argv);
	in = fopen(tmp, "r");
	if (st < 0 || !in) {
		fprintf(stderr, "%s: record: strace did not run\n", cli_prog);
		if (in)
			fclose(in);
		fclose(f);
		unlink(tmp);
		return EXIT_INCOMPLETE;
	}
	if (strace_convert(in, &t, &ss, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s: record: %s\n", cli_prog, err);
		fclose(in);
		fclose(f);
		unlink(tmp);
		return EXIT_INCOMPLETE;
	}
	fclose(in);
	unlink(tmp);
	words(cmdline, sizeof(cmdline), ncmd, argv);
	uname(&u);
	gmtime_r(&now, &tm);
	snprintf(note, sizeof(note),
		 "# recorded: %04d-%02d-%02dT%02d:%02dZ on %s %s %s, %ld CPUs, "
		 "by strace -f -ttt -T -X raw (mm, process and wait calls)\n"
		 "# page faults: not recorded (the replay touches pages by "
		 "the rule of docs/trace-format.md)\n",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, u.sysname, u.release, u.machine,
		 sysconf(_SC_NPROCESSORS_ONLN));
	trace_write_header(f, cmdline, note);
	for (size_t i = 0; i < t.n; i++) {
		trace_write_event(f, &t.ev[i]);
		per[t.ev[i].call]++;
	}
	if (fclose(f)) {
		fprintf(stderr, "%s: record: writing %s: %s\n", cli_prog, out,
			strerror(errno));
		trace_free(&t);
		return EXIT_INCOMPLETE;
	}
	code = WIFEXITED(st) ? WEXITSTATUS(st) :
	       WIFSIGNALED(st) ? 128 + WTERMSIG(st) : EXIT_INCOMPLETE;
	fprintf(stderr, "%s: record: %zu events from %u threads in %s (", cli_prog,
		t.n, t.nthreads, out);
	for (unsigned c = 0, first = 1; c < TC__COUNT; c++)
		if (per[c]) {
			fprintf(stderr, "%s%s %lu", first ? "" : ", ",
				trace_call_name(c), per[c]);
			first = 0;
		}
	if (WIFSIGNALED(st))
		fprintf(stderr, "); %s was killed by signal %d (%s): exit %d%s\n",
			argv[0], WTERMSIG(st), strsignal(WTERMSIG(st)), code,
			!t.n ? "; no events (did it run?)" : "");
	else
		fprintf(stderr, "); %s exited with %d%s\n", argv[0], code,
			!t.n ? ": no events (did it run?)" : "");
	if (ss.unparsed || ss.unmatched)
		fprintf(stderr, "%s: record: %lu strace lines not understood, "
			"%lu calls never finished (left out)\n", cli_prog,
			ss.unparsed, ss.unmatched);
	if (t.n)
		fprintf(stderr, "%s: replay it: %s run --trace %s\n", cli_prog,
			cli_prog, out);
	trace_free(&t);
	return code;
}
