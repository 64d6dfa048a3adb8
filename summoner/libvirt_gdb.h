/*
 * libvirt_gdb.h: a few words of gdb's remote protocol, to QEMU's stub.
 *
 * QEMU's gdbstub shows the vCPU where it stopped: in a faulted guest that
 * is the panic path (the pvpanic write), not the function that faulted.
 * The tender's stub shows the registers of the guest's report instead, so
 * that `bt` starts where the fault was; for the same view the libvirt
 * backend writes those registers into the frozen vCPU through QEMU's stub
 * before it hands the address out ('g' to read them all, 'G' with the
 * reported ones changed).  The guest never runs again, and QEMU's own
 * note in the core keeps what the vCPU really held.
 */
#ifndef SUMMONER_LIBVIRT_GDB_H
#define SUMMONER_LIBVIRT_GDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Registers in gdb's amd64 "g" order: rax rbx rcx rdx rsi rdi rbp rsp
 * r8..r15 (8 bytes each), rip (8), eflags (4). */
#define LV_GDB_NREGS 18

/*
 * Connect to the stub at addr ("/abs/path.sock" or "127.0.0.1:PORT"),
 * set the registers i for which set[i] is true to regs[i] (the others
 * keep their values), and disconnect, leaving the VM stopped.  Waits at
 * most timeout_ms per reply.  0, or -1 with a one-line reason in err.
 */
int lv_gdb_set_regs(const char *addr, const uint64_t *regs, const bool *set,
    int timeout_ms, char *err, size_t errlen);

/* gdb's packet checksum of len bytes (the sum modulo 256). */
unsigned lv_gdb_checksum(const char *p, size_t len);

#endif /* SUMMONER_LIBVIRT_GDB_H */
