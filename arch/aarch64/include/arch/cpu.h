/*
 * aarch64 system-register access and constants for the arch code.
 */
#ifndef ARCH_CPU_H
#define ARCH_CPU_H

#include <stdint.h>

#define READ_SYSREG(r)                                                                             \
	({                                                                                         \
		uint64_t v_;                                                                       \
		__asm__ __volatile__("mrs %0, " #r : "=r"(v_));                                    \
		v_;                                                                                \
	})

#define WRITE_SYSREG(r, v) __asm__ __volatile__("msr " #r ", %0" ::"r"((uint64_t)(v)))

/* Start of the direct map of physical memory (TTBR1). */
#define DIRECT_MAP_BASE 0xffff800000000000ULL

#endif
