/*
 * The DAX window manager: chunk table, lookups, eviction policies; see
 * dax.h for the design and the contracts.
 *
 * How it works. chunks[] describes the window's chunks; a hash over
 * (nodeid, chunk index in the file) chains the chunks holding data
 * (hnext), free chunks are chained from free_head through the same field.
 * A read takes the shared lock and walks its chunks: each hit warms the
 * chunk (an atomic add, saturating at DAX_HEAT_MAX) and is copied out
 * under the shared lock, so no evictor can change it meanwhile. The first
 * miss drops the shared lock and takes the exclusive one, looks again (a
 * racing reader may have mapped it), takes a free chunk or a victim, has
 * the back end fill it and serves from it. Pinned chunks (a mapping into
 * an address space holds them) are never victims.
 */
#include "dax.h"

#include <errno.h>
#include <karst/kmem.h>
#include <string.h>

static uint32_t dax_hash(const struct dax_mgr *m, uint64_t nodeid, uint64_t fidx)
{
	uint64_t h =
	    nodeid * 0x9e3779b97f4a7c15ULL ^ (fidx + 0x632be59bd9b4e019ULL) * 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 31;
	return (uint32_t)(h % m->nhash);
}

const char *dax_policy_name(enum dax_policy p)
{
	switch (p) {
	case DAX_POLICY_KARST:
		return "karst";
	case DAX_POLICY_LIFO:
		return "osv-lifo";
	case DAX_POLICY_FIFO:
		return "linux-fifo";
	}
	return "?";
}

int dax_init(struct dax_mgr *m, void *window, uint64_t window_len, uint64_t chunk_size,
	     uint32_t map_alignment, enum dax_policy policy, const struct dax_backend_ops *ops,
	     void *be)
{
	memset(m, 0, sizeof(*m));
	if (!chunk_size || (chunk_size & (chunk_size - 1)) || map_alignment > 30 ||
	    chunk_size % (1ULL << map_alignment) || window_len < chunk_size ||
	    window_len / chunk_size >= DAX_NO_CHUNK || policy > DAX_POLICY_FIFO || !ops)
		return -EINVAL;
	m->ops = ops;
	m->be = be;
	m->window = window;
	m->chunk_size = chunk_size;
	m->nchunks = (uint32_t)(window_len / chunk_size);
	m->policy = policy;
	m->nhash = m->nchunks * 2 + 1;
	m->chunks = kzalloc(sizeof(*m->chunks) * m->nchunks);
	m->hash = kmalloc(sizeof(*m->hash) * m->nhash);
	if (!m->chunks || !m->hash) {
		kfree(m->chunks);
		kfree(m->hash);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < m->nhash; i++)
		m->hash[i] = DAX_NO_CHUNK;
	/* Free chunks chained in window order. */
	for (uint32_t i = 0; i < m->nchunks; i++)
		m->chunks[i].hnext = i + 1 < m->nchunks ? i + 1 : DAX_NO_CHUNK;
	m->free = 0;
	m->nfree = m->nchunks;
	rwlock_init(&m->lock, "dax_window");
	return 0;
}

/* The chunk holding (nodeid, fidx), or DAX_NO_CHUNK. Either lock. */
static uint32_t lookup(const struct dax_mgr *m, uint64_t nodeid, uint64_t fidx)
{
	for (uint32_t c = m->hash[dax_hash(m, nodeid, fidx)]; c != DAX_NO_CHUNK;
	     c = m->chunks[c].hnext)
		if (m->chunks[c].nodeid == nodeid && m->chunks[c].fidx == fidx)
			return c;
	return DAX_NO_CHUNK;
}

static void unhash(struct dax_mgr *m, uint32_t c)
{
	struct dax_chunk *ch = &m->chunks[c];
	uint32_t *p = &m->hash[dax_hash(m, ch->nodeid, ch->fidx)];
	while (*p != c)
		p = &m->chunks[*p].hnext;
	*p = ch->hnext;
}

