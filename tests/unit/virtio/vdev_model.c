/*
 * The device model of vdev_model.h. Single-threaded: the test decides when
 * the "device" runs, so the fences the driver side needs are only marked
 * here, where a real device would have them.
 *
 * The host has no direct map: virt_to_phys and phys_to_virt are the
 * identity, defined here for the virtio library to link against.
 */
#include "vdev_model.h"
#include <check.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

uint64_t virt_to_phys(const void *va)
{
	return (uint64_t)(uintptr_t)va;
}

void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)pa;
}

static void vdev_notify(struct virtq *vq, void *arg)
{
	struct vdev *vd = arg;
	VDEV_CHECK(vq == vd->vq);
	vd->notifies++;
}

struct vdev *vdev_new(unsigned size, uint64_t features)
{
	struct vdev *vd = calloc(1, sizeof(*vd));
	VDEV_CHECK(vd != NULL);
	vd->vq = virtq_create(7, size, features, vdev_notify, vd);
	VDEV_CHECK(vd->vq != NULL);
	VDEV_CMP(virtq_size(vd->vq), ==, size);
	VDEV_CMP(virtq_index(vd->vq), ==, 7);
	vd->size = size;
	vd->event_idx = (features & VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX)) != 0;
	vd->indirect = (features & VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC)) != 0;
	vd->auto_avail_event = true;

	uint64_t dpa = virtq_desc_pa(vd->vq), apa = virtq_avail_pa(vd->vq);
	uint64_t upa = virtq_used_pa(vd->vq);
	VDEV_CMP(dpa % VIRTQ_DESC_ALIGN, ==, 0);
	VDEV_CMP(apa % VIRTQ_AVAIL_ALIGN, ==, 0);
	VDEV_CMP(upa % VIRTQ_USED_ALIGN, ==, 0);
	/* Three disjoint parts, in this order. */
	VDEV_CMP(apa, >=, dpa + virtq_desc_bytes(size));
	VDEV_CMP(upa, >=, apa + virtq_avail_bytes(size));
	vd->desc = phys_to_virt(dpa);
	vd->avail = phys_to_virt(apa);
	vd->used = phys_to_virt(upa);

	/* A fresh queue: everything zero, as the device expects. */
	VDEV_CMP(virtq_shared_load(virtq_avail_idx(vd->avail)), ==, 0);
	VDEV_CMP(virtq_shared_load(virtq_avail_flags(vd->avail)), ==, 0);
	VDEV_CMP(virtq_shared_load(virtq_used_idx(vd->used)), ==, 0);
	VDEV_CMP(virtq_shared_load(virtq_used_flags(vd->used)), ==, 0);

	vd->busy = calloc(size, sizeof(*vd->busy));
	vd->pending = calloc(size, sizeof(*vd->pending));
	VDEV_CHECK(vd->busy != NULL);
	VDEV_CHECK(vd->pending != NULL);
	return vd;
}

void vdev_free(struct vdev *vd)
{
	virtq_destroy(vd->vq);
	free(vd->busy);
	free(vd->pending);
	free(vd->regions);
	free(vd);
}

void vdev_region_add(struct vdev *vd, const void *p, size_t len)
{
	if (vd->nregions == vd->cap_regions) {
		vd->cap_regions = vd->cap_regions ? 2 * vd->cap_regions : 16;
		vd->regions = realloc(vd->regions, vd->cap_regions * sizeof(*vd->regions));
		VDEV_CHECK(vd->regions != NULL);
	}
	vd->regions[vd->nregions++] = (struct vdev_region){(uintptr_t)p, len};
}

void vdev_region_del(struct vdev *vd, const void *p)
{
	for (unsigned i = 0; i < vd->nregions; i++) {
		if (vd->regions[i].start == (uintptr_t)p) {
			vd->regions[i] = vd->regions[--vd->nregions];
			return;
		}
	}
	ck_abort_msg("region %p was not registered", p);
}

static bool vdev_in_region(const struct vdev *vd, uint64_t pa, uint32_t len)
{
	uintptr_t va = (uintptr_t)phys_to_virt(pa);
	for (unsigned i = 0; i < vd->nregions; i++) {
		const struct vdev_region *r = &vd->regions[i];
		if (va >= r->start && va - r->start <= r->len && len <= r->len - (va - r->start))
			return true;
	}
	return false;
}

