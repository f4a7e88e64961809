/*
 * Long random sequences of every operation, with the ARC's invariants
 * (arc_verify) checked after each one and the data of every read checked
 * against the pattern of its key.
 *
 * Phase "strict": variable block sizes (page multiples and odd sizes),
 * compression, scanner reports, lowmem, sized adjustments and regrowth, and
 * no buffer kept: the paper's bounds (|T1| + |T2| <= c, |T1| + |B1| <= c,
 * total <= 2c, 0 <= p <= c) must hold after every operation.
 * Phase "pinned": buffers are also kept held and mapped for a while; held
 * and mapped buffers must keep their data and never leave the cache, and
 * the accounting invariants must hold throughout.
 */
#include "arc_test_util.h"
#include <karst/param.h>

static struct fill_ctx F;

static size_t size_of(uint64_t n)
{
	static const size_t sizes[] = {BS, 2 * BS, 512, 3 * BS, 3000, BS};
	return sizes[n % ARRAY_SIZE(sizes)];
}

static bool compressible(uint64_t n)
{
	return n % 3 == 0;
}

static int rfill(void *arg, const struct arc_key *k, void *dst, size_t lsize)
{
	F.compressible = compressible(k->w[0]);
	F.give_lz4 = k->w[0] % 7 == 0 && F.compressible;
	return test_fill(&F, k, dst, lsize);
}

struct kept {
	struct arc_buf *b;
	uint64_t n;
	int shares;
	bool held;
};

static uint64_t pick(unsigned *rs, int phase_shift)
{
	unsigned r = (unsigned)rand_r(rs);
	/* a hot set, a warm set and a long tail that moves with time */
	if (r % 10 < 5)
		return r / 10 % 24;
	if (r % 10 < 8)
		return 100 + r / 10 % 150;
	return 1000 + (unsigned)phase_shift * 50 + r / 10 % 400;
}

static void read_check(struct arc *a, uint64_t n, struct arc_buf **out)
{
	struct arc_key k = kkey(n);
	struct arc_buf *b;
	ck_assert_int_eq(
	    arc_read(a, &k, size_of(n), n & 1 ? ARC_READ_PREFETCH : 0, rfill, NULL, &b), 0);
	ck_assert_uint_eq(arc_buf_size(b), size_of(n));
	ck_assert(data_ok(b, &k, compressible(n)));
	if (out)
		*out = b;
	else
		arc_buf_release(a, b);
}

static void run(unsigned seed, bool pinned, int ops)
{
	struct arc_config cfg = {.name = "rand",
				 .c_max = 96 * BS,
				 .c_min = 24 * BS,
				 .grow_retry_ns = 1, /* regrow at once after a shrink */
				 .compress = seed & 1,
				 .nsublists = 1u << (seed % 4)};
	struct arc *a;
	ck_assert_int_eq(arc_create(&cfg, &a), 0);
	unsigned rs = seed;
	enum { NKEPT = 12 };
	struct kept kept[NKEPT] = {0};
	for (int i = 0; i < ops; i++) {
		unsigned r = (unsigned)rand_r(&rs) % 1000;
		uint64_t n = pick(&rs, i / 2000);
		if (r < 2) {
			arc_lowmem(a);
		} else if (r < 4) {
			arc_sized_adjust(a, (size_t)(rand_r(&rs) % (40 * BS)));
		} else if (r < 30) {
			struct arc_key k = kkey(n);
			arc_buf_accessed(a, &k);
		} else if (pinned && r < 120) {
			struct kept *kp = &kept[rand_r(&rs) % NKEPT];
			if (!kp->b) {
				read_check(a, n, &kp->b);
				kp->n = n;
				kp->held = true;
			} else if (kp->held && rand_r(&rs) % 2 && size_of(kp->n) % BS == 0) {
				ck_assert_int_eq(arc_buf_share(a, kp->b), 0);
				kp->shares++;
			} else if (kp->held) {
				arc_buf_release(a, kp->b);
				kp->held = false;
				if (!kp->shares)
					kp->b = NULL;
			} else {
				arc_buf_unshare(a, kp->b);
				if (--kp->shares == 0)
					kp->b = NULL;
			}
		} else {
			read_check(a, n, NULL);
		}
		for (int j = 0; j < NKEPT; j++) {
			if (!kept[j].b)
				continue;
			struct arc_key k = kkey(kept[j].n);
			enum arc_state st = arc_key_state(a, &k);
			ck_assert(st == ARC_STATE_MRU || st == ARC_STATE_MFU);
			if (i % 16 == 0)
				ck_assert(data_ok(kept[j].b, &k, compressible(kept[j].n)));
		}
		char why[256] = "";
		ck_assert_msg(arc_verify(a, !pinned, why, sizeof(why)) == 0, "seed %u op %d: %s",
			      seed, i, why);
	}
	for (int j = 0; j < NKEPT; j++) {
		if (kept[j].b && kept[j].held)
			arc_buf_release(a, kept[j].b);
		while (kept[j].b && kept[j].shares--)
			arc_buf_unshare(a, kept[j].b);
	}
	read_check(a, 999999, NULL); /* a miss puts the bounds back */
	verify_ok(a, true);
	struct arc_stats st;
	arc_stats_get(a, &st);
	ck_assert_uint_gt(st.hits, 0);
	ck_assert_uint_gt(st.mru_ghost_hits + st.mfu_ghost_hits, 0);
	ck_assert_uint_gt(st.prefetch_data_hits, 0);
	arc_destroy(a);
}

START_TEST(test_random_strict)
{
	run(100 + (unsigned)_i, false, 12000);
}
END_TEST

START_TEST(test_random_pinned)
{
	run(200 + (unsigned)_i, true, 12000);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("arc_random");
	TCase *tc = tcase_create("random");
	tcase_set_timeout(tc, 240);
	tcase_add_loop_test(tc, test_random_strict, 0, 4);
	tcase_add_loop_test(tc, test_random_pinned, 0, 4);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
