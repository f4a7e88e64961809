/*
 * guest-bench: karst's `bench` workloads for the Linux guest of
 * tools/karst-compare. Built statically for the guest's architecture and
 * put in its initramfs; prints the same `name: value unit` figure lines
 * as karst's `bench idle` and `bench blk_raw`, measured the same way:
 *
 *   idle              free memory (MemFree) and threads (every task of
 *                     every process, kernel threads included) right now
 *   blk_raw DEVICE    the device's first 16 MiB with O_DIRECT: 64 KiB
 *                     sequential writes then reads, then 2000 4 KiB reads
 *                     at xorshift-random 4 KiB blocks (karst's seed), at
 *                     1 request in flight (pwrite/pread) and 32 (Linux
 *                     AIO, io_submit/io_getevents); each figure the best
 *                     of 3 passes, as kernel/drivers/blk_bench.c does.
 *
 * A benchmark: it prints figures and never fails on speed; it exits 1
 * only when it cannot run (no device, I/O errors), saying why.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/aio_abi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define REGION	   (16ULL << 20)
#define BLK_PASSES 3
#define RAND_COUNT 2000
#define MAX_QD	   32

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int bench_idle(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	if (!f) {
		perror("guest-bench: /proc/meminfo");
		return 1;
	}
	char line[256];
	unsigned long free_kib = 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemFree: %lu kB", &free_kib) == 1)
			break;
	fclose(f);

	DIR *proc = opendir("/proc");
	if (!proc) {
		perror("guest-bench: /proc");
		return 1;
	}
	int threads = 0;
	struct dirent *d;
	while ((d = readdir(proc))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		char path[300];
		snprintf(path, sizeof(path), "/proc/%s/task", d->d_name);
		DIR *task = opendir(path);
		if (!task)
			continue; /* exited meanwhile */
		struct dirent *t;
		while ((t = readdir(task)))
			if (t->d_name[0] >= '0' && t->d_name[0] <= '9')
				threads++;
		closedir(task);
	}
	closedir(proc);
	printf("idle.free_kib: %lu KiB\n", free_kib);
	printf("idle.threads: %d\n", threads);
	return 0;
}

/* Linux AIO through its system calls (no libaio in the guest). */
static long io_setup(unsigned n, aio_context_t *ctx)
{
	return syscall(SYS_io_setup, n, ctx);
}
static long io_submit(aio_context_t ctx, long n, struct iocb **cbs)
{
	return syscall(SYS_io_submit, ctx, n, cbs);
}
static long io_getevents(aio_context_t ctx, long min, long max, struct io_event *ev)
{
	return syscall(SYS_io_getevents, ctx, min, max, ev, NULL);
}

struct blk {
	int fd;
	aio_context_t ctx;
	uint8_t *buf; /* MAX_QD slots of 64 KiB */
	int errors;
};

/* The byte offset of request i: sequential, or karst's xorshift sequence. */
static uint64_t req_offset(unsigned i, size_t bs, int random, uint64_t *x)
{
	uint64_t blocks = REGION / bs, blk = i % blocks;
	if (random) {
		*x ^= *x << 13;
		*x ^= *x >> 7;
		*x ^= *x << 17;
		blk = *x % blocks;
	}
	return blk * bs;
}

/* count requests of bs bytes, qd in flight; ns taken. */
static uint64_t run_io(struct blk *b, int write, size_t bs, unsigned count, unsigned qd, int random)
{
	uint64_t x = 88172645463325252ULL;
	uint64_t t0 = now_ns();
	if (qd == 1) {
		for (unsigned i = 0; i < count; i++) {
			off_t off = (off_t)req_offset(i, bs, random, &x);
			ssize_t n =
			    write ? pwrite(b->fd, b->buf, bs, off) : pread(b->fd, b->buf, bs, off);
			if (n != (ssize_t)bs)
				b->errors++;
		}
		return now_ns() - t0;
	}
	struct iocb cbs[MAX_QD], *cbp[1];
	struct io_event ev[MAX_QD];
	unsigned issued = 0, done = 0, inflight = 0;
	while (done < count) {
		while (inflight < qd && issued < count) {
			/* Buffers are used round-robin as karst does; the
			 * kernel copies an iocb at submission. */
			unsigned slot = issued % qd;
			struct iocb *cb = &cbs[slot];
			memset(cb, 0, sizeof(*cb));
			cb->aio_fildes = (uint32_t)b->fd;
			cb->aio_lio_opcode = write ? IOCB_CMD_PWRITE : IOCB_CMD_PREAD;
			cb->aio_buf = (uint64_t)(uintptr_t)(b->buf + (size_t)slot * 65536);
			cb->aio_nbytes = bs;
			cb->aio_offset = (int64_t)req_offset(issued, bs, random, &x);
			cb->aio_data = slot;
			cbp[0] = cb;
			if (io_submit(b->ctx, 1, cbp) != 1) {
				b->errors++;
				issued++;
				done++;
				continue;
			}
			issued++;
			inflight++;
		}
		if (!inflight)
			continue;
		long n = io_getevents(b->ctx, 1, MAX_QD, ev);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			b->errors += (int)inflight;
			return now_ns() - t0;
		}
		for (long i = 0; i < n; i++)
			if (ev[i].res != (int64_t)bs)
				b->errors++;
		inflight -= (unsigned)n;
		done += (unsigned)n;
	}
	return now_ns() - t0;
}

static int bench_blk_raw(const char *dev)
{
	struct blk b = {.fd = open(dev, O_RDWR | O_DIRECT)};
	if (b.fd < 0) {
		fprintf(stderr, "guest-bench: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	if (io_setup(MAX_QD, &b.ctx) != 0) {
		perror("guest-bench: io_setup");
		return 1;
	}
	if (posix_memalign((void **)&b.buf, 4096, MAX_QD * 65536) != 0) {
		fprintf(stderr, "guest-bench: out of memory\n");
		return 1;
	}
	memset(b.buf, 0, MAX_QD * 65536);
	static const unsigned qds[2] = {1, 32};
	for (int q = 0; q < 2; q++) {
		unsigned n = (unsigned)(REGION / 65536);
		uint64_t w = UINT64_MAX, rd = UINT64_MAX, ri = UINT64_MAX, t;
		for (int pass = 0; pass < BLK_PASSES; pass++) {
			t = run_io(&b, 1, 65536, n, qds[q], 0);
			w = t < w ? t : w;
			t = run_io(&b, 0, 65536, n, qds[q], 0);
			rd = t < rd ? t : rd;
			t = run_io(&b, 0, 4096, RAND_COUNT, qds[q], 1);
			ri = t < ri ? t : ri;
		}
		printf("blk.seq_write_qd%u: %lu MB/s\n", qds[q],
		       (unsigned long)(REGION * 1000 / (w ? w : 1)));
		printf("blk.seq_read_qd%u: %lu MB/s\n", qds[q],
		       (unsigned long)(REGION * 1000 / (rd ? rd : 1)));
		printf("blk.rand_read_qd%u: %lu IOPS\n", qds[q],
		       (unsigned long)(RAND_COUNT * 1000000000ULL / (ri ? ri : 1)));
	}
	if (b.errors)
		printf("guest-bench: blk_raw: %d requests failed\n", b.errors);
	close(b.fd);
	return b.errors ? 1 : 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "idle") == 0)
		return bench_idle();
	if (argc == 3 && strcmp(argv[1], "blk_raw") == 0)
		return bench_blk_raw(argv[2]);
	fprintf(stderr, "usage: guest-bench idle | blk_raw DEVICE\n");
	return 2;
}
