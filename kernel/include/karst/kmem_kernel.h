/*
 * The kernel's global allocators behind <karst/kmem.h> (kernel only).
 */
#ifndef KARST_KMEM_KERNEL_H
#define KARST_KMEM_KERNEL_H

#include <karst/arch.h>
#include <karst/kmalloc.h>

extern struct page_allocator kernel_pa;
extern struct kma kernel_kma;

/* Bring up the allocators over the boot memory map, minus reserved ranges. */
void kmem_init(const struct boot_info *bi);
/* Bytes of RAM found at boot and handed to the allocator. */
uint64_t kmem_ram_found(void);
void kmem_print_stats(void);

/* Whole pages by order, physically contiguous, from the direct map. */
void *page_alloc(unsigned int order);
void page_free(void *va, unsigned int order);

/* Subtract the reserved ranges from the RAM ranges (portable; tested). */
int memmap_usable(const struct boot_region *ram, int nram, const struct boot_region *rsv, int nrsv,
		  struct boot_region *out, int max_out);

#endif
