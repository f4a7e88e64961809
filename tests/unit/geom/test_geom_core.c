/*
 * Check suite for the GEOM core with its threads running: building and
 * tearing down the graph, access rules, request checks (misaligned, past
 * the end), cloning and g_std_done with errors, orphaning with I/O in
 * flight, control requests and dumps, observers of providers coming and
 * going, and the no-sleep rule of g_down.
 */
#include "geom_test.h"
#include <check.h>
#include <errno.h>
#include <karst/kmem.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB (1ULL << 20)

static void setup(void)
{
	gt_start();
}

static void teardown(void)
{
	gt_stop();
}

START_TEST(test_graph_build_and_teardown)
{
	ck_assert_int_eq(g_md_create("md0", MB, 512, NULL, 0), 0);
	ck_assert_int_eq(g_md_create("md0", MB, 512, NULL, 0), -EEXIST);
	ck_assert_int_eq(g_md_create("bad", MB + 1, 512, NULL, 0), -EINVAL);
	ck_assert_int_eq(g_md_create("bad", MB, 1000, NULL, 0), -EINVAL);
	g_waitidle();

	g_topology_lock();
	struct g_provider *pp = g_find_provider("md0");
	ck_assert_ptr_nonnull(pp);
	ck_assert_uint_eq(pp->mediasize, MB);
	ck_assert_uint_eq(pp->sectorsize, 512);
	ck_assert_str_eq(pp->geom->class->name, "MD");
	/* A blank disk: PART and LABEL tasted it and built nothing. */
	ck_assert(list_empty(&pp->consumers));
	ck_assert_ptr_null(g_find_geom(&g_part_class, "md0"));
	g_topology_unlock();

	struct g_consumer *cp;
	ck_assert_int_eq(g_open("nonexistent", 1, 0, 0, NULL, NULL, &cp), -ENOENT);
	ck_assert_int_eq(g_open("md0", 1, 1, 0, NULL, NULL, &cp), 0);
	uint8_t wbuf[4096], rbuf[4096];
	gt_fill(wbuf, sizeof(wbuf), 1, 8192);
	ck_assert_int_eq(g_write_data(cp, 8192, wbuf, sizeof(wbuf)), 0);
	ck_assert_int_eq(g_read_data(cp, 8192, rbuf, sizeof(rbuf)), 0);
	ck_assert_mem_eq(wbuf, rbuf, sizeof(rbuf));
	/* Never-written ranges read as zeros. */
	ck_assert_int_eq(g_read_data(cp, MB - 4096, rbuf, sizeof(rbuf)), 0);
	for (size_t i = 0; i < sizeof(rbuf); i++)
		ck_assert_uint_eq(rbuf[i], 0);
	ck_assert_int_eq(g_flush(cp), 0);

	char out[4096];
	struct g_sbuf sb;
	g_sbuf_init(&sb, out, sizeof(out));
	g_conf_list(&sb, NULL);
	ck_assert_ptr_nonnull(strstr(out, "Geom name: md0\nClass: MD\n"));
	ck_assert_ptr_nonnull(strstr(out, "   Mediasize: 1048576 (1.0M)\n"));
	ck_assert_ptr_nonnull(strstr(out, "   Mode: r1w1e0\n"));
	ck_assert_ptr_nonnull(strstr(out, "Geom name: user:md0\nClass: USER\n"));

	/* Open: destroy refuses without force. */
	ck_assert_int_eq(g_md_destroy("md0", false), -EBUSY);
	g_close(cp);
	ck_assert_int_eq(g_md_destroy("md0", false), 0);
	ck_assert(gt_wait_provider("md0", false));
	ck_assert_int_eq(g_md_destroy("md0", false), -ENOENT);
	g_topology_lock();
	ck_assert(list_empty(&g_md_class.geoms));
	g_topology_unlock();
}
END_TEST

