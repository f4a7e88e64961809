/*
 * Traces: reading the two file formats, generating synthetic workloads, and
 * mapping block numbers to dense ids with an open-addressing hash table.
 */
#include "sim.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int push(struct sim_trace *t, size_t *cap, uint64_t b)
{
	if (t->n == *cap) {
		size_t nc = *cap ? *cap * 2 : 1 << 16;
		uint64_t *nb = realloc(t->blocks, nc * sizeof(*nb));
		if (!nb)
			return -ENOMEM;
		t->blocks = nb;
		*cap = nc;
	}
	t->blocks[t->n++] = b;
	return 0;
}

static void set_name(struct sim_trace *t, const char *name)
{
	const char *base = strrchr(name, '/');
	snprintf(t->name, sizeof(t->name), "%s", base ? base + 1 : name);
}

int sim_read_trace(const char *path, const char *fmt, bool reads_only, struct sim_trace *t)
{
	memset(t, 0, sizeof(*t));
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "arcsim: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	set_name(t, path);
	char line[512];
	size_t cap = 0, lineno = 0;
	int spc = !strcmp(fmt, "spc") ? 1 : !strcmp(fmt, "plain") ? 0 : -1;
	int err = 0;
	while (!err && fgets(line, sizeof(line), f)) {
		lineno++;
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (!*s || *s == '#')
			continue;
		if (spc < 0)
			spc = strchr(s, ',') != NULL;
		if (!spc) {
			char *end;
			errno = 0;
			unsigned long long b = strtoull(s, &end, 10);
			if (end == s || errno) {
				fprintf(stderr, "arcsim: %s:%zu: not a block number\n", path,
					lineno);
				err = -EINVAL;
				break;
			}
			err = push(t, &cap, b);
			continue;
		}
		/* SPC: ASU,LBA,size,opcode,timestamp */
		char *fld[5];
		int nf = 0;
		for (char *tok = strtok(s, ",\r\n"); tok && nf < 5; tok = strtok(NULL, ",\r\n"))
			fld[nf++] = tok;
		if (nf < 4) {
			fprintf(stderr, "arcsim: %s:%zu: not an SPC record\n", path, lineno);
			err = -EINVAL;
			break;
		}
		while (isspace((unsigned char)*fld[3]))
			fld[3]++;
		if (reads_only && tolower((unsigned char)fld[3][0]) != 'r')
			continue;
		unsigned long long asu = strtoull(fld[0], NULL, 10);
		unsigned long long lba = strtoull(fld[1], NULL, 10);
		unsigned long long size = strtoull(fld[2], NULL, 10);
		unsigned long long first = lba * 512 / 4096;
		unsigned long long last = size ? (lba * 512 + size - 1) / 4096 : first;
		for (unsigned long long b = first; !err && b <= last; b++)
			err = push(t, &cap, (asu << 48) | b);
	}
	fclose(f);
	if (!err && t->n == 0) {
		fprintf(stderr, "arcsim: %s: empty trace\n", path);
		err = -EINVAL;
	}
	if (err)
		sim_trace_free(t);
	return err;
}

/* splitmix64: small, fast, good enough for workloads */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * (1.0 / 9007199254740992.0);
}

struct zipf {
	double *cdf;
	size_t n;
};

static int zipf_init(struct zipf *z, size_t n, double alpha)
{
	z->n = n;
	z->cdf = malloc(n * sizeof(double));
	if (!z->cdf)
		return -ENOMEM;
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		sum += 1.0 / pow((double)(i + 1), alpha);
		z->cdf[i] = sum;
	}
	for (size_t i = 0; i < n; i++)
		z->cdf[i] /= sum;
	return 0;
}

