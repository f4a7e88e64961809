/*
 * In-kernel tests of virtio-fs against a real virtiofsd serving the tree
 * tests/kernel/kt_virtiofs_tree.py generated on the host, tagged "ktree"
 * (run-ktests: karst-run --share DIR:ktree). Without such a device the
 * tests that need it say so and are skipped.
 *
 * virtiofs_tree_hashes  every regular file, hashed with the shell's
 *                       xxhsum, against the host's xxhsum (MANIFEST.xxh)
 * virtiofs_tree_walk    readdir of every directory (the 10,000-entry one
 *                       with a small buffer), file count against the host's
 * virtiofs_tree_misc    symlinks, sizes, EOF, statfs against the host's,
 *                       EROFS for every change, attribute timeouts, the
 *                       read window (hits, read-ahead, nothing filling
 *                       after a close), and after unmount every host
 *                       lookup given back
 * virtiofs_mmap         files mapped through the page cache (pages lent
 *                       from window chunks, pinned while held, or filled):
 *                       XXH64 of each mapping against the host's xxhsum;
 *                       the scanner's reports warm the chunks
 * virtiofs_host_changes (manual) run-ktests changes files on the host
 *                       while they are read and mapped: sizes, contents
 *                       (through read() and through a mapping made before
 *                       the change), a removed and a new name show after
 *                       the timeouts; a shrunk file's mapping reads zeros
 * virtiofs_killed       (manual) reads while run-ktests kills virtiofsd:
 *                       EIO in bounded time, the kernel stays up
 */
#include <errno.h>
#include <karst/kmem.h>
#include <karst/kmem_kernel.h>
#include <karst/ktest.h>
#include <karst/page_alloc.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <pagecache.h>
#include <string.h>
#include <vfs.h>
#include <virtiofs.h>

#include "dax.h"

/* xxhash's C11 static assertions would pull in <assert.h>. */
#define XXH_STATIC_ASSERT(c) _Static_assert((c), #c)
#define XXH_INLINE_ALL
#include <xxhash.h>

#define KTAG "ktree"
#define KMNT "/vt"

static bool have_tree(void)
{
	if (virtiofs_conn_find(KTAG))
		return true;
	ktest_skip("no virtio-fs device tagged '" KTAG
		   "' (run-ktests shares a generated tree: karst-run --share DIR:" KTAG ")");
	return false;
}

static int mount_tree_opts(const char *opts)
{
	int e = vfs_mkdir(KMNT, 0755);
	if (e && e != -EEXIST)
		return e;
	return vfs_mount(KTAG, KMNT, "virtiofs", 0, opts);
}

static int mount_tree(void)
{
	return mount_tree_opts(NULL); /* the default read window */
}

/* The whole file in a kmalloc'd buffer with a NUL after it, or NULL. */
static char *slurp(const char *path, size_t *lenp)
{
	struct vfs_stat st;
	if (vfs_stat(path, &st) != 0)
		return NULL;
	char *buf = kmalloc(st.st_size + 1);
	int fd = vfs_open(path, O_RDONLY, 0);
	if (!buf || fd < 0) {
		kfree(buf);
		if (fd >= 0)
			vfs_close(fd);
		return NULL;
	}
	size_t got = 0;
	long n;
	while (got < st.st_size && (n = vfs_read(fd, buf + got, st.st_size - got)) > 0)
		got += (size_t)n;
	vfs_close(fd);
	buf[got] = '\0';
	*lenp = got;
	return buf;
}

static uint64_t parse_u64(const char *s, const char **end)
{
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	if (end)
		*end = s;
	return v;
}

