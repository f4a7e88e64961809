/*
 * Kernel threads: part of the kernel-service interface.
 *
 * thread_create() starts fn(arg) in a new thread and returns a handle that
 * must be passed to thread_join() exactly once (which frees it). Threads
 * end by returning from fn or calling thread_exit(). thread_sleep_ns() and
 * thread_yield() may only be called from a context that may sleep.
 *
 * A thread marked no-sleep (thread_set_nosleep), such as GEOM's I/O
 * threads, must never block; debug builds assert it in every sleeping
 * primitive.
 */
#ifndef KARST_THREAD_H
#define KARST_THREAD_H

#include <karst/compiler.h>
#include <stdbool.h>
#include <stdint.h>

struct thread;

enum thread_prio {
	THREAD_PRIO_LOW = 10,
	THREAD_PRIO_DEFAULT = 20,
	THREAD_PRIO_HIGH = 30,
};

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int prio);
int thread_join(struct thread *t);
__noreturn void thread_exit(void);
void thread_yield(void);
void thread_sleep_ns(uint64_t ns);
struct thread *thread_self(void);
const char *thread_name(const struct thread *t);
/* CPU time the thread has consumed, in nanoseconds. */
uint64_t thread_cpu_ns(const struct thread *t);
void thread_set_nosleep(bool nosleep);
/* Panics (debug builds) when the caller may not sleep. */
void thread_assert_may_sleep(void);

#endif
