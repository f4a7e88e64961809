/*
 * The reclaimer registry (<karst/reclaim.h>), portable: the kernel and the
 * host tests share it. Caches that can give memory back register here;
 * reclaim_memory() asks them in registration order until enough is freed.
 * The list is guarded by a mutex (callers and reclaimers may sleep), set up
 * on first use: a compare-and-swap elects the initialiser, the others wait
 * for it (it only runs mutex_init).
 */
#include <karst/reclaim.h>
#include <karst/sync.h>
#include <stdatomic.h>

static struct list_node reclaimers = LIST_HEAD_INIT(reclaimers);
static struct mutex reclaim_lock;
static atomic_int reclaim_lock_state; /* 0 none, 1 being set up, 2 ready */

static void reclaim_lock_take(void)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&reclaim_lock_state, &expected, 1)) {
		mutex_init(&reclaim_lock, "reclaim");
		atomic_store(&reclaim_lock_state, 2);
	}
	while (atomic_load(&reclaim_lock_state) != 2)
		;
	mutex_lock(&reclaim_lock);
}

void reclaim_register(struct reclaimer *r)
{
	reclaim_lock_take();
	list_add_tail(&reclaimers, &r->link);
	mutex_unlock(&reclaim_lock);
}

void reclaim_unregister(struct reclaimer *r)
{
	reclaim_lock_take();
	list_del(&r->link);
	mutex_unlock(&reclaim_lock);
}

size_t reclaim_memory(size_t bytes)
{
	size_t freed = 0;
	reclaim_lock_take();
	list_for_each(it, &reclaimers)
	{
		struct reclaimer *r = list_entry(it, struct reclaimer, link);
		if (freed >= bytes)
			break;
		if (r->reclaim)
			freed += r->reclaim(r->arg, bytes - freed);
	}
	mutex_unlock(&reclaim_lock);
	return freed;
}

void reclaim_lowmem(void)
{
	reclaim_lock_take();
	list_for_each(it, &reclaimers)
	{
		struct reclaimer *r = list_entry(it, struct reclaimer, link);
		if (r->lowmem)
			r->lowmem(r->arg);
	}
	mutex_unlock(&reclaim_lock);
}
