/*
 * traps.c: turns every CPU exception into a fault report (X_FAULT on hvt,
 * a fault frame on COM2 on virt: rt_plat_fault()).
 *
 * The report carries the complete register state at the fault (all 16
 * general registers, rip, rflags, cs, ss, error code, cr2) because the
 * tender's view of the vCPU is of this handler, not of the faulting code.
 * A console line goes out first so a human reading the console sees the
 * fault even under a host that does not read the report; a tender
 * without X_FAULT gets HALT 255 with a Solo5-style trap frame cookie.
 */
#include <stddef.h>
#include <stdint.h>

#include "rt.h"

#define VEC_DOUBLE_FAULT 8
#define VEC_PAGE_FAULT   14
/* A double fault with rsp this close to the stack bottom, or below it. */
#define STACK_SLACK 512

struct rt_trap_frame {
	uint64_t regs[HVT_X_NREGS]; /* regs[HVT_X_RSP] is a placeholder */
	uint64_t vector;
	uint64_t error_code;
	uint64_t rip;
	uint64_t cs;
	uint64_t rflags;
	uint64_t rsp;
	uint64_t ss;
};

_Static_assert(offsetof(struct rt_trap_frame, rip) == 16 * 8 + 2 * 8,
    "trapstubs.S TF_RIP");

static const char *const trap_names[32] = {"divide error", "debug exception",
    "NMI", "breakpoint", "overflow", "bound range exceeded", "invalid opcode",
    "device not available", "double fault", "coprocessor segment overrun",
    "invalid TSS", "segment not present", "stack-segment fault",
    "general protection fault", "page fault", "reserved vector 15",
    "x87 floating-point error", "alignment check", "machine check",
    "SIMD floating-point error", "virtualization exception",
    "control protection exception", "reserved vector 22", "reserved vector 23",
    "reserved vector 24", "reserved vector 25", "reserved vector 26",
    "reserved vector 27", "hypervisor injection", "VMM communication exception",
    "security exception", "reserved vector 31"};

/*
 * Static so that a report can be built even when the fault came from a
 * nearly exhausted stack.
 */
static struct hvt_x_frame xf;
static struct rt_solo5_trap cookie;
static char msg[96];
static int trap_depth;

/*
 * A fault while handling a fault means the runtime itself is broken:
 * give up the hard way (empty IDT, then an exception) so the tender sees a
 * triple fault instead of an endless loop of traps.
 */
static _Noreturn void
triple_fault(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = {0, 0};

	__asm__ __volatile__("lidt %0\n\tint3" : : "m"(empty));
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

static uint64_t
read_cr2(void)
{
	uint64_t v;

	__asm__ __volatile__("movq %%cr2, %0" : "=r"(v));
	return v;
}

_Noreturn void
rt_trap(struct rt_trap_frame *tf)
{
	const char *name;
	uint64_t cr2;
	int len;

	if (trap_depth++ != 0)
		triple_fault();

	cr2 = read_cr2();
	name = trap_names[tf->vector & 31];
	if (tf->vector == VEC_PAGE_FAULT)
		len = snprintf(msg, sizeof(msg), "%s at 0x%llx", name,
		    (unsigned long long)cr2);
	else if (tf->vector == VEC_DOUBLE_FAULT &&
	         tf->rsp < (uintptr_t)__stack_bottom + STACK_SLACK)
		/* The #PF of a push below the stack could not be delivered. */
		len = snprintf(msg, sizeof(msg), "%s (stack overflow)", name);
	else
		len = snprintf(msg, sizeof(msg), "%s", name);
	if (len < 0 || (size_t)len >= sizeof(msg))
		len = sizeof(msg) - 1;

	rt_console_flush();
	printf("trap: %s (vector %llu) rip=0x%llx rsp=0x%llx ec=0x%llx\n", msg,
	    (unsigned long long)tf->vector, (unsigned long long)tf->rip,
	    (unsigned long long)tf->rsp, (unsigned long long)tf->error_code);
	rt_console_flush();

	xf.version = HVT_X_FRAME_VERSION;
	xf.kind = HVT_X_FAULT_EXCEPTION;
	xf.vector = tf->vector;
	xf.error_code = tf->error_code;
	xf.cr2 = cr2;
	for (int i = 0; i < HVT_X_NREGS; i++)
		xf.regs[i] = tf->regs[i];
	xf.regs[HVT_X_RSP] = tf->rsp;
	xf.rip = tf->rip;
	xf.rflags = tf->rflags;
	xf.cs = tf->cs;
	xf.ss = tf->ss;
	xf.msg = (uint64_t)(uintptr_t)msg;
	xf.msglen = (uint64_t)len;

	cookie.cr2 = cr2;
	cookie.ec = tf->error_code;
	cookie.rip = tf->rip;
	cookie.cs = tf->cs;
	cookie.rflags = tf->rflags;
	cookie.rsp = tf->rsp;
	cookie.ss = tf->ss;
	rt_plat_fault(&xf, &cookie);
}
