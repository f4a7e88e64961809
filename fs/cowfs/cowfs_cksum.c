/*
 * Checksums and compression of cowfs blocks, through Debian's libxxhash
 * (header-only, XXH3 128-bit) and liblz4 (the block API).
 *
 * A compressed block on disk is: a 4-byte little-endian length n, n bytes
 * of lz4 block data, zeros up to the next sector. The length is needed
 * because lz4's safe decoder wants the exact input size and the padding
 * would confuse it (ZFS stores the same header).
 */
#include "cowfs_format.h"
#include <errno.h>
#include <karst/compiler.h>
#include <karst/kmem.h>
#include <limits.h>
#include <lz4.h>
#include <string.h>

/* xxhash's C11 static assertions would pull in <assert.h>. In the kernel
 * this file is built with SSE2 (x86_64) or NEON (aarch64) allowed
 * (fs/cowfs/CMakeLists.txt; cowfs_cksum_avx2.c with AVX2, registered by
 * cowfs_cksum_x86.c where the CPU and XCR0 allow), so XXH3 takes its
 * vector path: its callers run in threads, whose FP/SIMD registers the
 * scheduler saves on every switch. Never call these from an interrupt or
 * exception handler: those do not save FP/SIMD state. */
#define XXH_STATIC_ASSERT(c) _Static_assert((c), #c)
#if defined(KARST_KERNEL) && !defined(__SSE2__) && !defined(__ARM_NEON)
#error "cowfs_cksum.c is meant to be built with SSE2 / NEON (see CMakeLists.txt)"
#endif
#define XXH_INLINE_ALL
#include <xxhash.h>

static struct cowfs_cksum cksum_base(const void *buf, size_t len)
{
	XXH128_hash_t h = XXH3_128bits(buf, len);
	return (struct cowfs_cksum){.lo = h.low64, .hi = h.high64};
}

/* What XXH3 chose for this file's flags (xxhash.h sets XXH_VECTOR). */
#if XXH_VECTOR == XXH_AVX512
#define CKSUM_BASE_NAME "avx512"
#elif XXH_VECTOR == XXH_AVX2
#define CKSUM_BASE_NAME "avx2"
#elif XXH_VECTOR == XXH_SSE2
#define CKSUM_BASE_NAME "sse2"
#elif XXH_VECTOR == XXH_NEON
#define CKSUM_BASE_NAME "neon"
#elif XXH_VECTOR == XXH_SCALAR
#define CKSUM_BASE_NAME "scalar"
#else
#define CKSUM_BASE_NAME "other"
#endif

/* The registry of paths (see cowfs_format.h): path 0 is this file's. */
static const struct cowfs_cksum_path cksum_base_path = {CKSUM_BASE_NAME, cksum_base, NULL};
static const struct cowfs_cksum_path *cksum_paths[COWFS_CKSUM_MAX_PATHS] = {&cksum_base_path};
static int cksum_npaths = 1;
static const struct cowfs_cksum_path *cksum_active_path = &cksum_base_path;

void cowfs_cksum_register(const struct cowfs_cksum_path *p)
{
	if (cksum_npaths == COWFS_CKSUM_MAX_PATHS)
		return;
	cksum_paths[cksum_npaths++] = p;
	if (!p->unusable)
		cksum_active_path = p;
}

int cowfs_cksum_npaths(void)
{
	return cksum_npaths;
}

const struct cowfs_cksum_path *cowfs_cksum_path(int i)
{
	return i >= 0 && i < cksum_npaths ? cksum_paths[i] : NULL;
}

const struct cowfs_cksum_path *cowfs_cksum_active(void)
{
	return cksum_active_path;
}

struct cowfs_cksum cowfs_cksum_compute(const void *buf, size_t len)
{
	return cksum_active_path->compute(buf, len);
}

bool cowfs_cksum_equal(const struct cowfs_cksum *a, const struct cowfs_cksum *b)
{
	return a->lo == b->lo && a->hi == b->hi;
}

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
bool cowfs_fuzz_trust_cksum;
#endif

bool cowfs_cksum_verify(const void *buf, size_t len, const struct cowfs_cksum *want)
{
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
	if (cowfs_fuzz_trust_cksum)
		return true;
#endif
	struct cowfs_cksum ck = cowfs_cksum_compute(buf, len);
	return cowfs_cksum_equal(&ck, want);
}

size_t cowfs_compress(const void *src, size_t lsize, void *dst)
{
	if (lsize > INT_MAX || lsize < 2 * COWFS_SECTOR)
		return 0;
	/* Worth it only when it saves an eighth and at least one sector. */
	size_t limit = lsize - MAX(lsize / 8, COWFS_SECTOR);
	limit = limit & ~(size_t)(COWFS_SECTOR - 1);
	if (limit <= 4)
		return 0;
	void *state = kmalloc((size_t)LZ4_sizeofState());
	if (!state)
		return 0;
	uint8_t *d = dst;
	int n =
	    LZ4_compress_fast_extState(state, src, (char *)d + 4, (int)lsize, (int)(limit - 4), 1);
	kfree(state);
	if (n <= 0)
		return 0;
	cowfs_le32enc(d, (uint32_t)n);
	size_t psize = ALIGN_UP_SECTOR((size_t)n + 4);
	memset(d + 4 + n, 0, psize - 4 - (size_t)n);
	return psize;
}

size_t cowfs_comp_payload_len(const void *pbuf, size_t psize)
{
	uint32_t n = cowfs_le32dec(pbuf);
	if (psize < 4 || n == 0 || n > psize - 4 || ALIGN_UP_SECTOR((uint64_t)n + 4) != psize)
		return 0;
	return n;
}

int cowfs_decompress(const void *pbuf, size_t psize, void *dst, size_t lsize)
{
	size_t n = cowfs_comp_payload_len(pbuf, psize);
	if (!n || lsize > INT_MAX)
		return -EIO;
	int r = LZ4_decompress_safe((const char *)pbuf + 4, dst, (int)n, (int)lsize);
	return r == (int)lsize ? 0 : -EIO;
}
