/*
 * Requests: allocation, cloning and the standard completion.
 *
 * A layer that cannot answer a bio itself clones it: the clone carries the
 * same command, range and data and points to its parent; the layer adjusts
 * the clone (offset, provider) and requests it below. When a clone
 * completes, g_std_done adds its transferred bytes to the parent, keeps the
 * parent's first error, destroys the clone and, once every clone made has
 * come back, delivers the parent. done() callbacks run on g_up only; the
 * counters are atomic anyway so that a driver completing from several CPUs
 * stays correct. None of this sleeps.
 */
#include "g_internal.h"
#include <karst/kmem.h>
#include <string.h>

struct bio *g_new_bio(void)
{
	struct bio *bp = kzalloc(sizeof(*bp));
	if (bp)
		list_init(&bp->queue);
	return bp;
}

struct bio *g_clone_bio(struct bio *bp)
{
	struct bio *c = g_new_bio();
	if (!c)
		return NULL;
	c->cmd = bp->cmd;
	c->offset = bp->offset;
	c->length = bp->length;
	c->data = bp->data;
	c->parent = bp;
	c->done = g_std_done;
	bp->children++;
	return c;
}

void g_destroy_bio(struct bio *bp)
{
	KASSERT(!list_linked(&bp->queue));
	kfree(bp);
}

void g_std_done(struct bio *bp)
{
	struct bio *pbp = bp->parent;
	int err = atomic_load(&bp->error);
	KASSERT(pbp != NULL);

	if (err != 0) {
		int zero = 0;
		atomic_compare_exchange_strong(&pbp->error, &zero, err);
	}
	atomic_fetch_add(&pbp->ccompleted, bp->completed);
	g_destroy_bio(bp);
	if (atomic_fetch_add(&pbp->inbed, 1) + 1 == pbp->children) {
		pbp->completed = atomic_load(&pbp->ccompleted);
		g_io_deliver(pbp, atomic_load(&pbp->error));
	}
}
