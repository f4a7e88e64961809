/*
 * Check suite for the classes: PART tasting an MD that holds a GPT built
 * by the host tool's format code (and refusing corrupt ones), LABEL round
 * trips (from an image and from `geom LABEL label`), NOP fault injection
 * surfacing through PART, and many requests in flight through
 * PART -> NOP -> MD with the data verified.
 *
 * Run with `--image FILE PROVIDER...` it instead loads FILE into an MD and
 * checks the providers appear (the geomtool end-to-end test uses it).
 */
#include "geom_test.h"
#include <check.h>
#include <errno.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB (1ULL << 20)
#define SS 512

static void setup(void)
{
	gt_start();
}

static void teardown(void)
{
	gt_stop();
}

static uint64_t provider_size(const char *name)
{
	g_topology_lock();
	struct g_provider *pp = g_find_provider(name);
	uint64_t s = pp ? pp->mediasize : 0;
	g_topology_unlock();
	return s;
}

START_TEST(test_part_tastes_gpt)
{
	static const uint64_t parts[] = {2048, 4096, 100};
	uint8_t *img = gt_gpt_image(8 * MB, SS, 3, parts);
	ck_assert_int_eq(g_md_create("md0", 8 * MB, SS, img, 8 * MB), 0);
	ck_assert(gt_wait_provider("md0p1", true));
	ck_assert(gt_wait_provider("md0p3", true));
	ck_assert_uint_eq(provider_size("md0p1"), 2048 * SS);
	ck_assert_uint_eq(provider_size("md0p2"), 4096 * SS);
	ck_assert_uint_eq(provider_size("md0p3"), 100 * SS);
	ck_assert(!gt_provider_exists("md0p4"));

	/* Writes through a partition land at its offset on the disk. */
	struct g_consumer *p2, *disk;
	ck_assert_int_eq(g_open("md0p2", 1, 1, 0, NULL, NULL, &p2), 0);
	static uint8_t w[65536], r[65536];
	gt_fill(w, sizeof(w), 9, 0);
	/* Past the partition's end: refused, not spilled into the next one. */
	ck_assert_int_eq(g_write_data(p2, 4096 * SS, w, SS), -EIO);
	ck_assert_int_eq(g_write_data(p2, 4096 * SS - SS, w, 2 * SS), -EIO); /* truncated */
	ck_assert_int_eq(g_write_data(p2, 4096 * SS - sizeof(w), w, sizeof(w)), 0);
	g_close(p2);
	ck_assert_int_eq(g_open("md0", 1, 0, 0, NULL, NULL, &disk), 0);
	ck_assert_int_eq(g_read_data(disk, (4096 + 4096) * SS - sizeof(w), r, sizeof(r)), 0);
	ck_assert_mem_eq(w, r, sizeof(r));
	g_close(disk);

	char out[8192];
	struct g_sbuf sb;
	g_sbuf_init(&sb, out, sizeof(out));
	g_conf_part_show(&sb);
	ck_assert_ptr_nonnull(strstr(out, "md0  GPT"));
	ck_assert_ptr_nonnull(strstr(out, "linux-data  (2.0M)  [part2]"));
	g_sbuf_init(&sb, out, sizeof(out));
	g_conf_list(&sb, "PART");
	ck_assert_ptr_nonnull(strstr(out, "Geom name: md0\nClass: PART\nScheme: GPT\n"));
	ck_assert_ptr_nonnull(strstr(out, "2. Name: md0p2\n"));
	ck_assert_ptr_nonnull(strstr(out, "   Offset: 4194304\n   Type: linux-data\n"));
	free(img);
}
END_TEST

