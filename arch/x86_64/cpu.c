/*
 * Interrupt state, idling, power-off and the early direct map on x86_64.
 *
 * Power-off: status 0 uses ACPI S5 through the FADT's PM1a control port
 * (acpi.c), so QEMU exits 0. Any other
 * status goes to the isa-debug-exit device at port 0xf4, which makes QEMU
 * exit with (status << 1) | 1. Without either device the CPU halts.
 */
#include <arch/cpu.h>
#include <errno.h>
#include <karst/arch.h>
#include <karst/param.h>
#include <karst/printk.h>

void x86_acpi_poweroff(void);

unsigned long arch_irq_save(void)
{
	unsigned long flags;
	__asm__ __volatile__("pushfq; popq %0; cli" : "=r"(flags)::"memory");
	return flags;
}

void arch_irq_restore(unsigned long flags)
{
	if (flags & (1UL << 9))
		__asm__ __volatile__("sti" ::: "memory");
}

bool arch_irqs_enabled(void)
{
	unsigned long flags;
	__asm__ __volatile__("pushfq; popq %0" : "=r"(flags));
	return flags & (1UL << 9);
}

void arch_cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

void arch_poweroff(int status)
{
	arch_irq_save();
	if (status == 0) {
		/* QEMU acts on the request asynchronously: give it a moment. */
		x86_acpi_poweroff();
		uint64_t t0 = arch_time_ns();
		while (arch_time_ns() - t0 < 2000000000ULL)
			__asm__ __volatile__("pause");
	}
	outb(0xf4, (uint8_t)(status ? status : 0x7f));
	cpu_halt_forever();
	__builtin_unreachable();
}

/*
 * Early direct map: boot.S maps 0-4 GiB with 2 MiB pages. RAM above that
 * gets page directories from a small static pool, one per GiB.
 */
extern uint64_t boot_pdpt[512];
#define EXTRA_PD 60
static uint64_t extra_pd[EXTRA_PD][512] __aligned(4096);
static int extra_used;
static uint64_t mapped_top = 4ULL << 30;

/* Map [base, base+size) in the direct map with 2 MiB pages of `flags`. */
static int direct_map(uint64_t base, uint64_t size, uint64_t flags)
{
	uint64_t end = base + size;
	for (uint64_t gib = base >> 30; gib < DIV_ROUND_UP(end, 1ULL << 30); gib++) {
		if (gib >= 512)
			return -ERANGE; /* beyond one PDPT */
		if (boot_pdpt[gib] & 1)
			continue;
		if (extra_used == EXTRA_PD)
			return -ENOMEM;
		uint64_t *pd = extra_pd[extra_used++];
		for (int i = 0; i < 512; i++)
			pd[i] = ((gib << 30) + ((uint64_t)i << 21)) | flags;
		boot_pdpt[gib] = (uint64_t)(uintptr_t)pd | 0x3;
		if ((gib + 1) << 30 > mapped_top)
			mapped_top = (gib + 1) << 30;
	}
	__asm__ __volatile__("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
	return 0;
}

int arch_map_ram(uint64_t base, uint64_t size)
{
	return direct_map(base, size, 0x83 | (1ULL << 63)); /* P RW PS NX */
}

/* Device memory: below 4 GiB boot.S mapped it (the MTRRs the firmware set
 * make the PCI hole uncached); above, 2 MiB pages with PCD|PWT. */
void *arch_map_mmio(uint64_t pa, uint64_t size)
{
	if (direct_map(pa, size, 0x83 | 0x18 | (1ULL << 63)) != 0)
		return NULL;
	return phys_to_virt(pa);
}

bool arch_addr_readable(uintptr_t addr, size_t len)
{
	if (addr >= (uintptr_t)__kernel_start && addr + len <= (uintptr_t)__kernel_end)
		return true;
	return addr >= DIRECT_MAP_BASE && addr + len <= DIRECT_MAP_BASE + mapped_top;
}
