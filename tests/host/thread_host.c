/*
 * Host implementation of <karst/thread.h> on pthreads.
 */
#include <karst/kmem.h>
#include <karst/printk.h>
#include <karst/thread.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

struct thread {
	pthread_t pt;
	void (*fn)(void *);
	void *arg;
	char name[32];
	bool nosleep;
};

static __thread struct thread *current;

static void *thread_trampoline(void *p)
{
	struct thread *t = p;
	current = t;
	t->fn(t->arg);
	return NULL;
}

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int prio)
{
	struct thread *t = kzalloc(sizeof(*t));
	if (!t)
		return NULL;
	t->fn = fn;
	t->arg = arg;
	strncpy(t->name, name, sizeof(t->name) - 1);
	if (pthread_create(&t->pt, NULL, thread_trampoline, t) != 0) {
		kfree(t);
		return NULL;
	}
	return t;
}

int thread_join(struct thread *t)
{
	int e = pthread_join(t->pt, NULL);
	kfree(t);
	return -e;
}

void thread_exit(void)
{
	pthread_exit(NULL);
}

void thread_yield(void)
{
	thread_assert_may_sleep();
	sched_yield();
}

void thread_sleep_ns(uint64_t ns)
{
	thread_assert_may_sleep();
	struct timespec ts = {.tv_sec = (time_t)(ns / 1000000000ULL),
			      .tv_nsec = (long)(ns % 1000000000ULL)};
	while (nanosleep(&ts, &ts) != 0)
		;
}

struct thread *thread_self(void)
{
	return current;
}

const char *thread_name(const struct thread *t)
{
	return t ? t->name : "main";
}

uint64_t thread_cpu_ns(const struct thread *t)
{
	clockid_t cid;
	struct timespec ts;
	if (t == NULL || t == current) {
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	} else {
		if (pthread_getcpuclockid(t->pt, &cid) != 0 || clock_gettime(cid, &ts) != 0)
			return 0;
	}
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static __thread bool main_nosleep;

void thread_set_nosleep(bool nosleep)
{
	if (current)
		current->nosleep = nosleep;
	else
		main_nosleep = nosleep;
}

void thread_assert_may_sleep(void)
{
	bool ns = current ? current->nosleep : main_nosleep;
	KASSERT_MSG(!ns, "thread %s may not sleep", thread_name(current));
	(void)ns;
}
