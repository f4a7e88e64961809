/*
 * x86_64 hooks of the runtime mapping region (<karst/vm.h>). The region's
 * tree is boot_pml4 itself (slot 384 is unused by boot.S). The CPU sets
 * the accessed and dirty bits itself, so page faults have no fast path.
 * CR4.PGE is off, so reloading CR3 drops every TLB entry.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/cmdline.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/vm.h>
#include <string.h>

extern pte_t boot_pml4[512];

#define FLUSH_ALL_PAGES 64 /* beyond this many pages, reload CR3 */

pte_t *arch_vm_kernel_root(void)
{
	return boot_pml4;
}

void arch_vm_flush(uintptr_t va, size_t len)
{
	uintptr_t first = va & ~(uintptr_t)PAGE_MASK;
	uintptr_t end = va + len;
	if ((end - first) / PAGE_SIZE > FLUSH_ALL_PAGES) {
		__asm__ __volatile__("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");
		return;
	}
	for (uintptr_t p = first; p < end; p += PAGE_SIZE)
		__asm__ __volatile__("invlpg (%0)" ::"r"(p) : "memory");
}

void arch_vm_sync(void)
{
	/* Stores to tables are seen by the walker in order (x86 TSO). */
	__asm__ __volatile__("" ::: "memory");
}

bool arch_vm_hw_access_flag(void)
{
	return true; /* the CPU always sets A and D */
}

/* hwaf= exists on both architectures so one command line boots both; it
 * only matters on aarch64. */
static int param_hwaf(const char *v)
{
	if (!v || (strcmp(v, "0") != 0 && strcmp(v, "1") != 0))
		return -EINVAL;
	printk("hwaf=%s: no effect on x86_64 (the CPU always sets the accessed and dirty bits)\n",
	       v);
	return 0;
}
KARST_PARAM("hwaf", param_hwaf,
	    "hwaf=0|1: aarch64 hardware access flag and dirty state (TCR_EL1.HA, HD)");
