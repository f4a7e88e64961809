/*
 * In-kernel tests of GEOM providers as block devices under /dev
 * (kernel/geom/g_dev.c): nodes appear and disappear with their providers,
 * unaligned reads and writes through the VFS land on the provider, the end
 * of the medium reads as EOF and refuses writes, GEOM's access rules and
 * NOP's injected errors surface as the VFS calls' errors, and labels show
 * up as /dev/label/NAME.
 */
#include <errno.h>
#include <geom.h>
#include <karst/kmem.h>
#include <karst/ktest.h>
#include <string.h>
#include <vfs.h>

#define KT_MB (1024 * 1024)

static uint64_t kt_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static bool kt_is_blk(const char *path, uint64_t size)
{
	struct vfs_stat st;
	return vfs_stat(path, &st) == 0 && S_ISBLK(st.st_mode) && st.st_size == size;
}

static bool kt_absent(const char *path)
{
	struct vfs_stat st;
	return vfs_stat(path, &st) == -ENOENT;
}

/* Read the whole device back in odd-sized pieces and compare. */
static bool kt_matches(int fd, const uint8_t *shadow, uint64_t size, uint8_t *buf)
{
	static const size_t pieces[] = {1, 511, 4097, 65536 + 3, 200000};
	uint64_t off = 0;
	for (int i = 0; off < size; i++) {
		size_t n = pieces[i % 5];
		if (n > size - off)
			n = (size_t)(size - off);
		if (vfs_pread(fd, buf, n, (int64_t)off) != (long)n || memcmp(buf, shadow + off, n))
			return false;
		off += n;
	}
	return true;
}

KTEST(geomdev_md_node_unaligned_io)
{
	const uint64_t size = 2 * KT_MB;
	KT_ASSERT(g_md_create("gdmd0", size, 512, NULL, 0) == 0);
	g_waitidle();
	KT_EXPECT(kt_is_blk("/dev/gdmd0", size));
	uint8_t *shadow = kzalloc(size), *buf = kmalloc(256 * 1024);
	KT_ASSERT(shadow && buf);
	int fd = vfs_open("/dev/gdmd0", O_RDWR, 0);
	KT_ASSERT(fd >= 0);

	/* Writes of every shape: inside one sector, across two, long ones
	 * spanning several bounce buffers, aligned and not. */
	static const struct {
		uint64_t off;
		size_t len;
	} w[] = {{100, 10},	    {500, 30},	       {777, 5000}, {4096, 4096},
		 {1000003, 150001}, {size - 700, 700}, {0, 1},	    {511, 2}};
	uint64_t seed = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		for (size_t j = 0; j < w[i].len; j++)
			buf[j] = (uint8_t)kt_rand(&seed);
		KT_EXPECT(vfs_pwrite(fd, buf, w[i].len, (int64_t)w[i].off) == (long)w[i].len);
		memcpy(shadow + w[i].off, buf, w[i].len);
	}
	for (int i = 0; i < 64; i++) {
		uint64_t off = kt_rand(&seed) % size;
		size_t len = 1 + (size_t)(kt_rand(&seed) % 9000);
		if (len > size - off)
			len = (size_t)(size - off);
		for (size_t j = 0; j < len; j++)
			buf[j] = (uint8_t)kt_rand(&seed);
		KT_EXPECT(vfs_pwrite(fd, buf, len, (int64_t)off) == (long)len);
		memcpy(shadow + off, buf, len);
	}
	KT_EXPECT(kt_matches(fd, shadow, size, buf));

	/* The bytes are on the provider, not only behind the node. */
	struct g_consumer *cp;
	KT_ASSERT(g_open("gdmd0", 1, 0, 0, NULL, NULL, &cp) == 0);
	KT_EXPECT(g_read_data(cp, 0, buf, 64 * 1024) == 0 && memcmp(buf, shadow, 64 * 1024) == 0);
	KT_EXPECT(g_read_data(cp, 960 * 1024, buf, 256 * 1024) == 0 &&
		  memcmp(buf, shadow + 960 * 1024, 256 * 1024) == 0);
	g_close(cp);

	/* The end of the medium: EOF for reads, ENOSPC for writes, short
	 * transfers across it. */
	KT_EXPECT(vfs_pread(fd, buf, 100, (int64_t)size) == 0);
	KT_EXPECT(vfs_pread(fd, buf, 100, (int64_t)size + 12345) == 0);
	KT_EXPECT(vfs_pread(fd, buf, 100, (int64_t)size - 10) == 10);
	KT_EXPECT(memcmp(buf, shadow + size - 10, 10) == 0);
	KT_EXPECT(vfs_pwrite(fd, buf, 10, (int64_t)size) == -ENOSPC);
	memset(buf, 0xa5, 100);
	KT_EXPECT(vfs_pwrite(fd, buf, 100, (int64_t)size - 10) == 10);
	memset(shadow + size - 10, 0xa5, 10);
	KT_EXPECT(vfs_lseek(fd, 0, SEEK_END) == (int64_t)size);
	KT_EXPECT(vfs_read(fd, buf, 10) == 0);
	KT_EXPECT(kt_matches(fd, shadow, size, buf));

	uint64_t ms = 0;
	uint32_t ss = 0;
	KT_EXPECT(vfs_ioctl(fd, G_DEV_IOC_MEDIASIZE, &ms) == 0 && ms == size);
	KT_EXPECT(vfs_ioctl(fd, G_DEV_IOC_SECTORSIZE, &ss) == 0 && ss == 512);
	KT_EXPECT(vfs_ioctl(fd, G_DEV_IOC_FLUSH, NULL) == 0);
	KT_EXPECT(vfs_ioctl(fd, 0x1234, NULL) == -ENOTTY);
	KT_EXPECT(vfs_close(fd) == 0);

	/* Opened again: same data (a second open shares nothing stale). */
	fd = vfs_open("/dev/gdmd0", O_RDONLY, 0);
	KT_ASSERT(fd >= 0);
	KT_EXPECT(kt_matches(fd, shadow, size, buf));
	KT_EXPECT(vfs_pwrite(fd, buf, 1, 0) == -EBADF);
	vfs_close(fd);

	KT_EXPECT(g_md_destroy("gdmd0", false) == 0);
	g_waitidle();
	KT_EXPECT(kt_absent("/dev/gdmd0"));
	kfree(shadow);
	kfree(buf);
}