/* Give chunk c back to the free list, unmapping it. Exclusive lock. */
static void release_chunk(struct dax_mgr *m, uint32_t c)
{
	struct dax_chunk *ch = &m->chunks[c];
	if (ch->fill) { /* the device still writes into it: wait */
		uint64_t valid;
		m->ops->map_wait(m->be, ch->fill, &valid);
		ch->fill = NULL;
		atomic_fetch_sub(&m->filling, 1);
	}
	if (atomic_load(&ch->stale))
		atomic_store(&ch->stale, false); /* already out of the hash */
	else
		unhash(m, c);
	if (m->ops->unmap) {
		m->ops->unmap(m->be, (uint64_t)c * m->chunk_size, m->chunk_size);
		atomic_fetch_add(&m->st.unmaps, 1);
	}
	ch->nodeid = 0;
	ch->hnext = m->free;
	m->free = c;
	m->nfree++;
}

static void warm(struct dax_chunk *ch)
{
	if (!atomic_load_explicit(&ch->ref, memory_order_relaxed))
		atomic_store_explicit(&ch->ref, true, memory_order_relaxed);
	uint8_t h = atomic_load_explicit(&ch->heat, memory_order_relaxed);
	while (h < DAX_HEAT_MAX &&
	       !atomic_compare_exchange_weak_explicit(&ch->heat, &h, h + 1, memory_order_relaxed,
						      memory_order_relaxed))
		;
}

/* Pinned, or filling: not a victim. Exclusive lock. */
static bool busy(struct dax_chunk *ch)
{
	return atomic_load(&ch->pins) || ch->fill;
}

/* The chunk to evict by the policy, or DAX_NO_CHUNK when all are pinned.
 * Exclusive lock; only called with no free chunk. */
static uint32_t pick_victim(struct dax_mgr *m)
{
	if (m->policy == DAX_POLICY_KARST) {
		/* Age one chunk per eviction: the hand halves its heat, and a
		 * chunk that cooled to 0 is on probation again. */
		for (uint32_t step = 0; step < m->nchunks; step++) {
			struct dax_chunk *ch = &m->chunks[m->hand];
			m->hand = (m->hand + 1) % m->nchunks;
			if (!ch->nodeid)
				continue;
			uint8_t h = atomic_load(&ch->heat);
			atomic_store(&ch->heat, (uint8_t)(h / 2));
			if (h / 2 == 0)
				atomic_store(&ch->ref, false);
			break;
		}
		/* Chunks on probation (not read again since they were mapped,
		 * or cooled down) go first, the oldest first: a one-time scan
		 * never displaces what is read again. */
		uint32_t best = DAX_NO_CHUNK;
		for (uint32_t c = 0; c < m->nchunks; c++) {
			struct dax_chunk *ch = &m->chunks[c];
			if (!ch->nodeid || busy(ch) || atomic_load(&ch->ref))
				continue;
			if (best == DAX_NO_CHUNK || ch->seq < m->chunks[best].seq)
				best = c;
		}
		if (best != DAX_NO_CHUNK)
			return best;
		/* Everything is warm: the clock, halving as it goes (heat
		 * DAX_HEAT_MAX is gone after three passes). */
		for (uint64_t step = 0; step < (uint64_t)m->nchunks * 5; step++) {
			uint32_t c = m->hand;
			m->hand = (m->hand + 1) % m->nchunks;
			struct dax_chunk *ch = &m->chunks[c];
			if (!ch->nodeid || busy(ch))
				continue;
			uint8_t h = atomic_load(&ch->heat);
			if (h == 0)
				return c;
			atomic_store(&ch->heat, (uint8_t)(h / 2));
		}
		return DAX_NO_CHUNK;
	}
	uint32_t best = DAX_NO_CHUNK;
	for (uint32_t c = 0; c < m->nchunks; c++) {
		struct dax_chunk *ch = &m->chunks[c];
		if (!ch->nodeid || busy(ch))
			continue;
		if (best == DAX_NO_CHUNK ||
		    (m->policy == DAX_POLICY_LIFO ? ch->seq > m->chunks[best].seq
						  : ch->seq < m->chunks[best].seq))
			best = c;
	}
	return best;
}

