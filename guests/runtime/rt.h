/*
 * rt.h: what the runtime's own files share; applications use runtime.h.
 */
#ifndef SUMMONER_GUEST_RT_H
#define SUMMONER_GUEST_RT_H

#include <stddef.h>
#include <stdint.h>

#include "runtime.h"

/* Linker-script symbols (hvt.lds). */
extern char __stack_bottom[], _end[];

/* Boot steps, in order, called from rt_start(). */
void rt_cpu_init(void);
void rt_time_init(const struct hvt_boot_info *bi);
void rt_alloc_init(const struct hvt_boot_info *bi);

/* Entry from start.S: never returns. */
_Noreturn void rt_start(struct hvt_boot_info *bi);

/* start.S: continue at rt_user_main(argc, argv) at CPL 3, on the current
 * stack; never returns. */
_Noreturn void rt_enter_user(int argc, char **argv);
/* Where rt_enter_user() lands. */
_Noreturn void rt_user_main(int argc, char **argv);
/* Set by RT_USER_MODE() (runtime.h); 0 by default. */
extern const int rt_user_mode;

/* Selectors of our GDT (cpu.c). */
#define RT_SEL_UDATA 0x2b /* DPL 3 data, RPL 3 */
#define RT_SEL_UCODE 0x33 /* DPL 3 64-bit code, RPL 3 */

/* Called by trapstubs.S with the saved frame; never returns. */
struct rt_trap_frame;
_Noreturn void rt_trap(struct rt_trap_frame *tf);

/*
 * Solo5's trap frame, what HALT's cookie points to on an abort; tenders
 * that know Solo5 print it.
 */
struct rt_solo5_trap {
	uint64_t cr2, ec, rip, cs, rflags, rsp, ss;
};

/*
 * The platform layer: the few functions that differ between the hvt
 * platform (guests/runtime/hvt/, the tender's hypercalls) and the virt
 * platform (guests/runtime/virt/, QEMU microvm).  Everything else in
 * guests/runtime/ is shared; rt_poll() (runtime.h) is the platform's too.
 */

/* argv[0]: "hvt" or "virt". */
extern char rt_plat_argv0[];
/* Nonzero if RT_USER_MODE() can be honoured (else it is ignored). */
extern const int rt_plat_user_mode;
/* Writes len bytes of console output (one line or a full buffer). */
void rt_plat_puts(const char *buf, size_t len);
/* Wall-clock nanoseconds since the epoch, read from the host. */
uint64_t rt_plat_walltime(void);
/*
 * Stops the guest with status; cookie (may be NULL) is a Solo5 trap frame
 * describing an abort (status 255).  Never returns.
 */
_Noreturn void rt_halt(int status, const void *cookie);
/*
 * Reports a CPU exception with its full register frame (xf) to the host
 * and stops the guest; cookie is the same state as a Solo5 trap frame for
 * hosts that know only HALT.  Never returns.
 */
_Noreturn void rt_plat_fault(
    struct hvt_x_frame *xf, const struct rt_solo5_trap *cookie);

/* The manifest copy the tender placed in guest memory (may be NULL). */
const struct hvt_mft *rt_manifest_copy(void);
/* Index of the attached entry of type and name, or -1. */
int rt_device_find(const char *name, uint32_t type);

#endif /* SUMMONER_GUEST_RT_H */
