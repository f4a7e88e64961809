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

#include <karst/list.h>
#include <karst/mmu.h>
#include <karst/pgtable.h>
#include <karst/sync.h>
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

/*
 * VM areas (kernel/vm/vm_area.c, portable: the host tests drive it).
 *
 * An address space (struct vm_space) is a range of virtual addresses over
 * one page-table tree, carved into areas by vm_mmap: anonymous memory
 * (demand-zero: a page is allocated and zeroed by the first access) or a
 * window onto an object that a pager provides page by page (the page
 * cache: files). Mappings are private (writes go to a private copy made on
 * the first write: copy-on-write) or shared (writes go to the pager's page).
 * vm_munmap and vm_mprotect work on any page-aligned range, splitting
 * areas as needed; vm_msync writes shared pages back.
 *
 * Dirty tracking that msync can rely on: a pager's page in a shared
 * writable mapping is mapped read-only until it is written. The first write
 * faults; vm_fault calls the pager's fault with write = true (the pager
 * marks its page dirty) and remaps the page writable and dirty. vm_msync
 * makes every written page read-only again (flushing its TLB entry) before
 * asking the pager to write it back, so a write that races with the
 * writeback faults and dirties the page again: no write is lost.
 *
 * vm_fault is what the architecture's fault handlers call for an address
 * in the space (after their lock-free fast path): it finds the area,
 * checks the access against the area's protection, and installs the page
 * (accessed; dirty only for a write). It returns 0 when the access can be
 * retried, -EFAULT when no area covers the address (or the pager has no
 * page there: beyond the end of a file), -EACCES for a protection
 * violation, -ENOMEM, or the pager's error.
 *
 * Locking. vs->lock (a mutex) serialises every call here, pager calls
 * included: they may sleep, so none may be called from interrupt context
 * or with a spinlock held. Tables emptied by munmap are kept
 * (PGT_KEEP_TABLES) so the lock-free fast paths never read a freed table.
 */
#define VM_MAP_PRIVATE (1u << 0)
#define VM_MAP_SHARED  (1u << 1)
#define VM_MAP_ANON    (1u << 2) /* no pager: demand-zero memory */
#define VM_MAP_FIXED   (1u << 3) /* at exactly addr (must be free) */

/* Access kinds for vm_fault. */
#define VM_ACCESS_READ	0u
#define VM_ACCESS_WRITE 1u
#define VM_ACCESS_EXEC	2u

struct vm_area;

/* What a file-like object offers the VM layer (the page cache implements
 * it). Offsets are byte offsets into the object, page aligned. All may
 * sleep and are called with the space's lock held. */
struct vm_pager_ops {
	/* The page holding `offset`: its physical address in *pa, with a
	 * reference that put_page drops. write: a write to a shared
	 * mapping is about to go to this page (mark it dirty). -EFAULT
	 * beyond the end of the object. */
	int (*fault)(struct vm_area *area, uint64_t offset, bool write, uint64_t *pa);
	void (*put_page)(struct vm_area *area, uint64_t offset, uint64_t pa);
	/* msync: the page was written through a shared mapping; write it
	 * back. May be NULL (nothing to write back to). */
	int (*writeback)(struct vm_area *area, uint64_t offset, uint64_t pa);
	/* The reverse map (optional, both or neither). map: the page fault
	 * returned is now mapped at va (its leaf is installed); an error
	 * removes the leaf again, puts the page back and fails the fault
	 * with it (the pager refuses a page it removed meanwhile; -EAGAIN
	 * makes vm_fault try the fault again). unmap:
	 * the leaf at va is gone and its TLB entries flushed; dirty is the
	 * leaf's last dirty state. put_page follows for the same page. */
	int (*map)(struct vm_area *area, uintptr_t va, uint64_t pa);
	void (*unmap)(struct vm_area *area, uintptr_t va, uint64_t pa, bool dirty);
	/* Area lifetimes (optional): vm_mmap's area takes over the caller's
	 * hold on obj; a split makes a second area on the same obj
	 * (area_dup); area_close runs when an area goes (munmap, destroy). */
	void (*area_dup)(struct vm_area *area);
	void (*area_close)(struct vm_area *area);
	/* Optional. fault (or its write notification) returned -EAGAIN: the
	 * pager needs work done without any space locked (unmapping its
	 * page from every space, as the page cache does to break a lend
	 * when a mapped page is written). vm_fault drops the space's lock,
	 * calls unblock, and retries the fault (a bounded number of times;
	 * then the fault fails with -EBUSY). */
	void (*unblock)(void);
};

struct vm_space;
struct vm_area {
	struct list_node link; /* vm_space.areas, sorted by start */
	struct vm_space *space;
	uintptr_t start, end; /* [start, end), page aligned */
	unsigned prot;	      /* MMU_ACCESS_MASK bits */
	unsigned flags;	      /* VM_MAP_* */
	const struct vm_pager_ops *pager;
	void *obj;	 /* the pager's object */
	uint64_t offset; /* object offset of start */
};

