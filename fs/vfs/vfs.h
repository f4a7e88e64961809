/*
 * karst VFS: the one interface between callers (shell, kernel tests, later
 * the page cache) and the filesystems (ramfs, devfs, procfs, cowfs, ...).
 *
 * Callers use the POSIX-shaped calls at the bottom of this file: they take
 * paths and descriptors and return a result >= 0 or a negative errno, with
 * Linux's numeric values for errors, O_* flags and S_IF* modes.
 *
 * Filesystems register a struct vfsops by name (vfs_register) and hand out
 * vnodes whose behaviour is a struct vnode_ops table. The VFS owns vnodes
 * (allocation, reference counts, the per-mount vnode hash, locks), the name
 * cache, path lookup, mounts, open files and the descriptor table.
 *
 * Descriptors: one table for the whole kernel (there are no processes),
 * VFS_MAX_FDS entries; numbers start at 0 and none are reserved: an open
 * always returns the lowest free number. A console user that wants 0, 1 and
 * 2 opens /dev/console three times first.
 *
 * Permissions: there are no users; every caller is the owner of every file
 * and the owner bits of the mode are enforced (no root bypass): opening a
 * 0444 file for writing is EACCES, creating in a 0555 directory is EACCES,
 * walking through a directory without S_IXUSR is EACCES. A file created
 * by an open may be written through that descriptor whatever its mode.
 *
 * Names are byte strings: any byte but '/' and NUL is allowed in a name, as
 * POSIX says; a component longer than KARST_NAME_MAX or a path of
 * KARST_PATH_MAX bytes or more is ENAMETOOLONG, an empty path ENOENT.
 *
 * Locking (who locks what; see also vfs_impl.h for the VFS's own locks):
 *  - mnt_ns_lock, a rwlock per mount, protects the namespace of that mount:
 *    directory contents and the parent links of directories. The VFS holds
 *    it shared around vop lookup/readdir and exclusively around every
 *    operation that changes a directory (create, mkdir, symlink, link,
 *    remove, rmdir, rename). A filesystem therefore needs no lock of its own
 *    for directory contents.
 *  - v_lock, a rwlock per vnode, protects the vnode's data: the VFS holds it
 *    shared around vop read/getattr/readlink and exclusively around vop
 *    write/truncate/setattr/fsync. Devices (VCHR/VBLK) are called without it
 *    and serialise themselves, so a blocking console read stalls nobody.
 *  - Lock order: mnt_ns_lock -> v_lock -> filesystem-internal locks ->
 *    the VFS's leaf locks (vnode hash, name cache); the full list is in
 *    vfs_impl.h. At most one mnt_ns_lock and at most one v_lock are held at
 *    any time, so the lock-order checker never sees two locks of one class
 *    nested. A filesystem op may call vfs_vnode_get() and vnode_rele() but
 *    must not call back into the path-level calls below.
 *  - Every call here may sleep; none may be called from interrupt context.
 */
#ifndef KARST_VFS_H
#define KARST_VFS_H

#include <karst/list.h>
#include <karst/param.h>
#include <karst/sync.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------------------
 * Constants with Linux's values.
 */

/* open flags */
#define O_ACCMODE   00000003
#define O_RDONLY    00000000
#define O_WRONLY    00000001
#define O_RDWR	    00000002
#define O_CREAT	    00000100
#define O_EXCL	    00000200
#define O_NOCTTY    00000400
#define O_TRUNC	    00001000
#define O_APPEND    00002000
#define O_NONBLOCK  00004000
#define O_DIRECTORY 00200000
#define O_NOFOLLOW  00400000
#define O_CLOEXEC   02000000
/* Every flag vfs_open accepts; any other bit is EINVAL. O_NOCTTY, O_NONBLOCK
 * and O_CLOEXEC are accepted and have no effect (no terminals, no exec). */
#define VFS_O_VALID                                                                                \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND | O_NONBLOCK | O_DIRECTORY | \
	 O_NOFOLLOW | O_CLOEXEC)

