/*
 * cowfs: look inside a cowfs image on the host, read-only, with the same
 * fs/cowfs code the kernel uses (as zdb does with libzpool).
 *
 *   cowfs ls IMAGE [PATH]      list a directory sorted by name (or one file's line)
 *   cowfs cat IMAGE PATH       write a file's bytes to stdout
 *   cowfs stat IMAGE [PATH]    the pool, its uberblocks; or an object and
 *                              the block pointer of its first block
 *   cowfs check IMAGE          verify every checksum and the space map, then
 *                              the scrub walk (read-only: nothing repaired)
 *   cowfs scrub IMAGE          the scrub walk, writable: bad copies of
 *                              metadata rewritten from good ones
 *
 * A bad image is refused with one line on stderr and exit status 1; check
 * exits 1 when it finds problems (one line each), scrub when blocks are
 * unrecoverable.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cowfs_tools.h"

static const char *prog = "cowfs";

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	exit(1);
}

static const char *type_name(uint8_t t)
{
	switch (t) {
	case COWFS_OT_FILE:
		return "file";
	case COWFS_OT_DIR:
		return "dir";
	case COWFS_OT_SYMLINK:
		return "symlink";
	default:
		return "?";
	}
}

static uint64_t resolve(struct cowfs_pool *p, const char *image, const char *path)
{
	uint64_t cur = COWFS_ROOT_OBJ;
	char *copy = strdup(path ? path : "/"), *save = NULL;
	for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int err = cowfs_lookup(p, cur, c, &cur);
		if (err)
			fail("%s: %s: %s", image, path, strerror(-err));
	}
	free(copy);
	return cur;
}

static void mode_string(uint32_t mode, uint8_t type, char *s)
{
	s[0] = type == COWFS_OT_DIR ? 'd' : type == COWFS_OT_SYMLINK ? 'l' : '-';
	const char *rwx = "rwxrwxrwx";
	for (int i = 0; i < 9; i++)
		s[1 + i] = (mode & (0400 >> i)) ? rwx[i] : '-';
	s[10] = 0;
}

struct ls_ctx {
	struct cowfs_pool *p;
	char **names;
	uint64_t *objs;
	size_t n, cap;
};

/* readdir's callback runs under the pool's lock: only collect. */
static bool ls_collect(void *ctx, const char *name, size_t len, uint64_t obj, uint8_t type,
		       uint64_t next)
{
	struct ls_ctx *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 256;
		l->names = realloc(l->names, l->cap * sizeof(*l->names));
		l->objs = realloc(l->objs, l->cap * sizeof(*l->objs));
		if (!l->names || !l->objs)
			fail("out of memory");
	}
	l->names[l->n] = strndup(name, len);
	l->objs[l->n++] = obj;
	return true;
}

/* qsort of indices into the collected names, in byte order. */
static char **ls_sort_names;
static int ls_by_name(const void *a, const void *b)
{
	return strcmp(ls_sort_names[*(const size_t *)a], ls_sort_names[*(const size_t *)b]);
}

static bool ls_one(void *ctx, const char *name, size_t len, uint64_t obj, uint8_t type,
		   uint64_t next)
{
	struct ls_ctx *l = ctx;
	struct cowfs_attr a;
	if (cowfs_getattr(l->p, obj, &a) != 0) {
		printf("?????????? %8s %12s %.*s (object %llu unreadable)\n", "", "", (int)len,
		       name, (unsigned long long)obj);
		return true;
	}
	char m[11];
	mode_string(a.mode, a.type, m);
	printf("%s %3u %8llu %12llu %.*s", m, a.nlink, (unsigned long long)obj,
	       (unsigned long long)a.size, (int)len, name);
	if (a.type == COWFS_OT_SYMLINK) {
		char t[4096] = {0};
		if (cowfs_readlink(l->p, obj, t, sizeof(t) - 1) > 0)
			printf(" -> %s", t);
	}
	printf("\n");
	return true;
}

static void print_bp(const char *what, const struct cowfs_bp *bp)
{
	if (cowfs_bp_is_hole(bp)) {
		printf("%s: hole\n", what);
		return;
	}
	printf("%s: addr %llu/%llu lsize %u psize %u %s type %u level %u birth %llu fill %llu "
	       "xxh3-128 %016llx%016llx\n",
	       what, (unsigned long long)bp->dva[0], (unsigned long long)bp->dva[1], bp->lsize,
	       bp->psize, bp->comp ? "lz4" : "off", bp->type, bp->level,
	       (unsigned long long)bp->birth, (unsigned long long)bp->fill,
	       (unsigned long long)bp->cksum.hi, (unsigned long long)bp->cksum.lo);
}

static void ub_line(void *arg, int label, unsigned slot, const struct cowfs_ub *ub)
{
	printf("uberblock slot %3u: txg %llu time %llu root at %llu/%llu\n", slot,
	       (unsigned long long)ub->txg, (unsigned long long)ub->time,
	       (unsigned long long)ub->root.dva[0], (unsigned long long)ub->root.dva[1]);
}

