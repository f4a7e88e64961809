/*
 * aarch64 interrupts: the GIC (v2, QEMU virt's default, or v3 with
 * gic-version=3), found in the device tree, and the EL1 virtual timer
 * (CNTV), the kernel's one-shot timer.
 *
 * GICv2: distributor and CPU interface are memory mapped. GICv3: the
 * distributor and this CPU's redistributor are memory mapped, the CPU
 * interface is the ICC_* system registers. Lines are GIC interrupt IDs:
 * SPIs from 32, the timer is a PPI (27 on virt). Priority 0xa0, routed
 * to this CPU; group 1 (non-secure) on v3, group 0 on v2, where QEMU's
 * GIC has no security extensions and group 1 would need GICC_AIAR.
 */
#include <arch/cpu.h>
#include <arch/trap.h>
#include <errno.h>
#include <karst/arch.h>
#include <karst/irq.h>
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/timer.h>
#include <libfdt.h>

#define GICD_CTLR	0x000
#define GICD_TYPER	0x004
#define GICD_IGROUPR	0x080
#define GICD_ISENABLER	0x100
#define GICD_ICENABLER	0x180
#define GICD_IPRIORITYR 0x400
#define GICD_ITARGETSR	0x800
#define GICD_ICFGR	0xc00
#define GICD_IROUTER	0x6000
#define GICC_CTLR	0x00
#define GICC_PMR	0x04
#define GICC_IAR	0x0c
#define GICC_EOIR	0x10
#define GICR_WAKER	0x014
#define GICR_SGI	0x10000 /* SGI_base frame of the redistributor */

static volatile uint8_t *gicd, *gicc, *gicr;
static int gic_version;
static unsigned gic_lines;
static unsigned timer_intid = 27;
static uint64_t cnt_hz;

static inline void w32(volatile uint8_t *base, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(base + off) = v;
}

static inline uint32_t r32(volatile uint8_t *base, unsigned off)
{
	return *(volatile uint32_t *)(base + off);
}

static uint64_t reg_addr(const void *fdt, int node, int index)
{
	int ac = fdt_address_cells(fdt, fdt_parent_offset(fdt, node));
	int sc = fdt_size_cells(fdt, fdt_parent_offset(fdt, node));
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
	if (!reg || ac < 1 || ac > 2 || (index + 1) * (ac + sc) * 4 > len)
		return 0;
	const fdt32_t *e = reg + index * (ac + sc);
	return ac == 2 ? ((uint64_t)fdt32_to_cpu(e[0]) << 32) | fdt32_to_cpu(e[1])
		       : fdt32_to_cpu(e[0]);
}

/* Enable (or disable) INTID `id`; SGIs and PPIs live in the redistributor on v3. */
static void gic_set_enabled(unsigned id, bool on)
{
	unsigned off = (on ? GICD_ISENABLER : GICD_ICENABLER) + (id / 32) * 4;
	if (gic_version == 3 && id < 32)
		w32(gicr + GICR_SGI, off, 1u << (id % 32));
	else
		w32(gicd, off, 1u << (id % 32));
}

static void gic_config(unsigned id, bool level)
{
	volatile uint8_t *base = gic_version == 3 && id < 32 ? gicr + GICR_SGI : gicd;
	*(volatile uint8_t *)(base + GICD_IPRIORITYR + id) = 0xa0;
	if (id >= 16) {
		unsigned off = GICD_ICFGR + (id / 16) * 4, shift = (id % 16) * 2 + 1;
		uint32_t v = r32(base, off);
		v = level ? v & ~(1u << shift) : v | (1u << shift);
		w32(base, off, v);
	}
	if (id >= 32) {
		if (gic_version == 2)
			*(volatile uint8_t *)(gicd + GICD_ITARGETSR + id) = 1;
		else
			*(volatile uint64_t *)(gicd + GICD_IROUTER + id * 8) =
			    0; /* affinity 0.0.0.0 */
	}
	if (gic_version == 3) {
		unsigned goff = GICD_IGROUPR + (id / 32) * 4;
		w32(base, goff, r32(base, goff) | (1u << (id % 32)));
	}
}

