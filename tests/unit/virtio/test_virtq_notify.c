/*
 * Check suite for the split virtqueue's notifications (kernel/virtio):
 * kicks suppressed exactly when the device said so (VIRTQ_USED_F_NO_NOTIFY,
 * or avail_event with event index), interrupts as the driver asked
 * (VIRTQ_AVAIL_F_NO_INTERRUPT or used_event), and the race virtq_enable_cb
 * exists for: a completion between draining the ring and re-enabling.
 *
 * Loop tests over _i: bit 0 = indirect, bit 1 = event index.
 */
#include "virtq_test.h"
#include <check.h>
#include <errno.h>
#include <stdlib.h>

#define FEAT(i) tq_features((i)&1, (i)&2)

static void add_n(struct tq *q, struct treq **t, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		VDEV_CMP(tq_add(q, t[i]), ==, 0);
}

/* Let the device take everything and give it back, collected. */
static void drain(struct vdev *vd, struct tq *q)
{
	tq_fetch(q);
	while (vd->npending)
		tq_complete(q, 0, MIN(1u, vd->pending[0].in_total));
	vdev_publish(vd);
	tq_collect(q);
	ck_assert_uint_eq(q->ndone, 0);
}

START_TEST(test_kick_no_notify_flag)
{
	struct vdev *vd = vdev_new(16, FEAT(_i & 1));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t[4];
	for (unsigned i = 0; i < 4; i++)
		t[i] = treq_new(vd, 1, 1, 32, i);

	/* Nothing added: no kick, and no count either way. */
	ck_assert(!virtq_kick_prepare(vd->vq));
	virtq_kick(vd->vq);
	ck_assert_uint_eq(vd->notifies, 0);

	add_n(&q, t, 2);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(vd->notifies, 1);
	/* Kicking again with nothing new stays quiet. */
	virtq_kick(vd->vq);
	ck_assert_uint_eq(vd->notifies, 1);
	drain(vd, &q);

	/* The device polls: it asks not to be notified. */
	vdev_set_no_notify(vd, true);
	add_n(&q, t, 3);
	ck_assert(!virtq_kick_prepare(vd->vq));
	/* Published all the same. */
	ck_assert_uint_eq(tq_fetch(&q), 3);
	add_n(&q, t + 3, 1);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(vd->notifies, 1);
	drain(vd, &q);

	vdev_set_no_notify(vd, false);
	add_n(&q, t, 1);
	ck_assert(virtq_kick_prepare(vd->vq));
	virtq_notify(vd->vq);
	ck_assert_uint_eq(vd->notifies, 2);
	drain(vd, &q);

	struct virtq_stats st;
	virtq_get_stats(vd->vq, &st);
	ck_assert_uint_eq(st.kicks, 2);
	ck_assert_uint_eq(st.kicks_suppressed, 2);
	for (unsigned i = 0; i < 4; i++)
		treq_free(vd, t[i]);
	vdev_free(vd);
}
END_TEST

START_TEST(test_kick_event_idx_like_qemu)
{
	/* The device asks, after each fetch, to hear about the next entry. */
	struct vdev *vd = vdev_new(16, FEAT((_i & 1) | 2));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t[6];
	for (unsigned i = 0; i < 6; i++)
		t[i] = treq_new(vd, 1, 1, 32, i);

	add_n(&q, t, 3);
	virtq_kick(vd->vq); /* [0,3) holds avail_event 0 */
	ck_assert_uint_eq(vd->notifies, 1);
	add_n(&q, t + 3, 2);
	virtq_kick(vd->vq); /* [3,5): the device has not fetched; no news for it */
	ck_assert_uint_eq(vd->notifies, 1);
	ck_assert_uint_eq(tq_fetch(&q), 5); /* avail_event = 5 */
	add_n(&q, t + 5, 1);
	virtq_kick(vd->vq); /* [5,6) holds 5 */
	ck_assert_uint_eq(vd->notifies, 2);
	drain(vd, &q);

	/* Even with VIRTQ_USED_F_NO_NOTIFY set, event index rules. */
	virtq_shared_store(virtq_used_flags(vd->used), VIRTQ_USED_F_NO_NOTIFY);
	add_n(&q, t, 1);
	virtq_kick(vd->vq);
	ck_assert_uint_eq(vd->notifies, 3);
	virtq_shared_store(virtq_used_flags(vd->used), 0);
	drain(vd, &q);
	for (unsigned i = 0; i < 6; i++)
		treq_free(vd, t[i]);
	vdev_free(vd);
}
END_TEST

/* Whether entry `event` is among [old, new), by counting. */
static bool crossed(uint16_t event, uint16_t old_idx, uint16_t new_idx)
{
	for (uint16_t i = old_idx; i != new_idx; i++)
		if (i == event)
			return true;
	return false;
}

