/*
 * heartbeat.h: the guest-side heartbeat library, its whole interface.
 *
 * Freestanding C with no dependency on any runtime: link it into any
 * x86_64 unikernel.  It talks to the host through a transport (struct
 * hb_transport); the default issues summoner's hvt hypercalls itself,
 * hb_transport_uart writes framed lines to a serial port.
 * Like any code gcc compiles, it expects memcpy/memset to exist.
 *
 * Messages are sd_notify-style text, at most HB_MSG_MAX bytes of
 * "KEY=VALUE\n" lines (docs/heartbeat-protocol.md): KEY is
 * [A-Z][A-Z0-9_]{0,63}, VALUE has no newline or NUL.  Values that would
 * break that are sanitised (newline and NUL become spaces) and truncated,
 * never overflowed.  Functions returning int give 0 on success and -1 if
 * the transport refused or failed.
 *
 * Not reentrant: one vCPU, no interrupts.
 */
#ifndef SUMMONER_HEARTBEAT_H
#define SUMMONER_HEARTBEAT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <summoner/hvt_abi.h>

#define HB_MSG_MAX    HVT_X_TEXT_MAX /* bytes in one message or log line */
#define HB_KEY_MAX    64             /* characters in a KEY */
#define HB_STATUS_MAX 1024           /* bytes in a STATUS value */

#define HB_PRINTF(f, a) __attribute__((format(printf, f, a)))

/*
 * How messages reach the host.  A UART or UDP transport is one more file
 * defining one of these and calling hb_set_transport().
 */
struct hb_transport {
	const char *name;
	/* Deliver one message of KEY=VALUE lines. */
	int (*notify)(const char *msg, size_t len);
	/* Deliver one log line (no newline). */
	int (*log)(const char *line, size_t len);
	/*
	 * Deliver a register frame.  For kind HVT_X_FAULT_ABORT/EXCEPTION the
	 * host should stop the guest and not return; DUMP returns.
	 */
	int (*frame)(const struct hvt_x_frame *f);
	/* Stop the guest with an exit status; NULL if the transport can't. */
	void (*halt)(int status);
};

/* The default transport: hypercalls X_NOTIFY, X_LOG, X_FAULT, X_DUMP. */
extern const struct hb_transport hb_transport_hvt;

/*
 * The UART transport: each message one framed line on a 16550 UART
 * (COM2 unless hb_uart_set_port() says otherwise), for hosts that read a
 * serial port, such as QEMU's chardevs (docs/heartbeat-protocol.md).  It
 * cannot stop the guest (halt is NULL); a platform that can wraps it.
 */
extern const struct hb_transport hb_transport_uart;
#define HB_UART_COM1 0x3f8
#define HB_UART_COM2 0x2f8
/* Programs the 16550 at port: 8N1, 115200 baud, FIFO on, no interrupts. */
void hb_uart_init(uint16_t port);
/* Selects the port hb_transport_uart writes to (HB_UART_COM2 at start). */
void hb_uart_set_port(uint16_t port);
/*
 * Writes len raw bytes to the 16550 at port, polling its transmitter
 * (bounded: output is dropped if it never drains).  Runtimes may use it
 * for a serial console.
 */
void hb_uart_write(uint16_t port, const char *buf, size_t len);

/* Selects the transport for all later calls; NULL restores hvt. */
void hb_set_transport(const struct hb_transport *t);

/* "READY=1": the guest is ready to serve. */
int hb_ready(void);
/*
 * "WATCHDOG=1", "X_SEQ=<n>" (n counts beats from 1), "X_PROGRESS=<p>"
 * and, once hb_conns() was called, "X_CONNS=<c>".  progress should grow
 * while the guest does useful work: a stalled value means a stuck guest.
 */
int hb_beat(uint64_t progress);
/* Makes the following beats carry X_CONNS=n (e.g. open connections). */
void hb_conns(uint32_t n);
/*
 * "STATUS=<text>": free-form status, newlines replaced by spaces, cut at
 * HB_STATUS_MAX bytes.
 */
int hb_status(const char *text);
/*
 * One "KEY=VALUE" line, newlines in value replaced by spaces, cut to fit
 * the message; -1 without sending if key is not a valid KEY.
 */
int hb_send(const char *key, const char *value);
/* A printf-formatted log line (one line: newlines become spaces). */
int hb_log(const char *fmt, ...) HB_PRINTF(1, 2);
int hb_vlog(const char *fmt, va_list ap);

/*
 * Reports a fatal error with the caller's registers (kind
 * HVT_X_FAULT_ABORT) and leaves the guest stopped where a debugger can
 * inspect it.  Never returns: if the host lets it, it halts with 255.
 */
_Noreturn void hb_fault(const char *msg);
/* Sends the caller's registers (kind HVT_X_FAULT_DUMP); the guest goes on. */
void hb_dump(const char *msg);

/*
 * The bounded formatter behind every message, also used by runtimes as
 * their printf: %d %i %u %x %X %o %p %s %c %%, flags - 0 + space #,
 * width and precision (digits or *), length hh h l ll z j t.  Widths and
 * precisions are capped at HB_MSG_MAX.  hb_vformat hands output to sink in
 * pieces and returns the number of characters produced; hb_vsnprintf
 * always NUL-terminates (if size > 0) and returns the length the whole
 * output would have had, as C's vsnprintf does.
 */
typedef void (*hb_sink_fn)(void *ctx, const char *s, size_t n);
int hb_vformat(hb_sink_fn sink, void *ctx, const char *fmt, va_list ap);
int hb_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int hb_snprintf(char *buf, size_t size, const char *fmt, ...) HB_PRINTF(3, 4);

#endif /* SUMMONER_HEARTBEAT_H */
