/*
 * Check suite for the page-table walker over one entry format: map, unmap
 * and protect of ranges with 4 KiB pages and 2 MiB / 1 GiB blocks, walk and
 * lookup, refusals that change nothing, the accessed and dirty updates, and
 * the table pages (allocated, freed when empty, all given back).
 */
#include "pgt_test.h"
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#define KiB(x) ((uint64_t)(x) << 10)
#define MiB(x) ((uint64_t)(x) << 20)
#define GiB(x) ((uint64_t)(x) << 30)

#define RW  (MMU_READ | MMU_WRITE)
#define RWX (MMU_READ | MMU_WRITE | MMU_EXEC)

static struct pgt_test_env env;
static struct pgtable pt;

static void setup(void)
{
	pgt_test_env_init(&env);
	ck_assert_int_eq(pgt_init(&pt, &env.ops), 0);
	ck_assert_int_eq(pgt_test_live(&env), 1);
	ck_assert_uint_eq(pt.ntables, 1);
	ck_assert_uint_eq(pt.root_pa, virt_to_phys(pt.root));
}

static void teardown(void)
{
	pgt_destroy(&pt);
	ck_assert_int_eq(pgt_test_live(&env), 0);
}

/* Level of the leaf mapping va, -1 when unmapped. */
static int leaf_level(uintptr_t va)
{
	int level = -1;
	if (!pgt_walk(&pt, va, &level))
		return -1;
	return level;
}

static unsigned prot_of(uintptr_t va)
{
	unsigned prot = 0;
	ck_assert(pgt_lookup(&pt, va, NULL, &prot));
	return prot;
}

static uint64_t pa_of(uintptr_t va)
{
	uint64_t pa = 0;
	ck_assert(pgt_lookup(&pt, va, &pa, NULL));
	return pa;
}

/* What the unmap callback saw. */
#define MAX_SEEN 4096
static struct {
	uintptr_t va;
	pte_t old;
	int level;
} seen[MAX_SEEN];
static int nseen;

static void record_leaf(uintptr_t va, pte_t old, int level, void *arg)
{
	ck_assert_ptr_eq(arg, &nseen);
	ck_assert_int_lt(nseen, MAX_SEEN);
	seen[nseen].va = va;
	seen[nseen].old = old;
	seen[nseen].level = level;
	nseen++;
}

START_TEST(test_map_pages_walk_lookup)
{
	uintptr_t va = 0x10000000;
	uint64_t pa = 0x80000000;
	ck_assert_int_eq(pgt_map(&pt, va, pa, KiB(64), RW, 0), 0);
	ck_assert_int_eq(env.syncs, 1);
	/* root + L1 + L2 + L3 */
	ck_assert_uint_eq(pt.ntables, 4);
	ck_assert_int_eq(pgt_test_live(&env), 4);
	for (int i = 0; i < 16; i++) {
		uintptr_t v = va + (uintptr_t)i * PAGE_SIZE;
		int level;
		pte_t *ep = pgt_walk(&pt, v, &level);
		ck_assert_ptr_nonnull(ep);
		ck_assert_int_eq(level, 3);
		pte_t e = pgt_entry_load(ep);
		ck_assert(pte_is_leaf(e, 3));
		ck_assert_uint_eq(pte_pa(e, 3), pa + (uint64_t)i * PAGE_SIZE);
		ck_assert_uint_eq(pa_of(v + 0x123), pa + (uint64_t)i * PAGE_SIZE + 0x123);
		/* Made neither accessed nor dirty. */
		ck_assert_uint_eq(prot_of(v), RW);
	}
	ck_assert_int_eq(leaf_level(va - PAGE_SIZE), -1);
	ck_assert_int_eq(leaf_level(va + KiB(64)), -1);
	ck_assert(!pgt_lookup(&pt, va + KiB(64), NULL, NULL));
	ck_assert_ptr_null(pgt_walk(&pt, 0x0000800000000000ULL, NULL)); /* not canonical */
	/* Creation with state. */
	ck_assert_int_eq(pgt_map(&pt, va + MiB(1), pa, PAGE_SIZE, MMU_READ | MMU_ACCESSED, 0), 0);
	ck_assert_uint_eq(prot_of(va + MiB(1)), MMU_READ | MMU_ACCESSED);
	ck_assert_int_eq(
	    pgt_map(&pt, va + MiB(1) + PAGE_SIZE, pa, PAGE_SIZE, RW | MMU_ACCESSED | MMU_DIRTY, 0),
	    0);
	ck_assert_uint_eq(prot_of(va + MiB(1) + PAGE_SIZE), RW | MMU_ACCESSED | MMU_DIRTY);
	ck_assert(pte_writable_now(pgt_entry_load(pgt_walk(&pt, va + MiB(1) + PAGE_SIZE, NULL))));
	ck_assert_uint_eq(pt.ntables, 4);
}
END_TEST

