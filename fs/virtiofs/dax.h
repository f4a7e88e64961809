/*
 * The DAX window manager of a virtio-fs device (portable, host-tested).
 *
 * A window (the device's shared-memory region, or guest memory standing in
 * for it) is cut into chunks of chunk_size bytes (2 MiB by default, a
 * multiple of the device's map alignment). A chunk holds one chunk-aligned
 * piece of one file. A read looks its chunks up: a hit copies from the
 * window under the shared lock (a hit never takes the exclusive lock; it
 * pins the chunk and warms it with atomics); a miss takes the exclusive
 * lock, picks a chunk by the policy and asks the back end to fill it.
 * What the window cannot serve (no back end, the back end refused, every
 * chunk pinned) is left to the caller, which falls back to FUSE_READ.
 *
 * Back ends, behind one interface:
 *  (a) the device window: map = FUSE_SETUPMAPPING, unmap =
 *      FUSE_REMOVEMAPPING (tested on the host against a model that maps
 *      files with mmap(MAP_FIXED));
 *  (b) a window in guest memory: map = one large aligned FUSE_READ into the
 *      chunk, unmap = nothing (the read cache for devices without a window,
 *      such as QEMU 7.2's vhost-user-fs).
 *
 * Policies (DAX_POLICY_*): KARST keeps a heat per chunk (0..DAX_HEAT_MAX)
 * that rises with every hit that reads again what was read before (not
 * with the next piece of one pass through the chunk) and with the access
 * scanner's reports; a
 * clock hand halves one chunk's heat per eviction. A newly mapped chunk is
 * on probation until it is read again; chunks on probation (or cooled back
 * to 0) are evicted first, oldest first, so a one-time scan never
 * displaces a re-read hot set; when every chunk is warm the clock picks. LIFO is OSv's
 * (the most recently mapped chunk goes first); FIFO is Linux's order (the
 * oldest mapping goes first), with its background reclaim of
 * DAX_FIFO_RECLAIM_PCT of the window when free chunks run low.
 *
 * Read-ahead (ops->map_start, guest memory): a sequential reader keeps the
 * next DAX_READAHEAD chunks of its file filling while it copies out of
 * the one it is in, so the host's work and the guest's copy overlap.
 * Deeper does not pay: with 2 MiB host pages (karst-run --mem-backend
 * hugetlb), where the vCPU's copy out is the longer of the two, 8 chunks
 * read 64 and 256 MiB cold no faster than 4 (2026-12-07, 12 paired boots
 * each: x86_64 1.01x and 1.19x, aarch64 0.96x and 1.07x, within the noise
 * of warm reads measured alongside).
 *
 * Locking: m->lock (rwlock): shared for lookups and copies out of a hit,
 * exclusive to change a chunk's identity. Per-chunk pins and heat are
 * atomics. Every call may sleep (the back ends send FUSE requests).
 */
#ifndef KARST_DAX_H
#define KARST_DAX_H

#include <karst/sync.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DAX_CHUNK_DEFAULT    (2u << 20)
#define DAX_HEAT_MAX	     7
#define DAX_FIFO_RECLAIM_PCT 20
#define DAX_NO_CHUNK	     UINT32_MAX
#define DAX_READAHEAD	     4 /* chunks kept filling ahead of a sequential reader (ops->map_start) */

enum dax_policy { DAX_POLICY_KARST, DAX_POLICY_LIFO, DAX_POLICY_FIFO };

#define DAX_SIZE_UNKNOWN UINT64_MAX