START_TEST(test_part_backup_and_corrupt)
{
	static const uint64_t parts[] = {2048};
	uint8_t *img = gt_gpt_image(4 * MB, SS, 1, parts);
	img[SS + 40] ^= 1; /* primary header */
	ck_assert_int_eq(g_md_create("md0", 4 * MB, SS, img, 4 * MB), 0);
	ck_assert(gt_wait_provider("md0p1", true));
	img[4 * MB - SS + 40] ^= 1; /* and the backup */
	ck_assert_int_eq(g_md_create("md1", 4 * MB, SS, img, 4 * MB), 0);
	g_waitidle();
	ck_assert(!gt_provider_exists("md1p1"));
	g_topology_lock();
	ck_assert_ptr_null(g_find_geom(&g_part_class, "md1"));
	ck_assert_ptr_nonnull(g_find_geom(&g_part_class, "md0"));
	g_topology_unlock();
	free(img);
}
END_TEST

/* Corruption at many offsets of both headers of a real disk through the
 * tasting path: never a geom built on a bad table, never a crash. */
START_TEST(test_part_taste_fuzz)
{
	static const uint64_t parts[] = {1024, 1024};
	uint8_t *img = gt_gpt_image(2 * MB, SS, 2, parts);
	uint64_t last = 2 * MB - SS;
	srand(99);
	for (int i = 0; i < 40; i++) {
		char name[16];
		snprintf(name, sizeof(name), "fz%d", i);
		uint8_t *c = malloc(2 * MB);
		memcpy(c, img, 2 * MB);
		int off = rand() % G_GPT_HDR_MINSIZE;
		c[SS + off] ^= (uint8_t)(1 + rand() % 255);
		c[last + off] ^= (uint8_t)(1 + rand() % 255);
		ck_assert_int_eq(g_md_create(name, 2 * MB, SS, c, 2 * MB), 0);
		free(c);
	}
	g_waitidle();
	g_topology_lock();
	ck_assert(list_empty(&g_part_class.geoms));
	g_topology_unlock();
	free(img);
}
END_TEST

START_TEST(test_mbr_slices)
{
	uint8_t *img = calloc(1, 4 * MB);
	uint8_t *e = img + 446;
	e[4] = 0x83;
	e[8] = 64;
	e[13] = 0x10; /* 4096 sectors */
	e[16 + 4] = 0x07;
	e[16 + 9] = 0x18; /* start 6144 */
	e[16 + 12] = 0x80;
	img[510] = 0x55;
	img[511] = 0xaa;
	ck_assert_int_eq(g_md_create("md0", 4 * MB, SS, img, 4 * MB), 0);
	ck_assert(gt_wait_provider("md0s1", true));
	ck_assert(gt_wait_provider("md0s2", true));
	ck_assert_uint_eq(provider_size("md0s1"), 4096 * SS);
	ck_assert_uint_eq(provider_size("md0s2"), 128 * SS);
	/* Overlapping entries: rejected. */
	e[16 + 9] = 0x00;
	e[16 + 8] = 100;
	ck_assert_int_eq(g_md_create("md1", 4 * MB, SS, img, 4 * MB), 0);
	g_waitidle();
	ck_assert(!gt_provider_exists("md1s1"));
	free(img);
}
END_TEST

START_TEST(test_label_from_image)
{
	uint8_t *img = calloc(1, MB);
	gt_label_image(img, MB, SS, "root");
	ck_assert_int_eq(g_md_create("md0", MB, SS, img, MB), 0);
	ck_assert(gt_wait_provider("label/root", true));
	ck_assert_uint_eq(provider_size("label/root"), MB - SS);

	/* The label's last sector is the disk's second-to-last. */
	struct g_consumer *cp;
	ck_assert_int_eq(g_open("label/root", 1, 1, 0, NULL, NULL, &cp), 0);
	uint8_t w[SS];
	gt_fill(w, SS, 4, 0);
	ck_assert_int_eq(g_write_data(cp, MB - 2 * SS, w, SS), 0);
	ck_assert_int_eq(g_write_data(cp, MB - SS, w, SS), -EIO); /* the metadata */
	g_close(cp);
	g_waitidle();
	/* Still labelled after the retaste. */
	ck_assert(gt_wait_provider("label/root", true));

	/* The same name twice: the second is refused. */
	ck_assert_int_eq(g_md_create("md1", MB, SS, img, MB), 0);
	g_waitidle();
	g_topology_lock();
	int n = 0;
	list_for_each(it, &g_label_class.geoms) n++;
	g_topology_unlock();
	ck_assert_int_eq(n, 1);

	/* Bad hash, wrong size: no geom, no crash. */
	img[MB - SS + 40] ^= 0x20;
	ck_assert_int_eq(g_md_create("md2", MB, SS, img, MB), 0);
	uint8_t *img2 = calloc(1, 2 * MB);
	gt_label_image(img2, MB, SS, "small"); /* labelled for a 1 MiB provider */
	memcpy(img2 + 2 * MB - SS, img2 + MB - SS, SS);
	ck_assert_int_eq(g_md_create("md3", 2 * MB, SS, img2, 2 * MB), 0);
	g_waitidle();
	ck_assert(!gt_provider_exists("label/small"));
	g_topology_lock();
	n = 0;
	list_for_each(it, &g_label_class.geoms) n++;
	g_topology_unlock();
	ck_assert_int_eq(n, 1);
	free(img);
	free(img2);
}
END_TEST

