/*
 * ctlproto.h: the control protocol between summoner-tender and its parent.
 *
 * One header for the whole protocol (docs/control-protocol.md describes the
 * same thing in prose).  The channel is an inherited socketpair, given to
 * the tender with --control-fd=FD; SOCK_SEQPACKET or SOCK_STREAM both work
 * because every message is self-delimiting.
 *
 * A message is a fixed 8-byte header followed by "len" bytes of payload:
 *
 *	u16 version	CTL_VERSION; a reader refuses any other version
 *	u16 type	enum ctl_type
 *	u32 len		payload length, at most CTL_MAX_PAYLOAD
 *
 * All integers are in host byte order (both ends run on the same host).
 * Payloads are the packed structs below, optionally followed by text (not
 * NUL-terminated; its length is what remains of the payload).  A reader
 * must accept payloads longer than the struct it knows (fields are only
 * ever appended) and refuse shorter ones.
 *
 * Because text is "what remains", the fixed part of a type that carries
 * text (HEARTBEAT, LOG, CONSOLE, FAULT, CAPTURED, GDB, GDB_OPEN) is frozen: an
 *old reader would read appended fields as text.  Growing one of those needs a
 *new type or a new CTL_VERSION.  Types without text may grow at the end.
 *
 * New types may be added without a new version: the framing (ctl_parse,
 * ctl_reader_next) does not look at the type, and a reader skips a frame
 * whose type ctl_payload() calls CTL_ETYPE.  A change an old peer must not
 * ignore needs a new CTL_VERSION.
 *
 * A payload inside a receive buffer is not aligned: memcpy the struct out
 * instead of casting the pointer.
 */
#ifndef SUMMONER_CTLPROTO_H
#define SUMMONER_CTLPROTO_H

#include <stddef.h>
#include <stdint.h>

#define CTL_VERSION     1
#define CTL_HDR_SIZE    8
#define CTL_MAX_PAYLOAD 65536
#define CTL_MAX_FRAME   (CTL_HDR_SIZE + CTL_MAX_PAYLOAD)
#define CTL_MAX_TEXT    4096 /* longest text any event carries */

enum ctl_type {
	/* up: tender -> parent */
	CTL_BOOTED = 1,    /* struct ctl_booted */
	CTL_READY = 2,     /* struct ctl_ready */
	CTL_HEARTBEAT = 3, /* struct ctl_heartbeat + status text */
	CTL_LOG = 4,       /* struct ctl_text + log line */
	CTL_CONSOLE = 5,   /* struct ctl_text + console line */
	CTL_FAULT = 6,     /* struct ctl_fault + message text */
	CTL_EXITED = 7,    /* struct ctl_exited */
	CTL_PAUSED = 8,    /* struct ctl_text (no text): vCPU is paused */
	CTL_RESUMED = 9,   /* struct ctl_text (no text): vCPU runs again */
	CTL_CAPTURED = 10, /* struct ctl_captured + text: after a FAULT */
	CTL_GDB = 11,      /* struct ctl_text + where the gdb stub listens */
	/* down: parent -> tender */
	CTL_STOP = 64,     /* no payload: end the guest, exit */
	CTL_PAUSE = 65,    /* no payload: freeze the vCPU */
	CTL_RESUME = 66,   /* no payload: let a paused vCPU run */
	CTL_GDB_OPEN = 67, /* struct ctl_gdb_open + address: start the stub */
};

struct ctl_hdr {
	uint16_t version;
	uint16_t type;
	uint32_t len;
};

/* Every timestamp is CLOCK_MONOTONIC in nanoseconds. */

struct ctl_booted {
	uint64_t t_ns;       /* just before the first KVM_RUN */
	uint64_t mem_size;   /* bytes of guest memory */
	uint64_t entry;      /* guest entry point */
	uint64_t kernel_end; /* end of the loaded image */
	uint64_t t_start_ns; /* when the tender's main() began */
};

struct ctl_ready {
	uint64_t t_ns;
};

struct ctl_heartbeat {
	uint64_t t_ns;
	uint64_t seq;      /* X_SEQ, or the tender's own count */
	uint64_t progress; /* X_PROGRESS (0 when absent) */
	uint32_t flags;    /* CTL_HB_* */
	uint32_t conns;    /* X_CONNS (0 when absent) */
	                   /* followed by STATUS= text, if any */
};