START_TEST(test_access_rules)
{
	struct g_consumer *a, *b, *c;
	ck_assert_int_eq(g_md_create("md0", MB, 512, NULL, 0), 0);
	ck_assert_int_eq(g_open("md0", 1, 1, 1, NULL, NULL, &a), 0);
	/* Someone holds it exclusively: no other writer. */
	ck_assert_int_eq(g_open("md0", 0, 1, 0, NULL, NULL, &b), -EPERM);
	ck_assert_int_eq(g_open("md0", 1, 0, 0, NULL, NULL, &b), 0);
	/* Exclusive while someone else writes: refused. */
	ck_assert_int_eq(g_open("md0", 1, 0, 1, NULL, NULL, &c), -EPERM);
	uint8_t buf[512] = {0};
	ck_assert_int_eq(g_read_data(b, 0, buf, sizeof(buf)), 0);
	/* b may not write: it never asked to. */
	ck_assert_int_eq(g_write_data(b, 0, buf, sizeof(buf)), -EPERM);
	ck_assert_int_eq(g_flush(b), -EPERM);
	g_close(a);
	g_close(b);
	g_topology_lock();
	struct g_provider *pp = g_find_provider("md0");
	ck_assert_int_eq(pp->acr + pp->acw + pp->ace, 0);
	g_topology_unlock();
}
END_TEST

START_TEST(test_misaligned_and_past_end)
{
	struct g_consumer *cp;
	uint8_t buf[8192];
	ck_assert_int_eq(g_md_create("md0", MB, 4096, NULL, 0), 0);
	ck_assert_int_eq(g_open("md0", 1, 1, 0, NULL, NULL, &cp), 0);
	ck_assert_int_eq(g_read_data(cp, 512, buf, 4096), -EINVAL);
	ck_assert_int_eq(g_read_data(cp, 0, buf, 4097), -EINVAL);
	ck_assert_int_eq(g_write_data(cp, 4096, buf, 100), -EINVAL);
	ck_assert_int_eq(g_read_data(cp, MB + 4096, buf, 4096), -EIO);
	/* Starting inside, ending outside: truncated at the end as FreeBSD does,
	 * so the synchronous helper reports a short transfer. */
	ck_assert_int_eq(g_read_data(cp, MB - 4096, buf, 8192), -EIO);

	/* Exactly at the end: a zero-length success (see test_completed_counts). */
	struct gt_batch b;
	gt_batch_init(&b);
	gt_submit(&b, cp, BIO_READ, MB, buf, 4096);
	gt_wait(&b, 1);
	ck_assert_int_eq(atomic_load(&b.errors), 0);
	gt_batch_destroy(&b);
	g_close(cp);
}
END_TEST

/* A test class that splits each request into four clones, one quarter
 * each, to check g_clone_bio / g_std_done accounting and error keeping.
 * The softc says which clones to sabotage. */
struct split_sc {
	struct g_consumer *cp;
	uint64_t lower_size;
	_Atomic int bad_eio, bad_einval; /* clone index or -1; tasting reads them too */
};

static void split_start(struct bio *bp)
{
	struct split_sc *sc = bp->to->geom->softc;
	struct bio *c[4];
	for (int i = 0; i < 4; i++) {
		c[i] = g_clone_bio(bp);
		ck_assert_ptr_nonnull(c[i]);
		c[i]->length = bp->length / 4;
		c[i]->offset = bp->offset + i * c[i]->length;
		c[i]->data = (uint8_t *)bp->data + i * c[i]->length;
		if (i == sc->bad_eio)
			c[i]->offset = sc->lower_size + 4096;
		if (i == sc->bad_einval)
			c[i]->offset += 1;
	}
	ck_assert_uint_eq(bp->children, 4);
	ck_assert_ptr_eq(c[2]->parent, bp);
	ck_assert_ptr_eq(c[2]->done, g_std_done);
	for (int i = 0; i < 4; i++)
		g_io_request(c[i], sc->cp);
}

static void split_release(struct g_geom *gp)
{
	kfree(gp->softc);
}

static struct g_class split_class = {
    .name = "SPLIT",
    .start = split_start,
    .access = g_std_access,
    .orphan = g_std_orphan,
    .release = split_release,
    .destroy_geom = NULL,
};

