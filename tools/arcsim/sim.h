/*
 * arcsim: replay block traces through the ARC (the real fs/arc code), an
 * exact LRU and Belady's OPT, and measure the ARC's speed.
 *
 * A trace is a sequence of block numbers. Policies work on dense ids
 * (0..ndistinct-1, given by sim_densify) so their state is plain arrays.
 * Host-only code: stdio, malloc and pthreads are fine here, never in fs/arc.
 */
#ifndef ARCSIM_SIM_H
#define ARCSIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sim_trace {
	uint64_t *blocks; /* as read or generated */
	size_t n;
	uint32_t *ids; /* dense ids, after sim_densify() */
	size_t ndistinct;
	char name[128];
};

/* Readers. Return 0, or -errno with a message on stderr. fmt: "auto",
 * "plain" (one block number per line) or "spc" (ASU,LBA,size,opcode,
 * timestamp; LBAs in 512-byte sectors, expanded to 4 KiB blocks). */
int sim_read_trace(const char *path, const char *fmt, bool reads_only, struct sim_trace *t);
/* Generators; spec is "zipf,n=N,alpha=A,len=L", "loop,n=N,len=L" or
 * "scan,n=N,alpha=A,len=L,every=E,scan=S" (a Zipf working set with a scan of
 * S never-reused blocks every E requests). */
int sim_generate(const char *spec, uint64_t seed, struct sim_trace *t);
int sim_densify(struct sim_trace *t);
void sim_trace_free(struct sim_trace *t);

/* Hits of each policy with a cache of `size` unit blocks, cold start. */
uint64_t sim_lru(const struct sim_trace *t, size_t size);
/* Belady's MIN: on a miss with the cache full, evict the cached block
 * whose next use is farthest. bypass: also allowed to not cache the new
 * block when its own next use is the farthest. */
uint64_t sim_opt(const struct sim_trace *t, size_t size, bool bypass);
/* The ARC of fs/arc with c_min = c_max = size blocks of 4 KiB. */
uint64_t sim_arc(const struct sim_trace *t, size_t size, unsigned nsublists);

/* Benchmarks: print figures, never fail. */
void sim_bench(const unsigned *threads, int nthreads, double seconds);

#endif