/* A chunk off the free list (evicting the policy's victim when none is
 * free), unhashed and with nodeid 0, so no victim search picks it while
 * the back end fills it; DAX_NO_CHUNK when every chunk is pinned.
 * Exclusive lock. */
static uint32_t take_chunk(struct dax_mgr *m)
{
	if (m->nfree == 0) {
		uint32_t v = pick_victim(m);
		if (v == DAX_NO_CHUNK)
			return DAX_NO_CHUNK;
		release_chunk(m, v);
		atomic_fetch_add(&m->st.evictions, 1);
	}
	uint32_t c = m->free;
	m->free = m->chunks[c].hnext;
	m->nfree--;
	return c;
}

/* Give a taken chunk back unused (its fill failed or found nothing). */
static void untake_chunk(struct dax_mgr *m, uint32_t c, bool filled)
{
	if (filled && m->ops->unmap)
		m->ops->unmap(m->be, (uint64_t)c * m->chunk_size, m->chunk_size);
	m->chunks[c].hnext = m->free;
	m->free = c;
	m->nfree++;
}

/* A taken chunk now holds (nodeid, fidx), valid bytes of it: hash it. */
static void install_chunk(struct dax_mgr *m, uint32_t c, uint64_t nodeid, uint64_t fidx,
			  uint64_t valid)
{
	struct dax_chunk *ch = &m->chunks[c];
	ch->nodeid = nodeid;
	ch->fidx = fidx;
	ch->valid = valid < m->chunk_size ? valid : m->chunk_size;
	ch->seq = ++m->seq;
	atomic_store(&ch->heat, 0);
	atomic_store(&ch->ref, false);
	atomic_store(&ch->pins, 0);
	atomic_store(&ch->hiwater, 0);
	uint32_t *head = &m->hash[dax_hash(m, nodeid, fidx)];
	ch->hnext = *head;
	*head = c;
}

/* Linux's background reclaim: keep DAX_FIFO_RECLAIM_PCT free (sparing
 * chunk keep, just mapped). */
static void fifo_reclaim(struct dax_mgr *m, uint32_t keep)
{
	if (m->policy != DAX_POLICY_FIFO)
		return;
	uint32_t want = (uint32_t)((uint64_t)m->nchunks * DAX_FIFO_RECLAIM_PCT / 100);
	while (m->nfree < want) {
		uint32_t v = pick_victim(m);
		if (v == DAX_NO_CHUNK || v == keep)
			break;
		release_chunk(m, v);
		atomic_fetch_add(&m->st.evictions, 1);
	}
}

/* Map (nodeid, fidx) into a chunk; its index, or DAX_NO_CHUNK with *err
 * (0: the file has nothing there). Exclusive lock. */
static uint32_t map_chunk(struct dax_mgr *m, uint64_t nodeid, uint64_t fh, uint64_t fsize,
			  uint64_t fidx, int *err)
{
	uint32_t c = take_chunk(m);
	if (c == DAX_NO_CHUNK) {
		*err = -EAGAIN;
		return DAX_NO_CHUNK;
	}
	uint64_t valid = 0;
	int e = m->ops->map(m->be, nodeid, fh, fsize, fidx * m->chunk_size,
			    (uint64_t)c * m->chunk_size, m->chunk_size, &valid);
	atomic_fetch_add(&m->st.maps, 1);
	if (e) {
		atomic_fetch_add(&m->st.map_errors, 1);
		untake_chunk(m, c, false);
		*err = e;
		return DAX_NO_CHUNK;
	}
	if (valid == 0) { /* at or past the end of the file: keep nothing */
		untake_chunk(m, c, true);
		*err = 0;
		return DAX_NO_CHUNK;
	}
	install_chunk(m, c, nodeid, fidx, valid);
	fifo_reclaim(m, c);
	return c;
}

/*
 * Read-ahead that overlaps (ops->map_start): a chunk starts filling
 * hashed, with its fill set and valid unknown; the first reader to reach
 * it settles it (waits for the fill under the exclusive lock, as a miss
 * waits for map). A fill that failed or found nothing gives the chunk
 * back. Exclusive lock throughout.
 */
