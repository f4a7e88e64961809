/*
 * The checker: walk the last committed group from its root block and
 * verify everything (cowfs.h, cowfs_check). Every copy of every block is
 * read from the device and checksummed; every structure is decoded; every
 * sector a block pointer names is marked, and must be marked once and be
 * allocated in the space map, and the map may allocate nothing else;
 * directory entries must name live objects of their type, link counts must
 * equal the names (files) or 2 + subdirectories (directories), parents
 * must agree.
 *
 * Runs with the pool's mutex held for its whole length.
 */
#include "cowfs_impl.h"
#include <errno.h>
#include <karst/format.h>
#include <stdarg.h>
#include <string.h>

struct objinfo {
	uint8_t type;
	uint32_t nlink, refs, subdirs;
	uint64_t parent, entries, size, blksz;
	uint64_t seen_parent; /* the directory that names it (directories) */
};

struct chk {
	struct cowfs_pool *p;
	void (*report)(void *, const char *);
	void *arg;
	int problems;
	uint8_t *seen;
	struct objinfo *objs;
	uint64_t nobj;
	struct cowfs_check_stats *st;
	uint8_t *raw;
};

__printf(2, 3) static void problem(struct chk *c, const char *fmt, ...)
{
	char line[200];
	va_list ap;
	va_start(ap, fmt);
	kfmt_vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c->problems++;
	if (c->report)
		c->report(c->arg, line);
}

/* Verify both copies, mark their sectors. false when no copy is good. */
static bool check_bp(struct chk *c, const struct cowfs_bp *bp, const char *what)
{
	bool good = false;
	int copies = 0;
	for (int k = 0; k < 2; k++) {
		if (!bp->dva[k])
			continue;
		copies++;
		uint64_t s0 = bp->dva[k] >> COWFS_SECTOR_SHIFT, n = bp->psize >> COWFS_SECTOR_SHIFT;
		if (s0 < c->p->data_start || s0 + n > c->p->data_end) {
			problem(c, "%s: copy %d at %llu is outside the data area", what, k,
				(unsigned long long)bp->dva[k]);
			continue;
		}
		for (uint64_t s = s0; s < s0 + n; s++) {
			if (c->seen[s >> 3] & (1u << (s & 7))) {
				problem(c, "%s: sector %llu is used twice", what,
					(unsigned long long)s);
				break;
			}
			c->seen[s >> 3] |= (uint8_t)(1u << (s & 7));
		}
		if (cowfs_bio_read_raw(c->p, bp, k, c->raw) != 0)
			problem(c, "%s: copy %d at %llu does not verify", what, k,
				(unsigned long long)bp->dva[k]);
		else
			good = true;
	}
	if (bp->type != COWFS_BT_DATA && copies != 2)
		problem(c, "%s: metadata block with %d copies", what, copies);
	if (bp->birth > c->p->txg)
		problem(c, "%s: born in txg %llu, after the pool's %llu", what,
			(unsigned long long)bp->birth, (unsigned long long)c->p->txg);
	c->st->blocks++;
	c->st->bytes += bp->psize;
	return good;
}

static void check_bucket(struct chk *c, uint64_t dir, const uint8_t *b)
{
	const char *why;
	if (cowfs_dirbucket_check(b, &why) != 0) {
		problem(c, "directory %llu: %s", (unsigned long long)dir, why);
		return;
	}
	unsigned off = COWFS_DIR_HDR;
	struct cowfs_dirent de;
	while (cowfs_dirbucket_next(b, &off, &de)) {
		c->objs[dir].entries++;
		if (de.obj >= c->nobj || c->objs[de.obj].type == COWFS_OT_FREE) {
			problem(c, "directory %llu: entry '%.*s' names no object (%llu)",
				(unsigned long long)dir, de.namelen, de.name,
				(unsigned long long)de.obj);
			continue;
		}
		struct objinfo *oi = &c->objs[de.obj];
		if (oi->type != de.type)
			problem(c, "directory %llu: entry '%.*s' has the wrong type",
				(unsigned long long)dir, de.namelen, de.name);
		oi->refs++;
		if (oi->type == COWFS_OT_DIR) {
			c->objs[dir].subdirs++;
			oi->seen_parent = dir;
		}
		uint64_t h = cowfs_name_hash(de.name, de.namelen);
		if (de.key >> 16 != h)
			problem(c, "directory %llu: entry '%.*s' under the wrong key",
				(unsigned long long)dir, de.namelen, de.name);
	}
}

