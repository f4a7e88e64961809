/*
 * cowfs on-disk encoding: block pointers, dnodes, labels, uberblocks, the
 * root block and directory buckets, field by field, little-endian, at the
 * offsets FORMAT.md lists. Decoders refuse anything they cannot vouch for
 * with -EINVAL and a one-line reason; the structures that carry their own
 * checksum (label header, uberblock) verify it here, the others are
 * verified against the checksum of the block pointer that names them
 * before they are decoded (cowfs_bio.c).
 */
#include "cowfs_format.h"
#include <errno.h>
#include <string.h>

/* ---- block pointers ---------------------------------------------------- */

#define BP_DVA0	 0
#define BP_DVA1	 8
#define BP_LSIZE 16
#define BP_PSIZE 20
#define BP_TYPE	 24
#define BP_LEVEL 25
#define BP_COMP	 26
#define BP_CKT	 27
#define BP_PAD	 28
#define BP_BIRTH 32
#define BP_FILL	 40
#define BP_CKLO	 48
#define BP_CKHI	 56

void cowfs_bp_encode(const struct cowfs_bp *bp, uint8_t *p)
{
	memset(p, 0, COWFS_BP_SIZE);
	if (cowfs_bp_is_hole(bp))
		return;
	cowfs_le64enc(p + BP_DVA0, bp->dva[0]);
	cowfs_le64enc(p + BP_DVA1, bp->dva[1]);
	cowfs_le32enc(p + BP_LSIZE, bp->lsize);
	cowfs_le32enc(p + BP_PSIZE, bp->psize);
	p[BP_TYPE] = bp->type;
	p[BP_LEVEL] = bp->level;
	p[BP_COMP] = bp->comp;
	p[BP_CKT] = bp->cksum_type;
	cowfs_le64enc(p + BP_BIRTH, bp->birth);
	cowfs_le64enc(p + BP_FILL, bp->fill);
	cowfs_le64enc(p + BP_CKLO, bp->cksum.lo);
	cowfs_le64enc(p + BP_CKHI, bp->cksum.hi);
}

/* The first byte is zero and every byte equals the one before it: one
 * memcmp rather than a loop of byte tests, since every open scans the two
 * uberblock rings, whose slots are mostly empty (256 KiB of zeros). */
