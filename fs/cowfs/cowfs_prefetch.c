/*
 * Sequential prefetch (after OpenZFS's dmu_zfetch): while a file is read
 * from start to end, the device reads of the next records are issued
 * ahead of the reader by worker threads, so the reader's wait for the
 * device overlaps with its own work (checksums, copies, lending pages)
 * instead of adding to it.
 *
 * Streams. Each in-core object remembers the block its reader is expected
 * to want next (o->pf_next). A demand read of that block (cowfs_pc's lend,
 * cowfs_obj_read) is a sequential hit: the window grows (2, 4, then up to
 * p->pf->max records) and, once less than half of it is left queued ahead
 * of the reader, the blocks from the end of what was already queued up to
 * blkid + window are queued (in batches, so that they make runs). Any
 * other block resets the window (random reads prefetch nothing). Pool
 * lock held.
 *
 * Workers. A prefetch is a block pointer, taken under the pool lock from
 * the committed tree, and cowfs_bio_prefetch_run() of it (arc_read()s with
 * ARC_READ_PREFETCH, verified, quiet), run with no cowfs lock held: a
 * demand
 * reader of the same block waits for that one fill in the ARC (an iohit)
 * or finds it cached. COWFS_PF_THREADS threads (started with the first
 * prefetch) keep that many device reads in flight. A worker takes the
 * head of the queue with the blocks queued behind it that follow it on
 * the device (up to COWFS_RUN_MAX) and reads them as one run
 * (cowfs_bio_prefetch_run: one device request when their ARC buffers are
 * adjacent in memory, as they mostly are): under TCG every request costs
 * the CPU a notification exit, an interrupt and four thread switches. The
 * queue is bounded; what does not fit is dropped (the reader reads it on
 * demand).
 *
 * Safety. A prefetch never writes and never reports: its fill reads copy 0
 * and verifies its checksum, and any failure (I/O error, mismatch, a block
 * freed and reused since its pointer was taken) only fails the prefetch:
 * the ARC forgets the failed fill, and the demand read that follows does
 * the real read, with the ditto copy, the repair and the log line that
 * cowfs_bio.c makes. Keys carry the birth txg, so a stale pointer can never
 * be taken for the block that replaced it.
 *
 * Lifetime: cowfs_prefetch_stop() (cowfs_close, before anything is freed)
 * drops what is queued and joins the workers once their reads are done.
 * Lock order: pool lock -> pf->lock; workers take pf->lock and the ARC's,
 * never the pool's.
 */
#include "cowfs_impl.h"

#include <errno.h>
#include <karst/thread.h>

#define COWFS_PF_QUEUE	 64
#define COWFS_PF_THREADS 2

struct cowfs_pf {
	struct mutex lock;
	struct condvar cv;
	struct cowfs_pool *p;
	unsigned max; /* records ahead at most */
	struct cowfs_bp q[COWFS_PF_QUEUE];
	unsigned head, count;
	bool stopping;
	struct thread *thr[COWFS_PF_THREADS];
	unsigned nthr;
	/* counters (pf->lock) */
	uint64_t queued, dropped, reads, runs, ios, failed;
};

int cowfs_prefetch_init(struct cowfs_pool *p, unsigned max)
{
	if (!max)
		return 0;
	struct cowfs_pf *pf = kzalloc(sizeof(*pf));
	if (!pf)
		return -ENOMEM;
	mutex_init(&pf->lock, "cowfs_pf");
	cv_init(&pf->cv);
	pf->p = p;
	pf->max = max < COWFS_PF_QUEUE ? max : COWFS_PF_QUEUE;
	p->pf = pf;
	return 0;
}

void cowfs_prefetch_stop(struct cowfs_pool *p)
{
	struct cowfs_pf *pf = p->pf;
	if (!pf)
		return;
	mutex_lock(&pf->lock);
	pf->stopping = true;
	pf->count = 0;
	cv_broadcast(&pf->cv);
	mutex_unlock(&pf->lock);
	for (unsigned i = 0; i < pf->nthr; i++)
		thread_join(pf->thr[i]);
	p->pf = NULL;
	cv_destroy(&pf->cv);
	mutex_destroy(&pf->lock);
	kfree(pf);
}

