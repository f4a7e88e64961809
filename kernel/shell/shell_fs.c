/*
 * The shell's file commands, on the VFS calls: ls, cat, mkdir, rmdir, rm,
 * mv, ln, touch, stat, mount, umount, df, cd, pwd, hexdump, and write/read
 * of N bytes for quick I/O measurements. Errors are printed with the
 * errno's name (ENOENT, EROFS, ...) and make the command return 1.
 */
#include <errno.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <karst/time.h>
#include <stdlib.h>
#include <string.h>
#include <vfs.h>

static int fail(const char *cmd, const char *what, int err)
{
	printk("%s: %s: %s\n", cmd, what, vfs_errname(err));
	return 1;
}

static void mode_string(uint32_t mode, char out[11])
{
	const char *types = "?pc?d?b?-?l?s???";
	out[0] = types[(mode & S_IFMT) >> 12];
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		out[1 + i] = (mode & (0400u >> i)) ? rwx[i] : '-';
	out[10] = 0;
}

/* ls's choices: -l long lines, -a every name with . and .., -A every name
 * but those two, -f directory order (no sorting, as -f does elsewhere). */
struct ls_opts {
	bool lng, all, almost, unsorted;
};

/* One line for the entry at path (shown as name). */
static void ls_entry(const char *path, const char *name, bool lng)
{
	if (!lng) {
		shell_printf("%s\n", name);
		return;
	}
	struct vfs_stat st;
	int e = vfs_lstat(path, &st);
	if (e) {
		shell_printf("?????????? %s (%s)\n", name, vfs_errname(e));
		return;
	}
	char m[11];
	mode_string(st.st_mode, m);
	shell_printf("%s %3u %10lu %s", m, st.st_nlink, (unsigned long)st.st_size, name);
	if (S_ISLNK(st.st_mode)) {
		char target[KARST_PATH_MAX];
		long n = vfs_readlink(path, target, sizeof(target) - 1);
		if (n >= 0) {
			target[n] = 0;
			shell_printf(" -> %s", target);
		}
	}
	shell_printf("\n");
}

