/*
 * report.c: report.json, the machine-readable account of one fault
 * (docs/fault-report.md describes every field).
 *
 * Written by hand: the tender is static and small, and the format is flat.
 * Strings from the guest (its fault message) are untrusted bytes: they are
 * escaped so that the file is valid JSON whatever they hold (bytes above
 * 0x7e become \u00XX, i.e. are read as Latin-1).  64-bit values are hex
 * strings ("0x..."): JSON numbers lose precision above 2^53 in many
 * readers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tender.h"

#define REPORT_VERSION 1

static const char *const reg_names[CTL_NREGS] = {"rax", "rbx", "rcx", "rdx",
    "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11", "r12", "r13", "r14",
    "r15"};

static const char *const seg_names[FAULT_NSEGS] = {
    "cs", "ss", "ds", "es", "fs", "gs"};

static const char *const src_names[] = {
    [FAULT_SRC_VCPU] = "vcpu",
    [FAULT_SRC_GUEST] = "guest",
    [FAULT_SRC_UNWOUND] = "unwound",
};

static void
json_str(FILE *f, const char *s, size_t len)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (c < 0x20 || c > 0x7e)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

static void
json_cstr(FILE *f, const char *s)
{
	if (s == NULL)
		fputs("null", f);
	else
		json_str(f, s, strlen(s));
}

static void
json_hex(FILE *f, uint64_t v)
{
	fprintf(f, "\"0x%llx\"", (unsigned long long)v);
}

static const char *
src_name(uint8_t src)
{
	return src < sizeof(src_names) / sizeof(src_names[0]) ? src_names[src]
	                                                      : "vcpu";
}

/* "name": {"value": "0x..", "from": "guest"} */
static void
json_reg(FILE *f, const char *name, uint64_t v, const char *from, int last)
{
	fprintf(f, "    \"%s\": {\"value\": ", name);
	json_hex(f, v);
	fprintf(f, ", \"from\": \"%s\"}%s\n", from, last ? "" : ",");
}

static void
write_registers(FILE *f, const struct tender *t)
{
	const struct fault_info *c = &t->cap;
	unsigned i;

	fputs("  \"registers\": {\n", f);
	for (i = 0; i < CTL_NREGS; i++)
		json_reg(f, reg_names[i], c->regs[i], src_name(c->src[i]), 0);
	json_reg(f, "rip", c->rip, src_name(c->src[CTL_NREGS]), 0);
	json_reg(f, "rflags", c->rflags, src_name(c->src[CTL_NREGS + 1]), 1);
	fputs("  },\n", f);
}

static void
write_segments(FILE *f, const struct tender *t)
{
	const struct ctl_fault *flt = &t->fault;
	const struct fault_cpu *cpu = &t->cap.cpu;
	bool guest = (flt->source & CTL_REGS_GUEST) != 0;
	uint16_t sel[FAULT_NSEGS] = {
	    flt->cs, flt->ss, flt->ds, flt->es, flt->fs, flt->gs};
	unsigned i;

	fputs("  \"segments\": {\n", f);
	for (i = 0; i < FAULT_NSEGS; i++) {
		const struct fault_seg *s = &cpu->seg[i];
		/* cs and ss are the guest frame's when it gave one; bases,
		 * limits and the other selectors are the vCPU's. */
		bool from_guest =
		    guest && (i == FAULT_SEG_CS || i == FAULT_SEG_SS);

		fprintf(f,
		    "    \"%s\": {\"selector\": \"0x%x\", \"from\": \"%s\"",
		    seg_names[i], sel[i], from_guest ? "guest" : "vcpu");
		if (cpu->sregs_valid) {
			fputs(", \"base\": ", f);
			json_hex(f, s->base);
			fprintf(f,
			    ", \"limit\": \"0x%x\", \"type\": %u, "
			    "\"present\": %s, \"long\": %s",
			    s->limit, s->type,
			    (s->flags & 0x1) ? "true" : "false",
			    (s->flags & 0x2) ? "true" : "false");
		}
		fprintf(f, "}%s\n", i + 1 < FAULT_NSEGS ? "," : "");
	}
	fputs("  },\n", f);
}

static void
write_control(FILE *f, const struct tender *t)
{
	const struct fault_cpu *cpu = &t->cap.cpu;

	if (!cpu->sregs_valid) {
		fputs("  \"control\": null,\n", f);
		return;
	}
	fputs("  \"control\": {\"from\": \"vcpu\", \"cr0\": ", f);
	json_hex(f, cpu->cr0);
	fputs(", \"cr2\": ", f);
	json_hex(f, cpu->cr2);
	fputs(", \"cr3\": ", f);
	json_hex(f, cpu->cr3);
	fputs(", \"cr4\": ", f);
	json_hex(f, cpu->cr4);
	fputs(", \"efer\": ", f);
	json_hex(f, cpu->efer);
	fputs("},\n", f);
}

