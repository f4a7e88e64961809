/*
 * libFuzzer target: cowfs mount and full traversal of a mutated image.
 *
 * A small pool (4 MiB, lz4, 4K records: a directory tree, files with
 * several records, a hole, a symlink, hard links) is made once, with
 * fixed time stamps and guid, so its bytes are the same on every run.
 * Most of a pool is zeros; the input is laid over the sectors that are
 * not (label headers, uberblocks, root block, space map, dnodes,
 * directories, indirect and data blocks, in disk order), so that
 * mutations land on what cowfs parses. The seed in corpus/cowfs is those
 * sectors unchanged (fuzz_cowfs -dump_seed=FILE writes it).
 *
 * Each input: open (writable: label healing and ditto repair run), walk
 * every directory (readdir, lookup, getattr, read every file, readlink),
 * check, scrub, then create, write and commit a file and open again. Any
 * error is fine; a crash, a sanitizer report, a panic (KASSERT) or a hang
 * is a bug.
 *
 * An input of odd length is read with every checksum taken as good
 * (cowfs_fuzz_trust_cksum, fuzz build only): the XXH3-128 of a mutated
 * block almost never matches, so without this the decoders below the
 * checksums would see only blocks mkfs wrote. Even lengths (the seed's)
 * keep the checks, and with them the ditto-copy repair paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc.h"
#include "cowfs.h"

#define POOLSIZE (4u << 20)
#define SECTOR	 512u
#define NSECT	 (POOLSIZE / SECTOR)

static uint8_t *base, *img;
static uint32_t *used; /* sectors of base that are not zero */
static size_t nused;
static uint8_t dirty[NSECT / 8]; /* sectors of img that differ from base */
static struct arc *arc;		 /* of the current input (each open has its own keys) */

static int fd_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	if (off > POOLSIZE || len > POOLSIZE - off)
		return -EIO;
	memcpy(buf, img + off, len);
	return 0;
}

static int fd_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	if (off > POOLSIZE || len > POOLSIZE - off)
		return -EIO;
	memcpy(img + off, buf, len);
	for (uint64_t s = off / SECTOR; s < (off + len + SECTOR - 1) / SECTOR; s++)
		dirty[s / 8] |= (uint8_t)(1u << (s % 8));
	return 0;
}

static int fd_flush(void *ctx)
{
	return 0;
}

static const struct cowfs_dev_ops fops = {.read = fd_read, .write = fd_write, .flush = fd_flush};
static struct cowfs_dev dev = {.ops = &fops, .size = POOLSIZE};

static void put(struct cowfs_pool *p, uint64_t dir, const char *name, size_t len, int mode)
{
	uint64_t o;
	if (mode)
		cowfs_create(p, dir, name, (uint32_t)mode, &o);
	uint8_t *buf = malloc(len);
	for (size_t i = 0; i < len; i++)
		buf[i] = (uint8_t)(i % 251 < 200 ? 'a' + i % 7 : i * 31);
	if (mode && len)
		cowfs_write(p, o, 0, buf, len);
	free(buf);
}

static void make_base(void)
{
	base = calloc(1, POOLSIZE);
	used = calloc(NSECT, sizeof(*used));
	img = base; /* mkfs writes into base */
	char why[128];
	struct cowfs_mkfs_opts mo = {
	    .comp = COWFS_COMP_LZ4, .recordsize = 4096, .guid = 0x5eed, .time = 1, .name = "fuzz"};
	if (cowfs_mkfs(&dev, &mo, why, sizeof(why)) != 0)
		abort();
	struct cowfs_open_opts oo = {.fixed_time = 2};
	struct cowfs_pool *p;
	if (cowfs_open(&dev, &oo, &p, why, sizeof(why)) != 0)
		abort();
	uint64_t d, e, f, o;
	cowfs_create(p, COWFS_ROOT_OBJ, "dir", 040755, &d);
	cowfs_create(p, d, "sub", 040700, &e);
	put(p, COWFS_ROOT_OBJ, "small", 100, 0100644);
	put(p, d, "multi", 5 * 4096 + 17, 0100644);
	put(p, e, "empty", 0, 0100600);
	cowfs_create(p, COWFS_ROOT_OBJ, "sparse", 0100644, &f);
	cowfs_write(p, f, 300 * 4096, "x", 1);
	cowfs_symlink(p, d, "link", "../small", &o);
	cowfs_lookup(p, COWFS_ROOT_OBJ, "small", &o);
	cowfs_link(p, e, "hard", o);
	if (cowfs_close(p) != 0)
		abort();
	static const uint8_t zero[SECTOR];
	for (uint32_t s = 0; s < NSECT; s++)
		if (memcmp(base + (size_t)s * SECTOR, zero, SECTOR))
			used[nused++] = s;
	img = calloc(1, POOLSIZE);
	memcpy(img, base, POOLSIZE);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* printk goes to stdout: keep libFuzzer's stderr readable and fast. */
	int null = open("/dev/null", O_WRONLY);
	if (null >= 0)
		dup2(null, 1);
	make_base();
	for (int i = 1; i < *argc; i++)
		if (!strncmp((*argv)[i], "-dump_seed=", 11)) {
			FILE *f = fopen((*argv)[i] + 11, "wb");
			for (size_t k = 0; f && k < nused; k++)
				fwrite(base + (size_t)used[k] * SECTOR, 1, SECTOR, f);
			if (f)
				fclose(f);
			exit(0);
		}
	return 0;
}