START_TEST(test_label_ctl_round_trip)
{
	char out[1024];
	struct g_sbuf sb;
	g_sbuf_init(&sb, out, sizeof(out));
	ck_assert_int_eq(g_md_create("md0", MB, SS, NULL, 0), 0);
	const char *lab[] = {"label", "provider=md0", "name=data"};
	ck_assert_int_eq(g_ctl("LABEL", 3, lab, &sb), 0);
	ck_assert(gt_wait_provider("label/data", true));
	ck_assert_uint_eq(provider_size("label/data"), MB - SS);

	/* It is on the disk in the documented format. */
	struct g_consumer *cp;
	uint8_t sec[SS];
	ck_assert_int_eq(g_open("md0", 1, 0, 0, NULL, NULL, &cp), 0);
	ck_assert_int_eq(g_read_data(cp, MB - SS, sec, SS), 0);
	g_close(cp);
	struct g_label_meta md;
	const char *why;
	ck_assert_int_eq(g_label_decode(sec, SS, MB, &md, &why), 0);
	ck_assert_str_eq(md.name, "data");

	const char *bad[] = {"label", "provider=md0", "name=no/slash"};
	ck_assert_int_eq(g_ctl("LABEL", 3, bad, &sb), -EINVAL);
	const char *clear[] = {"clear", "provider=md0"};
	ck_assert_int_eq(g_ctl("LABEL", 2, clear, &sb), 0);
	ck_assert(gt_wait_provider("label/data", false));

	/* Cleared by the label's name instead of the provider's. */
	ck_assert_int_eq(g_ctl("LABEL", 3, lab, &sb), 0);
	ck_assert(gt_wait_provider("label/data", true));
	g_sbuf_init(&sb, out, sizeof(out));
	const char *nosuch[] = {"clear", "name=nosuch"};
	ck_assert_int_eq(g_ctl("LABEL", 2, nosuch, &sb), -EINVAL);
	ck_assert_ptr_nonnull(strstr(out, "LABEL: no label nosuch"));
	const char *byname[] = {"clear", "name=data"};
	ck_assert_int_eq(g_ctl("LABEL", 2, byname, &sb), 0);
	ck_assert(gt_wait_provider("label/data", false));
	ck_assert(gt_provider_exists("md0"));
}
END_TEST

/* A GPT inside a label, as `geomtool label` then `geomtool gpt create`
 * make it: the partitions appear under label/NAME only. */
START_TEST(test_gpt_inside_label)
{
	static const uint64_t parts[] = {1024};
	uint8_t *inner = gt_gpt_image(4 * MB - SS, SS, 1, parts);
	uint8_t *img = calloc(1, 4 * MB);
	memcpy(img, inner, 4 * MB - SS);
	gt_label_image(img, 4 * MB, SS, "root");
	ck_assert_int_eq(g_md_create("md0", 4 * MB, SS, img, 4 * MB), 0);
	ck_assert(gt_wait_provider("label/rootp1", true));
	g_waitidle();
	ck_assert(!gt_provider_exists("md0p1"));
	free(inner);
	free(img);
}
END_TEST

