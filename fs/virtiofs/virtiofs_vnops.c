/*
 * virtiofs vnode operations: the read-only FUSE subset.
 *
 * lookup    LOOKUP; the vnode counts the host's lookups (nlookup), and
 *           reclaim sends them back with FORGET on the high-priority queue,
 *           so host inodes never leak.
 * getattr   served from the attributes while their timeout (attr_valid of
 *           the last LOOKUP/GETATTR reply) runs, else GETATTR.
 * open      OPEN for regular files (read-only; anything else is EROFS),
 *           the handle lives in the open file; close sends RELEASE.
 * read      READ of at most max_read bytes per request, straight into a
 *           bounce buffer the device writes.
 * readdir   READDIRPLUS (READDIR when the host did not grant it) on a
 *           directory handle the node keeps (OPENDIR on first use,
 *           RELEASEDIR at reclaim); the cookie is FUSE's offset. The last
 *           reply is kept until the listing reaches its end, so a caller
 *           with a small buffer does not make the host list (and look up)
 *           the same entries again for every call. Entries of READDIRPLUS
 *           count as lookups on the host: they are forgotten in one
 *           BATCH_FORGET per reply.
 * readlink  READLINK.
 * Every change (create, write, truncate, chmod, rename, ...) is EROFS.
 */
#include "virtiofs_impl.h"

#include "dax.h"

#include <errno.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <karst/time.h>
#include <string.h>

uint64_t virtiofs_expiry(uint64_t sec, uint32_t nsec)
{
	uint64_t now = time_ns();
	if (sec > (UINT64_MAX - now) / 1000000000ULL - 1)
		return UINT64_MAX;
	return now + sec * 1000000000ULL + (nsec < 1000000000U ? nsec : 999999999U);
}

static struct vfsn *vfsn_of(struct vnode *vp)
{
	return vp->v_data;
}

static struct virtiofs_conn *conn_of(struct vnode *vp)
{
	return vfsm_of(vp->v_mount)->conn;
}

static uint32_t attr_mode(const struct fuse_attr *a)
{
	return a->mode & (S_IFMT | VFS_PERM_MASK);
}

static bool attr_type_ok(uint32_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
	case S_IFDIR:
	case S_IFLNK:
		return true;
	default:
		return false; /* devices, fifos, sockets of the host: not served */
	}
}

int virtiofs_vget(struct mount *mp, const struct fuse_entry_out *eo, struct vnode **vpp)
{
	struct virtiofs_conn *conn = vfsm_of(mp)->conn;
	struct fuse_forget_one back = {.nodeid = eo->nodeid, .nlookup = 1};
	uint32_t mode = attr_mode(&eo->attr);
	if (eo->nodeid != 0)
		atomic_fetch_add(&conn->lookups_counted, 1);
	if (eo->nodeid == 0 || !attr_type_ok(mode)) {
		/* nodeid 0: a negative entry (not counted); other types are
		 * hidden. */
		if (eo->nodeid != 0)
			virtiofs_forget(conn, &back, 1);
		return -ENOENT;
	}
	/* The root (".." of a top directory): the mount's root vnode, which
	 * holds no lookups; this one goes back at once. */
	bool root = eo->nodeid == FUSE_ROOT_ID;
	if (root) {
		virtiofs_forget(conn, &back, 1);
		if (!S_ISDIR(mode))
			return -EIO;
	}
	struct vfsn *n = kzalloc(sizeof(*n));
	if (!n) {
		if (!root)
			virtiofs_forget(conn, &back, 1);
		return -ENOMEM;
	}
	n->nodeid = eo->nodeid;
	n->conn = conn;
	atomic_init(&n->nlookup, root ? 0 : 1);
	mutex_init(&n->lock, "virtiofs_node");
	n->attr = eo->attr;
	n->attr_expire = virtiofs_expiry(eo->attr_valid, eo->attr_valid_nsec);
	bool created;
	struct vnode *vp;
	/* Regular files are page-cache objects (mmap). */
	if (S_ISREG(mode) && pc_object_init(&n->pc, &virtiofs_pc_owner, n, eo->attr.size) == 0)
		n->pc_ready = true;
	int e = vfs_vnode_get(mp, eo->attr.ino, mode, &virtiofs_vnops, n, &vp, &created);
	if (e || !created) {
		if (n->pc_ready)
			pc_object_destroy(&n->pc);
		n->pc_ready = false;
	}
	if (e) {
		kfree(n);
		if (!root)
			virtiofs_forget(conn, &back, 1);
		return e;
	}
	if (!created && vfsn_of(vp)->nodeid != eo->nodeid) {
		/* The host gave another node id for an inode we hold (virtiofsd
		 * does for the root reached by ".."): the vnode keeps its own
		 * node, this lookup goes back at once. (A share spanning host
		 * filesystems could repeat an inode number for two files; the
		 * first one looked up wins.) */
		if (!root)
			virtiofs_forget(conn, &back, 1);
		root = true; /* count nothing more on the old node */
	}
	if (!created) {
		kfree(n);
		struct vfsn *old = vfsn_of(vp);
		if (!root)
			atomic_fetch_add(&old->nlookup, 1);
		mutex_lock(&old->lock);
		if (S_ISREG(mode) &&
		    (eo->attr.size != old->attr.size || eo->attr.mtime != old->attr.mtime ||
		     eo->attr.mtimensec != old->attr.mtimensec)) {
			/* Changed on the host (seen by a new LOOKUP): as in
			 * attr_refresh; the pages go at the next revalidate. */
			if (conn->dax)
				dax_invalidate(conn->dax, old->nodeid);
			old->pages_stale = true;
			atomic_fetch_add(&conn->host_changes, 1);
		}
		old->attr = eo->attr;
		old->attr_expire = virtiofs_expiry(eo->attr_valid, eo->attr_valid_nsec);
		mutex_unlock(&old->lock);
		if (attr_mode(&eo->attr) != vnode_mode(vp) &&
		    (mode & S_IFMT) == (vnode_mode(vp) & S_IFMT))
			vnode_set_mode(vp, mode);
	}
	*vpp = vp;
	return 0;
}

