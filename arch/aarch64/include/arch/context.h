/*
 * aarch64 thread context: the saved stack pointer (callee-saved registers
 * are pushed on the thread's stack by switch.S) and the FP/SIMD registers,
 * saved on every switch (kernel code never uses them; Debian's libraries
 * linked in may).
 */
#ifndef ARCH_CONTEXT_H
#define ARCH_CONTEXT_H

#include <stdint.h>

struct arch_context {
	uintptr_t sp;
};

struct arch_fpu {
	uint64_t q[64]; /* q0-q31 */
	uint64_t fpcr, fpsr;
} __attribute__((aligned(16)));

/* x19-x28, x29, x30, sp */
struct arch_jmpbuf {
	uint64_t r[13];
};

#endif
