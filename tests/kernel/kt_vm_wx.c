/*
 * In-kernel tests of the kernel image's W^X mapping (arch/<arch>/boot.S,
 * bounds from arch/<arch>/kernel.ld): the live tables are walked with the
 * portable walker and real accesses are made.
 *
 *   identity map (where the kernel runs; x86_64: slot 0 of the CR3 root,
 *   aarch64: the TTBR0 root): text read+execute, rodata read-only, data and
 *   bss read/write, the last two no-execute, each a 4 KiB page made as
 *   pte_make_leaf makes it (global, accessed, dirty when writable);
 *   direct map (arch_vm_kernel_root: x86_64 the same root, aarch64 TTBR1):
 *   the image's text and rodata read-only, data and bss read/write, nothing
 *   executable, other RAM read/write and not executable either.
 *
 * Writing to rodata or text, and executing data or the direct map's alias
 * of text, must fault (a trap-raised panic, caught by KT_EXPECT_PANIC).
 */
#include <arch/cpu.h>
#include <karst/arch.h>
#include <karst/kmem_kernel.h>
#include <karst/ktest.h>
#include <karst/pgtable.h>
#include <karst/printk.h>
#include <karst/vm.h>

extern char __rodata_start[], __rodata_end[], __data_start[], __bss_start[], __bss_end[];

static const volatile uint32_t wx_const = 0x5a5aa5a5u;
static volatile uint32_t wx_data = 1;
static volatile uint32_t wx_bss;

#ifdef __aarch64__
/* ret */
static uint32_t wx_code[4] __aligned(16) = {0xd65f03c0u, 0xd65f03c0u, 0xd65f03c0u, 0xd65f03c0u};
#else
/* ret */
static uint8_t wx_code[16] __aligned(16) = {0xc3, 0xc3, 0xc3, 0xc3};
#endif

__attribute__((noinline)) static int wx_ret42(void)
{
	return 42;
}

/* The tree the kernel runs in (the image's identity map). */
static struct pgtable image_pt(void)
{
#ifdef __aarch64__
	uint64_t root = READ_SYSREG(ttbr0_el1) & 0x0000fffffffff000ULL;
#else
	uint64_t root = READ_CR(3) & 0x000ffffffffff000ULL;
#endif
	return (struct pgtable){.root = phys_to_virt(root), .root_pa = root, .ntables = 1};
}

/* The tree holding the direct map. */
static struct pgtable dmap_pt(void)
{
	pte_t *root = arch_vm_kernel_root();
	return (struct pgtable){.root = root, .root_pa = virt_to_phys(root), .ntables = 1};
}

static unsigned access_of(struct pgtable *pt, uintptr_t va)
{
	unsigned prot = 0;
	if (!pgt_lookup(pt, va, NULL, &prot))
		return 0;
	return prot & MMU_ACCESS_MASK;
}

/* What the image's page at identity address va should allow. */
static unsigned image_access(uintptr_t va, bool direct_map)
{
	if (va < (uintptr_t)__rodata_start)
		return direct_map ? MMU_READ : MMU_READ | MMU_EXEC;
	if (va < (uintptr_t)__rodata_end)
		return MMU_READ;
	return MMU_READ | MMU_WRITE;
}

/* Check every page of the image in one map: a 4 KiB leaf to the right
 * frame, encoded exactly as pte_make_leaf encodes it. Returns the number
 * of bad pages and prints the first. */
static size_t check_image_map(struct pgtable *pt, bool direct_map)
{
	size_t bad = 0;
	for (uintptr_t va = (uintptr_t)__kernel_start; va < (uintptr_t)__kernel_end;
	     va += PAGE_SIZE) {
		uintptr_t at = direct_map ? (uintptr_t)phys_to_virt(va) : va;
		unsigned access = image_access(va, direct_map);
		int level = -1;
		pte_t *ep = pgt_walk(pt, at, &level);
		pte_t e = ep ? pgt_entry_load(ep) : 0;
		pte_t want = pte_make_leaf(va, MMU_LEAF_LEVEL, access | MMU_GLOBAL, true,
					   (access & MMU_WRITE) != 0);
		if (ep && level == MMU_LEAF_LEVEL && e == want && access_of(pt, at) == access)
			continue;
		if (bad++ == 0)
			printk("    %s map: page 0x%lx: level %d entry %#lx, want %#lx\n",
			       direct_map ? "direct" : "identity", (unsigned long)at, level,
			       (unsigned long)e, (unsigned long)want);
	}
	return bad;
}

KTEST(vm_wx_image_pages)
{
	KT_ASSERT((uintptr_t)__kernel_start < (uintptr_t)__rodata_start);
	KT_ASSERT((uintptr_t)__rodata_start < (uintptr_t)__rodata_end);
	KT_ASSERT(__rodata_end == __data_start);
	KT_ASSERT((uintptr_t)__data_start < (uintptr_t)__kernel_end);
	KT_EXPECT(((uintptr_t)__rodata_start & PAGE_MASK) == 0);
	KT_EXPECT(((uintptr_t)__data_start & PAGE_MASK) == 0);
	KT_EXPECT(((uintptr_t)__kernel_end & PAGE_MASK) == 0);
	struct pgtable id = image_pt(), dm = dmap_pt();
	KT_EXPECT(check_image_map(&id, false) == 0);
	KT_EXPECT(check_image_map(&dm, true) == 0);
	printk("    text %lu KiB r-x, rodata %lu KiB r--, data+bss %lu KiB rw-\n",
	       (unsigned long)(__rodata_start - __kernel_start) >> 10,
	       (unsigned long)(__rodata_end - __rodata_start) >> 10,
	       (unsigned long)(__kernel_end - __data_start) >> 10);
}

