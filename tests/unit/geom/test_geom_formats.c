/*
 * Check suite for GEOM's on-disk formats, without the I/O threads: CRC-32,
 * LABEL metadata and GPT/MBR tables, including corruption at every byte of
 * the metadata and crafted headers whose CRCs are right but whose fields
 * are not. A bad table must never be accepted, and nothing may crash.
 */
#include "geom_test.h"
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SS   512
#define DISK (4ULL << 20)

START_TEST(test_crc32_vectors)
{
	ck_assert_uint_eq(g_crc32(0, "123456789", 9), 0xCBF43926u);
	ck_assert_uint_eq(g_crc32(0, "", 0), 0);
	/* Chaining equals one pass. */
	uint32_t c = g_crc32(0, "1234", 4);
	ck_assert_uint_eq(g_crc32(c, "56789", 5), 0xCBF43926u);
	ck_assert_uint_eq(g_crc32(0, "The quick brown fox jumps over the lazy dog", 43),
			  0x414FA339u);
}
END_TEST

START_TEST(test_label_round_trip)
{
	uint8_t sec[SS];
	struct g_label_meta md = {.version = G_LABEL_VERSION, .provsize = DISK}, out;
	const char *why;
	strcpy(md.name, "root");
	ck_assert_int_eq(g_label_encode(&md, sec, SS), 0);
	ck_assert_int_eq(memcmp(sec, "KARSTLABEL\0\0\0\0\0\0", 16), 0);
	ck_assert_uint_eq(sec[16], 1); /* version, little-endian */
	ck_assert_uint_eq(sec[17] | sec[18] | sec[19], 0);
	ck_assert_uint_eq(sec[36 + 2], (DISK >> 16) & 0xff);
	ck_assert_int_eq(g_label_decode(sec, SS, DISK, &out, &why), 0);
	ck_assert_str_eq(out.name, "root");
	ck_assert_uint_eq(out.version, 1);
	ck_assert_uint_eq(out.provsize, DISK);
	/* Wrong provider size. */
	ck_assert_int_eq(g_label_decode(sec, SS, DISK - SS, &out, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "size"));

	/* A 16-character name fills the field without a NUL. */
	strcpy(md.name, "abcdefghijklmnop");
	ck_assert_int_eq(g_label_encode(&md, sec, SS), 0);
	ck_assert_int_eq(g_label_decode(sec, SS, DISK, &out, &why), 0);
	ck_assert_str_eq(out.name, "abcdefghijklmnop");

	/* Bad names never get written. */
	const char *bad[] = {"", "a/b", "has space", "x\xff", "abcdefghijklmnopq"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(md.name, 0, sizeof(md.name));
		strncpy(md.name, bad[i], G_LABEL_NAMELEN);
		if (strlen(bad[i]) > G_LABEL_NAMELEN)
			ck_assert(!g_label_name_valid(bad[i]));
		else
			ck_assert_int_eq(g_label_encode(&md, sec, SS), -EINVAL);
	}
	ck_assert_int_eq(g_label_encode(&md, sec, 40), -EINVAL);
}
END_TEST

START_TEST(test_label_every_byte_flip_rejected)
{
	uint8_t good[SS], sec[SS];
	struct g_label_meta md = {.version = G_LABEL_VERSION, .provsize = DISK}, out;
	const char *why;
	strcpy(md.name, "data");
	ck_assert_int_eq(g_label_encode(&md, good, SS), 0);
	for (int off = 0; off < SS; off++) {
		for (int bit = 0; bit < 8; bit++) {
			memcpy(sec, good, SS);
			sec[off] ^= (uint8_t)(1 << bit);
			int err = g_label_decode(sec, SS, DISK, &out, &why);
			if (off < G_LABEL_METASIZE) {
				ck_assert_msg(err != 0, "flip at %d bit %d accepted", off, bit);
				ck_assert(err == (off < 16 ? -ENOENT : -EINVAL));
				ck_assert(why[0] != '\0');
			} else {
				ck_assert_int_eq(err, 0); /* outside the metadata */
			}
		}
	}
}
END_TEST

/* Fields that are wrong although the hash is right: re-hash by hand. */
START_TEST(test_label_bad_fields_with_good_hash)
{
	uint8_t sec[SS];
	struct g_label_meta md = {.version = 7, .provsize = DISK}, out;
	const char *why;
	strcpy(md.name, "x");
	ck_assert_int_eq(g_label_encode(&md, sec, SS), 0); /* version 7 written as is */
	ck_assert_int_eq(g_label_decode(sec, SS, DISK, &out, &why), -EINVAL);
	ck_assert_ptr_nonnull(strstr(why, "version"));
}
END_TEST

