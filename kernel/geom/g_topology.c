/*
 * The graph: geoms, providers and consumers, access counts, orphaning,
 * spoiling, tasting, and the washer that frees withered geoms.
 *
 * Everything here runs with the topology lock held (asserted). Teardown is
 * lazy: g_wither_geom() marks a geom and orphans its providers; whoever is
 * attached above learns it through orphan() and eventually closes and
 * detaches. The washer, run by the event thread, then frees bottom-up
 * whatever has become unreachable: a provider with no consumers, then the
 * consumers of a geom that has no providers left (once their I/O has
 * drained), then the empty geom, calling its release() to free the softc.
 * Nothing is freed while a bio could still reach it.
 */
#include "g_internal.h"
#include <errno.h>
#include <karst/kmem.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <string.h>

static void g_vname(char *dst, const char *fmt, va_list ap)
{
	kvsnprintf(dst, G_NAME_MAX, fmt, ap);
}

struct g_geom *g_new_geom(struct g_class *mp, const char *fmt, ...)
{
	g_topology_assert();
	struct g_geom *gp = kzalloc(sizeof(*gp));
	if (!gp)
		return NULL;
	va_list ap;
	va_start(ap, fmt);
	g_vname(gp->name, fmt, ap);
	va_end(ap);
	gp->class = mp;
	gp->rank = 1;
	gp->start = mp->start;
	gp->access = mp->access;
	gp->orphan = mp->orphan;
	gp->spoiled = mp->spoiled;
	gp->dumpconf = mp->dumpconf;
	gp->release = mp->release;
	list_init(&gp->providers);
	list_init(&gp->consumers);
	list_add_tail(&mp->geoms, &gp->link);
	return gp;
}

void g_destroy_geom(struct g_geom *gp)
{
	g_topology_assert();
	VERIFY_MSG(list_empty(&gp->providers) && list_empty(&gp->consumers),
		   "destroying geom %s that still has providers or consumers", gp->name);
	g_cancel_event(gp);
	list_del(&gp->link);
	if (gp->flags & G_GEOM_WITHER)
		atomic_fetch_sub(&g_withering, 1);
	kfree(gp);
}

struct g_provider *g_new_provider(struct g_geom *gp, const char *fmt, ...)
{
	g_topology_assert();
	KASSERT(!(gp->flags & G_GEOM_WITHER));
	struct g_provider *pp = kzalloc(sizeof(*pp));
	if (!pp)
		return NULL;
	va_list ap;
	va_start(ap, fmt);
	g_vname(pp->name, fmt, ap);
	va_end(ap);
	pp->geom = gp;
	pp->flags = G_PF_NEW;
	list_init(&pp->consumers);
	list_add_tail(&gp->providers, &pp->link);
	return pp;
}

static void g_new_provider_event(void *arg)
{
	/* Observers first, so /dev/md0 exists before md0p1 is tasted. */
	g_observers_ready(arg);
	g_taste_provider(arg, NULL);
}

void g_provider_ready(struct g_provider *pp)
{
	g_topology_assert();
	VERIFY_MSG(pp->sectorsize >= 1 && (pp->sectorsize & (pp->sectorsize - 1)) == 0 &&
		       pp->mediasize % pp->sectorsize == 0,
		   "provider %s: bad sizes", pp->name);
	pp->flags &= ~G_PF_NEW;
	g_post_event(g_new_provider_event, pp, pp);
}

void g_destroy_provider(struct g_provider *pp)
{
	g_topology_assert();
	VERIFY_MSG(list_empty(&pp->consumers), "destroying provider %s with consumers", pp->name);
	KASSERT(pp->acr == 0 && pp->acw == 0 && pp->ace == 0);
	/* Its orphan event, if still queued, is cancelled just below. */
	g_observers_gone(pp);
	g_cancel_event(pp);
	list_del(&pp->link);
	kfree(pp);
}

