/*
 * A queue of callouts sorted by deadline, earliest first; equal deadlines
 * keep their insertion order. Inserting walks from the tail, since new
 * deadlines are usually the latest. No locking: the owner serialises.
 */
#include <karst/timer.h>

void cq_init(struct callout_queue *q)
{
	list_init(&q->head);
}

void cq_insert(struct callout_queue *q, struct callout *c)
{
	struct list_node *pos = q->head.prev;
	while (pos != &q->head && list_entry(pos, struct callout, link)->deadline > c->deadline)
		pos = pos->prev;
	list_add(pos, &c->link);
}

void cq_remove(struct callout_queue *q, struct callout *c)
{
	list_del(&c->link);
}

struct callout *cq_first(const struct callout_queue *q)
{
	return list_first(&q->head, struct callout, link);
}

struct callout *cq_pop_expired(struct callout_queue *q, uint64_t now)
{
	struct callout *c = cq_first(q);
	if (!c || c->deadline > now)
		return NULL;
	list_del(&c->link);
	return c;
}
