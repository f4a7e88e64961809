/*
 * The boot clock: the TSC, read at the first instruction (boot.S) and
 * calibrated against the HPET (a 10 ns counter on QEMU's q35 and pc), or
 * against PIT channel 2 when there is no HPET.
 */
#include <arch/cpu.h>
#include <karst/arch.h>
#include <karst/printk.h>

extern uint64_t boot_tsc;

static uint64_t tsc_hz;
static uint64_t ns_mult; /* ns = ticks * ns_mult >> 32 */

#define HPET_PA 0xfed00000ULL

static uint64_t calibrate_hpet(void)
{
	volatile uint64_t *hpet = phys_to_virt(HPET_PA);
	uint64_t cap = hpet[0];
	uint32_t period_fs = (uint32_t)(cap >> 32);
	if (cap == 0 || cap == ~0ULL || period_fs == 0 || period_fs > 100000000)
		return 0;
	hpet[0x10 / 8] |= 1; /* ENABLE_CNF */
	uint64_t h0 = hpet[0xf0 / 8], t0 = rdtsc();
	uint64_t ticks = 1000000000000ULL / period_fs; /* 1 ms */
	while (hpet[0xf0 / 8] - h0 < ticks)
		__asm__ __volatile__("pause");
	uint64_t h1 = hpet[0xf0 / 8], t1 = rdtsc();
	uint64_t ns = (h1 - h0) * period_fs / 1000000;
	return ns ? (t1 - t0) * 1000000000ULL / ns : 0;
}

static uint64_t calibrate_pit(void)
{
	/* Channel 2, mode 0, count 11932 (10 ms at 1.193182 MHz); gate on. */
	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0);
	outb(0x42, 11932 & 0xff);
	outb(0x42, 11932 >> 8);
	uint64_t t0 = rdtsc();
	while (!(inb(0x61) & 0x20))
		__asm__ __volatile__("pause");
	return (rdtsc() - t0) * 100;
}

void x86_time_init(void)
{
	const char *src = "HPET";
	tsc_hz = calibrate_hpet();
	if (!tsc_hz) {
		src = "PIT";
		tsc_hz = calibrate_pit();
	}
	if (!tsc_hz)
		panic("time: cannot calibrate the TSC");
	ns_mult = (1000000000ULL << 32) / tsc_hz;
	printk("time: TSC %lu.%03lu MHz (calibrated against the %s)\n",
	       (unsigned long)(tsc_hz / 1000000), (unsigned long)(tsc_hz / 1000 % 1000), src);
}

uint64_t arch_time_ns(void)
{
	uint64_t d = rdtsc() - boot_tsc;
	if (!ns_mult)
		return 0;
	return (uint64_t)(((unsigned __int128)d * ns_mult) >> 32);
}
