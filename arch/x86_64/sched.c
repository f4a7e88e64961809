/*
 * x86_64 pieces the scheduler needs: a new thread's first stack frame,
 * idling with the CPU halted.
 */
#include <arch/context.h>
#include <karst/arch.h>

void arch_context_init(struct arch_context *ctx, void *stack_top, void (*entry)(void))
{
	uint64_t *sp = (uint64_t *)((uintptr_t)stack_top & ~15UL);
	*--sp = 0;		  /* the entry's return address: ends backtraces */
	*--sp = (uintptr_t)entry; /* where arch_context_switch returns */
	for (int i = 0; i < 6; i++)
		*--sp = 0; /* rbp rbx r12 r13 r14 r15 */
	ctx->sp = (uintptr_t)sp;
}

void arch_idle(void)
{
	/* sti takes effect after hlt starts: no interrupt slips in between. */
	__asm__ __volatile__("sti; hlt; cli" ::: "memory");
}

void arch_irq_enable(void)
{
	__asm__ __volatile__("sti" ::: "memory");
}
