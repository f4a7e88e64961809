/*
 * daxsim: the DAX window manager's policies on file-read traces.
 *
 *   daxsim [--window MIB] [--chunk KIB] [--check|--check-scan] [TRACE...]
 *
 * Without TRACE, the built-in traces (deterministic): sequential re-reads
 * of a set that fits the window, Zipf-distributed reads over many files,
 * and a hot set polluted by a large one-time scan. A TRACE file holds one
 * read per line: "NODEID OFFSET LENGTH" (decimal; '#' starts a comment).
 *
 * Each trace runs through the manager (fs/virtiofs/dax_mgr.c, the code the
 * kernel runs) with a counting back end under each policy, and prints the
 * window hit ratio (chunk lookups), the host requests per MiB read with
 * the device window (SETUPMAPPING + REMOVEMAPPING; back end (a)) and with
 * a guest-memory window filled by 1 MiB FUSE_READs (back end (b)), and the
 * evictions. Figures only: it never fails on them, unless asked: with
 * --check the exit status is 1 when karst's hit ratio on a built-in trace
 * is below OSv LIFO's or Linux FIFO's; --check-scan also wants it above
 * both on the scan-polluted trace (what the policy is for; a window too
 * small for any policy to keep the hot set ties). test_daxsim runs them.
 */
#include "dax.h"

#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rd {
	uint64_t nodeid, off, len;
};

struct trace {
	const char *name;
	struct rd *r;
	size_t n, cap;
};

static void add(struct trace *t, uint64_t nodeid, uint64_t off, uint64_t len)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->r = realloc(t->r, t->cap * sizeof(*t->r));
		if (!t->r) {
			perror("daxsim");
			exit(1);
		}
	}
	t->r[t->n++] = (struct rd){nodeid, off, len};
}

static uint64_t file_size_of(uint64_t nodeid)
{
	return nodeid >> 20; /* the generators put the size in the high bits */
}

/* The counting back end: a file is as long as its node id says. */
static int sim_map(void *be, uint64_t nodeid, uint64_t fh, uint64_t fsize, uint64_t foff,
		   uint64_t moff, uint64_t len, uint64_t *valid)
{
	uint64_t size = file_size_of(nodeid);
	if (!size)
		size = UINT64_MAX; /* trace files: unknown sizes, never short */
	*valid = foff >= size ? 0 : (size - foff < len ? size - foff : len);
	return 0;
}

static int sim_unmap(void *be, uint64_t moff, uint64_t len)
{
	return 0;
}

static const struct dax_backend_ops sim_ops = {.map = sim_map, .unmap = sim_unmap};

/* Node ids carry the file's size above bit 20 and its number below. */
static uint64_t node(uint64_t size, uint64_t i)
{
	return size << 20 | (i + 1);
}

#define MIB (1ULL << 20)

static void gen_seq(struct trace *t, uint64_t window)
{
	t->name = "sequential re-reads (3/4 of the window, 4 passes, 1 MiB reads)";
	uint64_t files = 6, size = window * 3 / 4 / files;
	for (int pass = 0; pass < 4; pass++)
		for (uint64_t f = 0; f < files; f++)
			for (uint64_t off = 0; off < size; off += MIB)
				add(t, node(size, f), off, MIB);
}

static void gen_zipf(struct trace *t, uint64_t window)
{
	t->name = "Zipf(0.9) over 400 files of 4 MiB, 20000 reads of 1 MiB";
	unsigned files = 400;
	double *cdf = malloc(files * sizeof(double)), sum = 0;
	for (unsigned i = 0; i < files; i++)
		sum += 1.0 / pow(i + 1, 0.9);
	double acc = 0;
	for (unsigned i = 0; i < files; i++) {
		acc += 1.0 / pow(i + 1, 0.9) / sum;
		cdf[i] = acc;
	}
	srand(26);
	for (int k = 0; k < 20000; k++) {
		double u = (double)rand() / RAND_MAX;
		unsigned lo = 0, hi = files - 1;
		while (lo < hi) {
			unsigned mid = (lo + hi) / 2;
			if (cdf[mid] < u)
				lo = mid + 1;
			else
				hi = mid;
		}
		add(t, node(4 * MIB, lo), (uint64_t)(rand() % 4) * MIB, MIB);
	}
	free(cdf);
}

static void gen_scan(struct trace *t, uint64_t window)
{
	t->name = "hot set (5/8 of the window, a new one halfway) re-read, polluted by a "
		  "one-time scan";
	uint64_t hot = window * 5 / 8 / (2 * MIB), scan = 100000;
	for (int round = 0; round < 30; round++) {
		uint64_t base = round < 15 ? 0 : 50000;
		for (int r = 0; r < 2; r++)
			for (uint64_t h = base; h < base + hot; h++)
				for (uint64_t off = 0; off < 2 * MIB; off += MIB)
					add(t, node(2 * MIB, h), off, MIB);
		for (int s = 0; s < 24; s++, scan++) /* each read once */
			for (uint64_t off = 0; off < 2 * MIB; off += MIB)
				add(t, node(2 * MIB, scan), off, MIB);
	}
}

