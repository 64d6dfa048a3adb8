/*
 * cpu.c: our own GDT, TSS and IDT.
 *
 * The tender's GDT lives in low memory we cannot map, and it has no IDT at
 * all, so without this any exception would triple-fault with no report.
 * The TSS exists only for its IST1 slot: double faults switch to a
 * known-good stack, so a stack overflow (whose #PF cannot be pushed) still
 * reaches a handler instead of shutting the CPU down.
 *
 * All of this is a handful of instructions and no VM exits.
 */
#include <stddef.h>
#include <stdint.h>

#include "rt.h"

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

#define VEC_DOUBLE_FAULT 8
#define RT_NVECTORS 32

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

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
};

_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate layout");

struct dt_ptr {
	uint16_t limit;
	uint64_t base;
} __attribute__((packed));

/* null, 64-bit code, data, then a 16-byte TSS descriptor */
static uint64_t gdt[5] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[RT_NVECTORS] __attribute__((aligned(16)));

extern char rt_ist_stack_top[];
/* trapstubs.S: one entry point per vector */
extern const uint64_t rt_trap_stubs[RT_NVECTORS];

static void
gdt_init(void)
{
	uint64_t base = (uint64_t)(uintptr_t)&tss;
	uint64_t limit = sizeof(tss) - 1;

	gdt[0] = 0;
	/* P, DPL 0, S, type code exec/read accessed, L (64-bit).  The
	 * accessed bits matter: without unrestricted guest (nested KVM), VMX
	 * calls a segment without them invalid and KVM falls back to its
	 * instruction emulator, which fails on the first SSE instruction. */
	gdt[1] = 0x00209b0000000000ull;
	/* P, DPL 0, S, type data read/write accessed */
	gdt[2] = 0x0000930000000000ull;
	/* available 64-bit TSS (type 9), P */
	gdt[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
	    (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
	    (((base >> 24) & 0xff) << 56);
	gdt[4] = base >> 32;

	tss.ist[0] = (uint64_t)(uintptr_t)rt_ist_stack_top;
	tss.iomap_base = sizeof(tss);
}

static void
idt_init(void)
{
	for (int v = 0; v < RT_NVECTORS; v++) {
		uint64_t off = rt_trap_stubs[v];

		idt[v].off_lo = off & 0xffff;
		idt[v].sel = SEL_CODE;
		idt[v].ist = v == VEC_DOUBLE_FAULT ? 1 : 0;
		idt[v].type_attr = 0x8e; /* P, DPL 0, interrupt gate */
		idt[v].off_mid = (off >> 16) & 0xffff;
		idt[v].off_hi = off >> 32;
		idt[v].zero = 0;
	}
}

void
rt_cpu_init(void)
{
	struct dt_ptr gdtr = {sizeof(gdt) - 1, (uint64_t)(uintptr_t)gdt};
	struct dt_ptr idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};

	gdt_init();
	idt_init();

	/*
	 * Reload every segment register from the new table; cs needs a far
	 * return.  Same selectors as the tender's, so nothing else changes.
	 */
	__asm__ __volatile__("lgdt %0\n\t"
			     "movw %w1, %%ds\n\t"
			     "movw %w1, %%es\n\t"
			     "movw %w1, %%ss\n\t"
			     "pushq %2\n\t"
			     "leaq 1f(%%rip), %%rax\n\t"
			     "pushq %%rax\n\t"
			     "lretq\n"
			     "1:\n\t"
			     "ltr %w3\n\t"
			     "lidt %4"
			     :
			     : "m"(gdtr), "r"(SEL_DATA), "i"(SEL_CODE),
			     "r"(SEL_TSS), "m"(idtr)
			     : "rax", "memory");
}
