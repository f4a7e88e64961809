/*
 * The kernel's global page allocator and kmalloc instance, fed from the
 * boot memory map through the direct map of RAM.
 */
#include <karst/kmem.h>
#include <karst/kmem_kernel.h>
#include <karst/printk.h>
#include <karst/reclaim.h>
#include <string.h>

struct page_allocator kernel_pa;
struct kma kernel_kma;
static uint64_t ram_found;

void kmem_init(const struct boot_info *bi)
{
	struct boot_region usable[BOOT_MAX_REGIONS * 2];
	int n = memmap_usable(bi->ram, bi->nram, bi->reserved, bi->nreserved, usable,
			      (int)ARRAY_SIZE(usable));
	pa_init(&kernel_pa);
	for (int i = 0; i < bi->nram; i++)
		ram_found += bi->ram[i].size;
	for (int i = 0; i < n; i++) {
		int e = arch_map_ram(usable[i].base, usable[i].size);
		if (e) {
			printk("kmem: cannot map RAM %#lx+%#lx (error %d), skipped\n",
			       (unsigned long)usable[i].base, (unsigned long)usable[i].size, e);
			continue;
		}
		if (!pa_add_region(&kernel_pa, phys_to_virt(usable[i].base), usable[i].base,
				   usable[i].size))
			printk("kmem: RAM range %#lx+%#lx not used\n",
			       (unsigned long)usable[i].base, (unsigned long)usable[i].size);
	}
	kma_init(&kernel_kma, &kernel_pa);
}

uint64_t kmem_ram_found(void)
{
	return ram_found;
}

void *page_alloc(unsigned int order)
{
	struct page *pg = pa_alloc(&kernel_pa, order);
	return pg ? pa_page_to_virt(&kernel_pa, pg) : NULL;
}

void page_free(void *va, unsigned int order)
{
	struct page *pg = pa_virt_to_page(&kernel_pa, va);
	VERIFY_MSG(pg != NULL, "page_free of %p: not a page frame", va);
	pa_free(&kernel_pa, pg, order);
}

/* A failed allocation waits for reclaimd once where it may (reclaim.c). */
void *kmalloc(size_t size)
{
	void *p = kma_alloc(&kernel_kma, size);
	if (!p && reclaim_alloc_wait())
		p = kma_alloc(&kernel_kma, size);
	return p;
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

void *kcalloc(size_t n, size_t size)
{
	if (size && n > SIZE_MAX / size)
		return NULL;
	return kzalloc(n * size);
}

void *kmalloc_aligned(size_t size, size_t align)
{
	void *p = kma_alloc_aligned(&kernel_kma, size, align);
	if (!p && reclaim_alloc_wait())
		p = kma_alloc_aligned(&kernel_kma, size, align);
	return p;
}

void kfree(void *p)
{
	kma_free(&kernel_kma, p);
}

void *kpage_alloc(size_t npages)
{
	struct page *pg = pa_alloc_run(&kernel_pa, npages);
	if (!pg && reclaim_alloc_wait())
		pg = pa_alloc_run(&kernel_pa, npages);
	return pg ? pa_page_to_virt(&kernel_pa, pg) : NULL;
}

void kpage_free(void *p, size_t npages)
{
	if (!p)
		return;
	struct page *pg = pa_virt_to_page(&kernel_pa, p);
	VERIFY_MSG(pg != NULL, "kpage_free of %p: not a page frame", p);
	pa_free_run(&kernel_pa, pg, npages);
}

void kmem_print_stats(void)
{
	struct pa_stats ps;
	struct kma_stats ks;
	pa_get_stats(&kernel_pa, &ps);
	kma_get_stats(&kernel_kma, &ks);
	printk("RAM found:      %lu KiB\n", (unsigned long)(ram_found >> 10));
	printk("pages managed:  %lu (%lu KiB), free %lu (%lu KiB), memmap %lu pages\n",
	       (unsigned long)ps.total_pages, (unsigned long)(ps.total_pages * 4),
	       (unsigned long)ps.free_pages, (unsigned long)(ps.free_pages * 4),
	       (unsigned long)ps.memmap_pages);
	printk("page allocs %lu frees %lu failures %lu splits %lu merges %lu\n",
	       (unsigned long)ps.allocs, (unsigned long)ps.frees, (unsigned long)ps.failures,
	       (unsigned long)ps.splits, (unsigned long)ps.merges);
	printk("free blocks by order:");
	for (int o = 0; o <= PA_MAX_ORDER; o++)
		printk(" %lu", (unsigned long)ps.free_blocks[o]);
	printk("\nkmalloc: %lu bytes in use, large %lu pages, failures %lu\n",
	       (unsigned long)ks.bytes_in_use, (unsigned long)ks.large_pages,
	       (unsigned long)ks.failures);
	printk("  %6s %10s %10s %8s %6s\n", "size", "allocs", "frees", "in use", "slabs");
	for (int i = 0; i < KMA_NCLASSES; i++)
		if (ks.cls[i].allocs)
			printk("  %6u %10lu %10lu %8lu %6lu\n", ks.cls[i].size,
			       (unsigned long)ks.cls[i].allocs, (unsigned long)ks.cls[i].frees,
			       (unsigned long)ks.cls[i].in_use, (unsigned long)ks.cls[i].slabs);
}
