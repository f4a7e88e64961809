/*
 * Check suite for the DAX window manager (fs/virtiofs/dax_mgr.c) with a
 * guest-memory back end over synthetic files: data served through the
 * window is the file's, across chunk boundaries and at the end of files;
 * hits never map; each policy evicts in its order (OSv's LIFO, Linux's
 * FIFO with background reclaim, karst's heat clock); on a hot set polluted
 * by a one-time scan karst's policy keeps the hot set; pinned chunks are
 * never evicted (reads fall back); back-end errors come back; concurrent
 * readers on a small window always read the right bytes; dax_shrink gives
 * back free chunks' memory, then evicted chunks', never a pinned one's;
 * with fills that run behind the reader (ops->map_start), a sequential
 * read keeps DAX_READAHEAD chunks filling (none without the file's size), never serves one before
 * its fill is waited for, never reuses a filling chunk, and quiesce, invalidate, pin and destroy
 * wait for them; a back end that rotates its chunks (m->skew) is read right across the wrap, and a
 * pin's run stops there.
 */
#include "dax.h"
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH 4096u /* small chunks for the tests */

struct fake {
	uint8_t *window;
	uint64_t wlen;
	_Atomic int maps, unmaps;
	int fail_next;
};

static uint8_t file_byte(uint64_t nodeid, uint64_t pos)
{
	return (uint8_t)(nodeid * 31 + pos * 7 + (pos >> 12));
}

/* File n is n * 1000 + 5 bytes long. */
static uint64_t file_size(uint64_t nodeid)
{
	return nodeid * 1000 + 5;
}

static int fake_map(void *be, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t foff,
		    uint64_t moff, uint64_t len, uint64_t *valid)
{
	struct fake *f = be;
	ck_assert_uint_eq(fh, nodeid + 100);
	ck_assert_uint_eq(foff % CH, 0);
	ck_assert_uint_eq(moff % CH, 0);
	ck_assert_uint_le(moff + len, f->wlen);
	if (f->fail_next) {
		int e = f->fail_next;
		f->fail_next = 0;
		return e;
	}
	f->maps++;
	uint64_t size = file_size(nodeid);
	uint64_t n = foff >= size ? 0 : (size - foff < len ? size - foff : len);
	for (uint64_t i = 0; i < n; i++)
		f->window[moff + i] = file_byte(nodeid, foff + i);
	*valid = n;
	return 0;
}

static int fake_unmap(void *be, uint64_t moff, uint64_t len)
{
	struct fake *f = be;
	f->unmaps++;
	memset(f->window + moff, 0xee, len); /* stale data would show */
	return 0;
}

static const struct dax_backend_ops fake_ops = {.map = fake_map, .unmap = fake_unmap};

static struct fake *fake_new(uint32_t chunks)
{
	struct fake *f = calloc(1, sizeof(*f));
	f->wlen = (uint64_t)chunks * CH;
	f->window = malloc(f->wlen);
	memset(f->window, 0xee, f->wlen);
	return f;
}

static void fake_free(struct fake *f)
{
	free(f->window);
	free(f);
}

static void check_read(struct dax_mgr *m, uint64_t nodeid, uint64_t off, size_t len)
{
	static uint8_t buf[64 * 1024];
	ck_assert_uint_le(len, sizeof(buf));
	long n = dax_read(m, nodeid, nodeid + 100, off, buf, len);
	uint64_t size = file_size(nodeid);
	uint64_t want = off >= size ? 0 : (size - off < len ? size - off : len);
	ck_assert_int_eq(n, (long)want);
	for (long i = 0; i < n; i++)
		ck_assert_uint_eq(buf[i], file_byte(nodeid, off + (uint64_t)i));
}

START_TEST(test_init_args)
{
	struct dax_mgr m;
	uint8_t w[16];
	ck_assert_int_eq(dax_init(&m, w, 8 * CH, 3000, 12, DAX_POLICY_KARST, &fake_ops, NULL),
			 -EINVAL);
	ck_assert_int_eq(dax_init(&m, w, 8 * CH, CH, 13, DAX_POLICY_KARST, &fake_ops, NULL),
			 -EINVAL); /* chunk smaller than the map alignment */
	ck_assert_int_eq(dax_init(&m, w, CH - 1, CH, 12, DAX_POLICY_KARST, &fake_ops, NULL),
			 -EINVAL);
	ck_assert_int_eq(dax_init(&m, w, 8 * CH, CH, 12, DAX_POLICY_KARST, NULL, NULL), -EINVAL);
	ck_assert_int_eq(dax_init(&m, w, 8 * CH, 0, 12, DAX_POLICY_KARST, &fake_ops, NULL),
			 -EINVAL);
	ck_assert_int_eq(dax_init(&m, NULL, 8 * CH + 100, CH, 12, DAX_POLICY_FIFO, &fake_ops, NULL),
			 0);
	ck_assert_uint_eq(m.nchunks, 8); /* the remainder is unused */
	dax_destroy(&m);
}
END_TEST