static bool all_zero(const uint8_t *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

int cowfs_bp_decode(const uint8_t *p, struct cowfs_bp *bp, const char **why)
{
	memset(bp, 0, sizeof(*bp));
	bp->birth = cowfs_le64dec(p + BP_BIRTH);
	if (bp->birth == 0) {
		if (!all_zero(p, COWFS_BP_SIZE)) {
			*why = "hole block pointer with non-zero fields";
			return -EINVAL;
		}
		return 0;
	}
	bp->dva[0] = cowfs_le64dec(p + BP_DVA0);
	bp->dva[1] = cowfs_le64dec(p + BP_DVA1);
	bp->lsize = cowfs_le32dec(p + BP_LSIZE);
	bp->psize = cowfs_le32dec(p + BP_PSIZE);
	bp->type = p[BP_TYPE];
	bp->level = p[BP_LEVEL];
	bp->comp = p[BP_COMP];
	bp->cksum_type = p[BP_CKT];
	bp->fill = cowfs_le64dec(p + BP_FILL);
	bp->cksum.lo = cowfs_le64dec(p + BP_CKLO);
	bp->cksum.hi = cowfs_le64dec(p + BP_CKHI);
	if (cowfs_le32dec(p + BP_PAD) != 0) {
		*why = "block pointer padding not zero";
		return -EINVAL;
	}
	if (bp->type == COWFS_BT_NONE || bp->type >= COWFS_BT_NTYPES) {
		*why = "block pointer of unknown type";
		return -EINVAL;
	}
	if (bp->level >= COWFS_MAX_LEVELS) {
		*why = "block pointer level too deep";
		return -EINVAL;
	}
	if (bp->comp >= COWFS_COMP_NTYPES) {
		*why = "unknown compression";
		return -EINVAL;
	}
	if (bp->cksum_type != COWFS_CKSUM_XXH3_128) {
		*why = "unknown checksum type";
		return -EINVAL;
	}
	if (bp->lsize == 0 || bp->lsize > COWFS_MAX_RECORDSIZE || bp->lsize % COWFS_SECTOR ||
	    bp->psize == 0 || bp->psize > bp->lsize || bp->psize % COWFS_SECTOR) {
		*why = "block pointer sizes out of range";
		return -EINVAL;
	}
	if (bp->comp == COWFS_COMP_OFF && bp->psize != bp->lsize) {
		*why = "uncompressed block with psize != lsize";
		return -EINVAL;
	}
	if (bp->comp != COWFS_COMP_OFF && bp->psize >= bp->lsize) {
		*why = "compressed block no smaller than its data";
		return -EINVAL;
	}
	if (bp->dva[0] == 0 || bp->dva[0] % COWFS_SECTOR || bp->dva[1] % COWFS_SECTOR ||
	    bp->dva[0] == bp->dva[1]) {
		*why = "block pointer address not valid";
		return -EINVAL;
	}
	return 0;
}

/* ---- dnodes ------------------------------------------------------------- */

#define DN_TYPE	    0
#define DN_NLEVELS  1
#define DN_DIRBITS  2
#define DN_PAD3	    3
#define DN_BLKSZ    4
#define DN_MODE	    8
#define DN_NLINK    12
#define DN_SIZE	    16
#define DN_ATIME    24
#define DN_MTIME    32
#define DN_CTIME    40
#define DN_PARENT   48
#define DN_GEN	    56
#define DN_MAXBLKID 64
#define DN_ROOT	    128

void cowfs_dnode_encode(const struct cowfs_dnode *dn, uint8_t *p)
{
	memset(p, 0, COWFS_DNODE_SIZE);
	if (dn->type == COWFS_OT_FREE)
		return;
	p[DN_TYPE] = dn->type;
	p[DN_NLEVELS] = dn->nlevels;
	p[DN_DIRBITS] = dn->dirbits;
	cowfs_le32enc(p + DN_BLKSZ, dn->blksz);
	cowfs_le32enc(p + DN_MODE, dn->mode);
	cowfs_le32enc(p + DN_NLINK, dn->nlink);
	cowfs_le64enc(p + DN_SIZE, dn->size);
	cowfs_le64enc(p + DN_ATIME, dn->atime);
	cowfs_le64enc(p + DN_MTIME, dn->mtime);
	cowfs_le64enc(p + DN_CTIME, dn->ctime);
	cowfs_le64enc(p + DN_PARENT, dn->parent);
	cowfs_le64enc(p + DN_GEN, dn->gen);
	cowfs_le64enc(p + DN_MAXBLKID, dn->maxblkid);
	cowfs_bp_encode(&dn->root, p + DN_ROOT);
}

int cowfs_dnode_decode(const uint8_t *p, struct cowfs_dnode *dn, const char **why)
{
	memset(dn, 0, sizeof(*dn));
	dn->type = p[DN_TYPE];
	if (dn->type == COWFS_OT_FREE) {
		if (!all_zero(p, COWFS_DNODE_SIZE)) {
			*why = "free dnode not zero";
			return -EINVAL;
		}
		return 0;
	}
	if (dn->type >= COWFS_OT_NTYPES) {
		*why = "dnode of unknown type";
		return -EINVAL;
	}
	dn->nlevels = p[DN_NLEVELS];
	dn->dirbits = p[DN_DIRBITS];
	dn->blksz = cowfs_le32dec(p + DN_BLKSZ);
	dn->mode = cowfs_le32dec(p + DN_MODE);
	dn->nlink = cowfs_le32dec(p + DN_NLINK);
	dn->size = cowfs_le64dec(p + DN_SIZE);
	dn->atime = cowfs_le64dec(p + DN_ATIME);
	dn->mtime = cowfs_le64dec(p + DN_MTIME);
	dn->ctime = cowfs_le64dec(p + DN_CTIME);
	dn->parent = cowfs_le64dec(p + DN_PARENT);
	dn->gen = cowfs_le64dec(p + DN_GEN);
	dn->maxblkid = cowfs_le64dec(p + DN_MAXBLKID);
	if (p[DN_PAD3] || !all_zero(p + 72, DN_ROOT - 72) ||
	    !all_zero(p + DN_ROOT + COWFS_BP_SIZE, COWFS_DNODE_SIZE - DN_ROOT - COWFS_BP_SIZE)) {
		*why = "dnode padding not zero";
		return -EINVAL;
	}
	if (dn->nlevels < 1 || dn->nlevels > COWFS_MAX_LEVELS) {
		*why = "dnode levels out of range";
		return -EINVAL;
	}
	if (dn->blksz < COWFS_SECTOR || dn->blksz > COWFS_MAX_RECORDSIZE ||
	    dn->blksz % COWFS_SECTOR) {
		*why = "dnode block size out of range";
		return -EINVAL;
	}
	if (dn->type == COWFS_OT_DIR &&
	    (dn->blksz != COWFS_DIR_BUCKET || dn->dirbits > COWFS_DIR_MAXBITS)) {
		*why = "directory dnode with bad bucket layout";
		return -EINVAL;
	}
	if (dn->type != COWFS_OT_DIR && dn->dirbits) {
		*why = "dirbits on a non-directory";
		return -EINVAL;
	}
	return cowfs_bp_decode(p + DN_ROOT, &dn->root, why);
}

/* ---- labels ------------------------------------------------------------- */

#define LB_MAGIC   0
#define LB_VERSION 16
#define LB_INDEX   20
#define LB_GUID	   24
#define LB_PSIZE   32
#define LB_RECSZ   40
#define LB_COMP	   44
#define LB_CTIME   48
#define LB_NAME	   56
#define LB_CKSUM   88 /* XXH3-128 of bytes 0..87 */
#define LB_END	   104

void cowfs_label_encode(const struct cowfs_label *l, uint8_t *p)
{
	memset(p, 0, COWFS_LABEL_HDRSIZE);
	memcpy(p + LB_MAGIC, COWFS_LABEL_MAGIC, sizeof(COWFS_LABEL_MAGIC));
	cowfs_le32enc(p + LB_VERSION, l->version ? l->version : COWFS_VERSION);
	cowfs_le32enc(p + LB_INDEX, l->index);
	cowfs_le64enc(p + LB_GUID, l->pool_guid);
	cowfs_le64enc(p + LB_PSIZE, l->psize);
	cowfs_le32enc(p + LB_RECSZ, l->recordsize);
	p[LB_COMP] = l->comp;
	cowfs_le64enc(p + LB_CTIME, l->ctime);
	memcpy(p + LB_NAME, l->name, strnlen(l->name, sizeof(l->name)));
	struct cowfs_cksum c = cowfs_cksum_compute(p, LB_CKSUM);
	cowfs_le64enc(p + LB_CKSUM, c.lo);
	cowfs_le64enc(p + LB_CKSUM + 8, c.hi);
}

int cowfs_label_decode(const uint8_t *p, struct cowfs_label *l, const char **why)
{
	memset(l, 0, sizeof(*l));
	if (memcmp(p + LB_MAGIC, COWFS_LABEL_MAGIC, sizeof(COWFS_LABEL_MAGIC)) != 0) {
		*why = "no cowfs label magic";
		return -ENOENT;
	}
	struct cowfs_cksum want = {.lo = cowfs_le64dec(p + LB_CKSUM),
				   .hi = cowfs_le64dec(p + LB_CKSUM + 8)};
	if (!cowfs_cksum_verify(p, LB_CKSUM, &want)) {
		*why = "label checksum mismatch";
		return -EINVAL;
	}
	l->version = cowfs_le32dec(p + LB_VERSION);
	if (l->version != COWFS_VERSION) {
		*why = "unsupported cowfs version";
		return -EINVAL;
	}
	l->index = cowfs_le32dec(p + LB_INDEX);
	l->pool_guid = cowfs_le64dec(p + LB_GUID);
	l->psize = cowfs_le64dec(p + LB_PSIZE);
	l->recordsize = cowfs_le32dec(p + LB_RECSZ);
	l->comp = p[LB_COMP];
	l->ctime = cowfs_le64dec(p + LB_CTIME);
	memcpy(l->name, p + LB_NAME, sizeof(l->name) - 1);
	if (l->index > 1 || l->pool_guid == 0 || l->comp >= COWFS_COMP_NTYPES ||
	    l->recordsize < COWFS_MIN_RECORDSIZE || l->recordsize > COWFS_MAX_RECORDSIZE ||
	    (l->recordsize & (l->recordsize - 1)) || l->psize < COWFS_MIN_SIZE ||
	    l->psize > COWFS_MAX_SIZE || p[LB_NAME + sizeof(l->name) - 1] != 0) {
		*why = "label fields out of range";
		return -EINVAL;
	}
	return 0;
}

/* ---- uberblocks ---------------------------------------------------------- */

#define UB_MAGIC   0
#define UB_VERSION 8
#define UB_PAD	   12
#define UB_TXG	   16
#define UB_TIME	   24
#define UB_GUID	   32
#define UB_ROOT	   40
#define UB_CKSUM   104 /* XXH3-128 of bytes 0..103 */
#define UB_END	   120

void cowfs_ub_encode(const struct cowfs_ub *ub, uint8_t *p)
{
	memset(p, 0, COWFS_UB_SLOT);
	cowfs_le64enc(p + UB_MAGIC, COWFS_UB_MAGIC);
	cowfs_le32enc(p + UB_VERSION, ub->version ? ub->version : COWFS_VERSION);
	cowfs_le64enc(p + UB_TXG, ub->txg);
	cowfs_le64enc(p + UB_TIME, ub->time);
	cowfs_le64enc(p + UB_GUID, ub->pool_guid);
	cowfs_bp_encode(&ub->root, p + UB_ROOT);
	struct cowfs_cksum c = cowfs_cksum_compute(p, UB_CKSUM);
	cowfs_le64enc(p + UB_CKSUM, c.lo);
	cowfs_le64enc(p + UB_CKSUM + 8, c.hi);
}

int cowfs_ub_decode(const uint8_t *p, struct cowfs_ub *ub, const char **why)
{
	memset(ub, 0, sizeof(*ub));
	if (cowfs_le64dec(p + UB_MAGIC) != COWFS_UB_MAGIC) {
		bool empty = all_zero(p, COWFS_UB_SLOT);
		*why = empty ? "empty uberblock slot" : "no uberblock magic";
		return empty ? -ENOENT : -EINVAL;
	}
	struct cowfs_cksum want = {.lo = cowfs_le64dec(p + UB_CKSUM),
				   .hi = cowfs_le64dec(p + UB_CKSUM + 8)};
	if (!cowfs_cksum_verify(p, UB_CKSUM, &want)) {
		*why = "uberblock checksum mismatch";
		return -EINVAL;
	}
	ub->version = cowfs_le32dec(p + UB_VERSION);
	if (ub->version != COWFS_VERSION) {
		*why = "unsupported uberblock version";
		return -EINVAL;
	}
	ub->txg = cowfs_le64dec(p + UB_TXG);
	ub->time = cowfs_le64dec(p + UB_TIME);
	ub->pool_guid = cowfs_le64dec(p + UB_GUID);
	if (cowfs_le32dec(p + UB_PAD) != 0 || ub->txg == 0) {
		*why = "uberblock fields out of range";
		return -EINVAL;
	}
	int err = cowfs_bp_decode(p + UB_ROOT, &ub->root, why);
	if (err)
		return err;
	if (cowfs_bp_is_hole(&ub->root) || ub->root.type != COWFS_BT_ROOT ||
	    ub->root.lsize != COWFS_ROOTBLK_SIZE || ub->root.birth != ub->txg) {
		*why = "uberblock root pointer is not a root block of its txg";
		return -EINVAL;
	}
	return 0;
}

/* ---- the root block ------------------------------------------------------ */

#define RB_MAGIC   0
#define RB_VERSION 8
#define RB_RECSZ   12
#define RB_TXG	   16
#define RB_NCHUNKS 24
#define RB_COMP	   28
#define RB_RSVD	   32 /* zero */
#define RB_ALLOC   40
#define RB_NOBJ	   48
#define RB_NEXTOBJ 56
#define RB_META	   64  /* dnode, 256 bytes */
#define RB_SMIDX   320 /* bp */
#define RB_END	   384

void cowfs_rootblk_encode(const struct cowfs_rootblk *r, uint8_t *p)
{
	memset(p, 0, COWFS_ROOTBLK_SIZE);
	cowfs_le64enc(p + RB_MAGIC, COWFS_ROOT_MAGIC);
	cowfs_le32enc(p + RB_VERSION, r->version ? r->version : COWFS_VERSION);
	cowfs_le32enc(p + RB_RECSZ, r->recordsize);
	cowfs_le64enc(p + RB_TXG, r->txg);
	cowfs_le32enc(p + RB_NCHUNKS, r->sm_nchunks);
	p[RB_COMP] = r->comp;
	cowfs_le64enc(p + RB_ALLOC, r->alloc_sectors);
	cowfs_le64enc(p + RB_NOBJ, r->nobjects);
	cowfs_le64enc(p + RB_NEXTOBJ, r->next_obj);
	cowfs_dnode_encode(&r->meta, p + RB_META);
	cowfs_bp_encode(&r->sm_index, p + RB_SMIDX);
}

int cowfs_rootblk_decode(const uint8_t *p, struct cowfs_rootblk *r, const char **why)
{
	memset(r, 0, sizeof(*r));
	if (cowfs_le64dec(p + RB_MAGIC) != COWFS_ROOT_MAGIC) {
		*why = "no root block magic";
		return -EINVAL;
	}
	r->version = cowfs_le32dec(p + RB_VERSION);
	if (r->version != COWFS_VERSION) {
		*why = "unsupported root block version";
		return -EINVAL;
	}
	r->recordsize = cowfs_le32dec(p + RB_RECSZ);
	r->txg = cowfs_le64dec(p + RB_TXG);
	r->sm_nchunks = cowfs_le32dec(p + RB_NCHUNKS);
	r->comp = p[RB_COMP];
	r->alloc_sectors = cowfs_le64dec(p + RB_ALLOC);
	r->nobjects = cowfs_le64dec(p + RB_NOBJ);
	r->next_obj = cowfs_le64dec(p + RB_NEXTOBJ);
	if (p[RB_COMP + 1] || p[RB_COMP + 2] || p[RB_COMP + 3] || cowfs_le64dec(p + RB_RSVD) ||
	    !all_zero(p + RB_END, COWFS_ROOTBLK_SIZE - RB_END)) {
		*why = "root block padding not zero";
		return -EINVAL;
	}
	if (r->comp >= COWFS_COMP_NTYPES || r->recordsize < COWFS_MIN_RECORDSIZE ||
	    r->recordsize > COWFS_MAX_RECORDSIZE || (r->recordsize & (r->recordsize - 1)) ||
	    r->sm_nchunks == 0 || r->sm_nchunks > COWFS_SM_MAXCHUNKS || r->txg == 0) {
		*why = "root block fields out of range";
		return -EINVAL;
	}
	int err = cowfs_dnode_decode(p + RB_META, &r->meta, why);
	if (!err && (r->meta.type != COWFS_OT_META || r->meta.blksz != COWFS_DNODE_BLKSIZE)) {
		*why = "root block's dnode array is not one";
		err = -EINVAL;
	}
	if (!err)
		err = cowfs_bp_decode(p + RB_SMIDX, &r->sm_index, why);
	if (err)
		return err;
	if (cowfs_bp_is_hole(&r->sm_index) || r->sm_index.type != COWFS_BT_SMIDX ||
	    r->sm_index.lsize != ALIGN_UP_SECTOR(r->sm_nchunks * COWFS_BP_SIZE)) {
		*why = "root block's space map index pointer is wrong";
		return -EINVAL;
	}
	return 0;
}

/* ---- directory buckets --------------------------------------------------- */

/*
 * A bucket: magic "DB" (2), count u16, used u16 (bytes incl. header), pad
 * to 16; then entries, keys strictly increasing: key u64, obj u64, type
 * u8, namelen u8, name. The rest of the bucket is zero.
 */
#define DB_MAGIC0 'D'
#define DB_MAGIC1 'B'

void cowfs_dirbucket_init(uint8_t *b)
{
	memset(b, 0, COWFS_DIR_BUCKET);
	b[0] = DB_MAGIC0;
	b[1] = DB_MAGIC1;
	cowfs_le16enc(b + 4, COWFS_DIR_HDR);
}

unsigned cowfs_dirbucket_count(const uint8_t *b)
{
	return cowfs_le16dec(b + 2);
}

unsigned cowfs_dirbucket_used(const uint8_t *b)
{
	return cowfs_le16dec(b + 4);
}

static void dirent_at(const uint8_t *b, unsigned off, struct cowfs_dirent *de)
{
	de->key = cowfs_le64dec(b + off);
	de->obj = cowfs_le64dec(b + off + 8);
	de->type = b[off + 16];
	de->namelen = b[off + 17];
	de->name = (const char *)b + off + COWFS_DIR_ENT_FIXED;
}

int cowfs_dirbucket_check(const uint8_t *b, const char **why)
{
	if (b[0] != DB_MAGIC0 || b[1] != DB_MAGIC1) {
		*why = "directory bucket without magic";
		return -EINVAL;
	}
	unsigned n = cowfs_dirbucket_count(b), used = cowfs_dirbucket_used(b);
	if (used < COWFS_DIR_HDR || used > COWFS_DIR_BUCKET ||
	    !all_zero(b + 6, COWFS_DIR_HDR - 6) || !all_zero(b + used, COWFS_DIR_BUCKET - used)) {
		*why = "directory bucket header is wrong";
		return -EINVAL;
	}
	unsigned off = COWFS_DIR_HDR;
	uint64_t prev = 0;
	for (unsigned i = 0; i < n; i++) {
		struct cowfs_dirent de;
		if (off + COWFS_DIR_ENT_FIXED > used) {
			*why = "directory entry past the bucket's end";
			return -EINVAL;
		}
		dirent_at(b, off, &de);
		if (de.namelen == 0 || off + COWFS_DIR_ENT_FIXED + de.namelen > used) {
			*why = "directory entry name out of bounds";
			return -EINVAL;
		}
		if (de.key < COWFS_DIR_KEY_FIRST || de.key >= COWFS_DIR_KEY_END ||
		    (i && de.key <= prev)) {
			*why = "directory keys out of order";
			return -EINVAL;
		}
		if (de.obj == 0 || de.type == COWFS_OT_FREE || de.type >= COWFS_OT_META) {
			*why = "directory entry names no object";
			return -EINVAL;
		}
		for (unsigned k = 0; k < de.namelen; k++) {
			if (de.name[k] == '/' || de.name[k] == 0) {
				*why = "directory entry name holds '/' or NUL";
				return -EINVAL;
			}
		}
		if ((de.namelen == 1 && de.name[0] == '.') ||
		    (de.namelen == 2 && de.name[0] == '.' && de.name[1] == '.')) {
			*why = "directory entry named . or ..";
			return -EINVAL;
		}
		prev = de.key;
		off += COWFS_DIR_ENT_FIXED + de.namelen;
	}
	if (off != used) {
		*why = "directory bucket size disagrees with its entries";
		return -EINVAL;
	}
	return 0;
}

bool cowfs_dirbucket_next(const uint8_t *b, unsigned *off, struct cowfs_dirent *de)
{
	if (*off >= cowfs_dirbucket_used(b))
		return false;
	dirent_at(b, *off, de);
	*off += COWFS_DIR_ENT_FIXED + de->namelen;
	return true;
}

int cowfs_dirbucket_insert(uint8_t *b, const struct cowfs_dirent *de)
{
	unsigned used = cowfs_dirbucket_used(b);
	unsigned sz = COWFS_DIR_ENT_FIXED + de->namelen;
	if (used + sz > COWFS_DIR_BUCKET)
		return -ENOSPC;
	unsigned off = COWFS_DIR_HDR;
	struct cowfs_dirent cur;
	while (off < used) {
		dirent_at(b, off, &cur);
		if (cur.key == de->key)
			return -EEXIST;
		if (cur.key > de->key)
			break;
		off += COWFS_DIR_ENT_FIXED + cur.namelen;
	}
	memmove(b + off + sz, b + off, used - off);
	cowfs_le64enc(b + off, de->key);
	cowfs_le64enc(b + off + 8, de->obj);
	b[off + 16] = de->type;
	b[off + 17] = de->namelen;
	memmove(b + off + COWFS_DIR_ENT_FIXED, de->name, de->namelen);
	cowfs_le16enc(b + 2, (uint16_t)(cowfs_dirbucket_count(b) + 1));
	cowfs_le16enc(b + 4, (uint16_t)(used + sz));
	return 0;
}

int cowfs_dirbucket_remove(uint8_t *b, uint64_t key)
{
	unsigned used = cowfs_dirbucket_used(b);
	unsigned off = COWFS_DIR_HDR;
	struct cowfs_dirent cur;
	while (off < used) {
		dirent_at(b, off, &cur);
		unsigned sz = COWFS_DIR_ENT_FIXED + cur.namelen;
		if (cur.key == key) {
			memmove(b + off, b + off + sz, used - off - sz);
			memset(b + used - sz, 0, sz);
			cowfs_le16enc(b + 2, (uint16_t)(cowfs_dirbucket_count(b) - 1));
			cowfs_le16enc(b + 4, (uint16_t)(used - sz));
			return 0;
		}
		if (cur.key > key)
			break;
		off += sz;
	}
	return -ENOENT;
}

uint64_t cowfs_name_hash(const char *name, size_t len)
{
	struct cowfs_cksum c = cowfs_cksum_compute(name, len);
	return c.hi >> 17;
}
