/*
 * The split virtqueue's memory layout, as the virtio 1.x specification
 * fixes it (section "Split Virtqueues"): shared by the driver side
 * (virtq_*.c) and by the host tests' device model, which plays the device
 * on the same memory. Drivers and transports use virtio.h instead.
 *
 * Three parts, all little-endian, in one physically contiguous block:
 *
 *   descriptor table  size x 16 bytes, 16-byte aligned:
 *                     le64 addr, le32 len, le16 flags, le16 next
 *   available ring    2-byte aligned, written by the driver:
 *                     le16 flags, le16 idx, le16 ring[size], le16 used_event
 *   used ring         4-byte aligned, written by the device:
 *                     le16 flags, le16 idx, {le32 id, le32 len} ring[size],
 *                     le16 avail_event
 *
 * idx fields are free-running 16-bit counters; entry i lives at
 * ring[i % size]. used_event and avail_event exist only in use with
 * VIRTIO_F_RING_EVENT_IDX, but the space is always allocated.
 *
 * Fields both sides touch while the other runs (the idx, flags and event
 * fields) are accessed with relaxed atomics, so that C11 fences order them
 * against the plain accesses to descriptors and ring entries.
 */
#ifndef KARST_VIRTQ_RING_H
#define KARST_VIRTQ_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Descriptor flags. */
#define VIRTQ_DESC_F_NEXT     1 /* chain continues at next */
#define VIRTQ_DESC_F_WRITE    2 /* device-writable (else device-readable) */
#define VIRTQ_DESC_F_INDIRECT 4 /* addr/len hold a table of descriptors */

#define VIRTQ_AVAIL_F_NO_INTERRUPT 1 /* driver: no used-buffer notifications */
#define VIRTQ_USED_F_NO_NOTIFY	   1 /* device: no available-buffer notifications */

#define VIRTQ_DESC_ALIGN  16
#define VIRTQ_AVAIL_ALIGN 2
#define VIRTQ_USED_ALIGN  4

/* Little-endian storage types: a reminder that the value must pass
 * through the conversions below. */
typedef uint16_t virtio_le16;
typedef uint32_t virtio_le32;
typedef uint64_t virtio_le64;

struct virtq_desc {
	virtio_le64 addr;
	virtio_le32 len;
	virtio_le16 flags;
	virtio_le16 next;
};

struct virtq_used_elem {
	virtio_le32 id; /* head of the returned chain (32 bits for padding) */
	virtio_le32 len;
};

_Static_assert(sizeof(struct virtq_desc) == 16, "virtq_desc is 16 bytes");
_Static_assert(sizeof(struct virtq_used_elem) == 8, "virtq_used_elem is 8 bytes");

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define VIRTIO_LE(bits, v) (v)
#else
#define VIRTIO_LE(bits, v) __builtin_bswap##bits(v)
#endif

static inline virtio_le16 virtio_cpu_to_le16(uint16_t v)
{
	return VIRTIO_LE(16, v);
}
static inline virtio_le32 virtio_cpu_to_le32(uint32_t v)
{
	return VIRTIO_LE(32, v);
}
static inline virtio_le64 virtio_cpu_to_le64(uint64_t v)
{
	return VIRTIO_LE(64, v);
}
static inline uint16_t virtio_le16_to_cpu(virtio_le16 v)
{
	return VIRTIO_LE(16, v);
}
static inline uint32_t virtio_le32_to_cpu(virtio_le32 v)
{
	return VIRTIO_LE(32, v);
}
static inline uint64_t virtio_le64_to_cpu(virtio_le64 v)
{
	return VIRTIO_LE(64, v);
}

/* Shared 16-bit fields: relaxed atomic loads and stores, converted. */
static inline uint16_t virtq_shared_load(const virtio_le16 *p)
{
	return virtio_le16_to_cpu(__atomic_load_n(p, __ATOMIC_RELAXED));
}
static inline void virtq_shared_store(virtio_le16 *p, uint16_t v)
{
	__atomic_store_n(p, virtio_cpu_to_le16(v), __ATOMIC_RELAXED);
}

/* Byte sizes and offsets of the parts for a queue of `size` entries. */
static inline size_t virtq_desc_bytes(unsigned size)
{
	return (size_t)size * sizeof(struct virtq_desc);
}
static inline size_t virtq_avail_bytes(unsigned size)
{
	return 2 * sizeof(virtio_le16) + (size_t)size * sizeof(virtio_le16) + sizeof(virtio_le16);
}
static inline size_t virtq_used_bytes(unsigned size)
{
	return 2 * sizeof(virtio_le16) + (size_t)size * sizeof(struct virtq_used_elem) +
	       sizeof(virtio_le16);
}

/* The available ring seen as le16 words: [0] flags, [1] idx, [2 + i]
 * ring[i], [2 + size] used_event. */
static inline virtio_le16 *virtq_avail_flags(virtio_le16 *avail)
{
	return &avail[0];
}
static inline virtio_le16 *virtq_avail_idx(virtio_le16 *avail)
{
	return &avail[1];
}
static inline virtio_le16 *virtq_avail_ring(virtio_le16 *avail, unsigned i)
{
	return &avail[2 + i];
}
static inline virtio_le16 *virtq_used_event(virtio_le16 *avail, unsigned size)
{
	return &avail[2 + size];
}

/* The used ring: two le16 words, the elements, then avail_event. */
static inline virtio_le16 *virtq_used_flags(void *used)
{
	return (virtio_le16 *)used;
}
static inline virtio_le16 *virtq_used_idx(void *used)
{
	return (virtio_le16 *)used + 1;
}
static inline struct virtq_used_elem *virtq_used_ring(void *used, unsigned i)
{
	return (struct virtq_used_elem *)((char *)used + 4) + i;
}
static inline virtio_le16 *virtq_avail_event(void *used, unsigned size)
{
	return (virtio_le16 *)((char *)used + 4 + (size_t)size * sizeof(struct virtq_used_elem));
}

/*
 * The event-index rule (both directions): a side that moved its index from
 * old to new must notify the other iff the other's event index lies in
 * [old, new), i.e. the entry the other side asked to hear about was among
 * those just written. All arithmetic modulo 2^16.
 */
static inline bool virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

#endif
