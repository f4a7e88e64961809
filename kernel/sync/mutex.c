/*
 * Sleeping mutexes: an owner and a wait queue. A blocked locker sleeps on
 * the queue; unlock clears the owner and wakes the first sleeper, which
 * retries (another thread may take the mutex first). State changes happen
 * with interrupts disabled (one CPU). Not for interrupt handlers.
 */
#include <karst/printk.h>
#include <karst/sched.h>

#include "lo_hooks.h"

void mutex_init_class(struct mutex *m, struct lock_class *c)
{
	m->owner = NULL;
	wq_init(&m->wq);
	m->cls = c;
}

void mutex_destroy(struct mutex *m)
{
	KASSERT_MSG(m->owner == NULL, "destroying held mutex %s", m->cls ? m->cls->name : "?");
}

void mutex_lock(struct mutex *m)
{
	struct thread *self = sched_current();
	KASSERT(self != NULL);
	thread_assert_may_sleep();
	lo_acquire(m->cls, m);
	unsigned long f = arch_irq_save();
	while (m->owner)
		wq_sleep(&m->wq, 0);
	m->owner = self;
	arch_irq_restore(f);
}

bool mutex_trylock(struct mutex *m)
{
	unsigned long f = arch_irq_save();
	bool ok = m->owner == NULL;
	if (ok)
		m->owner = sched_current();
	arch_irq_restore(f);
	return ok;
}

void mutex_unlock(struct mutex *m)
{
	KASSERT_MSG(m->owner == sched_current(), "mutex_unlock of %s by a thread not holding it",
		    m->cls ? m->cls->name : "?");
	unsigned long f = arch_irq_save();
	m->owner = NULL;
	wq_wake_one(&m->wq);
	arch_irq_restore(f);
	lo_release(m->cls, m);
	sched_maybe_preempt();
}

bool mutex_owned(const struct mutex *m)
{
	return m->owner != NULL && m->owner == sched_current();
}
