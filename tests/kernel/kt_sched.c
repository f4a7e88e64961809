/*
 * In-kernel tests of threads, the scheduler, timers and locks (both
 * architectures, under QEMU).
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/console.h>
#include <karst/ktest.h>
#include <karst/lockorder.h>
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/sync.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <karst/timer.h>
#include <stdatomic.h>
#include <string.h>

static void busy_counter(void *arg)
{
	struct {
		atomic_bool stop;
		atomic_ulong count;
	} *b = arg;
	while (!atomic_load(&b->stop))
		atomic_fetch_add(&b->count, 1);
}

KTEST(sched_preempts_busy_thread)
{
	struct {
		atomic_bool stop;
		atomic_ulong count;
	} b = {false, 0};
	struct thread *t = thread_create("busy", busy_counter, &b, THREAD_PRIO_DEFAULT);
	KT_ASSERT(t != NULL);
	/* Spin without yielding: the busy thread only runs if we are preempted. */
	uint64_t t0 = time_ns();
	while (time_ns() - t0 < 5 * SCHED_SLICE_NS)
		;
	unsigned long seen = atomic_load(&b.count);
	atomic_store(&b.stop, true);
	KT_EXPECT(thread_join(t) == 0);
	KT_EXPECT(seen > 0);
	printk("    busy thread counted to %lu while main spun\n", seen);
}

static void mark_flag(void *arg)
{
	*(volatile int *)arg = 1;
}

KTEST(sched_higher_priority_runs_first)
{
	volatile int flag = 0;
	struct thread *t = thread_create("high", mark_flag, (void *)&flag, THREAD_PRIO_HIGH);
	KT_ASSERT(t != NULL);
	KT_EXPECT(flag == 1); /* it ran before thread_create returned */
	thread_join(t);
	t = thread_create("low", mark_flag, (void *)&flag, THREAD_PRIO_LOW);
	flag = 0;
	KT_EXPECT(flag == 0); /* a lower priority waits for us to block */
	thread_join(t);
	KT_EXPECT(flag == 1);
}

/* Sleep accuracy: never early, at most SLEEP_TOLERANCE late (TCG). The
 * guest clock is the host's, so a host that deschedules QEMU's vCPU for a
 * while makes one sleep late through no fault of ours: each duration gets
 * up to three tries to come within the tolerance (a timer that is late
 * every time still fails); every try must be on time or late, never early. */
#define SLEEP_TOLERANCE (20 * NSEC_PER_MSEC)
#define SLEEP_TRIES	3

KTEST(sched_sleep_accuracy)
{
	uint64_t worst = 0;
	const uint64_t want[] = {1 * NSEC_PER_MSEC, 5 * NSEC_PER_MSEC, 20 * NSEC_PER_MSEC};
	for (unsigned i = 0; i < ARRAY_SIZE(want); i++) {
		uint64_t best = UINT64_MAX;
		for (int t = 0; t < SLEEP_TRIES && best >= SLEEP_TOLERANCE; t++) {
			uint64_t t0 = time_ns();
			thread_sleep_ns(want[i]);
			uint64_t got = time_ns() - t0;
			KT_EXPECT(got >= want[i]);
			if (got - want[i] < best)
				best = got - want[i];
		}
		KT_EXPECT(best < SLEEP_TOLERANCE);
		if (best > worst)
			worst = best;
	}
	printk("    worst lateness %lu us\n", (unsigned long)(worst / 1000));
}

struct counter_ctx {
	struct mutex m;
	unsigned long value;
	int rounds;
};

static void mutex_worker(void *arg)
{
	struct counter_ctx *c = arg;
	for (int i = 0; i < c->rounds; i++) {
		mutex_lock(&c->m);
		unsigned long v = c->value;
		if ((i & 7) == 0)
			thread_yield(); /* let others find it held */
		c->value = v + 1;
		mutex_unlock(&c->m);
	}
}

KTEST(sched_mutex_counter_exact)
{
	static struct counter_ctx c;
	mutex_init(&c.m, "kt_counter");
	c.value = 0;
	c.rounds = 2000;
	struct thread *t[8];
	for (int i = 0; i < 8; i++) {
		t[i] = thread_create("mutex_worker", mutex_worker, &c, THREAD_PRIO_DEFAULT);
		KT_ASSERT(t[i] != NULL);
	}
	for (int i = 0; i < 8; i++)
		thread_join(t[i]);
	KT_EXPECT(c.value == 8UL * 2000);
	KT_EXPECT(mutex_trylock(&c.m));
	KT_EXPECT(!mutex_trylock(&c.m));
	mutex_unlock(&c.m);
}