/* Faults resolved by vm_fault, by kind, and violations reported. */
struct vm_fault_stats {
	uint64_t demand_zero;  /* anonymous page allocated and zeroed */
	uint64_t file;	       /* pager page mapped */
	uint64_t cow;	       /* private copy made on a write */
	uint64_t write_notify; /* first write to a clean shared page */
	uint64_t spurious;     /* entry already allowed the access (raced, or AF) */
	uint64_t protection;   /* -EACCES: the area forbids the access */
	uint64_t no_area;      /* -EFAULT: nothing mapped there */
};

/* Where a space's page frames come from (anonymous pages, copies). */
struct vm_frame_ops {
	/* A free page frame's physical address (reached through
	 * phys_to_virt), or 0 when memory is short. */
	uint64_t (*alloc)(void *arg);
	void (*free)(uint64_t pa, void *arg);
	void *arg;
};

struct vm_space {
	struct mutex lock;
	struct pgtable *pt;
	uintptr_t base, end;
	struct list_node areas;
	const struct vm_frame_ops *frames;
	unsigned extra_prot; /* MMU_GLOBAL for the kernel's space */
	struct vm_fault_stats st;
	uint64_t resident; /* pages mapped now */
};

int vm_space_init(struct vm_space *vs, struct pgtable *pt, uintptr_t base, size_t size,
		  const struct vm_frame_ops *frames, unsigned extra_prot);
/* Unmap every area. */
void vm_space_destroy(struct vm_space *vs);

/*
 * Map len bytes (rounded up to pages) with prot (MMU_ACCESS_MASK bits,
 * MMU_READ required): anonymous with VM_MAP_ANON (pager NULL), otherwise
 * `offset` (page aligned) onward of pager's object obj; exactly one of
 * VM_MAP_PRIVATE and VM_MAP_SHARED. With VM_MAP_FIXED at addr exactly,
 * otherwise wherever there is room (addr ignored). Nothing is mapped until
 * it is touched. *out gets the address. -EINVAL (bad arguments), -ENOMEM
 * (no room, no memory), -EEXIST (VM_MAP_FIXED over an area).
 */
int vm_mmap(struct vm_space *vs, void *addr, size_t len, unsigned prot, unsigned flags,
	    const struct vm_pager_ops *pager, void *obj, uint64_t offset, void **out);
/* Remove [addr, addr + len) (page aligned, holes allowed): anonymous pages
 * are freed, pager pages put back. -EINVAL for bad arguments. */
int vm_munmap(struct vm_space *vs, void *addr, size_t len);
/* Change the protection of [addr, addr + len); every page of it must be
 * in an area (-ENOMEM otherwise, as POSIX says), -EINVAL for bad
 * arguments. */
int vm_mprotect(struct vm_space *vs, void *addr, size_t len, unsigned prot);
/* Write back the written pages of shared mappings in [addr, addr + len)
 * (see above); the first error of a writeback, or 0. -ENOMEM when part of
 * the range is not mapped. */
int vm_msync(struct vm_space *vs, void *addr, size_t len);
int vm_fault(struct vm_space *vs, uintptr_t va, unsigned access);
/* Remove the leaf at va if it maps the pager page pa (truncate, eviction:
 * the pager's reverse map says where its page is mapped); the area stays,
 * so the next access faults to the pager again. Flushes the TLB, calls the
 * pager's unmap and put_page. 0, or -ENOENT when va does not map pa. Takes
 * vs->lock: the caller must not hold a pager lock. */
int vm_unmap_pager_page(struct vm_space *vs, uintptr_t va, uint64_t pa);
void vm_space_stats(struct vm_space *vs, struct vm_fault_stats *st, uint64_t *resident);

/* The kernel's space for vm_mmap (kernel only): VM_AREA_BASE ..
 * + VM_AREA_SIZE, just above the runtime mapping region, in the same tree. */
#define VM_AREA_BASE (VM_KERNEL_BASE + VM_KERNEL_SIZE)
#define VM_AREA_SIZE (64ULL << 30)
struct vm_space *vm_kernel_space(void);
/*
 * The architecture fault handlers' slow path, called from an exception
 * handler with interrupts off: -ERANGE when va is outside the kernel's
 * space (the handler's own diagnosis applies), -EAGAIN when the faulting
 * context could not sleep (interrupts were off, or an interrupt handler),
 * otherwise vm_fault's result on the kernel space, run with interrupts
 * enabled (it may sleep). vm_fault_reason(rc) says what an error means,
 * for the panic message.
 */
int vm_kernel_fault_trap(uintptr_t va, unsigned access, bool irqs_were_on);
const char *vm_fault_reason(int rc);

/* Architecture hooks (arch/<arch>/vm.c). */
/* The live kernel root table holding VM_KERNEL_BASE's level-0 entry. */
pte_t *arch_vm_kernel_root(void);
/* Invalidate the TLB entries of [va, va + len) on every CPU, walk caches
 * included (pgt_ops.flush). */
void arch_vm_flush(uintptr_t va, size_t len);
/* Make new entries visible to the table walker (pgt_ops.sync). */
void arch_vm_sync(void);

#endif
