/*
 * halt.c: the ways a guest ends (rt_halt() itself is the platform's).
 */
#include <stdint.h>

#include "rt.h"

_Noreturn void
exit(int status)
{
	rt_console_flush();
	rt_halt(status, NULL);
}

/*
 * noinline: the cookie describes abort_msg's caller, found through this
 * function's own frame record.
 */
__attribute__((noinline)) _Noreturn void
abort_msg(const char *msg)
{
	static struct rt_solo5_trap cookie;
	uint64_t *frame = __builtin_frame_address(0);
	uint64_t v;

	printf("ABORT: %s\n", msg != NULL ? msg : "(no message)");
	rt_console_flush();

	cookie.rip = frame[1];
	cookie.rsp = (uint64_t)(uintptr_t)(frame + 2);
	__asm__ __volatile__("pushfq; popq %0" : "=r"(v));
	cookie.rflags = v;
	__asm__ __volatile__("movq %%cs, %0" : "=r"(v));
	cookie.cs = v;
	__asm__ __volatile__("movq %%ss, %0" : "=r"(v));
	cookie.ss = v;
	rt_halt(HVT_EXIT_ABORT, &cookie);
}