struct rw_ctx {
	struct rwlock rw;
	atomic_int readers, writers, violations, max_readers;
	int rounds;
};

static void rw_reader(void *arg)
{
	struct rw_ctx *c = arg;
	for (int i = 0; i < c->rounds; i++) {
		rwlock_rlock(&c->rw);
		int r = atomic_fetch_add(&c->readers, 1) + 1;
		if (atomic_load(&c->writers))
			atomic_fetch_add(&c->violations, 1);
		if (r > atomic_load(&c->max_readers))
			atomic_store(&c->max_readers, r);
		thread_yield();
		atomic_fetch_sub(&c->readers, 1);
		rwlock_runlock(&c->rw);
	}
}

static void rw_writer(void *arg)
{
	struct rw_ctx *c = arg;
	for (int i = 0; i < c->rounds; i++) {
		rwlock_wlock(&c->rw);
		if (atomic_fetch_add(&c->writers, 1) != 0 || atomic_load(&c->readers))
			atomic_fetch_add(&c->violations, 1);
		thread_yield();
		atomic_fetch_sub(&c->writers, 1);
		rwlock_wunlock(&c->rw);
		thread_yield();
	}
}

KTEST(sched_rwlock_exclusion)
{
	static struct rw_ctx c;
	rwlock_init(&c.rw, "kt_rw");
	atomic_store(&c.readers, 0);
	atomic_store(&c.writers, 0);
	atomic_store(&c.violations, 0);
	atomic_store(&c.max_readers, 0);
	c.rounds = 300;
	struct thread *t[6];
	for (int i = 0; i < 6; i++) {
		t[i] = thread_create(i < 4 ? "reader" : "writer", i < 4 ? rw_reader : rw_writer, &c,
				     THREAD_PRIO_DEFAULT);
		KT_ASSERT(t[i] != NULL);
	}
	for (int i = 0; i < 6; i++)
		thread_join(t[i]);
	KT_EXPECT(atomic_load(&c.violations) == 0);
	KT_EXPECT(atomic_load(&c.max_readers) > 1); /* readers did share */
}

struct pingpong {
	struct mutex m;
	struct condvar cv;
	int turn; /* 0: ping's turn, 1: pong's */
	int rounds, pings, pongs;
};

static void pong(void *arg)
{
	struct pingpong *p = arg;
	mutex_lock(&p->m);
	for (int i = 0; i < p->rounds; i++) {
		while (p->turn != 1)
			cv_wait(&p->cv, &p->m);
		p->pongs++;
		p->turn = 0;
		cv_signal(&p->cv);
	}
	mutex_unlock(&p->m);
}

KTEST(sched_condvar_pingpong)
{
	static struct pingpong p;
	mutex_init(&p.m, "kt_pingpong");
	cv_init(&p.cv);
	p.turn = 0;
	p.rounds = 1000;
	p.pings = p.pongs = 0;
	struct thread *t = thread_create("pong", pong, &p, THREAD_PRIO_DEFAULT);
	KT_ASSERT(t != NULL);
	mutex_lock(&p.m);
	for (int i = 0; i < p.rounds; i++) {
		while (p.turn != 0)
			cv_wait(&p.cv, &p.m);
		KT_EXPECT(p.pings == p.pongs);
		p.pings++;
		p.turn = 1;
		cv_signal(&p.cv);
	}
	while (p.turn != 0)
		cv_wait(&p.cv, &p.m);
	mutex_unlock(&p.m);
	thread_join(t);
	KT_EXPECT(p.pings == 1000 && p.pongs == 1000);
	/* A timed wait with nobody signalling times out. */
	mutex_lock(&p.m);
	uint64_t t0 = time_ns();
	KT_EXPECT(cv_timedwait(&p.cv, &p.m, 2 * NSEC_PER_MSEC) == -ETIMEDOUT);
	KT_EXPECT(time_ns() - t0 >= 2 * NSEC_PER_MSEC);
	KT_EXPECT(mutex_owned(&p.m));
	mutex_unlock(&p.m);
}

static void sema_producer(void *arg)
{
	struct semaphore *s = arg;
	for (int i = 0; i < 100; i++) {
		sema_up(s);
		if (i % 10 == 0)
			thread_sleep_ns(100 * NSEC_PER_USEC);
	}
}