static uint32_t start_fill(struct dax_mgr *m, uint64_t nodeid, uint64_t fh, uint64_t fsize,
			   uint64_t fidx)
{
	uint32_t c = take_chunk(m);
	if (c == DAX_NO_CHUNK)
		return DAX_NO_CHUNK;
	void *fill = NULL;
	int e = m->ops->map_start(m->be, nodeid, fh, fsize, fidx * m->chunk_size,
				  (uint64_t)c * m->chunk_size, m->chunk_size, &fill);
	atomic_fetch_add(&m->st.maps, 1);
	if (e) {
		atomic_fetch_add(&m->st.map_errors, 1);
		untake_chunk(m, c, false);
		return DAX_NO_CHUNK;
	}
	install_chunk(m, c, nodeid, fidx, m->chunk_size);
	m->chunks[c].fill = fill;
	atomic_fetch_add(&m->filling, 1);
	return c;
}

/* Wait for chunk c's fill: c, or DAX_NO_CHUNK with *err (0: the file has
 * nothing there now). */
static uint32_t settle(struct dax_mgr *m, uint32_t c, int *err)
{
	struct dax_chunk *ch = &m->chunks[c];
	uint64_t valid = 0;
	int e = m->ops->map_wait(m->be, ch->fill, &valid);
	ch->fill = NULL;
	atomic_fetch_sub(&m->filling, 1);
	if (e || valid == 0) {
		if (e)
			atomic_fetch_add(&m->st.map_errors, 1);
		unhash(m, c);
		ch->nodeid = 0;
		untake_chunk(m, c, !e);
		*err = e;
		return DAX_NO_CHUNK;
	}
	ch->valid = valid < m->chunk_size ? valid : m->chunk_size;
	return c;
}

/* Keep the DAX_READAHEAD chunks after fidx (inside the file) in the
 * window or filling; chunk `keep` (the reader's) is pinned meanwhile so
 * no victim search takes it. */
static void fill_ahead(struct dax_mgr *m, uint64_t nodeid, uint64_t fh, uint64_t fsize,
		       uint64_t fidx, uint32_t keep)
{
	uint64_t end = (fsize + m->chunk_size - 1) / m->chunk_size;
	if (keep != DAX_NO_CHUNK)
		atomic_fetch_add(&m->chunks[keep].pins, 1);
	for (uint64_t n = 1; n <= DAX_READAHEAD && fidx + n < end && n < m->nchunks / 2; n++) {
		if (lookup(m, nodeid, fidx + n) != DAX_NO_CHUNK)
			continue;
		if (start_fill(m, nodeid, fh, fsize, fidx + n) == DAX_NO_CHUNK)
			break;
		atomic_fetch_add(&m->st.readahead, 1);
	}
	if (keep != DAX_NO_CHUNK)
		atomic_fetch_sub(&m->chunks[keep].pins, 1);
}

/* A read's miss, or its first look at a chunk still filling, under the
 * exclusive lock: the chunk (looked up again), or DAX_NO_CHUNK with *err.
 * *hit says the data was asked for ahead of this read. */
static uint32_t read_miss(struct dax_mgr *m, uint64_t nodeid, uint64_t fh, uint64_t fsize,
			  uint64_t fidx, bool *hit, int *err)
{
	bool async = m->ops->map_start && m->ops->map_wait && fsize != DAX_SIZE_UNKNOWN;
	bool sequential = fidx == 0 || lookup(m, nodeid, fidx - 1) != DAX_NO_CHUNK;
	uint32_t c = lookup(m, nodeid, fidx);
	*hit = c != DAX_NO_CHUNK;
	if (c == DAX_NO_CHUNK) {
		atomic_fetch_add(&m->st.misses, 1);
		if (!async || !sequential)
			return map_chunk(m, nodeid, fh, fsize, fidx, err);
		/* Its requests first, the read-ahead's behind them. */
		if ((c = start_fill(m, nodeid, fh, fsize, fidx)) == DAX_NO_CHUNK) {
			*err = -EAGAIN;
			return DAX_NO_CHUNK;
		}
	}
	if (m->chunks[c].fill) {
		if (async && sequential)
			fill_ahead(m, nodeid, fh, fsize, fidx, DAX_NO_CHUNK);
		if ((c = settle(m, c, err)) == DAX_NO_CHUNK)
			return DAX_NO_CHUNK;
		fifo_reclaim(m, c);
	}
	if (async && sequential)
		fill_ahead(m, nodeid, fh, fsize, fidx, c);
	return c;
}

