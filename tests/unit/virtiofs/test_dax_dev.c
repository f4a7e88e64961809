/*
 * Check suite for the device-window back end (fs/virtiofs/dax_dev.c)
 * against a fake FUSE server that does what virtiofsd does with a DAX
 * window: FUSE_SETUPMAPPING maps the host file into the window with
 * mmap(MAP_FIXED), FUSE_REMOVEMAPPING puts an inaccessible page range back
 * (a read of a removed or never-mapped range, or of a file's pages past
 * its end, would crash the test with SIGSEGV/SIGBUS), FUSE_READ is pread.
 *
 * Checked: data read through the window equals the files' (across chunks,
 * at the ends of files, with Device-memory aligned copies); hits send no
 * request; a full window removes mappings and maps again; a refused
 * mapping leaves the read to FUSE_READ (-EAGAIN) and ENOSYS turns the
 * window off; pinned chunks survive eviction, an invalidated pinned chunk
 * stays readable until its last unpin, which removes its mapping; teardown
 * removes every mapping.
 *
 * The same server (FUSE_READ into out, then out2) checks the guest-memory
 * window (dax_guest.c): data equal through rotated chunks whose reads
 * wrap, with replies in at once and with replies that come late (a batch
 * API with start/wait/done); no fill past the end of a file; the free
 * chunks next in line are prepared while a reader waits, no more than
 * 2 * DAX_READAHEAD of them, the next fill uses a prepared block and
 * memory pressure gives them back first; no idle time, nothing prepared.
 */
#include "dax.h"
#include "virtiofs.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MiB   (1ULL << 20)
#define CHUNK DAX_CHUNK_DEFAULT
#define NFILE 4

/* Files by node id 1..NFILE (fh = node id + 1000). */
static const uint64_t file_len[NFILE + 1] = {0, 5 * MiB + 123, 2 * MiB, 1000, 3 * MiB + 4097};
static int file_fd[NFILE + 1];
static uint8_t *file_data[NFILE + 1];

struct server {
	uint8_t *window;
	uint64_t wlen;
	int refuse; /* SETUPMAPPING answers this error when set */
	int setups, removes, reads;
	int async; /* guest window: polls before a batch's replies are in */
	int polls;
	uint8_t live[64]; /* chunk mapped on the "host" */
};
static struct server srv;

