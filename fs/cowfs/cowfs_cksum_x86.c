/*
 * Chooses cowfs's checksum path on x86_64 kernels, once, at INIT_EARLY
 * (before any filesystem is mounted): the AVX2 path (cowfs_cksum_avx2.c)
 * is registered usable when the CPU has AVX2 (CPUID.7.0:EBX[5]) and the
 * kernel saves YMM state on every switch, which it says as the ABI says it
 * to user programs: CPUID.1:ECX.OSXSAVE[27] (CR4.OSXSAVE is set) and the
 * YMM and SSE bits of XCR0 (XGETBV 0). Otherwise it is registered with
 * the reason, so tests and `bench cowfs_cksum` can say why, and the SSE2
 * path of cowfs_cksum.c stays in use (the default qemu64 CPU has no AVX).
 * Built with the kernel's usual flags (no SIMD): this runs on every CPU.
 */
#include "cowfs_format.h"
#include <karst/init.h>
#include <stdint.h>

struct cowfs_cksum cowfs_cksum_compute_avx2(const void *buf, size_t len);

static void cksum_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
	__asm__ __volatile__("cpuid"
			     : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			     : "a"(leaf), "c"(sub));
}

/* NULL when the AVX2 path may run here, else why not. */
static const char *cksum_avx2_unusable(void)
{
	uint32_t r[4];
	cksum_cpuid(0, 0, r);
	uint32_t maxleaf = r[0];
	cksum_cpuid(1, 0, r);
	if (!(r[2] & (1u << 27)))
		return "no OSXSAVE (CPU without XSAVE, or the kernel did not enable it)";
	uint32_t lo, hi;
	__asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	if ((lo & 6) != 6)
		return "XCR0 does not enable YMM state (no AVX)";
	if (maxleaf < 7)
		return "CPU without AVX2 (no CPUID leaf 7)";
	cksum_cpuid(7, 0, r);
	if (!(r[1] & (1u << 5)))
		return "CPU without AVX2";
	return NULL;
}

static struct cowfs_cksum_path cksum_avx2_path = {"avx2", cowfs_cksum_compute_avx2, NULL};

static int cowfs_cksum_x86_init(void)
{
	cksum_avx2_path.unusable = cksum_avx2_unusable();
	cowfs_cksum_register(&cksum_avx2_path);
	return 0;
}
KARST_INIT(INIT_EARLY, cowfs_cksum_x86_init);
