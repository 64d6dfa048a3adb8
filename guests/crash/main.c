/*
 * crash: fails on purpose, in the way argv[1] asks.
 *
 *   crash.hvt pagefault [ADDR]   read ADDR (default 0xdead0000, outside
 *                                any memory below 3.5 GB): #PF, vector 14
 *   crash.hvt divide             integer divide by zero: #DE, vector 0
 *   crash.hvt invalid-opcode     ud2: #UD, vector 6
 *   crash.hvt stack-overflow     unbounded recursion: #DF, vector 8
 *   crash.hvt triple             empty IDT, then an exception: triple fault
 *   crash.hvt abort MESSAGE...   abort_msg(): "ABORT: MESSAGE", HALT 255
 *   crash.hvt fault MESSAGE...   hb_fault(MESSAGE): X_FAULT, kind ABORT
 *   crash.hvt dump               hb_dump(), then exit 0
 *   crash.hvt exit CODE          return CODE (HALT CODE)
 *
 * Every mode reports READY first and prints "crash: MODE" before acting.
 * Every fault happens with r12..r15 = 0x1212121212121212 .. 0x1515151515151515
 * (MARK_REGS), so that tools can check the registers they report.
 * Each fault happens inside its own named, never-inlined crash_* function,
 * so a test can check that the reported rip lies inside it (nm).
 */
#include <stdint.h>

#include <heartbeat.h>
#include <runtime.h>

RT_MANIFEST_NONE();

#define DEFAULT_FAULT_ADDR 0xdead0000ul

/* noipa: no inlining, cloning or renaming, so nm finds these names. */
#define CRASH_FN __attribute__((noipa))

/*
 * Known values in r12..r15 at every fault, so that tools can check that
 * the registers they show are the guest's (docs/fault-report.md).  Loaded
 * by the same asm statement as the faulting instruction, or right before
 * the call that reports the fault, so nothing can reuse the registers in
 * between.  They are callee-saved: the clobbers make the crash_* function
 * save and restore its caller's values.
 */
#define MARK_REGS                                                              \
	"movabsq $0x1212121212121212, %%r12\n\t"                               \
	"movabsq $0x1313131313131313, %%r13\n\t"                               \
	"movabsq $0x1414141414141414, %%r14\n\t"                               \
	"movabsq $0x1515151515151515, %%r15\n\t"
#define MARK_CLOBBERS "r12", "r13", "r14", "r15"

static CRASH_FN int
crash_pagefault(uintptr_t addr)
{
	int v;

	__asm__ __volatile__(MARK_REGS "movl (%1), %0"
	                     : "=r"(v)
	                     : "r"(addr)
	                     : MARK_CLOBBERS, "memory");
	return v;
}

static CRASH_FN int
crash_divide(void)
{
	volatile int num = 1, den = 0;
	int n = num, d = den;

	/* idiv in the asm: the compiler may not drop or move a division it
	 * can prove undefined. */
	__asm__ __volatile__(MARK_REGS "cltd\n\tidivl %2"
	                     : "+a"(n)
	                     : "a"(n), "r"(d)
	                     : MARK_CLOBBERS, "rdx");
	return n;
}

static CRASH_FN void
crash_invalid_opcode(void)
{
	__asm__ __volatile__(MARK_REGS "ud2" : : : MARK_CLOBBERS);
}

/*
 * The depth test never triggers (depth starts at 1 and only grows) but
 * keeps the compiler from proving the recursion infinite; the use of buf
 * after the call keeps it from becoming a loop.
 */
static CRASH_FN unsigned long
crash_stack_overflow(unsigned long depth)
{
	volatile char buf[64];

	if (depth == 0)
		return 0;
	buf[0] = (char)depth;
	__asm__ __volatile__(MARK_REGS : : : MARK_CLOBBERS);
	return crash_stack_overflow(depth + 1) + buf[0];
}

static CRASH_FN void
crash_triple(void)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = {0, 0};

	/* No IDT: the #UD cannot be delivered, nor can the #DF. */
	__asm__ __volatile__(MARK_REGS "lidt %0\n\tud2"
	                     :
	                     : "m"(empty)
	                     : MARK_CLOBBERS);
}

/*
 * abort_msg() and hb_fault() report their caller's return address as rip.
 * Called directly, a noreturn function is often its caller's last
 * instruction, leaving that address just past the caller's end.  Calling
 * through a volatile pointer hides "noreturn" and the empty asm after the
 * call rules out a tail call, so code follows the call and the reported
 * rip lies inside crash_abort/crash_fault/crash_dump.
 */
