/*
 * The aarch64 trap frame, as vectors.S lays it out on the stack.
 */
#ifndef ARCH_TRAP_H
#define ARCH_TRAP_H

#include <stdint.h>

struct trap_frame {
	uint64_t x[31];
	uint64_t sp, elr, spsr, esr, far;
	/* A frame record {interrupted x29, elr} that x29 points at while the
	 * handler runs, so a backtrace taken in it (a panic from an
	 * interrupt) names the interrupted instruction's function, also when
	 * that function had not saved a frame of its own there. */
	uint64_t rec[2];
};

_Static_assert(sizeof(struct trap_frame) == 304, "vectors.S FRAME_SIZE");

#endif
