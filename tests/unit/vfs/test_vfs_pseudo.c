/*
 * procfs and devfs: registration APIs, generated files, devices.
 */
#include "vfs_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void pseudo_setup(void)
{
	vt_boot();
	ck_assert_int_eq(vfs_mount_boot(NULL), 0); /* /dev and /proc */
}

/* ---- procfs ---- */

static int counter_show(struct seqbuf *sb, void *arg)
{
	int *calls = arg;
	(*calls)++;
	seqbuf_printf(sb, "hits %d\nmisses %d\n", 10 * *calls, 3);
	return 0;
}

static int big_show(struct seqbuf *sb, void *arg)
{
	for (int i = 0; i < 2000; i++)
		seqbuf_printf(sb, "line %04d %s\n", i, "....................................");
	return 0;
}

static int fail_show(struct seqbuf *sb, void *arg)
{
	return -EIO;
}

static int meminfo_show(struct seqbuf *sb, void *arg)
{
	seqbuf_printf(sb, "MemTotal: %8d kB\nMemFree:  %8d kB\n", 65536, 1234);
	return 0;
}

START_TEST(test_procfs_register_and_read)
{
	static int calls;
	calls = 0;
	ck_assert_int_eq(procfs_register("spl/kstat/zfs/arcstats", counter_show, &calls), 0);
	ck_assert_int_eq(procfs_register("meminfo", meminfo_show, NULL), 0);
	char *s = vt_read_all("/proc/spl/kstat/zfs/arcstats");
	ck_assert_str_eq(s, "hits 10\nmisses 3\n");
	free(s);
	s = vt_read_all("/proc/spl/kstat/zfs/arcstats"); /* generated anew per open */
	ck_assert_str_eq(s, "hits 20\nmisses 3\n");
	free(s);
	s = vt_read_all("/proc/meminfo");
	ck_assert_ptr_nonnull(strstr(s, "MemTotal:    65536 kB"));
	free(s);
	s = vt_list("/proc");
	ck_assert_str_eq(s, "meminfo mounts spl");
	free(s);
	s = vt_list("/proc/spl/kstat/zfs");
	ck_assert_str_eq(s, "arcstats");
	free(s);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_stat("/proc/spl/kstat/zfs/arcstats", &st), 0);
	ck_assert_uint_eq(st.st_mode, S_IFREG | 0444);
	ck_assert_uint_eq(st.st_size, 0);
	ck_assert_int_eq(vfs_stat("/proc/spl/kstat", &st), 0);
	ck_assert_uint_eq(st.st_mode, S_IFDIR | 0555);
	ck_assert_int_eq(vfs_stat("/proc/spl/kstat/..", &st), 0);
	struct vfs_stat root;
	ck_assert_int_eq(vfs_stat("/", &root), 0);
	ck_assert_int_eq(vfs_stat("/proc/..", &st), 0);
	ck_assert_uint_eq(st.st_dev, root.st_dev); /* back in the root mount */
	/* one snapshot per open, whatever the read sizes */
	int fd = vfs_open("/proc/spl/kstat/zfs/arcstats", O_RDONLY, 0);
	char buf[64] = {0};
	ck_assert_int_eq(vfs_read(fd, buf, 5), 5);
	ck_assert_int_eq(vfs_read(fd, buf + 5, 60), 12);
	ck_assert_str_eq(buf, "hits 30\nmisses 3\n");
	ck_assert_int_eq(vfs_pread(fd, buf, 4, 5), 4);
	ck_assert_mem_eq(buf, "30\nm", 4);
	/* unregistered while open: the open file keeps its snapshot */
	ck_assert_int_eq(procfs_unregister("spl/kstat/zfs/arcstats"), 0);
	ck_assert_int_eq(vfs_pread(fd, buf, 7, 0), 7);
	ck_assert_mem_eq(buf, "hits 30", 7);
	vfs_close(fd);
	ck_assert_int_eq(calls, 3);
	ck_assert_err(vfs_stat("/proc/spl/kstat/zfs/arcstats", &st), ENOENT);
	ck_assert_err(procfs_unregister("spl/kstat/zfs/arcstats"), ENOENT);
	ck_assert_err(procfs_unregister("spl/kstat"), EISDIR);
	ck_assert_err(procfs_unregister("meminfo/x"), ENOTDIR);
	ck_assert_int_eq(procfs_register("spl/kstat/zfs/arcstats", counter_show, &calls), 0);
	ck_assert_int_eq(vfs_stat("/proc/spl/kstat/zfs/arcstats", &st), 0);
	/* the registry is global: leave it as found (matters with CK_FORK=no) */
	ck_assert_int_eq(procfs_unregister("spl/kstat/zfs/arcstats"), 0);
	ck_assert_int_eq(procfs_unregister("meminfo"), 0);
}
END_TEST

