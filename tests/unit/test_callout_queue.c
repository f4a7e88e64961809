/*
 * Check suite for the sorted callout queue under the kernel's callouts.
 */
#include <check.h>
#include <karst/timer.h>
#include <stdlib.h>

static struct callout_queue q;
static struct callout c[200];

static void setup(void)
{
	cq_init(&q);
	for (int i = 0; i < 200; i++)
		list_init(&c[i].link);
}

START_TEST(test_empty)
{
	ck_assert_ptr_null(cq_first(&q));
	ck_assert_ptr_null(cq_pop_expired(&q, UINT64_MAX));
}
END_TEST

START_TEST(test_pops_in_deadline_order_fifo_on_ties)
{
	srand(3);
	for (int i = 0; i < 200; i++) {
		c[i].deadline = (uint64_t)(rand() % 50);
		c[i].arg = (void *)(uintptr_t)i;
		cq_insert(&q, &c[i]);
	}
	uint64_t last = 0;
	int last_i = -1, n = 0;
	struct callout *x;
	while ((x = cq_pop_expired(&q, UINT64_MAX)) != NULL) {
		int i = (int)(uintptr_t)x->arg;
		ck_assert_uint_ge(x->deadline, last);
		if (x->deadline == last)
			ck_assert_int_gt(i, last_i);
		last = x->deadline;
		last_i = i;
		n++;
	}
	ck_assert_int_eq(n, 200);
}
END_TEST

START_TEST(test_pop_respects_now_and_remove)
{
	for (int i = 0; i < 10; i++) {
		c[i].deadline = (uint64_t)(i * 10);
		cq_insert(&q, &c[i]);
	}
	cq_remove(&q, &c[0]);
	cq_remove(&q, &c[5]);
	ck_assert_ptr_eq(cq_first(&q), &c[1]);
	ck_assert_ptr_null(cq_pop_expired(&q, 9));
	ck_assert_ptr_eq(cq_pop_expired(&q, 10), &c[1]);
	ck_assert_ptr_eq(cq_pop_expired(&q, 45), &c[2]);
	ck_assert_ptr_eq(cq_pop_expired(&q, 45), &c[3]);
	ck_assert_ptr_eq(cq_pop_expired(&q, 45), &c[4]);
	ck_assert_ptr_null(cq_pop_expired(&q, 45)); /* c[5] is gone, c[6] is at 60 */
	ck_assert_ptr_eq(cq_first(&q), &c[6]);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("callout_queue");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_pops_in_deadline_order_fifo_on_ties);
	tcase_add_test(tc, test_pop_respects_now_and_remove);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
