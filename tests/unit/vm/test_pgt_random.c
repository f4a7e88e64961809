/*
 * Check suite: the page-table walker against a model. Random map, unmap,
 * protect and accessed/dirty operations on a 64 MiB window that straddles
 * a 1 GiB boundary; a plain array of pages predicts every result (success,
 * -EEXIST, -EINVAL), which leaves are 2 MiB blocks, what each lookup
 * returns, which leaves unmap reports, and how many table pages the tree
 * must hold (tables are freed as soon as they are empty).
 */
#include "pgt_test.h"
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NPG	  16384 /* pages in the window */
#define PG_PER_2M 512
#define WIN	  ((uintptr_t)(1ULL << 30) - (32ULL << 20)) /* 1 GiB - 32 MiB */

struct mpage {
	bool mapped;
	bool block;	 /* part of a 2 MiB leaf */
	uint64_t pa;	 /* of this page */
	unsigned prot;	 /* MMU_PROT_MASK bits */
	bool acc, dirty; /* state of the leaf, copied to its every page */
};

static struct mpage model[NPG];
static struct pgt_test_env env;
static struct pgtable pt;

static uintptr_t va_of(int i)
{
	return WIN + (uintptr_t)i * PAGE_SIZE;
}

/* First and one-past-last page of the leaf holding page i. */
static void leaf_span(int i, int *first, int *end)
{
	if (model[i].block) {
		int b = (int)((va_of(i) >> 21) - (va_of(0) >> 21));
		int base = (int)(((va_of(0) >> 21) << 21) - va_of(0)) / (int)PAGE_SIZE;
		*first = base + b * PG_PER_2M;
		*end = *first + PG_PER_2M;
	} else {
		*first = i;
		*end = i + 1;
	}
}

static bool range_cuts_block(int s, int n)
{
	for (int i = s; i < s + n; i++) {
		if (model[i].mapped && model[i].block) {
			int f, e;
			leaf_span(i, &f, &e);
			if (f < s || e > s + n)
				return true;
		}
	}
	return false;
}

static size_t model_tables(void)
{
	size_t n = 1;
	bool any = false, gib[2] = {false, false};
	bool l3[NPG / PG_PER_2M + 1];
	memset(l3, 0, sizeof(l3));
	for (int i = 0; i < NPG; i++) {
		if (!model[i].mapped)
			continue;
		any = true;
		gib[va_of(i) >> 30] = true;
		if (!model[i].block)
			l3[(va_of(i) >> 21) - (WIN >> 21)] = true;
	}
	n += any;
	n += gib[0] + gib[1];
	for (size_t k = 0; k < ARRAY_SIZE(l3); k++)
		n += l3[k];
	return n;
}

static void check_page(int i)
{
	uint64_t pa;
	unsigned prot;
	int level = -1;
	bool mapped = pgt_lookup(&pt, va_of(i) + 8, &pa, &prot);
	PGT_CHECK_EQ(mapped, model[i].mapped);
	if (!mapped) {
		PGT_CHECK(pgt_walk(&pt, va_of(i), NULL) == NULL);
		return;
	}
	PGT_CHECK(pgt_walk(&pt, va_of(i), &level) != NULL);
	PGT_CHECK_EQ(level, model[i].block ? 2 : 3);
	PGT_CHECK_EQ(pa, model[i].pa + 8);
	unsigned want =
	    model[i].prot | (model[i].acc ? MMU_ACCESSED : 0) | (model[i].dirty ? MMU_DIRTY : 0);
	PGT_CHECK_EQ(prot, want);
}

static void check_all(void)
{
	for (int i = 0; i < NPG; i++)
		check_page(i);
	PGT_CHECK_EQ(pt.ntables, model_tables());
	PGT_CHECK_EQ(pgt_test_live(&env), (long)pt.ntables);
}

static const unsigned prots[] = {MMU_READ,
				 MMU_READ | MMU_WRITE,
				 MMU_READ | MMU_EXEC,
				 MMU_READ | MMU_WRITE | MMU_GLOBAL,
				 MMU_READ | MMU_NOCACHE,
				 MMU_READ | MMU_WRITE | MMU_DEVICE};
static const unsigned access[] = {MMU_READ, MMU_READ | MMU_WRITE, MMU_READ | MMU_EXEC,
				  MMU_READ | MMU_WRITE | MMU_EXEC};

static void random_range(int *s, int *n)
{
	int r = rand() % 4;
	if (r == 0) { /* whole 2 MiB pieces */
		int base = (int)(((WIN + (2ULL << 20) - 1) & ~((2ULL << 20) - 1)) - WIN) / 4096;
		*s = base + (rand() % 30) * PG_PER_2M;
		*n = PG_PER_2M * (1 + rand() % 3);
	} else {
		*s = rand() % NPG;
		*n = 1 + rand() % (r == 1 ? 8 : 1500);
	}
	if (*s + *n > NPG)
		*n = NPG - *s;
}

static long reported;
static void count_leaf(uintptr_t va, pte_t old, int level, void *arg)
{
	int i = (int)((va - WIN) / PAGE_SIZE);
	PGT_CHECK(i >= 0);
	PGT_CHECK(i < NPG);
	PGT_CHECK(model[i].mapped);
	PGT_CHECK_EQ(level, model[i].block ? 2 : 3);
	PGT_CHECK_EQ(pte_pa(old, level), model[i].pa);
	PGT_CHECK_EQ(pte_dirty(old), model[i].dirty);
	PGT_CHECK_EQ(pte_accessed(old), model[i].acc);
	reported++;
}

