/*
 * `bench cowfs_cksum`: the checksum every block read from a disk is
 * verified with (XXH3-128), by each path this kernel has (SSE2, AVX2 on
 * x86_64; NEON on aarch64): ms per 64 MiB in default-sized records
 * (128 KiB) and MB/s, best of three passes, plus whether the paths agree
 * on the bytes. A path this CPU cannot run is listed with the reason. A
 * benchmark, not a test (tests/kernel/kt_cowfs_cksum.c checks agreement).
 */
#include "cowfs_format.h"

#include <karst/bench.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <karst/time.h>

#define CKB_BUF	  ((size_t)1 << 20)
#define CKB_TOTAL ((size_t)64 << 20)

static uint64_t ckb_pass(const struct cowfs_cksum_path *p, const uint8_t *buf,
			 struct cowfs_cksum *sum)
{
	uint64_t t0 = time_ns();
	struct cowfs_cksum acc = {0, 0};
	for (size_t done = 0; done < CKB_TOTAL; done += CKB_BUF)
		for (size_t off = 0; off < CKB_BUF; off += COWFS_DEFAULT_RECORDSIZE) {
			struct cowfs_cksum c = p->compute(buf + off, COWFS_DEFAULT_RECORDSIZE);
			acc.lo ^= c.lo + done;
			acc.hi ^= c.hi + off;
		}
	*sum = acc;
	return time_ns() - t0;
}

static void bench_cowfs_cksum(void)
{
	uint8_t *buf = kmalloc(CKB_BUF);
	if (!buf) {
		printk("cowfs_cksum: no memory for the buffer\n");
		return;
	}
	uint32_t x = 2463534242u;
	for (size_t i = 0; i < CKB_BUF; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	struct cowfs_cksum ref = {0, 0};
	for (int i = 0; i < cowfs_cksum_npaths(); i++) {
		const struct cowfs_cksum_path *p = cowfs_cksum_path(i);
		if (p->unusable) {
			printk("cowfs_cksum: %-6s -  (%s)\n", p->name, p->unusable);
			continue;
		}
		uint64_t best = UINT64_MAX;
		struct cowfs_cksum sum;
		for (int pass = 0; pass < 3; pass++) {
			uint64_t t = ckb_pass(p, buf, &sum);
			best = t < best ? t : best;
		}
		if (i == 0)
			ref = sum;
		printk("cowfs_cksum: %-6s %5lu ms per 64 MiB, %5lu MB/s%s%s\n", p->name,
		       (unsigned long)(best / 1000000), (unsigned long)(CKB_TOTAL * 1000 / best),
		       p == cowfs_cksum_active() ? " (in use)" : "",
		       i && !cowfs_cksum_equal(&sum, &ref) ? " DIFFERS from path 0" : "");
	}
	kfree(buf);
}

KARST_BENCH("cowfs_cksum", bench_cowfs_cksum,
	    "cowfs: XXH3-128 block checksum, ms per 64 MiB by each path (SSE2, AVX2, NEON)");
