/*
 * The I/O path: g_io_request, g_io_deliver and the g_down and g_up threads.
 *
 * g_io_request() counts the bio against its consumer and provider and
 * queues it on the down queue; the g_down thread checks it (orphaned
 * provider, access, alignment, range) and calls the provider's geom's
 * start(). g_io_deliver() queues a completed bio on the up queue; the g_up
 * thread calls its done() and only then counts it completed, so the washer
 * (g_event.c) never frees a consumer or geom whose done() is still running.
 * Each queue is a list under a spinlock plus a semaphore counting its
 * entries, so both entry points work from any context, interrupts
 * included.
 *
 * Contract: start() and done() never sleep. The threads mark themselves
 * no-sleep while they run them (and only lift the mark to wait for work),
 * so a debug build panics on the first sleeping call.
 */
#include "g_internal.h"
#include <errno.h>
#include <karst/sync.h>
#include <karst/thread.h>
#include <karst/time.h>

struct g_bioq {
	struct spinlock lock;
	struct list_node head;
	struct semaphore sema; /* one count per queued bio, plus one to stop */
	bool stop;
	struct thread *td;
};

static struct g_bioq g_down_q, g_up_q;
static _Atomic uint64_t st_down, st_up, st_errors;

static void g_bioq_put(struct g_bioq *q, struct bio *bp)
{
	spin_lock(&q->lock);
	list_add_tail(&q->head, &bp->queue);
	spin_unlock(&q->lock);
	sema_up(&q->sema);
}

/* Blocks (the only sleep an I/O thread does); NULL when told to stop. */
static struct bio *g_bioq_take(struct g_bioq *q)
{
	for (;;) {
		sema_down(&q->sema);
		spin_lock(&q->lock);
		struct bio *bp = list_first(&q->head, struct bio, queue);
		bool stop = q->stop;
		if (bp)
			list_del(&bp->queue);
		spin_unlock(&q->lock);
		if (bp)
			return bp;
		if (stop)
			return NULL;
	}
}

/*
 * What FreeBSD's g_io_check does, with negative errnos: an orphaned provider
 * fails with its error (ENXIO); a read needs read access, a write, delete
 * or flush write access (EPERM); offset and length must be multiples of the
 * sector size (EINVAL); a request starting past the end fails with EIO; one
 * that starts inside but runs past the end is truncated at the end; one
 * that is empty (after truncation) completes at once. Returns 1 for
 * "complete now with success".
 */
static int g_io_check(struct bio *bp)
{
	struct g_consumer *cp = bp->from;
	struct g_provider *pp = bp->to;
	int err = atomic_load(&pp->error);
	if (err)
		return err;
	switch (bp->cmd) {
	case BIO_READ:
		if (atomic_load(&cp->acr) <= 0)
			return -EPERM;
		break;
	case BIO_WRITE:
	case BIO_DELETE:
	case BIO_FLUSH:
		if (atomic_load(&cp->acw) <= 0)
			return -EPERM;
		break;
	default:
		return -EOPNOTSUPP;
	}
	if (bp->cmd == BIO_FLUSH)
		return 0;
	if (bp->cmd != BIO_DELETE && bp->data == NULL)
		return -EINVAL;
	if (bp->offset % pp->sectorsize || bp->length % pp->sectorsize)
		return -EINVAL;
	if (bp->offset > pp->mediasize)
		return -EIO;
	if (bp->length > pp->mediasize - bp->offset)
		bp->length = pp->mediasize - bp->offset;
	if (bp->length == 0)
		return 1;
	return 0;
}

void g_io_request(struct bio *bp, struct g_consumer *cp)
{
	struct g_provider *pp = cp->provider;
	VERIFY_MSG(pp != NULL, "g_io_request on a detached consumer of %s", cp->geom->name);
	KASSERT(bp->done != NULL || (bp->flags & BIO_F_SYNC));
	bp->from = cp;
	bp->to = pp;
	atomic_store(&bp->error, 0);
	bp->completed = 0;
	bp->t_start = time_ns();
	atomic_fetch_add(&pp->nstart, 1);
	atomic_fetch_add(&cp->nstart, 1);
	atomic_fetch_add_explicit(&st_down, 1, memory_order_relaxed);
	g_bioq_put(&g_down_q, bp);
}