static struct split_sc *split_create(const char *lower)
{
	struct split_sc *sc = kzalloc(sizeof(*sc));
	sc->bad_eio = sc->bad_einval = -1;
	g_topology_lock();
	struct g_provider *pp = g_find_provider(lower);
	ck_assert_ptr_nonnull(pp);
	struct g_geom *gp = g_new_geom(&split_class, "split0");
	gp->softc = sc;
	sc->cp = g_new_consumer(gp);
	ck_assert_int_eq(g_attach(sc->cp, pp), 0);
	sc->lower_size = pp->mediasize;
	struct g_provider *npp = g_new_provider(gp, "split0");
	npp->mediasize = pp->mediasize;
	npp->sectorsize = pp->sectorsize;
	g_provider_ready(npp);
	g_topology_unlock();
	return sc;
}

static int split_destroy(struct g_class *mp, struct g_geom *gp, bool force)
{
	g_wither_geom(gp, -ENXIO);
	return 0;
}

START_TEST(test_clone_and_std_done)
{
	split_class.destroy_geom = split_destroy;
	ck_assert_int_eq(g_class_register(&split_class), 0);
	ck_assert_int_eq(g_md_create("md0", MB, 512, NULL, 0), 0);
	struct split_sc *sc = split_create("md0");
	struct g_consumer *cp, *raw;
	ck_assert_int_eq(g_open("split0", 1, 1, 0, NULL, NULL, &cp), 0);
	ck_assert_int_eq(g_open("md0", 1, 0, 0, NULL, NULL, &raw), 0);

	static uint8_t w[16384], r[16384];
	gt_fill(w, sizeof(w), 5, 0);
	/* All four clones succeed: the parent completes with everything. */
	ck_assert_int_eq(g_write_data(cp, 65536, w, sizeof(w)), 0);
	ck_assert_int_eq(g_read_data(raw, 65536, r, sizeof(r)), 0);
	ck_assert_mem_eq(w, r, sizeof(r));

	/* Clone 1 fails with EIO and clone 3 with EINVAL: the first error to
	 * complete (clone 1: one g_down, one g_up, both FIFO) is kept and the
	 * transferred bytes count the two good quarters only. */
	sc->bad_eio = 1;
	sc->bad_einval = 3;
	struct gt_batch b;
	gt_batch_init(&b);
	gt_submit(&b, cp, BIO_READ, 65536, r, sizeof(r));
	gt_wait(&b, 1);
	ck_assert_int_eq(atomic_load(&b.first_error), -EIO);

	/* Only EINVAL. */
	sc->bad_eio = -1;
	gt_submit(&b, cp, BIO_READ, 65536, r, sizeof(r));
	gt_wait(&b, 1);
	ck_assert_int_eq(atomic_load(&b.errors), 2);
	ck_assert_int_eq(g_read_data(cp, 65536, r, sizeof(r)), -EINVAL);
	sc->bad_einval = -1;
	ck_assert_int_eq(g_read_data(cp, 65536, r, sizeof(r)), 0);
	gt_batch_destroy(&b);
	g_close(cp);
	g_close(raw);
}
END_TEST

/* Completed byte counts of a clone tree, checked from a done() callback. */
struct count_ctx {
	struct semaphore sem;
	uint64_t completed;
	int error;
};

static void count_done(struct bio *bp)
{
	struct count_ctx *c = bp->caller1;
	c->completed = bp->completed;
	c->error = atomic_load(&bp->error);
	g_destroy_bio(bp);
	sema_up(&c->sem);
}

static void count_io(struct g_consumer *cp, enum bio_cmd cmd, uint64_t off, void *buf, size_t len,
		     struct count_ctx *c)
{
	struct bio *bp = g_new_bio();
	bp->cmd = cmd;
	bp->offset = off;
	bp->length = len;
	bp->data = buf;
	bp->done = count_done;
	bp->caller1 = c;
	g_io_request(bp, cp);
	sema_down(&c->sem);
}

