/*
 * x86_64 entry through PVH (QEMU -kernel with an ELF note).
 *
 * QEMU's firmware jumps to pvh_start32 in 32-bit protected mode, paging
 * off, %ebx = physical address of the hvm_start_info. We take the TSC for
 * the boot clock, zero .bss, build the early page tables, enable PAE, long
 * mode, NX, SSE (for Debian's libraries; kernel code does not use it),
 * paging with CR0.WP (supervisor writes honour read-only pages), and enter
 * 64-bit code on the boot stack, calling x86_boot(start_info).
 *
 * The early tables (boot_pml4 is the one root, CR3):
 *   slot 256, the direct map at 0xffff800000000000 (boot_pdpt): 0-4 GiB in
 *     2 MiB pages, read/write, no-execute; cpu.c adds RAM above 4 GiB to
 *     boot_pdpt. The image's 2 MiB chunks are 4 KiB pages there too: its
 *     text and rodata read-only, its data and bss read/write, all
 *     no-execute (the direct map never executes anything).
 *   slot 0, the identity map (boot_id_pdpt), where the kernel runs: GiB 0
 *     has its own page directory, GiBs 1-3 share the direct map's. The
 *     image is W^X in 4 KiB pages, by the linker script's page-aligned
 *     bounds: text read+execute, rodata read-only, data and bss read/write,
 *     the last two no-execute. Everything else is read/write, no-execute:
 *     the image's text is the only executable memory these tables map.
 *   The first 2 MiB are 4 KiB pages in both maps (boot_pt0, shared), so
 *     that x86_boot can unmap page 0 (once it has read the start info,
 *     which QEMU may put there) and null pointers fault.
 * Leaves of the image are made as <arch/pte.h> pte_make_leaf makes them
 * with MMU_GLOBAL, already accessed (and dirty when writable), so the CPU
 * never has to set A or D on them; tests/kernel/kt_vm_wx.c checks that.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define NX_HI	  0x80000000 /* bit 63, in an entry's high half */
/* Low halves of 4 KiB leaves: P|A|G, and RW|D for writable ones. */
#define PAGE_RO	  0x121
#define PAGE_RW	  0x163
/* Tables for up to this many 2 MiB chunks of the image, per map. */
#define IMAGE_L3_TABLES 4

	.section .note.Xen, "a"
	.p2align 2
	.long 4, 4, XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.long pvh_start32

	.section .text.boot, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	cli
	cld
	movl %ebx, %esi
	rdtsc
	movl %eax, boot_tsc
	movl %edx, boot_tsc + 4

	/* Zero .bss (it holds the page tables and the boot stack). A plain
	 * loop, not rep stos, which QEMU's TCG runs one helper call per
	 * iteration (37 ms for this .bss). */
	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	xorl %eax, %eax
