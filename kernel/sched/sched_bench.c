/*
 * `bench sched`: figures for the scheduler, timers and locks. A benchmark,
 * not a test: it prints numbers and never fails on speed.
 *   context switch   two threads of one priority yielding to each other
 *   mutex            uncontended lock + unlock pairs
 *   wakeup           sema_up in one thread to the sleeper running
 *   timer latency    one-shot callouts: time from deadline to handler
 *   idle             share of a 200 ms sleep the CPU spent halted
 * `bench idle`: what an idle kernel costs, as `name: value unit` figure
 * lines that tools/karst-compare reads beside the Linux guest's own:
 * free memory and threads right after boot (the guest program
 * tools/compare/guest-bench.c prints the same names from /proc).
 */
#include <karst/bench.h>
#include <karst/kmem_kernel.h>
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/sync.h>
#include <karst/time.h>
#include <string.h>

#define SWITCHES 20000

static void yielder(void *arg)
{
	for (int i = 0; i < SWITCHES; i++)
		thread_yield();
}

static void bench_switch(void)
{
	uint64_t s0 = sched_context_switches(), t0 = time_ns();
	/* Below our priority: they start when we block in join, then alternate. */
	struct thread *a = thread_create("bench_a", yielder, NULL, THREAD_PRIO_LOW);
	struct thread *b = thread_create("bench_b", yielder, NULL, THREAD_PRIO_LOW);
	if (!a || !b) {
		printk("bench: cannot create threads\n");
		return;
	}
	thread_join(a);
	thread_join(b);
	uint64_t dt = time_ns() - t0, n = sched_context_switches() - s0;
	printk("context switch:      %lu ns (%lu switches)\n", (unsigned long)(dt / n),
	       (unsigned long)n);
}

static void bench_mutex(void)
{
	static struct mutex m;
	mutex_init(&m, "bench_mutex");
	const int n = 200000;
	uint64_t t0 = time_ns();
	for (int i = 0; i < n; i++) {
		mutex_lock(&m);
		mutex_unlock(&m);
	}
	uint64_t dt = time_ns() - t0;
	printk("mutex lock+unlock:   %lu ns (uncontended)\n", (unsigned long)(dt / n));
}

struct wake_ctx {
	struct semaphore s;
	uint64_t posted, total;
	int rounds;
};

static void sleeper(void *arg)
{
	struct wake_ctx *w = arg;
	for (int i = 0; i < w->rounds; i++) {
		sema_down(&w->s);
		w->total += time_ns() - w->posted;
	}
}

static void bench_wakeup(void)
{
	static struct wake_ctx w;
	sema_init(&w.s, 0);
	w.rounds = 2000;
	w.total = 0;
	struct thread *t = thread_create("bench_sleeper", sleeper, &w, THREAD_PRIO_HIGH);
	if (!t)
		return;
	for (int i = 0; i < w.rounds; i++) {
		w.posted = time_ns();
		sema_up(&w.s); /* the sleeper has higher priority: it runs now */
	}
	thread_join(t);
	printk("wakeup to running:   %lu ns (semaphore, higher priority)\n",
	       (unsigned long)(w.total / (uint64_t)w.rounds));
}

struct lat_ctx {
	struct callout c;
	uint64_t deadline, sum, max;
	int fired;
};

static void lat_fire(void *arg)
{
	struct lat_ctx *l = arg;
	uint64_t late = time_ns() - l->deadline;
	l->sum += late;
	if (late > l->max)
		l->max = late;
	l->fired++;
}

static void bench_timer(void)
{
	static struct lat_ctx l;
	memset(&l, 0, sizeof(l));
	callout_init(&l.c);
	const int n = 500;
	for (int i = 0; i < n; i++) {
		l.deadline = time_ns() + 200 * NSEC_PER_USEC;
		callout_schedule(&l.c, l.deadline, lat_fire, &l);
		thread_sleep_ns(300 * NSEC_PER_USEC);
	}
	printk("timer latency:       mean %lu ns, max %lu ns (%d one-shot callouts)\n",
	       (unsigned long)(l.sum / (uint64_t)(l.fired ? l.fired : 1)), (unsigned long)l.max,
	       l.fired);
}

static void bench_idle(void)
{
	uint64_t i0 = sched_idle_ns(), t0 = time_ns();
	thread_sleep_ns(200 * NSEC_PER_MSEC);
	uint64_t idle = sched_idle_ns() - i0, wall = time_ns() - t0;
	printk("idle:                %lu.%lu%% of a 200 ms sleep halted\n",
	       (unsigned long)(idle * 100 / wall), (unsigned long)(idle * 1000 / wall % 10));
}

static void bench_sched(void)
{
	bench_switch();
	bench_mutex();
	bench_wakeup();
	bench_timer();
	bench_idle();
	printk("threads:             %d\n", sched_thread_count());
}
KARST_BENCH("sched", bench_sched, "context switch, mutex, wakeup, timer latency, idle");

static void bench_idle_figures(void)
{
	struct pa_stats ps;
	pa_get_stats(&kernel_pa, &ps);
	printk("idle.free_kib: %lu KiB\n", (unsigned long)(ps.free_pages << (PAGE_SHIFT - 10)));
	printk("idle.threads: %d\n", sched_thread_count());
}
KARST_BENCH("idle", bench_idle_figures, "free memory and threads now, as figure lines");
