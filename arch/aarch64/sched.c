/*
 * aarch64 pieces the scheduler needs: a new thread's first stack frame,
 * idling with the CPU in wfi.
 */
#include <arch/context.h>
#include <karst/arch.h>

void arch_context_init(struct arch_context *ctx, void *stack_top, void (*entry)(void))
{
	uint64_t *sp = (uint64_t *)((uintptr_t)stack_top & ~15UL);
	sp -= 12; /* x19-x28, x29, x30 as switch.S pops them */
	for (int i = 0; i < 12; i++)
		sp[i] = 0;
	sp[11] = (uintptr_t)entry; /* x30: where arch_context_switch returns */
	ctx->sp = (uintptr_t)sp;
}

void arch_idle(void)
{
	/* wfi wakes on a pending interrupt even while it is masked; unmask
	 * briefly so it is taken, then mask again. */
	__asm__ __volatile__("wfi; msr daifclr, #2; isb; msr daifset, #2" ::: "memory");
}

void arch_irq_enable(void)
{
	__asm__ __volatile__("msr daifclr, #2" ::: "memory");
}

bool arch_irqs_enabled(void)
{
	uint64_t daif;
	__asm__ __volatile__("mrs %0, daif" : "=r"(daif));
	return !(daif & (1 << 7));
}
