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

/* Seconds strace may take to detach after --duration's SIGINT. */
#define RECORD_DETACH_S 10

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

/* Run strace -o TMP -- ARGV, or attached to PID (for SECS seconds, 0:
 * until ^C or its end); strace's wait status (the program's), or -1. */
static int run_strace(const char *strace, const char *tmp, unsigned pid_to,
		      unsigned secs, int argc, char **argv)
{
	static const char *const opts[] = {
		"strace", "-f", "-ttt", "-T", "-qq", "-X", "raw", "-e",
		"trace=%memory,%process,futex,wait4,waitid,nanosleep,"
		"clock_nanosleep,poll,ppoll,select,pselect6,epoll_wait,"
		"epoll_pwait,epoll_pwait2", "-e", "signal=none", "-o",
	};
	size_t no = sizeof(opts) / sizeof(opts[0]);
	char **args = calloc(no + (size_t)argc + 4, sizeof(*args)), pidbuf[16];
	struct sigaction ign = { .sa_handler = SIG_IGN }, oint, oterm;
	pid_t pid;
	int st;

	if (!args)
		return -1;
	for (size_t i = 0; i < no; i++)
		args[i] = (char *)opts[i];
	args[no] = (char *)tmp;
	if (pid_to) {
		snprintf(pidbuf, sizeof(pidbuf), "%u", pid_to);
		args[no + 1] = "-p";
		args[no + 2] = pidbuf;
	} else {
		args[no + 1] = "--";
		for (int i = 0; i < argc; i++)
			args[no + 2 + i] = argv[i];
	}
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
	if (pid > 0 && secs) {	/* then detach strace: SIGINT */
		struct timespec ts = { 0, 50 * 1000 * 1000 };

		for (unsigned long i = 0; i < secs * 20ul; i++) {
			if (waitpid(pid, &st, WNOHANG) == pid)
				goto done;
			nanosleep(&ts, NULL);
		}
		kill(pid, SIGINT);
		/* strace detaches from every tracee first; one caught
		 * mid-fork or exiting can keep it waiting.  Bounded: after
		 * RECORD_DETACH_S it is killed, and the kernel detaches them
		 * (the program goes on running), said on stderr. */
		for (unsigned i = 0; i < RECORD_DETACH_S * 20u; i++) {
			if (waitpid(pid, &st, WNOHANG) == pid)
				goto done;
			nanosleep(&ts, NULL);
		}
		fprintf(stderr, "%s: record: strace did not detach within %u s "
			"of SIGINT; killed it (its last calls may be missing)\n",
			cli_prog, RECORD_DETACH_S);
		kill(pid, SIGKILL);
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		st = 0;		/* the recording ends as asked */
		goto done;
	}
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
done:
	sigaction(SIGINT, &oint, NULL);
	sigaction(SIGTERM, &oterm, NULL);
	return pid > 0 ? st : -1;
}

/* /proc/PID/maps as mmap events by PID at time 0, into PRE (read just
 * before strace attaches: the replay needs the ranges its calls later
 * unmap or change).  The kernel's own ([vdso], [vvar], [vsyscall]) are
 * left out.  0, or -1 (cannot read it). */
static int maps_events(unsigned pid, struct trace *pre)
{
	char path[64], line[4096];
	FILE *f;
	size_t n = 0, cap = 64;
	struct trace_event *ev = malloc(cap * sizeof(*ev));

	snprintf(path, sizeof(path), "/proc/%u/maps", pid);
	if (!ev || !(f = fopen(path, "r"))) {
		free(ev);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long s, e, ino;
		char perms[8], name[4096] = "";
		struct trace_event x = { .tid = pid, .call = TC_mmap,
					 .has_ret = true };

		if (sscanf(line, "%llx-%llx %7s %*s %*s %llu %4095s", &s, &e,
			   perms, &ino, name) < 4 || e <= s)
			continue;
		if (!strcmp(name, "[vdso]") || !strcmp(name, "[vvar]") ||
		    !strcmp(name, "[vsyscall]") || !strcmp(name, "[vvar_vclock]"))
			continue;
		x.addr = x.ret = s;
		x.len = e - s;
		x.prot = (uint8_t)((perms[0] == 'r' ? TP_R : 0) |
				   (perms[1] == 'w' ? TP_W : 0) |
				   (perms[2] == 'x' ? TP_X : 0));
		x.flags = (uint16_t)((perms[3] == 's' ? TF_SHARED : TF_PRIVATE) |
				     TF_FIXED | (ino ? 0 : TF_ANON));
		if (n == cap) {
			void *q = realloc(ev, 2 * cap * sizeof(*ev));

			if (!q)
				break;
			ev = q;
			cap *= 2;
		}
		ev[n++] = x;
	}
	fclose(f);
	pre->ev = ev;
	pre->n = n;
	return 0;
}

