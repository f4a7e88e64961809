/*
 * The scheduler: priority run queues, context switches, preemption, wait
 * queues. See <karst/sched.h> for the policy and the locking (interrupts
 * disabled around every change, one CPU).
 *
 * Preemption happens at two points: irq_exit() when an interrupt handler
 * made a better thread ready or ended the time slice, and preempt_enable()
 * when that happened while preemption was off. Switching from inside an
 * interrupt is fine: the interrupted thread's registers stay in its trap
 * frame on its own stack until it is switched back in and the interrupt
 * returns.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/kmem.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/time.h>
#include <string.h>

static struct list_node runq[SCHED_NPRIO];
static uint32_t runq_mask; /* bit p set: runq[p] not empty */
static struct list_node all_threads = LIST_HEAD_INIT(all_threads);
static int nthreads;
static struct thread main_thread __aligned(64);
static struct thread *current;
static struct thread *idle_thread;
static int irq_depth;
static int preempt_count;
static bool need_resched;
static uint64_t nswitches;
static uint64_t next_id = 1;
static struct callout slice_callout;
static struct lo_held early_held, irq_held;

struct thread *sched_current(void)
{
	return current;
}

bool in_interrupt(void)
{
	return irq_depth > 0;
}

static void runq_add(struct thread *t)
{
	list_add_tail(&runq[t->prio], &t->run_link);
	runq_mask |= 1u << t->prio;
}

static void runq_del(struct thread *t)
{
	list_del(&t->run_link);
	if (list_empty(&runq[t->prio]))
		runq_mask &= ~(1u << t->prio);
}

static struct thread *runq_best(void)
{
	if (!runq_mask)
		return NULL;
	int p = 31 - __builtin_clz(runq_mask);
	return list_entry(runq[p].next, struct thread, run_link);
}

static void slice_expired(void *arg)
{
	need_resched = true;
}

/* Arm the time slice of `t` when another thread of its priority waits. */
static void slice_arm(struct thread *t)
{
	if (t != idle_thread && t->prio < SCHED_NPRIO && !list_empty(&runq[t->prio]))
		callout_schedule(&slice_callout, t->run_start + SCHED_SLICE_NS, slice_expired,
				 NULL);
	else
		callout_cancel(&slice_callout);
}

/* Make a thread runnable; interrupts disabled. */
static void make_ready(struct thread *t)
{
	t->state = TS_READY;
	runq_add(t);
	if (current == idle_thread || t->prio > current->prio)
		need_resched = true;
	else if (t->prio == current->prio && !slice_callout.pending)
		slice_arm(current);
}

void schedule(void)
{
	unsigned long f = arch_irq_save();
	struct thread *prev = current;
	need_resched = false;
	if (prev->state == TS_RUNNING) {
		/* Preempted or yielding: behind the others of its priority (the
		 * idle thread is never queued: it runs when nothing else can). */
		prev->state = TS_READY;
		if (prev != idle_thread)
			runq_add(prev);
	}
	struct thread *next = runq_best();
	if (next)
		runq_del(next);
	else
		next = idle_thread;
	next->state = TS_RUNNING;
	if (next != prev) {
		uint64_t now = time_ns();
		prev->cpu_ns += now - prev->run_start;
		next->run_start = now;
		next->switches++;
		nswitches++;
		current = next;
		slice_arm(next);
		arch_fpu_save(&prev->fpu);
		arch_fpu_restore(&next->fpu);
		arch_context_switch(&prev->ctx, &next->ctx);
		/* Back in prev, switched in by someone else's schedule(). */
	}
	arch_irq_restore(f);
}

void irq_enter(void)
{
	irq_depth++;
}

void irq_exit(void)
{
	irq_depth--;
	if (irq_depth == 0 && need_resched && preempt_count == 0 && current)
		schedule();
}

void sched_maybe_preempt(void)
{
	if (need_resched && irq_depth == 0 && preempt_count == 0 && current && arch_irqs_enabled())
		schedule();
}

void preempt_disable(void)
{
	preempt_count++;
}

