/*
 * virtio-fs as a page-cache owner (pagecache/pagecache.h): what mmap of a
 * virtio-fs file maps.
 *
 * Each regular file's vfsn embeds a pc_object (set up when its vnode is
 * made, sized from the host's attributes). vop mmap opens one FUSE handle
 * per node for the pages (map_fh, released at reclaim: a mapping outlives
 * the descriptor it was made from) and answers with pc_mmap_hook.
 *
 * lend      a whole page of the file that a window chunk holds: the chunk
 *           is pinned (dax_pin, mapped on a miss) for as long as the page
 *           cache holds the page, and the page is the window's own (no
 *           copy). Cookie: the chunk + 1. Not lent: writes (the mount is
 *           read-only, so only a private copy-on-write fault asks), the
 *           page holding the end of the file (its tail must read as zeros,
 *           the chunk's tail is whatever the window held before), a device
 *           window in Device memory (aarch64: a user mapping would alias it
 *           as normal memory), and any page while half the window's chunks
 *           or more are pinned already, so reads always keep half the
 *           window (the window's eviction skips pinned chunks; the page
 *           cache's eviction gives lent pages back, unpinning them).
 * fill      the page copied from the window (dax_read: a cold page maps
 *           its chunk once and copies from it), else one FUSE_READ.
 * unlend    dax_unpin.
 * accessed  the scanner saw a lent page used: dax_touch warms its chunk,
 *           so mapped chunks in use are the last the window evicts.
 * writeback never called (nothing is ever dirty on a read-only mount);
 *           -EROFS.
 */
#include "virtiofs_impl.h"

#include "dax.h"

#include <errno.h>
#include <karst/arch.h>
#include <karst/param.h>
#include <string.h>

static struct virtiofs_conn *pc_conn(struct vfsn *n)
{
	return n->conn;
}

static uint64_t pc_fsize(struct vfsn *n)
{
	mutex_lock(&n->lock);
	uint64_t size = n->attr.size;
	mutex_unlock(&n->lock);
	return size;
}

static int vfs_pc_lend(void *arg, uint64_t index, bool write, struct pc_lent *lent)
{
	struct vfsn *n = arg;
	struct virtiofs_conn *conn = pc_conn(n);
	struct dax_mgr *m = conn->dax;
	if (write || !m || conn->window_device || !atomic_load(&n->map_open))
		return PC_NO_LEND;
	uint64_t size = pc_fsize(n), off = index * PAGE_SIZE;
	if (off + PAGE_SIZE > size)
		return PC_NO_LEND; /* the page with the end of the file: filled, zero tail */
	if (dax_pinned(m) * 2 >= m->nchunks)
		return PC_NO_LEND; /* keep half the window for reads */
	uint32_t c;
	uint8_t *addr;
	uint64_t valid;
	int e = dax_pin(m, n->nodeid, n->map_fh, size, off, &c, &addr, &valid);
	if (e)
		return e == -EAGAIN || e == -ENXIO ? PC_NO_LEND : e;
	if (valid < PAGE_SIZE || !addr) {
		dax_unpin(m, c);
		return PC_NO_LEND;
	}
	lent->pa = virt_to_phys(addr);
	lent->cookie = (void *)(uintptr_t)(c + 1);
	lent->flags = 0; /* read-only, and given back under memory pressure */
	atomic_fetch_add(&conn->pages_lent, 1);
	return 0;
}

static void vfs_pc_unlend(void *arg, uint64_t index, const struct pc_lent *lent)
{
	struct vfsn *n = arg;
	(void)index;
	dax_unpin(pc_conn(n)->dax, (uint32_t)((uintptr_t)lent->cookie - 1));
}

static int vfs_pc_fill(void *arg, uint64_t index, void *dst)
{
	struct vfsn *n = arg;
	struct virtiofs_conn *conn = pc_conn(n);
	uint64_t size = pc_fsize(n), off = index * PAGE_SIZE;
	uint32_t want = (uint32_t)(off >= size		    ? 0
				   : size - off < PAGE_SIZE ? size - off
							    : PAGE_SIZE);
	uint32_t got = 0;
	if (want && conn->dax) {
		long r = dax_read_sized(conn->dax, n->nodeid, n->map_fh, size, off, dst, want);
		if (r >= 0) {
			got = (uint32_t)r;
			want = 0;
		} else if (r != -EAGAIN) {
			return (int)r;
		} /* else the window cannot serve it: FUSE_READ */
	}
	if (want) {
		struct fuse_read_in ri = {.fh = n->map_fh, .offset = off, .size = want};
		struct fuse_call c = {
		    .opcode = FUSE_READ,
		    .nodeid = n->nodeid,
		    .in = {&ri},
		    .in_len = {sizeof(ri)},
		    .nin = 1,
		    .out = dst,
		    .out_len = want,
		};
		int e = virtiofs_call(conn, &c);
		if (e)
			return e;
		got = c.out_got;
	}
	memset((uint8_t *)dst + got, 0, PAGE_SIZE - got); /* short: the file shrank on the host */
	atomic_fetch_add(&conn->pages_filled, 1);
	return 0;
}

static int vfs_pc_writeback(void *arg, uint64_t index, const void *src, size_t len)
{
	(void)arg, (void)index, (void)src, (void)len;
	return -EROFS;
}

static void vfs_pc_accessed(void *arg, uint64_t index, const struct pc_lent *lent)
{
	struct vfsn *n = arg;
	(void)index;
	if (lent && lent->cookie && pc_conn(n)->dax) {
		dax_touch(pc_conn(n)->dax, (uint32_t)((uintptr_t)lent->cookie - 1));
		atomic_fetch_add(&pc_conn(n)->pages_accessed, 1);
	}
}

static const struct pc_owner_ops virtiofs_pc_ops = {
    .lend = vfs_pc_lend,
    .unlend = vfs_pc_unlend,
    .fill = vfs_pc_fill,
    .writeback = vfs_pc_writeback,
    .accessed = vfs_pc_accessed,
};

struct pc_owner virtiofs_pc_owner = {.name = "virtiofs", .ops = &virtiofs_pc_ops};