START_TEST(test_data)
{
	struct fake *f = fake_new(16);
	struct dax_mgr m;
	ck_assert_int_eq(dax_init(&m, f->window, f->wlen, CH, 12, _i, &fake_ops, f), 0);
	/* File 50: 50005 bytes, 13 chunks. */
	check_read(&m, 50, 0, 100);
	check_read(&m, 50, CH - 10, 20); /* across a boundary */
	check_read(&m, 50, 3 * CH + 1, 3 * CH);
	check_read(&m, 50, 50000, 100);				     /* short at the end */
	check_read(&m, 50, 50005, 100);				     /* at the end */
	ck_assert_int_eq(dax_read(&m, 50, 150, 90000, NULL, 10), 0); /* past it */
	check_read(&m, 50, 0, 50005);				     /* all of it */
	int maps = f->maps;
	check_read(&m, 50, 0, 50005); /* all hits now */
	ck_assert_int_eq(f->maps, maps);
	ck_assert_uint_ge(m.st.hits, 13);
	ck_assert_uint_eq(dax_in_use(&m), 13);
	/* Another file, many times the window: evictions, data still right. */
	for (int round = 0; round < 3; round++)
		for (uint64_t off = 0; off < file_size(90); off += 5000)
			check_read(&m, 90, off, 7000);
	ck_assert_uint_gt(m.st.evictions, 0);
	ck_assert_uint_le(dax_in_use(&m), 16);
	dax_invalidate(&m, 90);
	check_read(&m, 50, 0, 50005);
	dax_destroy(&m);
	ck_assert_int_eq(f->maps - f->unmaps, 0); /* everything unmapped */
	fake_free(f);
}
END_TEST

/* Which chunk (file index of file 7) each policy evicts on a full window. */
START_TEST(test_policy_order)
{
	struct fake *f = fake_new(10);
	struct dax_mgr m;
	ck_assert_int_eq(dax_init(&m, f->window, f->wlen, CH, 12, _i, &fake_ops, f), 0);
	/* Map chunks 0..7 of file 7 (7005 bytes? no: use a big file). */
	uint64_t big = 60; /* 60005 bytes: 15 chunks */
	for (uint64_t c = 0; c < 8; c++)
		check_read(&m, big, c * CH, 1);
	if (_i == DAX_POLICY_FIFO) {
		/* 20% of 10 chunks kept free: at most 8 in use, oldest gone. */
		ck_assert_uint_le(dax_in_use(&m), 8);
		check_read(&m, big, 8 * CH, 1);
		check_read(&m, big, 9 * CH, 1);
		ck_assert_uint_le(dax_in_use(&m), 8);
		int maps = f->maps;
		check_read(&m, big, 0, 1); /* the oldest was reclaimed */
		ck_assert_int_eq(f->maps, maps + 1);
		check_read(&m, big, 9 * CH, 1); /* the newest stays */
		ck_assert_int_eq(f->maps, maps + 1);
	} else {
		check_read(&m, big, 8 * CH, 1);
		check_read(&m, big, 9 * CH, 1);
		ck_assert_uint_eq(dax_in_use(&m), 10);
		/* Warm chunks 0..4 with hits. */
		for (int r = 0; r < 3; r++)
			for (uint64_t c = 0; c < 5; c++)
				check_read(&m, big, c * CH, 1);
		check_read(&m, big, 10 * CH, 1); /* the window is full: evict one */
		int maps = f->maps;
		check_read(&m, big, 9 * CH, 1);
		if (_i == DAX_POLICY_LIFO) /* the most recent (9) went */
			ck_assert_int_eq(f->maps, maps + 1);
		maps = f->maps;
		for (uint64_t c = 0; c < 5; c++)
			check_read(&m, big, c * CH, 1);
		if (_i == DAX_POLICY_KARST) /* the warm ones stayed */
			ck_assert_int_eq(f->maps, maps);
	}
	dax_destroy(&m);
	fake_free(f);
}
END_TEST

