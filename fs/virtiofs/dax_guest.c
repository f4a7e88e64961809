/*
 * DAX back end (b): a window in guest memory, filled by large aligned
 * FUSE_READs, for devices without a shared-memory window (QEMU 7.2's
 * vhost-user-fs has none). It is the read cache OSv never had: a chunk
 * once read serves every later read of it without a host request.
 *
 * map reads the chunk with as few FUSE_READs as max_read allows, straight
 * into the chunk (each chunk is its own physically contiguous kpage_alloc
 * block: the page allocator gives at most 4 MiB in one), all in flight at
 * once, and reports how much of it the file has; map_start and map_wait
 * are map cut in two (the requests in
 * flight while the reader copies out of the chunks before: read-ahead
 * that overlaps); unmap has nothing to do. The connection's
 * window is made at the first mount (window=SIZE; window=auto, the
 * default, is VIRTIOFS_WINDOW_AUTO_NUM/DEN of the kernel's memory;
 * window=0 turns it off) and freed at DESTROY. A node's chunks are dropped
 * when its vnode goes (a node id may then name another file) and when its
 * size or mtime change on the host.
 *
 * A chunk's bytes are rotated by GUEST_SKEW in its memory (the manager's
 * skew: copies out of it do not alias in an emulator's TLB); a FUSE_READ
 * that crosses the end of the memory goes on at its start (fuse_call's
 * out2), so a chunk still takes chunk_size / max_read requests.
 *
 * Memory comes chunk by chunk: a chunk's block is allocated when the
 * chunk is first mapped (an allocation that fails refuses the map: the
 * read falls back to FUSE_READ), so a window nobody reads costs only its
 * tables. The window registers a reclaimer: under memory pressure
 * dax_shrink gives back free chunks' blocks, then the coldest chunks'
 * (never a pinned one), and they are allocated again when next mapped.
 * chunk_addr[c] changes only under the manager's exclusive lock (map,
 * drop), so a reader holding the shared lock on a hit sees it stable.
 *
 * Free chunks are prepared while a reader would sleep. Guest memory is a
 * shared memfd on the host: a page nobody touched yet costs host page
 * faults, one in the daemon that writes it first (it allocates the page)
 * and one in QEMU when the vCPU first reads it; on a virtualised host
 * these faults, not the copies, are most of a cold read (x86_64 TCG,
 * 64 MiB: ~15 us a page, ~10x a read into memory touched before). While
 * map_wait would sleep for a fill, the vCPU has nothing else to do: it
 * touches the memory of the free chunks next in line (allocating their
 * blocks), GUEST_PREP_STEP pages at a time, polling the fill between
 * steps (virtiofs_call_done), at most GUEST_PREP_AHEAD chunks ahead. The
 * daemon then writes pages that exist and the copy out of them faults no
 * more. It only fills idle time: a reader that never waits prepares
 * nothing, and a connection that cannot poll (no ops->done) never does.
 * With 2 MiB host pages (karst-run --mem-backend hugetlb) the host faults
 * once per 2 MiB, a cold read runs 7-10x faster and preparing neither
 * helps nor hurts (x86_64, 10 boots each: 64 MiB 1395 MB/s with it, 1550
 * without; 256 MiB 1900 and 1904).
 */
#include "dax.h"
#include "virtiofs.h"

#include <errno.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/reclaim.h>
#ifdef KARST_KERNEL
#include <karst/kmem_kernel.h>
#include <karst/page_alloc.h>
#endif

#define CHUNK_PAGES (DAX_CHUNK_DEFAULT / PAGE_SIZE)
/* Chunks rotated by two pages (dax.h, m->skew): a chunk's memory is
 * aligned to 2 MiB, and copies out of it into buffers aligned as much
 * would alias in QEMU's soft TLB. */
#define GUEST_SKEW (2 * PAGE_SIZE)

/* Pages touched between two polls of the fill waited for (64 KiB), and
 * how many free chunks may be prepared ahead of the fills. */
#define GUEST_PREP_STEP	 16
#define GUEST_PREP_AHEAD (2 * DAX_READAHEAD)

/* The guest window: its manager and reclaimer (one per connection; conn
 * is the manager's back end state), and the preparation of free chunks:
 * prepared[c] says chunk c's block exists and was touched whole (by a
 * fill or by guest_prepare); prep_c, prep_off: the block being touched
 * and how far. All under the manager's exclusive lock (every back-end
 * call runs under it), as chunk_addr. */
