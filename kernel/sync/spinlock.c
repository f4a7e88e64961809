/*
 * Spinlocks: interrupts off on this CPU, then an atomic flag. The saved
 * interrupt state lives in the lock and is restored by spin_unlock(), so
 * nested spinlocks must be released in LIFO order. Debug builds check the
 * lock order (a trylock does not block, so it is not checked).
 */
#include <karst/arch.h>
#include <karst/printk.h>
#include <karst/sync.h>

#include "lo_hooks.h"

void spin_lock_init_class(struct spinlock *l, struct lock_class *c)
{
	atomic_store_explicit(&l->locked, 0, memory_order_relaxed);
	l->saved_irq = 0;
	l->cls = c;
}

void spin_lock(struct spinlock *l)
{
	lo_acquire(l->cls, l);
	unsigned long flags = arch_irq_save();
	for (;;) {
		if (!atomic_exchange_explicit(&l->locked, 1, memory_order_acquire))
			break;
		while (atomic_load_explicit(&l->locked, memory_order_relaxed))
			arch_cpu_relax();
	}
	l->saved_irq = flags;
}

bool spin_trylock(struct spinlock *l)
{
	unsigned long flags = arch_irq_save();
	if (atomic_exchange_explicit(&l->locked, 1, memory_order_acquire)) {
		arch_irq_restore(flags);
		return false;
	}
	l->saved_irq = flags;
	return true;
}

void spin_unlock(struct spinlock *l)
{
	KASSERT_MSG(atomic_load_explicit(&l->locked, memory_order_relaxed),
		    "spin_unlock of unlocked %s", l->cls ? l->cls->name : "?");
	unsigned long flags = l->saved_irq;
	atomic_store_explicit(&l->locked, 0, memory_order_release);
	arch_irq_restore(flags);
	lo_release(l->cls, l);
}
