/*
 * hostile: breaks the hypercall ABI on purpose, in the way argv[1] asks.
 *
 *   hostile.hvt badport     32-bit out to port 0x5ff (no such hypercall)
 *   hostile.hvt badsize     8-bit out to a valid port (PUTS), then 16-bit
 *   hostile.hvt badaddr     PUTS of data beyond the end of guest memory
 *   hostile.hvt badlen      PUTS of 2^63 bytes from a valid address
 *   hostile.hvt badarg      PUTS whose argument struct is beyond memory
 *   hostile.hvt badhandle   BLOCK_READ on handle 999 (no such device)
 *   hostile.hvt unknown     out to port 0x500 + 30 (unassigned number)
 *
 * Each mode reports READY and prints "hostile: MODE" first.  The tender
 * should stop the guest with a bad-hypercall fault; if the hypercall
 * returns instead, the guest prints "hostile: MODE survived" and exits 1.
 * badhandle is a well-formed request, so the tender may instead answer
 * it: the guest prints "hostile: badhandle: BLOCK_READ returned RET" and
 * exits 0 if RET is HVT_EINVAL (2), 1 otherwise.
 *
 * The hypercalls are issued by hand here, not through the runtime, since
 * the point is to do what the runtime never would.
 */
#include <stdint.h>

#include <heartbeat.h>
#include <runtime.h>

RT_MANIFEST_NONE();

#define BAD_PORT   0x5ff
#define UNKNOWN_NR 30

static void
out32(uint16_t port, uint32_t value)
{
	__asm__ __volatile__("outl %0, %1"
	                     :
	                     : "a"(value), "d"(port)
	                     : "memory");
}

static void
out16(uint16_t port, uint16_t value)
{
	__asm__ __volatile__("outw %0, %1"
	                     :
	                     : "a"(value), "d"(port)
	                     : "memory");
}

static void
out8(uint16_t port, uint8_t value)
{
	__asm__ __volatile__("outb %0, %1"
	                     :
	                     : "a"(value), "d"(port)
	                     : "memory");
}

static uint32_t
gpa(const void *p)
{
	return (uint32_t)(uintptr_t)p;
}

/* An address just past the end of guest memory (still below 4 GB). */
static uint64_t
beyond_memory(void)
{
	return rt_boot_info()->mem_size + 0x1000;
}

static int
badhandle(void)
{
	static uint8_t buf[512] __attribute__((aligned(16)));
	struct hvt_hc_block_io io = {
	    .handle = 999,
	    .offset = 0,
	    .data = gpa(buf),
	    .len = sizeof(buf),
	};

	out32(HVT_HC_PORT(HVT_HC_BLOCK_READ), gpa(&io));
	printf("hostile: badhandle: BLOCK_READ returned %d\n", io.ret);
	return io.ret == HVT_EINVAL ? 0 : 1;
}

int
guest_main(int argc, char **argv)
{
	static const char text[] = "hostile: this text must not appear\n";
	struct hvt_hc_puts puts_arg = {.data = gpa(text), .len = 1};
	const char *mode = argc > 1 ? argv[1] : "";

	hb_ready();
	printf("hostile: %s\n", mode);
	rt_console_flush();

	if (strcmp(mode, "badport") == 0) {
		out32(BAD_PORT, gpa(&puts_arg));
	} else if (strcmp(mode, "badsize") == 0) {
		out8(HVT_HC_PORT(HVT_HC_PUTS), 0);
		out16(HVT_HC_PORT(HVT_HC_PUTS), 0);
	} else if (strcmp(mode, "badaddr") == 0) {
		puts_arg.data = beyond_memory();
		puts_arg.len = 16;
		out32(HVT_HC_PORT(HVT_HC_PUTS), gpa(&puts_arg));
	} else if (strcmp(mode, "badlen") == 0) {
		puts_arg.len = 1ull << 63;
		out32(HVT_HC_PORT(HVT_HC_PUTS), gpa(&puts_arg));
	} else if (strcmp(mode, "badarg") == 0) {
		out32(HVT_HC_PORT(HVT_HC_PUTS), (uint32_t)beyond_memory());
	} else if (strcmp(mode, "badhandle") == 0) {
		return badhandle();
	} else if (strcmp(mode, "unknown") == 0) {
		out32(HVT_HC_PORT(UNKNOWN_NR), gpa(&puts_arg));
	} else {
		printf("usage: hostile.hvt badport | badsize | badaddr | "
		       "badlen | badarg | badhandle | unknown\n");
		return 1;
	}
	printf("hostile: %s survived\n", mode);
	return 1;
}
