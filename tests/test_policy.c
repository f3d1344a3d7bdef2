/* SPDX-License-Identifier: MIT */
/* Tests of the flush policies: presets, knob parsing, the pure decisions. */
#include "shd_test.h"
#include "../policy/decide.h"

static struct shd_policy preset(const char *name)
{
	struct shd_policy p;

	memset(&p, 0xa5, sizeof(p));
	cr_assert_eq(shd_policy_preset(name, &p), 0, "preset %s: %s", name,
		     shd_last_error());
	return p;
}

/* ---- presets ---- */

Test(policy, presets_broadcast_and_linux_exist_and_differ)
{
	struct shd_policy b = preset("broadcast"), l = preset("linux");

	cr_assert_str_eq(b.name, "broadcast");
	cr_assert_str_eq(l.name, "linux");
	/* broadcast: none of the optimisations; linux: all of them. */
	cr_assert(!b.prune && !b.lazy && !b.gen && !b.coalesce && !b.concurrent);
	cr_assert(l.prune && l.lazy && l.gen && l.coalesce && l.concurrent);
	cr_assert_eq(b.ceiling, 33);
	cr_assert_eq(l.ceiling, 33);
}

Test(policy, linux_6_12_is_linux_with_the_5_13_switch)
{
	struct shd_policy l = preset("linux-6.12"), n = preset("linux");

	cr_assert_eq(l.switch_mm, SHD_SWITCH_5_13, "linux-6.12's switch_mm changed");
	cr_assert_eq(n.switch_mm, SHD_SWITCH_6_13);
	n.switch_mm = SHD_SWITCH_5_13;
	memcpy(n.name, l.name, sizeof(n.name));
	cr_assert_eq(memcmp(&l, &n, sizeof(l)), 0, "linux-6.12 differs in more");
	cr_assert_eq(shd_policy_set(&l, "switch", "6.13"), 0);
	cr_assert_eq(l.switch_mm, SHD_SWITCH_6_13);
	cr_assert_eq(shd_policy_set(&l, "switch", "6.14"), -EINVAL);
	cr_assert_not_null(strstr(shd_last_error(), "6.13"));
	cr_assert_eq(l.switch_mm, SHD_SWITCH_6_13);
}

Test(policy, preset_listing_names_every_preset_with_help)
{
	size_t n = 0;
	const struct shd_named *p = shd_policy_presets(&n);
	bool seen_b = false, seen_l = false;

	cr_assert_geq(n, 2);
	for (size_t i = 0; i < n; i++) {
		struct shd_policy tmp;

		cr_assert_not_null(p[i].name);
		cr_assert_str_not_empty(p[i].help);
		cr_assert_eq(shd_policy_preset(p[i].name, &tmp), 0,
			     "listed preset '%s' cannot be loaded", p[i].name);
		cr_assert_str_eq(tmp.name, p[i].name);
		seen_b |= strcmp(p[i].name, "broadcast") == 0;
		seen_l |= strcmp(p[i].name, "linux") == 0;
	}
	cr_assert(seen_b && seen_l);
}

Test(policy, unknown_preset_is_enoent_with_a_message)
{
	struct shd_policy p = preset("linux"), before = p;

	cr_assert_eq(shd_policy_preset("fastest", &p), -ENOENT);
	cr_assert_str_not_empty(shd_last_error());
	cr_assert_not_null(strstr(shd_last_error(), "fastest"),
			   "error does not name the preset: %s", shd_last_error());
	cr_assert_eq(memcmp(&p, &before, sizeof(p)), 0, "policy was changed");
	cr_assert_eq(shd_policy_preset(NULL, &p), -ENOENT);
	cr_assert_eq(shd_policy_preset("", &p), -ENOENT);
	cr_assert_eq(shd_policy_preset("Linux", &p), -ENOENT);
}

Test(policy, the_default_config_uses_the_linux_preset)
{
	struct shd_config c;
	struct shd_policy l = preset("linux");

	shd_config_init(&c);
	cr_assert_eq(memcmp(&c.policy, &l, sizeof(l)), 0);
}

/* ---- shd_policy_set ---- */