struct dax_backend_ops {
	/* Make window bytes [moff, moff+len) show file `nodeid` (open handle
	 * fh, fsize bytes long as the caller knows it, or DAX_SIZE_UNKNOWN)
	 * from foff; *valid gets how many of them the file has (short at its
	 * end). 0 or a negative errno; -EAGAIN when the back end refuses (the
	 * caller falls back to FUSE_READ). */
	int (*map)(void *be, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t foff,
		   uint64_t moff, uint64_t len, uint64_t *valid);
	/* Optional, both or neither: map cut in two. map_start starts
	 * filling [moff, moff+len) from foff and returns without waiting
	 * (0, or an error and nothing started); *fill is for map_wait, which
	 * waits for it, sets *valid as map does, returns 0 or an error and
	 * frees fill. With them dax_read keeps DAX_READAHEAD chunks filling
	 * ahead of a sequential reader while it copies out what came before,
	 * rather than filling them all when it gets there. */
	int (*map_start)(void *be, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t foff,
			 uint64_t moff, uint64_t len, void **fill);
	int (*map_wait)(void *be, void *fill, uint64_t *valid);
	/* Forget what [moff, moff+len) showed. May be NULL (guest memory). */
	int (*unmap)(void *be, uint64_t moff, uint64_t len);
	/* Copy n bytes out of the window (memory that needs aligned loads,
	 * such as aarch64 Device memory). NULL: memcpy. */
	void (*copy)(void *dst, const void *src, size_t n);
	/* Give the memory behind free chunk c back (a window in guest memory
	 * allocated chunk by chunk); true when it held some. Called by
	 * dax_shrink under the exclusive lock; map must then make it anew.
	 * May be NULL (a device window has nothing to give back). */
	bool (*drop)(void *be, uint32_t c);
};

struct dax_chunk {
	uint64_t nodeid; /* 0: free */
	uint64_t fidx;	 /* chunk index in the file */
	uint64_t valid;	 /* bytes of the file in this chunk */
	uint64_t seq;	 /* when it was mapped (LIFO, FIFO) */
	uint32_t hnext;	 /* hash chain */
	_Atomic uint32_t pins;
	_Atomic uint8_t heat;
	_Atomic bool ref;	  /* read again since mapped (and not cooled since) */
	_Atomic bool stale;	  /* invalidated while pinned: unhashed, freed at the last unpin */
	_Atomic uint64_t hiwater; /* end of the furthest read in the chunk */
	/* map_start's while the chunk fills (hashed, never a victim, valid
	 * not known yet); set and cleared under the exclusive lock, and the
	 * first reader to find it waits for it there (settle). */
	void *fill;
};

struct dax_stats {
	_Atomic uint64_t hits, misses, evictions, fallbacks, maps, unmaps, map_errors;
	_Atomic uint64_t bytes_hit, bytes_missed;
	_Atomic uint64_t pinned_skips; /* victims passed over because pinned */
	_Atomic uint64_t shrunk;       /* chunks given back to memory pressure */
	_Atomic uint64_t readahead;    /* chunks mapped ahead of a sequential read */
	_Atomic uint64_t prepared;     /* free chunks' memory touched while a fill was awaited */
};

struct dax_mgr {
	const struct dax_backend_ops *ops;
	void *be;
	uint8_t *window;
	uint8_t **chunk_addr; /* or each chunk's own address (guest memory) */
	uint64_t chunk_size;
	/* Chunk byte b lives at (b + skew) % chunk_size of the chunk's memory:
	 * rotated, so a copy between a chunk and a buffer aligned alike does
	 * not alias in an emulator's TLB (dax_mgr.c, copy_out). 0 (the
	 * default): not rotated; the back end that sets it fills chunks so. */
	uint64_t skew;
	uint32_t nchunks, nfree;
	_Atomic uint32_t filling; /* chunks with a fill in flight (dax_quiesce's shortcut) */
	enum dax_policy policy;
	struct rwlock lock;
	struct dax_chunk *chunks;
	uint32_t *hash; /* heads, nhash entries */
	uint32_t nhash;
	uint32_t free; /* free chunks, chained through hnext */
	uint32_t hand; /* KARST's clock */
	uint64_t seq;
	struct dax_stats st;
};

