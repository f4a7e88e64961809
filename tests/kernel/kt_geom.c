/*
 * In-kernel tests of the GEOM layer on the kernel's own threads, locks and
 * timers: a memory disk, I/O through it, injected failures through NOP.
 */
#include <errno.h>
#include <geom.h>
#include <karst/kmem.h>
#include <karst/ktest.h>
#include <string.h>

#define KT_MB (1024 * 1024)

KTEST(geom_md_write_read_back)
{
	KT_ASSERT(g_md_create("ktmd0", 4 * KT_MB, 512, NULL, 0) == 0);
	g_waitidle();
	struct g_consumer *cp;
	KT_ASSERT(g_open("ktmd0", 1, 1, 0, NULL, NULL, &cp) == 0);
	uint8_t *w = kmalloc(64 * 1024), *r = kmalloc(64 * 1024);
	KT_ASSERT(w && r);
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < 64 * 1024; i++)
			w[i] = (uint8_t)(i * 7 + round);
		uint64_t off = (uint64_t)round * 300 * 1024;
		KT_EXPECT(g_write_data(cp, off, w, 64 * 1024) == 0);
		memset(r, 0, 64 * 1024);
		KT_EXPECT(g_read_data(cp, off, r, 64 * 1024) == 0);
		KT_EXPECT(memcmp(w, r, 64 * 1024) == 0);
	}
	KT_EXPECT(g_flush(cp) == 0);
	/* Past the end and misaligned requests fail, and change nothing. */
	KT_EXPECT(g_read_data(cp, 4 * KT_MB, r, 512) == -EIO);
	KT_EXPECT(g_read_data(cp, 100, r, 512) == -EINVAL);
	g_close(cp);
	KT_EXPECT(g_md_destroy("ktmd0", false) == 0);
	g_waitidle();
	KT_EXPECT(g_open("ktmd0", 1, 0, 0, NULL, NULL, &cp) != 0);
	kfree(w);
	kfree(r);
}

KTEST(geom_nop_failures_surface_as_eio)
{
	KT_ASSERT(g_md_create("ktmd1", KT_MB, 512, NULL, 0) == 0);
	g_waitidle();
	struct g_nop_config cfg = {.seed = 1};
	KT_ASSERT(g_nop_create("ktmd1", &cfg) == 0);
	g_waitidle();
	struct g_consumer *cp;
	KT_ASSERT(g_open("ktmd1.nop", 1, 1, 0, NULL, NULL, &cp) == 0);
	/* Configured now, so the tasting reads are not counted. */
	cfg.fail_after = 3;
	KT_ASSERT(g_nop_configure("ktmd1.nop", &cfg) == 0);
	char buf[512];
	memset(buf, 0x5a, sizeof(buf));
	int ok = 0, eio = 0;
	for (int i = 0; i < 6; i++) {
		int e = g_write_data(cp, (uint64_t)i * 512, buf, sizeof(buf));
		ok += e == 0;
		eio += e == -EIO;
	}
	KT_EXPECT(ok == 3 && eio == 3);
	g_close(cp);
	KT_EXPECT(g_nop_destroy("ktmd1.nop", false) == 0);
	g_waitidle();
	KT_EXPECT(g_md_destroy("ktmd1", false) == 0);
	g_waitidle();
}