struct g_consumer *g_new_consumer(struct g_geom *gp)
{
	g_topology_assert();
	VERIFY_MSG(gp->orphan != NULL, "geom %s has consumers but no orphan method", gp->name);
	struct g_consumer *cp = kzalloc(sizeof(*cp));
	if (!cp)
		return NULL;
	cp->geom = gp;
	list_init(&cp->plink);
	list_add_tail(&gp->consumers, &cp->link);
	return cp;
}

int g_attach(struct g_consumer *cp, struct g_provider *pp)
{
	g_topology_assert();
	KASSERT(cp->provider == NULL);
	/* A geom may not sit on a provider it offers itself. */
	if (pp->geom == cp->geom)
		return -EINVAL;
	list_add_tail(&pp->consumers, &cp->plink);
	cp->provider = pp;
	if (cp->geom->rank < pp->geom->rank + 1)
		cp->geom->rank = pp->geom->rank + 1;
	return 0;
}

void g_detach(struct g_consumer *cp)
{
	g_topology_assert();
	VERIFY_MSG(cp->provider != NULL, "g_detach of an unattached consumer");
	VERIFY_MSG(cp->acr == 0 && cp->acw == 0 && cp->ace == 0, "g_detach of open consumer of %s",
		   cp->provider->name);
	/* A done() callback may have woken our caller and still be returning
	 * on g_up before the completion is counted: give it a moment. Real
	 * I/O in flight is a bug. */
	uint64_t t0 = time_ns();
	while (atomic_load(&cp->nstart) != atomic_load(&cp->nend)) {
		VERIFY_MSG(time_ns() - t0 < 5 * NSEC_PER_SEC, "g_detach from %s with I/O in flight",
			   cp->provider->name);
		thread_sleep_ns(20 * NSEC_PER_USEC);
	}
	list_del(&cp->plink);
	cp->provider = NULL;
	g_event_kick(); /* the provider may be washable now */
}

void g_destroy_consumer(struct g_consumer *cp)
{
	g_topology_assert();
	VERIFY_MSG(cp->provider == NULL, "destroying an attached consumer");
	g_cancel_event(cp);
	list_del(&cp->link);
	kfree(cp);
}

static void g_spoil_event(void *arg)
{
	struct g_consumer *cp = arg;
	if (cp->provider && cp->geom->spoiled && !(cp->geom->flags & G_GEOM_WITHER))
		cp->geom->spoiled(cp);
}

/* Someone (cp) opened pp for writing: metadata the others tasted may change. */
static void g_spoil(struct g_provider *pp, struct g_consumer *cp)
{
	list_for_each(it, &pp->consumers)
	{
		struct g_consumer *o = list_entry(it, struct g_consumer, plink);
		if (o == cp || !o->geom->spoiled || (o->flags & G_CF_SPOILED))
			continue;
		o->flags |= G_CF_SPOILED;
		g_post_event(g_spoil_event, o, o);
	}
}

static void g_retaste_event(void *arg)
{
	g_taste_provider(arg, NULL);
}

