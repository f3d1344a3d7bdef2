/* SPDX-License-Identifier: MIT */
/* shootdown with no command: munmap on 8 CPUs under broadcast and linux.
 * Options without a command ("shootdown --cpus 4") apply to it. */
#include "cli.h"

int cmd_default(int argc, char **argv)
{
	struct parsed p;

	if (cli_start(&p, CMD_DEFAULT, argc, argv, "[OPTIONS]",
		      "With no command: the munmap workload under broadcast and "
		      "linux, side by side\n(a compare with these defaults).\n"))
		return 0;
	if (!p.o.workload)
		p.o.workload = "munmap";
	return cmd_compare_cells(&p, true);
}
