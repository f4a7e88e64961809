/*
 * aarch64 synchronous exceptions and stray interrupts: decode ESR_EL1 and
 * FAR_EL1 and panic with the trap frame. Data and instruction aborts name
 * the fault (translation, access flag, permission, alignment) and its
 * level, and say so when the address is in the null page. Access-flag
 * and first-write faults in the runtime mapping region (<karst/vm.h>) are
 * resolved on a fast path and retried; other translation, access-flag and
 * permission faults in the vm_mmap areas go to the VM layer's slow path
 * (vm_kernel_fault_trap); every other abort panics.
 */
#include <arch/cpu.h>
#include <arch/trap.h>
#include <errno.h>
#include <karst/arch.h>
#include <karst/console.h>
#include <karst/printk.h>
#include <karst/vm.h>

bool aarch64_poweroff_in_progress(void);
void aarch64_irq(struct trap_frame *tf);

/*
 * The fast path of data and instruction aborts: an access-flag fault (DFSC
 * 0b0010LL, any level) or a write permission fault (DFSC 0b0011LL, WnR) on
 * a software-writable clean page of the runtime mapping region. True when
 * vm_kernel_fault_fast fixed the entry; the barriers make the new entry
 * visible before the instruction is retried. No lock, no allocation.
 */
/* A data abort caused by a write: WnR, and not a cache maintenance op. */
static bool abort_is_write(const struct trap_frame *tf, bool data)
{
	return data && (tf->esr & (1 << 6)) && !(tf->esr & (1 << 8));
}

static bool abort_fast_path(const struct trap_frame *tf, bool data)
{
	unsigned dfsc = (unsigned)tf->esr & 0x3f;
	bool wnr = abort_is_write(tf, data);
	bool ok;
	if ((dfsc & 0x3c) == 0x08 && (dfsc & 3) != 0)
		ok = vm_kernel_fault_fast(tf->far, wnr, VM_FAULT_ACCESS);
	else if ((dfsc & 0x3c) == 0x0c && (dfsc & 3) != 0 && wnr)
		ok = vm_kernel_fault_fast(tf->far, true, VM_FAULT_DIRTY);
	else
		return false;
	if (ok)
		__asm__ __volatile__("dsb ishst; isb" ::: "memory");
	return ok;
}

static const char *fault_name(unsigned dfsc)
{
	switch (dfsc & 0x3c) {
	case 0x04:
		return "translation fault";
	case 0x08:
		return "access flag fault";
	case 0x0c:
		return "permission fault";
	case 0x00:
		return "address size fault";
	}
	if (dfsc == 0x21)
		return "alignment fault";
	if (dfsc == 0x10)
		return "synchronous external abort";
	return "abort";
}

void aarch64_trap(struct trap_frame *tf, unsigned long kind)
{
	unsigned ec = (unsigned)(tf->esr >> 26) & 0x3f;
	if ((kind & 3) == 1) {
		aarch64_irq(tf);
		return;
	}
	if ((kind & 3) != 0)
		panic_frame(tf, "unexpected %s exception (vector %lu)",
			    (kind & 3) == 1   ? "IRQ"
			    : (kind & 3) == 2 ? "FIQ"
					      : "SError",
			    kind);
	if (ec == 0 && aarch64_poweroff_in_progress()) {
		/* Semihosting is off: skip the HLT, arch_poweroff falls back to PSCI. */
		tf->elr += 4;
		return;
	}
	if (ec == 0x24 || ec == 0x25 || ec == 0x20 || ec == 0x21) {
		bool data = ec == 0x24 || ec == 0x25;
		if (abort_fast_path(tf, data))
			return;
		unsigned dfsc = (unsigned)tf->esr & 0x3f;
		if ((dfsc & 0x3c) == 0x04 || (dfsc & 0x3c) == 0x08 || (dfsc & 0x3c) == 0x0c) {
			/* Translation, access-flag or permission fault the fast
			 * path left: the VM areas' slow path (it may sleep). */
			bool wnr = abort_is_write(tf, data);
			unsigned access = !data ? VM_ACCESS_EXEC
					  : wnr ? VM_ACCESS_WRITE
						: VM_ACCESS_READ;
			int rc = vm_kernel_fault_trap(tf->far, access, !(tf->spsr & (1 << 7)));
			if (rc == 0)
				return;
			if (rc != -ERANGE)
				panic_frame(tf, "%s (level %u) %s address 0x%lx at pc 0x%lx: %s",
					    fault_name(dfsc), dfsc & 3,
					    !data ? "executing"
					    : wnr ? "writing"
						  : "reading",
					    (unsigned long)tf->far, (unsigned long)tf->elr,
					    vm_fault_reason(rc));
		}
		const char *what = !data		  ? "executing"
				   : (tf->esr & (1 << 6)) ? "writing"
							  : "reading";
		if (tf->far < 4096)
			panic_frame(tf, "null pointer dereference: %s address 0x%lx at pc 0x%lx",
				    what, (unsigned long)tf->far, (unsigned long)tf->elr);
		panic_frame(tf, "%s (level %u) %s address 0x%lx at pc 0x%lx", fault_name(dfsc),
			    dfsc & 3, what, (unsigned long)tf->far, (unsigned long)tf->elr);
	}
	panic_frame(tf, "synchronous exception, EC %#x ESR %#lx at pc 0x%lx", ec,
		    (unsigned long)tf->esr, (unsigned long)tf->elr);
}

void arch_dump_regs(const struct trap_frame *tf)
{
	if (!tf) {
		uint64_t sp, fp;
		__asm__ __volatile__("mov %0, sp; mov %1, x29" : "=r"(sp), "=r"(fp));
		printk_unlocked("sp %016lx x29 %016lx sctlr %08lx ttbr0 %08lx\n", (unsigned long)sp,
				(unsigned long)fp, (unsigned long)READ_SYSREG(sctlr_el1),
				(unsigned long)READ_SYSREG(ttbr0_el1));
		return;
	}
	printk_unlocked("pc  %016lx sp  %016lx pstate %08lx\n", (unsigned long)tf->elr,
			(unsigned long)tf->sp, (unsigned long)tf->spsr);
	printk_unlocked("esr %016lx far %016lx\n", (unsigned long)tf->esr, (unsigned long)tf->far);
	for (int i = 0; i < 31; i += 3) {
		for (int j = i; j < i + 3 && j < 31; j++)
			printk_unlocked("x%-2d %016lx  ", j, (unsigned long)tf->x[j]);
		printk_unlocked("\n");
	}
	printk_unlocked("  #- 0x%lx (faulting instruction)\n", (unsigned long)tf->elr);
	printk_unlocked("  #- 0x%lx (x30, link register)\n", (unsigned long)tf->x[30]);
}

uintptr_t arch_trap_fp(const struct trap_frame *tf)
{
	return tf->x[29];
}