KTEST(geomdev_access_rules_and_orphan)
{
	KT_ASSERT(g_md_create("gdmd1", KT_MB, 4096, NULL, 0) == 0);
	g_waitidle();
	int rfd = vfs_open("/dev/gdmd1", O_RDONLY, 0);
	KT_ASSERT(rfd >= 0);
	/* Someone holds gdmd1 exclusively: reading on is fine, writing is
	 * refused by GEOM, and the open says so. */
	struct g_consumer *ex;
	KT_ASSERT(g_open("gdmd1", 1, 0, 1, NULL, NULL, &ex) == 0);
	KT_EXPECT(vfs_open("/dev/gdmd1", O_RDWR, 0) == -EPERM);
	KT_EXPECT(vfs_open("/dev/gdmd1", O_WRONLY, 0) == -EPERM);
	g_close(ex);
	int wfd = vfs_open("/dev/gdmd1", O_RDWR, 0);
	KT_ASSERT(wfd >= 0);
	/* ... and the other way round: a writer keeps exclusive users out. */
	KT_EXPECT(g_open("gdmd1", 1, 0, 1, NULL, NULL, &ex) == -EPERM);
	char b[100];
	memset(b, 'x', sizeof(b));
	KT_EXPECT(vfs_pwrite(wfd, b, sizeof(b), 4000) == (long)sizeof(b)); /* crosses a sector */
	memset(b, 0, sizeof(b));
	KT_EXPECT(vfs_pread(rfd, b, sizeof(b), 4000) == (long)sizeof(b) && b[0] == 'x' &&
		  b[99] == 'x');

	/* Destroyed while open: the name goes at once, I/O fails, and the
	 * name can be reused by a new provider before the old files close. */
	KT_EXPECT(g_md_destroy("gdmd1", false) == -EBUSY);
	KT_EXPECT(g_md_destroy("gdmd1", true) == 0);
	g_waitidle();
	KT_EXPECT(kt_absent("/dev/gdmd1"));
	KT_EXPECT(vfs_pread(rfd, b, sizeof(b), 0) == -ENXIO);
	KT_EXPECT(vfs_pwrite(wfd, b, sizeof(b), 0) == -ENXIO);
	KT_ASSERT(g_md_create("gdmd1", 2 * KT_MB, 512, NULL, 0) == 0);
	g_waitidle();
	KT_EXPECT(kt_is_blk("/dev/gdmd1", 2 * KT_MB));
	int nfd = vfs_open("/dev/gdmd1", O_RDWR, 0);
	KT_EXPECT(nfd >= 0);
	KT_EXPECT(vfs_pread(rfd, b, sizeof(b), 0) == -ENXIO); /* still the old one */
	KT_EXPECT(vfs_close(rfd) == 0);
	KT_EXPECT(vfs_close(wfd) == 0);
	KT_EXPECT(vfs_pread(nfd, b, sizeof(b), 4000) == (long)sizeof(b) && b[0] == 0);
	vfs_close(nfd);
	KT_EXPECT(g_md_destroy("gdmd1", false) == 0);
	g_waitidle();
	KT_EXPECT(kt_absent("/dev/gdmd1"));
}

