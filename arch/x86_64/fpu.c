/*
 * x86_64 FP/SIMD state: which instruction saves it on a thread switch.
 *
 * boot.S turns on FXSAVE/SSE (CR4.OSFXSR), which covers x87 and the XMM
 * registers. When the CPU has XSAVE (CPUID.1:ECX[26]), x86_fpu_init() sets
 * CR4.OSXSAVE and XCR0 = x87 | SSE | AVX (AVX when CPUID 0xD.0 offers it),
 * and the scheduler's arch_fpu_save/arch_fpu_restore (switch.S) then use
 * XSAVEOPT (or XSAVE) / XRSTOR on struct arch_fpu, so the YMM upper halves
 * survive a switch too. Code built for AVX2 asks x86_avx2_unusable()
 * (arch/cpu.h) before it runs: NULL is this file's promise that the CPU
 * has AVX2 and YMM state is saved on every switch.
 *
 * Contract: struct arch_fpu (arch/context.h) is 64-byte aligned and holds
 * X86_FPU_AREA bytes; XSAVE is used only when CPUID 0xD.0:EBX (the size
 * the enabled XCR0 needs) fits in it: otherwise AVX is left out of XCR0,
 * and should even x87|SSE not fit, XSAVE is turned off again (FXSAVE).
 * Runs once on the boot CPU, before the scheduler saves its first state
 * (sched_init's clean state is taken with the instruction chosen here).
 * Interrupt and exception handlers save no FP/SIMD state and must not use it.
 */
#include <arch/context.h>
#include <arch/cpu.h>
#include <karst/arch.h>
#include <karst/printk.h>

#define XCR0_X87    (1u << 0)
#define XCR0_SSE    (1u << 1)
#define XCR0_AVX    (1u << 2)
#define CR4_OSXSAVE (1ul << 18)

/* Read by switch.S: 0 = FXSAVE/FXRSTOR, 1 = XSAVE/XRSTOR, 2 = XSAVEOPT/XRSTOR. */
uint8_t x86_fpu_mode;
/* The XCR0 x86_fpu_init() set (0: no XSAVE, FXSAVE covers x87 and SSE). */
static uint32_t x86_xcr0;

static void xsetbv(uint32_t idx, uint64_t v)
{
	__asm__ __volatile__("xsetbv" ::"c"(idx), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

_Static_assert(sizeof(struct arch_fpu) == X86_FPU_AREA, "arch_fpu holds the XSAVE area");
_Static_assert(_Alignof(struct arch_fpu) >= 64, "XSAVE needs a 64-byte aligned area");

void x86_fpu_init(void)
{
	uint32_t r[4];
	cpuid(0, 0, r);
	uint32_t maxleaf = r[0];
	cpuid(1, 0, r);
	if (maxleaf < 0xd || !(r[2] & (1u << 26)))
		return; /* no XSAVE: FXSAVE it is */
	cpuid(0xd, 0, r);
	uint32_t want = (XCR0_X87 | XCR0_SSE | XCR0_AVX) & r[0];
	if (!(want & XCR0_SSE))
		return;
	__asm__ __volatile__("mov %0, %%cr4" ::"r"(READ_CR(4) | CR4_OSXSAVE));
	xsetbv(0, want);
	cpuid(0xd, 0, r); /* EBX: the area the enabled XCR0 needs */
	if (r[1] > X86_FPU_AREA && (want & XCR0_AVX)) {
		want &= ~XCR0_AVX;
		xsetbv(0, want);
		cpuid(0xd, 0, r);
	}
	if (r[1] > X86_FPU_AREA) {
		/* Cannot happen for x87|SSE (576 bytes); stay with FXSAVE. */
		xsetbv(0, XCR0_X87 | XCR0_SSE);
		__asm__ __volatile__("mov %0, %%cr4" ::"r"(READ_CR(4) & ~CR4_OSXSAVE));
		return;
	}
	uint32_t size = r[1];
	cpuid(0xd, 1, r);
	x86_fpu_mode = (r[0] & 1) ? 2 : 1;
	x86_xcr0 = want;
	printk("fpu: %s/xrstor, xcr0 %#x, %u-byte area\n", x86_fpu_mode == 2 ? "xsaveopt" : "xsave",
	       want, size);
}

const char *x86_avx2_unusable(void)
{
	if (!x86_fpu_mode)
		return "no OSXSAVE (CPU without XSAVE, or the kernel did not enable it)";
	if (!(x86_xcr0 & XCR0_AVX))
		return "XCR0 does not enable YMM state (no AVX)";
	uint32_t r[4];
	cpuid(0, 0, r);
	if (r[0] < 7)
		return "CPU without AVX2 (no CPUID leaf 7)";
	cpuid(7, 0, r);
	if (!(r[1] & (1u << 5)))
		return "CPU without AVX2";
	return NULL;
}