/* One buffer descriptor (not an indirect one) of a chain. */
static void vdev_take_seg(struct vdev *vd, struct vdev_req *r, const struct virtq_desc *d)
{
	uint16_t flags = virtio_le16_to_cpu(d->flags);
	uint64_t addr = virtio_le64_to_cpu(d->addr);
	uint32_t len = virtio_le32_to_cpu(d->len);
	bool write = flags & VIRTQ_DESC_F_WRITE;

	VDEV_CHECK_MSG((flags & ~(VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE)) == 0,
		       "descriptor flags %#x", flags);
	VDEV_CMP(len, >, 0);
	VDEV_CHECK_MSG(vdev_in_region(vd, addr, len), "descriptor %#llx+%u outside the buffers",
		       (unsigned long long)addr, len);
	/* Device-readable elements before device-writable ones. */
	VDEV_CHECK_MSG(write || r->nseg == r->nout, "readable descriptor after a writable one");
	VDEV_CMP(r->nseg, <, VDEV_MAX_SEG);
	r->seg[r->nseg++] = (struct vdev_seg){addr, len, write};
	if (!write)
		r->nout++;
	else
		r->in_total += len;
}

static void vdev_walk_indirect(struct vdev *vd, struct vdev_req *r, const struct virtq_desc *d)
{
	uint16_t flags = virtio_le16_to_cpu(d->flags);
	uint32_t len = virtio_le32_to_cpu(d->len);
	VDEV_CHECK_MSG(vd->indirect, "indirect descriptor without the feature");
	/* Exactly INDIRECT: never with NEXT (spec), never WRITE (ours). */
	VDEV_CMP(flags, ==, VIRTQ_DESC_F_INDIRECT);
	VDEV_CMP(len % sizeof(struct virtq_desc), ==, 0);
	unsigned n = len / sizeof(struct virtq_desc);
	/* The driver uses a table only for chains of two or more, and a
	 * chain never exceeds the queue size. */
	VDEV_CMP(n, >=, 2);
	VDEV_CMP(n, <=, vd->size);
	uint64_t addr = virtio_le64_to_cpu(d->addr);
	VDEV_CMP(addr % 8, ==, 0);
	VDEV_CHECK_MSG(!vdev_in_region(vd, addr, 1), "indirect table inside a data buffer");
	const struct virtq_desc *table = phys_to_virt(addr);

	unsigned i = 0, steps = 0;
	for (;;) {
		VDEV_CMP(i, <, n);
		VDEV_CMP(steps, <, n); /* no loops */
		steps++;
		const struct virtq_desc *t = &table[i];
		uint16_t tflags = virtio_le16_to_cpu(t->flags);
		VDEV_CHECK_MSG(!(tflags & VIRTQ_DESC_F_INDIRECT), "indirect inside a table");
		vdev_take_seg(vd, r, t);
		if (!(tflags & VIRTQ_DESC_F_NEXT))
			break;
		i = virtio_le16_to_cpu(t->next);
	}
	/* The driver sizes its tables exactly. */
	VDEV_CMP(steps, ==, n);
	r->indirect = true;
}

static void vdev_walk(struct vdev *vd, struct vdev_req *r, uint16_t head)
{
	memset(r, 0, sizeof(*r));
	r->head = head;
	uint16_t i = head;
	for (;;) {
		VDEV_CMP(i, <, vd->size);
		VDEV_CHECK_MSG(!vd->busy[i], "descriptor %u already held by the device", i);
		VDEV_CMP(r->ndesc, <, VDEV_MAX_SEG);
		vd->busy[i] = true;
		r->ring_desc[r->ndesc++] = i;
		const struct virtq_desc *d = &vd->desc[i];
		uint16_t flags = virtio_le16_to_cpu(d->flags);
		if (flags & VIRTQ_DESC_F_INDIRECT) {
			/* Our driver never puts buffers before a table. */
			VDEV_CMP(r->ndesc, ==, 1);
			vdev_walk_indirect(vd, r, d);
			break;
		}
		vdev_take_seg(vd, r, d);
		if (!(flags & VIRTQ_DESC_F_NEXT))
			break;
		i = virtio_le16_to_cpu(d->next);
	}
	VDEV_CMP(r->ndesc, <=, vd->size);
}

