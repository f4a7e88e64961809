/*
 * x86_64 exceptions: the IDT for vectors 0-31, a TSS whose IST1 stack takes
 * double faults and NMIs (so a blown stack still reports), and x86_trap(),
 * which turns every exception into a panic with the trap frame: page
 * faults decode CR2 and the error code, and say so when the address is in
 * the null page. Page faults in the vm_mmap areas go to the VM layer's slow
 * path first (vm_kernel_fault_trap).
 */
#include <arch/cpu.h>
#include <arch/trap.h>
#include <errno.h>
#include <karst/arch.h>
#include <karst/console.h>
#include <karst/printk.h>
#include <karst/vm.h>
#include <string.h>

struct idt_entry {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, zero;
} __packed;

struct tss {
	uint32_t rsv0;
	uint64_t rsp[3];
	uint64_t rsv1;
	uint64_t ist[7];
	uint64_t rsv2;
	uint16_t rsv3, iomap;
} __packed;

static struct idt_entry idt[256] __aligned(16);
static struct tss tss __aligned(16);
static uint8_t ist1_stack[16384] __aligned(16);
extern uint64_t boot_gdt[];
extern const uint64_t trap_stubs[32];
extern const uint64_t irq_stubs[224];

static const char *const trap_names[32] = {"divide error",
					   "debug",
					   "NMI",
					   "breakpoint",
					   "overflow",
					   "bound range",
					   "invalid opcode",
					   "device not available",
					   "double fault",
					   "coprocessor overrun",
					   "invalid TSS",
					   "segment not present",
					   "stack fault",
					   "general protection",
					   "page fault",
					   "reserved",
					   "x87 FP error",
					   "alignment check",
					   "machine check",
					   "SIMD FP error",
					   "virtualization",
					   "control protection",
					   "reserved",
					   "reserved",
					   "reserved",
					   "reserved",
					   "reserved",
					   "reserved",
					   "hypervisor injection",
					   "VMM communication",
					   "security",
					   "reserved"};

static void idt_set(int v, uint64_t handler, int ist)
{
	idt[v] = (struct idt_entry){
	    .off_lo = (uint16_t)handler,
	    .sel = 0x08,
	    .ist = (uint8_t)ist,
	    .type = 0x8e, /* present, DPL 0, interrupt gate */
	    .off_mid = (uint16_t)(handler >> 16),
	    .off_hi = (uint32_t)(handler >> 32),
	};
}

void x86_traps_init(void)
{
	tss.ist[0] = (uintptr_t)ist1_stack + sizeof(ist1_stack);
	tss.iomap = sizeof(tss);
	uint64_t base = (uintptr_t)&tss, limit = sizeof(tss) - 1;
	boot_gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
		      (((limit >> 16) & 0xf) << 48) | (((base >> 24) & 0xff) << 56);
	boot_gdt[4] = base >> 32;
	__asm__ __volatile__("ltr %w0" ::"r"(0x18));
	for (int v = 0; v < 32; v++)
		idt_set(v, trap_stubs[v], (v == 2 || v == 8) ? 1 : 0);
	for (int v = 32; v < 256; v++)
		idt_set(v, irq_stubs[v - 32], 0);
	struct {
		uint16_t limit;
		uint64_t base;
	} __packed idtr = {sizeof(idt) - 1, (uintptr_t)idt};
	__asm__ __volatile__("lidt %0" ::"m"(idtr));
}

void x86_irq(struct trap_frame *tf);

void x86_trap(struct trap_frame *tf)
{
	int v = (int)tf->vector;
	if (v >= 32) {
		x86_irq(tf);
		return;
	}
	if (v == 14) {
		uint64_t cr2 = READ_CR(2);
		uint64_t e = tf->error;
		const char *what = (e & 16) ? "executing" : (e & 2) ? "writing" : "reading";
		if (!(e & 8)) {
			/* Not present, or a write/fetch the entry forbids:
			 * the VM areas' slow path (it may sleep). */
			unsigned access = (e & 16)  ? VM_ACCESS_EXEC
					  : (e & 2) ? VM_ACCESS_WRITE
						    : VM_ACCESS_READ;
			int rc = vm_kernel_fault_trap(cr2, access, (tf->rflags & 0x200) != 0);
			if (rc == 0)
				return;
			if (rc != -ERANGE)
				panic_frame(tf, "page fault %s address 0x%lx at rip 0x%lx: %s",
					    what, (unsigned long)cr2, (unsigned long)tf->rip,
					    vm_fault_reason(rc));
		}
		if (cr2 < 4096)
			panic_frame(tf, "null pointer dereference: %s address 0x%lx at rip 0x%lx",
				    what, (unsigned long)cr2, (unsigned long)tf->rip);
		panic_frame(tf, "page fault %s address 0x%lx at rip 0x%lx (%s%s)", what,
			    (unsigned long)cr2, (unsigned long)tf->rip,
			    (e & 1) ? "protection violation" : "page not present",
			    (e & 8) ? ", reserved bit" : "");
	}
	panic_frame(tf, "%s (vector %d, error %#lx) at rip 0x%lx", v < 32 ? trap_names[v] : "?", v,
		    (unsigned long)tf->error, (unsigned long)tf->rip);
}

void arch_dump_regs(const struct trap_frame *tf)
{
	if (!tf) {
		uint64_t rsp, rbp;
		__asm__ __volatile__("mov %%rsp, %0; mov %%rbp, %1" : "=r"(rsp), "=r"(rbp));
		printk_unlocked("rsp %016lx rbp %016lx cr0 %08lx cr3 %08lx cr4 %08lx\n",
				(unsigned long)rsp, (unsigned long)rbp, (unsigned long)READ_CR(0),
				(unsigned long)READ_CR(3), (unsigned long)READ_CR(4));
		return;
	}
	printk_unlocked("rip %016lx  cs %04lx  rflags %08lx  rsp %016lx  ss %04lx\n",
			(unsigned long)tf->rip, (unsigned long)tf->cs, (unsigned long)tf->rflags,
			(unsigned long)tf->rsp, (unsigned long)tf->ss);
	printk_unlocked("rax %016lx rbx %016lx rcx %016lx rdx %016lx\n", (unsigned long)tf->rax,
			(unsigned long)tf->rbx, (unsigned long)tf->rcx, (unsigned long)tf->rdx);
	printk_unlocked("rsi %016lx rdi %016lx rbp %016lx r8  %016lx\n", (unsigned long)tf->rsi,
			(unsigned long)tf->rdi, (unsigned long)tf->rbp, (unsigned long)tf->r8);
	printk_unlocked("r9  %016lx r10 %016lx r11 %016lx r12 %016lx\n", (unsigned long)tf->r9,
			(unsigned long)tf->r10, (unsigned long)tf->r11, (unsigned long)tf->r12);
	printk_unlocked("r13 %016lx r14 %016lx r15 %016lx\n", (unsigned long)tf->r13,
			(unsigned long)tf->r14, (unsigned long)tf->r15);
	printk_unlocked("cr2 %016lx cr3 %016lx vector %lu error %#lx\n", (unsigned long)READ_CR(2),
			(unsigned long)READ_CR(3), (unsigned long)tf->vector,
			(unsigned long)tf->error);
	printk_unlocked("  #- 0x%lx (faulting instruction)\n", (unsigned long)tf->rip);
}

uintptr_t arch_trap_fp(const struct trap_frame *tf)
{
	return tf->rbp;
}
