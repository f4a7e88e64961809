/*
 * The DISK class: providers for the disks drivers find; see g_disk.h.
 */
#include "g_disk.h"
#include <errno.h>
#include <karst/kmem.h>

struct g_disk_softc {
	const struct g_disk_ops *ops;
	void *drv;
};

static void g_disk_start(struct bio *bp)
{
	struct g_disk_softc *sc = bp->to->geom->softc;
	switch (bp->cmd) {
	case BIO_READ:
	case BIO_WRITE:
	case BIO_FLUSH:
	case BIO_DELETE:
		sc->ops->strategy(sc->drv, bp);
		break;
	default:
		g_io_deliver(bp, -EOPNOTSUPP);
	}
}

static struct g_class g_disk_class = {
    .name = "DISK",
    .start = g_disk_start,
};

int g_disk_create(const char *name, uint64_t mediasize, uint32_t sectorsize,
		  const struct g_disk_ops *ops, void *drv, struct g_provider **ppp)
{
	/* Registered with the first disk: drivers probe from INIT_BUS on,
	 * after GEOM's core started (INIT_CORE). Probing is single-threaded. */
	if (!g_disk_class.registered) {
		int e = g_class_register(&g_disk_class);
		if (e && e != -EEXIST)
			return e;
	}
	struct g_disk_softc *sc = kzalloc(sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	sc->ops = ops;
	sc->drv = drv;
	g_topology_lock();
	struct g_geom *gp = g_new_geom(&g_disk_class, "%s", name);
	struct g_provider *pp = gp ? g_new_provider(gp, "%s", name) : NULL;
	if (!pp) {
		if (gp)
			g_destroy_geom(gp);
		g_topology_unlock();
		kfree(sc);
		return -ENOMEM;
	}
	gp->softc = sc;
	pp->mediasize = mediasize;
	pp->sectorsize = sectorsize;
	g_provider_ready(pp);
	g_topology_unlock();
	if (ppp)
		*ppp = pp;
	return 0;
}

struct g_disk_gone_ev {
	struct g_provider *pp;
	int error;
};

static void g_disk_gone_event(void *arg)
{
	struct g_disk_gone_ev *ev = arg;
	g_orphan_provider(ev->pp, ev->error);
	kfree(ev);
}

void g_disk_gone(struct g_provider *pp, int error)
{
	struct g_disk_gone_ev *ev = kmalloc(sizeof(*ev));
	if (!ev)
		return;
	ev->pp = pp;
	ev->error = error;
	if (g_post_event(g_disk_gone_event, ev, NULL) != 0)
		kfree(ev);
}
