/*
 * The `virtio` shell command: per queue of every virtio PCI device, the
 * requests added, the doorbells rung and suppressed, the completions, and
 * how often the watchdog polled and found something.
 */
#include "virtio_pci_internal.h"
#include <karst/shell.h>
#include <virtio.h>

static int cmd_virtio(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	shell_printf("%-8s %5s %10s %10s %10s %10s %8s %8s\n", "device", "queue", "adds", "kicks",
		     "suppressed", "completed", "polls", "rescued");
	for (unsigned d = 0; d < vpci_ndevs; d++) {
		struct vpci *v = vpci_devs[d];
		for (unsigned i = 0; i < v->nq; i++) {
			struct vpci_queue *q = &v->q[i];
			if (!q->vq)
				continue;
			struct virtq_stats st;
			virtq_get_stats(q->vq, &st);
			shell_printf("%-8s %5u %10lu %10lu %10lu %10lu %8lu %8lu\n", v->name, i,
				     (unsigned long)st.adds, (unsigned long)st.kicks,
				     (unsigned long)st.kicks_suppressed,
				     (unsigned long)st.completions, (unsigned long)q->wpolls,
				     (unsigned long)q->wrescued);
		}
	}
	return 0;
}
SHELL_CMD("virtio", cmd_virtio, "virtio queues: requests, kicks, watchdog polls");
