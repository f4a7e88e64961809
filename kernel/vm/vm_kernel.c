/*
 * The kernel's runtime mapping region; see <karst/vm.h>.
 *
 * Virtual space is handed out first-fit from a bitmap of the region's
 * 4 KiB pages (VM_KERNEL_SIZE / PAGE_SIZE bits), under vm_lock, which
 * also serialises pgt_map / pgt_unmap on the tree. Unmaps keep emptied
 * tables (PGT_KEEP_TABLES) so that the lock-free fault path and
 * pgt_lookup / pgt_clear_accessed never read a freed table. A kept level-3
 * table would stop the walker from putting a 2 MiB block in its place, so
 * the region is split: mappings of 4 KiB pages take the lower half, 2 MiB
 * block mappings the upper half, whose level-2 entries are only ever
 * blocks or empty.
 *
 * The fault fast path is in vm_fault_fast.c, the counters in vm_stats.c,
 * the `vmstat` command in vm_cmds.c.
 */
#include "vm_kernel_internal.h"
#include <errno.h>
#include <karst/arch.h>
#include <karst/init.h>
#include <karst/kmem_kernel.h>
#include <karst/sync.h>
#include <karst/vm.h>

#define VM_PAGES      (VM_KERNEL_SIZE / PAGE_SIZE)
#define VM_WORDS      (VM_PAGES / 64)
#define VM_BLOCK_SIZE (2ULL << 20)

static struct mutex vm_lock;
static uint64_t vm_used[VM_WORDS]; /* bit set: page's VA taken (vm_lock) */
struct pgtable vm_pt;
bool vm_ready;
uint64_t vm_mapped_pages; /* vm_lock */

static void *vm_alloc_table(void *arg)
{
	(void)arg;
	return page_alloc(0);
}

static void vm_free_table(void *table, void *arg)
{
	(void)arg;
	page_free(table, 0);
}

static void vm_flush(uintptr_t va, size_t len, void *arg)
{
	(void)arg;
	arch_vm_flush(va, len);
}

static void vm_sync(void *arg)
{
	(void)arg;
	arch_vm_sync();
}

static const struct pgt_ops vm_ops = {
    .alloc_table = vm_alloc_table,
    .free_table = vm_free_table,
    .flush = vm_flush,
    .sync = vm_sync,
};

static bool bit_test(size_t i)
{
	return (vm_used[i / 64] >> (i % 64)) & 1;
}

static void bits_set(size_t first, size_t n, bool on)
{
	for (size_t i = first; i < first + n; i++) {
		if (on)
			vm_used[i / 64] |= 1ULL << (i % 64);
		else
			vm_used[i / 64] &= ~(1ULL << (i % 64));
	}
}

/* First free run of n pages starting at a multiple of align pages in the
 * half for this kind of mapping (blocks: align > 1), or VM_PAGES. vm_lock
 * held. */
static size_t va_find(size_t n, size_t align)
{
	size_t lo = align > 1 ? VM_PAGES / 2 : 0, hi = align > 1 ? VM_PAGES : VM_PAGES / 2;
	for (size_t start = lo; start + n <= hi; start += align) {
		size_t i = 0;
		while (i < n && !bit_test(start + i))
			i++;
		if (i == n)
			return start;
		/* Skip past the page in use. */
		size_t next = start + i + 1;
		start = (next + align - 1) / align * align - align;
	}
	return VM_PAGES;
}

static int vm_kernel_init(void)
{
	mutex_init(&vm_lock, "vm_kernel");
	pgt_adopt(&vm_pt, arch_vm_kernel_root(), &vm_ops);
	__atomic_store_n(&vm_ready, true, __ATOMIC_RELEASE);
	return 0;
}
KARST_INIT(INIT_EARLY, vm_kernel_init);

struct pgtable *vm_kernel_pgtable(void)
{
	return &vm_pt;
}

void *vm_map_kernel(uint64_t pa, size_t size, unsigned prot)
{
	if (!size || (pa & PAGE_MASK) || (size & PAGE_MASK) || size > VM_KERNEL_SIZE / 2)
		return NULL;
	bool blocks = !(pa & (VM_BLOCK_SIZE - 1)) && !(size & (VM_BLOCK_SIZE - 1));
	size_t n = size / PAGE_SIZE, align = blocks ? VM_BLOCK_SIZE / PAGE_SIZE : 1;
	unsigned pflags = prot & (MMU_PROT_MASK | MMU_STATE_MASK);
	if (pflags != prot)
		return NULL;
	mutex_lock(&vm_lock);
	size_t first = va_find(n, align);
	void *va = NULL;
	if (first != VM_PAGES) {
		uintptr_t v = VM_KERNEL_BASE + first * PAGE_SIZE;
		if (pgt_map(&vm_pt, v, pa, size, prot, blocks ? PGT_ALLOW_2M : 0) == 0) {
			bits_set(first, n, true);
			vm_mapped_pages += n;
			va = (void *)v;
		}
	}
	mutex_unlock(&vm_lock);
	return va;
}

int vm_unmap_kernel(void *va, size_t size)
{
	uintptr_t v = (uintptr_t)va;
	if (v < VM_KERNEL_BASE || v - VM_KERNEL_BASE >= VM_KERNEL_SIZE || (v & PAGE_MASK) ||
	    !size || (size & PAGE_MASK) || size > VM_KERNEL_BASE + VM_KERNEL_SIZE - v)
		return -EINVAL;
	size_t first = (v - VM_KERNEL_BASE) / PAGE_SIZE, n = size / PAGE_SIZE;
	mutex_lock(&vm_lock);
	int rc = pgt_unmap(&vm_pt, v, size, PGT_KEEP_TABLES, NULL, NULL);
	if (rc == 0) {
		bits_set(first, n, false);
		vm_mapped_pages -= n;
	}
	mutex_unlock(&vm_lock);
	return rc;
}
