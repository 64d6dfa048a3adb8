/*
 * platform.c (hvt): the runtime's platform layer over the hvt hypercalls
 * of summoner-tender (or any Solo5 hvt tender).  The virt platform
 * (guests/runtime/virt/) implements the same functions for QEMU.
 */
#include <stddef.h>
#include <stdint.h>

#include "rt.h"

char rt_plat_argv0[] = "hvt";

/* The tender marks every page user-accessible: RT_USER_MODE() works. */
const int rt_plat_user_mode = 1;

void
rt_plat_puts(const char *buf, size_t len)
{
	struct hvt_hc_puts p = {
	    .data = (uint64_t)(uintptr_t)buf,
	    .len = len,
	};

	hvt_hypercall(HVT_HC_PUTS, &p);
}

_Noreturn void
rt_halt(int status, const void *cookie)
{
	struct hvt_hc_halt h = {
	    .cookie = (uint64_t)(uintptr_t)cookie,
	    .exit_status = status,
	};

	hvt_hypercall(HVT_HC_HALT, &h);
	/* HALT does not return; if a broken tender lets it, stay stopped. */
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

_Noreturn void
rt_plat_fault(struct hvt_x_frame *xf, const struct rt_solo5_trap *cookie)
{
	struct hvt_hc_x_fault hc = {.frame = (uint64_t)(uintptr_t)xf};

	hvt_hypercall(HVT_HC_X_FAULT, &hc);
	/* Only a tender without X_FAULT gets here. */
	rt_halt(HVT_EXIT_ABORT, cookie);
}

uint64_t
rt_plat_walltime(void)
{
	struct hvt_hc_walltime w = {0};

	hvt_hypercall(HVT_HC_WALLTIME, &w);
	return w.nsecs;
}

int
rt_poll(uint64_t timeout_ns, uint64_t *ready_set)
{
	struct hvt_hc_poll p = {.timeout_nsecs = timeout_ns};

	hvt_hypercall(HVT_HC_POLL, &p);
	if (ready_set != NULL)
		*ready_set = p.ready_set;
	return p.ret;
}
