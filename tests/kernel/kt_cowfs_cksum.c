/*
 * In-kernel tests of cowfs's checksum paths (fs/cowfs/cowfs_cksum*.c):
 * every path this kernel registered that the CPU can run gives the bits of
 * path 0 (cowfs_cksum.c's SSE2 / NEON build, itself checked against
 * Debian's xxhsum by cowfs_cksum_known_answers) at every length of XXH3's
 * short paths, many long ones with partial stripes and blocks, and every
 * alignment of a cache line. x86_64 registers AVX2; on a CPU without it
 * (QEMU's default qemu64), and on aarch64 (one path), the test is skipped
 * with the reason, so it is a manual test that wildcard runs (which must
 * skip nothing) leave out; tests/kernel/run-ktests names it in a -cpu max
 * boot on x86_64.
 */
#include "cowfs_format.h"

#include <karst/kmem.h>
#include <karst/ktest.h>
#include <karst/printk.h>

#define KCK_MAX ((size_t)1 << 20)

static bool kck_same(const struct cowfs_cksum_path *p, const struct cowfs_cksum_path *base,
		     const uint8_t *b, size_t len)
{
	struct cowfs_cksum x = p->compute(b, len), y = base->compute(b, len);
	return cowfs_cksum_equal(&x, &y);
}

KTEST_FLAGS(cowfs_cksum_paths_agree, KTEST_MANUAL)
{
	const struct cowfs_cksum_path *base = cowfs_cksum_path(0), *p = NULL;
	KT_ASSERT(base != NULL && !base->unusable);
	int tried = 0;
	const char *why = "this kernel has one checksum path";
	uint8_t *buf = kmalloc(KCK_MAX + 64);
	KT_ASSERT(buf != NULL);
	uint32_t x = 88172645u;
	for (size_t i = 0; i < KCK_MAX + 64; i++) {
		x ^= x << 13, x ^= x >> 17, x ^= x << 5;
		buf[i] = (uint8_t)x;
	}
	for (int i = 1; (p = cowfs_cksum_path(i)) != NULL; i++) {
		if (p->unusable) {
			why = p->unusable;
			continue;
		}
		tried++;
		unsigned bad = 0, n = 0;
		/* Every length of the short paths (0-16, 17-128, 129-240) and
		 * the first long ones (stripes of 64, blocks of 1024). */
		for (size_t len = 0; len <= 2100; len++, n++)
			bad += !kck_same(p, base, buf, len);
		/* Long lengths around block and record sizes. */
		for (size_t len = 4096 - 70; len <= KCK_MAX; len = len * 2 + 13, n++)
			bad += !kck_same(p, base, buf, len);
		static const size_t sizes[] = {4095, 4096, 65536, 131071, 131072, 131073, KCK_MAX};
		for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++, n++)
			bad += !kck_same(p, base, buf, sizes[k]);
		/* Every alignment within a cache line, short and long. */
		static const size_t alens[] = {1, 16, 17, 128, 129, 240, 241, 1000, 4099, 131072};
		for (size_t a = 0; a < 64; a++)
			for (size_t k = 0; k < sizeof(alens) / sizeof(alens[0]); k++, n++)
				bad += !kck_same(p, base, buf + a, alens[k]);
		printk("    %s vs %s: %u inputs, %u differ\n", p->name, base->name, n, bad);
		KT_EXPECT(bad == 0);
	}
	kfree(buf);
	if (!tried)
		KT_SKIP(why);
}

/* The path in use is the last usable one registered: on x86_64 AVX2
 * exactly when it is usable. */
KTEST(cowfs_cksum_active_path)
{
	const struct cowfs_cksum_path *act = cowfs_cksum_active(), *p;
	KT_ASSERT(act != NULL && !act->unusable);
	const struct cowfs_cksum_path *want = cowfs_cksum_path(0);
	for (int i = 1; (p = cowfs_cksum_path(i)) != NULL; i++)
		if (!p->unusable)
			want = p;
	KT_EXPECT(act == want);
	printk("    in use: %s (%d path%s)\n", act->name, cowfs_cksum_npaths(),
	       cowfs_cksum_npaths() == 1 ? "" : "s");
}
