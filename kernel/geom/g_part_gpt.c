/*
 * GPT: the on-disk format, shared by the PART class and the host tool.
 *
 * Layout of a medium of N sectors: LBA 0 a protective MBR (one entry of
 * type 0xEE), LBA 1 the primary header, then the primary entry table; the
 * usable area [first, last]; then the backup table, and the backup header
 * in LBA N-1. Each header carries a CRC-32 of itself (computed with its CRC
 * field zero) and one of its table.
 *
 * Reading checks everything before trusting anything: signature, revision,
 * header size within [92, sector size], the header CRC, where the header
 * says it is and where its twin should be (the backup at this medium's
 * last LBA: a GPT whose backup is elsewhere belongs to another provider,
 * e.g. to label/NAME on this disk), entry size (a power of two >= 128) and
 * count with the table size capped at G_GPT_MAX_TABLE (so count * size
 * cannot overflow), the table lying between the header and the usable
 * area, the usable area inside the medium, the table CRC, and every used
 * entry inside the usable area with no two overlapping. When the primary
 * fails any check the backup is tried; when both fail the medium is
 * rejected with a one-line reason.
 *
 * Fields are encoded and decoded one at a time, little-endian.
 */
#include "g_internal.h"
#include <errno.h>
#include <karst/format.h>
#include <karst/kmem.h>
#include <stdlib.h>
#include <string.h>

/* Header field offsets. */
#define H_SIG	   0
#define H_REV	   8
#define H_SIZE	   12
#define H_CRC	   16
#define H_RESERVED 20
#define H_SELF	   24
#define H_ALT	   32
#define H_FIRST	   40
#define H_LAST	   48
#define H_GUID	   56
#define H_TABLE	   72
#define H_NENTS	   80
#define H_ENTSZ	   84
#define H_TCRC	   88

/* Entry field offsets. */
#define E_TYPE	0
#define E_GUID	16
#define E_START 32
#define E_END	40
#define E_ATTR	48
#define E_NAME	56

static void g_why(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;
	if (!why || !len)
		return;
	va_start(ap, fmt);
	kvsnprintf(why, len, fmt, ap);
	va_end(ap);
}

bool g_uuid_is_nil(const struct g_uuid *u)
{
	for (int i = 0; i < 16; i++)
		if (u->b[i])
			return false;
	return true;
}

/* Text is big-endian throughout; the first three fields are stored
 * little-endian. */
static const uint8_t g_uuid_order[16] = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

int g_uuid_parse(const char *s, struct g_uuid *u)
{
	uint8_t text[16];
	int n = 0;
	for (int i = 0; s[i]; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -EINVAL;
			continue;
		}
		int hi = khexval(s[i]), lo = s[i + 1] ? khexval(s[i + 1]) : -1;
		if (hi < 0 || lo < 0 || n >= 16)
			return -EINVAL;
		text[n++] = (uint8_t)(hi << 4 | lo);
		i++;
	}
	if (n != 16 || strlen(s) != 36)
		return -EINVAL;
	for (int i = 0; i < 16; i++)
		u->b[g_uuid_order[i]] = text[i];
	return 0;
}

void g_uuid_format(const struct g_uuid *u, char *buf, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	char s[37];
	int o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			s[o++] = '-';
		uint8_t b = u->b[g_uuid_order[i]];
		s[o++] = hex[b >> 4];
		s[o++] = hex[b & 15];
	}
	s[o] = '\0';
	ksnprintf(buf, size, "%s", s);
}