KTEST(sched_semaphore)
{
	struct semaphore s;
	sema_init(&s, 0);
	KT_EXPECT(!sema_trydown(&s));
	struct thread *t = thread_create("producer", sema_producer, &s, THREAD_PRIO_DEFAULT);
	KT_ASSERT(t != NULL);
	for (int i = 0; i < 100; i++)
		sema_down(&s);
	thread_join(t);
	KT_EXPECT(!sema_trydown(&s));
}

struct order_rec {
	int fired[32];
	uint64_t when[32];
	uint64_t deadline[32];
	int n;
};

static struct order_rec orec;

static void record_fire(void *arg)
{
	int i = (int)(uintptr_t)arg;
	orec.when[orec.n] = time_ns();
	orec.fired[orec.n++] = i;
}

KTEST(sched_callouts_fire_in_deadline_order)
{
	static struct callout c[24];
	orec.n = 0;
	uint64_t base = time_ns() + 2 * NSEC_PER_MSEC;
	unsigned seed = 12345;
	for (int i = 0; i < 24; i++) {
		seed = seed * 1103515245 + 12345;
		/* Some deadlines repeat: equal ones fire in scheduling order. */
		orec.deadline[i] = base + (uint64_t)((seed >> 16) % 8) * NSEC_PER_MSEC;
		callout_init(&c[i]);
		callout_schedule(&c[i], orec.deadline[i], record_fire, (void *)(uintptr_t)i);
	}
	/* One cancelled callout never fires. */
	KT_EXPECT(callout_cancel(&c[5]));
	KT_EXPECT(!callout_cancel(&c[5]));
	thread_sleep_ns(15 * NSEC_PER_MSEC);
	KT_ASSERT(orec.n == 23);
	for (int k = 0; k < orec.n; k++) {
		int i = orec.fired[k];
		KT_EXPECT(i != 5);
		KT_EXPECT(orec.when[k] >= orec.deadline[i]);
		if (k > 0) {
			int j = orec.fired[k - 1];
			KT_EXPECT(orec.deadline[j] < orec.deadline[i] ||
				  (orec.deadline[j] == orec.deadline[i] && j < i));
		}
	}
}

struct storm {
	struct callout c;
	uint64_t start, period, end;
	uint64_t k;    /* deadlines fired */
	uint64_t late; /* sum of lateness */
};

static void storm_tick(void *arg)
{
	struct storm *s = arg;
	uint64_t deadline = s->start + s->k * s->period;
	s->late += time_ns() - deadline;
	s->k++;
	uint64_t next = s->start + s->k * s->period;
	if (next <= s->end)
		callout_schedule(&s->c, next, storm_tick, s);
}

KTEST(sched_timer_storm_loses_no_ticks)
{
	static struct storm s;
	callout_init(&s.c);
	s.period = 50 * NSEC_PER_USEC;
	s.start = time_ns() + NSEC_PER_MSEC;
	s.end = s.start + 100 * NSEC_PER_MSEC;
	s.k = 0;
	s.late = 0;
	uint64_t irqs0 = timer_interrupts();
	callout_schedule(&s.c, s.start, storm_tick, &s);
	thread_sleep_ns(110 * NSEC_PER_MSEC);
	/* Every deadline from start to end fired once, late or not. */
	KT_EXPECT(s.k == (s.end - s.start) / s.period + 1);
	KT_EXPECT(!s.c.pending);
	printk("    %lu ticks of 50 us, %lu timer interrupts, mean lateness %lu us\n",
	       (unsigned long)s.k, (unsigned long)(timer_interrupts() - irqs0),
	       (unsigned long)(s.late / (s.k ? s.k : 1) / 1000));
}

/* Many callouts armed at once, 20 us apart (several expire per timer
 * interrupt under emulation): each fires exactly once, in deadline order. */
#define STORM_N 400
static struct callout storm_c[STORM_N];
static unsigned storm_fired[STORM_N], storm_order[STORM_N], storm_next;

static void storm_one(void *arg)
{
	unsigned i = (unsigned)(uintptr_t)arg;
	storm_fired[i]++;
	if (storm_next < STORM_N)
		storm_order[storm_next++] = i;
}

