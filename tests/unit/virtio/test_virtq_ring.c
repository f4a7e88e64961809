/*
 * Check suite for the split virtqueue's rings (kernel/virtio): creation,
 * chains of one and many elements, direct and indirect, a full ring,
 * completions out of order and index wraparound. Every request goes
 * through the device model, which checks each descriptor the driver
 * wrote; the harness checks that what comes back is what went in.
 *
 * Tests that run with and without the ring features are loop tests over
 * _i: bit 0 = indirect, bit 1 = event index (bit 2: a larger ring).
 */
#include "virtq_test.h"
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#define FEAT(i) tq_features((i)&1, (i)&2)

static void dummy_notify(struct virtq *vq, void *arg)
{
}

START_TEST(test_create_checks_arguments)
{
	uint64_t f = tq_features(true, true);
	ck_assert_ptr_null(virtq_create(0, 0, f, dummy_notify, NULL));
	ck_assert_ptr_null(virtq_create(0, 3, f, dummy_notify, NULL));
	ck_assert_ptr_null(virtq_create(0, 24, f, dummy_notify, NULL));
	ck_assert_ptr_null(virtq_create(0, 65536, f, dummy_notify, NULL));
	ck_assert_ptr_null(virtq_create(0, 8, f, NULL, NULL));
	ck_assert_ptr_null(
	    virtq_create(0, 8, f | VIRTIO_FEATURE(VIRTIO_F_RING_PACKED), dummy_notify, NULL));
	ck_assert_ptr_null(
	    virtq_create(0, 8, f | VIRTIO_FEATURE(VIRTIO_F_IN_ORDER), dummy_notify, NULL));
	/* Bits the queue does not care about are fine. */
	struct virtq *vq = virtq_create(
	    3, 8, f | VIRTIO_FEATURE(VIRTIO_F_ACCESS_PLATFORM) | (1ULL << 5), dummy_notify, NULL);
	ck_assert_ptr_nonnull(vq);
	virtq_destroy(vq);
	virtq_destroy(NULL);
}
END_TEST

START_TEST(test_create_every_size)
{
	/* vdev_new checks alignment, order, disjointness and zeroing. */
	for (unsigned size = 1; size <= VIRTQ_SIZE_MAX; size <<= 1) {
		struct vdev *vd = vdev_new(size, tq_features(true, true));
		uint64_t d = virtq_desc_pa(vd->vq), a = virtq_avail_pa(vd->vq);
		uint64_t u = virtq_used_pa(vd->vq);
		ck_assert_uint_eq(a, d + 16 * (uint64_t)size);
		ck_assert_uint_ge(u, a + 6 + 2 * (uint64_t)size);
		/* One ring fits a one-element request per entry. */
		struct treq *t = treq_new(vd, 1, 0, 8, size);
		for (unsigned i = 0; i < size; i++)
			ck_assert_int_eq(virtq_add(vd->vq, t->out, 1, NULL, 0, t), 0);
		ck_assert_int_eq(virtq_add(vd->vq, t->out, 1, NULL, 0, t), -ENOSPC);
		ck_assert(virtq_kick_prepare(vd->vq));
		ck_assert_uint_eq(vdev_fetch(vd), size);
		treq_free(vd, t);
		vdev_free(vd);
	}
}
END_TEST

START_TEST(test_single_element)
{
	struct vdev *vd = vdev_new(8, FEAT(_i));
	struct tq q;
	tq_init(&q, vd);

	/* A request the device only reads, then one it only writes. */
	struct treq *w = treq_new(vd, 1, 0, 512, 1);
	struct treq *r = treq_new(vd, 0, 1, 512, 2);
	ck_assert_int_eq(tq_add(&q, w), 0);
	ck_assert_int_eq(tq_add(&q, r), 0);
	/* Nothing is visible before the kick. */
	ck_assert_uint_eq(tq_fetch(&q), 0);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(tq_fetch(&q), 2);
	tq_complete(&q, 0, 0);
	tq_complete(&q, 0, 300);
	ck_assert_uint_eq(tq_collect(&q), 0); /* not published yet */
	vdev_publish(vd);
	ck_assert_uint_eq(tq_collect(&q), 2);
	ck_assert_ptr_null(virtq_get_used(vd->vq, NULL));

	struct virtq_stats st;
	virtq_get_stats(vd->vq, &st);
	ck_assert_uint_eq(st.adds, 2);
	ck_assert_uint_eq(st.completions, 2);
	ck_assert_uint_eq(st.indirect, 0); /* never for a single element */
	treq_free(vd, w);
	treq_free(vd, r);
	vdev_free(vd);
}
END_TEST