START_TEST(test_kick_event_idx_exact)
{
	/* Random avail_event around the index, random batches, across the
	 * 16-bit wrap: a kick exactly when the batch crossed avail_event. */
	struct vdev *vd = vdev_new(8, FEAT((_i & 1) | 2));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t[4];
	for (unsigned i = 0; i < 4; i++)
		t[i] = treq_new(vd, 1, i & 1, 16, i);
	uint64_t rs = 77 + _i;
	uint16_t published = 0;
	unsigned want_kicks = 0, want_quiet = 0;
	for (unsigned round = 0; round < 30000; round++) {
		unsigned k = 1 + tq_rand(&rs) % 4;
		/* At most 6 descriptors direct: the 8-entry ring has room. */
		uint16_t event = (uint16_t)(published - 3 + tq_rand(&rs) % 10);
		vdev_set_avail_event(vd, event);
		add_n(&q, t, k);
		unsigned before = vd->notifies;
		virtq_kick(vd->vq);
		bool want = crossed(event, published, (uint16_t)(published + k));
		VDEV_CMP(vd->notifies - before, ==, want);
		want_kicks += want;
		want_quiet += !want;
		published = (uint16_t)(published + k);
		drain(vd, &q);
	}
	ck_assert_uint_eq(virtq_shared_load(virtq_avail_idx(vd->avail)), published);
	struct virtq_stats st;
	virtq_get_stats(vd->vq, &st);
	ck_assert_uint_gt(st.adds, 65536); /* the index wrapped */
	ck_assert_uint_eq(st.kicks, want_kicks);
	ck_assert_uint_eq(st.kicks_suppressed, want_quiet);
	ck_assert_uint_gt(want_kicks, 0);
	ck_assert_uint_gt(want_quiet, 0);
	for (unsigned i = 0; i < 4; i++)
		treq_free(vd, t[i]);
	vdev_free(vd);
}
END_TEST

START_TEST(test_interrupts_enabled)
{
	bool event = _i & 2;
	struct vdev *vd = vdev_new(8, FEAT(_i));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t[4];
	for (unsigned i = 0; i < 4; i++)
		t[i] = treq_new(vd, 1, 1, 16, i);
	add_n(&q, t, 4);
	virtq_kick(vd->vq);
	tq_fetch(&q);

	/* Callbacks start enabled: the first completion interrupts. */
	tq_complete(&q, 0, 1);
	ck_assert(vdev_publish(vd));
	/* Uncollected, a second one interrupts only without event index:
	 * used_event still names the entry already announced. */
	tq_complete(&q, 0, 1);
	ck_assert_int_eq(vdev_publish(vd), !event);
	/* Collecting moves used_event on: the next one interrupts again. */
	ck_assert_uint_eq(tq_collect(&q), 2);
	tq_complete(&q, 0, 1);
	ck_assert(vdev_publish(vd));
	ck_assert_uint_eq(tq_collect(&q), 1);
	/* Two at once: one interrupt in either mode. */
	unsigned before = vd->interrupts;
	ck_assert_int_eq(tq_add(&q, t[0]), 0);
	virtq_kick(vd->vq);
	tq_fetch(&q);
	tq_complete(&q, 0, 1);
	tq_complete(&q, 0, 1);
	ck_assert(vdev_publish(vd));
	ck_assert_uint_eq(vd->interrupts, before + 1);
	ck_assert_uint_eq(tq_collect(&q), 2);
	for (unsigned i = 0; i < 4; i++)
		treq_free(vd, t[i]);
	vdev_free(vd);
}
END_TEST

START_TEST(test_interrupts_disabled)
{
	/* Callbacks off, the driver polling many completions: no interrupt,
	 * in either mode, including with event index across the 16-bit
	 * wrap of used->idx (not of used_event's distance). */
	struct vdev *vd = vdev_new(8, FEAT(_i));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t[8];
	for (unsigned i = 0; i < 8; i++)
		t[i] = treq_new(vd, 1, 0, 16, i);
	/* Move the indices near the wrap first. */
	for (unsigned i = 0; i < 65530 / 8; i++) {
		add_n(&q, t, 8);
		virtq_kick(vd->vq);
		drain(vd, &q);
	}
	unsigned before = vd->interrupts;
	virtq_disable_cb(vd->vq);
	virtq_disable_cb(vd->vq); /* idempotent */
	for (unsigned i = 0; i < 2000; i++) {
		add_n(&q, t, 1 + i % 8);
		virtq_kick(vd->vq);
		tq_fetch(&q);
		while (vd->npending) {
			tq_complete(&q, vd->npending - 1, 0);
			VDEV_CHECK(!vdev_publish(vd));
		}
		tq_collect(&q);
	}
	ck_assert_uint_eq(vd->interrupts, before);
	/* Enabled again with nothing pending: the next completion
	 * interrupts. */
	ck_assert(virtq_enable_cb(vd->vq));
	add_n(&q, t, 1);
	virtq_kick(vd->vq);
	tq_fetch(&q);
	tq_complete(&q, 0, 0);
	ck_assert(vdev_publish(vd));
	ck_assert_uint_eq(tq_collect(&q), 1);
	for (unsigned i = 0; i < 8; i++)
		treq_free(vd, t[i]);
	vdev_free(vd);
}
END_TEST