/* The vCPU's own registers, which for a reported exception are those of
 * the guest's trap handler, not of the faulting code. */
static void
write_vcpu(FILE *f, const struct tender *t)
{
	const struct fault_cpu *cpu = &t->cap.cpu;
	unsigned i;

	if (!cpu->regs_valid) {
		fputs("  \"vcpu\": null,\n", f);
		return;
	}
	fputs("  \"vcpu\": {", f);
	for (i = 0; i < CTL_NREGS; i++) {
		fprintf(f, "%s\"%s\": ", i ? ", " : "", reg_names[i]);
		json_hex(f, cpu->regs[i]);
	}
	fputs(", \"rip\": ", f);
	json_hex(f, cpu->rip);
	fputs(", \"rflags\": ", f);
	json_hex(f, cpu->rflags);
	fputs("},\n", f);
}

/* What the guest itself reported (its trap frame, hb_fault frame or
 * Solo5 abort cookie); null when it reported nothing. */
static void
write_guest_frame(FILE *f, const struct tender *t)
{
	const struct ctl_fault *flt = &t->fault;

	if (!(flt->source & CTL_REGS_GUEST)) {
		fputs("  \"guest_frame\": null,\n", f);
		return;
	}
	fprintf(f, "  \"guest_frame\": {\"complete\": %s, \"vector\": ",
	    t->frame_partial ? "false" : "true");
	if (flt->vector == ~0ull)
		fputs("null", f);
	else
		fprintf(f, "%llu", (unsigned long long)flt->vector);
	fputs(", \"error_code\": ", f);
	json_hex(f, flt->error_code);
	fputs(", \"cr2\": ", f);
	json_hex(f, flt->cr2);
	fputs(", \"rip\": ", f);
	json_hex(f, flt->rip);
	fputs(", \"rsp\": ", f);
	json_hex(f, flt->regs[HVT_X_RSP]);
	fputs(", \"rflags\": ", f);
	json_hex(f, flt->rflags);
	fprintf(
	    f, ", \"cs\": \"0x%x\", \"ss\": \"0x%x\"},\n", flt->cs, flt->ss);
}

static void
write_backtrace(FILE *f, const struct tender *t)
{
	const struct fault_info *c = &t->cap;
	unsigned i;

	fputs("  \"backtrace\": [", f);
	for (i = 0; i < c->nframes; i++) {
		const struct fault_frame *fr = &c->frames[i];

		fprintf(f, "%s\n    {\"pc\": ", i ? "," : "");
		json_hex(f, fr->pc);
		fputs(", \"function\": ", f);
		if (fr->func[0] != '\0') {
			json_cstr(f, fr->func);
			fputs(", \"offset\": ", f);
			json_hex(f, fr->offset);
		} else
			fputs("null, \"offset\": null", f);
		fputc('}', f);
	}
	fputs(c->nframes ? "\n  ],\n" : "],\n", f);
}

static void
write_files(FILE *f, const struct tender *t)
{
	const struct fault_info *c = &t->cap;
	const char *sep = "";
	char path[PATH_MAX + 16];

	fputs("  \"dir\": ", f);
	json_cstr(f, c->dir);
	fputs(",\n  \"core\": ", f);
	if (c->written & CTL_CAPTURED_CORE) {
		snprintf(path, sizeof(path), "%s/core", c->dir);
		json_cstr(f, path);
		fprintf(f,
		    ",\n  \"core_bytes\": %llu,\n  \"core_truncated\": %s",
		    (unsigned long long)c->core_bytes,
		    c->core_truncated ? "true" : "false");
	} else
		fputs("null", f);
	fputs(",\n  \"files\": [", f);
	if (c->written & CTL_CAPTURED_CORE) {
		fputs("\"core\"", f);
		sep = ", ";
	}
	if (c->written & CTL_CAPTURED_TAIL) {
		fprintf(f, "%s\"console.txt\"", sep);
		sep = ", ";
	}
	if (c->written & CTL_CAPTURED_REPORT)
		fprintf(f, "%s\"report.json\"", sep);
	fputs("],\n", f);
}

