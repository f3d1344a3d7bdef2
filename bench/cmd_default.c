/* SPDX-License-Identifier: MIT */
/* shootdown with no command: munmap on 8 CPUs under broadcast and linux.
 * Options without a command ("shootdown --cpus 4") apply to it. */
#include "cli.h"

int cmd_default(int argc, char **argv)
{
	struct parsed p;

	cli_init(&p, CMD_DEFAULT);
	p.o.workload = "munmap";
	cli_parse(argc, argv, &p);
	if (p.help) {
		cli_help(CMD_DEFAULT, "[OPTIONS]",
			 "With no command: the munmap workload under broadcast and "
			 "linux, side by side\n(a compare with these defaults).\n");
		return 0;
	}
	return cmd_compare_cells(&p, true);
}
