/*
 * Power cuts under QEMU: the writer and the verifier that
 * tests/kernel/run-powercut boots, kills with SIGKILL and boots again.
 *
 * powercut_writer (manual) mounts the cowfs disk vtbd0 on /pc with the
 * commit interval at an hour, so that only its own syncs commit; finds
 * the generation the disk holds and verifies it as powercut_verify does,
 * prints "powercut: writing from gen G", then makes generation after
 * generation: each changes a few of the files f0..f4 (writes of whole
 * 3000-byte chunks, never aligned to a block; appends, truncates,
 * unlinks, renames), rewrites the file gen with its number, syncs and
 * prints "powercut: gen N committed". The host kills QEMU at a random
 * moment; the writer stops by itself after PCW_SECONDS.
 *
 * What generation g holds is a function of pcseed= and g alone: the model
 * replays the changes of generations 1..g (names, sizes and which
 * generation wrote each chunk, no data), and the bytes of a chunk follow
 * from (file id, chunk, generation that wrote it), so the verifier needs
 * nothing from the host. The disk must hold exactly one generation G (the
 * file gen says which; 0, no file at all, before the first), file by
 * file and byte by byte, with cowfs_check and a scrub of the pool clean.
 * The host compares G with the last "committed" line it saw before the
 * kill: G is that one or the next, which was being written.
 */
#include <errno.h>
#include <karst/cmdline.h>
#include <karst/kmem.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/time.h>
#include <stdlib.h>
#include <string.h>
#include <vfs.h>

#include "cowfs.h"
#include "cowfs_vfs.h"

#define PCW_FILES   5
#define PCW_CHUNK   3000
#define PCW_NCH	    80 /* chunks: files up to 240,000 bytes */
#define PCW_SECONDS 60
#define PCW_DISK    "/dev/vtbd0"
#define PCW_MNT	    "/pc"

struct pcw_file {
	bool live;
	uint32_t id;
	uint32_t nch;	       /* size in chunks */
	uint32_t ver[PCW_NCH]; /* generation that wrote each chunk; 0: zeros */
};

struct pcw_model {
	uint64_t seed;
	uint32_t gen;
	struct pcw_file f[PCW_FILES];
	uint8_t buf[12 * PCW_CHUNK], want[PCW_CHUNK];
};

static uint64_t pcw_seed = 1;

static int param_pcseed(const char *v)
{
	if (!v || !*v)
		return -EINVAL;
	pcw_seed = strtoull(v, NULL, 0);
	return 0;
}
KARST_PARAM("pcseed", param_pcseed, "pcseed=N: the workload of the powercut_* tests");

static uint64_t pcw_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ULL;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t pcw_rnd(uint64_t *r, uint32_t n)
{
	*r = pcw_mix(*r);
	return (uint32_t)(*r % n);
}

/* The bytes of chunk c of file id as generation v wrote it: every fourth
 * chunk a repeated 16-byte header (compressible), the others noise. */
static void pcw_fill(uint8_t *b, uint32_t id, uint32_t c, uint32_t v)
{
	if (v == 0) {
		memset(b, 0, PCW_CHUNK);
		return;
	}
	uint64_t h = pcw_mix(((uint64_t)id << 40) ^ ((uint64_t)c << 24) ^ v);
	for (uint32_t k = 0; k < PCW_CHUNK; k += 8) {
		uint64_t w = (h & 3) == 0 ? (k % 16 ? h : ((uint64_t)id << 32 | c << 16 | v))
					  : pcw_mix(h + k);
		memcpy(b + k, &w, 8);
	}
}

static void pcw_path(char *p, size_t n, int i)
{
	ksnprintf(p, n, PCW_MNT "/f%d", i);
}

/*
 * Generation m->gen + 1: change the model and, with io, the files, then
 * rewrite gen (not synced here). 0 or the first error.
 */
