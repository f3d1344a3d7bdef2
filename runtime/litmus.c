/* SPDX-License-Identifier: MIT */
/* Litmus words: the caller's memory under the protocol fields' memory model (tso.h). */
#include <errno.h>

#include <shootdown/litmus.h>
#include "smp.h"
#include "tso.h"

static int litmus_check(struct shd_cpu *cpu, const uint64_t *word,
			const char *what)
{
	int err = shd__check_cpu(cpu, what);	/* a scheduling point */

	if (err)
		return err;
	if (!word || (uintptr_t)word & 7)
		return shd__fail(-EINVAL, "%s: the word must be an 8-byte "
				 "aligned uint64_t", what);
	return 0;
}

int shd_litmus_store(struct shd_cpu *cpu, uint64_t *word, uint64_t v)
{
	int err = litmus_check(cpu, word, "shd_litmus_store");

	if (err)
		return err;
	/* Seq-cst on the host: the words are sequentially consistent there
	 * (pairs with shd_litmus_load()'s seq-cst load). */
	shd__tso_store(cpu, word, v, shd_store_seq);
	return 0;
}

int shd_litmus_load(struct shd_cpu *cpu, const uint64_t *word, uint64_t *out)
{
	int err = litmus_check(cpu, word, "shd_litmus_load");

	if (err)
		return err;
	if (!out)
		return shd__fail(-EINVAL, "shd_litmus_load: nowhere to put the "
				 "value");
	/* Seq-cst: pairs with shd_litmus_store()'s and xchg's. */
	*out = shd__tso_load(cpu, word, shd_load_seq);
	return 0;
}

int shd_litmus_mb(struct shd_cpu *cpu)
{
	int err = shd__check_cpu(cpu, "shd_litmus_mb");

	if (err)
		return err;
	shd__tso_mb(cpu);
	return 0;
}

int shd_litmus_xchg(struct shd_cpu *cpu, uint64_t *word, uint64_t v,
		    uint64_t *old)
{
	int err = litmus_check(cpu, word, "shd_litmus_xchg");
	uint64_t was;

	if (err)
		return err;
	shd__tso_drain(cpu);	/* locked */
	/* Seq-cst: pairs with every other access to the word. */
	was = shd_xchg(word, v);
	if (old)
		*old = was;
	return 0;
}

unsigned shd_litmus_pending(const struct shd_cpu *cpu)
{
	return cpu && cpu == shd__this_cpu ? shd__tso_pending(cpu) : 0;
}
