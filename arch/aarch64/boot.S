/*
 * aarch64 entry on QEMU virt, booted as a Linux-style Image.
 *
 * QEMU enters at _head with the MMU off, x0 = device tree, at EL1 (or EL2
 * with virtualization=on, which we drop from). We record the counter for
 * the boot clock, let EL1 use FP/SIMD (Debian's libraries may; kernel code
 * does not), install the vectors, zero .bss, build the early tables and
 * turn the MMU on:
 *   TTBR0: identity map of 0x40000000-0x13fffffff (RAM, where the kernel
 *          runs); the first GiB stays unmapped so null pointers fault;
 *   TTBR1: the direct map at 0xffff800000000000: GiB 0 (the virt board's
 *          devices) as Device-nGnRnE, GiBs 1-4 as normal memory.
 * RAM is read/write and never executable (PXN) in both, in 1 GiB blocks,
 * except the GiB holding the kernel image: 2 MiB blocks, and the image's
 * 2 MiB chunks in 4 KiB pages. In the identity map the image is W^X, by
 * the linker script's page-aligned bounds: text read+execute, rodata
 * read-only, data and bss read/write, the last two PXN; the image's text
 * is the only executable memory these tables map. In the direct map the
 * image's text and rodata are read-only, its data and bss read/write, all
 * PXN. Everything is built before the MMU is on, so no live entry is ever
 * changed (no break-before-make to do).
 * Leaves use the encoding of <arch/pte.h> (pte_make_leaf with MMU_GLOBAL,
 * accessed, and dirty when writable: PTE_SW_WRITE and DBM with AP[2]
 * clear), so the portable walker decodes them and no access-flag or
 * first-write fault is ever taken on the image; tests/kernel/kt_vm_wx.c
 * checks that.
 * Then aarch64_boot(dtb) runs on the boot stack.
 */
#define MAIR_VALUE   0x44ff00  /* attr0 Device-nGnRnE, attr1 Normal WB, attr2 Normal NC */
#define PXN          (1 << 53)
#define UXN          (1 << 54)
#define AP_RO        (1 << 7)
/* Normal WB memory, inner shareable, accessed (AF), global. */
#define NORMAL       ((1 << 2) | (3 << 8) | (1 << 10) | UXN)
/* Writable and dirty (<arch/pte.h>): PTE_SW_WRITE, DBM, AP[2] clear. */
#define RW           ((1 << 55) | (1 << 51))
#define BLOCK_NORMAL ((1 << 0) | NORMAL | RW | PXN)
#define BLOCK_DEVICE ((1 << 0) | (0 << 2) | (1 << 10) | PXN | UXN)
#define PAGE_TEXT    (3 | NORMAL | AP_RO)
#define PAGE_RODATA  (3 | NORMAL | AP_RO | PXN)
#define PAGE_RW      (3 | NORMAL | RW | PXN)
#define TABLE        3
/* Tables for up to this many 2 MiB chunks of the image, per map. */
#define IMAGE_L3_TABLES 4
/* TCR: T0SZ=T1SZ=16, 4K granules, inner shareable WBWA walks, IPS set below. */
#define TCR_VALUE    ((16 << 0) | (1 << 8) | (1 << 10) | (3 << 12) | (0 << 14) | \
		      (16 << 16) | (1 << 24) | (1 << 26) | (3 << 28) | (2 << 30))
#define SCTLR_RES1   0x30d00800
#define SCTLR_MMU_ON (SCTLR_RES1 | (1 << 0) | (1 << 2) | (1 << 3) | (1 << 12))

	.section .text.head, "ax"
	.globl _head
_head:
	b primary_entry
	.long 0
	.quad 0x80000            /* text_offset */
	.quad __kernel_size      /* image_size */
	.quad 0x2                /* little endian, 4K pages, 2 MiB aligned base */
	.quad 0, 0, 0
	.ascii "ARM\x64"
	.long 0

	.section .text.boot, "ax"
primary_entry:
	mov x19, x0                      /* device tree */
	mrs x20, cntvct_el0              /* boot clock */
	mrs x1, CurrentEL
	lsr x1, x1, #2
	cmp x1, #2
	b.ne at_el1
	/* EL2: run EL1 in AArch64, give it the counters and FP, then eret. */
	mov x1, #(1 << 31)
	msr hcr_el2, x1
	mov x1, #3
	msr cnthctl_el2, x1
	msr cntvoff_el2, xzr
	mov x1, #0x33ff
	msr cptr_el2, x1
	ldr x1, =SCTLR_RES1
	msr sctlr_el1, x1
	mov x1, #0x3c5                   /* EL1h, DAIF masked */
	msr spsr_el2, x1
	adr x1, at_el1
	msr elr_el2, x1
	eret

at_el1:
	mov x1, #(3 << 20)               /* CPACR_EL1.FPEN: no FP traps */
	msr cpacr_el1, x1
	adr x1, vectors
	msr vbar_el1, x1
	isb

	/* Zero .bss. */
	ldr x1, =__bss_start
	ldr x2, =__bss_end
1:	cmp x1, x2
	b.hs 2f
	str xzr, [x1], #8
	b 1b
