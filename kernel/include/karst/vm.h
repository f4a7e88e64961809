/*
 * The kernel's runtime mapping region (issue 4, first slice).
 *
 * A range of kernel virtual addresses that boot.S leaves unused,
 * VM_KERNEL_BASE .. VM_KERNEL_BASE + VM_KERNEL_SIZE, mapped at run time
 * with the portable walker (<karst/pgtable.h>). The tree's root is the
 * architecture's live kernel root (x86_64 boot_pml4, aarch64 boot_l0_hi,
 * TTBR1), so the mappings are visible at once on every CPU; the region
 * has its own level-0 slot, which the early direct map never touches.
 *
 *   vm_map_kernel    map [pa, pa + size) somewhere in the region; returns
 *                    the virtual address or NULL (bad arguments, no
 *                    address space or no memory for tables). prot is
 *                    MMU_PROT_MASK bits, optionally with MMU_ACCESSED /
 *                    MMU_DIRTY for leaves created already accessed/dirty.
 *                    When pa and size are 2 MiB aligned the mapping uses
 *                    2 MiB blocks (taken from the upper half of the
 *                    region), otherwise 4 KiB pages (the lower half); at
 *                    most VM_KERNEL_SIZE / 2. May sleep.
 *   vm_unmap_kernel  remove a whole mapping made by vm_map_kernel (va and
 *                    size as returned/passed); tables are kept, so the
 *                    lock-free fault path never reads a freed table. May
 *                    sleep.
 *   vm_kernel_pgtable the tree, for tests and the access scanner
 *                    (pgt_lookup, pgt_clear_accessed, pgt_clear_dirty).
 *
 * Faults. vm_kernel_fault_fast() is the architecture fault handlers' fast
 * path for aarch64 access-flag faults and write-permission faults on a
 * software-writable clean page: it calls pgt_set_accessed and counts the
 * fault. It runs in exception context with interrupts off: no lock, no
 * allocation, no sleep. It returns false for an address outside the
 * region or a fault the walker cannot resolve; the caller then panics as
 * before. The caller issues the barriers the architecture needs.
 */
#ifndef KARST_VM_H
#define KARST_VM_H

#include <karst/mmu.h>
#include <karst/pgtable.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VM_KERNEL_BASE 0xffffc00000000000ULL /* level-0 index 384 */
#define VM_KERNEL_SIZE (1ULL << 30)

enum vm_fault_kind {
	VM_FAULT_ACCESS, /* aarch64 access-flag fault */
	VM_FAULT_DIRTY,	 /* aarch64 write to a clean writable page */
};

struct vm_stats {
	uint64_t access_faults; /* resolved access-flag faults */
	uint64_t dirty_faults;	/* resolved first-write (dirty) faults */
	uint64_t mapped_pages;	/* 4 KiB pages mapped in the region now */
};

void *vm_map_kernel(uint64_t pa, size_t size, unsigned prot);
int vm_unmap_kernel(void *va, size_t size);
struct pgtable *vm_kernel_pgtable(void);
void vm_get_stats(struct vm_stats *st);
bool vm_kernel_fault_fast(uintptr_t va, bool is_write, enum vm_fault_kind kind);

/* Architecture hooks (arch/<arch>/vm.c). */
/* The live kernel root table holding VM_KERNEL_BASE's level-0 entry. */
pte_t *arch_vm_kernel_root(void);
/* Invalidate the TLB entries of [va, va + len) on every CPU, walk caches
 * included (pgt_ops.flush). */
void arch_vm_flush(uintptr_t va, size_t len);
/* Make new entries visible to the table walker (pgt_ops.sync). */
void arch_vm_sync(void);

#endif