/*
 * Copy out of the window. A chunk is aligned to its size and a reader's
 * buffer is often aligned as much (a 1 MiB kmalloc), so source and
 * destination pages sit at the same offset modulo a large power of two:
 * under QEMU's TCG their translations share one slot of the soft TLB
 * (64 entries at least: 256 KiB of pages, DAX_ALIAS_SPAN), and a plain
 * copy, alternating loads and stores, misses it on every access (x86_64
 * TCG: 96 MB/s for a 1 MiB memcpy between such buffers against 2800 MB/s
 * for 4 KiB ones). A back end that rotates its chunks (m->skew, the
 * guest window) keeps such pairs apart, and the copy is one memcpy; a
 * pair that still meets (within a page of a multiple of the span) is
 * copied through a small buffer on the stack, each side's page looked up
 * once per DAX_STAGE bytes. On real hardware either stays in the caches.
 */
#define DAX_STAGE      2048
#define DAX_ALIAS_SPAN (256u << 10)
#define DAX_ALIAS_PAGE 4096u

static void copy_staged(uint8_t *dst, const uint8_t *src, size_t n)
{
	uint64_t stage[DAX_STAGE / sizeof(uint64_t)];
	for (; n >= DAX_STAGE; n -= DAX_STAGE, src += DAX_STAGE, dst += DAX_STAGE) {
		memcpy(stage, src, DAX_STAGE);
		memcpy(dst, stage, DAX_STAGE);
	}
	if (n) {
		memcpy(stage, src, n);
		memcpy(dst, stage, n);
	}
}

static void copy_out(const struct dax_mgr *m, uint8_t *dst, const uint8_t *src, size_t n)
{
	uintptr_t d = ((uintptr_t)src - (uintptr_t)dst) & (DAX_ALIAS_SPAN - 1);
	if (m->ops->copy)
		m->ops->copy(dst, src, n);
	else if (d < DAX_ALIAS_PAGE || d > DAX_ALIAS_SPAN - DAX_ALIAS_PAGE)
		copy_staged(dst, src, n);
	else
		memcpy(dst, src, n);
}

/* Copy from chunk c at byte off (within the chunk); returns bytes. */
static size_t serve(struct dax_mgr *m, uint32_t c, uint64_t coff, uint8_t *buf, size_t len)
{
	struct dax_chunk *ch = &m->chunks[c];
	if (coff >= ch->valid)
		return 0;
	size_t n = len < ch->valid - coff ? len : (size_t)(ch->valid - coff);
	uint8_t *src = dax_chunk_ptr(m, c);
	if (buf && src) {
		/* A rotated chunk wraps at the end of its memory. */
		uint64_t at = dax_rot(m, coff);
		size_t first = n < m->chunk_size - at ? n : (size_t)(m->chunk_size - at);
		copy_out(m, buf, src + at, first);
		if (first < n)
			copy_out(m, buf + first, src, n - first);
	}
	return n;
}

long dax_read(struct dax_mgr *m, uint64_t nodeid, uint64_t fh, uint64_t off, void *buf, size_t len)
{
	return dax_read_sized(m, nodeid, fh, DAX_SIZE_UNKNOWN, off, buf, len);
}

