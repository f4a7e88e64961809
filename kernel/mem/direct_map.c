/*
 * Physical <-> kernel virtual addresses (<karst/arch.h>): RAM is mapped
 * at DIRECT_MAP_BASE + pa on both architectures (<arch/cpu.h> says
 * where); the kernel image is also identity mapped, so an address below
 * the direct map is its own physical address.
 */
#include <arch/cpu.h>
#include <karst/arch.h>

void *phys_to_virt(uint64_t pa)
{
	return (void *)(uintptr_t)(DIRECT_MAP_BASE + pa);
}

uint64_t virt_to_phys(const void *va)
{
	uintptr_t v = (uintptr_t)va;
	if (v >= DIRECT_MAP_BASE)
		return v - DIRECT_MAP_BASE;
	return v; /* the kernel image is identity mapped */
}
