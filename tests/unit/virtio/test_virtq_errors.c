/*
 * Check suite for the split virtqueue's error paths (kernel/virtio):
 * arguments virtq_add must refuse without side effects, a device that
 * returns impossible used entries (the queue turns broken, never touches
 * someone else's descriptors, and the driver's loops still end), a used
 * length beyond the buffers, and teardown with requests in flight.
 *
 * Loop tests over _i: bit 0 = indirect, bit 1 = event index.
 */
#include "virtq_test.h"
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#define FEAT(i) tq_features((i)&1, (i)&2)

START_TEST(test_bad_arguments)
{
	struct vdev *vd = vdev_new(8, FEAT(_i));
	struct virtq *vq = vd->vq;
	struct treq *t = treq_new(vd, 4, 4, 32, 1);
	struct treq *nine = treq_new(vd, 5, 4, 8, 2);
	struct virtq_sg bad[2] = {t->out[0], t->out[1]};

	ck_assert_int_eq(virtq_add(vq, t->out, 0, t->in, 0, t), -EINVAL);
	ck_assert_int_eq(virtq_add(vq, NULL, 0, NULL, 0, t), -EINVAL);
	ck_assert_int_eq(virtq_add(vq, t->out, 1, NULL, 0, NULL), -EINVAL);
	ck_assert_int_eq(virtq_add(vq, NULL, 1, t->in, 1, t), -EINVAL);
	ck_assert_int_eq(virtq_add(vq, t->out, 1, NULL, 1, t), -EINVAL);
	bad[1].addr = NULL;
	ck_assert_int_eq(virtq_add(vq, bad, 2, t->in, 1, t), -EINVAL);
	bad[1] = t->out[1];
	bad[1].len = 0;
	ck_assert_int_eq(virtq_add(vq, bad, 2, t->in, 1, t), -EINVAL);
	ck_assert_int_eq(virtq_add(vq, t->in, 1, bad, 2, t), -EINVAL);
	/* More elements than the queue has entries: never fits. */
	ck_assert_int_eq(virtq_add(vq, nine->out, 5, nine->in, 4, nine), -EINVAL);
	ck_assert_int_eq(virtq_add(vq, t->out, ~0u, t->in, 2, t), -EINVAL);
	/* More than 4 GiB in one chain. (Never dereferenced: rejected
	 * before anything is written.) */
	bad[0].len = 0x80000000u;
	bad[1].len = 0x80000000u;
	ck_assert_int_eq(virtq_add(vq, bad, 2, NULL, 0, t), -EINVAL);

	/* Nothing of it happened. */
	struct virtq_stats st;
	virtq_get_stats(vq, &st);
	ck_assert_uint_eq(st.adds, 0);
	ck_assert(!virtq_kick_prepare(vq));
	ck_assert_uint_eq(vdev_fetch(vd), 0);
	/* The whole ring is still free. */
	for (unsigned i = 0; i < 8; i++)
		ck_assert_int_eq(virtq_add(vq, t->out, 1, NULL, 0, t), 0);
	ck_assert(virtq_kick_prepare(vq));
	ck_assert_uint_eq(vdev_fetch(vd), 8);
	treq_free(vd, t);
	treq_free(vd, nine);
	vdev_free(vd);
}
END_TEST

static void fill_and_fetch(struct vdev *vd, struct tq *q, struct treq **t, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		ck_assert_int_eq(tq_add(q, t[i]), 0);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(tq_fetch(q), n);
}

static void check_broken(struct vdev *vd, struct treq **t, unsigned n)
{
	struct virtq *vq = vd->vq;
	ck_assert_ptr_null(virtq_get_used(vq, NULL));
	ck_assert(virtq_is_broken(vq));
	ck_assert_int_eq(virtq_add(vq, t[0]->out, 1, NULL, 0, t[0]), -EIO);
	/* The interrupt loop must end, not spin on a broken queue. */
	ck_assert(virtq_enable_cb(vq));
	/* Teardown gets every request back exactly once. */
	bool seen[8] = {false};
	void *tok;
	unsigned got = 0;
	while ((tok = virtq_detach_unused(vq)) != NULL) {
		bool found = false;
		for (unsigned i = 0; i < n; i++) {
			if (tok == t[i]) {
				ck_assert(!seen[i]);
				seen[i] = found = true;
			}
		}
		ck_assert(found);
		got++;
	}
	ck_assert_uint_eq(got, n);
}

