/*
 * read() and write() through the cache, for filesystems that opt in.
 *
 * Each page is found (or made) under obj->lock and referenced (read()
 * takes a run of pages per lock round); the copy runs with the lock
 * dropped, because the caller's buffer may itself be a mapping of this
 * file, whose fault takes the space's lock and then this object's. The
 * VFS's v_lock (shared for read, exclusive for write) keeps truncate away
 * meanwhile; the reference keeps eviction away.
 *
 * A write marks its page dirty after the copy, so a writeback that runs
 * during the copy (msync from a mapping, eviction is kept away by the
 * reference) cannot clean the page under a half-done write. A partial
 * write of a page that is not cached reads it first (fill), except past
 * the old end of the file, where there is nothing to read.
 *
 * Memory. A page that cannot be made for lack of memory (-ENOMEM from the
 * allocation or from the owner's fill) is retried after a direct reclaim,
 * with obj->lock dropped: eviction only tries object locks, so with the
 * lock held the cache could not give back this object's pages, often the
 * only ones there are (one big file read from start to end). Bounded:
 * after PC_NOMEM_TRIES reclaims (each asking twice as much as the last)
 * that did not help, the error is returned. A read that added a page
 * while memory is short (reclaim_pressure()) reclaims too, before its
 * next page: the reader pays for its pages, and the reclaim thread, which
 * cannot take the object lock the reader holds through each fill, is not
 * left spinning on them.
 */
#include "pc_impl.h"

#include <errno.h>
#include <karst/reclaim.h>
#include <vfs.h>

#define MIN(a, b) ((a) < (b) ? (a) : (b))

#define PC_NOMEM_TRIES	 12
#define PC_NOMEM_RECLAIM ((size_t)64 * PAGE_SIZE)

/* After -ENOMEM, with no page-cache lock held: reclaim and say whether to
 * try again (*tries counts the attempts of this page). Each try asks for
 * twice as much as the last: the owner's fill may want a run of pages
 * (the ARC's 128 KiB buffers), and the pages eviction frees lie scattered,
 * so free pages alone do not make a run; freeing more lets the buddy
 * allocator merge them. */
bool pc_nomem_retry(int err, int *tries)
{
	if (err != -ENOMEM || *tries >= PC_NOMEM_TRIES)
		return false;
	reclaim_direct(PC_NOMEM_RECLAIM << (*tries)++);
	return true;
}

/*
 * read() takes its pages in runs of up to PC_READ_RUN: one obj->lock
 * round finds (or makes) the pages of a run and references them, the
 * copies follow with the lock dropped, and one more round puts them back.
 * A page-at-a-time loop paid two lock rounds per 4 KiB; a run of a 128 KiB
 * record pays two in all.
 *
 * An owner with read_hold (cowfs) is asked for the bytes of a page the
 * index lacks before one is made: a span of its own (an ARC buffer, up to
 * a record) stands in the run for every page it covers up to the first
 * one the index has, is copied from like a page and released in the
 * put-back round. No page is made, so a file read once costs the cache
 * nothing (and a cold read under TCG ~2.5 us a page less).
 */
#define PC_READ_RUN 32

/* One piece of a run: a page (referenced), a hole (neither) or a span. */
struct pc_piece {
	struct pc_page *pg;
	struct pc_span span; /* span.cookie != NULL: held */
	size_t len;
};

/* Bytes of the owner's span at pos that no page of the index shadows,
 * at most max (> 0). obj->lock held. */
static size_t span_clip(struct pc_object *obj, uint64_t pos, size_t len, size_t max)
{
	len = MIN(len, max);
	uint64_t first = (pos >> PAGE_SHIFT) + 1, last = (pos + len - 1) >> PAGE_SHIFT;
	for (uint64_t i = first; i <= last; i++) {
		void *e = pc_index_get(obj, i);
		if (e && !pc_is_shadow(e))
			return (size_t)((i << PAGE_SHIFT) - pos);
	}
	return len;
}

/* The piece at pos (end: where the run stops). obj->lock held. */
static int piece_get(struct pc_object *obj, uint64_t pos, uint64_t end, struct pc_piece *pc)
{
	const struct pc_owner_ops *ops = obj->owner->ops;
	uint64_t index = pos >> PAGE_SHIFT;
	pc->pg = NULL;
	pc->span.cookie = NULL;
	pc->len = MIN(PAGE_SIZE - (pos & PAGE_MASK), end - pos);
	if (ops->read_hold) {
		void *e = pc_index_get(obj, index);
		if (!e || pc_is_shadow(e)) {
			int r = ops->read_hold(obj->arg, pos, &pc->span);
			if (r < 0) {
				pc->span.cookie = NULL;
				PC_OWN_ADD(obj->owner, errors, 1);
				return r;
			}
			if (r == 0) {
				if (!pc->span.cookie || !pc->span.len) {
					/* an owner's bug: nothing to release */
					pc->span.cookie = NULL;
					return -EIO;
				}
				pc->len = span_clip(obj, pos, pc->span.len, end - pos);
				PC_ADD(read_spans, 1);
				PC_ADD(read_span_bytes, pc->len);
				return 0;
			}
			pc->span.cookie = NULL;
		}
	}
	int err = pc_page_lookup(obj, index, false, false, &pc->pg);
	if (!err && pc->pg)
		pc_page_get(pc->pg);
	return err;
}