KTEST(vm_wx_objects)
{
	struct pgtable id = image_pt(), dm = dmap_pt();
	uintptr_t text = (uintptr_t)&wx_ret42, ro = (uintptr_t)&wx_const;
	uintptr_t data = (uintptr_t)&wx_data, bss = (uintptr_t)&wx_bss;
	/* Each object is where the test means it to be. */
	KT_EXPECT(text >= (uintptr_t)__kernel_start && text < (uintptr_t)__rodata_start);
	KT_EXPECT(ro >= (uintptr_t)__rodata_start && ro < (uintptr_t)__rodata_end);
	KT_EXPECT(data >= (uintptr_t)__data_start && data < (uintptr_t)__bss_start);
	KT_EXPECT(bss >= (uintptr_t)__bss_start && bss < (uintptr_t)__bss_end);

	KT_EXPECT(access_of(&id, text) == (MMU_READ | MMU_EXEC));
	KT_EXPECT(access_of(&id, ro) == MMU_READ);
	KT_EXPECT(access_of(&id, data) == (MMU_READ | MMU_WRITE));
	KT_EXPECT(access_of(&id, bss) == (MMU_READ | MMU_WRITE));
	/* The direct map's aliases: never executable, text read-only too. */
	KT_EXPECT(access_of(&dm, (uintptr_t)phys_to_virt(text)) == MMU_READ);
	KT_EXPECT(access_of(&dm, (uintptr_t)phys_to_virt(ro)) == MMU_READ);
	KT_EXPECT(access_of(&dm, (uintptr_t)phys_to_virt(data)) == (MMU_READ | MMU_WRITE));
	KT_EXPECT(access_of(&dm, (uintptr_t)phys_to_virt(bss)) == (MMU_READ | MMU_WRITE));

	/* The image's text is the only executable memory: RAM beyond the
	 * image in both maps, the boot stack and a fresh page are not. */
	KT_EXPECT(access_of(&id, (uintptr_t)__kernel_end) == (MMU_READ | MMU_WRITE));
	KT_EXPECT(access_of(&dm, (uintptr_t)phys_to_virt((uintptr_t)__kernel_end)) ==
		  (MMU_READ | MMU_WRITE));
	void *page = page_alloc(0);
	KT_ASSERT(page != NULL);
	KT_EXPECT(access_of(&dm, (uintptr_t)page) == (MMU_READ | MMU_WRITE));
	KT_EXPECT(access_of(&id, virt_to_phys(page)) == 0 ||
		  access_of(&id, virt_to_phys(page)) == (MMU_READ | MMU_WRITE));
	page_free(page, 0);

	/* Reads and writes that must work. */
	KT_EXPECT(wx_ret42() == 42);
	KT_EXPECT(wx_const == 0x5a5aa5a5u);
	wx_data = wx_data + 1;
	wx_bss = wx_bss + 1;
	KT_EXPECT(wx_data >= 2 && wx_bss >= 1);
	volatile uint32_t *dm_data = phys_to_virt(data);
	*dm_data = 77;
	KT_EXPECT(wx_data == 77);
}

KTEST(vm_wx_null_page_unmapped)
{
	struct pgtable id = image_pt();
	KT_EXPECT(!pgt_lookup(&id, 0, NULL, NULL));
	KT_EXPECT(!pgt_lookup(&id, PAGE_SIZE - 1, NULL, NULL));
}

#ifdef __x86_64__
KTEST(vm_wx_x86_control_bits)
{
	KT_EXPECT(READ_CR(0) & (1u << 16));	   /* CR0.WP */
	KT_EXPECT(rdmsr(0xc0000080) & (1u << 11)); /* EFER.NXE */
}
#endif

KTEST(vm_wx_write_rodata_panics)
{
	volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)&wx_const;
	KT_EXPECT_PANIC(*p = 0x12345678u);
	KT_EXPECT(wx_const == 0x5a5aa5a5u);
	/* Read-only in the direct map too (the same value: nothing changes
	 * should the write go through). */
	volatile uint32_t *dp = phys_to_virt((uintptr_t)&wx_const);
	KT_EXPECT_PANIC(*dp = 0x5a5aa5a5u);
}

KTEST(vm_wx_write_text_panics)
{
	volatile uint8_t *t = (volatile uint8_t *)(uintptr_t)&wx_ret42;
	uint8_t b = *t;
	KT_EXPECT_PANIC(*t = b);
	volatile uint8_t *dt = phys_to_virt((uintptr_t)&wx_ret42);
	KT_EXPECT_PANIC(*dt = b);
	KT_EXPECT(wx_ret42() == 42);
}

KTEST(vm_wx_exec_data_panics)
{
	/* wx_code holds return instructions: were data executable, the
	 * call would simply return. */
	int (*volatile fn)(void) = (int (*)(void))(uintptr_t)wx_code;
	KT_EXPECT_PANIC(fn());
	/* The direct map's alias of text is not executable either. */
	fn = (int (*)(void))phys_to_virt((uintptr_t)&wx_ret42);
	KT_EXPECT_PANIC(fn());
}