struct guest_window {
	struct dax_mgr m;
	struct reclaimer rc;
	bool *prepared;
	uint32_t prep_c;
	uint64_t prep_off;
	bool closing; /* torn down: waits prepare nothing */
};

static struct guest_window *gw_of(struct dax_mgr *m)
{
	return (struct guest_window *)m; /* m is its first member */
}

/* One step of preparing the free chunks next in line (the head of the
 * free list is taken first): touch GUEST_PREP_STEP pages of the first
 * one not prepared, allocating its block. False when there is nothing to
 * do (GUEST_PREP_AHEAD prepared, no free chunk left, no memory). */
static bool guest_prepare(struct guest_window *gw)
{
	struct dax_mgr *m = &gw->m;
	uint32_t c = m->free;
	if (gw->closing)
		return false;
	for (unsigned ahead = 0; c != DAX_NO_CHUNK && gw->prepared[c]; c = m->chunks[c].hnext)
		if (++ahead >= GUEST_PREP_AHEAD)
			return false;
	if (c == DAX_NO_CHUNK)
		return false;
	if (c != gw->prep_c || !m->chunk_addr[c]) {
		if (!m->chunk_addr[c] && !(m->chunk_addr[c] = kpage_alloc(CHUNK_PAGES)))
			return false;
		gw->prep_c = c;
		gw->prep_off = 0;
	}
	/* A read is enough: the host allocates the page on QEMU's fault
	 * and maps it for the vCPU's later copies out. */
	const volatile uint8_t *p = m->chunk_addr[c];
	for (unsigned i = 0; i < GUEST_PREP_STEP && gw->prep_off < m->chunk_size; i++) {
		(void)p[gw->prep_off];
		gw->prep_off += PAGE_SIZE;
	}
	if (gw->prep_off >= m->chunk_size) {
		gw->prepared[c] = true;
		gw->prep_c = DAX_NO_CHUNK;
		atomic_fetch_add(&m->st.prepared, 1);
	}
	return true;
}

/* The FUSE_READs filling window bytes [moff, moff+len) with file bytes
 * from foff, at most max_read each, into calls[] (room for `room`);
 * their count, or 0 when the chunk has no memory and none can be had. */
static unsigned chunk_reads(struct virtiofs_conn *conn, uint64_t nodeid, struct fuse_read_in *ri,
			    struct fuse_call *calls, unsigned room, uint64_t fh, uint64_t foff,
			    uint64_t moff, uint64_t len)
{
	struct dax_mgr *m = conn->dax;
	uint32_t c = (uint32_t)(moff / m->chunk_size);
	if (!m->chunk_addr[c] && !(m->chunk_addr[c] = kpage_alloc(CHUNK_PAGES)))
		return 0;
	gw_of(m)->prepared[c] = true; /* the fill touches it, whatever it was */
	if (gw_of(m)->prep_c == c)
		gw_of(m)->prep_c = DAX_NO_CHUNK;
	uint8_t *base = m->chunk_addr[c];
	uint64_t coff = moff % m->chunk_size;
	unsigned k = 0;
	for (uint64_t got = 0; got < len && k < room; k++) {
		uint32_t want = (uint32_t)(len - got < conn->max_read ? len - got : conn->max_read);
		/* The chunk is rotated (m->skew): a read that runs past the
		 * end of its memory goes on at its start (out2). */
		uint64_t at = dax_rot(m, coff + got);
		uint32_t first = (uint32_t)(want < m->chunk_size - at ? want : m->chunk_size - at);
		ri[k] = (struct fuse_read_in){.fh = fh, .offset = foff + got, .size = want};
		calls[k] = (struct fuse_call){
		    .opcode = FUSE_READ,
		    .nodeid = nodeid,
		    .in = {&ri[k]},
		    .in_len = {sizeof(ri[k])},
		    .nin = 1,
		    .out = base + at,
		    .out_len = first,
		    .out2 = first < want ? base : NULL,
		    .out2_len = want - first,
		};
		got += want;
	}
	return k;
}

/* What the reads of one chunk brought: up to the first short one (the
 * end of the file). */
static uint64_t chunk_valid(const struct fuse_call *calls, unsigned k)
{
	uint64_t valid = 0;
	for (unsigned i = 0; i < k; i++) {
		valid += calls[i].out_got;
		if (calls[i].out_got < calls[i].out_len + calls[i].out2_len)
			break;
	}
	return valid;
}