KTEST(virtiofs_tree_hashes)
{
	if (!have_tree())
		return;
	KT_ASSERT(mount_tree() == 0);
	size_t mlen = 0, slen = 0;
	char *man = slurp(KMNT "/MANIFEST.xxh", &mlen);
	KT_ASSERT(man != NULL && mlen > 0);
	vfs_mkdir("/tmp", 0755);
	vfs_unlink("/tmp/vt.sums");
	/* The expected output: the host's lines with "./" turned into /vt/. */
	char *want = kmalloc(mlen * 2 + 1);
	KT_ASSERT(want != NULL);
	size_t wlen = 0, files = 0;
	static char cmd[600];
	uint64_t t0 = time_ns();
	for (char *line = man; *line;) {
		char *nl = strchr(line, '\n');
		KT_ASSERT(nl != NULL);
		*nl = '\0';
		char *name = strstr(line, "  ./");
		KT_ASSERT(name != NULL);
		*name = '\0';
		name += 4;
		ksnprintf(cmd, sizeof(cmd), "xxhsum -H1 \"" KMNT "/%s\" >> /tmp/vt.sums", name);
		int st = shell_exec_line(cmd);
		if (st != 0)
			printk("    xxhsum of %s: status %d\n", name, st);
		KT_EXPECT(st == 0);
		wlen += (size_t)ksnprintf(want + wlen, mlen * 2 + 1 - wlen, "%s  " KMNT "/%s\n",
					  line, name);
		files++;
		line = nl + 1;
	}
	uint64_t ms = (time_ns() - t0) / 1000000;
	char *got = slurp("/tmp/vt.sums", &slen);
	KT_ASSERT(got != NULL);
	KT_EXPECT(slen == wlen);
	if (slen != wlen || memcmp(got, want, wlen) != 0) {
		size_t i = 0;
		while (i < slen && i < wlen && got[i] == want[i])
			i++;
		size_t ls = i;
		while (ls > 0 && want[ls - 1] != '\n')
			ls--;
		printk("    first difference: want '%.80s' got '%.80s'\n", want + ls, got + ls);
		KT_EXPECT(!"hashes differ from the host's");
	}
	printk("    %lu files hashed in %lu ms, all as the host's xxhsum\n", (unsigned long)files,
	       (unsigned long)ms);
	kfree(got);
	kfree(want);
	kfree(man);
	vfs_unlink("/tmp/vt.sums");
	KT_EXPECT(vfs_umount(KMNT) == 0);
}

struct walk {
	uint64_t files, dirs, links;
	uint8_t *wide_seen; /* 10,000 flags */
	uint64_t wide_count;
};