START_TEST(test_completed_counts)
{
	split_class.destroy_geom = split_destroy;
	ck_assert_int_eq(g_class_register(&split_class), 0);
	ck_assert_int_eq(g_md_create("md0", MB, 512, NULL, 0), 0);
	struct split_sc *sc = split_create("md0");
	struct g_consumer *cp, *raw;
	ck_assert_int_eq(g_open("split0", 1, 1, 0, NULL, NULL, &cp), 0);
	/* split0 open for writing holds md0 exclusively. */
	ck_assert_int_eq(g_open("md0", 1, 1, 0, NULL, NULL, &raw), -EPERM);
	static uint8_t buf[8192];
	struct count_ctx c;
	sema_init(&c.sem, 0);
	count_io(cp, BIO_READ, 0, buf, 8192, &c);
	ck_assert_int_eq(c.error, 0);
	ck_assert_uint_eq(c.completed, 8192);
	sc->bad_eio = 2;
	count_io(cp, BIO_READ, 0, buf, 8192, &c);
	ck_assert_int_eq(c.error, -EIO);
	ck_assert_uint_eq(c.completed, 6144);
	sc->bad_eio = -1;
	g_close(cp);
	ck_assert_int_eq(g_open("md0", 1, 1, 0, NULL, NULL, &raw), 0);
	/* Truncation at the end: 2 of 4 sectors exist. */
	count_io(raw, BIO_WRITE, MB - 1024, buf, 2048, &c);
	ck_assert_int_eq(c.error, 0);
	ck_assert_uint_eq(c.completed, 1024);
	count_io(raw, BIO_READ, MB, buf, 512, &c);
	ck_assert_int_eq(c.error, 0);
	ck_assert_uint_eq(c.completed, 0);
	count_io(raw, BIO_READ, MB + 512, buf, 512, &c);
	ck_assert_int_eq(c.error, -EIO);
	count_io(raw, BIO_DELETE, 0, NULL, 65536, &c);
	ck_assert_int_eq(c.error, 0);
	ck_assert_uint_eq(c.completed, 65536);
	sema_destroy(&c.sem);
	g_close(raw);
}
END_TEST

static _Atomic int orphaned;

static void note_orphan(struct g_consumer *cp, void *arg)
{
	atomic_fetch_add(&orphaned, 1);
}

/* The disk goes away while delayed requests are in flight through a NOP:
 * every request completes (with ENXIO once the disk is gone), the user is
 * told, new requests fail at once, and after g_close the washer frees the
 * whole stack. */
START_TEST(test_orphan_with_io_in_flight)
{
	struct g_nop_config cfg = {.delay_us = 100000};
	ck_assert_int_eq(g_md_create("md0", MB, 512, NULL, 0), 0);
	ck_assert_int_eq(g_nop_create("md0", &cfg), 0);
	g_waitidle(); /* tasting md0.nop reads through the delay too */
	struct g_consumer *cp;
	atomic_store(&orphaned, 0);
	ck_assert_int_eq(g_open("md0.nop", 1, 1, 0, note_orphan, NULL, &cp), 0);
	static uint8_t buf[16][4096];
	struct gt_batch b;
	gt_batch_init(&b);
	for (int i = 0; i < 16; i++)
		gt_submit(&b, cp, i & 1 ? BIO_WRITE : BIO_READ, (uint64_t)i * 4096, buf[i], 4096);
	ck_assert_int_eq(g_md_destroy("md0", true), 0);
	gt_wait(&b, 16);
	ck_assert_int_eq(atomic_load(&b.errors), 16);
	ck_assert_int_eq(atomic_load(&b.first_error), -ENXIO);
	g_waitidle();
	ck_assert_int_eq(atomic_load(&orphaned), 1);
	/* New I/O fails at once, never hangs. */
	ck_assert_int_eq(g_read_data(cp, 0, buf[0], 4096), -ENXIO);
	ck_assert_int_eq(g_write_data(cp, 0, buf[0], 4096), -ENXIO);
	/* Re-opening more is refused. */
	g_topology_lock();
	ck_assert_int_eq(g_access(cp, 1, 0, 0), -ENXIO);
	g_topology_unlock();
	/* Still there until the user lets go. */
	ck_assert(gt_provider_exists("md0.nop") == false); /* withering: not found by name */
	g_close(cp);
	g_waitidle();
	uint64_t end = time_ns() + 5 * NSEC_PER_SEC;
	bool empty = false;
	while (!empty && time_ns() < end) {
		g_waitidle();
		g_topology_lock();
		empty = list_empty(&g_md_class.geoms) && list_empty(&g_nop_class.geoms);
		g_topology_unlock();
		thread_sleep_ns(NSEC_PER_MSEC);
	}
	ck_assert(empty);
	gt_batch_destroy(&b);
}
END_TEST