/* One chunk's fill in flight (map_start .. map_wait). */
struct guest_fill {
	struct virtiofs_pending *p;
	unsigned k;
	struct fuse_call *calls;
	struct fuse_read_in *ri;
	struct fuse_call **cp;
};

static int guest_map_start(void *be, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t foff,
			   uint64_t moff, uint64_t len, void **fillp)
{
	struct virtiofs_conn *conn = be;
	(void)fsize;
	unsigned per = (unsigned)((len + conn->max_read - 1) / conn->max_read);
	if (per > VIRTIOFS_START_MAX)
		return -EAGAIN;
	struct guest_fill *f =
	    kmalloc(sizeof(*f) + per * (sizeof(f->calls[0]) + sizeof(f->ri[0]) + sizeof(f->cp[0])));
	if (!f)
		return -EAGAIN;
	f->calls = (struct fuse_call *)(f + 1);
	f->ri = (struct fuse_read_in *)(f->calls + per);
	f->cp = (struct fuse_call **)(f->ri + per);
	f->k = chunk_reads(conn, nodeid, f->ri, f->calls, per, fh, foff, moff, len);
	for (unsigned i = 0; i < f->k; i++)
		f->cp[i] = &f->calls[i];
	if (f->k == 0 || virtiofs_call_start(conn, f->cp, f->k, &f->p)) {
		kfree(f);
		return -EAGAIN;
	}
	*fillp = f;
	return 0;
}

static int guest_map_wait(void *be, void *fill, uint64_t *valid)
{
	struct virtiofs_conn *conn = be;
	struct guest_fill *f = fill;
	/* Idle until the replies are in: prepare the chunks next in line. */
	while (!virtiofs_call_done(conn, f->p) && guest_prepare(gw_of(conn->dax)))
		;
	int e = virtiofs_call_wait(be, f->p);
	*valid = e ? 0 : chunk_valid(f->calls, f->k);
	kfree(f);
	return e;
}

/* A chunk's reads, in flight together, waited for at once. */
static int guest_map(void *be, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t foff,
		     uint64_t moff, uint64_t len, uint64_t *valid)
{
	void *fill;
	int e = guest_map_start(be, nodeid, fh, fsize, foff, moff, len, &fill);
	return e ? e : guest_map_wait(be, fill, valid);
}

static bool guest_drop(void *be, uint32_t c)
{
	struct virtiofs_conn *conn = be;
	uint8_t **addr = conn->dax->chunk_addr;
	if (!addr[c])
		return false;
	kpage_free(addr[c], CHUNK_PAGES);
	addr[c] = NULL;
	gw_of(conn->dax)->prepared[c] = false;
	if (gw_of(conn->dax)->prep_c == c)
		gw_of(conn->dax)->prep_c = DAX_NO_CHUNK;
	return true;
}

static const struct dax_backend_ops guest_ops = {
    .map = guest_map, .map_start = guest_map_start, .map_wait = guest_map_wait, .drop = guest_drop};

static size_t guest_reclaim(void *arg, size_t bytes)
{
	struct dax_mgr *m = arg;
	uint32_t want = (uint32_t)((bytes + m->chunk_size - 1) / m->chunk_size);
	return (size_t)dax_shrink(m, want ? want : 1, true) * m->chunk_size;
}

/* Memory is getting tight: give back what free chunks hold (nothing that
 * caches data is lost). */
static void guest_lowmem(void *arg)
{
	struct dax_mgr *m = arg;
	dax_shrink(m, m->nchunks, false);
}

static void free_chunks(uint8_t **addr, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (addr[i])
			kpage_free(addr[i], CHUNK_PAGES);
	kfree(addr);
}

/* window=auto: a share of the memory the kernel manages (the host tests
 * have no such figure: VIRTIOFS_WINDOW_DEFAULT there). */
static uint64_t auto_size(void)
{
#ifdef KARST_KERNEL
	struct pa_stats ps;
	pa_get_stats(&kernel_pa, &ps);
	return (uint64_t)ps.total_pages * PAGE_SIZE / VIRTIOFS_WINDOW_AUTO_DEN *
	       VIRTIOFS_WINDOW_AUTO_NUM;
#else
	return VIRTIOFS_WINDOW_DEFAULT;
#endif
}

/* The largest window=SIZE taken: 7/8 of that memory (chunks come lazily and
 * a reclaimer gives them back, but a window the size of memory would only
 * ever be cut down by pressure). */
