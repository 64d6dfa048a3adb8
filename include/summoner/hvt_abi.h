/*
 * hvt_abi.h: the guest <-> summoner-tender ABI.
 *
 * This header is shared by the tender (host side, hosted C) and by the
 * freestanding guest runtime, so it uses nothing but <stdint.h>.
 *
 * Numbers 1..8 are the Solo5 hvt ABI (version 2) that existing Solo5 and
 * MirageOS .hvt images issue; their layouts must not change.  Numbers from
 * HVT_HC_X_FIRST up are summoner extensions that a Solo5 guest never issues.
 * See docs/hvt-abi.md for the full description.
 *
 * A hypercall is a 32-bit "out" to port HVT_HC_PORT(nr) with the 32-bit
 * guest-physical address of the argument struct in eax.  Every address and
 * length inside an argument struct is checked by the tender against guest
 * memory before use; a bad one is a "bad hypercall" fault.
 */
#ifndef SUMMONER_HVT_ABI_H
#define SUMMONER_HVT_ABI_H

#include <stdint.h>

#define HVT_ABI_VERSION 2
#define HVT_ABI_TARGET  1 /* Solo5 "hvt" */

/* ELF notes (owner "Solo5"). */
#define HVT_NOTE_NAME "Solo5"
#define HVT_NOTE_ABI  0x31494241u /* "ABI1" */
#define HVT_NOTE_MFT  0x3154464du /* "MFT1" */

struct hvt_abi1_note {
	uint32_t abi_target;
	uint32_t abi_version;
	uint32_t reserved0;
	uint32_t reserved1;
};

/* Application manifest (MFT1). */
#define HVT_MFT_VERSION     1
#define HVT_MFT_MAX_ENTRIES 64
#define HVT_MFT_NAME_SIZE   68 /* 1..67 characters + NUL */

enum hvt_mft_type {
	HVT_MFT_DEV_BLOCK_BASIC = 1,
	HVT_MFT_DEV_NET_BASIC = 2,
};

struct hvt_mft_block_basic {
	uint64_t capacity;
	uint16_t block_size;
};

struct hvt_mft_net_basic {
	uint8_t mac[6];
	uint16_t mtu;
};

struct hvt_mft_entry {
	char name[HVT_MFT_NAME_SIZE];
	uint32_t type;
	union {
		struct hvt_mft_block_basic block_basic;
		struct hvt_mft_net_basic net_basic;
	} u;
	union {
		int hostfd;
		void *data;
		uint64_t pad;
	} b; /* tender-private */
	_Bool attached;
};

struct hvt_mft {
	uint32_t version;
	uint32_t entries;
	struct hvt_mft_entry e[];
};

_Static_assert(sizeof(struct hvt_mft_entry) == 104, "mft_entry layout");
_Static_assert(sizeof(struct hvt_mft) == 8, "mft header layout");

/* Guest-physical memory layout owned by the tender. */
#define HVT_GDT_BASE       0x1000ull
#define HVT_PML4_BASE      0x2000ull
#define HVT_PDPT_BASE      0x3000ull
#define HVT_PD_BASE        0x4000ull /* four PDs: 0x4000..0x7fff */
#define HVT_PT_BASE        0x8000ull /* 4 KB pages for the first 2 MB */
#define HVT_BOOT_INFO_BASE 0x10000ull
#define HVT_GUEST_MIN_BASE 0x100000ull /* lowest PT_LOAD address */
#define HVT_CMDLINE_SIZE   8192

/* Boot info at HVT_BOOT_INFO_BASE; rdi points here at entry. */
struct hvt_boot_info {
	uint64_t mem_size;
	uint64_t kernel_end;
	uint64_t cpu_cycle_freq; /* TSC frequency, Hz */
	uint64_t cmdline;        /* guest address, NUL-terminated */
	uint64_t mft;            /* guest address of the manifest copy */
	uint32_t host_features;
	uint32_t guest_features;
	uint64_t net_ring; /* 0: no ring I/O */
};

/* Hypercalls. */
#define HVT_HC_BASE     0x500
#define HVT_HC_PORT(nr) (HVT_HC_BASE + (nr))

enum hvt_hc {
	HVT_HC_WALLTIME = 1,
	HVT_HC_PUTS = 2,
	HVT_HC_POLL = 3,
	HVT_HC_BLOCK_WRITE = 4,
	HVT_HC_BLOCK_READ = 5,
	HVT_HC_NET_WRITE = 6,
	HVT_HC_NET_READ = 7,
	HVT_HC_HALT = 8,
	/* summoner extensions */
	HVT_HC_X_FIRST = 16,
	HVT_HC_X_NOTIFY = 16, /* heartbeat / readiness (KEY=VALUE text) */
	HVT_HC_X_LOG = 17,    /* one log line */
	HVT_HC_X_FAULT = 18,  /* fatal fault with a full register frame */
	HVT_HC_X_DUMP = 19,   /* register snapshot, guest continues */
	HVT_HC_X_LAST = 19,
	HVT_HC_MAX = 32 /* ports 0x500..0x51f are ours */
};

