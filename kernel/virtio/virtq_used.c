/*
 * Collecting buffers: virtq_get_used reads the used ring from last_used
 * up to the device's used->idx, one entry per call, and gives each chain
 * back to the free list.
 *
 * Ordering: the device writes an entry, then (after its own barrier)
 * used->idx. We load used->idx, then an acquire fence, then read the
 * entry, so we never see the new index with a stale entry.
 *
 * The device is not trusted with our bookkeeping: an entry naming a
 * descriptor that is not the head of a live chain, or an index that ran
 * further ahead than the requests in flight, marks the queue broken
 * instead of freeing someone else's descriptors. A used length beyond the
 * chain's writable bytes is clamped, so a driver never reads past its
 * buffers because of it.
 *
 * With event index and callbacks enabled, each collected entry moves
 * used_event to the next one, so a driver that drains from its interrupt
 * handler without virtq_disable_cb keeps receiving interrupts.
 */
#include "virtq_internal.h"
#include <karst/kmem.h>
#include <karst/printk.h>
#include <stdatomic.h>

void *virtq_detach(struct virtq *vq, uint16_t head)
{
	struct virtq_slot *s = &vq->slot[head];
	void *token = s->token;

	/* The chain's descriptors are consecutive on next[]: splice them
	 * back in front of the free list. */
	uint16_t last = head;
	for (unsigned i = 1; i < s->ndesc; i++)
		last = vq->next[last];
	vq->next[last] = vq->free_head;
	vq->free_head = head;
	vq->num_free += s->ndesc;
	vq->in_flight--;

	kfree(s->indir);
	s->indir = NULL;
	s->token = NULL;
	s->ndesc = 0;
	s->in_len = 0;
	return token;
}

static void virtq_mark_broken(struct virtq *vq, const char *why, unsigned value)
{
	if (!vq->broken)
		printk("virtq %u: device error: %s (%u); queue disabled\n", vq->index, why, value);
	vq->broken = true;
}

void *virtq_get_used(struct virtq *vq, uint32_t *len)
{
	if (vq->broken)
		return NULL;
	uint16_t used_idx = virtq_shared_load(virtq_used_idx(vq->used));
	if (used_idx == vq->last_used)
		return NULL;
	if ((uint16_t)(used_idx - vq->last_used) > vq->in_flight) {
		virtq_mark_broken(vq, "used index ahead of the requests in flight", used_idx);
		return NULL;
	}
	/* Pairs with the device's barrier between the entry and idx. */
	atomic_thread_fence(memory_order_acquire);

	const struct virtq_used_elem *e = virtq_used_ring(vq->used, vq->last_used & (vq->size - 1));
	uint32_t id = virtio_le32_to_cpu(e->id);
	uint32_t n = virtio_le32_to_cpu(e->len);
	if (id >= vq->size || vq->slot[id].token == NULL) {
		virtq_mark_broken(vq, "used id is not a request in flight", id);
		return NULL;
	}
	if (n > vq->slot[id].in_len) {
		n = vq->slot[id].in_len;
		vq->st.len_clamped++;
	}
	void *token = virtq_detach(vq, (uint16_t)id);
	vq->last_used++;
	vq->st.completions++;

	if (vq->event_idx && !vq->cb_disabled) {
		virtq_shared_store(virtq_used_event(vq->avail, vq->size), vq->last_used);
		/* The new used_event must be visible before our next load of
		 * used->idx, or an entry written meanwhile could go both
		 * unseen and unannounced. */
		atomic_thread_fence(memory_order_seq_cst);
	}
	if (len)
		*len = n;
	return token;
}

void *virtq_detach_unused(struct virtq *vq)
{
	for (unsigned i = 0; i < vq->size; i++) {
		if (vq->slot[i].token)
			return virtq_detach(vq, (uint16_t)i);
	}
	return NULL;
}
