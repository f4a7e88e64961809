/*
 * Synthetic trees: the namespace of filesystems whose files are published
 * by the kernel rather than created by users (procfs, devfs).
 *
 * A struct vfs_ptree is a tree of vfs_pnodes built from paths: adding
 * "spl/kstat/zfs/arcstats" makes the directories on the way. The tree lives
 * outside any mount (subsystems publish before /proc is mounted, and every
 * mount of the type shows the same tree); the filesystem's mount op points
 * mnt_data at its tree and sets VFS_MNTK_NONAMECACHE, since names come and
 * go without the VFS's namespace lock. Directories are served here
 * (vfs_ptree_dir_ops); leaves get the filesystem's own vnode ops and keep
 * its data in pnode->leaf.
 *
 * Lifetime: a pnode holds one reference for being in the tree and one per
 * vnode on it. Removing a leaf unlinks it at once (new lookups fail) and
 * frees it, calling leaf_release, when the last vnode goes. Directories are
 * never removed.
 *
 * Locking: t->lock (a mutex) guards the shape of the tree, every refs and
 * removed field. vfs_vnode_get() may wait for a vnode being reclaimed, and
 * reclaim takes t->lock, so lookups pin the pnode, drop t->lock, and only
 * then get the vnode.
 */
#include "vfs_impl.h"

#include <string.h>

static struct vfs_pnode *pnode_new(struct vfs_ptree *t, struct vfs_pnode *parent, const char *name,
				   size_t len, uint32_t mode, void *leaf)
{
	struct vfs_pnode *n = kzalloc(sizeof(*n));
	if (!n)
		return NULL;
	n->name = kmalloc(len + 1);
	if (!n->name) {
		kfree(n);
		return NULL;
	}
	memcpy(n->name, name, len);
	n->name[len] = '\0';
	n->mode = mode;
	n->ino = t->next_ino++;
	n->refs = 1;
	n->leaf = leaf;
	n->next_cookie = 3; /* 0..2: ".", "..", the end of those */
	list_init(&n->children);
	list_init(&n->sibling);
	n->parent = parent;
	if (parent) {
		n->cookie = parent->next_cookie++;
		list_add_tail(&parent->children, &n->sibling);
	}
	return n;
}

static void pnode_free(struct vfs_pnode *n)
{
	kfree(n->name);
	kfree(n);
}

int vfs_ptree_init(struct vfs_ptree *t, const struct vnode_ops *leaf_ops,
		   void (*leaf_release)(void *leaf))
{
	memset(t, 0, sizeof(*t));
	mutex_init(&t->lock, "vfs_ptree");
	t->next_ino = 1;
	t->leaf_ops = leaf_ops;
	t->leaf_release = leaf_release;
	t->root = pnode_new(t, NULL, "", 0, S_IFDIR | 0555, NULL);
	return t->root ? 0 : -ENOMEM;
}

static struct vfs_pnode *child_find(struct vfs_pnode *dir, const char *name, size_t len)
{
	list_for_each(it, &dir->children)
	{
		struct vfs_pnode *c = list_entry(it, struct vfs_pnode, sibling);
		if (strlen(c->name) == len && !memcmp(c->name, name, len))
			return c;
	}
	return NULL;
}

/* Validate a registration path: relative or absolute, no empty, "." or ".."
 * components, none too long. */
static int check_path(const char *path)
{
	if (!path)
		return -EINVAL;
	size_t n = strnlen(path, KARST_PATH_MAX);
	if (n >= KARST_PATH_MAX)
		return -ENAMETOOLONG;
	const char *p = path;
	if (*p == '/')
		p++;
	if (!*p)
		return -EINVAL;
	while (*p) {
		size_t len = strcspn(p, "/");
		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		if (len > KARST_NAME_MAX)
			return -ENAMETOOLONG;
		p += len;
		if (*p == '/') {
			p++;
			if (!*p)
				return -EINVAL; /* trailing slash: a leaf is not a directory */
		}
	}
	return 0;
}

int vfs_ptree_add(struct vfs_ptree *t, const char *path, uint32_t mode, void *leaf)
{
	int err = check_path(path);
	if (err)
		return err;
	if (S_ISDIR(mode))
		return -EINVAL;
	const char *p = path[0] == '/' ? path + 1 : path;

	mutex_lock(&t->lock);
	struct vfs_pnode *cur = t->root;
	for (;;) {
		size_t len = strcspn(p, "/");
		bool last = p[len] == '\0';
		struct vfs_pnode *c = child_find(cur, p, len);
		if (last) {
			if (c)
				err = -EEXIST;
			else if (!pnode_new(t, cur, p, len, mode, leaf))
				err = -ENOMEM;
			break;
		}
		if (!c) {
			c = pnode_new(t, cur, p, len, S_IFDIR | 0555, NULL);
			if (!c) {
				err = -ENOMEM;
				break;
			}
		} else if (!S_ISDIR(c->mode)) {
			err = -ENOTDIR;
			break;
		}
		cur = c;
		p += len + 1;
	}
	if (!err)
		t->gen++;
	mutex_unlock(&t->lock);
	return err;
}