/* A hot set re-read between passes of a one-time scan of many files, the
 * hot set changing halfway: hit ratio per policy; karst's must be the
 * best (LIFO keeps the first hot set for ever, FIFO ages the hot set out
 * behind the scan). */
static double scan_polluted(enum dax_policy p)
{
	struct dax_mgr m;
	struct fake *f = fake_new(64);
	ck_assert_int_eq(dax_init(&m, f->window, f->wlen, CH, 12, p, &fake_ops, f), 0);
	uint64_t scan = 100000;
	for (int round = 0; round < 40; round++) {
		uint64_t base = round < 20 ? 0 : 1000;
		for (int r = 0; r < 3; r++)
			for (uint64_t hot = base + 1; hot <= base + 40; hot++) /* one-chunk files */
				ck_assert_int_ge(dax_read(&m, hot, hot + 100, 0, NULL, 100), 0);
		for (int s = 0; s < 48; s++, scan++) /* never read again */
			ck_assert_int_ge(dax_read(&m, scan, scan + 100, 0, NULL, 100), 0);
	}
	double ratio = (double)m.st.hits / (double)(m.st.hits + m.st.misses);
	dax_destroy(&m);
	fake_free(f);
	return ratio;
}

START_TEST(test_scan_resistance)
{
	double k = scan_polluted(DAX_POLICY_KARST), l = scan_polluted(DAX_POLICY_LIFO),
	       f = scan_polluted(DAX_POLICY_FIFO);
	fprintf(stderr,
		"scan-polluted hot set, hit ratio: karst %.3f, osv-lifo %.3f, linux-fifo %.3f\n", k,
		l, f);
	ck_assert(k > l && k > f);
	ck_assert(k > 0.6);
}
END_TEST

START_TEST(test_pinned_and_errors)
{
	struct fake *f = fake_new(4);
	struct dax_mgr m;
	ck_assert_int_eq(dax_init(&m, f->window, f->wlen, CH, 12, _i, &fake_ops, f), 0);
	for (uint64_t n = 1; n <= 4; n++)
		check_read(&m, n * 10, 0, 10);
	for (uint32_t c = 0; c < 4; c++)
		atomic_store(&m.chunks[c].pins, 1);
	if (_i == DAX_POLICY_FIFO) /* background reclaim kept some free */
		for (uint64_t n = 5; dax_in_use(&m) < 4; n++)
			dax_read(&m, n * 10, n * 10 + 100, 0, NULL, 1);
	for (uint32_t c = 0; c < 4; c++)
		atomic_store(&m.chunks[c].pins, 1);
	ck_assert_int_eq(dax_read(&m, 99, 199, 0, NULL, 10), -EAGAIN);
	ck_assert_uint_eq(m.st.fallbacks, 1);
	for (uint32_t c = 0; c < 4; c++)
		atomic_store(&m.chunks[c].pins, 0);
	f->fail_next = -EIO;
	ck_assert_int_eq(dax_read(&m, 99, 199, 0, NULL, 10), -EIO);
	ck_assert_uint_eq(m.st.map_errors, 1);
	check_read(&m, 99, 0, 10);
	ck_assert_int_eq(dax_read(&m, 0, 100, 0, NULL, 10), -EINVAL);
	dax_destroy(&m);
	fake_free(f);
}
END_TEST

/* A back end that gives chunk memory back (dax_guest.c's drop): a chunk
 * holds memory from its first map until dropped. */
static bool held[16];
static int shr_map(void *be, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t foff,
		   uint64_t moff, uint64_t len, uint64_t *valid)
{
	int e = fake_map(be, nodeid, fh, fsize, foff, moff, len, valid);
	if (!e)
		held[moff / CH] = true;
	return e;
}

static bool shr_drop(void *be, uint32_t c)
{
	struct fake *f = be;
	bool had = held[c];
	held[c] = false;
	memset(f->window + (uint64_t)c * CH, 0xee, CH); /* stale data would show */
	return had;
}

static const struct dax_backend_ops shr_ops = {.map = shr_map, .drop = shr_drop};