START_TEST(test_nop_fail_rates_and_after)
{
	ck_assert_int_eq(g_md_create("md0", MB, SS, NULL, 0), 0);
	ck_assert_int_eq(g_nop_create("md0", NULL), 0);
	ck_assert(gt_wait_provider("md0.nop", true));
	struct g_consumer *cp;
	ck_assert_int_eq(g_open("md0.nop", 1, 1, 0, NULL, NULL, &cp), 0);
	uint8_t buf[4096];
	memset(buf, 0, sizeof(buf));

	/* Every read fails with EIO, writes pass. */
	struct g_nop_config cfg = {.rfail_ppm = 1000000};
	ck_assert_int_eq(g_nop_configure("md0.nop", &cfg), 0);
	ck_assert_int_eq(g_read_data(cp, 0, buf, sizeof(buf)), -EIO);
	ck_assert_int_eq(g_write_data(cp, 0, buf, sizeof(buf)), 0);

	/* After N requests, with a chosen error. */
	cfg = (struct g_nop_config){.fail_after = 5, .error = -ENOSPC};
	ck_assert_int_eq(g_nop_configure("md0.nop", &cfg), 0);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(g_read_data(cp, 0, buf, sizeof(buf)), 0);
	ck_assert_int_eq(g_write_data(cp, 0, buf, sizeof(buf)), -ENOSPC);
	ck_assert_int_eq(g_read_data(cp, 0, buf, sizeof(buf)), -ENOSPC);

	/* 30% with a seed: about 30%, and the same sequence again. */
	bool seq[1000];
	cfg = (struct g_nop_config){.rfail_ppm = 300000, .seed = 12345};
	for (int pass = 0; pass < 2; pass++) {
		ck_assert_int_eq(g_nop_configure("md0.nop", &cfg), 0);
		int fails = 0;
		for (int i = 0; i < 1000; i++) {
			bool f = g_read_data(cp, 0, buf, SS) == -EIO;
			fails += f;
			if (pass == 0)
				seq[i] = f;
			else
				ck_assert_msg(seq[i] == f, "request %d differs between runs", i);
		}
		ck_assert_int_gt(fails, 230);
		ck_assert_int_lt(fails, 370);
	}
	struct g_nop_stats st;
	ck_assert_int_eq(g_nop_get_stats("md0.nop", &st), 0);
	ck_assert_uint_ge(st.rfailures, 2 * 230 + 2);
	ck_assert_uint_eq(st.wfailures, 1);
	g_close(cp);
}
END_TEST

START_TEST(test_nop_flips_one_bit)
{
	ck_assert_int_eq(g_md_create("md0", MB, SS, NULL, 0), 0);
	ck_assert_int_eq(g_nop_create("md0", NULL), 0);
	struct g_consumer *cp;
	ck_assert(gt_wait_provider("md0.nop", true));
	ck_assert_int_eq(g_open("md0.nop", 1, 1, 0, NULL, NULL, &cp), 0);
	static uint8_t w[8192], r[8192];
	gt_fill(w, sizeof(w), 77, 0);
	ck_assert_int_eq(g_write_data(cp, 0, w, sizeof(w)), 0);
	struct g_nop_config cfg = {.flip_ppm = 1000000, .seed = 1};
	ck_assert_int_eq(g_nop_configure("md0.nop", &cfg), 0);
	for (int round = 0; round < 50; round++) {
		ck_assert_int_eq(g_read_data(cp, 0, r, sizeof(r)), 0);
		int bits = 0;
		for (size_t i = 0; i < sizeof(r); i++)
			bits += __builtin_popcount(r[i] ^ w[i]);
		ck_assert_int_eq(bits, 1);
	}
	/* The medium itself is untouched. */
	cfg.flip_ppm = 0;
	ck_assert_int_eq(g_nop_configure("md0.nop", &cfg), 0);
	ck_assert_int_eq(g_read_data(cp, 0, r, sizeof(r)), 0);
	ck_assert_mem_eq(w, r, sizeof(r));
	struct g_nop_stats st;
	g_nop_get_stats("md0.nop", &st);
	ck_assert_uint_eq(st.flips, 50);
	g_close(cp);
}
END_TEST

