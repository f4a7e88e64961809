/*
 * Power cuts under the randomized tester (ztest style).
 *
 * A workload of random creates, writes, truncates, renames, links, unlinks
 * and commits runs on a device that records every write and flush (the
 * trace). The model of the tree is saved at every commit as a snapshot
 * (names, object numbers, sizes, link counts and a checksum of each file's
 * bytes), keyed by the committed txg. Then, for random cut points k in the
 * trace, the disk a power cut at write k would leave behind is rebuilt from
 * the trace in one of three ways:
 *
 *  - drop: writes 0..k-1 reached the disk, nothing after; write k is torn
 *    (a random subset of its sectors written) half of the time;
 *  - lost cache: the volatile write cache is lost, so only what the last
 *    flush before k made durable is there;
 *  - reordered cache: what the last flush made durable, plus any subset of
 *    the writes since (each written whole, not at all, or torn).
 *
 * The pool opened on that disk must be the model at a committed txg: the
 * last commit completed before k or the one write k belonged to, never a
 * mix. A quarter of the cut points fall on the last writes of a commit
 * (the uberblocks), where the new group becomes the committed one.
 * cowfs_check finds nothing, and (every few cuts) the pool takes a
 * new commit and checks clean again. Each cut's disk is rebuilt from a
 * running image advanced to the last flush (cut points are sorted), so a
 * cut costs a copy of the image, an open, a check and a compare.
 *
 * COWFS_CUTS sets the number of cuts (default 1,000, 250 under ASan: half
 * with 128K records uncompressed, half lz4 with 16K records); COWFS_SEED
 * the seed. The test
 * prints cuts survived / made by mode.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "cowfs.h"

#define NDIRS	 3
#define NSLOTS	 8
#define NOBJ	 (NDIRS * NSLOTS * 2)
#define MAXSIZE	 (200 * 1024)
#define POOLSIZE (32ULL << 20)
#define SECTOR	 512u

/* make check runs the plain build's 1,000 cuts; the ASan build (3x slower)
 * runs a quarter of them for the memory checking. */
#if defined(__SANITIZE_ADDRESS__)
#define DEFAULT_CUTS 250
#else
#define DEFAULT_CUTS 1000
#endif

/* ---- the recording device ---- */

struct tev {
	bool flush;
	uint64_t off;
	uint32_t len;
	uint8_t *data;
};

struct tdev {
	struct cowfs_dev dev;
	uint8_t *img;
	bool record;
	bool track; /* note the ranges written in mod[] */
	uint64_t mod[64][2];
	size_t nmod;
	bool mod_overflow;
	struct tev *ev;
	size_t nev, cap;
};

static int td_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct tdev *t = ctx;
	if (off > t->dev.size || len > t->dev.size - off)
		return -EIO;
	memcpy(buf, t->img + off, len);
	return 0;
}

static void td_push(struct tdev *t, struct tev e)
{
	if (t->nev == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->ev = realloc(t->ev, t->cap * sizeof(*t->ev));
		ck_assert_ptr_nonnull(t->ev);
	}
	t->ev[t->nev++] = e;
}

static int td_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	struct tdev *t = ctx;
	if (off > t->dev.size || len > t->dev.size - off)
		return -EIO;
	ck_assert(off % SECTOR == 0 && len % SECTOR == 0);
	memcpy(t->img + off, buf, len);
	if (t->track) {
		if (t->nmod < 64) {
			t->mod[t->nmod][0] = off;
			t->mod[t->nmod++][1] = len;
		} else {
			t->mod_overflow = true;
		}
	}
	if (t->record) {
		struct tev e = {.off = off, .len = (uint32_t)len, .data = malloc(len)};
		memcpy(e.data, buf, len);
		td_push(t, e);
	}
	return 0;
}

static int td_flush(void *ctx)
{
	struct tdev *t = ctx;
	if (t->record)
		td_push(t, (struct tev){.flush = true});
	return 0;
}

static const struct cowfs_dev_ops td_ops = {.read = td_read, .write = td_write, .flush = td_flush};

