/*
 * Kernel implementation of the lock types of <karst/sync.h>.
 *
 * Spinlocks are test-and-test-and-set locks that keep the interrupt state
 * saved by spin_lock(). Sleeping locks arrive with the scheduler.
 */
#ifndef KARST_SYNC_IMPL_H
#define KARST_SYNC_IMPL_H

#include <stdatomic.h>

struct spinlock {
	atomic_uint locked;
	unsigned long saved_irq;
	struct lock_class *cls;
};

#endif
