/*
 * Scrub: read every copy of every block reachable from the last committed
 * group and verify its checksum; a copy that does not verify is rewritten
 * from a good one (not on read-only or failed pools); a block with no good
 * copy is unrecoverable and the file it belongs to is named. The kernel's
 * `cowfs scrub` runs it in a background thread (cowfs_scrub_start) and
 * `cowfs status` shows its progress; the host's `cowfs check` runs the same
 * walk (cowfs_scrub) after the checker.
 *
 * The walk takes the pool's mutex for the pool's own blocks (root block,
 * space map, dnode array), then once per object, so reads and commits go
 * on between objects. An optional rate (bytes per second) sleeps between
 * objects to keep the scrub's share of the disk small. Objects freed while
 * the scrub runs are skipped; blocks written after it started are not its
 * business (they are new and were checksummed as they were written).
 */
#include "cowfs_impl.h"
#include <errno.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <stdatomic.h>
#include <string.h>

struct scrub {
	struct cowfs_pool *p;
	struct cowfs_scrub_stats *st;
	const _Atomic bool *stop;
	uint64_t rate, t0;
	uint8_t *buf[2];
	uint8_t *live; /* bitmap of objects in the dnode array */
	uint64_t nobj;
	uint64_t bad[COWFS_SCRUB_NAMES]; /* objects with unrecoverable blocks */
	unsigned nbad;
};

static void note_bad(struct scrub *s, uint64_t obj)
{
	for (unsigned i = 0; i < s->nbad; i++)
		if (s->bad[i] == obj)
			return;
	if (s->nbad < COWFS_SCRUB_NAMES)
		s->bad[s->nbad++] = obj;
}

/* Verify every copy of bp; rewrite bad copies from a good one. 0 when a
 * copy is good (its bytes in s->buf[*good]), -EIO when none is. */
static int scrub_bp(struct scrub *s, const struct cowfs_bp *bp, uint64_t obj)
{
	struct cowfs_pool *p = s->p;
	int good = -1;
	bool bad[2] = {false, false};
	s->st->blocks++;
	for (int k = 0; k < 2; k++) {
		if (!bp->dva[k])
			continue;
		s->st->bytes += bp->psize;
		if (bp->psize > COWFS_MAX_RECORDSIZE ||
		    cowfs_bio_read_raw(p, bp, k, s->buf[good < 0 ? 0 : 1]) != 0) {
			bad[k] = true;
			s->st->errors++;
		} else if (good < 0) {
			good = k;
		}
	}
	if (good < 0) {
		s->st->unrecoverable++;
		note_bad(s, obj);
		return -EIO;
	}
	for (int k = 0; k < 2; k++) {
		if (!bad[k] || p->rdonly || p->failed)
			continue;
		if (cowfs_dev_write(p, bp->dva[k], s->buf[0], bp->psize) == 0) {
			s->st->repaired++;
			p->st.repaired++;
			printk("cowfs: scrub of %s repaired block at %llu from its copy at %llu\n",
			       p->label.name, (unsigned long long)bp->dva[k],
			       (unsigned long long)bp->dva[good]);
		}
	}
	return 0;
}

typedef void (*scrub_l0_t)(struct scrub *s, uint64_t blkid, const uint8_t *data, size_t len);

/* Scrub the tree beneath bp; l0 sees the contents of every level-0 block. */
static void scrub_tree(struct scrub *s, uint64_t obj, const struct cowfs_bp *bp, uint64_t blkid,
		       scrub_l0_t l0)
{
	if (cowfs_bp_is_hole(bp) || scrub_bp(s, bp, obj) != 0)
		return;
	if (bp->level == 0 && !l0)
		return;
	struct cowfs_blk b;
	if (cowfs_bio_read(s->p, bp, &b) != 0) {
		s->st->unrecoverable++;
		note_bad(s, obj);
		return;
	}
	if (bp->level == 0) {
		l0(s, blkid, b.data, b.size);
	} else if (bp->level < COWFS_MAX_LEVELS && b.size == COWFS_IND_SIZE) {
		for (unsigned i = 0; i < COWFS_IND_NBP; i++) {
			struct cowfs_bp cbp;
			const char *why;
			if (cowfs_bp_decode(b.data + (size_t)i * COWFS_BP_SIZE, &cbp, &why) != 0 ||
			    (!cowfs_bp_is_hole(&cbp) && cbp.level != bp->level - 1)) {
				s->st->unrecoverable++;
				note_bad(s, obj);
				continue;
			}
			scrub_tree(s, obj, &cbp, (blkid << COWFS_IND_NBP_SHIFT) + i, l0);
		}
	}
	cowfs_blk_release(s->p, &b);
}

