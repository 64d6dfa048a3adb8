/*
 * gdb.c: the GDB remote stub's commands, registers, breakpoints and the
 * two ways it holds the vCPU (gdb.h explains live and quarantine mode).
 *
 * Registers follow gdb's built-in i386:x86-64 layout, so no target
 * description is sent: 16 general registers, rip, eflags, six segment
 * selectors, the x87 stack and its control registers, xmm0-15 and mxcsr
 * (57 registers, 536 bytes).  At a fault the stub shows the registers of
 * the fault (t->cap, else t->fault), not those of the trap handler the
 * vCPU sits in, so that "bt" starts in the faulting function.
 *
 * Software breakpoints are int3 bytes written into guest memory (memory
 * reads show the original bytes) with KVM_GUESTDBG_USE_SW_BP, so that #BP
 * exits to us instead of reaching the guest's IDT; hardware breakpoints and
 * watchpoints use the four debug registers through KVM_GUESTDBG_USE_HW_BP.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gdb.h"
#include "tender.h"
#include "vm.h"

#define NREGS     57
#define G_BYTES   536
#define GREG_RIP  16
#define GREG_EFL  17
#define GREG_SEG0 18
#define GREG_ST0  24
#define GREG_FCTL 32
#define GREG_XMM0 40
#define GREG_MXCS 56

#define MAX_SWBP 64
#define NHWBP    4
#define INT3     0xcc

enum act {
	ACT_NONE,
	ACT_CONT,
	ACT_STEP,
	ACT_DETACH,
	ACT_GONE
};

struct swbp {
	uint64_t addr;
	uint8_t orig;
	bool used;
};

struct hwbp {
	uint64_t addr;
	uint8_t rw; /* dr7 R/W bits: 0 execute, 1 write, 3 access */
	uint8_t len;
	bool used;
	bool z0; /* a software breakpoint gdb asked for (Z0) */
};

/* The registers at the fault, as gdb sees them (quarantine). */
struct fault_view {
	bool valid;
	uint64_t gp[CTL_NREGS], rip, rflags;
	uint32_t seg[6];
};

static struct gdb {
	struct tender *t;
	struct vm *vm;
	struct gdb_conn c;
	bool quarantined;
	bool running;  /* live: the guest runs under an attached client */
	bool stepping; /* live: that run is one instruction */
	bool dead;     /* the client went away while we answered */
	char where[128];
	char stop[64]; /* the last stop reply, for '?' */
	struct fault_view fv;
	struct swbp sw[MAX_SWBP];
	struct hwbp hw[NHWBP];
	char pkt[GDB_PKT_MAX + 1];
	char out[2 * GDB_PKT_MAX + 1];
} g = {.c = {.fd = -1}};

static void gdb_on_open(struct tender *t, struct vm *vm);

/* --- helpers ------------------------------------------------------------ */

static bool
frozen_fault(const struct tender *t)
{
	return t->fault.kind != 0 && t->fault.kind != CTL_FAULT_DUMP;
}

static void
reply(const char *s)
{
	if (g.dead || g.c.fd < 0)
		return;
	if (gdb_net_send(&g.c, s, strlen(s)) < 0)
		g.dead = true;
}

static const char hexd[] = "0123456789abcdef";

