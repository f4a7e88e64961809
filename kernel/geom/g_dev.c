/*
 * /dev nodes for GEOM providers (kernel builds only).
 *
 * How it works: g_dev registers a GEOM observer. When a provider becomes
 * ready, the observer makes a g_dev_softc (a copy of the name and sizes)
 * and registers /dev/NAME with devfs as a block device; when the provider
 * is orphaned or destroyed it marks the softc gone and unregisters the
 * name. devfs keeps calling the ops of files that are still open, so the
 * softc lives until devfs's release callback says no vnode refers to it.
 * Both observer callbacks run on the event thread with the topology lock
 * held, so they only touch atomics and the device list, never sc->lock
 * (an open holds sc->lock while it waits for the topology lock).
 *
 * devfs gives a device no per-open state (its ops get only the registered
 * arg), so every open file of a node shares one USER consumer: the first
 * open takes it with g_open (read access, plus write unless O_RDONLY), a
 * later open that wants to write upgrades it with g_access(0, 1, 0), and
 * the last close releases it with g_close. Because close() does not say
 * which open is closing, write access, once taken, is kept until the last
 * close (so the provider is retasted then, not when the last writer goes).
 *
 * Transfers take any offset and length. Each is done in pieces of at most
 * G_DEV_BOUNCE bytes through a bounce buffer covering whole sectors: a read
 * reads the covering sectors and copies out the middle; a write first
 * reads the partial sectors at either end (read-modify-write), copies the
 * new bytes over, writes the sectors back, and only then advances the uio,
 * so the byte count the caller sees is what reached the provider. Writes
 * of one node are serialised (sc->wlock) so two partial writes to one
 * sector cannot lose each other's bytes; reads run concurrently.
 */
#include "geom.h"
#include <devfs.h>
#include <errno.h>
#include <karst/init.h>
#include <karst/kmem.h>
#include <karst/printk.h>
#include <karst/sync.h>
#include <string.h>
#include <vfs.h>

#define G_DEV_BOUNCE (64 * 1024) /* bytes per transfer, rounded up to a sector */

struct g_dev_softc {
	struct list_node link; /* in g_dev_list, while not gone (topology lock) */
	struct g_provider *pp; /* valid while !gone (topology lock) */
	char name[G_NAME_MAX]; /* copies: they never change for a provider */
	uint64_t mediasize;
	uint32_t sectorsize;
	_Atomic bool gone;     /* orphaned or destroyed: opens fail with ENXIO */
	struct mutex lock;     /* cp, nopen, writable */
	struct g_consumer *cp; /* the shared consumer while nopen > 0 */
	int nopen;
	bool writable;	    /* cp holds write access */
	struct mutex wlock; /* serialises writes (read-modify-write) */
};

/* Devices whose provider is live (topology lock). */
static struct list_node g_dev_list = LIST_HEAD_INIT(g_dev_list);

/* The provider went away under an open node: its I/O fails with ENXIO
 * now; the last close lets go of the consumer. Event thread, topology
 * locked: no sc->lock here. */
static void g_dev_orphan(struct g_consumer *cp, void *arg)
{
	struct g_dev_softc *sc = arg;
	atomic_store(&sc->gone, true);
}

static int g_dev_open(void *arg, int flags)
{
	struct g_dev_softc *sc = arg;
	bool w = (flags & O_ACCMODE) != O_RDONLY;
	int err = 0;
	mutex_lock(&sc->lock);
	if (atomic_load(&sc->gone)) {
		err = -ENXIO;
	} else if (!sc->cp) {
		struct g_consumer *cp;
		err = g_open(sc->name, 1, w ? 1 : 0, 0, g_dev_orphan, sc, &cp);
		if (err == -ENOENT)
			err = -ENXIO; /* gone meanwhile */
		if (!err) {
			/* The name may belong to a newer provider by now. */
			g_topology_lock();
			bool ours = !atomic_load(&sc->gone) && cp->provider == sc->pp;
			g_topology_unlock();
			if (ours) {
				sc->cp = cp;
				sc->writable = w;
			} else {
				g_close(cp);
				err = -ENXIO;
			}
		}
	} else if (w && !sc->writable) {
		g_topology_lock();
		err = g_access(sc->cp, 0, 1, 0);
		g_topology_unlock();
		if (!err)
			sc->writable = true;
	}
	if (!err)
		sc->nopen++;
	mutex_unlock(&sc->lock);
	return err;
}