2:
	/* Early page tables. */
	ldr x1, =boot_l0_lo
	ldr x2, =boot_l1_lo
	orr x3, x2, #TABLE
	str x3, [x1]                     /* L0[0] -> identity L1 */
	ldr x1, =boot_l0_hi
	ldr x4, =boot_l1_hi
	orr x3, x4, #TABLE
	str x3, [x1, #256 * 8]           /* L0[256] -> direct-map L1 */
	ldr x3, =BLOCK_DEVICE
	str x3, [x4]                     /* direct map GiB 0: devices */
	ldr x5, =BLOCK_NORMAL
	mov x6, #1
3:	lsl x7, x6, #30
	orr x7, x7, x5
	str x7, [x2, x6, lsl #3]
	str x7, [x4, x6, lsl #3]
	add x6, x6, #1
	cmp x6, #5
	b.ne 3b

	/* The image's GiB (x9) in 2 MiB blocks, an L2 table per map. */
	ldr x8, =__kernel_start
	lsr x9, x8, #30
	lsl x10, x9, #30
	ldr x11, =boot_l2_id
	ldr x12, =boot_l2_dm
	mov x6, #0
4:	add x7, x10, x6, lsl #21
	orr x7, x7, x5
	str x7, [x11, x6, lsl #3]
	str x7, [x12, x6, lsl #3]
	add x6, x6, #1
	cmp x6, #512
	b.ne 4b
	orr x7, x11, #TABLE
	str x7, [x2, x9, lsl #3]
	orr x7, x12, #TABLE
	str x7, [x4, x9, lsl #3]

	/* The 4 KiB pages of the image's 2 MiB chunks [x13, x14), both maps:
	 * x0 the page, x6 its entry's offset in the tables, x7 / x3 its
	 * identity / direct-map entry. */
	and x13, x8, #~0x1fffff
	ldr x14, =__kernel_end + 0x1fffff
	and x14, x14, #~0x1fffff
	ldr x15, =boot_l3_id
	ldr x16, =boot_l3_dm
	ldr x17, =__rodata_start
	ldr x21, =__data_start
	ldr x22, =__kernel_end
	ldr x23, =PAGE_TEXT
	ldr x24, =PAGE_RODATA
	ldr x25, =PAGE_RW
	mov x0, x13
	mov x6, #0
5:	mov x7, x25                      /* outside the image, data, bss */
	mov x3, x25
	cmp x0, x8
	b.lo 6f
	cmp x0, x22
	b.hs 6f
	cmp x0, x21
	b.hs 6f
	mov x7, x24                      /* rodata */
	mov x3, x24
	cmp x0, x17
	b.hs 6f
	mov x7, x23                      /* text: executable, identity only */
6:	orr x7, x7, x0
	orr x3, x3, x0
	str x7, [x15, x6]
	str x3, [x16, x6]
	add x6, x6, #8
	add x0, x0, #0x1000
	cmp x0, x14
	b.lo 5b
	/* Hang the tables under the chunks' L2 entries. */
7:	ubfx x6, x13, #21, #9
	orr x7, x15, #TABLE
	str x7, [x11, x6, lsl #3]
	orr x7, x16, #TABLE
	str x7, [x12, x6, lsl #3]
	add x15, x15, #0x1000
	add x16, x16, #0x1000
	add x13, x13, #0x200000
	cmp x13, x14
	b.lo 7b

	ldr x1, =MAIR_VALUE
	msr mair_el1, x1
	ldr x1, =TCR_VALUE
	mrs x2, id_aa64mmfr0_el1         /* IPS = the CPU's PARange */
	and x2, x2, #7
	bfi x1, x2, #32, #3
	msr tcr_el1, x1
	ldr x1, =boot_l0_lo
	msr ttbr0_el1, x1
	ldr x1, =boot_l0_hi
	msr ttbr1_el1, x1
	isb
	tlbi vmalle1
	dsb nsh
	isb
	ldr x1, =SCTLR_MMU_ON
	msr sctlr_el1, x1
	isb

	ldr x1, =boot_stack_top
	mov sp, x1
	mov x29, xzr
	mov x30, xzr
	ldr x1, =boot_cntvct
	str x20, [x1]
	mov x0, x19
	bl aarch64_boot
4:	wfi
	b 4b

	/* For the linker script's check that the image fits the tables. */
	.globl boot_image_span_max
	.set boot_image_span_max, IMAGE_L3_TABLES * 0x200000

	.section .bss
	.p2align 12
	.globl boot_l0_hi, boot_l1_lo, boot_l1_hi
boot_l0_lo:	.skip 4096
boot_l0_hi:	.skip 4096
boot_l1_lo:	.skip 4096
boot_l1_hi:	.skip 4096
boot_l2_id:	.skip 4096             /* the image's GiB, identity map */
boot_l2_dm:	.skip 4096             /* the image's GiB, direct map */
boot_l3_id:	.skip 4096 * IMAGE_L3_TABLES /* the image, identity map */
boot_l3_dm:	.skip 4096 * IMAGE_L3_TABLES /* the image, direct map */
	.p2align 4
	.globl boot_stack_top
boot_stack_bottom:
	.skip 32768
boot_stack_top:
	.p2align 3
	.globl boot_cntvct
boot_cntvct:	.skip 8