/* file types and permission bits */
#define S_IFMT	      0170000
#define S_IFSOCK      0140000
#define S_IFLNK	      0120000
#define S_IFREG	      0100000
#define S_IFBLK	      0060000
#define S_IFDIR	      0040000
#define S_IFCHR	      0020000
#define S_IFIFO	      0010000
#define S_ISUID	      0004000
#define S_ISGID	      0002000
#define S_ISVTX	      0001000
#define S_IRWXU	      00700
#define S_IRUSR	      00400
#define S_IWUSR	      00200
#define S_IXUSR	      00100
#define S_IRWXG	      00070
#define S_IRWXO	      00007
#define S_ISREG(m)    (((m)&S_IFMT) == S_IFREG)
#define S_ISDIR(m)    (((m)&S_IFMT) == S_IFDIR)
#define S_ISLNK(m)    (((m)&S_IFMT) == S_IFLNK)
#define S_ISCHR(m)    (((m)&S_IFMT) == S_IFCHR)
#define S_ISBLK(m)    (((m)&S_IFMT) == S_IFBLK)
#define VFS_PERM_MASK 07777

/* lseek */
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2

/* getdents d_type */
#define DT_UNKNOWN 0
#define DT_CHR	   2
#define DT_DIR	   4
#define DT_BLK	   6
#define DT_REG	   8
#define DT_LNK	   10

#define VFS_MAX_FDS	256  /* descriptors 0..VFS_MAX_FDS-1 */
#define VFS_IOV_MAX	1024 /* iovecs per readv/writev */
#define VFS_SYMLINK_MAX 40   /* symlinks followed in one lookup before ELOOP */
#define VFS_TYPE_MAX	16   /* filesystem type names, with the NUL */

/* mount flags (vfs_mount flags, struct mount mnt_flags) */
#define VFS_MNT_RDONLY 0x0001

/* ---------------------------------------------------------------------------
 * Data types shared by callers and filesystems.
 */

enum vtype { VNON, VREG, VDIR, VLNK, VCHR, VBLK };

struct vfs_stat {
	uint64_t st_dev; /* mount id */
	uint64_t st_ino;
	uint32_t st_mode;
	uint32_t st_nlink;
	uint32_t st_uid, st_gid; /* always 0 */
	uint64_t st_rdev;
	uint64_t st_size;
	uint64_t st_blksize;
	uint64_t st_blocks; /* 512-byte units actually allocated */
	/* nanoseconds of the kernel's clock (time_ns: since boot) */
	uint64_t st_atime_ns, st_mtime_ns, st_ctime_ns;
};

struct vfs_statfs {
	char f_type[VFS_TYPE_MAX];
	uint64_t f_bsize;
	uint64_t f_blocks, f_bfree, f_bavail; /* in f_bsize units */
	uint64_t f_files, f_ffree;
	uint32_t f_namemax;
	uint32_t f_flags; /* VFS_MNT_* */
	uint64_t f_fsid;  /* mount id */
};

/* One record of vfs_getdents, like Linux's struct linux_dirent64. Records
 * are 8-byte aligned; d_reclen is the distance to the next one. */
struct vfs_dirent {
	uint64_t d_ino;
	uint64_t d_off; /* cookie to resume after this entry (vfs_lseek SEEK_SET) */
	uint16_t d_reclen;
	uint8_t d_type;
	char d_name[]; /* NUL-terminated */
};

/* Scatter-gather I/O: every read and write, from a caller or into a
 * filesystem, is described by a uio. */
struct vfs_iovec {
	void *iov_base;
	size_t iov_len;
};

enum uio_rw {
	UIO_READ,  /* data moves from the file to the iovecs */
	UIO_WRITE, /* data moves from the iovecs to the file */
};

struct uio {
	struct vfs_iovec *uio_iov; /* advanced as data moves */
	int uio_iovcnt;
	int64_t uio_offset; /* file offset of the next byte */
	size_t uio_resid;   /* bytes still to move */
	enum uio_rw uio_rw;
	void *uio_fpriv; /* private data of the open file (vop_open), or NULL */
};

/* Move up to n bytes between buf and the uio in the uio's direction and
 * advance it; buf == NULL moves zeros on a UIO_READ (holes) and discards on
 * a UIO_WRITE (/dev/null). Returns bytes
 * moved. Never fails: the VFS validated the iovecs. */
size_t uiomove(void *buf, size_t n, struct uio *uio);
/* A uio over one kernel buffer. */
void uio_init_buf(struct uio *uio, struct vfs_iovec *iov, void *buf, size_t len, int64_t off,
		  enum uio_rw rw);

/* ---------------------------------------------------------------------------
 * Vnodes and their operations.
 */

struct mount;
struct vnode;

/* vop readdir calls this for each entry from the cookie on; it returns
 * true to go on and false when the caller's buffer is full (the entry was
 * not taken). next_cookie resumes after this entry. */
