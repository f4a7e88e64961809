/*
 * Locks: part of the kernel-service interface.
 *
 *  spinlock   never sleeps; spin_lock() disables interrupts and keeps the
 *             previous interrupt state in the lock, spin_unlock() restores
 *             it, so spinlocks nest only in LIFO order. Usable from
 *             interrupt handlers.
 *  mutex      sleeping lock with an owner; not from interrupt context.
 *  rwlock     sleeping reader/writer lock.
 *  condvar    wait for a condition under a mutex; cv_timedwait returns
 *             -ETIMEDOUT when the deadline passes.
 *  semaphore  counting semaphore.
 *
 * Every spinlock, mutex and rwlock belongs to a lock class named where it is
 * initialised (the *_init macros create one class per call site, as
 * lockdep does). Debug builds record the order in which classes are taken
 * and panic on an inversion (see lockorder.h).
 *
 * The structures are defined by the implementation (kernel or host) in
 * <karst/sync_impl.h>; callers treat them as opaque.
 */
#ifndef KARST_SYNC_H
#define KARST_SYNC_H

#include <stdbool.h>
#include <stdint.h>

struct lock_class {
	const char *name;
	int id; /* assigned by the lock-order checker on first use; 0 = none yet */
};

#define LOCK_CLASS_INIT(n)                                                                         \
	{                                                                                          \
		.name = (n), .id = 0                                                               \
	}

#include <karst/sync_impl.h>

struct spinlock;
struct mutex;
struct rwlock;
struct condvar;
struct semaphore;

void spin_lock_init_class(struct spinlock *l, struct lock_class *c);
void spin_lock(struct spinlock *l);
void spin_unlock(struct spinlock *l);
bool spin_trylock(struct spinlock *l);

void mutex_init_class(struct mutex *m, struct lock_class *c);
void mutex_destroy(struct mutex *m);
void mutex_lock(struct mutex *m);
bool mutex_trylock(struct mutex *m);
void mutex_unlock(struct mutex *m);
/* True when the calling thread holds m (for assertions). */
bool mutex_owned(const struct mutex *m);

void rwlock_init_class(struct rwlock *rw, struct lock_class *c);
void rwlock_destroy(struct rwlock *rw);
void rwlock_rlock(struct rwlock *rw);
void rwlock_runlock(struct rwlock *rw);
void rwlock_wlock(struct rwlock *rw);
void rwlock_wunlock(struct rwlock *rw);

void cv_init(struct condvar *cv);
void cv_destroy(struct condvar *cv);
void cv_wait(struct condvar *cv, struct mutex *m);
/* Waits at most `ns` nanoseconds; 0 when signalled, -ETIMEDOUT otherwise. */
int cv_timedwait(struct condvar *cv, struct mutex *m, uint64_t ns);
void cv_signal(struct condvar *cv);
void cv_broadcast(struct condvar *cv);

void sema_init(struct semaphore *s, unsigned int count);
void sema_destroy(struct semaphore *s);
void sema_down(struct semaphore *s);
bool sema_trydown(struct semaphore *s);
void sema_up(struct semaphore *s);

#define spin_lock_init(l, name)                                                                    \
	do {                                                                                       \
		static struct lock_class __lc = LOCK_CLASS_INIT(name);                             \
		spin_lock_init_class((l), &__lc);                                                  \
	} while (0)

#define mutex_init(m, name)                                                                        \
	do {                                                                                       \
		static struct lock_class __lc = LOCK_CLASS_INIT(name);                             \
		mutex_init_class((m), &__lc);                                                      \
	} while (0)

#define rwlock_init(rw, name)                                                                      \
	do {                                                                                       \
		static struct lock_class __lc = LOCK_CLASS_INIT(name);                             \
		rwlock_init_class((rw), &__lc);                                                    \
	} while (0)

#endif