START_TEST(test_multi_element_chains)
{
	static const unsigned shape[][2] = {{1, 1}, {2, 3}, {5, 0}, {0, 4}, {3, 1}, {1, 7}};
	struct vdev *vd = vdev_new(16, FEAT(_i));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t[ARRAY_SIZE(shape)];
	unsigned multi = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(shape); i++) {
		t[i] = treq_new(vd, shape[i][0], shape[i][1], 100 + 50 * i, i);
		multi += shape[i][0] + shape[i][1] > 1;
	}
	/* Twice, so the second round reuses the descriptors of the first. */
	for (int round = 0; round < 2; round++) {
		for (unsigned i = 0; i < ARRAY_SIZE(shape); i++) {
			int err = tq_add(&q, t[i]);
			if (err == -ENOSPC) {
				/* Only a direct ring runs out (24 descriptors > 16). */
				ck_assert(!(_i & 1));
				virtq_kick(vd->vq);
				tq_fetch(&q);
				while (vd->npending)
					tq_complete(&q, 0, vd->pending[0].in_total);
				vdev_publish(vd);
				tq_collect(&q);
				err = tq_add(&q, t[i]);
			}
			ck_assert_int_eq(err, 0);
		}
		virtq_kick(vd->vq);
		tq_fetch(&q);
		/* Fill some replies partly, some wholly. */
		while (vd->npending) {
			uint32_t tot = vd->pending[0].in_total;
			tq_complete(&q, 0, (vd->npending & 1) ? tot : tot / 3);
		}
		vdev_publish(vd);
		tq_collect(&q);
		ck_assert_uint_eq(q.ndone, 0);
	}
	struct virtq_stats st;
	virtq_get_stats(vd->vq, &st);
	ck_assert_uint_eq(st.adds, 2 * ARRAY_SIZE(shape));
	ck_assert_uint_eq(st.completions, 2 * ARRAY_SIZE(shape));
	ck_assert_uint_eq(st.indirect, (_i & 1) ? 2 * multi : 0);
	ck_assert_uint_eq(st.len_clamped, 0);
	for (unsigned i = 0; i < ARRAY_SIZE(shape); i++)
		treq_free(vd, t[i]);
	vdev_free(vd);
}
END_TEST

START_TEST(test_full_ring_direct)
{
	struct vdev *vd = vdev_new(8, tq_features(false, _i & 2));
	struct tq q;
	tq_init(&q, vd);
	struct treq *a = treq_new(vd, 1, 2, 64, 1), *b = treq_new(vd, 2, 1, 64, 2);
	struct treq *c = treq_new(vd, 1, 2, 64, 3), *d = treq_new(vd, 1, 1, 64, 4);
	struct treq *e = treq_new(vd, 0, 1, 64, 5);
	ck_assert_int_eq(tq_add(&q, a), 0); /* 3 descriptors */
	ck_assert_int_eq(tq_add(&q, b), 0); /* 6 */
	ck_assert_int_eq(tq_add(&q, c), -ENOSPC);
	ck_assert_int_eq(tq_add(&q, d), 0); /* 8: full */
	ck_assert_int_eq(tq_add(&q, e), -ENOSPC);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(tq_fetch(&q), 3);
	/* Freeing two descriptors is not enough for three. */
	tq_complete(&q, 2, 10);
	vdev_publish(vd);
	ck_assert_uint_eq(tq_collect(&q), 1);
	ck_assert_int_eq(tq_add(&q, c), -ENOSPC);
	ck_assert_int_eq(tq_add(&q, e), 0);
	ck_assert_int_eq(tq_add(&q, c), -ENOSPC);
	/* Freeing three is. */
	tq_complete(&q, 0, 5);
	vdev_publish(vd);
	ck_assert_uint_eq(tq_collect(&q), 1);
	ck_assert_int_eq(tq_add(&q, c), 0);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(tq_fetch(&q), 2);
	while (vd->npending)
		tq_complete(&q, vd->npending - 1, 1);
	vdev_publish(vd);
	ck_assert_uint_eq(tq_collect(&q), 3);

	/* A chain as long as the queue fits an empty direct ring. */
	struct treq *big = treq_new(vd, 4, 4, 32, 9);
	ck_assert_int_eq(tq_add(&q, big), 0);
	ck_assert_int_eq(tq_add(&q, e), -ENOSPC);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(tq_fetch(&q), 1);
	tq_complete(&q, 0, treq_in_total(big));
	vdev_publish(vd);
	ck_assert_uint_eq(tq_collect(&q), 1);

	treq_free(vd, a);
	treq_free(vd, b);
	treq_free(vd, c);
	treq_free(vd, d);
	treq_free(vd, e);
	treq_free(vd, big);
	vdev_free(vd);
}
END_TEST