KTEST(geomdev_nop_errors_are_eio)
{
	KT_ASSERT(g_md_create("gdmd2", KT_MB, 512, NULL, 0) == 0);
	g_waitidle();
	struct g_nop_config cfg = {.seed = 7};
	KT_ASSERT(g_nop_create("gdmd2", &cfg) == 0);
	g_waitidle();
	KT_EXPECT(kt_is_blk("/dev/gdmd2.nop", KT_MB));
	int fd = vfs_open("/dev/gdmd2.nop", O_RDWR, 0);
	KT_ASSERT(fd >= 0);
	char b[1000];
	memset(b, 'n', sizeof(b));
	KT_EXPECT(vfs_pwrite(fd, b, sizeof(b), 300) == (long)sizeof(b));
	/* Every read fails: reads, and the read half of a partial write. */
	cfg.rfail_ppm = 1000000;
	KT_ASSERT(g_nop_configure("gdmd2.nop", &cfg) == 0);
	KT_EXPECT(vfs_pread(fd, b, sizeof(b), 300) == -EIO);
	KT_EXPECT(vfs_pread(fd, b, 512, 0) == -EIO);
	KT_EXPECT(vfs_pwrite(fd, b, 10, 3) == -EIO);
	KT_EXPECT(vfs_pwrite(fd, b, 512, 1024) == 512); /* whole sectors: no read */
	/* Every write fails. */
	cfg.rfail_ppm = 0;
	cfg.wfail_ppm = 1000000;
	KT_ASSERT(g_nop_configure("gdmd2.nop", &cfg) == 0);
	KT_EXPECT(vfs_pwrite(fd, b, 512, 0) == -EIO);
	KT_EXPECT(vfs_pwrite(fd, b, 10, 3) == -EIO);
	KT_EXPECT(vfs_pread(fd, b, 10, 300) == 10 && b[0] == 'n');
	/* An injected error other than EIO comes through as it is. */
	cfg.wfail_ppm = 0;
	cfg.rfail_ppm = 1000000;
	cfg.error = -ENOSPC;
	KT_ASSERT(g_nop_configure("gdmd2.nop", &cfg) == 0);
	KT_EXPECT(vfs_pread(fd, b, 10, 0) == -ENOSPC);
	vfs_close(fd);
	KT_EXPECT(g_nop_destroy("gdmd2.nop", false) == 0);
	g_waitidle();
	KT_EXPECT(kt_absent("/dev/gdmd2.nop"));
	KT_EXPECT(kt_is_blk("/dev/gdmd2", KT_MB));
	KT_EXPECT(g_md_destroy("gdmd2", false) == 0);
	g_waitidle();
	KT_EXPECT(kt_absent("/dev/gdmd2"));
}

KTEST(geomdev_label_nodes)
{
	/* A label written by the class's ctl verb. */
	KT_ASSERT(g_md_create("gdmd3", 4 * KT_MB, 512, NULL, 0) == 0);
	g_waitidle();
	char reply[256];
	struct g_sbuf sb;
	g_sbuf_init(&sb, reply, sizeof(reply));
	const char *lab[] = {"label", "provider=gdmd3", "name=gdlab"};
	KT_ASSERT(g_ctl("LABEL", 3, lab, &sb) == 0);
	g_waitidle();
	KT_EXPECT(kt_is_blk("/dev/label/gdlab", 4 * KT_MB - 512));
	int fd = vfs_open("/dev/label/gdlab", O_RDWR, 0);
	KT_ASSERT(fd >= 0);
	KT_EXPECT(vfs_pwrite(fd, "through the label", 17, 1234) == 17);
	/* The label's last byte is the provider's last but one sector's. */
	KT_EXPECT(vfs_pwrite(fd, "x", 1, 4 * KT_MB - 512) == -ENOSPC);
	vfs_close(fd);
	fd = vfs_open("/dev/gdmd3", O_RDONLY, 0);
	KT_ASSERT(fd >= 0);
	char b[32];
	KT_EXPECT(vfs_pread(fd, b, 17, 1234) == 17 && memcmp(b, "through the label", 17) == 0);
	vfs_close(fd);

	/* A label written through /dev: closing the node retastes it. */
	KT_ASSERT(g_md_create("gdmd4", KT_MB, 512, NULL, 0) == 0);
	g_waitidle();
	uint8_t sec[512];
	struct g_label_meta md = {.version = G_LABEL_VERSION, .provsize = KT_MB};
	strcpy(md.name, "gdlab2");
	KT_ASSERT(g_label_encode(&md, sec, sizeof(sec)) == 0);
	fd = vfs_open("/dev/gdmd4", O_WRONLY, 0);
	KT_ASSERT(fd >= 0);
	/* Unaligned, in two pieces, to go through read-modify-write. */
	KT_EXPECT(vfs_pwrite(fd, sec, 100, KT_MB - 512) == 100);
	KT_EXPECT(vfs_pwrite(fd, sec + 100, 412, KT_MB - 412) == 412);
	g_waitidle();
	KT_EXPECT(kt_absent("/dev/label/gdlab2")); /* not while it is open */
	vfs_close(fd);
	g_waitidle();
	KT_EXPECT(kt_is_blk("/dev/label/gdlab2", KT_MB - 512));

	/* The providers below go: so do the labels. */
	KT_EXPECT(g_md_destroy("gdmd3", false) == 0);
	KT_EXPECT(g_md_destroy("gdmd4", false) == 0);
	g_waitidle();
	KT_EXPECT(kt_absent("/dev/label/gdlab"));
	KT_EXPECT(kt_absent("/dev/label/gdlab2"));
	KT_EXPECT(kt_absent("/dev/gdmd3"));
}
