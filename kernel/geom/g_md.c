/*
 * MD: a disk in memory, so the block layer can be exercised without
 * hardware.
 *
 * The medium is cut into 64 KiB chunks allocated on first write (whole
 * pages, from kpage_alloc); a chunk never written reads as zeros and
 * BIO_DELETE gives whole chunks back. start() runs on g_down and answers
 * every request at once with memcpy, so an MD never holds a bio; chunk
 * allocation does not sleep and fails with ENOMEM when memory is short.
 * Only g_down calls start(), so the chunk table needs no lock; the counters
 * are atomics because the dump reads them from other threads.
 */
#include "g_internal.h"
#include <errno.h>
#include <karst/init.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <string.h>

#define MD_CHUNK       (64u * 1024)
#define MD_CHUNK_PAGES (MD_CHUNK / PAGE_SIZE)

struct g_md_softc {
	uint64_t mediasize;
	uint32_t sectorsize;
	size_t nchunks;
	uint8_t **chunk;
	_Atomic size_t allocated;
	_Atomic uint64_t reads, writes, deletes, flushes;
};

static uint8_t *g_md_chunk_get(struct g_md_softc *sc, size_t i)
{
	if (!sc->chunk[i]) {
		uint8_t *c = kpage_alloc(MD_CHUNK_PAGES);
		if (!c)
			return NULL;
		memset(c, 0, MD_CHUNK);
		sc->chunk[i] = c;
		atomic_fetch_add(&sc->allocated, 1);
	}
	return sc->chunk[i];
}

static void g_md_start(struct bio *bp)
{
	struct g_md_softc *sc = bp->to->geom->softc;
	uint64_t off = bp->offset, left = bp->length;
	uint8_t *data = bp->data;
	int err = 0;

	switch (bp->cmd) {
	case BIO_READ:
		atomic_fetch_add_explicit(&sc->reads, 1, memory_order_relaxed);
		break;
	case BIO_WRITE:
		atomic_fetch_add_explicit(&sc->writes, 1, memory_order_relaxed);
		break;
	case BIO_DELETE:
		atomic_fetch_add_explicit(&sc->deletes, 1, memory_order_relaxed);
		break;
	case BIO_FLUSH:
		atomic_fetch_add_explicit(&sc->flushes, 1, memory_order_relaxed);
		bp->completed = 0;
		g_io_deliver(bp, 0);
		return;
	}
	bp->completed = 0;
	while (left) {
		size_t ci = (size_t)(off / MD_CHUNK);
		size_t co = (size_t)(off % MD_CHUNK);
		size_t n = (size_t)MIN((uint64_t)(MD_CHUNK - co), left);
		if (bp->cmd == BIO_READ) {
			if (sc->chunk[ci])
				memcpy(data, sc->chunk[ci] + co, n);
			else
				memset(data, 0, n);
		} else if (bp->cmd == BIO_WRITE) {
			uint8_t *c = g_md_chunk_get(sc, ci);
			if (!c) {
				err = -ENOMEM;
				break;
			}
			memcpy(c + co, data, n);
		} else if (sc->chunk[ci]) { /* BIO_DELETE */
			if (n == MD_CHUNK) {
				kpage_free(sc->chunk[ci], MD_CHUNK_PAGES);
				sc->chunk[ci] = NULL;
				atomic_fetch_sub(&sc->allocated, 1);
			} else {
				memset(sc->chunk[ci] + co, 0, n);
			}
		}
		if (data)
			data += n;
		off += n;
		left -= n;
		bp->completed += n;
	}
	g_io_deliver(bp, err);
}

static void g_md_free(struct g_md_softc *sc)
{
	if (!sc)
		return;
	if (sc->chunk) {
		for (size_t i = 0; i < sc->nchunks; i++)
			if (sc->chunk[i])
				kpage_free(sc->chunk[i], MD_CHUNK_PAGES);
		kfree(sc->chunk);
	}
	kfree(sc);
}

static void g_md_release(struct g_geom *gp)
{
	g_md_free(gp->softc);
	gp->softc = NULL;
}

static void g_md_dumpconf(struct g_sbuf *sb, const char *indent, struct g_geom *gp,
			  struct g_consumer *cp, struct g_provider *pp)
{
	struct g_md_softc *sc = gp->softc;
	if (!sc || pp == NULL)
		return;
	g_sbuf_printf(sb, "%sAllocated: %zu KiB\n", indent,
		      atomic_load(&sc->allocated) * (MD_CHUNK / 1024));
	g_sbuf_printf(sb, "%sRequests: %llu reads, %llu writes, %llu deletes, %llu flushes\n",
		      indent, (unsigned long long)atomic_load(&sc->reads),
		      (unsigned long long)atomic_load(&sc->writes),
		      (unsigned long long)atomic_load(&sc->deletes),
		      (unsigned long long)atomic_load(&sc->flushes));
}