START_TEST(test_full_ring_indirect)
{
	struct vdev *vd = vdev_new(8, tq_features(true, _i & 2));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t[9];
	for (unsigned i = 0; i < 9; i++)
		t[i] = treq_new(vd, 2, 3, 40, i);
	/* Five elements each, but one descriptor each. */
	for (unsigned i = 0; i < 8; i++)
		ck_assert_int_eq(tq_add(&q, t[i]), 0);
	ck_assert_int_eq(tq_add(&q, t[8]), -ENOSPC);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(tq_fetch(&q), 8);
	ck_assert_int_eq(tq_add(&q, t[8]), -ENOSPC);
	tq_complete(&q, 5, 17);
	vdev_publish(vd);
	ck_assert_uint_eq(tq_collect(&q), 1);
	ck_assert_int_eq(tq_add(&q, t[8]), 0);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(tq_fetch(&q), 1);
	while (vd->npending)
		tq_complete(&q, 0, vd->pending[0].in_total);
	vdev_publish(vd);
	ck_assert_uint_eq(tq_collect(&q), 8);

	/* A chain as long as the queue still goes in one table. */
	struct treq *big = treq_new(vd, 3, 5, 32, 99);
	ck_assert_int_eq(tq_add(&q, big), 0);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(tq_fetch(&q), 1);
	tq_complete(&q, 0, 100);
	vdev_publish(vd);
	ck_assert_uint_eq(tq_collect(&q), 1);
	for (unsigned i = 0; i < 9; i++)
		treq_free(vd, t[i]);
	treq_free(vd, big);
	vdev_free(vd);
}
END_TEST

START_TEST(test_out_of_order_completion)
{
	enum { N = 16 };
	struct vdev *vd = vdev_new(N, FEAT(_i));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t[2 * N];
	for (unsigned i = 0; i < 2 * N; i++)
		t[i] = treq_new(vd, 1, (i % 3) ? 1 : 0, 64 + i, i);
	/* Fill the ring: one descriptor per request with indirect, one
	 * or two without. */
	unsigned n = 0;
	while (n < 2 * N && tq_add(&q, t[n]) == 0)
		n++;
	if (_i & 1)
		ck_assert_uint_eq(n, N);
	else
		ck_assert_uint_ge(n, N / 2);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(tq_fetch(&q), n);

	/* Complete every other one, last first, publishing each. */
	for (int k = (int)vd->npending - 1; k >= 0; k -= 2) {
		tq_complete(&q, (unsigned)k, 0);
		vdev_publish(vd);
	}
	unsigned got = tq_collect(&q);
	ck_assert_uint_eq(got, (n + 1) / 2);

	/* New requests now take the freed descriptors while the device
	 * still holds the others; the model checks they never overlap. */
	unsigned m = n;
	while (m < 2 * N && tq_add(&q, t[m]) == 0)
		m++;
	ck_assert_uint_gt(m, n);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(tq_fetch(&q), m - n);

	/* Then all of them in a scrambled order, in batches of three. */
	uint64_t rs = 12345 + _i;
	unsigned batch = 0;
	while (vd->npending) {
		unsigned k = tq_rand(&rs) % vd->npending;
		struct treq *r = vd->pending[k].tag;
		tq_complete(&q, k, treq_in_total(r) / 2);
		if (++batch % 3 == 0)
			vdev_publish(vd);
	}
	vdev_publish(vd);
	ck_assert_uint_eq(tq_collect(&q), m - got);
	ck_assert_ptr_null(virtq_get_used(vd->vq, NULL));
	for (unsigned i = 0; i < 2 * N; i++)
		treq_free(vd, t[i]);
	vdev_free(vd);
}
END_TEST

