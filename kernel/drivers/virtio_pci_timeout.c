/*
 * The dead-device timeout of the virtio PCI transport.
 *
 * A queue with requests in flight whose watchdog (virtio_pci_watch.c)
 * polled and rang the doorbell for the driver's whole timeout without
 * seeing a completion belongs to a device that stopped answering. The
 * watchdog asks vpci_timeout_expired() at each period; when it says yes,
 * the watchdog stops and runs the driver's handler once, from the callout
 * (interrupt context: the handler resets the device and fails what it had
 * given it, without sleeping). Nothing waits forever on a dead device.
 *
 * Locking: the timeout fields are guarded by q->wlock.
 */
#include "virtio_pci_internal.h"

bool vpci_timeout_expired(struct vpci_queue *q, uint64_t now, bool progress)
{
	if (progress)
		q->wprogress = now;
	return q->timeout && now - q->wprogress >= q->timeout_ns;
}

void vpci_set_timeout(struct vpci *v, unsigned index, uint64_t ns, void (*fn)(void *arg))
{
	struct vpci_queue *q = &v->q[index];
	spin_lock(&q->wlock);
	q->timeout = fn;
	q->timeout_ns = ns;
	spin_unlock(&q->wlock);
}