/*
 * A manager over `window` (window_len bytes; NULL for a model that only
 * counts, as the simulator's) in chunks of chunk_size (a power of two,
 * multiple of 1 << map_alignment; the remainder of the window is unused).
 * -EINVAL for a chunk size that breaks these rules or a window smaller
 * than one chunk, -ENOMEM.
 */
int dax_init(struct dax_mgr *m, void *window, uint64_t window_len, uint64_t chunk_size,
	     uint32_t map_alignment, enum dax_policy policy, const struct dax_backend_ops *ops,
	     void *be);
/* Where chunk byte coff lives in its chunk's memory (m->skew). */
static inline uint64_t dax_rot(const struct dax_mgr *m, uint64_t coff)
{
	return (coff + m->skew) & (m->chunk_size - 1);
}

/* The address of window chunk c's memory (NULL for a window that only
 * counts); chunk byte coff is at dax_rot(m, coff) from it. */
static inline uint8_t *dax_chunk_ptr(const struct dax_mgr *m, uint32_t c)
{
	if (m->chunk_addr)
		return m->chunk_addr[c];
	return m->window ? m->window + (uint64_t)c * m->chunk_size : NULL;
}

/* Unmaps everything (no reader may be left) and frees the tables. */
void dax_destroy(struct dax_mgr *m);

/*
 * Read up to len bytes of file `nodeid` at off through the window into buf
 * (buf may be NULL for the simulator). Returns the bytes served (0 at or
 * past the file's end as the window knows it), or -EAGAIN when the window
 * cannot serve the first byte (the caller falls back to FUSE_READ), or
 * another negative errno from the back end.
 */
long dax_read(struct dax_mgr *m, uint64_t nodeid, uint64_t fh, uint64_t off, void *buf, size_t len);
/* dax_read for a file of fsize bytes (DAX_SIZE_UNKNOWN: not known). */
long dax_read_sized(struct dax_mgr *m, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t off,
		    void *buf, size_t len);

/*
 * Pin the chunk holding byte off of file nodeid, mapping it on a miss (a
 * cold pin counts as a miss, a warm one as a hit). On success *chunk is
 * the chunk, *addr the window address of byte off and *valid how many
 * bytes of the file the chunk holds from off on at *addr, contiguously
 * (> 0; a rotated chunk's run ends at the end of its memory). A pinned chunk is
 * never evicted; dax_invalidate unhashes it (later reads miss) and it is
 * freed at its last unpin. -EAGAIN when the window cannot (every chunk
 * pinned, the back end refused), -ENXIO at or past the end of the file,
 * another negative errno from the back end.
 */
int dax_pin(struct dax_mgr *m, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t off,
	    uint32_t *chunk, uint8_t **addr, uint64_t *valid);
/* Drop one pin of chunk c (from dax_pin). */
void dax_unpin(struct dax_mgr *m, uint32_t c);
/* Chunks pinned now. */
uint32_t dax_pinned(struct dax_mgr *m);

/* Wait for every fill of nodeid in flight (map_start): before the file
 * handle they read with is released, as the host may give its number to
 * another file. */
void dax_quiesce(struct dax_mgr *m, uint64_t nodeid);

/* Forget every chunk of nodeid (the file changed or its vnode went). */
void dax_invalidate(struct dax_mgr *m, uint64_t nodeid);

/* The access scanner saw the window pages of chunk `c` used (mapped
 * chunks): warm it as a hit would. */
void dax_touch(struct dax_mgr *m, uint32_t c);

/* Chunks holding data now. */
uint32_t dax_in_use(struct dax_mgr *m);

/*
 * Memory pressure: give back the memory of up to `want` chunks (ops->drop),
 * free chunks first, then (with evict) chunks evicted by the policy, never
 * a pinned one. Returns the chunks whose memory went back. Sleeps for the
 * exclusive lock (a miss holds it while the back end fills a chunk).
 */
uint32_t dax_shrink(struct dax_mgr *m, uint32_t want, bool evict);

const char *dax_policy_name(enum dax_policy p);

#endif