/* > 70000 requests through small rings: both 16-bit indices wrap. */
START_TEST(test_index_wraparound)
{
	enum { POOL = 16, TOTAL = 70001 };
	unsigned size = (_i & 4) ? 8 : 4;
	struct vdev *vd = vdev_new(size, FEAT(_i));
	struct tq q;
	tq_init(&q, vd);
	struct treq *pool[POOL];
	bool busy[POOL] = {false};
	for (unsigned i = 0; i < POOL; i++)
		pool[i] = treq_new(vd, 1 + i % 2, i % 3, 16 + i, i);

	uint64_t rs = 0x9e3779b97f4a7c15ULL ^ (uint64_t)_i;
	unsigned added = 0, collected = 0, enospc = 0;
	while (collected < TOTAL) {
		/* Add until the ring is full or the pool is exhausted. */
		for (unsigned tries = 0; tries < POOL && added < TOTAL; tries++) {
			unsigned i = tq_rand(&rs) % POOL;
			if (busy[i])
				continue;
			int err = tq_add(&q, pool[i]);
			if (err == -ENOSPC) {
				enospc++;
				break;
			}
			VDEV_CMP(err, ==, 0);
			busy[i] = true;
			added++;
		}
		if (tq_rand(&rs) % 4)
			virtq_kick(vd->vq);
		tq_fetch(&q);
		/* Complete a random number, in random order. */
		unsigned ncomp = vd->npending ? tq_rand(&rs) % (vd->npending + 1) : 0;
		for (unsigned c = 0; c < ncomp; c++) {
			unsigned k = tq_rand(&rs) % vd->npending;
			struct treq *r = vd->pending[k].tag;
			tq_complete(&q, k, treq_in_total(r) ? tq_rand(&rs) % treq_in_total(r) : 0);
		}
		vdev_publish(vd);
		for (unsigned c = q.ndone; c > 0; c--) {
			/* Which pool entries come back: the harness checks
			 * the order; free them for reuse. */
			struct treq *r = q.done[0];
			VDEV_CMP(tq_collect_one(&q), ==, 1);
			for (unsigned i = 0; i < POOL; i++)
				if (pool[i] == r)
					busy[i] = false;
			collected++;
		}
	}
	ck_assert_uint_eq(added, TOTAL);
	ck_assert_uint_eq(collected, TOTAL);
	ck_assert_uint_gt(enospc, 0);
	ck_assert_uint_eq(virtq_shared_load(virtq_avail_idx(vd->avail)), TOTAL & 0xffff);
	ck_assert_uint_eq(virtq_shared_load(virtq_used_idx(vd->used)), TOTAL & 0xffff);
	struct virtq_stats st;
	virtq_get_stats(vd->vq, &st);
	ck_assert_uint_eq(st.adds, TOTAL);
	ck_assert_uint_eq(st.completions, TOTAL);
	for (unsigned i = 0; i < POOL; i++)
		treq_free(vd, pool[i]);
	vdev_free(vd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtq_ring");
	TCase *tc = tcase_create("create");
	tcase_add_test(tc, test_create_checks_arguments);
	tcase_add_test(tc, test_create_every_size);
	suite_add_tcase(s, tc);

	tc = tcase_create("chains");
	tcase_add_loop_test(tc, test_single_element, 0, 4);
	tcase_add_loop_test(tc, test_multi_element_chains, 0, 4);
	tcase_add_loop_test(tc, test_full_ring_direct, 0, 4);
	tcase_add_loop_test(tc, test_full_ring_indirect, 0, 4);
	tcase_add_loop_test(tc, test_out_of_order_completion, 0, 4);
	suite_add_tcase(s, tc);

	tc = tcase_create("wraparound");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_index_wraparound, 0, 8);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
