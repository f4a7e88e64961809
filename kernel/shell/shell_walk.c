/*
 * walk and sleep, for scripts (run=) that exercise a filesystem.
 *
 *   walk DIR...     every entry beneath DIR, recursively, by getdents and
 *                   lstat: prints "N files, N directories, N other, N bytes
 *                   in N ms" (directories counted without DIR itself;
 *                   "other" is symlinks, devices and the rest; bytes are
 *                   the st_size of regular files). Symlinks are not
 *                   followed. An error names the path and fails the walk.
 *   sleep SECONDS   sleep the shell's thread (a decimal number, 0.5 works).
 *
 * walk recurses with one path buffer shared by all levels; each level
 * reads its directory in pieces into a small buffer of its own (allocated,
 * not on the stack): each piece's entries are handled (subdirectories
 * recursed into at once) before the next getdents, the descriptor kept
 * open across the recursion. Depth is bounded by KARST_PATH_MAX, as every
 * path fits in the shared buffer.
 */
#include <errno.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <string.h>
#include <vfs.h>

#define WALK_BUF 2048

struct walk_count {
	uint64_t files, dirs, other, bytes;
};

/* Walk the directory named by path[0..len); path has KARST_PATH_MAX bytes. */
static int walk_dir(char *path, size_t len, struct walk_count *c)
{
	int fd = vfs_open(path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		printk("walk: %s: %s\n", path, vfs_errname(fd));
		return fd;
	}
	uint64_t *buf = kmalloc(WALK_BUF); /* getdents wants 8-byte alignment */
	if (!buf) {
		vfs_close(fd);
		return -ENOMEM;
	}
	long n;
	int err = 0;
	while (!err && (n = vfs_getdents(fd, buf, WALK_BUF)) > 0) {
		for (long off = 0; off < n && !err;) {
			const struct vfs_dirent *d = (const void *)((const char *)buf + off);
			off += d->d_reclen;
			if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
				continue;
			size_t nl = strlen(d->d_name);
			if (len + 1 + nl + 1 > KARST_PATH_MAX) {
				printk("walk: %s/%s: ENAMETOOLONG\n", path, d->d_name);
				err = -ENAMETOOLONG;
				break;
			}
			path[len] = '/';
			memcpy(path + len + 1, d->d_name, nl + 1);
			struct vfs_stat st;
			err = vfs_lstat(path, &st);
			if (err)
				printk("walk: %s: %s\n", path, vfs_errname(err));
			else if (S_ISDIR(st.st_mode)) {
				c->dirs++;
				err = walk_dir(path, len + 1 + nl, c);
			} else if (S_ISREG(st.st_mode)) {
				c->files++;
				c->bytes += st.st_size;
			} else
				c->other++;
			path[len] = 0;
		}
	}
	if (!err && n < 0) {
		printk("walk: %s: %s\n", path, vfs_errname((int)n));
		err = (int)n;
	}
	kfree(buf);
	vfs_close(fd);
	return err;
}

static int cmd_walk(int argc, char **argv)
{
	if (argc < 2) {
		printk("usage: walk DIR...\n");
		return 2;
	}
	char *path = kmalloc(KARST_PATH_MAX);
	if (!path)
		return 1;
	int status = 0;
	for (int i = 1; i < argc; i++) {
		size_t len = strlen(argv[i]);
		while (len > 1 && argv[i][len - 1] == '/')
			len--;
		if (len >= KARST_PATH_MAX) {
			status = 1;
			continue;
		}
		memcpy(path, argv[i], len);
		path[len] = 0;
		if (len == 1 && path[0] == '/')
			len = 0; /* children are "/name" */
		struct walk_count c = {0};
		uint64_t t0 = time_ns();
		if (walk_dir(len ? path : "/", len, &c) != 0) {
			status = 1;
			continue;
		}
		shell_printf("%lu files, %lu directories, %lu other, %lu bytes in %lu ms\n",
			     (unsigned long)c.files, (unsigned long)c.dirs, (unsigned long)c.other,
			     (unsigned long)c.bytes, (unsigned long)((time_ns() - t0) / 1000000));
	}
	kfree(path);
	return status;
}
SHELL_CMD("walk", cmd_walk, "walk DIR...: count the files, directories and bytes beneath DIR");

static int cmd_sleep(int argc, char **argv)
{
	if (argc != 2) {
		printk("usage: sleep SECONDS\n");
		return 2;
	}
	uint64_t sec = 0, frac = 0, unit = 1000000000; /* frac in ns */
	bool dot = false, digits = false;
	for (const char *s = argv[1]; *s; s++) {
		if (*s == '.' && !dot) {
			dot = true;
		} else if (*s >= '0' && *s <= '9' && !dot) {
			sec = sec * 10 + (uint64_t)(*s - '0');
			digits = true;
		} else if (*s >= '0' && *s <= '9') {
			unit /= 10;
			frac += (uint64_t)(*s - '0') * unit;
			digits = true;
		} else {
			digits = false;
			break;
		}
	}
	if (!digits || sec > 86400) {
		printk("sleep: %s: not a number of seconds (at most a day)\n", argv[1]);
		return 2;
	}
	thread_sleep_ns(sec * 1000000000 + frac);
	return 0;
}
SHELL_CMD("sleep", cmd_sleep, "sleep SECONDS: pause the shell (0.5 works)");