int g_access(struct g_consumer *cp, int dr, int dw, int de)
{
	g_topology_assert();
	struct g_provider *pp = cp->provider;
	VERIFY_MSG(pp != NULL, "g_access on an unattached consumer");
	VERIFY_MSG(cp->acr + dr >= 0 && cp->acw + dw >= 0 && cp->ace + de >= 0,
		   "access counts of a consumer of %s would go negative", pp->name);
	if (dr == 0 && dw == 0 && de == 0)
		return 0;
	if (dr > 0 || dw > 0 || de > 0) {
		int err = atomic_load(&pp->error);
		if (err)
			return err;
		if (pp->geom->flags & G_GEOM_WITHER)
			return -ENXIO;
		int others_w = pp->acw - cp->acw, others_e = pp->ace - cp->ace;
		if (de > 0 && others_w > 0)
			return -EPERM; /* exclusive, but someone else writes */
		if (dw > 0 && others_e > 0)
			return -EPERM; /* writing, but someone else is exclusive */
	}
	if (pp->geom->access) {
		int err = pp->geom->access(pp, dr, dw, de);
		if (err)
			return err;
	}
	bool first_writer = pp->acw == 0 && dw > 0;
	bool last_writer = pp->acw > 0 && pp->acw + dw == 0;
	pp->acr += dr;
	pp->acw += dw;
	pp->ace += de;
	cp->acr += dr;
	cp->acw += dw;
	cp->ace += de;
	if (first_writer)
		g_spoil(pp, cp);
	/* Metadata may have changed: offer the provider again (FreeBSD does
	 * the same when the last writer closes). */
	if (last_writer && !(pp->geom->flags & G_GEOM_WITHER) && !atomic_load(&pp->error))
		g_post_event(g_retaste_event, pp, pp);
	if (dr < 0 || dw < 0 || de < 0)
		g_event_kick();
	return 0;
}

static void g_orphan_event(void *arg)
{
	struct g_provider *pp = arg;
	g_observers_gone(pp);
	list_for_each_safe(it, &pp->consumers)
	{
		struct g_consumer *cp = list_entry(it, struct g_consumer, plink);
		if (cp->flags & G_CF_ORPHAN)
			continue;
		cp->flags |= G_CF_ORPHAN;
		cp->geom->orphan(cp);
	}
}

void g_orphan_provider(struct g_provider *pp, int error)
{
	g_topology_assert();
	KASSERT(error < 0);
	if (pp->flags & G_PF_ORPHAN)
		return;
	pp->flags |= G_PF_ORPHAN;
	atomic_store(&pp->error, error);
	g_post_event(g_orphan_event, pp, pp);
	g_event_kick();
}

void g_wither_geom(struct g_geom *gp, int error)
{
	g_topology_assert();
	if (gp->flags & G_GEOM_WITHER)
		return;
	gp->flags |= G_GEOM_WITHER;
	atomic_fetch_add(&g_withering, 1);
	list_for_each(it, &gp->providers)
	{
		struct g_provider *pp = list_entry(it, struct g_provider, link);
		g_orphan_provider(pp, error ? error : -ENXIO);
	}
	g_event_kick();
}

void g_wash(void)
{
	g_topology_assert();
	bool progress;
	do {
		progress = false;
		list_for_each(ci, &g_classes)
		{
			struct g_class *mp = list_entry(ci, struct g_class, link);
			list_for_each_safe(gi, &mp->geoms)
			{
				struct g_geom *gp = list_entry(gi, struct g_geom, link);
				if (!(gp->flags & G_GEOM_WITHER))
					continue;
				list_for_each_safe(pi, &gp->providers)
				{
					struct g_provider *pp =
					    list_entry(pi, struct g_provider, link);
					if (list_empty(&pp->consumers)) {
						g_destroy_provider(pp);
						progress = true;
					}
				}
				if (!list_empty(&gp->providers))
					continue;
				/* Nothing can send I/O into gp any more. */
				list_for_each_safe(cpi, &gp->consumers)
				{
					struct g_consumer *cp =
					    list_entry(cpi, struct g_consumer, link);
					if (cp->provider && (cp->acr || cp->acw || cp->ace))
						g_access(cp, -cp->acr, -cp->acw, -cp->ace);
					if (atomic_load(&cp->nstart) != atomic_load(&cp->nend))
						continue;
					if (cp->provider)
						g_detach(cp);
					g_destroy_consumer(cp);
					progress = true;
				}
				if (list_empty(&gp->consumers)) {
					if (gp->release)
						gp->release(gp);
					g_destroy_geom(gp);
					progress = true;
				}
			}
		}
	} while (progress);
}

