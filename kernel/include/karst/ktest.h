/*
 * In-kernel tests.
 *
 * KTEST(name) { ... } registers a test in the karst_ktest linker section.
 * Booting with test=PATTERN runs every test whose name matches one of the
 * comma-separated glob patterns ("all" or "*" for all but manual tests),
 * prints one line per test and a final "N passed, N failed" line, then
 * powers off with KARST_EXIT_OK or KARST_EXIT_TESTS_FAILED. A panic names
 * the running test and powers off with KARST_EXIT_PANIC; a test that hangs
 * is caught by the runner on the host (tests/kernel/run-ktests), which
 * reports the last test started.
 *
 * Inside a test, KT_EXPECT(cond) records a failure and goes on; KT_ASSERT
 * records it and returns from the test. KT_SKIP("reason") ends a test that
 * cannot run here (a device it was not given): it is counted as skipped,
 * not failed, with its reason, and the final line reads "N passed, N
 * failed, N skipped" (a run that must not skip, such as make check with
 * its disks, checks that count). KT_EXPECT_PANIC(stmt) runs stmt
 * and expects it to panic (from thread context, not from an interrupt
 * handler; a panic raised by a synchronous fault of the statement itself,
 * such as a page fault, counts): the panic is reported, execution resumes
 * after the macro, and
 * the run goes on; no panic is a failure. The statement must not hold
 * spinlocks when it panics (interrupts are restored as they were).
 */
#ifndef KARST_KTEST_H
#define KARST_KTEST_H

#include <arch/context.h>
#include <karst/arch.h>
#include <karst/compiler.h>
#include <stdbool.h>

struct ktest {
	const char *name;
	void (*fn)(void);
	unsigned flags;
};

#define KTEST_MANUAL 1 /* only run when named explicitly, never by "all" */

#define KTEST_FLAGS(tname, fl)                                                                     \
	static void ktest_fn_##tname(void);                                                        \
	static const struct ktest __ktest_##tname __used __section("karst_ktest")                  \
	    __aligned(8) = {.name = #tname, .fn = ktest_fn_##tname, .flags = (fl)};                \
	static void ktest_fn_##tname(void)

#define KTEST(tname) KTEST_FLAGS(tname, 0)

void ktest_fail(const char *file, int line, const char *what);

#define KT_EXPECT(cond)                                                                            \
	do {                                                                                       \
		if (!(cond))                                                                       \
			ktest_fail(__FILE__, __LINE__, #cond);                                     \
	} while (0)

/* Mark the running test skipped with `reason` (a string constant); the
 * test should return (KT_SKIP does). Failures recorded before it count. */
void ktest_skip(const char *reason);

#define KT_SKIP(reason)                                                                            \
	do {                                                                                       \
		ktest_skip(reason);                                                                \
		return;                                                                            \
	} while (0)

#define KT_ASSERT(cond)                                                                            \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			ktest_fail(__FILE__, __LINE__, #cond);                                     \
			return;                                                                    \
		}                                                                                  \
	} while (0)

struct arch_jmpbuf *ktest_catch_begin(void);
void ktest_catch_end(void);

#define KT_EXPECT_PANIC(stmt)                                                                      \
	do {                                                                                       \
		if (arch_setjmp(ktest_catch_begin()) == 0) {                                       \
			stmt;                                                                      \
			ktest_catch_end();                                                         \
			ktest_fail(__FILE__, __LINE__, "a panic from " #stmt);                     \
		}                                                                                  \
	} while (0)

/* panic() calls this first: when a test expects a panic from this thread,
 * it does not return. */
void ktest_catch_panic(const char *msg);

/* The report printed when a test hangs (ktest_timeout): fn runs in a
 * thread of its own (it may sleep and write through the VFS), once, before
 * the watchdog panics. Registered by the layer that can list threads and
 * devices (the shell); without one, the watchdog only names the test. */
void ktest_set_hang_report(void (*fn)(void));

/* Name of the running test, or NULL. */
const char *ktest_current(void);
/* Run the tests matching `patterns`; returns the number that failed, or -1
 * when no test matched. */
int ktest_run(const char *patterns);
/* Glob match with '*' and '?'. */
bool ktest_glob(const char *pat, const char *s);

#endif