START_TEST(test_label_random_garbage)
{
	uint8_t sec[SS];
	struct g_label_meta out;
	const char *why;
	srand(42);
	for (int i = 0; i < 20000; i++) {
		for (int j = 0; j < SS; j++)
			sec[j] = (uint8_t)rand();
		if (i & 1) /* the magic right, everything else random */
			memcpy(sec, G_LABEL_MAGIC "\0\0\0\0\0\0", 16);
		ck_assert_int_ne(g_label_decode(sec, SS, DISK, &out, &why), 0);
	}
}
END_TEST

struct gpt_fixture {
	struct gt_mem m;
	struct g_gpt_table ref;
};

static void gpt_make(struct gpt_fixture *f, uint64_t size)
{
	static const uint64_t parts[] = {2048, 1000, 1024};
	f->m.size = size;
	f->m.buf = gt_gpt_image(size, SS, 3, parts);
	char why[160];
	ck_assert_int_eq(g_gpt_read(gt_mem_read, &f->m, size, SS, &f->ref, why, sizeof(why)), 0);
	ck_assert_str_eq(why, "");
}

static void gpt_unmake(struct gpt_fixture *f)
{
	g_gpt_free(&f->ref);
	free(f->m.buf);
}

/* The same partitions as the reference. */
static bool gpt_same(const struct g_gpt_table *a, const struct g_gpt_table *b)
{
	if (a->hdr.nents != b->hdr.nents || a->hdr.lba_first != b->hdr.lba_first ||
	    a->hdr.lba_last != b->hdr.lba_last)
		return false;
	for (uint32_t i = 0; i < a->hdr.nents; i++) {
		const struct g_gpt_ent *x = &a->ents[i], *y = &b->ents[i];
		if (memcmp(&x->type, &y->type, 16) || memcmp(&x->guid, &y->guid, 16) ||
		    x->lba_start != y->lba_start || x->lba_end != y->lba_end ||
		    strcmp(x->name, y->name))
			return false;
	}
	return true;
}

START_TEST(test_gpt_round_trip)
{
	struct gpt_fixture f;
	gpt_make(&f, DISK);
	const struct g_gpt_table *t = &f.ref;
	ck_assert(t->primary_ok && t->backup_ok);
	ck_assert_uint_eq(t->hdr.nents, 128);
	ck_assert_uint_eq(t->hdr.lba_first, 34);
	ck_assert_uint_eq(t->hdr.lba_last, DISK / SS - 34);
	/* First-fit with 1 MiB alignment. */
	ck_assert_uint_eq(t->ents[0].lba_start, 2048);
	ck_assert_uint_eq(t->ents[0].lba_end, 4095);
	ck_assert_uint_eq(t->ents[1].lba_start, 4096);
	ck_assert_uint_eq(t->ents[1].lba_end, 5095);
	ck_assert_uint_eq(t->ents[2].lba_start, 6144);
	ck_assert_str_eq(t->ents[1].name, "part2");
	ck_assert_str_eq(g_gpt_type_name(&t->ents[0].type), "linux-data");
	ck_assert(g_uuid_is_nil(&t->ents[3].type));
	/* Protective MBR. */
	ck_assert_uint_eq(f.m.buf[510], 0x55);
	ck_assert_uint_eq(f.m.buf[511], 0xaa);
	ck_assert_uint_eq(f.m.buf[446 + 4], 0xee);

	/* Show lists free space and partitions. */
	char out[4096];
	struct g_sbuf sb;
	g_sbuf_init(&sb, out, sizeof(out));
	g_gpt_show(&sb, "md0", t);
	ck_assert_ptr_nonnull(strstr(out, "md0  GPT  (3.9M)"));
	ck_assert_ptr_nonnull(strstr(out, "linux-data  (1.0M)  [part1]"));
	ck_assert_ptr_nonnull(strstr(out, "- free -"));
	gpt_unmake(&f);
}
END_TEST