/* A rank in [0, n), rank 0 the most popular. */
static size_t zipf_draw(struct zipf *z, uint64_t *rs)
{
	double u = rng_unit(rs);
	size_t lo = 0, hi = z->n - 1;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (z->cdf[mid] < u)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Scatter ranks over the block space so popularity is not block order. */
static uint64_t scatter(uint64_t r)
{
	return (r * 0x9e3779b97f4a7c15ULL) >> 20;
}

static bool get_param(const char *spec, const char *key, double *v)
{
	size_t kl = strlen(key);
	for (const char *p = strchr(spec, ','); p; p = strchr(p + 1, ',')) {
		if (!strncmp(p + 1, key, kl) && p[1 + kl] == '=') {
			*v = strtod(p + 2 + kl, NULL);
			return true;
		}
	}
	return false;
}

int sim_generate(const char *spec, uint64_t seed, struct sim_trace *t)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->name, sizeof(t->name), "%s", spec);
	double n = 0, alpha = 0.9, len = 0, every = 0, scan = 0;
	get_param(spec, "n", &n);
	get_param(spec, "alpha", &alpha);
	get_param(spec, "len", &len);
	get_param(spec, "every", &every);
	get_param(spec, "scan", &scan);
	if (n < 1 || len < 1) {
		fprintf(stderr, "arcsim: %s: need n= and len=\n", spec);
		return -EINVAL;
	}
	t->blocks = malloc((size_t)len * sizeof(uint64_t));
	if (!t->blocks)
		return -ENOMEM;
	uint64_t rs = seed;
	bool is_zipf = !strncmp(spec, "zipf", 4), is_loop = !strncmp(spec, "loop", 4);
	bool is_scan = !strncmp(spec, "scan", 4);
	if (!is_zipf && !is_loop && !is_scan) {
		fprintf(stderr, "arcsim: unknown generator %s (zipf, loop, scan)\n", spec);
		free(t->blocks);
		t->blocks = NULL;
		return -EINVAL;
	}
	if (is_scan && (every < 1 || scan < 1)) {
		fprintf(stderr, "arcsim: %s: need every= and scan=\n", spec);
		free(t->blocks);
		t->blocks = NULL;
		return -EINVAL;
	}
	struct zipf z = {0};
	if (!is_loop && zipf_init(&z, (size_t)n, alpha)) {
		free(t->blocks);
		t->blocks = NULL;
		return -ENOMEM;
	}
	uint64_t fresh = 1ULL << 62; /* scan blocks: never seen before or again */
	size_t since_scan = 0;
	while (t->n < (size_t)len) {
		if (is_loop) {
			t->blocks[t->n] = t->n % (size_t)n;
			t->n++;
			continue;
		}
		if (is_scan && since_scan >= (size_t)every) {
			for (size_t i = 0; i < (size_t)scan && t->n < (size_t)len; i++)
				t->blocks[t->n++] = fresh++;
			since_scan = 0;
			continue;
		}
		t->blocks[t->n++] = scatter(zipf_draw(&z, &rs));
		since_scan++;
	}
	free(z.cdf);
	return 0;
}

int sim_densify(struct sim_trace *t)
{
	size_t cap = 1;
	while (cap < t->n * 2)
		cap <<= 1;
	uint64_t *keys = malloc(cap * sizeof(uint64_t));
	uint32_t *vals = malloc(cap * sizeof(uint32_t));
	bool *used = calloc(cap, sizeof(bool));
	t->ids = malloc(t->n * sizeof(uint32_t));
	if (!keys || !vals || !used || !t->ids) {
		free(keys);
		free(vals);
		free(used);
		return -ENOMEM;
	}
	uint32_t next = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint64_t b = t->blocks[i];
		uint64_t h = (b * 0x9e3779b97f4a7c15ULL) ^ (b >> 29);
		size_t j = (size_t)(h ^ (h >> 32)) & (cap - 1);
		while (used[j] && keys[j] != b)
			j = (j + 1) & (cap - 1);
		if (!used[j]) {
			used[j] = true;
			keys[j] = b;
			vals[j] = next++;
		}
		t->ids[i] = vals[j];
	}
	t->ndistinct = next;
	free(keys);
	free(vals);
	free(used);
	return 0;
}

void sim_trace_free(struct sim_trace *t)
{
	free(t->blocks);
	free(t->ids);
	t->blocks = NULL;
	t->ids = NULL;
	t->n = t->ndistinct = 0;
}
