/*
 * In-kernel test runner; see <karst/ktest.h>.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/cmdline.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/sync.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <karst/timer.h>
#include <stdlib.h>
#include <string.h>

extern const struct ktest __start_karst_ktest[], __stop_karst_ktest[];

static const struct ktest *current;
static int current_failures;
static const char *current_skip; /* reason, when the test skipped itself */

/* An expected panic: where to resume, and in which thread. */
static struct {
	struct arch_jmpbuf jb;
	struct thread *thread;
	unsigned long irq;
	bool armed;
} catcher;

/*
 * The watchdog: a test still running after ktest_timeout seconds (default
 * 120, 0: never) has hung. Its callout (timer interrupt) prints which test
 * and wakes the reporter, a high-priority thread, which prints what every
 * thread is doing and what the devices hold through the hang report
 * registered by the layer that knows how (the shell's `threads; virtio;
 * irqs`, which may write through the VFS and so needs thread context).
 * The callout then polls until the report is out (or REPORT_WAIT_NS
 * passed: a report that cannot run, say the hung test spins with a higher
 * priority, must not keep the panic away) and panics from the timer
 * interrupt, so the hung test is in the backtrace.
 */
#define REPORT_POLL_NS (10 * 1000 * 1000ULL)
#define REPORT_WAIT_NS (10 * NSEC_PER_SEC)

static unsigned ktest_timeout_s = 120;
static struct callout ktest_wd;
static void (*ktest_hang_report)(void);
static struct {
	struct semaphore wake;
	struct thread *thread;
	uint64_t deadline; /* when the callout gives up waiting */
	bool started;	   /* the callout woke the reporter */
	bool done;	   /* the report is out */
} reporter;

static int param_ktest_timeout(const char *v)
{
	char *end;
	unsigned long s = v ? strtoul(v, &end, 10) : 0;
	if (!v || !*v || *end || s > 86400)
		return -EINVAL;
	ktest_timeout_s = (unsigned)s;
	return 0;
}
KARST_PARAM("ktest_timeout", param_ktest_timeout,
	    "ktest_timeout=SECONDS: a test running longer has hung: report and panic (120; 0 off)");

void ktest_set_hang_report(void (*fn)(void))
{
	ktest_hang_report = fn;
}

static void ktest_reporter(void *arg)
{
	(void)arg;
	sema_down(&reporter.wake);
	if (ktest_hang_report)
		ktest_hang_report();
	__atomic_store_n(&reporter.done, true, __ATOMIC_RELEASE);
	for (;;) /* the panic follows */
		sema_down(&reporter.wake);
}

static void ktest_watchdog(void *arg)
{
	const struct ktest *t = arg;
	uint64_t now = time_ns();
	if (!reporter.started) {
		printk("ktest: %s still running after %u s; threads and devices:\n", t->name,
		       ktest_timeout_s);
		reporter.started = true;
		reporter.deadline = now + REPORT_WAIT_NS;
		if (reporter.thread) {
			sema_up(&reporter.wake);
			callout_schedule(&ktest_wd, now + REPORT_POLL_NS, ktest_watchdog, arg);
			return;
		}
	} else if (!__atomic_load_n(&reporter.done, __ATOMIC_ACQUIRE) && now < reporter.deadline) {
		callout_schedule(&ktest_wd, now + REPORT_POLL_NS, ktest_watchdog, arg);
		return;
	}
	if (!__atomic_load_n(&reporter.done, __ATOMIC_ACQUIRE))
		printk("ktest: the hang report did not run\n");
	panic("test %s hung (ktest_timeout=%u)", t->name, ktest_timeout_s);
}

struct arch_jmpbuf *ktest_catch_begin(void)
{
	catcher.thread = sched_current();
	catcher.irq = arch_irq_save();
	arch_irq_restore(catcher.irq);
	catcher.armed = true;
	return &catcher.jb;
}

void ktest_catch_end(void)
{
	catcher.armed = false;
}