typedef bool (*vfs_filldir_t)(void *ctx, const char *name, size_t namelen, uint64_t ino,
			      uint8_t d_type, uint64_t next_cookie);

/* setattr: which fields apply */
#define VFS_SETATTR_MODE  0x1
#define VFS_SETATTR_SIZE  0x2
#define VFS_SETATTR_MTIME 0x4
#define VFS_SETATTR_ATIME 0x8
struct vfs_setattr {
	uint32_t mask;
	uint32_t mode; /* permission bits only */
	uint64_t size;
	uint64_t mtime_ns, atime_ns;
};

/* io flags for vop read/write */
#define VFS_IO_APPEND 0x1 /* write at the end of the file (set uio_offset to the size) */

/* A mapping request for vop mmap: the page cache fills this hook in later
 * (getting pages of the file to map). A filesystem without it answers
 * -ENODEV through the VFS. */
struct vfs_mmap_req {
	uint64_t offset; /* page-aligned */
	size_t length;
	int prot;     /* VFS_PROT_* */
	int flags;    /* VFS_MAP_* */
	void *result; /* the page cache's object for the mapping, set by the fs */
};
#define VFS_PROT_READ	0x1
#define VFS_PROT_WRITE	0x2
#define VFS_PROT_EXEC	0x4
#define VFS_MAP_SHARED	0x01
#define VFS_MAP_PRIVATE 0x02

/*
 * The operations of a vnode. Names are NUL-terminated single components,
 * never "." or ".." except for lookup (which must answer ".." itself; the
 * VFS answers "." and crosses mount points). Every op returns 0 or a
 * negative errno. A NULL op means "not supported": the VFS answers
 * ENOTDIR/EINVAL/EPERM/ENODEV/ENOTTY as POSIX would for that call.
 * Ops that return a vnode return it referenced.
 *
 * Locks held by the caller (see the header comment): N = mnt_ns_lock,
 * V = v_lock of vp; s = shared, x = exclusive.
 */
struct vnode_ops {
	int (*lookup)(struct vnode *dvp, const char *name, struct vnode **vpp); /* Ns */
	int (*create)(struct vnode *dvp, const char *name, uint32_t mode,	/* Nx */
		      struct vnode **vpp); /* regular files, and devices if supported */
	int (*mkdir)(struct vnode *dvp, const char *name, uint32_t mode,
		     struct vnode **vpp);					 /* Nx */
	int (*symlink)(struct vnode *dvp, const char *name, const char *target); /* Nx */
	int (*link)(struct vnode *dvp, const char *name, struct vnode *vp);	 /* Nx */
	/* vp is what name designates in dvp (looked up by the VFS under Nx) */
	int (*remove)(struct vnode *dvp, const char *name, struct vnode *vp); /* Nx */
	int (*rmdir)(struct vnode *dvp, const char *name, struct vnode *vp);  /* Nx; ENOTEMPTY */
	/* tvp: what tname designates now, or NULL; the VFS has checked types,
	 * the source not being an ancestor of tdvp, and fvp != tvp. The fs checks
	 * that a replaced directory is empty (ENOTEMPTY) and replaces atomically. */
	int (*rename)(struct vnode *fdvp, const char *fname, struct vnode *fvp, struct vnode *tdvp,
		      const char *tname, struct vnode *tvp);				    /* Nx */
	int (*readdir)(struct vnode *dvp, uint64_t *cookie, vfs_filldir_t fill, void *ctx); /* Ns */
	int (*readlink)(struct vnode *vp, struct uio *uio);				    /* Vs */
	int (*read)(struct vnode *vp, struct uio *uio, int ioflag);	/* Vs (none for devices) */
	int (*write)(struct vnode *vp, struct uio *uio, int ioflag);	/* Vx (none for devices) */
	int (*getattr)(struct vnode *vp, struct vfs_stat *st);		/* Vs */
	int (*setattr)(struct vnode *vp, const struct vfs_setattr *sa); /* Vx; size: truncate */
	int (*fsync)(struct vnode *vp);					/* Vx */
	int (*open)(struct vnode *vp, int flags, void **fprivp);	/* no lock */
	int (*close)(struct vnode *vp, void *fpriv);			/* no lock */
	int (*ioctl)(struct vnode *vp, unsigned long cmd, void *arg, void *fpriv); /* no lock */
	int (*mmap)(struct vnode *vp, struct vfs_mmap_req *req); /* no lock; page cache hook */
	/* The last reference went away: drop the filesystem's hold on v_data
	 * (ramfs frees an unlinked file here). No VFS lock is held. */
	void (*reclaim)(struct vnode *vp);
};

