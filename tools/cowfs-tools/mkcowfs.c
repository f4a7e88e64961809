/*
 * mkcowfs: build a cowfs image from a directory tree on the host, with the
 * same fs/cowfs code the kernel mounts it with (no VM needed).
 *
 *   mkcowfs [-s SIZE] [-b RECORDSIZE] [-c lz4|off] [-t SECONDS] [-n NAME] [-q] IMAGE DIR
 *
 * The tree is walked in sorted order, so the same input gives the same
 * image bytes when the time stamps are fixed with -t (every time stamp and
 * the pool guid then derive from it; without -t files keep their mtimes).
 * Regular files, directories and symlinks are copied with their permission
 * bits; other kinds are skipped with a warning. A file with several names
 * in the tree (hard links) is one object with as many links; the holes of
 * sparse files are skipped (SEEK_DATA/SEEK_HOLE), never read or written.
 * Without -s the image is sized from the space the tree takes on the host
 * (twice its allocated data plus 16 MiB, at least 64 MiB).
 * Errors are one line and exit status 1; the image is then removed.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <karst/format.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cowfs_tools.h"

struct mk {
	struct cowfs_pool *pool;
	const char *image;
	bool fixed_time, quiet, tty;
	uint64_t files, dirs, links, hardlinks, bytes, skipped;
	struct timespec last;
	/* Files met with st_nlink > 1: (device, inode) -> object, open
	 * addressing; nino used of ncap slots (a power of two, or 0). */
	struct mk_ino {
		dev_t dev;
		ino_t ino;
		uint64_t obj;
	} * inos;
	size_t nino, ncap;
};

static void die(const char *image, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void die(const char *image, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "\rmkcowfs: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	if (image)
		unlink(image);
	exit(1);
}

static void progress(struct mk *m, bool final)
{
	if (m->quiet)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	double dt = (double)(now.tv_sec - m->last.tv_sec) + (now.tv_nsec - m->last.tv_nsec) / 1e9;
	if (!final && (dt < 0.2 || !m->tty))
		return;
	m->last = now;
	fprintf(
	    stderr,
	    "%smkcowfs: %llu files, %llu hard links, %llu directories, %llu symlinks, %.1f MiB%s",
	    m->tty ? "\r" : "", (unsigned long long)m->files, (unsigned long long)m->hardlinks,
	    (unsigned long long)m->dirs, (unsigned long long)m->links, (double)m->bytes / (1 << 20),
	    final || !m->tty ? "\n" : "");
}

static void tree_size(const char *path, uint64_t *bytes, uint64_t *entries)
{
	DIR *d = opendir(path);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char sub[4096];
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		struct stat st;
		if (lstat(sub, &st) != 0)
			continue;
		(*entries)++;
		if (S_ISREG(st.st_mode)) /* what it takes on the host: holes are free */
			*bytes += (uint64_t)st.st_blocks * 512;
		else if (S_ISDIR(st.st_mode))
			tree_size(sub, bytes, entries);
	}
	closedir(d);
}

static void set_times(struct mk *m, uint64_t obj, const struct stat *st)
{
	if (m->fixed_time)
		return;
	struct cowfs_setattr sa = {
	    .mask = COWFS_SET_MTIME | COWFS_SET_ATIME,
	    .mtime = (uint64_t)st->st_mtim.tv_sec * 1000000000ULL + (uint64_t)st->st_mtim.tv_nsec,
	    .atime = (uint64_t)st->st_mtim.tv_sec * 1000000000ULL + (uint64_t)st->st_mtim.tv_nsec};
	(void)cowfs_setattr(m->pool, obj, &sa);
}

