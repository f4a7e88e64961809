/*
 * In-kernel tests of the ARC: a private instance filled through a callback,
 * blocks compressed with Debian's liblz4 inside the kernel (whose code uses
 * SIMD registers: the context switch saves them), shrinking through the
 * reclaimer registry, and the kernel instance's /proc/spl arcstats.
 */
#include <arc.h>
#include <errno.h>
#include <karst/kmem.h>
#include <karst/kmem_kernel.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/reclaim.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <string.h>
#include <vfs.h>

#define BLK 16384

static int fills;

/* Compressible blocks: a short pattern repeated, named by the key. */
static int fill_block(void *arg, const struct arc_key *key, void *dst, size_t lsize)
{
	fills++;
	uint8_t *d = dst;
	for (size_t i = 0; i < lsize; i++)
		d[i] = (uint8_t)(key->w[0] + (i % 61));
	return 0;
}

/* Incompressible blocks: xorshift bytes seeded by the key. */
static int fill_random(void *arg, const struct arc_key *key, void *dst, size_t lsize)
{
	uint64_t x = key->w[0] * 0x9e3779b97f4a7c15ULL + 1;
	uint8_t *d = dst;
	for (size_t i = 0; i < lsize; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		d[i] = (uint8_t)x;
	}
	return 0;
}

static bool block_ok(struct arc_buf *b, uint64_t k)
{
	const uint8_t *d = arc_buf_data(b);
	for (size_t i = 0; i < BLK; i++)
		if (d[i] != (uint8_t)(k + (i % 61)))
			return false;
	return true;
}

KTEST(arc_reads_hits_and_compression)
{
	struct arc *a;
	struct arc_config cfg = {.name = "kt_arc", .c_max = 64 * BLK, .compress = true};
	KT_ASSERT(arc_create(&cfg, &a) == 0);
	fills = 0;
	struct arc_buf *b;
	for (int round = 0; round < 2; round++)
		for (uint64_t k = 1; k <= 32; k++) {
			struct arc_key key = {{k, 7, 1, 0}};
			KT_ASSERT(arc_read(a, &key, BLK, 0, fill_block, NULL, &b) == 0);
			KT_EXPECT(block_ok(b, k));
			arc_buf_release(a, b);
		}
	KT_EXPECT(fills == 32); /* the second round hit */
	struct arc_stats st;
	arc_stats_get(a, &st);
	KT_EXPECT(st.hits == 32 && st.misses == 32);
	/* lz4 shrank the repetitive blocks. */
	KT_EXPECT(st.compressed_size < st.uncompressed_size / 4);
	char why[128];
	KT_EXPECT(arc_verify(a, true, why, sizeof(why)) == 0);
	arc_destroy(a);
}

struct reader_ctx {
	struct arc *a;
	int bad;
};

static void reader(void *arg)
{
	struct reader_ctx *r = arg;
	for (int i = 0; i < 200; i++) {
		uint64_t k = 1 + (uint64_t)(i * 7) % 40;
		struct arc_key key = {{k, 7, 1, 0}};
		struct arc_buf *b;
		if (arc_read(r->a, &key, BLK, 0, k & 1 ? fill_random : fill_block, NULL, &b) != 0) {
			r->bad++;
			continue;
		}
		if (!(k & 1) && !block_ok(b, k))
			r->bad++;
		arc_buf_release(r->a, b);
		if (i % 16 == 0)
			thread_yield();
	}
}

