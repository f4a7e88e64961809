/*
 * `bench blk`: block-layer figures on the first virtio disk, raw and
 * through GEOM classes, so each layer's cost shows: sequential 64 KiB
 * writes and reads with 1 and 32 requests in flight (MB/s) and 4 KiB
 * random reads (IOPS). Runs on vtbd0p1 when the disk has a partition
 * table (its first 16 MiB), then on vtbd0 and on a NOP geom it creates on
 * vtbd0 (16 MiB ending 1 MiB before the end of the disk: clear of a
 * partition at the start and of the backup GPT). Each figure is the best
 * of BLK_PASSES passes. Overwrites what it measures: use a scratch disk.
 * `bench blk_raw` measures vtbd0 alone the same way and prints figure
 * lines for tools/karst-compare.
 */
#include <geom.h>
#include <karst/bench.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/sync.h>
#include <karst/time.h>

#define REGION	   (16ULL << 20)
#define BLK_PASSES 3

struct run {
	struct semaphore slots, idle;
	int errors, inflight;
};

static void run_done(struct bio *bp)
{
	struct run *r = bp->caller1;
	if (bp->error)
		r->errors++;
	sema_up(&r->slots);
}

/* count requests of bs bytes, qd in flight, sequential or random; ns taken. */
static uint64_t run_io(struct g_consumer *cp, uint64_t base, enum bio_cmd cmd, size_t bs,
		       unsigned count, unsigned qd, bool random, uint8_t *buf, int *errors)
{
	static struct run r;
	sema_init(&r.slots, qd);
	r.errors = 0;
	uint64_t x = 88172645463325252ULL, blocks = REGION / bs;
	uint64_t t0 = time_ns();
	for (unsigned i = 0; i < count; i++) {
		sema_down(&r.slots);
		struct bio *bp = g_new_bio();
		if (!bp) {
			r.errors++;
			sema_up(&r.slots);
			continue;
		}
		uint64_t blk = i % blocks;
		if (random) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			blk = x % blocks;
		}
		bp->cmd = cmd;
		bp->offset = base + blk * bs;
		bp->length = bs;
		bp->data = buf + (size_t)(i % qd) * bs;
		bp->done = run_done;
		bp->caller1 = &r;
		g_io_request(bp, cp);
	}
	for (unsigned i = 0; i < qd; i++)
		sema_down(&r.slots);
	*errors = r.errors;
	return time_ns() - t0;
}

/* Best-of-BLK_PASSES figures for one queue depth. */
struct blk_figs {
	unsigned long write_mbs, read_mbs, rand_iops;
};

/* Measure cp at base with 1 and 32 requests in flight; errors counted. */
static void blk_measure(struct g_consumer *cp, uint64_t base, uint8_t *buf, struct blk_figs figs[2],
			int *errors)
{
	static const unsigned qds[2] = {1, 32};
	int err;
	*errors = 0;
	for (int q = 0; q < 2; q++) {
		unsigned n = (unsigned)(REGION / 65536);
		/* Best of BLK_PASSES: the host's own load makes single passes
		 * under emulation vary by tens of percent. */
		uint64_t w = UINT64_MAX, rd = UINT64_MAX, ri = UINT64_MAX;
		for (int pass = 0; pass < BLK_PASSES; pass++) {
			w = MIN(w, run_io(cp, base, BIO_WRITE, 65536, n, qds[q], false, buf, &err));
			*errors += err;
			rd =
			    MIN(rd, run_io(cp, base, BIO_READ, 65536, n, qds[q], false, buf, &err));
			*errors += err;
			ri = MIN(ri,
				 run_io(cp, base, BIO_READ, 4096, 2000, qds[q], true, buf, &err));
			*errors += err;
		}
		figs[q].write_mbs = (unsigned long)(REGION * 1000 / (w ? w : 1));
		figs[q].read_mbs = (unsigned long)(REGION * 1000 / (rd ? rd : 1));
		figs[q].rand_iops = (unsigned long)(2000ULL * NSEC_PER_SEC / (ri ? ri : 1));
	}
}