/* Delayed requests overlap: 32 in flight with 200 ms each take about
 * 200 ms, not 6.4 s, and g_down never waits for them. */
START_TEST(test_nop_delay_overlaps)
{
	ck_assert_int_eq(g_md_create("md0", MB, SS, NULL, 0), 0);
	struct g_nop_config cfg = {.delay_us = 200000};
	ck_assert_int_eq(g_nop_create("md0", &cfg), 0);
	ck_assert(gt_wait_provider("md0.nop", true));
	struct g_consumer *cp, *raw;
	ck_assert_int_eq(g_open("md0.nop", 1, 0, 0, NULL, NULL, &cp), 0);
	ck_assert_int_eq(g_open("md0", 1, 0, 0, NULL, NULL, &raw), 0);
	static uint8_t buf[32][SS];
	struct gt_batch b;
	gt_batch_init(&b);
	uint64_t t0 = time_ns();
	for (int i = 0; i < 32; i++)
		gt_submit(&b, cp, BIO_READ, (uint64_t)i * SS, buf[i], SS);
	/* The raw disk answers meanwhile: g_down is not blocked. */
	uint64_t t1 = time_ns();
	ck_assert_int_eq(g_read_data(raw, 0, buf[0], SS), 0);
	ck_assert_uint_lt(time_ns() - t1, 100 * NSEC_PER_MSEC);
	gt_wait(&b, 32);
	uint64_t dt = time_ns() - t0;
	ck_assert_int_eq(atomic_load(&b.errors), 0);
	ck_assert_uint_ge(dt, 200 * NSEC_PER_MSEC);
	ck_assert_uint_lt(dt, 1000 * NSEC_PER_MSEC);
	gt_batch_destroy(&b);
	g_close(cp);
	g_close(raw);
}
END_TEST

START_TEST(test_nop_errors_through_part)
{
	static const uint64_t parts[] = {2048, 2048};
	uint8_t *img = gt_gpt_image(4 * MB, SS, 2, parts);
	ck_assert_int_eq(g_md_create("md0", 4 * MB, SS, img, 4 * MB), 0);
	ck_assert_int_eq(g_nop_create("md0", NULL), 0);
	ck_assert(gt_wait_provider("md0.nopp2", true));
	struct g_consumer *cp;
	ck_assert_int_eq(g_open("md0.nopp2", 1, 1, 0, NULL, NULL, &cp), 0);
	uint8_t buf[4096];
	ck_assert_int_eq(g_read_data(cp, 0, buf, sizeof(buf)), 0);
	struct g_nop_config cfg = {.rfail_ppm = 1000000, .wfail_ppm = 1000000};
	ck_assert_int_eq(g_nop_configure("md0.nop", &cfg), 0);
	ck_assert_int_eq(g_read_data(cp, 0, buf, sizeof(buf)), -EIO);
	ck_assert_int_eq(g_write_data(cp, 4096, buf, sizeof(buf)), -EIO);
	g_close(cp);
	free(img);
}
END_TEST

/* Which sectors of [off, off + len) on the raw disk hold the pattern of
 * (seed, off), which are still zero; anything else fails the test. */
static uint64_t written_mask(struct g_consumer *raw, uint64_t off, size_t len, uint64_t seed)
{
	static uint8_t r[64 * SS], w[64 * SS], zero[SS];
	ck_assert_uint_le(len, sizeof(r));
	ck_assert_int_eq(g_read_data(raw, off, r, len), 0);
	gt_fill(w, len, seed, off);
	uint64_t mask = 0;
	for (size_t s = 0; s < len / SS; s++) {
		if (memcmp(r + s * SS, w + s * SS, SS) == 0)
			mask |= 1ULL << s;
		else
			ck_assert_msg(memcmp(r + s * SS, zero, SS) == 0, "sector %zu mixed", s);
	}
	return mask;
}