static int walk_dir(struct walk *w, char *path, size_t plen, int depth)
{
	int fd = vfs_open(path, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	bool wide = !strcmp(path, KMNT "/wide");
	/* A small buffer: many getdents calls, each resuming at its cookie. */
	static char bufs[20][1024] __attribute__((aligned(8)));
	char *buf = bufs[depth];
	long got;
	int err = 0;
	while (!err && (got = vfs_getdents(fd, buf, sizeof(bufs[0]))) > 0) {
		for (long off = 0; !err && off < got;) {
			const struct vfs_dirent *d = (const void *)(buf + off);
			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			size_t n = strlen(d->d_name);
			if (plen + 1 + n >= KARST_PATH_MAX)
				return -ENAMETOOLONG;
			path[plen] = '/';
			memcpy(path + plen + 1, d->d_name, n + 1);
			struct vfs_stat st;
			err = vfs_lstat(path, &st);
			if (err)
				printk("    %s: lstat %d\n", path, err);
			if (!err && vfs_mode_to_dtype(st.st_mode) != d->d_type) {
				printk("    %s: d_type %u, lstat says %o\n", path, d->d_type,
				       st.st_mode);
				err = -EINVAL;
			}
			if (!err && S_ISDIR(st.st_mode)) {
				w->dirs++;
				err = depth + 1 < 20 ? walk_dir(w, path, plen + 1 + n, depth + 1)
						     : -ELOOP;
			} else if (!err && S_ISREG(st.st_mode)) {
				w->files++;
			} else if (!err) {
				w->links++;
			}
			if (!err && wide) {
				const char *e;
				uint64_t i = d->d_name[0] == 'f' ? parse_u64(d->d_name + 1, &e) : 0;
				if (d->d_name[0] == 'f' && !*e && i < 10000 && !w->wide_seen[i]) {
					w->wide_seen[i] = 1;
					w->wide_count++;
				} else {
					printk("    unexpected or repeated entry %s\n", d->d_name);
					err = -EINVAL;
				}
			}
			path[plen] = '\0';
		}
	}
	if (!err && got < 0)
		err = (int)got;
	vfs_close(fd);
	return err;
}

KTEST(virtiofs_tree_walk)
{
	if (!have_tree())
		return;
	KT_ASSERT(mount_tree() == 0);
	size_t len;
	char *files = slurp(KMNT "/FILES", &len);
	KT_ASSERT(files != NULL);
	uint64_t want = parse_u64(files, NULL);
	kfree(files);
	struct walk w = {0};
	w.wide_seen = kzalloc(10000);
	char *path = kmalloc(KARST_PATH_MAX);
	KT_ASSERT(w.wide_seen && path);
	strcpy(path, KMNT);
	uint64_t t0 = time_ns();
	int e = walk_dir(&w, path, strlen(path), 0);
	uint64_t ms = (time_ns() - t0) / 1000000;
	KT_EXPECT(e == 0);
	/* MANIFEST.xxh, FILES and STATFS are not in the host's count. */
	KT_EXPECT(w.files == want + 3);
	KT_EXPECT(w.wide_count == 10000);
	KT_EXPECT(w.links == 3);
	printk("    %lu files, %lu directories, %lu symlinks walked in %lu ms (host: %lu files)\n",
	       (unsigned long)w.files, (unsigned long)w.dirs, (unsigned long)w.links,
	       (unsigned long)ms, (unsigned long)want + 3);
	kfree(path);
	kfree(w.wide_seen);
	KT_EXPECT(vfs_umount(KMNT) == 0);
}

static uint64_t op_requests(struct virtiofs_conn *c, unsigned op)
{
	return atomic_load(&c->ops_stat[op].requests);
}

KTEST(virtiofs_tree_misc)
{
	if (!have_tree())
		return;
	struct virtiofs_conn *conn = virtiofs_conn_find(KTAG);
	KT_ASSERT(mount_tree() == 0);
	char buf[64];
	struct vfs_stat st;

	/* Symlinks. */
	long n = vfs_readlink(KMNT "/link-to-large", buf, sizeof(buf));
	KT_EXPECT(n == 9 && !memcmp(buf, "large.bin", 9));
	KT_EXPECT(vfs_stat(KMNT "/link-to-large", &st) == 0 && st.st_size == 24 << 20 &&
		  S_ISREG(st.st_mode));
	KT_EXPECT(vfs_lstat(KMNT "/link-to-large", &st) == 0 && S_ISLNK(st.st_mode) &&
		  st.st_size == 9);
	KT_EXPECT(vfs_stat(KMNT "/dangling", &st) == -ENOENT);
	KT_EXPECT(vfs_lstat(KMNT "/dangling", &st) == 0 && S_ISLNK(st.st_mode));
	KT_EXPECT(vfs_stat(KMNT "/link-to-dir/mid", &st) == 0 && st.st_size == 5000);
	/* d0/d1/.. is d0: ".." after a symlink climbs from its target. */
	KT_EXPECT(vfs_stat(KMNT "/link-to-dir/../d1/mid", &st) == 0 && st.st_size == 5000);
	KT_EXPECT(vfs_stat(KMNT "/link-to-dir/../hello", &st) == -ENOENT);
	KT_EXPECT(vfs_stat(KMNT "/nonexistent", &st) == -ENOENT);
	KT_EXPECT(vfs_stat(KMNT "/hello/x", &st) == -ENOTDIR);

	/* Sizes, reads at and past the end. */
	static const uint32_t sizes[] = {
	    1, 4095, 4096, 4097, 65536, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 5};
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		char p[64];
		ksnprintf(p, sizeof(p), KMNT "/sizes/s%u", sizes[i]);
		int se = vfs_stat(p, &st);
		if (se || st.st_size != sizes[i])
			printk("    %s: stat %d, size %lld\n", p, se, (long long)st.st_size);
		KT_EXPECT(se == 0 && st.st_size == sizes[i]);
		int fd = vfs_open(p, O_RDONLY, 0);
		if (fd < 0)
			printk("    %s: open %d\n", p, fd);
		KT_EXPECT(fd >= 0);
		if (fd < 0)
			continue;
		KT_EXPECT(vfs_pread(fd, buf, sizeof(buf), sizes[i]) == 0);
		KT_EXPECT(vfs_pread(fd, buf, sizeof(buf), sizes[i] + 12345) == 0);
		KT_EXPECT(vfs_pread(fd, buf, 8, sizes[i] - 1) == 1);
		vfs_close(fd);
	}
	int fd = vfs_open(KMNT "/empty", O_RDONLY, 0);
	KT_EXPECT(fd >= 0 && vfs_read(fd, buf, sizeof(buf)) == 0);
	vfs_close(fd);
	fd = vfs_open(KMNT "/hello", O_RDONLY, 0);
	KT_EXPECT(fd >= 0 && vfs_read(fd, buf, sizeof(buf)) == 20 &&
		  !memcmp(buf, "hello from the host\n", 20));
	vfs_close(fd);

	/* Read-only: every change is EROFS and changes nothing. */
	KT_EXPECT(vfs_open(KMNT "/hello", O_WRONLY, 0) == -EROFS);
	KT_EXPECT(vfs_open(KMNT "/hello", O_RDWR, 0) == -EROFS);
	KT_EXPECT(vfs_open(KMNT "/newfile", O_CREAT | O_WRONLY, 0644) == -EROFS);
	KT_EXPECT(vfs_mkdir(KMNT "/newdir", 0755) == -EROFS);
	KT_EXPECT(vfs_unlink(KMNT "/hello") == -EROFS);
	KT_EXPECT(vfs_rmdir(KMNT "/names/empty dir") == -EROFS);
	KT_EXPECT(vfs_rename(KMNT "/hello", KMNT "/hello2") == -EROFS);
	KT_EXPECT(vfs_symlink("x", KMNT "/newlink") == -EROFS);
	KT_EXPECT(vfs_truncate(KMNT "/hello", 0) == -EROFS);
	KT_EXPECT(vfs_chmod(KMNT "/hello", 0600) == -EROFS);
	KT_EXPECT(vfs_stat(KMNT "/hello", &st) == 0 && st.st_size == 20);
	KT_EXPECT(vfs_stat(KMNT "/newfile", &st) == -ENOENT);

	/* statfs, against the host's statvfs of the same filesystem. */
	size_t len;
	char *hs = slurp(KMNT "/STATFS", &len);
	KT_ASSERT(hs != NULL);
	const char *e;
	uint64_t bsize = parse_u64(hs, &e), blocks = parse_u64(e + 1, NULL);
	kfree(hs);
	struct vfs_statfs sf;
	KT_EXPECT(vfs_statfs(KMNT "/d0", &sf) == 0);
	KT_EXPECT(!strcmp(sf.f_type, "virtiofs"));
	KT_EXPECT(sf.f_bsize == bsize && sf.f_blocks == blocks);
	KT_EXPECT(sf.f_bavail <= sf.f_bfree && sf.f_bfree <= sf.f_blocks);
	KT_EXPECT(sf.f_flags & VFS_MNT_RDONLY);
	KT_EXPECT(sf.f_namemax == 255);

	/* Attribute and entry timeouts (virtiofsd's cache=auto: 1 s): a
	 * second stat right away is served from the caches, one after the
	 * timeout asks the host again (LOOKUP of the lapsed names, which
	 * brings fresh attributes, or GETATTR). */
	uint64_t t_stat = time_ns();
	KT_EXPECT(vfs_stat(KMNT "/sizes/s1", &st) == 0);
	uint64_t g0 = op_requests(conn, FUSE_GETATTR) + op_requests(conn, FUSE_LOOKUP);
	KT_EXPECT(vfs_stat(KMNT "/sizes/s1", &st) == 0);
	if (time_ns() - t_stat < 900ULL * 1000 * 1000) /* else the timeout ran out meanwhile */
		KT_EXPECT(op_requests(conn, FUSE_GETATTR) + op_requests(conn, FUSE_LOOKUP) == g0);
	else
		printk("    (a loaded machine: two stats took longer than the timeout)\n");
	thread_sleep_ns(1200ULL * 1000 * 1000);
	KT_EXPECT(vfs_stat(KMNT "/sizes/s1", &st) == 0 && st.st_size == 1);
	KT_EXPECT(op_requests(conn, FUSE_GETATTR) + op_requests(conn, FUSE_LOOKUP) > g0);

	/* The read window (guest memory, back end (b)): a second read of a
	 * file is served without a host request and gives the same bytes. */
	KT_EXPECT(conn->dax != NULL);
	size_t l1 = 0, l2 = 0;
	uint64_t reads0 = op_requests(conn, FUSE_READ);
	char *a = slurp(KMNT "/sizes/s3145733", &l1);
	uint64_t reads1 = op_requests(conn, FUSE_READ);
	char *b = slurp(KMNT "/sizes/s3145733", &l2);
	KT_EXPECT(a && b && l1 == 3145733 && l2 == l1 && !memcmp(a, b, l1));
	KT_EXPECT(reads1 > reads0 && reads1 - reads0 <= 4); /* 2 MiB chunks in 1 MiB READs */
	KT_EXPECT(op_requests(conn, FUSE_READ) == reads1);
	printk("    3 MiB file: %lu READs cold, %lu warm\n", (unsigned long)(reads1 - reads0),
	       (unsigned long)(op_requests(conn, FUSE_READ) - reads1));
	kfree(a);
	kfree(b);

	/* A sequential read keeps the next DAX_READAHEAD chunks filling while
	 * it copies out (map_start); its close waits for what is still in
	 * flight (dax_quiesce: the host may reuse the handle's number). */
	uint64_t ahead0 = atomic_load(&conn->dax->st.readahead);
	int lfd = vfs_open(KMNT "/large.bin", O_RDONLY, 0);
	char *one = kmalloc(1 << 20);
	KT_EXPECT(lfd >= 0 && one && vfs_read(lfd, one, 1 << 20) == 1 << 20);
	KT_EXPECT(atomic_load(&conn->dax->st.readahead) == ahead0 + DAX_READAHEAD);
	if (lfd >= 0)
		vfs_close(lfd);
	KT_EXPECT(atomic_load(&conn->dax->filling) == 0);
	kfree(one);

	/* Unmount: every lookup the host counted is given back, the session
	 * ends with DESTROY; a new mount starts a new one. */
	uint64_t destroys = op_requests(conn, FUSE_DESTROY), inits = op_requests(conn, FUSE_INIT);
	KT_EXPECT(vfs_umount(KMNT) == 0);
	uint64_t counted = atomic_load(&conn->lookups_counted),
		 forgotten = atomic_load(&conn->lookups_forgotten);
	printk("    host lookups counted %lu, forgotten %lu\n", (unsigned long)counted,
	       (unsigned long)forgotten);
	KT_EXPECT(counted > 0 && counted == forgotten);
	KT_EXPECT(op_requests(conn, FUSE_DESTROY) == destroys + 1);
	KT_EXPECT(!conn->inited);
	KT_EXPECT(conn->dax == NULL); /* the window goes with the session */
	KT_ASSERT(mount_tree() == 0);
	KT_EXPECT(op_requests(conn, FUSE_INIT) == inits + 1);
	KT_EXPECT(vfs_stat(KMNT "/hello", &st) == 0);
	KT_EXPECT(vfs_umount(KMNT) == 0);
	KT_EXPECT(atomic_load(&conn->lookups_counted) == atomic_load(&conn->lookups_forgotten));
}