/* Destroy the disk while a stream of undelayed requests runs: each one
 * completes, with success before and ENXIO after. */
START_TEST(test_orphan_racing_stream)
{
	ck_assert_int_eq(g_md_create("md0", 4 * MB, 512, NULL, 0), 0);
	ck_assert_int_eq(g_nop_create("md0", NULL), 0);
	struct g_consumer *cp;
	ck_assert_int_eq(g_open("md0.nop", 1, 1, 0, NULL, NULL, &cp), 0);
	static uint8_t buf[32][4096];
	struct gt_batch b;
	gt_batch_init(&b);
	int submitted = 0;
	for (int i = 0; i < 32; i++, submitted++)
		gt_submit(&b, cp, BIO_WRITE, (uint64_t)i * 4096, buf[i], 4096);
	for (int round = 0; round < 2000; round++) {
		gt_wait(&b, 1);
		if (round == 500)
			ck_assert_int_eq(g_md_destroy("md0", true), 0);
		gt_submit(&b, cp, round & 1 ? BIO_READ : BIO_WRITE, (uint64_t)(round % 32) * 4096,
			  buf[round % 32], 4096);
		submitted++;
	}
	gt_wait(&b, 32);
	ck_assert_int_eq(atomic_load(&b.completed), submitted);
	ck_assert_int_ge(atomic_load(&b.errors), 1400);
	ck_assert_int_eq(atomic_load(&b.first_error), -ENXIO);
	g_close(cp);
	gt_batch_destroy(&b);
}
END_TEST

/* A start() that sleeps: the debug build's no-sleep assertion fires on
 * g_down and aborts. */
static void sleepy_start(struct bio *bp)
{
	thread_sleep_ns(1000);
	g_io_deliver(bp, 0);
}

static struct g_class sleepy_class = {.name = "SLEEPY", .start = sleepy_start};

START_TEST(test_start_may_not_sleep)
{
	ck_assert_int_eq(g_class_register(&sleepy_class), 0);
	g_topology_lock();
	struct g_geom *gp = g_new_geom(&sleepy_class, "sleepy");
	struct g_provider *pp = g_new_provider(gp, "sleepy0");
	pp->mediasize = MB;
	pp->sectorsize = 512;
	g_provider_ready(pp);
	g_topology_unlock();
	struct g_consumer *cp;
	ck_assert_int_eq(g_open("sleepy0", 1, 0, 0, NULL, NULL, &cp), 0);
	uint8_t buf[512];
	g_read_data(cp, 0, buf, sizeof(buf)); /* never returns: g_down panics */
	ck_abort_msg("g_down slept without tripping the assertion");
}
END_TEST

/* And g_read_data, which sleeps, from a start(). */
static struct g_consumer *nested_cp;

static void nested_start(struct bio *bp)
{
	uint8_t buf[512];
	g_read_data(nested_cp, 0, buf, sizeof(buf));
	g_io_deliver(bp, 0);
}

static struct g_class nested_class = {.name = "NESTED", .start = nested_start};