static void ls_dir_entry(const char *dir, const char *name, bool lng)
{
	char path[KARST_PATH_MAX];
	if ((size_t)ksnprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		shell_printf("?????????? %s (ENAMETOOLONG)\n", name);
	else
		ls_entry(path, name, lng);
}

static bool ls_shown(const char *name, const struct ls_opts *o)
{
	if (name[0] != '.')
		return true;
	bool dot = strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
	return o->all || (o->almost && !dot);
}

/* A larger copy of old (its first len bytes), old freed; NULL (old kept)
 * when there is no memory. */
static void *ls_grow(void *old, size_t len, size_t size)
{
	void *p = kmalloc(size);
	if (p && old)
		memcpy(p, old, len);
	if (p)
		kfree(old);
	return p;
}

static int ls_by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of a directory, sorted by byte value as ls does in the C
 * locale: collected into one growing block of names and one of pointers.
 * 0, or -ENOMEM (the caller then lists in directory order). */
static int ls_sorted(int fd, const char *path, const struct ls_opts *o, uint64_t *buf, size_t bsz)
{
	char *names = NULL, **idx = NULL;
	size_t used = 0, cap = 0, n = 0, icap = 0;
	long got;
	int err = 0;
	while (!err && (got = vfs_getdents(fd, buf, bsz)) > 0) {
		for (long off = 0; off < got;) {
			const struct vfs_dirent *d = (const void *)((const char *)buf + off);
			off += d->d_reclen;
			if (!ls_shown(d->d_name, o))
				continue;
			size_t len = strlen(d->d_name) + 1;
			if (used + len > cap || n == icap) {
				size_t ncap = used + len > cap ? 2 * cap + len + 4096 : cap;
				size_t nicap = n == icap ? 2 * icap + 256 : icap;
				char *nn = ncap != cap ? ls_grow(names, used, ncap) : names;
				char **ni = nicap != icap ? ls_grow(idx, n * sizeof(*idx),
								    nicap * sizeof(*idx))
							  : idx;
				if (nn)
					names = nn, cap = ncap;
				if (ni)
					idx = ni, icap = nicap;
				if (!nn || !ni) {
					err = -ENOMEM;
					break;
				}
			}
			memcpy(names + used, d->d_name, len);
			idx[n++] = (char *)(uintptr_t)used; /* an offset until names stops moving */
			used += len;
		}
	}
	if (!err && got < 0)
		err = (int)got;
	if (!err) {
		for (size_t i = 0; i < n; i++)
			idx[i] = names + (uintptr_t)idx[i];
		qsort(idx, n, sizeof(*idx), ls_by_name);
		for (size_t i = 0; i < n; i++)
			ls_dir_entry(path, idx[i], o->lng);
	}
	kfree(names);
	kfree(idx);
	return err;
}

static int ls_one(const char *path, const struct ls_opts *o)
{
	/* A symlink named on the command line is shown itself with -l (and
	 * when dangling), and listed as what it points to without. */
	struct vfs_stat st, to;
	int e = vfs_lstat(path, &st);
	if (e)
		return fail("ls", path, e);
	if (S_ISLNK(st.st_mode) && !o->lng && vfs_stat(path, &to) == 0)
		st = to;
	if (!S_ISDIR(st.st_mode)) {
		ls_entry(path, path, o->lng);
		return 0;
	}
	int fd = vfs_open(path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fail("ls", path, fd);
	static uint64_t buf[512]; /* getdents wants 8-byte alignment */
	e = o->unsorted ? -ENOMEM : ls_sorted(fd, path, o, buf, sizeof(buf));
	if (e == -ENOMEM) { /* -f, or too many names to sort: directory order */
		if (!o->unsorted)
			printk("ls: %s: no memory to sort the names: in directory order\n", path);
		vfs_close(fd);
		fd = vfs_open(path, O_RDONLY | O_DIRECTORY, 0);
		if (fd < 0)
			return fail("ls", path, fd);
		long n;
		while ((n = vfs_getdents(fd, buf, sizeof(buf))) > 0) {
			for (long off = 0; off < n;) {
				const struct vfs_dirent *d =
				    (const void *)((const char *)buf + off);
				if (ls_shown(d->d_name, o))
					ls_dir_entry(path, d->d_name, o->lng);
				off += d->d_reclen;
			}
		}
		e = n < 0 ? (int)n : 0;
	}
	vfs_close(fd);
	return e ? fail("ls", path, e) : 0;
}

static int cmd_ls(int argc, char **argv)
{
	struct ls_opts o = {0};
	int i = 1, status = 0;
	for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		for (const char *c = argv[i] + 1; *c; c++) {
			if (*c == 'l')
				o.lng = true;
			else if (*c == 'a')
				o.all = true;
			else if (*c == 'A')
				o.almost = true;
			else if (*c == 'f')
				o.unsorted = true;
			else {
				printk("usage: ls [-laAf] [PATH...]\n");
				return 2;
			}
		}
	}
	int first = i;
	if (i == argc)
		return ls_one(".", &o);
	for (; i < argc; i++) {
		if (argc - first > 1)
			shell_printf("%s:\n", argv[i]);
		status |= ls_one(argv[i], &o);
	}
	return status;
}
SHELL_CMD("ls", cmd_ls,
	  "ls [-laAf] [PATH...]: list directories, sorted (-a with dot names, -A without . "
	  "and .., -f unsorted)");

static int cmd_cat(int argc, char **argv)
{
	static char buf[4096];
	int status = 0;
	for (int i = 1; i < argc; i++) {
		int fd = vfs_open(argv[i], O_RDONLY, 0);
		if (fd < 0) {
			status = fail("cat", argv[i], fd);
			continue;
		}
		long n;
		while ((n = vfs_read(fd, buf, sizeof(buf))) > 0)
			shell_write(buf, (size_t)n);
		if (n < 0)
			status = fail("cat", argv[i], (int)n);
		vfs_close(fd);
	}
	return status;
}
SHELL_CMD("cat", cmd_cat, "cat FILE...: print files");

/* Commands that apply one path call to each argument. */
static int each_path(int argc, char **argv, int (*fn)(const char *))
{
	if (argc < 2) {
		printk("usage: %s PATH...\n", argv[0]);
		return 2;
	}
	int status = 0;
	for (int i = 1; i < argc; i++) {
		int e = fn(argv[i]);
		if (e)
			status = fail(argv[0], argv[i], e);
	}
	return status;
}

static int mkdir_0755(const char *p)
{
	return vfs_mkdir(p, 0755);
}

static int mkdir_parents(const char *p)
{
	char path[KARST_PATH_MAX];
	size_t n = strnlen(p, sizeof(path));
	if (n == sizeof(path))
		return -ENAMETOOLONG;
	memcpy(path, p, n + 1);
	for (size_t i = 1; i <= n; i++) {
		if (path[i] != '/' && path[i] != 0)
			continue;
		char c = path[i];
		path[i] = 0;
		int e = vfs_mkdir(path, 0755);
		path[i] = c;
		if (e && e != -17) /* EEXIST is fine on the way */
			return e;
	}
	return 0;
}

static int cmd_mkdir(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "-p") == 0) {
		argv[1] = argv[0];
		return each_path(argc - 1, argv + 1, mkdir_parents);
	}
	return each_path(argc, argv, mkdir_0755);
}
SHELL_CMD("mkdir", cmd_mkdir, "mkdir [-p] DIR...: make directories");