unsigned vdev_fetch(struct vdev *vd)
{
	uint16_t aflags = virtq_shared_load(virtq_avail_flags(vd->avail));
	if (vd->event_idx)
		VDEV_CMP(aflags, ==, 0);
	else
		VDEV_CMP(aflags, <=, VIRTQ_AVAIL_F_NO_INTERRUPT);

	uint16_t idx = virtq_shared_load(virtq_avail_idx(vd->avail));
	atomic_thread_fence(memory_order_acquire);
	uint16_t n = (uint16_t)(idx - vd->last_avail);
	/* Never more chains outstanding than the ring holds. */
	VDEV_CMP(n + vd->npending, <=, vd->size);
	for (unsigned k = 0; k < n; k++) {
		uint16_t head = virtio_le16_to_cpu(
		    *virtq_avail_ring(vd->avail, vd->last_avail & (vd->size - 1)));
		vdev_walk(vd, &vd->pending[vd->npending++], head);
		vd->last_avail++;
	}
	if (vd->event_idx && vd->auto_avail_event) {
		virtq_shared_store(virtq_avail_event(vd->used, vd->size), vd->last_avail);
		atomic_thread_fence(memory_order_seq_cst);
	}
	return n;
}

uint8_t vdev_pattern(const uint8_t *out, size_t out_len, size_t off)
{
	if (out_len == 0)
		return (uint8_t)(off * 7 + 1);
	return (uint8_t)~out[off % out_len];
}

void vdev_complete(struct vdev *vd, unsigned k, uint32_t written)
{
	VDEV_CMP(k, <, vd->npending);
	struct vdev_req *r = &vd->pending[k];
	VDEV_CMP(written, <=, r->in_total);

	/* Read the request, write the reply. */
	size_t out_len = 0;
	for (unsigned i = 0; i < r->nout; i++)
		out_len += r->seg[i].len;
	uint8_t *out = malloc(out_len ? out_len : 1);
	VDEV_CHECK(out != NULL);
	size_t o = 0;
	for (unsigned i = 0; i < r->nout; i++) {
		memcpy(out + o, phys_to_virt(r->seg[i].addr), r->seg[i].len);
		o += r->seg[i].len;
	}
	size_t w = 0;
	for (unsigned i = r->nout; i < r->nseg && w < written; i++) {
		uint8_t *p = phys_to_virt(r->seg[i].addr);
		for (uint32_t b = 0; b < r->seg[i].len && w < written; b++, w++)
			p[b] = vdev_pattern(out, out_len, w);
	}
	free(out);

	struct virtq_used_elem *e = virtq_used_ring(vd->used, vd->used_shadow & (vd->size - 1));
	e->id = virtio_cpu_to_le32(r->head);
	e->len = virtio_cpu_to_le32(written);
	vd->used_shadow++;

	for (unsigned i = 0; i < r->ndesc; i++)
		vd->busy[r->ring_desc[i]] = false;
	memmove(&vd->pending[k], &vd->pending[k + 1],
		(vd->npending - k - 1) * sizeof(vd->pending[0]));
	vd->npending--;
}

static bool vdev_publish_to(struct vdev *vd, uint16_t new_idx)
{
	uint16_t old_idx = vd->used_idx;
	if (new_idx == old_idx)
		return false;
	atomic_thread_fence(memory_order_release);
	virtq_shared_store(virtq_used_idx(vd->used), new_idx);
	vd->used_idx = new_idx;
	atomic_thread_fence(memory_order_seq_cst);

	bool irq;
	if (vd->event_idx)
		irq = virtq_need_event(virtq_shared_load(virtq_used_event(vd->avail, vd->size)),
				       new_idx, old_idx);
	else
		irq =
		    !(virtq_shared_load(virtq_avail_flags(vd->avail)) & VIRTQ_AVAIL_F_NO_INTERRUPT);
	if (irq)
		vd->interrupts++;
	return irq;
}

bool vdev_publish(struct vdev *vd)
{
	return vdev_publish_to(vd, vd->used_shadow);
}

void vdev_set_no_notify(struct vdev *vd, bool no_notify)
{
	VDEV_CHECK(!vd->event_idx);
	virtq_shared_store(virtq_used_flags(vd->used), no_notify ? VIRTQ_USED_F_NO_NOTIFY : 0);
}

void vdev_set_avail_event(struct vdev *vd, uint16_t event)
{
	VDEV_CHECK(vd->event_idx);
	vd->auto_avail_event = false;
	virtq_shared_store(virtq_avail_event(vd->used, vd->size), event);
}

void vdev_put_raw(struct vdev *vd, uint32_t id, uint32_t len)
{
	struct virtq_used_elem *e = virtq_used_ring(vd->used, vd->used_shadow & (vd->size - 1));
	e->id = virtio_cpu_to_le32(id);
	e->len = virtio_cpu_to_le32(len);
	vd->used_shadow++;
	vdev_publish(vd);
}

void vdev_set_used_idx(struct vdev *vd, uint16_t idx)
{
	vd->used_shadow = idx;
	vdev_publish_to(vd, idx);
}
