/*
 * cpu.c: our own GDT, TSS and IDT.
 *
 * The tender's GDT lives in low memory we cannot map, and it has no IDT at
 * all, so without this any exception would triple-fault with no report.
 * The TSS holds the IST1 slot: double faults switch to a known-good
 * stack, so a stack overflow (whose #PF cannot be pushed) still reaches a
 * handler instead of shutting the CPU down; and rsp0, the stack an
 * exception in user mode (RT_USER_MODE) switches to.
 *
 * Boot cost matters (each privileged instruction is a trap on nested
 * hosts), so the IDT is built by the linker (hvt.lds), the GDT is static
 * data, and only three descriptor-table loads run here.  The segment
 * registers are not reloaded: our GDT has the tender's selectors and
 * layout, so the cached descriptors stay exactly right.
 */
#include <stddef.h>
#include <stdint.h>

#include "rt.h"

#define SEL_TSS 0x18

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __attribute__((packed));

_Static_assert(sizeof(struct tss64) == 104, "TSS layout");

struct dt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

extern char rt_ist_stack_top[], rt_kernel_stack_top[];

/*
 * Weak: RT_USER_MODE() in the application overrides it with 1.  Defined
 * here, away from its reader in boot.c, so that no compiler folds the
 * default into the test.
 */
__attribute__((weak)) const int rt_user_mode = 0;
extern const uint64_t rt_idt[], rt_idt_end[]; /* hvt.lds */

static struct tss64 tss __attribute__((aligned(16))) = {
    .rsp = {(uint64_t)(uintptr_t)rt_kernel_stack_top},
    .ist = {(uint64_t)(uintptr_t)rt_ist_stack_top},
    .iomap_base = sizeof(struct tss64), /* no I/O bitmap */
};

/*
 * null, 64-bit code (0x08), data (0x10), then the 16-byte TSS descriptor
 * (0x18) whose base is only known at link time, filled in below, then
 * user data (0x28) and user 64-bit code (0x30), both DPL 3.
 */
static uint64_t gdt[7] __attribute__((aligned(16))) = {
    0, 0x00209a0000000000ull,    /* P, DPL 0, code exec/read, L */
    0x0000920000000000ull,       /* P, DPL 0, data read/write */
    0, 0, 0x0000f20000000000ull, /* P, DPL 3, data read/write */
    0x0020fa0000000000ull,       /* P, DPL 3, code exec/read, L */
};

void
rt_cpu_init(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;
	struct dt_ptr gdtr = {sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt};
	struct dt_ptr idtr = {
	    (uint16_t)((uintptr_t)rt_idt_end - (uintptr_t)rt_idt - 1),
	    (uint64_t)(uintptr_t)rt_idt};

	/* available 64-bit TSS (type 9), present */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
	         (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
	         (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;

	__asm__ __volatile__("lgdt %0\n\t"
	                     "ltr %w1\n\t"
	                     "lidt %2"
	                     :
	                     : "m"(gdtr), "r"(SEL_TSS), "m"(idtr)
	                     : "memory");
}
