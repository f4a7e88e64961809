/*
 * Check suite for virtio-fs's FUSE messages (fs/virtiofs/virtiofs_fuse.c)
 * and connection registry (virtiofs_conn.c): replies of every bad shape
 * (short, oversized, for another request, impossible error codes) are
 * -EIO with a reason, never a crash; directory entries of READDIR and
 * READDIRPLUS decode, malformed ones are refused; INIT negotiation.
 */
#include "virtiofs.h"
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <vfs.h>

/* ------------------------------------------------------------------ */
/* Replies.                                                            */

static int check(uint32_t len, int32_t error, uint64_t unique, uint32_t used, uint32_t min,
		 uint32_t max, uint32_t *payload, const char **why)
{
	struct fuse_out_header oh = {.len = len, .error = error, .unique = unique};
	*why = NULL;
	return fuse_reply_check(&oh, used, 7, min, max, payload, why);
}

START_TEST(test_reply_good)
{
	uint32_t p;
	const char *why;
	ck_assert_int_eq(check(16 + 128, 0, 7, 16 + 128, 128, 128, &p, &why), 0);
	ck_assert_uint_eq(p, 128);
	/* Variable payloads: anything from min to max. */
	ck_assert_int_eq(check(16, 0, 7, 16, 0, 4096, &p, &why), 0);
	ck_assert_uint_eq(p, 0);
	ck_assert_int_eq(check(16 + 100, 0, 7, 16 + 100, 0, 4096, &p, &why), 0);
	ck_assert_uint_eq(p, 100);
	/* The host's errors come back as they are. */
	ck_assert_int_eq(check(16, -ENOENT, 7, 16, 128, 128, &p, &why), -ENOENT);
	ck_assert_int_eq(check(16, -511, 7, 16, 0, 0, &p, &why), -511);
	ck_assert_ptr_null(why);
}
END_TEST

START_TEST(test_reply_bad)
{
	uint32_t p = 99;
	const char *why;
	/* Shorter than a header: used lengths 0..15. */
	for (uint32_t used = 0; used < 16; used++) {
		ck_assert_int_eq(check(16, 0, 7, used, 0, 64, &p, &why), -EIO);
		ck_assert_str_eq(why, "shorter than its header");
		ck_assert_uint_eq(p, 0);
	}
	ck_assert_int_eq(check(16, 0, 8, 16, 0, 64, &p, &why), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "another request"));
	ck_assert_int_eq(check(64, 0, 7, 32, 0, 64, &p, &why), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "claims more"));
	ck_assert_int_eq(check(16, 0, 7, 32, 0, 64, &p, &why), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "claims less"));
	ck_assert_int_eq(check(UINT32_MAX, 0, 7, 32, 0, 64, &p, &why), -EIO);
	/* Oversized and undersized payloads. */
	ck_assert_int_eq(check(16 + 65, 0, 7, 16 + 65, 0, 64, &p, &why), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "longer"));
	ck_assert_int_eq(check(16 + 127, 0, 7, 16 + 127, 128, 128, &p, &why), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "shorter than the request"));
	ck_assert_int_eq(check(UINT32_MAX, 0, 7, UINT32_MAX, 0, 1 << 20, &p, &why), -EIO);
	/* Impossible error codes. */
	int32_t bad[] = {1, 5, INT32_MAX, -512, -4096, INT32_MIN};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(check(16, bad[i], 7, 16, 0, 64, &p, &why), -EIO);
		ck_assert_str_eq(why, "impossible error code");
	}
	/* An error with a payload. */
	ck_assert_int_eq(check(24, -ENOENT, 7, 24, 0, 64, &p, &why), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "error reply with a payload"));
}
END_TEST