START_TEST(test_procfs_errors)
{
	ck_assert_err(procfs_register("mounts", meminfo_show, NULL), EEXIST);
	ck_assert_err(procfs_register("mounts/x", meminfo_show, NULL), ENOTDIR);
	ck_assert_err(procfs_register("", meminfo_show, NULL), EINVAL);
	ck_assert_err(procfs_register("/", meminfo_show, NULL), EINVAL);
	ck_assert_err(procfs_register("a//b", meminfo_show, NULL), EINVAL);
	ck_assert_err(procfs_register("a/../b", meminfo_show, NULL), EINVAL);
	ck_assert_err(procfs_register("./b", meminfo_show, NULL), EINVAL);
	ck_assert_err(procfs_register("b/", meminfo_show, NULL), EINVAL);
	ck_assert_err(procfs_register(NULL, meminfo_show, NULL), EINVAL);
	ck_assert_err(procfs_register("x", NULL, NULL), EINVAL);
	char name[KARST_NAME_MAX + 2];
	memset(name, 'p', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	ck_assert_err(procfs_register(name, meminfo_show, NULL), ENAMETOOLONG);
	ck_assert_int_eq(procfs_register("/abs/ok", meminfo_show, NULL), 0);
	ck_assert_int_eq(procfs_register("fails", fail_show, NULL), 0);
	ck_assert_err(vfs_open("/proc/fails", O_RDONLY, 0), EIO);
	/* read-only: no writing, no creating, no removing */
	char *before = vt_snapshot("/proc");
	ck_assert_err(vfs_open("/proc/mounts", O_WRONLY, 0), EACCES);
	ck_assert_err(vfs_open("/proc/new", O_CREAT | O_WRONLY, 0644), EACCES);
	ck_assert_err(vfs_mkdir("/proc/d", 0755), EACCES);
	ck_assert_err(vfs_unlink("/proc/mounts"), EACCES);
	ck_assert_err(vfs_truncate("/proc/mounts", 0), EACCES);
	ck_assert_err(vfs_rmdir("/proc/abs"), EACCES);
	char *after = vt_snapshot("/proc");
	ck_assert_str_eq(before, after);
	free(before);
	free(after);
	ck_assert_err(vfs_chmod("/proc/mounts", 0666), EPERM);
	int fd = vfs_open("/proc/mounts", O_RDONLY, 0);
	struct vfs_mmap_req req = {.length = 4096, .prot = VFS_PROT_READ, .flags = VFS_MAP_SHARED};
	ck_assert_err(vfs_mmap(fd, &req), ENODEV);
	vfs_close(fd);
}
END_TEST

START_TEST(test_procfs_big_file)
{
	ck_assert_int_eq(procfs_register("big", big_show, NULL), 0);
	char *s = vt_read_all("/proc/big");
	ck_assert_uint_eq(strlen(s), 2000 * 47);
	ck_assert_ptr_nonnull(strstr(s, "line 1999 ...."));
	free(s);
}
END_TEST

START_TEST(test_seqbuf)
{
	struct seqbuf sb = {0};
	ck_assert_int_eq(seqbuf_printf(&sb, "%s-%d", "abc", 42), 0);
	ck_assert_int_eq(seqbuf_write(&sb, "xyz", 3), 0);
	ck_assert_uint_eq(sb.len, 9);
	ck_assert_mem_eq(sb.buf, "abc-42xyz", 9);
	char chunk[1000];
	memset(chunk, 'c', sizeof(chunk));
	int err = 0;
	while (!err)
		err = seqbuf_write(&sb, chunk, sizeof(chunk));
	ck_assert_int_eq(err, -EFBIG);
	ck_assert_uint_le(sb.len, SEQBUF_MAX);
	size_t len = sb.len;
	ck_assert_int_eq(seqbuf_printf(&sb, "more"), -EFBIG);
	ck_assert_uint_eq(sb.len, len);
	seqbuf_free(&sb);
	ck_assert_ptr_null(sb.buf);
	ck_assert_int_eq(seqbuf_printf(&sb, "%0300d", 7), 0); /* grows past 256 at once */
	ck_assert_uint_eq(sb.len, 300);
	seqbuf_free(&sb);
}
END_TEST

/* ---- devfs ---- */

struct fakedev {
	char data[64];
	size_t len;
	int opens, closes, releases;
	unsigned long last_ioctl;
	bool fail_open;
};

static int fd_open(void *arg, int flags)
{
	struct fakedev *d = arg;
	if (d->fail_open)
		return -ENXIO;
	d->opens++;
	return 0;
}

static int fd_close(void *arg)
{
	((struct fakedev *)arg)->closes++;
	return 0;
}

static int fd_read(void *arg, struct uio *uio, int ioflag)
{
	struct fakedev *d = arg;
	if ((size_t)uio->uio_offset < d->len)
		uiomove(d->data + uio->uio_offset, d->len - (size_t)uio->uio_offset, uio);
	return 0;
}

static int fd_write(void *arg, struct uio *uio, int ioflag)
{
	struct fakedev *d = arg;
	size_t n = uio->uio_resid < sizeof(d->data) ? uio->uio_resid : sizeof(d->data);
	d->len = uiomove(d->data, n, uio);
	return 0;
}

static int fd_ioctl(void *arg, unsigned long cmd, void *data)
{
	struct fakedev *d = arg;
	d->last_ioctl = cmd;
	if (data)
		*(int *)data = 99;
	return cmd == 13 ? -EINVAL : 0;
}

static uint64_t fd_size(void *arg)
{
	return 1 << 20;
}

static const struct devfs_ops fake_chr_ops = {
    .mode = S_IFCHR | 0666,
    .open = fd_open,
    .close = fd_close,
    .read = fd_read,
    .write = fd_write,
    .ioctl = fd_ioctl,
};

static const struct devfs_ops fake_blk_ops = {
    .mode = S_IFBLK | 0660,
    .read = fd_read,
    .size = fd_size,
};

START_TEST(test_devfs_devices)
{
	static struct fakedev con, disk;
	memset(&con, 0, sizeof(con));
	memset(&disk, 0, sizeof(disk));
	strcpy(disk.data, "blockdata");
	disk.len = 9;
	ck_assert_int_eq(devfs_register("console", &fake_chr_ops, &con), 0);
	ck_assert_int_eq(devfs_register("label/root", &fake_blk_ops, &disk), 0);
	ck_assert_err(devfs_register("console", &fake_chr_ops, &con), EEXIST);
	ck_assert_err(devfs_register("label", &fake_chr_ops, &con), EEXIST);
	ck_assert_err(devfs_register("x", NULL, &con), EINVAL);
	static const struct devfs_ops bad_mode = {.mode = S_IFREG | 0644};
	ck_assert_err(devfs_register("x", &bad_mode, NULL), EINVAL);
	char *s = vt_list("/dev");
	ck_assert_str_eq(s, "console label null zero");
	free(s);

	int fd = vfs_open("/dev/console", O_RDWR, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(con.opens, 1);
	ck_assert_int_eq(vfs_write(fd, "hello", 5), 5);
	ck_assert_str_eq(con.data, "hello");
	char buf[32] = {0};
	ck_assert_int_eq(vfs_pread(fd, buf, sizeof(buf), 0), 5);
	ck_assert_str_eq(buf, "hello");
	int out = 0;
	ck_assert_int_eq(vfs_ioctl(fd, 7, &out), 0);
	ck_assert_int_eq(out, 99);
	ck_assert_uint_eq(con.last_ioctl, 7);
	ck_assert_err(vfs_ioctl(fd, 13, NULL), EINVAL);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_mode, S_IFCHR | 0666);
	ck_assert_uint_eq(st.st_rdev, st.st_ino);
	vfs_close(fd);
	ck_assert_int_eq(con.closes, 1);

	ck_assert_int_eq(vfs_stat("/dev/label/root", &st), 0);
	ck_assert_uint_eq(st.st_mode, S_IFBLK | 0660);
	ck_assert_uint_eq(st.st_size, 1 << 20);
	fd = vfs_open("/dev/label/root", O_RDWR, 0);
	ck_assert_int_eq(vfs_lseek(fd, 5, SEEK_SET), 5);
	ck_assert_int_eq(vfs_read(fd, buf, 4), 4);
	ck_assert_mem_eq(buf, "data", 4);
	ck_assert_int_eq(vfs_lseek(fd, 0, SEEK_CUR), 9);
	ck_assert_err(vfs_write(fd, "x", 1), EINVAL); /* no write op */
	ck_assert_err(vfs_ioctl(fd, 1, NULL), ENOTTY);
	vfs_close(fd);

	con.fail_open = true;
	ck_assert_err(vfs_open("/dev/console", O_RDONLY, 0), ENXIO);
	con.fail_open = false;

	/* unregistered: gone at once; an open file keeps working until closed */
	fd = vfs_open("/dev/console", O_RDONLY, 0);
	ck_assert_int_eq(devfs_unregister("console"), 0);
	ck_assert_err(vfs_stat("/dev/console", &st), ENOENT);
	ck_assert_int_eq(vfs_read(fd, buf, 5), 5);
	vfs_close(fd);
	ck_assert_err(devfs_unregister("console"), ENOENT);
	ck_assert_int_eq(devfs_unregister("/label/root"), 0);
}
END_TEST

static void fd_release(void *arg)
{
	((struct fakedev *)arg)->releases++;
}

static const struct devfs_ops fake_rel_ops = {
    .mode = S_IFBLK | 0600,
    .read = fd_read,
    .size = fd_size,
    .release = fd_release,
};

/* release comes once the name is gone and no vnode holds the device. */
START_TEST(test_devfs_release)
{
	static struct fakedev d;
	memset(&d, 0, sizeof(d));
	ck_assert_int_eq(devfs_register("rel", &fake_rel_ops, &d), 0);
	ck_assert_int_eq(devfs_unregister("rel"), 0);
	ck_assert_int_eq(d.releases, 1);

	ck_assert_int_eq(devfs_register("rel", &fake_rel_ops, &d), 0);
	int fd = vfs_open("/dev/rel", O_RDONLY, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(devfs_unregister("rel"), 0);
	ck_assert_int_eq(d.releases, 1); /* still open */
	struct vfs_stat st;
	ck_assert_int_eq(vfs_fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_size, 1 << 20);
	vfs_close(fd);
	ck_assert_int_eq(d.releases, 2);
}
END_TEST

START_TEST(test_devfs_null_zero)
{
	int fd = vfs_open("/dev/zero", O_RDWR, 0);
	char buf[100];
	memset(buf, 1, sizeof(buf));
	ck_assert_int_eq(vfs_read(fd, buf, sizeof(buf)), 100);
	for (int i = 0; i < 100; i++)
		ck_assert_int_eq(buf[i], 0);
	ck_assert_int_eq(vfs_write(fd, buf, 50), 50);
	vfs_close(fd);
	fd = vfs_open("/dev/null", O_RDWR, 0);
	ck_assert_int_eq(vfs_read(fd, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vfs_write(fd, buf, 100), 100);
	struct vfs_iovec iov[2] = {{buf, 10}, {buf + 10, 20}};
	ck_assert_int_eq(vfs_writev(fd, iov, 2), 30);
	vfs_close(fd);
	/* devfs holds devices, not files */
	ck_assert_err(vfs_open("/dev/newfile", O_CREAT | O_RDWR, 0644), EACCES);
	ck_assert_int_eq(vfs_umount("/dev"), 0); /* unmounting devfs works when idle */
}
END_TEST

START_TEST(test_pseudo_umount_busy)
{
	int fd = vfs_open("/dev/null", O_RDONLY, 0);
	ck_assert_err(vfs_umount("/dev"), EBUSY);
	vfs_close(fd);
	ck_assert_int_eq(vfs_umount("/dev"), 0);
	ck_assert_int_eq(vfs_mount("devfs", "/dev", "devfs", 0, NULL), 0);
	struct vfs_stat st;
	ck_assert_int_eq(vfs_stat("/dev/zero", &st), 0);
	/* a second mount of procfs shows the same files */
	ck_assert_int_eq(vfs_mkdir("/proc2", 0755), 0);
	ck_assert_int_eq(vfs_mount("p", "/proc2", "procfs", 0, NULL), 0);
	ck_assert_int_eq(vfs_stat("/proc2/mounts", &st), 0);
	ck_assert_int_eq(vfs_umount("/proc2"), 0);
}
END_TEST

TCase *tcase_procfs(void)
{
	TCase *tc = tcase_create("procfs");
	tcase_add_checked_fixture(tc, pseudo_setup, vt_teardown);
	tcase_add_test(tc, test_procfs_register_and_read);
	tcase_add_test(tc, test_procfs_errors);
	tcase_add_test(tc, test_procfs_big_file);
	tcase_add_test(tc, test_seqbuf);
	return tc;
}

TCase *tcase_devfs(void)
{
	TCase *tc = tcase_create("devfs");
	tcase_add_checked_fixture(tc, pseudo_setup, vt_teardown);
	tcase_add_test(tc, test_devfs_devices);
	tcase_add_test(tc, test_devfs_release);
	tcase_add_test(tc, test_devfs_null_zero);
	tcase_add_test(tc, test_pseudo_umount_busy);
	return tc;
}
