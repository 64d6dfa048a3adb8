/*
 * libvirt_report.c: the console tail and report.json (libvirt_report.h).
 *
 * report.json keeps the tender's field names and types wherever the
 * libvirt backend knows the same thing (docs/fault-report.md), so that a
 * reader needs one code path; what only the tender knows (segments,
 * control registers, tender_pid) is left out rather than made up.
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "libvirt_report.h"
#include "summoner/ctlproto.h"

static const char *const reg_names[LV_REP_NREGS] = {"rax", "rbx", "rcx", "rdx",
    "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
    "r15", "rip", "rflags"};

void
lv_tail_add(struct lv_tail *t, const char *p, size_t n)
{
	size_t k;

	t->total += n;
	if (n > LV_TAIL_BYTES) {
		p += n - LV_TAIL_BYTES;
		n = LV_TAIL_BYTES;
	}
	while (n > 0) {
		k = LV_TAIL_BYTES - t->head;
		if (k > n)
			k = n;
		memcpy(t->buf + t->head, p, k);
		t->head = (t->head + k) % LV_TAIL_BYTES;
		p += k;
		n -= k;
	}
}

size_t
lv_tail_copy(const struct lv_tail *t, char *out)
{
	if (t->total < LV_TAIL_BYTES) {
		memcpy(out, t->buf, (size_t)t->total);
		return (size_t)t->total;
	}
	memcpy(out, t->buf + t->head, LV_TAIL_BYTES - t->head);
	memcpy(out + LV_TAIL_BYTES - t->head, t->buf, t->head);
	return LV_TAIL_BYTES;
}

static struct json_object *
hex(uint64_t v)
{
	char b[24];

	snprintf(b, sizeof(b), "0x%llx", (unsigned long long)v);
	return json_object_new_string(b);
}

/* Guest text as printable ASCII: json-c escapes control bytes but would
 * pass bytes above 0x7e through, which need not be UTF-8. */
static struct json_object *
text(const char *s)
{
	struct json_object *o;
	char *c;
	size_t i;

	if (s == NULL)
		return NULL;
	if ((c = strdup(s)) == NULL)
		return NULL;
	for (i = 0; c[i] != '\0'; i++)
		if ((unsigned char)c[i] > 0x7e)
			c[i] = '?';
	o = json_object_new_string(c);
	free(c);
	return o;
}

static void
wall(char *buf, size_t len)
{
	struct timeval tv;
	struct tm tm;
	size_t n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%06uZ", (unsigned)tv.tv_usec % 1000000u);
}

static struct json_object *
build(const struct lv_report *r)
{
	struct json_object *o, *t, *regs, *one, *bt, *files, *v;
	char w[64];
	unsigned i;

	o = json_object_new_object();
	json_object_object_add(o, "version", json_object_new_int(1));
	json_object_object_add(o, "backend", json_object_new_string("libvirt"));
	json_object_object_add(o, "domain", text(r->domain));
	json_object_object_add(
	    o, "kind", json_object_new_string(ctl_fault_kind_name(r->kind)));
	json_object_object_add(o, "message", text(r->message));
	json_object_object_add(o, "vector",
	    r->vector >= 0 ? json_object_new_int64(r->vector) : NULL);
	json_object_object_add(o, "error_code", hex(r->error_code));
	json_object_object_add(o, "cr2", hex(r->cr2));
	json_object_object_add(o, "source", json_object_new_string(r->source));
	json_object_object_add(o, "image", text(r->image));

	t = json_object_new_object();
	wall(w, sizeof(w));
	json_object_object_add(t, "wall", json_object_new_string(w));
	json_object_object_add(
	    t, "fault_ns", json_object_new_uint64(r->fault_ns));
	json_object_object_add(
	    t, "captured_ns", json_object_new_uint64(r->captured_ns));
	json_object_object_add(t, "capture_us",
	    json_object_new_double(
	        r->captured_ns > r->fault_ns
	            ? (double)(r->captured_ns - r->fault_ns) / 1e3
	            : 0));
	json_object_object_add(
	    t, "core_us", json_object_new_double((double)r->core_ns / 1e3));
	json_object_object_add(o, "time", t);

	regs = json_object_new_object();
	for (i = 0; i < LV_REP_NREGS; i++) {
		if (r->from[i] == NULL)
			continue;
		one = json_object_new_object();
		json_object_object_add(one, "value", hex(r->regs[i]));
		json_object_object_add(
		    one, "from", json_object_new_string(r->from[i]));
		json_object_object_add(regs, reg_names[i], one);
	}
	json_object_object_add(o, "registers", regs);
	if (r->have_vcpu) {
		v = json_object_new_object();
		for (i = 0; i < LV_REP_NREGS; i++)
			json_object_object_add(
			    v, reg_names[i], hex(r->vcpu[i]));
	} else
		v = NULL;
	json_object_object_add(o, "vcpu", v);

	bt = json_object_new_array();
	for (i = 0; i < r->nframes; i++) {
		const struct lv_frame *f = &r->frames[i];

		one = json_object_new_object();
		json_object_object_add(one, "pc", hex(f->pc));
		json_object_object_add(
		    one, "function", f->func[0] != '\0' ? text(f->func) : NULL);
		json_object_object_add(
		    one, "offset", f->func[0] != '\0' ? hex(f->offset) : NULL);
		json_object_array_add(bt, one);
	}
	json_object_object_add(o, "backtrace", bt);

	json_object_object_add(o, "dir", text(r->dir));
	files = json_object_new_array();
	if (r->core) {
		char p[4200];

		snprintf(p, sizeof(p), "%s/core", r->dir);
		json_object_object_add(o, "core", text(p));
		json_object_object_add(
		    o, "core_bytes", json_object_new_uint64(r->core_bytes));
		json_object_object_add(o, "core_file_bytes",
		    json_object_new_uint64(r->core_file_bytes));
		json_object_object_add(
		    o, "core_truncated", json_object_new_boolean(0));
		json_object_array_add(files, json_object_new_string("core"));
	} else
		json_object_object_add(o, "core", NULL);
	if (r->tail)
		json_object_array_add(
		    files, json_object_new_string("console.txt"));
	json_object_array_add(files, json_object_new_string("report.json"));
	json_object_object_add(o, "files", files);
	json_object_object_add(o, "console",
	    r->tail ? json_object_new_string("console.txt") : NULL);
	json_object_object_add(
	    o, "console_bytes", json_object_new_uint64(r->console_bytes));
	if (r->errors != NULL && r->errors[0] != '\0')
		json_object_object_add(o, "errors", text(r->errors));
	return o;
}

int
lv_report_write(const struct lv_report *r)
{
	struct json_object *o = NULL;
	const char *s;
	char path[4200];
	size_t len;
	int fd = -1, e;

	if (snprintf(path, sizeof(path), "%s/report.json", r->dir) >=
	    (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((o = build(r)) == NULL ||
	    (s = json_object_to_json_string_ext(
	         o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
	                JSON_C_TO_STRING_NOSLASHESCAPE)) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	len = strlen(s);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) <
	        0 ||
	    write(fd, s, len) != (ssize_t)len || write(fd, "\n", 1) != 1)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	json_object_put(o);
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	json_object_put(o);
	errno = e;
	return -1;
}
