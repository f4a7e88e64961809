/*
 * A model of a virtio device's side of one split virtqueue, for the host
 * tests of kernel/virtio. It works on the very memory the driver side set
 * up (found through virtq_desc_pa/avail_pa/used_pa and phys_to_virt), in
 * the test's thread, at the moments the test chooses:
 *
 *   vdev_fetch     consume the available ring like a device: walk every new
 *                  chain (direct or through an indirect table) and check
 *                  each descriptor against the spec and against the
 *                  driver's contract (flags, next links, lengths, no loops,
 *                  no descriptor shared with a chain the device holds,
 *                  readable before writable, addresses inside registered
 *                  buffers); the chain joins the pending list;
 *   vdev_complete  write a pending chain's device-writable bytes and put it
 *                  in the used ring (not yet visible);
 *   vdev_publish   store used->idx and decide, by the driver's
 *                  NO_INTERRUPT flag or used_event, whether to interrupt.
 *
 * It follows the device side of kick suppression: VIRTQ_USED_F_NO_NOTIFY,
 * or avail_event (by default, with event index, it asks to hear about the
 * next entry after each fetch, like QEMU; vdev_set_avail_event overrides).
 *
 * Failed checks are Check assertions, so they fail the running test.
 */
#ifndef VDEV_MODEL_H
#define VDEV_MODEL_H

#include "virtio.h"
#include "virtq_ring.h"
#include <check.h>
#include <karst/arch.h>
#include <karst/compiler.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VDEV_MAX_SEG 64

/*
 * Assertions for hot paths. Every Check assertion records its location
 * through a pipe to the runner, a system call each, even when it holds;
 * the model and the harness check every descriptor and every reply byte,
 * so they call into Check only when a check fails.
 */
#define VDEV_CHECK(expr)                                                                           \
	do {                                                                                       \
		if (!(expr))                                                                       \
			ck_abort_msg("check failed: %s", #expr);                                   \
	} while (0)
#define VDEV_CHECK_MSG(expr, ...)                                                                  \
	do {                                                                                       \
		if (!(expr))                                                                       \
			ck_abort_msg(__VA_ARGS__);                                                 \
	} while (0)
#define VDEV_CMP(a, op, b)                                                                         \
	do {                                                                                       \
		long long a_ = (long long)(a), b_ = (long long)(b);                                \
		if (!(a_ op b_))                                                                   \
			ck_abort_msg("check failed: %s %s %s (%lld vs %lld)", #a, #op, #b, a_,     \
				     b_);                                                          \
	} while (0)

struct vdev_seg {
	uint64_t addr;
	uint32_t len;
	bool write;
};

/* A chain the device has taken from the available ring. */
struct vdev_req {
	uint16_t head;
	bool indirect;
	unsigned nseg, nout;
	struct vdev_seg seg[VDEV_MAX_SEG];
	unsigned ndesc; /* ring descriptors the chain holds */
	uint16_t ring_desc[VDEV_MAX_SEG];
	uint32_t in_total;
	void *tag; /* for the test */
};

struct vdev_region {
	uintptr_t start;
	size_t len;
};

struct vdev {
	struct virtq *vq;
	unsigned size;
	bool event_idx, indirect;
	struct virtq_desc *desc;
	virtio_le16 *avail;
	void *used;

	uint16_t last_avail;  /* next available entry to fetch */
	uint16_t used_idx;    /* used->idx as published */
	uint16_t used_shadow; /* entries written, published or not */
	bool auto_avail_event;

	bool *busy; /* ring descriptors held by pending chains */
	struct vdev_req *pending;
	unsigned npending;

	struct vdev_region *regions;
	unsigned nregions, cap_regions;

	unsigned notifies;   /* kicks received through the notify callback */
	unsigned interrupts; /* used-buffer notifications sent */
};

/* A queue of `size` with `features`, and its device. */
struct vdev *vdev_new(unsigned size, uint64_t features);
void vdev_free(struct vdev *vd);

/* Buffers the driver may legitimately point descriptors at. */
void vdev_region_add(struct vdev *vd, const void *p, size_t len);
void vdev_region_del(struct vdev *vd, const void *p);

unsigned vdev_fetch(struct vdev *vd);
/* Complete pending[k] with `written` bytes (<= its writable total). */
void vdev_complete(struct vdev *vd, unsigned k, uint32_t written);
/* Publish completed entries; true when it interrupted the driver. */
bool vdev_publish(struct vdev *vd);

/* Kick suppression, device side. */
void vdev_set_no_notify(struct vdev *vd, bool no_notify);
void vdev_set_avail_event(struct vdev *vd, uint16_t event);

/* A misbehaving device: put an arbitrary entry in the used ring and
 * publish it, or move used->idx arbitrarily. */
void vdev_put_raw(struct vdev *vd, uint32_t id, uint32_t len);
void vdev_set_used_idx(struct vdev *vd, uint16_t idx);

/* The byte the device writes at offset `off` of a chain's writable part:
 * derived from the chain's readable bytes, so a test can tell that the
 * device read the right data and wrote the right buffers. */
uint8_t vdev_pattern(const uint8_t *out, size_t out_len, size_t off);

#endif