static int virtiofs_lookup(struct vnode *dvp, const char *name, struct vnode **vpp)
{
	struct virtiofs_conn *conn = conn_of(dvp);
	struct fuse_entry_out *eo = kmalloc(sizeof(*eo));
	if (!eo)
		return -ENOMEM;
	struct fuse_call c = {
	    .opcode = FUSE_LOOKUP,
	    .nodeid = vfsn_of(dvp)->nodeid,
	    .in = {name},
	    .in_len = {(uint32_t)strlen(name) + 1},
	    .nin = 1,
	    .out = eo,
	    .out_len = sizeof(*eo),
	    .out_min = sizeof(*eo),
	};
	int e = virtiofs_call(conn, &c);
	if (!e) {
		/* The VFS keeps the name as long as the host says it may
		 * (entry_valid; virtiofsd gives one value for all). */
		uint64_t ttl =
		    eo->entry_valid >= UINT64_MAX / 1000000000ULL - 1
			? UINT64_MAX
			: eo->entry_valid * 1000000000ULL + MIN(eo->entry_valid_nsec, 999999999U);
		atomic_store(&dvp->v_mount->mnt_nc_ttl_ns, ttl);
		e = virtiofs_vget(dvp->v_mount, eo, vpp);
	}
	kfree(eo);
	return e;
}

/* Fetch the attributes when their timeout ran out. Called with n->lock. */
static int attr_refresh(struct vnode *vp, struct vfsn *n)
{
	if (time_ns() < n->attr_expire)
		return 0;
	struct fuse_attr_out *ao = kmalloc(sizeof(*ao));
	if (!ao)
		return -ENOMEM;
	struct fuse_getattr_in gi = {0};
	struct fuse_call c = {
	    .opcode = FUSE_GETATTR,
	    .nodeid = n->nodeid,
	    .in = {&gi},
	    .in_len = {sizeof(gi)},
	    .nin = 1,
	    .out = ao,
	    .out_len = sizeof(*ao),
	    .out_min = sizeof(*ao),
	};
	int e = virtiofs_call(conn_of(vp), &c);
	if (!e) {
		uint32_t mode = attr_mode(&ao->attr);
		if ((mode & S_IFMT) != (vnode_mode(vp) & S_IFMT)) {
			e = -ESTALE; /* the host replaced the file by another type */
		} else {
			if (vp->v_type == VREG &&
			    (ao->attr.size != n->attr.size || ao->attr.mtime != n->attr.mtime ||
			     ao->attr.mtimensec != n->attr.mtimensec)) {
				/* Changed on the host: its chunks go now, its
				 * pages once n->lock is dropped (revalidate). */
				if (conn_of(vp)->dax)
					dax_invalidate(conn_of(vp)->dax, n->nodeid);
				n->pages_stale = true;
				atomic_fetch_add(&conn_of(vp)->host_changes, 1);
			}
			n->attr = ao->attr;
			n->attr_expire = virtiofs_expiry(ao->attr_valid, ao->attr_valid_nsec);
			if (mode != vnode_mode(vp))
				vnode_set_mode(vp, mode);
		}
	}
	kfree(ao);
	return e;
}

