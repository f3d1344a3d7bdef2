/* SPDX-License-Identifier: MIT */
/*
 * A figure over a cell's runs (--repeat): its median, least and greatest.
 * Below both the cells (which run them) and the output (which prints
 * them), so that neither calls the other back.
 */
#include <stdlib.h>
#include <stdio.h>

#include "cli.h"

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct spread cell_spread(const struct cell *c, cell_figure fig,
			  const void *arg)
{
	double v[WL_MAX_REPEAT];
	unsigned n = c->nrep > 1 && c->rep ? c->nrep : 1;
	struct spread s = { .n = n };

	for (unsigned i = 0; i < n; i++)
		v[i] = fig(c, n > 1 ? &c->rep[i] : &c->r, arg);
	qsort(v, n, sizeof(v[0]), cmp_double);
	s.lo = v[0];
	s.hi = v[n - 1];
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	return s;
}

double fig_counter(const struct cell *c, const struct wl_result *r,
		   const void *field)
{
	const struct shd_stat_field *f = field;

	(void)c;
	return (double)*(const uint64_t *)((const char *)&r->stats + f->offset);
}

double fig_ipis_per_op(const struct cell *c, const struct wl_result *r,
		       const void *arg)
{
	(void)c, (void)arg;
	return r->ops ? (double)r->stats.ipis_sent / (double)r->ops : 0.0;
}

double fig_cycles_per_op(const struct cell *c, const struct wl_result *r,
			 const void *arg)
{
	(void)arg;
	return r->ops ? cost_cycles(&c->o->cost, &r->stats) / (double)r->ops :
			0.0;
}

double fig_wall_ms(const struct cell *c, const struct wl_result *r,
		   const void *arg)
{
	(void)c, (void)arg;
	return (double)r->wall_ns / 1e6;
}

bool spread_overlap(struct spread a, struct spread b)
{
	return a.lo <= b.hi && b.lo <= a.hi;
}

void spread_format(char *buf, size_t len, struct spread s, int dec)
{
	if (s.lo == s.hi)
		snprintf(buf, len, "%.*f", dec, s.med);
	else
		snprintf(buf, len, "%.*f (%.*f..%.*f)", dec, s.med, dec, s.lo,
			 dec, s.hi);
}

bool cells_repeated(const struct cell *const *c, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (c[i]->nrep > 1)
			return true;
	return false;
}

