/*
 * The page cache: the pages of files, indexed per file by offset, that
 * read(), write() and mmap() of every filesystem go through; and the
 * access scanner that tells the caches below it which mapped pages are in
 * use. Design and costs: pagecache/README.md.
 *
 * Filesystems join through this header only; the page cache never calls a
 * filesystem except through the ops it registered.
 *
 * 1. Owners. A filesystem type (or any cache of file data: the ARC, the DAX
 *    window) registers one struct pc_owner: its ops and whether its pages
 *    may be evicted. Registering an evictable owner starts the access
 *    scanner (a kernel whose only owner is ramfs runs no scanner thread).
 *
 * 2. Objects. Each cached file is one struct pc_object, embedded in the
 *    filesystem's node (ramfs node, cowfs inode, virtio-fs file) and set up
 *    with pc_object_init(obj, owner, arg, size); arg is the filesystem's
 *    own pointer, passed back to every op. The filesystem destroys it when
 *    the node goes (no mapping can exist then: a mapping holds the vnode).
 *    The object keeps the file size the cache works with: the filesystem
 *    sets it at init and with pc_truncate(); pc_write() grows it and the
 *    filesystem reads it back with pc_size().
 *
 * 3. Getting the page for an offset. When the cache has no page at a page
 *    index it asks the owner, in this order:
 *      lend(arg, index, write, &lent)  optional: hand over a page the
 *          filesystem already has (no copy): its physical address and a
 *          cookie. Returns 0 (lent), PC_NO_LEND (fill instead) or -errno.
 *          lent.flags: PC_LENT_WRITABLE (writes may go into the page
 *          itself: ramfs, a DAX window; otherwise a write needs a page of
 *          the cache's own, made by fill), PC_LENT_PINNED (the cache must
 *          never give it back under memory pressure).
 *      fill(arg, index, dst)  read the page at index into dst, a page of
 *          the cache's own (bytes past the end of the file must be zero).
 *          A failing fill fails the read or the fault with its error; the
 *          cache never maps a page it could not fill.
 *    unlend(arg, index, &lent) is called exactly once for every lent page
 *    when the cache stops using it (evicted, truncated, object destroyed),
 *    after every mapping of it is gone and its TLB entries flushed.
 *    read_hold(arg, off, &span) (optional) is asked first by pc_read()
 *    alone, for an owner with a cache of its own (cowfs: the ARC): hold
 *    the owner's bytes at file offset off without a page being made
 *    (ZFS's read: the page cache then keeps only what is mapped or
 *    written). span.data (NULL: zeros, a hole), span.len (at least 1,
 *    not past the end of the file, may cover many pages) and span.cookie
 *    (not NULL); 0, PC_NO_LEND (make a
 *    page as above) or -errno. The bytes must stay valid and unchanged
 *    until read_release(arg, &span), which pc_read calls once per held
 *    span after copying (obj->lock dropped meanwhile, taken again for
 *    the release). A page in the index always wins over a span: it may
 *    hold bytes newer than the owner's (a mapping's dirty page).
 *
 * 4. Writing back. writeback(arg, index, src, len) writes the first len
 *    bytes of a dirty page (len < PAGE_SIZE only for the page holding the
 *    end of the file). NULL: the owner has nothing to write back to (ramfs:
 *    the page is the data); dirty pages are then never written, and such
 *    an owner must be PC_OWNER_PINNED. pc_fsync() writes every dirty page;
 *    eviction writes a dirty page before dropping it; msync writes the
 *    pages a mapping dirtied.
 *
 * 5. Heat. accessed(arg, index, &lent) (optional) is the access scanner's
 *    report: a mapped page of this owner was touched since the last pass.
 *    Every mapped page is reported, lent or not: lent->cookie is NULL for
 *    a page of the cache's own (filled). cowfs forwards a lent page's to
 *    arc_buf_accessed(); virtio-fs to its chunk heat.
 *    It runs in the scanner thread with a page-cache lock held: it must
 *    not sleep for long, allocate, or call the page cache.
 *
 * The three owners of the mission, without copies:
 *   ramfs     PC_OWNER_PINNED, PC_OWNER_STORE: the object's index IS the
 *             file's data (a missing page is a hole, read as zeros, made by
 *             fill on the first write or write fault); no writeback, never
 *             evicted; ramfs keeps no tree of its own (no double caching).
 *   cowfs     lend: the page points into an ARC buffer held with
 *             arc_read() and pinned with arc_buf_share(); the cookie is the
 *             arc_buf; unlend calls arc_buf_unshare() and releases it;
 *             accessed calls arc_buf_accessed() with arc_buf_hashkey().
 *             Lent read-only (ARC blocks are immutable): a write fault or
 *             write() gets PC_NO_LEND and a filled page of the cache's own,
 *             dirty, written back by writeback as a new block. A write
 *             (write() or a write fault) to a lent page that is mapped
 *             first unmaps it everywhere (a fault through the pager's
 *             unblock and a retry), then replaces it by a copy
 *             (lends_broken).
 *   virtio-fs lend pages of the DAX window (PC_LENT_WRITABLE when mounted
 *             read-write) or of its read cache; cookie = the chunk;
 *             unlend drops the chunk's use count; accessed feeds the
 *             chunk heat that picks what the window evicts.
 *
 * Locking. Each object has a mutex (obj->lock) that serialises its index,
 * size and page states; every op above is called with it held, and with
 * or without the vnode's v_lock (read/write paths hold it, faults do not):
 * an op takes only the filesystem's own internal locks, never a VFS lock,
 * and never calls back into the page cache for the same object. Lock
 * order: v_lock -> vm_space.lock -> obj->lock -> the filesystem's locks
 * -> the cache's global leaf locks. Everything here may sleep unless said
 * otherwise; nothing may be called from interrupt context.
 */