/*
 * Fetch the attributes when their timeout ran out and, when the host
 * changed the file's size or mtime, drop its window chunks and its pages
 * (mappings fault them in again; the object's size only grows, so a
 * mapping past a new, smaller end reads zeros, not a fault). Takes
 * n->lock; the pages are dropped after it, as the page cache's lock comes
 * first. *size gets the file's size.
 */
static int revalidate(struct vnode *vp, uint64_t *size)
{
	struct vfsn *n = vfsn_of(vp);
	mutex_lock(&n->lock);
	int e = attr_refresh(vp, n);
	bool stale = n->pages_stale;
	n->pages_stale = false;
	uint64_t sz = n->attr.size;
	mutex_unlock(&n->lock);
	if (stale && n->pc_ready)
		pc_invalidate(&n->pc, sz);
	if (size)
		*size = sz;
	return e;
}

static int virtiofs_getattr(struct vnode *vp, struct vfs_stat *st)
{
	int e = revalidate(vp, NULL);
	if (e)
		return e;
	struct vfsn *n = vfsn_of(vp);
	mutex_lock(&n->lock);
	const struct fuse_attr *a = &n->attr;
	st->st_ino = a->ino;
	st->st_mode = attr_mode(a);
	st->st_nlink = a->nlink;
	st->st_size = a->size;
	st->st_blksize = a->blksize ? a->blksize : 4096;
	st->st_blocks = a->blocks;
	st->st_atime_ns = a->atime * 1000000000ULL + a->atimensec;
	st->st_mtime_ns = a->mtime * 1000000000ULL + a->mtimensec;
	st->st_ctime_ns = a->ctime * 1000000000ULL + a->ctimensec;
	mutex_unlock(&n->lock);
	return 0;
}

static int fuse_open(struct vnode *vp, uint32_t opcode, uint64_t *fh)
{
	struct fuse_open_out *oo = kmalloc(sizeof(*oo));
	if (!oo)
		return -ENOMEM;
	struct fuse_open_in oi = {.flags = O_RDONLY};
	struct fuse_call c = {
	    .opcode = opcode,
	    .nodeid = vfsn_of(vp)->nodeid,
	    .in = {&oi},
	    .in_len = {sizeof(oi)},
	    .nin = 1,
	    .out = oo,
	    .out_len = sizeof(*oo),
	    .out_min = sizeof(*oo),
	};
	int e = virtiofs_call(conn_of(vp), &c);
	if (!e)
		*fh = oo->fh;
	kfree(oo);
	return e;
}

static void fuse_release(struct vnode *vp, uint32_t opcode, uint64_t fh)
{
	struct fuse_release_in ri = {.fh = fh, .flags = O_RDONLY};
	if (opcode == FUSE_RELEASE && conn_of(vp)->dax) /* read-ahead with fh in flight */
		dax_quiesce(conn_of(vp)->dax, vfsn_of(vp)->nodeid);
	struct fuse_call c = {
	    .opcode = opcode,
	    .nodeid = vfsn_of(vp)->nodeid,
	    .in = {&ri},
	    .in_len = {sizeof(ri)},
	    .nin = 1,
	};
	int e = virtiofs_call(conn_of(vp), &c);
	if (e && e != -EIO) /* EIO: the device is gone, and said so already */
		printk("virtiofs: release of node %lu failed: %s\n", (unsigned long)c.nodeid,
		       vfs_errname(e));
}

static int virtiofs_open(struct vnode *vp, int flags, void **fprivp)
{
	if ((flags & O_ACCMODE) != O_RDONLY || (flags & (O_TRUNC | O_CREAT)))
		return -EROFS;
	*fprivp = NULL;
	if (vp->v_type != VREG)
		return 0;
	int e = revalidate(vp, NULL); /* a change on the host shows from open on */
	if (e)
		return e;
	struct vfsf *f = kmalloc(sizeof(*f));
	if (!f)
		return -ENOMEM;
	e = fuse_open(vp, FUSE_OPEN, &f->fh);
	if (e) {
		kfree(f);
		return e;
	}
	*fprivp = f;
	return 0;
}