Test(policy, set_accepts_every_spelling_of_on_and_off)
{
	static const char *const on[] = { "on", "1", "true" };
	static const char *const off[] = { "off", "0", "false" };
	struct shd_policy p = preset("broadcast");

	for (size_t i = 0; i < 3; i++) {
		cr_assert_eq(shd_policy_set(&p, "prune", on[i]), 0, "%s", on[i]);
		cr_assert(p.prune, "prune=%s did not switch it on", on[i]);
		cr_assert_eq(shd_policy_set(&p, "prune", off[i]), 0, "%s", off[i]);
		cr_assert(!p.prune, "prune=%s did not switch it off", off[i]);
	}
}

Test(policy, set_reaches_each_knob_and_only_that_knob)
{
	struct {
		const char *key;
		size_t off;
	} k[] = {
		{ "prune", offsetof(struct shd_policy, prune) },
		{ "lazy", offsetof(struct shd_policy, lazy) },
		{ "gen", offsetof(struct shd_policy, gen) },
		{ "coalesce", offsetof(struct shd_policy, coalesce) },
		{ "concurrent", offsetof(struct shd_policy, concurrent) },
	};

	for (size_t i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		struct shd_policy p = preset("linux"), want = p;

		cr_assert_eq(shd_policy_set(&p, k[i].key, "off"), 0, "%s: %s",
			     k[i].key, shd_last_error());
		*(bool *)((char *)&want + k[i].off) = false;
		cr_assert_eq(memcmp(&p, &want, sizeof(p)), 0,
			     "%s=off changed the wrong knob", k[i].key);
	}
}

Test(policy, set_parses_the_ceiling_as_a_page_count)
{
	struct shd_policy p = preset("linux");
	char max[32];

	cr_assert_eq(shd_policy_set(&p, "ceiling", "0"), 0);
	cr_assert_eq(p.ceiling, 0);
	cr_assert_eq(shd_policy_set(&p, "ceiling", "64"), 0);
	cr_assert_eq(p.ceiling, 64);
	snprintf(max, sizeof(max), "%u", SHD_CEILING_MAX);
	cr_assert_eq(shd_policy_set(&p, "ceiling", max), 0);
	cr_assert_eq(p.ceiling, SHD_CEILING_MAX);
}

Test(policy, set_rejects_bad_ceilings_and_keeps_the_old_value)
{
	static const char *const bad[] = {
		"", "-1", "abc", "12x", "16777217", "99999999999999999999",
		"0x10", "on",
	};
	struct shd_policy p = preset("linux");

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(shd_policy_set(&p, "ceiling", bad[i]), -EINVAL,
			     "ceiling '%s' accepted", bad[i]);
		cr_assert_str_not_empty(shd_last_error());
		cr_assert_eq(p.ceiling, 33, "ceiling '%s' changed it to %u",
			     bad[i], p.ceiling);
	}
}

Test(policy, set_rejects_unknown_keys_with_enoent)
{
	struct shd_policy p = preset("linux"), before = p;

	cr_assert_eq(shd_policy_set(&p, "pruning", "on"), -ENOENT);
	cr_assert_not_null(strstr(shd_last_error(), "pruning"),
			   "error does not name the key: '%s'", shd_last_error());
	cr_assert_eq(shd_policy_set(&p, "", "on"), -ENOENT);
	cr_assert_eq(shd_policy_set(&p, "name", "x"), -ENOENT);
	cr_assert_eq(shd_policy_set(&p, "PRUNE", "on"), -ENOENT);
	cr_assert_eq(memcmp(&p, &before, sizeof(p)), 0);
}

Test(policy, set_rejects_bad_switch_values_with_einval)
{
	static const char *const bad[] = { "", "maybe", "2", "On ", "-1" };
	struct shd_policy p = preset("linux"), before = p;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(shd_policy_set(&p, "lazy", bad[i]), -EINVAL,
			     "lazy='%s' accepted", bad[i]);
		cr_assert_str_not_empty(shd_last_error());
	}
	cr_assert_eq(shd_policy_set(&p, NULL, "on"), -EINVAL);
	cr_assert_eq(shd_policy_set(&p, "lazy", NULL), -EINVAL);
	cr_assert_eq(memcmp(&p, &before, sizeof(p)), 0);
}

