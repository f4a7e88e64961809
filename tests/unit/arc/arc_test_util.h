/*
 * Helpers shared by the ARC suites: keys from integers, a fill callback
 * that writes a pattern derived from the key and counts its calls, and a
 * check of that pattern.
 */
#ifndef ARC_TEST_UTIL_H
#define ARC_TEST_UTIL_H

#include "arc.h"
#include <check.h>
#include <errno.h>
#include <karst/thread.h>
#include <lz4.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define BS 4096 /* the unit block of the paper-equivalence tests */

struct fill_ctx {
	atomic_ulong calls;
	int fail;	   /* return this (negative) instead of filling */
	uint64_t delay_ns; /* sleep in the fill (concurrency tests) */
	bool give_lz4;	   /* hand the ARC lz4 bytes, as a compressed disk block */
	bool compressible; /* pattern that lz4 shrinks */
};

static inline struct arc_key kkey(uint64_t n)
{
	struct arc_key k = {{n, n ^ 0x5555, 7, 0xfeed}};
	return k;
}

/* The bytes of a block are a function of its key and position, made a
 * 64-bit word at a time (byte i is byte i % 8 of word i / 8, little-endian)
 * so that filling and checking whole blocks stays cheap. */
static inline uint64_t pattern_word(const struct arc_key *k, size_t w, bool compressible)
{
	if (compressible) {
		uint64_t b = (uint8_t)(k->w[0] + w / 8);
		return b * 0x0101010101010101ULL;
	}
	uint64_t x = (k->w[0] + 1) * 0x9e3779b97f4a7c15ULL + w * 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	x *= 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static inline uint8_t pattern_byte(const struct arc_key *k, size_t i, bool compressible)
{
	return (uint8_t)(pattern_word(k, i / 8, compressible) >> (8 * (i % 8)));
}

static inline void pattern_fill(const struct arc_key *k, uint8_t *d, size_t n, bool compressible)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w = pattern_word(k, i / 8, compressible);
		for (int j = 0; j < 8; j++)
			d[i + j] = (uint8_t)(w >> (8 * j));
	}
	for (; i < n; i++)
		d[i] = pattern_byte(k, i, compressible);
}

static inline int test_fill(void *arg, const struct arc_key *k, void *dst, size_t lsize)
{
	struct fill_ctx *f = arg;
	atomic_fetch_add(&f->calls, 1);
	if (f->delay_ns)
		thread_sleep_ns(f->delay_ns);
	if (f->fail > 0) /* claims lz4 bytes, writes bytes that are not */
		memset(dst, 0xff, (size_t)f->fail);
	if (f->fail)
		return f->fail;
	uint8_t *d = dst;
	if (f->give_lz4) {
		uint8_t *plain = malloc(lsize);
		for (size_t i = 0; i < lsize; i++)
			plain[i] = pattern_byte(k, i, f->compressible);
		int n = LZ4_compress_default((const char *)plain, dst, (int)lsize, (int)lsize - 1);
		free(plain);
		ck_assert_int_gt(n, 0);
		return n;
	}
	pattern_fill(k, d, lsize, f->compressible);
	return 0;
}

static inline bool data_ok(struct arc_buf *b, const struct arc_key *k, bool compressible)
{
	const uint8_t *d = arc_buf_data(b);
	if (!d)
		return false;
	size_t n = arc_buf_size(b), i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w = pattern_word(k, i / 8, compressible);
		for (int j = 0; j < 8; j++)
			if (d[i + j] != (uint8_t)(w >> (8 * j)))
				return false;
	}
	for (; i < n; i++)
		if (d[i] != pattern_byte(k, i, compressible))
			return false;
	return true;
}

static inline void verify_ok(struct arc *a, bool strict)
{
	char why[256] = "";
	int err = arc_verify(a, strict, why, sizeof(why));
	ck_assert_msg(err == 0, "arc_verify: %s", why);
}

static inline struct arc *mk_arc(uint64_t blocks, unsigned nsub)
{
	struct arc_config cfg = {
	    .name = "test", .c_max = blocks * BS, .c_min = blocks * BS, .nsublists = nsub};
	struct arc *a;
	ck_assert_int_eq(arc_create(&cfg, &a), 0);
	return a;
}

/* Read and release at once; returns whether it was a hit (no fill). */
static inline bool touch(struct arc *a, uint64_t n, struct fill_ctx *f)
{
	struct arc_key k = kkey(n);
	unsigned long before = atomic_load(&f->calls);
	struct arc_buf *b;
	ck_assert_int_eq(arc_read(a, &k, BS, 0, test_fill, f, &b), 0);
	ck_assert(data_ok(b, &k, f->compressible));
	arc_buf_release(a, b);
	return atomic_load(&f->calls) == before;
}

#endif
