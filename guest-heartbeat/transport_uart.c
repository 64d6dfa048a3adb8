/*
 * transport_uart.c: heartbeat messages as framed lines on a 16550 UART.
 *
 * For guests without summoner's hypercalls (the virt platform under QEMU,
 * where COM2 is a chardev the host reads).  A UART is a byte stream that
 * the host may join in the middle of, so each message is one frame
 * (docs/heartbeat-protocol.md, "UART"):
 *
 *	0x1e TAG ' ' PAYLOAD '\n'
 *
 * TAG is N (a notify message), L (a log line), F (a fault) or D (a dump).
 * PAYLOAD is escaped so that it never holds a control byte: '\\' -> "\\\\",
 * '\n' -> "\\n", any other byte below 0x20 and 0x7f -> "\\xHH".  So 0x1e
 * and '\n' occur only as frame delimiters and a reader resynchronises at
 * the next 0x1e after any garbage.  Fault and dump frames carry the
 * register frame as KEY=VALUE lines (hex numbers with 0x).
 *
 * Transmission polls the line status register and sends up to 16 bytes
 * (the FIFO) per "rep outsb", so a short message costs a few VM exits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "hb_int.h"

#define UART_THR       0 /* transmit holding register */
#define UART_IER       1
#define UART_DLL       0 /* with LCR_DLAB */
#define UART_DLM       1
#define UART_FCR       2
#define UART_LCR       3
#define UART_LSR       5
#define UART_LCR_DLAB  0x80
#define UART_LCR_8N1   0x03
#define UART_FCR_FIFO  0x07 /* enable, clear both FIFOs */
#define UART_LSR_THRE  0x20
#define UART_FIFO_SIZE 16
/* Bounds the wait for a transmitter that never drains (no UART there). */
#define UART_SPIN_MAX 100000

#define FRAME_START 0x1e

static uint16_t hb_port = HB_UART_COM2;

static inline void
outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline uint8_t
inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

void
hb_uart_init(uint16_t port)
{
	outb(port + UART_IER, 0); /* polled: no interrupts */
	outb(port + UART_LCR, UART_LCR_DLAB);
	outb(port + UART_DLL, 1); /* 115200 baud */
	outb(port + UART_DLM, 0);
	outb(port + UART_LCR, UART_LCR_8N1);
	outb(port + UART_FCR, UART_FCR_FIFO);
}

void
hb_uart_set_port(uint16_t port)
{
	hb_port = port;
}

void
hb_uart_write(uint16_t port, const char *buf, size_t len)
{
	while (len > 0) {
		size_t chunk = len < UART_FIFO_SIZE ? len : UART_FIFO_SIZE;
		size_t n = chunk;

		/*
		 * THRE means the FIFO is empty, so it takes 16 bytes; giving
		 * up after a bounded wait loses output rather than the guest.
		 */
		for (int spin = 0; spin < UART_SPIN_MAX; spin++) {
			if (inb(port + UART_LSR) & UART_LSR_THRE)
				break;
			__asm__ __volatile__("pause");
		}
		__asm__ __volatile__("rep outsb"
		                     : "+S"(buf), "+c"(n)
		                     : "d"(port)
		                     : "memory");
		len -= chunk;
	}
}

/* A frame being built: escaped bytes collect in buf, sent when full. */
struct frame {
	char buf[128];
	size_t len;
};

static void
frame_flush(struct frame *f)
{
	hb_uart_write(hb_port, f->buf, f->len);
	f->len = 0;
}

static void
frame_raw(struct frame *f, char c)
{
	if (f->len == sizeof(f->buf))
		frame_flush(f);
	f->buf[f->len++] = c;
}

static void
frame_begin(struct frame *f, char tag)
{
	f->len = 0;
	frame_raw(f, FRAME_START);
	frame_raw(f, tag);
	frame_raw(f, ' ');
}

static void
frame_escaped(struct frame *f, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\') {
			frame_raw(f, '\\');
			frame_raw(f, '\\');
		} else if (c == '\n') {
			frame_raw(f, '\\');
			frame_raw(f, 'n');
		} else if (c < 0x20 || c == 0x7f) {
			frame_raw(f, '\\');
			frame_raw(f, 'x');
			frame_raw(f, hex[c >> 4]);
			frame_raw(f, hex[c & 15]);
		} else {
			frame_raw(f, (char)c);
		}
	}
}

static void
frame_end(struct frame *f)
{
	frame_raw(f, '\n');
	frame_flush(f);
}

static void
frame_sink(void *ctx, const char *s, size_t n)
{
	frame_escaped(ctx, s, n);
}

static void frame_printf(struct frame *f, const char *fmt, ...) HB_PRINTF(2, 3);

static void
frame_printf(struct frame *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hb_vformat(frame_sink, f, fmt, ap);
	va_end(ap);
}

static int
uart_text(char tag, const char *s, size_t len)
{
	struct frame f;

	if (len > HB_MSG_MAX)
		len = HB_MSG_MAX;
	frame_begin(&f, tag);
	frame_escaped(&f, s, len);
	frame_end(&f);
	return 0;
}

static int
uart_notify(const char *msg, size_t len)
{
	return uart_text('N', msg, len);
}

static int
uart_log(const char *line, size_t len)
{
	return uart_text('L', line, len);
}

static const char *const reg_names[HVT_X_NREGS] = {"RAX", "RBX", "RCX", "RDX",
    "RSI", "RDI", "RBP", "RSP", "R8", "R9", "R10", "R11", "R12", "R13", "R14",
    "R15"};

static const char *
kind_name(uint32_t kind)
{
	switch (kind) {
	case HVT_X_FAULT_EXCEPTION:
		return "exception";
	case HVT_X_FAULT_ABORT:
		return "abort";
	case HVT_X_FAULT_DUMP:
		return "dump";
	default:
		return "unknown";
	}
}

static int
uart_frame(const struct hvt_x_frame *x)
{
	/* Static: a fault may arrive on a nearly exhausted stack. */
	static struct frame f;
	const char *msg = (const char *)(uintptr_t)x->msg;
	size_t msglen = msg != NULL ? x->msglen : 0;

	if (msglen > HB_MSG_MAX)
		msglen = HB_MSG_MAX;
	frame_begin(&f, x->kind == HVT_X_FAULT_DUMP ? 'D' : 'F');
	frame_printf(&f,
	    "KIND=%s\nVECTOR=%llu\nERROR_CODE=0x%llx\nCR2=0x%llx\n",
	    kind_name(x->kind), (unsigned long long)x->vector,
	    (unsigned long long)x->error_code, (unsigned long long)x->cr2);
	for (int i = 0; i < HVT_X_NREGS; i++)
		frame_printf(&f, "%s=0x%llx\n", reg_names[i],
		    (unsigned long long)x->regs[i]);
	frame_printf(&f,
	    "RIP=0x%llx\nRFLAGS=0x%llx\nCS=0x%llx\nSS=0x%llx\nMSG=",
	    (unsigned long long)x->rip, (unsigned long long)x->rflags,
	    (unsigned long long)x->cs, (unsigned long long)x->ss);
	/* The message is the last value: a newline in it becomes a space. */
	for (size_t i = 0; i < msglen; i++) {
		char c = msg[i] == '\n' ? ' ' : msg[i];

		frame_escaped(&f, &c, 1);
	}
	frame_end(&f);
	return 0;
}

const struct hb_transport hb_transport_uart = {
    .name = "uart",
    .notify = uart_notify,
    .log = uart_log,
    .frame = uart_frame,
    .halt = NULL, /* a UART cannot stop a guest; the platform can */
};
