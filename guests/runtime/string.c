/*
 * string.c: the freestanding string functions.
 *
 * mem* use the string instructions: short, fast on every CPU with ERMS,
 * and immune to gcc turning a plain loop back into a call to memset or
 * memcpy (which would recurse forever).
 */
#include <stddef.h>
#include <stdint.h>

#include "rt.h"

#define RT_ULONG_MAX (__LONG_MAX__ * 2ul + 1ul)

/*
 * Plain word-at-a-time loops, not "rep stosb/movsb": a string instruction
 * that faults on a page the host has not mapped yet may be finished by
 * the host's instruction emulator one byte per exit (seen on a nested
 * host: 0.5 us a byte, a megabyte of .bss in half a second), while an
 * ordinary store faults once per page and then runs at full speed.
 */
void *
memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	uint64_t w = 0x0101010101010101ull * (unsigned char)c;

	for (; n > 0 && ((uintptr_t)d & 7) != 0; n--)
		*d++ = (unsigned char)c;
	for (; n >= 8; n -= 8, d += 8)
		*(uint64_t *)(void *)d = w;
	for (; n > 0; n--)
		*d++ = (unsigned char)c;
	return dst;
}

void *
memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if ((((uintptr_t)d ^ (uintptr_t)s) & 7) == 0) {
		for (; n > 0 && ((uintptr_t)d & 7) != 0; n--)
			*d++ = *s++;
		for (; n >= 8; n -= 8, d += 8, s += 8)
			*(uint64_t *)(void *)d =
			    *(const uint64_t *)(const void *)s;
	}
	for (; n > 0; n--)
		*d++ = *s++;
	return dst;
}

void *
memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d;
	const unsigned char *s;

	if ((uintptr_t)dst - (uintptr_t)src >= n)
		return memcpy(dst, src, n); /* no harmful overlap */
	/* dst overlaps the tail of src: copy backwards. */
	d = (unsigned char *)dst + n;
	s = (const unsigned char *)src + n;
	while (n-- > 0)
		*--d = *--s;
	return dst;
}

int
memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (size_t i = 0; i < n; i++)
		if (p[i] != q[i])
			return p[i] - q[i];
	return 0;
}

size_t
strlen(const char *s)
{
	const char *p = s;

	while (*p != '\0')
		p++;
	return (size_t)(p - s);
}

size_t
strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n] != '\0')
		n++;
	return n;
}

int
strcmp(const char *a, const char *b)
{
	while (*a != '\0' && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int
strncmp(const char *a, const char *b, size_t n)
{
	for (; n > 0; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (*a == '\0')
			return 0;
	}
	return 0;
}

static int
digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'Z')
		return c - 'A' + 10;
	return 99;
}

unsigned long
strtoul(const char *s, char **end, int base)
{
	const char *p = s;
	unsigned long v = 0;
	int neg = 0, any = 0, over = 0;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	if ((base == 0 || base == 16) && p[0] == '0' &&
	    (p[1] == 'x' || p[1] == 'X') && digit_value(p[2]) < 16) {
		p += 2;
		base = 16;
	} else if (base == 0) {
		base = p[0] == '0' ? 8 : 10;
	}
	if (base < 2 || base > 36)
		goto out;
	for (;; p++) {
		int d = digit_value(*p);

		if (d >= base)
			break;
		any = 1;
		if (v > (RT_ULONG_MAX - (unsigned long)d) / (unsigned long)base)
			over = 1;
		else
			v = v * (unsigned long)base + (unsigned long)d;
	}
out:
	if (end != NULL)
		*end = (char *)(uintptr_t)(any ? p : s); /* C's signature */
	if (over)
		return RT_ULONG_MAX;
	return neg ? -v : v;
}
