/*
 * Check suite for cowfs as a page-cache owner (fs/cowfs/cowfs_pc.c), on a
 * memory device with an ARC of the test's own: read() copies straight
 * from held ARC buffers (spans) and makes no page; mapped pages wholly
 * inside uncompressed committed blocks are lent (no copy), pin their ARC
 * buffers while cached and unpin when they go; a read() of cached pages is
 * served by the cache alone; the tail page, holes, lz4 blocks and dirty
 * blocks are filled by copy; writes through the cache
 * and through shared mappings reach the pool on fsync/msync and survive a
 * reopen, private mappings do not; truncate under a mapping; ENOSPC during
 * writeback is reported and the page stays dirty.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "cowfs.h"
#include "cowfs_impl.h"
#include "cowfs_pc.h"
#include "pc_test_fs.h"
#include <karst/vm.h>
#include <pc_impl.h>
#include <vfs.h>

#define MB (1024ULL * 1024)
#define PG ((size_t)PAGE_SIZE)

static struct cowfs_dev *dev;
static struct cowfs_pool *pool;
static struct arc *arc;

static void report(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "check: %s\n", line);
}

static void pattern(uint8_t *b, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u; /* incompressible enough for lz4 */
		b[i] = (uint8_t)(x >> 16);
	}
}

static void op(void)
{
	char why[128];
	struct cowfs_open_opts o = {.arc = arc};
	int err = cowfs_open(dev, &o, &pool, why, sizeof(why));
	ck_assert_msg(err == 0, "open: %d %s", err, why);
}

static void mk(uint64_t size, uint8_t comp)
{
	char why[128];
	pc_scanner_set_auto(false);
	struct arc_config cfg = {.name = "test", .c_max = 16 * MB, .c_min = 64 * 1024};
	ck_assert_int_eq(arc_create(&cfg, &arc), 0);
	ck_assert_int_eq(cowfs_memdev_create(size, &dev), 0);
	struct cowfs_mkfs_opts o = {.comp = comp, .time = 1000};
	ck_assert_msg(cowfs_mkfs(dev, &o, why, sizeof(why)) == 0, "mkfs: %s", why);
	op();
}

static void reopen(void)
{
	ck_assert_int_eq(cowfs_close(pool), 0);
	op();
}

static void teardown(void)
{
	if (pool) {
		ck_assert_int_eq(cowfs_sync(pool), 0);
		ck_assert_int_eq(cowfs_check(pool, report, NULL, NULL), 0);
		cowfs_close(pool);
	}
	pool = NULL;
	if (arc) {
		char why[128];
		ck_assert_msg(arc_verify(arc, false, why, sizeof(why)) == 0, "arc: %s", why);
		arc_destroy(arc); /* asserts that nothing is held or shared */
	}
	arc = NULL;
	if (dev)
		cowfs_memdev_destroy(dev);
	dev = NULL;
}

/* A committed file of len bytes of pattern(seed). */
static uint64_t mkfile(const char *name, size_t len, unsigned seed, uint8_t **data)
{
	uint64_t obj;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, name, 0100644, &obj), 0);
	uint8_t *b = malloc(len ? len : 1);
	pattern(b, len, seed);
	if (len)
		ck_assert_int_eq(cowfs_write(pool, obj, 0, b, len), (int64_t)len);
	ck_assert_int_eq(cowfs_sync(pool), 0);
	if (data)
		*data = b;
	else
		free(b);
	return obj;
}

static long pcread(struct cowfs_pcfile *f, void *buf, size_t len, uint64_t off)
{
	struct uio uio;
	struct vfs_iovec iov;
	uio_init_buf(&uio, &iov, buf, len, (int64_t)off, UIO_READ);
	int err = cowfs_pc_read(f, &uio);
	return err ? err : (long)(len - uio.uio_resid);
}

static long pcwrite(struct cowfs_pcfile *f, const void *buf, size_t len, uint64_t off)
{
	struct uio uio;
	struct vfs_iovec iov;
	uio_init_buf(&uio, &iov, (void *)buf, len, (int64_t)off, UIO_WRITE);
	int err = cowfs_pc_write(f, &uio, false);
	return err ? err : (long)(len - uio.uio_resid);
}

static uint64_t arc_size(void)
{
	struct arc_stats st;
	arc_stats_get(arc, &st);
	return st.size;
}

/* ---- mappings on the host machine of the page-cache suites ---- */

static uintptr_t map_at(struct tmach *m, struct cowfs_pcfile *f, uint64_t off, size_t len,
			unsigned prot, unsigned flags)
{
	struct pc_map *pm = calloc(1, sizeof(*pm));
	pm->obj = &f->pc;
	atomic_store(&pm->refs, 1);
	void *out = NULL;
	ck_assert_int_eq(vm_mmap(&m->vs, NULL, len, prot, flags, &pc_pager_ops, pm, off, &out), 0);
	return (uintptr_t)out;
}

