/*
 * tender.h: the internal interface of summoner-tender, one process per hvt
 * instance.  Every function here documents its contract; everything else in
 * tender/ is static.
 *
 * Threads: the main thread owns the vCPU and does all the work, including
 * every write to the control channel.  A second thread exists only when
 * --control-fd is given: it reads commands and forwards them, one byte each,
 * through a pipe the vCPU thread drains, then kicks the vCPU out of KVM_RUN
 * with a signal.  So a command takes effect within microseconds whether the
 * guest computes or blocks in POLL.
 */
#ifndef SUMMONER_TENDER_H
#define SUMMONER_TENDER_H

#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "elf.h"
#include "summoner/ctlproto.h"
#include "summoner/hvt_abi.h"

/*
 * Exit statuses.  0..255 from HALT are the guest's own (0 success, 1
 * failure, 255 abort) so that scripts written for solo5-hvt keep working;
 * the tender's own outcomes use these distinct codes (docs/tender.md).
 */
#define TENDER_EXIT_USAGE    64 /* bad command line */
#define TENDER_EXIT_IMAGE    65 /* image or manifest refused */
#define TENDER_EXIT_NOINPUT  66 /* image, block file or tap not openable */
#define TENDER_EXIT_KVM      69 /* /dev/kvm missing or unusable */
#define TENDER_EXIT_INTERNAL 70 /* the tender failed (host error) */
#define TENDER_EXIT_FAULT    80 /* guest fault: see the fault event */
#define TENDER_EXIT_STOPPED  81 /* stopped by CTL_STOP or a signal */

#define TENDER_MEM_DEFAULT_MB 512
#define TENDER_MEM_MIN        (2ull << 20)
#define TENDER_MEM_MAX        (4ull << 30)
#define TENDER_MAX_DEVICES    HVT_MFT_MAX_ENTRIES

struct vm;

/* --- fault capture: types (fault.c, core.c, report.c) ------------------- */

#define TENDER_CON_TAIL  8192          /* console bytes kept for console.txt */
#define FAULT_MAX_FRAMES 32            /* backtrace depth */
#define FAULT_FUNC_MAX   64            /* longest function name kept */
#define FAULT_CORE_MAX   (64ull << 20) /* guest bytes a core holds at most */

/* Where one register value at the fault comes from. */
enum fault_src {
	FAULT_SRC_VCPU = 0,    /* the frozen vCPU (KVM_GET_REGS/SREGS) */
	FAULT_SRC_GUEST = 1,   /* the guest's own trap frame */
	FAULT_SRC_UNWOUND = 2, /* recovered from the guest's frame chain */
};

/* Segment registers, in this order everywhere. */
enum fault_seg_reg {
	FAULT_SEG_CS,
	FAULT_SEG_SS,
	FAULT_SEG_DS,
	FAULT_SEG_ES,
	FAULT_SEG_FS,
	FAULT_SEG_GS,
	FAULT_NSEGS
};

struct fault_seg {
	uint64_t base;
	uint32_t limit;
	uint16_t selector;
	uint8_t type;  /* descriptor type bits, as KVM reports them */
	uint8_t flags; /* 0x1 present, 0x2 long (l), 0x4 db, 0x8 g, 0x10 s */
};

/* The frozen vCPU as KVM holds it (vm.c fills it at the fault). */
struct fault_cpu {
	bool regs_valid;          /* KVM_GET_REGS worked */
	bool sregs_valid;         /* KVM_GET_SREGS worked */
	uint64_t regs[CTL_NREGS]; /* enum hvt_x_reg order */
	uint64_t rip, rflags;
	struct fault_seg seg[FAULT_NSEGS];
	uint64_t cr0, cr2, cr3, cr4, efer;
};

struct fault_frame {
	uint64_t pc;     /* frame 0: the fault rip; then return addresses */
	uint64_t offset; /* pc - func's start (when func[0] != 0) */
	char func[FAULT_FUNC_MAX]; /* "" when no symbol contains pc */
};

/* Everything captured about the fault in progress (fault_capture()). */
struct fault_info {
	uint64_t t_exit_ns; /* the tender saw the fault (vCPU exit) */
	uint64_t t_done_ns; /* artifacts written, CAPTURED about to go */
	uint64_t t_wall_ns; /* CLOCK_REALTIME at the fault, for humans */
	struct fault_cpu cpu;
	/* The registers at the fault (what a core's NT_PRSTATUS holds):
	 * t->fault's values, with rbp recovered from the frame chain when the
	 * guest's frame lacks it; src[] says where each came from, in
	 * enum hvt_x_reg order, then rip (16) and rflags (17). */
	uint64_t regs[CTL_NREGS], rip, rflags;
	uint8_t src[CTL_NREGS + 2];
	struct fault_frame frames[FAULT_MAX_FRAMES];
	unsigned nframes;
	char dir[PATH_MAX];  /* absolute fault directory; "" if none */
	uint32_t written;    /* CTL_CAPTURED_* */
	uint64_t core_bytes; /* guest bytes in the core */
	bool core_truncated; /* more was resident than FAULT_CORE_MAX */
	/* What STOP ends the frozen tender with (fault_wait()). */
	int exit_status;
	unsigned exit_reason;
};

