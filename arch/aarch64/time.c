/*
 * The boot clock: the generic timer's virtual counter, read at the first
 * instruction (boot.S), at CNTFRQ_EL0 ticks per second.
 */
#include <arch/cpu.h>
#include <karst/arch.h>
#include <karst/printk.h>

extern uint64_t boot_cntvct;
static uint64_t ns_mult; /* ns = ticks * ns_mult >> 32 */

void aarch64_time_init(void)
{
	uint64_t hz = READ_SYSREG(cntfrq_el0);
	if (!hz)
		panic("time: CNTFRQ_EL0 is zero");
	ns_mult = (1000000000ULL << 32) / hz;
	printk("time: generic timer at %lu Hz\n", (unsigned long)hz);
}

uint64_t arch_time_ns(void)
{
	__asm__ __volatile__("isb" ::: "memory");
	uint64_t d = READ_SYSREG(cntvct_el0) - boot_cntvct;
	return (uint64_t)(((unsigned __int128)d * ns_mult) >> 32);
}