static void check_line(void *arg, const char *line)
{
	printf("%s\n", line);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: cowfs ls|cat|stat|check|scrub IMAGE [PATH]\n");
		return 2;
	}
	const char *cmd = argv[1], *image = argv[2], *path = argc > 3 ? argv[3] : NULL;
	bool scrub = !strcmp(cmd, "scrub");
	if (strcmp(cmd, "ls") && strcmp(cmd, "cat") && strcmp(cmd, "stat") &&
	    strcmp(cmd, "check") && !scrub)
		fail("unknown command '%s' (ls, cat, stat, check, scrub)", cmd);
	if (!strcmp(cmd, "cat") && !path)
		fail("cat needs a PATH");
	struct cowfs_dev *dev;
	int err = cowfs_filedev_open(image, scrub, 0, &dev);
	if (err)
		fail("%s: %s", image, strerror(-err));
	char why[128];
	struct cowfs_pool *p;
	struct cowfs_open_opts oo = {.rdonly = !scrub};
	if (cowfs_open(dev, &oo, &p, why, sizeof(why)) != 0)
		fail("%s: not a usable cowfs image: %s", image, why);
	int rc = 0;
	if (!strcmp(cmd, "ls")) {
		uint64_t obj = resolve(p, image, path);
		struct cowfs_attr a;
		if (cowfs_getattr(p, obj, &a) != 0)
			fail("%s: cannot read object %llu", image, (unsigned long long)obj);
		struct ls_ctx l = {.p = p};
		if (a.type == COWFS_OT_DIR) {
			uint64_t cookie = 2; /* skip . and .. */
			err = cowfs_readdir(p, obj, &cookie, ls_collect, &l);
			if (err)
				fail("%s: %s: %s", image, path ? path : "/", strerror(-err));
			size_t *order = malloc((l.n ? l.n : 1) * sizeof(*order));
			if (!order)
				fail("out of memory");
			for (size_t i = 0; i < l.n; i++)
				order[i] = i;
			ls_sort_names = l.names;
			qsort(order, l.n, sizeof(*order), ls_by_name); /* as ls prints them */
			for (size_t k = 0; k < l.n; k++) {
				size_t i = order[k];
				ls_one(&l, l.names[i], strlen(l.names[i]), l.objs[i], 0, 0);
			}
			for (size_t i = 0; i < l.n; i++)
				free(l.names[i]);
			free(order);
			free(l.names);
			free(l.objs);
		} else {
			ls_one(&l, path, strlen(path), obj, a.type, 0);
		}
	} else if (!strcmp(cmd, "cat")) {
		uint64_t obj = resolve(p, image, path);
		static char buf[1 << 20];
		uint64_t off = 0;
		for (;;) {
			int64_t n = cowfs_read(p, obj, off, buf, sizeof(buf));
			if (n < 0)
				fail("%s: %s: %s", image, path, strerror((int)-n));
			if (n == 0)
				break;
			if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
				fail("write error on stdout");
			off += (uint64_t)n;
		}
	} else if (!strcmp(cmd, "stat")) {
		if (!path) {
			struct cowfs_pool_info pi;
			cowfs_pool_info(p, &pi);
			printf("pool %s guid %016llx txg %llu\n", pi.name,
			       (unsigned long long)pi.guid, (unsigned long long)pi.txg);
			printf("size %llu data %llu allocated %llu objects %llu recordsize %u "
			       "compression %s\n",
			       (unsigned long long)pi.size, (unsigned long long)pi.data_bytes,
			       (unsigned long long)pi.alloc_bytes, (unsigned long long)pi.nobjects,
			       pi.recordsize, pi.comp ? "lz4" : "off");
			cowfs_list_uberblocks(dev, ub_line, NULL);
		} else {
			uint64_t obj = resolve(p, image, path);
			struct cowfs_attr a;
			if (cowfs_getattr(p, obj, &a) != 0)
				fail("%s: cannot read object %llu", image, (unsigned long long)obj);
			char m[11];
			mode_string(a.mode, a.type, m);
			printf("object %llu %s %s mode %o nlink %u size %llu blocks %llu blksz %u "
			       "gen %llu mtime %llu\n",
			       (unsigned long long)obj, type_name(a.type), m, a.mode & 07777,
			       a.nlink, (unsigned long long)a.size, (unsigned long long)a.blocks,
			       a.blksz, (unsigned long long)a.gen, (unsigned long long)a.mtime);
			struct cowfs_bp bp;
			if (cowfs_obj_bp(p, obj, 0, &bp) == 0)
				print_bp("block 0", &bp);
		}
	} else if (scrub) {
		struct cowfs_scrub_stats ss;
		char line[1400];
		err = cowfs_scrub(p, 0, NULL, &ss);
		if (err)
			fail("%s: scrub could not run: %s", image, strerror(-err));
		cowfs_scrub_format(&ss, line, sizeof(line));
		printf("%s: %s\n", image, line);
		rc = ss.unrecoverable ? 1 : 0;
	} else {
		struct cowfs_check_stats st;
		int n = cowfs_check(p, check_line, NULL, &st);
		if (n < 0)
			fail("%s: check could not run: %s", image, strerror(-n));
		struct cowfs_scrub_stats ss;
		char line[1400];
		if (cowfs_scrub(p, 0, NULL, &ss) == 0) {
			cowfs_scrub_format(&ss, line, sizeof(line));
			printf("%s\n", line);
		}
		printf("%s: %s: %llu objects (%llu files, %llu directories, %llu symlinks), "
		       "%llu blocks, %llu bytes verified, %d problems\n",
		       image, n ? "DAMAGED" : "clean", (unsigned long long)st.objects,
		       (unsigned long long)st.files, (unsigned long long)st.dirs,
		       (unsigned long long)st.symlinks, (unsigned long long)st.blocks,
		       (unsigned long long)st.bytes, n);
		rc = n ? 1 : 0;
	}
	cowfs_close(p);
	cowfs_filedev_close(dev);
	return rc;
}
