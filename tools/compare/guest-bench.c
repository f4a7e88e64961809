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
 *   fs DIR [MiB]      karst's `fsbench all` on the filesystem mounted at
 *                     DIR (fs/vfs/vfs_bench_cmds.c has the steps): write
 *                     + fsync, remount (timed: fs.mount_ms) and
 *                     drop_caches, cold read, warm read, remount and
 *                     drop_caches, 4 KiB random reads, create/stat/unlink
 *   read FILE [NAME]  read FILE once: `NAME: N MB/s` (karst's `fsbench
 *                     read`)
 *   drop              sync; echo 3 > /proc/sys/vm/drop_caches: Linux's
 *                     cold cache (karst remounts instead)
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
#include <sys/mount.h>
#include <sys/stat.h>
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

/* ---- filesystem workloads: the steps of karst's fsbench ---- */
#define FSB_BLOCK (1u << 20)
#define FSB_RAND  2000
#define FSB_FILES 1000

static int fsb_fail(const char *what, const char *path)
{
	fprintf(stderr, "guest-bench: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

static unsigned long fsb_rate(uint64_t n, uint64_t ns)
{
	return (unsigned long)(n * 1000 / (ns ? ns : 1));
}

static int bench_drop(void)
{
	sync();
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd < 0 || write(fd, "3\n", 2) != 2)
		return fsb_fail("write", "/proc/sys/vm/drop_caches");
	close(fd);
	return 0;
}

/* Unmount DIR and mount it again as /proc/mounts has it (source, type);
 * *ns gets the mount(2) call's time. Then drop the caches. */
static int fsb_remount(const char *dir, uint64_t *ns)
{
	FILE *f = fopen("/proc/mounts", "r");
	if (!f)
		return fsb_fail("open", "/proc/mounts");
	char src[256], mnt[256], type[64], line[1024];
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		char s[256], m[256], t[64];
		if (sscanf(line, "%255s %255s %63s", s, m, t) == 3 && strcmp(m, dir) == 0) {
			strcpy(src, s);
			strcpy(type, t);
			strcpy(mnt, m);
			found = 1;
		}
	}
	fclose(f);
	if (!found) {
		fprintf(stderr, "guest-bench: %s is not a mount point\n", dir);
		return 1;
	}
	sync();
	if (umount(dir) != 0)
		return fsb_fail("umount", dir);
	uint64_t t0 = now_ns();
	if (mount(src, dir, type, 0, NULL) != 0)
		return fsb_fail("mount", dir);
	if (ns)
		*ns = now_ns() - t0;
	return bench_drop();
}

static int fsb_read_all(const char *path, uint8_t *buf, uint64_t *bytes, uint64_t *ns)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return fsb_fail("open", path);
	uint64_t t0 = now_ns(), done = 0;
	ssize_t n;
	while ((n = read(fd, buf, FSB_BLOCK)) > 0)
		done += (uint64_t)n;
	*ns = now_ns() - t0;
	*bytes = done;
	close(fd);
	return n < 0 ? fsb_fail("read", path) : 0;
}

static int fsb_seq_write(const char *path, const uint8_t *buf, uint64_t mib)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fsb_fail("create", path);
	uint64_t t0 = now_ns();
	for (uint64_t i = 0; i < mib; i++)
		if (write(fd, buf, FSB_BLOCK) != FSB_BLOCK)
			return fsb_fail("write", path);
	if (fsync(fd) != 0)
		return fsb_fail("fsync", path);
	uint64_t ns = now_ns() - t0;
	close(fd);
	printf("fs.seq_write_fsync: %lu MB/s\n", fsb_rate(mib * FSB_BLOCK, ns));
	return 0;
}

static int fsb_rand_read(const char *path, uint8_t *buf, uint64_t size)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return fsb_fail("open", path);
	uint64_t x = 88172645463325252ULL, blocks = size / 4096, t0 = now_ns();
	for (int i = 0; i < FSB_RAND; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		if (pread(fd, buf, 4096, (off_t)((x % blocks) * 4096)) != 4096)
			return fsb_fail("pread", path);
	}
	uint64_t ns = now_ns() - t0;
	close(fd);
	printf("fs.rand_read_4k: %lu IOPS\n", fsb_rate((uint64_t)FSB_RAND * 1000000, ns));
	return 0;
}

static int fsb_create_stat_unlink(const char *dir)
{
	char d[512], path[600];
	snprintf(d, sizeof(d), "%s/fsbench.d", dir);
	if (mkdir(d, 0755) != 0)
		return fsb_fail("mkdir", d);
	struct stat st;
	uint64_t t0 = now_ns();
	for (int i = 0; i < FSB_FILES; i++) {
		snprintf(path, sizeof(path), "%s/f%d", d, i);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			return fsb_fail("create", path);
		close(fd);
	}
	for (int i = 0; i < FSB_FILES; i++) {
		snprintf(path, sizeof(path), "%s/f%d", d, i);
		if (stat(path, &st) != 0)
			return fsb_fail("stat", path);
	}
	for (int i = 0; i < FSB_FILES; i++) {
		snprintf(path, sizeof(path), "%s/f%d", d, i);
		if (unlink(path) != 0)
			return fsb_fail("unlink", path);
	}
	uint64_t ns = now_ns() - t0;
	rmdir(d);
	printf("fs.create_stat_unlink: %lu ops/s\n", fsb_rate(3ULL * FSB_FILES * 1000000, ns));
	return 0;
}

static int bench_fs(const char *dir, uint64_t mib)
{
	uint8_t *buf = malloc(FSB_BLOCK);
	if (!buf || mib == 0 || mib > 4096) {
		fprintf(stderr, "guest-bench: fs: bad size or out of memory\n");
		return 1;
	}
	uint64_t x = 88172645463325252ULL;
	for (size_t i = 0; i + 8 <= FSB_BLOCK; i += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(buf + i, &x, 8);
	}
	char file[512];
	snprintf(file, sizeof(file), "%s/fsbench.dat", dir);
	uint64_t ns, bytes;
	int r = fsb_seq_write(file, buf, mib);
	if (!r)
		r = fsb_remount(dir, &ns);
	if (r)
		return r;
	printf("fs.mount_ms: %lu.%03lu ms\n", (unsigned long)(ns / 1000000),
	       (unsigned long)(ns / 1000 % 1000));
	if ((r = fsb_read_all(file, buf, &bytes, &ns)))
		return r;
	printf("fs.seq_read_cold: %lu MB/s\n", fsb_rate(bytes, ns));
	if ((r = fsb_read_all(file, buf, &bytes, &ns)))
		return r;
	printf("fs.seq_read_warm: %lu MB/s\n", fsb_rate(bytes, ns));
	if ((r = fsb_remount(dir, NULL)) || (r = fsb_rand_read(file, buf, mib * FSB_BLOCK)))
		return r;
	if ((r = fsb_create_stat_unlink(dir)))
		return r;
	if (unlink(file) != 0)
		return fsb_fail("unlink", file);
	free(buf);
	return 0;
}

static int bench_read(const char *path, const char *name)
{
	uint8_t *buf = malloc(FSB_BLOCK);
	uint64_t bytes, ns;
	if (!buf || fsb_read_all(path, buf, &bytes, &ns))
		return 1;
	printf("%s: %lu MB/s\n", name, fsb_rate(bytes, ns));
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && strcmp(argv[1], "idle") == 0)
		return bench_idle();
	if (argc == 3 && strcmp(argv[1], "blk_raw") == 0)
		return bench_blk_raw(argv[2]);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "fs") == 0)
		return bench_fs(argv[2], argc == 4 ? strtoull(argv[3], NULL, 0) : 64);
	if ((argc == 3 || argc == 4) && strcmp(argv[1], "read") == 0)
		return bench_read(argv[2], argc == 4 ? argv[3] : "fs.seq_read");
	if (argc == 2 && strcmp(argv[1], "drop") == 0)
		return bench_drop();
	fprintf(stderr,
		"usage: guest-bench idle | blk_raw DEVICE | fs DIR [MiB] | read FILE [NAME] | "
		"drop\n");
	return 2;
}
