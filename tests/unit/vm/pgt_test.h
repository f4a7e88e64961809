/*
 * Host harness for the page-table suites: page-table pages from
 * aligned_alloc, counted (and made to fail on demand), an identity
 * phys_to_virt/virt_to_phys, and a flush callback that records what it was
 * asked to invalidate. Each suite is compiled once per entry format; the
 * PGT_TEST_ARCH_* macro says which.
 */
#ifndef PGT_TEST_H
#define PGT_TEST_H

#include <karst/arch.h>
#include <karst/compiler.h>
#include <karst/pgtable.h>

struct pgt_test_env {
	struct pgt_ops ops;
	long allocs, frees; /* table pages handed out / given back */
	long fail_at;	    /* refuse the allocation with this allocs count; -1 never */
	long flushes;	    /* flush callback calls */
	uintptr_t flush_va; /* the last flush */
	size_t flush_len;
	long syncs;
};

/* ck_assert_* for hot loops: Check records every passing assertion (a
 * file write), so these call it only when the condition fails. */
#define PGT_CHECK(c)                                                                               \
	do {                                                                                       \
		if (!(c))                                                                          \
			ck_assert(c);                                                              \
	} while (0)
#define PGT_CHECK_EQ(a, b)                                                                         \
	do {                                                                                       \
		if ((a) != (b))                                                                    \
			ck_assert_uint_eq((a), (b));                                               \
	} while (0)

/* Reset the counters and fill env->ops (arg = env). */
void pgt_test_env_init(struct pgt_test_env *env);
static inline long pgt_test_live(const struct pgt_test_env *env)
{
	return env->allocs - env->frees;
}

#endif
