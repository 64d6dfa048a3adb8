/*
 * console.c: line-buffered console output over PUTS.
 *
 * Every PUTS is a VM exit (microseconds), so output is collected into one
 * line and sent when it ends, when the buffer fills, or at exit.  The
 * formatting itself is the heartbeat library's bounded formatter, so
 * the guest side has exactly one printf implementation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <heartbeat.h>

#include "rt.h"

#define CONSOLE_BUF_SIZE 512

static char cbuf[CONSOLE_BUF_SIZE];
static size_t clen;

void
rt_console_flush(void)
{
	if (clen == 0)
		return;
	rt_plat_puts(cbuf, clen);
	clen = 0;
}

/*
 * Length of the prefix of s[0..n) up to and including the first '\n' (n
 * if there is none).  One string instruction rather than a byte loop:
 * on nested hosts every guest instruction is expensive.
 */
static size_t
line_span(const char *s, size_t n)
{
	const char *p = s;
	size_t left = n;

	__asm__("repne scasb"
	        : "+D"(p), "+c"(left)
	        : "a"('\n')
	        : "cc", "memory");
	return (size_t)(p - s);
}

void
rt_console_write(const char *buf, size_t len)
{
	while (len > 0) {
		size_t room = sizeof(cbuf) - clen;
		size_t n = line_span(buf, len < room ? len : room);

		memcpy(cbuf + clen, buf, n);
		clen += n;
		if (buf[n - 1] == '\n' || clen == sizeof(cbuf))
			rt_console_flush();
		buf += n;
		len -= n;
	}
}

static void
console_sink(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	rt_console_write(s, n);
}

int
putchar(int c)
{
	char ch = (char)c;

	rt_console_write(&ch, 1);
	return (unsigned char)ch;
}

int
puts(const char *s)
{
	rt_console_write(s, strlen(s));
	rt_console_write("\n", 1);
	return 0;
}

int
vprintf(const char *fmt, va_list ap)
{
	return hb_vformat(console_sink, NULL, fmt, ap);
}

int
printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int
vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return hb_vsnprintf(buf, size, fmt, ap);
}

int
snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = hb_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
