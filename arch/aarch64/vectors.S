/*
 * aarch64 exception vectors. Every entry saves the registers into a struct
 * trap_frame (arch/trap.h) on the current stack and calls
 * aarch64_trap(frame, kind), kind = group * 4 + (0 sync, 1 IRQ, 2 FIQ,
 * 3 SError), group 0 = current EL with SP0, 1 = current EL with SPx,
 * 2 = lower EL AArch64, 3 = lower EL AArch32. Returning restores and erets.
 */
#define FRAME_SIZE 304

.macro VENTRY kind
	.p2align 7
	sub sp, sp, #FRAME_SIZE
	stp x0, x1, [sp, #0]
	mov x1, #\kind
	b trap_common
.endm

	.text
	.p2align 11
	.globl vectors
vectors:
	VENTRY 0
	VENTRY 1
	VENTRY 2
	VENTRY 3
	VENTRY 4
	VENTRY 5
	VENTRY 6
	VENTRY 7
	VENTRY 8
	VENTRY 9
	VENTRY 10
	VENTRY 11
	VENTRY 12
	VENTRY 13
	VENTRY 14
	VENTRY 15

trap_common:
	stp x2, x3, [sp, #16]
	stp x4, x5, [sp, #32]
	stp x6, x7, [sp, #48]
	stp x8, x9, [sp, #64]
	stp x10, x11, [sp, #80]
	stp x12, x13, [sp, #96]
	stp x14, x15, [sp, #112]
	stp x16, x17, [sp, #128]
	stp x18, x19, [sp, #144]
	stp x20, x21, [sp, #160]
	stp x22, x23, [sp, #176]
	stp x24, x25, [sp, #192]
	stp x26, x27, [sp, #208]
	stp x28, x29, [sp, #224]
	add x2, sp, #FRAME_SIZE
	stp x30, x2, [sp, #240]          /* x30, interrupted sp */
	mrs x2, elr_el1
	mrs x3, spsr_el1
	stp x2, x3, [sp, #256]
	stp x29, x2, [sp, #288]          /* frame record: x29, elr */
	add x29, sp, #288
	mrs x2, esr_el1
	mrs x3, far_el1
	stp x2, x3, [sp, #272]
	mov x0, sp
	bl aarch64_trap
	ldp x2, x3, [sp, #256]
	msr elr_el1, x2
	msr spsr_el1, x3
	ldp x2, x3, [sp, #16]
	ldp x4, x5, [sp, #32]
	ldp x6, x7, [sp, #48]
	ldp x8, x9, [sp, #64]
	ldp x10, x11, [sp, #80]
	ldp x12, x13, [sp, #96]
	ldp x14, x15, [sp, #112]
	ldp x16, x17, [sp, #128]
	ldp x18, x19, [sp, #144]
	ldp x20, x21, [sp, #160]
	ldp x22, x23, [sp, #176]
	ldp x24, x25, [sp, #192]
	ldp x26, x27, [sp, #208]
	ldp x28, x29, [sp, #224]
	ldr x30, [sp, #240]
	ldp x0, x1, [sp, #0]
	add sp, sp, #FRAME_SIZE
	eret
