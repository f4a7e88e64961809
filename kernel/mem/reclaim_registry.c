/*
 * The reclaimer registry (<karst/reclaim.h>), portable: the kernel and the
 * host tests share it. Caches that can give memory back register here;
 * reclaim_memory() asks them in registration order until enough is freed,
 * those marked `first` (the page cache) before the others.
 * The list is guarded by a mutex (callers and reclaimers may sleep), set up
 * on first use: a compare-and-swap elects the initialiser, the others wait
 * for it (it only runs mutex_init). reclaim_direct() is reclaim_memory()
 * for an allocation that failed, counted apart.
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
	if (r->first)
		list_add(&reclaimers, &r->link);
	else
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

static _Atomic uint64_t direct_calls, direct_freed;
static bool (*pressure_fn)(void);

void reclaim_set_pressure_fn(bool (*fn)(void))
{
	pressure_fn = fn;
}

bool reclaim_pressure(void)
{
	return pressure_fn && pressure_fn();
}

size_t reclaim_direct(size_t bytes)
{
	size_t freed = reclaim_memory(bytes);
	atomic_fetch_add_explicit(&direct_calls, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&direct_freed, freed, memory_order_relaxed);
	return freed;
}

void reclaim_direct_stats(uint64_t *calls, uint64_t *freed)
{
	*calls = atomic_load_explicit(&direct_calls, memory_order_relaxed);
	*freed = atomic_load_explicit(&direct_freed, memory_order_relaxed);
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
