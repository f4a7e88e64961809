/*
 * Power cuts inside the kernel: cowfs on a GEOM memory disk under a NOP
 * that drops every write after the first N (g_nop.c's dropafter, the
 * write at the point torn with torn). A seeded workload of creates,
 * writes, truncates, renames and unlinks commits every few operations; at
 * each commit the model of the files is saved with the NOP's write count
 * before and after the commit. Then the pool is closed (whatever it still
 * writes is dropped too), the NOP is destroyed and the pool is opened
 * again from the raw memory disk, as after the power came back. It must
 * be the model at a committed group, the last one whose writes all landed
 * or the one being written at the cut, never a mix; cowfs_check finds
 * nothing; and the pool takes a new commit.
 *
 * Per configuration (uncompressed, lz4) a run without a cut first gives
 * the workload's write count T, then cuts fall at random points of
 * [0, T] and on the last writes of a commit (its uberblocks), every other
 * one torn. The host's test_cowfs_powercut makes 1,000 cuts over a
 * recording device; this test takes the path the kernel mounts through.
 */
#include <errno.h>
#include <geom.h>
#include <karst/kmem.h>
#include <karst/ktest.h>
#include <string.h>

#include "cowfs.h"
#include "cowfs_vfs.h"
#include "kt_cowfs.h"

#define NP_FILES 6
#define NP_MAX	 (300u << 10) /* three 128K records */
#define NP_OPS	 70
#define NP_POOL	 (16u << 20)
#define NP_SNAPS 48
#define NP_CUTS	 6 /* per configuration, after the run without a cut */
#define NP_MD	 "npmd"
#define NP_NOP	 "npmd.nop"

struct np_file {
	bool live;
	uint64_t obj;
	uint32_t size;
	uint8_t *data;
};

struct np_snap {
	uint64_t txg, w_start, w_end; /* the commit wrote writes w_start+1..w_end */
	bool live[NP_FILES];
	uint64_t obj[NP_FILES];
	uint32_t size[NP_FILES];
	struct cowfs_cksum ck[NP_FILES];
};

struct np_state {
	struct np_file f[NP_FILES];
	struct np_snap snap[NP_SNAPS];
	int nsnaps;
	uint64_t rng;
	uint8_t *buf;
	struct cowfs_dev dev; /* of the open pool */
};

static uint64_t np_rnd(struct np_state *s, uint64_t n)
{
	s->rng ^= s->rng << 13;
	s->rng ^= s->rng >> 7;
	s->rng ^= s->rng << 17;
	return n ? s->rng % n : 0;
}

static uint64_t np_writes(void)
{
	struct g_nop_stats st;
	return g_nop_get_stats(NP_NOP, &st) == 0 ? st.writes : 0;
}

static void np_name(int i, char *buf)
{
	ksnprintf(buf, 8, "f%d", i);
}

/* Commit and save the model; 0 or the error of cowfs_sync. */
static int np_commit(struct np_state *s, struct cowfs_pool *p)
{
	if (s->nsnaps == NP_SNAPS)
		return 0;
	struct np_snap *sn = &s->snap[s->nsnaps];
	for (int i = 0; i < NP_FILES; i++) {
		sn->live[i] = s->f[i].live;
		sn->obj[i] = s->f[i].obj;
		sn->size[i] = s->f[i].size;
		sn->ck[i] = cowfs_cksum_compute(s->f[i].data, s->f[i].live ? s->f[i].size : 0);
	}
	sn->w_start = np_writes();
	int e = cowfs_sync(p);
	sn->w_end = np_writes();
	struct cowfs_pool_info pi;
	cowfs_pool_info(p, &pi);
	/* A commit that failed (past the cut: it read back a block that was
	 * never written) may still have landed whole: the group it was. */
	sn->txg = e ? pi.txg + 1 : pi.txg;
	if (e || s->nsnaps == 0 || s->snap[s->nsnaps - 1].txg != pi.txg)
		s->nsnaps++;
	return e;
}

