/*
 * In-kernel tests of the allocators over the machine's real memory.
 */
#include <karst/arch.h>
#include <karst/kmem.h>
#include <karst/kmem_kernel.h>
#include <karst/ktest.h>
#include <string.h>

KTEST(mem_found_matches_boot_map)
{
	struct pa_stats st;
	pa_get_stats(&kernel_pa, &st);
	KT_EXPECT(kmem_ram_found() > 0);
	/* Managed + memmap pages fit in RAM found, and most of RAM is managed. */
	uint64_t managed = (uint64_t)(st.total_pages + st.memmap_pages) * PAGE_SIZE;
	KT_EXPECT(managed <= kmem_ram_found());
	KT_EXPECT(managed >= kmem_ram_found() / 2);
}

KTEST(mem_pages_avoid_kernel_image)
{
	uintptr_t ks = (uintptr_t)__kernel_start, ke = (uintptr_t)__kernel_end;
	for (int i = 0; i < 256; i++) {
		void *p = page_alloc(0);
		KT_ASSERT(p != NULL);
		uint64_t pa = virt_to_phys(p);
		KT_EXPECT(pa + PAGE_SIZE <= virt_to_phys((void *)ks) ||
			  pa >= virt_to_phys((void *)ke));
		KT_EXPECT(pa >= 0x100000 || pa == 0 ? pa != 0 : true);
		memset(p, 0x5a, PAGE_SIZE);
		page_free(p, 0);
	}
}

KTEST(mem_alloc_all_and_free_all)
{
	struct pa_stats before, mid, after;
	pa_get_stats(&kernel_pa, &before);
	/* Take every free 2 MiB block, tag each, check tags, give them back. */
	void *head = NULL;
	size_t n = 0;
	void *p;
	while ((p = page_alloc(9)) != NULL) {
		*(void **)p = head;
		((uint64_t *)p)[1] = (uint64_t)(uintptr_t)p ^ 0xabcdef;
		((uint64_t *)p)[512 * 511] = n;
		head = p;
		n++;
	}
	pa_get_stats(&kernel_pa, &mid);
	KT_EXPECT(n > 0);
	KT_EXPECT(mid.free_blocks[9] == 0 && mid.free_blocks[10] == 0);
	size_t k = n;
	while (head) {
		void *next = *(void **)head;
		KT_EXPECT(((uint64_t *)head)[1] == ((uint64_t)(uintptr_t)head ^ 0xabcdef));
		KT_EXPECT(((uint64_t *)head)[512 * 511] == --k);
		KT_EXPECT((virt_to_phys(head) & ((2UL << 20) - 1)) == 0);
		page_free(head, 9);
		head = next;
	}
	pa_get_stats(&kernel_pa, &after);
	KT_EXPECT(after.free_pages == before.free_pages);
}

KTEST(mem_kmalloc_sizes_and_alignment)
{
	void *ptrs[64];
	for (int i = 0; i < 64; i++) {
		size_t sz = (size_t)1 << (i % 15);
		ptrs[i] = kmalloc(sz);
		KT_ASSERT(ptrs[i] != NULL);
		KT_EXPECT(((uintptr_t)ptrs[i] & 15) == 0);
		if (sz >= PAGE_SIZE)
			KT_EXPECT(((uintptr_t)ptrs[i] & PAGE_MASK) == 0);
		memset(ptrs[i], i, sz);
	}
	for (int i = 0; i < 64; i++) {
		size_t sz = (size_t)1 << (i % 15);
		KT_EXPECT(((unsigned char *)ptrs[i])[sz - 1] == (unsigned char)i);
		kfree(ptrs[i]);
	}
	void *a = kmalloc_aligned(100, 256);
	KT_EXPECT(a && ((uintptr_t)a & 255) == 0);
	kfree(a);
	char *z = kzalloc(3000);
	KT_ASSERT(z != NULL);
	for (int i = 0; i < 3000; i++)
		KT_EXPECT(z[i] == 0);
	kfree(z);
	KT_EXPECT(kcalloc((size_t)1 << 40, (size_t)1 << 40) == NULL);
}

KTEST(mem_kpage_runs_are_exact)
{
	struct pa_stats a, b;
	pa_get_stats(&kernel_pa, &a);
	void *p = kpage_alloc(3);
	KT_ASSERT(p != NULL);
	pa_get_stats(&kernel_pa, &b);
	KT_EXPECT(a.free_pages - b.free_pages == 3);
	kpage_free(p, 3);
	pa_get_stats(&kernel_pa, &b);
	KT_EXPECT(a.free_pages == b.free_pages);
}