/* vnode flags (v_flags) */
#define VV_ROOT 0x1 /* the root of its mount */

struct vnode {
	struct mount *v_mount;
	const struct vnode_ops *v_ops;
	enum vtype v_type;
	uint32_t v_flags;
	_Atomic uint32_t v_mode; /* S_IFMT | permission bits, kept by the fs */
	uint64_t v_ino;
	_Atomic int v_refs;
	struct rwlock v_lock;
	void *v_data;		     /* filesystem private */
	struct mount *v_mountedhere; /* mount covering this directory (mount-table lock) */
	/* VFS private */
	struct list_node v_hash;  /* in its mount's vnode hash */
	struct list_node v_ncsrc; /* name-cache entries whose directory this is */
	bool v_doomed;		  /* being reclaimed (vnode hash lock) */
};

static inline uint32_t vnode_mode(const struct vnode *vp)
{
	return atomic_load_explicit(&((struct vnode *)vp)->v_mode, memory_order_relaxed);
}

/*
 * Find or make the vnode of inode `ino` of mount mp: an existing vnode is
 * referenced and returned (waiting if it is being reclaimed); otherwise a new
 * one with v_data = data, v_mode = mode and the given ops is made. *created
 * tells which (the fs takes its hold on data then). Returns 0 or -ENOMEM.
 * Called by filesystems from their lookup/create ops and root(); may sleep.
 */
int vfs_vnode_get(struct mount *mp, uint64_t ino, uint32_t mode, const struct vnode_ops *ops,
		  void *data, struct vnode **vpp, bool *created);
void vnode_ref(struct vnode *vp);
/* Drops a reference; the last one reclaims the vnode (vop reclaim, then
 * free). Must not be called with the name-cache or vnode-hash locks held. */
void vnode_rele(struct vnode *vp);
/* A filesystem changed the mode (chmod): keep the VFS's copy in step. */
void vnode_set_mode(struct vnode *vp, uint32_t mode);
enum vtype vfs_mode_to_vtype(uint32_t mode);
uint8_t vfs_mode_to_dtype(uint32_t mode);

/* ---------------------------------------------------------------------------
 * Mounts and filesystem types.
 */

/* kernel-internal mount flags (mnt_kflags), set by the fs in its mount op */
#define VFS_MNTK_NONAMECACHE 0x1 /* names change behind the VFS (procfs, devfs): don't cache */
/* Names may change behind the VFS, but not faster than mnt_nc_ttl_ns (set
 * by the fs, may change): positive entries expire that long after they
 * were entered, negative ones are not kept (virtio-fs's entry timeout). */
#define VFS_MNTK_NCTTL 0x2

struct mount {
	struct list_node mnt_link; /* in the mount table */
	const struct vfsops *mnt_ops;
	struct vnode *mnt_root;	   /* referenced */
	struct vnode *mnt_covered; /* referenced; NULL for the root mount */
	uint32_t mnt_flags;	   /* VFS_MNT_* */
	uint32_t mnt_kflags;	   /* VFS_MNTK_* */
	/* VFS_MNTK_NCTTL: how long name-cache entries live */
	_Atomic uint64_t mnt_nc_ttl_ns;
	uint32_t mnt_id;
	_Atomic int mnt_writers; /* files open for writing */
	char *mnt_source;
	char *mnt_path; /* where it is mounted, as a canonical absolute path */
	char *mnt_opts; /* the data string given to vfs_mount, or "" */
	void *mnt_data; /* filesystem private */
	struct rwlock mnt_ns_lock;
	/* vnode hash: mutex + condvar for vnodes being reclaimed */
	struct mutex mnt_vhash_lock;
	struct condvar mnt_vhash_cv;
	struct list_node *mnt_vhash;
	size_t mnt_nvnodes;
};

/*
 * A filesystem type. mount() sets mp->mnt_data (and mnt_kflags) from the
 * source and data strings; root() returns the referenced root vnode;
 * unmount() frees everything once the VFS has dropped every vnode. statfs()
 * fills what it knows (the VFS fills f_type, f_flags, f_fsid, f_namemax
 * when left 0). sync() writes back dirty state (may be NULL).
 */
