/*
 * aarch64 hooks of the runtime mapping region (<karst/vm.h>). The region's
 * tree is boot_l0_hi, the live TTBR1 root (L0 slot 384 is unused by
 * boot.S). TCR_EL1.HA/HD stay off: access-flag and first-write faults are
 * resolved by aarch64_trap through vm_kernel_fault_fast.
 */
#include <karst/arch.h>
#include <karst/param.h>
#include <karst/vm.h>

extern pte_t boot_l0_hi[512];

#define FLUSH_ALL_PAGES 64 /* beyond this many pages, tlbi vmalle1is */

pte_t *arch_vm_kernel_root(void)
{
	return boot_l0_hi;
}

/* tlbi vae1is drops the walk-cache entries for the address too (unlike
 * vale1is), which pgt_unmap needs before it frees tables. */
void arch_vm_flush(uintptr_t va, size_t len)
{
	uintptr_t first = va & ~(uintptr_t)PAGE_MASK;
	uintptr_t end = va + len;
	__asm__ __volatile__("dsb ishst" ::: "memory");
	if ((end - first) / PAGE_SIZE > FLUSH_ALL_PAGES) {
		__asm__ __volatile__("tlbi vmalle1is" ::: "memory");
	} else {
		for (uintptr_t p = first; p < end; p += PAGE_SIZE)
			__asm__ __volatile__("tlbi vae1is, %0" ::"r"((p >> 12) & 0xfffffffffffULL)
					     : "memory");
	}
	__asm__ __volatile__("dsb ish; isb" ::: "memory");
}

void arch_vm_sync(void)
{
	__asm__ __volatile__("dsb ishst; isb" ::: "memory");
}