long dax_read_sized(struct dax_mgr *m, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t off,
		    void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t done = 0;
	int err = 0;
	bool exclusive = false;
	if (nodeid == 0)
		return -EINVAL;
	rwlock_rlock(&m->lock);
	while (done < len) {
		uint64_t pos = off + done, fidx = pos / m->chunk_size, coff = pos % m->chunk_size;
		if (fsize != DAX_SIZE_UNKNOWN && pos >= fsize)
			break; /* at the end as the caller knows it: no fill past it */
		size_t want = len - done;
		if (want > m->chunk_size - coff)
			want = (size_t)(m->chunk_size - coff);
		uint32_t c = lookup(m, nodeid, fidx);
		bool hit = c != DAX_NO_CHUNK && !m->chunks[c].fill;
		if (hit) {
			/* Reading on where the last read of the chunk ended is
			 * one pass through it; reading what was read before is
			 * reuse, and warms it. */
			struct dax_chunk *ch = &m->chunks[c];
			uint64_t hw = atomic_load_explicit(&ch->hiwater, memory_order_relaxed);
			if (coff < hw)
				warm(ch);
			while (coff + want > hw && !atomic_compare_exchange_weak_explicit(
						       &ch->hiwater, &hw, coff + want,
						       memory_order_relaxed, memory_order_relaxed))
				;
			atomic_fetch_add(&m->st.hits, 1);
		} else {
			if (!exclusive) { /* no upgrade: drop, take, look again */
				rwlock_runlock(&m->lock);
				rwlock_wlock(&m->lock);
				exclusive = true;
				continue;
			}
			c = read_miss(m, nodeid, fh, fsize, fidx, &hit, &err);
			if (c == DAX_NO_CHUNK)
				break;
			if (hit) /* asked for ahead: a hit, its first read */
				atomic_fetch_add(&m->st.hits, 1);
			atomic_store(&m->chunks[c].hiwater, coff + want);
		}
		size_t n = serve(m, c, coff, out ? out + done : NULL, want);
		atomic_fetch_add(hit ? &m->st.bytes_hit : &m->st.bytes_missed, n);
		done += n;
		if (n < want)
			break; /* the file ends in this chunk */
	}
	if (exclusive)
		rwlock_wunlock(&m->lock);
	else
		rwlock_runlock(&m->lock);
	if (done == 0 && err) {
		if (err == -EAGAIN)
			atomic_fetch_add(&m->st.fallbacks, 1);
		return err;
	}
	return (long)done;
}

void dax_quiesce(struct dax_mgr *m, uint64_t nodeid)
{
	/* Most closes find nothing filling: no exclusive lock for them
	 * (fills of nodeid start only under a read of it, which the
	 * caller's release follows, so none can start after this load). */
	if (!m->ops->map_wait || atomic_load(&m->filling) == 0)
		return;
	rwlock_wlock(&m->lock);
	for (uint32_t c = 0; c < m->nchunks; c++) {
		int err;
		if (m->chunks[c].nodeid == nodeid && m->chunks[c].fill)
			settle(m, c, &err);
	}
	rwlock_wunlock(&m->lock);
}

void dax_invalidate(struct dax_mgr *m, uint64_t nodeid)
{
	rwlock_wlock(&m->lock);
	for (uint32_t c = 0; c < m->nchunks; c++) {
		struct dax_chunk *ch = &m->chunks[c];
		if (ch->nodeid != nodeid || atomic_load(&ch->stale))
			continue;
		/* Out of the hash first: later lookups miss. Stale before the
		 * pins are read, and dax_unpin drops its pin before it reads
		 * stale: one of the two sees the other and frees the chunk. */
		unhash(m, c);
		atomic_store(&ch->stale, true);
		if (!atomic_load(&ch->pins))
			release_chunk(m, c);
	}
	rwlock_wunlock(&m->lock);
}

