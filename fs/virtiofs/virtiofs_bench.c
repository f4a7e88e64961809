/*
 * `bench virtiofs`: sequential reads of a shared file through virtio-fs
 * with read windows of 0, 32 and 128 MiB. A benchmark, not a test: it
 * prints figures and never fails on speed.
 *
 * It needs a device tagged "bench" sharing a directory that holds
 * bench.bin (tools/karst-bench virtiofs makes a 64 MiB one). For each
 * window size and read size (1 MiB, 64 KiB) it mounts a new session (an
 * empty window), reads the file twice: cold (through the host) and warm
 * (from the window when it holds the file), and prints MB/s and FUSE
 * requests per MiB read for each pass; then the same for an mmap of the
 * file touched page by page (pages lent from the window or filled).
 */
#include "dax.h"
#include "virtiofs.h"

#include <errno.h>
#include <karst/bench.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/time.h>
#include <pagecache.h>
#include <string.h>
#include <vfs.h>

#define BENCH_TAG  "bench"
#define BENCH_MNT  "/vbench"
#define BENCH_FILE BENCH_MNT "/bench.bin"

static uint64_t all_requests(struct virtiofs_conn *conn)
{
	uint64_t n = 0;
	for (unsigned op = 0; op < VIRTIOFS_OPS; op++)
		n += atomic_load(&conn->ops_stat[op].requests);
	return n;
}

struct pass {
	uint64_t ns, reqs;
};

static int read_pass(size_t rsize, char *buf, uint64_t size, struct virtiofs_conn *conn,
		     struct pass *p)
{
	uint64_t r0 = all_requests(conn), t0 = time_ns();
	int fd = vfs_open(BENCH_FILE, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	uint64_t got = 0;
	long n;
	while ((n = vfs_read(fd, buf, rsize)) > 0)
		got += (uint64_t)n;
	vfs_close(fd);
	p->ns = time_ns() - t0;
	p->reqs = all_requests(conn) - r0;
	return n < 0 ? (int)n : got == size ? 0 : -EIO;
}

static volatile uint32_t bench_sink;

static int map_pass(uint64_t size, struct virtiofs_conn *conn, struct pass *p)
{
	uint64_t r0 = all_requests(conn), t0 = time_ns();
	int fd = vfs_open(BENCH_FILE, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	void *m = NULL;
	int e = pc_mmap(fd, size, VFS_PROT_READ, VFS_MAP_SHARED, 0, &m);
	if (!e) {
		uint32_t s = 0;
		for (uint64_t off = 0; off < size; off += PAGE_SIZE)
			s += ((volatile const uint8_t *)m)[off];
		bench_sink = s;
		pc_munmap(m, size);
	}
	vfs_close(fd);
	p->ns = time_ns() - t0;
	p->reqs = all_requests(conn) - r0;
	return e;
}

static unsigned long mbps(uint64_t bytes, uint64_t ns)
{
	return ns ? (unsigned long)(bytes * 1000 / ns) : 0;
}

/* requests per MiB, in hundredths */
static unsigned long per_mib100(uint64_t reqs, uint64_t bytes)
{
	return bytes ? (unsigned long)(reqs * 100 * (1 << 20) / bytes) : 0;
}

static void report(const char *what, uint64_t window, uint64_t size, const struct pass *cold,
		   const struct pass *warm)
{
	unsigned long c = per_mib100(cold->reqs, size), w = per_mib100(warm->reqs, size);
	printk("virtiofs: window %3lu MiB, %-12s cold %5lu MB/s %3lu.%02lu req/MiB, warm %5lu MB/s "
	       "%3lu.%02lu req/MiB\n",
	       (unsigned long)(window >> 20), what, mbps(size, cold->ns), c / 100, c % 100,
	       mbps(size, warm->ns), w / 100, w % 100);
}

static void bench_virtiofs(void)
{
	struct virtiofs_conn *conn = virtiofs_conn_find(BENCH_TAG);
	if (!conn) {
		printk("virtiofs: no device tagged '" BENCH_TAG
		       "' (tools/karst-bench virtiofs shares one holding bench.bin)\n");
		return;
	}
	int e = vfs_mkdir(BENCH_MNT, 0755);
	if (e && e != -EEXIST) {
		printk("virtiofs: mkdir " BENCH_MNT ": %s\n", vfs_errname(e));
		return;
	}
	char *buf = kmalloc(1 << 20);
	if (!buf)
		return;
	static const uint64_t windows[] = {0, 32ULL << 20, 128ULL << 20};
	static const size_t rsizes[] = {1 << 20, 64 << 10};
	for (unsigned w = 0; w < 3; w++) {
		char opts[32];
		ksnprintf(opts, sizeof(opts), "window=%luM", (unsigned long)(windows[w] >> 20));
		for (unsigned r = 0; r <= 2; r++) { /* 1 MiB reads, 64 KiB reads, mmap */
			e = vfs_mount(BENCH_TAG, BENCH_MNT, "virtiofs", 0, opts);
			if (e) {
				printk("virtiofs: mount %s: %s\n", opts, vfs_errname(e));
				goto out;
			}
			struct vfs_stat st;
			e = vfs_stat(BENCH_FILE, &st);
			struct pass cold = {0}, warm = {0};
			if (!e && r < 2) {
				e = read_pass(rsizes[r], buf, st.st_size, conn, &cold);
				if (!e)
					e = read_pass(rsizes[r], buf, st.st_size, conn, &warm);
			} else if (!e) {
				e = map_pass(st.st_size, conn, &cold);
				if (!e)
					e = map_pass(st.st_size, conn, &warm);
			}
			if (!e)
				report(r == 0	? "1 MiB reads,"
				       : r == 1 ? "64 KiB reads,"
						: "mmap,",
				       windows[w], st.st_size, &cold, &warm);
			else
				printk("virtiofs: " BENCH_FILE ": %s\n", vfs_errname(e));
			int u = vfs_umount(BENCH_MNT);
			if (e || u)
				goto out;
		}
	}
out:
	kfree(buf);
}
KARST_BENCH("virtiofs", bench_virtiofs,
	    "virtio-fs sequential reads and mmap, cold and warm, windows 0/32/128 MiB");
