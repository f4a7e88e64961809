/*
 * File mappings through the page cache, on the host (the test plays the
 * CPU, see pc_test_fs.c): shared and private, msync, munmap, one page in
 * several mappings, the reverse map, truncate while mapped, a failing
 * fill, eviction of mapped pages. Built once per entry format.
 */
#include "pc_test_fs.h"

#include <errno.h>
#include <string.h>

#define RW (MMU_READ | MMU_WRITE)

static struct tfs f;
static struct tmach m;
static uint8_t buf[4 * PAGE_SIZE];

static void setup(void)
{
	tmach_init(&m);
}

static void teardown(void)
{
	tmach_destroy(&m);
}

static uint64_t mapped_now(void)
{
	struct pc_stats st;
	pc_stats_get(&st);
	return st.mapped;
}

/* A shared write, msync, then read() sees it and the store has it. */
START_TEST(test_shared_write_msync)
{
	tfs_init(&f, &tfs_fill_owner, 4 * PAGE_SIZE);
	uintptr_t va = tmach_map(&m, &f, 4 * PAGE_SIZE, RW, VM_MAP_SHARED, 0);
	uint8_t v;
	ck_assert_int_eq(tmach_read(&m, va + 5, &v), 0);
	ck_assert_int_eq(v, tfs_byte(0, 5));
	ck_assert_int_eq(tmach_write(&m, va + PAGE_SIZE + 7, 'S'), 0);
	/* The mapping's page is the cache's page: read() sees it at once. */
	ck_assert_int_eq(tfs_pread(&f, buf, 8, PAGE_SIZE + 7), 8);
	ck_assert_int_eq(buf[0], 'S');
	ck_assert_int_eq(f.writebacks[1], 0);
	ck_assert_int_eq(vm_msync(&m.vs, (void *)va, 4 * PAGE_SIZE), 0);
	ck_assert_int_eq(f.writebacks[1], 1);
	ck_assert_int_eq(f.writebacks[0], 0); /* only read: not written back */
	ck_assert_int_eq(f.store[PAGE_SIZE + 7], 'S');
	/* Written again after msync: the write faults and dirties again. */
	ck_assert_int_eq(tmach_write(&m, va + PAGE_SIZE + 8, 'T'), 0);
	ck_assert_int_eq(vm_msync(&m.vs, (void *)va, 4 * PAGE_SIZE), 0);
	ck_assert_int_eq(f.writebacks[1], 2);
	ck_assert_int_eq(f.store[PAGE_SIZE + 8], 'T');
	ck_assert_uint_eq(mapped_now(), 2);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, 4 * PAGE_SIZE), 0);
	ck_assert_uint_eq(mapped_now(), 0);
	tfs_destroy(&f);
}
END_TEST

/* A private write is a copy: neither read() nor another mapping sees it. */
START_TEST(test_private_write)
{
	tfs_init(&f, &tfs_fill_owner, 2 * PAGE_SIZE);
	uintptr_t priv = tmach_map(&m, &f, 2 * PAGE_SIZE, RW, VM_MAP_PRIVATE, 0);
	uintptr_t shared = tmach_map(&m, &f, 2 * PAGE_SIZE, MMU_READ, VM_MAP_SHARED, 0);
	uint8_t v;
	ck_assert_int_eq(tmach_read(&m, priv, &v), 0);
	ck_assert_uint_eq(tmach_pa(&m, priv), ((struct pc_page *)pc_index_get(&f.obj, 0))->pa);
	ck_assert_int_eq(tmach_write(&m, priv + 3, 'P'), 0);
	ck_assert_uint_ne(tmach_pa(&m, priv), ((struct pc_page *)pc_index_get(&f.obj, 0))->pa);
	ck_assert_int_eq(tfs_pread(&f, buf, 1, 3), 1);
	ck_assert_int_eq(buf[0], tfs_byte(0, 3));
	ck_assert_int_eq(tmach_read(&m, shared + 3, &v), 0);
	ck_assert_int_eq(v, tfs_byte(0, 3));
	ck_assert_int_eq(tmach_read(&m, priv + 3, &v), 0);
	ck_assert_int_eq(v, 'P');
	ck_assert_int_eq(vm_msync(&m.vs, (void *)priv, 2 * PAGE_SIZE), 0);
	ck_assert_int_eq(f.total_writebacks, 0);
	/* The page left the private mapping's reverse map when copied. */
	struct pc_page *pg = pc_index_get(&f.obj, 0);
	ck_assert_uint_eq(pc_rmap_snapshot(pg, NULL, 0), 1);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)priv, 2 * PAGE_SIZE), 0);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)shared, 2 * PAGE_SIZE), 0);
	tfs_destroy(&f);
}
END_TEST

