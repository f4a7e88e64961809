/*
 * Helpers shared by the GEOM suites and the benchmark (see geom_test.h).
 */
#include "geom_test.h"
#ifdef GT_NO_CHECK
/* The benchmark runs outside Check, where even a passing ck_assert
 * complains: check with VERIFY instead. */
#define ck_assert(e)		 VERIFY(e)
#define ck_assert_int_eq(a, b)	 VERIFY((a) == (b))
#define ck_assert_uint_eq(a, b)	 VERIFY((a) == (b))
#define ck_assert_ptr_nonnull(p) VERIFY((p) != NULL)
#else
#include <check.h>
#endif
#include <errno.h>
#include <karst/kmem.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gt_start(void)
{
	ck_assert_int_eq(g_init(), 0);
	ck_assert_int_eq(g_class_register(&g_md_class), 0);
	ck_assert_int_eq(g_class_register(&g_nop_class), 0);
	ck_assert_int_eq(g_class_register(&g_part_class), 0);
	ck_assert_int_eq(g_class_register(&g_label_class), 0);
}

void gt_stop(void)
{
	ck_assert_int_eq(g_fini(), 0);
}

int gt_mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct gt_mem *m = ctx;
	if (off > m->size || len > m->size - off)
		return -EIO;
	memcpy(buf, m->buf + off, len);
	return 0;
}

int gt_mem_write(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct gt_mem *m = ctx;
	if (off > m->size || len > m->size - off)
		return -EIO;
	memcpy(m->buf + off, buf, len);
	return 0;
}

uint8_t *gt_gpt_image(uint64_t size, uint32_t ss, int nparts, const uint64_t *sectors)
{
	struct gt_mem m = {.buf = calloc(1, size), .size = size};
	struct g_gpt_table t;
	struct g_uuid disk = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}};
	struct g_uuid type;
	ck_assert_ptr_nonnull(m.buf);
	ck_assert_int_eq(g_gpt_type_parse("linux-data", &type), 0);
	ck_assert_int_eq(g_gpt_create(&t, size, ss, &disk), 0);
	for (int i = 0; i < nparts; i++) {
		struct g_uuid guid = disk;
		guid.b[0] = (uint8_t)(0x80 + i);
		char label[16];
		snprintf(label, sizeof(label), "part%d", i + 1);
		unsigned idx;
		ck_assert_int_eq(
		    g_gpt_add(&t, 0, sectors[i], (1u << 20) / ss, &type, &guid, label, &idx), 0);
		ck_assert_uint_eq(idx, (unsigned)i + 1);
	}
	ck_assert_int_eq(g_gpt_write(gt_mem_write, &m, &t), 0);
	g_gpt_free(&t);
	return m.buf;
}

void gt_label_image(uint8_t *buf, uint64_t size, uint32_t ss, const char *name)
{
	struct g_label_meta md = {.version = G_LABEL_VERSION, .provsize = size};
	strcpy(md.name, name);
	ck_assert_int_eq(g_label_encode(&md, buf + size - ss, ss), 0);
}

bool gt_provider_exists(const char *name)
{
	g_topology_lock();
	bool r = g_find_provider(name) != NULL;
	g_topology_unlock();
	return r;
}

bool gt_wait_provider(const char *name, bool want)
{
	uint64_t end = time_ns() + 10 * NSEC_PER_SEC;
	while (time_ns() < end) {
		g_waitidle();
		if (gt_provider_exists(name) == want)
			return true;
		thread_sleep_ns(NSEC_PER_MSEC);
	}
	return false;
}

void gt_batch_init(struct gt_batch *b)
{
	sema_init(&b->done, 0);
	atomic_store(&b->completed, 0);
	atomic_store(&b->errors, 0);
	atomic_store(&b->first_error, 0);
}

void gt_batch_destroy(struct gt_batch *b)
{
	sema_destroy(&b->done);
}

static void gt_done(struct bio *bp)
{
	struct gt_batch *b = bp->caller1;
	int err = atomic_load(&bp->error);
	if (err) {
		int zero = 0;
		atomic_fetch_add(&b->errors, 1);
		atomic_compare_exchange_strong(&b->first_error, &zero, err);
	}
	/* caller2: optional place for the result, owned by the submitter. */
	if (bp->caller2) {
		int *res = bp->caller2;
		*res = err;
	}
	g_destroy_bio(bp);
	atomic_fetch_add(&b->completed, 1);
	sema_up(&b->done);
}

struct bio *gt_submit(struct gt_batch *b, struct g_consumer *cp, enum bio_cmd cmd, uint64_t off,
		      void *buf, size_t len)
{
	struct bio *bp = g_new_bio();
	ck_assert_ptr_nonnull(bp);
	bp->cmd = cmd;
	bp->offset = off;
	bp->length = len;
	bp->data = buf;
	bp->done = gt_done;
	bp->caller1 = b;
	g_io_request(bp, cp);
	return bp;
}

void gt_wait(struct gt_batch *b, int n)
{
	for (int i = 0; i < n; i++)
		sema_down(&b->done);
}

static uint64_t gt_mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

void gt_fill(uint8_t *buf, size_t len, uint64_t seed, uint64_t off)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = gt_mix(seed * 0x9e3779b97f4a7c15ULL + (off + i) / 8);
		memcpy(buf + i, &v, MIN((size_t)8, len - i));
	}
}

bool gt_check(const uint8_t *buf, size_t len, uint64_t seed, uint64_t off)
{
	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = gt_mix(seed * 0x9e3779b97f4a7c15ULL + (off + i) / 8);
		if (memcmp(buf + i, &v, MIN((size_t)8, len - i)) != 0)
			return false;
	}
	return true;
}