#define CTL_HB_HAS_PROGRESS 0x1
#define CTL_HB_HAS_STATUS   0x2
#define CTL_HB_HAS_CONNS    0x4
#define CTL_HB_HAS_SEQ      0x8

struct ctl_text {
	uint64_t t_ns;
	/* followed by the text */
};

enum ctl_fault_kind {
	CTL_FAULT_EXCEPTION =
	    1,               /* guest CPU exception (reported by its runtime) */
	CTL_FAULT_ABORT = 2, /* HALT with status 255, or hb_fault() */
	CTL_FAULT_TRIPLE = 3,     /* triple fault / shutdown */
	CTL_FAULT_BAD_HCALL = 4,  /* bad port, size, address or length */
	CTL_FAULT_KVM_ERROR = 5,  /* KVM internal error, failed entry, ... */
	CTL_FAULT_HOST_ERROR = 6, /* the tender itself failed */
	CTL_FAULT_DUMP = 7,       /* hb_dump(): snapshot, the guest goes on */
};

/* Where the register values in a ctl_fault come from. */
#define CTL_REGS_VCPU  0x1 /* read from the frozen vCPU (KVM_GET_REGS) */
#define CTL_REGS_GUEST 0x2 /* reported by the guest's trap frame */

/* Register order: enum hvt_x_reg in hvt_abi.h (rax rbx rcx rdx rsi rdi
 * rbp rsp r8..r15), the order of gdb's amd64 "g" packet. */
#define CTL_NREGS 16

struct ctl_fault {
	uint64_t t_ns;
	uint32_t kind;   /* enum ctl_fault_kind */
	uint32_t source; /* CTL_REGS_* */
	uint64_t vector; /* exception vector, or ~0 when not an exception */
	uint64_t error_code;
	uint64_t cr2;
	uint64_t regs[CTL_NREGS];
	uint64_t rip;
	uint64_t rflags;
	uint16_t cs, ss, ds, es, fs, gs;
	uint32_t hcall; /* hypercall number for BAD_HCALL, else 0 */
	                /* followed by a message */
};

/*
 * CAPTURED follows a FAULT once the tender has written the fault's
 * artifacts (before any decision).  Its text is lines separated by '\n':
 * the first is the fault directory (absolute path, empty when nothing
 * could be written), then one line per backtrace frame, innermost first:
 * "0x<pc> <function>+0x<offset>" or "0x<pc> ?" when no symbol matches.
 * After a FAULT the tender keeps the vCPU frozen and waits for STOP
 * (exit) or GDB_OPEN (quarantine: the stub serves the frozen VM).
 */
#define CTL_CAPTURED_CORE   0x1 /* core file written */
#define CTL_CAPTURED_REPORT 0x2 /* report.json written */
#define CTL_CAPTURED_TAIL   0x4 /* console tail written */

struct ctl_captured {
	uint64_t t_ns;
	uint32_t flags;   /* CTL_CAPTURED_* */
	uint32_t nframes; /* backtrace lines that follow the directory */
	                  /* followed by the text described above */
};

/*
 * GDB_OPEN: text is "unix:/path/to/sock" (created with mode 0600) or
 * "tcp:127.0.0.1:PORT" (PORT 0: any free port).  The tender answers with
 * CTL_GDB whose text is the argument for gdb's "target remote"
 * ("/path/to/sock" or "127.0.0.1:40123"), or a FAULT-free CTL_LOG line
 * saying why it could not.  A quarantined tender whose parent goes away
 * keeps serving the stub (the summoner re-adopts it from its journal).
 */
struct ctl_gdb_open {
	uint32_t flags; /* 0 for now */
	uint32_t pad;
	/* followed by the address text */
};

enum ctl_exit_reason {
	CTL_EXIT_GUEST = 1,   /* the guest called HALT */
	CTL_EXIT_STOPPED = 2, /* CTL_STOP was received */
	CTL_EXIT_FAULT = 3,   /* after a CTL_FAULT */
	CTL_EXIT_ERROR = 4,   /* host error */
};

