/*
 * Calls from the kernel's locks into the lock-order checker, compiled in
 * debug builds only. A lock with no class (the printk lock, which the
 * checker itself prints through) is not checked.
 */
#ifndef KARST_SYNC_LO_HOOKS_H
#define KARST_SYNC_LO_HOOKS_H

#include <karst/arch.h>
#include <karst/lockorder.h>

struct lo_held *sched_lo_held(void);

#ifdef KARST_DEBUG
static inline void lo_acquire(const struct lock_class *c, const void *lock)
{
	if (!c)
		return;
	uintptr_t stack[LO_STACK_DEPTH];
	backtrace_collect(stack, LO_STACK_DEPTH);
	lockorder_acquire(sched_lo_held(), c, lock, stack);
}

static inline void lo_release(const struct lock_class *c, const void *lock)
{
	if (c)
		lockorder_release(sched_lo_held(), lock);
}
#else
static inline void lo_acquire(const struct lock_class *c, const void *lock)
{
}

static inline void lo_release(const struct lock_class *c, const void *lock)
{
}
#endif

#endif