START_TEST(test_uuid_text)
{
	struct g_uuid u;
	char s[40];
	ck_assert_int_eq(g_uuid_parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", &u), 0);
	ck_assert_uint_eq(u.b[0], 0x28); /* first field little-endian */
	ck_assert_uint_eq(u.b[3], 0xC1);
	ck_assert_uint_eq(u.b[8], 0xBA);
	g_uuid_format(&u, s, sizeof(s));
	ck_assert_str_eq(s, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
	ck_assert_int_eq(g_uuid_parse("C12A7328-F81F-11D2-BA4B-00A0C93EC93", &u), -EINVAL);
	ck_assert_int_eq(g_uuid_parse("C12A7328xF81F-11D2-BA4B-00A0C93EC93B", &u), -EINVAL);
	ck_assert_int_eq(g_uuid_parse("G12A7328-F81F-11D2-BA4B-00A0C93EC93B", &u), -EINVAL);
	ck_assert_int_eq(g_gpt_type_parse("nonsense", &u), -EINVAL);
}
END_TEST

/* Flip every bit of the primary header sector: either the primary still
 * passes (the byte is outside the CRC'd header) or the backup is used, and
 * in both cases the table read is the original one. */
START_TEST(test_gpt_primary_header_flips)
{
	struct gpt_fixture f;
	gpt_make(&f, DISK);
	char why[160];
	for (int off = 0; off < SS; off++) {
		for (int bit = 0; bit < 8; bit += 3) {
			struct g_gpt_table t;
			f.m.buf[SS + off] ^= (uint8_t)(1 << bit);
			int err = g_gpt_read(gt_mem_read, &f.m, DISK, SS, &t, why, sizeof(why));
			f.m.buf[SS + off] ^= (uint8_t)(1 << bit);
			ck_assert_int_eq(err, 0);
			ck_assert(gpt_same(&t, &f.ref));
			ck_assert(t.primary_ok == (off >= G_GPT_HDR_MINSIZE));
			if (!t.primary_ok)
				ck_assert_ptr_nonnull(strstr(why, "using the backup"));
			g_gpt_free(&t);
		}
	}
	gpt_unmake(&f);
}
END_TEST

/* The same byte of both headers corrupted: nothing to fall back on. */
START_TEST(test_gpt_both_headers_flipped_rejected)
{
	struct gpt_fixture f;
	gpt_make(&f, DISK);
	uint64_t b = DISK - SS;
	char why[160];
	for (int off = 0; off < G_GPT_HDR_MINSIZE; off++) {
		for (int bit = 0; bit < 8; bit++) {
			struct g_gpt_table t;
			f.m.buf[SS + off] ^= (uint8_t)(1 << bit);
			f.m.buf[b + off] ^= (uint8_t)(1 << bit);
			int err = g_gpt_read(gt_mem_read, &f.m, DISK, SS, &t, why, sizeof(why));
			f.m.buf[SS + off] ^= (uint8_t)(1 << bit);
			f.m.buf[b + off] ^= (uint8_t)(1 << bit);
			ck_assert_msg(err == -EINVAL, "flip at %d bit %d: %d", off, bit, err);
			ck_assert_ptr_nonnull(strstr(why, "corrupt GPT"));
			ck_assert_ptr_null(t.ents);
		}
	}
	gpt_unmake(&f);
}
END_TEST

/* Any byte of either entry table: that copy fails its CRC, the other one
 * is used; both at once: rejected. */
START_TEST(test_gpt_table_flips)
{
	struct gpt_fixture f;
	gpt_make(&f, DISK);
	char why[160];
	uint64_t ptab = 2 * SS, btab = f.ref.hdr.lba_last * SS + SS;
	for (uint64_t off = 0; off < 128 * 128; off += 7) {
		struct g_gpt_table t;
		f.m.buf[ptab + off] ^= 0x10;
		ck_assert_int_eq(g_gpt_read(gt_mem_read, &f.m, DISK, SS, &t, why, sizeof(why)), 0);
		ck_assert(!t.primary_ok && t.backup_ok);
		ck_assert_ptr_nonnull(strstr(why, "entry table CRC"));
		ck_assert(gpt_same(&t, &f.ref));
		g_gpt_free(&t);
		f.m.buf[btab + off] ^= 0x10;
		ck_assert_int_eq(g_gpt_read(gt_mem_read, &f.m, DISK, SS, &t, why, sizeof(why)),
				 -EINVAL);
		f.m.buf[ptab + off] ^= 0x10;
		ck_assert_int_eq(g_gpt_read(gt_mem_read, &f.m, DISK, SS, &t, why, sizeof(why)), 0);
		ck_assert(t.primary_ok && !t.backup_ok);
		g_gpt_free(&t);
		f.m.buf[btab + off] ^= 0x10;
	}
	gpt_unmake(&f);
}
END_TEST

/*
 * Crafted tables: decode the primary header, break one field, re-encode it
 * (which recomputes the header CRC) into both copies, and fix up the
 * table CRC when the entries change. Every one must be refused.
 */
enum craft {
	C_HDRSIZE_SMALL,
	C_HDRSIZE_BIG,
	C_REVISION,
	C_ENTSZ_SMALL,
	C_ENTSZ_ODD,
	C_NENTS_ZERO,
	C_NENTS_OVERFLOW,
	C_TABLE_PAST_END,
	C_TABLE_IN_USABLE,
	C_FIRST_GT_LAST,
	C_LAST_PAST_END,
	C_FIRST_ZERO,
	C_SELF_WRONG,
	C_OVERLAP,
	C_PART_PAST_LAST,
	C_PART_BACKWARDS,
	C_PART_BEFORE_FIRST,
	C_NCRAFT
};

static void craft_write(struct gt_mem *m, struct g_gpt_hdr *h, const uint8_t *tbl, size_t tlen,
			bool self_wrong)
{
	uint64_t n = m->size / SS;
	h->table_crc = g_crc32(0, tbl, tlen);
	uint8_t sec[SS];
	struct g_gpt_hdr p = *h, b = *h;
	g_gpt_hdr_encode(&p, sec, SS);
	memcpy(m->buf + SS, sec, SS);
	b.lba_self = self_wrong ? n - 2 : n - 1;
	b.lba_alt = 1;
	if (h->lba_table == 2)
		b.lba_table = h->lba_last + 1;
	g_gpt_hdr_encode(&b, sec, SS);
	memcpy(m->buf + (n - 1) * SS, sec, SS);
	memcpy(m->buf + 2 * SS, tbl, tlen);
	if (b.lba_table * SS + tlen <= m->size)
		memcpy(m->buf + b.lba_table * SS, tbl, tlen);
}

START_TEST(test_gpt_crafted_fields_rejected)
{
	int c = _i;
	struct gpt_fixture f;
	gpt_make(&f, DISK);
	struct g_gpt_hdr h;
	const char *w;
	ck_assert_int_eq(g_gpt_hdr_decode(f.m.buf + SS, SS, DISK / SS, true, &h, &w), 0);
	size_t tlen = 128 * 128;
	uint8_t *tbl = malloc(tlen);
	memcpy(tbl, f.m.buf + 2 * SS, tlen);
	uint64_t n = DISK / SS;
	switch (c) {
	case C_HDRSIZE_SMALL:
		h.hdr_size = 91;
		break;
	case C_HDRSIZE_BIG:
		h.hdr_size = SS + 1;
		break;
	case C_REVISION:
		h.revision = 0x00020000;
		break;
	case C_ENTSZ_SMALL:
		h.entsz = 64;
		break;
	case C_ENTSZ_ODD:
		h.entsz = 129;
		break;
	case C_NENTS_ZERO:
		h.nents = 0;
		break;
	case C_NENTS_OVERFLOW:
		h.nents = 0xffffffffu;
		h.entsz = 0x80000000u;
		break;
	case C_TABLE_PAST_END:
		h.lba_table = n + 5;
		break;
	case C_TABLE_IN_USABLE:
		h.lba_table = h.lba_first + 1;
		break;
	case C_FIRST_GT_LAST:
		h.lba_first = h.lba_last + 1;
		break;
	case C_LAST_PAST_END:
		h.lba_last = n + 100;
		break;
	case C_FIRST_ZERO:
		h.lba_first = 0;
		break;
	case C_SELF_WRONG:
		h.lba_self = 2;
		break;
	case C_OVERLAP: /* entry 2 starts inside entry 1 */
		tbl[128 + 32] = 0x00;
		tbl[128 + 33] = 0x0c; /* 3072 */
		break;
	case C_PART_PAST_LAST:
		memset(tbl + 2 * 128 + 40, 0, 8);
		tbl[2 * 128 + 40 + 3] = 0x01; /* end at 16M sectors */
		break;
	case C_PART_BACKWARDS:
		memset(tbl + 40, 0, 8); /* entry 1 ends at 0 < start */
		break;
	case C_PART_BEFORE_FIRST:
		memset(tbl + 32, 0, 8);
		tbl[32] = 5;
		break;
	}
	craft_write(&f.m, &h, tbl, tlen, c == C_SELF_WRONG);
	struct g_gpt_table t;
	char why[160];
	int err = g_gpt_read(gt_mem_read, &f.m, DISK, SS, &t, why, sizeof(why));
	ck_assert_msg(err == -EINVAL, "craft %d accepted (%d)", c, err);
	ck_assert_ptr_nonnull(strstr(why, "corrupt GPT"));
	free(tbl);
	gpt_unmake(&f);
}
END_TEST

/* The medium is smaller than the GPT says (a truncated image), or too
 * small for any GPT. */
START_TEST(test_gpt_truncated)
{
	struct gpt_fixture f;
	gpt_make(&f, DISK);
	struct g_gpt_table t;
	char why[160];
	ck_assert_int_eq(g_gpt_read(gt_mem_read, &f.m, DISK / 2, SS, &t, why, sizeof(why)),
			 -EINVAL);
	ck_assert_int_eq(g_gpt_read(gt_mem_read, &f.m, 5 * SS, SS, &t, why, sizeof(why)), -ENOENT);
	/* The medium claims more than can be read: the backup is unreadable,
	 * the primary still serves, and the message says so. */
	struct gt_mem cut = {.buf = f.m.buf, .size = DISK / 2};
	ck_assert_int_eq(g_gpt_read(gt_mem_read, &cut, DISK, SS, &t, why, sizeof(why)), 0);
	ck_assert(t.primary_ok && !t.backup_ok);
	ck_assert_ptr_nonnull(strstr(why, "backup"));
	ck_assert(gpt_same(&t, &f.ref));
	g_gpt_free(&t);
	/* Nothing readable past LBA 1: rejected. */
	cut.size = 2 * SS;
	ck_assert_int_eq(g_gpt_read(gt_mem_read, &cut, DISK, SS, &t, why, sizeof(why)), -EINVAL);
	gpt_unmake(&f);
}
END_TEST

/* Random sectors behind a valid protective MBR, random bytes in the
 * headers with the signature right: never accepted, never a crash. */
START_TEST(test_gpt_random_garbage)
{
	uint64_t size = 256 * 1024;
	struct gt_mem m = {.buf = malloc(size), .size = size};
	srand(1234);
	for (int round = 0; round < 300; round++) {
		for (uint64_t i = 0; i < size; i++)
			m.buf[i] = (uint8_t)rand();
		memset(m.buf + 446, 0, 64);
		m.buf[446 + 4] = 0xee;
		m.buf[510] = 0x55;
		m.buf[511] = 0xaa;
		if (round & 1) {
			memcpy(m.buf + SS, "EFI PART\0\0\1\0\x5c\0\0\0", 16);
			memcpy(m.buf + size - SS, "EFI PART\0\0\1\0\x5c\0\0\0", 16);
		}
		struct g_gpt_table t;
		char why[160];
		ck_assert_int_eq(g_gpt_read(gt_mem_read, &m, size, SS, &t, why, sizeof(why)),
				 -EINVAL);
	}
	free(m.buf);
}
END_TEST

START_TEST(test_gpt_add_rules)
{
	struct g_gpt_table t;
	struct g_uuid disk = {{1}}, type, guid = {{2}};
	unsigned idx;
	g_gpt_type_parse("efi", &type);
	ck_assert_int_eq(g_gpt_create(&t, DISK, SS, &disk), 0);
	uint64_t usable = t.hdr.lba_last - t.hdr.lba_first + 1;
	ck_assert_int_eq(g_gpt_add(&t, 0, usable + 1, 1, &type, &guid, NULL, &idx), -ENOSPC);
	ck_assert_int_eq(g_gpt_add(&t, 100, 10, 1, &type, &guid, "a", &idx), 0);
	ck_assert_int_eq(g_gpt_add(&t, 105, 10, 1, &type, &guid, "b", &idx), -EEXIST);
	ck_assert_int_eq(g_gpt_add(&t, 10, 10, 1, &type, &guid, "c", &idx), -ERANGE);
	ck_assert_int_eq(g_gpt_add(&t, t.hdr.lba_last, 2, 1, &type, &guid, "d", &idx), -ERANGE);
	/* First fit goes around the existing one. */
	ck_assert_int_eq(g_gpt_add(&t, 0, 70, 1, &type, &guid, NULL, &idx), 0);
	ck_assert_uint_eq(t.ents[idx - 1].lba_start, 110);
	ck_assert_int_eq(g_gpt_add(&t, 0, 66, 1, &type, &guid, NULL, &idx), 0);
	ck_assert_uint_eq(t.ents[idx - 1].lba_start, 34);
	ck_assert_int_eq(g_gpt_add(&t, 0, 5, 1, &type, &guid,
				   "a label much longer than thirty-six characters", &idx),
			 -ENAMETOOLONG);
	g_gpt_free(&t);
}
END_TEST

START_TEST(test_mbr_decode)
{
	uint8_t sec[SS];
	struct g_mbr m;
	const char *why;
	memset(sec, 0, SS);
	ck_assert_int_eq(g_mbr_decode(sec, SS, 1000, &m, &why), -ENOENT);
	sec[510] = 0x55;
	sec[511] = 0xaa;
	uint8_t *e = sec + 446;
	e[0] = 0x80;
	e[4] = 0x83;
	e[8] = 63;
	e[12] = 100;
	e[16 + 4] = 0x0c;
	e[16 + 8] = 200;
	e[16 + 12] = 50;
	ck_assert_int_eq(g_mbr_decode(sec, SS, 1000, &m, &why), 0);
	ck_assert(!m.protective);
	ck_assert_uint_eq(m.ent[0].lba_start, 63);
	ck_assert_uint_eq(m.ent[1].nsectors, 50);
	ck_assert_int_eq(g_mbr_decode(sec, SS, 240, &m, &why), -EINVAL); /* past end */
	e[16 + 8] = 100;
	ck_assert_int_eq(g_mbr_decode(sec, SS, 1000, &m, &why), -EINVAL); /* overlap */
	ck_assert_ptr_nonnull(strstr(why, "overlap"));
	e[16 + 8] = 200;
	e[0] = 0x12;
	ck_assert_int_eq(g_mbr_decode(sec, SS, 1000, &m, &why), -ENOENT); /* not a table */
	e[0] = 0;
	e[32 + 4] = 0xee;
	e[32 + 8] = 1;
	e[32 + 12] = 0xff;
	e[32 + 13] = 0xff;
	e[32 + 14] = 0xff;
	e[32 + 15] = 0xff;
	ck_assert_int_eq(g_mbr_decode(sec, SS, 1000, &m, &why), 0);
	ck_assert(m.protective);
}
END_TEST

START_TEST(test_sbuf_and_humanize)
{
	char small[8], hs[16];
	struct g_sbuf sb;
	g_sbuf_init(&sb, small, sizeof(small));
	g_sbuf_printf(&sb, "%s", "hello ");
	g_sbuf_printf(&sb, "%s", "world");
	ck_assert_str_eq(small, "hello w");
	ck_assert_uint_eq(sb.len, 11);
	g_sbuf_printf(&sb, "more");
	ck_assert_uint_eq(sb.len, 15);
	g_humanize(hs, sizeof(hs), 512);
	ck_assert_str_eq(hs, "512B");
	g_humanize(hs, sizeof(hs), 1536);
	ck_assert_str_eq(hs, "1.5K");
	g_humanize(hs, sizeof(hs), 64ULL << 20);
	ck_assert_str_eq(hs, "64M");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("geom_formats");
	TCase *tc = tcase_create("formats");
	tcase_add_test(tc, test_crc32_vectors);
	tcase_add_test(tc, test_label_round_trip);
	tcase_add_test(tc, test_label_every_byte_flip_rejected);
	tcase_add_test(tc, test_label_bad_fields_with_good_hash);
	tcase_add_test(tc, test_label_random_garbage);
	tcase_add_test(tc, test_gpt_round_trip);
	tcase_add_test(tc, test_uuid_text);
	tcase_add_test(tc, test_gpt_primary_header_flips);
	tcase_add_test(tc, test_gpt_both_headers_flipped_rejected);
	tcase_add_test(tc, test_gpt_table_flips);
	tcase_add_loop_test(tc, test_gpt_crafted_fields_rejected, 0, C_NCRAFT);
	tcase_add_test(tc, test_gpt_truncated);
	tcase_add_test(tc, test_gpt_random_garbage);
	tcase_add_test(tc, test_gpt_add_rules);
	tcase_add_test(tc, test_mbr_decode);
	tcase_add_test(tc, test_sbuf_and_humanize);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
