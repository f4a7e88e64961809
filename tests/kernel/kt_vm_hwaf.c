/*
 * In-kernel tests of the access-flag mode (arch_vm_hw_access_flag): with
 * hardware management (x86_64 always, aarch64 booted with hwaf=1 on a CPU
 * with FEAT_HAFDBS) a first touch sets accessed without a fault; in
 * software mode (aarch64 by default, or hwaf=1 on a CPU without it) it is
 * one access-flag fault resolved by the trap fast path. Either way the
 * page ends up accessed, and dirty after a write; clearing accessed (and
 * flushing the TLB entry) re-arms it. tests/kernel/run-ktests boots
 * aarch64 both ways with test=vm_hwaf*.
 */
#include <karst/arch.h>
#include <karst/kmem_kernel.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/vm.h>
#include <string.h>

static unsigned hwaf_state(uintptr_t va)
{
	unsigned prot = 0;
	if (!pgt_lookup(vm_kernel_pgtable(), va, NULL, &prot))
		return 0;
	return prot & MMU_STATE_MASK;
}

/* Map `order` pages clean and not accessed, read, re-arm, read, write at
 * byte offset off; the access-flag fault count must follow the mode. */
static void check_mode(unsigned order, size_t off)
{
	bool hw = arch_vm_hw_access_flag();
	uint64_t want = hw ? 0 : 1;
	size_t size = PAGE_SIZE << order;
	void *mem = page_alloc(order);
	KT_ASSERT(mem != NULL);
	memset(mem, 0x6b, size);
	uint8_t *va = vm_map_kernel(virt_to_phys(mem), size, MMU_READ | MMU_WRITE);
	KT_ASSERT(va != NULL);
	uintptr_t a = (uintptr_t)va + off;
	KT_EXPECT(hwaf_state(a) == 0);

	struct vm_stats s0, s1, s2, s3;
	vm_get_stats(&s0);
	KT_EXPECT(*(volatile uint8_t *)a == 0x6b);
	vm_get_stats(&s1);
	KT_EXPECT(s1.access_faults - s0.access_faults == want);
	KT_EXPECT(hwaf_state(a) == MMU_ACCESSED);

	/* Re-armed: the next read sets accessed again, the same way. */
	pgt_clear_accessed(vm_kernel_pgtable(), a);
	arch_vm_flush(a, PAGE_SIZE);
	KT_EXPECT(hwaf_state(a) == 0);
	KT_EXPECT(*(volatile uint8_t *)a == 0x6b);
	vm_get_stats(&s2);
	KT_EXPECT(s2.access_faults - s1.access_faults == want);
	KT_EXPECT(hwaf_state(a) == MMU_ACCESSED);

	/* A write marks it dirty: with hardware dirty state (x86_64,
	 * aarch64 HAFDBS=2) without a fault, otherwise by a dirty fault. */
	*(volatile uint8_t *)a = 0x96;
	vm_get_stats(&s3);
	KT_EXPECT(hwaf_state(a) == (MMU_ACCESSED | MMU_DIRTY));
	KT_EXPECT(((volatile uint8_t *)mem)[off] == 0x96);
	KT_EXPECT(s3.access_faults == s2.access_faults);
	if (!hw)
		KT_EXPECT(s3.dirty_faults - s2.dirty_faults == 1);
	printk("    %s access flag (%s): access-flag faults %lu, dirty faults %lu\n",
	       hw ? "hardware" : "software", order ? "2 MiB block" : "4 KiB page",
	       (unsigned long)(s3.access_faults - s0.access_faults),
	       (unsigned long)(s3.dirty_faults - s0.dirty_faults));

	KT_EXPECT(vm_unmap_kernel(va, size) == 0);
	page_free(mem, order);
}

KTEST(vm_hwaf_page)
{
	check_mode(0, 321);
}

KTEST(vm_hwaf_block)
{
	check_mode(9, (1u << 20) + 777);
}