START_TEST(test_device_returns_garbage)
{
	/* _i / 4 picks the fault; _i % 4 the features. */
	struct vdev *vd = vdev_new(16, FEAT(_i % 4));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t[4];
	for (unsigned i = 0; i < 4; i++)
		t[i] = treq_new(vd, 1, 2, 32, i);
	fill_and_fetch(vd, &q, t, 3);
	struct treq *rest[3];
	unsigned r = 0;
	switch (_i / 4) {
	case 0: /* an id past the table */
		vdev_put_raw(vd, 16, 0);
		break;
	case 1: /* an id that is not the head of a chain in flight: a
		 * chain's second descriptor, or a free one */
		vdev_put_raw(vd, vd->indirect ? 15 : vd->pending[0].head + 1u, 0);
		break;
	case 2: { /* the same request twice */
		uint16_t h = vd->pending[1].head;
		tq_complete(&q, 1, 4);
		vdev_publish(vd);
		ck_assert_uint_eq(tq_collect(&q), 1);
		vdev_put_raw(vd, h, 0);
		break;
	}
	case 3: /* an index further ahead than the requests in flight */
		vdev_set_used_idx(vd, 4);
		break;
	}
	/* Still in flight: what the model still holds. */
	for (unsigned k = 0; k < vd->npending; k++)
		rest[r++] = vd->pending[k].tag;
	ck_assert_uint_eq(r, (_i / 4 == 2) ? 2 : 3);
	check_broken(vd, rest, r);
	for (unsigned i = 0; i < 4; i++)
		treq_free(vd, t[i]);
	vdev_free(vd);
}
END_TEST

START_TEST(test_used_len_clamped)
{
	struct vdev *vd = vdev_new(8, FEAT(_i));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t = treq_new(vd, 1, 2, 32, 1);
	fill_and_fetch(vd, &q, &t, 1);
	/* The device claims more bytes than the chain can hold. */
	vdev_put_raw(vd, vd->pending[0].head, 100000);
	uint32_t len = 0;
	ck_assert_ptr_eq(virtq_get_used(vd->vq, &len), t);
	ck_assert_uint_eq(len, treq_in_total(t));
	ck_assert(!virtq_is_broken(vd->vq));
	struct virtq_stats st;
	virtq_get_stats(vd->vq, &st);
	ck_assert_uint_eq(st.len_clamped, 1);
	treq_free(vd, t);
	vdev_free(vd);
}
END_TEST

START_TEST(test_detach_unused_and_destroy)
{
	struct vdev *vd = vdev_new(16, FEAT(_i));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t[5];
	for (unsigned i = 0; i < 5; i++)
		t[i] = treq_new(vd, 2, 1, 16, i);
	/* Three published and fetched, one of them completed, two never
	 * published. */
	fill_and_fetch(vd, &q, t, 3);
	tq_complete(&q, 1, 3);
	vdev_publish(vd);
	ck_assert_uint_eq(tq_collect(&q), 1);
	ck_assert_int_eq(tq_add(&q, t[3]), 0);
	ck_assert_int_eq(tq_add(&q, t[4]), 0);
	unsigned got = 0, mask = 0;
	void *tok;
	while ((tok = virtq_detach_unused(vd->vq)) != NULL) {
		for (unsigned i = 0; i < 5; i++)
			if (tok == t[i]) {
				ck_assert(!(mask & (1u << i)));
				mask |= 1u << i;
			}
		got++;
	}
	ck_assert_uint_eq(got, 4);
	ck_assert_uint_eq(mask, 0x1f & ~(1u << 1));
	/* And a queue destroyed with requests in flight frees their
	 * indirect tables (ASan would report them). */
	struct vdev *vd2 = vdev_new(8, FEAT(_i));
	struct tq q2;
	tq_init(&q2, vd2);
	struct treq *u = treq_new(vd2, 2, 2, 16, 7);
	ck_assert_int_eq(tq_add(&q2, u), 0);
	virtq_kick(vd2->vq);
	treq_free(vd2, u);
	vdev_free(vd2);
	for (unsigned i = 0; i < 5; i++)
		treq_free(vd, t[i]);
	vdev_free(vd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtq_errors");
	TCase *tc = tcase_create("arguments");
	tcase_add_loop_test(tc, test_bad_arguments, 0, 4);
	suite_add_tcase(s, tc);

	tc = tcase_create("device_errors");
	tcase_add_loop_test(tc, test_device_returns_garbage, 0, 16);
	tcase_add_loop_test(tc, test_used_len_clamped, 0, 4);
	suite_add_tcase(s, tc);

	tc = tcase_create("teardown");
	tcase_add_loop_test(tc, test_detach_unused_and_destroy, 0, 4);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