static int cmd_rmdir(int argc, char **argv)
{
	return each_path(argc, argv, vfs_rmdir);
}
SHELL_CMD("rmdir", cmd_rmdir, "rmdir DIR...: remove empty directories");

static int cmd_rm(int argc, char **argv)
{
	return each_path(argc, argv, vfs_unlink);
}
SHELL_CMD("rm", cmd_rm, "rm FILE...: remove files");

static int touch_one(const char *p)
{
	int fd = vfs_open(p, O_WRONLY | O_CREAT, 0644);
	return fd < 0 ? fd : vfs_close(fd);
}

static int cmd_touch(int argc, char **argv)
{
	return each_path(argc, argv, touch_one);
}
SHELL_CMD("touch", cmd_touch, "touch FILE...: create empty files");

static int cmd_mv(int argc, char **argv)
{
	if (argc != 3) {
		printk("usage: mv FROM TO\n");
		return 2;
	}
	int e = vfs_rename(argv[1], argv[2]);
	return e ? fail("mv", argv[1], e) : 0;
}
SHELL_CMD("mv", cmd_mv, "mv FROM TO: rename (replacing TO)");

static int cmd_ln(int argc, char **argv)
{
	bool sym = argc == 4 && strcmp(argv[1], "-s") == 0;
	if (argc != 3 && !sym) {
		printk("usage: ln [-s] TARGET LINK\n");
		return 2;
	}
	int e = sym ? vfs_symlink(argv[2], argv[3]) : vfs_link(argv[1], argv[2]);
	return e ? fail("ln", argv[argc - 1], e) : 0;
}
SHELL_CMD("ln", cmd_ln, "ln [-s] TARGET LINK: hard or symbolic link");

static int cmd_stat(int argc, char **argv)
{
	int status = 0;
	for (int i = 1; i < argc; i++) {
		struct vfs_stat st;
		int e = vfs_lstat(argv[i], &st);
		if (e) {
			status = fail("stat", argv[i], e);
			continue;
		}
		char m[11];
		mode_string(st.st_mode, m);
		shell_printf("  File: %s\n  Size: %lu  Blocks: %lu  IO block: %lu\n", argv[i],
			     (unsigned long)st.st_size, (unsigned long)st.st_blocks,
			     (unsigned long)st.st_blksize);
		shell_printf("Device: %lu  Inode: %lu  Links: %u  Mode: %04o (%s)\n",
			     (unsigned long)st.st_dev, (unsigned long)st.st_ino, st.st_nlink,
			     st.st_mode & 07777, m);
		shell_printf("Modify: %lu.%09lu s after boot\n",
			     (unsigned long)(st.st_mtime_ns / NSEC_PER_SEC),
			     (unsigned long)(st.st_mtime_ns % NSEC_PER_SEC));
	}
	return status;
}
SHELL_CMD("stat", cmd_stat, "stat PATH...: file status");

static int print_mount(void *arg, const struct vfs_mount_info *mi)
{
	shell_printf("%s on %s type %s (%s)\n", mi->source, mi->path, mi->type,
		     mi->opts && *mi->opts	    ? mi->opts
		     : (mi->flags & VFS_MNT_RDONLY) ? "ro"
						    : "rw");
	return 0;
}

