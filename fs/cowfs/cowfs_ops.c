/*
 * The operations of cowfs.h on objects and names: each takes the pool's
 * mutex, checks what POSIX asks, and changes objects and directories in the
 * open transaction group. Link counts: a file's counts its names; a
 * directory's is 2 plus its subdirectories.
 *
 * Space: operations that add data (write, create) must leave the slop that
 * metadata-only operations (unlink, rmdir, rename, truncate, chmod) may
 * still use, so a full pool can always be emptied. When space looks short
 * a writer first commits the group, which releases the blocks freed in it.
 */
#include "arc.h"
#include "cowfs_impl.h"
#include <errno.h>
#include <string.h>

#define MODE_IFMT  0170000
#define MODE_IFREG 0100000
#define MODE_IFDIR 0040000
#define MODE_IFLNK 0120000

static int check_name(const char *name, size_t *len)
{
	size_t n = strnlen(name, COWFS_NAME_MAX + 1);
	if (n == 0)
		return -ENOENT;
	if (n > COWFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (memchr(name, '/', n))
		return -EINVAL;
	*len = n;
	return 0;
}

static bool is_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

static int writable(struct cowfs_pool *p)
{
	if (p->rdonly)
		return -EROFS;
	if (p->failed)
		return -EIO;
	return 0;
}

/* Room for `bytes` of new data, committing once to release frees. */
static int room_for(struct cowfs_pool *p, uint64_t bytes)
{
	if (bytes <= cowfs_space_avail(p, false))
		return 0;
	int err = cowfs_sync_locked(p);
	if (err)
		return err;
	return bytes <= cowfs_space_avail(p, false) ? 0 : -ENOSPC;
}

static int get_dir(struct cowfs_pool *p, uint64_t dir, struct cowfs_obj **d)
{
	int err = cowfs_obj_get(p, dir, d);
	if (err)
		return err;
	if ((*d)->dn.type != COWFS_OT_DIR) {
		cowfs_obj_put(p, *d);
		*d = NULL;
		return -ENOTDIR;
	}
	return 0;
}

static void touch_dir(struct cowfs_pool *p, struct cowfs_obj *d)
{
	d->dn.mtime = d->dn.ctime = cowfs_now(p);
	cowfs_obj_dirty(p, d);
}

int cowfs_obj_hold(struct cowfs_pool *p, uint64_t obj)
{
	mutex_lock(&p->lock);
	struct cowfs_obj *o;
	int err = cowfs_obj_get(p, obj, &o);
	mutex_unlock(&p->lock);
	return err;
}

void cowfs_obj_release(struct cowfs_pool *p, uint64_t obj)
{
	mutex_lock(&p->lock);
	struct cowfs_obj *o;
	/* A held object stays in the table (even unlinked): get it and drop
	 * that hold and the caller's. */
	if (cowfs_obj_get(p, obj, &o) == 0) {
		cowfs_obj_put(p, o);
		cowfs_obj_put(p, o);
	}
	mutex_unlock(&p->lock);
}

int cowfs_getattr(struct cowfs_pool *p, uint64_t obj, struct cowfs_attr *a)
{
	mutex_lock(&p->lock);
	struct cowfs_obj *o;
	int err = cowfs_obj_get(p, obj, &o);
	if (!err) {
		memset(a, 0, sizeof(*a));
		a->obj = obj;
		a->type = o->dn.type;
		a->mode = o->dn.mode;
		a->nlink = o->dn.nlink;
		a->size = o->dn.size;
		a->blocks = cowfs_obj_blocks(p, o);
		a->blksz = o->dn.blksz;
		a->atime = o->dn.atime;
		a->mtime = o->dn.mtime;
		a->ctime = o->dn.ctime;
		a->parent = o->dn.parent;
		a->gen = o->dn.gen;
		cowfs_obj_put(p, o);
	}
	mutex_unlock(&p->lock);
	return err;
}

int cowfs_setattr(struct cowfs_pool *p, uint64_t obj, const struct cowfs_setattr *sa)
{
	mutex_lock(&p->lock);
	struct cowfs_obj *o = NULL;
	int err = writable(p);
	if (!err)
		err = cowfs_obj_get(p, obj, &o);
	if (!err && (sa->mask & COWFS_SET_SIZE)) {
		if (o->dn.type == COWFS_OT_DIR)
			err = -EISDIR;
		else if (o->dn.type != COWFS_OT_FILE)
			err = -EINVAL;
		else
			err = cowfs_obj_truncate(p, o, sa->size);
		if (!err)
			o->dn.mtime = cowfs_now(p);
	}
	if (!err) {
		if (sa->mask & COWFS_SET_MODE)
			o->dn.mode = (o->dn.mode & MODE_IFMT) | (sa->mode & 07777);
		if (sa->mask & COWFS_SET_MTIME)
			o->dn.mtime = sa->mtime;
		if (sa->mask & COWFS_SET_ATIME)
			o->dn.atime = sa->atime;
		o->dn.ctime = cowfs_now(p);
		cowfs_obj_dirty(p, o);
	}
	if (o)
		cowfs_obj_put(p, o);
	mutex_unlock(&p->lock);
	return err;
}

int64_t cowfs_read(struct cowfs_pool *p, uint64_t obj, uint64_t off, void *buf, size_t len)
{
	mutex_lock(&p->lock);
	struct cowfs_obj *o;
	int64_t r = cowfs_obj_get(p, obj, &o);
	if (!r) {
		if (o->dn.type == COWFS_OT_DIR)
			r = -EISDIR;
		else
			r = cowfs_obj_read(p, o, off, buf, len);
		cowfs_obj_put(p, o);
	}
	mutex_unlock(&p->lock);
	return r;
}

int64_t cowfs_write(struct cowfs_pool *p, uint64_t obj, uint64_t off, const void *buf, size_t len)
{
	mutex_lock(&p->lock);
	struct cowfs_obj *o = NULL;
	int64_t r = writable(p);
	if (!r)
		r = cowfs_obj_get(p, obj, &o);
	if (!r && o->dn.type != COWFS_OT_FILE)
		r = o->dn.type == COWFS_OT_DIR ? -EISDIR : -EINVAL;
	size_t done = 0;
	/* In pieces of at most 8 MiB, so a commit can come in between. The
	 * ARC's dirty-data throttle bounds the open group's dirty bytes by
	 * memory (half the ARC's target): a piece that would pass it first
	 * commits the group, the writer waiting for the disk (counted in
	 * memory_throttle_count) instead of dirtying memory it lacks. */
	while (!r && done < len) {
		size_t n = MIN(len - done, (size_t)8 << 20);
		n = MIN(n, (size_t)MAX(arc_dirty_limit(p->arc), (uint64_t)p->rb.recordsize));
		if (arc_tempreserve(p->arc, p->dirty_bytes, n) != 0) {
			r = cowfs_sync_locked(p);
			if (r)
				break;
		}
		uint64_t need = n + (n / COWFS_IND_NBP) + 2 * COWFS_IND_SIZE + o->dn.blksz;
		r = room_for(p, need);
		if (!r)
			r = cowfs_obj_write(p, o, off + done, (const uint8_t *)buf + done, n);
		if (r > 0) {
			done += (size_t)r;
			o->dn.mtime = o->dn.ctime = cowfs_now(p);
			r = cowfs_maybe_sync(p);
		}
	}
	if (o)
		cowfs_obj_put(p, o);
	mutex_unlock(&p->lock);
	return done ? (int64_t)done : r;
}

int cowfs_readlink(struct cowfs_pool *p, uint64_t obj, char *buf, size_t size)
{
	mutex_lock(&p->lock);
	struct cowfs_obj *o;
	int64_t r = cowfs_obj_get(p, obj, &o);
	if (!r) {
		if (o->dn.type != COWFS_OT_SYMLINK)
			r = -EINVAL;
		else
			r = cowfs_obj_read(p, o, 0, buf, size);
		cowfs_obj_put(p, o);
	}
	mutex_unlock(&p->lock);
	return (int)r;
}

int cowfs_lookup(struct cowfs_pool *p, uint64_t dir, const char *name, uint64_t *obj)
{
	size_t len;
	int err = check_name(name, &len);
	if (err)
		return err;
	mutex_lock(&p->lock);
	struct cowfs_obj *d;
	err = get_dir(p, dir, &d);
	if (!err) {
		if (!strcmp(name, "."))
			*obj = dir;
		else if (!strcmp(name, ".."))
			*obj = dir == COWFS_ROOT_OBJ ? dir : d->dn.parent;
		else {
			struct cowfs_dirent de;
			err = cowfs_dir_find(p, d, name, len, &de);
			if (!err)
				*obj = de.obj;
		}
		cowfs_obj_put(p, d);
	}
	mutex_unlock(&p->lock);
	return err;
}

/* Make an object of `type` named name in d. */
static int make(struct cowfs_pool *p, uint64_t dir, const char *name, uint8_t type, uint32_t mode,
		const char *target, uint64_t *obj)
{
	size_t len, tlen = target ? strlen(target) : 0;
	int err = check_name(name, &len);
	if (err)
		return err;
	if (is_dot(name))
		return -EEXIST;
	if (target && (tlen == 0 || tlen >= 4096))
		return tlen ? -ENAMETOOLONG : -ENOENT;
	mutex_lock(&p->lock);
	struct cowfs_obj *d = NULL, *o = NULL;
	err = writable(p);
	if (!err)
		err = get_dir(p, dir, &d);
	if (!err && d->dn.nlink == 0)
		err = -ENOENT; /* removed while someone held it */
	if (!err) {
		struct cowfs_dirent de;
		err = cowfs_dir_find(p, d, name, len, &de);
		err = err == 0 ? -EEXIST : err == -ENOENT ? 0 : err;
	}
	if (!err)
		err = room_for(p, 4 * COWFS_DIR_BUCKET + tlen);
	if (!err)
		err = cowfs_obj_alloc(p, type, mode, &o);
	if (!err && type == COWFS_OT_DIR) {
		o->dn.nlink = 2;
		o->dn.parent = dir;
		err = cowfs_dir_init(p, o);
	}
	if (!err && target) {
		int64_t w = cowfs_obj_write(p, o, 0, target, tlen);
		err = w < 0 ? (int)w : 0;
	}
	if (!err)
		err = cowfs_dir_add(p, d, name, len, o->num, type);
	if (err && o) {
		o->dn.nlink = 0;
		cowfs_obj_free(p, o);
	} else if (!err) {
		if (type == COWFS_OT_DIR)
			d->dn.nlink++;
		touch_dir(p, d);
		*obj = o->num;
	}
	if (o)
		cowfs_obj_put(p, o);
	if (d)
		cowfs_obj_put(p, d);
	if (!err)
		err = cowfs_maybe_sync(p);
	mutex_unlock(&p->lock);
	return err;
}

int cowfs_create(struct cowfs_pool *p, uint64_t dir, const char *name, uint32_t mode, uint64_t *obj)
{
	uint32_t fmt = mode & MODE_IFMT;
	if (fmt != MODE_IFREG && fmt != MODE_IFDIR)
		return -EINVAL;
	return make(p, dir, name, fmt == MODE_IFDIR ? COWFS_OT_DIR : COWFS_OT_FILE, mode, NULL,
		    obj);
}

int cowfs_symlink(struct cowfs_pool *p, uint64_t dir, const char *name, const char *target,
		  uint64_t *obj)
{
	return make(p, dir, name, COWFS_OT_SYMLINK, MODE_IFLNK | 0777, target, obj);
}

int cowfs_link(struct cowfs_pool *p, uint64_t dir, const char *name, uint64_t obj)
{
	size_t len;
	int err = check_name(name, &len);
	if (err)
		return err;
	if (is_dot(name))
		return -EEXIST;
	mutex_lock(&p->lock);
	struct cowfs_obj *d = NULL, *o = NULL;
	err = writable(p);
	if (!err)
		err = get_dir(p, dir, &d);
	if (!err)
		err = cowfs_obj_get(p, obj, &o);
	if (!err && o->dn.type == COWFS_OT_DIR)
		err = -EPERM;
	if (!err && (o->dn.nlink == 0 || d->dn.nlink == 0))
		err = -ENOENT;
	if (!err && o->dn.nlink >= 65000)
		err = -EMLINK;
	if (!err)
		err = room_for(p, 2 * COWFS_DIR_BUCKET);
	if (!err)
		err = cowfs_dir_add(p, d, name, len, obj, o->dn.type);
	if (!err) {
		o->dn.nlink++;
		o->dn.ctime = cowfs_now(p);
		cowfs_obj_dirty(p, o);
		touch_dir(p, d);
	}
	if (o)
		cowfs_obj_put(p, o);
	if (d)
		cowfs_obj_put(p, d);
	mutex_unlock(&p->lock);
	return err;
}

/* One name of o went away: free it with its last name, or when its last
 * holder lets go. */
static void drop_link(struct cowfs_pool *p, struct cowfs_obj *o)
{
	if (o->dn.type == COWFS_OT_DIR)
		o->dn.nlink = 0;
	else if (o->dn.nlink)
		o->dn.nlink--;
	o->dn.ctime = cowfs_now(p);
	cowfs_obj_dirty(p, o);
	if (o->dn.nlink == 0) {
		if (o->holds > 1)
			o->orphan = true;
		else
			cowfs_obj_free(p, o);
	}
}

static int remove_name(struct cowfs_pool *p, uint64_t dir, const char *name, bool want_dir)
{
	size_t len;
	int err = check_name(name, &len);
	if (err)
		return err;
	if (!strcmp(name, "."))
		return want_dir ? -EINVAL : -EISDIR;
	if (!strcmp(name, ".."))
		return want_dir ? -ENOTEMPTY : -EISDIR;
	mutex_lock(&p->lock);
	struct cowfs_obj *d = NULL, *o = NULL;
	struct cowfs_dirent de;
	err = writable(p);
	if (!err)
		err = get_dir(p, dir, &d);
	if (!err)
		err = cowfs_dir_find(p, d, name, len, &de);
	if (!err)
		err = cowfs_obj_get(p, de.obj, &o);
	if (!err && want_dir && o->dn.type != COWFS_OT_DIR)
		err = -ENOTDIR;
	if (!err && !want_dir && o->dn.type == COWFS_OT_DIR)
		err = -EISDIR;
	if (!err && want_dir && o->dn.size != 0)
		err = -ENOTEMPTY;
	if (!err)
		err = cowfs_dir_remove(p, d, name, len);
	if (!err) {
		if (want_dir)
			d->dn.nlink--;
		touch_dir(p, d);
		drop_link(p, o);
	}
	if (o)
		cowfs_obj_put(p, o);
	if (d)
		cowfs_obj_put(p, d);
	mutex_unlock(&p->lock);
	return err;
}

int cowfs_unlink(struct cowfs_pool *p, uint64_t dir, const char *name)
{
	return remove_name(p, dir, name, false);
}

int cowfs_rmdir(struct cowfs_pool *p, uint64_t dir, const char *name)
{
	return remove_name(p, dir, name, true);
}

int cowfs_rename(struct cowfs_pool *p, uint64_t fdir, const char *fname, uint64_t tdir,
		 const char *tname)
{
	size_t flen, tlen;
	int err = check_name(fname, &flen);
	if (!err)
		err = check_name(tname, &tlen);
	if (err)
		return err;
	if (is_dot(fname) || is_dot(tname))
		return -EINVAL;
	mutex_lock(&p->lock);
	struct cowfs_obj *fd = NULL, *td = NULL, *s = NULL, *t = NULL;
	struct cowfs_dirent fde, tde;
	bool have_t = false;
	err = writable(p);
	if (!err)
		err = get_dir(p, fdir, &fd);
	if (!err)
		err = get_dir(p, tdir, &td);
	if (!err)
		err = cowfs_dir_find(p, fd, fname, flen, &fde);
	if (!err)
		err = cowfs_obj_get(p, fde.obj, &s);
	if (!err && td->dn.nlink == 0)
		err = -ENOENT;
	if (!err) {
		int e = cowfs_dir_find(p, td, tname, tlen, &tde);
		if (e == 0)
			have_t = true;
		else if (e != -ENOENT)
			err = e;
	}
	if (!err && have_t && tde.obj == fde.obj)
		goto out; /* two names of one file: nothing to do */
	if (!err && have_t)
		err = cowfs_obj_get(p, tde.obj, &t);
	if (!err && t) {
		bool sd = s->dn.type == COWFS_OT_DIR, tdd = t->dn.type == COWFS_OT_DIR;
		if (sd && !tdd)
			err = -ENOTDIR;
		else if (!sd && tdd)
			err = -EISDIR;
		else if (tdd && t->dn.size)
			err = -ENOTEMPTY;
	}
	/* Replace the target's entry, then drop the source's. */
	if (!err && t)
		err = cowfs_dir_remove(p, td, tname, tlen);
	if (!err) {
		err = cowfs_dir_add(p, td, tname, tlen, s->num, s->dn.type);
		if (err && t)
			(void)cowfs_dir_add(p, td, tname, tlen, t->num, t->dn.type);
	}
	if (!err)
		err = cowfs_dir_remove(p, fd, fname, flen);
	if (!err) {
		if (t) {
			if (t->dn.type == COWFS_OT_DIR)
				td->dn.nlink--;
			drop_link(p, t);
		}
		if (s->dn.type == COWFS_OT_DIR && fd != td) {
			s->dn.parent = tdir;
			fd->dn.nlink--;
			td->dn.nlink++;
		}
		s->dn.ctime = cowfs_now(p);
		cowfs_obj_dirty(p, s);
		touch_dir(p, fd);
		touch_dir(p, td);
	}
out:
	if (t)
		cowfs_obj_put(p, t);
	if (s)
		cowfs_obj_put(p, s);
	if (td)
		cowfs_obj_put(p, td);
	if (fd)
		cowfs_obj_put(p, fd);
	mutex_unlock(&p->lock);
	return err;
}

int cowfs_readdir(struct cowfs_pool *p, uint64_t dir, uint64_t *cookie, cowfs_filldir_t fill,
		  void *ctx)
{
	mutex_lock(&p->lock);
	struct cowfs_obj *d;
	int err = get_dir(p, dir, &d);
	if (!err) {
		err = cowfs_dir_iter(p, d, cookie, fill, ctx);
		cowfs_obj_put(p, d);
	}
	mutex_unlock(&p->lock);
	return err;
}

int cowfs_obj_bp(struct cowfs_pool *p, uint64_t obj, uint64_t blkid, struct cowfs_bp *bp)
{
	mutex_lock(&p->lock);
	struct cowfs_obj *o;
	int err = cowfs_obj_get(p, obj, &o);
	if (!err) {
		err = cowfs_blk_bp(p, o, 0, blkid, bp);
		cowfs_obj_put(p, o);
	}
	mutex_unlock(&p->lock);
	return err;
}