START_TEST(test_shrink)
{
	struct fake *f = fake_new(8);
	struct dax_mgr m;
	memset(held, 0, sizeof(held));
	ck_assert_int_eq(dax_init(&m, f->window, f->wlen, CH, 12, _i, &shr_ops, f), 0);
	/* Five files of one chunk each (n * 1000 + 5 bytes < CH for n <= 4;
	 * node 1..4 and 10 (two chunks) */
	for (uint64_t n = 1; n <= 4; n++)
		check_read(&m, n, 0, 100);
	uint32_t used = dax_in_use(&m);
	ck_assert_uint_ge(used, 3); /* FIFO's background reclaim may have freed some */
	/* Without eviction only free chunks that hold memory go. */
	uint32_t freed_mem = 0;
	for (uint32_t c = 0; c < 8; c++)
		freed_mem += held[c] && !m.chunks[c].nodeid;
	ck_assert_uint_eq(dax_shrink(&m, 8, false), freed_mem);
	ck_assert_uint_eq(dax_in_use(&m), used);
	/* With eviction: never a pinned chunk. */
	uint32_t pinned = DAX_NO_CHUNK;
	for (uint32_t c = 0; c < 8; c++)
		if (m.chunks[c].nodeid && pinned == DAX_NO_CHUNK) {
			pinned = c;
			atomic_store(&m.chunks[c].pins, 1);
		}
	ck_assert_uint_eq(dax_shrink(&m, 8, true), used - 1);
	ck_assert_uint_eq(dax_in_use(&m), 1);
	ck_assert(held[pinned]);
	for (uint32_t c = 0; c < 8; c++)
		ck_assert(c == pinned || !held[c]);
	ck_assert_uint_eq(m.st.shrunk, freed_mem + used - 1);
	atomic_store(&m.chunks[pinned].pins, 0);
	/* Dropped chunks are mapped again, with the right bytes. */
	for (uint64_t n = 1; n <= 4; n++)
		check_read(&m, n, 0, 100);
	check_read(&m, 10, 0, 2 * CH);
	ck_assert_uint_eq(dax_shrink(&m, 1, true), 1);
	dax_destroy(&m);
	fake_free(f);
}
END_TEST

static void check_read_sized(struct dax_mgr *m, uint64_t nodeid, uint64_t off, size_t len)
{
	static uint8_t buf[64 * 1024];
	long n = dax_read_sized(m, nodeid, nodeid + 100, file_size(nodeid), off, buf, len);
	uint64_t size = file_size(nodeid);
	uint64_t want = off >= size ? 0 : (size - off < len ? size - off : len);
	ck_assert_int_eq(n, (long)want);
	for (long i = 0; i < n; i++)
		ck_assert_uint_eq(buf[i], file_byte(nodeid, off + (uint64_t)i));
}

/* A back end whose fills run asynchronously (map_start, map_wait): the
 * data lands in the window only at map_wait, so a read served from a
 * chunk before its fill was waited for would see 0xee. */
struct as_fill {
	uint64_t nodeid, fh, fsize, foff, moff, len;
};
static int as_starts, as_inflight, as_maxinflight, as_fail_wait;
static bool as_pending[64];

static int as_map(void *be, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t foff,
		  uint64_t moff, uint64_t len, uint64_t *valid)
{
	ck_assert(!as_pending[moff / CH]); /* a filling chunk is never reused */
	return fake_map(be, nodeid, fh, fsize, foff, moff, len, valid);
}

static int as_start(void *be, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t foff,
		    uint64_t moff, uint64_t len, void **fill)
{
	(void)be;
	ck_assert_uint_eq(fsize, file_size(nodeid));
	ck_assert_uint_lt(foff, fsize); /* never past the end of the file */
	ck_assert(!as_pending[moff / CH]);
	struct as_fill *a = malloc(sizeof(*a));
	*a = (struct as_fill){nodeid, fh, fsize, foff, moff, len};
	as_pending[moff / CH] = true;
	as_starts++;
	if (++as_inflight > as_maxinflight)
		as_maxinflight = as_inflight;
	*fill = a;
	return 0;
}

static int as_wait(void *be, void *fill, uint64_t *valid)
{
	struct as_fill *a = fill;
	as_pending[a->moff / CH] = false;
	as_inflight--;
	int e = 0;
	if (as_fail_wait) {
		e = as_fail_wait;
		as_fail_wait = 0;
	} else {
		e = as_map(be, a->nodeid, a->fh, a->fsize, a->foff, a->moff, a->len, valid);
	}
	free(a);
	return e;
}

static const struct dax_backend_ops as_ops = {
    .map = as_map, .map_start = as_start, .map_wait = as_wait, .unmap = fake_unmap};

