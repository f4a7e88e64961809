/*
 * GEOM's DISK class (kernel only): a provider for each disk a driver
 * finds. The driver gives a strategy function, which GEOM calls on its
 * g_down thread for every request: it must not sleep; it starts the I/O
 * and completes the bio later with g_io_deliver() (from its interrupt
 * handler, say), setting bio->completed.
 */
#ifndef KARST_G_DISK_H
#define KARST_G_DISK_H

#include <geom.h>
#include <stdint.h>

struct g_disk_ops {
	void (*strategy)(void *drv, struct bio *bp);
};

/* Create the disk's geom and provider `name` and offer it for tasting;
 * *ppp (may be NULL) gets the provider. May sleep (thread context). */
int g_disk_create(const char *name, uint64_t mediasize, uint32_t sectorsize,
		  const struct g_disk_ops *ops, void *drv, struct g_provider **ppp);
/* The disk is gone (the device failed or went away): its provider is
 * orphaned with `error` on the event thread, so I/O fails with it and the
 * geoms above are told. Any context; never sleeps. */
void g_disk_gone(struct g_provider *pp, int error);

#endif
