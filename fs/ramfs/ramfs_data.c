/*
 * ramfs file data: a radix tree of pages.
 *
 * A file's bytes live in whole pages (kpage_alloc) hung from a radix tree
 * of 512-slot interior nodes, one page each; a tree of height h covers
 * 512^h pages and grows upward on demand (the old root becomes slot 0 of a
 * new one), so a file costs nothing for holes: a page exists only once
 * something was written into it, reads of a missing page return zeros,
 * and st_blocks counts the pages that exist. Four levels cover
 * RAMFS_MAX_FILE (2^48 bytes).
 *
 * Every page is charged to the mount's size limit before it is allocated
 * (ENOSPC when it would go over) and uncharged when truncate frees it.
 * Callers hold the vnode's v_lock (shared for reads, exclusive otherwise);
 * size changes also take the node's attr lock so getattr sees them whole.
 */
#include "ramfs_impl.h"

#include <string.h>

#define RAMFS_SLOT_SHIFT 9
#define RAMFS_SLOTS	 (1U << RAMFS_SLOT_SHIFT)
#define RAMFS_MAX_HEIGHT 4

static uint64_t tree_pages(int height)
{
	return height == 0 ? 0 : 1ULL << (RAMFS_SLOT_SHIFT * height);
}

static void **new_interior(void)
{
	return kzalloc(RAMFS_SLOTS * sizeof(void *));
}

/* The slot of page idx; with create, the interior nodes on the way are made. */
static void **page_slot(struct ramfs_node *n, uint64_t idx, bool create, int *err)
{
	while (idx >= tree_pages(n->file.height)) {
		if (!create)
			return NULL;
		if (n->file.height == RAMFS_MAX_HEIGHT) {
			*err = -EFBIG;
			return NULL;
		}
		void **root = new_interior();
		if (!root) {
			*err = -ENOMEM;
			return NULL;
		}
		root[0] = n->file.root;
		n->file.root = root;
		n->file.height++;
	}
	void **node = n->file.root;
	for (int level = n->file.height - 1; level > 0; level--) {
		unsigned i = (unsigned)(idx >> (RAMFS_SLOT_SHIFT * level)) & (RAMFS_SLOTS - 1);
		if (!node[i]) {
			if (!create)
				return NULL;
			node[i] = new_interior();
			if (!node[i]) {
				*err = -ENOMEM;
				return NULL;
			}
		}
		node = node[i];
	}
	return &node[idx & (RAMFS_SLOTS - 1)];
}

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

int ramfs_data_read(struct ramfs_node *n, struct uio *uio)
{
	uint64_t size = n->size;

	while (uio->uio_resid > 0 && (uint64_t)uio->uio_offset < size) {
		uint64_t off = (uint64_t)uio->uio_offset;
		size_t poff = off & PAGE_MASK;
		size_t chunk = MIN(PAGE_SIZE - poff, size - off);
		chunk = MIN(chunk, uio->uio_resid);
		void **slot = page_slot(n, off >> PAGE_SHIFT, false, NULL);
		char *page = slot ? *slot : NULL;
		uiomove(page ? page + poff : NULL, chunk, uio);
	}
	return 0;
}

int ramfs_data_write(struct ramfs_node *n, struct uio *uio)
{
	int err = 0;

	while (uio->uio_resid > 0) {
		uint64_t off = (uint64_t)uio->uio_offset;
		if (off >= RAMFS_MAX_FILE) {
			err = -EFBIG;
			break;
		}
		size_t poff = off & PAGE_MASK;
		size_t chunk = MIN(PAGE_SIZE - poff, uio->uio_resid);
		void **slot = page_slot(n, off >> PAGE_SHIFT, true, &err);
		if (!slot)
			break;
		if (!*slot) {
			err = charge(n->rm, 1);
			if (err)
				break;
			*slot = kpage_alloc(1);
			if (!*slot) {
				charge(n->rm, -1);
				err = -ENOMEM;
				break;
			}
			memset(*slot, 0, PAGE_SIZE);
			n->file.npages++;
		}
		uiomove((char *)*slot + poff, chunk, uio);
		if ((uint64_t)uio->uio_offset > n->size) {
			spin_lock(&n->attr);
			n->size = (uint64_t)uio->uio_offset;
			spin_unlock(&n->attr);
		}
	}
	return err;
}

/* Free every page of the subtree at node (level 1: slots are pages) whose
 * index is >= first, and the interior nodes wholly beyond it. */
static uint64_t free_from(void **node, int level, uint64_t base, uint64_t first)
{
	uint64_t span = 1ULL << (RAMFS_SLOT_SHIFT * (level - 1));
	uint64_t freed = 0;

	for (unsigned i = 0; i < RAMFS_SLOTS; i++) {
		uint64_t cbase = base + i * span;
		if (!node[i] || cbase + span <= first)
			continue;
		if (level == 1) {
			kpage_free(node[i], 1);
			freed++;
		} else {
			freed += free_from(node[i], level - 1, cbase, first);
			if (cbase < first)
				continue;
			kfree(node[i]);
		}
		node[i] = NULL;
	}
	return freed;
}

static void free_pages_from(struct ramfs_node *n, uint64_t first)
{
	if (n->file.height == 0)
		return;
	uint64_t freed = free_from(n->file.root, n->file.height, 0, first);
	if (first == 0) {
		kfree(n->file.root);
		n->file.root = NULL;
		n->file.height = 0;
	}
	n->file.npages -= freed;
	charge(n->rm, -(int64_t)freed);
}

int ramfs_data_truncate(struct ramfs_node *n, uint64_t size)
{
	if (size > RAMFS_MAX_FILE)
		return -EFBIG;
	if (size < n->size) {
		free_pages_from(n, DIV_ROUND_UP(size, PAGE_SIZE));
		if (size & PAGE_MASK) {
			/* Zero the tail of the last page, so growing again reads zeros. */
			void **slot = page_slot(n, size >> PAGE_SHIFT, false, NULL);
			if (slot && *slot)
				memset((char *)*slot + (size & PAGE_MASK), 0,
				       PAGE_SIZE - (size & PAGE_MASK));
		}
	}
	spin_lock(&n->attr);
	n->size = size;
	spin_unlock(&n->attr);
	return 0;
}

void ramfs_data_free(struct ramfs_node *n)
{
	free_pages_from(n, 0);
}
