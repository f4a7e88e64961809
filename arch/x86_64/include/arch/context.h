/*
 * x86_64 thread context: the saved stack pointer (callee-saved registers
 * are pushed on the thread's stack by switch.S) and the FP/SIMD state,
 * saved on every switch with fxsave, or with xsave(opt) when the CPU has
 * XSAVE (fpu.c); kernel code never uses these registers; Debian's
 * libraries linked in and cowfs's checksums (SSE2, AVX2) may.
 */
#ifndef ARCH_CONTEXT_H
#define ARCH_CONTEXT_H

#include <stdint.h>

struct arch_context {
	uintptr_t sp;
};

/* The XSAVE area of x87 | SSE | AVX in the standard format: the 512-byte
 * legacy (FXSAVE) region, the 64-byte header, 256 bytes of YMM upper
 * halves at offset 576 (CPUID 0xD.2). fpu.c checks CPUID's size against it. */
#define X86_FPU_AREA 832

struct arch_fpu {
	uint8_t area[X86_FPU_AREA];
} __attribute__((aligned(64)));

/* rbx rbp r12 r13 r14 r15 rsp rip */
struct arch_jmpbuf {
	uint64_t r[8];
};

#endif