/* Open name for writing, check its size; NULL (and a line saying why) if unusable. */
static struct g_consumer *blk_open(const char *name, uint64_t need)
{
	struct g_consumer *cp;
	int e = g_open(name, 1, 1, 0, NULL, NULL, &cp);
	if (e) {
		printk("%-12s (cannot open: %d)\n", name, e);
		return NULL;
	}
	if (cp->provider->mediasize < need) {
		printk("%-12s (too small)\n", name);
		g_close(cp);
		return NULL;
	}
	return cp;
}

static void bench_provider(const char *name, bool at_end)
{
	struct g_consumer *cp = blk_open(name, REGION + (at_end ? 2 << 20 : 0));
	if (!cp)
		return;
	uint64_t size = cp->provider->mediasize;
	uint64_t base = at_end ? (size - REGION - (1 << 20)) & ~(uint64_t)65535 : 0;
	uint8_t *buf = kmalloc(32 * 65536);
	if (!buf) {
		g_close(cp);
		return;
	}
	struct blk_figs figs[2];
	int errors;
	blk_measure(cp, base, buf, figs, &errors);
	printk("%-12s", name);
	for (int q = 0; q < 2; q++)
		printk("  qd%-2u write %4lu read %4lu MB/s, 4K rand %6lu IOPS", q ? 32 : 1,
		       figs[q].write_mbs, figs[q].read_mbs, figs[q].rand_iops);
	printk("%s\n", errors ? "  (errors!)" : "");
	kfree(buf);
	g_close(cp);
}

static void bench_blk(void)
{
	struct g_consumer *probe;
	if (g_open("vtbd0", 1, 0, 0, NULL, NULL, &probe) != 0) {
		printk("bench blk: no vtbd0: boot with a scratch disk (karst-run --disk IMG)\n");
		return;
	}
	g_close(probe);
	if (g_open("vtbd0p1", 1, 0, 0, NULL, NULL, &probe) == 0) {
		g_close(probe);
		bench_provider("vtbd0p1", false);
		g_waitidle(); /* closing a writer re-tastes the disk */
	}
	bench_provider("vtbd0", true);
	g_waitidle();
	struct g_nop_config cfg = {0};
	if (g_nop_create("vtbd0", &cfg) == 0) {
		g_waitidle();
		bench_provider("vtbd0.nop", true);
		g_nop_destroy("vtbd0.nop", true);
		g_waitidle();
	}
}
KARST_BENCH("blk", bench_blk, "virtio-blk through GEOM: MB/s at qd 1 and 32, 4K random IOPS");

/*
 * `bench blk_raw`: the raw disk alone (vtbd0, its first 16 MiB, no GEOM
 * class between), as `name: value unit` figure lines; tools/karst-compare
 * runs tools/compare/guest-bench.c's same workload on Linux's /dev/vda
 * (O_DIRECT, the same sizes, counts, offsets, random sequence and passes).
 */
static void bench_blk_raw(void)
{
	struct g_consumer *cp = blk_open("vtbd0", REGION);
	if (!cp) {
		printk("bench blk_raw: no usable vtbd0: boot with a scratch disk (karst-run --disk "
		       "IMG)\n");
		return;
	}
	uint8_t *buf = kmalloc(32 * 65536);
	if (!buf) {
		g_close(cp);
		return;
	}
	struct blk_figs figs[2];
	int errors;
	blk_measure(cp, 0, buf, figs, &errors);
	for (int q = 0; q < 2; q++) {
		unsigned qd = q ? 32 : 1;
		printk("blk.seq_write_qd%u: %lu MB/s\n", qd, figs[q].write_mbs);
		printk("blk.seq_read_qd%u: %lu MB/s\n", qd, figs[q].read_mbs);
		printk("blk.rand_read_qd%u: %lu IOPS\n", qd, figs[q].rand_iops);
	}
	if (errors)
		printk("bench blk_raw: %d requests failed\n", errors);
	kfree(buf);
	g_close(cp);
	g_waitidle(); /* closing a writer re-tastes the disk */
}
KARST_BENCH("blk_raw", bench_blk_raw,
	    "raw vtbd0 MB/s at qd 1 and 32, 4K random IOPS, as figure lines");
