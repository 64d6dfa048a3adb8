/*
 * libvirt_core.h: what the libvirt backend makes of a faulted guest once
 * QEMU has dumped its memory (docs/fault-report.md, "The libvirt
 * backend").
 *
 * QEMU's memory-only ELF core (virDomainCoreDumpWithFormat, RAW,
 * VIR_DUMP_MEMORY_ONLY) has PT_LOADs by guest-physical address with a
 * zero p_vaddr (libvirt asks for no paging), and NT_PRSTATUS holds the
 * vCPU where it stopped: in the guest's panic path, not in the function
 * that faulted.  lv_core_fix() makes it a core gdb walks as the tender's:
 * p_vaddr = p_paddr (our guests are identity-mapped) and the registers
 * of the guest's own report in NT_PRSTATUS.  The core is only read with
 * pread() into local structs, every offset checked: libvirtd wrote it,
 * but the guest chose its contents.
 *
 * Symbols come from the image's ELF .symtab (libelf), copied out so that
 * a lookup needs neither the file nor libelf.
 */
#ifndef SUMMONER_LIBVIRT_CORE_H
#define SUMMONER_LIBVIRT_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LV_FUNC_MAX   64 /* a symbol name, cut */
#define LV_FRAMES_MAX 32 /* the tender's limit, so signatures agree */

/* ---- symbols ---- */

struct lv_syms;

/* The STT_FUNC symbols of ELF file image; NULL (errno) when it cannot be
 * read or has no symbol table. */
struct lv_syms *lv_syms_load(const char *image);
void lv_syms_free(struct lv_syms *s);
/*
 * The function containing addr, chosen as the tender does (a sized symbol
 * over an unsized one at the same address, the innermost one): its name
 * (cut to namesz) and addr's offset in it.  0, or -1 when none (or s is
 * NULL).
 */
int lv_syms_lookup(const struct lv_syms *s, uint64_t addr, char *name,
    size_t namesz, uint64_t *offset);

/* ---- the core ---- */

struct lv_core {
	int fd;
	uint64_t size; /* of the file */
	uint16_t nph;
	uint64_t phoff;
	struct lv_load {
		uint64_t paddr, vaddr, off, filesz;
	} * loads;
	size_t nloads;
	uint64_t prstatus; /* file offset of the first NT_PRSTATUS desc, 0 */
	uint64_t bytes;    /* guest bytes the PT_LOADs cover */
};

/* user_regs_struct, as in NT_PRSTATUS's pr_reg (27 words at +112). */
enum lv_ureg {
	LV_UR_R15,
	LV_UR_R14,
	LV_UR_R13,
	LV_UR_R12,
	LV_UR_RBP,
	LV_UR_RBX,
	LV_UR_R11,
	LV_UR_R10,
	LV_UR_R9,
	LV_UR_R8,
	LV_UR_RAX,
	LV_UR_RCX,
	LV_UR_RDX,
	LV_UR_RSI,
	LV_UR_RDI,
	LV_UR_ORIG_RAX,
	LV_UR_RIP,
	LV_UR_CS,
	LV_UR_EFLAGS,
	LV_UR_RSP,
	LV_UR_SS,
	LV_UR_NREGS_USED
};
#define LV_PRSTATUS_REGS  112 /* offset of pr_reg in the note's desc */
#define LV_PRSTATUS_BYTES (LV_PRSTATUS_REGS + 27 * 8)

/*
 * Open an ELF64 little-endian ET_CORE at path (read-write when writable,
 * so that lv_core_fix() can patch it) and index its PT_LOADs and its
 * first NT_PRSTATUS.  0, or -1 with a one-line reason in err.
 */
int lv_core_open(struct lv_core *c, const char *path, bool writable, char *err,
    size_t errlen);
void lv_core_close(struct lv_core *c);
/* len bytes of guest-physical memory at gpa: 0, or -1 when any byte of
 * it is not in the core (never a partial read). */
int lv_core_read(const struct lv_core *c, uint64_t gpa, void *buf, size_t len);
/* The vCPU's registers from NT_PRSTATUS into regs[LV_UR_...] (the first
 * LV_UR_NREGS_USED words).  0, or -1 when there is no such note. */
int lv_core_regs(const struct lv_core *c, uint64_t *regs);
/*
 * Patch the core: every PT_LOAD with p_vaddr 0 gets p_vaddr = p_paddr,
 * and NT_PRSTATUS gets the registers of regs for which set[i] is true
 * (LV_UR_ indices).  0, or -1 (errno) when a write failed.
 */
int lv_core_fix(struct lv_core *c, const uint64_t *regs, const bool *set);

/* ---- backtraces ---- */

struct lv_frame {
	uint64_t pc;
	uint64_t offset;
	char func[LV_FUNC_MAX]; /* "" when no symbol matches */
};

/*
 * The tender's walk (docs/fault-report.md, "backtrace"): frame 0 is rip,
 * then the return addresses of the frame records from rbp on, read from
 * the core; a return address is symbolised by the byte before it.  Stops
 * at max frames, an unaligned or zero rbp, memory not in the core, a
 * zero return address or a non-increasing rbp.  Returns the frame count.
 */
unsigned lv_backtrace(const struct lv_core *c, const struct lv_syms *s,
    uint64_t rip, uint64_t rbp, struct lv_frame *out, unsigned max);
/*
 * The rbp of the function that aborted, for a report with rip and rsp
 * but no rbp (Solo5's abort cookie): walk the chain from the vCPU's rbp
 * to the record just below rsp and take its saved rbp.  0 when none.
 */
uint64_t lv_unwind_rbp(const struct lv_core *c, uint64_t rbp, uint64_t rsp);
/* A frame as the tender writes it: "0x<pc> <func>+0x<off>" or "0x<pc> ?".
 * snprintf's return. */
int lv_frame_line(const struct lv_frame *f, char *buf, size_t sz);

#endif /* SUMMONER_LIBVIRT_CORE_H */
