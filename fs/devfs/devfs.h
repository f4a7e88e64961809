/*
 * devfs: device files under /dev.
 *
 * A driver publishes a device by name with a table of operations and an
 * argument passed back to each of them:
 *
 *	static const struct devfs_ops console_ops = {
 *		.mode = S_IFCHR | 0666, .read = console_read, .write = console_write,
 *	};
 *	devfs_register("console", &console_ops, &the_console);
 *
 * Names may nest ("label/root", "disk/by-id/x"): the directories on the
 * way are made. Read and write get the VFS's uio (uio_offset is the file
 * offset, meaningful for block devices) and are called with no VFS lock
 * held, so they may block; they serialise themselves. A device without
 * read or write answers EINVAL to it, one without ioctl ENOTTY.
 *
 * devfs_unregister makes the name disappear at once; files already open
 * keep calling the ops until they are closed, so a driver must keep arg
 * valid until then (or make its ops fail). A device whose arg is freed when
 * it goes sets release: devfs calls it once the name is unregistered and
 * no vnode refers to the device any more (every file closed, every stat
 * done); no op is called after it. It runs with no devfs or VFS lock held,
 * possibly inside devfs_unregister, and must not call back into devfs.
 */
#ifndef KARST_DEVFS_H
#define KARST_DEVFS_H

#include <stdint.h>
#include <vfs.h>

struct devfs_ops {
	uint32_t mode; /* S_IFCHR or S_IFBLK with permission bits; 0: S_IFCHR | 0600 */
	int (*open)(void *arg, int flags);
	int (*close)(void *arg);
	int (*read)(void *arg, struct uio *uio, int ioflag);
	int (*write)(void *arg, struct uio *uio, int ioflag);
	int (*ioctl)(void *arg, unsigned long cmd, void *data);
	uint64_t (*size)(void *arg); /* bytes, for stat of a block device */
	void (*release)(void *arg);  /* may be NULL; see above */
};

/* -EEXIST, -EINVAL (bad name or mode), -ENOTDIR, -ENAMETOOLONG, -ENOMEM. */
int devfs_register(const char *name, const struct devfs_ops *ops, void *arg);
int devfs_unregister(const char *name);

/* Register the "devfs" type and the built-in devices null and zero. */
int devfs_init(void);

#endif