static int cmd_mount(int argc, char **argv)
{
	if (argc == 1)
		return vfs_mount_foreach(print_mount, NULL) ? 1 : 0;
	const char *type = NULL, *opts = "";
	int i = 1;
	for (; i + 1 < argc && argv[i][0] == '-'; i += 2) {
		if (strcmp(argv[i], "-t") == 0)
			type = argv[i + 1];
		else if (strcmp(argv[i], "-o") == 0)
			opts = argv[i + 1];
		else
			break;
	}
	if (!type || argc - i != 2) {
		printk("usage: mount [-t TYPE [-o OPTS] SOURCE DIR]\n");
		return 2;
	}
	/* ro and rw are the VFS's; the rest goes to the filesystem. */
	char fsopts[128], copy[128];
	uint32_t flags = 0;
	size_t n = 0;
	if (strlen(opts) >= sizeof(copy)) {
		printk("mount: options too long\n");
		return 2;
	}
	strcpy(copy, opts);
	fsopts[0] = 0;
	for (char *o = copy, *next; o; o = next) {
		next = strchr(o, ',');
		if (next)
			*next++ = 0;
		if (strcmp(o, "ro") == 0)
			flags |= VFS_MNT_RDONLY;
		else if (strcmp(o, "rw") == 0)
			flags &= ~(uint32_t)VFS_MNT_RDONLY;
		else if (*o)
			n += (size_t)ksnprintf(fsopts + n, sizeof(fsopts) - n, "%s%s", n ? "," : "",
					       o);
	}
	int e = vfs_mount(argv[i], argv[i + 1], type, flags, fsopts);
	return e ? fail("mount", argv[i + 1], e) : 0;
}
SHELL_CMD("mount", cmd_mount, "mount [-t TYPE [-o OPTS] SOURCE DIR]: list or mount");

static int cmd_umount(int argc, char **argv)
{
	return each_path(argc, argv, vfs_umount);
}
SHELL_CMD("umount", cmd_umount, "umount DIR...: unmount");

/* Every writable mount with a sync op (cowfs commits its open group). */
static int cmd_sync(int argc, char **argv)
{
	return vfs_sync_all() ? 1 : 0;
}
SHELL_CMD("sync", cmd_sync, "sync: write back every writable filesystem now");

static int df_line(void *arg, const struct vfs_mount_info *mi)
{
	struct vfs_statfs sf;
	if (vfs_statfs(mi->path, &sf) != 0)
		return 0;
	uint64_t k = sf.f_bsize / 1024 ? sf.f_bsize / 1024 : 1;
	uint64_t total = sf.f_blocks * k, avail = sf.f_bavail * k,
		 used = (sf.f_blocks - sf.f_bfree) * k;
	shell_printf("%-12s %-8s %10lu %10lu %10lu %3lu%% %s\n", mi->source, sf.f_type,
		     (unsigned long)total, (unsigned long)used, (unsigned long)avail,
		     (unsigned long)(total ? used * 100 / total : 0), mi->path);
	return 0;
}

static int cmd_df(int argc, char **argv)
{
	shell_printf("%-12s %-8s %10s %10s %10s %4s %s\n", "Filesystem", "Type", "1K-blocks",
		     "Used", "Available", "Use%", "Mounted on");
	return vfs_mount_foreach(df_line, NULL) ? 1 : 0;
}
SHELL_CMD("df", cmd_df, "df: space on every mounted filesystem");

static int cmd_cd(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/";
	int e = vfs_chdir(dir);
	return e ? fail("cd", dir, e) : 0;
}
SHELL_CMD("cd", cmd_cd, "cd [DIR]: change directory");

static int cmd_pwd(int argc, char **argv)
{
	char buf[KARST_PATH_MAX];
	long n = vfs_getcwd(buf, sizeof(buf));
	if (n < 0)
		return fail("pwd", ".", (int)n);
	shell_printf("%s\n", buf);
	return 0;
}
SHELL_CMD("pwd", cmd_pwd, "pwd: print the current directory");