static int g_dev_close(void *arg)
{
	struct g_dev_softc *sc = arg;
	mutex_lock(&sc->lock);
	KASSERT(sc->nopen > 0 && sc->cp);
	if (--sc->nopen == 0) {
		g_close(sc->cp);
		sc->cp = NULL;
		sc->writable = false;
	}
	mutex_unlock(&sc->lock);
	return 0;
}

/* Copy n bytes (n <= uio_resid) out of a UIO_WRITE uio without advancing
 * it: the uio moves only once the bytes are on the provider. */
static void g_dev_uio_peek(const struct uio *uio, void *buf, size_t n)
{
	char *p = buf;
	for (int i = 0; n > 0 && i < uio->uio_iovcnt; i++) {
		size_t c = MIN(n, uio->uio_iov[i].iov_len);
		memcpy(p, uio->uio_iov[i].iov_base, c);
		p += c;
		n -= c;
	}
}

/* The piece of a transfer at off (< mediasize) of at most want bytes:
 * [*start, *end) are the sectors it covers, at most the bounce size;
 * returns how many of the caller's bytes it carries. */
static uint64_t g_dev_piece(const struct g_dev_softc *sc, uint64_t off, uint64_t want,
			    uint64_t *start, uint64_t *end)
{
	uint64_t ss = sc->sectorsize, bsize = MAX((uint64_t)G_DEV_BOUNCE, ss);
	uint64_t n = MIN(want, sc->mediasize - off);
	*start = ALIGN_DOWN(off, ss);
	*end = MIN(ALIGN_UP(off + n, ss), *start + bsize);
	return MIN(n, *end - off);
}

static void *g_dev_bounce(const struct g_dev_softc *sc, const struct uio *uio)
{
	uint64_t ss = sc->sectorsize;
	uint64_t span = ALIGN_UP((uint64_t)uio->uio_resid, ss) + ss; /* an unaligned start */
	return kmalloc(MIN(span, MAX((uint64_t)G_DEV_BOUNCE, ss)));
}

static int g_dev_read(void *arg, struct uio *uio, int ioflag)
{
	struct g_dev_softc *sc = arg;
	if (uio->uio_offset < 0)
		return -EINVAL;
	if (uio->uio_resid == 0 || (uint64_t)uio->uio_offset >= sc->mediasize)
		return 0; /* end of the medium */
	uint8_t *bounce = g_dev_bounce(sc, uio);
	if (!bounce)
		return -ENOMEM;
	int err = 0;
	while (uio->uio_resid > 0 && (uint64_t)uio->uio_offset < sc->mediasize) {
		uint64_t off = (uint64_t)uio->uio_offset, start, end;
		uint64_t n = g_dev_piece(sc, off, uio->uio_resid, &start, &end);
		err = g_read_data(sc->cp, start, bounce, end - start);
		if (err)
			break;
		uiomove(bounce + (off - start), n, uio);
	}
	kfree(bounce);
	return err;
}

static int g_dev_write_piece(struct g_dev_softc *sc, struct uio *uio, uint8_t *bounce)
{
	uint64_t ss = sc->sectorsize;
	uint64_t off = (uint64_t)uio->uio_offset, start, end;
	uint64_t n = g_dev_piece(sc, off, uio->uio_resid, &start, &end);
	int err = 0;
	/* Read back the partial sectors at either end of the piece. */
	if (off != start)
		err = g_read_data(sc->cp, start, bounce, ss);
	bool tail_partial = (off + n) % ss != 0;
	bool tail_read = off != start && end - start == ss; /* same sector as the head */
	if (!err && tail_partial && !tail_read)
		err = g_read_data(sc->cp, end - ss, bounce + (end - ss - start), ss);
	if (err)
		return err;
	g_dev_uio_peek(uio, bounce + (off - start), n);
	err = g_write_data(sc->cp, start, bounce, end - start);
	if (!err)
		uiomove(NULL, n, uio); /* advance past what was written */
	return err;
}

