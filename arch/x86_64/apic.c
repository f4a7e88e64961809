/*
 * x86_64 interrupts: the local APIC (its one-shot timer is the kernel's
 * timer), the IOAPIC for device lines, and the legacy 8259 PICs, remapped
 * away from the exception vectors and masked.
 *
 * Vectors: 32 the APIC timer, 48 + n IOAPIC input n (GSI), 80-239 MSI
 * (pci.c), 0xfe APIC errors, 0xff spurious. The APIC timer counts the bus clock divided by
 * 16; its rate is measured against the TSC at boot.
 */
#include <arch/context.h>
#include <arch/cpu.h>
#include <arch/trap.h>
#include <errno.h>
#include <karst/arch.h>
#include <karst/irq.h>
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/timer.h>

#define VEC_TIMER    32
#define VEC_GSI_BASE 48
#define VEC_ERROR    0xfe
#define VEC_SPURIOUS 0xff

#define LAPIC_EOI     0xb0
#define LAPIC_SVR     0xf0
#define LAPIC_ESR     0x280
#define LAPIC_LVT_TMR 0x320
#define LAPIC_LINT0   0x350
#define LAPIC_LINT1   0x360
#define LAPIC_LVT_ERR 0x370
#define LAPIC_TMICT   0x380
#define LAPIC_TMCCT   0x390
#define LAPIC_TDCR    0x3e0

#define IOAPIC_PA 0xfec00000ULL

static volatile uint32_t *lapic;
static volatile uint32_t *ioapic;
static unsigned ioapic_lines;
static uint64_t lapic_ticks_per_ms;

static inline void lapic_w(unsigned reg, uint32_t v)
{
	lapic[reg / 4] = v;
}

static inline uint32_t lapic_r(unsigned reg)
{
	return lapic[reg / 4];
}

static void ioapic_w(unsigned reg, uint32_t v)
{
	ioapic[0] = reg;
	ioapic[4] = v;
}

static uint32_t ioapic_r(unsigned reg)
{
	ioapic[0] = reg;
	return ioapic[4];
}

static void pic_disable(void)
{
	outb(0x20, 0x11);
	outb(0xa0, 0x11);
	outb(0x21, 0x20); /* master at 0x20-0x27 */
	outb(0xa1, 0x28); /* slave at 0x28-0x2f */
	outb(0x21, 4);
	outb(0xa1, 2);
	outb(0x21, 1);
	outb(0xa1, 1);
	outb(0x21, 0xff);
	outb(0xa1, 0xff);
}

void x86_apic_init(void)
{
	pic_disable();
	uint64_t base = rdmsr(0x1b);
	wrmsr(0x1b, base | (1 << 11)); /* APIC global enable */
	lapic = phys_to_virt(base & 0xffffff000ULL);
	lapic_w(LAPIC_SVR, 0x100 | VEC_SPURIOUS);
	lapic_w(LAPIC_LINT0, 1 << 16);
	lapic_w(LAPIC_LINT1, 1 << 16);
	lapic_w(LAPIC_LVT_ERR, VEC_ERROR);
	lapic_w(LAPIC_ESR, 0);
	lapic_w(LAPIC_EOI, 0);

	/* Measure the timer against the TSC-based clock: 1 ms. */
	lapic_w(LAPIC_TDCR, 0x3);
	lapic_w(LAPIC_LVT_TMR, (1 << 16) | VEC_TIMER);
	lapic_w(LAPIC_TMICT, 0xffffffff);
	uint64_t t0 = arch_time_ns();
	while (arch_time_ns() - t0 < 1000000)
		__asm__ __volatile__("pause");
	uint32_t left = lapic_r(LAPIC_TMCCT);
	uint64_t dt = arch_time_ns() - t0;
	lapic_w(LAPIC_TMICT, 0);
	lapic_ticks_per_ms = (uint64_t)(0xffffffffu - left) * 1000000 / dt;
	if (!lapic_ticks_per_ms)
		panic("apic: the local APIC timer does not count");
	lapic_w(LAPIC_LVT_TMR, VEC_TIMER); /* one-shot, unmasked */

	ioapic = phys_to_virt(IOAPIC_PA);
	ioapic_lines = ((ioapic_r(1) >> 16) & 0xff) + 1;
	for (unsigned i = 0; i < ioapic_lines; i++) {
		ioapic_w(0x10 + 2 * i, (1 << 16) | (VEC_GSI_BASE + i));
		ioapic_w(0x11 + 2 * i, 0);
	}
	printk("apic: local APIC timer %lu kHz, IOAPIC with %u lines\n",
	       (unsigned long)lapic_ticks_per_ms, ioapic_lines);
}

void arch_timer_set(uint64_t deadline_ns)
{
	if (deadline_ns == UINT64_MAX) {
		lapic_w(LAPIC_TMICT, 0);
		return;
	}
	uint64_t now = arch_time_ns();
	uint64_t delta = deadline_ns > now ? deadline_ns - now : 0;
	uint64_t ticks = delta / 1000 * lapic_ticks_per_ms / 1000;
	if (ticks == 0)
		ticks = 1;
	if (ticks > 0xffffffffu)
		ticks = 0xffffffffu;
	lapic_w(LAPIC_TMICT, (uint32_t)ticks);
}

int x86_msi_line_of_vector(unsigned v);
bool x86_line_is_msi(unsigned line);

int arch_irq_line_enable(unsigned line, bool level, bool active_low)
{
	if (x86_line_is_msi(line))
		return 0; /* the device's MSI-X table entry routes it */
	if (line >= ioapic_lines)
		return -EINVAL;
	ioapic_w(0x11 + 2 * line, 0); /* destination: APIC 0 */
	ioapic_w(0x10 + 2 * line,
		 (VEC_GSI_BASE + line) | (level ? 1 << 15 : 0) | (active_low ? 1 << 13 : 0));
	return 0;
}

void arch_irq_line_disable(unsigned line)
{
	if (line < ioapic_lines)
		ioapic_w(0x10 + 2 * line, (1 << 16) | (VEC_GSI_BASE + line));
}

void x86_irq(struct trap_frame *tf)
{
	unsigned v = (unsigned)tf->vector;
	if (v == VEC_SPURIOUS)
		return; /* no EOI for spurious interrupts */
	irq_enter();
	if (v == VEC_TIMER) {
		lapic_w(LAPIC_EOI, 0);
		timer_interrupt();
	} else if (v >= VEC_GSI_BASE && v < VEC_GSI_BASE + ioapic_lines) {
		irq_dispatch(v - VEC_GSI_BASE);
		lapic_w(LAPIC_EOI, 0);
	} else if (x86_msi_line_of_vector(v) >= 0) {
		irq_dispatch((unsigned)x86_msi_line_of_vector(v));
		lapic_w(LAPIC_EOI, 0);
	} else {
		if (v == VEC_ERROR) {
			lapic_w(LAPIC_ESR, 0);
			printk("apic: error interrupt, ESR %#x\n", lapic_r(LAPIC_ESR));
		}
		lapic_w(LAPIC_EOI, 0);
	}
	irq_exit();
}
