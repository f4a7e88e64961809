/*
 * bench_geom: throughput of the block layer on the host, so the cost of
 * each layer is visible. An MD of 96 MiB holds a GPT with one partition;
 * a NOP sits on the MD. For the raw MD, its partition (PART), the NOP and
 * the partition seen through the NOP, it prints sequential write and read
 * MB/s with 64 KiB requests and 4 KiB random-read IOPS, with 1 and 32
 * requests in flight. It prints figures; it never fails on speed.
 *
 *   bench_geom [MiB per sequential pass (default 64)]
 */
#include "geom_test.h"
#include <karst/time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB (1ULL << 20)
#define SS 512

static uint64_t rng = 88172645463325252ULL;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* Run `total` requests of `bs` bytes, `depth` in flight; returns seconds. */
static double run(struct g_consumer *cp, enum bio_cmd cmd, bool random, uint64_t span, size_t bs,
		  int depth, uint64_t total, uint8_t *bufs)
{
	struct gt_batch b;
	gt_batch_init(&b);
	uint64_t t0 = time_ns(), issued = 0, pos = 0;
	int inflight = 0;
	while (issued < total || inflight > 0) {
		while (inflight < depth && issued < total) {
			uint64_t off;
			if (random) {
				off = (next_rand() % (span / bs)) * bs;
			} else {
				off = pos;
				pos = (pos + bs) % span;
			}
			gt_submit(&b, cp, cmd, off, bufs + (issued % (uint64_t)depth) * bs, bs);
			issued++;
			inflight++;
		}
		gt_wait(&b, 1);
		inflight--;
	}
	double s = (double)(time_ns() - t0) / 1e9;
	if (atomic_load(&b.errors))
		printf("  (%d errors!)\n", atomic_load(&b.errors));
	gt_batch_destroy(&b);
	return s;
}

static void bench(const char *name, uint64_t span, uint64_t pass)
{
	struct g_consumer *cp;
	if (!gt_wait_provider(name, true) || g_open(name, 1, 1, 0, NULL, NULL, &cp) != 0) {
		printf("%-12s cannot open\n", name);
		return;
	}
	uint8_t *bufs = calloc(32, 64 * 1024);
	printf("%-12s", name);
	for (int depth = 1; depth <= 32; depth *= 32) {
		uint64_t n = pass / (64 * 1024);
		double w = run(cp, BIO_WRITE, false, span, 64 * 1024, depth, n, bufs);
		double r = run(cp, BIO_READ, false, span, 64 * 1024, depth, n, bufs);
		uint64_t rn = 40000;
		double rr = run(cp, BIO_READ, true, span, 4096, depth, rn, bufs);
		printf("  qd%-2d %8.0f %8.0f %9.0f", depth, (double)pass / MB / w,
		       (double)pass / MB / r, (double)rn / rr);
	}
	printf("\n");
	free(bufs);
	g_close(cp);
	g_waitidle();
}

int main(int argc, char **argv)
{
	uint64_t pass = (argc > 1 ? strtoull(argv[1], NULL, 0) : 64) * MB;
	uint64_t disk = 96 * MB;
	static const uint64_t parts[] = {(64 * MB) / SS};
	uint8_t *img = gt_gpt_image(disk, SS, 1, parts);
	gt_start();
	if (g_md_create("md0", disk, SS, img, disk) != 0 || g_nop_create("md0", NULL) != 0) {
		fprintf(stderr, "bench_geom: cannot build the stack\n");
		return 1;
	}
	free(img);
	printf("GEOM on the host: 64 KiB sequential write/read MB/s, 4 KiB random-read IOPS\n");
	printf("%-12s  %-36s  %-36s\n", "", "1 in flight: write   read     IOPS",
	       "32 in flight: write  read     IOPS");
	/* Partitions first: the raw passes overwrite the GPT. */
	const char *targets[] = {"md0p1", "md0.nopp1", "md0.nop", "md0"};
	for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++)
		bench(targets[i], 64 * MB, pass);
	struct g_io_stats st;
	g_io_get_stats(&st);
	printf("requests through g_down: %llu, completions through g_up: %llu\n",
	       (unsigned long long)st.down_requests, (unsigned long long)st.up_completions);
	gt_stop();
	return 0;
}
