/*
 * Sleeping reader/writer locks. Readers share, a writer excludes all; a
 * waiting writer holds back new readers so writers are not starved (so a
 * thread must not take the read lock twice). Interrupts disabled around
 * state changes (one CPU). Not for interrupt handlers.
 */
#include <karst/printk.h>
#include <karst/sched.h>

#include "lo_hooks.h"

void rwlock_init_class(struct rwlock *rw, struct lock_class *c)
{
	rw->readers = 0;
	rw->writer = NULL;
	rw->writers_waiting = 0;
	wq_init(&rw->rq);
	wq_init(&rw->wq);
	rw->cls = c;
}

void rwlock_destroy(struct rwlock *rw)
{
	KASSERT(rw->readers == 0 && rw->writer == NULL);
}

void rwlock_rlock(struct rwlock *rw)
{
	thread_assert_may_sleep();
	lo_acquire(rw->cls, rw);
	unsigned long f = arch_irq_save();
	while (rw->writer || rw->writers_waiting)
		wq_sleep(&rw->rq, 0);
	rw->readers++;
	arch_irq_restore(f);
}

void rwlock_runlock(struct rwlock *rw)
{
	unsigned long f = arch_irq_save();
	KASSERT(rw->readers > 0);
	if (--rw->readers == 0)
		wq_wake_one(&rw->wq);
	arch_irq_restore(f);
	lo_release(rw->cls, rw);
	sched_maybe_preempt();
}

void rwlock_wlock(struct rwlock *rw)
{
	thread_assert_may_sleep();
	lo_acquire(rw->cls, rw);
	unsigned long f = arch_irq_save();
	rw->writers_waiting++;
	while (rw->writer || rw->readers)
		wq_sleep(&rw->wq, 0);
	rw->writers_waiting--;
	rw->writer = sched_current();
	arch_irq_restore(f);
}

void rwlock_wunlock(struct rwlock *rw)
{
	unsigned long f = arch_irq_save();
	KASSERT(rw->writer == sched_current());
	rw->writer = NULL;
	if (rw->writers_waiting)
		wq_wake_one(&rw->wq);
	else
		wq_wake_all(&rw->rq);
	arch_irq_restore(f);
	lo_release(rw->cls, rw);
	sched_maybe_preempt();
}
