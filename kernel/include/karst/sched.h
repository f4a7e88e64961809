/*
 * The scheduler and the kernel's struct thread (kernel only; portable code
 * uses <karst/thread.h>).
 *
 * One CPU, priority round robin: a thread runs until it blocks, yields, or
 * a thread of higher priority becomes ready, or its time slice (10 ms) ends
 * while another of its priority is ready. There is no periodic tick: the
 * one-shot timer is programmed for the next callout or slice end.
 *
 * Every scheduler structure (run queues, wait queues, thread states) is
 * changed with interrupts disabled; that is the whole locking story on one
 * CPU. Wait queues sleep the current thread, and are woken from threads or
 * interrupt handlers.
 */
#ifndef KARST_SCHED_H
#define KARST_SCHED_H

#include <arch/context.h>
#include <karst/list.h>
#include <karst/lockorder.h>
#include <karst/sync.h>
#include <karst/thread.h>
#include <karst/timer.h>
#include <stdbool.h>
#include <stdint.h>

#define THREAD_STACK_SIZE (16 * 1024)
#define THREAD_NAME_MAX	  24
#define SCHED_NPRIO	  32
#define SCHED_SLICE_NS	  (10 * NSEC_PER_MSEC)

enum thread_state {
	TS_RUNNING,
	TS_READY,
	TS_SLEEPING,
	TS_DEAD,
};

struct thread {
	struct arch_context ctx; /* saved stack pointer; first for the asm */
	uint64_t id;
	char name[THREAD_NAME_MAX];
	int prio;
	enum thread_state state;
	struct list_node run_link;  /* run queue */
	struct list_node wait_link; /* a wait queue */
	struct list_node all_link;  /* every thread */
	struct waitq *waiting_on;
	int wake_reason; /* 0, or -ETIMEDOUT when a timeout woke it */
	struct callout timeout;
	void *stack;
	void (*fn)(void *);
	void *arg;
	uint64_t cpu_ns;    /* consumed before the current run */
	uint64_t run_start; /* time_ns() when it last started running */
	uint64_t switches;  /* times it was switched in */
	bool nosleep;
	bool joined; /* someone waits in thread_join */
	struct waitq join_wq;
	struct lo_held held; /* locks held, for the lock-order checker */
	struct arch_fpu fpu; /* FP/SIMD registers while switched out */
};

/* Becomes the thread that called it ("main"), starts the idle thread. */
void sched_init(void);
struct thread *sched_current(void);
/* Give up the CPU; the caller has set its state (RUNNING = just yield). */
void schedule(void);

/* Interrupt context bookkeeping, called by the arch interrupt entry. */
void irq_enter(void);
/* Leaves interrupt context; may switch threads when preemption is due. */
void irq_exit(void);
bool in_interrupt(void);
/* Switch now if a wakeup made a better thread ready and this context may
 * be preempted (thread context, interrupts on, preemption enabled). The
 * wake calls and lock releases call it, so a woken higher-priority thread
 * runs at once rather than at the next interrupt. */
void sched_maybe_preempt(void);
/* Disable preemption (nests); sleeping is still allowed. */
void preempt_disable(void);
void preempt_enable(void);

/* Wait queues. wq_sleep() blocks the current thread until a wake call
 * names it, or until `timeout_ns` passes (0: no timeout); returns 0 or
 * -ETIMEDOUT. Call it with interrupts disabled (the caller checked its
 * condition under the same disabled interrupts, so no wakeup is lost);
 * it returns with interrupts disabled. */
void wq_init(struct waitq *wq);
int wq_sleep(struct waitq *wq, uint64_t timeout_ns);
/* Wake the first / every waiter; any context, interrupts disabled or not.
 * Return the number woken. */
int wq_wake_one(struct waitq *wq);
int wq_wake_all(struct waitq *wq);

/* Call fn for every thread, interrupts disabled (fn must not sleep). */
void sched_for_each_thread(void (*fn)(const struct thread *t, void *arg), void *arg);
int sched_thread_count(void);
/* CPU time of the idle thread: time the CPU spent halted. */
uint64_t sched_idle_ns(void);
uint64_t sched_context_switches(void);
const char *thread_state_name(enum thread_state s);

#endif