#ifndef KARST_PAGECACHE_H
#define KARST_PAGECACHE_H

#include <karst/list.h>
#include <karst/sync.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct uio;
struct vm_area;
struct vm_space;
struct pc_page;

/* lend's "no page to lend here: fill one" answer (positive, not an errno) */
#define PC_NO_LEND 1

/* pc_lent.flags */
#define PC_LENT_WRITABLE 0x1 /* writes may go into this page */
#define PC_LENT_PINNED	 0x2 /* never evict it */

struct pc_lent {
	uint64_t pa;  /* physical address of the page (page aligned) */
	void *cookie; /* the owner's: its buffer, chunk, ... */
	unsigned flags;
};

/* read_hold's answer: bytes of the owner's own, held until read_release */
struct pc_span {
	const void *data; /* NULL: zeros */
	size_t len;
	void *cookie; /* the owner's */
};

struct pc_owner_ops {
	int (*lend)(void *arg, uint64_t index, bool write, struct pc_lent *lent);
	void (*unlend)(void *arg, uint64_t index, const struct pc_lent *lent);
	int (*fill)(void *arg, uint64_t index, void *dst);
	int (*writeback)(void *arg, uint64_t index, const void *src, size_t len);
	void (*accessed)(void *arg, uint64_t index, const struct pc_lent *lent);
	int (*read_hold)(void *arg, uint64_t off, struct pc_span *span);
	void (*read_release)(void *arg, const struct pc_span *span);
};

/* pc_owner.flags */
#define PC_OWNER_PINNED 0x1 /* no page of this owner is ever evicted */
#define PC_OWNER_STORE	0x2 /* the index is the data: a missing page is a hole */

/* Per-owner figures (read with pc_owner_stats). */
struct pc_owner_stats {
	uint64_t pages;	     /* in the cache now */
	uint64_t fills;	     /* fill calls */
	uint64_t lends;	     /* pages lent */
	uint64_t writebacks; /* writeback calls */
	uint64_t errors;     /* fill/lend/writeback errors */
	uint64_t accessed;   /* accessed reports from the scanner */
};