/*
 * Power cut: after dropafter=N writes every write succeeds unwritten;
 * with torn the first dropped one lands in part, sector by sector, the
 * same sectors for the same seed. Configured through `geom NOP`.
 */
START_TEST(test_nop_drop_and_tear)
{
	static uint8_t w[64 * SS], want[64 * SS], zero[4 * 64 * SS];
	const size_t len = sizeof(w);
	char out[1024];
	struct g_sbuf sb;
	g_sbuf_init(&sb, out, sizeof(out));
	ck_assert_int_eq(g_md_create("md0", 4 * MB, SS, NULL, 0), 0);
	const char *create[] = {"create", "provider=md0", "dropafter=3"};
	ck_assert_int_eq(g_ctl("NOP", 3, create, &sb), 0);
	ck_assert(gt_wait_provider("md0.nop", true));
	struct g_consumer *cp, *raw;
	ck_assert_int_eq(g_open("md0.nop", 1, 1, 0, NULL, NULL, &cp), 0);
	ck_assert_int_eq(g_open("md0", 1, 0, 0, NULL, NULL, &raw), 0);

	/* Reads do not count; six writes succeed, three reach the disk. */
	ck_assert_int_eq(g_read_data(cp, 0, w, len), 0);
	for (int i = 0; i < 6; i++) {
		gt_fill(w, len, (uint64_t)i + 1, (uint64_t)i * len);
		ck_assert_int_eq(g_write_data(cp, (uint64_t)i * len, w, len), 0);
	}
	ck_assert_int_eq(g_flush(cp), 0);
	for (int i = 0; i < 6; i++)
		ck_assert_uint_eq(written_mask(raw, (uint64_t)i * len, len, (uint64_t)i + 1),
				  i < 3 ? ~0ULL : 0);
	struct g_nop_stats st;
	ck_assert_int_eq(g_nop_get_stats("md0.nop", &st), 0);
	ck_assert_uint_eq(st.writes, 6);
	ck_assert_uint_eq(st.dropped, 3);
	ck_assert_uint_eq(st.torn, 0);

	/* torn: the third write of each round lands in part; the same seed
	 * tears the same sectors, another seed others. */
	uint64_t masks[3];
	const uint64_t seeds[3] = {7, 7, 8};
	const char *plain[] = {"configure", "name=md0.nop"};
	for (int round = 0; round < 3; round++) {
		uint64_t base = 8 * len;
		ck_assert_int_eq(g_ctl("NOP", 2, plain, &sb), 0);
		ck_assert_int_eq(g_write_data(cp, base, zero, 4 * len), 0);
		char seed[32];
		snprintf(seed, sizeof(seed), "seed=%llu", (unsigned long long)seeds[round]);
		const char *conf[] = {"configure", "name=md0.nop", "dropafter=2", "torn", seed};
		ck_assert_int_eq(g_ctl("NOP", 5, conf, &sb), 0);
		for (int i = 0; i < 4; i++) {
			uint64_t off = base + (uint64_t)i * len;
			gt_fill(w, len, 100 + (uint64_t)round, off);
			ck_assert_int_eq(g_write_data(cp, off, w, len), 0);
		}
		for (int i = 0; i < 4; i++) {
			uint64_t off = base + (uint64_t)i * len;
			uint64_t m = written_mask(raw, off, len, 100 + (uint64_t)round);
			if (i < 2)
				ck_assert_uint_eq(m, ~0ULL);
			else if (i == 2)
				masks[round] = m;
			else
				ck_assert_uint_eq(m, 0);
		}
		ck_assert_uint_ne(masks[round], 0);
		ck_assert_uint_ne(masks[round], ~0ULL);
	}
	ck_assert_uint_eq(masks[0], masks[1]);
	ck_assert_uint_ne(masks[0], masks[2]);
	ck_assert_int_eq(g_nop_get_stats("md0.nop", &st), 0);
	ck_assert_uint_eq(st.dropped, 3 + 3 * 2); /* the counters go on across configures */
	ck_assert_uint_eq(st.torn, 3);
	g_sbuf_init(&sb, out, sizeof(out));
	const char *stats[] = {"stats", "name=md0.nop"};
	ck_assert_int_eq(g_ctl("NOP", 2, stats, &sb), 0);
	ck_assert_ptr_nonnull(strstr(out, "Power cut: writes dropped after 2, the first torn"));
	ck_assert_ptr_nonnull(strstr(out, "9 dropped, 3 torn"));

	/* A torn write delayed: its runs go through the worker. */
	ck_assert_int_eq(g_ctl("NOP", 2, plain, &sb), 0);
	ck_assert_int_eq(g_write_data(cp, 0, zero, len), 0);
	const char *delayed[] = {"configure", "name=md0.nop", "dropafter=0",
				 "torn",      "delay=1000",   "seed=7"};
	ck_assert_int_eq(g_ctl("NOP", 6, delayed, &sb), 0);
	gt_fill(w, len, 100, 8 * len + 2 * len); /* the bytes of round 0's torn write */
	ck_assert_int_eq(g_write_data(cp, 0, w, len), 0);
	ck_assert_int_eq(g_read_data(raw, 0, w, len), 0);
	gt_fill(want, len, 100, 8 * len + 2 * len);
	uint64_t m = 0;
	for (size_t s = 0; s < len / SS; s++)
		if (memcmp(w + s * SS, want + s * SS, SS) == 0)
			m |= 1ULL << s;
	ck_assert_uint_eq(m, masks[0]);

	/* Refused: torn alone, a bad count. */
	const char *torn_alone[] = {"configure", "name=md0.nop", "torn"};
	ck_assert_int_eq(g_ctl("NOP", 3, torn_alone, &sb), -EINVAL);
	const char *bad[] = {"configure", "name=md0.nop", "dropafter=x"};
	ck_assert_int_eq(g_ctl("NOP", 3, bad, &sb), -EINVAL);
	g_close(cp);
	g_close(raw);
}
END_TEST