static uintptr_t map_file(struct tmach *m, struct cowfs_pcfile *f, size_t len, unsigned prot,
			  unsigned flags)
{
	return map_at(m, f, 0, len, prot, flags);
}

/* Fault every page of [0, len) through a read-only shared mapping (each
 * page checked against want), then unmap: the pages stay cached. */
static void fault_all(struct cowfs_pcfile *f, size_t len, const uint8_t *want)
{
	struct tmach m;
	tmach_init(&m);
	size_t maplen = (len + PG - 1) & ~(PG - 1);
	uintptr_t va = map_file(&m, f, maplen, MMU_READ, VM_MAP_SHARED);
	for (size_t off = 0; off < len; off += PG) {
		uint8_t v;
		/* a byte at a different place in each page, inside the file */
		size_t room = len - off < PG ? len - off : PG;
		size_t at = off + (off / PG * 97) % room;
		ck_assert_int_eq(tmach_read(&m, va + at, &v), 0);
		ck_assert_uint_eq(v, want[at]);
	}
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, maplen), 0);
	tmach_destroy(&m);
}

/* read() makes no pages: it copies from the blocks' ARC buffers, held
 * only for the copy (the ARC may evict them right after). */
START_TEST(test_read_spans)
{
	mk(32 * MB, COWFS_COMP_OFF);
	uint8_t *data;
	uint64_t obj = mkfile("f", MB, 1, &data);
	struct cowfs_pcfile *f;
	ck_assert_int_eq(cowfs_pc_open(pool, obj, NULL, &f), 0);
	struct cowfs_pc_stats s0, s1;
	struct pc_stats p0, p1;
	cowfs_pc_stats_get(&s0);
	pc_stats_get(&p0);
	uint8_t *buf = malloc(MB);
	ck_assert_int_eq(pcread(f, buf, MB, 0), (long)MB);
	ck_assert(memcmp(buf, data, MB) == 0);
	cowfs_pc_stats_get(&s1);
	pc_stats_get(&p1);
	ck_assert_uint_eq(s1.spans - s0.spans, MB / (128 * 1024)); /* one per record */
	ck_assert_uint_eq(p1.read_span_bytes - p0.read_span_bytes, MB);
	ck_assert_uint_eq(s1.lends - s0.lends, 0);
	ck_assert_uint_eq(s1.fills - s0.fills, 0);
	ck_assert_uint_eq(pc_npages(&f->pc), 0);
	/* Nothing stays held: the ARC can evict the whole file, open or not. */
	arc_sized_adjust(arc, 64 * MB);
	ck_assert_uint_lt(arc_size(), MB / 2);
	/* Read again (from the disk), across records, from odd offsets. */
	memset(buf, 0, MB);
	ck_assert_int_eq(pcread(f, buf, 300000, 100000), 300000);
	ck_assert(memcmp(buf, data + 100000, 300000) == 0);
	ck_assert_int_eq(pcread(f, buf, 10, MB - 4), 4);
	ck_assert(memcmp(buf, data + MB - 4, 4) == 0);
	ck_assert_int_eq(pcread(f, buf, 10, MB), 0);
	ck_assert_int_eq(cowfs_pc_close(f), 0);
	free(buf);
	free(data);
}
END_TEST

/* Mapped pages are lent from the ARC (no copy), pinned while cached; a
 * read() then copies from those pages; closing gives them back. */