struct pc_owner {
	const char *name;
	const struct pc_owner_ops *ops;
	unsigned flags;
	/* page cache private */
	struct list_node link;
	struct pc_owner_stats st;
};

/* Add an owner (idempotent); an evictable one starts the scanner. */
int pc_owner_register(struct pc_owner *ow);
/* Only once no object of this owner is left. */
void pc_owner_unregister(struct pc_owner *ow);
void pc_owner_stats(struct pc_owner *ow, struct pc_owner_stats *st);

/* A cached file. Fields are the page cache's; embed it, do not touch it. */
struct pc_object {
	struct mutex lock;
	struct pc_owner *owner;
	void *arg;		  /* the filesystem's, passed to every op */
	void **root;		  /* the page index: a radix tree of 64-slot nodes */
	int height;		  /* levels of the tree; 0: empty */
	uint64_t size;		  /* bytes */
	uint64_t npages;	  /* pages in the index */
	struct list_node removed; /* pages out of the index, still referenced */
};

/* -EINVAL when the owner is not registered or its ops contradict its
 * flags (no fill; writeback NULL on an evictable owner). */
int pc_object_init(struct pc_object *obj, struct pc_owner *ow, void *arg, uint64_t size);
/* Drop every page (unlending lent ones); dirty pages of an owner with
 * writeback are written first, errors ignored (the file is going away).
 * No mapping may remain. */
void pc_object_destroy(struct pc_object *obj);

uint64_t pc_size(struct pc_object *obj);
/* Pages in the object's index (ramfs reports st_blocks from it). */
uint64_t pc_npages(struct pc_object *obj);
/*
 * The file is now size bytes. Shrinking unmaps every mapping of the pages
 * wholly past the end (a later access there is an error, EFAULT), drops
 * them without writing them back, and zeroes the tail of the page that
 * holds the new end (so growing again reads zeros). Call it with the
 * vnode's v_lock held exclusively, not holding obj->lock. 0 or -errno.
 */
int pc_truncate(struct pc_object *obj, uint64_t size);

/*
 * The file changed behind the cache (a host changed a shared file): unmap
 * and drop every page (clean ones: dirty pages are dropped unwritten), so
 * the next access fills again; the size only grows (to size), so a mapping
 * past a new, smaller end keeps working (the owner fills zeros there)
 * instead of faulting. Not holding obj->lock. 0 or -errno.
 */
int pc_invalidate(struct pc_object *obj, uint64_t size);

/*
 * Generic read and write through the cache, for a filesystem's vop
 * read/write (called with v_lock as the VFS holds it). pc_read stops at
 * the end of the file; pc_write grows the file and leaves the pages dirty
 * (or, for a store owner, simply written). Both return 0 or the first
 * error (bytes moved before it stay moved, as uio says).
 */
int pc_read(struct pc_object *obj, struct uio *uio);
int pc_write(struct pc_object *obj, struct uio *uio);
/* pc_write with flags. PC_WRITE_CLEAN: the owner already holds these
 * bytes (a write-through filesystem wrote them first): the pages are
 * updated but not marked dirty (a page already dirty stays dirty). Both
 * break a read-only lent page that is mapped (unmapping it everywhere, so
 * the mappings fault in the copy). */
#define PC_WRITE_CLEAN 0x1
int pc_write_flags(struct pc_object *obj, struct uio *uio, unsigned flags);
/*
 * After an -ENOMEM, for a caller that holds no page-cache or owner lock:
 * reclaim (each try twice as much as the last, from 256 KiB) and return
 * true to try again, or false once err is not -ENOMEM or *tries (start it
 * at 0) has used up its bound. pc_read and pc_write use it themselves.
 */
bool pc_nomem_retry(int err, int *tries);
/* Write back every dirty page; the first error, or 0. */
int pc_fsync(struct pc_object *obj);