static int pcw_next(struct pcw_model *m, bool io)
{
	uint32_t g = m->gen + 1;
	uint64_t r = pcw_mix(m->seed ^ ((uint64_t)g << 20));
	int nops = 1 + (int)pcw_rnd(&r, 4), e = 0;
	char path[32], to[32];
	for (int k = 0; k < nops && e == 0; k++) {
		int i = (int)pcw_rnd(&r, PCW_FILES);
		struct pcw_file *f = &m->f[i];
		pcw_path(path, sizeof(path), i);
		uint32_t op = pcw_rnd(&r, 10);
		if (op <= 4 || op == 9) { /* write, or append */
			uint32_t c0 = op == 9 && f->live ? f->nch : pcw_rnd(&r, PCW_NCH);
			uint32_t n = 1 + pcw_rnd(&r, op == 9 ? 4 : 12);
			if (c0 >= PCW_NCH)
				continue;
			if (c0 + n > PCW_NCH)
				n = PCW_NCH - c0;
			if (!f->live) {
				memset(f, 0, sizeof(*f));
				f->live = true;
				f->id = g * 8 + (uint32_t)i;
			}
			for (uint32_t c = c0; c < c0 + n; c++)
				f->ver[c] = g;
			if (c0 + n > f->nch)
				f->nch = c0 + n;
			if (!io)
				continue;
			for (uint32_t c = 0; c < n; c++)
				pcw_fill(m->buf + c * PCW_CHUNK, f->id, c0 + c, g);
			int fd = vfs_open(path, O_CREAT | O_RDWR, 0644);
			if (fd < 0)
				return fd;
			long w =
			    vfs_pwrite(fd, m->buf, (size_t)n * PCW_CHUNK, (int64_t)c0 * PCW_CHUNK);
			e = w == (long)n * PCW_CHUNK ? 0 : w < 0 ? (int)w : -EIO;
			int ce = vfs_close(fd);
			e = e ? e : ce;
		} else if (op <= 6) { /* truncate */
			uint32_t nch = pcw_rnd(&r, PCW_NCH + 1);
			if (!f->live)
				continue;
			for (uint32_t c = nch; c < PCW_NCH; c++)
				f->ver[c] = 0;
			f->nch = nch;
			if (io)
				e = vfs_truncate(path, (int64_t)nch * PCW_CHUNK);
		} else if (op == 7) { /* unlink */
			if (!f->live)
				continue;
			f->live = false;
			if (io)
				e = vfs_unlink(path);
		} else { /* rename over another slot */
			int j = (int)pcw_rnd(&r, PCW_FILES);
			if (!f->live || j == i)
				continue;
			m->f[j] = *f;
			f->live = false;
			pcw_path(to, sizeof(to), j);
			if (io)
				e = vfs_rename(path, to);
		}
	}
	m->gen = g;
	if (!io || e)
		return e;
	char line[24];
	int len = ksnprintf(line, sizeof(line), "%016u\n", g);
	int fd = vfs_open(PCW_MNT "/gen", O_CREAT | O_RDWR, 0644);
	if (fd < 0)
		return fd;
	long w = vfs_pwrite(fd, line, (size_t)len, 0);
	int ce = vfs_close(fd);
	return w != len ? (w < 0 ? (int)w : -EIO) : ce;
}

/* The generation on the disk: the number in gen, 0 without the file. */
static int pcw_disk_gen(uint32_t *g)
{
	char line[24] = {0};
	int fd = vfs_open(PCW_MNT "/gen", O_RDONLY, 0);
	if (fd == -ENOENT) {
		*g = 0;
		return 0;
	}
	if (fd < 0)
		return fd;
	long n = vfs_pread(fd, line, sizeof(line) - 1, 0);
	vfs_close(fd);
	if (n != 17 || line[16] != '\n') {
		printk("    gen holds %ld bytes, not a generation\n", n);
		return -EINVAL;
	}
	*g = (uint32_t)strtoul(line, NULL, 10);
	return 0;
}

