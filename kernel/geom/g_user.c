/*
 * The USER class: consumers for code outside the graph (filesystems, the
 * shell, tests). g_open() builds a one-consumer geom of this class on the
 * named provider and opens it; g_close() undoes that. When the provider
 * goes away the owner's orphan callback runs on the event thread; from
 * then on its I/O fails with ENXIO and it should g_close() soon, which
 * lets the washer free what was below.
 */
#include "g_internal.h"
#include <errno.h>
#include <karst/kmem.h>
#include <karst/thread.h>

struct g_user_softc {
	g_user_orphan_t *orphan;
	void *arg;
};

static void g_user_orphan(struct g_consumer *cp)
{
	struct g_user_softc *sc = cp->geom->softc;
	if (sc->orphan)
		sc->orphan(cp, sc->arg);
}

/* Only g_close() takes a user's consumer away. */
static int g_user_destroy_geom(struct g_class *mp, struct g_geom *gp, bool force)
{
	return -EBUSY;
}

struct g_class g_user_class = {
    .name = "USER",
    .orphan = g_user_orphan,
    .destroy_geom = g_user_destroy_geom,
};

int g_open(const char *name, int r, int w, int e, g_user_orphan_t *orphan, void *arg,
	   struct g_consumer **cpp)
{
	thread_assert_may_sleep();
	struct g_user_softc *sc = kzalloc(sizeof(*sc));
	if (!sc)
		return -ENOMEM;
	sc->orphan = orphan;
	sc->arg = arg;
	g_topology_lock();
	int err = -ENOENT;
	struct g_provider *pp = g_find_provider(name);
	struct g_geom *gp = NULL;
	struct g_consumer *cp = NULL;
	if (!pp)
		goto fail;
	err = -ENOMEM;
	gp = g_new_geom(&g_user_class, "user:%s", name);
	if (!gp)
		goto fail;
	gp->softc = sc;
	cp = g_new_consumer(gp);
	if (!cp)
		goto fail;
	err = g_attach(cp, pp);
	if (err)
		goto fail;
	err = g_access(cp, r, w, e);
	if (err) {
		g_detach(cp);
		goto fail;
	}
	g_topology_unlock();
	*cpp = cp;
	return 0;
fail:
	if (cp)
		g_destroy_consumer(cp);
	if (gp)
		g_destroy_geom(gp);
	g_topology_unlock();
	kfree(sc);
	return err;
}

void g_close(struct g_consumer *cp)
{
	thread_assert_may_sleep();
	g_topology_lock();
	struct g_geom *gp = cp->geom;
	KASSERT(gp->class == &g_user_class);
	if (cp->acr || cp->acw || cp->ace)
		g_access(cp, -cp->acr, -cp->acw, -cp->ace);
	g_detach(cp);
	g_destroy_consumer(cp);
	kfree(gp->softc);
	g_destroy_geom(gp);
	g_topology_unlock();
}