START_TEST(test_map_blocks)
{
	/* 4 MiB, aligned: two 2 MiB blocks, no L3 table. */
	ck_assert_int_eq(pgt_map(&pt, MiB(64), GiB(2), MiB(4), RW, PGT_ALLOW_BLOCKS), 0);
	ck_assert_uint_eq(pt.ntables, 3);
	ck_assert_int_eq(leaf_level(MiB(64)), 2);
	ck_assert_int_eq(leaf_level(MiB(66) + KiB(12)), 2);
	ck_assert_uint_eq(pa_of(MiB(66) + KiB(12) + 5), GiB(2) + MiB(2) + KiB(12) + 5);

	/* pa not 2 MiB aligned: pages. */
	ck_assert_int_eq(pgt_map(&pt, MiB(80), GiB(2) + KiB(4), MiB(2), RW, PGT_ALLOW_BLOCKS), 0);
	ck_assert_int_eq(leaf_level(MiB(80)), 3);
	ck_assert_uint_eq(pa_of(MiB(82) - PAGE_SIZE), GiB(2) + MiB(2));

	/* Without the flag: pages. */
	ck_assert_int_eq(pgt_map(&pt, MiB(90), GiB(2), MiB(2), RW, 0), 0);
	ck_assert_int_eq(leaf_level(MiB(90)), 3);

	/* Unaligned ends, a block in the middle. */
	ck_assert_int_eq(
	    pgt_map(&pt, MiB(100) - KiB(8), GiB(3) - KiB(8), MiB(2) + KiB(16), RWX, PGT_ALLOW_2M),
	    0);
	ck_assert_int_eq(leaf_level(MiB(100) - KiB(8)), 3);
	ck_assert_int_eq(leaf_level(MiB(100) - KiB(4)), 3);
	ck_assert_int_eq(leaf_level(MiB(100)), 2);
	ck_assert_int_eq(leaf_level(MiB(102)), 3);
	ck_assert_int_eq(leaf_level(MiB(102) + KiB(4)), 3);
	ck_assert_int_eq(leaf_level(MiB(102) + KiB(8)), -1);
	ck_assert_uint_eq(pa_of(MiB(101)), GiB(3) + MiB(1));
	ck_assert_uint_eq(prot_of(MiB(101)), RWX);

	/* 1 GiB: a level-1 leaf with PGT_ALLOW_1G, 512 blocks with only 2M. */
	long before = pgt_test_live(&env);
	ck_assert_int_eq(pgt_map(&pt, GiB(4), GiB(8), GiB(1), MMU_READ, PGT_ALLOW_BLOCKS), 0);
	ck_assert_int_eq(leaf_level(GiB(4) + MiB(700)), 1);
	ck_assert_uint_eq(pa_of(GiB(4) + MiB(700) + 3), GiB(8) + MiB(700) + 3);
	ck_assert_int_eq(pgt_test_live(&env), before); /* lands in the existing L1 table */
	ck_assert_int_eq(pgt_map(&pt, GiB(6), GiB(8), GiB(1), MMU_READ, PGT_ALLOW_2M), 0);
	ck_assert_int_eq(leaf_level(GiB(6) + MiB(700)), 2);
	ck_assert_int_eq(pgt_test_live(&env), before + 1);
}
END_TEST

