/*
 * virtiofs as a filesystem type: `mount -t virtiofs TAG /mnt`, an fstab
 * entry "TAG /mnt virtiofs ro", or the root with fstab="TAG / virtiofs".
 *
 * The source is the device's tag. The first mount of a connection sends
 * FUSE_INIT (protocol, max_readahead, max_pages, map alignment, flags);
 * the last unmount sends FUSE_DESTROY, after the VFS has reclaimed every
 * vnode (each reclaim forgot its node). Mounts are always read-only.
 * Options: window=SIZE (K/M/G suffixes) sizes the connection's read
 * window in guest memory (dax_guest.c; window=auto, the default, a share
 * of the kernel's memory taken chunk by chunk and given back under
 * pressure; 0 for none), taken at the first mount; an unknown option
 * fails the mount with EINVAL.
 */
#include "virtiofs_impl.h"

#include <errno.h>
#include <karst/format.h>
#include <karst/init.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <string.h>

#define VIRTIOFS_READAHEAD (1u << 20)

static int session_init(struct virtiofs_conn *conn)
{
	struct fuse_init_in in;
	struct fuse_init_out *out = kzalloc(sizeof(*out));
	if (!out)
		return -ENOMEM;
	fuse_init_request(&in, VIRTIOFS_READAHEAD);
	struct fuse_call c = {
	    .opcode = FUSE_INIT,
	    .in = {&in},
	    .in_len = {sizeof(in)},
	    .nin = 1,
	    .out = out,
	    .out_len = sizeof(*out),
	    .out_min = FUSE_COMPAT_22_INIT_OUT_SIZE,
	};
	int e = virtiofs_call(conn, &c);
	if (!e)
		e = fuse_init_accept(conn, out, c.out_got);
	if (e == -ENOTSUP)
		printk("virtiofs '%s': the host speaks FUSE %u.%u; karst needs 7.27 or later\n",
		       conn->tag, out->major, out->minor);
	kfree(out);
	return e;
}

static int parse_options(const char *data, uint64_t *window)
{
	*window = VIRTIOFS_WINDOW_AUTO;
	while (data && *data) {
		size_t n = strcspn(data, ",");
		if (n == 11 && !strncmp(data, "window=auto", 11)) {
			*window = VIRTIOFS_WINDOW_AUTO;
		} else if (n >= 7 && !strncmp(data, "window=", 7)) {
			if (kparse_size(data + 7, n - 7, window) != 0 || *window > (1ULL << 36)) {
				printk("virtiofs: bad size in '%.*s'\n", (int)n, data);
				return -EINVAL;
			}
		} else if (n > 0) {
			printk("virtiofs: unknown option '%.*s'\n", (int)n, data);
			return -EINVAL;
		}
		data += n;
		if (*data == ',')
			data++;
	}
	return 0;
}

static int virtiofs_mount(struct mount *mp, const char *source, const char *data)
{
	uint64_t window;
	int e = parse_options(data, &window);
	if (e)
		return e;
	struct virtiofs_conn *conn = source ? virtiofs_conn_find(source) : NULL;
	if (!conn) {
		char tags[256];
		virtiofs_conn_tags(tags, sizeof(tags));
		printk("virtiofs: no device tagged '%s'; tags present: %s\n", source ? source : "",
		       tags);
		return -ENOENT;
	}
	e = pc_owner_register(&virtiofs_pc_owner); /* idempotent */
	if (e)
		return e;
	struct vfsm *m = kzalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->conn = conn;
	mutex_lock(&conn->lock);
	if (!conn->inited) {
		e = session_init(conn);
		if (e)
			printk("virtiofs '%s': FUSE_INIT failed: %s\n", conn->tag, vfs_errname(e));
		else
			printk("virtiofs '%s': FUSE 7.%u, max_read %u, max_readahead %u, "
			       "map_alignment %u, %s\n",
			       conn->tag, conn->minor, conn->max_read, conn->max_readahead,
			       1u << conn->map_alignment,
			       conn->readdirplus ? "readdirplus" : "readdir");
		conn->inited = !e;
		if (!e)
			virtiofs_window_create(conn,
					       window); /* without one, reads go to the host */
	}
	if (!e)
		conn->mounts++;
	mutex_unlock(&conn->lock);
	if (e) {
		kfree(m);
		return e;
	}
	mp->mnt_flags |= VFS_MNT_RDONLY;
	/* Names change on the host: the VFS keeps them for the entry timeout
	 * only (set by each LOOKUP; nothing until the first). */
	mp->mnt_kflags |= VFS_MNTK_NCTTL;
	atomic_store(&mp->mnt_nc_ttl_ns, 0);
	mp->mnt_data = m;
	return 0;
}

