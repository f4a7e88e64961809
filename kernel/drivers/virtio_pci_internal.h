/*
 * What the files of the virtio PCI transport share (kernel/drivers only):
 * the device and queue structures, the register accessors and the list of
 * devices that reached DRIVER_OK.
 *
 *   virtio_pci.c         the transport: capabilities, features, queues, interrupts
 *   virtio_pci_watch.c   the lost-interrupt watchdog (one callout per busy queue)
 *   virtio_pci_timeout.c the dead-device timeout the watchdog enforces
 *   virtio_pci_inject.c  test-only fault injection (lost interrupts, a deaf queue)
 *   virtio_pci_cmds.c    the `virtio` shell command
 */
#ifndef KARST_VIRTIO_PCI_INTERNAL_H
#define KARST_VIRTIO_PCI_INTERNAL_H

#include "virtio_pci.h"
#include <karst/sync.h>
#include <karst/timer.h>
#include <stdbool.h>
#include <stdint.h>

#define VPCI_MAX_DEVS 16

struct vpci_queue {
	struct virtq *vq;
	void (*handler)(void *arg);
	void *arg;
	volatile uint16_t *notify;
	unsigned index;

	/* The watchdog (virtio_pci_watch.c); wlock guards the w* fields and
	 * the timeout's. */
	struct spinlock wlock;
	struct callout wtimer;
	bool wtimer_armed;
	bool wkicked;	    /* vpci_kick ran since the last period */
	uint64_t wseen;	    /* completions at the last period */
	uint64_t wpolls;    /* periods without progress: handler + doorbell */
	uint64_t wrescued;  /* ... after which the handler found completions */
	unsigned drop_irqs; /* fault injection: interrupts to ignore */
	bool deaf;	    /* fault injection: completions never seen */
	/* The driver's handler for a queue that made no progress for
	 * timeout_ns with requests in flight (callout context). */
	void (*timeout)(void *arg);
	uint64_t timeout_ns;
	uint64_t wprogress; /* last completion, or start of the wait */
};

struct vpci {
	struct pci_dev *pd;
	volatile uint8_t *common, *isr, *device;
	volatile uint8_t *notify_base;
	uint32_t notify_mult;
	uint64_t features;
	struct {
		uint8_t id;
		uint64_t pa, len;
	} shm[VPCI_MAX_SHM];
	int nshm;
	bool msix;
	bool msix_shared; /* one vector for every queue (a small MSI-X table) */
	unsigned msix_lines[1 + VPCI_MAX_QUEUES];
	unsigned intx_line;
	struct vpci_queue q[VPCI_MAX_QUEUES];
	unsigned nq;
	char name[16];
};

/* Devices that reached DRIVER_OK, for listings and fault injection;
 * appended with interrupts off, never removed. */
extern struct vpci *vpci_devs[VPCI_MAX_DEVS];
extern unsigned vpci_ndevs;

/* The queue of a registered device by name, or NULL. */
struct vpci_queue *vpci_find_queue(const char *name, unsigned index);

/* Watchdog (virtio_pci_watch.c): stop the queue's callout (reset). */
void vpci_watch_stop(struct vpci_queue *q);

/*
 * Timeout (virtio_pci_timeout.c), called by the watchdog's period under
 * q->wlock: records progress (a completion, or nothing in flight) at `now`
 * and tells whether the queue has now waited q->timeout_ns without any.
 */
bool vpci_timeout_expired(struct vpci_queue *q, uint64_t now, bool progress);

static inline void w8(volatile uint8_t *b, unsigned off, uint8_t v)
{
	b[off] = v;
}
static inline uint8_t r8(volatile uint8_t *b, unsigned off)
{
	return b[off];
}
static inline void w16(volatile uint8_t *b, unsigned off, uint16_t v)
{
	*(volatile uint16_t *)(b + off) = v;
}
static inline uint16_t r16(volatile uint8_t *b, unsigned off)
{
	return *(volatile uint16_t *)(b + off);
}
static inline void w32(volatile uint8_t *b, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(b + off) = v;
}
static inline uint32_t r32(volatile uint8_t *b, unsigned off)
{
	return *(volatile uint32_t *)(b + off);
}
static inline void w64(volatile uint8_t *b, unsigned off, uint64_t v)
{
	w32(b, off, (uint32_t)v);
	w32(b, off + 4, (uint32_t)(v >> 32));
}

#endif