int dax_pin(struct dax_mgr *m, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t off,
	    uint32_t *chunk, uint8_t **addr, uint64_t *valid)
{
	uint64_t fidx = off / m->chunk_size, coff = off % m->chunk_size;
	int err = 0;
	if (nodeid == 0)
		return -EINVAL;
	if (fsize != DAX_SIZE_UNKNOWN && off >= fsize)
		return -ENXIO;
	rwlock_rlock(&m->lock);
	uint32_t c = lookup(m, nodeid, fidx);
	if (c != DAX_NO_CHUNK && !m->chunks[c].fill) {
		atomic_fetch_add(&m->chunks[c].pins, 1);
		warm(&m->chunks[c]);
		atomic_fetch_add(&m->st.hits, 1);
		rwlock_runlock(&m->lock);
	} else {
		rwlock_runlock(&m->lock);
		rwlock_wlock(&m->lock);
		c = lookup(m, nodeid, fidx);
		if (c != DAX_NO_CHUNK && m->chunks[c].fill)
			c = settle(m, c, &err); /* read ahead: not there yet */
		else if (c == DAX_NO_CHUNK)
			atomic_fetch_add(&m->st.misses, 1);
		if (c == DAX_NO_CHUNK && !err)
			c = map_chunk(m, nodeid, fh, fsize, fidx, &err);
		if (c != DAX_NO_CHUNK)
			atomic_fetch_add(&m->chunks[c].pins, 1);
		rwlock_wunlock(&m->lock);
		if (c == DAX_NO_CHUNK) {
			if (err == -EAGAIN)
				atomic_fetch_add(&m->st.fallbacks, 1);
			return err ? err : -ENXIO;
		}
	}
	struct dax_chunk *ch = &m->chunks[c];
	if (coff >= ch->valid) { /* the file ends before off */
		dax_unpin(m, c);
		return -ENXIO;
	}
	uint64_t at = dax_rot(m, coff);
	*chunk = c;
	*addr = dax_chunk_ptr(m, c) ? dax_chunk_ptr(m, c) + at : NULL;
	*valid = ch->valid - coff < m->chunk_size - at ? ch->valid - coff : m->chunk_size - at;
	return 0;
}

void dax_unpin(struct dax_mgr *m, uint32_t c)
{
	if (c >= m->nchunks)
		return;
	struct dax_chunk *ch = &m->chunks[c];
	if (atomic_fetch_sub(&ch->pins, 1) != 1 || !atomic_load(&ch->stale))
		return;
	/* The last pin of a stale chunk frees it: under the exclusive lock,
	 * looking again (no new pin can come: a stale chunk is not hashed). */
	rwlock_wlock(&m->lock);
	if (atomic_load(&ch->stale) && atomic_load(&ch->pins) == 0)
		release_chunk(m, c);
	rwlock_wunlock(&m->lock);
}

uint32_t dax_pinned(struct dax_mgr *m)
{
	uint32_t n = 0;
	for (uint32_t c = 0; c < m->nchunks; c++)
		n += atomic_load(&m->chunks[c].pins) != 0;
	return n;
}

void dax_touch(struct dax_mgr *m, uint32_t c)
{
	if (c < m->nchunks)
		warm(&m->chunks[c]);
}

uint32_t dax_in_use(struct dax_mgr *m)
{
	rwlock_rlock(&m->lock);
	uint32_t n = m->nchunks - m->nfree;
	rwlock_runlock(&m->lock);
	return n;
}

uint32_t dax_shrink(struct dax_mgr *m, uint32_t want, bool evict)
{
	uint32_t got = 0;
	if (!m->ops->drop || want == 0)
		return 0;
	rwlock_wlock(&m->lock);
	/* Free chunks first: nothing is lost. */
	for (uint32_t c = m->free; c != DAX_NO_CHUNK && got < want; c = m->chunks[c].hnext)
		got += m->ops->drop(m->be, c);
	/* Then what the policy would evict next; pick_victim never picks a
	 * pinned chunk. A victim released goes to the head of the free
	 * list, where the loop drops it. */
	while (evict && got < want && m->nfree < m->nchunks) {
		uint32_t v = pick_victim(m);
		if (v == DAX_NO_CHUNK)
			break;
		release_chunk(m, v);
		atomic_fetch_add(&m->st.evictions, 1);
		got += m->ops->drop(m->be, v);
	}
	rwlock_wunlock(&m->lock);
	atomic_fetch_add(&m->st.shrunk, got);
	return got;
}

void dax_destroy(struct dax_mgr *m)
{
	rwlock_wlock(&m->lock);
	for (uint32_t c = 0; c < m->nchunks; c++)
		if (m->chunks[c].nodeid)
			release_chunk(m, c);
	rwlock_wunlock(&m->lock);
	rwlock_destroy(&m->lock);
	kfree(m->chunks);
	kfree(m->hash);
	m->chunks = NULL;
	m->hash = NULL;
}