static int virtiofs_close(struct vnode *vp, void *fpriv)
{
	struct vfsf *f = fpriv;
	if (f) {
		fuse_release(vp, FUSE_RELEASE, f->fh);
		kfree(f);
	}
	return 0;
}

/* n bytes were written straight into the uio's current iovec. */
static void uio_advance(struct uio *uio, size_t n)
{
	uio->uio_iov->iov_base = (char *)uio->uio_iov->iov_base + n;
	uio->uio_iov->iov_len -= n;
	uio->uio_offset += (int64_t)n;
	uio->uio_resid -= n;
}

static int virtiofs_read(struct vnode *vp, struct uio *uio, int ioflag)
{
	struct virtiofs_conn *conn = conn_of(vp);
	struct vfsf *f = uio->uio_fpriv;
	uint64_t fh;
	int e = 0;
	if (f) {
		fh = f->fh;
	} else { /* a read without an open file (kernel-internal) */
		e = fuse_open(vp, FUSE_OPEN, &fh);
		if (e)
			return e;
	}
	uint64_t size = 0;
	e = revalidate(vp, &size); /* at most one GETATTR per attribute timeout */
	if (e) {
		if (!f)
			fuse_release(vp, FUSE_RELEASE, fh);
		return e;
	}
	uint32_t chunk = (uint32_t)MIN((size_t)conn->max_read, uio->uio_resid);
	void *buf = NULL; /* FUSE_READ's, made when the window cannot serve */
	while (!e && uio->uio_resid > 0) {
		uint32_t want = (uint32_t)MIN((size_t)chunk, uio->uio_resid);
		if (conn->dax) {
			/* Straight from the window into the caller's buffer
			 * (one copy; iovecs are kernel memory). */
			struct vfsn *n = vfsn_of(vp);
			while (uio->uio_iovcnt > 0 && uio->uio_iov->iov_len == 0) {
				uio->uio_iov++;
				uio->uio_iovcnt--;
			}
			if (uio->uio_iovcnt == 0)
				break;
			uint32_t direct = (uint32_t)MIN((size_t)want, uio->uio_iov->iov_len);
			long got = dax_read_sized(conn->dax, n->nodeid, fh, size,
						  (uint64_t)uio->uio_offset, uio->uio_iov->iov_base,
						  direct);
			if (got >= 0) {
				uio_advance(uio, (size_t)got);
				if ((uint32_t)got < direct)
					break; /* end of file */
				continue;
			}
			if (got != -EAGAIN) {
				e = (int)got;
				break;
			}
			/* the window cannot serve it: FUSE_READ */
		}
		/* Short of contiguous memory: smaller FUSE_READs, down to a page. */
		while (!buf && !(buf = kmalloc(chunk)) && chunk > PAGE_SIZE)
			chunk = chunk / 2 > PAGE_SIZE ? chunk / 2 : PAGE_SIZE;
		if (!buf) {
			e = -ENOMEM;
			break;
		}
		want = MIN(want, chunk);
		struct fuse_read_in ri = {
		    .fh = fh, .offset = (uint64_t)uio->uio_offset, .size = want};
		struct fuse_call c = {
		    .opcode = FUSE_READ,
		    .nodeid = vfsn_of(vp)->nodeid,
		    .in = {&ri},
		    .in_len = {sizeof(ri)},
		    .nin = 1,
		    .out = buf,
		    .out_len = want,
		};
		e = virtiofs_call(conn, &c);
		if (e)
			break;
		uiomove(buf, c.out_got, uio);
		if (c.out_got < want)
			break; /* end of file */
	}
	kfree(buf);
	if (!f)
		fuse_release(vp, FUSE_RELEASE, fh);
	return e;
}

/* mmap: through the page cache (virtiofs_pc.c), pages read with a FUSE
 * handle of the node's own, since the mapping outlives the descriptor. */
static int virtiofs_mmap(struct vnode *vp, struct vfs_mmap_req *req)
{
	struct vfsn *n = vfsn_of(vp);
	if (vp->v_type != VREG || !n->pc_ready)
		return -ENODEV;
	int e = revalidate(vp, NULL);
	if (e)
		return e;
	mutex_lock(&n->lock);
	if (!atomic_load(&n->map_open)) {
		e = fuse_open(vp, FUSE_OPEN, &n->map_fh);
		if (!e)
			atomic_store(&n->map_open, true);
	}
	mutex_unlock(&n->lock);
	return e ? e : pc_mmap_hook(vp, &n->pc, req);
}

