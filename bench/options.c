/* SPDX-License-Identifier: MIT */
/* Options of the CLI: parsing, the shared option table, --set resolution. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_resolve_sets(struct wl_opts *o, const struct workload *w,
		     char *errtxt, size_t len)
{
	struct shd_policy scratch;

	cost_defaults(&o->cost);
	for (unsigned k = 0; w && w->knobs && w->knobs[k].name; k++)
		o->knob[k] = w->knobs[k].def;
	for (unsigned i = 0; i < o->nsets; i++) {
		char kv[sizeof(o->sets[0])], *key, *val, *end;
		unsigned k;
		int err;

		snprintf(kv, sizeof(kv), "%s", o->sets[i]);
		key = kv;
		val = strchr(kv, '=');
		*val++ = 0;
		if (!strncmp(key, "cost.", 5)) {
			err = cost_set(&o->cost, key, val);
			if (err == -ENOENT)
				snprintf(errtxt, len, "--set: unknown cost key '%s' "
					 "(see 'shootdown list')", key);
			else if (err)
				snprintf(errtxt, len, "--set: %s takes a number of "
					 "cycles in 0..1e9, not '%s'", key, val);
			if (err)
				return -1;
			continue;
		}
		shd_policy_preset("linux", &scratch);
		err = shd_policy_set(&scratch, key, val);
		if (err == 0)
			continue;
		if (err != -ENOENT) {
			snprintf(errtxt, len, "--set: %s", shd_last_error());
			return -1;
		}
		for (k = 0; w && w->knobs && w->knobs[k].name; k++)
			if (!strcmp(w->knobs[k].name, key))
				break;
		if (!w || !w->knobs || !w->knobs[k].name) {
			snprintf(errtxt, len, "--set: unknown knob '%s': not a policy "
				 "knob, a cost.* key or a knob of workload %s (see "
				 "'shootdown list')", key, w ? w->name : "(none)");
			return -1;
		}
		errno = 0;
		o->knob[k] = strtoull(val, &end, 10);
		if (*val < '0' || *val > '9' || *end || errno ||
		    o->knob[k] < w->knobs[k].lo || o->knob[k] > w->knobs[k].hi) {
			snprintf(errtxt, len, "--set: %s=%s: %s takes %" PRIu64 "..%"
				 PRIu64, key, val, key, w->knobs[k].lo, w->knobs[k].hi);
			return -1;
		}
	}
	return 0;
}
