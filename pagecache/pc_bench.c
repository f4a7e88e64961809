/*
 * `bench pagecache` (or pc_read, pc_fault, pc_scan): the page cache's
 * figures. A benchmark, not a test: it prints numbers, never fails on
 * speed. Files are ramfs files, whose pages are the cache's.
 *   pc_read   read() of a cached 8 MiB file in 4 KiB and 1 MiB reads, MB/s,
 *             best of three passes, beside memcpy of the same sizes between
 *             two kernel buffers (the physical limit of a copy)
 *   pc_fault  first touch of a shared file mapping, ns per page (the whole
 *             fault path: trap, vm_fault, the pager's lookup, the leaf, the
 *             reverse map), over 16 MiB
 *   pc_scan   the access scanner over 64 MiB mapped: pages scanned per ms
 *             (one pass, all accessed / none accessed), then the thread's
 *             CPU share for 4 s with the pages idle and for 4 s with a
 *             thread touching 10% of them, and the access-flag faults per
 *             second the scanning causes (aarch64 in software mode)
 */
#include "pc_impl.h"

#include <karst/arch.h>
#include <karst/bench.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <string.h>
#include <vfs.h>

static volatile unsigned sink;

static int bench_file(const char *path, size_t size)
{
	int fd = vfs_open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	if (fd < 0)
		return fd;
	char *buf = kmalloc(1 << 20);
	if (!buf) {
		vfs_close(fd);
		return -12;
	}
	memset(buf, 0x5a, 1 << 20);
	for (size_t off = 0; off < size; off += 1 << 20)
		vfs_write(fd, buf, 1 << 20);
	kfree(buf);
	return fd;
}

static uint64_t mbps(uint64_t bytes, uint64_t ns)
{
	return ns ? bytes * 1000 / ns : 0; /* bytes/ns * 1000 = MB/s */
}

static void bench_pc_read(void)
{
	const size_t size = 8 << 20;
	int fd = bench_file("/bench_pc_read", size);
	if (fd < 0) {
		printk("pc_read: cannot make the file (%d)\n", fd);
		return;
	}
	char *buf = kmalloc(1 << 20), *src = kmalloc(1 << 20);
	static const size_t sizes[] = {4096, 1 << 20};
	for (int s = 0; s < 2; s++) {
		size_t rs = sizes[s];
		uint64_t best_r = UINT64_MAX, best_c = UINT64_MAX;
		for (int pass = 0; pass < 3; pass++) {
			uint64_t t0 = time_ns();
			for (size_t off = 0; off < size; off += rs)
				vfs_pread(fd, buf, rs, (int64_t)off);
			uint64_t t1 = time_ns();
			for (size_t off = 0; off < size; off += rs)
				memcpy(buf, src + (off & ((1 << 20) - 1) & ~(rs - 1)), rs);
			uint64_t t2 = time_ns();
			best_r = t1 - t0 < best_r ? t1 - t0 : best_r;
			best_c = t2 - t1 < best_c ? t2 - t1 : best_c;
		}
		printk("pc_read: read() %7lu-byte reads of a cached file: %5lu MB/s;"
		       " memcpy of the same sizes: %5lu MB/s\n",
		       (unsigned long)rs, (unsigned long)mbps(size, best_r),
		       (unsigned long)mbps(size, best_c));
	}
	kfree(buf);
	kfree(src);
	vfs_close(fd);
	vfs_unlink("/bench_pc_read");
}

static void bench_pc_fault(void)
{
	const size_t size = 16 << 20, pages = size / PAGE_SIZE;
	int fd = bench_file("/bench_pc_fault", size);
	if (fd < 0)
		return;
	for (int pass = 0; pass < 2; pass++) {
		volatile uint8_t *p;
		int e = pc_mmap(fd, size, VFS_PROT_READ, VFS_MAP_SHARED, 0, (void **)&p);
		if (e) {
			printk("pc_fault: mmap failed (%d)\n", e);
			break;
		}
		uint64_t t0 = time_ns();
		for (size_t i = 0; i < pages; i++)
			sink += p[i * PAGE_SIZE];
		uint64_t t1 = time_ns();
		for (size_t i = 0; i < pages; i++)
			sink += p[i * PAGE_SIZE + 1];
		uint64_t t2 = time_ns();
		printk("pc_fault: first touch of a file mapping: %lu ns/page (a touch of a mapped "
		       "page: %lu ns), %lu pages\n",
		       (unsigned long)((t1 - t0) / pages), (unsigned long)((t2 - t1) / pages),
		       (unsigned long)pages);
		pc_munmap((void *)p, size);
	}
	vfs_close(fd);
	vfs_unlink("/bench_pc_fault");
}

