/*
 * In-kernel tests of the VFS, ramfs, procfs and devfs through the
 * system-call-level interface, on the kernel's own threads and locks.
 */
#include <errno.h>
#include <karst/format.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <karst/sync.h>
#include <karst/thread.h>
#include <string.h>
#include <vfs.h>

KTEST(vfs_boot_mounts_present)
{
	struct vfs_stat st;
	KT_EXPECT(vfs_stat("/", &st) == 0 && S_ISDIR(st.st_mode));
	KT_EXPECT(vfs_stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode));
	KT_EXPECT(vfs_stat("/dev/console", &st) == 0 && S_ISCHR(st.st_mode));
	KT_EXPECT(vfs_stat("/proc/meminfo", &st) == 0);
	struct vfs_statfs sf;
	KT_EXPECT(vfs_statfs("/proc", &sf) == 0 && strcmp(sf.f_type, "procfs") == 0);
}

KTEST(vfs_file_round_trip)
{
	KT_EXPECT(vfs_mkdir("/kt", 0755) == 0 || vfs_mkdir("/kt", 0755) == -EEXIST);
	int fd = vfs_open("/kt/file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	KT_ASSERT(fd >= 0);
	char buf[8192];
	for (int i = 0; i < (int)sizeof(buf); i++)
		buf[i] = (char)(i * 13);
	KT_EXPECT(vfs_write(fd, buf, sizeof(buf)) == (long)sizeof(buf));
	KT_EXPECT(vfs_lseek(fd, 100, SEEK_SET) == 100);
	char r[200];
	KT_EXPECT(vfs_read(fd, r, sizeof(r)) == (long)sizeof(r));
	KT_EXPECT(memcmp(r, buf + 100, sizeof(r)) == 0);
	KT_EXPECT(vfs_pwrite(fd, "XY", 2, 8190) == 2);
	KT_EXPECT(vfs_lseek(fd, 0, SEEK_END) == 8192);
	KT_EXPECT(vfs_ftruncate(fd, 10) == 0);
	struct vfs_stat st;
	KT_EXPECT(vfs_fstat(fd, &st) == 0 && st.st_size == 10);
	KT_EXPECT(vfs_close(fd) == 0);
	KT_EXPECT(vfs_close(fd) == -EBADF);
	KT_EXPECT(vfs_rename("/kt/file", "/kt/renamed") == 0);
	KT_EXPECT(vfs_stat("/kt/file", &st) == -ENOENT);
	KT_EXPECT(vfs_symlink("/kt/renamed", "/kt/sym") == 0);
	KT_EXPECT(vfs_stat("/kt/sym", &st) == 0 && st.st_size == 10);
	KT_EXPECT(vfs_unlink("/kt/sym") == 0);
	KT_EXPECT(vfs_unlink("/kt/renamed") == 0);
	KT_EXPECT(vfs_rmdir("/kt") == 0);
}

/* A fingerprint of the tree's top: the root's names and the mounts. */
static int count_mount(void *arg, const struct vfs_mount_info *mi)
{
	(void)mi;
	(*(int *)arg)++;
	return 0;
}

static size_t tree_snapshot(char *out, size_t size)
{
	size_t n = 0;
	int mounts = 0;
	vfs_mount_foreach(count_mount, &mounts);
	n += (size_t)ksnprintf(out, size, "mounts %d:", mounts);
	int fd = vfs_open("/", O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return n;
	static char buf[2048];
	long got;
	while ((got = vfs_getdents(fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < got;) {
			const struct vfs_dirent *d = (const void *)(buf + off);
			if (n < size)
				n += (size_t)ksnprintf(out + n, size - n, " %s", d->d_name);
			off += d->d_reclen;
		}
	}
	vfs_close(fd);
	return n;
}

KTEST(vfs_errors_change_nothing)
{
	static char before[1024], after[1024];
	tree_snapshot(before, sizeof(before));
	KT_EXPECT(vfs_open("/no/such/file", O_RDONLY, 0) == -ENOENT);
	KT_EXPECT(vfs_open("", O_RDONLY, 0) == -ENOENT);
	KT_EXPECT(vfs_rmdir("/") == -EBUSY);
	KT_EXPECT(vfs_rmdir("/proc") == -EBUSY);
	KT_EXPECT(vfs_read(12345, NULL, 0) == -EBADF);
	KT_EXPECT(vfs_mount("x", "/proc", "nosuchfs", 0, NULL) == -ENODEV);
	char name[300];
	memset(name, 'n', sizeof(name) - 1);
	name[0] = '/';
	name[sizeof(name) - 1] = 0;
	KT_EXPECT(vfs_mkdir(name, 0755) == -ENAMETOOLONG);
	int fd = vfs_open("/proc/meminfo", O_WRONLY, 0);
	KT_EXPECT(fd < 0);
	fd = vfs_open("/", O_RDONLY | O_DIRECTORY, 0);
	KT_ASSERT(fd >= 0);
	char b[16];
	KT_EXPECT(vfs_read(fd, b, sizeof(b)) == -EISDIR);
	vfs_close(fd);
	KT_EXPECT(vfs_mkdir("/proc/x", 0755) < 0);
	KT_EXPECT(vfs_rename("/no/such", "/x") == -ENOENT);
	KT_EXPECT(vfs_open("/proc", O_RDONLY | O_CREAT | O_EXCL, 0644) == -EEXIST);
	tree_snapshot(after, sizeof(after));
	KT_EXPECT(strcmp(before, after) == 0);
	KT_EXPECT(strstr(before, " proc") != NULL && strstr(before, " dev") != NULL);
}

KTEST(vfs_proc_and_dev_files)
{
	char buf[512];
	int fd = vfs_open("/proc/meminfo", O_RDONLY, 0);
	KT_ASSERT(fd >= 0);
	long n = vfs_read(fd, buf, sizeof(buf) - 1);
	vfs_close(fd);
	KT_ASSERT(n > 0);
	buf[n] = 0;
	KT_EXPECT(strstr(buf, "MemTotal:") != NULL);
	fd = vfs_open("/proc/threads", O_RDONLY, 0);
	KT_ASSERT(fd >= 0);
	n = vfs_read(fd, buf, sizeof(buf) - 1);
	vfs_close(fd);
	KT_ASSERT(n > 0);
	buf[n] = 0;
	KT_EXPECT(strstr(buf, " main ") != NULL && strstr(buf, " idle ") != NULL);
	fd = vfs_open("/dev/zero", O_RDONLY, 0);
	KT_ASSERT(fd >= 0);
	memset(buf, 1, 64);
	KT_EXPECT(vfs_read(fd, buf, 64) == 64);
	vfs_close(fd);
	for (int i = 0; i < 64; i++)
		KT_EXPECT(buf[i] == 0);
	fd = vfs_open("/dev/console", O_WRONLY, 0);
	KT_ASSERT(fd >= 0);
	KT_EXPECT(vfs_write(fd, "    (written to /dev/console)\n", 30) == 30);
	vfs_close(fd);
}

struct creator {
	int id, failures;
};

static void create_many(void *arg)
{
	struct creator *c = arg;
	char path[64];
	for (int i = 0; i < 50; i++) {
		ksnprintf(path, sizeof(path), "/ktc/t%d_%d", c->id, i);
		int fd = vfs_open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || vfs_write(fd, path, strlen(path)) != (long)strlen(path))
			c->failures++;
		if (fd >= 0)
			vfs_close(fd);
		if (i % 2 && vfs_unlink(path) != 0)
			c->failures++;
	}
}

KTEST(vfs_concurrent_creators)
{
	KT_ASSERT(vfs_mkdir("/ktc", 0755) == 0);
	struct creator c[4];
	struct thread *t[4];
	for (int i = 0; i < 4; i++) {
		c[i] = (struct creator){i, 0};
		t[i] = thread_create("vfs_creator", create_many, &c[i], THREAD_PRIO_DEFAULT);
		KT_ASSERT(t[i] != NULL);
	}
	int failures = 0;
	for (int i = 0; i < 4; i++) {
		thread_join(t[i]);
		failures += c[i].failures;
	}
	KT_EXPECT(failures == 0);
	/* 4 threads x 25 files left. */
	int fd = vfs_open("/ktc", O_RDONLY | O_DIRECTORY, 0);
	KT_ASSERT(fd >= 0);
	static uint64_t dbuf[512];
	int entries = 0;
	long n;
	while ((n = vfs_getdents(fd, dbuf, sizeof(dbuf))) > 0)
		for (long off = 0; off < n;) {
			const struct vfs_dirent *d = (const void *)((const char *)dbuf + off);
			entries += d->d_name[0] == 't';
			off += d->d_reclen;
		}
	vfs_close(fd);
	KT_EXPECT(entries == 100);
}

/* The whole file at path into buf (NUL-terminated); its length or -1. */
static long kt_slurp(const char *path, char *buf, size_t size)
{
	int fd = vfs_open(path, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	long n = vfs_read(fd, buf, size - 1);
	vfs_close(fd);
	buf[n > 0 ? n : 0] = 0;
	return n;
}

/* The shell's ls: names sorted by byte value, dot names only with -a (with
 * . and ..) or -A, directory order with -f, a symlink on the command line
 * shown itself with -l (dangling too), a relative directory listed from
 * the shell's directory. */
KTEST(vfs_shell_ls)
{
	static char out[512];
	static const char *const names[] = {"b", "a b", ".h", "C", "a", "_x"};
	KT_ASSERT(vfs_mkdir("/kt-ls", 0755) == 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char p[64];
		ksnprintf(p, sizeof(p), "/kt-ls/%s", names[i]);
		int fd = vfs_open(p, O_CREAT | O_WRONLY, 0644);
		KT_ASSERT(fd >= 0);
		vfs_close(fd);
	}
	KT_ASSERT(vfs_symlink("nowhere", "/kt-ls/dangling") == 0);
	KT_EXPECT(shell_exec_line("ls /kt-ls > /kt-ls.out") == 0);
	KT_EXPECT(kt_slurp("/kt-ls.out", out, sizeof(out)) > 0 &&
		  !strcmp(out, "C\n_x\na\na b\nb\ndangling\n"));
	KT_EXPECT(shell_exec_line("ls -A /kt-ls > /kt-ls.out") == 0);
	KT_EXPECT(kt_slurp("/kt-ls.out", out, sizeof(out)) > 0 &&
		  !strcmp(out, ".h\nC\n_x\na\na b\nb\ndangling\n"));
	KT_EXPECT(shell_exec_line("ls -a /kt-ls > /kt-ls.out") == 0);
	KT_EXPECT(kt_slurp("/kt-ls.out", out, sizeof(out)) > 0 &&
		  !strncmp(out, ".\n..\n.h\nC\n", 10));
	KT_EXPECT(shell_exec_line("ls -f /kt-ls > /kt-ls.out") == 0);
	KT_EXPECT(kt_slurp("/kt-ls.out", out, sizeof(out)) > 0 && strstr(out, "a b\n") &&
		  !strstr(out, ".h\n"));
	KT_EXPECT(shell_exec_line("ls -l /kt-ls/dangling > /kt-ls.out") == 0);
	KT_EXPECT(kt_slurp("/kt-ls.out", out, sizeof(out)) > 0 && out[0] == 'l' &&
		  strstr(out, " /kt-ls/dangling -> nowhere\n"));
	KT_EXPECT(shell_exec_line("cd /kt-ls; ls -l b > /kt-ls.out; cd /") == 0);
	KT_EXPECT(kt_slurp("/kt-ls.out", out, sizeof(out)) > 0 && out[0] == '-' &&
		  strstr(out, " b\n"));
	KT_EXPECT(shell_exec_line("ls /kt-ls/nothing") == 1);
	KT_EXPECT(shell_exec_line("ls -z /kt-ls") == 2);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char p[64];
		ksnprintf(p, sizeof(p), "/kt-ls/%s", names[i]);
		KT_EXPECT(vfs_unlink(p) == 0);
	}
	KT_EXPECT(vfs_unlink("/kt-ls/dangling") == 0 && vfs_unlink("/kt-ls.out") == 0);
	KT_EXPECT(vfs_rmdir("/kt-ls") == 0);
}
