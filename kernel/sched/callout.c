/*
 * Callouts on the one-shot timer; see <karst/timer.h>. The queue and the
 * hardware timer are changed with interrupts disabled; expired callouts
 * run from timer_interrupt(), earliest first.
 */
#include <karst/arch.h>
#include <karst/timer.h>

static struct callout_queue queue = {LIST_HEAD_INIT(queue.head)};
static uint64_t timer_irqs;

static void timer_reprogram(void)
{
	struct callout *c = cq_first(&queue);
	arch_timer_set(c ? c->deadline : UINT64_MAX);
}

void callout_init(struct callout *c)
{
	list_init(&c->link);
	c->pending = false;
	c->fn = NULL;
}

void callout_schedule(struct callout *c, uint64_t deadline_ns, void (*fn)(void *), void *arg)
{
	unsigned long f = arch_irq_save();
	if (c->pending)
		cq_remove(&queue, c);
	c->deadline = deadline_ns;
	c->fn = fn;
	c->arg = arg;
	c->pending = true;
	cq_insert(&queue, c);
	if (cq_first(&queue) == c)
		timer_reprogram();
	arch_irq_restore(f);
}

bool callout_cancel(struct callout *c)
{
	unsigned long f = arch_irq_save();
	bool was = c->pending;
	if (was) {
		bool first = cq_first(&queue) == c;
		cq_remove(&queue, c);
		c->pending = false;
		if (first)
			timer_reprogram();
	}
	arch_irq_restore(f);
	return was;
}

void timer_interrupt(void)
{
	timer_irqs++;
	struct callout *c;
	while ((c = cq_pop_expired(&queue, arch_time_ns())) != NULL) {
		c->pending = false;
		c->fn(c->arg);
	}
	timer_reprogram();
}

uint64_t timer_interrupts(void)
{
	return timer_irqs;
}