/* PRE's events (time 0) before T's: 0, or -1 (out of memory). */
static int prepend(struct trace *t, struct trace *pre)
{
	struct trace_event *ev;

	if (!pre->n)
		return 0;
	if (!(ev = realloc(pre->ev, (pre->n + t->n) * sizeof(*ev))))
		return -1;
	if (t->n)
		memcpy(ev + pre->n, t->ev, t->n * sizeof(*ev));
	free(t->ev);
	t->ev = ev;
	t->n += pre->n;
	pre->ev = NULL;
	pre->n = 0;
	if (!t->nthreads)
		t->nthreads = 1;
	return 0;
}

/* The command line of PID, as words, into BUF. */
static void pid_command(unsigned pid, char *buf, size_t len)
{
	char path[64], raw[1024];
	size_t got = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	if ((f = fopen(path, "r"))) {
		got = fread(raw, 1, sizeof(raw) - 1, f);
		fclose(f);
	}
	for (size_t i = 0; i + 1 < got; i++)
		if (!raw[i])
			raw[i] = ' ';
	raw[got] = 0;
	snprintf(buf, len, "attached to pid %u: %s", pid, got ? raw : "?");
	for (char *s = buf; *s; s++)
		if (*s == '\n' || *s == '\r')
			*s = ' ';
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
	struct trace t, pre = { 0 };
	struct strace_stats ss;
	size_t traced;
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
		opts[nopt++] = !strcmp(argv[i], "-o") ? "--output" :
			       !strcmp(argv[i], "-p") ? "--pid" : argv[i];
	}
	if (cli_start(&p, CMD_RECORD, nopt, opts,
		      "record [-o FILE] -- COMMAND [ARGS...]\n"
		      "       shootdown record [-o FILE] --pid PID [--duration S]",
		      "Runs COMMAND under strace and writes its memory-management "
		      "calls (mmap,\nmunmap, mprotect, madvise, mremap, brk, "
		      "clone, execve, exit) and the waits\nit slept in (futex, "
		      "wait4, poll...: 20 us or more) with thread ids and\ntimes "
		      "to FILE (docs/trace-format.md); 'shootdown run --trace "
		      "FILE' replays\nthem.  Exits with COMMAND's status.  With "
		      "--pid, attaches to a running\nprocess and all its threads "
		      "(a production box's) until ^C or --duration.\n")) {
		free(opts);
		return 0;
	}
	free(opts);
	if (p.record_pid && dash >= 0)
		usage_error("record takes a command or --pid, not both");
	if (!p.record_pid && (dash < 0 || dash + 1 >= argc))
		usage_error("record needs a command: record [-o FILE] -- COMMAND "
			    "[ARGS...] (or --pid PID)");
	if (!p.record_pid && p.record_s)
		usage_error("--duration is for --pid (a command is recorded to "
			    "its end)");
	ncmd = p.record_pid ? 0 : argc - dash - 1;
	argv += dash + 1;
	if (!on_path("strace", strace, sizeof(strace)))
		usage_error("record runs the program under strace, which is not "
			    "installed (Debian: apt-get install strace)");
	if (p.record_pid) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%u/maps", p.record_pid);
		if (access(path, R_OK))
			usage_error("record: no process %u to attach to (%s: %s)",
				    p.record_pid, path, strerror(errno));
	} else if (!on_path(argv[0], prog, sizeof(prog))) {
		usage_error("record: cannot find the command '%s'", argv[0]);
	}
	if (p.output)
		snprintf(out, sizeof(out), "%s", p.output);
	else if (p.record_pid)
		snprintf(out, sizeof(out), "pid-%u.trace", p.record_pid);
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
	if (p.record_pid) {
		pid_command(p.record_pid, cmdline, sizeof(cmdline));
		if (maps_events(p.record_pid, &pre) < 0)
			fprintf(stderr, "%s: record: pid %u's mappings could not "
				"be read: calls on them will be skipped\n",
				cli_prog, p.record_pid);
		fprintf(stderr, "%s: record: attaching to pid %u; %s\n", cli_prog,
			p.record_pid, p.record_s ? "recording for --duration" :
			"^C stops (the process goes on)");
	}
	st = run_strace(strace, tmp, p.record_pid, p.record_s, ncmd, argv);
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
	traced = t.n;
	if (prepend(&t, &pre) < 0) {
		fprintf(stderr, "%s: record: out of memory\n", cli_prog);
		trace_free(&pre);
		trace_free(&t);
		fclose(f);
		return EXIT_INCOMPLETE;
	}
	if (!p.record_pid)
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
	if (p.record_pid) {
		/* Attached: strace's own status says nothing of the program. */
		code = traced ? 0 : EXIT_INCOMPLETE;
		fprintf(stderr, "); detached from pid %u%s\n", p.record_pid,
			traced ? "" : ": strace saw no call (could it attach? "
			"see above; /proc/sys/kernel/yama/ptrace_scope)");
	} else if (WIFSIGNALED(st))
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
