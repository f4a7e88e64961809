/*
 * Check suite for one page-table entry format (<arch/pte.h>): every level,
 * protection and state round-trips through the encoder and decoders; the
 * encoders refuse nonsense; and a few entries have their exact bits written
 * out, so a wrong bit position fails even if it round-trips.
 */
#include "pgt_test.h"
#include <check.h>
#include <stdlib.h>

#ifdef PGT_TEST_ARCH_x86_64
#define PA_LIMIT (1ULL << 52)
#else
#define PA_LIMIT (1ULL << 48)
#endif

/* Some addresses aligned to the leaf size of `level`, the largest included. */
static int aligned_pas(int level, uint64_t *out)
{
	uint64_t sz = mmu_level_size(level);
	int n = 0;
	out[n++] = 0;
	out[n++] = sz;
	out[n++] = 0x40000000ULL;
	out[n++] = 0x123456789000ULL & ~(sz - 1);
	out[n++] = (PA_LIMIT - 1) & ~(sz - 1);
	return n;
}

START_TEST(test_leaf_round_trip)
{
	long made = 0;
	for (int level = 1; level <= 3; level++) {
		uint64_t pas[8];
		int npa = aligned_pas(level, pas);
		for (unsigned prot = 0; prot <= MMU_PROT_MASK; prot++) {
			if (!mmu_prot_valid(prot))
				continue;
			for (int st = 0; st < 4; st++) {
				bool acc = st & 1, dirty = st & 2;
				for (int i = 0; i < npa; i++) {
					pte_t e = pte_make_leaf(pas[i], level, prot, acc, dirty);
					ck_assert_uint_ne(e, 0);
					ck_assert(pte_valid(e));
					ck_assert(pte_is_leaf(e, level));
					ck_assert(!pte_is_table(e, level));
					ck_assert_uint_eq(pte_pa(e, level), pas[i]);
					ck_assert_uint_eq(pte_prot(e), prot);
					ck_assert_int_eq(pte_accessed(e), acc);
					ck_assert_int_eq(pte_dirty(e), dirty);

					/* Each state flips alone. */
					pte_t a = pte_with_accessed(e, !acc);
					ck_assert_int_eq(pte_accessed(a), !acc);
					ck_assert_int_eq(pte_dirty(a), dirty);
					ck_assert_uint_eq(pte_prot(a), prot);
					ck_assert_uint_eq(pte_pa(a, level), pas[i]);
					ck_assert(pte_is_leaf(a, level));
					ck_assert_uint_eq(pte_with_accessed(a, acc), e);

					pte_t d = pte_with_dirty(e, !dirty);
					ck_assert_int_eq(pte_dirty(d), !dirty);
					ck_assert_int_eq(pte_accessed(d), acc);
					ck_assert_uint_eq(pte_prot(d), prot);
					ck_assert_uint_eq(pte_pa(d, level), pas[i]);
					ck_assert(pte_is_leaf(d, level));
					ck_assert_uint_eq(pte_with_dirty(d, dirty), e);
					/* Setting what is set changes nothing. */
					ck_assert_uint_eq(pte_with_accessed(e, acc), e);
					ck_assert_uint_eq(pte_with_dirty(e, dirty), e);

					/* The same entry made with the other state. */
					ck_assert_uint_eq(
					    pte_make_leaf(pas[i], level, prot, !acc, dirty), a);
					ck_assert_uint_eq(
					    pte_make_leaf(pas[i], level, prot, acc, !dirty), d);

					bool w = prot & MMU_WRITE;
#ifdef PGT_TEST_ARCH_x86_64
					/* Hardware A/D: writable means writable now. */
					ck_assert_int_eq(pte_writable_now(e), w);
#else
					/* Software AF and dirty: a write goes through only
					 * on an accessed, dirty, writable leaf. */
					ck_assert_int_eq(pte_writable_now(e), w && acc && dirty);
#endif
					made++;
				}
			}
		}
	}
	ck_assert_int_gt(made, 3 * 4 * 5 * 10);
}
END_TEST

