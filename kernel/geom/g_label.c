/*
 * LABEL: a stable name for a provider. A provider whose last sector holds
 * valid label metadata (g_label_meta.c) gets a geom offering
 * "label/NAME": the same data minus that last sector, so nothing written
 * through the label can damage the metadata. Labels are not looked for on
 * LABEL's own providers, and a name already in use is refused with a
 * message.
 *
 * The label is written by the host tool (geomtool label) or, in the
 * kernel, by `geom LABEL label provider=P name=N` (and removed by `geom
 * LABEL clear provider=P` or `name=N`), which write the sector on the
 * event thread; closing the provider after the write retastes it and the
 * label appears (or, cleared, its geom is spoiled and withers).
 */
#include "g_internal.h"
#include <errno.h>
#include <karst/init.h>
#include <karst/kmem.h>
#include <string.h>

struct g_label_softc {
	struct g_consumer *cp;
	struct g_label_meta md;
};

static void g_label_start(struct bio *bp)
{
	struct g_label_softc *sc = bp->to->geom->softc;
	struct bio *cbp = g_clone_bio(bp);
	if (!cbp) {
		g_io_deliver(bp, -ENOMEM);
		return;
	}
	g_io_request(cbp, sc->cp);
}

static void g_label_release(struct g_geom *gp)
{
	kfree(gp->softc);
	gp->softc = NULL;
}

/* Read and decode pp's last sector through cp (open for reading). */
static int g_label_read(struct g_consumer *cp, struct g_label_meta *md, const char **why)
{
	struct g_provider *pp = cp->provider;
	uint8_t *sec = kmalloc(pp->sectorsize);
	if (!sec)
		return -ENOMEM;
	int err = g_read_data(cp, pp->mediasize - pp->sectorsize, sec, pp->sectorsize);
	if (err)
		*why = "cannot read the last sector";
	else
		err = g_label_decode(sec, pp->sectorsize, pp->mediasize, md, why);
	kfree(sec);
	return err;
}

static struct g_geom *g_label_taste(struct g_class *mp, struct g_provider *pp)
{
	g_topology_assert();
	if (pp->geom->class == mp || pp->sectorsize < G_LABEL_METASIZE ||
	    pp->mediasize < 2 * (uint64_t)pp->sectorsize)
		return NULL;
	struct g_label_softc *sc = kzalloc(sizeof(*sc));
	struct g_geom *gp = sc ? g_new_geom(mp, "label:%s", pp->name) : NULL;
	struct g_consumer *cp = gp ? g_new_consumer(gp) : NULL;
	const char *why = "";
	if (!cp)
		goto fail;
	gp->softc = sc;
	sc->cp = cp;
	if (g_attach(cp, pp) != 0)
		goto fail;
	if (g_access(cp, 1, 0, 0) != 0)
		goto fail_detach;
	int err = g_label_read(cp, &sc->md, &why);
	g_access(cp, -1, 0, 0);
	if (err) {
		if (err != -ENOENT)
			printk("LABEL: %s: rejected: %s\n", pp->name, why);
		goto fail_detach;
	}
	char name[G_NAME_MAX];
	ksnprintf(name, sizeof(name), "label/%s", sc->md.name);
	if (g_find_provider(name)) {
		printk("LABEL: %s: label %s is in use already; ignored\n", pp->name, sc->md.name);
		goto fail_detach;
	}
	ksnprintf(gp->name, sizeof(gp->name), "%s", name);
	struct g_provider *npp = g_new_provider(gp, "%s", name);
	if (!npp)
		goto fail_detach;
	npp->mediasize = pp->mediasize - pp->sectorsize;
	npp->sectorsize = pp->sectorsize;
	g_provider_ready(npp);
	return gp;

fail_detach:
	g_detach(cp);
fail:
	if (cp)
		g_destroy_consumer(cp);
	if (gp)
		g_destroy_geom(gp);
	kfree(sc);
	return NULL;
}

static void g_label_dumpconf(struct g_sbuf *sb, const char *indent, struct g_geom *gp,
			     struct g_consumer *cp, struct g_provider *pp)
{
	struct g_label_softc *sc = gp->softc;
	if (sc && !cp && !pp)
		g_sbuf_printf(sb, "%sLabel: %s (version %u)\n", indent, sc->md.name,
			      sc->md.version);
}