START_TEST(test_fill_ahead)
{
	struct fake *f = fake_new(16);
	struct dax_mgr m;
	as_starts = as_inflight = as_maxinflight = as_fail_wait = 0;
	memset(as_pending, 0, sizeof(as_pending));
	ck_assert_int_eq(dax_init(&m, f->window, f->wlen, CH, 12, _i, &as_ops, f), 0);
	/* Node 30: 30005 bytes, 8 chunks, read in 1000-byte pieces: one miss,
	 * every other chunk filled ahead, at most DAX_READAHEAD of them (and
	 * the reader's) in flight, none left when the file is read. */
	for (uint64_t off = 0; off < file_size(30); off += 1000)
		check_read_sized(&m, 30, off, 1000);
	ck_assert_uint_eq(m.st.misses, 1);
	ck_assert_uint_eq(m.st.readahead, 7);
	ck_assert_int_eq(as_starts, 8);
	ck_assert_int_le(as_maxinflight, DAX_READAHEAD + 1);
	ck_assert_int_eq(as_inflight, 0);
	for (uint32_t c = 0; c < m.nchunks; c++)
		ck_assert(!atomic_load(&m.chunks[c].ref)); /* one pass warms nothing */
	/* Node 20 (5 chunks): reading its start leaves 4 filling; quiesce
	 * waits for them, and they serve as hits. */
	check_read_sized(&m, 20, 0, 100);
	ck_assert_int_eq(as_inflight, 4);
	ck_assert_uint_eq(m.filling, 4);
	dax_quiesce(&m, 20);
	ck_assert_int_eq(as_inflight, 0);
	ck_assert_uint_eq(m.filling, 0);
	uint64_t misses = m.st.misses;
	check_read_sized(&m, 20, CH, 4 * CH);
	ck_assert_uint_eq(m.st.misses, misses);
	/* Misses elsewhere (not sequential: mapped one by one) while node 10's
	 * read-ahead fills never take a filling chunk (as_map checks). */
	check_read_sized(&m, 10, 0, 100);
	ck_assert_int_eq(as_inflight, 2);
	for (uint64_t node = 31; node < 45; node++)
		check_read_sized(&m, node, 3 * CH, 100);
	ck_assert_int_eq(as_inflight, 2);
	/* Invalidating a file waits for its fills. */
	dax_invalidate(&m, 10);
	ck_assert_int_eq(as_inflight, 0);
	check_read_sized(&m, 10, 0, file_size(10));
	/* A fill that fails: the read that reaches it gets the error, keeps
	 * no chunk for it, and the next read maps it again. */
	dax_invalidate(&m, 20);
	check_read_sized(&m, 20, 0, 100);
	uint32_t used = dax_in_use(&m);
	as_fail_wait = -EIO;
	ck_assert_int_eq(dax_read_sized(&m, 20, 120, file_size(20), CH, NULL, 10), -EIO);
	ck_assert_uint_eq(dax_in_use(&m), used - 1);
	check_read_sized(&m, 20, CH, 100);
	/* dax_pin of a chunk still filling waits for it. */
	dax_invalidate(&m, 20);
	check_read_sized(&m, 20, 0, 100);
	uint32_t c;
	uint8_t *addr;
	uint64_t valid;
	ck_assert_int_eq(dax_pin(&m, 20, 120, file_size(20), 2 * CH + 5, &c, &addr, &valid), 0);
	ck_assert_uint_eq(addr[0], file_byte(20, 2 * CH + 5));
	dax_unpin(&m, c);
	/* Without the file's size, no read-ahead: one chunk, with map. */
	int starts = as_starts;
	ck_assert_int_eq(dax_read(&m, 50, 150, 0, NULL, 10), 10);
	ck_assert_int_eq(as_starts, starts);
	/* Destroy waits for what is still filling (ASan: no fill leaks). */
	ck_assert_int_gt(as_inflight, 0);
	dax_destroy(&m);
	ck_assert_int_eq(as_inflight, 0);
	ck_assert_uint_eq(m.filling, 0);
	fake_free(f);
}
END_TEST

/* A back end that rotates its chunks (m->skew): chunk byte b at
 * (b + ROT_SKEW) % CH of the chunk's memory. */