KTEST(arc_concurrent_readers_and_reclaim)
{
	struct arc *a;
	struct arc_config cfg = {.name = "kt_arc2", .c_max = 16 * BLK, .compress = true};
	KT_ASSERT(arc_create(&cfg, &a) == 0);
	struct reader_ctx r[3] = {{a, 0}, {a, 0}, {a, 0}};
	struct thread *t[3];
	for (int i = 0; i < 3; i++) {
		t[i] = thread_create("arc_reader", reader, &r[i], THREAD_PRIO_DEFAULT);
		KT_ASSERT(t[i] != NULL);
	}
	for (int i = 0; i < 3; i++)
		thread_join(t[i]);
	KT_EXPECT(r[0].bad + r[1].bad + r[2].bad == 0);
	arc_register_reclaim(a);
	struct arc_stats before, after;
	arc_stats_get(a, &before);
	/* The incompressible half of the blocks overflows c: the ARC is full. */
	KT_EXPECT(before.size + 2 * BLK > before.c);
	size_t freed = reclaim_memory(8 * BLK);
	arc_stats_get(a, &after);
	KT_EXPECT(freed > 0);
	KT_EXPECT(after.c < before.c);
	KT_EXPECT(after.size <= after.c);
	char why[128];
	KT_EXPECT(arc_verify(a, false, why, sizeof(why)) == 0);
	arc_destroy(a); /* unregisters the reclaimer */
}

KTEST(arc_kernel_arcstats_in_proc)
{
	int fd = vfs_open("/proc/spl/kstat/zfs/arcstats", O_RDONLY, 0);
	KT_ASSERT(fd >= 0);
	char *buf = kmalloc(8192);
	KT_ASSERT(buf != NULL);
	long n = vfs_read(fd, buf, 8191);
	vfs_close(fd);
	KT_ASSERT(n > 0);
	buf[n] = 0;
	KT_EXPECT(strstr(buf, "name                            type data") != NULL);
	KT_EXPECT(strstr(buf, "\nc_max ") != NULL);
	KT_EXPECT(strstr(buf, "\nmfu_ghost_hits ") != NULL);
	kfree(buf);
}

static int fill_pattern(void *arg, const struct arc_key *key, void *dst, size_t lsize)
{
	memset(dst, (int)key->w[0], lsize);
	return 0;
}

KTEST(arc_shrinks_under_memory_pressure)
{
	struct arc *a;
	struct arc_config cfg = {.name = "kt_arc_pressure", .c_max = 64ULL << 20};
	KT_ASSERT(arc_create(&cfg, &a) == 0);
	arc_register_reclaim(a);
	for (uint64_t k = 1; k <= 48 * 16; k++) { /* 48 MiB of 64 KiB blocks */
		struct arc_key key = {{k, 9, 9, 0}};
		struct arc_buf *b;
		KT_ASSERT(arc_read(a, &key, 65536, 0, fill_pattern, NULL, &b) == 0);
		arc_buf_release(a, b);
	}
	struct arc_stats before, after;
	arc_stats_get(a, &before);
	KT_EXPECT(before.size >= (40ULL << 20));
	uint64_t runs0, freed0, runs1, freed1;
	size_t low, high;
	reclaim_stats(&runs0, &freed0, &low, &high);
	/* Take 2 MiB blocks until the allocator is below its low watermark. */
	void *head = NULL;
	struct pa_stats st;
	pa_get_stats(&kernel_pa, &st);
	while (st.free_pages > low / 2) {
		void *p = page_alloc(9);
		if (!p)
			break;
		*(void **)p = head;
		head = p;
		pa_get_stats(&kernel_pa, &st);
	}
	thread_sleep_ns(200 * NSEC_PER_MSEC); /* reclaimd runs at high priority */
	reclaim_stats(&runs1, &freed1, &low, &high);
	arc_stats_get(a, &after);
	KT_EXPECT(runs1 > runs0);
	KT_EXPECT(freed1 > freed0);
	KT_EXPECT(after.c < before.c);
	KT_EXPECT(after.size < before.size);
	printk("    reclaimd freed %lu KiB; ARC %lu -> %lu KiB\n",
	       (unsigned long)((freed1 - freed0) >> 10), (unsigned long)(before.size >> 10),
	       (unsigned long)(after.size >> 10));
	while (head) {
		void *next = *(void **)head;
		page_free(head, 9);
		head = next;
	}
	arc_destroy(a);
}
