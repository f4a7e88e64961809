/*
 * Callouts: run a function at a deadline (kernel only).
 *
 * callout_schedule() arms (or re-arms) a callout for an absolute deadline
 * in time_ns() nanoseconds; the function then runs from the timer
 * interrupt, with interrupts disabled: it must be short and must not sleep
 * (wake a thread to do real work). Callouts with the same deadline run in
 * the order they were scheduled. The one-shot hardware timer is kept
 * programmed for the earliest pending deadline.
 */
#ifndef KARST_TIMER_H
#define KARST_TIMER_H

#include <karst/list.h>
#include <stdbool.h>
#include <stdint.h>

struct callout {
	struct list_node link;
	uint64_t deadline;
	void (*fn)(void *arg);
	void *arg;
	bool pending;
};

void callout_init(struct callout *c);
void callout_schedule(struct callout *c, uint64_t deadline_ns, void (*fn)(void *), void *arg);
/* Returns true when the callout was pending and will now not run. */
bool callout_cancel(struct callout *c);

/* Called by the arch timer interrupt. */
void timer_interrupt(void);
uint64_t timer_interrupts(void);

/* A sorted queue of callouts: the portable data structure under the
 * callouts above (host-tested). No locking of its own. */
struct callout_queue {
	struct list_node head;
};
void cq_init(struct callout_queue *q);
void cq_insert(struct callout_queue *q, struct callout *c);
void cq_remove(struct callout_queue *q, struct callout *c);
/* The earliest callout, or NULL. */
struct callout *cq_first(const struct callout_queue *q);
/* Remove and return the earliest callout due at `now`, or NULL. */
struct callout *cq_pop_expired(struct callout_queue *q, uint64_t now);

#endif