START_TEST(test_fault_lends)
{
	mk(32 * MB, COWFS_COMP_OFF);
	uint8_t *data;
	uint64_t obj = mkfile("f", MB, 1, &data);
	struct cowfs_pcfile *f;
	ck_assert_int_eq(cowfs_pc_open(pool, obj, NULL, &f), 0);
	struct cowfs_pc_stats s0, s1, s2;
	cowfs_pc_stats_get(&s0);
	fault_all(f, MB, data);
	cowfs_pc_stats_get(&s1);
	ck_assert_uint_eq(s1.lends - s0.lends, MB / PG); /* every page lent */
	ck_assert_uint_eq(s1.fills - s0.fills, 0);
	ck_assert_uint_eq(pc_npages(&f->pc), MB / PG);

	/* The lent buffers are pinned: the ARC cannot evict them. */
	arc_sized_adjust(arc, 64 * MB);
	ck_assert_uint_ge(arc_size(), MB);

	/* read() is the cache's alone now: no lend, no fill, no span. */
	uint8_t *buf = malloc(MB);
	struct pc_stats p0, p1;
	pc_stats_get(&p0);
	ck_assert_int_eq(pcread(f, buf, 4096, 8192), 4096);
	ck_assert_int_eq(pcread(f, buf, MB, 0), (long)MB);
	ck_assert(memcmp(buf, data, MB) == 0);
	pc_stats_get(&p1);
	cowfs_pc_stats_get(&s2);
	ck_assert_uint_eq(s2.lends, s1.lends);
	ck_assert_uint_eq(s2.fills, s1.fills);
	ck_assert_uint_eq(s2.spans, s1.spans);
	ck_assert_uint_eq(p1.misses, p0.misses);
	ck_assert_uint_eq(p1.hits - p0.hits, 1 + MB / PG);

	/* Closing gives every lent page back; the ARC may evict them again. */
	ck_assert_int_eq(cowfs_pc_close(f), 0);
	cowfs_pc_stats_get(&s2);
	ck_assert_uint_eq(s2.unlends - s0.unlends, MB / PG);
	arc_sized_adjust(arc, 64 * MB);
	ck_assert_uint_lt(arc_size(), MB / 2);
	free(buf);
	free(data);
}
END_TEST

START_TEST(test_evict_unlends)
{
	mk(32 * MB, COWFS_COMP_OFF);
	uint8_t *data;
	uint64_t obj = mkfile("f", 256 * 1024, 2, &data);
	struct cowfs_pcfile *f;
	ck_assert_int_eq(cowfs_pc_open(pool, obj, NULL, &f), 0);
	fault_all(f, 256 * 1024, data);
	struct cowfs_pc_stats s0, s1;
	cowfs_pc_stats_get(&s0);
	ck_assert_uint_ge(s0.lent_now, 64);
	/* Eviction by the page cache hands the pages back (unlend). */
	size_t freed = pc_evict(64 * MB);
	ck_assert_uint_ge(freed, 64 * PG);
	cowfs_pc_stats_get(&s1);
	ck_assert_uint_ge(s1.unlends - s0.unlends, 64);
	ck_assert_uint_eq(pc_npages(&f->pc), 0);
	arc_sized_adjust(arc, 64 * MB);
	ck_assert_uint_lt(arc_size(), 256 * 1024);
	ck_assert_int_eq(cowfs_pc_close(f), 0);
	free(data);
}
END_TEST

START_TEST(test_tail_holes_dirty)
{
	mk(32 * MB, COWFS_COMP_OFF);
	uint64_t obj;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "s", 0100644, &obj), 0);
	uint8_t a[PAGE_SIZE], b[100];
	pattern(a, sizeof(a), 3);
	pattern(b, sizeof(b), 4);
	/* block 0 data, block 1 a hole, block 2 a tail of 1100 bytes */
	ck_assert_int_eq(cowfs_write(pool, obj, 0, a, sizeof(a)), (int64_t)sizeof(a));
	uint64_t toff = 2 * 128 * 1024 + 1000;
	ck_assert_int_eq(cowfs_write(pool, obj, toff, b, sizeof(b)), (int64_t)sizeof(b));
	ck_assert_int_eq(cowfs_sync(pool), 0);
	size_t size = toff + sizeof(b);
	uint8_t *want = calloc(1, size), *got = malloc(size);
	memcpy(want, a, sizeof(a));
	memcpy(want + toff, b, sizeof(b));
	struct cowfs_pcfile *f;
	ck_assert_int_eq(cowfs_pc_open(pool, obj, NULL, &f), 0);
	struct cowfs_pc_stats s0, s1;
	/* read(): three spans (the data block, the hole's zeros, the tail
	 * block up to the end), no page. */
	cowfs_pc_stats_get(&s0);
	ck_assert_int_eq(pcread(f, got, size, 0), (long)size);
	ck_assert(memcmp(got, want, size) == 0);
	cowfs_pc_stats_get(&s1);
	ck_assert_uint_eq(s1.spans - s0.spans, 3);
	ck_assert_uint_eq(s1.fills - s0.fills, 0);
	ck_assert_uint_eq(pc_npages(&f->pc), 0);
	/* Mapped: block 0 is a whole record (the file grew past one): its 32
	 * pages are lent; block 1, a hole, is filled; so is the page with the
	 * end. */
	cowfs_pc_stats_get(&s0);
	fault_all(f, size, want);
	cowfs_pc_stats_get(&s1);
	ck_assert_uint_eq(s1.lends - s0.lends, 32);
	ck_assert_uint_eq(s1.fill_tail - s0.fill_tail, 1);
	ck_assert_uint_eq(s1.fill_nolend - s0.fill_nolend, 32);
	/* The tail page reads zeros past the end through a mapping too. */
	ck_assert_int_eq(pcread(f, got, 10, size - 5), 5);
	ck_assert_int_eq(cowfs_pc_close(f), 0);

	/* A block changed in the open group is not lent (it is no ARC buffer). */
	ck_assert_int_eq(cowfs_write(pool, obj, 10, "x", 1), 1);
	want[10] = 'x';
	ck_assert_int_eq(cowfs_pc_open(pool, obj, NULL, &f), 0);
	cowfs_pc_stats_get(&s0);
	ck_assert_int_eq(pcread(f, got, PAGE_SIZE, 0), (long)PAGE_SIZE);
	ck_assert(memcmp(got, want, PAGE_SIZE) == 0);
	cowfs_pc_stats_get(&s1);
	ck_assert_uint_eq(s1.lends - s0.lends, 0);
	ck_assert_uint_eq(s1.fills - s0.fills, 1);
	ck_assert_int_eq(cowfs_pc_close(f), 0);
	free(want);
	free(got);
}
END_TEST