/* Level 0 of the dnode array: note the objects in use. */
static void dnode_l0(struct scrub *s, uint64_t blkid, const uint8_t *data, size_t len)
{
	for (unsigned i = 0; i < COWFS_DNODES_PER_BLK && (i + 1) * COWFS_DNODE_SIZE <= len; i++) {
		uint64_t num = blkid * COWFS_DNODES_PER_BLK + i;
		struct cowfs_dnode dn;
		const char *why;
		if (num >= s->nobj || num == 0)
			continue;
		if (cowfs_dnode_decode(data + (size_t)i * COWFS_DNODE_SIZE, &dn, &why) == 0 &&
		    dn.type != COWFS_OT_FREE)
			s->live[num >> 3] |= (uint8_t)(1u << (num & 7));
	}
}

static bool stopping(struct scrub *s)
{
	return s->stop && atomic_load(s->stop);
}

/* Sleep as long as the rate asks for the bytes read so far. */
static void pace(struct scrub *s)
{
	if (!s->rate)
		return;
	uint64_t want = s->st->bytes * NSEC_PER_SEC / s->rate, now = time_ns() - s->t0;
	while (want > now && !stopping(s)) {
		uint64_t d = want - now;
		thread_sleep_ns(d > 50 * NSEC_PER_MSEC ? 50 * NSEC_PER_MSEC : d);
		now = time_ns() - s->t0;
	}
}

/* ---- names of damaged files ---- */

struct ent {
	uint64_t obj;
	uint8_t type;
	char name[COWFS_NAME_MAX + 1];
};
struct ents {
	struct ent *e;
	size_t n, cap;
	bool nomem;
};

static bool collect(void *ctx, const char *name, size_t len, uint64_t obj, uint8_t type,
		    uint64_t next)
{
	struct ents *es = ctx;
	(void)next;
	if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
		return true;
	if (es->n == es->cap) {
		size_t cap = es->cap ? 2 * es->cap : 16;
		struct ent *ne = kcalloc(cap, sizeof(*ne));
		if (!ne) {
			es->nomem = true;
			return false;
		}
		if (es->n)
			memcpy(ne, es->e, es->n * sizeof(*ne));
		kfree(es->e);
		es->e = ne;
		es->cap = cap;
	}
	struct ent *e = &es->e[es->n++];
	e->obj = obj;
	e->type = type;
	memcpy(e->name, name, len);
	e->name[len] = 0;
	return true;
}

/* Append the path of obj beneath dir to path (of len bytes); true if found. */
static bool find_path(struct cowfs_pool *p, uint64_t dir, uint64_t obj, char *path, size_t len,
		      size_t size, int depth)
{
	if (depth > 32)
		return false;
	struct ents es = {0};
	uint64_t cookie = 0;
	bool found = false;
	if (cowfs_readdir(p, dir, &cookie, collect, &es) != 0 || es.nomem) {
		kfree(es.e);
		return false;
	}
	for (int pass = 0; pass < 2 && !found; pass++)
		for (size_t i = 0; i < es.n && !found; i++) {
			struct ent *e = &es.e[i];
			size_t n = strlen(e->name);
			if (len + 1 + n + 1 > size)
				continue;
			path[len] = '/';
			memcpy(path + len + 1, e->name, n + 1);
			if (pass == 0)
				found = e->obj == obj;
			else if (e->type == COWFS_OT_DIR)
				found =
				    find_path(p, e->obj, obj, path, len + 1 + n, size, depth + 1);
		}
	if (!found)
		path[len] = 0;
	kfree(es.e);
	return found;
}

static void name_bad(struct cowfs_pool *p, struct scrub *s)
{
	for (unsigned i = 0; i < s->nbad; i++) {
		char *out = s->st->bad_names[i];
		size_t size = sizeof(s->st->bad_names[i]);
		out[0] = 0;
		if (s->bad[i] == 0)
			ksnprintf(out, size, "<pool metadata>");
		else if (s->bad[i] == COWFS_ROOT_OBJ)
			ksnprintf(out, size, "/");
		else if (!find_path(p, COWFS_ROOT_OBJ, s->bad[i], out, 0, size, 0))
			ksnprintf(out, size, "<object %llu>", (unsigned long long)s->bad[i]);
	}
	s->st->nbad = s->nbad;
}

