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

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "summoner/ctlproto.h"
#include "summoner/hvt_abi.h"
#include "elf.h"

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

/* A device named on the command line (--net:NAME=..., --block:NAME=...). */
struct tender_dev {
	char name[HVT_MFT_NAME_SIZE];
	uint32_t type;   /* enum hvt_mft_type */
	const char *arg; /* IFACE, @FD or PATH */
	int fd;
	uint64_t capacity;   /* block: bytes */
	uint16_t block_size; /* block */
	uint8_t mac[6];      /* net */
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
};

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
void ev_console(struct tender *t, const char *data, size_t len);
void ev_console_flush(struct tender *t);
void ev_fault(struct tender *t);
void ev_exited(struct tender *t, int status, unsigned reason);
void ev_paused(struct tender *t, bool paused);

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

#endif /* SUMMONER_TENDER_H */