START_TEST(test_table_round_trip)
{
	uint64_t pas[] = {0, PAGE_SIZE, 0x40000000ULL, 0x7ffff000ULL, PA_LIMIT - PAGE_SIZE};
	for (size_t i = 0; i < ARRAY_SIZE(pas); i++) {
		pte_t e = pte_make_table(pas[i]);
		ck_assert_uint_ne(e, 0);
		ck_assert(pte_valid(e));
		for (int level = 0; level < MMU_LEAF_LEVEL; level++) {
			ck_assert(pte_is_table(e, level));
			ck_assert(!pte_is_leaf(e, level));
			ck_assert_uint_eq(pte_pa(e, level), pas[i]);
		}
	}
	ck_assert_uint_eq(pte_make_table(0x1800), 0);
	ck_assert_uint_eq(pte_make_table(0x1001), 0);
	ck_assert_uint_eq(pte_make_table(PA_LIMIT), 0);
}
END_TEST

START_TEST(test_encoders_refuse_nonsense)
{
	unsigned rw = MMU_READ | MMU_WRITE;
	/* Levels that cannot hold a leaf. */
	ck_assert_uint_eq(pte_make_leaf(0, 0, rw, true, true), 0);
	ck_assert_uint_eq(pte_make_leaf(0, -1, rw, true, true), 0);
	ck_assert_uint_eq(pte_make_leaf(0, 4, rw, true, true), 0);
	ck_assert(!pte_level_has_leaves(0));
	ck_assert(pte_level_has_leaves(1) && pte_level_has_leaves(2) && pte_level_has_leaves(3));
	/* Misaligned for the level. */
	for (int level = 1; level <= 3; level++) {
		uint64_t sz = mmu_level_size(level);
		ck_assert_uint_ne(pte_make_leaf(sz * 3, level, rw, false, false), 0);
		ck_assert_uint_eq(pte_make_leaf(sz * 3 + sz / 2, level, rw, false, false), 0);
		ck_assert_uint_eq(pte_make_leaf(sz * 3 + 8, level, rw, false, false), 0);
		if (level < MMU_LEAF_LEVEL)
			ck_assert_uint_eq(
			    pte_make_leaf(sz * 3 + PAGE_SIZE, level, rw, false, false), 0);
		/* Beyond the physical address width. */
		ck_assert_uint_eq(pte_make_leaf(PA_LIMIT, level, rw, false, false), 0);
	}
	/* Protections neither format can express. */
	unsigned bad[] = {0,
			  MMU_WRITE,
			  MMU_EXEC,
			  MMU_WRITE | MMU_EXEC,
			  MMU_READ | MMU_DEVICE | MMU_EXEC,
			  MMU_READ | MMU_DEVICE | MMU_NOCACHE,
			  MMU_READ | MMU_ACCESSED,
			  MMU_READ | (1u << 7)};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		ck_assert(!mmu_prot_valid(bad[i]));
		for (int level = 1; level <= 3; level++)
			ck_assert_uint_eq(pte_make_leaf(0, level, bad[i], false, false), 0);
	}
	ck_assert(!pte_valid(0));
	for (int level = 0; level <= 3; level++)
		ck_assert(!pte_is_leaf(0, level) && !pte_is_table(0, level));
}
END_TEST

