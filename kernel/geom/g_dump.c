/*
 * `geom list`: the graph as text, for the shell. Takes the topology lock
 * (unless the caller holds it), so it may sleep; it writes into the
 * caller's g_sbuf and never allocates.
 */
#include "g_internal.h"
#include <string.h>

static void g_conf_provider(struct g_sbuf *sb, struct g_provider *pp, unsigned n)
{
	char hs[16];
	struct g_geom *gp = pp->geom;
	g_humanize(hs, sizeof(hs), pp->mediasize);
	g_sbuf_printf(sb, "%u. Name: %s\n", n, pp->name);
	g_sbuf_printf(sb, "   Mediasize: %llu (%s)\n", (unsigned long long)pp->mediasize, hs);
	g_sbuf_printf(sb, "   Sectorsize: %u\n", pp->sectorsize);
	g_sbuf_printf(sb, "   Mode: r%dw%de%d\n", pp->acr, pp->acw, pp->ace);
	int err = atomic_load(&pp->error);
	if (err)
		g_sbuf_printf(sb, "   Error: %d (orphaned)\n", err);
	if (gp->dumpconf)
		gp->dumpconf(sb, "   ", gp, NULL, pp);
}

static void g_conf_geom(struct g_sbuf *sb, struct g_geom *gp)
{
	g_sbuf_printf(sb, "Geom name: %s\n", gp->name);
	g_sbuf_printf(sb, "Class: %s\n", gp->class->name);
	if (gp->flags & G_GEOM_WITHER)
		g_sbuf_printf(sb, "State: withering\n");
	if (gp->dumpconf)
		gp->dumpconf(sb, "", gp, NULL, NULL);
	unsigned n = 0;
	if (!list_empty(&gp->providers))
		g_sbuf_printf(sb, "Providers:\n");
	list_for_each(it, &gp->providers)
	    g_conf_provider(sb, list_entry(it, struct g_provider, link), ++n);
	n = 0;
	if (!list_empty(&gp->consumers))
		g_sbuf_printf(sb, "Consumers:\n");
	list_for_each(it, &gp->consumers)
	{
		struct g_consumer *cp = list_entry(it, struct g_consumer, link);
		g_sbuf_printf(sb, "%u. Name: %s\n", ++n,
			      cp->provider ? cp->provider->name : "(detached)");
		g_sbuf_printf(sb, "   Mode: r%dw%de%d\n", cp->acr, cp->acw, cp->ace);
		if (gp->dumpconf)
			gp->dumpconf(sb, "   ", gp, cp, NULL);
	}
	g_sbuf_printf(sb, "\n");
}

void g_conf_list(struct g_sbuf *sb, const char *class_name)
{
	bool locked = g_topology_locked();
	if (!locked)
		g_topology_lock();
	list_for_each(ci, &g_classes)
	{
		struct g_class *mp = list_entry(ci, struct g_class, link);
		if (class_name && strcmp(class_name, mp->name) != 0)
			continue;
		list_for_each(gi, &mp->geoms) g_conf_geom(sb, list_entry(gi, struct g_geom, link));
	}
	if (!locked)
		g_topology_unlock();
}