#define ROT_SKEW 1000u
static int rot_map(void *be, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t foff,
		   uint64_t moff, uint64_t len, uint64_t *valid)
{
	struct fake *f = be;
	(void)fh, (void)fsize;
	ck_assert_uint_eq(len, CH);
	uint64_t size = file_size(nodeid);
	uint64_t n = foff >= size ? 0 : (size - foff < len ? size - foff : len);
	for (uint64_t i = 0; i < n; i++)
		f->window[moff + (i + ROT_SKEW) % CH] = file_byte(nodeid, foff + i);
	*valid = n;
	return 0;
}

static const struct dax_backend_ops rot_ops = {.map = rot_map};

START_TEST(test_rotated)
{
	struct fake *f = fake_new(8);
	struct dax_mgr m;
	ck_assert_int_eq(dax_init(&m, f->window, f->wlen, CH, 12, _i, &rot_ops, f), 0);
	m.skew = ROT_SKEW;
	/* Reads across the wrap inside a chunk, across chunks, to the end. */
	check_read(&m, 30, 0, file_size(30));
	check_read(&m, 30, CH - ROT_SKEW - 10, 20);
	check_read(&m, 30, 2 * CH - 5, CH + 10);
	check_read(&m, 20, file_size(20) - 7, 100);
	/* A pin gives the byte's address and the run up to the wrap. */
	uint32_t c;
	uint8_t *addr;
	uint64_t valid;
	ck_assert_int_eq(dax_pin(&m, 30, 130, file_size(30), CH + 10, &c, &addr, &valid), 0);
	ck_assert_uint_eq(addr[0], file_byte(30, CH + 10));
	ck_assert_uint_eq(valid, CH - ROT_SKEW - 10);
	ck_assert_uint_eq(addr[valid - 1], file_byte(30, CH + 10 + valid - 1));
	dax_unpin(&m, c);
	ck_assert_int_eq(dax_pin(&m, 30, 130, file_size(30), 2 * CH - 10, &c, &addr, &valid), 0);
	ck_assert_uint_eq(valid, 10);
	ck_assert_uint_eq(addr[9], file_byte(30, 2 * CH - 1));
	dax_unpin(&m, c);
	dax_destroy(&m);
	fake_free(f);
}
END_TEST

struct reader {
	struct dax_mgr *m;
	unsigned seed;
	int bad;
};

static void *reader_main(void *arg)
{
	struct reader *r = arg;
	uint8_t buf[3 * CH];
	for (int i = 0; i < 4000; i++) {
		uint64_t node = 1 + (uint64_t)rand_r(&r->seed) % 30;
		uint64_t size = file_size(node);
		uint64_t off = (uint64_t)rand_r(&r->seed) % size;
		size_t len = 1 + (size_t)rand_r(&r->seed) % sizeof(buf);
		long n = dax_read(r->m, node, node + 100, off, buf, len);
		uint64_t want = size - off < len ? size - off : len;
		if (n != (long)want) {
			r->bad++;
			continue;
		}
		for (long j = 0; j < n; j++)
			if (buf[j] != file_byte(node, off + (uint64_t)j)) {
				r->bad++;
				break;
			}
	}
	return NULL;
}

START_TEST(test_concurrent_readers)
{
	struct fake *f = fake_new(6);
	struct dax_mgr m;
	ck_assert_int_eq(dax_init(&m, f->window, f->wlen, CH, 12, _i, &fake_ops, f), 0);
	pthread_t t[4];
	struct reader r[4];
	for (int i = 0; i < 4; i++) {
		r[i] = (struct reader){.m = &m, .seed = (unsigned)i + 1};
		pthread_create(&t[i], NULL, reader_main, &r[i]);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(r[i].bad, 0);
	}
	ck_assert_uint_gt(m.st.hits, 0);
	ck_assert_uint_gt(m.st.evictions, 0);
	dax_destroy(&m);
	fake_free(f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("dax");
	TCase *tc = tcase_create("dax");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_init_args);
	tcase_add_loop_test(tc, test_data, 0, 3);
	tcase_add_loop_test(tc, test_policy_order, 0, 3);
	tcase_add_test(tc, test_scan_resistance);
	tcase_add_loop_test(tc, test_pinned_and_errors, 0, 3);
	tcase_add_loop_test(tc, test_concurrent_readers, 0, 3);
	tcase_add_loop_test(tc, test_shrink, 0, 3);
	tcase_add_loop_test(tc, test_fill_ahead, 0, 3);
	tcase_add_loop_test(tc, test_rotated, 0, 3);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
