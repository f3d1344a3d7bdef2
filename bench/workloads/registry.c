/* SPDX-License-Identifier: MIT */
/* The workload registry: the X-macro list of registry.h as a table. */
#include <string.h>

#include "workload.h"
#include "registry.h"

#define WL_ENTRY(name) &wl_def_##name,
static const struct workload *const registry[] = { WL_REGISTRY(WL_ENTRY) };
#undef WL_ENTRY

const struct workload *const *wl_all(size_t *count)
{
	*count = sizeof(registry) / sizeof(registry[0]);
	return registry;
}

const struct workload *wl_find(const char *name)
{
	for (size_t i = 0; name && i < sizeof(registry) / sizeof(registry[0]); i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}