static int g_dev_write(void *arg, struct uio *uio, int ioflag)
{
	struct g_dev_softc *sc = arg;
	if (uio->uio_offset < 0)
		return -EINVAL;
	if (uio->uio_resid == 0)
		return 0;
	if ((uint64_t)uio->uio_offset >= sc->mediasize)
		return -ENOSPC;
	uint8_t *bounce = g_dev_bounce(sc, uio);
	if (!bounce)
		return -ENOMEM;
	int err = 0;
	mutex_lock(&sc->wlock);
	while (!err && uio->uio_resid > 0 && (uint64_t)uio->uio_offset < sc->mediasize)
		err = g_dev_write_piece(sc, uio, bounce);
	mutex_unlock(&sc->wlock);
	kfree(bounce);
	/* Cut short at the end: the VFS reports the bytes written, if any. */
	if (!err && uio->uio_resid > 0)
		err = -ENOSPC;
	return err;
}

static int g_dev_ioctl(void *arg, unsigned long cmd, void *data)
{
	struct g_dev_softc *sc = arg;
	switch (cmd) {
	case G_DEV_IOC_MEDIASIZE:
		if (!data)
			return -EFAULT;
		*(uint64_t *)data = sc->mediasize;
		return 0;
	case G_DEV_IOC_SECTORSIZE:
		if (!data)
			return -EFAULT;
		*(uint32_t *)data = sc->sectorsize;
		return 0;
	case G_DEV_IOC_FLUSH:
		return g_flush(sc->cp);
	default:
		return -ENOTTY;
	}
}

static uint64_t g_dev_size(void *arg)
{
	return ((struct g_dev_softc *)arg)->mediasize;
}

static void g_dev_release(void *arg)
{
	struct g_dev_softc *sc = arg;
	KASSERT(sc->nopen == 0 && !sc->cp);
	mutex_destroy(&sc->lock);
	mutex_destroy(&sc->wlock);
	kfree(sc);
}

static const struct devfs_ops g_dev_ops = {
    .mode = S_IFBLK | 0640,
    .open = g_dev_open,
    .close = g_dev_close,
    .read = g_dev_read,
    .write = g_dev_write,
    .ioctl = g_dev_ioctl,
    .size = g_dev_size,
    .release = g_dev_release,
};

static void g_dev_provider_ready(struct g_provider *pp, void *arg)
{
	struct g_dev_softc *sc = kzalloc(sizeof(*sc));
	if (!sc) {
		printk("g_dev: no memory for /dev/%s\n", pp->name);
		return;
	}
	sc->pp = pp;
	memcpy(sc->name, pp->name, sizeof(sc->name));
	sc->mediasize = pp->mediasize;
	sc->sectorsize = pp->sectorsize;
	mutex_init(&sc->lock, "g_dev");
	mutex_init(&sc->wlock, "g_dev_write");
	int err = devfs_register(sc->name, &g_dev_ops, sc);
	if (err) {
		printk("g_dev: cannot make /dev/%s: %s\n", sc->name, vfs_errname(err));
		g_dev_release(sc);
		return;
	}
	list_add_tail(&g_dev_list, &sc->link);
}

static void g_dev_provider_gone(struct g_provider *pp, void *arg)
{
	list_for_each(it, &g_dev_list)
	{
		struct g_dev_softc *sc = list_entry(it, struct g_dev_softc, link);
		if (sc->pp != pp)
			continue;
		list_del(&sc->link);
		sc->pp = NULL;
		atomic_store(&sc->gone, true);
		/* May release (free) sc at once when no vnode holds it. */
		devfs_unregister(sc->name);
		return;
	}
}

static const struct g_observer g_dev_observer = {
    .name = "dev",
    .provider_ready = g_dev_provider_ready,
    .provider_gone = g_dev_provider_gone,
};

static int g_dev_init(void)
{
	return g_observer_register(&g_dev_observer);
}
KARST_INIT(INIT_FS, g_dev_init);

/*
 * Before the late boot stage (fstab mounts, run= scripts, the shell), let
 * GEOM finish tasting the disks the drivers found, so that every partition
 * and label is in /dev by then. GEOM's objects link before the
 * filesystems', so this runs before vfs_boot_mount at the same level.
 */
static int g_dev_boot_settle(void)
{
	g_waitidle();
	return 0;
}
KARST_INIT(INIT_LATE, g_dev_boot_settle);