START_TEST(test_compressed)
{
	mk(32 * MB, COWFS_COMP_LZ4);
	size_t len = 512 * 1024 + 777;
	uint8_t *text = malloc(len);
	for (size_t i = 0; i < len; i++)
		text[i] = (uint8_t)("the quick brown fox jumps over the lazy dog\n"[i % 44]);
	uint64_t obj;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "t", 0100644, &obj), 0);
	ck_assert_int_eq(cowfs_write(pool, obj, 0, text, len), (int64_t)len);
	ck_assert_int_eq(cowfs_sync(pool), 0);
	struct cowfs_bp bp;
	ck_assert_int_eq(cowfs_obj_bp(pool, obj, 0, &bp), 0);
	ck_assert_uint_eq(bp.comp, COWFS_COMP_LZ4);
	struct cowfs_pcfile *f;
	ck_assert_int_eq(cowfs_pc_open(pool, obj, NULL, &f), 0);
	struct cowfs_pc_stats s0, s1;
	cowfs_pc_stats_get(&s0);
	uint8_t *got = malloc(len);
	ck_assert_int_eq(pcread(f, got, len, 0), (long)len);
	ck_assert(memcmp(got, text, len) == 0);
	cowfs_pc_stats_get(&s1);
	/* read(): spans of the ARC's decompressed buffers, no page */
	ck_assert_uint_eq(s1.spans - s0.spans, (len + 128 * 1024 - 1) / (128 * 1024));
	ck_assert_uint_eq(s1.fills - s0.fills, 0);
	/* mapped: lz4 blocks are copied out (filled), never lent */
	cowfs_pc_stats_get(&s0);
	fault_all(f, len, text);
	cowfs_pc_stats_get(&s1);
	ck_assert_uint_eq(s1.lends - s0.lends, 0);
	ck_assert_uint_eq(s1.fills - s0.fills, (len + PG - 1) / PG);
	/* The scanner reports a touched filled page too: cowfs has no ARC
	 * buffer to warm for it (the kernel once took its NULL cookie for
	 * one), and says nothing to the ARC. */
	struct tmach m;
	tmach_init(&m);
	uintptr_t va = map_file(&m, f, PG, MMU_READ, VM_MAP_SHARED);
	uint8_t v;
	ck_assert_int_eq(tmach_read(&m, va + 5, &v), 0);
	ck_assert_uint_eq(v, text[5]);
	pc_scan_pass(0); /* clears the bit the fault's access set */
	ck_assert_int_eq(tmach_read(&m, va + 6, &v), 0);
	struct pc_stats p0, p1;
	pc_stats_get(&p0);
	ck_assert_uint_ge(pc_scan_pass(0), 1);
	pc_stats_get(&p1);
	ck_assert_uint_ge(p1.scan_accessed - p0.scan_accessed, 1);
	cowfs_pc_stats_get(&s0);
	ck_assert_uint_eq(s0.accessed, s1.accessed);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, PG), 0);
	tmach_destroy(&m);
	ck_assert_int_eq(cowfs_pc_close(f), 0);
	free(text);
	free(got);
}
END_TEST

