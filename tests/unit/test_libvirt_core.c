/*
 * test_libvirt_core.c: what the libvirt backend makes of a fault
 * (summoner/libvirt_core.h, libvirt_report.h, libvirt_gdb.h): reading and
 * patching a core shaped as QEMU writes it, the frame-pointer walk over
 * it, the console tail, report.json, gdb's checksum.
 */
#include <sys/stat.h>

#include <elf.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "summoner/ctlproto.h"
#include "summoner/libvirt_core.h"
#include "summoner/libvirt_gdb.h"
#include "summoner/libvirt_report.h"

#define GPA   0x100000ull /* where the core's one PT_LOAD starts */
#define MEMSZ 0x2000ull

static char dir[64];
static char core[96];

/* Offsets in the file written by write_core(). */
#define NOTE_OFF (sizeof(Elf64_Ehdr) + 2 * sizeof(Elf64_Phdr))
#define DESC_OFF (NOTE_OFF + sizeof(Elf64_Nhdr) + 8) /* "CORE\0" + pad */
#define LOAD_OFF 0x1000ull

static void
put64(unsigned char *mem, uint64_t gpa, uint64_t v)
{
	memcpy(mem + (gpa - GPA), &v, 8);
}

/*
 * An ELF64 ET_CORE: PT_NOTE (NT_PRSTATUS, rip and rbp set), PT_LOAD at
 * GPA with p_vaddr 0 (libvirt's no-paging dump).  Memory holds a frame
 * chain: rbp 0x101000 -> 0x101100 -> 0x101200 (its saved rbp 0: the end),
 * return addresses 0x2001, 0x3002, 0x4003.
 */
