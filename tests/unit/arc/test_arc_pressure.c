/*
 * The ARC under memory pressure in a small machine: c_max sized from RAM,
 * the dirty-data throttle (arc_tempreserve) and its limit following c, and
 * the reclaimer registry's order (the page cache's `first` reclaimer asked
 * before the ARC) and direct-reclaim counters.
 */
#include "arc_test_util.h"
#include <errno.h>
#include <karst/reclaim.h>

#define MiB (1ULL << 20)

static struct fill_ctx F;

static struct arc_stats stats(struct arc *a)
{
	struct arc_stats s;
	arc_stats_get(a, &s);
	return s;
}

START_TEST(test_c_max_for_ram)
{
	/* A quarter of RAM: a 64 MiB guest keeps 48 MiB for everything else
	 * (before: at least 64 MiB, all of it). */
	ck_assert_uint_eq(arc_c_max_for_ram(64 * MiB), 16 * MiB);
	ck_assert_uint_eq(arc_c_max_for_ram(512 * MiB), 128 * MiB);
	ck_assert_uint_eq(arc_c_max_for_ram(8ULL << 30), 2ULL << 30);
	/* At least 1 MiB, never more than half of RAM. */
	ck_assert_uint_eq(arc_c_max_for_ram(3 * MiB), 1 * MiB);
	ck_assert_uint_eq(arc_c_max_for_ram(1 * MiB), MiB / 2);
	for (uint64_t ram = MiB / 4; ram <= 256 * MiB; ram += 3 * MiB / 7) {
		uint64_t c = arc_c_max_for_ram(ram);
		ck_assert_uint_le(c, ram / 2);
		ck_assert_uint_ge(c, 1);
		/* and arc_create takes it */
		struct arc_config cfg = {.name = "ram", .c_max = c};
		struct arc *a;
		ck_assert_int_eq(arc_create(&cfg, &a), 0);
		arc_destroy(a);
	}
}
END_TEST

START_TEST(test_tempreserve_throttles_over_half_of_c)
{
	struct arc_config cfg = {.name = "t", .c_max = 16 * MiB, .c_min = 2 * MiB};
	struct arc *a;
	ck_assert_int_eq(arc_create(&cfg, &a), 0);
	ck_assert_uint_eq(arc_dirty_limit(a), 8 * MiB);
	/* Under the limit: no throttle. */
	ck_assert_int_eq(arc_tempreserve(a, 0, 1 * MiB), 0);
	ck_assert_int_eq(arc_tempreserve(a, 7 * MiB, 1 * MiB), 0);
	ck_assert_uint_eq(stats(a).memory_throttle_count, 0);
	/* Over it: -EAGAIN, counted once per refusal. */
	ck_assert_int_eq(arc_tempreserve(a, 7 * MiB, 1 * MiB + 1), -EAGAIN);
	ck_assert_int_eq(arc_tempreserve(a, 8 * MiB, 4096), -EAGAIN);
	ck_assert_uint_eq(stats(a).memory_throttle_count, 2);
	/* Nothing dirty: a writer may always start, whatever it asks. */
	ck_assert_int_eq(arc_tempreserve(a, 0, 64 * MiB), 0);
	ck_assert_uint_eq(stats(a).memory_throttle_count, 2);
	arc_destroy(a);
}
END_TEST