/*
 * Four threads, each with 32 requests in flight on its own quarter of
 * md0.nopp1 (PART over NOP over MD), write patterns and read them back.
 */
struct stress_arg {
	struct g_consumer *cp;
	uint64_t base, len;
	int id;
	int bad;
};

static void stress_thread(void *p)
{
	struct stress_arg *a = p;
	enum { DEPTH = 32, BS = 4096 };
	uint8_t *bufs = malloc((size_t)DEPTH * BS);
	uint64_t nblocks = a->len / BS;
	struct gt_batch b;
	gt_batch_init(&b);
	for (int gen = 1; gen <= 3; gen++) {
		uint64_t seed = (uint64_t)a->id * 100 + (uint64_t)gen;
		for (uint64_t blk = 0; blk < nblocks; blk += DEPTH) {
			int n = (int)MIN((uint64_t)DEPTH, nblocks - blk);
			for (int i = 0; i < n; i++) {
				uint64_t off = a->base + (blk + (uint64_t)i) * BS;
				gt_fill(bufs + (size_t)i * BS, BS, seed, off);
				gt_submit(&b, a->cp, BIO_WRITE, off, bufs + (size_t)i * BS, BS);
			}
			gt_wait(&b, n);
		}
		for (uint64_t blk = 0; blk < nblocks; blk += DEPTH) {
			int n = (int)MIN((uint64_t)DEPTH, nblocks - blk);
			memset(bufs, 0, (size_t)n * BS);
			for (int i = 0; i < n; i++)
				gt_submit(&b, a->cp, BIO_READ, a->base + (blk + (uint64_t)i) * BS,
					  bufs + (size_t)i * BS, BS);
			gt_wait(&b, n);
			for (int i = 0; i < n; i++)
				if (!gt_check(bufs + (size_t)i * BS, BS, seed,
					      a->base + (blk + (uint64_t)i) * BS))
					a->bad++;
		}
	}
	a->bad += atomic_load(&b.errors);
	gt_batch_destroy(&b);
	free(bufs);
}

