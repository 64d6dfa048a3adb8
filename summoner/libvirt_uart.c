/*
 * libvirt_uart.c: splitting COM2's byte stream into heartbeat frames.
 */
#include <string.h>

#include "libvirt_uart.h"
#include "util.h"

void
lv_uart_init(struct lv_uart *u)
{
	u->inframe = false;
	u->len = 0;
	u->frames = 0;
	u->bad = 0;
}

long
lv_uart_unescape(const char *in, size_t len, char *out)
{
	size_t i = 0, o = 0;
	int hi, lo;

	while (i < len) {
		if (in[i] != '\\') {
			out[o++] = in[i++];
			continue;
		}
		if (i + 1 >= len)
			return -1;
		if (in[i + 1] == '\\' || in[i + 1] == 'n') {
			out[o++] = in[i + 1] == 'n' ? '\n' : '\\';
			i += 2;
			continue;
		}
		if (in[i + 1] != 'x' || i + 3 >= len ||
		    (hi = hex_digit(in[i + 2])) < 0 ||
		    (lo = hex_digit(in[i + 3])) < 0)
			return -1;
		out[o++] = (char)(hi << 4 | lo);
		i += 4;
	}
	return (long)o;
}

/* The frame in u->buf is complete: check its form and hand it on. */
static void
end_frame(struct lv_uart *u, lv_uart_frame_fn fn, void *arg)
{
	long n;
	char tag = u->buf[0];

	u->inframe = false;
	if (u->len < 2 || u->buf[1] != ' ' ||
	    (tag != 'N' && tag != 'L' && tag != 'F' && tag != 'D') ||
	    (n = lv_uart_unescape(u->buf + 2, u->len - 2, u->out)) < 0) {
		u->bad++;
		return;
	}
	u->frames++;
	fn(arg, tag, u->out, (size_t)n);
}

void
lv_uart_feed(struct lv_uart *u, const char *data, size_t n, lv_uart_frame_fn fn,
    void *arg)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)data[i];

		if (c == LV_UART_START) {
			/* A start inside a frame: the one before was cut. */
			if (u->inframe)
				u->bad++;
			u->inframe = true;
			u->len = 0;
		} else if (!u->inframe) {
			continue; /* between frames: console noise, garbage */
		} else if (c == '\n') {
			end_frame(u, fn, arg);
		} else if (c < 0x20 || c == 0x7f || u->len == sizeof(u->buf)) {
			/* Never in a well-formed frame: wait for the next. */
			u->inframe = false;
			u->bad++;
		} else {
			u->buf[u->len++] = (char)c;
		}
	}
}
