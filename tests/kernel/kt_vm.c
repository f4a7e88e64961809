/*
 * In-kernel tests of the runtime mapping region (<karst/vm.h>): accessed
 * and dirty state through real accesses, on pages and 2 MiB blocks. On
 * aarch64 (TCR_EL1.HA/HD off) each first touch is an access-flag fault and
 * each first write a dirty fault, resolved by the trap fast path; on
 * x86_64 the CPU sets A and D itself and no fault is counted.
 *
 * pgt_clear_accessed does not flush (the scanner's contract), so the tests
 * flush the page's TLB entry after clearing: a cached entry would let the
 * next access through without setting accessed again.
 */
#include <karst/arch.h>
#include <karst/kmem_kernel.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/thread.h>
#include <karst/vm.h>
#include <string.h>

/* Accessed/dirty set by software fault handlers (aarch64 without hwaf=1)
 * rather than by the CPU. */
#define SOFTWARE_AD (!arch_vm_hw_access_flag())

static unsigned state_of(uintptr_t va)
{
	unsigned prot = 0;
	if (!pgt_lookup(vm_kernel_pgtable(), va, NULL, &prot))
		return 0;
	return prot & MMU_STATE_MASK;
}

static void clear_accessed(uintptr_t va)
{
	pgt_clear_accessed(vm_kernel_pgtable(), va);
	arch_vm_flush(va, PAGE_SIZE);
}

/* Map `order` pages of fresh memory clean and not accessed, run the
 * read/write sequence at byte offset `off`, unmap. */
static void check_accessed_dirty(unsigned order, size_t off, int want_level)
{
	size_t size = PAGE_SIZE << order;
	void *mem = page_alloc(order);
	KT_ASSERT(mem != NULL);
	memset(mem, 0x5a, size);
	uint8_t *va = vm_map_kernel(virt_to_phys(mem), size, MMU_READ | MMU_WRITE);
	KT_ASSERT(va != NULL);
	uintptr_t a = (uintptr_t)va + off;
	int level = -1;
	KT_EXPECT(pgt_walk(vm_kernel_pgtable(), a, &level) != NULL);
	KT_EXPECT(level == want_level);
	KT_EXPECT(state_of(a) == 0);

	struct vm_stats s0, s1, s2, s3;
	vm_get_stats(&s0);
	KT_EXPECT(*(volatile uint8_t *)a == 0x5a); /* first touch */
	vm_get_stats(&s1);
	KT_EXPECT(state_of(a) == MMU_ACCESSED);
	KT_EXPECT(s1.access_faults - s0.access_faults == (SOFTWARE_AD ? 1 : 0));

	clear_accessed(a);
	KT_EXPECT(state_of(a) == 0);
	KT_EXPECT(*(volatile uint8_t *)a == 0x5a);
	vm_get_stats(&s2);
	KT_EXPECT(state_of(a) == MMU_ACCESSED); /* set again, dirty still clear */
	KT_EXPECT(s2.access_faults - s1.access_faults == (SOFTWARE_AD ? 1 : 0));

	*(volatile uint8_t *)a = 0xa5;
	vm_get_stats(&s3);
	KT_EXPECT(state_of(a) == (MMU_ACCESSED | MMU_DIRTY));
	KT_EXPECT(s3.dirty_faults - s2.dirty_faults == (SOFTWARE_AD ? 1 : 0));
	KT_EXPECT(((volatile uint8_t *)mem)[off] == 0xa5);

	/* Cleaned (an msync), then written again: dirty again, not lost. */
	KT_EXPECT(pgt_clear_dirty(vm_kernel_pgtable(), a));
	KT_EXPECT(state_of(a) == MMU_ACCESSED);
	*(volatile uint8_t *)a = 0x3c;
	KT_EXPECT(state_of(a) == (MMU_ACCESSED | MMU_DIRTY));
	KT_EXPECT(((volatile uint8_t *)mem)[off] == 0x3c);

	KT_EXPECT(vm_unmap_kernel(va, size) == 0);
	KT_EXPECT(!pgt_lookup(vm_kernel_pgtable(), a, NULL, NULL));
	page_free(mem, order);
}

KTEST(vm_page_accessed_dirty)
{
	check_accessed_dirty(0, 123, MMU_LEAF_LEVEL);
}

KTEST(vm_block_accessed_dirty)
{
	check_accessed_dirty(9, (1u << 20) + 4567, 2);
}

/* Many pages: a thread writes each page once while this thread keeps
 * clearing accessed on all of them; no write may lose its dirty state to a
 * concurrent test-and-clear. Then, with accessed cleared everywhere, the
 * thread reads every page: every page is accessed again. The pages are
 * NCHUNKS mappings of CHUNK_PAGES 4 KiB pages (CHUNK_PAGES is not a 2 MiB
 * multiple, so the mappings use 4 KiB leaves). */
#define NCHUNKS	    4
#define CHUNK_PAGES 1023 /* of an order-10 block */
#define NPAGES	    (NCHUNKS * CHUNK_PAGES)

struct pages {
	uint8_t *mem[NCHUNKS];
	uint8_t *va[NCHUNKS];
};

static uintptr_t page_va(const struct pages *pg, size_t i)
{
	return (uintptr_t)pg->va[i / CHUNK_PAGES] + (i % CHUNK_PAGES) * PAGE_SIZE;
}

