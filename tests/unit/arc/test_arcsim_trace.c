/*
 * The simulator's exact policies and the ARC on traces.
 *
 * LRU and OPT are exact algorithms: on the real CloudPhysics trace beside
 * the repository (shared/traces, with reference figures in its README)
 * they must give the published hit ratios to 4 decimals; OPT is also
 * checked against an exhaustive search on small traces. The ARC must not
 * fall below LRU on that trace nor on the synthetic workloads, must beat it
 * clearly on a scan-polluted one, and cannot beat it on a loop larger than
 * the cache (both get nothing there; OPT does).
 */
#include "sim.h"
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ARC_TRACE_DIR
#error "ARC_TRACE_DIR must name the shared traces directory"
#endif

static long ratio4(uint64_t hits, size_t n)
{
	return lround((double)hits / (double)n * 10000.0);
}

START_TEST(test_cloudphysics_exact_figures)
{
	const char *path = ARC_TRACE_DIR "/cloudPhysicsIO.txt";
	struct sim_trace t;
	/* The trace lives beside the repository in CI; its absence is a failure. */
	ck_assert_msg(sim_read_trace(path, "plain", false, &t) == 0,
		      "cannot read %s: the reference trace must be present", path);
	ck_assert_int_eq(sim_densify(&t), 0);
	ck_assert_uint_eq(t.ndistinct, 48974);
	/* From shared/traces/README.md: cache size, LRU, Belady OPT. */
	static const struct {
		size_t size;
		long lru, opt;
	} want[] = {
	    {500, 1622, 2081},	{1000, 1673, 2358},  {2000, 1729, 2810},
	    {5000, 1962, 3738}, {10000, 3024, 4569},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		uint64_t lru = sim_lru(&t, want[i].size);
		uint64_t opt = sim_opt(&t, want[i].size, false);
		uint64_t arc = sim_arc(&t, want[i].size, 1);
		printf("cloudPhysicsIO %5zu blocks: ARC %.4f LRU %.4f OPT %.4f\n", want[i].size,
		       (double)arc / (double)t.n, (double)lru / (double)t.n,
		       (double)opt / (double)t.n);
		ck_assert_int_eq(ratio4(lru, t.n), want[i].lru);
		ck_assert_int_eq(ratio4(opt, t.n), want[i].opt);
		ck_assert_uint_ge(arc, lru);
		ck_assert_uint_le(arc, opt);
	}
	/* Sharded lists keep exact LRU order (stamps), so the same decisions. */
	ck_assert_uint_eq(sim_arc(&t, 2000, 16), sim_arc(&t, 2000, 1));
	sim_trace_free(&t);
}
END_TEST

/* Exhaustive optimum for a tiny trace: every choice of victim on a miss. */
static uint64_t brute(const uint32_t *ids, size_t n, size_t i, uint32_t *cache, size_t used,
		      size_t size)
{
	if (i == n)
		return 0;
	for (size_t j = 0; j < used; j++)
		if (cache[j] == ids[i])
			return 1 + brute(ids, n, i + 1, cache, used, size);
	if (used < size) {
		cache[used] = ids[i];
		return brute(ids, n, i + 1, cache, used + 1, size);
	}
	uint64_t best = 0;
	for (size_t j = 0; j < used; j++) {
		uint32_t old = cache[j];
		cache[j] = ids[i];
		uint64_t h = brute(ids, n, i + 1, cache, used, size);
		best = h > best ? h : best;
		cache[j] = old;
	}
	return best;
}

START_TEST(test_opt_is_optimal_on_small_traces)
{
	unsigned rs = 5;
	for (int round = 0; round < 300; round++) {
		struct sim_trace t = {0};
		t.n = 10 + (size_t)(rand_r(&rs) % 6);
		t.blocks = malloc(t.n * sizeof(uint64_t));
		unsigned universe = 3 + (unsigned)rand_r(&rs) % 4;
		for (size_t i = 0; i < t.n; i++)
			t.blocks[i] = 1000 + (uint64_t)(rand_r(&rs) % (int)universe);
		ck_assert_int_eq(sim_densify(&t), 0);
		for (size_t size = 1; size <= 3; size++) {
			uint32_t cache[4];
			uint64_t best = brute(t.ids, t.n, 0, cache, 0, size);
			ck_assert_uint_eq(sim_opt(&t, size, false), best);
			ck_assert_uint_le(sim_opt(&t, size, true), t.n);
			ck_assert_uint_ge(sim_opt(&t, size, true), best);
			ck_assert_uint_le(sim_lru(&t, size), best);
		}
		sim_trace_free(&t);
	}
}
END_TEST

