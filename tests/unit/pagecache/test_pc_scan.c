/*
 * The access scanner on the host: a batch clears the accessed state of
 * mapped pages' leaves, flushes them, reports to the owner and marks the
 * page for eviction's second chance; a touch (the "CPU" setting the bit:
 * hardware on x86_64, the access-flag fault path on aarch64) is seen by
 * the next pass. The CPU budget controller against a fake clock. Built
 * once per entry format.
 */
#include "pc_test_fs.h"

#include <karst/time.h>
#include <string.h>
#include <unistd.h>

#define RW (MMU_READ | MMU_WRITE)

static struct tfs f;
static struct tmach m;

START_TEST(test_scan_clears_and_sees_touch)
{
	tmach_init(&m);
	tfs_init(&f, &tfs_fill_owner, 16 * PAGE_SIZE);
	uintptr_t va = tmach_map(&m, &f, 16 * PAGE_SIZE, RW, VM_MAP_SHARED, 0);
	uint8_t v;
	for (int p = 0; p < 16; p++)
		ck_assert_int_eq(tmach_read(&m, va + p * PAGE_SIZE, &v), 0);
	struct pc_stats s0;
	pc_stats_get(&s0);
	long flushes0 = m.env.flushes;
	ck_assert_uint_eq(pc_scan_pass(0), 16);
	struct pc_stats s1;
	pc_stats_get(&s1);
	ck_assert_uint_eq(s1.scan_scanned - s0.scan_scanned, 16);
	ck_assert_uint_eq(s1.scan_cleared - s0.scan_cleared, 16);
	ck_assert_uint_eq(s1.scan_accessed - s0.scan_accessed, 16);
	/* Consecutive pages: one flush run, not sixteen. */
	ck_assert_int_eq(m.env.flushes - flushes0, 1);
	ck_assert_uint_eq(m.env.flush_len, 16 * PAGE_SIZE);
	for (int p = 0; p < 16; p++) {
		ck_assert_int_eq(f.accessed[p], 1);
		unsigned prot = 0;
		ck_assert(pgt_lookup(&m.pt, va + p * PAGE_SIZE, NULL, &prot));
		ck_assert(!(prot & MMU_ACCESSED));
	}
	/* Nothing touched since: a pass finds nothing and flushes nothing. */
	flushes0 = m.env.flushes;
	ck_assert_uint_eq(pc_scan_pass(0), 16);
	pc_stats_get(&s0);
	ck_assert_uint_eq(s0.scan_accessed, s1.scan_accessed);
	ck_assert_int_eq(m.env.flushes, flushes0);
	/* Touch pages 3 and 9: the next pass sees exactly those. */
	ck_assert_int_eq(tmach_read(&m, va + 3 * PAGE_SIZE, &v), 0);
	ck_assert_int_eq(tmach_write(&m, va + 9 * PAGE_SIZE, 'w'), 0);
	ck_assert_uint_eq(pc_scan_pass(0), 16);
	pc_stats_get(&s1);
	ck_assert_uint_eq(s1.scan_accessed - s0.scan_accessed, 2);
	ck_assert_int_eq(f.accessed[3], 2);
	ck_assert_int_eq(f.accessed[9], 2);
	ck_assert_int_eq(f.accessed[4], 1);
	ck_assert(pc_flags(pc_index_get(&f.obj, 3)) & PC_PG_ACCESSED);
	/* Bounded batches resume where they stopped. */
	ck_assert_uint_eq(pc_scan_pass(5), 5);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, 16 * PAGE_SIZE), 0);
	ck_assert_uint_eq(pc_scan_pass(0), 0);
	tfs_destroy(&f);
	tmach_destroy(&m);
}
END_TEST

/* The scanner feeds eviction: a page it found accessed survives a pass
 * that takes its idle neighbours. */
START_TEST(test_scan_feeds_eviction)
{
	tmach_init(&m);
	tfs_init(&f, &tfs_fill_owner, 4 * PAGE_SIZE);
	uintptr_t va = tmach_map(&m, &f, 4 * PAGE_SIZE, MMU_READ, VM_MAP_SHARED, 0);
	uint8_t v;
	for (int p = 0; p < 4; p++)
		ck_assert_int_eq(tmach_read(&m, va + p * PAGE_SIZE, &v), 0);
	ck_assert_uint_eq(pc_scan_pass(0), 4); /* clears the leaves */
	for (int p = 0; p < 4; p++)
		pc_page_clear(pc_index_get(&f.obj, p), PC_PG_ACCESSED);
	ck_assert_int_eq(tmach_read(&m, va + 2 * PAGE_SIZE, &v), 0);
	ck_assert_uint_eq(pc_scan_pass(0), 4);
	ck_assert_uint_eq(pc_evict(3 * PAGE_SIZE), 3 * PAGE_SIZE);
	ck_assert_ptr_nonnull(pc_index_get(&f.obj, 2));
	ck_assert(!pc_is_shadow(pc_index_get(&f.obj, 2)));
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, 4 * PAGE_SIZE), 0);
	tfs_destroy(&f);
	tmach_destroy(&m);
}
END_TEST

/* Fake clock: the scanner costs `ns_per_page`; `hot` of every 1000 pages
 * are found accessed. Run `rounds` rounds; return the largest share
 * measured in any round, in ppm. */
