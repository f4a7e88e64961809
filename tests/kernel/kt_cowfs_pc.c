/*
 * In-kernel tests of cowfs files in the page cache (fs/cowfs/cowfs_pc.c),
 * on a GEOM memory disk made inside the test: read() copies from held ARC
 * buffers (no page made); a mapping of a cowfs file reads what read()
 * reads, its pages lent from the ARC (no copy); a shared
 * write + msync survives an unmount and mount; a private write does not;
 * write() over a mapped lent page is seen through the mapping; a write
 * fault on a mapped lent page breaks the lend. A file read from start to
 * end has its next records read ahead (cowfs_prefetch.c), in runs that
 * take fewer device requests than blocks, unless the mount says
 * prefetch=0.
 */
#include <errno.h>
#include <geom.h>
#include <karst/kmem.h>
#include <karst/ktest.h>
#include <pagecache.h>
#include <string.h>
#include <vfs.h>

#include "cowfs.h"
#include "cowfs_pc.h"
#include "cowfs_vfs.h"
#include "kt_cowfs.h"

static uint64_t sum(const uint8_t *p, size_t n)
{
	uint64_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = s * 31 + p[i];
	return s;
}

#define CPC_LEN (300u << 10)

KTEST(cowfs_mmap)
{
	KT_ASSERT(kt_cowfs_make_pool("cwmd3", 16 << 20, COWFS_COMP_OFF) == 0);
	vfs_mkdir("/cwm", 0755);
	KT_ASSERT(vfs_mount("/dev/cwmd3", "/cwm", "cowfs", 0, "txg=1") == 0);
	uint8_t *buf = kmalloc(CPC_LEN), *back = kmalloc(CPC_LEN);
	KT_ASSERT(buf && back);
	for (size_t i = 0; i < CPC_LEN; i++)
		buf[i] = (uint8_t)(i * 13 + (i >> 12));
	int fd = vfs_open("/cwm/f", O_CREAT | O_RDWR, 0644);
	KT_ASSERT(fd >= 0);
	KT_EXPECT(vfs_write(fd, buf, CPC_LEN) == (long)CPC_LEN);
	KT_EXPECT(vfs_close(fd) == 0);
	/* Mount again: the blocks are committed, the ARC of this open cold. */
	KT_EXPECT(vfs_umount("/cwm") == 0);
	KT_ASSERT(vfs_mount("/dev/cwmd3", "/cwm", "cowfs", 0, "txg=1") == 0);

	struct cowfs_pc_stats s0, s1;
	cowfs_pc_stats_get(&s0);
	fd = vfs_open("/cwm/f", O_RDWR, 0);
	KT_ASSERT(fd >= 0);
	KT_EXPECT(vfs_read(fd, back, CPC_LEN) == (long)CPC_LEN);
	KT_EXPECT(!memcmp(back, buf, CPC_LEN));
	cowfs_pc_stats_get(&s1);
	/* read() copies from held ARC buffers, one span per record */
	KT_EXPECT(s1.spans - s0.spans == (CPC_LEN + (128u << 10) - 1) / (128u << 10));
	KT_EXPECT(s1.lends == s0.lends && s1.fills == s0.fills);
	uint8_t *m = NULL;
	KT_ASSERT(pc_mmap(fd, CPC_LEN, VFS_PROT_READ, VFS_MAP_SHARED, 0, (void **)&m) == 0);
	KT_EXPECT(sum(m, CPC_LEN) == sum(buf, CPC_LEN));
	KT_EXPECT(pc_munmap(m, CPC_LEN) == 0);
	cowfs_pc_stats_get(&s0);
	KT_EXPECT(s0.lends - s1.lends >= 64); /* mapped: ARC buffers, no copy */

	/* Shared write + msync; a private write nobody sees. */
	uint8_t *w = NULL, *pv = NULL;
	KT_ASSERT(pc_mmap(fd, CPC_LEN, VFS_PROT_READ | VFS_PROT_WRITE, VFS_MAP_SHARED, 0,
			  (void **)&w) == 0);
	KT_ASSERT(pc_mmap(fd, CPC_LEN, VFS_PROT_READ | VFS_PROT_WRITE, VFS_MAP_PRIVATE, 0,
			  (void **)&pv) == 0);
	memcpy(w + 10 * 4096 + 5, "shared", 6);
	memcpy(buf + 10 * 4096 + 5, "shared", 6);
	pv[20 * 4096] = 'p';
	KT_EXPECT(pc_msync(w, CPC_LEN) == 0);
	/* write() over a page the shared mapping has read (lent, mapped). */
	KT_EXPECT(w[30 * 4096] == buf[30 * 4096]);
	KT_EXPECT(vfs_pwrite(fd, "W", 1, 30 * 4096) == 1);
	buf[30 * 4096] = 'W';
	KT_EXPECT(w[30 * 4096] == 'W');
	/* A write fault on a mapped lent page: the lend is broken (unmapped,
	 * copied), the ARC's bytes untouched. */
	KT_EXPECT(w[40 * 4096] == buf[40 * 4096] && pv[40 * 4096] == buf[40 * 4096]);
	struct pc_stats p0, p1;
	pc_stats_get(&p0);
	w[40 * 4096] = 'F';
	buf[40 * 4096] = 'F';
	pc_stats_get(&p1);
	KT_EXPECT(p1.lends_broken - p0.lends_broken == 1);
	KT_EXPECT(pc_msync(w, CPC_LEN) == 0);
	KT_EXPECT(pc_munmap(w, CPC_LEN) == 0);
	KT_EXPECT(pc_munmap(pv, CPC_LEN) == 0);
	KT_EXPECT(vfs_close(fd) == 0);
	KT_EXPECT(vfs_umount("/cwm") == 0);

	KT_ASSERT(vfs_mount("/dev/cwmd3", "/cwm", "cowfs", 0, NULL) == 0);
	fd = vfs_open("/cwm/f", O_RDONLY, 0);
	KT_ASSERT(fd >= 0);
	memset(back, 0, CPC_LEN);
	KT_EXPECT(vfs_read(fd, back, CPC_LEN) == (long)CPC_LEN);
	KT_EXPECT(!memcmp(back, buf, CPC_LEN));
	KT_EXPECT(vfs_close(fd) == 0);
	KT_EXPECT(vfs_umount("/cwm") == 0);
	kfree(buf);
	kfree(back);
	KT_EXPECT(g_md_destroy("cwmd3", false) == 0);
}