static void td_init(struct tdev *t, uint8_t *img)
{
	memset(t, 0, sizeof(*t));
	t->dev = (struct cowfs_dev){.ops = &td_ops, .ctx = t, .size = POOLSIZE};
	t->img = img;
}

static void td_clear(struct tdev *t)
{
	for (size_t i = 0; i < t->nev; i++)
		free(t->ev[i].data);
	free(t->ev);
	t->ev = NULL;
	t->nev = t->cap = 0;
}

/* ---- the model and its snapshots ---- */

struct mobj {
	bool live;
	uint64_t num;
	uint8_t *data;
	size_t size;
	int nlink;
};

struct sslot {
	uint64_t num, size;
	int nlink;
	struct cowfs_cksum ck;
};

struct snap {
	uint64_t txg;
	size_t ev_start, ev_end; /* trace events of this commit */
	int names[NDIRS][NSLOTS];
	struct sslot slot[NDIRS][NSLOTS];
};

static struct mobj objs[NOBJ];
static int names[NDIRS][NSLOTS];
static uint64_t dirnum[NDIRS];
static struct cowfs_pool *pool;
static uint64_t rng;
static struct snap *snaps;
static size_t nsnaps, snapcap;
static struct arc *arc; /* shared by every open (each open has its own keys) */

