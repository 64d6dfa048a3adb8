/*
 * backend_lines.c: what the backends that read a guest's console
 * themselves (exec, libvirt) share: text events and line cutting
 * (backend.h).
 */
#include <string.h>

#include "backend.h"
#include "instance.h"

void
backend_emit(struct inst *in, unsigned type, const char *text, size_t len)
{
	struct bevent ev;

	if (in == NULL)
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	ev.t_ns = instance_clock();
	ev.text = text;
	ev.textlen = len;
	registry_backend_event(in, &ev);
}

void
backend_lines_flush(struct backend_lines *l, struct inst *in)
{
	if (l->len > 0)
		backend_emit(in, CTL_CONSOLE, l->buf, l->len);
	l->len = 0;
}

void
backend_lines_take(
    struct backend_lines *l, struct inst *in, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (p[i] == '\n') {
			backend_lines_flush(l, in);
			continue;
		}
		if (p[i] == '\r')
			continue;
		if (l->len == sizeof(l->buf))
			backend_lines_flush(l, in);
		l->buf[l->len++] = p[i];
	}
}