static int load(struct trace *t, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "daxsim: %s: %s\n", path, strerror(errno));
		return -1;
	}
	t->name = path;
	char line[256];
	unsigned lineno = 0;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		unsigned long long a, b, c;
		char extra;
		int n = sscanf(line, "%llu %llu %llu %c", &a, &b, &c, &extra);
		if (n == EOF || (n <= 0 && strspn(line, " \t\r\n") == strlen(line)))
			continue;
		if (n != 3 || a == 0 || (a >> 20) != 0 || c == 0) {
			fprintf(stderr,
				"daxsim: %s:%u: want 'NODEID OFFSET LENGTH' (node id 1..2^20-1)\n",
				path, lineno);
			fclose(f);
			return -1;
		}
		add(t, a, b, c);
	}
	fclose(f);
	return 0;
}

/* run's hit ratio per policy, for --check. */
static double ratio[3];

static void run(const struct trace *t, uint64_t window, uint64_t chunk)
{
	printf("%s: %zu reads\n", t->name, t->n);
	printf("  %-11s %9s %14s %14s %10s %10s\n", "policy", "hit ratio", "req/MiB (a)",
	       "req/MiB (b)", "evictions", "fallbacks");
	for (int p = DAX_POLICY_KARST; p <= DAX_POLICY_FIFO; p++) {
		struct dax_mgr m;
		if (dax_init(&m, NULL, window, chunk, 12, p, &sim_ops, NULL)) {
			fprintf(stderr, "daxsim: bad window or chunk size\n");
			exit(2);
		}
		uint64_t bytes = 0, fallback_reqs = 0;
		for (size_t i = 0; i < t->n; i++) {
			long n = dax_read(&m, t->r[i].nodeid, 0, t->r[i].off, NULL, t->r[i].len);
			if (n == -EAGAIN)
				fallback_reqs += (t->r[i].len + MIB - 1) / MIB;
			bytes += t->r[i].len;
		}
		double mib = (double)bytes / MIB;
		uint64_t lookups = m.st.hits + m.st.misses;
		uint64_t reads_per_chunk = (chunk + MIB - 1) / MIB;
		ratio[p] = lookups ? (double)m.st.hits / lookups : 0.0;
		printf("  %-11s %9.3f %14.3f %14.3f %10lu %10lu\n", dax_policy_name(p),
		       lookups ? (double)m.st.hits / lookups : 0.0,
		       (double)(m.st.maps + m.st.unmaps + fallback_reqs) / mib,
		       (double)(m.st.maps * reads_per_chunk + fallback_reqs) / mib,
		       (unsigned long)m.st.evictions, (unsigned long)m.st.fallbacks);
		dax_destroy(&m);
	}
}

int main(int argc, char **argv)
{
	uint64_t window = 64 * MIB, chunk = DAX_CHUNK_DEFAULT;
	int check = 0; /* 1: never worse; 2: and better on the scan */
	int i = 1, bad = 0;
	for (; i < argc && argv[i][0] == '-'; i += 2) {
		if (!strcmp(argv[i], "--check") || !strcmp(argv[i], "--check-scan")) {
			check = argv[i][7] ? 2 : 1;
			i--;
			continue;
		}
		if (i + 1 >= argc)
			goto usage;
		if (!strcmp(argv[i], "--window"))
			window = strtoull(argv[i + 1], NULL, 10) * MIB;
		else if (!strcmp(argv[i], "--chunk"))
			chunk = strtoull(argv[i + 1], NULL, 10) * 1024;
		else
			goto usage;
	}
	printf("window %lu MiB, chunks of %lu KiB\n", (unsigned long)(window / MIB),
	       (unsigned long)(chunk / 1024));
	if (i < argc) {
		for (; i < argc; i++) {
			struct trace t = {0};
			if (load(&t, argv[i]))
				return 1;
			run(&t, window, chunk);
			free(t.r);
		}
		return 0;
	}
	void (*gens[])(struct trace *, uint64_t) = {gen_seq, gen_zipf, gen_scan};
	for (unsigned g = 0; g < 3; g++) {
		struct trace t = {0};
		gens[g](&t, window);
		run(&t, window, chunk);
		for (int p = DAX_POLICY_LIFO; check && p <= DAX_POLICY_FIFO; p++) {
			bool better = check > 1 && gens[g] == gen_scan;
			if (better ? ratio[DAX_POLICY_KARST] <= ratio[p]
				   : ratio[DAX_POLICY_KARST] + 1e-9 < ratio[p]) {
				printf("CHECK FAILED: %s: karst %.3f %s %s %.3f\n", t.name,
				       ratio[DAX_POLICY_KARST], better ? "not above" : "below",
				       dax_policy_name(p), ratio[p]);
				bad = 1;
			}
		}
		free(t.r);
	}
	return bad;
usage:
	fprintf(stderr,
		"usage: daxsim [--window MIB] [--chunk KIB] [--check|--check-scan] [TRACE...]\n");
	return 2;
}
