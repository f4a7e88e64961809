/*
 * PART: partition tables. Tastes every provider for a GPT (behind its
 * protective MBR) or, failing that, a plain MBR, and offers one provider
 * per partition: "<disk>p<N>" for GPT entry N, "<disk>s<N>" for MBR slot
 * N. The tables are decoded and checked by g_part_gpt.c and g_part_mbr.c;
 * metadata that fails a check gets a one-line message and no geom.
 * Partition tables are only read here; the host tool writes them.
 *
 * start() clones the request, shifts it by the partition's offset and
 * sends it to the disk; g_io_check has already cut it at the partition's
 * end. A partition opened for writing holds the disk exclusively
 * (g_std_access), so nobody rewrites the table beneath it; a writer that
 * opens the disk itself spoils the geom, and the disk is tasted again when
 * that writer closes.
 */
#include "g_internal.h"
#include <errno.h>
#include <karst/init.h>
#include <karst/kmem.h>
#include <string.h>

enum g_part_scheme { G_PART_GPT = 1, G_PART_MBR };

struct g_part_entry {
	uint64_t offset, size; /* bytes */
	unsigned index;
	uint8_t mbr_type;
	struct g_uuid type;
	char label[G_GPT_NAMELEN + 1];
};

struct g_part_softc {
	enum g_part_scheme scheme;
	struct g_consumer *cp;
	struct g_gpt_table gpt;
	struct g_mbr mbr;
	unsigned nparts;
	struct g_part_entry *parts;
};

static void g_part_start(struct bio *bp)
{
	struct g_part_softc *sc = bp->to->geom->softc;
	struct g_part_entry *pe = bp->to->private;
	struct bio *cbp = g_clone_bio(bp);
	if (!cbp) {
		g_io_deliver(bp, -ENOMEM);
		return;
	}
	if (bp->cmd != BIO_FLUSH)
		cbp->offset += pe->offset;
	g_io_request(cbp, sc->cp);
}

static void g_part_free(struct g_part_softc *sc)
{
	if (!sc)
		return;
	g_gpt_free(&sc->gpt);
	kfree(sc->parts);
	kfree(sc);
}

static void g_part_release(struct g_geom *gp)
{
	g_part_free(gp->softc);
	gp->softc = NULL;
}

static int g_part_rd(void *ctx, uint64_t off, void *buf, size_t len)
{
	return g_read_data(ctx, off, buf, len);
}

/* Fill sc->parts from whichever table was found. */
static int g_part_collect(struct g_part_softc *sc, uint32_t ss)
{
	unsigned n = 0, max = sc->scheme == G_PART_GPT ? sc->gpt.hdr.nents : 4;
	sc->parts = kcalloc(max, sizeof(*sc->parts));
	if (!sc->parts)
		return -ENOMEM;
	for (unsigned i = 0; i < max; i++) {
		struct g_part_entry *pe = &sc->parts[n];
		if (sc->scheme == G_PART_GPT) {
			const struct g_gpt_ent *e = &sc->gpt.ents[i];
			if (g_uuid_is_nil(&e->type))
				continue;
			pe->offset = e->lba_start * ss;
			pe->size = (e->lba_end - e->lba_start + 1) * ss;
			pe->type = e->type;
			memcpy(pe->label, e->name, sizeof(pe->label));
		} else {
			const struct g_mbr_ent *e = &sc->mbr.ent[i];
			if (e->type == 0)
				continue;
			pe->offset = (uint64_t)e->lba_start * ss;
			pe->size = (uint64_t)e->nsectors * ss;
			pe->mbr_type = e->type;
		}
		pe->index = i + 1;
		n++;
	}
	sc->nparts = n;
	return 0;
}

/* Read the tables through cp (open for reading). */
static int g_part_probe(struct g_part_softc *sc, struct g_provider *pp, struct g_consumer *cp)
{
	char why[160];
	int err =
	    g_gpt_read(g_part_rd, cp, pp->mediasize, pp->sectorsize, &sc->gpt, why, sizeof(why));
	if (err == 0) {
		if (why[0])
			printk("PART: %s: %s\n", pp->name, why);
		sc->scheme = G_PART_GPT;
		return 0;
	}
	if (err != -ENOENT) {
		printk("PART: %s: rejected: %s\n", pp->name, why);
		return err;
	}
	/* No GPT: a plain MBR? */
	uint8_t *sec = kmalloc(pp->sectorsize);
	if (!sec)
		return -ENOMEM;
	const char *w;
	err = g_read_data(cp, 0, sec, pp->sectorsize);
	if (err == 0)
		err =
		    g_mbr_decode(sec, pp->sectorsize, pp->mediasize / pp->sectorsize, &sc->mbr, &w);
	kfree(sec);
	if (err == -EINVAL)
		printk("PART: %s: rejected MBR: %s\n", pp->name, w);
	if (err)
		return err;
	if (sc->mbr.protective) {
		/* g_gpt_read saw the 0xEE entry fail some other way: no. */
		return -ENOENT;
	}
	bool any = false;
	for (int i = 0; i < 4; i++)
		any |= sc->mbr.ent[i].type != 0;
	if (!any)
		return -ENOENT;
	sc->scheme = G_PART_MBR;
	return 0;
}

