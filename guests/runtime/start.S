/*
 * start.S: the image's entry point and its stacks.
 *
 * The tender enters here in 64-bit mode with rdi = boot info and rsp at
 * the top of guest memory.  We move to our own stack at the bottom of the
 * image (see hvt.lds: overflowing it runs into unmapped low memory, so it
 * faults instead of silently overwriting the image) and call
 * rt_start(boot info) with rbp = 0 so frame-pointer walks end here.
 *
 * .bss is not cleared here: the loader zero-fills p_memsz beyond p_filesz
 * of every PT_LOAD (ELF semantics, and the hvt ABI), and guest
 * instructions are expensive before READY (on nested or PVM hosts every
 * one may be emulated: clearing 2 KB cost ~0.8 ms there).
 */

#define BOOT_STACK_SIZE 0x10000	/* 64 KB */
#define IST_STACK_SIZE  0x2000	/* 8 KB for #DF: a known-good stack */
#define KERNEL_STACK_SIZE 0x4000 /* 16 KB: exceptions from user mode */
#define SEL_UDATA 0x2b
#define SEL_UCODE 0x33

	.section .stack, "aw", @nobits
	.balign 4096
	.space BOOT_STACK_SIZE
	.globl rt_boot_stack_top
rt_boot_stack_top:
	.space IST_STACK_SIZE
	.globl rt_ist_stack_top
rt_ist_stack_top:
	.space KERNEL_STACK_SIZE
	.globl rt_kernel_stack_top
rt_kernel_stack_top:

	.section .text.boot, "ax", @progbits
	.globl _start
	.type _start, @function
_start:
	cld
	leaq rt_boot_stack_top(%rip), %rsp
	xorl %ebp, %ebp
	call rt_start
	ud2
	.size _start, . - _start

	/*
	 * rt_enter_user(argc, argv): an iretq to CPL 3 that lands on
	 * user_start, below the caller's frame on the same stack, with
	 * interrupts off (there are none) and the arguments still in rdi
	 * and rsi for rt_user_main.
	 */
	.text
	.globl rt_enter_user
	.type rt_enter_user, @function
rt_enter_user:
	movq %rsp, %rax
	andq $-16, %rax
	pushq $SEL_UDATA
	pushq %rax
	pushq $0x2
	pushq $SEL_UCODE
	leaq user_start(%rip), %rax
	pushq %rax
	iretq
user_start:
	xorl %ebp, %ebp
	call rt_user_main
	ud2
	.size rt_enter_user, . - rt_enter_user

	/*
	 * A relocation against rt_manifest: an image that never declared its
	 * manifest (RT_MANIFEST_NONE() or RT_MANIFEST()) fails to link.
	 */
	.section .rodata, "a", @progbits
	.balign 8
rt_manifest_ref:
	.quad rt_manifest

	.section .note.GNU-stack, "", @progbits