/*
 * Mapping files (pc_mmap.c). The filesystem's vop mmap calls
 * pc_mmap_hook(vp, obj, req): it checks the request against the object and
 * sets req->result. pc_mmap() is the call on a descriptor: it runs
 * vfs_mmap (which validates and calls vop mmap), then vm_mmap on the
 * kernel's space with the page cache as pager. Errors as POSIX mmap:
 * EBADF, EACCES, EINVAL, ENODEV, ENOMEM. Unmap with vm_munmap, sync with
 * vm_msync (or pc_munmap / pc_msync on the kernel's space).
 */
struct vnode;
struct vfs_mmap_req;
int pc_mmap_hook(struct vnode *vp, struct pc_object *obj, struct vfs_mmap_req *req);
/* Give back what pc_mmap_hook put in req->result when it is not mapped. */
void pc_mmap_cancel(void *result);
int pc_mmap_space(struct vm_space *vs, int fd, size_t len, int prot, int flags, uint64_t offset,
		  void **out);
int pc_mmap(int fd, size_t len, int prot, int flags, uint64_t offset, void **out);
int pc_munmap(void *addr, size_t len);
int pc_msync(void *addr, size_t len);
/* The pager the page cache gives the VM (area->obj is a struct pc_map). */
extern const struct vm_pager_ops pc_pager_ops;

/* Figures of the whole cache, cumulative counters and current totals. */
struct pc_stats {
	uint64_t cached;    /* pages in every index */
	uint64_t mapped;    /* of those, mapped somewhere */
	uint64_t dirty;	    /* dirty now */
	uint64_t writeback; /* being written back now */
	uint64_t lent;	    /* lent by owners now */
	uint64_t pinned;    /* never evictable now */
	uint64_t fills, lends, writebacks, evicted, refaults;
	uint64_t hits, misses; /* lookups that found / did not find a page */
	uint64_t fill_errors;
	uint64_t lends_broken; /* read-only lent pages replaced by a copy to be written */
	uint64_t read_spans, read_span_bytes; /* read() copied from an owner's span */
	/* the access scanner */
	uint64_t scan_passes, scan_scanned, scan_cleared, scan_accessed;
	uint64_t scan_flushes;
	uint64_t scan_cpu_ppm_now, scan_cpu_ppm_avg; /* parts per million of one CPU */
	bool scan_running;
};
void pc_stats_get(struct pc_stats *st);
/* /proc/pagecache: one "name value" line per figure. Returns the length
 * of the whole text, like snprintf. */
int pc_stats_format(char *buf, size_t size);

/*
 * Memory pressure (pc_evict.c). pc_evict(bytes) frees cached pages:
 * first clean unmapped pages that the scanner did not see accessed, then
 * dirty ones (written back first), then mapped ones (unmapped first);
 * accessed pages get a second chance. Pinned pages never go. Returns the
 * bytes freed. pc_register_reclaim() joins the kernel's reclaimer registry.
 */
size_t pc_evict(size_t bytes);
/* The first round only: clean, unmapped, unreferenced pages, dropped
 * without calling the owner (but unlend). For an owner short of memory
 * while it holds its own locks, which writeback would take again. */
size_t pc_evict_clean(size_t bytes);
void pc_register_reclaim(void);

/*
 * The access scanner (pc_scan.c). pc_scan_pass(max) harvests the accessed
 * state of up to max mapped pages (all of them when max is 0), resuming
 * where the last call stopped; it is what the scanner thread runs inside
 * its CPU budget, and what tests call directly. Returns pages scanned.
 */
size_t pc_scan_pass(size_t max);
/* Start / stop the thread (pc_owner_register starts it on the first
 * evictable owner). The budget is a share of one CPU in parts per
 * million: min and max (defaults 1000 and 200000: 0.1% and 20%). */
int pc_scanner_start(void);
void pc_scanner_stop(void);
bool pc_scanner_running(void);

#endif