static uint64_t rnd(uint64_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

static void report(void *arg, const char *line)
{
	(void)arg;
	fprintf(stderr, "check: %s\n", line);
}

static void slotname(int s, char *buf)
{
	sprintf(buf, "file-%02d", s);
}

static void take_snap(struct snap *sn)
{
	memcpy(sn->names, names, sizeof(names));
	for (int d = 0; d < NDIRS; d++)
		for (int s = 0; s < NSLOTS; s++) {
			if (names[d][s] < 0)
				continue;
			struct mobj *m = &objs[names[d][s]];
			sn->slot[d][s] =
			    (struct sslot){.num = m->num,
					   .size = m->size,
					   .nlink = m->nlink,
					   .ck = cowfs_cksum_compute(m->data, m->size)};
		}
}

/* Commit, recording which trace events the commit wrote. */
static void commit(struct tdev *t)
{
	if (nsnaps == snapcap) {
		snapcap = snapcap ? 2 * snapcap : 64;
		snaps = realloc(snaps, snapcap * sizeof(*snaps));
		ck_assert_ptr_nonnull(snaps);
	}
	struct snap *sn = &snaps[nsnaps];
	take_snap(sn);
	sn->ev_start = t->nev;
	ck_assert_int_eq(cowfs_sync(pool), 0);
	sn->ev_end = t->nev;
	struct cowfs_pool_info pi;
	cowfs_pool_info(pool, &pi);
	sn->txg = pi.txg;
	if (nsnaps && snaps[nsnaps - 1].txg == pi.txg)
		return; /* nothing was dirty: the same group */
	nsnaps++;
}

/* Does the open pool p hold exactly the tree of sn? A message if not. */
static const char *compare_snap(struct cowfs_pool *p, const struct snap *sn, uint8_t *buf)
{
	static char msg[160];
	for (int d = 0; d < NDIRS; d++) {
		struct cowfs_attr da;
		if (cowfs_getattr(p, dirnum[d], &da) != 0)
			return "directory missing";
		size_t n = 0;
		for (int s = 0; s < NSLOTS; s++) {
			char name[32];
			slotname(s, name);
			uint64_t o;
			int e = cowfs_lookup(p, dirnum[d], name, &o);
			if (sn->names[d][s] < 0) {
				if (e != -ENOENT) {
					snprintf(msg, sizeof(msg), "d%d/%s exists (%d)", d, name,
						 e);
					return msg;
				}
				continue;
			}
			n++;
			const struct sslot *ss = &sn->slot[d][s];
			struct cowfs_attr a;
			if (e != 0 || o != ss->num || cowfs_getattr(p, o, &a) != 0) {
				snprintf(msg, sizeof(msg), "d%d/%s: lookup %d obj %llu, want %llu",
					 d, name, e, (unsigned long long)o,
					 (unsigned long long)ss->num);
				return msg;
			}
			if (a.size != ss->size || a.nlink != (uint32_t)ss->nlink) {
				snprintf(msg, sizeof(msg),
					 "d%d/%s: size %llu nlink %u, want %llu %d", d, name,
					 (unsigned long long)a.size, a.nlink,
					 (unsigned long long)ss->size, ss->nlink);
				return msg;
			}
			int64_t r = cowfs_read(p, o, 0, buf, MAXSIZE + 100);
			struct cowfs_cksum ck = cowfs_cksum_compute(buf, r > 0 ? (size_t)r : 0);
			if (r != (int64_t)ss->size || !cowfs_cksum_equal(&ck, &ss->ck)) {
				snprintf(msg, sizeof(msg), "d%d/%s: bytes differ (read %lld)", d,
					 name, (long long)r);
				return msg;
			}
		}
		if (da.size != (d == 0 ? n + NDIRS - 1 : n))
			return "directory size differs";
	}
	return NULL;
}

static int free_mobj(void)
{
	for (int i = 0; i < NOBJ; i++)
		if (!objs[i].live)
			return i;
	return -1;
}

static void drop_name(int d, int s)
{
	struct mobj *m = &objs[names[d][s]];
	names[d][s] = -1;
	if (--m->nlink == 0) {
		m->live = false;
		m->size = 0;
	}
}

/* One random operation (as in test_cowfs_random.c); commits 1 in 10. */
static void one_op(struct tdev *t)
{
	int d = (int)rnd(NDIRS), s = (int)rnd(NSLOTS);
	char name[32];
	slotname(s, name);
	int mi = names[d][s];
	switch (rnd(10)) {
	case 0:
	case 1: {
		uint64_t o;
		int e = cowfs_create(pool, dirnum[d], name, 0100644, &o);
		if (mi >= 0) {
			ck_assert_int_eq(e, -EEXIST);
			break;
		}
		int k = free_mobj();
		ck_assert_int_ge(k, 0);
		ck_assert_int_eq(e, 0);
		objs[k] = (struct mobj){.live = true, .num = o, .data = objs[k].data, .nlink = 1};
		names[d][s] = k;
		break;
	}
	case 2:
	case 3:
	case 4: {
		if (mi < 0)
			break;
		struct mobj *m = &objs[mi];
		size_t off = (size_t)rnd(MAXSIZE - 1), len = (size_t)rnd(rnd(2) ? 600 : 70000) + 1;
		if (off + len > MAXSIZE)
			len = MAXSIZE - off;
		uint8_t *src = malloc(len);
		uint8_t v = (uint8_t)rnd(256);
		for (size_t i = 0; i < len; i++)
			src[i] = rnd(4) ? v : (uint8_t)rnd(256);
		ck_assert_int_eq(cowfs_write(pool, m->num, off, src, len), (int64_t)len);
		if (off > m->size)
			memset(m->data + m->size, 0, off - m->size);
		memcpy(m->data + off, src, len);
		if (off + len > m->size)
			m->size = off + len;
		free(src);
		break;
	}
	case 5: {
		if (mi < 0)
			break;
		struct mobj *m = &objs[mi];
		size_t ns = (size_t)rnd(rnd(2) ? m->size + 1 : MAXSIZE);
		struct cowfs_setattr sa = {.mask = COWFS_SET_SIZE, .size = ns};
		ck_assert_int_eq(cowfs_setattr(pool, m->num, &sa), 0);
		if (ns > m->size)
			memset(m->data + m->size, 0, ns - m->size);
		m->size = ns;
		break;
	}
	case 6: {
		int e = cowfs_unlink(pool, dirnum[d], name);
		if (mi < 0) {
			ck_assert_int_eq(e, -ENOENT);
			break;
		}
		ck_assert_int_eq(e, 0);
		drop_name(d, s);
		break;
	}
	case 7: {
		int td = (int)rnd(NDIRS), ts = (int)rnd(NSLOTS);
		char tname[32];
		slotname(ts, tname);
		int e = cowfs_rename(pool, dirnum[d], name, dirnum[td], tname);
		if (mi < 0) {
			ck_assert_int_eq(e, -ENOENT);
			break;
		}
		ck_assert_int_eq(e, 0);
		if ((td == d && ts == s) || names[td][ts] == mi)
			break;
		if (names[td][ts] >= 0)
			drop_name(td, ts);
		names[td][ts] = mi;
		names[d][s] = -1;
		break;
	}
	case 8: {
		int td = (int)rnd(NDIRS), ts = (int)rnd(NSLOTS);
		char tname[32];
		slotname(ts, tname);
		if (mi < 0)
			break;
		int e = cowfs_link(pool, dirnum[td], tname, objs[mi].num);
		if (names[td][ts] >= 0) {
			ck_assert_int_eq(e, -EEXIST);
			break;
		}
		ck_assert_int_eq(e, 0);
		names[td][ts] = mi;
		objs[mi].nlink++;
		break;
	}
	case 9:
		commit(t);
		break;
	}
}

/* ---- cuts ---- */

enum { CUT_DROP, CUT_LOST_CACHE, CUT_REORDER, CUT_NMODES };
static const char *const mode_name[CUT_NMODES] = {"drop (+tear)", "lost cache", "reordered cache"};
static unsigned long made[CUT_NMODES], survived[CUT_NMODES], at_new[CUT_NMODES], torn_writes;

/* Ranges of the crash image that differ from the running image. */
static uint64_t (*cmod)[2];
static size_t ncmod, cmodcap;

static void note_cmod(uint64_t off, uint64_t len)
{
	if (ncmod == cmodcap) {
		cmodcap = cmodcap ? 2 * cmodcap : 256;
		cmod = realloc(cmod, cmodcap * sizeof(*cmod));
		ck_assert_ptr_nonnull(cmod);
	}
	cmod[ncmod][0] = off;
	cmod[ncmod++][1] = len;
}

/* Write e to img, whole or (torn) a random subset of its sectors. */
static void apply(uint8_t *img, const struct tev *e, bool torn)
{
	if (!torn) {
		memcpy(img + e->off, e->data, e->len);
		return;
	}
	torn_writes++;
	for (uint32_t s = 0; s < e->len / SECTOR; s++)
		if (rnd(2))
			memcpy(img + e->off + (uint64_t)s * SECTOR, e->data + (uint64_t)s * SECTOR,
			       SECTOR);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* One cut at trace event k (a write, or nev: after everything). */
static void one_cut(struct tdev *t, uint8_t *crash, const uint8_t *run, size_t lastflush, size_t k,
		    int mode, uint8_t *buf)
{
	/* crash equals run here; what changes is noted to be put back. */
	for (size_t i = lastflush; i < k && i < t->nev; i++) {
		if (t->ev[i].flush)
			continue;
		bool w = mode == CUT_DROP || (mode == CUT_REORDER && rnd(3));
		if (w) {
			apply(crash, &t->ev[i], mode == CUT_REORDER && rnd(3) == 0);
			note_cmod(t->ev[i].off, t->ev[i].len);
		}
	}
	if (k < t->nev && !t->ev[k].flush &&
	    ((mode == CUT_DROP && rnd(2)) || (mode == CUT_REORDER && rnd(3)))) {
		apply(crash, &t->ev[k], mode == CUT_DROP || rnd(2) == 0);
		note_cmod(t->ev[k].off, t->ev[k].len);
	}

	/* The commits allowed: the last completed before k, the one k is in. */
	const struct snap *done = NULL, *inflight = NULL;
	for (size_t i = 0; i < nsnaps; i++) {
		if (snaps[i].ev_end <= k)
			done = &snaps[i];
		else if (snaps[i].ev_start <= k && k < snaps[i].ev_end)
			inflight = &snaps[i];
	}
	ck_assert_ptr_nonnull(done);

	made[mode]++;
	struct tdev cd;
	td_init(&cd, crash);
	cd.track = true;
	char why[128];
	struct cowfs_pool *p;
	struct cowfs_open_opts oo = {.arc = arc};
	int e = cowfs_open(&cd.dev, &oo, &p, why, sizeof(why));
	ck_assert_msg(e == 0, "cut at event %zu (%s): open: %s", k, mode_name[mode], why);
	struct cowfs_pool_info pi;
	cowfs_pool_info(p, &pi);
	const struct snap *sn = pi.txg == done->txg		      ? done
				: inflight && pi.txg == inflight->txg ? inflight
								      : NULL;
	ck_assert_msg(sn, "cut at event %zu (%s): pool at txg %llu, want %llu or %llu", k,
		      mode_name[mode], (unsigned long long)pi.txg, (unsigned long long)done->txg,
		      inflight ? (unsigned long long)inflight->txg : 0ULL);
	ck_assert_int_eq(cowfs_check(p, report, NULL, NULL), 0);
	const char *diff = compare_snap(p, sn, buf);
	ck_assert_msg(!diff, "cut at event %zu (%s), txg %llu: %s", k, mode_name[mode],
		      (unsigned long long)pi.txg, diff);
	if (rnd(8) == 0) {
		/* The pool goes on: a new file, a commit, clean again. */
		uint64_t o;
		ck_assert_int_eq(cowfs_create(p, COWFS_ROOT_OBJ, "after-cut", 0100644, &o), 0);
		ck_assert_int_eq(cowfs_write(p, o, 0, buf, 40000), 40000);
		ck_assert_int_eq(cowfs_sync(p), 0);
		ck_assert_int_eq(cowfs_check(p, report, NULL, NULL), 0);
	}
	ck_assert_int_eq(cowfs_close(p), 0);
	/* Put crash back to run. */
	if (cd.mod_overflow) {
		memcpy(crash, run, POOLSIZE);
	} else {
		for (size_t i = 0; i < cd.nmod; i++)
			note_cmod(cd.mod[i][0], cd.mod[i][1]);
		for (size_t i = 0; i < ncmod; i++)
			memcpy(crash + cmod[i][0], run + cmod[i][0], cmod[i][1]);
	}
	ncmod = 0;
	survived[mode]++;
	at_new[mode] += sn == inflight;
}

/* The workload's device, the durable image, the crash image. */
static uint8_t *images[3];

/* One workload and ncuts cuts in its trace. */
static void run_trace(uint8_t comp, uint32_t rs, long nops, long ncuts)
{
	uint8_t *img = images[0], *run = images[1], *crash = images[2];
	uint8_t *buf = malloc(MAXSIZE + 100);
	ck_assert_ptr_nonnull(buf);
	memset(img, 0, POOLSIZE);
	struct tdev t;
	td_init(&t, img);
	char why[128];
	struct cowfs_mkfs_opts mo = {.comp = comp, .recordsize = rs, .time = 1};
	ck_assert_int_eq(cowfs_mkfs(&t.dev, &mo, why, sizeof(why)), 0);
	struct cowfs_open_opts oo = {.dirty_max = 1ULL << 40};
	ck_assert_int_eq(cowfs_open(&t.dev, &oo, &pool, why, sizeof(why)), 0);
	memset(names, -1, sizeof(names));
	for (int i = 0; i < NOBJ; i++)
		objs[i] = (struct mobj){.data = malloc(MAXSIZE)};
	dirnum[0] = COWFS_ROOT_OBJ;
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "d1", 040755, &dirnum[1]), 0);
	ck_assert_int_eq(cowfs_create(pool, COWFS_ROOT_OBJ, "d2", 040755, &dirnum[2]), 0);
	nsnaps = 0;
	commit(&t);
	snaps[0].ev_start = snaps[0].ev_end = 0;
	memcpy(run, img, POOLSIZE);
	memcpy(crash, img, POOLSIZE);
	t.record = true;
	for (long i = 0; i < nops; i++)
		one_op(&t);
	commit(&t);
	ck_assert_int_eq(cowfs_close(pool), 0);
	t.record = false;

	/* Cut points: writes of the trace, or the end. */
	uint64_t *cuts = malloc((size_t)ncuts * sizeof(*cuts));
	size_t nw = 0;
	for (size_t i = 0; i < t.nev; i++)
		nw += !t.ev[i].flush;
	ck_assert_uint_gt(nw, 0);
	for (long c = 0; c < ncuts; c++) {
		size_t want = (size_t)rnd(nw + 1), i = 0;
		for (size_t w = 0; i < t.nev; i++)
			if (!t.ev[i].flush && w++ == want)
				break;
		if (rnd(4) == 0 && nsnaps > 1) {
			/* A quarter near the end of a commit: its uberblock writes. */
			const struct snap *sn = &snaps[1 + rnd(nsnaps - 1)];
			i = sn->ev_end - rnd(4);
			if (i < sn->ev_start)
				i = sn->ev_start;
			while (i < t.nev && t.ev[i].flush)
				i++;
		}
		cuts[c] = i;
	}
	qsort(cuts, (size_t)ncuts, sizeof(*cuts), cmp_u64);
	size_t applied = 0, lastflush = 0;
	for (long c = 0; c < ncuts; c++) {
		size_t k = cuts[c];
		/* Advance the durable image to the last flush before k. */
		for (size_t i = applied; i < k; i++)
			if (t.ev[i].flush) {
				for (size_t j = lastflush; j < i; j++)
					if (!t.ev[j].flush) {
						apply(run, &t.ev[j], false);
						apply(crash, &t.ev[j], false);
					}
				lastflush = i + 1;
			}
		applied = k;
		one_cut(&t, crash, run, lastflush, k, (int)rnd(CUT_NMODES), buf);
	}
	free(cuts);
	td_clear(&t);
	for (int i = 0; i < NOBJ; i++)
		free(objs[i].data);
	free(buf);
}