/* Is every file as the model says? Counts and prints the differences. */
static int pcw_compare(struct pcw_model *m)
{
	int bad = 0;
	char path[32];
	for (int i = 0; i < PCW_FILES; i++) {
		struct pcw_file *f = &m->f[i];
		pcw_path(path, sizeof(path), i);
		struct vfs_stat st;
		int e = vfs_stat(path, &st);
		if (!f->live || e) {
			if (f->live || e != -ENOENT) {
				printk("    f%d: stat %s, the model has it %s\n", i,
				       e ? vfs_errname(e) : "found it",
				       f->live ? "live" : "absent");
				bad++;
			}
			continue;
		}
		if (st.st_size != (uint64_t)f->nch * PCW_CHUNK) {
			printk("    f%d: %ld bytes, want %u\n", i, (long)st.st_size,
			       f->nch * PCW_CHUNK);
			bad++;
			continue;
		}
		int fd = vfs_open(path, O_RDONLY, 0);
		if (fd < 0) {
			bad++;
			continue;
		}
		for (uint32_t c = 0; c < f->nch; c++) {
			long n = vfs_pread(fd, m->buf, PCW_CHUNK, (int64_t)c * PCW_CHUNK);
			pcw_fill(m->want, f->id, c, f->ver[c]);
			if (n != PCW_CHUNK || memcmp(m->buf, m->want, PCW_CHUNK)) {
				printk("    f%d: chunk %u differs from gen %u's (read %ld)\n", i, c,
				       f->ver[c], n);
				bad++;
				break;
			}
		}
		vfs_close(fd);
	}
	return bad;
}

struct pcw_check {
	int problems, err;
	struct cowfs_scrub_stats st;
};

static void pcw_report(void *arg, const char *line)
{
	printk("    check: %s\n", line);
}

static void pcw_check_one(void *arg, struct cowfs_mount *cm)
{
	struct pcw_check *c = arg;
	if (strcmp(cm->source, &PCW_DISK[5]))
		return;
	c->problems = cowfs_check(cm->pool, pcw_report, NULL, NULL);
	c->err = cowfs_scrub(cm->pool, 0, NULL, &c->st);
}

/* Mount, check the pool, find and verify the generation on the disk:
 * the model is then at it. 0, or -1 after reporting why. */
static int pcw_mount_verify(struct pcw_model *m)
{
	memset(m, 0, sizeof(*m));
	m->seed = pcw_seed;
	vfs_mkdir(PCW_MNT, 0755);
	int e = vfs_mount(PCW_DISK, PCW_MNT, "cowfs", 0, "txg=3600");
	if (e) {
		printk("powercut: mount: %s\n", vfs_errname(e));
		return -1;
	}
	struct pcw_check c = {.problems = -1};
	cowfs_foreach_mount(pcw_check_one, &c);
	if (c.problems || c.err || c.st.errors || c.st.unrecoverable) {
		printk(
		    "powercut: check found %d problems; scrub %d, %lu errors, %lu unrecoverable\n",
		    c.problems, c.err, (unsigned long)c.st.errors,
		    (unsigned long)c.st.unrecoverable);
		return -1;
	}
	uint32_t g;
	if (pcw_disk_gen(&g))
		return -1;
	while (m->gen < g)
		pcw_next(m, false);
	int bad = pcw_compare(m);
	printk("powercut: found gen %u (pool checked, %lu blocks scrubbed): %s\n", g,
	       (unsigned long)c.st.blocks, bad ? "DIFFERS" : "verified");
	return bad ? -1 : 0;
}

KTEST_FLAGS(powercut_verify, KTEST_MANUAL)
{
	struct pcw_model *m = kzalloc(sizeof(*m));
	KT_ASSERT(m != NULL);
	KT_EXPECT(pcw_mount_verify(m) == 0);
	/* The pool goes on after the cut: one more generation commits. */
	KT_EXPECT(pcw_next(m, true) == 0);
	KT_EXPECT(vfs_sync_all() == 0);
	KT_EXPECT(vfs_umount(PCW_MNT) == 0);
	kfree(m);
}

KTEST_FLAGS(powercut_writer, KTEST_MANUAL)
{
	struct pcw_model *m = kzalloc(sizeof(*m));
	KT_ASSERT(m != NULL);
	if (pcw_mount_verify(m)) {
		KT_EXPECT(false);
		kfree(m);
		return;
	}
	printk("powercut: writing from gen %u\n", m->gen);
	uint64_t t0 = time_ns();
	while (time_ns() - t0 < PCW_SECONDS * NSEC_PER_SEC) {
		int e = pcw_next(m, true);
		if (e == 0 && vfs_sync_all())
			e = -EIO;
		if (e) {
			printk("powercut: gen %u: %s\n", m->gen, vfs_errname(e));
			KT_EXPECT(false);
			break;
		}
		printk("powercut: gen %u committed\n", m->gen);
	}
	KT_EXPECT(vfs_umount(PCW_MNT) == 0);
	kfree(m);
}