int pc_read(struct pc_object *obj, struct uio *uio)
{
	struct pc_piece run[PC_READ_RUN];
	int err = 0, tries = 0;
	while (uio->uio_resid > 0 && uio->uio_offset >= 0) {
		uint64_t off = (uint64_t)uio->uio_offset;
		mutex_lock(&obj->lock);
		if (off >= obj->size) {
			mutex_unlock(&obj->lock);
			break;
		}
		/* The run: what is left of the request and of the file. */
		uint64_t end = MIN(obj->size, off + uio->uio_resid);
		uint64_t npages = obj->npages;
		unsigned n = 0;
		for (uint64_t pos = off; pos < end && n < PC_READ_RUN; n++) {
			err = piece_get(obj, pos, end, &run[n]);
			if (err)
				break;
			pos += run[n].len;
		}
		bool grew = obj->npages > npages;
		mutex_unlock(&obj->lock);
		if (n)
			tries = 0;
		if (grew && reclaim_pressure())
			reclaim_direct(PC_NOMEM_RECLAIM);
		for (unsigned i = 0; i < n; i++) {
			const struct pc_piece *pc = &run[i];
			if (pc->span.cookie) {
				uiomove((void *)(uintptr_t)pc->span.data, pc->len, uio);
			} else {
				size_t poff = (size_t)uio->uio_offset & PAGE_MASK;
				uiomove(pc->pg ? (char *)pc->pg->data + poff : NULL, pc->len, uio);
			}
		}
		if (n) {
			mutex_lock(&obj->lock);
			for (unsigned i = 0; i < n; i++) {
				if (run[i].span.cookie)
					obj->owner->ops->read_release(obj->arg, &run[i].span);
				else if (run[i].pg)
					pc_page_put(run[i].pg);
			}
			mutex_unlock(&obj->lock);
		}
		if (err) {
			/* The pieces before the one that failed are copied;
			 * the failed one is retried after a reclaim, or the
			 * end. */
			if (pc_nomem_retry(err, &tries)) {
				err = 0;
				continue;
			}
			break;
		}
	}
	return err;
}

/* A read-only lent page at index is mapped and about to be written by
 * write(): unmap it everywhere (the mappings fault again and get the copy
 * that pc_page_lookup then makes). obj->lock held; dropped meanwhile. */
static void unmap_lent(struct pc_object *obj, uint64_t index)
{
	void *e = pc_index_get(obj, index);
	if (!e || pc_is_shadow(e))
		return;
	struct pc_page *pg = e;
	pc_page_get(pg);
	mutex_unlock(&obj->lock);
	pc_unmap_all(pg);
	mutex_lock(&obj->lock);
	pc_page_put(pg);
}

int pc_write(struct pc_object *obj, struct uio *uio)
{
	return pc_write_flags(obj, uio, 0);
}

int pc_write_flags(struct pc_object *obj, struct uio *uio, unsigned flags)
{
	int err = 0, tries = 0;
	int busy = 0;
	while (uio->uio_resid > 0) {
		if (uio->uio_offset < 0) {
			err = -EINVAL;
			break;
		}
		uint64_t off = (uint64_t)uio->uio_offset;
		size_t poff = off & PAGE_MASK;
		size_t chunk = MIN(PAGE_SIZE - poff, uio->uio_resid);
		uint64_t index = off >> PAGE_SHIFT;
		mutex_lock(&obj->lock);
		struct pc_page *pg = NULL;
		/* A whole page, or a page wholly past the end: no need to read
		 * what is there (the new page starts zeroed). */
		bool whole =
		    (poff == 0 && chunk == PAGE_SIZE) || (index << PAGE_SHIFT) >= obj->size;
		if (whole && !(obj->owner->flags & PC_OWNER_STORE)) {
			uint64_t saved = obj->size;
			/* make_page fills only below the end: pretend the file
			 * ends here so a whole-page write reads nothing. */
			if (saved > (index << PAGE_SHIFT))
				obj->size = index << PAGE_SHIFT;
			err = pc_page_lookup(obj, index, true, true, &pg);
			obj->size = saved;
		} else {
			err = pc_page_lookup(obj, index, true, true, &pg);
		}
		if (err == -EBUSY && busy++ < 64) {
			/* lent and mapped (or being read): break the lend */
			unmap_lent(obj, index);
			mutex_unlock(&obj->lock);
			continue;
		}
		busy = 0;
		if (err) {
			mutex_unlock(&obj->lock);
			if (pc_nomem_retry(err, &tries)) {
				err = 0;
				continue;
			}
			break;
		}
		tries = 0;
		pc_page_get(pg);
		mutex_unlock(&obj->lock);
		uiomove((char *)pg->data + poff, chunk, uio);
		mutex_lock(&obj->lock);
		if (obj->owner->ops->writeback && !(flags & PC_WRITE_CLEAN))
			pc_page_set(pg, PC_PG_DIRTY);
		if ((uint64_t)uio->uio_offset > obj->size)
			obj->size = (uint64_t)uio->uio_offset;
		pc_page_put(pg);
		mutex_unlock(&obj->lock);
	}
	return err;
}
