/*
 * x86_boot: from the PVH start info to kmain().
 *
 * The hvm_start_info (Xen's PVH ABI, which QEMU implements) gives the
 * command line and the E820-style memory map; both are copied out before
 * the allocators can reuse their memory. The kernel image and the first
 * MiB (BIOS data, the start info itself) are reserved.
 */
#include <arch/cpu.h>
#include <karst/arch.h>
#include <karst/printk.h>
#include <string.h>

#define PVH_MAGIC 0x336ec578

struct hvm_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	uint32_t memmap_entries, reserved;
};

struct hvm_memmap_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

void x86_console_init(void);
void x86_traps_init(void);
void x86_time_init(void);
void x86_acpi_init(uint64_t rsdp_pa);
void x86_apic_init(void);
void x86_fpu_init(void);

static struct boot_info boot_info;
static char cmdline[2048];

/* Debian's static libraries read their stack canary at %fs:0x28. */
static struct {
	uint64_t pad[5];
	uint64_t canary;
} __aligned(64) fs_block;

static void add_region(struct boot_region *r, int *n, uint64_t base, uint64_t size)
{
	if (*n < BOOT_MAX_REGIONS && size)
		r[(*n)++] = (struct boot_region){base, size};
}

void x86_boot(uint32_t start_info_pa)
{
	x86_console_init();
	x86_traps_init();
	x86_fpu_init();
	extern uintptr_t __stack_chk_guard;
	fs_block.canary = __stack_chk_guard;
	wrmsr(MSR_FS_BASE, (uintptr_t)&fs_block);

	const struct hvm_start_info *si = (const void *)(uintptr_t)start_info_pa;
	if (!si || si->magic != PVH_MAGIC)
		panic("x86_boot: no PVH start info (magic %#x); boot with QEMU -kernel",
		      si ? si->magic : 0);
	if (si->cmdline_paddr) {
		strncpy(cmdline, (const char *)(uintptr_t)si->cmdline_paddr, sizeof(cmdline) - 1);
	}
	boot_info.cmdline = cmdline;
	boot_info.machine = "QEMU x86_64 (PVH)";
	if (si->version < 1 || !si->memmap_paddr)
		panic("x86_boot: PVH start info v%u has no memory map", si->version);
	const struct hvm_memmap_entry *mm = (const void *)(uintptr_t)si->memmap_paddr;
	for (uint32_t i = 0; i < si->memmap_entries; i++)
		if (mm[i].type == 1)
			add_region(boot_info.ram, &boot_info.nram, mm[i].addr, mm[i].size);
	add_region(boot_info.reserved, &boot_info.nreserved, 0, 0x100000);
	add_region(boot_info.reserved, &boot_info.nreserved, (uintptr_t)__kernel_start,
		   (uintptr_t)__kernel_end - (uintptr_t)__kernel_start);
	x86_acpi_init(si->rsdp_paddr);
	/* Everything from the start info is copied: unmap page 0 (boot_pt0
	 * serves both the identity map and the direct map). */
	extern uint64_t boot_pt0[512];
	boot_pt0[0] = 0;
	__asm__ __volatile__("invlpg (%0)" ::"r"(0UL) : "memory");
	__asm__ __volatile__("invlpg (%0)" ::"r"(DIRECT_MAP_BASE) : "memory");
	x86_time_init();
	x86_apic_init();
	kmain(&boot_info);
}
