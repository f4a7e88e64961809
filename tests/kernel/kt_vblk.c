/*
 * In-kernel tests of virtio-blk through GEOM against the QEMU disk that
 * tests/kernel/run-ktests attaches (a raw image, --disk): patterns written
 * and read back, 64 requests in flight, flush, errors for bad requests.
 */
#include <errno.h>
#include <geom.h>
#include <karst/kmem.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/sync.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <string.h>
#include <virtio_pci.h>

#define INFLIGHT 64
#define CHUNK	 (16 * 1024)

static struct g_consumer *open_disk(void)
{
	struct g_consumer *cp = NULL;
	int e = g_open("vtbd0", 1, 1, 0, NULL, NULL, &cp);
	if (e) {
		if (e != -ENOENT)
			printk("    g_open(vtbd0): error %d\n", e);
		return NULL;
	}
	return cp;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i += 4) {
		seed = seed * 1664525u + 1013904223u;
		memcpy(p + i, &seed, 4);
	}
}

KTEST(vblk_write_read_back)
{
	struct g_consumer *cp = open_disk();
	if (!cp)
		KT_SKIP("no vtbd0: boot with a virtio-blk disk (karst-run --disk IMG)");
	KT_EXPECT(cp->provider->sectorsize == 512);
	KT_EXPECT(cp->provider->mediasize >= 16 * 1024 * 1024);
	uint8_t *w = kmalloc(CHUNK), *r = kmalloc(CHUNK);
	KT_ASSERT(w && r);
	for (uint32_t i = 0; i < 16; i++) {
		uint64_t off = (uint64_t)i * 1024 * 1024 + i * 512;
		fill(w, CHUNK, i + 1);
		KT_EXPECT(g_write_data(cp, off, w, CHUNK) == 0);
		memset(r, 0, CHUNK);
		KT_EXPECT(g_read_data(cp, off, r, CHUNK) == 0);
		KT_EXPECT(memcmp(w, r, CHUNK) == 0);
	}
	KT_EXPECT(g_flush(cp) == 0);
	KT_EXPECT(g_read_data(cp, cp->provider->mediasize, r, 512) == -EIO);
	KT_EXPECT(g_read_data(cp, 7, r, 512) == -EINVAL);
	kfree(w);
	kfree(r);
	g_close(cp);
}

struct inflight {
	struct semaphore done;
	int errors;
};

static void bio_done(struct bio *bp)
{
	struct inflight *f = bp->caller1;
	if (bp->error || bp->completed != bp->length)
		f->errors++;
	sema_up(&f->done);
}

/* Issue n bios at once (write or read) over buffers bufs[i]. */
static int issue(struct g_consumer *cp, enum bio_cmd cmd, uint8_t **bufs, int n)
{
	static struct inflight f;
	sema_init(&f.done, 0);
	f.errors = 0;
	for (int i = 0; i < n; i++) {
		struct bio *bp = g_new_bio();
		if (!bp)
			return -ENOMEM;
		bp->cmd = cmd;
		bp->offset = (uint64_t)i * CHUNK + 4 * 1024 * 1024;
		bp->length = CHUNK;
		bp->data = bufs[i];
		bp->done = bio_done;
		bp->caller1 = &f;
		g_io_request(bp, cp);
	}
	for (int i = 0; i < n; i++)
		sema_down(&f.done);
	return f.errors;
}

KTEST(vblk_many_in_flight)
{
	struct g_consumer *cp = open_disk();
	if (!cp)
		KT_SKIP("no vtbd0: boot with a virtio-blk disk (karst-run --disk IMG)");
	uint8_t *bufs[INFLIGHT];
	for (int i = 0; i < INFLIGHT; i++) {
		bufs[i] = kmalloc(CHUNK);
		KT_ASSERT(bufs[i] != NULL);
		fill(bufs[i], CHUNK, 1000 + (uint32_t)i);
	}
	KT_EXPECT(issue(cp, BIO_WRITE, bufs, INFLIGHT) == 0);
	for (int i = 0; i < INFLIGHT; i++)
		memset(bufs[i], 0, CHUNK);
	KT_EXPECT(issue(cp, BIO_READ, bufs, INFLIGHT) == 0);
	uint8_t *expect = kmalloc(CHUNK);
	KT_ASSERT(expect != NULL);
	for (int i = 0; i < INFLIGHT; i++) {
		fill(expect, CHUNK, 1000 + (uint32_t)i);
		KT_EXPECT(memcmp(expect, bufs[i], CHUNK) == 0);
		kfree(bufs[i]);
	}
	kfree(expect);
	g_close(cp);
}

