/*
 * The hit path shares nothing between buffers of different hash stripes
 * (issue 7: hits on different buffers from different threads don't
 * serialise on one lock). White-box: it looks into struct arc (arc_impl.h)
 * to hold every lock the ARC has but the stripe locks of two cached
 * buffers, lets two threads hit those buffers at the same time, and checks
 * that the hits completed and wrote nothing outside their two stripes,
 * their headers and the threads' clock slots: not the ARC itself, not the
 * eviction heaps or pending bitmaps, not any other stripe. Run under
 * ThreadSanitizer too (label concurrent).
 *
 * The write check compares contents before and after, so it catches shared
 * counters, clocks and list links that hits would move, not a store of the
 * value already there (an idempotent atomic OR, say, still takes the cache
 * line). The lock check has no such gap: a hit that took any other lock of
 * the ARC would never return.
 */
#include "arc_impl.h"
#include "arc_test_util.h"
#include <karst/thread.h>

static struct fill_ctx F;

enum { HITS = 20000 };

struct hitter {
	struct arc *a;
	uint64_t n;
	int done;
};

static void hitter_main(void *p)
{
	struct hitter *h = p;
	struct arc_key k = kkey(h->n);
	for (int i = 0; i < HITS; i++) {
		struct arc_buf *b;
		ck_assert_int_eq(arc_read(h->a, &k, BS, 0, test_fill, &F, &b), 0);
		if (i % 1024 == 0)
			ck_assert(data_ok(b, &k, false));
		arc_buf_release(h->a, b);
	}
	h->done = 1;
}

static uint64_t stripe_of(struct arc *a, uint64_t n)
{
	struct arc_key k = kkey(n);
	return arc_key_hash(&k) & a->stripe_mask;
}

/* What hits on the two stripes must leave alone. */
struct snapshot {
	unsigned char arc[sizeof(struct arc)];
	struct arc_stripe *stripes;
	struct arc_heapent *heap[ARC_NSTATES];
	uint64_t *pending[ARC_NSTATES];
	uint64_t *pending_key[ARC_NSTATES];
};

static void snap(struct arc *a, struct snapshot *sn)
{
	uint64_t ns = a->stripe_mask + 1, words = (ns + 63) / 64;
	memcpy(sn->arc, a, sizeof(*a));
	/* The global clock may move (a slot publishes its value there). */
	memset(sn->arc + offsetof(struct arc, clock_global), 0, sizeof(a->clock_global));
	sn->stripes = malloc(ns * sizeof(*a->stripes));
	memcpy(sn->stripes, a->stripes, ns * sizeof(*a->stripes));
	for (int s = ARC_STATE_MRU; s < ARC_NSTATES; s++) {
		sn->heap[s] = malloc(ns * sizeof(struct arc_heapent));
		memcpy(sn->heap[s], a->st[s].heap, a->st[s].nheap * sizeof(struct arc_heapent));
		sn->pending[s] = malloc(words * sizeof(uint64_t));
		memcpy(sn->pending[s], a->st[s].pending, words * sizeof(uint64_t));
		sn->pending_key[s] = malloc(ns * sizeof(uint64_t));
		memcpy(sn->pending_key[s], a->st[s].pending_key, ns * sizeof(uint64_t));
	}
}

static void snap_free(struct snapshot *sn)
{
	free(sn->stripes);
	for (int s = ARC_STATE_MRU; s < ARC_NSTATES; s++) {
		free(sn->heap[s]);
		free(sn->pending[s]);
		free(sn->pending_key[s]);
	}
}