START_TEST(test_dirty_limit_follows_c_down_and_up)
{
	/* Blocks of BS; c from 64 blocks down to c_min 8 and back. */
	struct arc_config cfg = {
	    .name = "t", .c_max = 64 * BS, .c_min = 8 * BS, .grow_retry_ns = 1, .shrink_shift = 1};
	struct arc *a;
	ck_assert_int_eq(arc_create(&cfg, &a), 0);
	for (uint64_t i = 0; i < 64; i++)
		touch(a, i, &F);
	ck_assert_uint_eq(arc_dirty_limit(a), 32 * BS);
	ck_assert_int_eq(arc_tempreserve(a, 20 * BS, 10 * BS), 0);
	/* Memory pressure halves c (shrink_shift 1) three times: 8 blocks. */
	for (int i = 0; i < 3; i++)
		arc_lowmem(a);
	ck_assert_uint_eq(stats(a).c, 8 * BS);
	/* The limit went with it (half of c, but at least c_min). */
	ck_assert_uint_eq(arc_dirty_limit(a), 8 * BS);
	ck_assert_int_eq(arc_tempreserve(a, 20 * BS, 10 * BS), -EAGAIN);
	ck_assert_uint_eq(stats(a).memory_throttle_count, 1);
	/* Misses on a full cache grow c back (grow_retry_ns has passed). */
	for (uint64_t i = 100; i < 300; i++)
		touch(a, i, &F);
	ck_assert_uint_eq(stats(a).c, 64 * BS);
	ck_assert_uint_eq(arc_dirty_limit(a), 32 * BS);
	ck_assert_int_eq(arc_tempreserve(a, 20 * BS, 10 * BS), 0);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

/* A reclaimer standing for the page cache: it has `have` bytes to give. */
static size_t pc_have, pc_asked;
static size_t fake_pc_reclaim(void *arg, size_t bytes)
{
	(void)arg;
	pc_asked += bytes;
	size_t n = bytes < pc_have ? bytes : pc_have;
	pc_have -= n;
	return n;
}

START_TEST(test_first_reclaimer_asked_before_the_arc)
{
	struct arc_config cfg = {.name = "t", .c_max = 32 * BS, .c_min = 4 * BS};
	struct arc *a;
	ck_assert_int_eq(arc_create(&cfg, &a), 0);
	arc_register_reclaim(a);
	/* Registered after the ARC, yet asked first. */
	struct reclaimer pc = {.name = "pc", .reclaim = fake_pc_reclaim, .first = true};
	reclaim_register(&pc);
	for (uint64_t i = 0; i < 32; i++)
		touch(a, i, &F);
	uint64_t calls0, freed0, calls, freed;
	reclaim_direct_stats(&calls0, &freed0);

	/* The page cache has enough: the ARC keeps its blocks. */
	pc_have = 10 * BS;
	pc_asked = 0;
	ck_assert_uint_eq(reclaim_direct(8 * BS), 8 * BS);
	ck_assert_uint_eq(pc_asked, 8 * BS);
	ck_assert_uint_eq(stats(a).size, 32 * BS);
	ck_assert_uint_eq(stats(a).memory_direct_count, 0);

	/* It has 2 blocks left: the ARC gives the other 6. */
	ck_assert_uint_ge(reclaim_direct(8 * BS), 8 * BS);
	ck_assert_uint_eq(stats(a).size, 26 * BS);
	ck_assert_uint_eq(stats(a).memory_direct_count, 1);

	reclaim_direct_stats(&calls, &freed);
	ck_assert_uint_eq(calls - calls0, 2);
	ck_assert_uint_ge(freed - freed0, 16 * BS);
	reclaim_unregister(&pc);
	verify_ok(a, true);
	arc_destroy(a);
}
END_TEST

static bool pressed;
static bool pressure_fn(void)
{
	return pressed;
}

START_TEST(test_pressure_hook)
{
	ck_assert(!reclaim_pressure()); /* the host: none unless told */
	reclaim_set_pressure_fn(pressure_fn);
	ck_assert(!reclaim_pressure());
	pressed = true;
	ck_assert(reclaim_pressure());
	reclaim_set_pressure_fn(NULL);
	ck_assert(!reclaim_pressure());
}
END_TEST

int main(void)
{
	Suite *s = suite_create("arc_pressure");
	TCase *tc = tcase_create("pressure");
	tcase_add_test(tc, test_c_max_for_ram);
	tcase_add_test(tc, test_tempreserve_throttles_over_half_of_c);
	tcase_add_test(tc, test_dirty_limit_follows_c_down_and_up);
	tcase_add_test(tc, test_first_reclaimer_asked_before_the_arc);
	tcase_add_test(tc, test_pressure_hook);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
