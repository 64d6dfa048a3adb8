/*
 * fmt.c: a small, bounded printf engine.
 *
 * It never allocates and never writes outside what the sink accepts; the
 * only loops driven by the format are capped (HB_MSG_MAX), so a hostile or
 * buggy format string costs at most a few kilobytes of output per
 * conversion.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "heartbeat.h"

#define F_LEFT  0x01
#define F_ZERO  0x02
#define F_PLUS  0x04
#define F_SPACE 0x08
#define F_ALT   0x10

enum len_mod {
	L_NONE,
	L_HH,
	L_H,
	L_L,
	L_LL
};

struct out {
	hb_sink_fn sink;
	void *ctx;
	size_t total;
};

struct spec {
	unsigned flags;
	int width;
	int prec; /* -1: none */
	enum len_mod len;
};

static void
emit(struct out *o, const char *s, size_t n)
{
	if (n == 0)
		return;
	o->sink(o->ctx, s, n);
	o->total += n;
}

static void
pad(struct out *o, char c, int n)
{
	char run[16];

	if (n <= 0)
		return;
	for (size_t i = 0; i < sizeof(run); i++)
		run[i] = c;
	while (n > 0) {
		int k = n < (int)sizeof(run) ? n : (int)sizeof(run);

		emit(o, run, (size_t)k);
		n -= k;
	}
}

static size_t
bounded_strlen(const char *s, int max)
{
	size_t n = 0;

	while ((max < 0 || n < (size_t)max) && s[n] != '\0')
		n++;
	return n;
}

/* Text with width: used by %s and %c. */
static void
emit_field(struct out *o, const struct spec *sp, const char *s, size_t n)
{
	int padn = sp->width > (int)n ? sp->width - (int)n : 0;

	if (!(sp->flags & F_LEFT))
		pad(o, ' ', padn);
	emit(o, s, n);
	if (sp->flags & F_LEFT)
		pad(o, ' ', padn);
}

/*
 * One integer: sign or prefix, precision zeros, digits, within the width.
 */
static void
emit_number(struct out *o, const struct spec *sp, unsigned long long v, int neg,
    unsigned base, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char buf[24]; /* 22 octal digits for 64 bits */
	char prefix[2];
	size_t nd = 0, np = 0;
	int zeros, padn;

	while (v != 0) {
		buf[sizeof(buf) - 1 - nd++] = digits[v % base];
		v /= base;
	}
	if (neg)
		prefix[np++] = '-';
	else if (sp->flags & F_PLUS)
		prefix[np++] = '+';
	else if (sp->flags & F_SPACE)
		prefix[np++] = ' ';
	if ((sp->flags & F_ALT) && base == 16 && nd > 0) {
		prefix[np++] = '0';
		prefix[np++] = upper ? 'X' : 'x';
	}

	/* "%d" of 0 prints "0"; "%.0d" of 0 prints nothing, as in C. */
	zeros = sp->prec >= 0 ? sp->prec - (int)nd : (nd == 0 ? 1 : 0);
	if ((sp->flags & F_ALT) && base == 8 && zeros <= 0 && nd > 0)
		zeros = 1;
	if (zeros < 0)
		zeros = 0;
	padn = sp->width - (int)(np + nd) - zeros;
	if (padn < 0)
		padn = 0;
	if ((sp->flags & (F_ZERO | F_LEFT)) == F_ZERO && sp->prec < 0) {
		zeros += padn;
		padn = 0;
	}

	if (!(sp->flags & F_LEFT))
		pad(o, ' ', padn);
	emit(o, prefix, np);
	pad(o, '0', zeros);
	emit(o, buf + sizeof(buf) - nd, nd);
	if (sp->flags & F_LEFT)
		pad(o, ' ', padn);
}

static int
clamp_count(int v)
{
	return v > HB_MSG_MAX ? HB_MSG_MAX : v;
}

/* Parses flags, width, precision and length after '%'. */
static const char *
parse_spec(const char *p, struct spec *sp, va_list *ap)
{
	sp->flags = 0;
	sp->width = 0;
	sp->prec = -1;
	sp->len = L_NONE;

	for (;; p++) {
		if (*p == '-')
			sp->flags |= F_LEFT;
		else if (*p == '0')
			sp->flags |= F_ZERO;
		else if (*p == '+')
			sp->flags |= F_PLUS;
		else if (*p == ' ')
			sp->flags |= F_SPACE;
		else if (*p == '#')
			sp->flags |= F_ALT;
		else
			break;
	}
	if (*p == '*') {
		int w = va_arg(*ap, int);

		if (w < 0) {
			sp->flags |= F_LEFT;
			w = w == INT32_MIN ? HB_MSG_MAX : -w;
		}
		sp->width = clamp_count(w);
		p++;
	} else {
		while (*p >= '0' && *p <= '9')
			sp->width = clamp_count(sp->width * 10 + (*p++ - '0'));
	}
	if (*p == '.') {
		p++;
		sp->prec = 0;
		if (*p == '*') {
			int pr = va_arg(*ap, int);

			sp->prec = pr < 0 ? -1 : clamp_count(pr);
			p++;
		} else {
			while (*p >= '0' && *p <= '9')
				sp->prec =
				    clamp_count(sp->prec * 10 + (*p++ - '0'));
		}
	}
	if (*p == 'h') {
		sp->len = L_H;
		if (*++p == 'h') {
			sp->len = L_HH;
			p++;
		}
	} else if (*p == 'l') {
		sp->len = L_L;
		if (*++p == 'l') {
			sp->len = L_LL;
			p++;
		}
	} else if (*p == 'z' || *p == 'j' || *p == 't') {
		sp->len = L_L; /* all 64-bit on x86_64 */
		p++;
	}
	return p;
}