static int fake_call(struct virtiofs_conn *conn, struct fuse_call *c)
{
	(void)conn;
	switch (c->opcode) {
	case FUSE_SETUPMAPPING: {
		const struct fuse_setupmapping_in *si = c->in[0];
		ck_assert_uint_eq(c->in_len[0], sizeof(*si));
		ck_assert_uint_eq(si->fh, c->nodeid + 1000);
		ck_assert(si->flags & FUSE_SETUPMAPPING_FLAG_READ);
		ck_assert(!(si->flags & FUSE_SETUPMAPPING_FLAG_WRITE));
		ck_assert_uint_eq(si->moffset % CHUNK, 0);
		ck_assert_uint_eq(si->foffset % CHUNK, 0);
		ck_assert_uint_le(si->moffset + si->len, srv.wlen);
		ck_assert_uint_lt(si->foffset, file_len[c->nodeid]); /* never past the end */
		if (srv.refuse)
			return srv.refuse;
		void *p = mmap(srv.window + si->moffset, si->len, PROT_READ, MAP_SHARED | MAP_FIXED,
			       file_fd[c->nodeid], (off_t)si->foffset);
		ck_assert_ptr_eq(p, srv.window + si->moffset);
		srv.live[si->moffset / CHUNK] = 1;
		srv.setups++;
		return 0;
	}
	case FUSE_REMOVEMAPPING: {
		const struct fuse_removemapping_in *ri = c->in[0];
		ck_assert_uint_eq(c->nin, 2);
		ck_assert_uint_eq(ri->count, 1);
		const struct fuse_removemapping_one *one = c->in[1];
		ck_assert_uint_eq(one->moffset % CHUNK, 0);
		ck_assert(srv.live[one->moffset / CHUNK]);
		void *p = mmap(srv.window + one->moffset, one->len, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		ck_assert_ptr_eq(p, srv.window + one->moffset);
		srv.live[one->moffset / CHUNK] = 0;
		srv.removes++;
		return 0;
	}
	case FUSE_READ: {
		/* Into out, then out2 (a rotated chunk's read wraps). */
		const struct fuse_read_in *ri = c->in[0];
		ck_assert_uint_eq(ri->size, c->out_len + c->out2_len);
		ssize_t n = pread(file_fd[c->nodeid], c->out, c->out_len, (off_t)ri->offset);
		ck_assert_int_ge(n, 0);
		if (n == (ssize_t)c->out_len && c->out2_len) {
			ssize_t n2 = pread(file_fd[c->nodeid], c->out2, c->out2_len,
					   (off_t)(ri->offset + c->out_len));
			ck_assert_int_ge(n2, 0);
			n += n2;
		}
		c->out_got = (uint32_t)n;
		srv.reads++;
		return 0;
	}
	}
	ck_abort_msg("unexpected opcode %u", c->opcode);
	return -EIO;
}

static int fake_forget(struct virtiofs_conn *conn, const struct fuse_forget_one *f, unsigned n)
{
	(void)conn, (void)f, (void)n;
	return 0;
}

static const struct virtiofs_conn_ops fake_ops = {.call = fake_call, .forget = fake_forget};
static struct virtiofs_conn conn;

static void setup_files(void)
{
	for (int i = 1; i <= NFILE; i++) {
		char name[] = "/tmp/karst-daxdev-XXXXXX";
		file_fd[i] = mkstemp(name);
		ck_assert_int_ge(file_fd[i], 0);
		unlink(name);
		file_data[i] = malloc(file_len[i]);
		for (uint64_t b = 0; b < file_len[i]; b++)
			file_data[i][b] = (uint8_t)(b * 131 + (b >> 11) * 7 + (uint64_t)i * 29);
		ck_assert_int_eq(pwrite(file_fd[i], file_data[i], file_len[i], 0),
				 (ssize_t)file_len[i]);
	}
}

static void teardown_files(void)
{
	for (int i = 1; i <= NFILE; i++) {
		close(file_fd[i]);
		free(file_data[i]);
	}
}

/* A connection with a window of `chunks` chunks, not yet mapped. */
static void conn_up(uint32_t chunks, bool device)
{
	memset(&srv, 0, sizeof(srv));
	srv.wlen = (uint64_t)chunks * CHUNK;
	srv.window = mmap(NULL, srv.wlen, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(srv.window, MAP_FAILED);
	memset(&conn, 0, sizeof(conn));
	strcpy(conn.tag, "daxdev");
	conn.ops = &fake_ops;
	conn.max_read = 128 * 1024;
	conn.map_alignment = 12;
	conn.window_len = srv.wlen;
	conn.window_va = srv.window;
	conn.window_device = device;
	ck_assert_int_eq(virtiofs_window_create(&conn, 32 * MiB), 0);
	ck_assert_ptr_nonnull(conn.dax_dev); /* the device's window, not guest memory */
	ck_assert_uint_eq(conn.dax_window_bytes, srv.wlen);
}

static void conn_down(void)
{
	virtiofs_window_destroy(&conn);
	ck_assert_ptr_null(conn.dax);
	for (unsigned c = 0; c < sizeof(srv.live); c++)
		ck_assert_msg(!srv.live[c], "chunk %u still mapped after teardown", c);
	ck_assert_int_eq(srv.setups, srv.removes);
	munmap(srv.window, srv.wlen);
}

/* Read [off, off+len) of file i through the window; returns what it got. */
static long rd(int i, uint64_t off, size_t len)
{
	static uint8_t buf[1 << 20];
	ck_assert_uint_le(len, sizeof(buf));
	long n =
	    dax_read_sized(conn.dax, (uint64_t)i, (uint64_t)i + 1000, file_len[i], off, buf, len);
	if (n < 0)
		return n;
	uint64_t want = off >= file_len[i] ? 0 : file_len[i] - off < len ? file_len[i] - off : len;
	ck_assert_int_eq(n, (long)want);
	ck_assert_msg(memcmp(buf, file_data[i] + off, (size_t)n) == 0,
		      "file %d at %llu: window bytes differ", i, (unsigned long long)off);
	return n;
}

static void read_whole(int i, size_t step)
{
	for (uint64_t off = 0; off < file_len[i]; off += step)
		ck_assert_int_ge(rd(i, off, step), 0);
}

START_TEST(test_data_equal)
{
	conn_up(8, _i);
	for (int i = 1; i <= NFILE; i++)
		read_whole(i, 65536);
	int setups = srv.setups;
	ck_assert_int_eq(setups, 3 + 1 + 1 + 2); /* one per chunk of each file */
	for (int i = 1; i <= NFILE; i++)
		read_whole(i, 12345);	      /* odd sizes and offsets, across chunks */
	ck_assert_int_eq(srv.setups, setups); /* all hits */
	ck_assert_int_eq(srv.reads, 0);
	ck_assert_int_eq(rd(3, 999, 10), 1); /* the last byte */
	ck_assert_int_eq(rd(3, 1000, 10), 0);
	ck_assert_int_eq(rd(2, 2 * MiB, 10), 0); /* a chunk past the end: no request */
	ck_assert_int_eq(srv.setups, setups);
	ck_assert_uint_gt(atomic_load(&conn.dax->st.hits), 0);
	/* A file of unknown size is not mapped blindly. */
	uint8_t b[16];
	dax_invalidate(conn.dax, 4);
	ck_assert_int_eq(dax_read(conn.dax, 4, 1004, 3 * MiB, b, sizeof(b)), -EAGAIN);
	conn_down();
}
END_TEST

START_TEST(test_full_window_remaps)
{
	conn_up(2, false);
	for (int round = 0; round < 2; round++) {
		read_whole(1, 1 << 20); /* 3 chunks through a window of 2 */
		read_whole(4, 1 << 20);
		ck_assert_uint_le(dax_in_use(conn.dax), 2);
	}
	ck_assert_int_eq(srv.setups, 2 * (3 + 2));
	ck_assert_int_ge(srv.removes, srv.setups - 2);
	ck_assert_uint_eq(atomic_load(&conn.dax->st.evictions), (uint64_t)srv.setups - 2);
	ck_assert_uint_eq(conn.ops_stat[FUSE_SETUPMAPPING].requests, (uint64_t)srv.setups);
	ck_assert_uint_eq(conn.ops_stat[FUSE_REMOVEMAPPING].requests, (uint64_t)srv.removes);
	conn_down();
}
END_TEST

START_TEST(test_refused_falls_back)
{
	conn_up(4, false);
	srv.refuse = -ENOMEM; /* the host could not map it this time */
	uint8_t b[100];
	ck_assert_int_eq(dax_read_sized(conn.dax, 1, 1001, file_len[1], 0, b, sizeof(b)), -EAGAIN);
	ck_assert_uint_eq(atomic_load(&conn.dax->st.fallbacks), 1);
	ck_assert_uint_eq(virtiofs_devwindow_refused(&conn), 1);
	ck_assert_int_eq(srv.setups, 0);
	srv.refuse = 0; /* the next read tries again */
	ck_assert_int_eq(rd(1, 0, 100), 100);
	ck_assert_int_eq(srv.setups, 1);
	/* A host without DAX: the window is off after the first refusal. */
	srv.refuse = -ENOSYS;
	ck_assert_int_eq(dax_read_sized(conn.dax, 4, 1004, file_len[4], 0, b, sizeof(b)), -EAGAIN);
	uint64_t asked = conn.ops_stat[FUSE_SETUPMAPPING].requests;
	ck_assert_int_eq(dax_read_sized(conn.dax, 4, 1004, file_len[4], 2 * MiB, b, sizeof(b)),
			 -EAGAIN);
	ck_assert_uint_eq(conn.ops_stat[FUSE_SETUPMAPPING].requests, asked); /* not asked again */
	ck_assert_int_eq(rd(1, 50, 10), 10); /* what is mapped still serves */
	conn_down();
}
END_TEST

START_TEST(test_pins)
{
	conn_up(2, false);
	uint32_t c1, c2, c3;
	uint8_t *a1, *a2, *a3;
	uint64_t v1, v2, v3;
	ck_assert_int_eq(dax_pin(conn.dax, 1, 1001, file_len[1], 2 * MiB + 10, &c1, &a1, &v1), 0);
	ck_assert_uint_eq(v1, CHUNK - 10);
	ck_assert_int_eq(memcmp(a1, file_data[1] + 2 * MiB + 10, v1), 0);
	/* Cycle other files through the one chunk left: the pinned one stays. */
	read_whole(4, 1 << 20);
	read_whole(2, 1 << 20);
	ck_assert_int_eq(memcmp(a1, file_data[1] + 2 * MiB + 10, v1), 0);
	ck_assert_uint_gt(atomic_load(&conn.dax->st.evictions), 0);
	/* A second pin of the same chunk is a hit; then every chunk pinned. */
	int setups = srv.setups;
	ck_assert_int_eq(dax_pin(conn.dax, 1, 1001, file_len[1], 2 * MiB, &c2, &a2, &v2), 0);
	ck_assert_uint_eq(c2, c1);
	ck_assert_int_eq(srv.setups, setups);
	ck_assert_int_eq(dax_pin(conn.dax, 3, 1003, file_len[3], 0, &c3, &a3, &v3), 0);
	ck_assert_uint_eq(v3, 1000);
	ck_assert_uint_eq(dax_pinned(conn.dax), 2);
	uint8_t b[10];
	ck_assert_int_eq(dax_read_sized(conn.dax, 4, 1004, file_len[4], 0, b, sizeof(b)), -EAGAIN);
	ck_assert_int_eq(dax_pin(conn.dax, 3, 1003, file_len[3], 1000, &c3, &a3, &v3), -ENXIO);
	dax_unpin(conn.dax, c3);
	/* The file changed: the pinned chunk is out of the lookups but stays
	 * mapped for its users until the last unpin. */
	int removes = srv.removes;
	dax_invalidate(conn.dax, 1);
	ck_assert_int_eq(srv.removes, removes);
	ck_assert_int_eq(memcmp(a1, file_data[1] + 2 * MiB + 10, v1), 0);
	setups = srv.setups;
	ck_assert_int_eq(rd(1, 2 * MiB, 100), 100); /* a miss: mapped anew in the other chunk */
	ck_assert_int_eq(srv.setups, setups + 1);
	removes = srv.removes;
	dax_unpin(conn.dax, c1);
	ck_assert_int_eq(srv.removes, removes);
	dax_unpin(conn.dax, c2); /* the last one: the stale mapping goes */
	ck_assert_int_eq(srv.removes, removes + 1);
	ck_assert_uint_eq(dax_pinned(conn.dax), 0);
	ck_assert_int_eq(rd(1, 2 * MiB, 100), 100);
	conn_down();
}
END_TEST

/* The guest-memory window (dax_guest.c, no device window): chunks filled
 * by FUSE_READ, rotated in their memory (reads that wrap use out2). With
 * async set the fake connection has start/wait/done: a batch's replies
 * come in after `async` polls of done (or at wait), so a reader waiting
 * for a fill finds idle time, which the window spends preparing the
 * memory of the free chunks next in line. */
struct fake_batch {
	struct fuse_call *const *c;
	unsigned n;
	int polls; /* done's left before the replies are in */
	bool ran;
	int err;
};

static void batch_run(struct virtiofs_conn *cn, struct fake_batch *b)
{
	for (unsigned i = 0; i < b->n && !b->ran; i++) {
		int e = fake_call(cn, b->c[i]);
		b->err = b->err ? b->err : e;
	}
	b->ran = true;
}

static int fake_start(struct virtiofs_conn *cn, struct fuse_call *const *c, unsigned n,
		      void **token)
{
	(void)cn;
	struct fake_batch *b = calloc(1, sizeof(*b));
	ck_assert_ptr_nonnull(b);
	*b = (struct fake_batch){.c = c, .n = n, .polls = srv.async};
	*token = b;
	return 0;
}

static bool fake_done(struct virtiofs_conn *cn, void *token)
{
	struct fake_batch *b = token;
	srv.polls++;
	if (--b->polls > 0)
		return false;
	batch_run(cn, b);
	return true;
}

static int fake_wait(struct virtiofs_conn *cn, void *token)
{
	struct fake_batch *b = token;
	batch_run(cn, b);
	int e = b->err;
	free(b);
	return e;
}

static const struct virtiofs_conn_ops async_ops = {.call = fake_call,
						   .start = fake_start,
						   .wait = fake_wait,
						   .done = fake_done,
						   .forget = fake_forget};

static void guest_up(uint32_t chunks, int async)
{
	memset(&srv, 0, sizeof(srv));
	srv.async = async;
	memset(&conn, 0, sizeof(conn));
	strcpy(conn.tag, "daxguest");
	conn.ops = async ? &async_ops : &fake_ops;
	conn.max_read = 128 * 1024;
	conn.map_alignment = 12;
	ck_assert_int_eq(virtiofs_window_create(&conn, (uint64_t)chunks * CHUNK), 0);
	ck_assert_ptr_null(conn.dax_dev);
	ck_assert_ptr_nonnull(conn.dax);
	ck_assert_uint_ne(conn.dax->skew, 0); /* rotated: reads wrap (out2) */
}

static void guest_down(void)
{
	virtiofs_window_destroy(&conn);
	ck_assert_ptr_null(conn.dax);
}

/* Free chunks holding memory (a prepared block, or one left by a fill). */
static uint32_t free_with_memory(void)
{
	uint32_t n = 0;
	struct dax_mgr *m = conn.dax;
	for (uint32_t c = m->free; c != DAX_NO_CHUNK; c = m->chunks[c].hnext)
		n += m->chunk_addr[c] != NULL;
	return n;
}

START_TEST(test_guest_data_equal)
{
	guest_up(8, _i ? 3 : 0);
	for (int i = 1; i <= NFILE; i++)
		read_whole(i, 65536);
	/* One fill per chunk of each file (3 + 1 + 1 + 2); none past the end
	 * of a file, even one that ends on a chunk boundary (file 2). */
	ck_assert_uint_eq(atomic_load(&conn.dax->st.maps), 7);
	int reads = srv.reads;
	for (int i = 1; i <= NFILE; i++)
		read_whole(i, 12345); /* hits, across chunks, at odd offsets */
	ck_assert_int_eq(rd(3, 999, 10), 1);
	ck_assert_int_eq(rd(4, 3 * MiB + 4096, 10), 1); /* the last byte */
	ck_assert_int_eq(rd(2, 2 * MiB, 10), 0);	/* at the end: no fill past it */
	ck_assert_int_eq(rd(2, 2 * MiB - 5, 10), 5);
	ck_assert_int_eq(srv.reads, reads);
	guest_down();
}
END_TEST

START_TEST(test_guest_prepares_while_waiting)
{
	/* Replies that come late: the waits prepare the free chunks next in
	 * line, at most 2 * DAX_READAHEAD of them, and the chunks filled
	 * later use those blocks. */
	guest_up(16, 1000);
	read_whole(1, 1 << 20);
	ck_assert_int_gt(srv.polls, 0);
	uint32_t prepared = free_with_memory();
	ck_assert_uint_gt(prepared, 0);
	ck_assert_uint_le(prepared, 2 * DAX_READAHEAD);
	ck_assert_uint_ge(atomic_load(&conn.dax->st.prepared),
			  prepared - 1); /* one may be partial */
	uint8_t *next = conn.dax->chunk_addr[conn.dax->free];
	ck_assert_ptr_nonnull(next);
	read_whole(3, 1 << 20); /* the next fill takes the head of the free list */
	uint32_t c3 = DAX_NO_CHUNK;
	for (uint32_t c = 0; c < conn.dax->nchunks; c++)
		if (conn.dax->chunks[c].nodeid == 3)
			c3 = c;
	ck_assert_uint_ne(c3, DAX_NO_CHUNK);
	ck_assert_ptr_eq(conn.dax->chunk_addr[c3], next);
	for (int i = 1; i <= NFILE; i++)
		read_whole(i, 77777);
	/* Memory pressure gives the prepared blocks back first (nothing
	 * cached is lost). */
	uint32_t in_use = dax_in_use(conn.dax);
	prepared = free_with_memory();
	ck_assert_uint_eq(dax_shrink(conn.dax, conn.dax->nchunks, false), prepared);
	ck_assert_uint_eq(free_with_memory(), 0);
	ck_assert_uint_eq(dax_in_use(conn.dax), in_use);
	read_whole(1, 1 << 20);
	guest_down();
}
END_TEST

START_TEST(test_guest_no_idle_no_prepare)
{
	/* Replies in at the first poll: no idle time, nothing prepared (a
	 * free chunk holds memory only where a fill left it). */
	guest_up(16, 1);
	for (int i = 1; i <= NFILE; i++)
		read_whole(i, 1 << 20);
	ck_assert_uint_eq(free_with_memory(), 0);
	ck_assert_uint_eq(atomic_load(&conn.dax->st.prepared), 0);
	guest_down();
}
END_TEST

static Suite *dax_dev_suite(void)
{
	Suite *s = suite_create("dax_dev");
	TCase *t = tcase_create("device window");
	tcase_add_unchecked_fixture(t, setup_files, teardown_files);
	tcase_add_loop_test(t, test_data_equal, 0, 2); /* 1: Device memory, aligned loads */
	tcase_add_test(t, test_full_window_remaps);
	tcase_add_test(t, test_refused_falls_back);
	tcase_add_test(t, test_pins);
	suite_add_tcase(s, t);
	TCase *g = tcase_create("guest window");
	tcase_add_unchecked_fixture(g, setup_files, teardown_files);
	tcase_add_loop_test(g, test_guest_data_equal, 0, 2); /* 1: replies come late */
	tcase_add_test(g, test_guest_prepares_while_waiting);
	tcase_add_test(g, test_guest_no_idle_no_prepare);
	suite_add_tcase(s, g);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(dax_dev_suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
