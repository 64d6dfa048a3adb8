/*
 * entry.S (virt): the PVH entry point, the way from 32-bit protected mode
 * to the runtime's 64-bit start path, and the two interrupt stubs.
 *
 * QEMU (-kernel X.virt on the microvm machine) finds the entry in the
 * XEN_ELFNOTE_PHYS32_ENTRY note below and enters it in 32-bit protected
 * mode with paging off, flat segments, interrupts off, no stack, and
 * ebx = the physical address of struct hvm_start_info.  We clear .bss
 * (we cannot know that the loader did), build page tables that identity
 * map the first 4 GB (2 MB pages, 4 KB pages for the first 2 MB so that
 * rt_virt_setup() can take low memory away later), enter long mode, and
 * call rt_virt_setup(start_info), which returns the hvt-style boot info
 * that the shared _start (start.S) hands to rt_start().
 */

#define XEN_ELFNOTE_PHYS32_ENTRY 18

#define CR0_PE   0x00000001
#define CR0_WP   0x00010000
#define CR0_PG   0x80000000
#define CR4_PAE  0x00000020
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100

#define PTE_P   0x001
#define PTE_RW  0x002
#define PTE_PS  0x080 /* 2 MB page in a PD */

#define SEL_CODE64 0x08
#define SEL_DATA   0x10

#define LAPIC_EOI 0xfee000b0

	/*
	 * The PVH note: owner "Xen", a 64-bit descriptor as Linux writes
	 * it (QEMU reads 8 bytes); alone in its own 4-aligned PT_NOTE
	 * (virt.lds), as QEMU aligns the name to that segment's p_align.
	 */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4			/* namesz: "Xen\0" */
	.long 8			/* descsz */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.quad rt_pvh_start

	.section .text.pvh, "ax", @progbits
	.code32
	.globl rt_pvh_start
	.type rt_pvh_start, @function
rt_pvh_start:
	cli
	cld
	movl %ebx, %esi		/* start_info, kept to the C call */

	movl $__bss_start, %edi
	movl $__bss_end, %ecx
	subl %edi, %ecx
	xorl %eax, %eax
	rep stosb

	/* PML4[0] -> PDPT; PDPT[0..3] -> the four PDs */
	movl $rt_virt_pdpt + PTE_P + PTE_RW, rt_virt_pml4
	movl $rt_virt_pd + PTE_P + PTE_RW, %eax
	xorl %ecx, %ecx
1:	movl %eax, rt_virt_pdpt(, %ecx, 8)
	addl $0x1000, %eax
	incl %ecx
	cmpl $4, %ecx
	jb 1b

	/* 2048 PD entries: 2 MB pages over [0, 4 GB) */
	movl $PTE_P + PTE_RW + PTE_PS, %eax
	xorl %ecx, %ecx
2:	movl %eax, rt_virt_pd(, %ecx, 8)
	addl $0x200000, %eax
	incl %ecx
	cmpl $2048, %ecx
	jb 2b

	/* ... except the first 2 MB, in 4 KB pages */
	movl $rt_virt_pt + PTE_P + PTE_RW, rt_virt_pd
	movl $PTE_P + PTE_RW, %eax
	xorl %ecx, %ecx
3:	movl %eax, rt_virt_pt(, %ecx, 8)
	addl $0x1000, %eax
	incl %ecx
	cmpl $512, %ecx
	jb 3b

	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $rt_virt_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $CR0_PE + CR0_WP + CR0_PG, %eax
	movl %eax, %cr0

	lgdt boot_gdt_ptr
	ljmp $SEL_CODE64, $long_mode

	.code64
long_mode:
	movl $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	xorl %eax, %eax
	movl %eax, %fs
	movl %eax, %gs
	leaq rt_boot_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	movl %esi, %edi
	call rt_virt_setup
	movq %rax, %rdi
	jmp _start
	.size rt_pvh_start, . - rt_pvh_start

	/*
	 * The LAPIC timer (vector 32) only has to end a "sti; hlt" in
	 * rt_poll(), so its handler acknowledges it and returns.  A spurious
	 * interrupt (vector 33) needs no EOI.
	 */
	.text
	.balign 16
	.globl rt_virt_irq_timer
	.type rt_virt_irq_timer, @function
rt_virt_irq_timer:
	pushq %rax
	movabsq $LAPIC_EOI, %rax
	movl $0, (%rax)
	popq %rax
	iretq
	.size rt_virt_irq_timer, . - rt_virt_irq_timer

	.balign 16
	.globl rt_virt_irq_spurious
	.type rt_virt_irq_spurious, @function
rt_virt_irq_spurious:
	iretq
	.size rt_virt_irq_spurious, . - rt_virt_irq_spurious

	/* Null, 64-bit code (0x08) and data (0x10): the runtime's layout. */
	.section .rodata, "a", @progbits
	.balign 8
boot_gdt:
	.quad 0
	.quad 0x00209a0000000000
	.quad 0x0000920000000000
boot_gdt_end:
boot_gdt_ptr:
	.word boot_gdt_end - boot_gdt - 1
	.long boot_gdt

	/* The page tables, in .bss below the rest of it (cleared above). */
	.section .bss.pagetables, "aw", @nobits
	.balign 4096
	.globl rt_virt_pml4, rt_virt_pdpt, rt_virt_pd, rt_virt_pt
rt_virt_pml4:
	.space 4096
rt_virt_pdpt:
	.space 4096
rt_virt_pd:
	.space 4 * 4096
rt_virt_pt:
	.space 4096

	.section .note.GNU-stack, "", @progbits
