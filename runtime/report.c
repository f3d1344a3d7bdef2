/* SPDX-License-Identifier: MIT */
/* Violation reports: the oracle's and the watchdog's, kept for the caller. */
#include <string.h>

#include "report.h"

void shd__report(struct shd_machine *m, const struct shd_violation *v)
{
	pthread_mutex_lock(&m->viol_lock);
	if (m->nviol < SHD_MAX_VIOLATIONS)
		m->viol[m->nviol] = *v;
	m->nviol++;
	pthread_mutex_unlock(&m->viol_lock);
}

void shd__report_cpu(struct shd_cpu *cpu, const struct shd_violation *v)
{
	cpu->cnt.s.violations++;
	shd__report(cpu->m, v);
}

void shd__violation_init(struct shd_violation *v, const struct shd_machine *m,
			 enum shd_violation_kind kind, unsigned cpu,
			 uint64_t mm_id, uint64_t addr, const char *iface)
{
	memset(v, 0, sizeof(*v));
	v->kind = kind;
	v->cpu = cpu;
	v->mm_id = mm_id;
	v->addr = addr;
	v->interface = iface;
	v->seed = m->cfg.seed;
}

const char *shd_violation_kind_name(enum shd_violation_kind kind)
{
	switch (kind) {
#define SHD_VIOLATION_NAME_(e, name, help) \
	case SHD_VIOLATION_##e: return #name;
	SHD_VIOLATIONS_MAP(SHD_VIOLATION_NAME_)
#undef SHD_VIOLATION_NAME_
	}
	return "unknown";
}

uint64_t shd__violations_count(struct shd_machine *m)
{
	uint64_t n;

	pthread_mutex_lock(&m->viol_lock);
	n = m->nviol;
	pthread_mutex_unlock(&m->viol_lock);
	return n;
}

void shd__violations_reset(struct shd_machine *m)
{
	pthread_mutex_lock(&m->viol_lock);
	m->nviol = 0;
	pthread_mutex_unlock(&m->viol_lock);
}

uint64_t shd_machine_violations(struct shd_machine *m,
				struct shd_violation *out, size_t max)
{
	uint64_t n;

	if (!m)
		return 0;
	pthread_mutex_lock(&m->viol_lock);
	n = m->nviol;
	for (size_t i = 0; out && i < max && i < n && i < SHD_MAX_VIOLATIONS; i++)
		out[i] = m->viol[i];
	pthread_mutex_unlock(&m->viol_lock);
	return n;
}