/* Discard (BIO_DELETE): the device takes it (QEMU offers
 * VIRTIO_BLK_F_DISCARD) and the disk still reads and writes around it;
 * a discard past the end fails like a read would. */
KTEST(vblk_discard)
{
	struct g_consumer *cp = open_disk();
	if (!cp)
		KT_SKIP("no vtbd0: boot with a virtio-blk disk (karst-run --disk IMG)");
	uint8_t *w = kmalloc(CHUNK), *r = kmalloc(CHUNK);
	KT_ASSERT(w && r);
	uint8_t *bufs[1] = {NULL};
	fill(w, CHUNK, 77);
	uint64_t off = 8 * 1024 * 1024;
	KT_EXPECT(g_write_data(cp, off + CHUNK, w, CHUNK) == 0);
	/* issue() puts bio i at 4 MiB + i * CHUNK: one discard there. */
	KT_EXPECT(issue(cp, BIO_DELETE, bufs, 1) == 0);
	KT_EXPECT(g_read_data(cp, off + CHUNK, r, CHUNK) == 0);
	KT_EXPECT(memcmp(w, r, CHUNK) == 0);
	static struct inflight f;
	sema_init(&f.done, 0);
	f.errors = 0;
	struct bio *bp = g_new_bio();
	KT_ASSERT(bp != NULL);
	bp->cmd = BIO_DELETE;
	bp->offset = cp->provider->mediasize + 4096;
	bp->length = 4096;
	bp->done = bio_done;
	bp->caller1 = &f;
	g_io_request(bp, cp);
	sema_down(&f.done);
	KT_EXPECT(f.errors == 1 && bp->error == -EIO);
	g_destroy_bio(bp);
	kfree(w);
	kfree(r);
	g_close(cp);
}

/*
 * A lost completion interrupt (injected: the queue's handler skips the
 * next interrupts) must not hang the request: the transport's watchdog
 * polls the queue after a quiet period and finishes it.
 */
KTEST(vblk_lost_interrupt_recovered)
{
	struct g_consumer *cp = open_disk();
	if (!cp)
		KT_SKIP("no vtbd0: boot with a virtio-blk disk (karst-run --disk IMG)");
	uint8_t *b = kmalloc(CHUNK);
	KT_ASSERT(b != NULL);
	uint64_t polls0, rescued0, polls1, rescued1;
	KT_ASSERT(vpci_watch_stats("vtbd0", 0, &polls0, &rescued0) == 0);
	KT_ASSERT(vpci_lose_interrupts("vtbd0", 0, 3) == 0);
	uint64_t t0 = time_ns();
	for (int i = 0; i < 3; i++)
		KT_EXPECT(g_read_data(cp, (uint64_t)i * CHUNK, b, CHUNK) == 0);
	uint64_t ms = (time_ns() - t0) / 1000000;
	KT_ASSERT(vpci_watch_stats("vtbd0", 0, &polls1, &rescued1) == 0);
	KT_EXPECT(rescued1 >= rescued0 + 3);
	KT_EXPECT(polls1 >= rescued1 - rescued0 + polls0);
	KT_EXPECT(ms < 3000);
	KT_EXPECT(vpci_lose_interrupts("nonexistent", 0, 1) == -ENOENT);
	vpci_lose_interrupts("vtbd0", 0, 0);
	kfree(b);
	g_close(cp);
}