/* Walk the tree beneath bp (block blkid of level bp->level). */
static void walk(struct chk *c, uint64_t obj, const struct cowfs_dnode *dn,
		 const struct cowfs_bp *bp, uint64_t blkid,
		 void (*l0)(struct chk *, uint64_t, uint64_t, const uint8_t *))
{
	if (cowfs_bp_is_hole(bp))
		return;
	char what[64];
	ksnprintf(what, sizeof(what), "object %llu block %u/%llu", (unsigned long long)obj,
		  bp->level, (unsigned long long)blkid);
	uint32_t want = bp->level ? COWFS_IND_SIZE : dn->blksz;
	if (bp->lsize != want) {
		problem(c, "%s: size %u, expected %u", what, bp->lsize, want);
		return;
	}
	if (!check_bp(c, bp, what))
		return;
	struct cowfs_blk b;
	if (cowfs_bio_read(c->p, bp, &b) != 0) {
		problem(c, "%s: cannot be read", what);
		return;
	}
	if (bp->level == 0) {
		if (blkid >= dn->maxblkid)
			problem(c, "%s: past the object's last block", what);
		if (l0)
			l0(c, obj, blkid, b.data);
	} else {
		uint64_t fill = 0;
		for (unsigned i = 0; i < COWFS_IND_NBP; i++) {
			struct cowfs_bp cbp;
			const char *why;
			if (cowfs_bp_decode(b.data + (size_t)i * COWFS_BP_SIZE, &cbp, &why) != 0) {
				problem(c, "%s slot %u: %s", what, i, why);
				continue;
			}
			if (!cowfs_bp_is_hole(&cbp) && cbp.level != bp->level - 1) {
				problem(c, "%s slot %u: wrong level", what, i);
				continue;
			}
			fill += cbp.fill;
			walk(c, obj, dn, &cbp, (blkid << COWFS_IND_NBP_SHIFT) + i, l0);
		}
		if (fill != bp->fill)
			problem(c, "%s: fill %llu, children hold %llu", what,
				(unsigned long long)bp->fill, (unsigned long long)fill);
	}
	cowfs_blk_release(c->p, &b);
}

static void dnode_block(struct chk *c, uint64_t obj, uint64_t blkid, const uint8_t *data)
{
	for (unsigned i = 0; i < COWFS_DNODES_PER_BLK; i++) {
		uint64_t num = blkid * COWFS_DNODES_PER_BLK + i;
		struct cowfs_dnode dn;
		const char *why;
		if (cowfs_dnode_decode(data + (size_t)i * COWFS_DNODE_SIZE, &dn, &why) != 0) {
			problem(c, "object %llu: %s", (unsigned long long)num, why);
			continue;
		}
		if (dn.type == COWFS_OT_FREE || num >= c->nobj)
			continue;
		if (num == 0 || dn.type == COWFS_OT_META) {
			problem(c, "object %llu: not a valid object", (unsigned long long)num);
			continue;
		}
		struct objinfo *oi = &c->objs[num];
		oi->type = dn.type;
		oi->nlink = dn.nlink;
		oi->parent = dn.parent;
		oi->size = dn.size;
		oi->blksz = dn.blksz;
	}
}

static void dir_block(struct chk *c, uint64_t obj, uint64_t blkid, const uint8_t *data)
{
	check_bucket(c, obj, data);
}

