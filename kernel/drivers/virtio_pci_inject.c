/*
 * Test-only fault injection for the virtio PCI transport: lose a queue's
 * next interrupts (the watchdog must finish the requests), or make a queue
 * deaf for good (the dead-device timeout must fire). The interrupt path
 * (vpci_queue_irq) and the watchdog read the flags set here; tests find
 * queues by device name (vtbd0, ...).
 */
#include "virtio_pci_internal.h"
#include <errno.h>
#include <karst/arch.h>
#include <string.h>

struct vpci_queue *vpci_find_queue(const char *name, unsigned index)
{
	for (unsigned d = 0; d < vpci_ndevs; d++)
		if (!strcmp(vpci_devs[d]->name, name) && index < vpci_devs[d]->nq &&
		    vpci_devs[d]->q[index].vq)
			return &vpci_devs[d]->q[index];
	return NULL;
}

int vpci_lose_interrupts(const char *name, unsigned index, unsigned n)
{
	struct vpci_queue *q = vpci_find_queue(name, index);
	if (!q)
		return -ENOENT;
	unsigned long f = arch_irq_save();
	q->drop_irqs = n;
	arch_irq_restore(f);
	return 0;
}

int vpci_make_deaf(const char *name, unsigned index, uint64_t timeout_ns)
{
	struct vpci_queue *q = vpci_find_queue(name, index);
	if (!q)
		return -ENOENT;
	spin_lock(&q->wlock);
	q->deaf = true;
	if (q->timeout && timeout_ns)
		q->timeout_ns = timeout_ns;
	spin_unlock(&q->wlock);
	return 0;
}
