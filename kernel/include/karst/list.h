/*
 * Intrusive circular doubly-linked lists.
 *
 * A list head is a struct list_node whose next/prev point to itself when the
 * list is empty; elements embed a struct list_node and are recovered with
 * list_entry(). No locking: the owner of the list serialises access.
 */
#ifndef KARST_LIST_H
#define KARST_LIST_H

#include <karst/compiler.h>
#include <stdbool.h>

struct list_node {
	struct list_node *next, *prev;
};

#define LIST_HEAD_INIT(name)                                                                       \
	{                                                                                          \
		&(name), &(name)                                                                   \
	}

static inline void list_init(struct list_node *h)
{
	h->next = h->prev = h;
}

static inline bool list_empty(const struct list_node *h)
{
	return h->next == h;
}

static inline void list_insert_between(struct list_node *n, struct list_node *prev,
				       struct list_node *next)
{
	n->next = next;
	n->prev = prev;
	prev->next = n;
	next->prev = n;
}

/* Insert n right after h (at the front when h is the head). */
static inline void list_add(struct list_node *h, struct list_node *n)
{
	list_insert_between(n, h, h->next);
}

/* Insert n right before h (at the tail when h is the head). */
static inline void list_add_tail(struct list_node *h, struct list_node *n)
{
	list_insert_between(n, h->prev, h);
}

static inline void list_del(struct list_node *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

static inline bool list_linked(const struct list_node *n)
{
	return n->next != n;
}

#define list_entry(node, type, member) container_of(node, type, member)
#define list_first(h, type, member)    (list_empty(h) ? NULL : list_entry((h)->next, type, member))
#define list_last(h, type, member)     (list_empty(h) ? NULL : list_entry((h)->prev, type, member))

#define list_for_each(it, h) for (struct list_node *it = (h)->next; it != (h); it = it->next)
/* Safe against removal of the current element. */
#define list_for_each_safe(it, h)                                                                  \
	for (struct list_node *it = (h)->next, *it##_next = it->next; it != (h);                   \
	     it = it##_next, it##_next = it->next)

#endif
