/*
 * panic: report and power off.
 *
 * The message, the test that was running (if any), the registers and a
 * frame-pointer backtrace go to the console without taking the printk lock
 * (the lock holder may be what crashed), then the machine powers off with
 * KARST_EXIT_PANIC so that QEMU exits non-zero instead of hanging. A panic
 * inside a panic powers off at once.
 *
 * Backtraces walk frame records {previous fp, return address}, which both
 * x86_64 (rbp) and aarch64 (x29) keep at the frame pointer; the kernel is
 * built with frame pointers. Addresses are raw; tools/karst-run turns them
 * into function names with the ELF's symbols.
 */
#include <karst/arch.h>
#include <karst/console.h>
#include <karst/format.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/thread.h>
#include <stdatomic.h>

static atomic_int panicking;

void backtrace_from(uintptr_t fp)
{
	printk_emergency("backtrace:\n");
	for (int i = 0; i < 32 && fp; i++) {
		if ((fp & 7) || !arch_addr_readable(fp, 2 * sizeof(uintptr_t)))
			break;
		const uintptr_t *frame = (const uintptr_t *)fp;
		uintptr_t next = frame[0], ret = frame[1];
		if (!ret)
			break;
		printk_unlocked("  #%d 0x%lx\n", i, (unsigned long)ret);
		if (next <= fp)
			break;
		fp = next;
	}
}

void backtrace_collect(uintptr_t *out, int max)
{
	uintptr_t fp = (uintptr_t)__builtin_frame_address(0);
	int n = 0;
	while (n < max && fp && !(fp & 7) && arch_addr_readable(fp, 2 * sizeof(uintptr_t))) {
		const uintptr_t *frame = (const uintptr_t *)fp;
		if (!frame[1])
			break;
		out[n++] = frame[1];
		if (frame[0] <= fp)
			break;
		fp = frame[0];
	}
	if (n < max)
		out[n] = 0;
}

static __noreturn void panic_v(const struct trap_frame *tf, const char *fmt, va_list ap)
{
	char msg[256];
	kfmt_vsnprintf(msg, sizeof(msg), fmt, ap);
	/* Returns unless a test expects this panic. A trap-raised panic
	 * (tf != NULL) counts too: a synchronous fault in thread context runs
	 * on the thread's stack with no interrupt nesting, so the test's
	 * setjmp frame is still below it and longjmp abandons the trap frame.
	 * Faults inside interrupt handlers are refused by in_interrupt(). */
	ktest_catch_panic(msg);
	arch_irq_save();
	if (atomic_fetch_add(&panicking, 1)) {
		printk_emergency("\n*** nested panic, powering off\n");
		arch_poweroff(KARST_EXIT_PANIC);
	}
	printk_unlocked("\n*** panic: %s\n", msg);
	struct thread *self = thread_self();
	printk_unlocked("*** in thread %s%s\n", self ? thread_name(self) : "(none: early boot)",
			in_interrupt() ? ", in an interrupt handler" : "");
	const char *t = ktest_current();
	if (t)
		printk_unlocked("*** while running test %s\n", t);
	arch_dump_regs(tf);
	backtrace_from(tf ? arch_trap_fp(tf) : (uintptr_t)__builtin_frame_address(0));
	printk_emergency("*** end of panic, powering off\n");
	arch_poweroff(KARST_EXIT_PANIC);
}

void panic(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	panic_v(NULL, fmt, ap);
}

void panic_frame(const struct trap_frame *tf, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	panic_v(tf, fmt, ap);
}