/* Drop one reference (t->lock held); returns the node to free, if any. */
static struct vfs_pnode *pnode_put(struct vfs_pnode *n)
{
	KASSERT(n->refs > 0);
	return --n->refs == 0 ? n : NULL;
}

static void pnode_release(struct vfs_ptree *t, struct vfs_pnode *dead)
{
	if (!dead)
		return;
	if (t->leaf_release && dead->leaf)
		t->leaf_release(dead->leaf);
	pnode_free(dead);
}

int vfs_ptree_remove(struct vfs_ptree *t, const char *path)
{
	struct vfs_pnode *dead = NULL;
	int err = check_path(path);
	if (err)
		return err;
	const char *p = path[0] == '/' ? path + 1 : path;

	mutex_lock(&t->lock);
	struct vfs_pnode *cur = t->root;
	while (cur) {
		size_t len = strcspn(p, "/");
		cur = child_find(cur, p, len);
		if (!p[len])
			break;
		if (cur && !S_ISDIR(cur->mode)) {
			cur = NULL;
			err = -ENOTDIR;
		}
		p += len + 1;
	}
	if (!cur && !err)
		err = -ENOENT;
	else if (cur && S_ISDIR(cur->mode))
		err = -EISDIR;
	else if (cur) {
		list_del(&cur->sibling);
		cur->removed = true;
		dead = pnode_put(cur);
		t->gen++;
	}
	mutex_unlock(&t->lock);
	pnode_release(t, dead);
	return err;
}

static struct vfs_ptree *tree_of(struct vnode *vp)
{
	return (struct vfs_ptree *)vp->v_mount->mnt_data;
}

/* The vnode for a pnode pinned by the caller (the pin becomes the vnode's
 * reference when the vnode is new, and is dropped otherwise). */
static int pnode_vnode(struct vfs_ptree *t, struct mount *mp, struct vfs_pnode *n,
		       struct vnode **vpp)
{
	bool created = false;
	const struct vnode_ops *ops = S_ISDIR(n->mode) ? &vfs_ptree_dir_ops : t->leaf_ops;
	int err = vfs_vnode_get(mp, n->ino, n->mode, ops, n, vpp, &created);
	if (!err && created)
		return 0;
	mutex_lock(&t->lock);
	struct vfs_pnode *dead = pnode_put(n);
	mutex_unlock(&t->lock);
	pnode_release(t, dead);
	return err;
}

int vfs_ptree_root(struct vfs_ptree *t, struct mount *mp, struct vnode **vpp)
{
	mutex_lock(&t->lock);
	t->root->refs++;
	mutex_unlock(&t->lock);
	return pnode_vnode(t, mp, t->root, vpp);
}

static int ptree_lookup(struct vnode *dvp, const char *name, struct vnode **vpp)
{
	struct vfs_ptree *t = tree_of(dvp);
	struct vfs_pnode *d = vfs_ptree_node(dvp), *n;

	mutex_lock(&t->lock);
	if (!strcmp(name, ".."))
		n = d->parent ? d->parent : d;
	else
		n = child_find(d, name, strlen(name));
	if (n)
		n->refs++;
	mutex_unlock(&t->lock);
	if (!n)
		return -ENOENT;
	return pnode_vnode(t, dvp->v_mount, n, vpp);
}

static int ptree_readdir(struct vnode *dvp, uint64_t *cookie, vfs_filldir_t fill, void *ctx)
{
	struct vfs_ptree *t = tree_of(dvp);
	struct vfs_pnode *d = vfs_ptree_node(dvp);

	mutex_lock(&t->lock);
	struct vfs_pnode *up = d->parent ? d->parent : d;
	if (*cookie < 1 && !fill(ctx, ".", 1, d->ino, DT_DIR, 1))
		goto out;
	if (*cookie < 2 && !fill(ctx, "..", 2, up->ino, DT_DIR, 2))
		goto out;
	list_for_each(it, &d->children)
	{
		struct vfs_pnode *c = list_entry(it, struct vfs_pnode, sibling);
		if (c->cookie <= *cookie)
			continue;
		if (!fill(ctx, c->name, strlen(c->name), c->ino, vfs_mode_to_dtype(c->mode),
			  c->cookie))
			break;
	}
out:
	mutex_unlock(&t->lock);
	return 0;
}

int vfs_ptree_getattr(struct vnode *vp, struct vfs_stat *st)
{
	struct vfs_pnode *n = vfs_ptree_node(vp);

	st->st_ino = n->ino;
	st->st_mode = n->mode;
	st->st_nlink = S_ISDIR(n->mode) ? 2 : 1;
	st->st_blksize = PAGE_SIZE;
	return 0;
}

void vfs_ptree_reclaim(struct vnode *vp)
{
	struct vfs_ptree *t = tree_of(vp);
	struct vfs_pnode *n = vfs_ptree_node(vp);

	mutex_lock(&t->lock);
	struct vfs_pnode *dead = pnode_put(n);
	mutex_unlock(&t->lock);
	pnode_release(t, dead);
}

const struct vnode_ops vfs_ptree_dir_ops = {
    .lookup = ptree_lookup,
    .readdir = ptree_readdir,
    .getattr = vfs_ptree_getattr,
    .reclaim = vfs_ptree_reclaim,
};
