/*
 * Notifications both ways: kicks (available-buffer notifications, driver
 * to device) and the driver's suppression of interrupts (used-buffer
 * notifications, device to driver).
 *
 * Kicks. virtq_kick_prepare publishes the batch added since the last call
 * by storing avail->idx, then decides whether the device wants to hear
 * about it. Without event index the device says so with
 * VIRTQ_USED_F_NO_NOTIFY in used->flags; with it, through avail_event:
 * notify iff the batch [old, new) contains entry avail_event.
 *
 * Interrupts. The mirror image: VIRTQ_AVAIL_F_NO_INTERRUPT in
 * avail->flags, or used_event with event index. Disabling with event
 * index parks used_event at last_used - 1: the device has already passed
 * it and would only cross it again 65536 completions later (possible only
 * if the driver keeps collecting with callbacks off, and then merely a
 * spurious interrupt, which drivers must tolerate anyway).
 *
 * Fences (SMP fences: the device is another CPU running the hypervisor):
 *  - release before storing avail->idx: descriptors, indirect tables and
 *    ring entries must be visible before the index that exposes them;
 *  - seq_cst between storing avail->idx and reading used->flags or
 *    avail_event: a store followed by a load of another location needs a
 *    full barrier. Otherwise the device could go idle having seen neither
 *    our new index nor we its request for a kick, and the batch would
 *    sit there unannounced;
 *  - seq_cst between storing avail->flags/used_event in virtq_enable_cb and
 *    reading used->idx, for the same reason in the other direction: either
 *    the device sees callbacks enabled and interrupts, or we see its new
 *    used entries and poll.
 */
#include "virtq_internal.h"
#include <stdatomic.h>

bool virtq_kick_prepare(struct virtq *vq)
{
	uint16_t old_idx = vq->avail_published, new_idx = vq->avail_idx;
	if (new_idx == old_idx)
		return false;

	atomic_thread_fence(memory_order_release);
	virtq_shared_store(virtq_avail_idx(vq->avail), new_idx);
	vq->avail_published = new_idx;
	atomic_thread_fence(memory_order_seq_cst);

	bool need;
	if (vq->event_idx)
		need = virtq_need_event(virtq_shared_load(virtq_avail_event(vq->used, vq->size)),
					new_idx, old_idx);
	else
		need = !(virtq_shared_load(virtq_used_flags(vq->used)) & VIRTQ_USED_F_NO_NOTIFY);
	if (need)
		vq->st.kicks++;
	else
		vq->st.kicks_suppressed++;
	return need;
}

void virtq_notify(struct virtq *vq)
{
	vq->notify(vq, vq->notify_arg);
}

void virtq_kick(struct virtq *vq)
{
	if (virtq_kick_prepare(vq))
		virtq_notify(vq);
}

void virtq_disable_cb(struct virtq *vq)
{
	if (vq->cb_disabled)
		return;
	vq->cb_disabled = true;
	if (vq->event_idx)
		virtq_shared_store(virtq_used_event(vq->avail, vq->size),
				   (uint16_t)(vq->last_used - 1));
	else
		virtq_shared_store(virtq_avail_flags(vq->avail), VIRTQ_AVAIL_F_NO_INTERRUPT);
}

bool virtq_enable_cb(struct virtq *vq)
{
	if (vq->broken)
		return true;
	vq->cb_disabled = false;
	/* Interrupt when the device writes entry last_used, the next one we
	 * have not collected. */
	if (vq->event_idx)
		virtq_shared_store(virtq_used_event(vq->avail, vq->size), vq->last_used);
	else
		virtq_shared_store(virtq_avail_flags(vq->avail), 0);
	atomic_thread_fence(memory_order_seq_cst);
	return virtq_shared_load(virtq_used_idx(vq->used)) == vq->last_used;
}
