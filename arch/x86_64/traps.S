/*
 * x86_64 exception entry. Each vector's stub pushes an error code (a zero
 * where the CPU pushes none) and the vector number, then trap_common saves
 * the general registers into a struct trap_frame (arch/trap.h) and calls
 * x86_trap(frame). On return the registers are restored and iretq resumes.
 */
	.text
	.code64

.macro TRAP_NOERR n
	.p2align 4
trap_stub_\n:
	pushq $0
	pushq $\n
	jmp trap_common
.endm

.macro TRAP_ERR n
	.p2align 4
trap_stub_\n:
	pushq $\n
	jmp trap_common
.endm

TRAP_NOERR 0
TRAP_NOERR 1
TRAP_NOERR 2
TRAP_NOERR 3
TRAP_NOERR 4
TRAP_NOERR 5
TRAP_NOERR 6
TRAP_NOERR 7
TRAP_ERR 8
TRAP_NOERR 9
TRAP_ERR 10
TRAP_ERR 11
TRAP_ERR 12
TRAP_ERR 13
TRAP_ERR 14
TRAP_NOERR 15
TRAP_NOERR 16
TRAP_ERR 17
TRAP_NOERR 18
TRAP_NOERR 19
TRAP_NOERR 20
TRAP_ERR 21
TRAP_NOERR 22
TRAP_NOERR 23
TRAP_NOERR 24
TRAP_NOERR 25
TRAP_NOERR 26
TRAP_NOERR 27
TRAP_NOERR 28
TRAP_ERR 29
TRAP_ERR 30
TRAP_NOERR 31

/* Interrupt vectors 32-255: no error code. */
.altmacro
.macro IRQ_STUB n
	.p2align 4
irq_stub_\n:
	pushq $0
	pushq $\n
	jmp trap_common
.endm
.set v, 32
.rept 224
	IRQ_STUB %v
	.set v, v + 1
.endr

	.p2align 4
trap_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	/* Align the stack for the C call; keep the frame pointer chain
	 * pointing at the interrupted code's frame. */
	movq %rsp, %rbx
	andq $~15, %rsp
	call x86_trap
	movq %rbx, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

	.section .rodata
	.p2align 3
	.globl trap_stubs
trap_stubs:
.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad trap_stub_\n
.endr
	.globl irq_stubs
irq_stubs:
.macro IRQ_PTR n
	.quad irq_stub_\n
.endm
.set v, 32
.rept 224
	IRQ_PTR %v
	.set v, v + 1
.endr