START_TEST(test_write_read_fsync)
{
	mk(32 * MB, COWFS_COMP_OFF);
	uint8_t *data;
	size_t len = 300 * 1024;
	uint64_t obj = mkfile("w", len, 5, &data);
	struct cowfs_pcfile *f;
	ck_assert_int_eq(cowfs_pc_open(pool, obj, NULL, &f), 0);
	uint8_t *got = malloc(len + 20000);
	fault_all(f, len, data); /* lends most pages */
	uint8_t w[10000];
	pattern(w, sizeof(w), 6);
	/* Over lent pages (the lend is broken: a copy) and past the end. */
	ck_assert_int_eq(pcwrite(f, w, sizeof(w), 5000), (long)sizeof(w));
	ck_assert_int_eq(pcwrite(f, w, sizeof(w), len + 5000), (long)sizeof(w));
	memcpy(data + 5000, w, sizeof(w));
	uint8_t *want = calloc(1, len + 15000);
	memcpy(want, data, len);
	memcpy(want + len + 5000, w, sizeof(w));
	ck_assert_uint_eq(cowfs_pc_size(f), len + 15000);
	ck_assert_int_eq(pcread(f, got, len + 20000, 0), (long)(len + 15000));
	ck_assert(memcmp(got, want, len + 15000) == 0);
	/* Dropped and read again (lent again where the block is committed,
	 * the lend cursor never serving the old bytes of a written block). */
	pc_evict(64 * MB);
	ck_assert_uint_eq(pc_npages(&f->pc), 0);
	memset(got, 0, len + 15000);
	ck_assert_int_eq(pcread(f, got, len + 20000, 0), (long)(len + 15000));
	ck_assert(memcmp(got, want, len + 15000) == 0);
	/* Written through: in the pool's open group at once; committed by
	 * fsync, there after a reopen. */
	struct cowfs_attr a;
	ck_assert_int_eq(cowfs_getattr(pool, obj, &a), 0);
	ck_assert_uint_eq(a.size, len + 15000);
	struct pc_stats st;
	pc_stats_get(&st);
	ck_assert_uint_eq(st.dirty, 0); /* clean: the pool has the bytes */
	ck_assert_int_eq(cowfs_pc_fsync(f), 0);
	ck_assert_int_eq(cowfs_pc_close(f), 0);
	reopen();
	ck_assert_int_eq(cowfs_getattr(pool, obj, &a), 0);
	ck_assert_uint_eq(a.size, len + 15000);
	ck_assert_int_eq(cowfs_read(pool, obj, 0, got, len + 15000), (int64_t)(len + 15000));
	ck_assert(memcmp(got, want, len + 15000) == 0);
	free(data);
	free(want);
	free(got);
}
END_TEST

START_TEST(test_shared_private_mappings)
{
	mk(32 * MB, COWFS_COMP_OFF);
	uint8_t *data;
	size_t len = 64 * 1024;
	uint64_t obj = mkfile("m", len, 7, &data);
	struct cowfs_pcfile *f;
	ck_assert_int_eq(cowfs_pc_open(pool, obj, NULL, &f), 0);
	struct tmach m;
	tmach_init(&m);
	uintptr_t sh = map_file(&m, f, len, MMU_READ | MMU_WRITE, VM_MAP_SHARED);
	uintptr_t pv = map_file(&m, f, len, MMU_READ | MMU_WRITE, VM_MAP_PRIVATE);
	uint8_t v;
	/* Page 1 is read through the mapping first: a lent page (ARC bytes). */
	ck_assert_int_eq(tmach_read(&m, sh + PG + 3, &v), 0);
	ck_assert_uint_eq(v, data[PG + 3]);
	struct cowfs_pc_stats s;
	cowfs_pc_stats_get(&s);
	ck_assert_uint_ge(s.lent_now, 1);
	/* write() over that mapped lent page: the lend is broken (unmapped,
	 * copied) and the mapping sees the new byte, not the ARC's. */
	uint64_t pa_lent = tmach_pa(&m, sh + PG);
	ck_assert_int_eq(pcwrite(f, "Z", 1, PG + 3), 1);
	data[PG + 3] = 'Z';
	ck_assert_int_eq(tmach_read(&m, sh + PG + 3, &v), 0);
	ck_assert_uint_eq(v, 'Z');
	ck_assert_uint_ne(tmach_pa(&m, sh + PG), pa_lent);
	/* Shared writes on pages not yet cached (a page of the cache's own). */
	ck_assert_int_eq(tmach_write(&m, sh + 2 * PG + 9, 0xAB), 0);
	ck_assert_int_eq(tmach_write(&m, sh + 5 * PG, 0xCD), 0);
	/* A private write is a copy nobody else sees. */
	ck_assert_int_eq(tmach_write(&m, pv + 7 * PG + 1, 0xEF), 0);
	ck_assert_int_eq(tmach_read(&m, pv + 7 * PG + 1, &v), 0);
	ck_assert_uint_eq(v, 0xEF);
	uint8_t b;
	ck_assert_int_eq(pcread(f, &b, 1, 2 * PG + 9), 1);
	ck_assert_uint_eq(b, 0xAB); /* read() sees the shared write at once */
	ck_assert_int_eq(pcread(f, &b, 1, 7 * PG + 1), 1);
	ck_assert_uint_eq(b, data[7 * PG + 1]);
	ck_assert_int_eq(vm_msync(&m.vs, (void *)sh, len), 0);
	ck_assert_int_eq(cowfs_sync(pool), 0);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)sh, len), 0);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)pv, len), 0);
	tmach_destroy(&m);
	ck_assert_int_eq(cowfs_pc_close(f), 0);
	reopen();
	data[2 * PG + 9] = 0xAB;
	data[5 * PG] = 0xCD;
	uint8_t *got = malloc(len);
	ck_assert_int_eq(cowfs_read(pool, obj, 0, got, len), (int64_t)len);
	ck_assert(memcmp(got, data, len) == 0);
	free(got);
	free(data);
}
END_TEST