static void g_label_tmp_orphan(struct g_consumer *cp)
{
}

/* Write (md != NULL) or clear pp's last sector from the event thread. */
static int g_label_write_meta(struct g_class *mp, struct g_provider *pp,
			      const struct g_label_meta *md)
{
	uint8_t *sec = kzalloc(pp->sectorsize);
	if (!sec)
		return -ENOMEM;
	int err = md ? g_label_encode(md, sec, pp->sectorsize) : 0;
	if (err) {
		kfree(sec);
		return err;
	}
	struct g_geom *gp = g_new_geom(mp, "label-writer");
	struct g_consumer *cp = NULL;
	err = -ENOMEM;
	if (gp) {
		gp->orphan = g_label_tmp_orphan;
		cp = g_new_consumer(gp);
	}
	if (cp && (err = g_attach(cp, pp)) == 0) {
		err = g_access(cp, 1, 1, 0);
		if (err == 0) {
			err = g_write_data(cp, pp->mediasize - pp->sectorsize, sec, pp->sectorsize);
			if (err == 0)
				err = g_flush(cp);
			g_access(cp, -1, -1, 0); /* last writer: pp is tasted again */
		}
		g_detach(cp);
	}
	if (cp)
		g_destroy_consumer(cp);
	if (gp)
		g_destroy_geom(gp);
	kfree(sec);
	return err;
}

/* The provider under label/NAME, or NULL. */
static struct g_provider *g_label_find_labelled(struct g_class *mp, const char *name)
{
	char gname[G_NAME_MAX];
	ksnprintf(gname, sizeof(gname), "label/%s", name);
	struct g_geom *gp = g_find_geom(mp, gname);
	struct g_label_softc *sc = gp ? gp->softc : NULL;
	return sc && sc->cp ? sc->cp->provider : NULL;
}

/* geom LABEL label provider=md0 name=root
 * geom LABEL clear provider=md0
 * geom LABEL clear name=root     (the provider that carries label root) */
static int g_label_ctlreq(struct g_class *mp, struct g_ctlreq *req)
{
	const char *prov = g_ctl_get(req, "provider");
	struct g_provider *pp = prov ? g_find_provider(prov) : NULL;
	if (!prov && strcmp(req->verb, "clear") == 0) {
		const char *name = g_ctl_get(req, "name");
		pp = name ? g_label_find_labelled(mp, name) : NULL;
		if (!pp)
			return g_ctl_error(req, "LABEL: no label %s",
					   name ? name : "(provider= or name= missing)");
	}
	if (!pp)
		return g_ctl_error(req, "LABEL: no provider %s",
				   prov ? prov : "(provider= missing)");
	if (pp->mediasize < 2 * (uint64_t)pp->sectorsize || pp->sectorsize < G_LABEL_METASIZE)
		return g_ctl_error(req, "LABEL: %s is too small", pp->name);
	int err;
	if (strcmp(req->verb, "label") == 0) {
		const char *name = g_ctl_get(req, "name");
		struct g_label_meta md = {.version = G_LABEL_VERSION, .provsize = pp->mediasize};
		if (!name || !g_label_name_valid(name))
			return g_ctl_error(req, "LABEL: name= needs 1-16 of [A-Za-z0-9._-]");
		strcpy(md.name, name);
		err = g_label_write_meta(mp, pp, &md);
	} else if (strcmp(req->verb, "clear") == 0) {
		err = g_label_write_meta(mp, pp, NULL);
	} else {
		return g_ctl_error(req, "LABEL: unknown verb %s", req->verb);
	}
	if (err)
		g_ctl_error(req, "LABEL: cannot write %s: error %d", pp->name, err);
	return err;
}

struct g_class g_label_class = {
    .name = "LABEL",
    .taste = g_label_taste,
    .ctlreq = g_label_ctlreq,
    .destroy_geom = g_std_destroy_geom,
    .start = g_label_start,
    .access = g_std_access,
    .orphan = g_std_orphan,
    .spoiled = g_std_spoiled,
    .dumpconf = g_label_dumpconf,
    .release = g_label_release,
};

G_CLASS_DECLARE(g_label_class);