/* A device named on the command line (--net:NAME=..., --block:NAME=...). */
struct tender_dev {
	char name[HVT_MFT_NAME_SIZE];
	uint32_t type;   /* enum hvt_mft_type */
	const char *arg; /* IFACE, @FD or PATH */
	int fd;
	uint64_t capacity;   /* block: bytes */
	uint16_t block_size; /* block */
	uint8_t mac[6];      /* net */
	bool mac_set;        /* net: mac given by --net-mac, else random */
	uint16_t mtu;        /* net */
};

struct tender {
	/* guest memory */
	uint8_t *mem;
	uint64_t mem_size;

	/* devices, indexed by manifest entry (the hypercall "handle") */
	struct tender_dev *dev_by_handle[TENDER_MAX_DEVICES];
	unsigned ndev_handles;

	/* control channel; -1 means print events on stdout/stderr */
	int ctl_fd;
	int cmd_rd, cmd_wr; /* command pipe: control thread -> vCPU */
	bool paused;
	bool ready_sent;
	uint64_t beats; /* heartbeats seen */

	/* console line buffer (control channel mode) */
	char con_buf[CTL_MAX_TEXT];
	size_t con_len;

	/* set when a hypercall ends the guest */
	int exit_status;
	struct ctl_fault fault;
	char fault_msg[CTL_MAX_TEXT];
	size_t fault_msglen;
	bool frame_partial; /* the guest's frame lacks the general registers */
	uint64_t t_start;   /* CLOCK_MONOTONIC ns at tender start */

	/* the image, kept mapped for symbolising (main.c) */
	const char *image_path;
	const void *img;
	size_t imglen;
	struct elf_image ei;

	/* --fault-dir=DIR: where fault artifacts go (NULL: not written) */
	const char *fault_dir;
	/* --gdb=SPEC: start with the gdb stub ("unix:PATH" or
	 * "tcp:127.0.0.1:PORT"); NULL without */
	const char *gdb_spec;

	/* fault capture: the last console bytes (a ring; events.c) and the
	 * fault in progress (fault.c) */
	char con_tail[TENDER_CON_TAIL];
	uint64_t con_tail_total; /* console bytes ever seen */
	struct fault_info cap;
};

/* The value of hex digit c (either case), or -1: for the gdb protocol and
 * --net-mac. */
static inline int
tender_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* --- clock.c --------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t tender_now_ns(void);

/* --- gmem.c: guest memory ----------------------------------------------- */

/*
 * Host pointer for the guest range [gpa, gpa + len), or NULL if any byte of
 * it lies outside guest memory (overflow-safe).  len 0 is allowed.
 */
void *gmem_ptr(const struct tender *t, uint64_t gpa, uint64_t len);

/* --- hypercall.c ---------------------------------------------------------- */

enum hc_result {
	HC_CONTINUE = 0, /* resume the guest */
	HC_HALT,         /* the guest halted: t->exit_status is set */
	HC_FAULT,        /* a fault: t->fault and t->fault_msg are set */
};

/*
 * Handle one port I/O exit.  "port" and "size" are what the guest used,
 * "value" is the 32-bit eax it wrote (the argument's guest address).
 * Anything malformed becomes HC_FAULT with kind CTL_FAULT_BAD_HCALL and a
 * message naming the problem; this never touches memory outside the guest.
 */
enum hc_result hc_dispatch(
    struct tender *t, unsigned port, unsigned size, bool out, uint32_t value);

/*
 * Record a fault of "kind" with a printf-style message in t->fault (which the
 * caller fills with registers afterwards).  Returns HC_FAULT.
 */
