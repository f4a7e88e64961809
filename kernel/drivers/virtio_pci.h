/*
 * The virtio 1.x modern PCI transport (kernel only).
 *
 * vpci_open() finds the device's virtio capabilities (common, notify, ISR,
 * device-specific configuration, shared-memory regions such as virtio-fs's
 * DAX window, honouring their offsets and lengths), resets the device and
 * acknowledges it. The driver then negotiates features (VERSION_1 is
 * required), sets up its queues, and calls vpci_driver_ok(). Completions
 * come by interrupt: one MSI-X vector per queue where the platform has
 * MSI, or the INTx line with the ISR register otherwise; either way the
 * queue's handler runs in interrupt context.
 *
 * Calls other than the handlers are for thread context at probe time.
 */
#ifndef KARST_VIRTIO_PCI_H
#define KARST_VIRTIO_PCI_H

#include <karst/pci.h>
#include <stdbool.h>
#include <stdint.h>

struct virtq;
struct vpci;

#define VPCI_MAX_QUEUES 8
#define VPCI_MAX_SHM	4

int vpci_open(struct pci_dev *pd, struct vpci **out);
uint64_t vpci_device_features(struct vpci *v);
/* Offer `features` (a subset of the device's); -EIO when the device
 * refuses them (FEATURES_OK does not stick), -ENOTSUP without VERSION_1. */
int vpci_set_features(struct vpci *v, uint64_t features);
uint64_t vpci_features(const struct vpci *v);
/* The device-specific configuration structure (read with the le helpers
 * of virtio.h); NULL when the device has none. */
volatile void *vpci_device_cfg(struct vpci *v);
/* Create queue `index` with up to max_size entries (0: the device's size);
 * handler(arg) runs from the queue's interrupt. */
struct virtq *vpci_setup_queue(struct vpci *v, unsigned index, unsigned max_size,
			       void (*handler)(void *arg), void *arg);
unsigned vpci_num_queues(struct vpci *v);
/*
 * Publish what was added to queue `index` and notify the device if it
 * asks for it (virtq_kick), and keep the queue's watchdog running while
 * requests are in flight (see virtio_pci_watch.c): drivers kick through this,
 * not virtq_kick. Called under the driver's queue lock; does not sleep.
 */
void vpci_kick(struct vpci *v, unsigned index);
/*
 * When queue `index` has requests in flight and no completion for `ns`
 * (the watchdog's polls and doorbells did not help), fn(arg of the
 * queue's handler) runs once, from a callout (interrupt context: no
 * sleeping): the device is not answering; the driver resets it and fails
 * what it had given it. Set before requests flow.
 */
void vpci_set_timeout(struct vpci *v, unsigned index, uint64_t ns, void (*fn)(void *arg));
/* Tell the device the driver is ready; `name` (vtbd0, ...) for listings. */
void vpci_driver_ok(struct vpci *v, const char *name);
/* Shared-memory region `id` (virtio-fs's DAX window is id 0): its physical
 * address and length, as the capability gives them. -ENOENT when absent. */
int vpci_shm(struct vpci *v, uint8_t id, uint64_t *pa, uint64_t *len);
/* Put the device back in reset (on failure or detach). */
void vpci_reset(struct vpci *v);
/*
 * Fault injection for tests: the next `n` interrupts of queue `index` of
 * the device named `name` are ignored, as if lost; the watchdog must then
 * finish the requests. vpci_watch_stats reads the watchdog's counters
 * (periods that polled, polls that found completions). -ENOENT when there
 * is no such queue.
 */
int vpci_lose_interrupts(const char *name, unsigned index, unsigned n);
int vpci_watch_stats(const char *name, unsigned index, uint64_t *polls, uint64_t *rescued);
/* Fault injection: from now on queue `index` of `name` never sees a
 * completion (interrupts and the watchdog's polls are ignored), as with a
 * device that stopped answering; its timeout becomes timeout_ns (0: keep). */
int vpci_make_deaf(const char *name, unsigned index, uint64_t timeout_ns);
/* "MSI-X" or "INTx", for messages. */
const char *vpci_irq_kind(const struct vpci *v);

#endif
