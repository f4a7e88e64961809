/*
 * The fault fast path of the kernel's address space (<karst/vm.h>): an
 * access-flag fault, or a first write to a clean writable page, anywhere
 * in the runtime region or the vm_mmap areas above it (one tree), is
 * resolved by marking the leaf accessed / dirty with pgt_set_accessed and
 * counted. The aarch64 abort handler calls it with interrupts off: no
 * lock, no allocation, no sleeping. Anything else is the slow path's.
 */
#include "vm_kernel_internal.h"
#include <karst/vm.h>

_Atomic uint64_t vm_access_faults, vm_dirty_faults;

bool vm_kernel_fault_fast(uintptr_t va, bool is_write, enum vm_fault_kind kind)
{
	/* The runtime region and the vm_mmap areas above it share the tree. */
	if (!__atomic_load_n(&vm_ready, __ATOMIC_ACQUIRE) || va < VM_KERNEL_BASE ||
	    va - VM_KERNEL_BASE >= VM_KERNEL_SIZE + VM_AREA_SIZE)
		return false;
	if (!pgt_set_accessed(&vm_pt, va, is_write))
		return false;
	atomic_fetch_add_explicit(kind == VM_FAULT_DIRTY ? &vm_dirty_faults : &vm_access_faults, 1,
				  memory_order_relaxed);
	return true;
}