static volatile uint8_t *page_mem(const struct pages *pg, size_t i)
{
	return pg->mem[i / CHUNK_PAGES] + (i % CHUNK_PAGES) * PAGE_SIZE;
}

struct toucher {
	const struct pages *pg;
	bool write;
	volatile bool done;
};

static void toucher_fn(void *arg)
{
	struct toucher *t = arg;
	for (size_t i = 0; i < NPAGES; i++) {
		volatile uint8_t *p = (volatile uint8_t *)page_va(t->pg, i) + (i % 64) * 8;
		if (t->write)
			*p = (uint8_t)i;
		else
			(void)*p;
		if (i % 32 == 0)
			thread_yield();
	}
	t->done = true;
}

static size_t count_state(const struct pages *pg, unsigned flag)
{
	size_t n = 0;
	for (size_t i = 0; i < NPAGES; i++)
		if (state_of(page_va(pg, i)) & flag)
			n++;
	return n;
}

static void clear_all(const struct pages *pg, size_t *cleared)
{
	struct pgtable *pt = vm_kernel_pgtable();
	for (size_t i = 0; i < NPAGES; i++) {
		if (pgt_clear_accessed(pt, page_va(pg, i)) && cleared)
			(*cleared)++;
		if (cleared && i % 128 == 0)
			thread_yield();
	}
	for (int c = 0; c < NCHUNKS; c++)
		arch_vm_flush((uintptr_t)pg->va[c], CHUNK_PAGES * PAGE_SIZE);
}

KTEST(vm_clear_accessed_concurrent)
{
	static struct pages pg;
	memset(&pg, 0, sizeof(pg));
	for (int c = 0; c < NCHUNKS; c++) {
		pg.mem[c] = page_alloc(10);
		KT_ASSERT(pg.mem[c] != NULL);
		pg.va[c] = vm_map_kernel(virt_to_phys(pg.mem[c]), CHUNK_PAGES * PAGE_SIZE,
					 MMU_READ | MMU_WRITE);
		KT_ASSERT(pg.va[c] != NULL);
	}
	struct vm_stats s0, s1;
	vm_get_stats(&s0);

	struct toucher t = {.pg = &pg, .write = true};
	struct thread *th = thread_create("kt_vm_touch", toucher_fn, &t, THREAD_PRIO_DEFAULT);
	KT_ASSERT(th != NULL);
	size_t cleared = 0;
	while (!t.done)
		clear_all(&pg, &cleared);
	thread_join(th);
	vm_get_stats(&s1);
	KT_EXPECT(count_state(&pg, MMU_DIRTY) == NPAGES);
	KT_EXPECT(cleared > 0);
	printk("    %d pages, %lu accessed flags cleared; faults: access-flag %lu, dirty %lu\n",
	       NPAGES, (unsigned long)cleared, (unsigned long)(s1.access_faults - s0.access_faults),
	       (unsigned long)(s1.dirty_faults - s0.dirty_faults));
	if (SOFTWARE_AD)
		KT_EXPECT(s1.access_faults + s1.dirty_faults - s0.access_faults - s0.dirty_faults >=
			  NPAGES);
	size_t bad = 0;
	for (size_t i = 0; i < NPAGES; i++)
		if (page_mem(&pg, i)[(i % 64) * 8] != (uint8_t)i)
			bad++;
	KT_EXPECT(bad == 0);

	/* Clear everything, then read everything: every page accessed. */
	clear_all(&pg, NULL);
	KT_EXPECT(count_state(&pg, MMU_ACCESSED) == 0);
	KT_EXPECT(count_state(&pg, MMU_DIRTY) == NPAGES);
	t.write = false;
	t.done = false;
	th = thread_create("kt_vm_touch", toucher_fn, &t, THREAD_PRIO_DEFAULT);
	KT_ASSERT(th != NULL);
	thread_join(th);
	KT_EXPECT(count_state(&pg, MMU_ACCESSED) == NPAGES);
	KT_EXPECT(count_state(&pg, MMU_DIRTY) == NPAGES);

	for (int c = 0; c < NCHUNKS; c++) {
		KT_EXPECT(vm_unmap_kernel(pg.va[c], CHUNK_PAGES * PAGE_SIZE) == 0);
		page_free(pg.mem[c], 10);
	}
}

KTEST(vm_write_read_only_panics)
{
	void *mem = page_alloc(0);
	KT_ASSERT(mem != NULL);
	/* Accessed already, so on aarch64 the write is a permission fault on a
	 * leaf without the software write bit: not a dirty fault. */
	volatile uint32_t *va =
	    vm_map_kernel(virt_to_phys(mem), PAGE_SIZE, MMU_READ | MMU_ACCESSED);
	KT_ASSERT(va != NULL);
	struct vm_stats s0, s1;
	vm_get_stats(&s0);
	(void)*va;
	KT_EXPECT_PANIC(*va = 1);
	vm_get_stats(&s1);
	KT_EXPECT(s1.dirty_faults == s0.dirty_faults);
	KT_EXPECT(state_of((uintptr_t)va) == MMU_ACCESSED);
	KT_EXPECT(vm_unmap_kernel((void *)va, PAGE_SIZE) == 0);
	page_free(mem, 0);
}
