/*
 * x86_64 context switch, FP/SIMD save and restore, setjmp/longjmp.
 *
 * arch_context_switch(from, to) pushes the callee-saved registers on the
 * current stack, stores the stack pointer in *from, loads it from *to and
 * pops the other thread's registers: it returns in the other thread. A new
 * thread's stack is prepared by arch_context_init() so that this "returns"
 * into its entry function.
 */
	.text
	.code64

	.globl arch_context_switch
arch_context_switch:
	pushq %rbp
	pushq %rbx
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, (%rdi)
	movq (%rsi), %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbx
	popq %rbp
	ret

/* x86_fpu_mode (fpu.c): 0 fxsave, 1 xsave, 2 xsaveopt. The XSAVE forms
 * take every component XCR0 enables (EDX:EAX all ones). The area is
 * 64-byte aligned (struct arch_fpu); rdi is its address. */
	.globl arch_fpu_save
arch_fpu_save:
	movzbl x86_fpu_mode(%rip), %ecx
	testl %ecx, %ecx
	jz 1f
	movl $-1, %eax
	movl $-1, %edx
	cmpl $2, %ecx
	jne 2f
	xsaveopt64 (%rdi)
	ret
2:	xsave64 (%rdi)
	ret
1:	fxsave64 (%rdi)
	ret

	.globl arch_fpu_restore
arch_fpu_restore:
	cmpb $0, x86_fpu_mode(%rip)
	jz 1f
	movl $-1, %eax
	movl $-1, %edx
	xrstor64 (%rdi)
	ret
1:	fxrstor64 (%rdi)
	ret

	.globl arch_setjmp
arch_setjmp:
	movq %rbx, 0(%rdi)
	movq %rbp, 8(%rdi)
	movq %r12, 16(%rdi)
	movq %r13, 24(%rdi)
	movq %r14, 32(%rdi)
	movq %r15, 40(%rdi)
	leaq 8(%rsp), %rax
	movq %rax, 48(%rdi)
	movq (%rsp), %rax
	movq %rax, 56(%rdi)
	xorl %eax, %eax
	ret

	.globl arch_longjmp
arch_longjmp:
	movl %esi, %eax
	testl %eax, %eax
	jnz 1f
	incl %eax
1:	movq 0(%rdi), %rbx
	movq 8(%rdi), %rbp
	movq 16(%rdi), %r12
	movq 24(%rdi), %r13
	movq 32(%rdi), %r14
	movq 40(%rdi), %r15
	movq 48(%rdi), %rsp
	jmp *56(%rdi)