static void pf_worker(void *arg)
{
	struct cowfs_pf *pf = arg;
	struct cowfs_pool *p = pf->p;
	mutex_lock(&pf->lock);
	for (;;) {
		while (!pf->count && !pf->stopping)
			cv_wait(&pf->cv, &pf->lock);
		if (pf->stopping)
			break;
		/* A run: the head and what follows it on the device. */
		struct cowfs_bp run[COWFS_RUN_MAX];
		unsigned n = 0;
		do {
			run[n++] = pf->q[pf->head];
			pf->head = (pf->head + 1) % COWFS_PF_QUEUE;
			pf->count--;
		} while (n < COWFS_RUN_MAX && pf->count &&
			 cowfs_bio_run_next(&run[n - 1], &pf->q[pf->head]));
		mutex_unlock(&pf->lock);
		unsigned ios = 0;
		int err = cowfs_bio_prefetch_run(p, run, n, &ios);
		mutex_lock(&pf->lock);
		pf->reads += n;
		pf->runs++;
		pf->ios += ios;
		if (err)
			pf->failed++;
	}
	mutex_unlock(&pf->lock);
	thread_exit();
}

/* Queue one pointer; pf->lock held. false when full (dropped). */
static bool pf_queue(struct cowfs_pf *pf, const struct cowfs_bp *bp)
{
	if (pf->count == COWFS_PF_QUEUE || pf->stopping) {
		pf->dropped++;
		return false;
	}
	pf->q[(pf->head + pf->count) % COWFS_PF_QUEUE] = *bp;
	pf->count++;
	pf->queued++;
	if (pf->nthr < COWFS_PF_THREADS && pf->count > pf->nthr) {
		struct thread *t = thread_create("cowfs_pf", pf_worker, pf, THREAD_PRIO_DEFAULT);
		if (t)
			pf->thr[pf->nthr++] = t;
	}
	cv_signal(&pf->cv);
	return true;
}

void cowfs_prefetch_note(struct cowfs_pool *p, struct cowfs_obj *o, uint64_t blkid)
{
	struct cowfs_pf *pf = p->pf;
	if (!pf || o->dn.type != COWFS_OT_FILE)
		return;
	if (blkid + 1 == o->pf_next)
		return; /* the same block again (page by page) */
	if (blkid != o->pf_next) {
		/* Not where the stream was going: start over from here. */
		o->pf_next = blkid + 1;
		o->pf_ahead = 0;
		o->pf_end = 0;
		return;
	}
	o->pf_next = blkid + 1;
	o->pf_ahead = o->pf_ahead ? MIN(o->pf_ahead * 2, pf->max) : MIN(2u, pf->max);
	/* Refill in batches, once half the window is used up: the workers
	 * then find runs of blocks to read with one request each. */
	if (o->pf_end > blkid + 1 + o->pf_ahead / 2)
		return;
	uint64_t start = MAX(blkid + 1, o->pf_end);
	uint64_t end = MIN(blkid + 1 + o->pf_ahead, o->dn.maxblkid + 1);
	if (start >= end)
		return;
	uint64_t b;
	for (b = start; b < end; b++) {
		struct cowfs_bp bp;
		/* Dirty blocks are in memory already, holes read as zeros. */
		if (cowfs_blk_dirty(p, o, 0, b))
			continue;
		if (cowfs_blk_bp(p, o, 0, b, &bp))
			break;
		if (cowfs_bp_is_hole(&bp) || bp.level != 0 || bp.lsize != o->dn.blksz)
			continue;
		mutex_lock(&pf->lock);
		bool queued = pf_queue(pf, &bp);
		mutex_unlock(&pf->lock);
		if (!queued)
			break;
	}
	o->pf_end = b;
}

void cowfs_prefetch_stats(struct cowfs_pool *p, struct cowfs_pool_info *pi)
{
	struct cowfs_pf *pf = p->pf;
	if (!pf)
		return;
	mutex_lock(&pf->lock);
	pi->prefetch_queued = pf->queued;
	pi->prefetch_dropped = pf->dropped;
	pi->prefetch_reads = pf->reads;
	pi->prefetch_runs = pf->runs;
	pi->prefetch_ios = pf->ios;
	pi->prefetch_failed = pf->failed;
	mutex_unlock(&pf->lock);
}