struct kt_pf_find {
	const char *source;
	struct cowfs_pool_info pi;
	bool found;
};

static void kt_pf_one(void *arg, struct cowfs_mount *cm)
{
	struct kt_pf_find *f = arg;
	if (strcmp(cm->source, f->source) == 0) {
		cowfs_pool_info(cm->pool, &f->pi);
		f->found = true;
	}
}

#define CPF_LEN (4u << 20)

KTEST(cowfs_prefetch_seq)
{
	KT_ASSERT(kt_cowfs_make_pool("cwmd4", 32 << 20, COWFS_COMP_OFF) == 0);
	vfs_mkdir("/cwp", 0755);
	KT_ASSERT(vfs_mount("/dev/cwmd4", "/cwp", "cowfs", 0, NULL) == 0);
	uint8_t *buf = kmalloc(CPF_LEN), *back = kmalloc(256u << 10);
	KT_ASSERT(buf && back);
	for (size_t i = 0; i < CPF_LEN; i++)
		buf[i] = (uint8_t)(i * 7 + (i >> 11));
	int fd = vfs_open("/cwp/f", O_CREAT | O_WRONLY, 0644);
	KT_ASSERT(fd >= 0);
	KT_EXPECT(vfs_write(fd, buf, CPF_LEN) == (long)CPF_LEN);
	KT_EXPECT(vfs_close(fd) == 0);
	for (int pass = 0; pass < 2; pass++) {
		/* Cold (a new open of the pool), read in 256 KiB requests. */
		KT_EXPECT(vfs_umount("/cwp") == 0);
		KT_ASSERT(vfs_mount("/dev/cwmd4", "/cwp", "cowfs", 0, pass ? "prefetch=0" : NULL) ==
			  0);
		fd = vfs_open("/cwp/f", O_RDONLY, 0);
		KT_ASSERT(fd >= 0);
		for (size_t off = 0; off < CPF_LEN; off += 256u << 10) {
			KT_EXPECT(vfs_read(fd, back, 256u << 10) == (long)(256u << 10));
			KT_EXPECT(!memcmp(back, buf + off, 256u << 10));
		}
		KT_EXPECT(vfs_close(fd) == 0);
		struct kt_pf_find f = {.source = "cwmd4"};
		cowfs_foreach_mount(kt_pf_one, &f);
		KT_ASSERT(f.found);
		if (pass) {
			KT_EXPECT(f.pi.prefetch_queued == 0);
		} else {
			/* 32 records of 128 KiB: all but the first few ahead. */
			KT_EXPECT(f.pi.prefetch_queued >= 24 && f.pi.prefetch_queued <= 31);
			KT_EXPECT(f.pi.prefetch_failed == 0 && f.pi.prefetch_dropped == 0);
			/* In runs (cowfs_bio_prefetch_run), fewer device requests
			 * than blocks: buffers filled one after the other lie
			 * side by side and share one request. */
			KT_EXPECT(f.pi.prefetch_runs < f.pi.prefetch_reads);
			KT_EXPECT(f.pi.prefetch_ios < f.pi.prefetch_reads);
		}
		KT_EXPECT(f.pi.cksum_errors == 0 && f.pi.io_errors == 0);
	}
	KT_EXPECT(vfs_umount("/cwp") == 0);
	kfree(buf);
	kfree(back);
	KT_EXPECT(g_md_destroy("cwmd4", false) == 0);
}