START_TEST(test_upper_half_and_top)
{
	uintptr_t dmap = 0xffff800000000000ULL;
	ck_assert_int_eq(pgt_map(&pt, dmap, 0, GiB(4), RW | MMU_GLOBAL, PGT_ALLOW_BLOCKS), 0);
	ck_assert_int_eq(leaf_level(dmap + GiB(3) + 17), 1);
	ck_assert_uint_eq(pa_of(dmap + GiB(3) + 17), GiB(3) + 17);
	ck_assert_uint_eq(prot_of(dmap), RW | MMU_GLOBAL);
	/* The last 2 MiB of the address space: the range end wraps to 0. */
	uintptr_t top = ~(uintptr_t)0 - MiB(2) + 1;
	ck_assert_int_eq(pgt_map(&pt, top, GiB(1), MiB(2), RW, PGT_ALLOW_2M), 0);
	ck_assert_int_eq(leaf_level(~(uintptr_t)0), 2);
	ck_assert_int_eq(pgt_map(&pt, top - PAGE_SIZE, 0, PAGE_SIZE, RW, 0), 0);
	ck_assert_int_eq(pgt_unmap(&pt, top - PAGE_SIZE, MiB(2) + PAGE_SIZE, 0, NULL, NULL), 0);
	ck_assert_int_eq(leaf_level(~(uintptr_t)0), -1);
	ck_assert_int_eq(pgt_unmap(&pt, dmap, GiB(4), 0, NULL, NULL), 0);
	ck_assert_uint_eq(pt.ntables, 1);
}
END_TEST