void preempt_enable(void)
{
	KASSERT(preempt_count > 0);
	if (--preempt_count == 0 && need_resched && !in_interrupt())
		schedule();
}

struct lo_held *sched_lo_held(void)
{
	if (irq_depth)
		return &irq_held;
	return current ? &current->held : &early_held;
}

/* Wait queues. */

void wq_init(struct waitq *wq)
{
	list_init(&wq->waiters);
}

static void wq_wake_thread(struct thread *t, int reason)
{
	if (t->state != TS_SLEEPING)
		return;
	list_del(&t->wait_link);
	t->waiting_on = NULL;
	t->wake_reason = reason;
	make_ready(t);
}

static void wq_timeout(void *arg)
{
	wq_wake_thread(arg, -ETIMEDOUT);
}

int wq_sleep(struct waitq *wq, uint64_t timeout_ns)
{
	struct thread *t = current;
	KASSERT(!arch_irqs_enabled());
	thread_assert_may_sleep();
	list_add_tail(&wq->waiters, &t->wait_link);
	t->waiting_on = wq;
	t->wake_reason = 0;
	t->state = TS_SLEEPING;
	if (timeout_ns)
		callout_schedule(&t->timeout, time_ns() + timeout_ns, wq_timeout, t);
	schedule();
	if (timeout_ns)
		callout_cancel(&t->timeout);
	return t->wake_reason;
}

int wq_wake_one(struct waitq *wq)
{
	unsigned long f = arch_irq_save();
	int n = 0;
	if (!list_empty(&wq->waiters)) {
		wq_wake_thread(list_entry(wq->waiters.next, struct thread, wait_link), 0);
		n = 1;
	}
	arch_irq_restore(f);
	sched_maybe_preempt();
	return n;
}

int wq_wake_all(struct waitq *wq)
{
	unsigned long f = arch_irq_save();
	int n = 0;
	while (!list_empty(&wq->waiters)) {
		wq_wake_thread(list_entry(wq->waiters.next, struct thread, wait_link), 0);
		n++;
	}
	arch_irq_restore(f);
	sched_maybe_preempt();
	return n;
}

/* Threads. */

static struct arch_fpu clean_fpu __aligned(16);

static void thread_entry(void)
{
	struct thread *t = current;
	arch_irq_enable();
	t->fn(t->arg);
	thread_exit();
}

static void idle_loop(void *arg)
{
	for (;;) {
		arch_irq_save();
		if (runq_mask)
			schedule();
		else
			arch_idle();
		arch_irq_enable();
	}
}

static struct thread *thread_alloc(const char *name, int prio)
{
	struct thread *t = kmalloc_aligned(sizeof(*t), 64);
	if (!t)
		return NULL;
	memset(t, 0, sizeof(*t));
	strncpy(t->name, name, THREAD_NAME_MAX - 1);
	t->prio = prio < 0 ? 0 : prio >= SCHED_NPRIO ? SCHED_NPRIO - 1 : prio;
	wq_init(&t->join_wq);
	callout_init(&t->timeout);
	list_init(&t->wait_link);
	list_init(&t->run_link);
	t->fpu = clean_fpu;
	return t;
}

static void thread_link(struct thread *t)
{
	unsigned long f = arch_irq_save();
	t->id = next_id++;
	list_add_tail(&all_threads, &t->all_link);
	nthreads++;
	arch_irq_restore(f);
}

struct thread *thread_create(const char *name, void (*fn)(void *), void *arg, int prio)
{
	struct thread *t = thread_alloc(name, prio);
	if (!t)
		return NULL;
	t->stack = kpage_alloc(THREAD_STACK_SIZE / PAGE_SIZE);
	if (!t->stack) {
		kfree(t);
		return NULL;
	}
	t->fn = fn;
	t->arg = arg;
	arch_context_init(&t->ctx, (char *)t->stack + THREAD_STACK_SIZE, thread_entry);
	thread_link(t);
	unsigned long f = arch_irq_save();
	make_ready(t);
	arch_irq_restore(f);
	if (need_resched && !in_interrupt() && preempt_count == 0)
		schedule();
	return t;
}