Test(policy, every_listed_knob_can_be_set)
{
	size_t n = 0;
	const struct shd_named *k = shd_policy_knobs(&n);

	cr_assert_eq(n, 25);
	for (size_t i = 0; i < n; i++) {
		struct shd_policy p = preset("linux");
		const char *v = strcmp(k[i].name, "ceiling") == 0 ||
				strcmp(k[i].name, "async_us") == 0 ||
				strcmp(k[i].name, "hz") == 0 ||
				strcmp(k[i].name, "trim_ms") == 0 ? "7" :
				strcmp(k[i].name, "invlpgb_count_max") == 0 ||
				strcmp(k[i].name, "asid_space") == 0 ||
				strcmp(k[i].name, "broadcast_min_cpus") == 0 ||
				strcmp(k[i].name, "rar_slots") == 0 ||
				strcmp(k[i].name, "max_dvm_ops") == 0 ||
				strcmp(k[i].name, "flush_all_threshold") == 0 ||
				strcmp(k[i].name, "sbi_flush_limit") == 0 ||
				strcmp(k[i].name, "tlb_batch_nr") == 0 ? "8" :
				strcmp(k[i].name, "rfence") == 0 ? "sbi" :
				strcmp(k[i].name, "switch") == 0 ? "6.13" : "off";

		cr_assert_str_not_empty(k[i].help);
		cr_assert_eq(shd_policy_set(&p, k[i].name, v), 0,
			     "listed knob %s: %s", k[i].name, shd_last_error());
	}
}