static uint64_t drive(struct pc_scan_ctl *c, size_t mapped, unsigned hot, int rounds,
		      uint64_t ns_per_page)
{
	uint64_t worst = 0;
	for (int r = 0; r < rounds; r++) {
		uint64_t budget = pc_scan_ctl_budget(c);
		size_t scanned =
		    mapped ? (size_t)(budget / ns_per_page) + 1 : 0; /* overruns a bit */
		if (scanned > mapped)
			scanned = mapped;
		uint64_t worked = scanned * ns_per_page;
		size_t accessed = scanned * hot / 1000;
		uint64_t sleep = pc_scan_ctl_plan(c, worked, scanned, accessed, mapped);
		pc_scan_ctl_measure(c, worked, worked + sleep);
		if (c->now_ppm > worst)
			worst = c->now_ppm;
	}
	return worst;
}

START_TEST(test_ctl_idle_goes_to_min)
{
	struct pc_scan_ctl c;
	pc_scan_ctl_init(&c, 1000, 200000, 100 * NSEC_PER_MSEC);
	/* Start hot: climbs to the maximum, never above it. */
	uint64_t worst = drive(&c, 1000000, 500, 40, 1000);
	ck_assert_uint_eq(c.ppm, 200000);
	ck_assert_uint_le(worst, 200000 + 200000 / 100);
	/* Then idle: decays to the minimum. */
	drive(&c, 1000000, 0, 60, 1000);
	ck_assert_uint_eq(c.ppm, 1000);
	ck_assert_uint_le(c.now_ppm, 1000 + 100);
	/* The average follows, smoothed: two hot rounds later (the first
	 * still ran at the old share) the share measured now is above it. */
	drive(&c, 1000000, 500, 2, 1000);
	ck_assert_uint_eq(c.now_ppm, 2000);
	ck_assert_uint_gt(c.now_ppm, c.avg_ppm);
	/* Nothing mapped: minimum at once, and a full period's sleep. */
	pc_scan_ctl_init(&c, 1000, 200000, 100 * NSEC_PER_MSEC);
	drive(&c, 1000000, 1000, 10, 1000);
	ck_assert_uint_gt(c.ppm, 1000);
	uint64_t sleep = pc_scan_ctl_plan(&c, 0, 0, 0, 0);
	ck_assert_uint_eq(c.ppm, 1000);
	ck_assert_uint_eq(sleep, 100 * NSEC_PER_MSEC);
}
END_TEST

START_TEST(test_ctl_overrun_sleeps_longer)
{
	struct pc_scan_ctl c;
	pc_scan_ctl_init(&c, 1000, 200000, 100 * NSEC_PER_MSEC);
	/* A batch took 50 ms at a 0.1% share: sleep 999 times that. */
	uint64_t sleep = pc_scan_ctl_plan(&c, 50 * NSEC_PER_MSEC, 64, 0, 64);
	ck_assert_uint_eq(sleep, 50 * NSEC_PER_MSEC * 999);
	pc_scan_ctl_measure(&c, 50 * NSEC_PER_MSEC, 50 * NSEC_PER_MSEC + sleep);
	ck_assert_uint_eq(c.now_ppm, 1000);
	/* Moderate heat (between 1/64 and 1/8) holds the share. */
	pc_scan_ctl_init(&c, 1000, 200000, 100 * NSEC_PER_MSEC);
	c.ppm = 5000;
	pc_scan_ctl_plan(&c, 1000, 1000, 50, 1000);
	ck_assert_uint_eq(c.ppm, 5000);
	/* Bounds are sanitised. */
	pc_scan_ctl_init(&c, 0, 5000000, NSEC_PER_MSEC);
	ck_assert_uint_eq(c.min_ppm, 1);
	ck_assert_uint_eq(c.max_ppm, 1000000);
}
END_TEST

/* The thread: started by an evictable owner's registration when automatic
 * starts are on, runs passes, stops on request. */
START_TEST(test_thread_runs)
{
	tmach_init(&m);
	tfs_init(&f, &tfs_fill_owner, 8 * PAGE_SIZE);
	uintptr_t va = tmach_map(&m, &f, 8 * PAGE_SIZE, MMU_READ, VM_MAP_SHARED, 0);
	uint8_t v;
	for (int p = 0; p < 8; p++)
		ck_assert_int_eq(tmach_read(&m, va + p * PAGE_SIZE, &v), 0);
	static const struct pc_owner_ops ops = {.fill = (void *)1, .writeback = (void *)1};
	static struct pc_owner ev = {.name = "evictable", .ops = &ops};
	ck_assert(!pc_scanner_running());
	pc_scanner_set_auto(true);
	ck_assert_int_eq(pc_owner_register(&ev), 0);
	ck_assert(pc_scanner_running());
	struct pc_stats st;
	for (int i = 0; i < 500; i++) {
		pc_stats_get(&st);
		if (st.scan_scanned >= 8 && st.scan_cpu_ppm_avg)
			break;
		usleep(10000);
	}
	ck_assert_uint_ge(st.scan_scanned, 8);
	pc_scanner_stop();
	ck_assert(!pc_scanner_running());
	pc_owner_unregister(&ev);
	pc_scanner_set_auto(false);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, 8 * PAGE_SIZE), 0);
	tfs_destroy(&f);
	tmach_destroy(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pc_scan");
	TCase *tc = tcase_create("scan");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_scan_clears_and_sees_touch);
	tcase_add_test(tc, test_scan_feeds_eviction);
	tcase_add_test(tc, test_ctl_idle_goes_to_min);
	tcase_add_test(tc, test_ctl_overrun_sleeps_longer);
	tcase_add_test(tc, test_thread_runs);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
