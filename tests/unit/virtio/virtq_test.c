/*
 * The harness of virtq_test.h.
 */
#include "virtq_test.h"
#include <check.h>
#include <stdlib.h>
#include <string.h>

uint32_t tq_rand(uint64_t *state)
{
	uint64_t x = *state;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return (uint32_t)(x >> 16);
}

struct treq *treq_new(struct vdev *vd, unsigned nout, unsigned nin, uint32_t seglen, unsigned seed)
{
	VDEV_CMP(nout, <=, TREQ_MAX_SEG);
	VDEV_CMP(nin, <=, TREQ_MAX_SEG);
	struct treq *t = calloc(1, sizeof(*t));
	VDEV_CHECK(t != NULL);
	t->nout = nout;
	t->nin = nin;
	for (unsigned i = 0; i < nout + nin; i++)
		t->mem_len += seglen + 3 * i;
	t->mem = calloc(1, t->mem_len);
	VDEV_CHECK(t->mem != NULL);

	size_t off = 0;
	for (unsigned i = 0; i < nout + nin; i++) {
		struct virtq_sg *sg = i < nout ? &t->out[i] : &t->in[i - nout];
		sg->addr = t->mem + off;
		sg->len = seglen + 3 * i;
		off += sg->len;
	}
	uint64_t st = seed * 2654435761u + 1;
	for (unsigned i = 0; i < nout; i++) {
		uint8_t *p = t->out[i].addr;
		for (uint32_t b = 0; b < t->out[i].len; b++)
			p[b] = (uint8_t)tq_rand(&st);
	}
	vdev_region_add(vd, t->mem, t->mem_len);
	return t;
}

void treq_free(struct vdev *vd, struct treq *t)
{
	vdev_region_del(vd, t->mem);
	free(t->mem);
	free(t);
}

uint32_t treq_in_total(const struct treq *t)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < t->nin; i++)
		n += t->in[i].len;
	return n;
}

void tq_init(struct tq *q, struct vdev *vd)
{
	memset(q, 0, sizeof(*q));
	q->vd = vd;
}

int tq_add(struct tq *q, struct treq *t)
{
	/* Clear the reply area so tq_collect can see what was written. */
	for (unsigned i = 0; i < t->nin; i++)
		memset(t->in[i].addr, 0, t->in[i].len);
	t->written = 0;
	int err = virtq_add(q->vd->vq, t->out, t->nout, t->in, t->nin, t);
	if (err == 0) {
		VDEV_CMP(q->nadded, <, TQ_MAX);
		q->added[q->nadded++] = t;
	}
	return err;
}

static void tq_match(struct tq *q, struct vdev_req *r, struct treq *t)
{
	VDEV_CMP(r->nseg, ==, t->nout + t->nin);
	VDEV_CMP(r->nout, ==, t->nout);
	for (unsigned i = 0; i < r->nseg; i++) {
		const struct virtq_sg *sg = i < t->nout ? &t->out[i] : &t->in[i - t->nout];
		VDEV_CMP(r->seg[i].addr, ==, virt_to_phys(sg->addr));
		VDEV_CMP(r->seg[i].len, ==, sg->len);
		VDEV_CMP(r->seg[i].write, ==, i >= t->nout);
	}
	bool want_indirect = q->vd->indirect && r->nseg > 1;
	VDEV_CMP(r->indirect, ==, want_indirect);
	VDEV_CMP(r->ndesc, ==, want_indirect ? 1 : r->nseg);
	r->tag = t;
}

unsigned tq_fetch(struct tq *q)
{
	unsigned before = q->vd->npending;
	unsigned n = vdev_fetch(q->vd);
	VDEV_CMP(n, <=, q->nadded);
	for (unsigned i = 0; i < n; i++)
		tq_match(q, &q->vd->pending[before + i], q->added[i]);
	memmove(q->added, q->added + n, (q->nadded - n) * sizeof(q->added[0]));
	q->nadded -= n;
	return n;
}

struct treq *tq_complete(struct tq *q, unsigned k, uint32_t written)
{
	VDEV_CMP(k, <, q->vd->npending);
	struct treq *t = q->vd->pending[k].tag;
	VDEV_CHECK(t != NULL);
	vdev_complete(q->vd, k, written);
	t->written = written;
	VDEV_CMP(q->ndone, <, TQ_MAX);
	q->done[q->ndone++] = t;
	return t;
}

static void tq_check_reply(const struct treq *t, uint32_t len)
{
	size_t out_len = 0;
	for (unsigned i = 0; i < t->nout; i++)
		out_len += t->out[i].len;
	uint8_t *out = malloc(out_len ? out_len : 1);
	VDEV_CHECK(out != NULL);
	size_t o = 0;
	for (unsigned i = 0; i < t->nout; i++) {
		memcpy(out + o, t->out[i].addr, t->out[i].len);
		o += t->out[i].len;
	}
	size_t w = 0;
	for (unsigned i = 0; i < t->nin; i++) {
		const uint8_t *p = t->in[i].addr;
		for (uint32_t b = 0; b < t->in[i].len; b++, w++) {
			uint8_t want = w < len ? vdev_pattern(out, out_len, w) : 0;
			VDEV_CHECK_MSG(p[b] == want, "reply byte %zu: %#x, want %#x", w, p[b],
				       want);
		}
	}
	free(out);
}

unsigned tq_collect_one(struct tq *q)
{
	uint32_t len;
	void *token = virtq_get_used(q->vd->vq, &len);
	if (token == NULL)
		return 0;
	VDEV_CMP(q->ndone, >, 0);
	struct treq *t = q->done[0];
	VDEV_CHECK(token == t);
	VDEV_CMP(len, ==, t->written);
	tq_check_reply(t, len);
	memmove(q->done, q->done + 1, (q->ndone - 1) * sizeof(q->done[0]));
	q->ndone--;
	return 1;
}

unsigned tq_collect(struct tq *q)
{
	unsigned n = 0;
	while (tq_collect_one(q))
		n++;
	return n;
}