static int virtiofs_readlink(struct vnode *vp, struct uio *uio)
{
	char *buf = kmalloc(KARST_PATH_MAX);
	if (!buf)
		return -ENOMEM;
	struct fuse_call c = {
	    .opcode = FUSE_READLINK,
	    .nodeid = vfsn_of(vp)->nodeid,
	    .out = buf,
	    .out_len = KARST_PATH_MAX,
	};
	int e = virtiofs_call(conn_of(vp), &c);
	if (!e)
		uiomove(buf, c.out_got, uio);
	kfree(buf);
	return e;
}

#define FORGET_BATCH 128

struct forget_list {
	struct fuse_forget_one one[FORGET_BATCH];
	unsigned n;
};

static void forget_flush(struct virtiofs_conn *conn, struct forget_list *fl)
{
	virtiofs_forget(conn, fl->one, fl->n);
	fl->n = 0;
}

static void forget_add(struct virtiofs_conn *conn, struct forget_list *fl, uint64_t nodeid)
{
	if (fl->n == FORGET_BATCH)
		forget_flush(conn, fl);
	fl->one[fl->n++] = (struct fuse_forget_one){.nodeid = nodeid, .nlookup = 1};
}

/*
 * Fetch the directory's entries from *cookie on into n->dbuf (one
 * READDIRPLUS or READDIR reply) and give back the lookups READDIRPLUS
 * counted for them. Called with n->lock.
 */
static int dir_fetch(struct vnode *dvp, struct vfsn *n, uint64_t cookie, struct forget_list *fl)
{
	struct virtiofs_conn *conn = conn_of(dvp);
	uint32_t size = MIN(VFSN_DIRBUF, conn->max_read);
	for (;;) {
		bool plus = conn->readdirplus;
		struct fuse_read_in ri = {.fh = n->dir_fh, .offset = cookie, .size = size};
		struct fuse_call c = {
		    .opcode = plus ? FUSE_READDIRPLUS : FUSE_READDIR,
		    .nodeid = n->nodeid,
		    .in = {&ri},
		    .in_len = {sizeof(ri)},
		    .nin = 1,
		    .out = n->dbuf,
		    .out_len = size,
		};
		int e = virtiofs_call(conn, &c);
		if (e == -ENOSYS && plus) { /* the host has no READDIRPLUS after all */
			conn->readdirplus = false;
			continue;
		}
		n->dlen = 0;
		if (e)
			return e;
		n->dstart = cookie;
		n->dplus = plus;
		n->dlen = c.out_got;
		uint32_t pos = 0;
		struct fuse_dirent_view d;
		int r;
		while ((r = fuse_dirent_next(n->dbuf, n->dlen, &pos, plus, &d)) == 1) {
			if (plus && d.entry->nodeid != 0) {
				atomic_fetch_add(&conn->lookups_counted, 1);
				forget_add(conn, fl, d.entry->nodeid);
			}
		}
		if (r < 0) {
			n->dlen = 0;
			atomic_fetch_add(&conn->bad_replies, 1);
			printk("virtiofs: malformed directory entry from the host (node %lu)\n",
			       (unsigned long)n->nodeid);
			return -EIO;
		}
		return 0;
	}
}

/* Where the entries after `cookie` start in the cached reply: 0 when the
 * reply was fetched at cookie, where the last call stopped when it stopped
 * at cookie; -1 when the cache cannot serve cookie (offsets are opaque to
 * us: only equality means anything, and we do not search for them, since
 * a host may repeat an offset). */
static int64_t dir_cached_pos(struct vfsn *n, uint64_t cookie)
{
	if (!n->dlen)
		return -1;
	if (cookie == n->dstart)
		return 0;
	if (cookie == n->dcookie && n->dpos < n->dlen)
		return n->dpos;
	return -1;
}

