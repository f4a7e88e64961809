/*
 * The driver side of a split virtqueue: the state behind struct virtq,
 * shared by virtq.c (creation, accessors), virtq_add.c (offering buffers),
 * virtq_used.c (collecting them) and virtq_notify.c (kicks and interrupt
 * suppression). Not for drivers: they use virtio.h.
 *
 * Descriptors are handed out from a free list kept in a private array
 * (next[]), not in the shared table, so a device scribbling on the table
 * cannot corrupt the driver's bookkeeping. A direct chain is taken off the
 * head of the free list in list order, so its links are next[] itself and
 * freeing it splices ndesc entries back in one step.
 *
 * Per chain head, slot[] remembers the caller's token, the number of ring
 * descriptors the chain holds, its indirect table (or NULL) and the total
 * length of its device-writable elements (to clamp the used length).
 */
#ifndef KARST_VIRTQ_INTERNAL_H
#define KARST_VIRTQ_INTERNAL_H

#include "virtio.h"
#include "virtq_ring.h"
#include <stddef.h>

struct virtq_slot {
	void *token; /* NULL: the descriptor is not the head of a live chain */
	struct virtq_desc *indir;
	uint32_t in_len;
	uint16_t ndesc;
};

struct virtq {
	unsigned index;
	unsigned size;	/* power of two */
	bool indirect;	/* VIRTIO_F_RING_INDIRECT_DESC negotiated */
	bool event_idx; /* VIRTIO_F_RING_EVENT_IDX negotiated */
	bool broken;
	bool cb_disabled;
	void (*notify)(struct virtq *vq, void *arg);
	void *notify_arg;

	/* The shared block: one kpage_alloc run. */
	void *mem;
	size_t mem_pages;
	struct virtq_desc *desc;
	virtio_le16 *avail;
	void *used;

	/* Descriptor bookkeeping. */
	uint16_t *next;
	struct virtq_slot *slot;
	uint16_t free_head;
	unsigned num_free;
	unsigned in_flight; /* chains added and not yet returned */

	uint16_t avail_idx;	  /* driver's next avail entry (not yet published) */
	uint16_t avail_published; /* avail->idx as last published */
	uint16_t last_used;	  /* next used entry to collect */

	struct virtq_stats st;
};

/* Return a chain to the free list, free its indirect table and forget
 * its token; gives back the token (virtq_used.c). */
void *virtq_detach(struct virtq *vq, uint16_t head);

#endif