/* One random operation on the pool and the model; 0, or what failed. */
static int np_op(struct np_state *s, struct cowfs_pool *p)
{
	int i = (int)np_rnd(s, NP_FILES);
	struct np_file *f = &s->f[i];
	char name[8];
	np_name(i, name);
	switch (np_rnd(s, 10)) {
	case 0:
	case 1: {
		uint64_t o;
		int e = cowfs_create(p, COWFS_ROOT_OBJ, name, 0100644, &o);
		if (f->live)
			return e == -EEXIST ? 0 : -EINVAL;
		if (e)
			return e;
		f->live = true;
		f->obj = o;
		f->size = 0;
		return 0;
	}
	case 2:
	case 3:
	case 4: {
		if (!f->live)
			return 0;
		uint32_t off = (uint32_t)np_rnd(s, NP_MAX - 1);
		uint32_t len = (uint32_t)np_rnd(s, np_rnd(s, 2) ? 600 : 100000) + 1;
		if (off + len > NP_MAX)
			len = NP_MAX - off;
		uint8_t v = (uint8_t)np_rnd(s, 256);
		for (uint32_t k = 0; k < len; k++)
			s->buf[k] = np_rnd(s, 4) ? v : (uint8_t)np_rnd(s, 256);
		int64_t n = cowfs_write(p, f->obj, off, s->buf, len);
		if (n != (int64_t)len)
			return n < 0 ? (int)n : -EIO;
		if (off > f->size)
			memset(f->data + f->size, 0, off - f->size);
		memcpy(f->data + off, s->buf, len);
		if (off + len > f->size)
			f->size = off + len;
		return 0;
	}
	case 5: {
		if (!f->live)
			return 0;
		uint32_t ns = (uint32_t)np_rnd(s, np_rnd(s, 2) ? f->size + 1 : NP_MAX);
		struct cowfs_setattr sa = {.mask = COWFS_SET_SIZE, .size = ns};
		int e = cowfs_setattr(p, f->obj, &sa);
		if (e)
			return e;
		if (ns > f->size)
			memset(f->data + f->size, 0, ns - f->size);
		f->size = ns;
		return 0;
	}
	case 6: {
		int e = cowfs_unlink(p, COWFS_ROOT_OBJ, name);
		if (!f->live)
			return e == -ENOENT ? 0 : -EINVAL;
		f->live = false;
		return e;
	}
	case 7: {
		int j = (int)np_rnd(s, NP_FILES);
		if (!f->live || j == i)
			return 0;
		char to[8];
		np_name(j, to);
		int e = cowfs_rename(p, COWFS_ROOT_OBJ, name, COWFS_ROOT_OBJ, to);
		if (e)
			return e;
		struct np_file t = s->f[j];
		s->f[j] = *f;
		*f = t;
		f->live = false;
		return 0;
	}
	default:
		return np_commit(s, p);
	}
}

/* Is the open pool p exactly the tree of sn? NULL, or what differs. */
static const char *np_compare(struct np_state *s, struct cowfs_pool *p, const struct np_snap *sn)
{
	static char msg[96];
	uint64_t n = 0;
	for (int i = 0; i < NP_FILES; i++) {
		char name[8];
		np_name(i, name);
		uint64_t o;
		int e = cowfs_lookup(p, COWFS_ROOT_OBJ, name, &o);
		if (!sn->live[i]) {
			if (e != -ENOENT) {
				ksnprintf(msg, sizeof(msg), "%s exists (%d)", name, e);
				return msg;
			}
			continue;
		}
		n++;
		struct cowfs_attr a;
		if (e || o != sn->obj[i] || cowfs_getattr(p, o, &a) || a.size != sn->size[i]) {
			ksnprintf(msg, sizeof(msg), "%s: lookup %d, obj %lu size %lu, want %lu %u",
				  name, e, (unsigned long)o, e ? 0ul : (unsigned long)a.size,
				  (unsigned long)sn->obj[i], sn->size[i]);
			return msg;
		}
		int64_t r = cowfs_read(p, o, 0, s->buf, NP_MAX + 100);
		struct cowfs_cksum ck = cowfs_cksum_compute(s->buf, r > 0 ? (size_t)r : 0);
		if (r != (int64_t)sn->size[i] || !cowfs_cksum_equal(&ck, &sn->ck[i])) {
			ksnprintf(msg, sizeof(msg), "%s: bytes differ (read %ld)", name, (long)r);
			return msg;
		}
	}
	struct cowfs_attr da;
	if (cowfs_getattr(p, COWFS_ROOT_OBJ, &da) || da.size != n)
		return "root directory size differs";
	return NULL;
}

