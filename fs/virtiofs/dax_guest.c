/*
 * DAX back end (b): a window in guest memory, filled by large aligned
 * FUSE_READs, for devices without a shared-memory window (QEMU 7.2's
 * vhost-user-fs has none). It is the read cache OSv never had: a chunk
 * once read serves every later read of it without a host request.
 *
 * map reads the chunk with as few FUSE_READs as max_read allows, straight
 * into the chunk (each chunk is its own physically contiguous kpage_alloc
 * block: the page allocator gives at most 4 MiB in one), and reports how
 * much of it the file has; unmap has nothing to do. The connection's
 * window is made at the first mount (window=SIZE, default
 * VIRTIOFS_WINDOW_DEFAULT; window=0 turns it off) and freed at DESTROY.
 * A node's chunks are dropped when its vnode goes (a node id may then
 * name another file) and when its size or mtime change on the host.
 */
#include "dax.h"
#include "virtiofs.h"

#include <errno.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>

static int guest_map(void *be, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t foff,
		     uint64_t moff, uint64_t len, uint64_t *valid)
{
	struct virtiofs_conn *conn = be;
	struct dax_mgr *m = conn->dax;
	uint8_t *dst = dax_chunk_ptr(m, (uint32_t)(moff / m->chunk_size)) + moff % m->chunk_size;
	uint64_t got = 0;
	while (got < len) {
		uint32_t want = (uint32_t)(len - got < conn->max_read ? len - got : conn->max_read);
		struct fuse_read_in ri = {.fh = fh, .offset = foff + got, .size = want};
		struct fuse_call c = {
		    .opcode = FUSE_READ,
		    .nodeid = nodeid,
		    .in = {&ri},
		    .in_len = {sizeof(ri)},
		    .nin = 1,
		    .out = dst + got,
		    .out_len = want,
		};
		int e = virtiofs_call(conn, &c);
		if (e)
			return e;
		got += c.out_got;
		if (c.out_got < want)
			break; /* the end of the file */
	}
	*valid = got;
	return 0;
}

static const struct dax_backend_ops guest_ops = {.map = guest_map};

static void free_chunks(uint8_t **addr, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (addr[i])
			kpage_free(addr[i], DAX_CHUNK_DEFAULT / PAGE_SIZE);
	kfree(addr);
}

int virtiofs_window_create(struct virtiofs_conn *conn, uint64_t size)
{
	uint32_t n = (uint32_t)(size / DAX_CHUNK_DEFAULT);
	if (n == 0)
		return 0;
	if (conn->window_va && conn->window_len >= DAX_CHUNK_DEFAULT &&
	    virtiofs_devwindow_create(conn) == 0)
		return 0;
	struct dax_mgr *m = kzalloc(sizeof(*m));
	uint8_t **addr = kzalloc(n * sizeof(*addr));
	bool ok = m && addr;
	for (uint32_t i = 0; ok && i < n; i++)
		ok = (addr[i] = kpage_alloc(DAX_CHUNK_DEFAULT / PAGE_SIZE)) != NULL;
	int e = ok ? dax_init(m, NULL, (uint64_t)n * DAX_CHUNK_DEFAULT, DAX_CHUNK_DEFAULT,
			      conn->map_alignment, DAX_POLICY_KARST, &guest_ops, conn)
		   : -ENOMEM;
	if (e) {
		if (addr)
			free_chunks(addr, n);
		kfree(m);
		printk("virtiofs '%s': no %lu MiB read window (%d): reading without\n", conn->tag,
		       (unsigned long)(size >> 20), e);
		return e;
	}
	m->chunk_addr = addr;
	conn->dax_window_bytes = (uint64_t)n * DAX_CHUNK_DEFAULT;
	conn->dax = m;
	return 0;
}

void virtiofs_window_destroy(struct virtiofs_conn *conn)
{
	struct dax_mgr *m = conn->dax;
	if (conn->dax_dev) {
		virtiofs_devwindow_destroy(conn);
		return;
	}
	if (!m)
		return;
	uint8_t **addr = m->chunk_addr;
	uint32_t n = m->nchunks;
	dax_destroy(m);
	free_chunks(addr, n);
	kfree(m);
	conn->dax = NULL;
	conn->dax_window_bytes = 0;
}