/* Hypercall result codes (the "ret" field). */
enum hvt_result {
	HVT_OK = 0,
	HVT_EAGAIN = 1,
	HVT_EINVAL = 2,
	HVT_EUNSPEC = 3,
};

/* Exit status conventions (HALT). */
#define HVT_EXIT_SUCCESS    0
#define HVT_EXIT_FAILURE    1
#define HVT_EXIT_ABORT      255
#define HVT_HALT_COOKIE_MAX 512 /* bytes at "cookie" the tender may read */

struct hvt_hc_walltime {
	uint64_t nsecs; /* OUT */
};

struct hvt_hc_puts {
	uint64_t data; /* IN: guest address */
	uint64_t len;  /* IN */
};

struct hvt_hc_poll {
	uint64_t timeout_nsecs; /* IN */
	uint64_t ready_set;     /* OUT: bitmask of manifest indexes */
	int ret;                /* OUT */
};

struct hvt_hc_block_io {
	uint64_t handle; /* IN: manifest index */
	uint64_t offset; /* IN: bytes, block aligned */
	uint64_t data;   /* IN: guest address */
	uint64_t len;    /* IN (and OUT for read): whole blocks */
	int ret;         /* OUT */
};

struct hvt_hc_net_write {
	uint64_t handle;
	uint64_t data;
	uint64_t len;
	int ret;
};

struct hvt_hc_net_read {
	uint64_t handle;
	uint64_t data;
	uint64_t len; /* IN: buffer size; OUT: frame length */
	int ret;      /* 0 ok, 1 AGAIN */
};

struct hvt_hc_halt {
	uint64_t cookie; /* IN: 0 or guest address of a trap frame */
	int exit_status;
};

/*
 * X_NOTIFY and X_LOG: a text message (at most HVT_X_TEXT_MAX bytes, not
 * necessarily NUL-terminated).  NOTIFY carries the sd_notify-style
 * KEY=VALUE lines of docs/heartbeat-protocol.md.
 */
#define HVT_X_TEXT_MAX 4096

struct hvt_hc_x_text {
	uint64_t data;
	uint64_t len;
	int ret;
};

/*
 * X_FAULT and X_DUMP: a register frame captured by the guest's trap handler
 * (or by hb_fault/hb_dump), plus an optional message.  After X_FAULT the
 * tender freezes the vCPU; it never returns to the guest.
 */
#define HVT_X_FRAME_VERSION 1

enum hvt_x_fault_kind {
	HVT_X_FAULT_EXCEPTION = 1, /* CPU exception; "vector" is valid */
	HVT_X_FAULT_ABORT = 2,     /* guest-detected fatal error (hb_fault) */
	HVT_X_FAULT_DUMP = 3,      /* snapshot only (X_DUMP) */
};

/* Order of regs[]: the order of gdb's amd64 "g" packet. */
enum hvt_x_reg {
	HVT_X_RAX,
	HVT_X_RBX,
	HVT_X_RCX,
	HVT_X_RDX,
	HVT_X_RSI,
	HVT_X_RDI,
	HVT_X_RBP,
	HVT_X_RSP,
	HVT_X_R8,
	HVT_X_R9,
	HVT_X_R10,
	HVT_X_R11,
	HVT_X_R12,
	HVT_X_R13,
	HVT_X_R14,
	HVT_X_R15,
	HVT_X_NREGS
};

struct hvt_x_frame {
	uint32_t version; /* HVT_X_FRAME_VERSION */
	uint32_t kind;    /* enum hvt_x_fault_kind */
	uint64_t vector;  /* exception vector (0..31) */
	uint64_t error_code;
	uint64_t cr2;
	uint64_t regs[HVT_X_NREGS];
	uint64_t rip;
	uint64_t rflags;
	uint64_t cs;
	uint64_t ss;
	uint64_t msg; /* 0 or guest address of a message */
	uint64_t msglen;
};

struct hvt_hc_x_fault {
	uint64_t frame; /* guest address of struct hvt_x_frame */
	int ret;
};

/*
 * Guest side: issue hypercall nr with its argument struct.  The tender reads
 * the struct's 32-bit guest-physical address from eax; the hvt identity
 * mapping makes that the pointer itself.  The "memory" clobber orders the
 * stores filling the struct before the exit and the tender's writes before
 * the guest's reads.  (Host code includes this header too and never calls
 * it.)
 */
static inline void
hvt_hypercall(int nr, void *arg)
{
	__asm__ __volatile__(
	    "outl %0, %1"
	    :
	    : "a"((uint32_t)(uintptr_t)arg), "d"((uint16_t)HVT_HC_PORT(nr))
	    : "memory");
}

#endif /* SUMMONER_HVT_ABI_H */