static void np_report(void *arg, const char *line)
{
	printk("    check: %s\n", line);
}

/* The pool keeps dev (it must outlive the pool). */
static int np_open(const char *prov, struct cowfs_dev *dev, struct g_consumer **cp,
		   struct cowfs_pool **p)
{
	int e = g_open(prov, 1, 1, 1, NULL, NULL, cp);
	if (e)
		return e;
	*dev = (struct cowfs_dev){&cowfs_geom_dev_ops, *cp, NP_POOL};
	struct cowfs_open_opts oo = {0};
	char why[96];
	e = cowfs_open(dev, &oo, p, why, sizeof(why));
	if (e) {
		printk("    open %s: %s\n", prov, why);
		g_close(*cp);
	}
	return e;
}

/*
 * One workload on a fresh pool under a NOP dropping writes after `cut`
 * (none when cut is UINT64_MAX), then the pool from the raw disk checked.
 * *total: the writes the workload made. True when the cut was survived.
 */
static bool np_one(struct np_state *s, uint8_t comp, uint64_t cut, bool torn, uint64_t seed,
		   uint64_t *total)
{
	bool drop = cut != UINT64_MAX;
	if (kt_cowfs_make_pool(NP_MD, NP_POOL, comp) != 0)
		return false;
	struct g_nop_config cfg = {
	    .drop = drop, .drop_after = drop ? cut : 0, .torn = torn, .seed = seed ^ cut};
	bool ok = false;
	struct g_consumer *cp;
	struct cowfs_pool *p;
	if (g_nop_create(NP_MD, &cfg) != 0)
		goto out_md;
	g_waitidle();
	if (np_open(NP_NOP, &s->dev, &cp, &p) != 0)
		goto out_nop;

	/* The workload: every result checked until the cut, then it may
	 * stop (a block read back that was never written). */
	s->rng = seed | 1;
	s->nsnaps = 0;
	for (int i = 0; i < NP_FILES; i++)
		s->f[i].live = false;
	int e = np_commit(s, p); /* nothing dirty: txg 1 as mkfs left it */
	for (int op = 0; op < NP_OPS && e == 0; op++) {
		e = np_op(s, p);
		/* Past the commit the cut fell in, nothing more reaches the disk. */
		if (drop && s->snap[s->nsnaps - 1].w_end > cut)
			break;
	}
	if (e == 0)
		e = np_commit(s, p);
	if (e && (!drop || np_writes() <= cut))
		printk("    error %d before the cut\n", e);
	else
		e = 0;
	int ce = cowfs_close(p);
	*total = np_writes();
	g_close(cp);
	if (ce && (!drop || *total <= cut)) {
		printk("    close: error %d before the cut\n", ce);
		e = ce;
	}
	if (e)
		goto out_nop;
	g_nop_destroy(NP_NOP, false);
	g_waitidle();

	/* The power is back: the raw disk. */
	if (np_open(NP_MD, &s->dev, &cp, &p) != 0)
		goto out_md;
	struct cowfs_pool_info pi;
	cowfs_pool_info(p, &pi);
	const struct np_snap *done = NULL, *inflight = NULL, *sn = NULL;
	for (int i = 0; i < s->nsnaps; i++) {
		if (s->snap[i].w_end <= cut)
			done = &s->snap[i];
		else if (s->snap[i].w_start <= cut)
			inflight = &s->snap[i];
	}
	sn = done && pi.txg == done->txg	   ? done
	     : inflight && pi.txg == inflight->txg ? inflight
						   : NULL;
	const char *diff = sn ? np_compare(s, p, sn) : "at a txg never committed";
	int bad = cowfs_check(p, np_report, NULL, NULL);
	if (diff || bad)
		printk("    cut after write %lu%s: txg %lu (want %lu or %lu): %s, check %d\n",
		       (unsigned long)cut, torn ? " (torn)" : "", (unsigned long)pi.txg,
		       done ? (unsigned long)done->txg : 0ul,
		       inflight ? (unsigned long)inflight->txg : 0ul, diff ? diff : "same", bad);
	/* The pool goes on: a new file, a commit, clean again. */
	uint64_t o;
	bool goes_on = cowfs_create(p, COWFS_ROOT_OBJ, "after", 0100644, &o) == 0 &&
		       cowfs_write(p, o, 0, s->buf, 40000) == 40000 && cowfs_sync(p) == 0 &&
		       cowfs_check(p, np_report, NULL, NULL) == 0;
	ok = !diff && bad == 0 && goes_on;
	if (cowfs_close(p) != 0)
		ok = false;
	g_close(cp);
	if (ok && drop)
		printk("    cut after write %lu of %lu%s: txg %lu, the group %s\n",
		       (unsigned long)cut, (unsigned long)*total, torn ? " (torn)" : "",
		       (unsigned long)pi.txg, sn == inflight ? "being written" : "last completed");
	goto out_md;
out_nop:
	g_nop_destroy(NP_NOP, true);
	g_waitidle();
out_md:
	g_md_destroy(NP_MD, true);
	g_waitidle();
	return ok;
}

