/* SPDX-License-Identifier: MIT */
/* The shootdown CLI: a table of commands (as perf's builtin-*.c), each in
 * its own cmd_<name>.c; with no command, the default comparison. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "host_twins.h"

static const struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	bool perf;			/* --perf re-runs it under perf stat */
	const char *help;
} commands[] = {
	{ "run", cmd_run, true, "run one workload under one policy" },
	{ "compare", cmd_compare, true,
	  "run one workload under several policies and CPU counts" },
	{ "sweep", cmd_sweep, false,
	  "run a workload over a range of one knob; plot, break-even" },
	{ "check", cmd_check, false,
	  "random operations with the oracle on; exit 1 on a violation" },
	{ "minimize", cmd_minimize, false,
	  "shrink a failing check run to a small scenario that still fails" },
	{ "calibrate", cmd_calibrate, false,
	  "measure this host: cache-line and emulated IPI round trips, a "
	  "one-page shootdown, the real kernel's shootdown" },
	{ "host", cmd_host, false,
	  "run a workload's native twin on this host's kernel and compare its "
	  "TLB interrupts with the simulator's" },
	{ "record", cmd_record, false,
	  "run a program under strace and write its mm calls as a trace "
	  "for run --trace" },
	{ "list", cmd_list, false,
	  "workloads, policies, architectures, knobs, faults, counters" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(void)
{
	printf("usage: shootdown [COMMAND] [OPTIONS]\n\n"
	       "A userspace SMP machine for studying TLB shootdowns.\n\n"
	       "commands:\n"
	       "  %-11s munmap workload on 8 CPUs under broadcast and linux, side "
	       "by side;\n  %-11s options without a command apply to it "
	       "(shootdown --cpus 4)\n", "(none)", "");
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *h = commands[i].help;
		size_t len = strlen(h);

		if (len > 64) {		/* wrap once, at a blank */
			size_t cut = 64;

			while (cut && h[cut] != ' ')
				cut--;
			printf("  %-11s %.*s\n  %-11s %s\n", commands[i].name,
			       (int)cut, h, "", h + cut + 1);
		} else {
			printf("  %-11s %s\n", commands[i].name, h);
		}
	}
	printf("\n'shootdown COMMAND --help' lists a command's options; "
	       "'shootdown list' the names.\n"
	       "Exit status: 0 clean, 1 a violation or failed read-back, 2 bad "
	       "input,\n3 the run could not complete (a watchdog fired, memory ran "
	       "out), 130/143\ninterrupted by SIGINT/SIGTERM (runs done are "
	       "printed).  Output: docs/output-schema.md\n");
}

/*
 * --perf on run/compare: re-run this very command under scripts/perf-stat
 * (from the source tree next to the binary, or installed in share/shootdown),
 * which registers the USDT probes and counts them with perf stat.
 */
static void exec_under_perf(int argc, char **argv)
{
	char dir[4096], script[4200], *slash;
	const char *where[] = { "/../scripts/perf-stat", "/../share/shootdown/perf-stat",
				SHD_SOURCE_DIR "/scripts/perf-stat" };
	char **args = calloc((size_t)argc + 2, sizeof(*args));
	int n = 0;

	snprintf(dir, sizeof(dir), "%s", cli_self);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = 0;
	script[0] = 0;
	for (size_t i = 0; i < 3; i++) {
		snprintf(script, sizeof(script), "%s%s", i < 2 ? dir : "", where[i]);
		if (access(script, X_OK) == 0)
			break;
		script[0] = 0;
	}
	if (!script[0] || !args)
		usage_error("--perf needs scripts/perf-stat (in the source tree next "
			    "to the build, or installed in share/shootdown)");
	args[n++] = script;
	args[n++] = cli_self;
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--perf"))
			args[n++] = argv[i];
	args[n] = NULL;
	fflush(NULL);
	execv(script, args);
	fprintf(stderr, "%s: --perf: cannot run %s: %s\n", cli_prog, script,
		strerror(errno));
	exit(EXIT_INCOMPLETE);
}

__attribute__((noreturn))
static void unknown_command(const char *cmd)
{
	const char *names[NCOMMANDS];
	const char *s;

	for (size_t i = 0; i < NCOMMANDS; i++)
		names[i] = commands[i].name;
	s = cli_suggest(cmd, names, NCOMMANDS);
	if (s)
		usage_error("unknown command '%s'; did you mean '%s'? (--help)",
			    cmd, s);
	usage_error("unknown command '%s' (commands: run, compare, sweep, check, "
		    "minimize, calibrate, host, record, list; --help)", cmd);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;
	ssize_t k;

	/* shootdown host's exec twin re-executes this binary (host_twins.c). */
	if (cmd && !strcmp(cmd, TWIN_EXEC_ARG))
		twin_exec_image(argc, argv);
	k = readlink("/proc/self/exe", cli_self, sizeof(cli_self) - 1);

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (k > 0)
		cli_self[k] = 0;
	if (cmd && (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") ||
		    !strcmp(cmd, "help"))) {
		print_help();
		return 0;
	}
	if (cmd && !strcmp(cmd, "--version")) {
		printf("shootdown %s\n", SHD_VERSION);
		return 0;
	}
	if (!cmd || !strncmp(cmd, "--", 2))	/* options alone: the default */
		return cmd_default(argc - 1, argv + 1);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		if (strcmp(cmd, commands[i].name))
			continue;
		for (int a = 2; commands[i].perf && a < argc; a++)
			if (!strcmp(argv[a], "--perf"))
				exec_under_perf(argc, argv);
		return commands[i].fn(argc - 2, argv + 2);
	}
	unknown_command(cmd);
}