START_TEST(test_many_in_flight_part_nop_md)
{
	static const uint64_t parts[] = {8 * 2048};
	uint8_t *img = gt_gpt_image(16 * MB, SS, 1, parts);
	ck_assert_int_eq(g_md_create("md0", 16 * MB, SS, img, 16 * MB), 0);
	ck_assert_int_eq(g_nop_create("md0", NULL), 0);
	ck_assert(gt_wait_provider("md0.nopp1", true));
	struct g_consumer *cp;
	ck_assert_int_eq(g_open("md0.nopp1", 1, 1, 0, NULL, NULL, &cp), 0);
	struct stress_arg args[4];
	struct thread *td[4];
	for (int i = 0; i < 4; i++) {
		args[i] = (struct stress_arg){
		    .cp = cp, .base = (uint64_t)i * 2 * MB, .len = 2 * MB, .id = i};
		td[i] = thread_create("stress", stress_thread, &args[i], THREAD_PRIO_DEFAULT);
		ck_assert_ptr_nonnull(td[i]);
	}
	for (int i = 0; i < 4; i++) {
		thread_join(td[i]);
		ck_assert_int_eq(args[i].bad, 0);
	}
	/* Cross-check through the raw disk: partition 1 starts at 1 MiB. */
	g_close(cp);
	struct g_consumer *raw;
	ck_assert_int_eq(g_open("md0", 1, 0, 0, NULL, NULL, &raw), 0);
	static uint8_t r[4096];
	ck_assert_int_eq(g_read_data(raw, MB + 6 * MB, r, sizeof(r)), 0);
	ck_assert(gt_check(r, sizeof(r), 3 * 100 + 3, 6 * MB));
	g_close(raw);
	struct g_nop_stats st;
	ck_assert_int_eq(g_nop_get_stats("md0.nop", &st), 0);
	ck_assert_uint_ge(st.writes, 4 * 3 * 512);
	free(img);
}
END_TEST

/* --image FILE PROVIDER...: load FILE into an MD, expect the providers. */
static int check_image(int argc, char **argv)
{
	FILE *f = fopen(argv[2], "rb");
	if (!f) {
		perror(argv[2]);
		return 1;
	}
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *img = malloc((size_t)size);
	if (fread(img, 1, (size_t)size, f) != (size_t)size)
		return 1;
	fclose(f);
	if (g_init() || g_class_register(&g_md_class) || g_class_register(&g_part_class) ||
	    g_class_register(&g_label_class))
		return 1;
	if (g_md_create("md0", (uint64_t)size, SS, img, (size_t)size) != 0)
		return 1;
	int bad = 0;
	for (int i = 3; i < argc; i++) {
		bool want = argv[i][0] != '!';
		const char *name = want ? argv[i] : argv[i] + 1;
		bool ok = gt_wait_provider(name, want);
		printf("%s: %s %s\n", ok ? "ok" : "FAIL", name, want ? "present" : "absent");
		bad += !ok;
	}
	char out[4096];
	struct g_sbuf sb;
	g_sbuf_init(&sb, out, sizeof(out));
	g_conf_part_show(&sb);
	fputs(out, stdout);
	free(img);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--image") == 0)
		return check_image(argc, argv);
	Suite *s = suite_create("geom_classes");
	TCase *tc = tcase_create("classes");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_part_tastes_gpt);
	tcase_add_test(tc, test_part_backup_and_corrupt);
	tcase_add_test(tc, test_part_taste_fuzz);
	tcase_add_test(tc, test_mbr_slices);
	tcase_add_test(tc, test_label_from_image);
	tcase_add_test(tc, test_label_ctl_round_trip);
	tcase_add_test(tc, test_gpt_inside_label);
	tcase_add_test(tc, test_nop_fail_rates_and_after);
	tcase_add_test(tc, test_nop_flips_one_bit);
	tcase_add_test(tc, test_nop_delay_overlaps);
	tcase_add_test(tc, test_nop_errors_through_part);
	tcase_add_test(tc, test_nop_drop_and_tear);
	tcase_add_test(tc, test_many_in_flight_part_nop_md);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
