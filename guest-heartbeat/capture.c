/*
 * capture.c: hb_fault() and hb_dump(), which report the caller's registers.
 *
 * Both are written in assembly (at file scope, so this stays one C file of
 * a C library) because a C function's prologue would already have changed
 * the registers we want: the entry stub's first act is to call hb__save,
 * which stores all 16 general registers as the caller left them, with
 * rip = the return address into the caller and rsp = the caller's rsp
 * after the call.  rbp therefore still heads the caller's frame-pointer
 * chain, so the host can unwind from the frame alone.  The stubs then
 * jump (not call) to hb__report(msg, kind): for hb_dump it returns
 * straight to our caller, for hb_fault it never returns.
 */
#include <stddef.h>
#include <stdint.h>

#include "hb_int.h"

/* Offsets of struct hvt_x_frame used by the assembly below. */
#define FR_REGS   32
#define FR_RIP    160
#define FR_RFLAGS 168
#define FR_CS     176
#define FR_SS     184

_Static_assert(offsetof(struct hvt_x_frame, regs) == FR_REGS, "regs");
_Static_assert(offsetof(struct hvt_x_frame, rip) == FR_RIP, "rip");
_Static_assert(offsetof(struct hvt_x_frame, rflags) == FR_RFLAGS, "rflags");
_Static_assert(offsetof(struct hvt_x_frame, cs) == FR_CS, "cs");
_Static_assert(offsetof(struct hvt_x_frame, ss) == FR_SS, "ss");
_Static_assert(HVT_X_RAX == 0 && HVT_X_RSP == 7 && HVT_X_R15 == 15,
    "register order used by hb__save");
_Static_assert(
    HVT_X_FAULT_ABORT == 2 && HVT_X_FAULT_DUMP == 3, "kinds used by the stubs");

struct hvt_x_frame hb__frame;

__asm__(".text\n"
        ".globl hb_fault\n"
        ".type hb_fault, @function\n"
        "hb_fault:\n"
        "	call hb__save\n"
        "	movl $2, %esi\n" /* HVT_X_FAULT_ABORT */
        "	jmp hb__report\n"
        ".size hb_fault, . - hb_fault\n"
        "\n"
        ".globl hb_dump\n"
        ".type hb_dump, @function\n"
        "hb_dump:\n"
        "	call hb__save\n"
        "	movl $3, %esi\n" /* HVT_X_FAULT_DUMP */
        "	jmp hb__report\n"
        ".size hb_dump, . - hb_dump\n"
        "\n"
        /* At entry: 0(%rsp) = into the stub, 8(%rsp) = into the caller. */
        ".type hb__save, @function\n"
        "hb__save:\n"
        "	movq %rax, hb__frame+32(%rip)\n"
        "	movq %rbx, hb__frame+40(%rip)\n"
        "	movq %rcx, hb__frame+48(%rip)\n"
        "	movq %rdx, hb__frame+56(%rip)\n"
        "	movq %rsi, hb__frame+64(%rip)\n"
        "	movq %rdi, hb__frame+72(%rip)\n"
        "	movq %rbp, hb__frame+80(%rip)\n"
        "	leaq 16(%rsp), %rax\n"
        "	movq %rax, hb__frame+88(%rip)\n"
        "	movq %r8, hb__frame+96(%rip)\n"
        "	movq %r9, hb__frame+104(%rip)\n"
        "	movq %r10, hb__frame+112(%rip)\n"
        "	movq %r11, hb__frame+120(%rip)\n"
        "	movq %r12, hb__frame+128(%rip)\n"
        "	movq %r13, hb__frame+136(%rip)\n"
        "	movq %r14, hb__frame+144(%rip)\n"
        "	movq %r15, hb__frame+152(%rip)\n"
        "	movq 8(%rsp), %rax\n"
        "	movq %rax, hb__frame+160(%rip)\n"
        "	pushfq\n"
        "	popq %rax\n"
        "	movq %rax, hb__frame+168(%rip)\n"
        "	movq %cs, %rax\n"
        "	movq %rax, hb__frame+176(%rip)\n"
        "	movq %ss, %rax\n"
        "	movq %rax, hb__frame+184(%rip)\n"
        "	movq hb__frame+32(%rip), %rax\n"
        "	ret\n"
        ".size hb__save, . - hb__save\n");

void
hb__report(const char *msg, uint32_t kind)
{
	const struct hb_transport *t = hb__transport();
	size_t len = 0;

	if (msg != NULL)
		while (len < HB_MSG_MAX && msg[len] != '\0')
			len++;
	hb__frame.version = HVT_X_FRAME_VERSION;
	hb__frame.kind = kind;
	hb__frame.vector = 0;
	hb__frame.error_code = 0;
	hb__frame.cr2 = 0;
	hb__frame.msg = (uint64_t)(uintptr_t)msg;
	hb__frame.msglen = len;

	t->frame(&hb__frame);
	if (kind == HVT_X_FAULT_DUMP)
		return;

	/* The host should have stopped us; make sure we stay stopped. */
	if (t->halt != NULL)
		t->halt(HVT_EXIT_ABORT);
	for (;;)
		__asm__ __volatile__("cli; hlt");
}
