/*
 * libvirt_uart.h: the host side of the heartbeat UART framing.
 *
 * A guest on the virt platform writes its heartbeat messages to COM2 as
 * frames (docs/heartbeat-protocol.md, "UART"):
 *
 *	0x1e TAG ' ' ESCAPED-PAYLOAD '\n'
 *
 * The host joins the byte stream wherever it happens to be and the guest
 * may write anything, so the splitter keeps no more than one frame,
 * drops what is not a well-formed frame (counting it) and starts again at
 * the next 0x1e.  Payloads are unescaped ("\\\\", "\\n", "\\xHH") before
 * they are handed on.
 */
#ifndef SUMMONER_LIBVIRT_UART_H
#define SUMMONER_LIBVIRT_UART_H

#include <stdbool.h>
#include <stddef.h>

#define LV_UART_START 0x1e
/* Longest escaped frame kept (tag and space included): a 4 KiB message
 * whose every byte was escaped as \xHH. */
#define LV_UART_FRAME_MAX (4 * 4096 + 64)

/* Called once per good frame; payload (unescaped) lives for the call. */
typedef void (*lv_uart_frame_fn)(
    void *arg, char tag, const char *payload, size_t len);

struct lv_uart {
	bool inframe;
	size_t len;
	unsigned long frames; /* good frames handed on */
	unsigned long bad;    /* frames dropped: cut, too long, bad form */
	char buf[LV_UART_FRAME_MAX];
	char out[LV_UART_FRAME_MAX]; /* the unescaped payload */
};

/* Start (or restart) with no frame in progress and zero counts. */
void lv_uart_init(struct lv_uart *u);

/*
 * Feed n bytes read from the UART; fn is called for each complete frame
 * whose tag is N, L, F or D and whose payload unescapes.  Never reads
 * past n, never keeps more than LV_UART_FRAME_MAX bytes.
 */
void lv_uart_feed(struct lv_uart *u, const char *data, size_t n,
    lv_uart_frame_fn fn, void *arg);

/*
 * Undo the payload escaping of len bytes at in into out (at least len
 * bytes).  Returns the unescaped length, or -1 for a bad escape.
 */
long lv_uart_unescape(const char *in, size_t len, char *out);

#endif /* SUMMONER_LIBVIRT_UART_H */