KTEST(sched_timer_storm_independent_callouts)
{
	memset(storm_fired, 0, sizeof(storm_fired));
	storm_next = 0;
	uint64_t start = time_ns() + NSEC_PER_MSEC;
	/* Armed in a scrambled order, with interrupts off so that none fires
	 * before all are armed (arming 400 can take longer than the first
	 * deadline under emulation); the queue sorts them. */
	unsigned long f = arch_irq_save();
	for (unsigned k = 0; k < STORM_N; k++) {
		unsigned i = (k * 7919u) % STORM_N;
		callout_init(&storm_c[i]);
		callout_schedule(&storm_c[i], start + i * 20 * NSEC_PER_USEC, storm_one,
				 (void *)(uintptr_t)i);
	}
	arch_irq_restore(f);
	thread_sleep_ns(NSEC_PER_MSEC + STORM_N * 20 * NSEC_PER_USEC + 20 * NSEC_PER_MSEC);
	unsigned missing = 0, twice = 0, out_of_order = 0;
	for (unsigned i = 0; i < STORM_N; i++) {
		missing += storm_fired[i] == 0;
		twice += storm_fired[i] > 1;
		out_of_order += i > 0 && storm_order[i] < storm_order[i - 1];
	}
	KT_EXPECT(missing == 0);
	KT_EXPECT(twice == 0);
	KT_EXPECT(out_of_order == 0);
	KT_EXPECT(storm_next == STORM_N);
}

static void burn(void *arg)
{
	uint64_t *cpu = arg;
	uint64_t t0 = time_ns();
	while (time_ns() - t0 < 5 * NSEC_PER_MSEC)
		;
	*cpu = thread_cpu_ns(thread_self());
}

KTEST(sched_join_and_cpu_time)
{
	int before = sched_thread_count();
	uint64_t cpu = 0;
	struct thread *t = thread_create("burn", burn, &cpu, THREAD_PRIO_DEFAULT);
	KT_ASSERT(t != NULL);
	KT_EXPECT(sched_thread_count() == before + 1);
	KT_EXPECT(thread_join(t) == 0);
	KT_EXPECT(sched_thread_count() == before);
	KT_EXPECT(cpu >= 5 * NSEC_PER_MSEC);
	KT_EXPECT(thread_join(thread_self()) == -EDEADLK);
}

static void count_running(const struct thread *t, void *arg)
{
	*(int *)arg += t->state == TS_RUNNING;
}

KTEST(sched_idle_cpu_is_halted)
{
	uint64_t idle0 = sched_idle_ns(), t0 = time_ns();
	thread_sleep_ns(50 * NSEC_PER_MSEC);
	uint64_t idle = sched_idle_ns() - idle0, wall = time_ns() - t0;
	/* Asleep, the CPU should be halted in the idle thread nearly all the time. */
	KT_EXPECT(idle * 10 >= wall * 8);
	printk("    idle %lu of %lu us\n", (unsigned long)(idle / 1000),
	       (unsigned long)(wall / 1000));
	/* The idle thread ran and was switched out: one thread is running. */
	int running = 0;
	sched_for_each_thread(count_running, &running);
	KT_EXPECT(running == 1);
}

#ifdef KARST_DEBUG
KTEST(sched_lockorder_inversion_caught)
{
	static struct mutex a, b;
	mutex_init(&a, "kt_order_a");
	mutex_init(&b, "kt_order_b");
	mutex_lock(&a);
	mutex_lock(&b); /* records a -> b */
	mutex_unlock(&b);
	mutex_unlock(&a);
	mutex_lock(&b);
	KT_EXPECT_PANIC(mutex_lock(&a)); /* b -> a reverses it */
	mutex_unlock(&b);
	KT_EXPECT(!mutex_owned(&a));
	/* The report names both classes, the order seen first, and stacks. */
	static char log[4096];
	size_t n = printk_ring_copy(log, sizeof(log) - 1);
	log[n] = 0;
	const char *r = strstr(log, "lock order reversal: acquiring \"kt_order_a\"");
	KT_EXPECT(r != NULL);
	if (r) {
		KT_EXPECT(strstr(r, "while holding \"kt_order_b\"") != NULL);
		KT_EXPECT(strstr(r, "the reverse order \"kt_order_a\" -> \"kt_order_b\"") != NULL);
		KT_EXPECT(strstr(r, " this acquisition:\n  #0 0x") != NULL);
	}

	/* Report mode counts instead of panicking. */
	uint64_t v0 = lockorder_violations();
	lockorder_set_mode(LO_REPORT);
	mutex_lock(&b);
	mutex_lock(&a);
	mutex_unlock(&a);
	mutex_unlock(&b);
	lockorder_set_mode(LO_PANIC);
	KT_EXPECT(lockorder_violations() == v0 + 1);
}

KTEST(sched_nosleep_thread_may_not_sleep)
{
	thread_set_nosleep(true);
	KT_EXPECT_PANIC(thread_sleep_ns(1000));
	thread_set_nosleep(false);
}
#endif
