/*
 * Host implementation of the lock types: thin wrappers over pthreads, used
 * when portable subsystems are linked into host test programs.
 */
#ifndef KARST_SYNC_IMPL_H
#define KARST_SYNC_IMPL_H

#include <pthread.h>
#include <semaphore.h>

struct spinlock {
	pthread_mutex_t m;
	struct lock_class *cls;
};

struct mutex {
	pthread_mutex_t m;
	pthread_t owner;
	int owned;
	struct lock_class *cls;
};

struct rwlock {
	pthread_rwlock_t rw;
	struct lock_class *cls;
};

struct condvar {
	pthread_cond_t c;
};

struct semaphore {
	sem_t s;
};

#endif
