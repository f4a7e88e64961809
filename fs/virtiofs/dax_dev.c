/*
 * DAX back end (a): the device's own window, the shared-memory region
 * shmid 0 of a virtio-fs device that has one (QEMU with the DAX patches,
 * cloud-hypervisor; not Debian's QEMU 7.2).
 *
 * map   FUSE_SETUPMAPPING of one chunk (read-only) at its offset in the
 *       window: the host maps its file there, the guest reads it in place.
 *       *valid comes from the file size the caller knows (a chunk past the
 *       end is not mapped at all, and nothing past the end is ever read:
 *       the host's page there may not exist). A host error refuses the
 *       mapping (-EAGAIN: the caller falls back to FUSE_READ); ENOSYS or
 *       EOPNOTSUPP turn the window off for the connection's session.
 * unmap FUSE_REMOVEMAPPING of that chunk, when it is mapped.
 * copy  aligned loads only when the window is Device memory (aarch64:
 *       Device-nGnRnE faults on an unaligned load, which memcpy makes).
 *
 * The connection's window_va (set by the driver, kernel only; by the test
 * on the host) is the window in the kernel's address space. The manager
 * and its chunks are made at the first mount and torn down before
 * FUSE_DESTROY, every chunk unmapped.
 */
#include "dax.h"
#include "virtiofs.h"

#include <errno.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <string.h>

struct dax_dev {
	struct virtiofs_conn *conn;
	struct dax_mgr *m;
	uint8_t *mapped; /* per chunk: SETUPMAPPING done, REMOVEMAPPING owed */
	_Atomic bool off;
	_Atomic uint64_t refused;
};

/* Copy from Device memory: every load naturally aligned (bytes up to an
 * 8-byte boundary, then words), stores to normal memory any way. */
static void dev_copy_aligned(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const volatile uint8_t *s = src;
	while (n && ((uintptr_t)s & 7)) {
		*d++ = *s++;
		n--;
	}
	for (; n >= 8; n -= 8, s += 8, d += 8) {
		uint64_t w = *(const volatile uint64_t *)s;
		memcpy(d, &w, 8);
	}
	while (n--)
		*d++ = *s++;
}

static int dev_map(void *be, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t foff,
		   uint64_t moff, uint64_t len, uint64_t *valid)
{
	struct dax_dev *dd = be;
	*valid = 0;
	if (fsize == DAX_SIZE_UNKNOWN || atomic_load(&dd->off))
		return -EAGAIN; /* never read past a file's end blindly */
	if (foff >= fsize)
		return 0;
	struct fuse_setupmapping_in si = {
	    .fh = fh,
	    .foffset = foff,
	    .len = len,
	    .flags = FUSE_SETUPMAPPING_FLAG_READ,
	    .moffset = moff,
	};
	struct fuse_call c = {
	    .opcode = FUSE_SETUPMAPPING,
	    .nodeid = nodeid,
	    .in = {&si},
	    .in_len = {sizeof(si)},
	    .nin = 1,
	};
	int e = virtiofs_call(dd->conn, &c);
	if (e == -EIO)
		return e; /* the device is gone: FUSE_READ would fail too */
	if (e) {
		if (atomic_fetch_add(&dd->refused, 1) == 0 || e == -ENOSYS || e == -EOPNOTSUPP)
			printk("virtiofs '%s': the host refused a DAX mapping (%d)%s\n",
			       dd->conn->tag, e,
			       e == -ENOSYS || e == -EOPNOTSUPP ? ": window off, reading with "
								  "FUSE_READ"
								: "");
		if (e == -ENOSYS || e == -EOPNOTSUPP)
			atomic_store(&dd->off, true);
		return -EAGAIN;
	}
	dd->mapped[moff / dd->m->chunk_size] = 1;
	*valid = fsize - foff < len ? fsize - foff : len;
	return 0;
}

static int dev_unmap(void *be, uint64_t moff, uint64_t len)
{
	struct dax_dev *dd = be;
	uint32_t c = (uint32_t)(moff / dd->m->chunk_size);
	if (!dd->mapped[c])
		return 0;
	dd->mapped[c] = 0;
	struct {
		struct fuse_removemapping_in in;
		struct fuse_removemapping_one one;
	} rm = {.in = {.count = 1}, .one = {.moffset = moff, .len = len}};
	struct fuse_call call = {
	    .opcode = FUSE_REMOVEMAPPING,
	    .in = {&rm.in, &rm.one},
	    .in_len = {sizeof(rm.in), sizeof(rm.one)},
	    .nin = 2,
	};
	int e = virtiofs_call(dd->conn, &call);
	if (e && e != -EIO)
		printk("virtiofs '%s': REMOVEMAPPING at %lu failed (%d)\n", dd->conn->tag,
		       (unsigned long)moff, e);
	return e;
}

static const struct dax_backend_ops dev_ops = {.map = dev_map, .unmap = dev_unmap};
static const struct dax_backend_ops dev_ops_aligned = {
    .map = dev_map, .unmap = dev_unmap, .copy = dev_copy_aligned};

int virtiofs_devwindow_create(struct virtiofs_conn *conn)
{
	struct dax_dev *dd = kzalloc(sizeof(*dd));
	struct dax_mgr *m = kzalloc(sizeof(*m));
	uint32_t n = (uint32_t)(conn->window_len / DAX_CHUNK_DEFAULT);
	uint8_t *mapped = n ? kzalloc(n) : NULL;
	int e = dd && m && mapped ? 0 : -ENOMEM;
	if (!e)
		e = dax_init(m, conn->window_va, conn->window_len, DAX_CHUNK_DEFAULT,
			     conn->map_alignment, DAX_POLICY_KARST,
			     conn->window_device ? &dev_ops_aligned : &dev_ops, dd);
	if (e) {
		kfree(dd);
		kfree(m);
		kfree(mapped);
		printk("virtiofs '%s': DAX window of %lu MiB not used (%d)\n", conn->tag,
		       (unsigned long)(conn->window_len >> 20), e);
		return e;
	}
	dd->conn = conn;
	dd->m = m;
	dd->mapped = mapped;
	conn->dax = m;
	conn->dax_dev = dd;
	conn->dax_window_bytes = (uint64_t)m->nchunks * DAX_CHUNK_DEFAULT;
	return 0;
}

void virtiofs_devwindow_destroy(struct virtiofs_conn *conn)
{
	struct dax_dev *dd = conn->dax_dev;
	if (!dd)
		return;
	dax_destroy(dd->m); /* REMOVEMAPPING for every mapped chunk */
	kfree(dd->m);
	kfree(dd->mapped);
	kfree(dd);
	conn->dax = NULL;
	conn->dax_dev = NULL;
	conn->dax_window_bytes = 0;
}

uint64_t virtiofs_devwindow_refused(struct virtiofs_conn *conn)
{
	struct dax_dev *dd = conn->dax_dev;
	return dd ? atomic_load(&dd->refused) : 0;
}
