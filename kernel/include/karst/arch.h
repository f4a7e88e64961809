/*
 * What the portable kernel asks of each architecture (arch/<arch>/), and
 * what the boot code hands to kmain(). Filesystems never include this.
 */
#ifndef KARST_ARCH_H
#define KARST_ARCH_H

#include <karst/compiler.h>
#include <stdbool.h>
#include <stdint.h>

#define BOOT_MAX_REGIONS 32

struct boot_region {
	uint64_t base, size;
};

struct boot_info {
	const char *cmdline; /* kernel command line ("" when none) */
	struct boot_region ram[BOOT_MAX_REGIONS];
	int nram;
	struct boot_region reserved[BOOT_MAX_REGIONS]; /* kernel image, boot data, DTB */
	int nreserved;
	const char *machine; /* e.g. "QEMU q35" or the DT model */
};

/* Entry from the arch boot code, once the console, traps and the early
 * direct map are up. */
__noreturn void kmain(struct boot_info *bi);

/* Console: polled output and input; both callable from any context. */
void arch_console_putc(char c);
int arch_console_getc(void); /* -1 when no character is waiting */

/* Nanoseconds since the kernel's first instruction. */
uint64_t arch_time_ns(void);

/* Power off the machine with a status the QEMU launcher turns into its
 * exit code (0 success; see KARST_EXIT_*). Never returns. */
__noreturn void arch_poweroff(int status);

/* Wait for something to happen (pause/wfe), for polling loops. */
void arch_cpu_relax(void);

/* Interrupts. */
unsigned long arch_irq_save(void); /* disable, return previous state */
void arch_irq_restore(unsigned long flags);
bool arch_irqs_enabled(void);

/* Print the registers of a trap frame, or of the caller when tf is NULL. */
struct trap_frame;
void arch_dump_regs(const struct trap_frame *tf);
/* Frame pointer of a trap frame (for backtraces). */
uintptr_t arch_trap_fp(const struct trap_frame *tf);
/* Whether [addr, addr+len) may be read while walking a stack. */
bool arch_addr_readable(uintptr_t addr, size_t len);

/* panic() with the registers of a trap (arch exception handlers). */
__noreturn __printf(2, 3) void panic_frame(const struct trap_frame *tf, const char *fmt, ...);
/* Print a frame-pointer backtrace starting at frame pointer fp. */
void backtrace_from(uintptr_t fp);
/* Collect up to max return addresses of the caller's callers (0-terminated
 * when fewer). */
void backtrace_collect(uintptr_t *out, int max);

/* Physical <-> kernel virtual through the direct map of RAM. */
void *phys_to_virt(uint64_t pa);
uint64_t virt_to_phys(const void *va);
/* Extend the early direct map to cover [base, base+size). 0 or -errno. */
int arch_map_ram(uint64_t base, uint64_t size);
/* MMU sets accessed itself, no fault (x86_64 always; aarch64 with hwaf=1). */
bool arch_vm_hw_access_flag(void);

/* Kept apart from 1, which QEMU itself uses for its own errors. */
enum karst_exit {
	KARST_EXIT_OK = 0,
	KARST_EXIT_TESTS_FAILED = 3,
	KARST_EXIT_PANIC = 4,
};

/* Threads (arch/<arch>/include/arch/context.h defines the structures).
 * arch_context_switch saves the callee-saved registers of the caller in
 * *from and resumes *to; a new context made by arch_context_init starts
 * in entry(), which must never return. */
struct arch_context;
struct arch_fpu;
struct arch_jmpbuf;
void arch_context_switch(struct arch_context *from, struct arch_context *to);
void arch_context_init(struct arch_context *ctx, void *stack_top, void (*entry)(void));
void arch_fpu_save(struct arch_fpu *f);
void arch_fpu_restore(const struct arch_fpu *f);
/* setjmp/longjmp for the test runner's expected panics. */
int arch_setjmp(struct arch_jmpbuf *b) __attribute__((returns_twice));
__noreturn void arch_longjmp(struct arch_jmpbuf *b, int v);

/* Called with interrupts disabled: wait for an interrupt with the CPU
 * halted, let it be taken, return with interrupts disabled again. */
void arch_idle(void);
void arch_irq_enable(void);
/* Program the one-shot timer for an absolute arch_time_ns() deadline;
 * UINT64_MAX stops it. Interrupts disabled. */
void arch_timer_set(uint64_t deadline_ns);
/* Route device interrupt line `line` to this CPU and unmask it. */
int arch_irq_line_enable(unsigned line, bool level, bool active_low);
void arch_irq_line_disable(unsigned line);
/* Turn on the console's receive interrupt; returns its line, or -1 when
 * the console can only be polled. */
struct irq_config;
int arch_console_rx_irq(struct irq_config *cfg);

/* Kernel image bounds (linker script). */
extern char __kernel_start[], __kernel_end[], __text_start[], __text_end[];

#endif