void g_taste_provider(struct g_provider *pp, struct g_class *only)
{
	g_topology_assert();
	if (atomic_load(&pp->error) || (pp->flags & G_PF_NEW) || (pp->geom->flags & G_GEOM_WITHER))
		return;
	list_for_each(ci, &g_classes)
	{
		struct g_class *mp = list_entry(ci, struct g_class, link);
		if ((only && mp != only) || !mp->taste || !mp->registered)
			continue;
		bool have = false;
		list_for_each(it, &pp->consumers)
		{
			struct g_consumer *cp = list_entry(it, struct g_consumer, plink);
			if (cp->geom->class == mp && !(cp->geom->flags & G_GEOM_WITHER))
				have = true;
		}
		if (!have)
			mp->taste(mp, pp);
		/* A taste that failed may have been told the provider died. */
		if (atomic_load(&pp->error))
			return;
	}
}

void g_std_orphan(struct g_consumer *cp)
{
	g_topology_assert();
	g_wither_geom(cp->geom, cp->provider ? atomic_load(&cp->provider->error) : -ENXIO);
}

int g_std_destroy_geom(struct g_class *mp, struct g_geom *gp, bool force)
{
	(void)mp;
	g_topology_assert();
	struct g_provider *pp = list_first(&gp->providers, struct g_provider, link);
	if (pp && !force && (pp->acr || pp->acw || pp->ace))
		return -EBUSY;
	g_wither_geom(gp, -ENXIO);
	return 0;
}

void g_std_spoiled(struct g_consumer *cp)
{
	g_topology_assert();
	g_wither_geom(cp->geom, -ENXIO);
}

/* Writers of any provider of the geom hold its consumers exclusively, so
 * nobody rewrites the metadata under it (FreeBSD's PART does the same). */
int g_std_access(struct g_provider *pp, int dr, int dw, int de)
{
	struct g_geom *gp = pp->geom;
	int wbefore = 0;
	list_for_each(it, &gp->providers) wbefore += list_entry(it, struct g_provider, link)->acw;
	int wafter = wbefore + dw;
	int dx = (wbefore == 0 && wafter > 0) - (wbefore > 0 && wafter == 0);
	struct g_consumer *done_upto = NULL;
	int err = 0;
	list_for_each(it, &gp->consumers)
	{
		struct g_consumer *cp = list_entry(it, struct g_consumer, link);
		if (!cp->provider)
			continue;
		/* Closing through a consumer the washer already closed. */
		if (dr <= 0 && dw <= 0 && de + dx <= 0 &&
		    (cp->acr + dr < 0 || cp->acw + dw < 0 || cp->ace + de + dx < 0))
			continue;
		err = g_access(cp, dr, dw, de + dx);
		if (err)
			break;
		done_upto = cp;
	}
	if (err && done_upto) {
		list_for_each(it, &gp->consumers)
		{
			struct g_consumer *cp = list_entry(it, struct g_consumer, link);
			if (cp->provider)
				g_access(cp, -dr, -dw, -de - dx);
			if (cp == done_upto)
				break;
		}
	}
	return err;
}

struct g_geom *g_find_geom(struct g_class *mp, const char *name)
{
	list_for_each(it, &mp->geoms)
	{
		struct g_geom *gp = list_entry(it, struct g_geom, link);
		if (!(gp->flags & G_GEOM_WITHER) && strcmp(gp->name, name) == 0)
			return gp;
	}
	return NULL;
}

struct g_provider *g_find_provider(const char *name)
{
	list_for_each(ci, &g_classes)
	{
		struct g_class *mp = list_entry(ci, struct g_class, link);
		list_for_each(gi, &mp->geoms)
		{
			struct g_geom *gp = list_entry(gi, struct g_geom, link);
			if (gp->flags & G_GEOM_WITHER)
				continue;
			list_for_each(pi, &gp->providers)
			{
				struct g_provider *pp = list_entry(pi, struct g_provider, link);
				if (strcmp(pp->name, name) == 0)
					return pp;
			}
		}
	}
	return NULL;
}