0:	movl %eax, (%edi)
	movl %eax, 4(%edi)
	movl %eax, 8(%edi)
	movl %eax, 12(%edi)
	addl $16, %edi
	cmpl %ecx, %edi
	jb 0b

	/* 2048 page-directory entries, the direct map: 0-4 GiB in 2 MiB
	 * pages, P|RW|PS, NX. */
	movl $boot_pd, %edi
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, (%edi,%ecx,8)
	movl %ecx, %eax
	shrl $11, %eax
	orl $NX_HI, %eax
	movl %eax, 4(%edi,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jne 1b
	/* The first 2 MiB in 4 KiB pages, P|RW, NX. */
	movl $boot_pt0, %edi
	xorl %ecx, %ecx
3:	movl %ecx, %eax
	shll $12, %eax
	orl $0x3, %eax
	movl %eax, (%edi,%ecx,8)
	movl $NX_HI, 4(%edi,%ecx,8)
	incl %ecx
	cmpl $512, %ecx
	jne 3b
	movl $boot_pt0 + 0x3, boot_pd
	/* The identity map's GiB 0 starts as a copy of the direct map's. */
	xorl %ecx, %ecx
4:	movl boot_pd(,%ecx,4), %eax
	movl %eax, boot_id_pd0(,%ecx,4)
	incl %ecx
	cmpl $1024, %ecx
	jne 4b

	/* The 4 KiB pages of the image's 2 MiB chunks [%ebx, %ebp), both
	 * maps; %eax the page, %edi its entry's offset in the tables. */
	movl $__kernel_start, %ebx
	andl $~0x1fffff, %ebx
	movl $__kernel_end + 0x1fffff, %ebp
	andl $~0x1fffff, %ebp
	movl %ebx, %eax
	xorl %edi, %edi
5:	movl $PAGE_RW, %edx            /* outside the image, data, bss */
	movl $NX_HI, %ecx              /* identity map's high half */
	cmpl $__kernel_start, %eax
	jb 6f
	cmpl $__kernel_end, %eax
	jae 6f
	cmpl $__data_start, %eax
	jae 6f
	movl $PAGE_RO, %edx            /* rodata */
	cmpl $__rodata_start, %eax
	jae 6f
	xorl %ecx, %ecx                /* text: executable, identity only */
6:	orl %eax, %edx
	movl %edx, boot_id_img(%edi)
	movl %ecx, boot_id_img + 4(%edi)
	movl %edx, boot_dm_img(%edi)
	movl $NX_HI, boot_dm_img + 4(%edi)
	addl $8, %edi
	addl $0x1000, %eax
	cmpl %ebp, %eax
	jb 5b
	/* Hang the tables under the chunks' page-directory entries (P|RW,
	 * no NX: the leaves decide). */
	movl %ebx, %ecx
	shrl $21, %ecx
	movl $boot_id_img + 0x3, %eax
	movl $boot_dm_img + 0x3, %edx
7:	movl %eax, boot_id_pd0(,%ecx,8)
	movl $0, boot_id_pd0 + 4(,%ecx,8)
	movl %edx, boot_pd(,%ecx,8)
	movl $0, boot_pd + 4(,%ecx,8)
	addl $0x1000, %eax
	addl $0x1000, %edx
	addl $0x200000, %ebx
	incl %ecx
	cmpl %ebp, %ebx
	jb 7b

	/* The direct map's PDPT points at the four page directories; the
	 * identity map's at its own GiB 0 and the direct map's GiBs 1-3. */
	movl $boot_pd + 0x3, %eax
	movl %eax, boot_pdpt
	movl $boot_id_pd0 + 0x3, boot_id_pdpt
	addl $0x1000, %eax
	movl %eax, boot_pdpt + 8
	movl %eax, boot_id_pdpt + 8
	addl $0x1000, %eax
	movl %eax, boot_pdpt + 16
	movl %eax, boot_id_pdpt + 16
	addl $0x1000, %eax
	movl %eax, boot_pdpt + 24
	movl %eax, boot_id_pdpt + 24
	/* PML4: slot 0 identity, slot 256 the direct map. */
	movl $boot_pml4, %edi
	movl $boot_id_pdpt + 0x3, 0(%edi)
	movl $boot_pdpt + 0x3, 256*8(%edi)
	movl %edi, %cr3

	/* CR4: PAE | OSFXSR | OSXMMEXCPT. */
	movl %cr4, %eax
	orl $(1 << 5) | (1 << 9) | (1 << 10), %eax
	movl %eax, %cr4
	/* EFER: LME | NXE. */
	movl $0xc0000080, %ecx
	rdmsr
	orl $(1 << 8) | (1 << 11), %eax
	wrmsr
	/* CR0: PG | WP | NE | MP | PE, not EM. */
	movl %cr0, %eax
	andl $~(1 << 2), %eax
	orl $(1 << 31) | (1 << 16) | (1 << 5) | (1 << 1) | 1, %eax
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $0x08, $long_entry

	.code64
long_entry:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	leaq boot_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	fninit
	movl %esi, %edi
	call x86_boot
2:	cli
	hlt
	jmp 2b

	.section .data
	.p2align 4
	.globl boot_gdt
boot_gdt:
	.quad 0                       /* null */
	.quad 0x00af9a000000ffff      /* 0x08: 64-bit code */
	.quad 0x00cf92000000ffff      /* 0x10: data */
	.quad 0, 0                    /* 0x18: TSS, filled by x86_traps_init */
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.quad boot_gdt

	/* In .data, not .bss: it is written before .bss is zeroed. */
	.section .data
	.p2align 3
	.globl boot_tsc
boot_tsc:	.quad 0

	/* For the linker script's check that the image fits the tables. */
	.globl boot_image_span_max
	.set boot_image_span_max, IMAGE_L3_TABLES * 0x200000

	.section .bss
	.p2align 12
	.globl boot_pml4, boot_pdpt, boot_pt0
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096             /* the direct map's */
boot_pd:	.skip 4096 * 4
boot_pt0:	.skip 4096
boot_id_pdpt:	.skip 4096             /* the identity map's */
boot_id_pd0:	.skip 4096
boot_id_img:	.skip 4096 * IMAGE_L3_TABLES /* the image, identity map */
boot_dm_img:	.skip 4096 * IMAGE_L3_TABLES /* the image, direct map */
	.p2align 4
	.globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.skip 32768
boot_stack_top:
