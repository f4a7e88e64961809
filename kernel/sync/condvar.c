/*
 * Condition variables and counting semaphores on wait queues. cv_wait
 * queues the caller and releases the mutex with interrupts disabled, so a
 * signal between the two cannot be lost; it retakes the mutex after waking.
 */
#include <errno.h>
#include <karst/printk.h>
#include <karst/sched.h>

#include "lo_hooks.h"

void cv_init(struct condvar *cv)
{
	wq_init(&cv->wq);
}

void cv_destroy(struct condvar *cv)
{
	KASSERT(list_empty(&cv->wq.waiters));
}

static int cv_wait_ns(struct condvar *cv, struct mutex *m, uint64_t ns)
{
	KASSERT_MSG(mutex_owned(m), "cv_wait without holding the mutex");
	unsigned long f = arch_irq_save();
	m->owner = NULL;
	wq_wake_one(&m->wq);
	lo_release(m->cls, m);
	int r = wq_sleep(&cv->wq, ns);
	arch_irq_restore(f);
	mutex_lock(m);
	return r;
}

void cv_wait(struct condvar *cv, struct mutex *m)
{
	cv_wait_ns(cv, m, 0);
}

int cv_timedwait(struct condvar *cv, struct mutex *m, uint64_t ns)
{
	return cv_wait_ns(cv, m, ns ? ns : 1) == -ETIMEDOUT ? -ETIMEDOUT : 0;
}

void cv_signal(struct condvar *cv)
{
	wq_wake_one(&cv->wq);
}

void cv_broadcast(struct condvar *cv)
{
	wq_wake_all(&cv->wq);
}

void sema_init(struct semaphore *s, unsigned int count)
{
	s->count = count;
	wq_init(&s->wq);
}

void sema_destroy(struct semaphore *s)
{
	KASSERT(list_empty(&s->wq.waiters));
}

void sema_down(struct semaphore *s)
{
	thread_assert_may_sleep();
	unsigned long f = arch_irq_save();
	while (s->count == 0)
		wq_sleep(&s->wq, 0);
	s->count--;
	arch_irq_restore(f);
}

bool sema_trydown(struct semaphore *s)
{
	unsigned long f = arch_irq_save();
	bool ok = s->count > 0;
	if (ok)
		s->count--;
	arch_irq_restore(f);
	return ok;
}

void sema_up(struct semaphore *s)
{
	unsigned long f = arch_irq_save();
	s->count++;
	wq_wake_one(&s->wq);
	arch_irq_restore(f);
	sched_maybe_preempt();
}