static void (*volatile abort_fn)(const char *) = abort_msg;
static void (*volatile fault_fn)(const char *) = hb_fault;

static CRASH_FN void
crash_abort(const char *msg)
{
	void (*fn)(const char *) = abort_fn;

	/* The call is in the asm, so r12..r15 hold the marks when the
	 * report is made (no red zone in guests; rsp aligned for the call). */
	__asm__ __volatile__("movq %%rsp, %%rbx\n\t"
	                     "andq $-16, %%rsp\n\t" MARK_REGS "call *%%rax\n\t"
	                     "movq %%rbx, %%rsp"
	                     : "+D"(msg), "+a"(fn)
	                     :
	                     : MARK_CLOBBERS, "rbx", "rcx", "rdx", "rsi", "r8",
	                     "r9", "r10", "r11", "memory", "cc");
	__asm__ __volatile__("" ::: "memory");
}

static CRASH_FN void
crash_fault(const char *msg)
{
	void (*fn)(const char *) = fault_fn;

	/* The call is in the asm, so r12..r15 hold the marks when the
	 * report is made (no red zone in guests; rsp aligned for the call). */
	__asm__ __volatile__("movq %%rsp, %%rbx\n\t"
	                     "andq $-16, %%rsp\n\t" MARK_REGS "call *%%rax\n\t"
	                     "movq %%rbx, %%rsp"
	                     : "+D"(msg), "+a"(fn)
	                     :
	                     : MARK_CLOBBERS, "rbx", "rcx", "rdx", "rsi", "r8",
	                     "r9", "r10", "r11", "memory", "cc");
	__asm__ __volatile__("" ::: "memory");
}

static CRASH_FN void
crash_dump(void)
{
	__asm__ __volatile__(MARK_REGS : : : MARK_CLOBBERS);
	hb_dump("crash: dump requested");
	__asm__ __volatile__("" ::: "memory");
}

/* Joins argv[from..] with spaces into buf, for multi-word messages. */
static const char *
join_args(
    char *buf, size_t size, int argc, char **argv, int from, const char *dflt)
{
	size_t n = 0;

	if (from >= argc)
		return dflt;
	buf[0] = '\0';
	for (int i = from; i < argc; i++) {
		int w = snprintf(
		    buf + n, size - n, "%s%s", i > from ? " " : "", argv[i]);

		if (w < 0 || (size_t)w >= size - n)
			break;
		n += (size_t)w;
	}
	return buf;
}

static int
usage(void)
{
	printf("usage: crash.hvt pagefault [ADDR] | divide | invalid-opcode | "
	       "stack-overflow | triple | abort MSG | fault MSG | dump | "
	       "exit CODE\n");
	return 1;
}

int
guest_main(int argc, char **argv)
{
	char msg[256];
	const char *mode = argc > 1 ? argv[1] : "";

	hb_ready();
	printf("crash: %s\n", mode);

	if (strcmp(mode, "pagefault") == 0) {
		uintptr_t addr =
		    argc > 2 ? strtoul(argv[2], NULL, 0) : DEFAULT_FAULT_ADDR;

		rt_console_flush();
		crash_pagefault(addr);
	} else if (strcmp(mode, "divide") == 0) {
		rt_console_flush();
		crash_divide();
	} else if (strcmp(mode, "invalid-opcode") == 0) {
		rt_console_flush();
		crash_invalid_opcode();
	} else if (strcmp(mode, "stack-overflow") == 0) {
		rt_console_flush();
		crash_stack_overflow(1);
	} else if (strcmp(mode, "triple") == 0) {
		rt_console_flush();
		crash_triple();
	} else if (strcmp(mode, "abort") == 0) {
		crash_abort(join_args(
		    msg, sizeof(msg), argc, argv, 2, "crash requested"));
	} else if (strcmp(mode, "fault") == 0) {
		rt_console_flush();
		crash_fault(join_args(
		    msg, sizeof(msg), argc, argv, 2, "crash requested"));
	} else if (strcmp(mode, "dump") == 0) {
		crash_dump();
		printf("crash: dump returned\n");
		return 0;
	} else if (strcmp(mode, "exit") == 0) {
		return argc > 2 ? (int)strtoul(argv[2], NULL, 0) : 0;
	} else {
		return usage();
	}
	printf("crash: %s did not crash\n", mode);
	return 1;
}