static const struct {
	const char *alias;
	const char *uuid;
} g_gpt_types[] = {
    {"efi", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"},
    {"linux-data", "0FC63DAF-8483-4772-8E79-3D69D8477DE4"},
    {"linux-swap", "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F"},
    {"freebsd-ufs", "516E7CB6-6ECF-11D6-8FF8-00022D09712B"},
    {"freebsd-zfs", "516E7CBA-6ECF-11D6-8FF8-00022D09712B"},
    {"ms-basic-data", "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7"},
    /* karst's own, for the copy-on-write filesystem. */
    {"karst-cowfs", "6B617273-7400-4C63-8F77-667300000001"},
};

int g_gpt_type_parse(const char *s, struct g_uuid *u)
{
	for (size_t i = 0; i < ARRAY_SIZE(g_gpt_types); i++)
		if (strcmp(s, g_gpt_types[i].alias) == 0)
			return g_uuid_parse(g_gpt_types[i].uuid, u);
	return g_uuid_parse(s, u);
}

const char *g_gpt_type_name(const struct g_uuid *u)
{
	struct g_uuid t;
	for (size_t i = 0; i < ARRAY_SIZE(g_gpt_types); i++)
		if (g_uuid_parse(g_gpt_types[i].uuid, &t) == 0 && memcmp(&t, u, sizeof(t)) == 0)
			return g_gpt_types[i].alias;
	return NULL;
}

static uint64_t g_gpt_table_sectors(uint32_t nents, uint32_t entsz, uint32_t secsize)
{
	return DIV_ROUND_UP((uint64_t)nents * entsz, secsize);
}

void g_gpt_hdr_encode(const struct g_gpt_hdr *h, void *sector, size_t secsize)
{
	uint8_t *p = sector;
	uint32_t size = h->hdr_size ? h->hdr_size : G_GPT_HDR_MINSIZE;
	memset(p, 0, secsize);
	memcpy(p + H_SIG, G_GPT_SIG, 8);
	g_le32enc(p + H_REV, h->revision ? h->revision : G_GPT_REVISION);
	g_le32enc(p + H_SIZE, size);
	g_le64enc(p + H_SELF, h->lba_self);
	g_le64enc(p + H_ALT, h->lba_alt);
	g_le64enc(p + H_FIRST, h->lba_first);
	g_le64enc(p + H_LAST, h->lba_last);
	memcpy(p + H_GUID, h->disk_guid.b, 16);
	g_le64enc(p + H_TABLE, h->lba_table);
	g_le32enc(p + H_NENTS, h->nents);
	g_le32enc(p + H_ENTSZ, h->entsz);
	g_le32enc(p + H_TCRC, h->table_crc);
	/* CRC field still zero; a size beyond the sector (only ever written
	 * by tests crafting bad headers) is checksummed up to the sector. */
	g_le32enc(p + H_CRC, g_crc32(0, p, MIN((size_t)size, secsize)));
}

int g_gpt_hdr_decode(const void *sector, size_t secsize, uint64_t nsectors, bool primary,
		     struct g_gpt_hdr *h, const char **why)
{
	static const uint8_t zero4[4];
	const uint8_t *p = sector;
	uint64_t last = nsectors - 1;

	if (memcmp(p + H_SIG, G_GPT_SIG, 8) != 0) {
		*why = "bad signature";
		return -EINVAL;
	}
	h->revision = g_le32dec(p + H_REV);
	h->hdr_size = g_le32dec(p + H_SIZE);
	h->hdr_crc = g_le32dec(p + H_CRC);
	if (h->revision != G_GPT_REVISION) {
		*why = "unsupported revision";
		return -EINVAL;
	}
	if (h->hdr_size < G_GPT_HDR_MINSIZE || h->hdr_size > secsize) {
		*why = "header size out of range";
		return -EINVAL;
	}
	uint32_t crc = g_crc32(0, p, H_CRC);
	crc = g_crc32(crc, zero4, 4);
	crc = g_crc32(crc, p + H_RESERVED, h->hdr_size - H_RESERVED);
	if (crc != h->hdr_crc) {
		*why = "header CRC mismatch";
		return -EINVAL;
	}
	h->lba_self = g_le64dec(p + H_SELF);
	h->lba_alt = g_le64dec(p + H_ALT);
	h->lba_first = g_le64dec(p + H_FIRST);
	h->lba_last = g_le64dec(p + H_LAST);
	memcpy(h->disk_guid.b, p + H_GUID, 16);
	h->lba_table = g_le64dec(p + H_TABLE);
	h->nents = g_le32dec(p + H_NENTS);
	h->entsz = g_le32dec(p + H_ENTSZ);
	h->table_crc = g_le32dec(p + H_TCRC);

	if (h->lba_self != (primary ? 1 : last)) {
		*why = "header not where it says it is";
		return -EINVAL;
	}
	if (h->lba_alt != (primary ? last : 1)) {
		*why = "alternate header not at the other end of this medium";
		return -EINVAL;
	}
	if (h->entsz < G_GPT_ENT_MINSIZE || (h->entsz & (h->entsz - 1)) ||
	    h->entsz > G_GPT_MAX_TABLE) {
		*why = "bad entry size";
		return -EINVAL;
	}
	/* Both are 32-bit: the 64-bit product cannot overflow. */
	if (h->nents == 0 || (uint64_t)h->nents * h->entsz > G_GPT_MAX_TABLE) {
		*why = "bad entry count";
		return -EINVAL;
	}
	uint64_t tsecs = g_gpt_table_sectors(h->nents, h->entsz, (uint32_t)secsize);
	if (h->lba_first > h->lba_last || h->lba_first < 2 || h->lba_last >= last) {
		*why = "usable area out of range";
		return -EINVAL;
	}
	if (primary) {
		if (h->lba_table < 2 || h->lba_table > h->lba_first ||
		    tsecs > h->lba_first - h->lba_table) {
			*why = "entry table overlaps the usable area";
			return -EINVAL;
		}
		/* Room for the backup table between the usable area and LBA N-1. */
		if (tsecs > last - 1 - h->lba_last) {
			*why = "no room for the backup table";
			return -EINVAL;
		}
	} else {
		if (h->lba_table <= h->lba_last || h->lba_table >= last ||
		    tsecs > last - h->lba_table) {
			*why = "entry table overlaps the usable area";
			return -EINVAL;
		}
		if (h->lba_first < 2 + tsecs) {
			*why = "no room for the primary table";
			return -EINVAL;
		}
	}
	return 0;
}

static void g_gpt_ent_decode(const uint8_t *p, struct g_gpt_ent *e)
{
	memcpy(e->type.b, p + E_TYPE, 16);
	memcpy(e->guid.b, p + E_GUID, 16);
	e->lba_start = g_le64dec(p + E_START);
	e->lba_end = g_le64dec(p + E_END);
	e->attr = g_le64dec(p + E_ATTR);
	int n = 0;
	for (int i = 0; i < G_GPT_NAMELEN; i++) {
		uint16_t c = g_le16dec(p + E_NAME + 2 * i);
		if (c == 0)
			break;
		e->name[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	e->name[n] = '\0';
}

static void g_gpt_ent_encode(const struct g_gpt_ent *e, uint8_t *p)
{
	memcpy(p + E_TYPE, e->type.b, 16);
	memcpy(p + E_GUID, e->guid.b, 16);
	g_le64enc(p + E_START, e->lba_start);
	g_le64enc(p + E_END, e->lba_end);
	g_le64enc(p + E_ATTR, e->attr);
	for (int i = 0; i < G_GPT_NAMELEN && e->name[i]; i++)
		g_le16enc(p + E_NAME + 2 * i, (uint8_t)e->name[i]);
}

static int g_gpt_cmp_start(const void *a, const void *b)
{
	const struct g_gpt_ent *x = *(const struct g_gpt_ent *const *)a;
	const struct g_gpt_ent *y = *(const struct g_gpt_ent *const *)b;
	return x->lba_start < y->lba_start ? -1 : x->lba_start > y->lba_start;
}

/* Used entries inside [first, last], none overlapping. */
static int g_gpt_check_entries(const struct g_gpt_hdr *h, const struct g_gpt_ent *ents,
			       const char **why)
{
	uint32_t nused = 0;
	for (uint32_t i = 0; i < h->nents; i++) {
		const struct g_gpt_ent *e = &ents[i];
		if (g_uuid_is_nil(&e->type))
			continue;
		if (e->lba_start > e->lba_end || e->lba_start < h->lba_first ||
		    e->lba_end > h->lba_last) {
			*why = "partition outside the usable area";
			return -EINVAL;
		}
		nused++;
	}
	if (nused < 2)
		return 0;
	const struct g_gpt_ent **v = kcalloc(nused, sizeof(*v));
	if (!v) {
		*why = "no memory";
		return -ENOMEM;
	}
	uint32_t n = 0;
	for (uint32_t i = 0; i < h->nents; i++)
		if (!g_uuid_is_nil(&ents[i].type))
			v[n++] = &ents[i];
	qsort(v, n, sizeof(*v), g_gpt_cmp_start);
	int err = 0;
	for (uint32_t i = 1; i < n; i++) {
		if (v[i]->lba_start <= v[i - 1]->lba_end) {
			*why = "overlapping partitions";
			err = -EINVAL;
			break;
		}
	}
	kfree(v);
	return err;
}

/* One header and its table; *ents allocated on success. */
static int g_gpt_read_one(g_meta_io_t *rd, void *ctx, uint64_t nsectors, uint32_t secsize,
			  bool primary, uint8_t *sec, struct g_gpt_hdr *h, struct g_gpt_ent **entsp,
			  const char **why)
{
	uint64_t lba = primary ? 1 : nsectors - 1;
	int err = rd(ctx, lba * secsize, sec, secsize);
	if (err) {
		*why = "cannot read the header";
		return err;
	}
	err = g_gpt_hdr_decode(sec, secsize, nsectors, primary, h, why);
	if (err)
		return err;
	uint64_t tsecs = g_gpt_table_sectors(h->nents, h->entsz, secsize);
	size_t tbytes = (size_t)(tsecs * secsize);
	uint8_t *tbl = kmalloc(tbytes);
	struct g_gpt_ent *ents = kcalloc(h->nents, sizeof(*ents));
	if (!tbl || !ents) {
		kfree(tbl);
		kfree(ents);
		*why = "no memory";
		return -ENOMEM;
	}
	err = rd(ctx, h->lba_table * secsize, tbl, tbytes);
	if (err) {
		*why = "cannot read the entry table";
		goto fail;
	}
	if (g_crc32(0, tbl, (size_t)h->nents * h->entsz) != h->table_crc) {
		*why = "entry table CRC mismatch";
		err = -EINVAL;
		goto fail;
	}
	for (uint32_t i = 0; i < h->nents; i++)
		g_gpt_ent_decode(tbl + (size_t)i * h->entsz, &ents[i]);
	err = g_gpt_check_entries(h, ents, why);
	if (err)
		goto fail;
	kfree(tbl);
	*entsp = ents;
	return 0;
fail:
	kfree(tbl);
	kfree(ents);
	return err;
}

int g_gpt_read(g_meta_io_t *rd, void *ctx, uint64_t mediasize, uint32_t secsize,
	       struct g_gpt_table *t, char *why, size_t whylen)
{
	memset(t, 0, sizeof(*t));
	g_why(why, whylen, "%s", "");
	if (secsize < 512 || (secsize & (secsize - 1))) {
		g_why(why, whylen, "unsupported sector size %u", secsize);
		return -EINVAL;
	}
	uint64_t nsectors = mediasize / secsize;
	if (nsectors < 6) {
		g_why(why, whylen, "too small for a GPT");
		return -ENOENT;
	}
	uint8_t *sec = kmalloc(secsize);
	if (!sec)
		return -ENOMEM;
	const char *w = "";
	struct g_mbr mbr;
	int err = rd(ctx, 0, sec, secsize);
	if (err) {
		g_why(why, whylen, "cannot read sector 0 (error %d)", err);
		kfree(sec);
		return err;
	}
	err = g_mbr_decode(sec, secsize, nsectors, &mbr, &w);
	if (err == 0 && !mbr.protective)
		err = -ENOENT, w = "MBR without a GPT entry";
	if (err) {
		g_why(why, whylen, "no protective MBR (%s)", w);
		kfree(sec);
		return err == -EINVAL && !mbr.protective ? -ENOENT : err;
	}

	struct g_gpt_hdr ph, bh;
	struct g_gpt_ent *pents = NULL, *bents = NULL;
	const char *pwhy = "", *bwhy = "";
	int perr = g_gpt_read_one(rd, ctx, nsectors, secsize, true, sec, &ph, &pents, &pwhy);
	int berr = g_gpt_read_one(rd, ctx, nsectors, secsize, false, sec, &bh, &bents, &bwhy);
	kfree(sec);
	t->secsize = secsize;
	t->nsectors = nsectors;
	t->primary_ok = perr == 0;
	t->backup_ok = berr == 0;
	if (perr == 0) {
		t->hdr = ph;
		t->ents = pents;
		kfree(bents);
		if (berr)
			g_why(why, whylen, "backup GPT header bad (%s); primary in use", bwhy);
		return 0;
	}
	if (berr == 0) {
		/* Keep the header in its primary form: writes rebuild both. */
		t->hdr = bh;
		t->hdr.lba_self = 1;
		t->hdr.lba_alt = nsectors - 1;
		t->hdr.lba_table = 2;
		t->ents = bents;
		g_why(why, whylen, "primary GPT header bad (%s); using the backup", pwhy);
		return 0;
	}
	g_why(why, whylen, "corrupt GPT: primary: %s; backup: %s", pwhy, bwhy);
	return perr == -ENOMEM || berr == -ENOMEM ? -ENOMEM : -EINVAL;
}

void g_gpt_free(struct g_gpt_table *t)
{
	kfree(t->ents);
	t->ents = NULL;
}

int g_gpt_create(struct g_gpt_table *t, uint64_t mediasize, uint32_t secsize,
		 const struct g_uuid *disk_guid)
{
	memset(t, 0, sizeof(*t));
	if (secsize < 512 || (secsize & (secsize - 1)))
		return -EINVAL;
	uint64_t nsectors = mediasize / secsize;
	uint64_t tsecs = g_gpt_table_sectors(G_GPT_DEFAULT_ENTS, G_GPT_ENT_MINSIZE, secsize);
	if (nsectors < 3 + 2 * tsecs + 1)
		return -ENOSPC;
	t->secsize = secsize;
	t->nsectors = nsectors;
	t->hdr.revision = G_GPT_REVISION;
	t->hdr.hdr_size = G_GPT_HDR_MINSIZE;
	t->hdr.lba_self = 1;
	t->hdr.lba_alt = nsectors - 1;
	t->hdr.lba_table = 2;
	t->hdr.lba_first = 2 + tsecs;
	t->hdr.lba_last = nsectors - 2 - tsecs;
	t->hdr.disk_guid = *disk_guid;
	t->hdr.nents = G_GPT_DEFAULT_ENTS;
	t->hdr.entsz = G_GPT_ENT_MINSIZE;
	t->ents = kcalloc(t->hdr.nents, sizeof(*t->ents));
	t->primary_ok = t->backup_ok = true;
	return t->ents ? 0 : -ENOMEM;
}

static bool g_gpt_range_free(const struct g_gpt_table *t, uint64_t start, uint64_t end)
{
	for (uint32_t i = 0; i < t->hdr.nents; i++) {
		const struct g_gpt_ent *e = &t->ents[i];
		if (!g_uuid_is_nil(&e->type) && start <= e->lba_end && e->lba_start <= end)
			return false;
	}
	return true;
}

/* Lowest start >= from, aligned, where n sectors fit; 0 when none. */
static uint64_t g_gpt_first_fit(const struct g_gpt_table *t, uint64_t n, uint64_t align)
{
	uint64_t cand = DIV_ROUND_UP(t->hdr.lba_first, align) * align;
	for (;;) {
		if (cand > t->hdr.lba_last || n - 1 > t->hdr.lba_last - cand)
			return 0;
		uint64_t bump = 0;
		for (uint32_t i = 0; i < t->hdr.nents; i++) {
			const struct g_gpt_ent *e = &t->ents[i];
			if (!g_uuid_is_nil(&e->type) && cand <= e->lba_end &&
			    e->lba_start <= cand + n - 1 && e->lba_end + 1 > bump)
				bump = e->lba_end + 1;
		}
		if (!bump)
			return cand;
		cand = DIV_ROUND_UP(bump, align) * align;
	}
}

int g_gpt_add(struct g_gpt_table *t, uint64_t start, uint64_t nsectors, uint64_t align,
	      const struct g_uuid *type, const struct g_uuid *guid, const char *label,
	      unsigned *index)
{
	if (nsectors == 0 || g_uuid_is_nil(type))
		return -EINVAL;
	if (label && strlen(label) > G_GPT_NAMELEN)
		return -ENAMETOOLONG;
	for (const char *c = label; c && *c; c++)
		if (*c < 0x20 || *c >= 0x7f)
			return -EINVAL;
	uint32_t slot = t->hdr.nents;
	for (uint32_t i = 0; i < t->hdr.nents; i++) {
		if (g_uuid_is_nil(&t->ents[i].type)) {
			slot = i;
			break;
		}
	}
	if (slot == t->hdr.nents)
		return -ENOSPC;
	if (start == 0) {
		start = g_gpt_first_fit(t, nsectors, align ? align : 1);
		if (start == 0 && align > 1)
			start = g_gpt_first_fit(t, nsectors, 1);
		if (start == 0)
			return -ENOSPC;
	} else if (start < t->hdr.lba_first || start > t->hdr.lba_last ||
		   nsectors - 1 > t->hdr.lba_last - start) {
		return -ERANGE;
	} else if (!g_gpt_range_free(t, start, start + nsectors - 1)) {
		return -EEXIST;
	}
	struct g_gpt_ent *e = &t->ents[slot];
	memset(e, 0, sizeof(*e));
	e->type = *type;
	e->guid = *guid;
	e->lba_start = start;
	e->lba_end = start + nsectors - 1;
	if (label)
		strncpy(e->name, label, G_GPT_NAMELEN);
	if (index)
		*index = slot + 1;
	return 0;
}

int g_gpt_write(g_meta_io_t *wr, void *ctx, const struct g_gpt_table *t)
{
	uint32_t ss = t->secsize;
	uint64_t last = t->nsectors - 1;
	uint64_t tsecs = g_gpt_table_sectors(t->hdr.nents, t->hdr.entsz, ss);
	if (t->hdr.lba_first < 2 + tsecs || t->hdr.lba_last + tsecs >= last ||
	    t->hdr.entsz < G_GPT_ENT_MINSIZE)
		return -EINVAL;
	size_t tbytes = (size_t)(tsecs * ss);
	uint8_t *tbl = kzalloc(tbytes);
	uint8_t *sec = kzalloc(ss);
	int err = -ENOMEM;
	if (!tbl || !sec)
		goto out;
	for (uint32_t i = 0; i < t->hdr.nents; i++)
		g_gpt_ent_encode(&t->ents[i], tbl + (size_t)i * t->hdr.entsz);
	struct g_gpt_hdr h = t->hdr;
	h.revision = G_GPT_REVISION;
	h.hdr_size = G_GPT_HDR_MINSIZE;
	h.table_crc = g_crc32(0, tbl, (size_t)t->hdr.nents * t->hdr.entsz);

	/* Backup first: a crash in between leaves a good primary. */
	h.lba_self = last;
	h.lba_alt = 1;
	h.lba_table = last - tsecs;
	if ((err = wr(ctx, h.lba_table * ss, tbl, tbytes)) != 0)
		goto out;
	g_gpt_hdr_encode(&h, sec, ss);
	if ((err = wr(ctx, last * ss, sec, ss)) != 0)
		goto out;

	h.lba_self = 1;
	h.lba_alt = last;
	h.lba_table = 2;
	if ((err = wr(ctx, 2 * (uint64_t)ss, tbl, tbytes)) != 0)
		goto out;
	g_gpt_hdr_encode(&h, sec, ss);
	if ((err = wr(ctx, ss, sec, ss)) != 0)
		goto out;

	/* Protective MBR: one 0xEE entry from LBA 1 over the whole disk. */
	memset(sec, 0, ss);
	uint8_t *e = sec + 446;
	e[1] = 0x00;
	e[2] = 0x02;
	e[3] = 0x00;
	e[4] = G_MBR_TYPE_GPT;
	e[5] = e[6] = e[7] = 0xff;
	g_le32enc(e + 8, 1);
	g_le32enc(e + 12, (uint32_t)MIN(last, (uint64_t)UINT32_MAX));
	sec[510] = 0x55;
	sec[511] = 0xaa;
	err = wr(ctx, 0, sec, ss);
out:
	kfree(tbl);
	kfree(sec);
	return err;
}

void g_gpt_show(struct g_sbuf *sb, const char *name, const struct g_gpt_table *t)
{
	char hs[16];
	uint64_t ss = t->secsize;
	const struct g_gpt_hdr *h = &t->hdr;
	g_humanize(hs, sizeof(hs), (h->lba_last - h->lba_first + 1) * ss);
	g_sbuf_printf(sb, "=> %10llu %10llu  %s  GPT  (%s)%s\n", (unsigned long long)h->lba_first,
		      (unsigned long long)(h->lba_last - h->lba_first + 1), name, hs,
		      !t->primary_ok  ? " [primary CORRUPT]"
		      : !t->backup_ok ? " [backup CORRUPT]"
				      : "");
	uint64_t pos = h->lba_first;
	for (;;) {
		/* Next partition at or after pos (tables are small). */
		const struct g_gpt_ent *next = NULL;
		unsigned idx = 0;
		for (uint32_t i = 0; i < h->nents; i++) {
			const struct g_gpt_ent *e = &t->ents[i];
			if (!g_uuid_is_nil(&e->type) && e->lba_start >= pos &&
			    (!next || e->lba_start < next->lba_start)) {
				next = e;
				idx = i + 1;
			}
		}
		uint64_t free_end = next ? next->lba_start : h->lba_last + 1;
		if (free_end > pos) {
			g_humanize(hs, sizeof(hs), (free_end - pos) * ss);
			g_sbuf_printf(sb, "   %10llu %10llu        - free -  (%s)\n",
				      (unsigned long long)pos, (unsigned long long)(free_end - pos),
				      hs);
		}
		if (!next)
			break;
		char ts[40];
		const char *tn = g_gpt_type_name(&next->type);
		if (!tn) {
			g_uuid_format(&next->type, ts, sizeof(ts));
			tn = ts;
		}
		uint64_t n = next->lba_end - next->lba_start + 1;
		g_humanize(hs, sizeof(hs), n * ss);
		g_sbuf_printf(sb, "   %10llu %10llu  %4u  %s  (%s)%s%s%s\n",
			      (unsigned long long)next->lba_start, (unsigned long long)n, idx, tn,
			      hs, next->name[0] ? "  [" : "", next->name, next->name[0] ? "]" : "");
		pos = next->lba_end + 1;
	}
}