START_TEST(test_hits_on_two_stripes_take_no_common_lock)
{
	struct arc_config cfg = {
	    .name = "hitpath", .c_max = 64 * BS, .c_min = 4 * BS, .hash_log2 = 6};
	struct arc *a;
	ck_assert_int_eq(arc_create(&cfg, &a), 0);
	ck_assert_uint_ge(a->stripe_mask, 1);
	uint64_t n1 = 1, n2 = 2;
	while (stripe_of(a, n2) == stripe_of(a, n1))
		n2++;
	uint64_t s1 = stripe_of(a, n1), s2 = stripe_of(a, n2);
	/* Cache both in MFU, among others, and use them last. */
	for (int r = 0; r < 2; r++)
		for (uint64_t n = 1; n <= 20; n++)
			touch(a, n, &F);
	touch(a, n1, &F);
	touch(a, n2, &F);
	struct arc_key k1 = kkey(n1), k2 = kkey(n2);
	ck_assert_int_eq(arc_key_state(a, &k1), ARC_STATE_MFU);
	ck_assert_int_eq(arc_key_state(a, &k2), ARC_STATE_MFU);
	/* Evicting the four LRU buffers queues the MFU stripes in the heap. */
	ck_assert_uint_ge(arc_sized_adjust(a, 4 * BS), 4 * BS);
	ck_assert_uint_gt(a->st[ARC_STATE_MFU].nheap, 0);
	ck_assert_int_eq(arc_key_state(a, &k1), ARC_STATE_MFU);
	ck_assert_int_eq(arc_key_state(a, &k2), ARC_STATE_MFU);
	verify_ok(a, false);

	/* Every lock but the two stripes'. */
	mutex_lock(&a->evict_lock);
	for (uint64_t i = 0; i <= a->stripe_mask; i++)
		if (i != s1 && i != s2)
			mutex_lock(&a->stripes[i].lock);
	struct snapshot before, after;
	snap(a, &before);

	struct hitter h1 = {a, n1, 0}, h2 = {a, n2, 0};
	struct thread *t1 = thread_create("hit1", hitter_main, &h1, THREAD_PRIO_DEFAULT);
	struct thread *t2 = thread_create("hit2", hitter_main, &h2, THREAD_PRIO_DEFAULT);
	ck_assert_ptr_nonnull(t1);
	ck_assert_ptr_nonnull(t2);
	/* A hit that waits for one of the locks held here never returns: the
	 * test then fails on Check's timeout. */
	thread_join(t1);
	thread_join(t2);
	ck_assert(h1.done && h2.done);

	snap(a, &after);
	ck_assert_msg(memcmp(before.arc, after.arc, sizeof(before.arc)) == 0,
		      "hits wrote struct arc");
	for (uint64_t i = 0; i <= a->stripe_mask; i++)
		if (i != s1 && i != s2)
			ck_assert_msg(memcmp(&before.stripes[i], &after.stripes[i],
					     sizeof(struct arc_stripe)) == 0,
				      "hits wrote stripe %llu", (unsigned long long)i);
	uint64_t ns = a->stripe_mask + 1, words = (ns + 63) / 64;
	for (int s = ARC_STATE_MRU; s < ARC_NSTATES; s++) {
		ck_assert_msg(memcmp(before.heap[s], after.heap[s],
				     a->st[s].nheap * sizeof(struct arc_heapent)) == 0,
			      "hits wrote the heap of state %d", s);
		ck_assert_msg(
		    memcmp(before.pending[s], after.pending[s], words * sizeof(uint64_t)) == 0,
		    "hits wrote the pending bitmap of state %d", s);
		ck_assert_msg(
		    memcmp(before.pending_key[s], after.pending_key[s], ns * sizeof(uint64_t)) == 0,
		    "hits wrote the pending keys of state %d", s);
	}
	snap_free(&before);
	snap_free(&after);

	for (uint64_t i = 0; i <= a->stripe_mask; i++)
		if (i != s1 && i != s2)
			mutex_unlock(&a->stripes[i].lock);
	mutex_unlock(&a->evict_lock);

	struct arc_stats st;
	arc_stats_get(a, &st);
	ck_assert_uint_ge(st.mfu_hits, 2 * HITS);
	verify_ok(a, false);
	arc_destroy(a);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("arc_hitpath");
	TCase *tc = tcase_create("hitpath");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_hits_on_two_stripes_take_no_common_lock);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