static int virtiofs_readdir(struct vnode *dvp, uint64_t *cookie, vfs_filldir_t fill, void *ctx)
{
	struct virtiofs_conn *conn = conn_of(dvp);
	struct vfsn *n = vfsn_of(dvp);
	struct forget_list *fl = kmalloc(sizeof(*fl));
	if (!fl)
		return -ENOMEM;
	fl->n = 0;
	int e = 0;
	mutex_lock(&n->lock);
	if (!n->dbuf) {
		n->dbuf = kmalloc(VFSN_DIRBUF);
		n->dlen = 0;
		if (!n->dbuf)
			e = -ENOMEM;
	}
	if (!e && !n->dir_open) {
		e = fuse_open(dvp, FUSE_OPENDIR, &n->dir_fh);
		n->dir_open = !e;
	}
	bool full = false;
	while (!e && !full) {
		int64_t at = dir_cached_pos(n, *cookie);
		bool fresh = at < 0;
		if (fresh) {
			e = dir_fetch(dvp, n, *cookie, fl);
			if (e || n->dlen == 0)
				break; /* an error, or the end of the directory */
			at = 0;
		}
		uint32_t pos = (uint32_t)at, next = pos;
		uint64_t before = *cookie;
		struct fuse_dirent_view d;
		while (fuse_dirent_next(n->dbuf, n->dlen, &next, n->dplus, &d) == 1) {
			if (!fill(ctx, d.name, d.namelen, d.ino, (uint8_t)d.type, d.off)) {
				full = true;
				break;
			}
			*cookie = d.off;
			pos = next;
		}
		n->dcookie = *cookie;
		n->dpos = pos;
		if (!full && fresh && *cookie == before) {
			printk("virtiofs: directory offsets do not advance (node %lu)\n",
			       (unsigned long)n->nodeid);
			e = -EIO;
		}
	}
	if (!full) { /* the listing ended (or failed): the cache has served */
		kfree(n->dbuf);
		n->dbuf = NULL;
		n->dlen = 0;
	}
	mutex_unlock(&n->lock);
	forget_flush(conn, fl);
	kfree(fl);
	return e;
}

static void virtiofs_reclaim(struct vnode *vp)
{
	struct vfsn *n = vfsn_of(vp);
	struct virtiofs_conn *conn = conn_of(vp);
	if (n->dir_open)
		fuse_release(vp, FUSE_RELEASEDIR, n->dir_fh);
	if (n->pc_ready)
		pc_object_destroy(&n->pc); /* no mapping is left: it would hold the vnode */
	if (atomic_load(&n->map_open))
		fuse_release(vp, FUSE_RELEASE, n->map_fh);
	if (conn->dax && vp->v_type == VREG)
		dax_invalidate(conn->dax, n->nodeid); /* the node id may name another file next */
	uint64_t nl = atomic_load(&n->nlookup);
	if (n->nodeid != FUSE_ROOT_ID && nl) {
		struct fuse_forget_one f = {.nodeid = n->nodeid, .nlookup = nl};
		virtiofs_forget(conn, &f, 1);
	}
	mutex_destroy(&n->lock);
	kfree(n->dbuf);
	kfree(n);
	vp->v_data = NULL;
}

static int ro_create(struct vnode *dvp, const char *name, uint32_t mode, struct vnode **vpp)
{
	return -EROFS;
}
static int ro_symlink(struct vnode *dvp, const char *name, const char *target)
{
	return -EROFS;
}
static int ro_link(struct vnode *dvp, const char *name, struct vnode *vp)
{
	return -EROFS;
}
static int ro_remove(struct vnode *dvp, const char *name, struct vnode *vp)
{
	return -EROFS;
}
static int ro_rename(struct vnode *fdvp, const char *fname, struct vnode *fvp, struct vnode *tdvp,
		     const char *tname, struct vnode *tvp)
{
	return -EROFS;
}
static int ro_write(struct vnode *vp, struct uio *uio, int ioflag)
{
	return -EROFS;
}
static int ro_setattr(struct vnode *vp, const struct vfs_setattr *sa)
{
	return -EROFS;
}
static int ro_fsync(struct vnode *vp)
{
	return 0; /* nothing is ever dirty */
}

const struct vnode_ops virtiofs_vnops = {
    .lookup = virtiofs_lookup,
    .create = ro_create,
    .mkdir = ro_create,
    .symlink = ro_symlink,
    .link = ro_link,
    .remove = ro_remove,
    .rmdir = ro_remove,
    .rename = ro_rename,
    .readdir = virtiofs_readdir,
    .readlink = virtiofs_readlink,
    .read = virtiofs_read,
    .write = ro_write,
    .getattr = virtiofs_getattr,
    .setattr = ro_setattr,
    .fsync = ro_fsync,
    .open = virtiofs_open,
    .close = virtiofs_close,
    .mmap = virtiofs_mmap,
    .reclaim = virtiofs_reclaim,
};
