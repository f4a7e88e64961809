/*
 * Benchmarks of the ARC's own cost (the fill does no I/O):
 *
 *   ns/hit   one thread, random reads of 16384 cached 4 KiB blocks
 *   ns/miss  one thread, a stream of new blocks through a full cache: each
 *            read runs the case analysis, evicts one buffer to a ghost list,
 *            deletes a ghost, allocates and fills (no copy)
 *   hits/s   N threads, random reads of the same cached set
 *
 * A hit is arc_read() plus arc_buf_release(). Figures only; nothing fails.
 */
#include "arc.h"
#include "sim.h"
#include <karst/thread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define BENCH_BLOCKS 16384

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int nop_fill(void *arg, const struct arc_key *key, void *dst, size_t lsize)
{
	return 0;
}

static struct arc *mk(uint64_t blocks)
{
	struct arc_config cfg = {.name = "bench", .c_max = blocks * 4096, .c_min = blocks * 4096};
	struct arc *a;
	if (arc_create(&cfg, &a)) {
		fprintf(stderr, "arcsim: arc_create failed\n");
		exit(1);
	}
	return a;
}

static inline void read1(struct arc *a, uint64_t n)
{
	struct arc_key k = {{n, 0, 0, 0}};
	struct arc_buf *b;
	if (arc_read(a, &k, 4096, 0, nop_fill, NULL, &b)) {
		fprintf(stderr, "arcsim: arc_read failed\n");
		exit(1);
	}
	arc_buf_release(a, b);
}

static inline uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

struct worker {
	struct arc *a;
	atomic_bool *stop;
	uint64_t hits;
	uint64_t seed;
	struct thread *t;
};

/* Workers are karst threads (thread_create), as in the kernel: the ARC
 * gives each its own recency clock by thread_self(). */
static void hit_worker(void *p)
{
	struct worker *w = p;
	uint64_t s = w->seed, n = 0;
	while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
		for (int i = 0; i < 256; i++)
			read1(w->a, xorshift(&s) % BENCH_BLOCKS);
		n += 256;
	}
	w->hits = n;
}

void sim_bench(const unsigned *threads, int nthreads, double seconds)
{
	printf("ARC benchmark (header %zu bytes per cached buffer, 4 KiB blocks)\n",
	       arc_hdr_bytes());

	struct arc *a = mk(BENCH_BLOCKS);
	for (uint64_t i = 0; i < BENCH_BLOCKS; i++)
		read1(a, i);
	uint64_t s = 88172645463325252ULL, iters = 2000000;
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < iters; i++)
		read1(a, xorshift(&s) % BENCH_BLOCKS);
	double ns_hit = (double)(now_ns() - t0) / (double)iters;
	printf("  hit,  1 thread:  %8.1f ns\n", ns_hit);

	struct arc *m = mk(4096);
	for (uint64_t i = 0; i < 3 * 4096; i++) /* fill MRU and its ghost list */
		read1(m, 1000000 + i);
	iters = 500000;
	t0 = now_ns();
	for (uint64_t i = 0; i < iters; i++)
		read1(m, 2000000 + i);
	printf("  miss, 1 thread:  %8.1f ns (no I/O: bookkeeping, eviction, allocation)\n",
	       (double)(now_ns() - t0) / (double)iters);
	arc_destroy(m);

	for (int ti = 0; ti < nthreads; ti++) {
		unsigned nt = threads[ti];
		struct worker *w = calloc(nt, sizeof(*w));
		atomic_bool stop = false;
		for (unsigned i = 0; i < nt; i++) {
			w[i] =
			    (struct worker){.a = a, .stop = &stop, .seed = 0x1234567ULL * (i + 1)};
			w[i].t = thread_create("arc_bench", hit_worker, &w[i], THREAD_PRIO_DEFAULT);
			if (!w[i].t) {
				fprintf(stderr, "arcsim: thread_create failed\n");
				exit(1);
			}
		}
		struct timespec ts = {.tv_sec = (time_t)seconds,
				      .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9)};
		t0 = now_ns();
		nanosleep(&ts, NULL);
		atomic_store(&stop, true);
		uint64_t total = 0;
		for (unsigned i = 0; i < nt; i++) {
			thread_join(w[i].t);
			total += w[i].hits;
		}
		double secs = (double)(now_ns() - t0) / 1e9;
		printf("  hits/s, %u thread%s: %12.0f\n", nt, nt == 1 ? " " : "s",
		       (double)total / secs);
		free(w);
	}
	struct arc_stats st;
	arc_stats_get(a, &st);
	printf("  (mutex_miss %llu, evict_skip %llu)\n", (unsigned long long)st.mutex_miss,
	       (unsigned long long)st.evict_skip);
	arc_destroy(a);
}
