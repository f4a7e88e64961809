/*
 * Host implementation of <karst/sync.h> on pthreads.
 */
#include <errno.h>
#include <karst/printk.h>
#include <karst/sync.h>
#include <time.h>

#define PCHECK(call)                                                                               \
	do {                                                                                       \
		int e_ = (call);                                                                   \
		if (e_ != 0)                                                                       \
			panic("%s failed: %d", #call, e_);                                         \
	} while (0)

void spin_lock_init_class(struct spinlock *l, struct lock_class *c)
{
	PCHECK(pthread_mutex_init(&l->m, NULL));
	l->cls = c;
}

void spin_lock(struct spinlock *l)
{
	PCHECK(pthread_mutex_lock(&l->m));
}

void spin_unlock(struct spinlock *l)
{
	PCHECK(pthread_mutex_unlock(&l->m));
}

bool spin_trylock(struct spinlock *l)
{
	return pthread_mutex_trylock(&l->m) == 0;
}

void mutex_init_class(struct mutex *m, struct lock_class *c)
{
	PCHECK(pthread_mutex_init(&m->m, NULL));
	m->owned = 0;
	m->cls = c;
}

void mutex_destroy(struct mutex *m)
{
	KASSERT(!m->owned);
	pthread_mutex_destroy(&m->m);
}

void mutex_lock(struct mutex *m)
{
	KASSERT_MSG(!mutex_owned(m), "recursive mutex_lock of %s", m->cls ? m->cls->name : "?");
	PCHECK(pthread_mutex_lock(&m->m));
	__atomic_store_n(&m->owner, pthread_self(), __ATOMIC_RELAXED);
	__atomic_store_n(&m->owned, 1, __ATOMIC_RELAXED);
}

bool mutex_trylock(struct mutex *m)
{
	if (pthread_mutex_trylock(&m->m) != 0)
		return false;
	__atomic_store_n(&m->owner, pthread_self(), __ATOMIC_RELAXED);
	__atomic_store_n(&m->owned, 1, __ATOMIC_RELAXED);
	return true;
}

void mutex_unlock(struct mutex *m)
{
	KASSERT_MSG(mutex_owned(m), "mutex_unlock of %s not held by caller",
		    m->cls ? m->cls->name : "?");
	__atomic_store_n(&m->owned, 0, __ATOMIC_RELAXED);
	PCHECK(pthread_mutex_unlock(&m->m));
}

bool mutex_owned(const struct mutex *m)
{
	/* owner is only meaningful while owned; only the owner can see both true. */
	return __atomic_load_n(&m->owned, __ATOMIC_RELAXED) &&
	       pthread_equal(__atomic_load_n(&m->owner, __ATOMIC_RELAXED), pthread_self());
}

void rwlock_init_class(struct rwlock *rw, struct lock_class *c)
{
	PCHECK(pthread_rwlock_init(&rw->rw, NULL));
	rw->cls = c;
}

void rwlock_destroy(struct rwlock *rw)
{
	pthread_rwlock_destroy(&rw->rw);
}

void rwlock_rlock(struct rwlock *rw)
{
	PCHECK(pthread_rwlock_rdlock(&rw->rw));
}

void rwlock_runlock(struct rwlock *rw)
{
	PCHECK(pthread_rwlock_unlock(&rw->rw));
}

void rwlock_wlock(struct rwlock *rw)
{
	PCHECK(pthread_rwlock_wrlock(&rw->rw));
}

void rwlock_wunlock(struct rwlock *rw)
{
	PCHECK(pthread_rwlock_unlock(&rw->rw));
}

void cv_init(struct condvar *cv)
{
	pthread_condattr_t a;
	pthread_condattr_init(&a);
	pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
	PCHECK(pthread_cond_init(&cv->c, &a));
	pthread_condattr_destroy(&a);
}

void cv_destroy(struct condvar *cv)
{
	pthread_cond_destroy(&cv->c);
}

void cv_wait(struct condvar *cv, struct mutex *m)
{
	KASSERT(mutex_owned(m));
	__atomic_store_n(&m->owned, 0, __ATOMIC_RELAXED);
	PCHECK(pthread_cond_wait(&cv->c, &m->m));
	__atomic_store_n(&m->owner, pthread_self(), __ATOMIC_RELAXED);
	__atomic_store_n(&m->owned, 1, __ATOMIC_RELAXED);
}

int cv_timedwait(struct condvar *cv, struct mutex *m, uint64_t ns)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t t = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec + ns;
	ts.tv_sec = (time_t)(t / 1000000000ULL);
	ts.tv_nsec = (long)(t % 1000000000ULL);
	KASSERT(mutex_owned(m));
	__atomic_store_n(&m->owned, 0, __ATOMIC_RELAXED);
	int e = pthread_cond_timedwait(&cv->c, &m->m, &ts);
	__atomic_store_n(&m->owner, pthread_self(), __ATOMIC_RELAXED);
	__atomic_store_n(&m->owned, 1, __ATOMIC_RELAXED);
	if (e == ETIMEDOUT)
		return -ETIMEDOUT;
	if (e != 0)
		panic("pthread_cond_timedwait: %d", e);
	return 0;
}

void cv_signal(struct condvar *cv)
{
	PCHECK(pthread_cond_signal(&cv->c));
}

void cv_broadcast(struct condvar *cv)
{
	PCHECK(pthread_cond_broadcast(&cv->c));
}

void sema_init(struct semaphore *s, unsigned int count)
{
	if (sem_init(&s->s, 0, count) != 0)
		panic("sem_init");
}

void sema_destroy(struct semaphore *s)
{
	sem_destroy(&s->s);
}

void sema_down(struct semaphore *s)
{
	while (sem_wait(&s->s) != 0)
		if (errno != EINTR)
			panic("sem_wait");
}

bool sema_trydown(struct semaphore *s)
{
	return sem_trywait(&s->s) == 0;
}

void sema_up(struct semaphore *s)
{
	if (sem_post(&s->s) != 0)
		panic("sem_post");
}
