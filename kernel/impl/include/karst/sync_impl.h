/*
 * Kernel implementation of the lock types of <karst/sync.h>.
 *
 * Spinlocks are test-and-test-and-set locks that keep the interrupt state
 * saved by spin_lock(). The sleeping locks are built on wait queues
 * (<karst/sched.h>); the kernel schedules one CPU, and their state is
 * protected by disabling interrupts around each operation.
 */
#ifndef KARST_SYNC_IMPL_H
#define KARST_SYNC_IMPL_H

#include <karst/list.h>
#include <stdatomic.h>

struct thread;

struct waitq {
	struct list_node waiters; /* struct thread.wait_link, FIFO */
};

struct spinlock {
	atomic_uint locked;
	unsigned long saved_irq;
	struct lock_class *cls;
};

struct mutex {
	struct thread *owner;
	struct waitq wq;
	struct lock_class *cls;
};

struct rwlock {
	int readers;	       /* holding for read */
	struct thread *writer; /* holding for write */
	int writers_waiting;   /* readers wait while > 0: writers are not starved */
	struct waitq rq, wq;
	struct lock_class *cls;
};

struct condvar {
	struct waitq wq;
};

struct semaphore {
	unsigned int count;
	struct waitq wq;
};

#endif