static long long
arg_signed(const struct spec *sp, va_list *ap)
{
	switch (sp->len) {
	case L_HH:
		return (signed char)va_arg(*ap, int);
	case L_H:
		return (short)va_arg(*ap, int);
	case L_L:
		return va_arg(*ap, long);
	case L_LL:
		return va_arg(*ap, long long);
	default:
		return va_arg(*ap, int);
	}
}

static unsigned long long
arg_unsigned(const struct spec *sp, va_list *ap)
{
	switch (sp->len) {
	case L_HH:
		return (unsigned char)va_arg(*ap, unsigned);
	case L_H:
		return (unsigned short)va_arg(*ap, unsigned);
	case L_L:
		return va_arg(*ap, unsigned long);
	case L_LL:
		return va_arg(*ap, unsigned long long);
	default:
		return va_arg(*ap, unsigned);
	}
}

static int
vformat(struct out *o, const char *fmt, va_list *ap)
{
	const char *p = fmt;

	while (*p != '\0') {
		const char *start = p;
		struct spec sp;
		long long sv;
		char c;

		while (*p != '\0' && *p != '%')
			p++;
		emit(o, start, (size_t)(p - start));
		if (*p == '\0')
			break;
		start = p;
		p = parse_spec(p + 1, &sp, ap);
		switch (c = *p) {
		case 'd':
		case 'i':
			sv = arg_signed(&sp, ap);
			emit_number(o, &sp,
			    sv < 0 ? 0ull - (unsigned long long)sv
			           : (unsigned long long)sv,
			    sv < 0, 10, 0);
			break;
		case 'u':
			emit_number(o, &sp, arg_unsigned(&sp, ap), 0, 10, 0);
			break;
		case 'o':
			emit_number(o, &sp, arg_unsigned(&sp, ap), 0, 8, 0);
			break;
		case 'x':
		case 'X':
			emit_number(
			    o, &sp, arg_unsigned(&sp, ap), 0, 16, c == 'X');
			break;
		case 'p':
			sp.flags |= F_ALT;
			sp.len = L_L;
			emit_number(
			    o, &sp, (uintptr_t)va_arg(*ap, void *), 0, 16, 0);
			break;
		case 's': {
			const char *s = va_arg(*ap, const char *);

			if (s == NULL)
				s = "(null)";
			emit_field(o, &sp, s, bounded_strlen(s, sp.prec));
			break;
		}
		case 'c': {
			char ch = (char)va_arg(*ap, int);

			emit_field(o, &sp, &ch, 1);
			break;
		}
		case '%':
			emit(o, "%", 1);
			break;
		default:
			/* Unknown conversion: show it rather than guess. */
			emit(o, start, (size_t)(p - start) + (c != '\0'));
			if (c == '\0')
				return (int)o->total;
			break;
		}
		p++;
	}
	return o->total > INT32_MAX ? INT32_MAX : (int)o->total;
}

int
hb_vformat(hb_sink_fn sink, void *ctx, const char *fmt, va_list ap)
{
	struct out o = {sink, ctx, 0};
	va_list aq;
	int n;

	/* A copy, so helpers can take va_list by pointer portably. */
	va_copy(aq, ap);
	n = vformat(&o, fmt, &aq);
	va_end(aq);
	return n;
}

struct buf_ctx {
	char *buf;
	size_t size; /* room for characters, excluding the NUL */
	size_t len;
};

static void
buf_sink(void *ctx, const char *s, size_t n)
{
	struct buf_ctx *b = ctx;
	size_t room = b->size - b->len;

	if (n > room)
		n = room;
	for (size_t i = 0; i < n; i++)
		b->buf[b->len + i] = s[i];
	b->len += n;
}

int
hb_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct buf_ctx b = {buf, size > 0 ? size - 1 : 0, 0};
	int n;

	n = hb_vformat(buf_sink, &b, fmt, ap);
	if (size > 0)
		buf[b.len] = '\0';
	return n;
}

int
hb_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = hb_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
