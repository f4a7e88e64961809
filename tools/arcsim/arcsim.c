/*
 * arcsim: hit ratios of ARC (fs/arc), LRU and Belady's OPT on a block trace,
 * per cache size, as a table or CSV; and the ARC benchmark.
 *
 *   arcsim [options] TRACE          a trace file (one block per line, or SPC)
 *   arcsim [options] --gen SPEC     a synthetic trace (see sim.h)
 *   arcsim --bench [--threads 1,2,4,8] [--seconds S]
 *
 * Options: --sizes N,N,...  cache sizes in blocks (default: 1, 2, 5, 10, 20
 * and 50% of the distinct blocks); --csv; --format auto|plain|spc; --reads
 * (SPC: reads only); --opt-bypass (OPT may decline to cache a block);
 * --nsub N (ARC list shards); --seed N.
 */
#include "arc.h"
#include "sim.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
	fprintf(stderr,
		"usage: arcsim [--sizes N,...] [--csv] [--format auto|plain|spc] [--reads]\n"
		"              [--opt-bypass] [--nsub N] [--seed N] (TRACE | --gen SPEC)\n"
		"       arcsim --bench [--threads 1,2,4,8] [--seconds S]\n"
		"SPEC: zipf,n=N,alpha=A,len=L | loop,n=N,len=L |\n"
		"      scan,n=N,alpha=A,len=L,every=E,scan=S\n");
	exit(2);
}

static int parse_list(const char *s, unsigned long *out, int max)
{
	int n = 0;
	while (*s && n < max) {
		char *end;
		out[n++] = strtoul(s, &end, 10);
		if (end == s)
			usage();
		s = *end == ',' ? end + 1 : end;
	}
	return n;
}

int main(int argc, char **argv)
{
	unsigned long sizes[64];
	int nsizes = 0;
	bool csv = false, reads = false, bypass = false, bench = false;
	const char *fmt = "auto", *gen = NULL, *path = NULL;
	unsigned long threads[16] = {1, 2, 4, 8};
	int nthreads = 4;
	double seconds = 1.0;
	unsigned nsub = 1;
	uint64_t seed = 42;

	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		bool more = i + 1 < argc;
		if (!strcmp(o, "--sizes") && more)
			nsizes = parse_list(argv[++i], sizes, 64);
		else if (!strcmp(o, "--csv"))
			csv = true;
		else if (!strcmp(o, "--format") && more)
			fmt = argv[++i];
		else if (!strcmp(o, "--reads"))
			reads = true;
		else if (!strcmp(o, "--opt-bypass"))
			bypass = true;
		else if (!strcmp(o, "--nsub") && more)
			nsub = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(o, "--seed") && more)
			seed = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(o, "--gen") && more)
			gen = argv[++i];
		else if (!strcmp(o, "--bench"))
			bench = true;
		else if (!strcmp(o, "--threads") && more)
			nthreads = parse_list(argv[++i], threads, 16);
		else if (!strcmp(o, "--seconds") && more)
			seconds = strtod(argv[++i], NULL);
		else if (o[0] != '-' && !path)
			path = o;
		else
			usage();
	}
	if (bench) {
		unsigned t[16];
		for (int i = 0; i < nthreads; i++)
			t[i] = (unsigned)threads[i];
		sim_bench(t, nthreads, seconds);
		return 0;
	}
	if (!!gen == !!path)
		usage();

	struct sim_trace t;
	int err = gen ? sim_generate(gen, seed, &t) : sim_read_trace(path, fmt, reads, &t);
	if (err)
		return 1;
	if (sim_densify(&t)) {
		fprintf(stderr, "arcsim: out of memory\n");
		return 1;
	}
	if (nsizes == 0) {
		static const double pct[] = {0.01, 0.02, 0.05, 0.10, 0.20, 0.50};
		for (size_t i = 0; i < sizeof(pct) / sizeof(pct[0]); i++) {
			unsigned long s = (unsigned long)((double)t.ndistinct * pct[i]);
			sizes[nsizes++] = s ? s : 1;
		}
	}

	if (csv)
		printf("trace,requests,distinct,size,arc,lru,opt\n");
	else
		printf("trace %s: %zu requests, %zu distinct blocks\n"
		       "%10s %8s %8s %8s %9s %9s\n",
		       t.name, t.n, t.ndistinct, "size", "ARC", "LRU", "OPT", "ARC-LRU", "OPT-ARC");
	for (int i = 0; i < nsizes; i++) {
		double n = (double)t.n;
		double arc = (double)sim_arc(&t, sizes[i], nsub) / n;
		double lru = (double)sim_lru(&t, sizes[i]) / n;
		double opt = (double)sim_opt(&t, sizes[i], bypass) / n;
		if (csv)
			printf("\"%s\",%zu,%zu,%lu,%.6f,%.6f,%.6f\n", t.name, t.n, t.ndistinct,
			       sizes[i], arc, lru, opt);
		else
			printf("%10lu %8.4f %8.4f %8.4f %+9.4f %9.4f\n", sizes[i], arc, lru, opt,
			       arc - lru, opt - arc);
		fflush(stdout);
	}
	sim_trace_free(&t);
	return 0;
}