static int cmd_hexdump(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		printk("usage: hexdump FILE [OFFSET [LENGTH]]\n");
		return 2;
	}
	int64_t off = argc > 2 ? (int64_t)strtoull(argv[2], NULL, 0) : 0;
	uint64_t left = argc > 3 ? strtoull(argv[3], NULL, 0) : UINT64_MAX;
	int fd = vfs_open(argv[1], O_RDONLY, 0);
	if (fd < 0)
		return fail("hexdump", argv[1], fd);
	unsigned char line[16];
	long n = 0;
	while (left && (n = vfs_pread(fd, line, left < 16 ? left : 16, off)) > 0) {
		shell_printf("%08lx ", (unsigned long)off);
		for (int i = 0; i < 16; i++) {
			if (i < n)
				shell_printf(" %02x", line[i]);
			else
				shell_printf("   ");
		}
		shell_printf("  |");
		for (int i = 0; i < n; i++)
			shell_printf("%c", line[i] >= 0x20 && line[i] < 0x7f ? line[i] : '.');
		shell_printf("|\n");
		off += n;
		left -= (uint64_t)n;
	}
	vfs_close(fd);
	return n < 0 ? fail("hexdump", argv[1], (int)n) : 0;
}
SHELL_CMD("hexdump", cmd_hexdump, "hexdump FILE [OFFSET [LENGTH]]: bytes in hex and ASCII");

static void report_rate(const char *what, uint64_t bytes, uint64_t ns)
{
	uint64_t us = ns / 1000 ? ns / 1000 : 1;
	shell_printf("%s %lu bytes in %lu.%03lu ms: %lu KiB/s\n", what, (unsigned long)bytes,
		     (unsigned long)(us / 1000), (unsigned long)(us % 1000),
		     (unsigned long)(bytes * 1000000 / us / 1024));
}

static char io_buf[65536];

static int cmd_write(int argc, char **argv)
{
	if (argc < 3) {
		printk("usage: write FILE BYTES [BLOCKSIZE]\n");
		return 2;
	}
	uint64_t total = strtoull(argv[2], NULL, 0);
	size_t bs = argc > 3 ? (size_t)strtoul(argv[3], NULL, 0) : sizeof(io_buf);
	if (bs == 0 || bs > sizeof(io_buf))
		bs = sizeof(io_buf);
	for (size_t i = 0; i < sizeof(io_buf); i++)
		io_buf[i] = (char)('a' + i % 26);
	int fd = vfs_open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail("write", argv[1], fd);
	uint64_t t0 = time_ns(), done = 0;
	while (done < total) {
		size_t n = total - done < bs ? (size_t)(total - done) : bs;
		long w = vfs_write(fd, io_buf, n);
		if (w <= 0) {
			vfs_close(fd);
			return fail("write", argv[1], w ? (int)w : -5);
		}
		done += (uint64_t)w;
	}
	vfs_close(fd);
	report_rate("wrote", done, time_ns() - t0);
	return 0;
}
SHELL_CMD("write", cmd_write, "write FILE BYTES [BLOCKSIZE]: write a pattern, report speed");

static int cmd_read(int argc, char **argv)
{
	if (argc < 2 || argc > 4) {
		printk("usage: read FILE [BYTES [BLOCKSIZE]]\n");
		return 2;
	}
	uint64_t want = argc > 2 ? strtoull(argv[2], NULL, 0) : UINT64_MAX;
	if (want == 0)
		want = UINT64_MAX; /* 0: the whole file, as without BYTES */
	size_t bs = argc > 3 ? (size_t)strtoul(argv[3], NULL, 0) : sizeof(io_buf);
	if (bs == 0 || bs > sizeof(io_buf))
		bs = sizeof(io_buf);
	int fd = vfs_open(argv[1], O_RDONLY, 0);
	if (fd < 0)
		return fail("read", argv[1], fd);
	uint64_t t0 = time_ns(), done = 0;
	long n = 0;
	while (done < want && (n = vfs_read(fd, io_buf, want - done < bs ? want - done : bs)) > 0)
		done += (uint64_t)n;
	vfs_close(fd);
	if (n < 0)
		return fail("read", argv[1], (int)n);
	report_rate("read", done, time_ns() - t0);
	return 0;
}
SHELL_CMD("read", cmd_read,
	  "read FILE [BYTES [BLOCKSIZE]]: read BYTES (default all) of a file, report speed");