void sched_init(void)
{
	for (int p = 0; p < SCHED_NPRIO; p++)
		list_init(&runq[p]);
	arch_fpu_save(&clean_fpu);
	callout_init(&slice_callout);
	struct thread *m = &main_thread;
	strcpy(m->name, "main");
	m->prio = THREAD_PRIO_DEFAULT;
	m->state = TS_RUNNING;
	m->held = early_held;
	wq_init(&m->join_wq);
	callout_init(&m->timeout);
	list_init(&m->wait_link);
	list_init(&m->run_link);
	thread_link(m);
	current = m;
	idle_thread = thread_alloc("idle", 0);
	VERIFY(idle_thread != NULL);
	idle_thread->stack = kpage_alloc(THREAD_STACK_SIZE / PAGE_SIZE);
	VERIFY(idle_thread->stack != NULL);
	idle_thread->fn = idle_loop;
	arch_context_init(&idle_thread->ctx, (char *)idle_thread->stack + THREAD_STACK_SIZE,
			  thread_entry);
	thread_link(idle_thread);
	idle_thread->state = TS_READY; /* never on a run queue: picked when they are empty */
	m->run_start = time_ns();
}

__noreturn void thread_exit(void)
{
	struct thread *t = current;
	KASSERT(t != &main_thread && t != idle_thread);
	KASSERT_MSG(t->held.depth == 0, "thread %s exits holding %d locks", t->name, t->held.depth);
	arch_irq_save();
	t->state = TS_DEAD;
	wq_wake_all(&t->join_wq);
	schedule();
	panic("thread_exit: a dead thread was scheduled");
}

int thread_join(struct thread *t)
{
	if (!t || t == current)
		return -EDEADLK;
	unsigned long f = arch_irq_save();
	while (t->state != TS_DEAD)
		wq_sleep(&t->join_wq, 0);
	list_del(&t->all_link);
	nthreads--;
	arch_irq_restore(f);
	kpage_free(t->stack, THREAD_STACK_SIZE / PAGE_SIZE);
	kfree(t);
	return 0;
}

void thread_yield(void)
{
	thread_assert_may_sleep();
	schedule();
}

void thread_sleep_ns(uint64_t ns)
{
	if (ns == 0) {
		thread_yield();
		return;
	}
	struct waitq wq;
	wq_init(&wq);
	unsigned long f = arch_irq_save();
	while (wq_sleep(&wq, ns) != -ETIMEDOUT)
		;
	arch_irq_restore(f);
}

struct thread *thread_self(void)
{
	return current;
}

const char *thread_name(const struct thread *t)
{
	return t ? t->name : "?";
}

uint64_t thread_cpu_ns(const struct thread *t)
{
	unsigned long f = arch_irq_save();
	uint64_t ns = t->cpu_ns + (t == current ? time_ns() - t->run_start : 0);
	arch_irq_restore(f);
	return ns;
}

void thread_set_nosleep(bool nosleep)
{
	current->nosleep = nosleep;
}

void thread_assert_may_sleep(void)
{
	KASSERT_MSG(!in_interrupt(), "sleeping in an interrupt handler");
	KASSERT_MSG(!current || !current->nosleep, "thread %s may not sleep",
		    current ? current->name : "?");
	KASSERT_MSG(preempt_count == 0, "sleeping with preemption disabled");
}

void sched_for_each_thread(void (*fn)(const struct thread *t, void *arg), void *arg)
{
	unsigned long f = arch_irq_save();
	list_for_each(it, &all_threads)
	{
		fn(list_entry(it, struct thread, all_link), arg);
	}
	arch_irq_restore(f);
}

int sched_thread_count(void)
{
	return nthreads;
}

uint64_t sched_idle_ns(void)
{
	return idle_thread ? thread_cpu_ns(idle_thread) : 0;
}

uint64_t sched_context_switches(void)
{
	return nswitches;
}

const char *thread_state_name(enum thread_state s)
{
	static const char *const names[] = {"running", "ready", "sleeping", "dead"};
	return (unsigned)s < ARRAY_SIZE(names) ? names[s] : "?";
}