struct ctl_exited {
	uint64_t t_ns;
	int32_t status;  /* the tender's exit status */
	uint32_t reason; /* enum ctl_exit_reason */
};

/* Status of the framing functions; ctl_strerror() names each. */
enum ctl_status {
	CTL_OK = 0,
	CTL_EMORE = 1,     /* incomplete: feed more bytes */
	CTL_EVERSION = -1, /* unknown protocol version */
	CTL_ETOOBIG = -2,  /* payload longer than CTL_MAX_PAYLOAD */
	CTL_ETYPE = -3,    /* unknown message type */
	CTL_ESHORT = -4,   /* payload shorter than its struct */
	CTL_ESPACE = -5,   /* output buffer too small */
};

const char *ctl_strerror(int status);

/* Name of a message type ("heartbeat"), or "unknown". */
const char *ctl_type_name(unsigned type);

/* Name of a fault kind ("exception"), or "unknown". */
const char *ctl_fault_kind_name(unsigned kind);

/*
 * Encode one message into buf.  "fixed" (fixedlen bytes, may be NULL when 0)
 * is the struct, "text" (textlen bytes, may be NULL when 0) is appended.
 * Text longer than CTL_MAX_TEXT is truncated to it.
 * Returns the total bytes written, or a negative enum ctl_status: ETYPE
 * (unknown type), ESHORT (fixedlen below the type's struct), ETOOBIG,
 * ESPACE (bufsz too small; nothing useful is in buf).
 */
int ctl_encode(void *buf, size_t bufsz, unsigned type, const void *fixed,
    size_t fixedlen, const void *text, size_t textlen);

/*
 * Check the frame at the start of buf (len bytes available).  On CTL_OK,
 * *hdr holds the header and *framelen the total size of the frame
 * (header + payload).  CTL_EMORE means the frame is not complete yet.
 * Any negative status means the stream is corrupt and must be closed.
 * Only the framing is checked (version, length), not the type; a wrong
 * version is reported as soon as its 2 bytes are there.
 */
int ctl_parse(
    const void *buf, size_t len, struct ctl_hdr *hdr, size_t *framelen);

/*
 * Given a complete frame's payload (hdr->len bytes, as checked by
 * ctl_parse), check that it is long enough for its type and point *text
 * and *textlen at the trailing text.  Only HEARTBEAT, LOG, CONSOLE,
 * FAULT, CAPTURED, GDB and GDB_OPEN carry text; for the other types *text is
 * NULL, *textlen 0, and extra bytes are fields appended by a newer peer.  text
 * and textlen may be NULL.  Returns CTL_OK or CTL_ESHORT/CTL_ETYPE; neither
 * means the stream is corrupt (the frame can be skipped).
 */
int ctl_payload(const struct ctl_hdr *hdr, const void *payload,
    const char **text, size_t *textlen);

/*
 * A stream reassembly buffer: feed it whatever read() returned and take
 * complete frames out.  Used by the parent (which may read a SOCK_STREAM)
 * and by the tender.
 */
struct ctl_reader {
	size_t len; /* bytes in buf */
	size_t off; /* bytes at the front of buf already taken out */
	uint8_t buf[CTL_MAX_FRAME];
};

void ctl_reader_init(struct ctl_reader *r);

/*
 * Bytes ctl_reader_feed() accepts right now.  Never 0 while
 * ctl_reader_next() says CTL_EMORE, so reading at most this much never
 * deadlocks.
 */
size_t ctl_reader_space(const struct ctl_reader *r);

/*
 * Append n bytes, all or nothing; returns CTL_OK or CTL_ESPACE (n is more
 * than ctl_reader_space(): drain with ctl_reader_next() first).
 */
int ctl_reader_feed(struct ctl_reader *r, const void *data, size_t n);

/*
 * Take the next complete frame: on CTL_OK, *hdr and *payload (pointing
 * into the reader, valid until the next ctl_reader_feed() or
 * ctl_reader_init()) describe it; check it with ctl_payload().
 * CTL_EMORE: nothing complete yet.  Negative: corrupt stream; the reader
 * keeps returning the same status, close the stream.
 */
int ctl_reader_next(
    struct ctl_reader *r, struct ctl_hdr *hdr, const uint8_t **payload);

#endif /* SUMMONER_CTLPROTO_H */
