/*
 * The kernel's reclaimer registry (<karst/reclaim.h>): caches that can
 * give memory back register here; reclaim_memory() asks them in
 * registration order until enough is freed. The list is guarded by a
 * mutex: callers and reclaimers may sleep.
 */
#include <karst/init.h>
#include <karst/printk.h>
#include <karst/reclaim.h>
#include <karst/shell.h>
#include <karst/sync.h>
#include <stdlib.h>

static struct list_node reclaimers = LIST_HEAD_INIT(reclaimers);
static struct mutex reclaim_lock;

static int reclaim_init(void)
{
	mutex_init(&reclaim_lock, "reclaim");
	return 0;
}
KARST_INIT(INIT_EARLY, reclaim_init);

void reclaim_register(struct reclaimer *r)
{
	mutex_lock(&reclaim_lock);
	list_add_tail(&reclaimers, &r->link);
	mutex_unlock(&reclaim_lock);
}

void reclaim_unregister(struct reclaimer *r)
{
	mutex_lock(&reclaim_lock);
	list_del(&r->link);
	mutex_unlock(&reclaim_lock);
}

size_t reclaim_memory(size_t bytes)
{
	size_t freed = 0;
	mutex_lock(&reclaim_lock);
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
	mutex_lock(&reclaim_lock);
	list_for_each(it, &reclaimers)
	{
		struct reclaimer *r = list_entry(it, struct reclaimer, link);
		if (r->lowmem)
			r->lowmem(r->arg);
	}
	mutex_unlock(&reclaim_lock);
}

static int cmd_reclaim(int argc, char **argv)
{
	if (argc == 2 && argv[1][0] == 'l') {
		reclaim_lowmem();
		shell_printf("told every reclaimer that memory is low\n");
		return 0;
	}
	if (argc != 2) {
		printk("usage: reclaim BYTES | reclaim lowmem\n");
		return 2;
	}
	size_t want = (size_t)strtoull(argv[1], NULL, 0);
	shell_printf("reclaimed %lu of %lu bytes\n", (unsigned long)reclaim_memory(want),
		     (unsigned long)want);
	return 0;
}
SHELL_CMD("reclaim", cmd_reclaim, "reclaim BYTES | lowmem: ask caches to give memory back");