int cowfs_scrub(struct cowfs_pool *p, uint64_t rate, const _Atomic bool *stop,
		struct cowfs_scrub_stats *st)
{
	struct scrub s = {.p = p, .st = st, .stop = stop, .rate = rate, .t0 = time_ns()};
	memset(st, 0, sizeof(*st));
	st->running = true;
	s.buf[0] = kmalloc(COWFS_MAX_RECORDSIZE);
	s.buf[1] = kmalloc(COWFS_MAX_RECORDSIZE);
	int err = s.buf[0] && s.buf[1] ? 0 : -ENOMEM;

	mutex_lock(&p->lock);
	st->txg = p->txg;
	s.nobj = p->rb.next_obj;
	if (!err && !(s.live = kzalloc(s.nobj / 8 + 1)))
		err = -ENOMEM;
	if (!err) {
		scrub_bp(&s, &p->rootbp, 0);
		scrub_bp(&s, &p->smidx, 0);
		for (uint32_t i = 0; i < p->nchunks; i++)
			scrub_bp(&s, &p->chunk_bp[i], 0);
		struct cowfs_bp mroot = p->rb.meta.root;
		scrub_tree(&s, 0, &mroot, 0, dnode_l0);
		for (uint64_t n = 1; n < s.nobj; n++)
			st->objects_total += (s.live[n >> 3] >> (n & 7)) & 1;
	}
	mutex_unlock(&p->lock);

	for (uint64_t n = 1; !err && n < s.nobj && !stopping(&s); n++) {
		if (!((s.live[n >> 3] >> (n & 7)) & 1))
			continue;
		mutex_lock(&p->lock);
		struct cowfs_obj *o;
		if (cowfs_obj_get(p, n, &o) == 0) {
			struct cowfs_bp root = o->dn.root;
			cowfs_obj_put(p, o);
			scrub_tree(&s, n, &root, 0, NULL);
		}
		mutex_unlock(&p->lock);
		st->objects++;
		pace(&s);
	}
	if (stopping(&s))
		err = -EINTR;
	name_bad(p, &s);
	kfree(s.live);
	kfree(s.buf[0]);
	kfree(s.buf[1]);
	st->elapsed_ns = time_ns() - s.t0;
	st->err = err;
	st->running = false;
	return err;
}

/* ---- the background scrub ---- */

struct cowfs_scrub_job {
	struct cowfs_pool *p;
	uint64_t rate;
	_Atomic bool stop;
	struct thread *t;
	struct cowfs_scrub_stats st;
};

static void scrub_thread(void *arg)
{
	struct cowfs_scrub_job *j = arg;
	(void)cowfs_scrub(j->p, j->rate, &j->stop, &j->st);
	thread_exit();
}

int cowfs_scrub_start(struct cowfs_pool *p, uint64_t rate, struct cowfs_scrub_job **out)
{
	struct cowfs_scrub_job *j = kzalloc(sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->p = p;
	j->rate = rate;
	j->st.running = true;
	j->t = thread_create("cowfs_scrub", scrub_thread, j, THREAD_PRIO_LOW);
	if (!j->t) {
		kfree(j);
		return -ENOMEM;
	}
	*out = j;
	return 0;
}

const struct cowfs_scrub_stats *cowfs_scrub_progress(const struct cowfs_scrub_job *j)
{
	return &j->st;
}

void cowfs_scrub_stop(struct cowfs_scrub_job *j)
{
	atomic_store(&j->stop, true);
	thread_join(j->t);
	kfree(j);
}

size_t cowfs_scrub_format(const struct cowfs_scrub_stats *st, char *buf, size_t size)
{
	size_t n = ksnprintf(
	    buf, size,
	    "scrub of txg %llu: %s, %llu of %llu objects, blocks checked %llu (%llu bytes), "
	    "errors %llu, repaired %llu, unrecoverable %llu",
	    (unsigned long long)st->txg,
	    st->running		? "running"
	    : st->err == -EINTR ? "stopped"
	    : st->err		? "failed"
				: "done",
	    (unsigned long long)st->objects, (unsigned long long)st->objects_total,
	    (unsigned long long)st->blocks, (unsigned long long)st->bytes,
	    (unsigned long long)st->errors, (unsigned long long)st->repaired,
	    (unsigned long long)st->unrecoverable);
	for (unsigned i = 0; i < st->nbad && n < size; i++)
		n += ksnprintf(buf + n, size - n, "%s%s", i ? ", " : ": ", st->bad_names[i]);
	if (st->unrecoverable && st->nbad == COWFS_SCRUB_NAMES && n < size)
		n += ksnprintf(buf + n, size - n, ", ...");
	return n < size ? n : size - 1;
}
