/*
 * virt.h: shared by the virt platform's own files (guests/runtime/virt/).
 *
 * The virt platform runs the shared runtime on QEMU's microvm machine
 * with KVM: PVH entry, console on COM1, heartbeats on COM2, kvmclock,
 * the local APIC timer for sleeping, isa-debug-exit and pvpanic
 * (docs/guest-runtime.md, "The virt platform").
 */
#ifndef SUMMONER_GUEST_VIRT_H
#define SUMMONER_GUEST_VIRT_H

#include <stdint.h>

#include <summoner/hvt_abi.h>

#define RT_VIRT_LAPIC_BASE 0xfee00000ull
/* isa-debug-exit (iobase=0xf4, iosize=4): QEMU exits with (v << 1) | 1. */
#define RT_VIRT_DEBUG_EXIT_PORT 0xf4
/* ISA pvpanic: writing bit 0 says "guest panicked". */
#define RT_VIRT_PVPANIC_PORT     0x505
#define RT_VIRT_PVPANIC_PANICKED 0x1
/* The largest status isa-debug-exit passes through QEMU's exit status. */
#define RT_VIRT_EXIT_MAX 127

/* entry.S -> setup.c: returns the boot info for rt_start(). */
struct hvt_boot_info *rt_virt_setup(uint32_t start_info);

/* COM2 and the heartbeat transport (platform.c). */
void rt_virt_devices_init(void);

/* kvmclock (clock.c): the TSC frequency in Hz, 0 if there is none. */
uint64_t rt_virt_clock_init(void);

/*
 * Makes QEMU exit through isa-debug-exit with status (at most
 * RT_VIRT_EXIT_MAX; larger statuses become it), or, without that device,
 * through a triple fault (a reset; QEMU exits under -no-reboot).
 */
_Noreturn void rt_virt_exit(int status);

#endif /* SUMMONER_GUEST_VIRT_H */
