/*
 * The runtime region's counters (<karst/vm.h>): read relaxed, each exact
 * on its own, not a snapshot of all three at one instant.
 */
#include "vm_kernel_internal.h"
#include <karst/vm.h>

void vm_get_stats(struct vm_stats *st)
{
	st->access_faults = atomic_load_explicit(&vm_access_faults, memory_order_relaxed);
	st->dirty_faults = atomic_load_explicit(&vm_dirty_faults, memory_order_relaxed);
	st->mapped_pages = __atomic_load_n(&vm_mapped_pages, __ATOMIC_RELAXED);
}