START_TEST(test_bad_arguments)
{
	ck_assert_int_eq(pgt_map(&pt, 0x1000, 0x2000, 0, RW, 0), -EINVAL);
	ck_assert_int_eq(pgt_map(&pt, 0x1800, 0x2000, PAGE_SIZE, RW, 0), -EINVAL);
	ck_assert_int_eq(pgt_map(&pt, 0x1000, 0x2800, PAGE_SIZE, RW, 0), -EINVAL);
	ck_assert_int_eq(pgt_map(&pt, 0x1000, 0x2000, 100, RW, 0), -EINVAL);
	ck_assert_int_eq(pgt_map(&pt, 0x0000800000000000ULL, 0, PAGE_SIZE, RW, 0), -EINVAL);
	/* Crossing from the lower half into the hole. */
	ck_assert_int_eq(pgt_map(&pt, 0x00007ffffffff000ULL, 0, 2 * PAGE_SIZE, RW, 0), -EINVAL);
	/* Wrapping past the top. */
	ck_assert_int_eq(pgt_map(&pt, ~(uintptr_t)0 - PAGE_SIZE + 1, 0, 2 * PAGE_SIZE, RW, 0),
			 -EINVAL);
	ck_assert_int_eq(pgt_map(&pt, 0x1000, 0x2000, PAGE_SIZE, MMU_WRITE, 0), -EINVAL);
	ck_assert_int_eq(
	    pgt_map(&pt, 0x1000, 0x2000, PAGE_SIZE, MMU_READ | MMU_DEVICE | MMU_EXEC, 0), -EINVAL);
	ck_assert_int_eq(pgt_map(&pt, 0x1000, 0x2000, PAGE_SIZE, RW, PGT_KEEP_TABLES), -EINVAL);
#ifdef PGT_TEST_ARCH_x86_64
	uint64_t pa_limit = 1ULL << 52;
#else
	uint64_t pa_limit = 1ULL << 48;
#endif
	ck_assert_int_eq(pgt_map(&pt, 0x1000, pa_limit - PAGE_SIZE, 2 * PAGE_SIZE, RW, 0), -EINVAL);
	ck_assert_int_eq(pgt_map(&pt, 0x1000, pa_limit - PAGE_SIZE, PAGE_SIZE, RW, 0), 0);
	ck_assert_int_eq(pgt_unmap(&pt, 0x1000, 0, 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pgt_unmap(&pt, 0x1000, PAGE_SIZE, PGT_ALLOW_2M, NULL, NULL), -EINVAL);
	ck_assert_int_eq(pgt_protect(&pt, 0x1000, PAGE_SIZE, RW | MMU_GLOBAL), -EINVAL);
	ck_assert_int_eq(pgt_protect(&pt, 0x1000, PAGE_SIZE, MMU_WRITE), -EINVAL);
	ck_assert_int_eq(pgt_protect(&pt, 0x1000, PAGE_SIZE, RW | MMU_DIRTY), -EINVAL);
	ck_assert_int_eq(pgt_protect(&pt, 0x1001, PAGE_SIZE, RW), -EINVAL);
	ck_assert_uint_eq(prot_of(0x1000), RW);
}
END_TEST

START_TEST(test_map_over_mapped_is_refused)
{
	ck_assert_int_eq(pgt_map(&pt, MiB(4), GiB(1), MiB(2), RW, PGT_ALLOW_2M), 0);
	ck_assert_int_eq(pgt_map(&pt, MiB(8) + KiB(4), GiB(1), KiB(4), RW, 0), 0);
	long live = pgt_test_live(&env);
	/* A page inside the block. */
	ck_assert_int_eq(pgt_map(&pt, MiB(5), 0, PAGE_SIZE, RW, 0), -EEXIST);
	/* A block over a page. */
	ck_assert_int_eq(pgt_map(&pt, MiB(8), 0, MiB(2), RW, PGT_ALLOW_2M), -EEXIST);
	/* A range that overlaps only at its end: nothing of it is mapped. */
	ck_assert_int_eq(pgt_map(&pt, MiB(6) - KiB(8) - MiB(3), 0, MiB(3) + KiB(8), RW, 0),
			 -EEXIST);
	ck_assert_int_eq(leaf_level(MiB(1)), -1);
	ck_assert_int_eq(leaf_level(MiB(3)), -1);
	/* The same page again. */
	ck_assert_int_eq(pgt_map(&pt, MiB(8) + KiB(4), GiB(1), KiB(4), RW, 0), -EEXIST);
	ck_assert_int_eq(pgt_test_live(&env), live);
	ck_assert_uint_eq(pa_of(MiB(5)), GiB(1) + MiB(1));
	ck_assert_int_eq(leaf_level(MiB(5)), 2);
}
END_TEST

START_TEST(test_unmap_reports_flushes_frees)
{
	ck_assert_int_eq(pgt_map(&pt, MiB(2), GiB(1), MiB(4), RW, PGT_ALLOW_2M), 0);
	ck_assert_int_eq(pgt_map(&pt, MiB(6), GiB(2), KiB(16), MMU_READ, 0), 0);
	ck_assert_int_eq(pgt_set_accessed(&pt, MiB(3), true), true);
	ck_assert_uint_eq(pt.ntables, 4);

	/* Unmap a range with a hole in it. */
	nseen = 0;
	env.flushes = 0;
	ck_assert_int_eq(pgt_unmap(&pt, MiB(2), MiB(8), 0, record_leaf, &nseen), 0);
	ck_assert_int_eq(nseen, 2 + 4);
	ck_assert_int_eq(seen[0].level, 2);
	ck_assert_uint_eq(seen[0].va, MiB(2));
	ck_assert_uint_eq(pte_pa(seen[0].old, 2), GiB(1));
	/* The last value: what the fast path set is in it. */
	ck_assert(pte_dirty(seen[0].old) && pte_accessed(seen[0].old));
	ck_assert_int_eq(seen[1].level, 2);
	ck_assert(!pte_dirty(seen[1].old) && !pte_accessed(seen[1].old));
	for (int i = 0; i < 4; i++) {
		ck_assert_int_eq(seen[2 + i].level, 3);
		ck_assert_uint_eq(seen[2 + i].va, MiB(6) + (uint64_t)i * PAGE_SIZE);
		ck_assert_uint_eq(pte_pa(seen[2 + i].old, 3), GiB(2) + (uint64_t)i * PAGE_SIZE);
		ck_assert_uint_eq(pte_prot(seen[2 + i].old), MMU_READ);
	}
	ck_assert_int_eq(env.flushes, 1);
	ck_assert_uint_eq(env.flush_va, MiB(2));
	ck_assert_uint_eq(env.flush_len, MiB(8));
	/* Every table but the root is gone. */
	ck_assert_uint_eq(pt.ntables, 1);
	ck_assert_int_eq(pgt_test_live(&env), 1);

	/* Unmapping nothing: no flush. */
	ck_assert_int_eq(pgt_unmap(&pt, MiB(2), MiB(8), 0, NULL, NULL), 0);
	ck_assert_int_eq(env.flushes, 1);
}
END_TEST

START_TEST(test_unmap_part_keeps_the_rest)
{
	ck_assert_int_eq(pgt_map(&pt, MiB(2), GiB(1), KiB(64), RW, 0), 0);
	ck_assert_int_eq(pgt_unmap(&pt, MiB(2) + KiB(16), KiB(8), 0, NULL, NULL), 0);
	ck_assert_int_eq(leaf_level(MiB(2) + KiB(12)), 3);
	ck_assert_int_eq(leaf_level(MiB(2) + KiB(16)), -1);
	ck_assert_int_eq(leaf_level(MiB(2) + KiB(20)), -1);
	ck_assert_int_eq(leaf_level(MiB(2) + KiB(24)), 3);
	ck_assert_uint_eq(pt.ntables, 4);
	/* Keep the emptied tables when asked. */
	ck_assert_int_eq(pgt_unmap(&pt, MiB(2), KiB(64), PGT_KEEP_TABLES, NULL, NULL), 0);
	ck_assert_int_eq(leaf_level(MiB(2) + KiB(12)), -1);
	ck_assert_uint_eq(pt.ntables, 4);
	/* A 2 MiB piece whose L2 entry still points at a kept, empty table
	 * goes into that table as pages. */
	ck_assert_int_eq(pgt_map(&pt, MiB(2), GiB(1), MiB(2), RW, PGT_ALLOW_2M), 0);
	ck_assert_int_eq(leaf_level(MiB(3)), 3);
	ck_assert_int_eq(pgt_unmap(&pt, MiB(2), MiB(2), PGT_KEEP_TABLES, NULL, NULL), 0);
	ck_assert_uint_eq(pt.ntables, 4);
	/* A later unmap over them, even of nothing, frees them. */
	ck_assert_int_eq(pgt_unmap(&pt, 0, GiB(1), 0, NULL, NULL), 0);
	ck_assert_uint_eq(pt.ntables, 1);
	ck_assert_int_eq(pgt_map(&pt, MiB(2), GiB(1), MiB(2), RW, PGT_ALLOW_2M), 0);
	ck_assert_int_eq(leaf_level(MiB(3)), 2);
}
END_TEST

START_TEST(test_unmap_protect_refuse_partial_block)
{
	ck_assert_int_eq(pgt_map(&pt, MiB(4), GiB(1), MiB(2), RW, PGT_ALLOW_2M), 0);
	ck_assert_int_eq(pgt_map(&pt, MiB(6), GiB(1), KiB(8), RW, 0), 0);
	env.flushes = 0;
	ck_assert_int_eq(pgt_unmap(&pt, MiB(5), PAGE_SIZE, 0, NULL, NULL), -EINVAL);
	/* Covering the pages whole and the block in part: nothing changes. */
	ck_assert_int_eq(pgt_unmap(&pt, MiB(5), MiB(2), 0, NULL, NULL), -EINVAL);
	ck_assert_int_eq(leaf_level(MiB(6)), 3);
	ck_assert_int_eq(pgt_protect(&pt, MiB(4), MiB(1), MMU_READ), -EINVAL);
	ck_assert_int_eq(pgt_protect(&pt, MiB(5), MiB(2), MMU_READ), -EINVAL);
	ck_assert_uint_eq(prot_of(MiB(6)), RW);
	ck_assert_uint_eq(prot_of(MiB(4)), RW);
	ck_assert_int_eq(env.flushes, 0);
	ck_assert_int_eq(leaf_level(MiB(5)), 2);
	/* Whole: fine. */
	ck_assert_int_eq(pgt_protect(&pt, MiB(4), MiB(4), MMU_READ), 0);
	ck_assert_uint_eq(prot_of(MiB(5)), MMU_READ);
	ck_assert_uint_eq(prot_of(MiB(6) + KiB(4)), MMU_READ);
	ck_assert_int_eq(pgt_unmap(&pt, MiB(4), MiB(2), 0, NULL, NULL), 0);
	ck_assert_int_eq(leaf_level(MiB(5)), -1);
	ck_assert_int_eq(leaf_level(MiB(6)), 3);
}
END_TEST

START_TEST(test_protect)
{
	ck_assert_int_eq(pgt_map(&pt, MiB(2), GiB(1), KiB(32), RW | MMU_GLOBAL, 0), 0);
	ck_assert_int_eq(pgt_map(&pt, MiB(4), GiB(2), MiB(2), RW | MMU_NOCACHE, PGT_ALLOW_2M), 0);
	ck_assert_int_eq(pgt_map(&pt, MiB(8), GiB(3), KiB(4), RW | MMU_DEVICE, 0), 0);
	/* State to keep: page 0 accessed, page 1 dirty, the block both. */
	ck_assert(pgt_set_accessed(&pt, MiB(2), false));
	ck_assert(pgt_set_accessed(&pt, MiB(2) + KiB(4), true));
	ck_assert(!pgt_clear_accessed(&pt, MiB(2) + KiB(8)));
	ck_assert(pgt_clear_accessed(&pt, MiB(2) + KiB(4)));
	ck_assert(pgt_set_accessed(&pt, MiB(5), true));

	env.flushes = 0;
	ck_assert_int_eq(pgt_protect(&pt, MiB(2), MiB(8), MMU_READ), 0);
	ck_assert_int_eq(env.flushes, 1);
	ck_assert_uint_eq(env.flush_va, MiB(2));
	ck_assert_uint_eq(env.flush_len, MiB(8));
	ck_assert_uint_eq(prot_of(MiB(2)), MMU_READ | MMU_GLOBAL | MMU_ACCESSED);
	ck_assert_uint_eq(prot_of(MiB(2) + KiB(4)), MMU_READ | MMU_GLOBAL | MMU_DIRTY);
	ck_assert_uint_eq(prot_of(MiB(2) + KiB(8)), MMU_READ | MMU_GLOBAL);
	ck_assert_uint_eq(prot_of(MiB(5)), MMU_READ | MMU_NOCACHE | MMU_ACCESSED | MMU_DIRTY);
	ck_assert_uint_eq(prot_of(MiB(8)), MMU_READ | MMU_DEVICE);
	ck_assert_uint_eq(pa_of(MiB(5)), GiB(2) + MiB(1));
	ck_assert_int_eq(leaf_level(MiB(5)), 2);
	/* A write to a read-only page is not the fast path's to fix. */
	pte_t before = pgt_entry_load(pgt_walk(&pt, MiB(2) + KiB(8), NULL));
	ck_assert(!pgt_set_accessed(&pt, MiB(2) + KiB(8), true));
	ck_assert_uint_eq(pgt_entry_load(pgt_walk(&pt, MiB(2) + KiB(8), NULL)), before);
	ck_assert(!pte_writable_now(before));

	/* Device memory cannot become executable: refused, nothing changed. */
	ck_assert_int_eq(pgt_protect(&pt, MiB(2), MiB(8), RWX), -EINVAL);
	ck_assert_uint_eq(prot_of(MiB(2)), MMU_READ | MMU_GLOBAL | MMU_ACCESSED);

	/* Back to writable: the dirty page is dirty and writable at once, the
	 * clean one is not. */
	ck_assert_int_eq(pgt_protect(&pt, MiB(2), MiB(4), RWX), 0);
	ck_assert_uint_eq(prot_of(MiB(2) + KiB(4)), RWX | MMU_GLOBAL | MMU_DIRTY);
	ck_assert_uint_eq(prot_of(MiB(2) + KiB(8)), RWX | MMU_GLOBAL);
	ck_assert_uint_eq(prot_of(MiB(5)), RWX | MMU_NOCACHE | MMU_ACCESSED | MMU_DIRTY);
	ck_assert(pte_writable_now(pgt_entry_load(pgt_walk(&pt, MiB(5), NULL))));
#ifdef PGT_TEST_ARCH_aarch64
	ck_assert(!pte_writable_now(pgt_entry_load(pgt_walk(&pt, MiB(2) + KiB(8), NULL))));
#endif
	/* Same rights again: nothing changes, no flush. */
	env.flushes = 0;
	ck_assert_int_eq(pgt_protect(&pt, MiB(2), MiB(4), RWX), 0);
	ck_assert_int_eq(env.flushes, 0);
	/* Holes are skipped. */
	ck_assert_int_eq(pgt_protect(&pt, 0, GiB(1), MMU_READ), 0);
	ck_assert_uint_eq(prot_of(MiB(8)), MMU_READ | MMU_DEVICE);
	ck_assert_int_eq(leaf_level(MiB(12)), -1);
}
END_TEST

/* The states of one leaf through the fault fast path and the scanner. */
static void check_accessed_dirty_cycle(uintptr_t va, int want_level)
{
	ck_assert_int_eq(leaf_level(va), want_level);
	ck_assert_uint_eq(prot_of(va), RW);
	ck_assert(!pgt_clear_accessed(&pt, va));
	ck_assert(!pgt_clear_dirty(&pt, va));

	/* A read: accessed, still clean. */
	ck_assert(pgt_set_accessed(&pt, va, false));
	ck_assert_uint_eq(prot_of(va), RW | MMU_ACCESSED);
	ck_assert(pgt_set_accessed(&pt, va, false)); /* already: still true */
	ck_assert_uint_eq(prot_of(va), RW | MMU_ACCESSED);
#ifdef PGT_TEST_ARCH_aarch64
	/* Clean: the MMU must refuse the first write. */
	ck_assert(!pte_writable_now(pgt_entry_load(pgt_walk(&pt, va, NULL))));
#endif

	/* The scanner clears accessed: returns the old value, dirty alone. */
	ck_assert(pgt_clear_accessed(&pt, va));
	ck_assert(!pgt_clear_accessed(&pt, va));
	ck_assert_uint_eq(prot_of(va), RW);

	/* A read flushes nothing: an entry without the access flag is never
	 * in a TLB. */
	env.flushes = 0;
	ck_assert(pgt_set_accessed(&pt, va, false));
	ck_assert(pgt_clear_accessed(&pt, va));
	ck_assert_int_eq(env.flushes, 0);

	/* A write: accessed and dirty, and the page's TLB entry flushed (the
	 * CPU may hold the read-only entry that faulted). */
	ck_assert(pgt_set_accessed(&pt, va, true));
	ck_assert_uint_eq(prot_of(va), RW | MMU_ACCESSED | MMU_DIRTY);
	ck_assert(pte_writable_now(pgt_entry_load(pgt_walk(&pt, va, NULL))));
	ck_assert_int_eq(env.flushes, 1);
	ck_assert_uint_eq(env.flush_va, va & ~(uintptr_t)PAGE_MASK);
	ck_assert_uint_eq(env.flush_len, PAGE_SIZE);
	/* A repeated write fault on the entry already fixed (another CPU was
	 * first; this one still has the stale entry): flushed again. */
	ck_assert(pgt_set_accessed(&pt, va, true));
	ck_assert_uint_eq(prot_of(va), RW | MMU_ACCESSED | MMU_DIRTY);
	ck_assert_int_eq(env.flushes, 2);
	ck_assert_uint_eq(env.flush_va, va & ~(uintptr_t)PAGE_MASK);

	/* Clearing accessed leaves dirty set. */
	ck_assert(pgt_clear_accessed(&pt, va));
	ck_assert_uint_eq(prot_of(va), RW | MMU_DIRTY);

	/* Clearing dirty: old value, a flush of the page, accessed alone. */
	ck_assert(pgt_set_accessed(&pt, va, false));
	env.flushes = 0;
	ck_assert(pgt_clear_dirty(&pt, va));
	ck_assert_int_eq(env.flushes, 1);
	ck_assert_uint_eq(env.flush_va, va & ~(uintptr_t)PAGE_MASK);
	ck_assert_uint_eq(env.flush_len, PAGE_SIZE);
	ck_assert_uint_eq(prot_of(va), RW | MMU_ACCESSED);
	ck_assert(!pgt_clear_dirty(&pt, va));
	ck_assert_int_eq(env.flushes, 1);
#ifdef PGT_TEST_ARCH_aarch64
	ck_assert(!pte_writable_now(pgt_entry_load(pgt_walk(&pt, va, NULL))));
#else
	ck_assert(pte_writable_now(pgt_entry_load(pgt_walk(&pt, va, NULL))));
#endif
	/* The next write makes it dirty again. */
	ck_assert(pgt_set_accessed(&pt, va, true));
	ck_assert_uint_eq(prot_of(va), RW | MMU_ACCESSED | MMU_DIRTY);
	ck_assert_int_eq(leaf_level(va), want_level);
}

START_TEST(test_accessed_dirty_page)
{
	ck_assert_int_eq(pgt_map(&pt, MiB(2), GiB(1), KiB(8), RW, 0), 0);
	check_accessed_dirty_cycle(MiB(2) + KiB(4) + 12, 3);
	/* The neighbour saw none of it. */
	ck_assert_uint_eq(prot_of(MiB(2)), RW);
	ck_assert(!pgt_set_accessed(&pt, MiB(2) + KiB(8), false));
	ck_assert(!pgt_clear_accessed(&pt, MiB(2) + KiB(8)));
}
END_TEST

START_TEST(test_accessed_dirty_block)
{
	ck_assert_int_eq(pgt_map(&pt, MiB(4), GiB(1), MiB(4), RW, PGT_ALLOW_2M), 0);
	check_accessed_dirty_cycle(MiB(5) + KiB(100), 2);
	ck_assert_uint_eq(prot_of(MiB(6)), RW);
	ck_assert_int_eq(pgt_map(&pt, GiB(2), GiB(2), GiB(1), RW, PGT_ALLOW_1G), 0);
	check_accessed_dirty_cycle(GiB(2) + MiB(300) + 8, 1);
}
END_TEST

START_TEST(test_out_of_memory_undoes)
{
	/* Three tables for the first pages, then a new L2 and L3 across the
	 * 1 GiB boundary: fail each allocation in turn. */
	for (long k = 1; k <= 5; k++) {
		env.fail_at = env.allocs + k - 1;
		long live = pgt_test_live(&env);
		int rc = pgt_map(&pt, GiB(1) - MiB(2), GiB(5), MiB(4), RW, 0);
		ck_assert_int_eq(rc, -ENOMEM);
		ck_assert_int_eq(pgt_test_live(&env), live);
		ck_assert_uint_eq(pt.ntables, 1);
		ck_assert_int_eq(leaf_level(GiB(1) - MiB(2)), -1);
		ck_assert_int_eq(leaf_level(GiB(1) - PAGE_SIZE), -1);
	}
	env.fail_at = -1;
	ck_assert_int_eq(pgt_map(&pt, GiB(1) - MiB(2), GiB(5), MiB(4), RW, 0), 0);
	ck_assert_uint_eq(pt.ntables, 6);
	ck_assert_uint_eq(pa_of(GiB(1) + MiB(1)), GiB(5) + MiB(3));
	/* A map that fails must not take an existing table with it. */
	env.fail_at = env.allocs;
	ck_assert_int_eq(pgt_map(&pt, GiB(1) + MiB(2), GiB(5), MiB(2), RW, 0), -ENOMEM);
	ck_assert_uint_eq(pt.ntables, 6);
	ck_assert_uint_eq(pa_of(GiB(1) + MiB(1)), GiB(5) + MiB(3));
}
END_TEST

START_TEST(test_destroy_frees_everything)
{
	for (int i = 0; i < 64; i++)
		ck_assert_int_eq(pgt_map(&pt, GiB(i) + MiB(i), GiB(1), MiB(3), RW, PGT_ALLOW_2M),
				 0);
	ck_assert_int_eq(pgt_map(&pt, 0xffff800000000000ULL, 0, GiB(2), RW, PGT_ALLOW_BLOCKS), 0);
	ck_assert_int_gt(pgt_test_live(&env), 64);
	ck_assert_uint_eq(pt.ntables, (size_t)pgt_test_live(&env));
	/* teardown destroys and checks that nothing is left */
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pgt_map_" PTE_ARCH_NAME);
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_map_pages_walk_lookup);
	tcase_add_test(tc, test_map_blocks);
	tcase_add_test(tc, test_upper_half_and_top);
	tcase_add_test(tc, test_bad_arguments);
	tcase_add_test(tc, test_map_over_mapped_is_refused);
	tcase_add_test(tc, test_unmap_reports_flushes_frees);
	tcase_add_test(tc, test_unmap_part_keeps_the_rest);
	tcase_add_test(tc, test_unmap_protect_refuse_partial_block);
	tcase_add_test(tc, test_protect);
	tcase_add_test(tc, test_accessed_dirty_page);
	tcase_add_test(tc, test_accessed_dirty_block);
	tcase_add_test(tc, test_out_of_memory_undoes);
	tcase_add_test(tc, test_destroy_frees_everything);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