static void
tohex(char *out, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexd[b[i] >> 4];
		out[2 * i + 1] = hexd[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* Exactly 2n hex digits at s into b. */
static int
fromhex(uint8_t *b, const char *s, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if ((hi = tender_hexval(s[2 * i])) < 0 ||
		    (lo = tender_hexval(s[2 * i + 1])) < 0)
			return -1;
		b[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* A hex number of 1..16 digits at *p; *p moves past it. */
static int
parse_hex(const char **p, uint64_t *v)
{
	const char *s = *p;
	int d, n = 0;

	*v = 0;
	while ((d = tender_hexval(*s)) >= 0) {
		if (++n > 16)
			return -1;
		*v = *v << 4 | (uint64_t)d;
		s++;
	}
	if (n == 0)
		return -1;
	*p = s;
	return 0;
}

/* "ADDR,LEN" followed by "term" (a character, or '\0' for the end). */
static int
parse_addr_len(const char **p, uint64_t *addr, uint64_t *len, char term)
{
	if (parse_hex(p, addr) < 0 || **p != ',')
		return -1;
	(*p)++;
	if (parse_hex(p, len) < 0 || **p != term)
		return -1;
	if (term != '\0')
		(*p)++;
	return 0;
}

/* --- registers ------------------------------------------------------------ */

static unsigned
reg_len(unsigned n)
{
	if (n <= GREG_RIP)
		return 8;
	if (n < GREG_ST0)
		return 4;
	if (n < GREG_FCTL)
		return 10;
	if (n < GREG_XMM0)
		return 4;
	if (n < GREG_MXCS)
		return 16;
	return 4;
}

static unsigned
reg_off(unsigned n)
{
	unsigned i, off = 0;

	for (i = 0; i < n; i++)
		off += reg_len(i);
	return off;
}

static void
put_le(uint8_t *raw, unsigned n, uint64_t v)
{
	unsigned i, off = reg_off(n), len = reg_len(n);

	for (i = 0; i < len && i < 8; i++)
		raw[off + i] = (uint8_t)(v >> (8 * i));
}

static uint64_t
get_le(const uint8_t *raw, unsigned n)
{
	unsigned i, off = reg_off(n), len = reg_len(n);
	uint64_t v = 0;

	for (i = 0; i < len && i < 8; i++)
		v |= (uint64_t)raw[off + i] << (8 * i);
	return v;
}

/* kvm_regs in gdb's order. */
static __u64 *
kvm_gp(struct kvm_regs *r, unsigned n)
{
	__u64 *const p[CTL_NREGS] = {&r->rax, &r->rbx, &r->rcx, &r->rdx,
	    &r->rsi, &r->rdi, &r->rbp, &r->rsp, &r->r8, &r->r9, &r->r10,
	    &r->r11, &r->r12, &r->r13, &r->r14, &r->r15};

	return p[n];
}

static void
fpu_to_raw(uint8_t *raw, const struct kvm_fpu *f)
{
	unsigned i, tag = 0;

	for (i = 0; i < 8; i++) {
		memcpy(raw + reg_off(GREG_ST0 + i), f->fpr[i], 10);
		/* The abridged tag says only empty (0) or not; gdb wants
		 * the full word: 11 empty, 00 valid. */
		tag |= ((f->ftwx >> i) & 1 ? 0u : 3u) << (2 * i);
		memcpy(raw + reg_off(GREG_XMM0 + i), f->xmm[i], 16);
		memcpy(raw + reg_off(GREG_XMM0 + 8 + i), f->xmm[8 + i], 16);
	}
	put_le(raw, GREG_FCTL, f->fcw);
	put_le(raw, GREG_FCTL + 1, f->fsw);
	put_le(raw, GREG_FCTL + 2, tag);
	put_le(raw, GREG_FCTL + 4, (uint32_t)f->last_ip);
	put_le(raw, GREG_FCTL + 6, (uint32_t)f->last_dp);
	put_le(raw, GREG_FCTL + 7, f->last_opcode);
	put_le(raw, GREG_MXCS, f->mxcsr);
}

static void
raw_to_fpu(struct kvm_fpu *f, const uint8_t *raw)
{
	unsigned i, tag = (unsigned)get_le(raw, GREG_FCTL + 2);

	f->ftwx = 0;
	for (i = 0; i < 8; i++) {
		memcpy(f->fpr[i], raw + reg_off(GREG_ST0 + i), 10);
		if (((tag >> (2 * i)) & 3) != 3)
			f->ftwx |= (uint8_t)(1u << i);
		memcpy(f->xmm[i], raw + reg_off(GREG_XMM0 + i), 16);
		memcpy(f->xmm[8 + i], raw + reg_off(GREG_XMM0 + 8 + i), 16);
	}
	f->fcw = (uint16_t)get_le(raw, GREG_FCTL);
	f->fsw = (uint16_t)get_le(raw, GREG_FCTL + 1);
	f->last_opcode = (uint16_t)get_le(raw, GREG_FCTL + 7);
	f->mxcsr = (uint32_t)get_le(raw, GREG_MXCS);
}

static int
regs_read(uint8_t *raw)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct kvm_fpu f;
	unsigned i;

	memset(raw, 0, G_BYTES);
	if (g.fv.valid) {
		for (i = 0; i < CTL_NREGS; i++)
			put_le(raw, i, g.fv.gp[i]);
		put_le(raw, GREG_RIP, g.fv.rip);
		put_le(raw, GREG_EFL, g.fv.rflags);
		for (i = 0; i < 6; i++)
			put_le(raw, GREG_SEG0 + i, g.fv.seg[i]);
	} else {
		if (ioctl(g.vm->vcpu_fd, KVM_GET_REGS, &r) < 0)
			return -1;
		for (i = 0; i < CTL_NREGS; i++)
			put_le(raw, i, *kvm_gp(&r, i));
		put_le(raw, GREG_RIP, r.rip);
		put_le(raw, GREG_EFL, r.rflags);
		if (ioctl(g.vm->vcpu_fd, KVM_GET_SREGS, &s) == 0) {
			put_le(raw, GREG_SEG0, s.cs.selector);
			put_le(raw, GREG_SEG0 + 1, s.ss.selector);
			put_le(raw, GREG_SEG0 + 2, s.ds.selector);
			put_le(raw, GREG_SEG0 + 3, s.es.selector);
			put_le(raw, GREG_SEG0 + 4, s.fs.selector);
			put_le(raw, GREG_SEG0 + 5, s.gs.selector);
		}
	}
	if (ioctl(g.vm->vcpu_fd, KVM_GET_FPU, &f) == 0)
		fpu_to_raw(raw, &f);
	return 0;
}

/* Segment selectors are not writable (gdb never needs it here). */
static int
regs_write(const uint8_t *raw)
{
	struct kvm_regs r;
	struct kvm_fpu f;
	unsigned i;

	if (g.fv.valid) {
		for (i = 0; i < CTL_NREGS; i++)
			g.fv.gp[i] = get_le(raw, i);
		g.fv.rip = get_le(raw, GREG_RIP);
		g.fv.rflags = get_le(raw, GREG_EFL);
	} else {
		if (ioctl(g.vm->vcpu_fd, KVM_GET_REGS, &r) < 0)
			return -1;
		for (i = 0; i < CTL_NREGS; i++)
			*kvm_gp(&r, i) = get_le(raw, i);
		r.rip = get_le(raw, GREG_RIP);
		r.rflags = get_le(raw, GREG_EFL) | 0x2;
		if (ioctl(g.vm->vcpu_fd, KVM_SET_REGS, &r) < 0)
			return -1;
	}
	if (ioctl(g.vm->vcpu_fd, KVM_GET_FPU, &f) == 0) {
		raw_to_fpu(&f, raw);
		if (ioctl(g.vm->vcpu_fd, KVM_SET_FPU, &f) < 0)
			return -1;
	}
	return 0;
}

static uint64_t
cur_rip(void)
{
	uint8_t raw[G_BYTES];

	return regs_read(raw) == 0 ? get_le(raw, GREG_RIP) : 0;
}

static void
set_rip(uint64_t rip)
{
	uint8_t raw[G_BYTES];

	if (regs_read(raw) == 0) {
		put_le(raw, GREG_RIP, rip);
		(void)regs_write(raw);
	}
}

/* --- breakpoints ------------------------------------------------------------
 */

static struct swbp *
sw_find(uint64_t addr)
{
	unsigned i;

	for (i = 0; i < MAX_SWBP; i++)
		if (g.sw[i].used && g.sw[i].addr == addr)
			return &g.sw[i];
	return NULL;
}

static const char *
sw_insert(uint64_t addr)
{
	uint8_t *p;
	unsigned i;

	if (sw_find(addr) != NULL)
		return "OK";
	if ((p = gmem_ptr(g.t, addr, 1)) == NULL)
		return "E14";
	for (i = 0; i < MAX_SWBP; i++)
		if (!g.sw[i].used)
			break;
	if (i == MAX_SWBP)
		return "E28";
	g.sw[i].used = true;
	g.sw[i].addr = addr;
	g.sw[i].orig = *p;
	*p = INT3;
	return "OK";
}

static void
sw_remove(struct swbp *b)
{
	uint8_t *p = gmem_ptr(g.t, b->addr, 1);

	if (p != NULL && *p == INT3)
		*p = b->orig;
	b->used = false;
}

static bool
hw_any(void)
{
	unsigned i;

	for (i = 0; i < NHWBP; i++)
		if (g.hw[i].used)
			return true;
	return false;
}

static bool
sw_any(void)
{
	unsigned i;

	for (i = 0; i < MAX_SWBP; i++)
		if (g.sw[i].used)
			return true;
	return false;
}

static void
bp_clear_all(void)
{
	unsigned i;

	for (i = 0; i < MAX_SWBP; i++)
		if (g.sw[i].used)
			sw_remove(&g.sw[i]);
	memset(g.hw, 0, sizeof(g.hw));
}

/* Z0..Z4 / z0..z4 in the debug registers: rw as in dr7, len 1 for an
 * execute breakpoint. */
static const char *
hw_change(bool insert, bool z0, uint8_t rw, uint64_t addr, uint64_t len)
{
	unsigned i;

	if (rw != 0 && ((len != 1 && len != 2 && len != 4 && len != 8) ||
	                   (addr & (len - 1)) != 0))
		return "E22";
	if (rw == 0)
		len = 1;
	for (i = 0; i < NHWBP; i++)
		if (g.hw[i].used && g.hw[i].addr == addr && g.hw[i].rw == rw &&
		    g.hw[i].len == len && g.hw[i].z0 == z0)
			break;
	if (!insert) {
		if (i < NHWBP)
			g.hw[i].used = false;
		return i < NHWBP || !z0 ? "OK" : NULL;
	}
	if (i < NHWBP)
		return "OK";
	for (i = 0; i < NHWBP; i++)
		if (!g.hw[i].used)
			break;
	if (i == NHWBP)
		return z0 ? NULL : "E28"; /* all four debug registers taken */
	g.hw[i] = (struct hwbp){.addr = addr,
	    .rw = rw,
	    .len = (uint8_t)len,
	    .used = true,
	    .z0 = z0};
	return "OK";
}

/* Tell KVM what to trap on the next KVM_RUN. */
static void
debug_apply(void)
{
	static const uint8_t lenbits[9] = {0, 0, 1, 0, 3, 0, 0, 0, 2};
	struct kvm_guest_debug d;
	uint64_t dr7 = 0;
	unsigned i;

	memset(&d, 0, sizeof(d));
	if (sw_any() || hw_any() || g.stepping) {
		d.control = KVM_GUESTDBG_ENABLE;
		if (sw_any())
			d.control |= KVM_GUESTDBG_USE_SW_BP;
		if (g.stepping)
			d.control |= KVM_GUESTDBG_SINGLESTEP;
		if (hw_any()) {
			d.control |= KVM_GUESTDBG_USE_HW_BP;
			for (i = 0; i < NHWBP; i++) {
				if (!g.hw[i].used)
					continue;
				d.arch.debugreg[i] = g.hw[i].addr;
				dr7 |= 1ull << (2 * i);
				dr7 |= (uint64_t)g.hw[i].rw << (16 + 4 * i);
				dr7 |= (uint64_t)lenbits[g.hw[i].len]
				       << (18 + 4 * i);
			}
			d.arch.debugreg[7] = dr7 | 0x400;
		}
	}
	if (ioctl(g.vm->vcpu_fd, KVM_SET_GUEST_DEBUG, &d) < 0)
		fprintf(stderr,
		    "summoner-tender: gdb: KVM_SET_GUEST_DEBUG: %s\n",
		    strerror(errno));
}

/* --- commands ---------------------------------------------------------------
 */

static void
cmd_read_mem(const char *p)
{
	uint64_t addr, len, i;
	const uint8_t *mem;
	uint8_t buf[GDB_PKT_MAX / 2];
	unsigned j;

	if (parse_addr_len(&p, &addr, &len, '\0') < 0) {
		reply("E01");
		return;
	}
	if (len > sizeof(buf) - 8)
		len = sizeof(buf) - 8; /* gdb asks again for the rest */
	if ((mem = gmem_ptr(g.t, addr, len)) == NULL) {
		reply("E14");
		return;
	}
	memcpy(buf, mem, len);
	/* Hide our int3 bytes. */
	for (j = 0; j < MAX_SWBP; j++)
		if (g.sw[j].used && g.sw[j].addr >= addr &&
		    g.sw[j].addr - addr < len)
			buf[g.sw[j].addr - addr] = g.sw[j].orig;
	for (i = 0; i < len; i++) {
		g.out[2 * i] = hexd[buf[i] >> 4];
		g.out[2 * i + 1] = hexd[buf[i] & 0xf];
	}
	g.out[2 * len] = '\0';
	reply(g.out);
}

static void
write_mem(uint64_t addr, const uint8_t *data, uint64_t len)
{
	uint8_t *mem = gmem_ptr(g.t, addr, len);
	unsigned j;

	if (mem == NULL) {
		reply("E14");
		return;
	}
	memcpy(mem, data, len);
	/* A write over one of our breakpoints changes what it restores. */
	for (j = 0; j < MAX_SWBP; j++)
		if (g.sw[j].used && g.sw[j].addr >= addr &&
		    g.sw[j].addr - addr < len) {
			g.sw[j].orig = mem[g.sw[j].addr - addr];
			mem[g.sw[j].addr - addr] = INT3;
		}
	reply("OK");
}

static void
cmd_write_mem(const char *p, size_t pktlen, const char *pkt, bool binary)
{
	uint64_t addr, len;
	uint8_t buf[GDB_PKT_MAX];
	size_t have;

	if (parse_addr_len(&p, &addr, &len, ':') < 0) {
		reply("E01");
		return;
	}
	have = pktlen - (size_t)(p - pkt);
	if (binary) {
		if (have != len) {
			reply("E01");
			return;
		}
		memcpy(buf, p, have);
	} else if (have != 2 * len || len > sizeof(buf) ||
	           fromhex(buf, p, len) < 0) {
		reply("E01");
		return;
	}
	write_mem(addr, buf, len);
}

static void
cmd_regs(void)
{
	uint8_t raw[G_BYTES];

	if (regs_read(raw) < 0) {
		reply("E01");
		return;
	}
	tohex(g.out, raw, G_BYTES);
	reply(g.out);
}

static void
cmd_set_regs(const char *p, size_t len)
{
	uint8_t raw[G_BYTES], in[G_BYTES];
	size_t n = len / 2;

	/* gdb may send fewer registers than it knows: keep the rest. */
	if (len % 2 != 0 || n > G_BYTES || regs_read(raw) < 0 ||
	    fromhex(in, p, n) < 0) {
		reply("E01");
		return;
	}
	memcpy(raw, in, n);
	reply(regs_write(raw) == 0 ? "OK" : "E01");
}

static void
cmd_reg(const char *p)
{
	uint8_t raw[G_BYTES];
	uint64_t n;

	if (parse_hex(&p, &n) < 0 || *p != '\0' || regs_read(raw) < 0) {
		reply("E01");
		return;
	}
	if (n >= NREGS) {
		reply("E45"); /* gdb then marks it unavailable */
		return;
	}
	tohex(g.out, raw + reg_off((unsigned)n), reg_len((unsigned)n));
	reply(g.out);
}

static void
cmd_set_reg(const char *p)
{
	uint8_t raw[G_BYTES];
	uint64_t n;

	if (parse_hex(&p, &n) < 0 || *p != '=' || n >= NREGS ||
	    strlen(p + 1) != 2 * reg_len((unsigned)n) || regs_read(raw) < 0 ||
	    fromhex(raw + reg_off((unsigned)n), p + 1, reg_len((unsigned)n)) <
	        0) {
		reply("E01");
		return;
	}
	reply(regs_write(raw) == 0 ? "OK" : "E01");
}

static void
cmd_break(const char *p, bool insert)
{
	uint64_t type, addr, kind;
	const char *r;
	struct swbp *b;

	if (parse_hex(&p, &type) < 0 || *p++ != ',' ||
	    parse_hex(&p, &addr) < 0 || *p++ != ',' ||
	    parse_hex(&p, &kind) < 0 || (*p != '\0' && *p != ';')) {
		reply("E01");
		return;
	}
	switch (type) {
	case 0:
		/* A debug register while one is free, else int3 (see
		 * docs/tender.md: some nested KVM hosts cannot trap it). */
		if (gmem_ptr(g.t, addr, 1) == NULL) {
			reply("E14");
			return;
		}
		if ((r = hw_change(insert, true, 0, addr, 1)) != NULL)
			reply(r);
		else if (insert)
			reply(sw_insert(addr));
		else {
			if ((b = sw_find(addr)) != NULL)
				sw_remove(b);
			reply("OK");
		}
		return;
	case 1:
		reply(hw_change(insert, false, 0, addr, kind));
		return;
	case 2:
		reply(hw_change(insert, false, 1, addr, kind));
		return;
	case 4:
		reply(hw_change(insert, false, 3, addr, kind));
		return;
	default:
		reply(""); /* read watchpoints: x86 has none */
		return;
	}
}

static void __attribute__((noreturn)) kill_tender(void)
{
	struct tender *t = g.t;

	if (g.c.fd >= 0)
		close(g.c.fd);
	g.c.fd = -1;
	if (g.quarantined && t->cap.exit_status != 0)
		tender_exit(t, t->cap.exit_status, t->cap.exit_reason);
	tender_exit(t, TENDER_EXIT_STOPPED, CTL_EXIT_STOPPED);
}

/* c, s, C, S: an optional new rip (after the signal for C and S). */
static enum act
cmd_resume(const char *p, bool with_sig, enum act a)
{
	uint64_t v;

	if (with_sig) {
		if (parse_hex(&p, &v) < 0) {
			reply("E01");
			return ACT_NONE;
		}
		if (*p == ';')
			p++;
	}
	if (*p != '\0') {
		if (parse_hex(&p, &v) < 0 || *p != '\0') {
			reply("E01");
			return ACT_NONE;
		}
		set_rip(v);
	}
	return a;
}

static enum act
cmd_query(const char *p)
{
	if (strncmp(p, "qSupported", 10) == 0)
		reply("PacketSize=1000;swbreak+;hwbreak+;QStartNoAckMode+");
	else if (strcmp(p, "qAttached") == 0 ||
	         strncmp(p, "qAttached:", 10) == 0)
		reply("1");
	else if (strcmp(p, "qC") == 0)
		reply("QC1");
	else if (strcmp(p, "qfThreadInfo") == 0)
		reply("m1");
	else if (strcmp(p, "qsThreadInfo") == 0)
		reply("l");
	else if (strncmp(p, "qSymbol", 7) == 0)
		reply("OK");
	else if (strcmp(p, "QStartNoAckMode") == 0) {
		reply("OK");
		g.c.noack = true;
	} else
		reply(""); /* qOffsets, qTStatus, ...: identity-mapped */
	return ACT_NONE;
}

static enum act
handle(const char *pkt, size_t len)
{
	const char *p = pkt + 1;

	switch (pkt[0]) {
	case '?':
		reply(g.stop);
		return ACT_NONE;
	case 'q':
	case 'Q':
		return cmd_query(pkt);
	case 'H':
	case 'T':
		reply("OK");
		return ACT_NONE;
	case 'g':
		cmd_regs();
		return ACT_NONE;
	case 'G':
		cmd_set_regs(p, len - 1);
		return ACT_NONE;
	case 'p':
		cmd_reg(p);
		return ACT_NONE;
	case 'P':
		cmd_set_reg(p);
		return ACT_NONE;
	case 'm':
		cmd_read_mem(p);
		return ACT_NONE;
	case 'M':
		cmd_write_mem(p, len, pkt, false);
		return ACT_NONE;
	case 'X':
		cmd_write_mem(p, len, pkt, true);
		return ACT_NONE;
	case 'Z':
	case 'z':
		cmd_break(p, pkt[0] == 'Z');
		return ACT_NONE;
	case 'c':
		return cmd_resume(p, false, ACT_CONT);
	case 'C':
		return cmd_resume(p, true, ACT_CONT);
	case 's':
		return cmd_resume(p, false, ACT_STEP);
	case 'S':
		return cmd_resume(p, true, ACT_STEP);
	case 'D':
		reply("OK");
		return ACT_DETACH;
	case 'k':
		kill_tender();
	case 'v':
		if (strncmp(pkt, "vKill", 5) == 0) {
			reply("OK");
			kill_tender();
		}
		reply(""); /* vMustReplyEmpty, vCont?, ... */
		return ACT_NONE;
	default:
		reply("");
		return ACT_NONE;
	}
}

static void
on_cmd(void *arg)
{
	(void)arg;
	control_apply_held(g.t, g.quarantined);
}

/* Serve the attached client until it resumes, detaches or goes away. */
static enum act
serve(void)
{
	enum act a;
	size_t len;

	for (;;) {
		switch (gdb_net_read(
		    &g.c, g.pkt, &len, g.t->cmd_rd, on_cmd, NULL)) {
		case GDB_RD_GONE:
			return ACT_GONE;
		case GDB_RD_INTR:
			continue; /* already stopped */
		case GDB_RD_PACKET:
			break;
		}
		if (len == 0) {
			reply("");
			continue;
		}
		a = handle(g.pkt, len);
		if (g.dead)
			return ACT_GONE;
		if (a != ACT_NONE)
			return a;
	}
}

static void
session_begin(int fd)
{
	g.c.fd = fd;
	g.c.rxlen = 0;
	g.c.noack = false;
	g.dead = false;
	if (!g.quarantined)
		gdb_net_async(fd);
}

static void
session_end(void)
{
	if (g.c.fd >= 0)
		close(g.c.fd);
	g.c.fd = -1;
	g.running = g.stepping = false;
	bp_clear_all();
}

/* Block until a client connects, applying commands meanwhile. */
static void
wait_client(void)
{
	struct pollfd pfd[2];
	int fd;

	for (;;) {
		pfd[0].fd = gdb_net_lfd();
		pfd[0].events = POLLIN;
		pfd[1].fd = g.t->cmd_rd;
		pfd[1].events = POLLIN;
		pfd[0].revents = pfd[1].revents = 0;
		if (poll(pfd, 2, -1) < 0 && errno != EINTR)
			return;
		if (pfd[1].revents & POLLIN)
			control_apply_held(g.t, g.quarantined);
		if ((pfd[0].revents & POLLIN) && (fd = gdb_net_accept()) >= 0) {
			session_begin(fd);
			return;
		}
	}
}

static void
announce(struct tender *t)
{
	ev_gdb(t, g.where, strlen(g.where));
}

/* --- live mode ---------------------------------------------------------- */

static void stop_reply(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static void
stop_reply(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(g.stop, sizeof(g.stop), fmt, ap);
	va_end(ap);
}

/* After serve(): run the guest again, or end the session. */
static void
live_after(enum act a, bool may_block)
{
	if (a == ACT_CONT || a == ACT_STEP) {
		g.stepping = a == ACT_STEP;
		g.running = true;
		debug_apply();
		/* The parent's PAUSE outranks gdb's continue. */
		if (may_block && g.t->paused)
			control_apply(g.t);
		return;
	}
	session_end();
	debug_apply();
	/* A client waiting in the backlog gets its turn at the next kick. */
	raise(SIGUSR1);
}

void
gdb_vm_start(struct tender *t, struct vm *vm)
{
	char err[256];

	g.t = t;
	g.vm = vm;
	/* fault_wait() calls it on GDB_OPEN after a fault. */
	tender_on_gdb_open = gdb_on_open;
	if (t->gdb_spec == NULL)
		return;
	if (gdb_listen(t, t->gdb_spec, g.where, sizeof(g.where), err,
	        sizeof(err)) < 0) {
		int usage = errno == EINVAL;

		fprintf(stderr, "summoner-tender: --gdb: %s\n", err);
		ev_logf(t, "gdb: %s", err);
		tender_exit(t, usage ? TENDER_EXIT_USAGE : TENDER_EXIT_INTERNAL,
		    CTL_EXIT_ERROR);
	}
	gdb_net_async(gdb_net_lfd());
	announce(t);
	/* Held at the entry point until gdb says what to do. */
	wait_client();
	stop_reply("T05thread:01;");
	live_after(serve(), true);
}

void
gdb_debug_exit(struct tender *t, struct vm *vm)
{
	struct kvm_debug_exit_arch *d = &vm->run->debug.arch;
	uint64_t rip;
	unsigned i;

	g.t = t;
	g.vm = vm;
	if (g.c.fd < 0 || g.quarantined) {
		/* Nobody asked: a left-over trap. */
		g.stepping = false;
		debug_apply();
		return;
	}
	g.running = false;
	stop_reply("T05thread:01;");
	if (d->exception == 1 && !(d->dr6 & 0x4000)) {
		for (i = 0; i < NHWBP; i++) {
			if (!(d->dr6 & (1u << i)) || !g.hw[i].used)
				continue;
			if (g.hw[i].rw == 0)
				stop_reply("T05%sbreak:;thread:01;",
				    g.hw[i].z0 ? "sw" : "hw");
			else
				stop_reply("T05%swatch:%llx;thread:01;",
				    g.hw[i].rw == 3 ? "a" : "",
				    (unsigned long long)g.hw[i].addr);
			break;
		}
	} else if (d->exception == 3) {
		rip = cur_rip();
		if (sw_find(rip) != NULL)
			stop_reply("T05swbreak:;thread:01;");
		else if (rip > 0 && sw_find(rip - 1) != NULL) {
			set_rip(rip - 1);
			stop_reply("T05swbreak:;thread:01;");
		} else {
			/* The guest's own int3: step over it, as the CPU
			 * would have. */
			const uint8_t *b = gmem_ptr(t, rip, 1);

			if (b != NULL && *b == INT3)
				set_rip(rip + 1);
		}
	}
	reply(g.stop);
	live_after(serve(), true);
}

void
gdb_poll(struct tender *t)
{
	ssize_t n;
	char ch;
	int fd;

	if (g.vm == NULL || g.quarantined || gdb_net_lfd() < 0 ||
	    frozen_fault(t))
		return;
	if (g.c.fd >= 0) {
		if (!g.running)
			return;
		n = recv(g.c.fd, &ch, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n < 0 &&
		    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		g.running = false;
		if (n <= 0) {
			live_after(ACT_GONE, false);
			return;
		}
		/* Ctrl-C (serve() skips the 0x03 itself). */
		stop_reply("T02thread:01;");
		reply(g.stop);
		live_after(serve(), false);
		return;
	}
	if ((fd = gdb_net_accept()) < 0)
		return;
	session_begin(fd);
	stop_reply("T05thread:01;");
	live_after(serve(), false);
}

/* --- quarantine ---------------------------------------------------------- */

/* The signal gdb shows for the fault ("Program received signal ..."). */
static unsigned
fault_signal(const struct ctl_fault *f)
{
	switch (f->kind) {
	case CTL_FAULT_EXCEPTION:
		switch (f->vector) {
		case 0:
		case 16:
		case 19:
			return 8; /* SIGFPE */
		case 6:
			return 4; /* SIGILL */
		case 1:
		case 3:
			return 5; /* SIGTRAP */
		default:
			return 11; /* SIGSEGV */
		}
	case CTL_FAULT_ABORT:
		return 6; /* SIGABRT */
	case CTL_FAULT_TRIPLE:
		return 11;
	case CTL_FAULT_BAD_HCALL:
		return 31; /* SIGSYS */
	default:
		return 5;
	}
}

static void
fault_view_init(struct tender *t)
{
	const struct ctl_fault *f = &t->fault;
	unsigned i;

	memset(&g.fv, 0, sizeof(g.fv));
	if (!frozen_fault(t))
		return;
	g.fv.valid = true;
	/* t->cap has the same registers with rbp recovered when the
	 * guest's frame lacked it; it is complete once CAPTURED is sent. */
	if (t->cap.t_done_ns != 0) {
		memcpy(g.fv.gp, t->cap.regs, sizeof(g.fv.gp));
		g.fv.rip = t->cap.rip;
		g.fv.rflags = t->cap.rflags;
	} else {
		for (i = 0; i < CTL_NREGS; i++)
			g.fv.gp[i] = f->regs[i];
		g.fv.rip = f->rip;
		g.fv.rflags = f->rflags;
	}
	g.fv.seg[0] = f->cs;
	g.fv.seg[1] = f->ss;
	g.fv.seg[2] = f->ds;
	g.fv.seg[3] = f->es;
	g.fv.seg[4] = f->fs;
	g.fv.seg[5] = f->gs;
}

void
gdb_quarantine(struct tender *t, struct vm *vm)
{
	enum act a;

	g.t = t;
	g.vm = vm;
	g.quarantined = true;
	g.running = g.stepping = false;
	control_set_quarantined();
	fault_view_init(t);
	if (frozen_fault(t))
		stop_reply("T%02xthread:01;", fault_signal(&t->fault));
	else
		stop_reply("T05thread:01;");
	/* The vCPU never runs again: nothing to trap. */
	bp_clear_all();
	debug_apply();
	if (gdb_net_lfd() < 0) {
		fprintf(stderr, "summoner-tender: gdb: no listener\n");
		kill_tender();
	}
	/* A live client saw the guest run into the fault: tell it. */
	if (g.c.fd >= 0)
		reply(g.stop);
	for (;;) {
		if (g.c.fd < 0)
			wait_client();
		if (g.c.fd < 0)
			continue;
		a = serve();
		if (a == ACT_CONT || a == ACT_STEP) {
			/* The faulting instruction would only fault
			 * again: the VM stays where it is. */
			reply(g.stop);
			if (!g.dead)
				continue;
		}
		session_end();
	}
}

static void
gdb_on_open(struct tender *t, struct vm *vm)
{
	char spec[256], err[256];
	const char *s = NULL;

	if (control_gdb_spec(spec, sizeof(spec)))
		s = spec;
	else if (t->gdb_spec != NULL)
		s = t->gdb_spec;
	if (gdb_listen(t, s, g.where, sizeof(g.where), err, sizeof(err)) < 0) {
		ev_logf(t, "gdb: %s", err);
		return;
	}
	announce(t);
	gdb_quarantine(t, vm);
}

void
gdb_open_request(struct tender *t)
{
	char spec[256], err[256];

	if (g.vm == NULL) {
		ev_logf(t, "gdb: the guest has not started yet");
		return;
	}
	if (g.quarantined || g.c.fd >= 0) {
		/* Already serving: say where again. */
		announce(t);
		return;
	}
	if (t->paused || frozen_fault(t)) {
		gdb_on_open(t, g.vm);
		return;
	}
	/* Running: listen; the guest stops when gdb connects. */
	if (!control_gdb_spec(spec, sizeof(spec))) {
		ev_logf(t, "gdb: GDB_OPEN without an address");
		return;
	}
	if (gdb_listen(t, spec, g.where, sizeof(g.where), err, sizeof(err)) <
	    0) {
		ev_logf(t, "gdb: %s", err);
		return;
	}
	gdb_net_async(gdb_net_lfd());
	announce(t);
}

void
gdb_at_exit(int status)
{
	char w[8];

	if (g.c.fd >= 0 && !g.dead) {
		snprintf(w, sizeof(w), "W%02x", status & 0xff);
		reply(w);
		close(g.c.fd);
		g.c.fd = -1;
	}
	gdb_net_close();
}