struct walk {
	struct cowfs_pool *p;
	int budget; /* entries still to visit */
	/* Files are read in pieces of this size: each cowfs_read gets the
	 * object anew (nobody holds it between calls, so its dnode block is
	 * read and decompressed again), and 8 KiB pieces made that most of an
	 * input's time on the 1.2 MB sparse file. */
	uint8_t buf[65536];
};

struct names {
	uint64_t obj[64];
	uint8_t type[64];
	int n;
};

static bool fill(void *ctx, const char *name, size_t len, uint64_t obj, uint8_t type, uint64_t next)
{
	struct names *nm = ctx;
	if (nm->n == 64)
		return false;
	if ((len == 1 && name[0] == '.') || (len == 2 && !memcmp(name, "..", 2)))
		return true;
	nm->obj[nm->n] = obj;
	nm->type[nm->n++] = type;
	return true;
}

static void walk(struct walk *w, uint64_t dir, int depth)
{
	struct names nm = {.n = 0};
	uint64_t cookie = 0;
	if (depth > 8 || cowfs_readdir(w->p, dir, &cookie, fill, &nm) != 0)
		return;
	for (int i = 0; i < nm.n && w->budget > 0; i++, w->budget--) {
		struct cowfs_attr a;
		if (cowfs_getattr(w->p, nm.obj[i], &a) != 0)
			continue;
		if (a.type == COWFS_OT_DIR) {
			walk(w, nm.obj[i], depth + 1);
		} else if (a.type == COWFS_OT_SYMLINK) {
			cowfs_readlink(w->p, nm.obj[i], (char *)w->buf, sizeof(w->buf));
		} else {
			for (uint64_t off = 0; off < a.size && off < (2u << 20);) {
				int64_t n =
				    cowfs_read(w->p, nm.obj[i], off, w->buf, sizeof(w->buf));
				if (n <= 0)
					break;
				off += (uint64_t)n;
			}
		}
	}
}

static void quiet(void *arg, const char *line)
{
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* img = base, then the input over the used sectors. */
	for (uint32_t s = 0; s < NSECT; s++)
		if (dirty[s / 8] & (1u << (s % 8)))
			memcpy(img + (size_t)s * SECTOR, base + (size_t)s * SECTOR, SECTOR);
	memset(dirty, 0, sizeof(dirty));
	for (size_t k = 0; k < nused && k * SECTOR < size; k++) {
		size_t n = size - k * SECTOR < SECTOR ? size - k * SECTOR : SECTOR;
		memcpy(img + (size_t)used[k] * SECTOR, data + k * SECTOR, n);
		dirty[used[k] / 8] |= (uint8_t)(1u << (used[k] % 8));
	}

	cowfs_fuzz_trust_cksum = size & 1;

	/* An ARC per input, small and destroyed at the end: allocations
	 * balance, so libFuzzer's leak check only runs after a real leak. */
	struct arc_config ac = {.name = "fuzz", .c_max = 2u << 20, .hash_log2 = 8};
	if (arc_create(&ac, &arc) != 0)
		abort();
	char why[128];
	struct cowfs_pool *p;
	struct cowfs_open_opts oo = {.fixed_time = 3, .dirty_max = 1u << 20, .arc = arc};
	if (cowfs_open(&dev, &oo, &p, why, sizeof(why)) != 0) {
		arc_destroy(arc);
		return 0;
	}
	static struct walk w;
	w.p = p;
	w.budget = 400;
	walk(&w, COWFS_ROOT_OBJ, 0);
	cowfs_check(p, quiet, NULL, NULL);
	struct cowfs_scrub_stats st;
	cowfs_scrub(p, 0, NULL, &st);
	uint64_t o;
	if (cowfs_create(p, COWFS_ROOT_OBJ, "new", 0100644, &o) == 0) {
		cowfs_write(p, o, 0, w.buf, 6000);
		cowfs_rename(p, COWFS_ROOT_OBJ, "new", COWFS_ROOT_OBJ, "small");
	}
	cowfs_sync(p);
	cowfs_close(p);
	if (cowfs_open(&dev, &oo, &p, why, sizeof(why)) == 0) {
		w.p = p;
		w.budget = 100;
		walk(&w, COWFS_ROOT_OBJ, 0);
		cowfs_close(p);
	}
	arc_destroy(arc);
	return 0;
}