static uint64_t max_size(void)
{
#ifdef KARST_KERNEL
	struct pa_stats ps;
	pa_get_stats(&kernel_pa, &ps);
	return (uint64_t)ps.total_pages * PAGE_SIZE / 8 * 7;
#else
	return UINT64_MAX;
#endif
}

/* The guest window's size for window=size (VIRTIOFS_WINDOW_AUTO, or
 * bytes), told when it is not what was asked: auto in a small guest is
 * none (a few chunks, a sequential reader keeping DAX_READAHEAD of them
 * filling and each tiny file taking a whole one, would only take the
 * memory everything else needs); less than a chunk is none; more than
 * memory allows is cut. 0: no window, reads go to the host. */
static uint64_t guest_size(struct virtiofs_conn *conn, uint64_t size)
{
	if (size == VIRTIOFS_WINDOW_AUTO) {
		size = auto_size();
		if (size >= (uint64_t)VIRTIOFS_WINDOW_AUTO_MIN_CHUNKS * DAX_CHUNK_DEFAULT)
			return size;
		printk("virtiofs '%s': %lu MiB of memory is too little for a read window "
		       "(window=auto): reading from the host\n",
		       conn->tag,
		       (unsigned long)(size / VIRTIOFS_WINDOW_AUTO_NUM * VIRTIOFS_WINDOW_AUTO_DEN >>
				       20));
		return 0;
	}
	if (size > 0 && size < DAX_CHUNK_DEFAULT) {
		printk("virtiofs '%s': window=%luK is less than one %u KiB chunk: no read window\n",
		       conn->tag, (unsigned long)(size >> 10), DAX_CHUNK_DEFAULT >> 10);
		return 0;
	}
	if (size > max_size()) {
		printk("virtiofs '%s': window=%lu MiB is more than memory allows: %lu MiB\n",
		       conn->tag, (unsigned long)(size >> 20), (unsigned long)(max_size() >> 20));
		return max_size();
	}
	return size;
}

int virtiofs_window_create(struct virtiofs_conn *conn, uint64_t size)
{
	if (size == 0)
		return 0; /* window=0: none, the device's too */
	if (conn->window_va && conn->window_len >= DAX_CHUNK_DEFAULT &&
	    virtiofs_devwindow_create(conn) == 0)
		return 0; /* the device's window: its size is the device's */
	uint32_t n = (uint32_t)(guest_size(conn, size) / DAX_CHUNK_DEFAULT);
	if (n == 0)
		return 0;
	struct guest_window *gw = kzalloc(sizeof(*gw));
	struct dax_mgr *m = gw ? &gw->m : NULL;
	uint8_t **addr = kzalloc(n * sizeof(*addr)); /* chunks come at their first map */
	bool *prepared = kzalloc(n * sizeof(*prepared));
	int e = gw && addr && prepared
		    ? dax_init(m, NULL, (uint64_t)n * DAX_CHUNK_DEFAULT, DAX_CHUNK_DEFAULT,
			       conn->map_alignment, DAX_POLICY_KARST, &guest_ops, conn)
		    : -ENOMEM;
	if (e) {
		kfree(prepared);
		kfree(addr);
		kfree(gw);
		printk("virtiofs '%s': no %lu MiB read window (%d): reading without\n", conn->tag,
		       (unsigned long)((uint64_t)n * DAX_CHUNK_DEFAULT >> 20), e);
		return e;
	}
	m->chunk_addr = addr;
	m->skew = GUEST_SKEW;
	gw->prepared = prepared;
	gw->prep_c = DAX_NO_CHUNK;
	conn->dax_window_bytes = (uint64_t)n * DAX_CHUNK_DEFAULT;
	conn->dax = m;
	gw->rc = (struct reclaimer){
	    .name = "virtiofs-window", .reclaim = guest_reclaim, .lowmem = guest_lowmem, .arg = m};
	reclaim_register(&gw->rc);
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
	struct guest_window *gw = gw_of(m);
	reclaim_unregister(&gw->rc);
	uint8_t **addr = m->chunk_addr;
	uint32_t n = m->nchunks;
	rwlock_wlock(&m->lock); /* dax_destroy waits for the fills in flight: */
	gw->closing = true;	/* no preparing while it does */
	rwlock_wunlock(&m->lock);
	dax_destroy(m);
	free_chunks(addr, n);
	kfree(gw->prepared);
	kfree(gw);
	conn->dax = NULL;
	conn->dax_window_bytes = 0;
}