struct vfsops {
	const char *name;
	int (*mount)(struct mount *mp, const char *source, const char *data);
	int (*unmount)(struct mount *mp);
	int (*root)(struct mount *mp, struct vnode **vpp);
	int (*statfs)(struct mount *mp, struct vfs_statfs *sf);
	int (*sync)(struct mount *mp);
	struct list_node link; /* VFS private: registered types */
};

/* Idempotent; the KARST_INIT entry and the host tests both call it. */
int vfs_init(void);
/* Register a filesystem type; registering the same ops twice is a no-op,
 * another type with the same name is -EEXIST. */
int vfs_register(struct vfsops *ops);

/* Information about one mount, for procfs `mounts` and `df`. */
struct vfs_mount_info {
	uint32_t id;
	const char *source, *path, *type, *opts;
	uint32_t flags;
};
/* Calls fn for each mount in mount order, on a snapshot of the table taken
 * under the mount-table lock, so fn may call the VFS; stops when fn returns
 * non-zero and returns that value (or -ENOMEM). */
int vfs_mount_foreach(int (*fn)(void *arg, const struct vfs_mount_info *mi), void *arg);

/*
 * Mount `type` from `source` on directory `target` (the first mount must be
 * on "/" and becomes the root). flags: VFS_MNT_RDONLY. data: the fs's
 * options ("size=64M"), may be NULL. An unregistered type is -ENODEV with a
 * message naming the build option that adds it.
 */
int vfs_mount(const char *source, const char *target, const char *type, uint32_t flags,
	      const char *data);
/* Change the flags of the mount whose root target is (remount): going
 * read-only is EBUSY while a file of the mount is open for writing. */
int vfs_remount(const char *target, uint32_t flags);
/* EBUSY while anything in the mount is open or referenced (cwd), or
 * something is mounted below it; EINVAL when target is not a mount root. */
int vfs_umount(const char *target);

/*
 * Mount every entry of an fstab-style table: lines (or ';'-separated
 * entries, for the kernel command line) of "source mountpoint type options",
 * '#' starts a comment. Options: comma-separated; "defaults", "rw" and "ro"
 * are the VFS's, the rest is passed to the filesystem as its data. Missing
 * mount points are created (mkdir -p). A "/" entry is mounted first as the
 * root when no root is mounted yet. Each failure is printed with its line and
 * the table goes on. Returns the number of entries that failed (0: all
 * mounted) or a negative errno when the table itself cannot be read.
 */
int vfs_mount_table(const char *table);
/* The same from a file on the mounted tree (/etc/fstab); -ENOENT if absent. */
int vfs_mount_table_file(const char *path);
/*
 * Boot-time mounting: mounts `table` (the command line's, may be NULL);
 * when it mounted no root, mounts ramfs on "/"; then /etc/fstab from the
 * root if present; then devfs on /dev and procfs on /proc unless the
 * tables mounted them. Returns the number of failed entries.
 */
int vfs_mount_boot(const char *table);

/* Write back every writable mount whose type has a sync op (the
 * shutdown path; may sleep). Failures are printed; returns their number. */
int vfs_sync_all(void);

/* Tear everything down (host tests, poweroff): close every descriptor, drop
 * the cwd, unmount all mounts innermost first. Returns 0, or -EBUSY when a
 * vnode is still referenced by someone else (a leak). */
int vfs_shutdown(void);

/* ---------------------------------------------------------------------------
 * The calls. Every one returns >= 0 on success or a negative errno.
 */

int vfs_open(const char *path, int flags, uint32_t mode);
int vfs_close(int fd);
int vfs_dup(int fd);
int vfs_dup2(int fd, int newfd);
long vfs_read(int fd, void *buf, size_t len);
long vfs_write(int fd, const void *buf, size_t len);
long vfs_pread(int fd, void *buf, size_t len, int64_t off);
long vfs_pwrite(int fd, const void *buf, size_t len, int64_t off);
long vfs_readv(int fd, const struct vfs_iovec *iov, int iovcnt);
long vfs_writev(int fd, const struct vfs_iovec *iov, int iovcnt);
int64_t vfs_lseek(int fd, int64_t off, int whence);
/* Packs struct vfs_dirent records into buf (8-byte aligned, else -EINVAL);
 * returns the bytes used, 0 at the end of the directory, -EINVAL when buf
 * cannot hold the next record. */
long vfs_getdents(int fd, void *buf, size_t len);
int vfs_fstat(int fd, struct vfs_stat *st);
int vfs_ftruncate(int fd, int64_t len);
int vfs_fsync(int fd);
int vfs_fstatfs(int fd, struct vfs_statfs *sf);
int vfs_ioctl(int fd, unsigned long cmd, void *arg);
/* The mmap hook: validates fd/offset/prot and calls vop mmap (-ENODEV
 * when the filesystem has none yet). */
