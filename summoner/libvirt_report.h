/*
 * libvirt_report.h: the console tail and report.json of a libvirt
 * instance's fault (docs/fault-report.md, "The libvirt backend").
 */
#ifndef SUMMONER_LIBVIRT_REPORT_H
#define SUMMONER_LIBVIRT_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libvirt_core.h"

/* The last LV_TAIL_BYTES bytes of the console, as the tender keeps. */
#define LV_TAIL_BYTES 8192

struct lv_tail {
	char buf[LV_TAIL_BYTES];
	size_t head;    /* where the next byte goes */
	uint64_t total; /* bytes ever added */
};

/* Add n bytes (any number; only the last LV_TAIL_BYTES stay). */
void lv_tail_add(struct lv_tail *t, const char *p, size_t n);
/* The tail in order into out[LV_TAIL_BYTES]; returns its length. */
size_t lv_tail_copy(const struct lv_tail *t, char *out);

/* Registers of report.json, in its order. */
#define LV_REP_NREGS 18 /* rax..r15 (CTL order), rip, rflags */

struct lv_report {
	const char *domain, *image, *dir, *message;
	unsigned kind; /* enum ctl_fault_kind */
	long vector;   /* -1: not an exception */
	uint64_t error_code, cr2;
	const char *source; /* "guest", "vcpu", "guest+vcpu" */
	uint64_t regs[LV_REP_NREGS];
	const char *from[LV_REP_NREGS]; /* "guest", "vcpu", "unwound" */
	bool have_vcpu;
	uint64_t vcpu[LV_REP_NREGS];
	const struct lv_frame *frames;
	unsigned nframes;
	bool core, tail;
	uint64_t core_bytes, core_file_bytes, console_bytes;
	uint64_t fault_ns, captured_ns, core_ns;
	const char *errors; /* why a file is missing, "" or NULL when none */
};

/*
 * Write r as dir/report.json (mode 0600).  0, or -1 with errno.
 */
int lv_report_write(const struct lv_report *r);

#endif /* SUMMONER_LIBVIRT_REPORT_H */
