/* SPDX-License-Identifier: MIT */
/* A minimal stand-in for <criterion/criterion.h>, used only for ThreadSanitizer builds. */
#ifndef SHD_TSAN_CRITERION_SHIM_H
#define SHD_TSAN_CRITERION_SHIM_H

/*
 * Criterion 2.4 cannot start under ThreadSanitizer: BoxFort maps its
 * inheritable arena at random addresses that fall inside TSan's reserved
 * shadow ranges, and every test binary aborts with "Could not initialize
 * inheritable arena: Resource temporarily unavailable" (Snaipe/Criterion
 * issue #274).  With -DSHD_TSAN=ON tests/CMakeLists.txt compiles the same
 * test files against this header instead: Test() registers a function, each
 * test runs in a forked child (single-threaded parent, so TSan is happy),
 * a failed cr_assert*() prints the message and exits the child with 1.
 * ParameterizedTest() registers the same way and runs one forked child per
 * element of the array its ParameterizedTestParameters() function returns,
 * as Criterion does.  Only what the suite uses is provided.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

struct shim_extra {
	bool disabled;
	double timeout;
	int sentinel_;
};

struct criterion_test_params {
	size_t size;		/* of one element */
	void *params;
	size_t length;
	void (*cleanup)(struct criterion_test_params *);
};

struct shim_test {
	const char *suite, *name;
	void (*fn)(void);
	struct shim_extra extra;
	struct shim_test *next;
	/* A parameterized test: fn is NULL. */
	void (*pfn)(void *param);
	struct criterion_test_params (*params)(void);
};

static struct shim_test *shim_head, **shim_tail = &shim_head;

static inline void shim_register(struct shim_test *t)
{
	*shim_tail = t;
	shim_tail = &t->next;
}

#define Test(suite, name, ...)						\
	static void shim_##suite##_##name(void);				\
	static struct shim_test shim_t_##suite##_##name = {			\
		#suite, #name, shim_##suite##_##name,				\
		{ __VA_ARGS__ }, NULL, NULL, NULL };			\
	__attribute__((constructor)) static void				\
	shim_reg_##suite##_##name(void)					\
	{								\
		shim_register(&shim_t_##suite##_##name);		\
	}								\
	static void shim_##suite##_##name(void)

/* ParameterizedTestParameters(suite, name) { ... return cr_make_param_array(...); } */
#define ParameterizedTestParameters(suite, name)			\
	static struct criterion_test_params shim_params_##suite##_##name(void)

#define cr_make_param_array(Type, Array, ...)				\
	((struct criterion_test_params){ .size = sizeof(Type),		\
					 .params = (void *)(Array), __VA_ARGS__ })

/* ParameterizedTest(Type *param, suite, name, extras...) { ... } */
#define ParameterizedTest(Param, suite, name, ...)			\
	static void shim_##suite##_##name(Param);			\
	static void shim_pt_##suite##_##name(void *p)			\
	{								\
		shim_##suite##_##name(p);				\
	}								\
	static struct shim_test shim_t_##suite##_##name = {		\
		#suite, #name, NULL, { __VA_ARGS__ }, NULL,		\
		shim_pt_##suite##_##name, shim_params_##suite##_##name }; \
	__attribute__((constructor)) static void			\
	shim_reg_##suite##_##name(void)					\
	{								\
		shim_register(&shim_t_##suite##_##name);		\
	}								\
	static void shim_##suite##_##name(Param)

__attribute__((noreturn, format(printf, 4, 5)))
static inline void shim_fail(const char *file, int line, const char *expr,
			     const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "[----] %s:%d: Assertion Failed: %s\n[----]   ", file,
		line, expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
	_exit(1);
}

#define cr_assert(cond, ...)						\
	do {								\
		if (!(cond))						\
			shim_fail(__FILE__, __LINE__, #cond, " " __VA_ARGS__); \
	} while (0)
#define cr_assert_eq(a, b, ...)		cr_assert((a) == (b), __VA_ARGS__)
#define cr_assert_neq(a, b, ...)	cr_assert((a) != (b), __VA_ARGS__)
#define cr_assert_lt(a, b, ...)		cr_assert((a) < (b), __VA_ARGS__)
#define cr_assert_leq(a, b, ...)	cr_assert((a) <= (b), __VA_ARGS__)
#define cr_assert_gt(a, b, ...)		cr_assert((a) > (b), __VA_ARGS__)
#define cr_assert_geq(a, b, ...)	cr_assert((a) >= (b), __VA_ARGS__)
#define cr_assert_null(p, ...)		cr_assert((p) == NULL, __VA_ARGS__)
#define cr_assert_not_null(p, ...)	cr_assert((p) != NULL, __VA_ARGS__)
#define cr_assert_str_eq(a, b, ...)	cr_assert(strcmp((a), (b)) == 0, __VA_ARGS__)
#define cr_assert_str_neq(a, b, ...)	cr_assert(strcmp((a), (b)) != 0, __VA_ARGS__)
#define cr_assert_str_not_empty(s, ...)	cr_assert((s)[0] != '\0', __VA_ARGS__)
#define cr_log_info(...)						\
	do {								\
		fprintf(stderr, "[----] " __VA_ARGS__);			\
		fputc('\n', stderr);					\
	} while (0)

/* Run FN(PARAM) (or FN() when PFN is NULL) in a child; 0 when it passed. */
static inline int shim_run(const struct shim_test *t, void *param, long index)
{
	int status = 0;
	pid_t pid;
	char which[32] = "";

	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(2);
	}
	if (pid == 0) {
		alarm(t->extra.timeout > 0 ? (unsigned)t->extra.timeout : 300);
		if (t->pfn)
			t->pfn(param);
		else
			t->fn();
		fflush(NULL);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	if (index >= 0)
		snprintf(which, sizeof(which), " [param %ld]", index);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		fprintf(stderr, "[PASS] %s::%s%s\n", t->suite, t->name, which);
		return 0;
	}
	fprintf(stderr, "[FAIL] %s::%s%s (%s %d)\n", t->suite, t->name, which,
		WIFEXITED(status) ? "exit" : "signal",
		WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	return 1;
}

int main(int argc, char **argv)
{
	unsigned run = 0, failed = 0, skipped = 0;

	(void)argc;
	(void)argv;	/* --jobs etc.: tests run one at a time anyway */
	for (struct shim_test *t = shim_head; t; t = t->next) {
		struct criterion_test_params p;

		if (t->extra.disabled) {
			skipped++;
			continue;
		}
		if (!t->pfn) {
			run++;
			failed += (unsigned)shim_run(t, NULL, -1);
			continue;
		}
		p = t->params();
		for (size_t i = 0; i < p.length; i++) {
			run++;
			failed += (unsigned)shim_run(t, (char *)p.params +
						     i * p.size, (long)i);
		}
		if (p.cleanup)
			p.cleanup(&p);
	}
	fprintf(stderr, "[====] Synthesis: Tested: %u | Passing: %u | Failing: %u"
		" | Skipped: %u\n", run, run - failed, failed, skipped);
	return failed ? 1 : 0;
}

#endif