void aarch64_gic_init(const void *fdt)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3");
	if (node >= 0) {
		gic_version = 3;
	} else {
		node = fdt_node_offset_by_compatible(fdt, -1, "arm,cortex-a15-gic");
		if (node < 0)
			node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-400");
		gic_version = 2;
	}
	if (node < 0)
		panic("gic: no interrupt controller in the device tree");
	gicd = phys_to_virt(reg_addr(fdt, node, 0));
	volatile uint8_t *second = phys_to_virt(reg_addr(fdt, node, 1));
	gic_lines = ((r32(gicd, GICD_TYPER) & 0x1f) + 1) * 32;
	if (gic_lines > IRQ_MAX_LINES)
		gic_lines = IRQ_MAX_LINES;

	int tn = fdt_node_offset_by_compatible(fdt, -1, "arm,armv8-timer");
	if (tn >= 0) {
		int len;
		const fdt32_t *irqs = fdt_getprop(fdt, tn, "interrupts", &len);
		if (irqs && len >= 36) /* the third (virtual timer) entry: PPI number */
			timer_intid = 16 + fdt32_to_cpu(irqs[7]);
	}

	w32(gicd, GICD_CTLR, 0);
	if (gic_version == 2) {
		gicc = second;
		for (unsigned i = 32; i < gic_lines; i += 32)
			w32(gicd, GICD_ICENABLER + i / 8, 0xffffffff);
		w32(gicd, GICD_CTLR, 1);
		w32(gicc, GICC_PMR, 0xff);
		w32(gicc, GICC_CTLR, 1);
	} else {
		gicr = second; /* the first redistributor is this CPU's */
		w32(gicr, GICR_WAKER, r32(gicr, GICR_WAKER) & ~2u);
		while (r32(gicr, GICR_WAKER) & 4)
			;
		for (unsigned i = 32; i < gic_lines; i += 32)
			w32(gicd, GICD_ICENABLER + i / 8, 0xffffffff);
		w32(gicd, GICD_CTLR, (1 << 4) | (1 << 1)); /* ARE_NS, EnableGrp1NS */
		uint64_t sre;
		__asm__ __volatile__("mrs %0, S3_0_C12_C12_5" : "=r"(sre)); /* ICC_SRE_EL1 */
		__asm__ __volatile__("msr S3_0_C12_C12_5, %0; isb" ::"r"(sre | 1));
		__asm__ __volatile__("msr S3_0_C4_C6_0, %0" ::"r"(0xffUL)); /* ICC_PMR_EL1 */
		__asm__ __volatile__(
		    "msr S3_0_C12_C12_7, %0; isb" ::"r"(1UL)); /* ICC_IGRPEN1_EL1 */
	}
	cnt_hz = READ_SYSREG(cntfrq_el0);
	WRITE_SYSREG(cntv_ctl_el0, 2); /* masked until armed */
	gic_config(timer_intid, true);
	gic_set_enabled(timer_intid, true);
	printk("gic: GICv%d, %u lines, virtual timer on INTID %u\n", gic_version, gic_lines,
	       timer_intid);
}

void arch_timer_set(uint64_t deadline_ns)
{
	if (deadline_ns == UINT64_MAX) {
		WRITE_SYSREG(cntv_ctl_el0, 2);
		return;
	}
	extern uint64_t boot_cntvct;
	/* Counter value at the deadline, rounded up. */
	uint64_t ticks = deadline_ns / 1000000000u * cnt_hz +
			 ((deadline_ns % 1000000000u) * cnt_hz + 999999999u) / 1000000000u;
	WRITE_SYSREG(cntv_cval_el0, boot_cntvct + ticks);
	WRITE_SYSREG(cntv_ctl_el0, 1);
	__asm__ __volatile__("isb");
}

int arch_irq_line_enable(unsigned line, bool level, bool active_low)
{
	if (line < 16 || line >= gic_lines)
		return -EINVAL;
	gic_config(line, level);
	gic_set_enabled(line, true);
	return 0;
}

void arch_irq_line_disable(unsigned line)
{
	if (line < gic_lines)
		gic_set_enabled(line, false);
}

static unsigned gic_ack(void)
{
	if (gic_version == 2)
		return r32(gicc, GICC_IAR) & 0x3ff;
	uint64_t v;
	__asm__ __volatile__("mrs %0, S3_0_C12_C12_0" : "=r"(v)); /* ICC_IAR1_EL1 */
	return (unsigned)v & 0xffffff;
}

static void gic_eoi(unsigned id)
{
	if (gic_version == 2)
		w32(gicc, GICC_EOIR, id);
	else
		__asm__ __volatile__(
		    "msr S3_0_C12_C12_1, %0" ::"r"((uint64_t)id)); /* ICC_EOIR1_EL1 */
}

void aarch64_irq(struct trap_frame *tf)
{
	unsigned id = gic_ack();
	if (id >= 1020)
		return; /* spurious */
	irq_enter();
	if (id == timer_intid) {
		WRITE_SYSREG(cntv_ctl_el0, 2); /* level-triggered: mask until re-armed */
		gic_eoi(id);
		timer_interrupt();
	} else {
		irq_dispatch(id);
		gic_eoi(id);
	}
	irq_exit();
}