START_TEST(test_write_fault_breaks_lend)
{
	mk(32 * MB, COWFS_COMP_OFF);
	uint8_t *data;
	size_t len = 16 * PG;
	uint64_t obj = mkfile("b", len, 11, &data);
	struct cowfs_pcfile *f;
	ck_assert_int_eq(cowfs_pc_open(pool, obj, NULL, &f), 0);
	struct tmach m;
	tmach_init(&m);
	/* Two shared mappings read page 3: one lent page (the ARC's), two
	 * leaves. */
	uintptr_t a = map_file(&m, f, len, MMU_READ | MMU_WRITE, VM_MAP_SHARED);
	uintptr_t b = map_file(&m, f, len, MMU_READ | MMU_WRITE, VM_MAP_SHARED);
	uint8_t v;
	ck_assert_int_eq(tmach_read(&m, a + 3 * PG, &v), 0);
	ck_assert_int_eq(tmach_read(&m, b + 3 * PG, &v), 0);
	uint64_t lent_pa = tmach_pa(&m, a + 3 * PG);
	ck_assert_uint_eq(tmach_pa(&m, b + 3 * PG), lent_pa);
	struct cowfs_pc_stats c0, c1;
	struct pc_stats p0, p1;
	cowfs_pc_stats_get(&c0);
	pc_stats_get(&p0);
	uint8_t before = *(uint8_t *)phys_to_virt(lent_pa + 7);
	/* A write through one: the lend is broken (both leaves unmapped, the
	 * ARC buffer unshared), the copy is mapped and dirty. */
	ck_assert_int_eq(tmach_write(&m, a + 3 * PG + 7, 0x5A), 0);
	pc_stats_get(&p1);
	cowfs_pc_stats_get(&c1);
	ck_assert_uint_eq(p1.lends_broken - p0.lends_broken, 1);
	ck_assert_uint_eq(c1.unlends - c0.unlends, 1);
	ck_assert_uint_eq(*(uint8_t *)phys_to_virt(lent_pa + 7), before); /* ARC untouched */
	ck_assert_uint_ne(tmach_pa(&m, a + 3 * PG), lent_pa);
	ck_assert_uint_eq(tmach_pa(&m, b + 3 * PG), 0); /* unmapped, refaults */
	ck_assert_int_eq(tmach_read(&m, b + 3 * PG + 7, &v), 0);
	ck_assert_uint_eq(v, 0x5A);
	ck_assert_uint_eq(tmach_pa(&m, b + 3 * PG), tmach_pa(&m, a + 3 * PG));
	ck_assert_int_eq(vm_msync(&m.vs, (void *)a, len), 0);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)a, len), 0);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)b, len), 0);
	tmach_destroy(&m);
	ck_assert_int_eq(cowfs_pc_fsync(f), 0);
	ck_assert_int_eq(cowfs_pc_close(f), 0);
	reopen();
	data[3 * PG + 7] = 0x5A;
	uint8_t *got = malloc(len);
	ck_assert_int_eq(cowfs_read(pool, obj, 0, got, len), (int64_t)len);
	ck_assert(memcmp(got, data, len) == 0);
	free(got);
	free(data);
}
END_TEST

