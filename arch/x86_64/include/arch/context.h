/*
 * x86_64 thread context: the saved stack pointer (callee-saved registers
 * are pushed on the thread's stack by switch.S) and the FP/SIMD state,
 * saved with fxsave on every switch (kernel code never uses these
 * registers; Debian's libraries linked in may).
 */
#ifndef ARCH_CONTEXT_H
#define ARCH_CONTEXT_H

#include <stdint.h>

struct arch_context {
	uintptr_t sp;
};

struct arch_fpu {
	uint8_t area[512];
} __attribute__((aligned(16)));

/* rbx rbp r12 r13 r14 r15 rsp rip */
struct arch_jmpbuf {
	uint64_t r[8];
};

#endif
