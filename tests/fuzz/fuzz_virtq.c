/*
 * libFuzzer target: the split virtqueue's used-ring handling against a
 * misbehaving device (kernel/virtio).
 *
 * The input is a program. Its first two bytes pick the features (indirect
 * descriptors, event index) and the queue size (2..32); then each byte is
 * an operation with arguments from the following bytes:
 *
 *   0  the driver adds a request (1..4 readable, 0..4 writable elements)
 *   1  the driver publishes (virtq_kick_prepare)
 *   2  the device writes a used element (any id, any length) at used->idx
 *      and moves used->idx by any amount
 *   3  the device sets used->idx to any value
 *   4  the driver collects (virtq_get_used until NULL)
 *   5  virtq_disable_cb / virtq_enable_cb
 *
 * What the driver must never do, whatever the device does: return a token
 * that is not in flight, return one twice, report more bytes than the
 * request's writable elements hold, or crash. At the end every request
 * comes back exactly once, from virtq_get_used or virtq_detach_unused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <karst/arch.h>

#include "virtio.h"
#include "virtq_ring.h"

#define MAXREQ 64

struct req {
	bool inflight;
	uint32_t in_total;
	struct virtq_sg out[4], in[4];
};

static struct req reqs[MAXREQ];
static uint8_t arena[64 * 1024];

static void notify(struct virtq *vq, void *arg)
{
}

struct in {
	const uint8_t *d;
	size_t n, i;
};

static unsigned next(struct in *in)
{
	return in->i < in->n ? in->d[in->i++] : 0;
}

static unsigned next16(struct in *in)
{
	return next(in) | next(in) << 8;
}

static void bug(const char *what)
{
	fprintf(stderr, "fuzz_virtq: %s\n", what);
	abort();
}

static void took(void *tok, uint32_t len)
{
	struct req *r = tok;
	if (r < reqs || r >= reqs + MAXREQ || (size_t)((uint8_t *)r - (uint8_t *)reqs) % sizeof(*r))
		bug("a token that was never added");
	if (!r->inflight)
		bug("a token returned twice");
	if (len > r->in_total)
		bug("a used length beyond the writable elements");
	r->inflight = false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct in in = {data, size, 0};
	unsigned f = next(&in);
	uint64_t features = VIRTIO_FEATURE(VIRTIO_F_VERSION_1);
	if (f & 1)
		features |= VIRTIO_FEATURE(VIRTIO_F_RING_INDIRECT_DESC);
	if (f & 2)
		features |= VIRTIO_FEATURE(VIRTIO_F_RING_EVENT_IDX);
	unsigned qsize = 2u << (next(&in) % 5);
	struct virtq *vq = virtq_create(0, qsize, features, notify, NULL);
	if (!vq)
		bug("cannot create a queue");
	void *used = phys_to_virt(virtq_used_pa(vq));
	memset(reqs, 0, sizeof(reqs));
	unsigned nreq = 0;
	uint16_t uidx = 0; /* the device's used index */

	while (in.i < in.n) {
		switch (next(&in) % 6) {
		case 0: {
			if (nreq == MAXREQ)
				break;
			struct req *r = &reqs[nreq];
			unsigned nout = 1 + next(&in) % 4, nin = next(&in) % 5;
			for (unsigned k = 0; k < nout + nin; k++) {
				struct virtq_sg *sg = k < nout ? &r->out[k] : &r->in[k - nout];
				sg->addr = arena + (next16(&in) % (sizeof(arena) - 256));
				sg->len = 1 + next(&in);
			}
			r->in_total = 0;
			for (unsigned k = 0; k < nin; k++)
				r->in_total += r->in[k].len;
			if (virtq_add(vq, r->out, nout, r->in, nin, r) == 0) {
				r->inflight = true;
				nreq++;
			}
			break;
		}
		case 1:
			virtq_kick_prepare(vq);
			break;
		case 2: {
			struct virtq_used_elem *e = virtq_used_ring(used, uidx % qsize);
			e->id = virtio_cpu_to_le32(next16(&in));
			e->len = virtio_cpu_to_le32(next16(&in) | (uint32_t)next16(&in) << 16);
			uidx = (uint16_t)(uidx + (next(&in) % 3 == 0 ? next16(&in) : 1));
			virtq_shared_store(virtq_used_idx(used), uidx);
			break;
		}
		case 3:
			uidx = (uint16_t)next16(&in);
			virtq_shared_store(virtq_used_idx(used), uidx);
			break;
		case 4: {
			void *tok;
			uint32_t len;
			unsigned n = 0;
			while ((tok = virtq_get_used(vq, &len)) != NULL && n++ < 4 * MAXREQ)
				took(tok, len);
			break;
		}
		case 5:
			if (next(&in) & 1)
				virtq_disable_cb(vq);
			else
				virtq_enable_cb(vq);
			break;
		}
	}
	void *tok;
	unsigned n = 0;
	while ((tok = virtq_detach_unused(vq)) != NULL && n++ < 4 * MAXREQ)
		took(tok, 0);
	for (unsigned i = 0; i < nreq; i++)
		if (reqs[i].inflight)
			bug("a request never came back");
	virtq_destroy(vq);
	return 0;
}