/*
 * "YYYY-MM-DDTHH:MM:SS.uuuuuuZ" from Unix nanoseconds, by arithmetic:
 * gmtime_r() would read /etc/localtime on the latency path.  Days to a
 * civil date as in Howard Hinnant's "chrono-compatible low-level date
 * algorithms" (the proleptic Gregorian calendar, eras of 400 years).
 */
static void
utc_string(char *buf, size_t sz, uint64_t ns)
{
	uint64_t sec = ns / 1000000000ull, days = sec / 86400;
	uint64_t rem = sec % 86400, z = days + 719468, era = z / 146097;
	uint64_t doe = z - era * 146097;
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	uint64_t mp = (5 * doy + 2) / 153;
	uint64_t d = doy - (153 * mp + 2) / 5 + 1;
	uint64_t m = mp < 10 ? mp + 3 : mp - 9;
	uint64_t y = yoe + era * 400 + (m <= 2);

	snprintf(buf, sz, "%04llu-%02llu-%02lluT%02llu:%02llu:%02llu.%06lluZ",
	    (unsigned long long)y, (unsigned long long)m, (unsigned long long)d,
	    (unsigned long long)(rem / 3600),
	    (unsigned long long)(rem / 60 % 60), (unsigned long long)(rem % 60),
	    (unsigned long long)(ns % 1000000000ull / 1000));
}

static void
write_times(FILE *f, const struct tender *t)
{
	const struct fault_info *c = &t->cap;
	char wall[64];

	utc_string(wall, sizeof(wall), c->t_wall_ns);
	fprintf(f,
	    "  \"time\": {\"wall\": \"%s\", \"start_ns\": %llu, "
	    "\"fault_ns\": %llu, \"captured_ns\": %llu, "
	    "\"uptime_ms\": %.3f, \"capture_us\": %.1f},\n",
	    wall, (unsigned long long)t->t_start,
	    (unsigned long long)c->t_exit_ns, (unsigned long long)c->t_done_ns,
	    (double)(c->t_exit_ns - t->t_start) / 1e6,
	    (double)(c->t_done_ns - c->t_exit_ns) / 1e3);
}

int
report_write(int fd, const struct tender *t)
{
	const struct ctl_fault *flt = &t->fault;
	char *buf = NULL;
	size_t len = 0, off;
	ssize_t n;
	FILE *f;
	int r = -1;

	if ((f = open_memstream(&buf, &len)) == NULL)
		return -1;
	fprintf(f, "{\n  \"version\": %d,\n  \"kind\": \"%s\",\n",
	    REPORT_VERSION, ctl_fault_kind_name(flt->kind));
	fputs("  \"message\": ", f);
	json_str(f, t->fault_msg, t->fault_msglen);
	fputs(",\n  \"vector\": ", f);
	if (flt->vector == ~0ull)
		fputs("null", f);
	else
		fprintf(f, "%llu", (unsigned long long)flt->vector);
	fputs(",\n  \"error_code\": ", f);
	json_hex(f, flt->error_code);
	fputs(",\n  \"cr2\": ", f);
	json_hex(f, flt->cr2);
	fprintf(f, ",\n  \"hcall\": %u,\n  \"source\": \"%s\",\n", flt->hcall,
	    (flt->source & CTL_REGS_GUEST) && (flt->source & CTL_REGS_VCPU)
	        ? "guest+vcpu"
	    : (flt->source & CTL_REGS_GUEST) ? "guest"
	                                     : "vcpu");
	fputs("  \"image\": ", f);
	json_cstr(f, t->image_path);
	fputs(",\n", f);
	fprintf(f, "  \"tender_pid\": %ld,\n  \"exit_status\": %d,\n",
	    (long)getpid(), t->cap.exit_status);
	write_times(f, t);
	write_registers(f, t);
	write_segments(f, t);
	write_control(f, t);
	write_guest_frame(f, t);
	write_vcpu(f, t);
	write_backtrace(f, t);
	write_files(f, t);
	fputs("  \"console\": ", f);
	json_cstr(
	    f, (t->cap.written & CTL_CAPTURED_TAIL) ? "console.txt" : NULL);
	fprintf(f, ",\n  \"console_bytes\": %llu\n}\n",
	    (unsigned long long)t->con_tail_total);
	if (fclose(f) != 0 || buf == NULL)
		goto out;
	for (off = 0; off < len; off += (size_t)n) {
		n = write(fd, buf + off, len - off);
		if (n < 0 && errno == EINTR) {
			n = 0;
			continue;
		}
		if (n <= 0)
			goto out;
	}
	r = 0;
out:
	free(buf);
	return r;
}