static void op_map(void)
{
	int s, n;
	random_range(&s, &n);
	unsigned prot = prots[rand() % ARRAY_SIZE(prots)];
	unsigned flags = rand() % 2 ? PGT_ALLOW_2M : 0;
	/* pa congruent to va modulo 2 MiB half of the time */
	uint64_t pa = (uint64_t)(rand() % 4096) << 21;
	if (rand() % 2)
		pa += (uint64_t)(rand() % 512) * PAGE_SIZE;
	else
		pa += va_of(s) & ((2ULL << 20) - 1);
	int rc = pgt_map(&pt, va_of(s), pa, (size_t)n * PAGE_SIZE, prot, flags);
	bool busy = false;
	for (int i = s; i < s + n; i++)
		busy |= model[i].mapped;
	if (busy) {
		ck_assert_int_eq(rc, -EEXIST);
		return;
	}
	ck_assert_int_eq(rc, 0);
	for (int i = s; i < s + n; i++) {
		uint64_t ppa = pa + (uint64_t)(i - s) * PAGE_SIZE;
		model[i] = (struct mpage){.mapped = true, .pa = ppa, .prot = prot};
	}
	if (flags & PGT_ALLOW_2M) {
		for (int i = s; i < s + n; i++) {
			uintptr_t v = va_of(i);
			if ((v & ((2ULL << 20) - 1)) == 0 && i + PG_PER_2M <= s + n &&
			    (model[i].pa & ((2ULL << 20) - 1)) == 0)
				for (int j = i; j < i + PG_PER_2M; j++)
					model[j].block = true;
		}
	}
}

static void op_unmap(void)
{
	int s, n;
	random_range(&s, &n);
	reported = 0;
	int rc = pgt_unmap(&pt, va_of(s), (size_t)n * PAGE_SIZE, 0, count_leaf, NULL);
	if (range_cuts_block(s, n)) {
		ck_assert_int_eq(rc, -EINVAL);
		ck_assert_int_eq(reported, 0);
		return;
	}
	ck_assert_int_eq(rc, 0);
	long leaves = 0;
	for (int i = s; i < s + n; i++) {
		if (model[i].mapped) {
			int f, e;
			leaf_span(i, &f, &e);
			leaves += f == i;
		}
		model[i] = (struct mpage){0};
	}
	ck_assert_int_eq(reported, leaves);
}

static void op_protect(void)
{
	int s, n;
	random_range(&s, &n);
	unsigned acc = access[rand() % ARRAY_SIZE(access)];
	int rc = pgt_protect(&pt, va_of(s), (size_t)n * PAGE_SIZE, acc);
	bool bad = range_cuts_block(s, n);
	for (int i = s; i < s + n; i++)
		if (model[i].mapped && !mmu_prot_valid(acc | (model[i].prot & MMU_ATTR_MASK)))
			bad = true;
	if (bad) {
		ck_assert_int_eq(rc, -EINVAL);
		return;
	}
	ck_assert_int_eq(rc, 0);
	for (int i = s; i < s + n; i++)
		if (model[i].mapped)
			model[i].prot = acc | (model[i].prot & MMU_ATTR_MASK);
}

static void set_leaf_state(int i, int which, bool v)
{
	int f, e;
	leaf_span(i, &f, &e);
	for (int j = f; j < e; j++) {
		if (which == 0)
			model[j].acc = v;
		else
			model[j].dirty = v;
	}
}

static void op_state(void)
{
	int i = rand() % NPG;
	uintptr_t va = va_of(i) + (uintptr_t)(rand() % 4096);
	bool r;
	switch (rand() % 4) {
	case 0:
	case 1: {
		bool w = rand() % 2;
		r = pgt_set_accessed(&pt, va, w);
		bool ok = model[i].mapped && (!w || (model[i].prot & MMU_WRITE));
		ck_assert_int_eq(r, ok);
		if (ok) {
			set_leaf_state(i, 0, true);
			if (w)
				set_leaf_state(i, 1, true);
		}
		break;
	}
	case 2:
		r = pgt_clear_accessed(&pt, va);
		ck_assert_int_eq(r, model[i].mapped && model[i].acc);
		if (model[i].mapped)
			set_leaf_state(i, 0, false);
		break;
	default:
		r = pgt_clear_dirty(&pt, va);
		ck_assert_int_eq(r, model[i].mapped && model[i].dirty);
		if (model[i].mapped)
			set_leaf_state(i, 1, false);
		break;
	}
	check_page(i);
}

static void run(unsigned seed, int nops)
{
	memset(model, 0, sizeof(model));
	pgt_test_env_init(&env);
	ck_assert_int_eq(pgt_init(&pt, &env.ops), 0);
	srand(seed);
	int counts[4] = {0};
	for (int k = 0; k < nops; k++) {
		int op = rand() % 10;
		if (op < 3) {
			op_map();
			counts[0]++;
		} else if (op < 5) {
			op_unmap();
			counts[1]++;
		} else if (op < 6) {
			op_protect();
			counts[2]++;
		} else {
			for (int j = 0; j < 20; j++)
				op_state();
			counts[3]++;
		}
		if (k % 16 == 0 || k == nops - 1)
			check_all();
	}
	for (int j = 0; j < 4; j++)
		ck_assert_int_gt(counts[j], nops / 20);
	pgt_destroy(&pt);
	ck_assert_int_eq(pgt_test_live(&env), 0);
}

START_TEST(test_random_against_model)
{
	run(1000 + (unsigned)_i, 3000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pgt_random_" PTE_ARCH_NAME);
	TCase *tc = tcase_create("core");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_random_against_model, 0, 4);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