START_TEST(test_start_may_not_read_data)
{
	ck_assert_int_eq(g_class_register(&nested_class), 0);
	ck_assert_int_eq(g_md_create("md0", MB, 512, NULL, 0), 0);
	ck_assert_int_eq(g_open("md0", 1, 0, 0, NULL, NULL, &nested_cp), 0);
	g_topology_lock();
	struct g_geom *gp = g_new_geom(&nested_class, "nested");
	struct g_provider *pp = g_new_provider(gp, "nested0");
	pp->mediasize = MB;
	pp->sectorsize = 512;
	g_provider_ready(pp);
	g_topology_unlock();
	struct g_consumer *cp;
	ck_assert_int_eq(g_open("nested0", 1, 0, 0, NULL, NULL, &cp), 0);
	uint8_t buf[512];
	g_read_data(cp, 0, buf, sizeof(buf));
	ck_abort_msg("g_read_data on g_down did not trip the assertion");
}
END_TEST

START_TEST(test_ctl_requests)
{
	char out[4096];
	struct g_sbuf sb;
	g_sbuf_init(&sb, out, sizeof(out));
	const char *create[] = {"create", "name=md7", "size=2m", "sectorsize=4096"};
	ck_assert_int_eq(g_ctl("MD", 4, create, &sb), 0);
	ck_assert(gt_wait_provider("md7", true));
	g_topology_lock();
	ck_assert_uint_eq(g_find_provider("md7")->mediasize, 2 * MB);
	ck_assert_uint_eq(g_find_provider("md7")->sectorsize, 4096);
	g_topology_unlock();
	ck_assert_int_eq(g_ctl("MD", 4, create, &sb), -EEXIST);
	ck_assert_ptr_nonnull(strstr(out, "cannot create md7"));

	const char *nocls[] = {"create"};
	ck_assert_int_eq(g_ctl("NOSUCH", 1, nocls, &sb), -ENOENT);
	const char *bad[] = {"create", "name=x", "size=12q"};
	ck_assert_int_eq(g_ctl("MD", 3, bad, &sb), -EINVAL);
	const char *verb[] = {"explode", "name=md7"};
	ck_assert_int_eq(g_ctl("MD", 2, verb, &sb), -EINVAL);

	const char *nop[] = {"create", "provider=md7", "rfail=100", "seed=3"};
	ck_assert_int_eq(g_ctl("NOP", 4, nop, &sb), 0);
	ck_assert(gt_wait_provider("md7.nop", true));
	struct g_consumer *cp;
	uint8_t buf[4096];
	ck_assert_int_eq(g_open("md7.nop", 1, 1, 0, NULL, NULL, &cp), 0);
	struct g_nop_stats s0, s1;
	ck_assert_int_eq(g_nop_get_stats("md7.nop", &s0), 0); /* tasting read it too */
	ck_assert_int_eq(g_read_data(cp, 0, buf, sizeof(buf)), -EIO);
	ck_assert_int_eq(g_write_data(cp, 0, buf, sizeof(buf)), 0);
	ck_assert_int_eq(g_nop_get_stats("md7.nop", &s1), 0);
	ck_assert_uint_eq(s1.reads - s0.reads, 1);
	ck_assert_uint_eq(s1.rfailures - s0.rfailures, 1);
	ck_assert_uint_eq(s1.writes - s0.writes, 1);
	ck_assert_uint_eq(s1.wfailures, 0);
	g_sbuf_init(&sb, out, sizeof(out));
	const char *stats[] = {"stats", "name=md7.nop"};
	ck_assert_int_eq(g_ctl("NOP", 2, stats, &sb), 0);
	ck_assert_ptr_nonnull(strstr(out, "Faults: rfail 1000000 ppm"));
	ck_assert_ptr_nonnull(strstr(out, " 1 writes, 0 other, "));
	const char *conf[] = {"configure", "name=md7.nop", "rfail_ppm=0"};
	ck_assert_int_eq(g_ctl("NOP", 3, conf, &sb), 0);
	ck_assert_int_eq(g_read_data(cp, 0, buf, sizeof(buf)), 0);
	const char *badrate[] = {"configure", "name=md7.nop", "rfail=101"};
	ck_assert_int_eq(g_ctl("NOP", 3, badrate, &sb), -EINVAL);
	const char *busy[] = {"destroy", "name=md7.nop"};
	ck_assert_int_eq(g_ctl("NOP", 2, busy, &sb), -EBUSY);
	g_close(cp);
	ck_assert_int_eq(g_ctl("NOP", 2, busy, &sb), 0);
	ck_assert(gt_wait_provider("md7.nop", false));
	const char *mdd[] = {"destroy", "name=md7"};
	ck_assert_int_eq(g_ctl("MD", 2, mdd, &sb), 0);
	ck_assert(gt_wait_provider("md7", false));
}
END_TEST