int vfs_mmap(int fd, struct vfs_mmap_req *req);

int vfs_stat(const char *path, struct vfs_stat *st);
int vfs_lstat(const char *path, struct vfs_stat *st);
int vfs_statfs(const char *path, struct vfs_statfs *sf);
int vfs_mkdir(const char *path, uint32_t mode);
int vfs_rmdir(const char *path);
int vfs_unlink(const char *path);
int vfs_rename(const char *from, const char *to);
int vfs_link(const char *oldpath, const char *newpath);
int vfs_symlink(const char *target, const char *linkpath);
/* Returns the length placed in buf (no NUL added, truncated to len). */
long vfs_readlink(const char *path, char *buf, size_t len);
int vfs_truncate(const char *path, int64_t len);
int vfs_chmod(const char *path, uint32_t mode);
int vfs_chdir(const char *path);
/* Writes the absolute path of the cwd with its NUL; returns its length
 * (without the NUL), -ERANGE when len is too small, -ENOENT when the cwd
 * was removed. */
long vfs_getcwd(char *buf, size_t len);

/* "ENOENT" for -ENOENT or ENOENT (messages, the shell). */
const char *vfs_errname(int err);

/* Lookup statistics (name cache hits/misses), for benchmarks and procfs. */
struct vfs_nc_stats {
	uint64_t hits, neg_hits, misses, entries, evictions;
	uint64_t limit;	 /* entries allowed now (lower after a lowmem hint) */
	uint64_t lowmem; /* lowmem hints taken */
};
void vfs_namecache_stats(struct vfs_nc_stats *st);
/* Drop every cache entry (benchmarks measure uncached lookups with it). */
void vfs_namecache_purge_all(void);

/* ---------------------------------------------------------------------------
 * Synthetic trees for filesystems whose files are registered by the kernel
 * (procfs, devfs): a tree of named nodes, built from paths, whose
 * directories the VFS serves with vfs_ptree_dir_ops. Leaves carry the fs's
 * own data and vnode ops. One mutex per tree protects its shape; it is
 * taken after mnt_ns_lock/v_lock and is a leaf otherwise.
 */
struct vfs_pnode {
	char *name;
	uint32_t mode;
	uint64_t ino;
	uint64_t cookie; /* position in the parent's readdir order */
	struct vfs_pnode *parent;
	struct list_node children; /* dirs: children in cookie order */
	struct list_node sibling;
	int refs;     /* the tree's own (while linked) + one per vnode */
	bool removed; /* unlinked from the tree, freed at the last ref */
	void *leaf;   /* the filesystem's data */
	uint64_t next_cookie;
};

struct vfs_ptree {
	struct mutex lock;
	struct vfs_pnode *root;
	uint64_t next_ino;
	const struct vnode_ops *leaf_ops;
	/* called (tree lock not held) when a removed leaf's last ref goes */
	void (*leaf_release)(void *leaf);
	uint64_t gen; /* bumped on every add/remove */
};

extern const struct vnode_ops vfs_ptree_dir_ops;

int vfs_ptree_init(struct vfs_ptree *t, const struct vnode_ops *leaf_ops,
		   void (*leaf_release)(void *leaf));
/* Add a leaf at path (relative; intermediate directories are made, mode
 * 0555); -EEXIST, -ENOTDIR (a component is a leaf), -EINVAL (empty, ".",
 * ".." or empty components), -ENAMETOOLONG, -ENOMEM. */
int vfs_ptree_add(struct vfs_ptree *t, const char *path, uint32_t mode, void *leaf);
/* Remove the leaf at path; leaf_release runs when no vnode holds it. */
int vfs_ptree_remove(struct vfs_ptree *t, const char *path);
int vfs_ptree_root(struct vfs_ptree *t, struct mount *mp, struct vnode **vpp);
/* The pnode behind a vnode of a ptree filesystem. */
static inline struct vfs_pnode *vfs_ptree_node(struct vnode *vp)
{
	return (struct vfs_pnode *)vp->v_data;
}
/* getattr for any ptree vnode (size 0 unless the fs fills it in). */
int vfs_ptree_getattr(struct vnode *vp, struct vfs_stat *st);
void vfs_ptree_reclaim(struct vnode *vp);

#endif
