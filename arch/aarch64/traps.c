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

/* ESR_EL1 fields (Arm ARM D17.2.37). */
#define ESR_EC_SHIFT	  26
#define ESR_EC_MASK	  0x3f
#define ESR_EC_UNKNOWN	  0x00 /* also HLT while semihosting is off */
#define ESR_EC_IABT_LOWER 0x20 /* instruction abort, lower exception level */
#define ESR_EC_IABT_CUR	  0x21 /* instruction abort, same exception level */
#define ESR_EC_DABT_LOWER 0x24 /* data abort, lower exception level */
#define ESR_EC_DABT_CUR	  0x25 /* data abort, same exception level */
/* The ISS of an abort. */
#define ESR_ISS_WNR	   (1u << 6) /* write, not read */
#define ESR_ISS_CM	   (1u << 8) /* cache maintenance (WnR reads 1) */
#define ESR_ISS_FSC_MASK   0x3f	     /* fault status code */
#define ESR_FSC_TYPE_MASK  0x3c	     /* the kind, without the level */
#define ESR_FSC_LEVEL_MASK 0x03	     /* the table level of the fault */
#define ESR_FSC_ADDR_SIZE  0x00
#define ESR_FSC_TRANSLATE  0x04
#define ESR_FSC_ACCESS	   0x08
#define ESR_FSC_PERM	   0x0c
#define ESR_FSC_EXT_ABORT  0x10
#define ESR_FSC_ALIGNMENT  0x21
/* SPSR_EL1.I: IRQs were masked where the exception was taken. */
#define SPSR_I (1u << 7)

static unsigned esr_ec(const struct trap_frame *tf)
{
	return (unsigned)(tf->esr >> ESR_EC_SHIFT) & ESR_EC_MASK;
}

static unsigned esr_fsc(const struct trap_frame *tf)
{
	return (unsigned)tf->esr & ESR_ISS_FSC_MASK;
}

/* A data abort caused by a write: WnR, and not a cache maintenance op. */
static bool abort_is_write(const struct trap_frame *tf, bool data)
{
	return data && (tf->esr & ESR_ISS_WNR) && !(tf->esr & ESR_ISS_CM);
}

/*
 * The fast path of data and instruction aborts: an access-flag fault (any
 * level but 0) or a write permission fault (WnR) on a software-writable
 * clean page of the runtime mapping region. True when vm_kernel_fault_fast
 * fixed the entry (or found it fixed). For a write, pgt_set_accessed has
 * already invalidated the page's TLB entry (tlbi vae1is; dsb ish; isb):
 * this CPU may still hold the read-only entry that faulted. The barriers
 * here make the new entry visible before the instruction is retried. No
 * lock, no allocation.
 */
static bool abort_fast_path(const struct trap_frame *tf, bool data)
{
	unsigned fsc = esr_fsc(tf);
	unsigned type = fsc & ESR_FSC_TYPE_MASK, level = fsc & ESR_FSC_LEVEL_MASK;
	bool wnr = abort_is_write(tf, data);
	bool ok;
	if (type == ESR_FSC_ACCESS && level != 0)
		ok = vm_kernel_fault_fast(tf->far, wnr, VM_FAULT_ACCESS);
	else if (type == ESR_FSC_PERM && level != 0 && wnr)
		ok = vm_kernel_fault_fast(tf->far, true, VM_FAULT_DIRTY);
	else
		return false;
	if (ok)
		__asm__ __volatile__("dsb ishst; isb" ::: "memory");
	return ok;
}

static const char *fault_name(unsigned dfsc)
{
	switch (dfsc & ESR_FSC_TYPE_MASK) {
	case ESR_FSC_TRANSLATE:
		return "translation fault";
	case ESR_FSC_ACCESS:
		return "access flag fault";
	case ESR_FSC_PERM:
		return "permission fault";
	case ESR_FSC_ADDR_SIZE:
		return "address size fault";
	}
	if (dfsc == ESR_FSC_ALIGNMENT)
		return "alignment fault";
	if (dfsc == ESR_FSC_EXT_ABORT)
		return "synchronous external abort";
	return "abort";
}

void aarch64_trap(struct trap_frame *tf, unsigned long kind)
{
	unsigned ec = esr_ec(tf);
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
	if (ec == ESR_EC_UNKNOWN && aarch64_poweroff_in_progress()) {
		/* Semihosting is off: skip the HLT, arch_poweroff falls back to PSCI. */
		tf->elr += 4;
		return;
	}
	if (ec == ESR_EC_DABT_LOWER || ec == ESR_EC_DABT_CUR || ec == ESR_EC_IABT_LOWER ||
	    ec == ESR_EC_IABT_CUR) {
		bool data = ec == ESR_EC_DABT_LOWER || ec == ESR_EC_DABT_CUR;
		if (abort_fast_path(tf, data))
			return;
		unsigned dfsc = esr_fsc(tf), type = dfsc & ESR_FSC_TYPE_MASK;
		bool wnr = abort_is_write(tf, data);
		if (type == ESR_FSC_TRANSLATE || type == ESR_FSC_ACCESS || type == ESR_FSC_PERM) {
			/* Translation, access-flag or permission fault the fast
			 * path left: the VM areas' slow path (it may sleep). */
			unsigned access = !data ? VM_ACCESS_EXEC
					  : wnr ? VM_ACCESS_WRITE
						: VM_ACCESS_READ;
			int rc = vm_kernel_fault_trap(tf->far, access, !(tf->spsr & SPSR_I));
			if (rc == 0)
				return;
			if (rc != -ERANGE)
				panic_frame(tf, "%s (level %u) %s address 0x%lx at pc 0x%lx: %s",
					    fault_name(dfsc), dfsc & ESR_FSC_LEVEL_MASK,
					    !data ? "executing"
					    : wnr ? "writing"
						  : "reading",
					    (unsigned long)tf->far, (unsigned long)tf->elr,
					    vm_fault_reason(rc));
		}
		/* As the fast and slow paths read it: a cache maintenance
		 * operation sets WnR but writes nothing. */
		const char *what = !data		    ? "executing"
				   : wnr		    ? "writing"
				   : (tf->esr & ESR_ISS_CM) ? "cache maintenance on"
							    : "reading";
		if (tf->far < 4096)
			panic_frame(tf, "null pointer dereference: %s address 0x%lx at pc 0x%lx",
				    what, (unsigned long)tf->far, (unsigned long)tf->elr);
		panic_frame(tf, "%s (level %u) %s address 0x%lx at pc 0x%lx", fault_name(dfsc),
			    dfsc & ESR_FSC_LEVEL_MASK, what, (unsigned long)tf->far,
			    (unsigned long)tf->elr);
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
