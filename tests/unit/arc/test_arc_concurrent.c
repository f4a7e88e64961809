/*
 * The ARC under concurrent use (run under ThreadSanitizer too):
 * concurrent readers of one missing block cause one fill and all see its
 * data; a failed fill fails every waiter; no key is ever filled twice at
 * once; and a mixed stress of reads, holds, mappings, scanner reports and
 * memory pressure leaves every invariant intact.
 */
#include "arc_test_util.h"
#include <karst/param.h>
#include <karst/thread.h>
#include <karst/time.h>

enum { NT = 8 };

struct shared {
	struct arc *a;
	struct fill_ctx f;
	atomic_int started;
	atomic_int ok, failed;
	struct arc_buf *got[NT];
	int idx;
};

static int gated_fill(void *arg, const struct arc_key *k, void *dst, size_t lsize)
{
	struct shared *sh = arg;
	/* Give every reader the time to find the block being filled. */
	while (atomic_load(&sh->started) < NT)
		thread_yield();
	thread_sleep_ns(20 * 1000 * 1000);
	return test_fill(&sh->f, k, dst, lsize);
}

struct reader {
	struct shared *sh;
	int i;
};

static void reader_main(void *p)
{
	struct reader *r = p;
	struct shared *sh = r->sh;
	struct arc_key k = kkey(42);
	atomic_fetch_add(&sh->started, 1);
	struct arc_buf *b;
	int err = arc_read(sh->a, &k, BS, 0, gated_fill, sh, &b);
	if (err == 0) {
		sh->got[r->i] = b;
		atomic_fetch_add(&sh->ok, 1);
	} else {
		ck_assert_int_eq(err, -EIO);
		atomic_fetch_add(&sh->failed, 1);
	}
}

static void run_readers(struct shared *sh)
{
	struct thread *t[NT];
	struct reader r[NT];
	for (int i = 0; i < NT; i++) {
		r[i] = (struct reader){sh, i};
		t[i] = thread_create("reader", reader_main, &r[i], THREAD_PRIO_DEFAULT);
		ck_assert_ptr_nonnull(t[i]);
	}
	for (int i = 0; i < NT; i++)
		thread_join(t[i]);
}

START_TEST(test_one_fill_for_concurrent_readers)
{
	static struct shared sh;
	memset(&sh, 0, sizeof(sh));
	sh.a = mk_arc(16, 4);
	run_readers(&sh);
	ck_assert_uint_eq(atomic_load(&sh.f.calls), 1);
	ck_assert_int_eq(atomic_load(&sh.ok), NT);
	struct arc_key k = kkey(42);
	for (int i = 0; i < NT; i++) {
		ck_assert_ptr_eq(sh.got[i], sh.got[0]);
		ck_assert(data_ok(sh.got[i], &k, false));
	}
	struct arc_stats st;
	arc_stats_get(sh.a, &st);
	ck_assert_uint_eq(st.misses, 1);
	ck_assert_uint_eq(st.hits + st.iohits, NT - 1);
	for (int i = 0; i < NT; i++)
		arc_buf_release(sh.a, sh.got[i]);
	verify_ok(sh.a, true);
	arc_destroy(sh.a);
}
END_TEST

START_TEST(test_failed_fill_fails_waiters)
{
	static struct shared sh;
	memset(&sh, 0, sizeof(sh));
	sh.a = mk_arc(16, 4);
	sh.f.fail = -EIO;
	run_readers(&sh);
	ck_assert_int_eq(atomic_load(&sh.failed), NT);
	ck_assert_uint_ge(atomic_load(&sh.f.calls), 1);
	struct arc_key k = kkey(42);
	ck_assert_int_eq(arc_key_state(sh.a, &k), ARC_STATE_NONE);
	verify_ok(sh.a, true);
	arc_destroy(sh.a);
}
END_TEST

/* ---- Stress */

enum { NKEYS = 300 };
static atomic_int in_fill[NKEYS + 2];
static atomic_ulong fills;

