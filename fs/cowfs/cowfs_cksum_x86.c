/*
 * Chooses cowfs's checksum path on x86_64 kernels, once, at INIT_EARLY
 * (before any filesystem is mounted): the AVX2 path (cowfs_cksum_avx2.c)
 * is registered usable when the arch says AVX2 code may run
 * (x86_avx2_unusable(), arch/x86_64/fpu.c: the CPU has AVX2 and YMM state
 * is saved on every switch). Otherwise it is registered with the reason,
 * so tests and `bench cowfs_cksum` can say why, and the SSE2 path of
 * cowfs_cksum.c stays in use (the default qemu64 CPU has no AVX).
 * Built with the kernel's usual flags (no SIMD): this runs on every CPU.
 */
#include "cowfs_format.h"
#include <arch/cpu.h>
#include <karst/init.h>
#include <stdint.h>

struct cowfs_cksum cowfs_cksum_compute_avx2(const void *buf, size_t len);

static struct cowfs_cksum_path cksum_avx2_path = {"avx2", cowfs_cksum_compute_avx2, NULL};

static int cowfs_cksum_x86_init(void)
{
	cksum_avx2_path.unusable = x86_avx2_unusable();
	cowfs_cksum_register(&cksum_avx2_path);
	return 0;
}
KARST_INIT(INIT_EARLY, cowfs_cksum_x86_init);