START_TEST(test_truncate_mapped)
{
	mk(32 * MB, COWFS_COMP_OFF);
	uint8_t *data;
	size_t len = 4 * PG;
	uint64_t obj = mkfile("t", len, 8, &data);
	struct cowfs_pcfile *f;
	ck_assert_int_eq(cowfs_pc_open(pool, obj, NULL, &f), 0);
	struct tmach m;
	tmach_init(&m);
	uintptr_t va = map_file(&m, f, len, MMU_READ, VM_MAP_SHARED);
	uint8_t v;
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(tmach_read(&m, va + i * PG + 100, &v), 0);
		ck_assert_uint_eq(v, data[i * PG + 100]);
	}
	struct cowfs_pc_stats s0, s1;
	cowfs_pc_stats_get(&s0);
	ck_assert_uint_ge(s0.lent_now, 4);
	/* To the middle of page 1: pages 2 and 3 go, page 1 (lent) is refilled. */
	ck_assert_int_eq(cowfs_pc_truncate(f, PG + 50), 0);
	cowfs_pc_stats_get(&s1);
	ck_assert_uint_ge(s1.unlends - s0.unlends, 3);
	ck_assert_int_eq(tmach_read(&m, va + 3 * PG, &v), -EFAULT);
	ck_assert_int_eq(tmach_read(&m, va + PG + 49, &v), 0);
	ck_assert_uint_eq(v, data[PG + 49]);
	ck_assert_int_eq(tmach_read(&m, va + PG + 50, &v), 0);
	ck_assert_uint_eq(v, 0); /* zeros past the end, not the ARC's old bytes */
	ck_assert_int_eq(tmach_read(&m, va + 10, &v), 0);
	ck_assert_uint_eq(v, data[10]);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, len), 0);
	tmach_destroy(&m);
	/* Growing again reads zeros. */
	ck_assert_int_eq(cowfs_pc_truncate(f, 3 * PG), 0);
	uint8_t got[3 * PAGE_SIZE];
	ck_assert_int_eq(pcread(f, got, sizeof(got), 0), (long)sizeof(got));
	ck_assert(memcmp(got, data, PG + 50) == 0);
	for (size_t i = PG + 50; i < sizeof(got); i++)
		ck_assert_uint_eq(got[i], 0);
	ck_assert_int_eq(cowfs_pc_close(f), 0);
	free(data);
}
END_TEST

START_TEST(test_enospc)
{
	mk(4 * MB, COWFS_COMP_OFF);
	uint64_t obj;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "big", 0100644, &obj), 0);
	struct cowfs_pcfile *f;
	ck_assert_int_eq(cowfs_pc_open(pool, obj, NULL, &f), 0);
	size_t len = 8 * MB; /* more than the pool holds */
	uint8_t *w = malloc(len);
	pattern(w, len, 9);
	/* write() is written through: ENOSPC is its answer. */
	long r = pcwrite(f, w, len, 0);
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_uint_lt(cowfs_pc_size(f), len);
	/* Fill what is left, a page at a time. */
	for (int i = 0; i < 1000; i++) {
		uint64_t at = cowfs_pc_size(f);
		r = pcwrite(f, w + at, PG, at);
		if (r != (long)PG)
			break;
	}
	ck_assert_int_eq(r, -ENOSPC);
	ck_assert_int_eq(cowfs_pc_fsync(f), 0);
	uint64_t kept = cowfs_pc_size(f);

	/* A mapped dirty page that cannot be written back: msync says
	 * ENOSPC, the page stays dirty, and a later msync writes it. */
	ck_assert_int_eq(cowfs_pc_truncate(f, kept + 64 * PG), 0); /* holes */
	struct tmach m;
	tmach_init(&m);
	uint64_t moff = (kept + PG - 1) & ~(uint64_t)(PG - 1);
	uintptr_t va = map_at(&m, f, moff, 32 * PG, MMU_READ | MMU_WRITE, VM_MAP_SHARED);
	for (size_t i = 0; i < 32; i++)
		ck_assert_int_eq(tmach_write(&m, va + i * PG, (uint8_t)(i + 1)), 0);
	ck_assert_int_eq(vm_msync(&m.vs, (void *)va, 32 * PG), -ENOSPC);
	struct pc_stats st;
	pc_stats_get(&st);
	ck_assert_uint_gt(st.dirty, 0); /* not dropped */
	/* Make room: the first MiB of the file goes (a hole now). */
	ck_assert_int_eq(cowfs_pc_truncate(f, 0), 0); /* unmaps it all */
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, 32 * PG), 0);
	ck_assert_int_eq(cowfs_pc_fsync(f), 0);
	ck_assert_int_eq(cowfs_pc_truncate(f, 64 * PG), 0);
	va = map_file(&m, f, 64 * PG, MMU_READ | MMU_WRITE, VM_MAP_SHARED);
	for (size_t i = 0; i < 32; i++)
		ck_assert_int_eq(tmach_write(&m, va + i * PG, (uint8_t)(i + 1)), 0);
	ck_assert_int_eq(vm_msync(&m.vs, (void *)va, 64 * PG), 0);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, 64 * PG), 0);
	tmach_destroy(&m);
	ck_assert_int_eq(cowfs_pc_fsync(f), 0);
	ck_assert_int_eq(cowfs_pc_close(f), 0);
	reopen();
	for (size_t i = 0; i < 32; i++) {
		uint8_t b = 0;
		ck_assert_int_eq(cowfs_read(pool, obj, i * PG, &b, 1), 1);
		ck_assert_uint_eq(b, i + 1);
	}
	free(w);
}
END_TEST