/* Map path (size bytes) shared read-only, hash the mapping with XXH64 and
 * compare with the host's hex; 0 or why not. *us gets the map+hash time. */
static int mmap_hash(const char *path, uint64_t size, const char *want, bool priv, uint64_t *us)
{
	int fd = vfs_open(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	void *p = NULL;
	uint64_t t0 = time_ns();
	int e = pc_mmap(fd, size, VFS_PROT_READ, priv ? VFS_MAP_PRIVATE : VFS_MAP_SHARED, 0, &p);
	if (!e) {
		char hex[17];
		ksnprintf(hex, sizeof(hex), "%016llx", (unsigned long long)XXH64(p, size, 0));
		if (us)
			*us = (time_ns() - t0) / 1000;
		if (strcmp(hex, want) != 0) {
			printk("    %s: mapping hashes to %s, the host's xxhsum says %s\n", path,
			       hex, want);
			e = -EIO;
		}
		pc_munmap(p, size);
	}
	vfs_close(fd);
	return e;
}

KTEST(virtiofs_mmap)
{
	if (!have_tree())
		return;
	struct virtiofs_conn *conn = virtiofs_conn_find(KTAG);
	KT_ASSERT(mount_tree_opts("window=32M") == 0); /* not auto: large.bin overflows half */
	KT_ASSERT(conn->dax != NULL);
	size_t mlen = 0;
	char *man = slurp(KMNT "/MANIFEST.xxh", &mlen);
	KT_ASSERT(man != NULL);
	uint64_t lent0 = atomic_load(&conn->pages_lent), filled0 = atomic_load(&conn->pages_filled);
	unsigned files = 0;
	static char path[300];
	/* Every file of sizes/ (around pages and chunks), a small one, and
	 * large.bin (24 MiB: more than the half of the 32 MiB window that may
	 * be lent, so both lent and filled pages), shared; s4097 also private. */
	for (char *line = man; *line;) {
		char *nl = strchr(line, '\n');
		KT_ASSERT(nl != NULL);
		*nl = '\0';
		char *name = strstr(line, "  ./");
		KT_ASSERT(name != NULL);
		*name = '\0';
		name += 4;
		const char *want = line;
		line = nl + 1;
		bool large = !strcmp(name, "large.bin");
		if (strncmp(name, "sizes/", 6) && strcmp(name, "d0/d1/mid") && !large)
			continue;
		ksnprintf(path, sizeof(path), KMNT "/%s", name);
		struct vfs_stat st;
		KT_ASSERT(vfs_stat(path, &st) == 0 && st.st_size > 0);
		uint64_t us = 0;
		KT_EXPECT(mmap_hash(path, st.st_size, want, false, &us) == 0);
		if (!strcmp(name, "sizes/s4097"))
			KT_EXPECT(mmap_hash(path, st.st_size, want, true, NULL) == 0);
		if (large) {
			printk("    large.bin mapped and hashed in %lu ms (%lu MB/s), %u chunks "
			       "pinned by its pages\n",
			       (unsigned long)(us / 1000),
			       (unsigned long)(st.st_size / (us ? us : 1)), dax_pinned(conn->dax));
			/* Half the window at most is lent: reads keep the rest. */
			KT_EXPECT(dax_pinned(conn->dax) > 0);
			KT_EXPECT(dax_pinned(conn->dax) * 2 <= conn->dax->nchunks);
			/* Again, through the pages the cache holds now. */
			KT_EXPECT(mmap_hash(path, st.st_size, want, false, NULL) == 0);
		}
		files++;
	}
	kfree(man);
	uint64_t lent = atomic_load(&conn->pages_lent) - lent0,
		 filled = atomic_load(&conn->pages_filled) - filled0;
	printk("    %u files mapped, all as the host's xxhsum: %lu pages lent from the window, "
	       "%lu filled\n",
	       files, (unsigned long)lent, (unsigned long)filled);
	KT_EXPECT(files == 11);
	KT_EXPECT(lent > 0 && filled > 0);

	/* Writable shared mappings of a read-only file are refused. */
	int fd = vfs_open(KMNT "/hello", O_RDONLY, 0);
	void *p = NULL;
	KT_EXPECT(fd >= 0 && pc_mmap(fd, 20, VFS_PROT_READ | VFS_PROT_WRITE, VFS_MAP_SHARED, 0,
				     &p) == -EACCES);
	/* A mapping in use: the scanner reports its lent pages as chunk heat. */
	vfs_close(fd);
	const size_t large = 24 << 20;
	fd = vfs_open(KMNT "/large.bin", O_RDONLY, 0);
	KT_ASSERT(fd >= 0);
	KT_ASSERT(pc_mmap(fd, large, VFS_PROT_READ, VFS_MAP_SHARED, 0, &p) == 0);
	volatile const uint8_t *b = p;
	uint32_t sum = 0;
	pc_scan_pass(0); /* clear what the first touches set */
	uint64_t acc0 = atomic_load(&conn->pages_accessed);
	for (size_t off = 0; off < large; off += PAGE_SIZE)
		sum += b[off];
	pc_scan_pass(0);
	uint64_t acc = atomic_load(&conn->pages_accessed) - acc0;
	printk("    scanner: %lu lent pages of a mapping in use reported to their chunks (%u)\n",
	       (unsigned long)acc, sum);
	KT_EXPECT(acc > 0);
	pc_munmap(p, large);
	vfs_close(fd);

	/* Unmount gives every lent page back (the chunks are unpinned) and
	 * every host lookup. */
	KT_EXPECT(vfs_umount(KMNT) == 0);
	KT_EXPECT(conn->dax == NULL);
	KT_EXPECT(atomic_load(&conn->lookups_counted) == atomic_load(&conn->lookups_forgotten));
}

/* A tag that does not exist: ENOENT, and the message names the tags. */
KTEST(virtiofs_missing_tag)
{
	vfs_mkdir("/vt-missing", 0755);
	KT_EXPECT(vfs_mount("no-such-tag", "/vt-missing", "virtiofs", 0, NULL) == -ENOENT);
	KT_EXPECT(vfs_mount("", "/vt-missing", "virtiofs", 0, NULL) == -ENOENT);
	KT_EXPECT(vfs_mount(KTAG, "/vt-missing", "virtiofs", 0, "bogus=1") == -EINVAL);
	vfs_rmdir("/vt-missing");
}

/* XXH64 of a file read through read() in 128 KiB pieces; *len gets its
 * length (0 and 0 when it cannot be read). */
static uint64_t hash_file(const char *path, size_t *len)
{
	static XXH64_state_t xs;
	*len = 0;
	char *b = kmalloc(128 * 1024);
	int fd = vfs_open(path, O_RDONLY, 0);
	if (!b || fd < 0) {
		kfree(b);
		if (fd >= 0)
			vfs_close(fd);
		return 0;
	}
	XXH64_reset(&xs, 0);
	long n;
	while ((n = vfs_read(fd, b, 128 * 1024)) > 0) {
		XXH64_update(&xs, b, (size_t)n);
		*len += (size_t)n;
	}
	vfs_close(fd);
	kfree(b);
	return n < 0 ? 0 : XXH64_digest(&xs);
}

/* Bad window= values fail the mount with EINVAL before the device is
 * asked anything; sizes the window cannot take are told and adjusted:
 * less than a chunk gives no window, more than memory is cut to 7/8 of it.
 * The window is made at the first mount, so each case mounts afresh. */
KTEST(virtiofs_mount_options)
{
	static const char *const bad[] = {"window=",	 "window=abc",	  "window=2X", "window=-1",
					  "window=128G", "window=auto,x", "window"};
	vfs_mkdir(KMNT, 0755);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int e = vfs_mount(KTAG, KMNT, "virtiofs", 0, bad[i]);
		if (e != -EINVAL)
			printk("    '%s' gave %d\n", bad[i], e);
		KT_EXPECT(e == -EINVAL);
	}
	if (!have_tree())
		return;
	struct virtiofs_conn *conn = virtiofs_conn_find(KTAG);
	struct pa_stats ps;
	pa_get_stats(&kernel_pa, &ps);
	uint64_t mem = (uint64_t)ps.total_pages * PAGE_SIZE;
	KT_ASSERT(mount_tree_opts("window=1M") == 0);
	KT_EXPECT(conn->dax == NULL && conn->dax_window_bytes == 0);
	size_t len;
	KT_EXPECT(hash_file(KMNT "/sizes/s4096", &len) != 0 && len == 4096);
	KT_EXPECT(vfs_umount(KMNT) == 0);
	KT_ASSERT(mount_tree_opts("window=64G") == 0);
	KT_EXPECT(conn->dax_window_bytes > 0 && conn->dax_window_bytes <= mem / 8 * 7);
	KT_EXPECT(hash_file(KMNT "/sizes/s4096", &len) != 0 && len == 4096);
	KT_EXPECT(vfs_umount(KMNT) == 0);
	KT_ASSERT(mount_tree_opts("window=6M") == 0);
	KT_EXPECT(conn->dax_window_bytes == 6 << 20);
	KT_EXPECT(vfs_umount(KMNT) == 0);
}