START_TEST(test_enable_cb_race)
{
	struct vdev *vd = vdev_new(8, FEAT(_i));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t[4];
	for (unsigned i = 0; i < 4; i++)
		t[i] = treq_new(vd, 1, 1, 16, i);
	add_n(&q, t, 4);
	virtq_kick(vd->vq);
	tq_fetch(&q);

	/* An interrupt arrives; the handler disables and drains. */
	tq_complete(&q, 0, 2);
	ck_assert(vdev_publish(vd));
	unsigned irqs = vd->interrupts;
	virtq_disable_cb(vd->vq);
	ck_assert_uint_eq(tq_collect(&q), 1);
	/* The device completes one more after the drain, before the
	 * handler re-enables: no interrupt for it (disabled)... */
	tq_complete(&q, 1, 2);
	ck_assert(!vdev_publish(vd));
	/* ...so enable_cb must report it. */
	ck_assert(!virtq_enable_cb(vd->vq));
	/* Callbacks are on now: the handler polls, then re-enables. */
	virtq_disable_cb(vd->vq);
	ck_assert_uint_eq(tq_collect(&q), 1);
	ck_assert(virtq_enable_cb(vd->vq));
	ck_assert_uint_eq(vd->interrupts, irqs);

	/* Nothing is lost: the next completion interrupts. */
	tq_complete(&q, 0, 2);
	ck_assert(vdev_publish(vd));

	/* The handler's loop, with the device completing while it runs. */
	unsigned loops = 0;
	do {
		virtq_disable_cb(vd->vq);
		while (tq_collect_one(&q)) {
			if (vd->npending) {
				tq_complete(&q, 0, 2);
				vdev_publish(vd);
			}
		}
		loops++;
	} while (!virtq_enable_cb(vd->vq));
	ck_assert_uint_eq(loops, 1);
	ck_assert_uint_eq(vd->npending, 0);
	ck_assert_uint_eq(q.ndone, 0);
	for (unsigned i = 0; i < 4; i++)
		treq_free(vd, t[i]);
	vdev_free(vd);
}
END_TEST

START_TEST(test_enable_cb_race_loop)
{
	/* Completions land between the drain and virtq_enable_cb: the loop
	 * must go round again each time, and end once the device is idle. */
	struct vdev *vd = vdev_new(8, FEAT(_i));
	struct tq q;
	tq_init(&q, vd);
	struct treq *t[3];
	for (unsigned i = 0; i < 3; i++)
		t[i] = treq_new(vd, 1, 1, 16, i);
	add_n(&q, t, 3);
	virtq_kick(vd->vq);
	tq_fetch(&q);
	unsigned loops = 0, collected = 0;
	do {
		virtq_disable_cb(vd->vq);
		collected += tq_collect(&q);
		/* The race: one more completion right here. */
		if (vd->npending) {
			tq_complete(&q, 0, 2);
			ck_assert(!vdev_publish(vd));
		}
		loops++;
	} while (!virtq_enable_cb(vd->vq));
	ck_assert_uint_eq(loops, 4);
	ck_assert_uint_eq(collected, 3);
	for (unsigned i = 0; i < 3; i++)
		treq_free(vd, t[i]);
	vdev_free(vd);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("virtq_notify");
	TCase *tc = tcase_create("kicks");
	tcase_add_loop_test(tc, test_kick_no_notify_flag, 0, 2);
	tcase_add_loop_test(tc, test_kick_event_idx_like_qemu, 0, 2);
	tcase_add_loop_test(tc, test_kick_event_idx_exact, 0, 2);
	suite_add_tcase(s, tc);

	tc = tcase_create("interrupts");
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_interrupts_enabled, 0, 4);
	tcase_add_loop_test(tc, test_interrupts_disabled, 0, 4);
	tcase_add_loop_test(tc, test_enable_cb_race, 0, 4);
	tcase_add_loop_test(tc, test_enable_cb_race_loop, 0, 4);
	suite_add_tcase(s, tc);

	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