/* One page mapped in two areas is one page, with two reverse-map entries
 * that name both leaves; a write through one is read through the other. */
START_TEST(test_two_mappings_one_page)
{
	tfs_init(&f, &tfs_fill_owner, 2 * PAGE_SIZE);
	uintptr_t a = tmach_map(&m, &f, 2 * PAGE_SIZE, RW, VM_MAP_SHARED, 0);
	uintptr_t b = tmach_map(&m, &f, PAGE_SIZE, RW, VM_MAP_SHARED, PAGE_SIZE);
	ck_assert_int_eq(tmach_write(&m, a + PAGE_SIZE + 1, 'A'), 0);
	uint8_t v;
	ck_assert_int_eq(tmach_read(&m, b + 1, &v), 0);
	ck_assert_int_eq(v, 'A');
	ck_assert_uint_eq(tmach_pa(&m, a + PAGE_SIZE), tmach_pa(&m, b));
	ck_assert_int_eq(f.fills[1], 1);
	struct pc_page *pg = pc_index_get(&f.obj, 1);
	struct pc_rmap_ref refs[4];
	ck_assert_uint_eq(pc_rmap_snapshot(pg, refs, 4), 2);
	bool seen_a = false, seen_b = false;
	for (int i = 0; i < 2; i++) {
		ck_assert_ptr_eq(refs[i].vs, &m.vs);
		seen_a |= refs[i].va == a + PAGE_SIZE;
		seen_b |= refs[i].va == b;
	}
	ck_assert(seen_a && seen_b);
	ck_assert_uint_eq(pg->refs, 2);
	ck_assert_uint_eq(mapped_now(), 1);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)b, PAGE_SIZE), 0);
	ck_assert_uint_eq(pc_rmap_snapshot(pg, NULL, 0), 1);
	ck_assert_uint_eq(pg->refs, 1);
	/* Splitting the first area keeps the mapping alive in both halves. */
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)a, PAGE_SIZE), 0);
	ck_assert_int_eq(tmach_read(&m, a + PAGE_SIZE + 1, &v), 0);
	ck_assert_int_eq(v, 'A');
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)(a + PAGE_SIZE), PAGE_SIZE), 0);
	ck_assert_uint_eq(pg->refs, 0);
	ck_assert_uint_eq(mapped_now(), 0);
	tfs_destroy(&f);
}
END_TEST

/* Truncate while mapped: the pages past the end leave every mapping and
 * a later access there fails (EFAULT); the page holding the end stays,
 * its tail zeroed. */
START_TEST(test_truncate_mapped)
{
	tfs_init(&f, &tfs_fill_owner, 4 * PAGE_SIZE);
	uintptr_t va = tmach_map(&m, &f, 4 * PAGE_SIZE, RW, VM_MAP_SHARED, 0);
	uintptr_t va2 = tmach_map(&m, &f, 4 * PAGE_SIZE, MMU_READ, VM_MAP_SHARED, 0);
	uint8_t v;
	for (int p = 0; p < 4; p++) {
		ck_assert_int_eq(tmach_write(&m, va + p * PAGE_SIZE + 100, 'm'), 0);
		ck_assert_int_eq(tmach_read(&m, va2 + p * PAGE_SIZE, &v), 0);
	}
	ck_assert_uint_eq(mapped_now(), 4);
	ck_assert_int_eq(pc_truncate(&f.obj, PAGE_SIZE + 50), 0);
	ck_assert_uint_eq(mapped_now(), 2);
	ck_assert_uint_eq(tmach_pa(&m, va + 2 * PAGE_SIZE), 0);
	ck_assert_uint_eq(tmach_pa(&m, va2 + 3 * PAGE_SIZE), 0);
	ck_assert_int_eq(tmach_read(&m, va + 2 * PAGE_SIZE, &v), -EFAULT);
	ck_assert_int_eq(tmach_read(&m, va2 + 3 * PAGE_SIZE + 5, &v), -EFAULT);
	ck_assert_int_eq(tmach_write(&m, va + 3 * PAGE_SIZE, 'x'), -EFAULT);
	/* Inside the last page: still mapped, tail reads zero. */
	ck_assert_int_eq(tmach_read(&m, va + PAGE_SIZE + 100, &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(tmach_read(&m, va + 100, &v), 0);
	ck_assert_int_eq(v, 'm');
	ck_assert_uint_eq(pc_npages(&f.obj), 2);
	/* Growing again: the area refaults zero-filled pages (nothing in
	 * the store past the old end survives a truncate). */
	ck_assert_int_eq(vm_msync(&m.vs, (void *)va, 4 * PAGE_SIZE), 0);
	ck_assert_int_eq(f.writebacks[2], 0);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, 4 * PAGE_SIZE), 0);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va2, 4 * PAGE_SIZE), 0);
	tfs_destroy(&f);
}
END_TEST