/* An observer that logs "+name" and "-name" lines. */
struct obs_log {
	struct mutex lock;
	char text[4096];
	size_t len;
};

static void obs_append(struct obs_log *log, char sign, const char *name)
{
	mutex_lock(&log->lock);
	int n = snprintf(log->text + log->len, sizeof(log->text) - log->len, "%c%s\n", sign, name);
	if (n > 0 && (size_t)n < sizeof(log->text) - log->len)
		log->len += (size_t)n;
	mutex_unlock(&log->lock);
}

static void obs_ready(struct g_provider *pp, void *arg)
{
	ck_assert(g_topology_locked());
	ck_assert(pp->mediasize > 0 && pp->sectorsize > 0);
	obs_append(arg, '+', pp->name);
}

static void obs_gone(struct g_provider *pp, void *arg)
{
	ck_assert(g_topology_locked());
	obs_append(arg, '-', pp->name);
}

/* Lines of the log equal to sign+name. */
static int obs_count(struct obs_log *log, char sign, const char *name)
{
	char line[G_NAME_MAX + 4];
	snprintf(line, sizeof(line), "\n%c%s\n", sign, name);
	int n = 0;
	mutex_lock(&log->lock);
	for (const char *p = log->text; (p = strstr(p, line)) != NULL; p++)
		n++;
	mutex_unlock(&log->lock);
	return n;
}

/* Wait (up to 10 s) for a line to be logged: the washer may report a
 * provider gone after g_waitidle has returned. */
static bool obs_wait(struct obs_log *log, char sign, const char *name)
{
	uint64_t end = time_ns() + 10 * NSEC_PER_SEC;
	while (obs_count(log, sign, name) == 0) {
		if (time_ns() > end)
			return false;
		g_waitidle();
		thread_sleep_ns(NSEC_PER_MSEC);
	}
	return true;
}

static size_t obs_pos(struct obs_log *log, char sign, const char *name)
{
	char line[G_NAME_MAX + 4];
	snprintf(line, sizeof(line), "\n%c%s\n", sign, name);
	mutex_lock(&log->lock);
	const char *p = strstr(log->text, line);
	size_t pos = p ? (size_t)(p - log->text) : SIZE_MAX;
	mutex_unlock(&log->lock);
	return pos;
}