static struct g_geom *g_part_taste(struct g_class *mp, struct g_provider *pp)
{
	g_topology_assert();
	if (pp->sectorsize < 512 || strlen(pp->name) + 5 >= G_NAME_MAX)
		return NULL;
	struct g_part_softc *sc = kzalloc(sizeof(*sc));
	struct g_geom *gp = sc ? g_new_geom(mp, "%s", pp->name) : NULL;
	struct g_consumer *cp = gp ? g_new_consumer(gp) : NULL;
	if (!cp)
		goto fail;
	gp->softc = sc;
	sc->cp = cp;
	if (g_attach(cp, pp) != 0)
		goto fail;
	if (g_access(cp, 1, 0, 0) != 0)
		goto fail_detach;
	int err = g_part_probe(sc, pp, cp);
	g_access(cp, -1, 0, 0);
	if (err || g_part_collect(sc, pp->sectorsize) != 0)
		goto fail_detach;

	const char *sep = sc->scheme == G_PART_GPT ? "p" : "s";
	for (unsigned i = 0; i < sc->nparts; i++) {
		struct g_part_entry *pe = &sc->parts[i];
		char name[G_NAME_MAX];
		ksnprintf(name, sizeof(name), "%s%s%u", pp->name, sep, pe->index);
		if (g_find_provider(name)) {
			printk("PART: %s: a provider %s exists already; skipped\n", pp->name, name);
			continue;
		}
		struct g_provider *npp = g_new_provider(gp, "%s", name);
		if (!npp) {
			printk("PART: %s: no memory for %s\n", pp->name, name);
			continue;
		}
		npp->mediasize = pe->size;
		npp->sectorsize = pp->sectorsize;
		npp->private = pe;
		npp->index = pe->index;
		g_provider_ready(npp);
	}
	return gp;

fail_detach:
	g_detach(cp);
fail:
	if (cp)
		g_destroy_consumer(cp);
	if (gp)
		g_destroy_geom(gp);
	g_part_free(sc);
	return NULL;
}

static int g_part_destroy_geom(struct g_class *mp, struct g_geom *gp, bool force)
{
	g_topology_assert();
	list_for_each(it, &gp->providers)
	{
		struct g_provider *pp = list_entry(it, struct g_provider, link);
		if (!force && (pp->acr || pp->acw || pp->ace))
			return -EBUSY;
	}
	g_wither_geom(gp, -ENXIO);
	return 0;
}

static void g_part_dumpconf(struct g_sbuf *sb, const char *indent, struct g_geom *gp,
			    struct g_consumer *cp, struct g_provider *pp)
{
	struct g_part_softc *sc = gp->softc;
	if (!sc || cp)
		return;
	if (!pp) {
		g_sbuf_printf(sb, "%sScheme: %s\n", indent,
			      sc->scheme == G_PART_GPT ? "GPT" : "MBR");
		return;
	}
	struct g_part_entry *pe = pp->private;
	g_sbuf_printf(sb, "%sIndex: %u\n%sOffset: %llu\n", indent, pe->index, indent,
		      (unsigned long long)pe->offset);
	if (sc->scheme == G_PART_MBR) {
		g_sbuf_printf(sb, "%sType: mbr-0x%02x\n", indent, pe->mbr_type);
		return;
	}
	char u[40];
	const char *tn = g_gpt_type_name(&pe->type);
	g_uuid_format(&pe->type, u, sizeof(u));
	g_sbuf_printf(sb, "%sType: %s\n%sRawtype: %s\n", indent, tn ? tn : u, indent, u);
	if (pe->label[0])
		g_sbuf_printf(sb, "%sLabel: %s\n", indent, pe->label);
}

static void g_part_show_mbr(struct g_sbuf *sb, struct g_geom *gp, struct g_part_softc *sc)
{
	struct g_consumer *cp = sc->cp;
	uint64_t ss = cp->provider ? cp->provider->sectorsize : 512;
	uint64_t n = cp->provider ? cp->provider->mediasize / ss : 0;
	char hs[16];
	g_humanize(hs, sizeof(hs), n * ss);
	g_sbuf_printf(sb, "=> %10llu %10llu  %s  MBR  (%s)\n", 0ULL, (unsigned long long)n,
		      gp->name, hs);
	for (unsigned i = 0; i < sc->nparts; i++) {
		struct g_part_entry *pe = &sc->parts[i];
		g_humanize(hs, sizeof(hs), pe->size);
		g_sbuf_printf(sb, "   %10llu %10llu  %4u  mbr-0x%02x  (%s)\n",
			      (unsigned long long)(pe->offset / ss),
			      (unsigned long long)(pe->size / ss), pe->index, pe->mbr_type, hs);
	}
}

void g_conf_part_show(struct g_sbuf *sb)
{
	bool locked = g_topology_locked();
	if (!locked)
		g_topology_lock();
	if (!g_part_class.registered)
		goto out;
	list_for_each(it, &g_part_class.geoms)
	{
		struct g_geom *gp = list_entry(it, struct g_geom, link);
		struct g_part_softc *sc = gp->softc;
		if ((gp->flags & G_GEOM_WITHER) || !sc)
			continue;
		if (sc->scheme == G_PART_GPT)
			g_gpt_show(sb, gp->name, &sc->gpt);
		else
			g_part_show_mbr(sb, gp, sc);
		g_sbuf_printf(sb, "\n");
	}
out:
	if (!locked)
		g_topology_unlock();
}

struct g_class g_part_class = {
    .name = "PART",
    .taste = g_part_taste,
    .destroy_geom = g_part_destroy_geom,
    .start = g_part_start,
    .access = g_std_access,
    .orphan = g_std_orphan,
    .spoiled = g_std_spoiled,
    .dumpconf = g_part_dumpconf,
    .release = g_part_release,
};

G_CLASS_DECLARE(g_part_class);