START_TEST(test_powercut)
{
	const char *seed = getenv("COWFS_SEED"), *ncuts = getenv("COWFS_CUTS");
	rng = seed ? strtoull(seed, NULL, 0) : 0xc0ffee5eedULL;
	if (!rng)
		rng = 1;
	long cuts = ncuts ? atol(ncuts) : DEFAULT_CUTS;
	/* Half the cuts per configuration, 250 cuts per trace. */
	long half = cuts / 2, per = 250;
	struct arc_config ac = {.name = "powercut", .c_max = 16u << 20};
	ck_assert_int_eq(arc_create(&ac, &arc), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_ptr_nonnull(images[i] = malloc(POOLSIZE));
	for (int cfg = 0; cfg < 2; cfg++) {
		uint8_t comp = cfg ? COWFS_COMP_LZ4 : COWFS_COMP_OFF;
		uint32_t rs = cfg ? 16384 : 131072;
		for (long done = 0; done < (cfg ? cuts - half : half); done += per) {
			long n = (cfg ? cuts - half : half) - done;
			run_trace(comp, rs, 250, n < per ? n : per);
		}
	}
	unsigned long tm = 0, ts = 0;
	for (int m = 0; m < CUT_NMODES; m++) {
		printf("powercut: %-16s %lu / %lu survived (%lu at the group being written)\n",
		       mode_name[m], survived[m], made[m], at_new[m]);
		tm += made[m];
		ts += survived[m];
	}
	printf("powercut: cuts survived / made: %lu / %lu (%lu torn writes)\n", ts, tm,
	       torn_writes);
	ck_assert_uint_eq(ts, tm);
	ck_assert_uint_eq(tm, (unsigned long)cuts);
	arc_destroy(arc);
	for (int i = 0; i < 3; i++)
		free(images[i]);
	free(cmod);
	free(snaps);
	snaps = NULL;
	snapcap = 0;
}
END_TEST

int main(void)
{
	Suite *s = suite_create("cowfs_powercut");
	TCase *tc = tcase_create("powercut");
	tcase_set_timeout(tc, 280);
	tcase_add_test(tc, test_powercut);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
