/*
 * Host harness for the page-table suites (see pgt_test.h).
 */
#include "pgt_test.h"
#include <karst/arch.h>
#include <stdlib.h>
#include <string.h>

/* The host has no direct map: "physical" addresses of table pages are
 * their host addresses. */
void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

uint64_t virt_to_phys(const void *va)
{
	return (uint64_t)(uintptr_t)va;
}

static void *test_alloc_table(void *arg)
{
	struct pgt_test_env *env = arg;
	if (env->fail_at >= 0 && env->allocs == env->fail_at)
		return NULL;
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!p)
		return NULL;
	memset(p, 0xa5, PAGE_SIZE); /* the walker must zero it */
	env->allocs++;
	return p;
}

static void test_free_table(void *table, void *arg)
{
	struct pgt_test_env *env = arg;
	env->frees++;
	free(table);
}

static void test_flush(uintptr_t va, size_t len, void *arg)
{
	struct pgt_test_env *env = arg;
	__atomic_fetch_add(&env->flushes, 1, __ATOMIC_RELAXED);
	/* The last flush: concurrent suites flush from several threads. */
	__atomic_store_n(&env->flush_va, va, __ATOMIC_RELAXED);
	__atomic_store_n(&env->flush_len, len, __ATOMIC_RELAXED);
}

static void test_sync(void *arg)
{
	struct pgt_test_env *env = arg;
	env->syncs++;
}

void pgt_test_env_init(struct pgt_test_env *env)
{
	memset(env, 0, sizeof(*env));
	env->fail_at = -1;
	env->ops.alloc_table = test_alloc_table;
	env->ops.free_table = test_free_table;
	env->ops.flush = test_flush;
	env->ops.sync = test_sync;
	env->ops.arg = env;
}
