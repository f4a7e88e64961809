/*
 * The replacement policies the simulator compares.
 *
 * LRU: a doubly linked list over dense ids in arrays; O(1) per request.
 *
 * OPT (Belady's MIN): next-use indices are computed backwards in one pass;
 * the cache is a max-heap of (next use, id) with lazy deletion: a hit pushes
 * the block's new next use and leaves the old entry behind, and an entry
 * is valid only while its block is cached with that next use. Eviction pops
 * until the top is valid. O(n log n) overall. Blocks never used again get
 * distinct next uses beyond the end of the trace, which changes nothing
 * (any of them is an equally good victim).
 *
 * ARC: the real fs/arc, one 4 KiB block per id, c fixed at the cache size.
 * The fill callback only counts; a miss is a call of it.
 */
#include "arc.h"
#include "sim.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NIL UINT32_MAX

uint64_t sim_lru(const struct sim_trace *t, size_t size)
{
	if (size == 0)
		return 0;
	size_t d = t->ndistinct;
	uint32_t *prev = malloc(d * sizeof(uint32_t)), *next = malloc(d * sizeof(uint32_t));
	bool *in = calloc(d, sizeof(bool));
	uint32_t head = NIL, tail = NIL;
	size_t used = 0;
	uint64_t hits = 0;
	for (size_t i = 0; i < t->n; i++) {
		uint32_t x = t->ids[i];
		if (in[x]) {
			hits++;
			if (head == x)
				continue;
			/* unlink */
			next[prev[x]] = next[x];
			if (next[x] != NIL)
				prev[next[x]] = prev[x];
			else
				tail = prev[x];
		} else if (used == size) {
			uint32_t v = tail;
			tail = prev[v];
			if (tail != NIL)
				next[tail] = NIL;
			else
				head = NIL;
			in[v] = false;
		} else {
			used++;
		}
		in[x] = true;
		prev[x] = NIL;
		next[x] = head;
		if (head != NIL)
			prev[head] = x;
		head = x;
		if (tail == NIL)
			tail = x;
	}
	free(prev);
	free(next);
	free(in);
	return hits;
}

struct heap_ent {
	uint64_t next; /* index of the next use */
	uint32_t id;
};

static void heap_push(struct heap_ent *h, size_t *n, struct heap_ent e)
{
	size_t i = (*n)++;
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (h[p].next >= e.next)
			break;
		h[i] = h[p];
		i = p;
	}
	h[i] = e;
}

static struct heap_ent heap_pop(struct heap_ent *h, size_t *n)
{
	struct heap_ent top = h[0], last = h[--(*n)];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		uint64_t mv = last.next;
		if (l < *n && h[l].next > mv)
			m = l, mv = h[l].next;
		if (r < *n && h[r].next > mv)
			m = r;
		if (m == i)
			break;
		h[i] = h[m];
		i = m;
	}
	if (*n)
		h[i] = last;
	return top;
}

uint64_t sim_opt(const struct sim_trace *t, size_t size, bool bypass)
{
	if (size == 0)
		return 0;
	size_t d = t->ndistinct, n = t->n;
	uint64_t *nextuse = malloc(n * sizeof(uint64_t));
	uint64_t *last = malloc(d * sizeof(uint64_t));
	uint64_t *cur = malloc(d * sizeof(uint64_t)); /* next use of a cached block */
	bool *in = calloc(d, sizeof(bool));
	struct heap_ent *heap = malloc((n + 1) * sizeof(*heap));
	for (size_t x = 0; x < d; x++)
		last[x] = n + x; /* never again: beyond the end, distinct */
	for (size_t i = n; i-- > 0;) {
		nextuse[i] = last[t->ids[i]];
		last[t->ids[i]] = i;
	}
	size_t hn = 0, used = 0;
	uint64_t hits = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t x = t->ids[i];
		if (in[x]) {
			hits++;
		} else if (used == size) {
			/* the farthest valid entry */
			while (hn && (!in[heap[0].id] || cur[heap[0].id] != heap[0].next))
				heap_pop(heap, &hn);
			if (bypass && nextuse[i] > heap[0].next)
				continue; /* the new block is the one to drop */
			struct heap_ent v = heap_pop(heap, &hn);
			in[v.id] = false;
		} else {
			used++;
		}
		in[x] = true;
		cur[x] = nextuse[i];
		heap_push(heap, &hn, (struct heap_ent){nextuse[i], x});
		/* Lazy deletion lets stale entries pile up; compact when the heap
		 * is mostly garbage so it stays O(cache) in size. */
		if (hn > 4 * size + 1024) {
			size_t k = 0;
			for (size_t j = 0; j < hn; j++)
				if (in[heap[j].id] && cur[heap[j].id] == heap[j].next)
					heap[k++] = heap[j];
			size_t m = k;
			hn = 0;
			for (size_t j = 0; j < m; j++)
				heap_push(heap, &hn, heap[j]);
		}
	}
	free(nextuse);
	free(last);
	free(cur);
	free(in);
	free(heap);
	return hits;
}

static int count_fill(void *arg, const struct arc_key *key, void *dst, size_t lsize)
{
	(*(uint64_t *)arg)++;
	return 0;
}

uint64_t sim_arc(const struct sim_trace *t, size_t size, unsigned nsublists)
{
	struct arc_config cfg = {.name = "arcsim",
				 .c_max = (uint64_t)size * 4096,
				 .c_min = (uint64_t)size * 4096,
				 .nsublists = nsublists};
	struct arc *a;
	if (arc_create(&cfg, &a)) {
		fprintf(stderr, "arcsim: arc_create failed\n");
		exit(1);
	}
	uint64_t misses = 0;
	for (size_t i = 0; i < t->n; i++) {
		struct arc_key k = {{t->ids[i], 0, 0, 0}};
		struct arc_buf *b;
		if (arc_read(a, &k, 4096, 0, count_fill, &misses, &b)) {
			fprintf(stderr, "arcsim: arc_read failed\n");
			exit(1);
		}
		arc_buf_release(a, b);
	}
	arc_destroy(a);
	return t->n - misses;
}