void ktest_catch_panic(const char *msg)
{
	if (!catcher.armed || in_interrupt() || sched_current() != catcher.thread)
		return;
	catcher.armed = false;
	printk("    (expected) panic: %s\n", msg);
	arch_irq_restore(catcher.irq);
	arch_longjmp(&catcher.jb, 1);
}

const char *ktest_current(void)
{
	return current ? current->name : NULL;
}

void ktest_fail(const char *file, int line, const char *what)
{
	current_failures++;
	printk("    %s:%d: expected %s\n", file, line, what);
}

void ktest_skip(const char *reason)
{
	current_skip = reason;
}

bool ktest_glob(const char *pat, const char *s)
{
	if (*pat == '\0')
		return *s == '\0';
	if (*pat == '*') {
		for (;; s++) {
			if (ktest_glob(pat + 1, s))
				return true;
			if (!*s)
				return false;
		}
	}
	if (*s && (*pat == '?' || *pat == *s))
		return ktest_glob(pat + 1, s + 1);
	return false;
}

/* Is `t` selected by the comma-separated patterns? It must match one
 * pattern without '-' and none with it ("all,-virtiofs_*": every test but
 * those); wildcards never select a KTEST_MANUAL test, a full name does. */
static bool selected(const struct ktest *t, const char *patterns)
{
	char pat[64];
	const char *p = patterns;
	bool in = false;
	while (*p) {
		size_t n = strcspn(p, ",");
		bool out = *p == '-';
		const char *q = p + out;
		size_t m = n - out;
		if (m >= sizeof(pat))
			m = sizeof(pat) - 1;
		memcpy(pat, q, m);
		pat[m] = 0;
		bool wildcard = strcmp(pat, "all") == 0 || strchr(pat, '*') || strchr(pat, '?');
		if (strcmp(pat, "all") == 0)
			strcpy(pat, "*");
		if (ktest_glob(pat, t->name)) {
			if (out)
				return false;
			if (!(wildcard && (t->flags & KTEST_MANUAL)))
				in = true;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return in;
}

int ktest_run(const char *patterns)
{
	int passed = 0, failed = 0, skipped = 0;
	printk("ktest: running tests matching '%s'\n", patterns);
	if (ktest_timeout_s && !reporter.thread) {
		sema_init(&reporter.wake, 0);
		reporter.thread =
		    thread_create("ktest_hang", ktest_reporter, NULL, THREAD_PRIO_HIGH);
	}
	for (const struct ktest *t = __start_karst_ktest; t < __stop_karst_ktest; t++) {
		if (!selected(t, patterns))
			continue;
		printk("[ RUN  ] %s\n", t->name);
		current = t;
		current_failures = 0;
		current_skip = NULL;
		uint64_t t0 = arch_time_ns();
		if (ktest_timeout_s) {
			callout_init(&ktest_wd);
			callout_schedule(&ktest_wd,
					 time_ns() + (uint64_t)ktest_timeout_s * NSEC_PER_SEC,
					 ktest_watchdog, (void *)t);
		}
		t->fn();
		if (ktest_timeout_s)
			callout_cancel(&ktest_wd);
		uint64_t us = (arch_time_ns() - t0) / 1000;
		current = NULL;
		if (current_failures) {
			printk("[ FAIL ] %s (%lu.%03lu ms)\n", t->name, (unsigned long)(us / 1000),
			       (unsigned long)(us % 1000));
			failed++;
		} else if (current_skip) {
			printk("[ SKIP ] %s: %s\n", t->name, current_skip);
			skipped++;
		} else {
			printk("[  OK  ] %s (%lu.%03lu ms)\n", t->name, (unsigned long)(us / 1000),
			       (unsigned long)(us % 1000));
			passed++;
		}
	}
	if (passed + failed + skipped == 0) {
		printk("ktest: no test matches '%s'\n", patterns);
		printk("0 passed, 1 failed, 0 skipped\n");
		return -1;
	}
	printk("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed;
}