/* A fill that fails fails the fault with EIO: no page is mapped, nothing
 * is cached, and the next try (fill working again) succeeds. */
START_TEST(test_fill_error_fault)
{
	tfs_init(&f, &tfs_fill_owner, 2 * PAGE_SIZE);
	uintptr_t va = tmach_map(&m, &f, 2 * PAGE_SIZE, MMU_READ, VM_MAP_SHARED, 0);
	f.fail_fill_index = 1;
	uint8_t v;
	ck_assert_int_eq(tmach_read(&m, va + PAGE_SIZE, &v), -EIO);
	ck_assert_uint_eq(tmach_pa(&m, va + PAGE_SIZE), 0);
	ck_assert_ptr_null(pc_index_get(&f.obj, 1));
	f.fail_fill_index = -1;
	ck_assert_int_eq(tmach_read(&m, va + PAGE_SIZE, &v), 0);
	ck_assert_int_eq(v, tfs_byte(1, 0));
	/* Past the end of the file but inside the area: EFAULT. */
	uintptr_t big = tmach_map(&m, &f, 4 * PAGE_SIZE, MMU_READ, VM_MAP_SHARED, 0);
	ck_assert_int_eq(tmach_read(&m, big + 2 * PAGE_SIZE, &v), -EFAULT);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)big, 4 * PAGE_SIZE), 0);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, 2 * PAGE_SIZE), 0);
	tfs_destroy(&f);
}
END_TEST

/* Lent pages are mapped as they are (the store's frame, no copy); a
 * shared write fault on one breaks the lend: the page is unmapped (the VM
 * retries the fault after the pager's unblock) and replaced by a copy of
 * the cache's own, which is written back; the owner's frame is never
 * written. */
START_TEST(test_lent_mapped)
{
	tfs_init(&f, &tfs_lend_owner, 2 * PAGE_SIZE);
	uintptr_t va = tmach_map(&m, &f, 2 * PAGE_SIZE, RW, VM_MAP_SHARED, 0);
	uint8_t v;
	ck_assert_int_eq(tmach_read(&m, va + 9, &v), 0);
	ck_assert_uint_eq(tmach_pa(&m, va), virt_to_phys(f.store));
	struct pc_stats s0, s1;
	pc_stats_get(&s0);
	ck_assert_int_eq(tmach_write(&m, va + 9, 'q'), 0);
	pc_stats_get(&s1);
	ck_assert_uint_eq(s1.lends_broken - s0.lends_broken, 1);
	ck_assert_uint_ne(tmach_pa(&m, va), virt_to_phys(f.store));
	ck_assert_int_eq(f.store[9], tfs_byte(0, 9)); /* the lent frame untouched */
	ck_assert_int_eq(f.unlends[0], 1);	      /* handed back at the break */
	ck_assert_int_eq(tmach_read(&m, va + 10, &v), 0);
	ck_assert_uint_eq(v, tfs_byte(0, 10));
	/* A page not mapped yet: written through a copy of the cache's own. */
	ck_assert_int_eq(tmach_write(&m, va + PAGE_SIZE, 'q'), 0);
	ck_assert_uint_ne(tmach_pa(&m, va + PAGE_SIZE), virt_to_phys(f.store + PAGE_SIZE));
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, 2 * PAGE_SIZE), 0);
	ck_assert_int_eq(pc_fsync(&f.obj), 0);
	ck_assert_int_eq(f.store[PAGE_SIZE], 'q');
	ck_assert_int_eq(f.store[9], 'q');
	tfs_destroy(&f);
	ck_assert_int_eq(f.unlends[0], 1);
}
END_TEST

/* Eviction of mapped pages: unmapped first (the leaf's dirty state is
 * kept), written back, dropped; the mapping refaults them. Nothing
 * written through a mapping is lost. */