static volatile bool toucher_stop;
static volatile uint8_t *toucher_p;
static size_t toucher_pages;

static void toucher(void *arg)
{
	(void)arg;
	while (!toucher_stop) {
		for (size_t i = 0; i < toucher_pages; i += 10)
			sink += toucher_p[i * PAGE_SIZE];
		thread_sleep_ns(NSEC_PER_MSEC);
	}
}

static void share_phase(const char *what, uint64_t ns)
{
	struct pc_stats s0, s1;
	struct vm_stats v0, v1;
	pc_stats_get(&s0);
	vm_get_stats(&v0);
	uint64_t c0 = pc_scanner_cpu_ns(), t0 = time_ns();
	thread_sleep_ns(ns);
	uint64_t c1 = pc_scanner_cpu_ns(), t1 = time_ns();
	pc_stats_get(&s1);
	vm_get_stats(&v1);
	uint64_t el = t1 - t0;
	printk(
	    "pc_scan: %s: scanner CPU %lu.%03lu%% of one CPU (its controller: now %lu.%03lu%%, "
	    "avg %lu.%03lu%%), %lu pages scanned, %lu found accessed, %lu access-flag faults/s\n",
	    what, (unsigned long)((c1 - c0) * 100 / el),
	    (unsigned long)((c1 - c0) * 100000 / el % 1000),
	    (unsigned long)(s1.scan_cpu_ppm_now / 10000),
	    (unsigned long)(s1.scan_cpu_ppm_now / 10 % 1000),
	    (unsigned long)(s1.scan_cpu_ppm_avg / 10000),
	    (unsigned long)(s1.scan_cpu_ppm_avg / 10 % 1000),
	    (unsigned long)(s1.scan_scanned - s0.scan_scanned),
	    (unsigned long)(s1.scan_accessed - s0.scan_accessed),
	    (unsigned long)((v1.access_faults - v0.access_faults) * NSEC_PER_SEC / el));
}

static void bench_pc_scan(void)
{
	const size_t size = 64 << 20, pages = size / PAGE_SIZE;
	int fd = bench_file("/bench_pc_scan", size);
	if (fd < 0)
		return;
	volatile uint8_t *p;
	if (pc_mmap(fd, size, VFS_PROT_READ, VFS_MAP_SHARED, 0, (void **)&p) != 0) {
		vfs_close(fd);
		return;
	}
	for (size_t i = 0; i < pages; i++)
		sink += p[i * PAGE_SIZE];
	bool was_running = pc_scanner_running();
	pc_scanner_stop();
	uint64_t t0 = time_ns();
	size_t n = pc_scan_pass(pages);
	uint64_t t1 = time_ns();
	size_t n2 = pc_scan_pass(pages);
	uint64_t t2 = time_ns();
	printk("pc_scan: %lu pages scanned per ms with every page accessed (clear + flush), %lu "
	       "with none\n",
	       (unsigned long)(n * NSEC_PER_MSEC / (t1 - t0 ? t1 - t0 : 1)),
	       (unsigned long)(n2 * NSEC_PER_MSEC / (t2 - t1 ? t2 - t1 : 1)));
	pc_scanner_start();
	thread_sleep_ns(NSEC_PER_SEC); /* settle */
	share_phase("64 MiB mapped, idle", 4 * NSEC_PER_SEC);
	toucher_stop = false;
	toucher_p = p;
	toucher_pages = pages;
	struct thread *t = thread_create("pc_touch", toucher, NULL, THREAD_PRIO_DEFAULT);
	thread_sleep_ns(NSEC_PER_SEC);
	share_phase("64 MiB mapped, 10% touched", 4 * NSEC_PER_SEC);
	toucher_stop = true;
	if (t)
		thread_join(t);
	if (!was_running)
		pc_scanner_stop();
	pc_munmap((void *)p, size);
	vfs_close(fd);
	vfs_unlink("/bench_pc_scan");
}

static void bench_pagecache(void)
{
	bench_pc_read();
	bench_pc_fault();
	bench_pc_scan();
}

KARST_BENCH("pagecache", bench_pagecache, "page cache: read() MB/s, fault ns/page, scanner");
KARST_BENCH("pc_read", bench_pc_read, "page cache: read() of a cached file vs memcpy, MB/s");
KARST_BENCH("pc_fault", bench_pc_fault, "page cache: first-touch fault of a file mapping, ns/page");
KARST_BENCH("pc_scan", bench_pc_scan, "access scanner: pages/ms, CPU share idle and touched");
