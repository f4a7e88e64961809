/*
 * The AVX2 path of cowfs's XXH3-128 checksum (x86_64 kernels only): the
 * same Debian header as cowfs_cksum.c, with XXH_VECTOR = XXH_AVX2, in a
 * file of its own because it alone is built with -mavx2
 * (fs/cowfs/CMakeLists.txt): the compiler may put VEX instructions
 * anywhere in it, so nothing here may run on a CPU without AVX2, or in a
 * kernel that does not save YMM state on a switch. cowfs_cksum_x86.c
 * (built without SIMD) checks both before it registers this path as
 * usable. Same contract as cowfs_cksum.c: thread context only, never an
 * interrupt or exception handler (they save no FP/SIMD state).
 */
#include "cowfs_format.h"

#if !defined(__AVX2__)
#error "cowfs_cksum_avx2.c is meant to be built with -mavx2 (see CMakeLists.txt)"
#endif
#define XXH_STATIC_ASSERT(c) _Static_assert((c), #c)
#define XXH_VECTOR	     XXH_AVX2
#define XXH_INLINE_ALL
#include <xxhash.h>

struct cowfs_cksum cowfs_cksum_compute_avx2(const void *buf, size_t len);

struct cowfs_cksum cowfs_cksum_compute_avx2(const void *buf, size_t len)
{
	XXH128_hash_t h = XXH3_128bits(buf, len);
	return (struct cowfs_cksum){.lo = h.low64, .hi = h.high64};
}