START_TEST(test_evict_mapped)
{
	tfs_init(&f, &tfs_fill_owner, 4 * PAGE_SIZE);
	uintptr_t va = tmach_map(&m, &f, 4 * PAGE_SIZE, RW, VM_MAP_SHARED, 0);
	uint8_t v;
	for (int p = 0; p < 4; p++)
		ck_assert_int_eq(tmach_write(&m, va + p * PAGE_SIZE, (uint8_t)('0' + p)), 0);
	for (int p = 0; p < 4; p++)
		pc_page_clear(pc_index_get(&f.obj, p), PC_PG_ACCESSED);
	struct pc_stats s0;
	pc_stats_get(&s0);
	ck_assert_uint_eq(pc_evict(4 * PAGE_SIZE), 4 * PAGE_SIZE);
	ck_assert_uint_eq(mapped_now(), 0);
	ck_assert_uint_eq(pc_npages(&f.obj), 0);
	for (int p = 0; p < 4; p++) {
		ck_assert_int_eq(f.writebacks[p], 1);
		ck_assert_int_eq(f.store[p * PAGE_SIZE], '0' + p);
		ck_assert_uint_eq(tmach_pa(&m, va + p * PAGE_SIZE), 0);
	}
	for (int p = 0; p < 4; p++) {
		ck_assert_int_eq(tmach_read(&m, va + p * PAGE_SIZE, &v), 0);
		ck_assert_int_eq(v, '0' + p);
	}
	struct pc_stats s1;
	pc_stats_get(&s1);
	ck_assert_uint_eq(s1.refaults, s0.refaults + 4);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, 4 * PAGE_SIZE), 0);
	tfs_destroy(&f);
}
END_TEST

/* fsync of a page written through a mapping without msync: the leaf's
 * dirty state is harvested, so the write reaches the store. */
START_TEST(test_fsync_harvests_mapped_dirty)
{
	tfs_init(&f, &tfs_fill_owner, PAGE_SIZE);
	uintptr_t va = tmach_map(&m, &f, PAGE_SIZE, RW, VM_MAP_SHARED, 0);
	ck_assert_int_eq(tmach_write(&m, va, 'a'), 0);
	ck_assert_int_eq(pc_fsync(&f.obj), 0);
	ck_assert_int_eq(f.store[0], 'a');
	/* Written again without a fault (the leaf is still writable). */
	ck_assert_int_eq(tmach_write(&m, va + 1, 'b'), 0);
	ck_assert_int_eq(pc_fsync(&f.obj), 0);
	ck_assert_int_eq(f.store[1], 'b');
	ck_assert_int_eq(f.writebacks[0], 2);
	ck_assert_int_eq(pc_fsync(&f.obj), 0);
	ck_assert_int_eq(f.writebacks[0], 2); /* clean: nothing more */
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, PAGE_SIZE), 0);
	tfs_destroy(&f);
}
END_TEST

/* The store owner (ramfs's kind) mapped: a write fault on a hole makes
 * the page, read() sees it, and nothing is written back. */
START_TEST(test_store_mapped)
{
	tfs_init(&f, &tfs_store_owner, 3 * PAGE_SIZE);
	uintptr_t va = tmach_map(&m, &f, 3 * PAGE_SIZE, RW, VM_MAP_SHARED, 0);
	uint8_t v;
	ck_assert_int_eq(tmach_read(&m, va + 2 * PAGE_SIZE, &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(tmach_write(&m, va + 5, 'r'), 0);
	ck_assert_int_eq(tfs_pread(&f, buf, 6, 0), 6);
	ck_assert_int_eq(buf[5], 'r');
	ck_assert_int_eq(vm_msync(&m.vs, (void *)va, 3 * PAGE_SIZE), 0);
	ck_assert_uint_eq(pc_evict(1 << 20), 0);
	ck_assert_uint_eq(
	    tmach_pa(&m, va),
	    virt_to_phys(f.obj.root ? ((struct pc_page *)pc_index_get(&f.obj, 0))->data : NULL));
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, 3 * PAGE_SIZE), 0);
	tfs_destroy(&f);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pc_map");
	TCase *tc = tcase_create("map");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_shared_write_msync);
	tcase_add_test(tc, test_private_write);
	tcase_add_test(tc, test_two_mappings_one_page);
	tcase_add_test(tc, test_truncate_mapped);
	tcase_add_test(tc, test_fill_error_fault);
	tcase_add_test(tc, test_lent_mapped);
	tcase_add_test(tc, test_evict_mapped);
	tcase_add_test(tc, test_fsync_harvests_mapped_dirty);
	tcase_add_test(tc, test_store_mapped);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