START_TEST(test_lru_by_hand)
{
	static const uint64_t tr[] = {1, 2, 3, 1, 4, 2, 1, 5, 1, 2};
	struct sim_trace t = {0};
	t.n = sizeof(tr) / sizeof(tr[0]);
	t.blocks = malloc(sizeof(tr));
	memcpy(t.blocks, tr, sizeof(tr));
	ck_assert_int_eq(sim_densify(&t), 0);
	/* size 3: 4 evicts 2, 2 evicts 3, 5 evicts 4: hits are the 1s at 4, 7
	 * and 9 and the 2 at 10 */
	ck_assert_uint_eq(sim_lru(&t, 3), 4);
	ck_assert_uint_eq(sim_lru(&t, 5), 5); /* only the 5 first uses miss */
	ck_assert_uint_eq(sim_lru(&t, 1), 0); /* no request repeats the previous */
	sim_trace_free(&t);
}
END_TEST

static void synthetic(const char *spec, const size_t *sizes, int nsizes, double min_gain)
{
	struct sim_trace t;
	ck_assert_int_eq(sim_generate(spec, 7, &t), 0);
	ck_assert_int_eq(sim_densify(&t), 0);
	for (int i = 0; i < nsizes; i++) {
		uint64_t arc = sim_arc(&t, sizes[i], 4), lru = sim_lru(&t, sizes[i]);
		uint64_t opt = sim_opt(&t, sizes[i], false);
		double n = (double)t.n;
		printf("%-52s %6zu: ARC %.4f LRU %.4f OPT %.4f\n", spec, sizes[i], arc / n, lru / n,
		       opt / n);
		ck_assert_uint_ge(arc, lru);
		ck_assert_uint_le(arc, opt);
		ck_assert_msg((double)(arc - lru) / n >= min_gain, "%s at %zu: ARC gains %.4f",
			      spec, sizes[i], (double)(arc - lru) / n);
	}
	sim_trace_free(&t);
}

START_TEST(test_synthetic_workloads)
{
	static const size_t sizes[] = {500, 2000, 8000};
	synthetic("zipf,n=50000,alpha=0.8,len=300000", sizes, 3, 0.0);
	synthetic("zipf,n=50000,alpha=1.1,len=300000", sizes, 3, 0.0);
	/* A Zipf working set polluted by one-time scans: ARC keeps the hot set. */
	synthetic("scan,n=50000,alpha=0.9,len=300000,every=5000,scan=4000", sizes, 3, 0.03);

	/* A loop larger than the cache: LRU and ARC both get nothing. */
	struct sim_trace t;
	ck_assert_int_eq(sim_generate("loop,n=3000,len=60000", 1, &t), 0);
	ck_assert_int_eq(sim_densify(&t), 0);
	ck_assert_uint_eq(sim_lru(&t, 2000), 0);
	ck_assert_uint_eq(sim_arc(&t, 2000, 4), 0);
	/* OPT keeps size - 1 blocks of every pass: (2000 - 1) / 1000 of it. */
	ck_assert_uint_gt(sim_opt(&t, 2000, false), t.n / 2);
	sim_trace_free(&t);
}
END_TEST

START_TEST(test_spc_format)
{
	char path[] = "/tmp/arcsim_spcXXXXXX";
	int fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	FILE *f = fdopen(fd, "w");
	/* ASU,LBA(512-byte sectors),size(bytes),opcode,timestamp */
	fprintf(f, "0,8,4096,R,0.1\n"	/* sector 8 = byte 4096: block 1 */
		   "0,7,1024,r,0.2\n"	/* bytes 3584..4607: blocks 0 and 1 */
		   "1,0,12288,W,0.3\n"	/* ASU 1, blocks 0..2 */
		   "0,16,512,w,0.4\n"); /* block 2 */
	fclose(f);
	struct sim_trace t;
	ck_assert_int_eq(sim_read_trace(path, "auto", false, &t), 0);
	static const uint64_t want[] = {1, 0, 1, 1ULL << 48, (1ULL << 48) + 1, (1ULL << 48) + 2, 2};
	ck_assert_uint_eq(t.n, 7);
	for (size_t i = 0; i < t.n; i++)
		ck_assert_uint_eq(t.blocks[i], want[i]);
	sim_trace_free(&t);
	ck_assert_int_eq(sim_read_trace(path, "spc", true, &t), 0);
	ck_assert_uint_eq(t.n, 3);
	sim_trace_free(&t);
	unlink(path);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("arcsim");
	TCase *tc = tcase_create("policies");
	tcase_set_timeout(tc, 280);
	tcase_add_test(tc, test_cloudphysics_exact_figures);
	tcase_add_test(tc, test_opt_is_optimal_on_small_traces);
	tcase_add_test(tc, test_lru_by_hand);
	tcase_add_test(tc, test_synthetic_workloads);
	tcase_add_test(tc, test_spc_format);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
