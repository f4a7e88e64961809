/*
 * Interrupt state, idling, power-off and the early direct map on aarch64.
 *
 * Power-off: status 0 calls PSCI SYSTEM_OFF through the conduit the device
 * tree names (hvc or smc), so QEMU exits 0. Another status uses
 * semihosting's SYS_EXIT_EXTENDED, which makes QEMU exit with that status
 * (the launcher passes -semihosting-config enable=on); without semihosting
 * the HLT traps, and we fall back to SYSTEM_OFF.
 */
#include <arch/cpu.h>
#include <arch/pte.h>
#include <errno.h>
#include <karst/arch.h>
#include <karst/kmem_kernel.h>
#include <karst/param.h>
#include <string.h>

#define PSCI_SYSTEM_OFF 0x84000008

static bool psci_smc;
static volatile bool poweroff_started;

void aarch64_power_init(const char *method)
{
	psci_smc = method && strcmp(method, "smc") == 0;
}

unsigned long arch_irq_save(void)
{
	unsigned long flags = READ_SYSREG(daif);
	__asm__ __volatile__("msr daifset, #3" ::: "memory");
	return flags;
}

void arch_irq_restore(unsigned long flags)
{
	__asm__ __volatile__("msr daif, %0" ::"r"(flags) : "memory");
}

void arch_cpu_relax(void)
{
	__asm__ __volatile__("yield" ::: "memory");
}

static void psci_off(void)
{
	register uint64_t x0 __asm__("x0") = PSCI_SYSTEM_OFF;
	if (psci_smc)
		__asm__ __volatile__("smc #0" : "+r"(x0)::"memory");
	else
		__asm__ __volatile__("hvc #0" : "+r"(x0)::"memory");
}

void arch_poweroff(int status)
{
	arch_irq_save();
	if (status != 0 && !poweroff_started) {
		poweroff_started = true;
		static uint64_t block[2];
		block[0] = 0x20026; /* ADP_Stopped_ApplicationExit */
		block[1] = (uint64_t)status;
		register uint64_t x0 __asm__("x0") = 0x20; /* SYS_EXIT_EXTENDED */
		register uint64_t x1 __asm__("x1") = (uintptr_t)block;
		__asm__ __volatile__("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
	}
	psci_off();
	for (;;)
		__asm__ __volatile__("wfi");
}

/* True while arch_poweroff's semihosting call is in flight (traps.c). */
bool aarch64_poweroff_in_progress(void)
{
	return poweroff_started;
}

/*
 * Early direct map: boot.S maps GiBs 0-4 in the TTBR1 L1 table. RAM above
 * gets more 1 GiB blocks in the same table (up to 512 GiB, no allocation).
 */
extern uint64_t boot_l1_hi[512];
extern pte_t boot_l0_hi[512];
static uint64_t mapped_top = 5ULL << 30;
#define BLOCK_DEVICE ((1ULL << 0) | (0ULL << 2) | (1ULL << 10) | (1ULL << 53) | (1ULL << 54))

int arch_map_ram(uint64_t base, uint64_t size)
{
	uint64_t end = base + size;
	for (uint64_t gib = base >> 30; gib < DIV_ROUND_UP(end, 1ULL << 30); gib++) {
		if (gib == 0 || gib >= 512)
			return -ERANGE; /* GiB 0 holds devices; one L1 table */
		if (boot_l1_hi[gib] & 1)
			continue;
		/* As boot.S maps RAM: never executable, writable and dirty. */
		boot_l1_hi[gib] =
		    pte_make_leaf(gib << 30, 1, MMU_READ | MMU_WRITE | MMU_GLOBAL, true, true);
		if ((gib + 1) << 30 > mapped_top)
			mapped_top = (gib + 1) << 30;
	}
	__asm__ __volatile__("dsb ishst; isb" ::: "memory");
	return 0;
}

/* The direct map's level-1 table for physical GiB `gib`: boot_l1_hi for
 * the first 512 GiB, beyond that a table made on first use and hung in
 * the direct map's level-0 slot (256 + gib / 512); NULL when memory is
 * short or the address is past MMIO_PA_LIMIT. */
#define MMIO_PA_LIMIT (64ULL << 40) /* L0 slots 256..383; 384 is vm.h's */
static uint64_t *direct_l1(uint64_t gib)
{
	if (gib < 512)
		return boot_l1_hi;
	if (gib << 30 >= MMIO_PA_LIMIT)
		return NULL;
	unsigned slot = 256 + (unsigned)(gib >> 9);
	pte_t e = boot_l0_hi[slot];
	if (e & 1)
		return phys_to_virt(pte_pa(e, 0));
	uint64_t *t = page_alloc(0);
	if (!t)
		return NULL;
	memset(t, 0, PAGE_SIZE);
	__asm__ __volatile__("dsb ishst" ::: "memory");
	boot_l0_hi[slot] = pte_make_table(virt_to_phys(t));
	return t;
}

/* Device memory: 1 GiB Device-nGnRnE blocks in the direct map (GiB 0,
 * the virt board's devices, is mapped at boot), anywhere below
 * MMIO_PA_LIMIT (the virt board's 64-bit PCI window is at 512 GiB). */
void *arch_map_mmio(uint64_t pa, uint64_t size)
{
	uint64_t end = pa + size;
	if (end < pa || end > MMIO_PA_LIMIT)
		return NULL;
	for (uint64_t gib = pa >> 30; gib < DIV_ROUND_UP(end, 1ULL << 30); gib++) {
		uint64_t *l1 = direct_l1(gib);
		if (!l1)
			return NULL;
		if (l1[gib & 511] & 1)
			continue;
		l1[gib & 511] = (gib << 30) | BLOCK_DEVICE;
	}
	__asm__ __volatile__("dsb ishst; isb" ::: "memory");
	return phys_to_virt(pa);
}

bool arch_addr_readable(uintptr_t addr, size_t len)
{
	if (addr >= (uintptr_t)__kernel_start && addr + len <= (uintptr_t)__kernel_end)
		return true;
	return addr >= DIRECT_MAP_BASE + (1ULL << 30) && addr + len <= DIRECT_MAP_BASE + mapped_top;
}
