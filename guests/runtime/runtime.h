/*
 * runtime.h: the minimal summoner guest runtime, its whole public interface.
 *
 * A guest is a static ELF image linked with guests/runtime/hvt.lds against
 * libruntime.a and libheartbeat.a (or, for QEMU microvm, with
 * guests/runtime/virt/virt.lds against libruntime-virt.a).  The runtime
 * enters 64-bit code from the tender (or from its own PVH entry), installs
 * its own GDT/TSS/IDT (every CPU exception becomes an X_FAULT report, or a
 * fault frame on COM2, with the full register frame), splits the command
 * line into argv and calls guest_main().  Its return value is the HALT status.
 *
 * Every image must declare exactly one manifest with RT_MANIFEST_NONE() or
 * RT_MANIFEST(...); forgetting it is a link error (undefined rt_manifest).
 *
 * Nothing here blocks except rt_sleep_ns() and rt_poll(); nothing here
 * allocates except rt_alloc().  Single vCPU, no interrupts, no threads.
 */
#ifndef SUMMONER_GUEST_RUNTIME_H
#define SUMMONER_GUEST_RUNTIME_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <summoner/hvt_abi.h>

#define RT_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Provided by the application: the guest's main program. */
int guest_main(int argc, char **argv);

/*
 * Manifest (Solo5 "MFT1" ELF note).  The layout follows Solo5: a 20-byte
 * note header (name "Solo5" padded to 8 bytes), 4 bytes of padding so the
 * descriptor is 8-byte aligned at offset 24, and n_descsz counting those
 * 4 padding bytes.  Entries are addressed at run time by their index (the
 * hypercall "handle"), found by name with rt_block_open()/rt_net_open().
 */
struct rt_note_hdr {
	uint32_t namesz;
	uint32_t descsz;
	uint32_t type;
	char name[8];
};

#define RT_MFT_BLOCK(devname)                                                  \
	{                                                                      \
		.name = devname, .type = HVT_MFT_DEV_BLOCK_BASIC               \
	}
#define RT_MFT_NET(devname)                                                    \
	{                                                                      \
		.name = devname, .type = HVT_MFT_DEV_NET_BASIC                 \
	}

#define RT__MFT_NOTE(body_members, ...)                                        \
	struct rt_mft_note {                                                   \
		struct rt_note_hdr h;                                          \
		_Alignas(8) uint32_t version;                                  \
		uint32_t entries;                                              \
		body_members                                                   \
	};                                                                     \
	__attribute__((section(".note.solo5.manifest"), used, aligned(8)))     \
	const struct rt_mft_note rt_manifest = {                               \
	    .h = {.namesz = sizeof(HVT_NOTE_NAME),                             \
	        .descsz =                                                      \
	            sizeof(struct rt_mft_note) - sizeof(struct rt_note_hdr),   \
	        .type = HVT_NOTE_MFT,                                          \
	        .name = HVT_NOTE_NAME},                                        \
	    .version = HVT_MFT_VERSION,                                        \
	    __VA_ARGS__}

/* Declare an empty manifest (a guest without devices). */
#define RT_MANIFEST_NONE() RT__MFT_NOTE(, .entries = 0)

/* Declare a manifest of n entries: RT_MANIFEST(1, RT_MFT_NET("service")). */
#define RT_MANIFEST(n, ...)                                                    \
	_Static_assert(                                                        \
	    (n) > 0 && (n) <= HVT_MFT_MAX_ENTRIES, "manifest size");           \
	RT__MFT_NOTE(struct hvt_mft_entry e[n];                                \
	             , .entries = (n), .e = {__VA_ARGS__})

/*
 * Run guest_main() at CPL 3 (user mode) instead of CPL 0: declare
 * RT_USER_MODE(); once in the image.  Some nested hosts (PVM among them)
 * execute a guest's CPL 3 code natively but emulate its CPL 0 code one
 * instruction at a time, about a thousand times slower; a guest doing
 * real work (a network stack) should run in user mode there.  The runtime
 * itself stays at CPL 0 for exceptions; hypercalls made in user mode
 * (the "out" of hvt_hypercall, which CPL 3 may not execute) trap to a
 * short CPL 0 path that issues them, so nothing else changes for the
 * program or the heartbeat library.  Privileged instructions (cli, hlt,
 * lidt, mov to/from control registers) fault in user mode.
 */
