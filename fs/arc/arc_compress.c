/*
 * Compressed buffers. A cached block may be held lz4-compressed (pdata,
 * psize bytes) and is then decompressed into a plain copy (data) while
 * somebody holds or maps it; the copy goes when the last hold or mapping
 * does. Only the block API of Debian's liblz4 is used (the host links the
 * shared library, the kernel Debian's liblz4.a).
 *
 * Locking: arc_ensure_data() runs under the header's stripe lock (so every
 * concurrent holder shares one copy); the lz4 wrappers take no lock. None
 * sleeps.
 */
#include "arc_impl.h"
#include <errno.h>
#include <karst/kmem.h>
#include <limits.h>
#include <lz4.h>

/* Compress lsize bytes into at most cap bytes; the length, or 0 when the
 * result would not fit (or memory is short: the block stays plain). The
 * compressor's 16 KiB state comes from the heap, not the stack as
 * LZ4_compress_default() would put it: kernel stacks are 16 KiB. */
int arc_lz4_compress(const void *src, size_t lsize, void *dst, size_t cap)
{
	if (lsize > INT_MAX || cap > INT_MAX)
		return 0;
	void *state = kmalloc((size_t)LZ4_sizeofState());
	if (!state)
		return 0;
	int n = LZ4_compress_fast_extState(state, src, dst, (int)lsize, (int)cap, 1);
	kfree(state);
	return n > 0 ? n : 0;
}

/* Decompress exactly lsize bytes; 0 or -EIO. */
int arc_lz4_decompress(const void *src, size_t psize, void *dst, size_t lsize)
{
	if (lsize > INT_MAX || psize > INT_MAX)
		return -EIO;
	int n = LZ4_decompress_safe(src, dst, (int)psize, (int)lsize);
	return n == (int)lsize ? 0 : -EIO;
}

/* Give a held cached header its plain data. */
int arc_ensure_data(struct arc *a, struct arc_buf *b)
{
	if (b->data)
		return 0;
	if (!(b->flags & ARC_BF_COMPRESSED)) {
		b->data = b->pdata;
		return 0;
	}
	void *plain = arc_data_alloc(b->lsize);
	if (!plain)
		return -ENOMEM;
	int err = arc_lz4_decompress(b->pdata, b->psize, plain, b->lsize);
	if (err) {
		kfree(plain);
		return err;
	}
	b->data = plain;
	arc_add(&a->overhead_size, b->lsize);
	return 0;
}