/* Lend breaks racing readers and eviction: one thread writes a counter
 * through a shared mapping (each write after an eviction breaks a fresh
 * lend), one reads the page with read(), one evicts; every value read is
 * one the writer wrote (or the original), and nothing is lost at the end. */
struct race {
	struct tmach *m;
	struct cowfs_pcfile *f;
	uintptr_t va;
	uint8_t orig;
	_Atomic bool stop;
	_Atomic int bad;
};

static void *race_reader(void *arg)
{
	struct race *r = arg;
	uint8_t last = 0;
	while (!atomic_load(&r->stop)) {
		uint8_t b;
		/* The copy is one indivisible access against the test's CPU
		 * stores (as in the page-cache suites), for ThreadSanitizer. */
		pthread_mutex_lock(&tfs_data_lock);
		long n = pcread(r->f, &b, 1, 5 * PG);
		pthread_mutex_unlock(&tfs_data_lock);
		if (n != 1 || (b != r->orig && b < last))
			atomic_fetch_add(&r->bad, 1);
		if (b != r->orig)
			last = b;
	}
	return NULL;
}

static void *race_evictor(void *arg)
{
	struct race *r = arg;
	while (!atomic_load(&r->stop))
		pc_evict(PG * 64);
	return NULL;
}

START_TEST(test_break_races)
{
	mk(32 * MB, COWFS_COMP_OFF);
	uint8_t *data;
	size_t len = 16 * PG;
	uint64_t obj = mkfile("r", len, 12, &data);
	data[5 * PG] = 0;
	ck_assert_int_eq(cowfs_write(pool, obj, 5 * PG, data + 5 * PG, 1), 1);
	ck_assert_int_eq(cowfs_sync(pool), 0);
	struct cowfs_pcfile *f;
	ck_assert_int_eq(cowfs_pc_open(pool, obj, NULL, &f), 0);
	struct tmach m;
	tmach_init(&m);
	struct race r = {.m = &m, .f = f, .orig = 0};
	r.va = map_file(&m, f, len, MMU_READ | MMU_WRITE, VM_MAP_SHARED);
	/* Alone first: the read maps the lent page, the write breaks it. */
	struct pc_stats p0, p1;
	pc_stats_get(&p0);
	uint8_t v0;
	ck_assert_int_eq(tmach_read(&m, r.va + 5 * PG, &v0), 0);
	ck_assert_int_eq(tmach_write(&m, r.va + 5 * PG, 1), 0);
	pc_stats_get(&p1);
	ck_assert_uint_eq(p1.lends_broken - p0.lends_broken, 1);
	/* Then with a reader and an evictor (whether each write breaks a
	 * lend or fills a missing page depends on the timing). */
	pthread_t t1, t2;
	pthread_create(&t1, NULL, race_reader, &r);
	pthread_create(&t2, NULL, race_evictor, &r);
	for (int i = 2; i <= 200; i++) {
		uint8_t v;
		ck_assert_int_eq(tmach_read(&m, r.va + 5 * PG, &v), 0);
		ck_assert_uint_eq(v, (uint8_t)(i - 1));
		ck_assert_int_eq(tmach_write(&m, r.va + 5 * PG, (uint8_t)i), 0);
	}
	atomic_store(&r.stop, true);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	ck_assert_int_eq(r.bad, 0);
	ck_assert_int_eq(vm_msync(&m.vs, (void *)r.va, len), 0);
	ck_assert_int_eq(vm_munmap(&m.vs, (void *)r.va, len), 0);
	tmach_destroy(&m);
	ck_assert_int_eq(cowfs_pc_close(f), 0);
	reopen();
	uint8_t b;
	ck_assert_int_eq(cowfs_read(pool, obj, 5 * PG, &b, 1), 1);
	ck_assert_uint_eq(b, 200);
	free(data);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cowfs_pc");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_read_spans);
	tcase_add_test(tc, test_fault_lends);
	tcase_add_test(tc, test_evict_unlends);
	tcase_add_test(tc, test_tail_holes_dirty);
	tcase_add_test(tc, test_compressed);
	tcase_add_test(tc, test_write_read_fsync);
	tcase_add_test(tc, test_shared_private_mappings);
	tcase_add_test(tc, test_write_fault_breaks_lend);
	tcase_add_test(tc, test_truncate_mapped);
	tcase_add_test(tc, test_enospc);
	tcase_add_test(tc, test_break_races);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