START_TEST(test_geometry)
{
	ck_assert_uint_eq(mmu_level_size(3), 4096);
	ck_assert_uint_eq(mmu_level_size(2), 2ULL << 20);
	ck_assert_uint_eq(mmu_level_size(1), 1ULL << 30);
	ck_assert_uint_eq(mmu_level_size(0), 512ULL << 30);
	uint64_t va = 0xffff8123456789abULL;
	ck_assert_uint_eq(mmu_level_index(va, 0), (va >> 39) & 511);
	ck_assert_uint_eq(mmu_level_index(va, 0), 258);
	ck_assert_uint_eq(mmu_level_index(va, 3), (va >> 12) & 511);
	ck_assert(mmu_va_canonical(0));
	ck_assert(mmu_va_canonical(0x00007fffffffffffULL));
	ck_assert(!mmu_va_canonical(0x0000800000000000ULL));
	ck_assert(!mmu_va_canonical(0xffff7fffffffffffULL));
	ck_assert(mmu_va_canonical(0xffff800000000000ULL));
	ck_assert(mmu_va_canonical(~0ULL));
}
END_TEST

#ifdef PGT_TEST_ARCH_x86_64
START_TEST(test_known_bits)
{
	unsigned rwx = MMU_READ | MMU_WRITE | MMU_EXEC;
	/* boot.S: table entries are P|RW, its 2 MiB pages P|RW|PS, its first
	 * page table P|RW. */
	ck_assert_uint_eq(pte_make_table(0x1000), 0x1003);
	ck_assert_uint_eq(pte_make_leaf(0x200000, 2, rwx, false, false), 0x200083);
	ck_assert_uint_eq(pte_make_leaf(0x1000, 3, rwx, false, false), 0x1003);
	/* Read-only, accessed, not executable: P|A|NX. */
	ck_assert_uint_eq(pte_make_leaf(0x5000, 3, MMU_READ, true, false), 0x8000000000005021ULL);
	/* Device (UC: PCD|PWT), global, accessed, dirty. */
	ck_assert_uint_eq(pte_make_leaf(0xfee00000, 3,
					MMU_READ | MMU_WRITE | MMU_DEVICE | MMU_GLOBAL, true, true),
			  0x80000000fee0017bULL);
	/* 1 GiB read-only uncached-minus (PCD alone): P|PCD|PS|NX. */
	ck_assert_uint_eq(pte_make_leaf(0x40000000, 1, MMU_READ | MMU_NOCACHE, false, false),
			  0x8000000040000091ULL);
	/* A 4 KiB leaf never has PS (bit 7 is PAT there). */
	ck_assert_uint_eq(pte_make_leaf(0x3000, 3, MMU_READ | MMU_WRITE, true, true) & 0x80, 0);
	/* Dirty is D (bit 6), accessed A (bit 5), nothing else. */
	pte_t e = pte_make_leaf(0x7000, 3, MMU_READ | MMU_WRITE, false, false);
	ck_assert_uint_eq(pte_with_dirty(e, true), e | 0x40);
	ck_assert_uint_eq(pte_with_accessed(e, true), e | 0x20);
	ck_assert_uint_eq(PTE_ACCESSED_BIT, 0x20);
	/* A clean writable page stays writable (RW set): the CPU sets D. */
	ck_assert_uint_eq(e & 2, 2);
	ck_assert(pte_writable_now(e));
	/* Decoding a foreign 2 MiB entry: address bits 51..21 only. */
	ck_assert_uint_eq(pte_pa(0x80000000002010e3ULL, 2), 0x200000);
	ck_assert(pte_is_leaf(0x80000000002010e3ULL, 2));
	/* PS at level 0 is reserved: neither table nor leaf. */
	ck_assert(!pte_is_leaf(0x1083, 0) && !pte_is_table(0x1083, 0));
}
END_TEST
#else
START_TEST(test_known_bits)
{
	/* Table: 11 and the address. */
	ck_assert_uint_eq(pte_make_table(0x41000), 0x41003);
	/* boot.S's BLOCK_NORMAL at GiB 1 (valid, AttrIndx 1, SH inner, AF,
	 * UXN), plus what this scheme adds for a writable, dirty leaf: DBM
	 * (51) and PTE_SW_WRITE (55), AP[2] clear. */
	ck_assert_uint_eq(
	    pte_make_leaf(0x40000000, 1, MMU_READ | MMU_WRITE | MMU_EXEC | MMU_GLOBAL, true, true),
	    0x40000000ULL | 0x705 | (1ULL << 51) | (1ULL << 54) | (1ULL << 55));
	ck_assert_uint_eq(
	    pte_make_leaf(0x40000000, 1, MMU_READ | MMU_WRITE | MMU_EXEC | MMU_GLOBAL, true, true),
	    0x00c8000040000705ULL);
	/* A clean writable page: page descriptor (11), AttrIndx 1, AP[2] set
	 * (read-only to the MMU), SH inner, AF clear, nG, DBM, PXN, UXN,
	 * PTE_SW_WRITE. */
	pte_t clean = pte_make_leaf(0x80000000, 3, MMU_READ | MMU_WRITE, false, false);
	ck_assert_uint_eq(clean, 0x00e8000080000b87ULL);
	ck_assert(!pte_writable_now(clean));
	/* Marking it dirty clears AP[2] only; accessed sets AF only. */
	ck_assert_uint_eq(pte_with_dirty(clean, true), 0x00e8000080000b07ULL);
	ck_assert_uint_eq(pte_with_accessed(clean, true), 0x00e8000080000f87ULL);
	ck_assert(pte_writable_now(pte_with_accessed(pte_with_dirty(clean, true), true)));
	ck_assert_uint_eq(PTE_ACCESSED_BIT, 1ULL << 10);
	/* dirty == PTE_SW_WRITE && AP[2] == 0, for writable leaves. */
	ck_assert(pte_dirty(0x00e8000080000b07ULL));
	ck_assert(!pte_dirty(0x00e8000080000b87ULL));
	/* Device-nGnRnE (AttrIndx 0, no SH), global, AF, writable dirty. */
	ck_assert_uint_eq(pte_make_leaf(0x09000000, 3,
					MMU_READ | MMU_WRITE | MMU_DEVICE | MMU_GLOBAL, true, true),
			  0x00e8000009000403ULL);
	/* A read-only, dirty, Normal-NC 2 MiB block: block (01), AttrIndx 2,
	 * AP[2], SH inner, AF, nG, PXN, UXN, PTE_SW_DIRTY (56), no DBM. */
	pte_t ro = pte_make_leaf(0x40200000, 2, MMU_READ | MMU_NOCACHE, true, true);
	ck_assert_uint_eq(ro, 0x0160000040200f89ULL);
	ck_assert_uint_eq(pte_with_dirty(ro, false), 0x0060000040200f89ULL);
	ck_assert(!pte_writable_now(ro));
	/* No leaf ever grants EL0 access (AP[1]) or sets the contiguous bit. */
	for (unsigned prot = 0; prot <= MMU_PROT_MASK; prot++) {
		if (!mmu_prot_valid(prot))
			continue;
		pte_t e = pte_make_leaf(0x1000, 3, prot, true, true);
		ck_assert_uint_eq(e & (PTE_A64_AP_EL0 | PTE_A64_CONT), 0);
		ck_assert_uint_eq(e & PTE_A64_UXN, PTE_A64_UXN);
		/* DBM only where the hardware may make the page writable. */
		ck_assert_int_eq(!!(e & PTE_A64_DBM), !!(prot & MMU_WRITE));
	}
	/* 01 at level 3 is reserved: neither page nor table. */
	ck_assert(!pte_is_leaf(0x80000401ULL, 3) && !pte_is_table(0x80000401ULL, 3));
	/* Blocks at L0 do not exist with a 4 KiB granule. */
	ck_assert(!pte_is_leaf(0x401ULL, 0));
}
END_TEST
#endif

int main(void)
{
	Suite *s = suite_create("pgt_pte_" PTE_ARCH_NAME);
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, test_leaf_round_trip);
	tcase_add_test(tc, test_table_round_trip);
	tcase_add_test(tc, test_encoders_refuse_nonsense);
	tcase_add_test(tc, test_geometry);
	tcase_add_test(tc, test_known_bits);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
