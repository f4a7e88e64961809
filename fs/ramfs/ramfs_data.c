/*
 * ramfs file data: the page cache's index is the file.
 *
 * A ramfs file is a page-cache object of the "ramfs" owner, which is
 * pinned (its pages are never evicted: there is nowhere to write them)
 * and a store (a page missing from the index is a hole: reads return
 * zeros without allocating, st_blocks counts the pages that exist). The
 * cache asks for a page on the first write or write fault into a hole;
 * ramfs_lend allocates it zeroed, charged to the mount's size limit
 * (ENOSPC when it would go over), and lends it writable and pinned;
 * ramfs_unlend frees and uncharges it when truncate or the file's end
 * drops it. So read(), write() and mmap() of a ramfs file all reach the
 * same pages, and ramfs data is never cached twice.
 *
 * Callers hold the vnode's v_lock (shared for reads, exclusive otherwise);
 * the page cache's object lock orders after it. Size changes also take
 * the node's attr lock so getattr sees them whole.
 */
#include "ramfs_impl.h"

#include <karst/arch.h>
#include <string.h>

static int charge(struct ramfs_mount *rm, int64_t pages)
{
	int err = 0;

	spin_lock(&rm->lock);
	if (pages > 0 && rm->max_pages && rm->used_pages + (uint64_t)pages > rm->max_pages)
		err = -ENOSPC;
	else
		rm->used_pages += (uint64_t)pages;
	spin_unlock(&rm->lock);
	return err;
}

static int ramfs_lend(void *arg, uint64_t index, bool write, struct pc_lent *lent)
{
	struct ramfs_node *n = arg;
	(void)index;
	(void)write;
	int err = charge(n->rm, 1);
	if (err)
		return err;
	void *page = kpage_alloc(1);
	if (!page) {
		charge(n->rm, -1);
		return -ENOMEM;
	}
	memset(page, 0, PAGE_SIZE);
	lent->pa = virt_to_phys(page);
	lent->cookie = page;
	lent->flags = PC_LENT_WRITABLE | PC_LENT_PINNED;
	return 0;
}

static void ramfs_unlend(void *arg, uint64_t index, const struct pc_lent *lent)
{
	struct ramfs_node *n = arg;
	(void)index;
	kpage_free(lent->cookie, 1);
	charge(n->rm, -1);
}

static const struct pc_owner_ops ramfs_pc_ops = {.lend = ramfs_lend, .unlend = ramfs_unlend};
struct pc_owner ramfs_pc_owner = {
    .name = "ramfs", .ops = &ramfs_pc_ops, .flags = PC_OWNER_PINNED | PC_OWNER_STORE};

int ramfs_data_init(struct ramfs_node *n)
{
	return pc_object_init(&n->file.pc, &ramfs_pc_owner, n, 0);
}

static void set_size(struct ramfs_node *n, uint64_t size)
{
	spin_lock(&n->attr);
	n->size = size;
	spin_unlock(&n->attr);
}

int ramfs_data_read(struct ramfs_node *n, struct uio *uio)
{
	return pc_read(&n->file.pc, uio);
}

int ramfs_data_write(struct ramfs_node *n, struct uio *uio)
{
	if (uio->uio_resid == 0)
		return 0;
	if ((uint64_t)uio->uio_offset >= RAMFS_MAX_FILE)
		return -EFBIG;
	/* Write what fits below the largest size, then say EFBIG. */
	size_t over = 0, room = RAMFS_MAX_FILE - (uint64_t)uio->uio_offset;
	if (uio->uio_resid > room) {
		over = uio->uio_resid - room;
		uio->uio_resid = room;
	}
	int err = pc_write(&n->file.pc, uio);
	uio->uio_resid += over;
	set_size(n, pc_size(&n->file.pc));
	return err ? err : over ? -EFBIG : 0;
}

int ramfs_data_truncate(struct ramfs_node *n, uint64_t size)
{
	if (size > RAMFS_MAX_FILE)
		return -EFBIG;
	int err = pc_truncate(&n->file.pc, size);
	if (err == 0)
		set_size(n, size);
	return err;
}

uint64_t ramfs_data_pages(struct ramfs_node *n)
{
	return pc_npages(&n->file.pc);
}

void ramfs_data_free(struct ramfs_node *n)
{
	pc_object_destroy(&n->file.pc);
}