Test(policy, format_prints_every_knob)
{
	struct shd_policy p = preset("linux");
	char buf[512], tiny[8];

	cr_assert_eq(shd_policy_format(&p, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "prune=on lazy=on gen=on coalesce=on "
			 "concurrent=on ceiling=33 batch=x86 async=off async_us=1000 "
			 "switch=6.13 hz=250 trim_ms=1000 bcast=off invlpgb_count_max=8 "
			 "asid_space=4094 broadcast_min_cpus=4 rar_slots=64 "
			 "tlbi_range=on max_dvm_ops=512 rfence=ipi "
			 "flush_all_threshold=64 sbi_flush_limit=1 "
			 "clear_cpumask=off svinval=off tlb_batch_nr=192");
	cr_assert_eq(shd_policy_set(&p, "gen", "off"), 0);
	cr_assert_eq(shd_policy_set(&p, "ceiling", "5"), 0);
	cr_assert_eq(shd_policy_format(&p, buf, sizeof(buf)), 0);
	cr_assert_str_eq(buf, "prune=on lazy=on gen=off coalesce=on "
			 "concurrent=on ceiling=5 batch=x86 async=off async_us=1000 "
			 "switch=6.13 hz=250 trim_ms=1000 bcast=off invlpgb_count_max=8 "
			 "asid_space=4094 broadcast_min_cpus=4 rar_slots=64 "
			 "tlbi_range=on max_dvm_ops=512 rfence=ipi "
			 "flush_all_threshold=64 sbi_flush_limit=1 "
			 "clear_cpumask=off svinval=off tlb_batch_nr=192");
	cr_assert_eq(shd_policy_set(&p, "batch", "arm64"), 0);
	cr_assert_eq(p.batch, SHD_BATCH_ARM64);
	cr_assert_eq(shd_policy_set(&p, "batch", "on"), -EINVAL);
	cr_assert_eq(p.batch, SHD_BATCH_ARM64);
	cr_assert_eq(shd_policy_format(&p, tiny, sizeof(tiny)), -ERANGE);
}

Test(policy, broadcast_knobs_take_their_ranges)
{
	struct shd_policy p = preset("linux-invlpgb");

	cr_assert_eq(p.bcast, SHD_BCAST_INVLPGB);
	cr_assert_eq(p.switch_mm, SHD_SWITCH_6_13);
	cr_assert_eq(p.broadcast_min_cpus, 4);	/* Linux: more than 3 */
	cr_assert_eq(preset("linux-rar").bcast, SHD_BCAST_RAR);
	cr_assert_eq(preset("linux-rar").rar_slots, 64);
	cr_assert_eq(shd_policy_set(&p, "bcast", "rar"), 0);
	cr_assert_eq(p.bcast, SHD_BCAST_RAR);
	cr_assert_eq(shd_policy_set(&p, "bcast", "on"), -EINVAL);
	cr_assert_eq(shd_policy_set(&p, "asid_space", "7"), -EINVAL);
	cr_assert_eq(shd_policy_set(&p, "asid_space", "4095"), -EINVAL);
	cr_assert_eq(shd_policy_set(&p, "rar_slots", "0"), -EINVAL);
	cr_assert_eq(shd_policy_set(&p, "rar_slots", "65"), -EINVAL);
	cr_assert_eq(shd_policy_set(&p, "invlpgb_count_max", "0"), -EINVAL);
	cr_assert_eq(shd_policy_set(&p, "broadcast_min_cpus", "0"), 0);
	cr_assert_eq(shd_policy_set(&p, "broadcast_min_cpus", "8193"), -EINVAL);
	cr_assert_eq(p.broadcast_min_cpus, 0);
}

/* ---- faults ---- */

Test(policy, faults_are_listed_and_looked_up_by_name)
{
	size_t n = 0;
	const struct shd_named *f = shd_faults(&n);

	cr_assert_eq(n, SHD_FAULT__COUNT);
	for (size_t i = 0; i < n; i++) {
		cr_assert_str_not_empty(f[i].name);
		cr_assert_str_not_empty(f[i].help);
		cr_assert_eq(shd_fault_lookup(f[i].name), (int)i, "%s", f[i].name);
	}
	cr_assert_eq(shd_fault_lookup("skip_remote_ipi"), SHD_FAULT_SKIP_REMOTE_IPI);
	cr_assert_eq(shd_fault_lookup("range_short"), SHD_FAULT_RANGE_SHORT);
	cr_assert_eq(shd_fault_lookup("skip_all"), -ENOENT);
	cr_assert_str_not_empty(shd_last_error());
	cr_assert_eq(shd_fault_lookup(NULL), -ENOENT);
}

Test(policy, the_barrier_faults_need_the_6_13_switch)
{
	static const enum shd_fault fs[] = { SHD_FAULT_SWITCH_MM_NO_BARRIER,
					     SHD_FAULT_SKIP_LOADED_MM_SWITCHING };
	struct shd_arch x86;

	cr_assert_eq(shd_arch_preset("x86", &x86), 0);
	for (size_t i = 0; i < ARRAY_LEN(fs); i++) {
		struct shd_policy l = preset("linux-6.12"), n = preset("linux");

		cr_assert_eq(shd_fault_applies(&n, &x86, fs[i]), 0);
		cr_assert_eq(shd_fault_applies(&l, &x86, fs[i]), -EINVAL);
		cr_assert_not_null(strstr(shd_last_error(), "switch=6.13"));
		cr_assert_eq(shd_policy_set(&n, "gen", "off"), 0);
		cr_assert_eq(shd_fault_applies(&n, &x86, fs[i]), -EINVAL);
	}
}

Test(policy, the_broadcast_faults_need_their_hardware)
{
	struct shd_policy inv = preset("linux-invlpgb"), rar = preset("linux-rar");
	struct shd_policy l = preset("linux");
	struct shd_arch x86;

	cr_assert_eq(shd_arch_preset("x86", &x86), 0);
	cr_assert_eq(shd_fault_applies(&inv, &x86, SHD_FAULT_INVLPGB_NO_TLBSYNC), 0);
	/* RAR completes each request before it returns: no TLBSYNC. */
	cr_assert_eq(shd_fault_applies(&rar, &x86, SHD_FAULT_INVLPGB_NO_TLBSYNC),
		     -EINVAL);
	cr_assert_not_null(strstr(shd_last_error(), "bcast=invlpgb"));
	cr_assert_eq(shd_fault_applies(&l, &x86, SHD_FAULT_INVLPGB_NO_TLBSYNC),
		     -EINVAL);
	cr_assert_eq(shd_fault_applies(&inv, &x86,
				       SHD_FAULT_GLOBAL_ASID_REUSE_EARLY), 0);
	cr_assert_eq(shd_fault_applies(&rar, &x86,
				       SHD_FAULT_GLOBAL_ASID_REUSE_EARLY), 0);
	cr_assert_eq(shd_fault_applies(&l, &x86,
				       SHD_FAULT_GLOBAL_ASID_REUSE_EARLY), -EINVAL);
	cr_assert_not_null(strstr(shd_last_error(), "global ASIDs"));
	/* LATR's posted requests: no mm is promoted. */
	cr_assert_eq(shd_policy_set(&rar, "async", "on"), 0);
	cr_assert_eq(shd_fault_applies(&rar, &x86,
				       SHD_FAULT_GLOBAL_ASID_REUSE_EARLY), -EINVAL);
	/* No loaded_mm under 5.13: no mm is ever promoted. */
	cr_assert_eq(shd_policy_set(&inv, "switch", "5.13"), 0);
	cr_assert_eq(shd_fault_applies(&inv, &x86,
				       SHD_FAULT_GLOBAL_ASID_REUSE_EARLY), -EINVAL);
}

/* ---- the private decision functions (policy/decide.h) ---- */

Test(decide, target_pruning_and_lazy_skip)
{
	struct shd_policy l = preset("linux"), b = preset("broadcast");

	cr_assert_eq(shd__policy_target(&l, false, false, false), SHD_TARGET_PRUNED);
	cr_assert_eq(shd__policy_target(&l, false, true, true), SHD_TARGET_PRUNED);
	cr_assert_eq(shd__policy_target(&l, true, true, false), SHD_TARGET_LAZY);
	/* Freed page tables reach lazy CPUs (they may walk them). */
	cr_assert_eq(shd__policy_target(&l, true, true, true), SHD_TARGET_SEND);
	cr_assert_eq(shd__policy_target(&l, true, false, false), SHD_TARGET_SEND);
	/* broadcast sends to everyone. */
	cr_assert_eq(shd__policy_target(&b, false, false, false), SHD_TARGET_SEND);
	cr_assert_eq(shd__policy_target(&b, true, true, false), SHD_TARGET_SEND);
	/* Each knob alone. */
	cr_assert_eq(shd_policy_set(&b, "lazy", "on"), 0);
	cr_assert_eq(shd__policy_target(&b, false, true, false), SHD_TARGET_LAZY);
	cr_assert_eq(shd__policy_target(&b, false, false, false), SHD_TARGET_SEND);
}

/* 6.13's should_flush_tlb(): the lazy mask is a superset, loaded_mm
 * decides; SWITCHING and a trim send; freed tables reach every CPU in the
 * mask. */
Test(decide, should_flush_sends_to_the_running_and_the_switching)
{
	struct shd_policy n = preset("linux");

	cr_assert_eq(shd__policy_should_flush(&n, false, false, false,
					      SHD_LOADED_THIS, false),
		     SHD_TARGET_PRUNED);
	cr_assert_eq(shd__policy_should_flush(&n, true, false, false,
					      SHD_LOADED_THIS, false),
		     SHD_TARGET_SEND);
	cr_assert_eq(shd__policy_should_flush(&n, true, false, false,
					      SHD_LOADED_SWITCHING, false),
		     SHD_TARGET_SEND);
	cr_assert_eq(shd__policy_should_flush(&n, true, false, false,
					      SHD_LOADED_OTHER, false),
		     SHD_TARGET_PRUNED);
	cr_assert_eq(shd__policy_should_flush(&n, true, false, false,
					      SHD_LOADED_OTHER, true),
		     SHD_TARGET_SEND);
	cr_assert_eq(shd__policy_should_flush(&n, true, true, false,
					      SHD_LOADED_THIS, true),
		     SHD_TARGET_LAZY);
	cr_assert_eq(shd__policy_should_flush(&n, true, true, true,
					      SHD_LOADED_OTHER, false),
		     SHD_TARGET_SEND);
}

Test(decide, flush_action_nothing_when_already_up_to_date)
{
	struct shd_policy l = preset("linux");

	/* An earlier full flush already took the context past the request. */
	cr_assert_eq(shd__policy_flush_action(&l, 7, 6, 7, 1), SHD_ACTION_NOTHING);
	cr_assert_eq(shd__policy_flush_action(&l, 7, 7, 9, 1), SHD_ACTION_NOTHING);
	/* Local already equals the mm's generation. */
	cr_assert_eq(shd__policy_flush_action(&l, 9, 10, 9, 1), SHD_ACTION_NOTHING);
}

Test(decide, flush_action_partial_only_exactly_one_behind)
{
	struct shd_policy l = preset("linux");

	cr_assert_eq(shd__policy_flush_action(&l, 5, 6, 6, 1), SHD_ACTION_PARTIAL);
	/* Two behind: catch up in one full flush. */
	cr_assert_eq(shd__policy_flush_action(&l, 4, 6, 6, 1), SHD_ACTION_FULL);
	/* One behind this request, but another one is already queued. */
	cr_assert_eq(shd__policy_flush_action(&l, 5, 6, 7, 1), SHD_ACTION_FULL);
	/* A whole-mm request (0 pages) is always full. */
	cr_assert_eq(shd__policy_flush_action(&l, 5, 6, 6, 0), SHD_ACTION_FULL);
}

Test(decide, flush_action_ceiling_boundary_is_33_pages)
{
	struct shd_policy l = preset("linux");

	cr_assert_eq(shd__policy_flush_action(&l, 5, 6, 6, 33), SHD_ACTION_PARTIAL);
	cr_assert_eq(shd__policy_flush_action(&l, 5, 6, 6, 34), SHD_ACTION_FULL);
	cr_assert_eq(shd_policy_set(&l, "ceiling", "0"), 0);
	cr_assert_eq(shd__policy_flush_action(&l, 5, 6, 6, 1), SHD_ACTION_FULL);
	cr_assert_eq(shd_policy_set(&l, "ceiling", "1"), 0);
	cr_assert_eq(shd__policy_flush_action(&l, 5, 6, 6, 1), SHD_ACTION_PARTIAL);
	cr_assert_eq(shd__policy_flush_action(&l, 5, 6, 6, 2), SHD_ACTION_FULL);
}

Test(decide, flush_action_without_generations_does_what_was_asked)
{
	struct shd_policy b = preset("broadcast");

	/* Generations are ignored: even an up-to-date context flushes. */
	cr_assert_eq(shd__policy_flush_action(&b, 9, 6, 9, 33), SHD_ACTION_PARTIAL);
	cr_assert_eq(shd__policy_flush_action(&b, 9, 6, 9, 34), SHD_ACTION_FULL);
	cr_assert_eq(shd__policy_flush_action(&b, 1, 6, 9, 1), SHD_ACTION_PARTIAL);
	cr_assert_eq(shd__policy_flush_action(&b, 5, 6, 6, 0), SHD_ACTION_FULL);
}

Test(decide, switch_flush_follows_may_miss_and_generations)
{
	struct shd_policy l = preset("linux"), b = preset("broadcast");

	/* broadcast never bypasses a CPU, so switch-in never needs to flush. */
	cr_assert(!shd__policy_may_miss(&b));
	cr_assert(!shd__policy_switch_flush(&b, 1, 100));
	cr_assert(shd__policy_may_miss(&l));
	cr_assert(shd__policy_switch_flush(&l, 4, 5));
	cr_assert(!shd__policy_switch_flush(&l, 5, 5));
	/* Bypassing without generations: always flush on switch-in. */
	cr_assert_eq(shd_policy_set(&l, "gen", "off"), 0);
	cr_assert(shd__policy_switch_flush(&l, 5, 5));
	/* Either bypass alone counts. */
	cr_assert_eq(shd_policy_set(&b, "prune", "on"), 0);
	cr_assert(shd__policy_may_miss(&b));
	cr_assert_eq(shd_policy_set(&b, "prune", "off"), 0);
	cr_assert_eq(shd_policy_set(&b, "lazy", "on"), 0);
	cr_assert(shd__policy_may_miss(&b));
}

/* hz: CONFIG_HZ for the simulated jiffies (the 6.13 trim's clock). */
Test(policy, hz_is_a_tick_rate)
{
	struct shd_policy p = preset("linux");
	char buf[512];

	cr_assert_eq(p.hz, 250, "Debian's CONFIG_HZ_250");
	cr_assert_eq(shd_policy_set(&p, "hz", "1000"), 0);
	cr_assert_eq(p.hz, 1000);
	cr_assert_eq(shd_policy_set(&p, "hz", "0"), -EINVAL);
	cr_assert_eq(shd_policy_set(&p, "hz", "100001"), -EINVAL);
	cr_assert_eq(shd_policy_set(&p, "hz", "25x"), -EINVAL);
	cr_assert_not_null(strstr(shd_last_error(), "tick rate"));
	cr_assert_eq(p.hz, 1000, "a bad value leaves the knob alone");
	cr_assert_eq(shd_policy_format(&p, buf, sizeof(buf)), 0);
	cr_assert_not_null(strstr(buf, "hz=1000"));
	cr_assert_eq(shd_policy_set(&p, "bogus", "1"), -ENOENT);
	cr_assert_not_null(strstr(shd_last_error(), "hz"), "%s", shd_last_error());
}