static void
write_core(void)
{
	unsigned char buf[LOAD_OFF + MEMSZ];
	unsigned char *mem = buf + LOAD_OFF;
	Elf64_Ehdr eh;
	Elf64_Phdr ph[2];
	Elf64_Nhdr nh;
	uint64_t regs[27];
	int fd;

	memset(buf, 0, sizeof(buf));
	memset(&eh, 0, sizeof(eh));
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_CORE;
	eh.e_machine = EM_X86_64;
	eh.e_phoff = sizeof(eh);
	eh.e_phentsize = sizeof(Elf64_Phdr);
	eh.e_phnum = 2;
	eh.e_ehsize = sizeof(eh);
	memcpy(buf, &eh, sizeof(eh));
	memset(ph, 0, sizeof(ph));
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = NOTE_OFF;
	ph[0].p_filesz = sizeof(nh) + 8 + LV_PRSTATUS_BYTES;
	ph[1].p_type = PT_LOAD;
	ph[1].p_offset = LOAD_OFF;
	ph[1].p_paddr = GPA;
	ph[1].p_vaddr = 0;
	ph[1].p_filesz = ph[1].p_memsz = MEMSZ;
	memcpy(buf + sizeof(eh), ph, sizeof(ph));
	nh.n_namesz = 5;
	nh.n_descsz = LV_PRSTATUS_BYTES;
	nh.n_type = NT_PRSTATUS;
	memcpy(buf + NOTE_OFF, &nh, sizeof(nh));
	memcpy(buf + NOTE_OFF + sizeof(nh), "CORE", 5);
	memset(regs, 0, sizeof(regs));
	regs[LV_UR_RIP] = 0x1234;
	regs[LV_UR_RBP] = 0x101000;
	regs[LV_UR_RSP] = 0x100ff0;
	memcpy(buf + DESC_OFF + LV_PRSTATUS_REGS, regs, sizeof(regs));
	put64(mem, 0x101000, 0x101100);
	put64(mem, 0x101008, 0x2001);
	put64(mem, 0x101100, 0x101200);
	put64(mem, 0x101108, 0x3002);
	put64(mem, 0x101200, 0);
	put64(mem, 0x101208, 0x4003);
	assert_true((fd = open(core, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	close(fd);
}

static int
setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_libvirt_core.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(core, sizeof(core), "%s/core", dir);
	return 0;
}

static int
teardown(void **state)
{
	char p[128];

	(void)state;
	unlink(core);
	snprintf(p, sizeof(p), "%s/report.json", dir);
	unlink(p);
	rmdir(dir);
	return 0;
}

static void
core_open__qemu_layout__loads_and_prstatus(void **state)
{
	struct lv_core c;
	uint64_t regs[27], v;
	char err[128];

	(void)state;
	write_core();
	assert_int_equal(lv_core_open(&c, core, false, err, sizeof(err)), 0);
	assert_int_equal(c.nloads, 1);
	assert_int_equal(c.bytes, MEMSZ);
	assert_int_equal(c.prstatus, DESC_OFF);
	assert_int_equal(lv_core_regs(&c, regs), 0);
	assert_int_equal(regs[LV_UR_RIP], 0x1234);
	assert_int_equal(lv_core_read(&c, 0x101008, &v, 8), 0);
	assert_int_equal(v, 0x2001);
	/* The last 8 bytes are in, one byte past them is not. */
	assert_int_equal(lv_core_read(&c, GPA + MEMSZ - 8, &v, 8), 0);
	assert_int_equal(lv_core_read(&c, GPA + MEMSZ - 7, &v, 8), -1);
	assert_int_equal(lv_core_read(&c, GPA - 1, &v, 8), -1);
	assert_int_equal(lv_core_read(&c, ~0ull - 3, &v, 8), -1);
	lv_core_close(&c);
}

static void
core_open__not_a_core__refused(void **state)
{
	struct lv_core c;
	char err[128];
	int fd;

	(void)state;
	assert_true((fd = open(core, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write(fd,
	                     "\x7f"
	                     "ELF",
	                     4),
	    4);
	close(fd);
	assert_int_equal(lv_core_open(&c, core, false, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not an ELF64 core"));
	assert_int_equal(
	    lv_core_open(&c, "/nonexistent/core", false, err, sizeof(err)), -1);
}

static void
backtrace__frame_chain__return_addresses_until_zero_rbp(void **state)
{
	struct lv_core c;
	struct lv_frame f[LV_FRAMES_MAX];
	char err[128], line[96];
	unsigned n;

	(void)state;
	write_core();
	assert_int_equal(lv_core_open(&c, core, false, err, sizeof(err)), 0);
	n = lv_backtrace(&c, NULL, 0x1234, 0x101000, f, LV_FRAMES_MAX);
	assert_int_equal(n, 4);
	assert_int_equal(f[0].pc, 0x1234);
	assert_int_equal(f[1].pc, 0x2001);
	assert_int_equal(f[2].pc, 0x3002);
	assert_int_equal(f[3].pc, 0x4003); /* saved rbp 0 <= rbp: stop */
	lv_frame_line(&f[1], line, sizeof(line));
	assert_string_equal(line, "0x2001 ?");
	strcpy(f[1].func, "guest_main");
	f[1].offset = 0x64;
	lv_frame_line(&f[1], line, sizeof(line));
	assert_string_equal(line, "0x2001 guest_main+0x64");
	/* max, an unaligned rbp, an rbp outside the core */
	assert_int_equal(lv_backtrace(&c, NULL, 1, 0x101000, f, 2), 2);
	assert_int_equal(lv_backtrace(&c, NULL, 1, 0x101004, f, 8), 1);
	assert_int_equal(lv_backtrace(&c, NULL, 1, 0x900000, f, 8), 1);
	/* the abort cookie's rbp: the record just below rsp 0x101110 */
	assert_int_equal(lv_unwind_rbp(&c, 0x101000, 0x101110), 0x101200);
	assert_int_equal(lv_unwind_rbp(&c, 0x101000, 0x101018), 0);
	lv_core_close(&c);
}

static void
core_fix__vaddr_and_registers__patched(void **state)
{
	struct lv_core c;
	uint64_t regs[27], got[27];
	bool set[27];
	Elf64_Phdr ph;
	char err[128];
	int fd;

	(void)state;
	write_core();
	memset(regs, 0, sizeof(regs));
	memset(set, 0, sizeof(set));
	regs[LV_UR_RIP] = 0x117854;
	set[LV_UR_RIP] = true;
	regs[LV_UR_R12] = 0x1212121212121212ull;
	set[LV_UR_R12] = true;
	regs[LV_UR_RAX] = 0xdead; /* not set: stays */
	assert_int_equal(lv_core_open(&c, core, true, err, sizeof(err)), 0);
	assert_int_equal(lv_core_fix(&c, regs, set), 0);
	assert_int_equal(lv_core_regs(&c, got), 0);
	assert_int_equal(got[LV_UR_RIP], 0x117854);
	assert_int_equal(got[LV_UR_R12], 0x1212121212121212ull);
	assert_int_equal(got[LV_UR_RAX], 0);
	assert_int_equal(got[LV_UR_RBP], 0x101000);
	lv_core_close(&c);
	assert_true((fd = open(core, O_RDONLY)) >= 0);
	assert_int_equal(
	    pread(fd, &ph, sizeof(ph), sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr)),
	    (ssize_t)sizeof(ph));
	close(fd);
	assert_int_equal(ph.p_vaddr, GPA);
}

static void
tail__wraps__keeps_the_last_bytes_in_order(void **state)
{
	static struct lv_tail t;
	static char in[LV_TAIL_BYTES + 100], out[LV_TAIL_BYTES];
	size_t i, n;

	(void)state;
	memset(&t, 0, sizeof(t));
	lv_tail_add(&t, "abc", 3);
	n = lv_tail_copy(&t, out);
	assert_int_equal(n, 3);
	assert_memory_equal(out, "abc", 3);
	for (i = 0; i < sizeof(in); i++)
		in[i] = (char)('a' + i % 26);
	lv_tail_add(&t, in, 50);
	lv_tail_add(&t, in + 50, sizeof(in) - 50);
	assert_int_equal(t.total, 3 + sizeof(in));
	n = lv_tail_copy(&t, out);
	assert_int_equal(n, LV_TAIL_BYTES);
	assert_memory_equal(out, in + 100, LV_TAIL_BYTES);
}

static void
report__written__parses_back(void **state)
{
	struct lv_report r;
	struct lv_frame f[2];
	char p[128], buf[8192];
	FILE *fp;
	size_t n;

	(void)state;
	memset(&r, 0, sizeof(r));
	memset(f, 0, sizeof(f));
	f[0].pc = 0x117854;
	strcpy(f[0].func, "crash_pagefault");
	f[0].offset = 0x24;
	f[1].pc = 0x2001;
	r.domain = "summoner-c-1-1";
	r.image = "/x/crash.virt";
	r.dir = dir;
	r.message = "page fault \"at\" \x01\xff";
	r.kind = CTL_FAULT_EXCEPTION;
	r.vector = 14;
	r.source = "guest+vcpu";
	r.from[16] = "guest";
	r.regs[16] = 0x117854;
	r.frames = f;
	r.nframes = 2;
	r.core = true;
	assert_int_equal(lv_report_write(&r), 0);
	snprintf(p, sizeof(p), "%s/report.json", dir);
	assert_non_null(fp = fopen(p, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	assert_non_null(strstr(buf, "\"backend\": \"libvirt\""));
	assert_non_null(strstr(buf, "\"kind\": \"exception\""));
	assert_non_null(strstr(buf, "\"vector\": 14"));
	assert_non_null(strstr(buf, "\"function\": \"crash_pagefault\""));
	assert_non_null(strstr(buf, "\"offset\": \"0x24\""));
	assert_non_null(strstr(buf, "\"function\": null"));
	assert_non_null(strstr(buf, "\"rip\": {"));
	assert_non_null(strstr(buf, "\"files\": ["));
	assert_non_null(strstr(buf, "\"report.json\""));
	assert_non_null(strstr(buf, "\"console\": null"));
	/* guest text: quotes and control bytes escaped, no raw 0xff */
	assert_non_null(strstr(buf, "page fault \\\"at\\\" \\u0001?"));
}

static void
gdb_checksum__known_packets(void **state)
{
	(void)state;
	assert_int_equal(lv_gdb_checksum("g", 1), 0x67);
	assert_int_equal(lv_gdb_checksum("OK", 2), 0x9a);
	assert_int_equal(lv_gdb_checksum("", 0), 0);
}

static void
syms__no_file_or_no_match__none(void **state)
{
	struct lv_syms *s;
	char name[LV_FUNC_MAX];
	uint64_t off;

	(void)state;
	assert_null(lv_syms_load("/nonexistent/image"));
	assert_null(lv_syms_load(core)); /* a core has no .symtab */
	assert_int_equal(lv_syms_lookup(NULL, 1, name, sizeof(name), &off), -1);
	/* This test binary has symbols; nothing is at address 0. */
	if ((s = lv_syms_load("/proc/self/exe")) != NULL) {
		assert_int_equal(
		    lv_syms_lookup(s, 0, name, sizeof(name), &off), -1);
		lv_syms_free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(core_open__qemu_layout__loads_and_prstatus),
	    cmocka_unit_test(core_open__not_a_core__refused),
	    cmocka_unit_test(
	        backtrace__frame_chain__return_addresses_until_zero_rbp),
	    cmocka_unit_test(core_fix__vaddr_and_registers__patched),
	    cmocka_unit_test(tail__wraps__keeps_the_last_bytes_in_order),
	    cmocka_unit_test(report__written__parses_back),
	    cmocka_unit_test(gdb_checksum__known_packets),
	    cmocka_unit_test(syms__no_file_or_no_match__none),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