static bool g_md_all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int g_md_create_locked(const char *name, uint64_t mediasize, uint32_t sectorsize,
			      const void *init, size_t initlen)
{
	g_topology_assert();
	if (!name[0] || strlen(name) >= G_NAME_MAX || sectorsize < 512 || sectorsize > 65536 ||
	    (sectorsize & (sectorsize - 1)) || mediasize == 0 || mediasize % sectorsize ||
	    initlen > mediasize)
		return -EINVAL;
	if (mediasize / MD_CHUNK + 1 > SIZE_MAX / sizeof(uint8_t *))
		return -EFBIG;
	if (g_find_provider(name))
		return -EEXIST;
	struct g_md_softc *sc = kzalloc(sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	sc->mediasize = mediasize;
	sc->sectorsize = sectorsize;
	sc->nchunks = (size_t)DIV_ROUND_UP(mediasize, MD_CHUNK);
	sc->chunk = kcalloc(sc->nchunks, sizeof(*sc->chunk));
	if (!sc->chunk) {
		g_md_free(sc);
		return -ENOMEM;
	}
	const uint8_t *src = init;
	for (size_t off = 0; off < initlen; off += MD_CHUNK) {
		size_t n = MIN((size_t)MD_CHUNK, initlen - off);
		if (g_md_all_zero(src + off, n))
			continue;
		uint8_t *c = g_md_chunk_get(sc, off / MD_CHUNK);
		if (!c) {
			g_md_free(sc);
			return -ENOMEM;
		}
		memcpy(c, src + off, n);
	}
	struct g_geom *gp = g_new_geom(&g_md_class, "%s", name);
	if (!gp) {
		g_md_free(sc);
		return -ENOMEM;
	}
	gp->softc = sc;
	struct g_provider *pp = g_new_provider(gp, "%s", name);
	if (!pp) {
		g_destroy_geom(gp);
		g_md_free(sc);
		return -ENOMEM;
	}
	pp->mediasize = mediasize;
	pp->sectorsize = sectorsize;
	g_provider_ready(pp);
	return 0;
}

int g_md_create(const char *name, uint64_t mediasize, uint32_t sectorsize, const void *init,
		size_t initlen)
{
	g_topology_lock();
	int err = g_md_create_locked(name, mediasize, sectorsize, init, initlen);
	g_topology_unlock();
	return err;
}

static int g_md_destroy_locked(const char *name, bool force)
{
	struct g_geom *gp = g_find_geom(&g_md_class, name);
	if (!gp)
		return -ENOENT;
	return g_std_destroy_geom(&g_md_class, gp, force);
}

int g_md_destroy(const char *name, bool force)
{
	g_topology_lock();
	int err = g_md_destroy_locked(name, force);
	g_topology_unlock();
	return err;
}

/* geom MD create name=md0 size=64m [sectorsize=512]
 * geom MD destroy name=md0 [force] */
static int g_md_ctlreq(struct g_class *mp, struct g_ctlreq *req)
{
	const char *name = g_ctl_get(req, "name");
	if (!name || !*name)
		return g_ctl_error(req, "MD: name= is required");
	if (strcmp(req->verb, "create") == 0) {
		uint64_t size = 0, ss = 512;
		if (g_ctl_get_u64(req, "size", &size) != 0)
			return g_ctl_error(req, "MD: size= is required");
		if (g_ctl_get_u64(req, "sectorsize", &ss) == -EINVAL || ss > UINT32_MAX)
			return g_ctl_error(req, "MD: bad sectorsize");
		int err = g_md_create_locked(name, size, (uint32_t)ss, NULL, 0);
		if (err)
			g_ctl_error(req, "MD: cannot create %s: error %d", name, err);
		return err;
	}
	if (strcmp(req->verb, "destroy") == 0)
		return g_std_ctl_destroy(mp, req, name);
	return g_ctl_error(req, "MD: unknown verb %s", req->verb);
}

struct g_class g_md_class = {
    .name = "MD",
    .ctlreq = g_md_ctlreq,
    .destroy_geom = g_std_destroy_geom,
    .start = g_md_start,
    .dumpconf = g_md_dumpconf,
    .release = g_md_release,
};

G_CLASS_DECLARE(g_md_class);