int cowfs_check(struct cowfs_pool *p, void (*report)(void *arg, const char *line), void *arg,
		struct cowfs_check_stats *st)
{
	struct cowfs_check_stats dummy;
	if (!st)
		st = &dummy;
	memset(st, 0, sizeof(*st));
	mutex_lock(&p->lock);
	if (!list_empty(&p->dirty_objs) || p->meta.ndirty) {
		mutex_unlock(&p->lock);
		return -EBUSY;
	}
	struct chk c = {.p = p, .report = report, .arg = arg, .st = st};
	c.nobj = p->next_obj;
	c.seen = kzalloc(p->mapbytes);
	c.objs = kcalloc(c.nobj + 1, sizeof(*c.objs));
	c.raw = kmalloc(COWFS_MAX_RECORDSIZE);
	if (!c.seen || !c.objs || !c.raw) {
		kfree(c.seen);
		kfree(c.objs);
		kfree(c.raw);
		mutex_unlock(&p->lock);
		return -ENOMEM;
	}
	check_bp(&c, &p->rootbp, "root block");
	check_bp(&c, &p->smidx, "space map index");
	for (uint32_t i = 0; i < p->nchunks; i++)
		check_bp(&c, &p->chunk_bp[i], "space map chunk");
	/* The dnode array, then every object. */
	walk(&c, 0, &p->meta.dn, &p->meta.dn.root, 0, dnode_block);
	for (uint64_t n = 1; n < c.nobj; n++) {
		struct objinfo *oi = &c.objs[n];
		if (oi->type == COWFS_OT_FREE)
			continue;
		struct cowfs_obj *o;
		if (cowfs_obj_get(p, n, &o) != 0) {
			problem(&c, "object %llu: cannot be loaded", (unsigned long long)n);
			continue;
		}
		struct cowfs_dnode dn = o->dn;
		cowfs_obj_put(p, o);
		st->objects++;
		if (dn.type == COWFS_OT_DIR) {
			st->dirs++;
			walk(&c, n, &dn, &dn.root, 0, dir_block);
			if (dn.maxblkid != (1ULL << dn.dirbits))
				problem(&c, "directory %llu: %llu buckets, dirbits %u",
					(unsigned long long)n, (unsigned long long)dn.maxblkid,
					dn.dirbits);
		} else {
			st->files += dn.type == COWFS_OT_FILE;
			st->symlinks += dn.type == COWFS_OT_SYMLINK;
			walk(&c, n, &dn, &dn.root, 0, NULL);
			if (dn.maxblkid > 1 && dn.blksz != p->rb.recordsize)
				problem(&c, "object %llu: %llu blocks of %u bytes",
					(unsigned long long)n, (unsigned long long)dn.maxblkid,
					dn.blksz);
		}
	}
	if (st->objects != p->rb.nobjects)
		problem(&c, "%llu objects found, the root block says %llu",
			(unsigned long long)st->objects, (unsigned long long)p->rb.nobjects);
	if (c.nobj <= COWFS_ROOT_OBJ || c.objs[COWFS_ROOT_OBJ].type != COWFS_OT_DIR)
		problem(&c, "no root directory");
	/* Names and links. */
	for (uint64_t n = 1; n < c.nobj; n++) {
		struct objinfo *oi = &c.objs[n];
		if (oi->type == COWFS_OT_FREE)
			continue;
		if (oi->type == COWFS_OT_DIR) {
			if (oi->entries != oi->size)
				problem(&c, "directory %llu: %llu entries, size says %llu",
					(unsigned long long)n, (unsigned long long)oi->entries,
					(unsigned long long)oi->size);
			if (oi->nlink != 2 + oi->subdirs)
				problem(&c, "directory %llu: nlink %u, expected %llu",
					(unsigned long long)n, oi->nlink,
					(unsigned long long)(2 + oi->subdirs));
			uint64_t want = n == COWFS_ROOT_OBJ ? 0 : 1;
			if (oi->refs != want)
				problem(&c, "directory %llu: named %u times", (unsigned long long)n,
					oi->refs);
			if (n != COWFS_ROOT_OBJ && oi->refs == 1 && oi->seen_parent != oi->parent)
				problem(&c, "directory %llu: parent %llu but named in %llu",
					(unsigned long long)n, (unsigned long long)oi->parent,
					(unsigned long long)oi->seen_parent);
		} else if (oi->refs != oi->nlink) {
			problem(&c, "object %llu: nlink %u but %u names", (unsigned long long)n,
				oi->nlink, oi->refs);
		}
	}
	/* Space: exactly what the blocks use is allocated. */
	uint64_t leaked = 0, unalloc = 0, first = 0;
	for (uint64_t s = p->data_start; s < p->data_end; s++) {
		bool used = c.seen[s >> 3] & (1u << (s & 7));
		bool alloc = cowfs_space_test(p, s);
		if (used != alloc) {
			if (!leaked && !unalloc)
				first = s;
			if (alloc)
				leaked++;
			else
				unalloc++;
		}
	}
	if (leaked || unalloc)
		problem(&c,
			"space map: %llu sectors allocated but unused, %llu used but free "
			"(first at sector %llu)",
			(unsigned long long)leaked, (unsigned long long)unalloc,
			(unsigned long long)first);
	kfree(c.seen);
	kfree(c.objs);
	kfree(c.raw);
	mutex_unlock(&p->lock);
	return c.problems;
}
