/*
 * ramfs nodes and directories.
 *
 * A node is one file, directory or symlink; it lives while it has a name
 * (nlink > 0) or a vnode: the last of the two to go frees it (unlink frees
 * nothing while the file is open; the vnode's reclaim does, see
 * ramfs_vnops.c).
 *
 * A directory is a hash table of entries (chained, doubled when it holds
 * twice as many entries as buckets) plus a list of the same entries in
 * creation order, which is readdir's order: every entry gets a cookie one
 * above the previous one, so a readdir resumed at a cookie neither skips
 * nor repeats an entry that survived in between. "." and ".." have cookies
 * 0 and 1 and are not stored.
 */
#include "ramfs_impl.h"

#include <string.h>

#define RAMFS_DIR_MIN_BUCKETS 8

struct ramfs_node *ramfs_node_new(struct ramfs_mount *rm, uint32_t mode)
{
	struct ramfs_node *n = kzalloc(sizeof(*n));
	if (!n)
		return NULL;
	n->rm = rm;
	n->ino = atomic_fetch_add(&rm->next_ino, 1);
	n->mode = mode;
	n->nlink = S_ISDIR(mode) ? 2 : 1;
	n->atime = n->mtime = n->ctime = time_ns();
	spin_lock_init(&n->attr, "ramfs_attr");
	list_init(&n->tlink);
	if (S_ISDIR(mode)) {
		n->dir.nbuckets = RAMFS_DIR_MIN_BUCKETS;
		n->dir.buckets = kcalloc(n->dir.nbuckets, sizeof(*n->dir.buckets));
		if (!n->dir.buckets) {
			kfree(n);
			return NULL;
		}
		list_init(&n->dir.order);
		n->dir.next_cookie = 3;
	} else if (S_ISREG(mode) && ramfs_data_init(n) != 0) {
		kfree(n);
		return NULL;
	}
	spin_lock(&rm->lock);
	rm->nnodes++;
	spin_unlock(&rm->lock);
	return n;
}

void ramfs_node_free(struct ramfs_node *n)
{
	struct ramfs_mount *rm = n->rm;

	if (S_ISREG(n->mode)) {
		ramfs_data_free(n);
	} else if (S_ISDIR(n->mode)) {
		list_for_each_safe(it, &n->dir.order)
		{
			kfree(list_entry(it, struct ramfs_dirent, order));
		}
		kfree(n->dir.buckets);
	} else if (S_ISLNK(n->mode)) {
		kfree(n->lnk.target);
	}
	spin_lock(&rm->lock);
	rm->nnodes--;
	spin_unlock(&rm->lock);
	kfree(n);
}

void ramfs_touch(struct ramfs_node *n, bool m, bool c)
{
	uint64_t now = time_ns();
	spin_lock(&n->attr);
	if (m)
		n->mtime = now;
	if (c)
		n->ctime = now;
	spin_unlock(&n->attr);
}

int ramfs_vget(struct mount *mp, struct ramfs_node *n, struct vnode **vpp)
{
	spin_lock(&n->attr);
	uint32_t mode = n->mode;
	spin_unlock(&n->attr);
	return vfs_vnode_get(mp, n->ino, mode, &ramfs_vnops, n, vpp, NULL);
}

static uint32_t name_hash(const char *name, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= (uint8_t)name[i];
		h *= 16777619u;
	}
	return h;
}

struct ramfs_dirent *ramfs_dir_find(struct ramfs_node *d, const char *name)
{
	size_t len = strlen(name);
	uint32_t h = name_hash(name, len);

	for (struct ramfs_dirent *e = d->dir.buckets[h & (d->dir.nbuckets - 1)]; e; e = e->hnext)
		if (e->hash == h && e->namelen == len && !memcmp(e->name, name, len))
			return e;
	return NULL;
}

static void dir_grow(struct ramfs_node *d)
{
	uint32_t nb = d->dir.nbuckets * 2;
	struct ramfs_dirent **b = kcalloc(nb, sizeof(*b));
	if (!b)
		return; /* longer chains, still correct */
	for (uint32_t i = 0; i < d->dir.nbuckets; i++) {
		struct ramfs_dirent *e = d->dir.buckets[i], *next;
		for (; e; e = next) {
			next = e->hnext;
			e->hnext = b[e->hash & (nb - 1)];
			b[e->hash & (nb - 1)] = e;
		}
	}
	kfree(d->dir.buckets);
	d->dir.buckets = b;
	d->dir.nbuckets = nb;
}

int ramfs_dir_add(struct ramfs_node *d, const char *name, struct ramfs_node *n)
{
	size_t len = strlen(name);
	struct ramfs_dirent *e = kmalloc(sizeof(*e) + len + 1);

	if (!e)
		return -ENOMEM;
	if (d->dir.count >= 2 * d->dir.nbuckets)
		dir_grow(d);
	e->node = n;
	e->hash = name_hash(name, len);
	e->namelen = (uint16_t)len;
	memcpy(e->name, name, len + 1);
	e->cookie = d->dir.next_cookie++;
	struct ramfs_dirent **b = &d->dir.buckets[e->hash & (d->dir.nbuckets - 1)];
	e->hnext = *b;
	*b = e;
	list_add_tail(&d->dir.order, &e->order);
	d->dir.count++;
	return 0;
}

void ramfs_dir_remove(struct ramfs_node *d, struct ramfs_dirent *e)
{
	struct ramfs_dirent **pp = &d->dir.buckets[e->hash & (d->dir.nbuckets - 1)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	list_del(&e->order);
	d->dir.count--;
	kfree(e);
}

/* Free every node reachable from the root (unmount: no vnode is left).
 * Iterative, so deep trees cannot overflow a kernel stack. */
void ramfs_free_tree(struct ramfs_mount *rm)
{
	struct list_node work = LIST_HEAD_INIT(work);

	if (!rm->root)
		return;
	list_add_tail(&work, &rm->root->tlink);
	while (!list_empty(&work)) {
		struct ramfs_node *d = list_first(&work, struct ramfs_node, tlink);
		list_del(&d->tlink);
		list_for_each(it, &d->dir.order)
		{
			struct ramfs_node *c = list_entry(it, struct ramfs_dirent, order)->node;
			if (S_ISDIR(c->mode))
				list_add_tail(&work, &c->tlink);
			else if (--c->nlink == 0)
				ramfs_node_free(c);
		}
		ramfs_node_free(d);
	}
	rm->root = NULL;
}