/* The slot of (dev, ino) in m->inos: its entry or the empty one it would take. */
static struct mk_ino *ino_slot(struct mk *m, dev_t dev, ino_t ino)
{
	size_t i = ((uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev) & (m->ncap - 1);
	while (m->inos[i].obj && (m->inos[i].ino != ino || m->inos[i].dev != dev))
		i = (i + 1) & (m->ncap - 1);
	return &m->inos[i];
}

/* Remember that the file (dev, ino) is object obj (objects are never 0). */
static void ino_remember(struct mk *m, dev_t dev, ino_t ino, uint64_t obj)
{
	if (2 * (m->nino + 1) > m->ncap) {
		struct mk_ino *old = m->inos;
		size_t oldcap = m->ncap;
		m->ncap = oldcap ? 2 * oldcap : 64;
		m->inos = calloc(m->ncap, sizeof(*m->inos));
		if (!m->inos)
			die(m->image, "out of memory");
		for (size_t i = 0; i < oldcap; i++)
			if (old[i].obj)
				*ino_slot(m, old[i].dev, old[i].ino) = old[i];
		free(old);
	}
	*ino_slot(m, dev, ino) = (struct mk_ino){dev, ino, obj};
	m->nino++;
}

/* Copy len bytes of fd from off (fewer if the file ends first). */
static void copy_range(struct mk *m, const char *path, int fd, uint64_t obj, uint64_t off,
		       uint64_t len)
{
	static char buf[1 << 20];
	while (len > 0) {
		ssize_t n =
		    pread(fd, buf, (size_t)(len < sizeof(buf) ? len : sizeof(buf)), (off_t)off);
		if (n < 0)
			die(m->image, "%s: %s", path, strerror(errno));
		if (n == 0)
			break;
		int64_t w = cowfs_write(m->pool, obj, off, buf, (size_t)n);
		if (w != n)
			die(m->image, "%s: %s", path,
			    w == -ENOSPC ? "image full (give a larger -s)" : strerror((int)-w));
		off += (uint64_t)n;
		len -= (uint64_t)n;
		m->bytes += (uint64_t)n;
		progress(m, false);
	}
}

/* The file's data runs, holes skipped; then its size, so a file that ends
 * in a hole keeps its length. A host filesystem without SEEK_DATA is read
 * whole. */
static void copy_file(struct mk *m, const char *path, uint64_t obj, uint64_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		die(m->image, "%s: %s", path, strerror(errno));
	uint64_t off = 0;
	while (off < size) {
		off_t data = lseek(fd, (off_t)off, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* a hole to the end */
		if (data < 0) {
			copy_range(m, path, fd, obj, off, size - off);
			break;
		}
		off_t hole = lseek(fd, data, SEEK_HOLE);
		uint64_t end = hole < 0 || (uint64_t)hole > size ? size : (uint64_t)hole;
		copy_range(m, path, fd, obj, (uint64_t)data, end - (uint64_t)data);
		off = end;
	}
	close(fd);
	struct cowfs_attr a;
	if (cowfs_getattr(m->pool, obj, &a) == 0 && a.size < size) {
		struct cowfs_setattr sa = {.mask = COWFS_SET_SIZE, .size = size};
		int err = cowfs_setattr(m->pool, obj, &sa);
		if (err)
			die(m->image, "%s: %s", path,
			    err == -ENOSPC ? "image full (give a larger -s)" : strerror(-err));
	}
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void copy_tree(struct mk *m, const char *path, uint64_t dir)
{
	struct dirent **ents;
	int n = scandir(path, &ents, NULL, by_name);
	if (n < 0)
		die(m->image, "%s: %s", path, strerror(errno));
	for (int i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..")) {
			free(ents[i]);
			continue;
		}
		char sub[4096];
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", path, name) >= sizeof(sub))
			die(m->image, "%s/%s: path too long", path, name);
		struct stat st;
		if (lstat(sub, &st) != 0)
			die(m->image, "%s: %s", sub, strerror(errno));
		uint64_t obj;
		int err = 0;
		if (S_ISDIR(st.st_mode)) {
			err = cowfs_create(m->pool, dir, name, 040000 | (st.st_mode & 07777), &obj);
			if (!err) {
				m->dirs++;
				copy_tree(m, sub, obj);
				set_times(m, obj, &st);
			}
		} else if (S_ISREG(st.st_mode) && st.st_nlink > 1 && m->ncap &&
			   ino_slot(m, st.st_dev, st.st_ino)->obj) {
			err =
			    cowfs_link(m->pool, dir, name, ino_slot(m, st.st_dev, st.st_ino)->obj);
			if (!err)
				m->hardlinks++;
		} else if (S_ISREG(st.st_mode)) {
			err =
			    cowfs_create(m->pool, dir, name, 0100000 | (st.st_mode & 07777), &obj);
			if (!err) {
				m->files++;
				copy_file(m, sub, obj, (uint64_t)st.st_size);
				set_times(m, obj, &st);
				if (st.st_nlink > 1)
					ino_remember(m, st.st_dev, st.st_ino, obj);
			}
		} else if (S_ISLNK(st.st_mode)) {
			char target[4096];
			ssize_t tl = readlink(sub, target, sizeof(target) - 1);
			if (tl < 0)
				die(m->image, "%s: %s", sub, strerror(errno));
			target[tl] = 0;
			err = cowfs_symlink(m->pool, dir, name, target, &obj);
			if (!err) {
				m->links++;
				set_times(m, obj, &st);
			}
		} else {
			fprintf(stderr,
				"\rmkcowfs: %s: not a file, directory or symlink: skipped\n", sub);
			m->skipped++;
		}
		if (err)
			die(m->image, "%s: %s", sub,
			    err == -ENOSPC ? "image full (give a larger -s)" : strerror(-err));
		free(ents[i]);
		progress(m, false);
	}
	free(ents);
}

static void usage(void)
{
	fprintf(stderr, "usage: mkcowfs [-s SIZE] [-b RECORDSIZE] [-c lz4|off] [-t SECONDS] "
			"[-n NAME] [-q] IMAGE DIR\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t size = 0, rs = COWFS_DEFAULT_RECORDSIZE;
	uint8_t comp = COWFS_COMP_LZ4;
	uint64_t fixed = 0;
	const char *name = "cowfs";
	struct mk m = {0};
	int c;
	while ((c = getopt(argc, argv, "s:b:c:t:n:q")) != -1) {
		switch (c) {
		case 's':
			if (kparse_size(optarg, strlen(optarg), &size) || !size)
				die(NULL, "bad size '%s'", optarg);
			break;
		case 'b':
			if (kparse_size(optarg, strlen(optarg), &rs) || rs < COWFS_MIN_RECORDSIZE ||
			    rs > COWFS_MAX_RECORDSIZE || (rs & (rs - 1)))
				die(NULL, "record size must be a power of two from 4K to 1M");
			break;
		case 'c':
			if (!strcmp(optarg, "lz4"))
				comp = COWFS_COMP_LZ4;
			else if (!strcmp(optarg, "off"))
				comp = COWFS_COMP_OFF;
			else
				die(NULL, "compression is lz4 or off, not '%s'", optarg);
			break;
		case 't': {
			char *end;
			unsigned long long t = strtoull(optarg, &end, 10);
			if (*end || end == optarg)
				die(NULL, "bad time '%s' (seconds since the epoch)", optarg);
			fixed = t ? t * 1000000000ULL : 1; /* never 0: 0 means "not fixed" */
			break;
		}
		case 'n':
			name = optarg;
			if (strlen(name) > 31)
				die(NULL, "pool name longer than 31 bytes");
			break;
		case 'q':
			m.quiet = true;
			break;
		default:
			usage();
		}
	}
	if (argc - optind != 2)
		usage();
	const char *image = argv[optind], *src = argv[optind + 1];
	struct stat st;
	if (stat(src, &st) != 0 || !S_ISDIR(st.st_mode))
		die(NULL, "%s: not a directory", src);
	if (!size) {
		uint64_t bytes = 0, entries = 0;
		tree_size(src, &bytes, &entries);
		size = 2 * bytes + entries * 8192 + (16ULL << 20);
		if (size < (64ULL << 20))
			size = 64ULL << 20;
		size = (size + (1 << 20) - 1) & ~((1ULL << 20) - 1);
	}
	if (size < COWFS_MIN_SIZE || size > COWFS_MAX_SIZE)
		die(NULL, "size must be from 4M to 32G");
	struct stat ist;
	if (lstat(image, &ist) == 0 && !S_ISREG(ist.st_mode))
		die(NULL, "%s: exists and is not a regular file (mkcowfs writes image files)",
		    image);
	struct cowfs_dev *dev;
	int err = cowfs_filedev_open(image, true, size, &dev);
	if (err)
		die(NULL, "%s: %s", image, strerror(-err));
	m.image = image;
	m.fixed_time = fixed != 0;
	m.tty = isatty(2);
	clock_gettime(CLOCK_MONOTONIC, &m.last);
	struct timespec wall;
	clock_gettime(CLOCK_REALTIME, &wall);
	uint64_t now = (uint64_t)wall.tv_sec * 1000000000ULL + (uint64_t)wall.tv_nsec;
	char why[128];
	struct cowfs_mkfs_opts mo = {
	    .recordsize = (uint32_t)rs, .comp = comp, .time = fixed ? fixed : now, .name = name};
	if (cowfs_mkfs(dev, &mo, why, sizeof(why)) != 0)
		die(image, "%s: %s", image, why);
	struct cowfs_open_opts oo = {.dirty_max = 64u << 20, .fixed_time = fixed ? fixed : now};
	if (cowfs_open(dev, &oo, &m.pool, why, sizeof(why)) != 0)
		die(image, "%s: %s", image, why);
	copy_tree(&m, src, COWFS_ROOT_OBJ);
	set_times(&m, COWFS_ROOT_OBJ, &st);
	struct cowfs_pool_info pi;
	err = cowfs_sync(m.pool);
	cowfs_pool_info(m.pool, &pi);
	if (err || cowfs_close(m.pool) != 0)
		die(image, "%s: cannot commit the image (%s)", image, strerror(-err));
	cowfs_filedev_close(dev);
	free(m.inos);
	progress(&m, true);
	if (!m.quiet)
		printf("mkcowfs: %s: %.1f MiB pool, %.1f MiB used, %u-byte records, %s, txg %llu\n",
		       image, (double)size / (1 << 20), (double)pi.alloc_bytes / (1 << 20),
		       (unsigned)rs, comp ? "lz4" : "uncompressed", (unsigned long long)pi.txg);
	return 0;
}
