/* SPDX-License-Identifier: MIT */
/* shootdown list: workloads and their knobs, policies, architectures, knobs,
 * cost keys, faults, counters: the same tables the help and parsing use. */
#include <inttypes.h>
#include <string.h>

#include "cli.h"

static void list_named_json(const char *section,
			    const struct shd_named *(*table)(size_t *count))
{
	size_t n;
	const struct shd_named *v = table(&n);

	printf(", \"%s\": [", section);
	for (size_t i = 0; i < n; i++) {
		printf("%s{\"name\": ", i ? ", " : "");
		out_json_string(stdout, v[i].name);
		printf(", \"help\": ");
		out_json_string(stdout, v[i].help);
		printf("}");
	}
	printf("]");
}

static void list_workloads_json(void)
{
	size_t n;
	const struct workload *const *w = wl_all(&n);

	printf(", \"workloads\": [");
	for (size_t i = 0; i < n; i++) {
		const struct wl_knob *k = w[i]->knobs;

		printf("%s{\"name\": ", i ? ", " : "");
		out_json_string(stdout, w[i]->name);
		printf(", \"help\": ");
		out_json_string(stdout, w[i]->help);
		printf(", \"default_ops\": %" PRIu64 ", \"min_cpus\": %u, \"knobs\": [",
		       w[i]->default_ops, w[i]->min_cpus);
		for (unsigned j = 0; k && k[j].name; j++) {
			printf("%s{\"name\": ", j ? ", " : "");
			out_json_string(stdout, k[j].name);
			printf(", \"help\": ");
			out_json_string(stdout, k[j].help);
			printf(", \"default\": %" PRIu64 ", \"min\": %" PRIu64
			       ", \"max\": %" PRIu64 "}", k[j].def, k[j].lo, k[j].hi);
		}
		printf("]}");
	}
	printf("]");
}

/* --policy-lib's policies, with their base and knobs. */
static void list_loaded_json(void)
{
	const struct shd_policy_ops *const *l;
	unsigned n = cli_loaded_policies(&l);

	printf(", \"loaded_policies\": [");
	for (unsigned i = 0; i < n; i++) {
		const struct shd_policy_knob *k = l[i]->knobs;

		printf("%s{\"name\": ", i ? ", " : "");
		out_json_string(stdout, l[i]->name);
		printf(", \"help\": ");
		out_json_string(stdout, l[i]->help ? l[i]->help : "");
		printf(", \"base\": ");
		out_json_string(stdout, l[i]->base ? l[i]->base : "linux");
		printf(", \"knobs\": [");
		for (unsigned j = 0; k && k[j].name; j++) {
			printf("%s{\"name\": ", j ? ", " : "");
			out_json_string(stdout, k[j].name);
			printf(", \"help\": ");
			out_json_string(stdout, k[j].help ? k[j].help : "");
			printf(", \"default\": %lld, \"min\": %lld, \"max\": %lld}",
			       (long long)k[j].def, (long long)k[j].min,
			       (long long)k[j].max);
		}
		printf("]}");
	}
	printf("]");
}

static void list_loaded(void)
{
	const struct shd_policy_ops *const *l;
	unsigned n = cli_loaded_policies(&l);

	if (!n)
		return;
	printf("\nloaded policies (--policy-lib; --policy, --policies) and "
	       "their knobs (--set KNOB=N):\n");
	for (unsigned i = 0; i < n; i++) {
		const struct shd_policy_knob *k = l[i]->knobs;

		printf("  %-16s %s (over %s)\n", l[i]->name,
		       l[i]->help ? l[i]->help : "",
		       l[i]->base ? l[i]->base : "linux");
		for (unsigned j = 0; k && k[j].name; j++)
			printf("    %-14s %s (default %lld, %lld..%lld)\n",
			       k[j].name, k[j].help ? k[j].help : "",
			       (long long)k[j].def, (long long)k[j].min,
			       (long long)k[j].max);
	}
}

