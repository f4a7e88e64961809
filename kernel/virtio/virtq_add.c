/*
 * Offering buffers: virtq_add turns a request's elements into a
 * descriptor chain and puts its head into the next available-ring entry,
 * without publishing it (virtq_kick_prepare does, for a whole batch).
 *
 * Two shapes. With indirect descriptors and more than one element, the
 * chain is built in a kmalloc'd table and the ring holds one descriptor
 * pointing at it (VIRTQ_DESC_F_INDIRECT, len = 16 x elements), so a
 * request of any length up to the queue size takes one slot. Otherwise
 * the chain takes one ring descriptor per element, linked by next, taken
 * from the free list in list order. If the table cannot be allocated the
 * request falls back to a direct chain.
 *
 * In both shapes device-readable elements come first, each descriptor but
 * the last has VIRTQ_DESC_F_NEXT, and device-writable ones have
 * VIRTQ_DESC_F_WRITE.
 *
 * The ring entry we write cannot still be unread by the device: it last
 * held entry avail_idx - size, and if the device had not read that one it
 * could not have completed any of the size entries after it, so all
 * descriptors would be in flight and we would not have got here.
 */
#include "virtq_internal.h"
#include <errno.h>
#include <karst/arch.h>
#include <karst/kmem.h>
#include <karst/printk.h>

static const struct virtq_sg *virtq_elem(const struct virtq_sg *out, unsigned nout,
					 const struct virtq_sg *in, unsigned i)
{
	return i < nout ? &out[i] : &in[i - nout];
}

/* 0, or -EINVAL for arguments that can never be added. */
static int virtq_check_args(const struct virtq *vq, const struct virtq_sg *out, unsigned nout,
			    const struct virtq_sg *in, unsigned nin, const void *token,
			    uint32_t *in_len)
{
	if (token == NULL || (nout && !out) || (nin && !in))
		return -EINVAL;
	if (nout > vq->size || nin > vq->size || nout + nin == 0 || nout + nin > vq->size)
		return -EINVAL;
	uint64_t total = 0, in_total = 0;
	for (unsigned i = 0; i < nout + nin; i++) {
		const struct virtq_sg *sg = virtq_elem(out, nout, in, i);
		if (sg->addr == NULL || sg->len == 0)
			return -EINVAL;
		/* Each element is one physically contiguous range. */
		KASSERT_MSG(virt_to_phys((const char *)sg->addr + sg->len - 1) ==
				virt_to_phys(sg->addr) + sg->len - 1,
			    "virtq_add: element %p+%u is not physically contiguous", sg->addr,
			    sg->len);
		total += sg->len;
		if (i >= nout)
			in_total += sg->len;
	}
	/* The spec's limit on a chain: 4 GiB in all. */
	if (total > UINT32_MAX)
		return -EINVAL;
	*in_len = (uint32_t)in_total;
	return 0;
}

static void virtq_fill(struct virtq_desc *d, const struct virtq_sg *sg, uint16_t flags,
		       uint16_t next)
{
	d->addr = virtio_cpu_to_le64(virt_to_phys(sg->addr));
	d->len = virtio_cpu_to_le32(sg->len);
	d->flags = virtio_cpu_to_le16(flags);
	d->next = virtio_cpu_to_le16(next);
}

/* Take one descriptor off the free list. */
static uint16_t virtq_take_one(struct virtq *vq)
{
	uint16_t d = vq->free_head;
	vq->free_head = vq->next[d];
	vq->num_free--;
	return d;
}

static uint16_t virtq_add_indirect(struct virtq *vq, struct virtq_desc *table,
				   const struct virtq_sg *out, unsigned nout,
				   const struct virtq_sg *in, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t flags = i >= nout ? VIRTQ_DESC_F_WRITE : 0;
		bool last = i == n - 1;
		virtq_fill(&table[i], virtq_elem(out, nout, in, i),
			   flags | (last ? 0 : VIRTQ_DESC_F_NEXT), last ? 0 : (uint16_t)(i + 1));
	}
	uint16_t head = virtq_take_one(vq);
	struct virtq_desc *d = &vq->desc[head];
	d->addr = virtio_cpu_to_le64(virt_to_phys(table));
	d->len = virtio_cpu_to_le32((uint32_t)(n * sizeof(struct virtq_desc)));
	d->flags = virtio_cpu_to_le16(VIRTQ_DESC_F_INDIRECT);
	d->next = 0;
	return head;
}

static uint16_t virtq_add_direct(struct virtq *vq, const struct virtq_sg *out, unsigned nout,
				 const struct virtq_sg *in, unsigned n)
{
	uint16_t head = vq->free_head, d = head;
	for (unsigned i = 0; i < n; i++) {
		uint16_t flags = i >= nout ? VIRTQ_DESC_F_WRITE : 0;
		bool last = i == n - 1;
		virtq_fill(&vq->desc[d], virtq_elem(out, nout, in, i),
			   flags | (last ? 0 : VIRTQ_DESC_F_NEXT), last ? 0 : vq->next[d]);
		d = vq->next[d];
	}
	vq->free_head = d;
	vq->num_free -= n;
	return head;
}

int virtq_add(struct virtq *vq, const struct virtq_sg *out, unsigned nout,
	      const struct virtq_sg *in, unsigned nin, void *token)
{
	uint32_t in_len;
	int err = virtq_check_args(vq, out, nout, in, nin, token, &in_len);
	if (err)
		return err;
	if (vq->broken)
		return -EIO;

	unsigned n = nout + nin;
	struct virtq_desc *table = NULL;
	if (vq->indirect && n > 1) {
		if (vq->num_free == 0)
			return -ENOSPC;
		table = kmalloc(n * sizeof(struct virtq_desc));
	}
	uint16_t head;
	if (table) {
		head = virtq_add_indirect(vq, table, out, nout, in, n);
		vq->st.indirect++;
	} else {
		if (vq->num_free < n)
			return -ENOSPC;
		head = virtq_add_direct(vq, out, nout, in, n);
	}

	struct virtq_slot *s = &vq->slot[head];
	s->token = token;
	s->indir = table;
	s->in_len = in_len;
	s->ndesc = table ? 1 : (uint16_t)n;

	/* Visible to the device only once virtq_kick_prepare moves idx. */
	*virtq_avail_ring(vq->avail, vq->avail_idx & (vq->size - 1)) = virtio_cpu_to_le16(head);
	vq->avail_idx++;
	vq->in_flight++;
	vq->st.adds++;
	return 0;
}