/*
 * Manual: run-ktests made changes/{grow,shrink,replace,gone} in the tree;
 * when this test says "host: change the files now" it appends to grow,
 * truncates shrink, rewrites replace (same size), removes gone, creates
 * new, then writes changes/DONE: "XXH64HEX SIZE NAME" per file after the
 * change.
 */
KTEST_FLAGS(virtiofs_host_changes, KTEST_MANUAL)
{
	if (!have_tree())
		return;
	struct virtiofs_conn *conn = virtiofs_conn_find(KTAG);
	KT_ASSERT(mount_tree() == 0);
	struct vfs_stat st;
	size_t len;
	/* Before: read every file (the window holds their chunks) and map
	 * two of them, touching every page. */
	static const char *const names[] = {"grow", "shrink", "replace"};
	static char path[128];
	for (unsigned i = 0; i < 3; i++) {
		ksnprintf(path, sizeof(path), KMNT "/changes/%s", names[i]);
		KT_ASSERT(hash_file(path, &len) != 0 && len > 0);
	}
	KT_EXPECT(vfs_stat(KMNT "/changes/gone", &st) == 0);
	KT_EXPECT(vfs_stat(KMNT "/changes/new", &st) == -ENOENT);
	void *map_rep = NULL, *map_shr = NULL;
	size_t rep_len = 0, shr_len = 0;
	int fd_rep = vfs_open(KMNT "/changes/replace", O_RDONLY, 0);
	int fd_shr = vfs_open(KMNT "/changes/shrink", O_RDONLY, 0);
	KT_ASSERT(fd_rep >= 0 && fd_shr >= 0);
	KT_ASSERT(vfs_fstat(fd_rep, &st) == 0);
	rep_len = st.st_size;
	KT_ASSERT(vfs_fstat(fd_shr, &st) == 0);
	shr_len = st.st_size;
	KT_ASSERT(pc_mmap(fd_rep, rep_len, VFS_PROT_READ, VFS_MAP_SHARED, 0, &map_rep) == 0);
	KT_ASSERT(pc_mmap(fd_shr, shr_len, VFS_PROT_READ, VFS_MAP_SHARED, 0, &map_shr) == 0);
	uint64_t old_rep = XXH64(map_rep, rep_len, 0);
	(void)XXH64(map_shr, shr_len, 0);
	uint64_t changes0 = atomic_load(&conn->host_changes);

	printk("    host: change the files now\n");
	uint64_t t0 = time_ns();
	while (vfs_stat(KMNT "/changes/DONE", &st) != 0) { /* misses are not cached */
		KT_ASSERT(time_ns() - t0 < 120ULL * 1000 * 1000 * 1000);
		thread_sleep_ns(200ULL * 1000 * 1000);
	}
	/* What we hold may be fresh for one more attribute/entry timeout
	 * (1 s): after it, everything must show the change. */
	thread_sleep_ns(1200ULL * 1000 * 1000);
	char *done = slurp(KMNT "/changes/DONE", &len);
	KT_ASSERT(done != NULL);
	unsigned checked = 0;
	for (char *line = done; *line;) {
		char *nl = strchr(line, '\n');
		KT_ASSERT(nl != NULL);
		*nl = '\0';
		const char *e;
		char *sp = strchr(line, ' ');
		KT_ASSERT(sp != NULL);
		*sp = '\0';
		const char *want = line;
		uint64_t size = parse_u64(sp + 1, &e);
		const char *name = e + 1;
		ksnprintf(path, sizeof(path), KMNT "/changes/%s", name);
		KT_EXPECT(vfs_stat(path, &st) == 0 && st.st_size == size);
		char hex[17];
		ksnprintf(hex, sizeof(hex), "%016llx", (unsigned long long)hash_file(path, &len));
		if (strcmp(hex, want) || len != size)
			printk("    %s after the change: %lu bytes, %s; the host has %lu, %s\n",
			       name, (unsigned long)len, hex, (unsigned long)size, want);
		KT_EXPECT(!strcmp(hex, want) && len == size);
		if (!strcmp(name, "replace")) {
			/* The mapping made before the change shows the new data. */
			ksnprintf(hex, sizeof(hex), "%016llx",
				  (unsigned long long)XXH64(map_rep, rep_len, 0));
			KT_EXPECT(size == rep_len && !strcmp(hex, want));
			KT_EXPECT(XXH64(map_rep, rep_len, 0) != old_rep);
		}
		if (!strcmp(name, "shrink")) {
			/* A mapping past the new end reads zeros, no fault. */
			ksnprintf(hex, sizeof(hex), "%016llx",
				  (unsigned long long)XXH64(map_shr, size, 0));
			KT_EXPECT(size < shr_len && !strcmp(hex, want));
			bool zeros = true;
			for (size_t i = size; i < shr_len; i += 997)
				zeros &= ((volatile uint8_t *)map_shr)[i] == 0;
			KT_EXPECT(zeros);
		}
		checked++;
		line = nl + 1;
	}
	kfree(done);
	KT_EXPECT(checked == 4);
	KT_EXPECT(vfs_stat(KMNT "/changes/gone", &st) == -ENOENT); /* the entry lapsed */
	uint64_t changes = atomic_load(&conn->host_changes) - changes0;
	printk("    %u files changed on the host seen as the host has them (%lu changes noticed)\n",
	       checked, (unsigned long)changes);
	/* At least the two files held open (a vnode that went meanwhile is
	 * simply looked up anew). */
	KT_EXPECT(changes >= 2);
	pc_munmap(map_rep, rep_len);
	pc_munmap(map_shr, shr_len);
	vfs_close(fd_rep);
	vfs_close(fd_shr);
	KT_EXPECT(vfs_umount(KMNT) == 0);
}