static void list_json(void)
{
	const char *const *cn, *const *ch;
	size_t n, nc = cost_keys(&cn, &ch);
	const struct shd_stat_field *f;

	printf("{\"schema_version\": %d, \"command\": \"list\", \"program\": "
	       "{\"name\": \"shootdown\", \"version\": \"%s\"}", OUT_SCHEMA_VERSION,
	       SHD_VERSION);
	list_workloads_json();
	printf(", \"cost\": [");
	for (size_t i = 0; i < nc; i++) {
		printf("%s{\"name\": ", i ? ", " : "");
		out_json_string(stdout, cn[i]);
		printf(", \"help\": ");
		out_json_string(stdout, ch[i]);
		printf("}");
	}
	printf("]");
	list_named_json("policies", shd_policy_presets);
	list_loaded_json();
	list_named_json("architectures", shd_arch_presets);
	list_named_json("knobs", shd_policy_knobs);
	list_named_json("faults", shd_faults);
	printf(", \"counters\": [");
	f = shd_stat_fields(&n);
	for (size_t i = 0; i < n; i++) {
		printf("%s{\"name\": \"%s\", \"group\": \"%s\", \"headline\": %s, "
		       "\"help\": ", i ? ", " : "", f[i].name, f[i].group,
		       f[i].flags & SHD_STAT_HEADLINE ? "true" : "false");
		out_json_string(stdout, f[i].help);
		printf("}");
	}
	printf("]}\n");
}

static void list_named(const char *title,
		       const struct shd_named *(*table)(size_t *count), int width)
{
	size_t n;
	const struct shd_named *v = table(&n);

	printf("\n%s\n", title);
	for (size_t i = 0; i < n; i++)
		printf("  %-*s %s\n", width, v[i].name, v[i].help);
}

static void list_table(void)
{
	const char *const *cn, *const *ch;
	size_t n, nc = cost_keys(&cn, &ch);
	const struct workload *const *w = wl_all(&n);
	const struct shd_stat_field *f;

	printf("workloads (--workload) and their knobs (--set KNOB=N):\n");
	for (size_t i = 0; i < n; i++) {
		const struct wl_knob *k = w[i]->knobs;

		if (w[i]->default_ops >= WL_OPS_ALL)	/* a trace: all of it */
			printf("  %-12s %s (default: every event)\n", w[i]->name,
			       w[i]->help);
		else
			printf("  %-12s %s (default --ops %" PRIu64 ")\n",
			       w[i]->name, w[i]->help, w[i]->default_ops);
		for (unsigned j = 0; k && k[j].name; j++)
			printf("    %-14s %s (default %" PRIu64 ", %" PRIu64 "..%"
			       PRIu64 ")\n", k[j].name, k[j].help, k[j].def, k[j].lo,
			       k[j].hi);
	}
	list_named("policies (--policy, --policies):", shd_policy_presets, 16);
	list_loaded();
	list_named("architectures (--arch):", shd_arch_presets, 16);
	list_named("knobs (--set KNOB=VALUE):", shd_policy_knobs, 18);
	printf("\ncost model (--set cost.KEY=CYCLES; reported as modelled_cycles):\n");
	for (size_t i = 0; i < nc; i++)
		printf("  %-18s %s\n", cn[i], ch[i]);
	list_named("faults (--inject FAULT):", shd_faults, 18);
	printf("\ncounters (run --format json; * = always in tables):\n");
	f = shd_stat_fields(&n);
	for (size_t i = 0; i < n; i++)
		printf("  %-22s%c %s\n", f[i].name,
		       f[i].flags & SHD_STAT_HEADLINE ? '*' : ' ', f[i].help);
}

int cmd_list(int argc, char **argv)
{
	struct parsed p;

	if (cli_start(&p, CMD_LIST, argc, argv, "list [--policy-lib FILE[:NAME]].. [--format table|json]",
		      "Workloads and their knobs, policies, architectures, knobs, "
		      "cost keys,\nfaults and counters.\n"))
		return 0;
	if (p.o.format == FMT_JSON)
		list_json();
	else
		list_table();
	return 0;
}
