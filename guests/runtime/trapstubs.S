/*
 * trapstubs.S: one entry per CPU exception vector (0..31).
 *
 * Each stub makes the stack uniform (a dummy error code where the CPU
 * pushes none, then the vector), and trap_common saves all 16 general
 * registers below it, in enum hvt_x_reg order from low to high addresses,
 * so that struct rt_trap_frame (traps.c) is simply the stack:
 *
 *	rax rbx rcx rdx rsi rdi rbp [rsp] r8 .. r15	saved here
 *	vector error_code				pushed by the stub
 *	rip cs rflags rsp ss				pushed by the CPU
 *
 * The rsp slot is a placeholder; rt_trap() takes rsp from the CPU frame.
 *
 * Stub v is at rt_trap_stubs + 16 * v, and the 512-byte block is aligned
 * so that it never crosses a 64 KB boundary: hvt.lds builds the IDT from
 * that rule at link time instead of the runtime building it at boot.
 */

#define TF_RIP (16 * 8 + 2 * 8)	/* offset of rip in the frame */

	.text

/* Each stub is at most 9 bytes (two 2-byte pushes, a 5-byte jmp). */
.macro TRAP_NOEC vec
	.balign 16
trap_\vec:
	pushq $0
	pushq $\vec
	jmp trap_common
.endm

.macro TRAP_EC vec
	.balign 16
trap_\vec:
	pushq $\vec
	jmp trap_common
.endm

	/* the CPU pushes an error code for 8, 10-14, 17, 21, 29 and 30 */
	.balign 512
	.globl rt_trap_stubs
rt_trap_stubs:
	TRAP_NOEC 0
	TRAP_NOEC 1
	TRAP_NOEC 2
	TRAP_NOEC 3
	TRAP_NOEC 4
	TRAP_NOEC 5
	TRAP_NOEC 6
	TRAP_NOEC 7
	TRAP_EC   8
	TRAP_NOEC 9
	TRAP_EC   10
	TRAP_EC   11
	TRAP_EC   12
	.balign 16
trap_13:
	jmp gp_entry
	TRAP_EC   14
	TRAP_NOEC 15
	TRAP_NOEC 16
	TRAP_EC   17
	TRAP_NOEC 18
	TRAP_NOEC 19
	TRAP_NOEC 20
	TRAP_EC   21
	TRAP_NOEC 22
	TRAP_NOEC 23
	TRAP_NOEC 24
	TRAP_NOEC 25
	TRAP_NOEC 26
	TRAP_NOEC 27
	TRAP_NOEC 28
	TRAP_EC   29
	TRAP_EC   30
	TRAP_NOEC 31

	/*
	 * #GP.  From user mode (RT_USER_MODE) at an "out %eax, %dx" (0xef,
	 * hvt_hypercall's only instruction) it is a hypercall: issue it here,
	 * step over it and return, in as few instructions as possible since
	 * CPL 0 may be emulated.  The registers it needs are the user's own,
	 * untouched.  Anything else is a real fault.
	 */
	.balign 16
	.type gp_entry, @function
gp_entry:
	testb $3, 16(%rsp)	/* cs of the frame: ec, rip, cs, ... */
	jz 1f
	pushq %rsi
	movq 16(%rsp), %rsi	/* the user's rip */
	cmpb $0xef, (%rsi)
	jne 2f
	outl %eax, %dx
	incq 16(%rsp)
	popq %rsi
	addq $8, %rsp		/* the error code */
	iretq
2:	popq %rsi
1:	pushq $13
	jmp trap_common
	.size gp_entry, . - gp_entry

	.balign 16
	.type trap_common, @function
trap_common:
	pushq %r15
	pushq %r14
	pushq %r13
	pushq %r12
	pushq %r11
	pushq %r10
	pushq %r9
	pushq %r8
	pushq $0		/* rsp placeholder */
	pushq %rbp
	pushq %rdi
	pushq %rsi
	pushq %rdx
	pushq %rcx
	pushq %rbx
	pushq %rax
	cld
	movq %rsp, %rdi
	andq $-16, %rsp
	/*
	 * A frame record pointing at the faulting instruction, so a debugger
	 * stopped inside rt_trap() unwinds into the code that faulted.
	 */
	pushq TF_RIP(%rdi)
	pushq %rbp
	movq %rsp, %rbp
	call rt_trap
	ud2
	.size trap_common, . - trap_common

	.section .note.GNU-stack, "", @progbits
