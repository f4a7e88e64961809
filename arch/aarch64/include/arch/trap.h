/*
 * The aarch64 trap frame, as vectors.S lays it out on the stack.
 */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#include <stdint.h>

struct trap_frame {
	uint64_t x[31];
	uint64_t sp, elr, spsr, esr, far;
};

_Static_assert(sizeof(struct trap_frame) == 288, "vectors.S FRAME_SIZE");

#endif
