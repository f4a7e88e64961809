/*
 * In-kernel test runner; see <karst/ktest.h>.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/cmdline.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/shell.h>
#include <karst/time.h>
#include <karst/timer.h>
#include <stdlib.h>
#include <string.h>

extern const struct ktest __start_karst_ktest[], __stop_karst_ktest[];

static const struct ktest *current;
static int current_failures;

/* An expected panic: where to resume, and in which thread. */
static struct {
	struct arch_jmpbuf jb;
	struct thread *thread;
	unsigned long irq;
	bool armed;
} catcher;

/*
 * The watchdog: a test still running after ktest_timeout seconds (default
 * 120, 0: never) has hung. From the timer interrupt, the kernel then says
 * which test, what every thread is doing and what the devices hold, and
 * panics: the report is in the log even where the host only sees a stall.
 */
static unsigned ktest_timeout_s = 120;
static struct callout ktest_wd;

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

static void ktest_watchdog(void *arg)
{
	const struct ktest *t = arg;
	printk("ktest: %s still running after %u s; threads and devices:\n", t->name,
	       ktest_timeout_s);
	shell_exec_line("threads; virtio; irqs");
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

/* Does `name` match one of the comma-separated patterns? */
static bool selected(const struct ktest *t, const char *patterns)
{
	char pat[64];
	const char *p = patterns;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n >= sizeof(pat))
			n = sizeof(pat) - 1;
		memcpy(pat, p, n);
		pat[n] = 0;
		bool wildcard = strcmp(pat, "all") == 0 || strchr(pat, '*') || strchr(pat, '?');
		if (strcmp(pat, "all") == 0)
			strcpy(pat, "*");
		if (ktest_glob(pat, t->name) && !(wildcard && (t->flags & KTEST_MANUAL)))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

int ktest_run(const char *patterns)
{
	int passed = 0, failed = 0;
	printk("ktest: running tests matching '%s'\n", patterns);
	for (const struct ktest *t = __start_karst_ktest; t < __stop_karst_ktest; t++) {
		if (!selected(t, patterns))
			continue;
		printk("[ RUN  ] %s\n", t->name);
		current = t;
		current_failures = 0;
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
		} else {
			printk("[  OK  ] %s (%lu.%03lu ms)\n", t->name, (unsigned long)(us / 1000),
			       (unsigned long)(us % 1000));
			passed++;
		}
	}
	if (passed + failed == 0) {
		printk("ktest: no test matches '%s'\n", patterns);
		printk("0 passed, 1 failed\n");
		return -1;
	}
	printk("%d passed, %d failed\n", passed, failed);
	return failed;
}
