/*
 * Split virtqueues: creation, destruction and what the transport reads
 * back (addresses, index, size, counters).
 *
 * The three parts share one zeroed run of pages from kpage_alloc, so they
 * are physically contiguous and the descriptor table is page aligned: the
 * descriptor table first, the available ring right after it (2-byte
 * alignment is all it needs), the used ring on the next 64-byte boundary
 * (4 would do; a line of its own keeps the device's writes off the cache
 * line the driver writes). The driver's bookkeeping (next[], slot[]) is
 * kmalloc'd apart from the shared block.
 */
#include "virtq_internal.h"
#include <karst/arch.h>
#include <karst/compiler.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <string.h>

#define VIRTQ_USED_OFFSET_ALIGN 64

static size_t virtq_used_offset(unsigned size)
{
	return ALIGN_UP(virtq_desc_bytes(size) + virtq_avail_bytes(size),
			(size_t)VIRTQ_USED_OFFSET_ALIGN);
}

struct virtq *virtq_create(unsigned index, unsigned size, uint64_t features,
			   void (*notify)(struct virtq *vq, void *arg), void *arg)
{
	if (size == 0 || size > VIRTQ_SIZE_MAX || (size & (size - 1)) != 0 || notify == NULL)
		return NULL;
	if (features & (VIRTIO_FEATURE(VIRTIO_F_RING_PACKED) | VIRTIO_FEATURE(VIRTIO_F_IN_ORDER)))
		return NULL;

	struct virtq *vq = kzalloc(sizeof(*vq));
	if (!vq)
		return NULL;
	vq->index = index;
	vq->size = size;
	vq->indirect = (features & VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC)) != 0;
	vq->event_idx = (features & VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX)) != 0;
	vq->notify = notify;
	vq->notify_arg = arg;

	size_t used_off = virtq_used_offset(size);
	size_t total = used_off + virtq_used_bytes(size);
	vq->mem_pages = DIV_ROUND_UP(total, PAGE_SIZE);
	vq->mem = kpage_alloc(vq->mem_pages);
	vq->next = kcalloc(size, sizeof(*vq->next));
	vq->slot = kcalloc(size, sizeof(*vq->slot));
	if (!vq->mem || !vq->next || !vq->slot) {
		virtq_destroy(vq);
		return NULL;
	}
	/* Zero flags and indices; the used ring's flags must start 0. */
	memset(vq->mem, 0, vq->mem_pages * PAGE_SIZE);
	vq->desc = vq->mem;
	vq->avail = (virtio_le16 *)((char *)vq->mem + virtq_desc_bytes(size));
	vq->used = (char *)vq->mem + used_off;

	for (unsigned i = 0; i < size; i++)
		vq->next[i] = (uint16_t)((i + 1) & (size - 1));
	vq->free_head = 0;
	vq->num_free = size;
	return vq;
}

void virtq_destroy(struct virtq *vq)
{
	if (!vq)
		return;
	if (vq->slot) {
		for (unsigned i = 0; i < vq->size; i++)
			kfree(vq->slot[i].indir);
	}
	kfree(vq->slot);
	kfree(vq->next);
	if (vq->mem)
		kpage_free(vq->mem, vq->mem_pages);
	kfree(vq);
}

uint64_t virtq_desc_pa(const struct virtq *vq)
{
	return virt_to_phys(vq->desc);
}

uint64_t virtq_avail_pa(const struct virtq *vq)
{
	return virt_to_phys(vq->avail);
}

uint64_t virtq_used_pa(const struct virtq *vq)
{
	return virt_to_phys(vq->used);
}

unsigned virtq_index(const struct virtq *vq)
{
	return vq->index;
}

unsigned virtq_size(const struct virtq *vq)
{
	return vq->size;
}

bool virtq_is_broken(const struct virtq *vq)
{
	return vq->broken;
}

void virtq_get_stats(const struct virtq *vq, struct virtq_stats *st)
{
	*st = vq->st;
}
