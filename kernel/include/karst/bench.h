/*
 * Benchmarks inside the kernel: `bench NAME` in the shell runs one,
 * `bench` lists them. A benchmark prints figures and never fails on speed
 * (tests are separate). Subsystems register with KARST_BENCH in the
 * karst_bench linker section; tools/karst-bench runs them under QEMU.
 */
#ifndef KARST_BENCH_H
#define KARST_BENCH_H

#include <karst/compiler.h>

struct karst_bench {
	const char *name;
	void (*fn)(void);
	const char *what;
};

#define KARST_BENCH(bname, func, whattext)                                                         \
	static const struct karst_bench __bench_##func __used __section("karst_bench")             \
	    __aligned(8) = {.name = (bname), .fn = (func), .what = (whattext)}

#endif
