/*
 * What the files of the kernel's runtime mapping region share (kernel/vm
 * only): the tree, whether it is ready, and the counters.
 *
 *   vm_kernel.c      the address allocator: vm_map_kernel / vm_unmap_kernel
 *   vm_fault_fast.c  the access-flag / first-write fault fast path
 *   vm_stats.c       vm_get_stats
 *   vm_cmds.c        the `vmstat` shell command
 */
#ifndef KARST_VM_KERNEL_INTERNAL_H
#define KARST_VM_KERNEL_INTERNAL_H

#include <karst/pgtable.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

extern struct pgtable vm_pt;
extern bool vm_ready;		 /* set (release) once vm_pt is usable */
extern uint64_t vm_mapped_pages; /* under vm_lock; read relaxed */
/* Resolved faults, counted by the fast path (any context). */
extern _Atomic uint64_t vm_access_faults, vm_dirty_faults;

#endif