/* Random headers never crash and never report a payload beyond max. */
START_TEST(test_reply_random)
{
	srand(1234);
	for (int i = 0; i < 200000; i++) {
		uint32_t p;
		const char *why = NULL;
		struct fuse_out_header oh = {.len = (uint32_t)rand() % 300,
					     .error = rand() % 3 ? 0 : -(rand() % 700) + 50,
					     .unique = (uint64_t)(rand() % 3)};
		uint32_t used = (uint32_t)rand() % 300, min = (uint32_t)rand() % 100,
			 max = min + (uint32_t)rand() % 100;
		int e = fuse_reply_check(&oh, used, 1, min, max, &p, &why);
		if (e == 0) {
			ck_assert_uint_ge(p, min);
			ck_assert_uint_le(p, max);
			ck_assert_uint_eq(p + 16, used);
		} else if (e == -EIO && why) {
			ck_assert_uint_eq(p, 0);
		} else {
			ck_assert_int_lt(e, 0);
			ck_assert_int_ge(e, -511);
			ck_assert_int_eq(e, oh.error);
		}
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* Directory entries.                                                  */

struct dbuf {
	uint8_t b[8192];
	uint32_t len;
};

static void put_dirent(struct dbuf *d, bool plus, uint64_t nodeid, uint64_t ino, uint64_t off,
		       uint32_t type, const char *name, uint32_t namelen, bool pad)
{
	uint32_t head = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
	uint8_t *p = d->b + d->len;
	memset(p, 0, head + namelen + 8);
	struct fuse_dirent de = {.ino = ino, .off = off, .namelen = namelen, .type = type};
	if (plus) {
		struct fuse_entry_out eo = {.nodeid = nodeid};
		eo.attr.ino = ino;
		memcpy(p, &eo, sizeof(eo));
		memcpy(p + sizeof(eo), &de, sizeof(de));
	} else {
		memcpy(p, &de, sizeof(de));
	}
	memcpy(p + head, name, namelen);
	d->len += pad ? FUSE_DIRENT_ALIGN(head + namelen) : head + namelen;
}

static void dirents_good(bool plus)
{
	struct dbuf d = {.len = 0};
	put_dirent(&d, plus, 0, 10, 1, DT_DIR, ".", 1, true);
	put_dirent(&d, plus, 0, 2, 2, DT_DIR, "..", 2, true);
	put_dirent(&d, plus, 55, 11, 3, DT_REG, "eight888", 8, true);
	char longname[255];
	memset(longname, 'x', sizeof(longname));
	longname[7] = '\xff'; /* any byte but '/' and NUL */
	put_dirent(&d, plus, 56, 12, 4, DT_LNK, longname, 255, true);
	put_dirent(&d, plus, 57, 13, 5, DT_REG, "last", 4, false); /* unpadded end */

	uint32_t pos = 0;
	struct fuse_dirent_view v;
	const char *names[] = {".", "..", "eight888", NULL, "last"};
	const uint64_t inos[] = {10, 2, 11, 12, 13};
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(fuse_dirent_next(d.b, d.len, &pos, plus, &v), 1);
		ck_assert_uint_eq(v.off, (uint64_t)i + 1);
		ck_assert_uint_eq(v.ino, inos[i]);
		if (names[i]) {
			ck_assert_uint_eq(v.namelen, strlen(names[i]));
			ck_assert_int_eq(memcmp(v.name, names[i], v.namelen), 0);
		} else {
			ck_assert_uint_eq(v.namelen, 255);
			ck_assert_int_eq(memcmp(v.name, longname, 255), 0);
		}
		if (plus) {
			ck_assert_ptr_nonnull(v.entry);
			ck_assert_uint_eq(v.entry->nodeid, i < 2 ? 0 : 53 + (uint64_t)i);
		} else {
			ck_assert_ptr_null(v.entry);
		}
	}
	ck_assert_uint_eq(pos, d.len);
	ck_assert_int_eq(fuse_dirent_next(d.b, d.len, &pos, plus, &v), 0);
	/* An empty reply is the end. */
	pos = 0;
	ck_assert_int_eq(fuse_dirent_next(d.b, 0, &pos, plus, &v), 0);
}

START_TEST(test_dirents_good)
{
	dirents_good(_i);
}
END_TEST

static int decode_one(const struct dbuf *d, bool plus)
{
	uint32_t pos = 0;
	struct fuse_dirent_view v;
	int r;
	while ((r = fuse_dirent_next(d->b, d->len, &pos, plus, &v)) == 1)
		ck_assert_uint_le(pos, d->len);
	return r;
}

START_TEST(test_dirents_bad)
{
	bool plus = _i;
	struct dbuf d;
	/* A name running past the reply. */
	d.len = 0;
	put_dirent(&d, plus, 5, 1, 1, DT_REG, "abcdef", 6, true);
	d.len -= 4;
	ck_assert_int_eq(decode_one(&d, plus), -EIO);
	/* A header cut short, at every length. */
	uint32_t head = plus ? FUSE_NAME_OFFSET_DIRENTPLUS : FUSE_NAME_OFFSET;
	for (uint32_t cut = 1; cut < head; cut++) {
		d.len = 0;
		put_dirent(&d, plus, 5, 1, 1, DT_REG, "ok", 2, true);
		put_dirent(&d, plus, 5, 1, 2, DT_REG, "ok2", 3, true);
		d.len = FUSE_DIRENT_ALIGN(head + 2) + cut;
		ck_assert_int_eq(decode_one(&d, plus), -EIO);
	}
	/* Empty names, names with '/' or NUL, names over 255 bytes. */
	d.len = 0;
	put_dirent(&d, plus, 5, 1, 1, DT_REG, "", 0, true);
	ck_assert_int_eq(decode_one(&d, plus), -EIO);
	d.len = 0;
	put_dirent(&d, plus, 5, 1, 1, DT_REG, "a/b", 3, true);
	ck_assert_int_eq(decode_one(&d, plus), -EIO);
	d.len = 0;
	put_dirent(&d, plus, 5, 1, 1, DT_REG, "a\0b", 3, true);
	ck_assert_int_eq(decode_one(&d, plus), -EIO);
	char big[300];
	memset(big, 'y', sizeof(big));
	d.len = 0;
	put_dirent(&d, plus, 5, 1, 1, DT_REG, big, 256, true);
	ck_assert_int_eq(decode_one(&d, plus), -EIO);
	/* A namelen that would wrap a 32-bit sum. */
	d.len = 0;
	put_dirent(&d, plus, 5, 1, 1, DT_REG, "abc", 3, true);
	struct fuse_dirent de;
	uint8_t *dp = d.b + (plus ? sizeof(struct fuse_entry_out) : 0);
	memcpy(&de, dp, sizeof(de));
	de.namelen = UINT32_MAX - 8;
	memcpy(dp, &de, sizeof(de));
	ck_assert_int_eq(decode_one(&d, plus), -EIO);
}
END_TEST

/* Random bytes: the decoder ends, stays inside the buffer, never crashes. */
START_TEST(test_dirents_random)
{
	srand(99);
	struct dbuf d;
	for (int round = 0; round < 20000; round++) {
		d.len = (uint32_t)rand() % 600;
		for (uint32_t i = 0; i < d.len; i++)
			d.b[i] = (uint8_t)(rand() % 4 ? rand() % 8 : rand());
		uint32_t pos = 0, last = 0;
		struct fuse_dirent_view v;
		int r;
		while ((r = fuse_dirent_next(d.b, d.len, &pos, round & 1, &v)) == 1) {
			ck_assert_uint_gt(pos, last);
			ck_assert_uint_le(pos, d.len);
			ck_assert(v.name >= (const char *)d.b);
			ck_assert(v.name + v.namelen <= (const char *)d.b + d.len);
			last = pos;
		}
		ck_assert_int_le(r, 0);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* INIT.                                                               */

START_TEST(test_init)
{
	struct fuse_init_in in;
	fuse_init_request(&in, 1 << 20);
	ck_assert_uint_eq(in.major, 7);
	ck_assert_uint_eq(in.minor, FUSE_KERNEL_MINOR_VERSION);
	ck_assert_uint_eq(in.max_readahead, 1 << 20);
	ck_assert(in.flags & FUSE_DO_READDIRPLUS);
	ck_assert(in.flags & FUSE_MAX_PAGES);
	ck_assert(in.flags & FUSE_MAP_ALIGNMENT);

	struct virtiofs_conn c = {.max_transfer = 1 << 20};
	struct fuse_init_out o = {.major = 7,
				  .minor = 36,
				  .max_readahead = 65536,
				  .flags = FUSE_DO_READDIRPLUS | FUSE_MAX_PAGES |
					   FUSE_MAP_ALIGNMENT | FUSE_POSIX_LOCKS,
				  .max_write = 1 << 20,
				  .max_pages = 1024,
				  .map_alignment = 12};
	ck_assert_int_eq(fuse_init_accept(&c, &o, sizeof(o)), 0);
	ck_assert_uint_eq(c.minor, 36);
	ck_assert(c.readdirplus);
	ck_assert_uint_eq(c.flags & FUSE_POSIX_LOCKS, 0); /* not asked, not taken */
	ck_assert_uint_eq(c.max_read, 1 << 20);		  /* 4 MiB capped by the transport */
	ck_assert_uint_eq(c.map_alignment, 12);
	/* A newer host: we speak our own minor. */
	o.minor = 99;
	ck_assert_int_eq(fuse_init_accept(&c, &o, sizeof(o)), 0);
	ck_assert_uint_eq(c.minor, FUSE_KERNEL_MINOR_VERSION);
	/* No MAX_PAGES, no READDIRPLUS: 32 pages, READDIR. */
	o.flags = 0;
	ck_assert_int_eq(fuse_init_accept(&c, &o, sizeof(o)), 0);
	ck_assert_uint_eq(c.max_read, 32 * 4096);
	ck_assert(!c.readdirplus);
	ck_assert_uint_eq(c.map_alignment, 12);
	/* A short (7.22-era) reply: the rest reads as zero. */
	o.flags = FUSE_MAX_PAGES;
	ck_assert_int_eq(fuse_init_accept(&c, &o, FUSE_COMPAT_22_INIT_OUT_SIZE), 0);
	ck_assert_uint_eq(c.max_read, 32 * 4096);
	/* Bad ones. */
	ck_assert_int_eq(fuse_init_accept(&c, &o, FUSE_COMPAT_22_INIT_OUT_SIZE - 1), -EIO);
	o.major = 8;
	ck_assert_int_eq(fuse_init_accept(&c, &o, sizeof(o)), -ENOTSUP);
	o.major = 7;
	o.minor = 20;
	ck_assert_int_eq(fuse_init_accept(&c, &o, sizeof(o)), -ENOTSUP);
	o.minor = 36;
	o.flags = FUSE_MAP_ALIGNMENT;
	o.map_alignment = 31;
	ck_assert_int_eq(fuse_init_accept(&c, &o, sizeof(o)), -EIO);
	/* A tiny max_pages still reads at least FUSE_MIN_READ_BUFFER. */
	o.map_alignment = 21;
	o.flags = FUSE_MAX_PAGES | FUSE_MAP_ALIGNMENT;
	o.max_pages = 1;
	ck_assert_int_eq(fuse_init_accept(&c, &o, sizeof(o)), 0);
	ck_assert_uint_eq(c.max_read, FUSE_MIN_READ_BUFFER);
	ck_assert_uint_eq(c.map_alignment, 21);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Connections.                                                        */

static int fake_calls;
static int fake_call(struct virtiofs_conn *conn, struct fuse_call *c)
{
	fake_calls++;
	c->out_got = c->out_len / 2;
	return c->opcode == FUSE_LOOKUP ? -ENOENT : 0;
}
static int fake_forget(struct virtiofs_conn *conn, const struct fuse_forget_one *f, unsigned n)
{
	return 0;
}
static const struct virtiofs_conn_ops fake_ops = {.call = fake_call, .forget = fake_forget};

START_TEST(test_conns)
{
	static struct virtiofs_conn a = {.tag = "alpha", .ops = &fake_ops};
	static struct virtiofs_conn b = {.tag = "beta", .ops = &fake_ops};
	static struct virtiofs_conn dup = {.tag = "alpha", .ops = &fake_ops};
	char tags[64];
	virtiofs_conn_tags(tags, sizeof(tags));
	ck_assert_str_eq(tags, "none");
	ck_assert_ptr_null(virtiofs_conn_find("alpha"));
	ck_assert_int_eq(virtiofs_conn_register(&a), 0);
	ck_assert_int_eq(virtiofs_conn_register(&b), 0);
	ck_assert_int_eq(virtiofs_conn_register(&dup), -EEXIST);
	ck_assert_ptr_eq(virtiofs_conn_find("alpha"), &a);
	ck_assert_ptr_eq(virtiofs_conn_find("beta"), &b);
	ck_assert_ptr_null(virtiofs_conn_find("alph"));
	virtiofs_conn_tags(tags, sizeof(tags));
	ck_assert_str_eq(tags, "'alpha', 'beta'");
	/* A buffer too small keeps whole tags only. */
	virtiofs_conn_tags(tags, 12);
	ck_assert_str_eq(tags, "'alpha'");

	/* Statistics by opcode. */
	char buf[4096];
	uint32_t arg = 5;
	struct fuse_call c = {.opcode = FUSE_READ,
			      .in = {&arg},
			      .in_len = {sizeof(arg)},
			      .nin = 1,
			      .out = buf,
			      .out_len = 1000};
	ck_assert_int_eq(virtiofs_call(&a, &c), 0);
	ck_assert_int_eq(virtiofs_call(&a, &c), 0);
	c.opcode = FUSE_LOOKUP;
	ck_assert_int_eq(virtiofs_call(&a, &c), -ENOENT);
	c.opcode = 1000; /* counted under slot 0 */
	ck_assert_int_eq(virtiofs_call(&a, &c), 0);
	ck_assert_int_eq(fake_calls, 4);
	ck_assert_uint_eq(a.ops_stat[FUSE_READ].requests, 2);
	ck_assert_uint_eq(a.ops_stat[FUSE_READ].bytes_in, 2 * (16 + 500));
	ck_assert_uint_eq(a.ops_stat[FUSE_READ].bytes_out, 2 * (40 + 4));
	ck_assert_uint_eq(a.ops_stat[FUSE_LOOKUP].errors, 1);
	ck_assert_uint_eq(a.ops_stat[0].requests, 1);
	ck_assert_uint_eq(b.ops_stat[FUSE_READ].requests, 0);
	char nb[16];
	ck_assert_str_eq(fuse_opname(FUSE_READDIRPLUS, nb, sizeof(nb)), "READDIRPLUS");
	ck_assert_str_eq(fuse_opname(9999, nb, sizeof(nb)), "op 9999");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("virtiofs_fuse");
	TCase *tc = tcase_create("fuse");
	tcase_add_test(tc, test_reply_good);
	tcase_add_test(tc, test_reply_bad);
	tcase_add_test(tc, test_reply_random);
	tcase_add_loop_test(tc, test_dirents_good, 0, 2);
	tcase_add_loop_test(tc, test_dirents_bad, 0, 2);
	tcase_add_loop_test(tc, test_dirents_random, 0, 1);
	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_conns);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
