/*
 * aarch64 hooks of the runtime mapping region (<karst/vm.h>). The region's
 * tree is boot_l0_hi, the live TTBR1 root (L0 slot 384 is unused by
 * boot.S).
 *
 * Access flag and dirty state. By default TCR_EL1.HA/HD stay off (boot.S):
 * access-flag and first-write faults are resolved by aarch64_trap through
 * vm_kernel_fault_fast. The boot option hwaf=1 turns on hardware
 * management where the CPU has FEAT_HAFDBS (ID_AA64MMFR1_EL1.HAFDBS):
 * HA (the walker sets AF itself) when HAFDBS >= 1, and HD too (a write
 * through a leaf with DBM set clears AP[2], which <arch/pte.h> reads as
 * "dirty") when HAFDBS >= 2. The entry format is the same in both modes,
 * so the switch needs no change to any table; the fault fast path stays
 * for the faults the hardware still raises (all of them without HAFDBS,
 * first writes with HAFDBS = 1). With HD on, DBM alone decides which
 * read-only leaves a write may make writable: only leaves made with
 * MMU_WRITE may ever carry it. The switch happens while the command line
 * is parsed, on the only CPU, before anything relies on the fault counts.
 */
#include <arch/cpu.h>
#include <errno.h>
#include <karst/arch.h>
#include <karst/cmdline.h>
#include <karst/param.h>
#include <karst/printk.h>
#include <karst/vm.h>
#include <string.h>

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

#define TCR_HA (1ULL << 39)
#define TCR_HD (1ULL << 40)

static bool hw_access_flag; /* TCR_EL1.HA is on */

bool arch_vm_hw_access_flag(void)
{
	return __atomic_load_n(&hw_access_flag, __ATOMIC_RELAXED);
}

/* Set TCR_EL1.HA/HD to `bits`; the TLB may hold entries walked under the
 * old setting, so drop them all. */
static void tcr_set_hafdbs(uint64_t bits)
{
	unsigned long flags = arch_irq_save();
	WRITE_SYSREG(tcr_el1, (READ_SYSREG(tcr_el1) & ~(TCR_HA | TCR_HD)) | bits);
	__asm__ __volatile__("isb; tlbi vmalle1; dsb ish; isb" ::: "memory");
	__atomic_store_n(&hw_access_flag, (bits & TCR_HA) != 0, __ATOMIC_RELAXED);
	arch_irq_restore(flags);
}

/*
 * hwaf=1: hardware access flag (TCR_EL1.HA) and, where the CPU has it,
 * hardware dirty state (TCR_EL1.HD); hwaf=0: software for both (the
 * default). The mode is printed only when the option is given.
 */
static int param_hwaf(const char *v)
{
	if (!v || (strcmp(v, "0") != 0 && strcmp(v, "1") != 0))
		return -EINVAL;
	unsigned hafdbs = (unsigned)(READ_SYSREG(id_aa64mmfr1_el1) & 0xf);
	if (strcmp(v, "0") == 0) {
		tcr_set_hafdbs(0);
		printk("hwaf=0: software access flag and dirty state (TCR_EL1.HA/HD off)\n");
	} else if (hafdbs == 0) {
		tcr_set_hafdbs(0);
		printk("hwaf=1: CPU has no hardware access flag (ID_AA64MMFR1_EL1.HAFDBS=0); "
		       "keeping software AF\n");
	} else if (hafdbs == 1) {
		tcr_set_hafdbs(TCR_HA);
		printk("hwaf=1: hardware access flag (TCR_EL1.HA), software dirty state "
		       "(ID_AA64MMFR1_EL1.HAFDBS=1)\n");
	} else {
		tcr_set_hafdbs(TCR_HA | TCR_HD);
		printk("hwaf=1: hardware access flag and dirty state (TCR_EL1.HA and HD; "
		       "ID_AA64MMFR1_EL1.HAFDBS=%u)\n",
		       hafdbs);
	}
	return 0;
}
KARST_PARAM("hwaf", param_hwaf,
	    "hwaf=0|1: aarch64 hardware access flag and dirty state (TCR_EL1.HA, HD)");