enum hc_result hc_fault(struct tender *t, unsigned kind, unsigned hcall,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* --- events.c: everything the tender reports ---------------------------- */

/* Send (or, without a control channel, print) one event.  Errors writing
 * to the control channel are fatal to the tender: the parent is gone. */
void ev_booted(struct tender *t, uint64_t entry, uint64_t kernel_end);
void ev_ready(struct tender *t);
void ev_heartbeat(struct tender *t, uint64_t seq, uint64_t progress,
    uint32_t flags, uint32_t conns, const char *status, size_t statuslen);
void ev_log(struct tender *t, const char *text, size_t len);
/* ev_log() of a printf-style line (cut at 511 bytes). */
void ev_logf(struct tender *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void ev_console(struct tender *t, const char *data, size_t len);
void ev_console_flush(struct tender *t);
void ev_fault(struct tender *t);
void ev_exited(struct tender *t, int status, unsigned reason);
void ev_paused(struct tender *t, bool paused);

/*
 * CAPTURED: the fault's artifacts are written (t->cap).  Without a control
 * channel, prints the directory and the backtrace on stderr.
 */
void ev_captured(struct tender *t);

/*
 * Copy the console tail (the last TENDER_CON_TAIL bytes the guest printed,
 * oldest first) to out; returns the bytes copied (at most outsz).
 */
size_t ev_console_tail(const struct tender *t, char *out, size_t outsz);

/* --- devices.c: --net and --block ------------------------------------------
 */

/* Open a device given on the command line.  Returns 0, or -1 with a message
 * in err. */
int dev_open(struct tender_dev *d, char *err, size_t errsz);

/* --- control.c: commands from the parent ------------------------------------
 */

/* Start the control thread (only with --control-fd).  0 or -1 (errno). */
int control_start(struct tender *t);

/*
 * Apply the commands waiting in the command pipe, in order.  While paused
 * this blocks until RESUME or STOP.  STOP ends the process (exit status
 * TENDER_EXIT_STOPPED, after the EXITED event).  Called by the vCPU thread
 * between KVM_RUN calls and from POLL.
 */
void control_apply(struct tender *t);

/* Install the vCPU kick: "flag" is set (to 1) from the signal handler. */
void control_set_kick(volatile uint8_t *flag);

/* Stop the tender now: console flushed, EXITED sent, process exits. */
void tender_exit(struct tender *t, int status, unsigned reason)
    __attribute__((noreturn));

/* --- gdb stub (gdb.c, gdb_net.c, gdb_ev.c, control.c; more in gdb.h) ---- */

/* GDB event: where the stub listens (the argument for gdb's "target
 * remote"); without a control channel, a line on stderr. */
void ev_gdb(struct tender *t, const char *where, size_t len);

/* Copy the address text of the last GDB_OPEN to buf (NUL-terminated);
 * false if none came (or it did not fit). */
bool control_gdb_spec(char *buf, size_t len);

/*
 * Apply the waiting commands without blocking, while the gdb stub holds
 * the vCPU: STOP exits (with t->cap.exit_status if set), PAUSE and RESUME
 * set t->paused (quarantined: answered with a LOG line, nothing changes),
 * GDB_OPEN announces the stub again (ev_gdb).  Quarantined, end of file
 * on the control channel switches events to stderr instead of stopping.
 */
void control_apply_held(struct tender *t, bool quarantined);

/* From now on end of file on the control channel does not stop the
 * tender (a quarantine outlives its parent). */
void control_set_quarantined(void);

/* --- fault capture (fault.c, core.c, report.c) --------------------------
 *
 * After a fault (t->fault filled, t->cap.cpu read from the frozen vCPU and
 * FAULT sent) nothing runs the vCPU any more.  fault_capture() works out
 * the registers at the fault and the backtrace, writes the artifacts under
 * t->fault_dir (docs/fault-report.md) and sends CAPTURED; fault_wait()
 * then holds the frozen VM for the parent's decision.
 */

/* Command-pipe bytes fault_wait() acts on (control.c writes them; STOP is
 * the same byte as its CMD_STOP). */
#define TENDER_CMD_STOP     'S'
#define TENDER_CMD_GDB_OPEN 'G'

/*
 * Called by fault_wait() on GDB_OPEN (and, with --gdb, at once): the gdb
 * stub serving the frozen VM (tender/gdb.c sets it).  It may return (the
 * stub could not start): the tender then keeps waiting.  NULL: the stub is
 * not available; GDB_OPEN is answered with a LOG line.
 */
extern void (*tender_on_gdb_open)(struct tender *t, struct vm *vm);

/*
 * Capture everything about the fault in t->fault and t->cap.cpu: the
 * registers at the fault, the backtrace (guest memory is only read through
 * gmem_ptr()), and, with t->fault_dir, DIR/core, DIR/console.txt and
 * DIR/report.json.  Ends with ev_captured().  Never fails: an artifact that
 * cannot be written is logged (ev_log) and left out of t->cap.written.
 */
void fault_capture(struct tender *t);

/*
 * Hold the frozen VM until the parent decides: STOP exits with
 * t->cap.exit_status / exit_reason, GDB_OPEN calls tender_on_gdb_open,
 * PAUSE and RESUME change nothing (each is answered with a LOG line).
 * Without a control channel, exits at once unless --gdb was given.
 */
void fault_wait(struct tender *t, struct vm *vm) __attribute__((noreturn));

/*
 * Walk the guest's frame-pointer chain: frame 0 is rip, then the return
 * address of each frame record from rbp on.  Stops at depth max, at an
 * unaligned, non-increasing or out-of-memory rbp, or a zero return
 * address.  Frames are symbolised from t->img when it has a symbol table.
 * Returns the number of frames stored in out.
 */
unsigned fault_backtrace(const struct tender *t, uint64_t rip, uint64_t rbp,
    struct fault_frame *out, unsigned max);

/*
 * Write an ELF core (ET_CORE, EM_X86_64) of the guest to fd: NT_PRSTATUS
 * with t->cap's registers, NT_PRPSINFO, and one PT_LOAD (vaddr = paddr =
 * guest address) per run of resident guest pages, FAULT_CORE_MAX bytes at
 * most (the pages around rsp and the image first).  Sets
 * t->cap.core_bytes and core_truncated.  0, or -1 with errno.
 */
int core_write(int fd, struct tender *t);

/* Write report.json (docs/fault-report.md) to fd.  0, or -1 with errno. */
int report_write(int fd, const struct tender *t);

#endif /* SUMMONER_TENDER_H */