#define RT_USER_MODE() const int rt_user_mode = 1

/* Boot information the tender passed at entry (never NULL after boot). */
const struct hvt_boot_info *rt_boot_info(void);

/* Console: line-buffered, flushed on '\n', when full, and at exit. */
int putchar(int c);
/* Writes s and a newline; returns 0. */
int puts(const char *s);
int printf(const char *fmt, ...) RT_PRINTF(1, 2);
int vprintf(const char *fmt, va_list ap);
/* Writes len bytes of buf to the console buffer. */
void rt_console_write(const char *buf, size_t len);
/* Sends whatever is buffered (one PUTS hypercall if non-empty). */
void rt_console_flush(void);
int snprintf(char *buf, size_t size, const char *fmt, ...) RT_PRINTF(3, 4);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* Flushes the console and HALTs with status; never returns. */
_Noreturn void exit(int status);
/*
 * Prints "ABORT: msg" and HALTs with 255, passing the tender a Solo5-style
 * trap frame cookie describing the caller; never returns.
 */
_Noreturn void abort_msg(const char *msg);

/* Time.  Monotonic nanoseconds since boot, from the TSC. */
uint64_t rt_monotonic_ns(void);
/* Wall-clock nanoseconds since the epoch (one WALLTIME call, then TSC). */
uint64_t rt_wall_ns(void);
/* Blocks (in POLL) for at least ns nanoseconds. */
void rt_sleep_ns(uint64_t ns);
/*
 * Blocks until a device has input or timeout_ns passes; *ready_set (may be
 * NULL) gets the bitmask of manifest indexes with input.  Returns the
 * hypercall result (HVT_OK).
 */
int rt_poll(uint64_t timeout_ns, uint64_t *ready_set);

/* Devices from the manifest; the handle is the manifest index. */
struct rt_block {
	uint64_t handle;
	uint64_t capacity;   /* bytes */
	uint64_t block_size; /* bytes */
};

struct rt_net {
	uint64_t handle;
	uint8_t mac[6];
	uint16_t mtu;
};

/* Finds the attached BLOCK_BASIC device "name"; 0, or -1 if absent. */
int rt_block_open(const char *name, struct rt_block *blk);
/*
 * Whole-block I/O at a block-aligned byte offset.  Requests are passed to
 * the tender unchecked (it validates them); returns enum hvt_result.
 */
int rt_block_read(
    const struct rt_block *blk, uint64_t off, void *buf, size_t len);
int rt_block_write(
    const struct rt_block *blk, uint64_t off, const void *buf, size_t len);

/* Finds the attached NET_BASIC device "name"; 0, or -1 if absent. */
int rt_net_open(const char *name, struct rt_net *net);
/* Sends one Ethernet frame; returns enum hvt_result. */
int rt_net_write(const struct rt_net *net, const void *frame, size_t len);
/*
 * Receives one frame into buf (size bytes); *len gets its length.  Returns
 * HVT_OK, HVT_EAGAIN when nothing is queued, or an error.
 */
int rt_net_read(const struct rt_net *net, void *buf, size_t size, size_t *len);

/*
 * Bump allocator over [end of image, top of memory), 16-byte aligned,
 * never freed.  Returns NULL when memory is exhausted.
 */
void *rt_alloc(size_t size);

/* The usual freestanding string functions (gcc may emit mem* calls). */
void *memset(void *dst, int c, size_t n);
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
/* strtoul without errno: saturates at ULONG_MAX; base 0 detects 0x/0. */
unsigned long strtoul(const char *s, char **end, int base);

/* Byte order helpers for network code. */
static inline uint16_t
rt_htons(uint16_t v)
{
	return (uint16_t)((v << 8) | (v >> 8));
}

static inline uint32_t
rt_htonl(uint32_t v)
{
	return __builtin_bswap32(v);
}

#define rt_ntohs rt_htons
#define rt_ntohl rt_htonl

#endif /* SUMMONER_GUEST_RUNTIME_H */
