/*
 * x86_64 entry through PVH (QEMU -kernel with an ELF note).
 *
 * QEMU's firmware jumps to pvh_start32 in 32-bit protected mode, paging
 * off, %ebx = physical address of the hvm_start_info. We take the TSC for
 * the boot clock, zero .bss, build the early page tables (0-4 GiB with
 * 2 MiB pages, both identity and at the direct map 0xffff800000000000),
 * enable PAE, long mode, NX, SSE (for Debian's libraries; kernel code does
 * not use it), paging, and enter 64-bit code on the boot stack, calling
 * x86_boot(start_info).
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18

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

	/* 2048 page-directory entries: 0-4 GiB in 2 MiB pages, P|RW|PS. */
	movl $boot_pd, %edi
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, (%edi,%ecx,8)
	movl %ecx, %eax
	shrl $11, %eax
	movl %eax, 4(%edi,%ecx,8)
	incl %ecx
	cmpl $2048, %ecx
	jne 1b
	/* The first 2 MiB in 4 KiB pages, so that x86_boot can unmap page 0
	 * (once it has read the start info, which QEMU may put there) and
	 * null pointers fault. */
	movl $boot_pt0, %edi
	xorl %ecx, %ecx
3:	movl %ecx, %eax
	shll $12, %eax
	orl $0x3, %eax
	movl %eax, (%edi,%ecx,8)
	incl %ecx
	cmpl $512, %ecx
	jne 3b
	movl $boot_pt0 + 0x3, boot_pd
	/* The PDPT points at the four page directories. */
	movl $boot_pdpt, %edi
	movl $boot_pd + 0x3, %eax
	movl %eax, 0(%edi)
	addl $0x1000, %eax
	movl %eax, 8(%edi)
	addl $0x1000, %eax
	movl %eax, 16(%edi)
	addl $0x1000, %eax
	movl %eax, 24(%edi)
	/* PML4: slot 0 identity, slot 256 the direct map. */
	movl $boot_pml4, %edi
	movl $boot_pdpt + 0x3, %eax
	movl %eax, 0(%edi)
	movl %eax, 256*8(%edi)
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

	.section .bss
	.p2align 12
	.globl boot_pml4, boot_pdpt, boot_pt0
boot_pml4:	.skip 4096
boot_pdpt:	.skip 4096
boot_pd:	.skip 4096 * 4
boot_pt0:	.skip 4096
	.p2align 4
	.globl boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	.skip 32768
boot_stack_top:
