/*
 * Test harness for the virtqueue suites: requests with real buffers
 * (struct treq) and a tracker (struct tq) that follows them from
 * virtq_add through the device model back to virtq_get_used, checking at
 * each step that what arrives is what was sent:
 *
 *   tq_add      virtq_add; on success the request waits to be fetched;
 *   tq_fetch    the device fetches; each new chain must carry exactly the
 *               elements of the next request added (addresses, lengths,
 *               directions), indirect exactly when it should be;
 *   tq_complete the device completes pending[k]; the request is now
 *               expected from virtq_get_used, in completion order;
 *   tq_collect  virtq_get_used until NULL (tq_collect_one: once): tokens
 *               in order, lengths right, reply bytes as the device wrote
 *               them and none beyond.
 */
#ifndef VIRTQ_TEST_H
#define VIRTQ_TEST_H

#include "vdev_model.h"

#define TREQ_MAX_SEG 16
#define TQ_MAX	     1024

struct treq {
	unsigned nout, nin;
	struct virtq_sg out[TREQ_MAX_SEG], in[TREQ_MAX_SEG];
	uint8_t *mem;
	size_t mem_len;
	uint32_t written; /* set when the device completes it */
};

struct tq {
	struct vdev *vd;
	struct treq *added[TQ_MAX]; /* FIFO: added, not fetched */
	unsigned nadded;
	struct treq *done[TQ_MAX]; /* FIFO: completed, not collected */
	unsigned ndone;
};

/* A request of nout readable and nin writable elements of about seglen
 * bytes each (lengths vary with the element), out bytes from `seed`. */
struct treq *treq_new(struct vdev *vd, unsigned nout, unsigned nin, uint32_t seglen, unsigned seed);
void treq_free(struct vdev *vd, struct treq *t);
uint32_t treq_in_total(const struct treq *t);

void tq_init(struct tq *q, struct vdev *vd);
int tq_add(struct tq *q, struct treq *t);
unsigned tq_fetch(struct tq *q);
struct treq *tq_complete(struct tq *q, unsigned k, uint32_t written);
unsigned tq_collect(struct tq *q);
unsigned tq_collect_one(struct tq *q); /* at most one */

/* Deterministic PRNG for the randomised runs. */
uint32_t tq_rand(uint64_t *state);

static inline uint64_t tq_features(bool indirect, bool event_idx)
{
	uint64_t f = VIRTIO_FEATURE(VIRTIO_F_VERSION_1);
	if (indirect)
		f |= VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC);
	if (event_idx)
		f |= VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX);
	return f;
}

#endif