static int virtiofs_unmount(struct mount *mp)
{
	struct vfsm *m = vfsm_of(mp);
	struct virtiofs_conn *conn = m->conn;
	mutex_lock(&conn->lock);
	if (--conn->mounts == 0 && conn->inited) {
		/* Every mapping goes before the session does, and every
		 * forget reaches the host before DESTROY. */
		virtiofs_window_destroy(conn);
		if (conn->ops->drain)
			conn->ops->drain(conn);
		struct fuse_call c = {.opcode = FUSE_DESTROY};
		int e = virtiofs_call(conn, &c);
		if (e && e != -EIO)
			printk("virtiofs '%s': FUSE_DESTROY: %s\n", conn->tag, vfs_errname(e));
		conn->inited = false; /* the next mount starts a new session */
	}
	mutex_unlock(&conn->lock);
	kfree(m);
	mp->mnt_data = NULL;
	return 0;
}

static int virtiofs_root(struct mount *mp, struct vnode **vpp)
{
	struct virtiofs_conn *conn = vfsm_of(mp)->conn;
	struct fuse_attr_out *ao = kmalloc(sizeof(*ao));
	if (!ao)
		return -ENOMEM;
	struct fuse_getattr_in gi = {0};
	struct fuse_call c = {
	    .opcode = FUSE_GETATTR,
	    .nodeid = FUSE_ROOT_ID,
	    .in = {&gi},
	    .in_len = {sizeof(gi)},
	    .nin = 1,
	    .out = ao,
	    .out_len = sizeof(*ao),
	    .out_min = sizeof(*ao),
	};
	int e = virtiofs_call(conn, &c);
	if (!e && !S_ISDIR(ao->attr.mode))
		e = -ENOTDIR;
	struct vfsn *n = NULL;
	if (!e) {
		n = kzalloc(sizeof(*n));
		e = n ? 0 : -ENOMEM;
	}
	if (!e) {
		n->nodeid = FUSE_ROOT_ID;
		n->conn = conn;
		atomic_init(&n->nlookup, 0); /* the root is never looked up nor forgotten */
		mutex_init(&n->lock, "virtiofs_node");
		n->attr = ao->attr;
		n->attr_expire = virtiofs_expiry(ao->attr_valid, ao->attr_valid_nsec);
		bool created;
		e = vfs_vnode_get(mp, ao->attr.ino, ao->attr.mode & (S_IFMT | VFS_PERM_MASK),
				  &virtiofs_vnops, n, vpp, &created);
		if (e || !created)
			kfree(n);
	}
	kfree(ao);
	return e;
}

static int virtiofs_statfs(struct mount *mp, struct vfs_statfs *sf)
{
	struct virtiofs_conn *conn = vfsm_of(mp)->conn;
	struct fuse_statfs_out *so = kmalloc(sizeof(*so));
	if (!so)
		return -ENOMEM;
	struct fuse_call c = {
	    .opcode = FUSE_STATFS,
	    .nodeid = FUSE_ROOT_ID,
	    .out = so,
	    .out_len = sizeof(*so),
	    .out_min = FUSE_COMPAT_STATFS_SIZE,
	};
	int e = virtiofs_call(conn, &c);
	if (!e) {
		const struct fuse_kstatfs *k = &so->st;
		sf->f_bsize = k->frsize ? k->frsize : k->bsize;
		sf->f_blocks = k->blocks;
		sf->f_bfree = k->bfree;
		sf->f_bavail = k->bavail;
		sf->f_files = k->files;
		sf->f_ffree = k->ffree;
		sf->f_namemax = k->namelen;
	}
	kfree(so);
	return e;
}

static struct vfsops virtiofs_vfsops = {
    .name = "virtiofs",
    .mount = virtiofs_mount,
    .unmount = virtiofs_unmount,
    .root = virtiofs_root,
    .statfs = virtiofs_statfs,
};

int virtiofs_register(void)
{
	return vfs_register(&virtiofs_vfsops);
}
KARST_INIT(INIT_FS, virtiofs_register);