START_TEST(test_observer_sees_providers_come_and_go)
{
	static struct obs_log log;
	memset(&log, 0, sizeof(log));
	mutex_init(&log.lock, "obs_log");
	log.text[0] = '\n';
	log.len = 1;
	struct g_observer obs = {
	    .name = "test", .provider_ready = obs_ready, .provider_gone = obs_gone, .arg = &log};

	/* A provider that exists already is announced at registration. */
	ck_assert_int_eq(g_md_create("ob0", MB, 512, NULL, 0), 0);
	g_waitidle();
	ck_assert_int_eq(g_observer_register(&obs), 0);
	ck_assert_int_eq(obs_count(&log, '+', "ob0"), 1);
	ck_assert_int_eq(g_observer_register(&obs), -EEXIST);

	/* New providers, and those tasting makes, parents first. */
	static const uint64_t parts[] = {1024, 1024};
	uint8_t *img = gt_gpt_image(4 * MB, 512, 2, parts);
	ck_assert_int_eq(g_md_create("ob1", 4 * MB, 512, img, 4 * MB), 0);
	free(img);
	ck_assert(obs_wait(&log, '+', "ob1p2"));
	ck_assert_int_eq(obs_count(&log, '+', "ob1"), 1);
	ck_assert_int_eq(obs_count(&log, '+', "ob1p1"), 1);
	ck_assert(obs_pos(&log, '+', "ob1") < obs_pos(&log, '+', "ob1p1"));

	/* Retasting after a writer closes announces nothing again. */
	struct g_nop_config cfg = {.seed = 1};
	ck_assert_int_eq(g_nop_create("ob0", &cfg), 0);
	ck_assert(obs_wait(&log, '+', "ob0.nop"));
	struct g_consumer *cp;
	ck_assert_int_eq(g_open("ob0.nop", 1, 1, 0, NULL, NULL, &cp), 0);
	uint8_t buf[512] = {1};
	ck_assert_int_eq(g_write_data(cp, 0, buf, sizeof(buf)), 0);
	/* Orphaned while open: gone at once, not when closed. */
	ck_assert_int_eq(g_nop_destroy("ob0.nop", true), 0);
	ck_assert(obs_wait(&log, '-', "ob0.nop"));
	g_close(cp);
	ck_assert(gt_wait_provider("ob0.nop", false));
	ck_assert_int_eq(obs_count(&log, '+', "ob0"), 1);
	ck_assert_int_eq(obs_count(&log, '-', "ob0"), 0);
	ck_assert_int_eq(obs_count(&log, '+', "ob0.nop"), 1);

	/* Destroyed from the event thread: the washer frees the providers
	 * before their orphan events run; each is still reported once. */
	char out[1024];
	struct g_sbuf sb;
	g_sbuf_init(&sb, out, sizeof(out));
	const char *mdd[] = {"destroy", "name=ob1"};
	ck_assert_int_eq(g_ctl("MD", 2, mdd, &sb), 0);
	ck_assert(gt_wait_provider("ob1", false));
	ck_assert(obs_wait(&log, '-', "ob1"));
	ck_assert(obs_wait(&log, '-', "ob1p1"));
	ck_assert(obs_wait(&log, '-', "ob1p2"));
	ck_assert_int_eq(g_md_destroy("ob0", false), 0);
	ck_assert(obs_wait(&log, '-', "ob0"));
	g_waitidle();
	static const char *const names[] = {"ob0", "ob0.nop", "ob1", "ob1p1", "ob1p2"};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		ck_assert_int_eq(obs_count(&log, '+', names[i]), 1);
		ck_assert_int_eq(obs_count(&log, '-', names[i]), 1);
	}

	/* Unregistered: told nothing more. */
	ck_assert_int_eq(g_observer_unregister(&obs), 0);
	ck_assert_int_eq(g_observer_unregister(&obs), -ENOENT);
	ck_assert_int_eq(g_md_create("ob2", MB, 512, NULL, 0), 0);
	ck_assert(gt_wait_provider("ob2", true));
	ck_assert_int_eq(g_md_destroy("ob2", false), 0);
	ck_assert(gt_wait_provider("ob2", false));
	ck_assert_int_eq(obs_count(&log, '+', "ob2"), 0);
	ck_assert_int_eq(obs_count(&log, '-', "ob2"), 0);
	mutex_destroy(&log.lock);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("geom_core");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_graph_build_and_teardown);
	tcase_add_test(tc, test_access_rules);
	tcase_add_test(tc, test_misaligned_and_past_end);
	tcase_add_test(tc, test_clone_and_std_done);
	tcase_add_test(tc, test_completed_counts);
	tcase_add_test(tc, test_orphan_with_io_in_flight);
	tcase_add_test(tc, test_orphan_racing_stream);
	tcase_add_test(tc, test_ctl_requests);
	tcase_add_test(tc, test_observer_sees_providers_come_and_go);
	suite_add_tcase(s, tc);
	/* The panicking tests leave the threads running: no teardown. */
	TCase *tp = tcase_create("nosleep");
	tcase_add_checked_fixture(tp, setup, NULL);
	tcase_add_test_raise_signal(tp, test_start_may_not_sleep, SIGABRT);
	tcase_add_test_raise_signal(tp, test_start_may_not_read_data, SIGABRT);
	suite_add_tcase(s, tp);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