KTEST(cowfs_nop_powercut)
{
	struct np_state *s = kzalloc(sizeof(*s));
	KT_ASSERT(s != NULL);
	KT_ASSERT((s->buf = kmalloc(NP_MAX + 100)) != NULL);
	for (int i = 0; i < NP_FILES; i++)
		KT_ASSERT((s->f[i].data = kmalloc(NP_MAX)) != NULL);
	int made = 0, survived = 0;
	for (int cfg = 0; cfg < 2; cfg++) {
		uint8_t comp = cfg ? COWFS_COMP_LZ4 : COWFS_COMP_OFF;
		uint64_t seed = 0x5eed0 + (uint64_t)cfg, total = 0;
		KT_EXPECT(np_one(s, comp, UINT64_MAX, false, seed, &total));
		KT_EXPECT(s->nsnaps > 4 && total > 0);
		/* The commits of the uncut run: the cut runs write the same. */
		uint64_t ends[NP_SNAPS];
		int nends = s->nsnaps;
		for (int i = 0; i < nends; i++)
			ends[i] = s->snap[i].w_end;
		struct np_state pick = {.rng = seed * 7 + 1};
		for (int c = 0; c < NP_CUTS && total > 0; c++) {
			uint64_t cut = np_rnd(&pick, total + 1);
			if (c % 3 == 2 && nends > 1) {
				uint64_t end = ends[1 + np_rnd(&pick, (uint64_t)nends - 1)];
				uint64_t back = np_rnd(&pick, 3) + 1;
				cut = end >= back ? end - back : 0;
			}
			uint64_t t;
			made++;
			bool ok = np_one(s, comp, cut, c % 2 == 1, seed, &t);
			survived += ok;
			KT_EXPECT(ok);
		}
	}
	printk("    cowfs_nop_powercut: %d of %d cuts survived\n", survived, made);
	for (int i = 0; i < NP_FILES; i++)
		kfree(s->f[i].data);
	kfree(s->buf);
	kfree(s);
}