/*
 * A device that stops answering (injected: the queue never sees another
 * completion) must not hang anyone: after the timeout the driver resets
 * it, the requests in flight fail with EIO and the disk is gone (ENXIO).
 * Manual: vtbd0 stays dead for the rest of the boot (run-ktests runs it
 * in a boot of its own).
 */
KTEST_FLAGS(vblk_dead_device, KTEST_MANUAL)
{
	struct g_consumer *cp = open_disk();
	if (!cp)
		KT_SKIP("no vtbd0: boot with a virtio-blk disk (karst-run --disk IMG)");
	uint8_t *bufs[4];
	for (int i = 0; i < 4; i++) {
		bufs[i] = kmalloc(CHUNK);
		KT_ASSERT(bufs[i] != NULL);
	}
	KT_ASSERT(vpci_make_deaf("vtbd0", 0, 200 * 1000 * 1000) == 0);
	uint64_t t0 = time_ns();
	KT_EXPECT(issue(cp, BIO_READ, bufs, 4) == 4);
	uint64_t ms = (time_ns() - t0) / 1000000;
	printk("    4 requests failed after %lu ms\n", (unsigned long)ms);
	KT_EXPECT(ms >= 200 && ms < 5000);
	/* The orphan event runs on GEOM's event thread. */
	int e = 0;
	for (int i = 0; i < 100 && (e = g_read_data(cp, 0, bufs[0], 512)) != -ENXIO; i++)
		thread_sleep_ns(10 * 1000 * 1000);
	KT_EXPECT(e == -ENXIO);
	for (int i = 0; i < 4; i++)
		kfree(bufs[i]);
	g_close(cp);
}

/*
 * Stress: rounds of 64 writes in flight, each buffer with a pattern of its
 * own for the round, then 64 reads in flight into the cleared buffers,
 * each checked against its pattern; lost or misplaced completions, stale
 * data and torn requests all show. vblk_stress_short runs in every test
 * run with a disk; vblk_stress (manual) is the long form.
 */
static void vblk_stress_rounds(int rounds)
{
	struct g_consumer *cp = open_disk();
	if (!cp)
		KT_SKIP("no vtbd0: boot with a virtio-blk disk (karst-run --disk IMG)");
	uint8_t *bufs[INFLIGHT];
	uint8_t *want = kmalloc(CHUNK);
	KT_ASSERT(want != NULL);
	for (int i = 0; i < INFLIGHT; i++) {
		bufs[i] = kmalloc(CHUNK);
		KT_ASSERT(bufs[i] != NULL);
	}
	int bad = 0;
	for (int round = 0; round < rounds; round++) {
		for (int i = 0; i < INFLIGHT; i++)
			fill(bufs[i], CHUNK, (uint32_t)(round * INFLIGHT + i + 1));
		KT_EXPECT(issue(cp, BIO_WRITE, bufs, INFLIGHT) == 0);
		for (int i = 0; i < INFLIGHT; i++)
			memset(bufs[i], 0, CHUNK);
		KT_EXPECT(issue(cp, BIO_READ, bufs, INFLIGHT) == 0);
		for (int i = 0; i < INFLIGHT; i++) {
			fill(want, CHUNK, (uint32_t)(round * INFLIGHT + i + 1));
			if (memcmp(bufs[i], want, CHUNK) != 0 && bad++ < 4)
				printk("    round %d: request %d read back other data\n", round, i);
		}
		if (round % 100 == 99)
			printk("    round %d\n", round + 1);
	}
	KT_EXPECT(bad == 0);
	uint64_t polls, rescued;
	KT_EXPECT(vpci_watch_stats("vtbd0", 0, &polls, &rescued) == 0);
	printk("    %d rounds; watchdog: %lu polls, %lu rescued completions\n", rounds,
	       (unsigned long)polls, (unsigned long)rescued);
	for (int i = 0; i < INFLIGHT; i++)
		kfree(bufs[i]);
	kfree(want);
	g_close(cp);
}

KTEST(vblk_stress_short)
{
	vblk_stress_rounds(20);
}

KTEST_FLAGS(vblk_stress, KTEST_MANUAL)
{
	vblk_stress_rounds(2000);
}
