/*
 * The lost-interrupt watchdog of the virtio PCI transport.
 *
 * Notification suppression is a Dekker-style handshake: each side stores
 * its index, fences, and reads the other's event field. Under QEMU's TCG
 * with one vCPU the guest's fences are not translated into host fences
 * (QEMU only emits them for parallel vCPUs), so the store can still sit in
 * the host's store buffer while the device thread reads the old value:
 * then an interrupt or a kick is lost and requests hang. Every queue with
 * requests in flight therefore has a callout that, when a whole period
 * passed without a completion, runs the queue's handler (as a spurious
 * interrupt would) and rings the doorbell (as a spurious kick would); both
 * are harmless when nothing was lost. It is armed by vpci_kick and stops
 * itself when the queue drains, so an idle system takes no extra timer
 * interrupts. `virtio` shows how often it fired. Each period also asks the
 * dead-device timeout (virtio_pci_timeout.c) whether the queue has waited
 * too long; when it has, the watchdog stops and the driver's timeout
 * handler runs.
 *
 * Locking: q->wlock (a spinlock, taken in callout context) guards the w*
 * fields; the driver's handler runs without it.
 */
#include "virtio_pci_internal.h"
#include <errno.h>
#include <karst/time.h>
#include <virtio.h>

#define VPCI_WATCH_NS (20 * 1000 * 1000)

void vpci_watch_stop(struct vpci_queue *q)
{
	spin_lock(&q->wlock);
	callout_cancel(&q->wtimer);
	q->wtimer_armed = false;
	spin_unlock(&q->wlock);
}

/*
 * The watchdog's period (a callout: interrupt context, no sleeping). The
 * queue's counters are read without the driver's lock: they only decide
 * whether to poll, and a needless poll is harmless.
 */
static void vpci_watch(void *arg)
{
	struct vpci_queue *q = arg;
	struct virtq_stats st;
	virtq_get_stats(q->vq, &st);
	uint64_t in_flight = st.adds - st.completions;
	bool stalled = in_flight && st.completions == q->wseen;
	if (stalled && !q->deaf) {
		q->handler(q->arg);
		*q->notify = (uint16_t)q->index;
		virtq_get_stats(q->vq, &st);
	}
	uint64_t now = time_ns();
	bool timed_out = false;
	spin_lock(&q->wlock);
	if (!q->wtimer_armed) { /* stopped meanwhile (vpci_reset) */
		spin_unlock(&q->wlock);
		return;
	}
	if (stalled) {
		q->wpolls++;
		if (st.completions != q->wseen)
			q->wrescued++;
	}
	bool progress = st.completions != q->wseen || st.adds == st.completions;
	q->wseen = st.completions;
	timed_out = vpci_timeout_expired(q, now, progress);
	if (timed_out)
		q->wtimer_armed = false;
	else if (st.adds != st.completions || q->wkicked)
		callout_schedule(&q->wtimer, now + VPCI_WATCH_NS, vpci_watch, q);
	else
		q->wtimer_armed = false;
	q->wkicked = false;
	spin_unlock(&q->wlock);
	if (timed_out)
		q->timeout(q->arg);
}

void vpci_kick(struct vpci *v, unsigned index)
{
	struct vpci_queue *q = &v->q[index];
	virtq_kick(q->vq);
	spin_lock(&q->wlock);
	q->wkicked = true;
	if (!q->wtimer_armed) {
		struct virtq_stats st;
		virtq_get_stats(q->vq, &st);
		q->wseen = st.completions;
		uint64_t now = time_ns();
		vpci_timeout_expired(q, now, true); /* the wait starts now */
		q->wtimer_armed = true;
		callout_schedule(&q->wtimer, now + VPCI_WATCH_NS, vpci_watch, q);
	}
	spin_unlock(&q->wlock);
}

int vpci_watch_stats(const char *name, unsigned index, uint64_t *polls, uint64_t *rescued)
{
	struct vpci_queue *q = vpci_find_queue(name, index);
	if (!q)
		return -ENOENT;
	spin_lock(&q->wlock);
	*polls = q->wpolls;
	*rescued = q->wrescued;
	spin_unlock(&q->wlock);
	return 0;
}