/*
 * Manual: run-ktests kills virtiofsd when it sees "reading large.bin". The
 * reads must then fail with EIO within the driver's timeout (10 s) plus
 * slack, stat fails the same way, and unmount works.
 */
KTEST_FLAGS(virtiofs_killed, KTEST_MANUAL)
{
	if (!have_tree())
		return;
	/* A window smaller than the file: every pass asks the host. */
	KT_ASSERT(mount_tree_opts("window=4M") == 0);
	char *buf = kmalloc(65536);
	KT_ASSERT(buf != NULL);
	printk("    reading large.bin until the host's daemon goes away\n");
	uint64_t start = time_ns(), last_ok = start;
	long err = 0;
	uint64_t rounds = 0;
	while (!err && time_ns() - start < 180ULL * 1000 * 1000 * 1000) {
		int fd = vfs_open(KMNT "/large.bin", O_RDONLY, 0);
		if (fd < 0) {
			err = fd;
			break;
		}
		long n;
		while ((n = vfs_read(fd, buf, 65536)) > 0)
			last_ok = time_ns();
		vfs_close(fd);
		err = n;
		rounds++;
	}
	uint64_t gap_ms = (time_ns() - last_ok) / 1000000;
	printk("    after %lu rounds: %s, %lu ms after the last good read\n", (unsigned long)rounds,
	       vfs_errname((int)err), (unsigned long)gap_ms);
	KT_EXPECT(err == -EIO);
	KT_EXPECT(gap_ms < 20000);
	struct vfs_stat st;
	uint64_t t = time_ns();
	KT_EXPECT(vfs_stat(KMNT "/sizes/s4096", &st) == -EIO);
	KT_EXPECT(time_ns() - t < 1000ULL * 1000 * 1000); /* a dead device answers at once */
	KT_EXPECT(vfs_umount(KMNT) == 0);
	kfree(buf);
	printk("    the kernel is still up\n");
}