void g_io_deliver(struct bio *bp, int error)
{
	KASSERT(error <= 0);
	atomic_store(&bp->error, error);
	if (error)
		atomic_fetch_add_explicit(&st_errors, 1, memory_order_relaxed);
	g_bioq_put(&g_up_q, bp);
}

static void g_down_main(void *arg)
{
	struct bio *bp;
	while ((bp = g_bioq_take(&g_down_q)) != NULL) {
		thread_set_nosleep(true);
		int r = g_io_check(bp);
		if (r < 0) {
			g_io_deliver(bp, r);
		} else if (r == 1) {
			bp->completed = 0;
			g_io_deliver(bp, 0);
		} else {
			bp->to->geom->start(bp);
		}
		thread_set_nosleep(false);
	}
}

static void g_up_main(void *arg)
{
	struct bio *bp;
	while ((bp = g_bioq_take(&g_up_q)) != NULL) {
		thread_set_nosleep(true);
		struct g_consumer *cp = bp->from;
		struct g_provider *pp = bp->to;
		atomic_fetch_add_explicit(&st_up, 1, memory_order_relaxed);
		if (bp->flags & BIO_F_SYNC) {
			/* The waiter owns bp the moment it is woken: count first. */
			struct semaphore *s = bp->caller1;
			atomic_fetch_add(&pp->nend, 1);
			atomic_fetch_add(&cp->nend, 1);
			sema_up(s);
		} else {
			bp->done(bp);
			/* Only now may the washer free cp's geom (and with it
			 * whatever done() used). Touch neither afterwards. */
			atomic_fetch_add(&pp->nend, 1);
			atomic_fetch_add(&cp->nend, 1);
		}
		if (atomic_load(&g_withering))
			g_event_kick();
		thread_set_nosleep(false);
	}
}

static int g_io_sync(struct g_consumer *cp, enum bio_cmd cmd, uint64_t offset, void *buf,
		     size_t len)
{
	thread_assert_may_sleep();
	struct semaphore done;
	struct bio *bp = g_new_bio();
	if (!bp)
		return -ENOMEM;
	sema_init(&done, 0);
	bp->cmd = cmd;
	bp->flags = BIO_F_SYNC;
	bp->offset = offset;
	bp->length = len;
	bp->data = buf;
	bp->caller1 = &done;
	g_io_request(bp, cp);
	sema_down(&done);
	int err = atomic_load(&bp->error);
	if (err == 0 && cmd != BIO_FLUSH && bp->completed != len)
		err = -EIO;
	g_destroy_bio(bp);
	sema_destroy(&done);
	return err;
}

int g_read_data(struct g_consumer *cp, uint64_t offset, void *buf, size_t len)
{
	return g_io_sync(cp, BIO_READ, offset, buf, len);
}

int g_write_data(struct g_consumer *cp, uint64_t offset, const void *buf, size_t len)
{
	return g_io_sync(cp, BIO_WRITE, offset, (void *)buf, len);
}

int g_flush(struct g_consumer *cp)
{
	return g_io_sync(cp, BIO_FLUSH, 0, NULL, 0);
}

void g_io_get_stats(struct g_io_stats *st)
{
	st->down_requests = atomic_load(&st_down);
	st->up_completions = atomic_load(&st_up);
	st->errors = atomic_load(&st_errors);
}

static int g_bioq_start(struct g_bioq *q, const char *name, void (*fn)(void *))
{
	spin_lock_init(&q->lock, "g_bioq");
	list_init(&q->head);
	sema_init(&q->sema, 0);
	q->stop = false;
	q->td = thread_create(name, fn, NULL, THREAD_PRIO_HIGH);
	if (!q->td) {
		sema_destroy(&q->sema);
		return -ENOMEM;
	}
	return 0;
}

static void g_bioq_stop(struct g_bioq *q)
{
	spin_lock(&q->lock);
	q->stop = true;
	spin_unlock(&q->lock);
	sema_up(&q->sema);
	thread_join(q->td);
	q->td = NULL;
	KASSERT(list_empty(&q->head));
	sema_destroy(&q->sema);
}

int g_io_start(void)
{
	int err = g_bioq_start(&g_up_q, "g_up", g_up_main);
	if (err)
		return err;
	err = g_bioq_start(&g_down_q, "g_down", g_down_main);
	if (err)
		g_bioq_stop(&g_up_q);
	return err;
}

void g_io_stop(void)
{
	g_bioq_stop(&g_down_q);
	g_bioq_stop(&g_up_q);
}