static int stress_fill(void *arg, const struct arc_key *k, void *dst, size_t lsize)
{
	uint64_t n = k->w[0];
	ck_assert_int_eq(atomic_fetch_add(&in_fill[n], 1), 0); /* never two at once */
	atomic_fetch_add(&fills, 1);
	if (n % 5 == 0)
		thread_yield();
	uint8_t *d = dst;
	for (size_t i = 0; i < lsize; i++)
		d[i] = pattern_byte(k, i, n % 2 == 0);
	atomic_fetch_sub(&in_fill[n], 1);
	return 0;
}

struct stress {
	struct arc *a;
	unsigned seed;
	int ops;
};

static void stress_main(void *p)
{
	struct stress *s = p;
	unsigned rs = s->seed;
	struct arc_buf *kept[4] = {0};
	uint64_t kept_n[4];
	bool shared[4] = {0};
	for (int i = 0; i < s->ops; i++) {
		unsigned r = (unsigned)rand_r(&rs) % 1000;
		uint64_t n = r % 2 ? (unsigned)rand_r(&rs) % 40 : (unsigned)rand_r(&rs) % NKEYS;
		struct arc_key k = kkey(n);
		if (r < 3) {
			arc_lowmem(s->a);
		} else if (r < 6) {
			arc_sized_adjust(s->a, 8 * BS);
		} else if (r < 40) {
			arc_buf_accessed(s->a, &k);
		} else if (r < 100) {
			int j = rand_r(&rs) % 4;
			if (kept[j]) {
				struct arc_key kk = kkey(kept_n[j]);
				ck_assert(data_ok(kept[j], &kk, kept_n[j] % 2 == 0));
				if (shared[j])
					arc_buf_unshare(s->a, kept[j]);
				else
					arc_buf_release(s->a, kept[j]);
				kept[j] = NULL;
			} else {
				ck_assert_int_eq(
				    arc_read(s->a, &k, BS, 0, stress_fill, NULL, &kept[j]), 0);
				kept_n[j] = n;
				shared[j] = rand_r(&rs) % 2;
				if (shared[j]) { /* trade the hold for a mapping */
					ck_assert_int_eq(arc_buf_share(s->a, kept[j]), 0);
					arc_buf_release(s->a, kept[j]);
				}
			}
		} else {
			struct arc_buf *b;
			ck_assert_int_eq(arc_read(s->a, &k, BS, 0, stress_fill, NULL, &b), 0);
			ck_assert(data_ok(b, &k, n % 2 == 0));
			arc_buf_release(s->a, b);
		}
	}
	for (int j = 0; j < 4; j++) {
		if (kept[j] && shared[j])
			arc_buf_unshare(s->a, kept[j]);
		else if (kept[j])
			arc_buf_release(s->a, kept[j]);
	}
}

START_TEST(test_stress_mixed)
{
	struct arc_config cfg = {.name = "stress",
				 .c_max = 64 * BS,
				 .c_min = 16 * BS,
				 .grow_retry_ns = 1000 * 1000,
				 .compress = true,
				 .nsublists = 4,
				 .hash_log2 = 6};
	struct arc *a;
	ck_assert_int_eq(arc_create(&cfg, &a), 0);
	struct thread *t[NT];
	struct stress st[NT];
	for (int i = 0; i < NT; i++) {
		st[i] = (struct stress){a, 1000 + (unsigned)i, 6000};
		t[i] = thread_create("stress", stress_main, &st[i], THREAD_PRIO_DEFAULT);
	}
	for (int i = 0; i < NT; i++)
		thread_join(t[i]);
	verify_ok(a, false);
	struct arc_buf *b;
	struct arc_key k = kkey(NKEYS + 1);
	ck_assert_int_eq(arc_read(a, &k, BS, 0, stress_fill, NULL, &b), 0);
	arc_buf_release(a, b);
	verify_ok(a, true);
	struct arc_stats s;
	arc_stats_get(a, &s);
	ck_assert_uint_eq(s.misses, atomic_load(&fills));
	ck_assert_uint_gt(s.hits, 0);
	arc_destroy(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("arc_concurrent");
	TCase *tc = tcase_create("concurrent");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_one_fill_for_concurrent_readers);
	tcase_add_test(tc, test_failed_fill_fails_waiters);
	tcase_add_test(tc, test_stress_mixed);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
