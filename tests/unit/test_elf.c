/*
 * test_elf.c: the tender's ELF loader (tender/elf.c).
 *
 * Every image is built here, in memory: a valid template laid out like a
 * Solo5 hvt image (two PT_LOADs, the ABI1 and MFT1 notes each in its own
 * PT_NOTE, a symbol table), and hostile variants derived from it by
 * changing one field.  Each refusal must name its reason and must leave
 * guest memory untouched.
 *
 * ELF_TEST_WRITE_CORPUS=DIR writes the valid templates to DIR as seeds for
 * tests/fuzz/fuzz_elf.c.  SUMMONER_HELLO_HVT overrides the path of the real
 * image that one test loads (default build/guests/hello.hvt).
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../tender/elf.h"

/* Template layout: file offsets and guest addresses. */
#define MEMSZ       0x200000ull
#define TEXT_OFF    0x1000
#define TEXT_VADDR  0x100000ull
#define TEXT_SIZE   0x1000
#define DATA_OFF    0x2000
#define DATA_VADDR  0x102000ull
#define DATA_FILESZ 0x800
#define DATA_MEMSZ  0x3000
#define ENTRY       (TEXT_VADDR + 0x10)
#define ABI_OFF     0x3000
#define MFT_OFF     0x3028 /* 8-aligned, after the 36 (or 40) byte ABI note */
#define MFT_E(k)    (MFT_OFF + 32 + (k)*104)
#define SYM_OFF     0x4c00
#define STR_OFF     0x4e00
#define SHDR_OFF    0x4f00
#define IMG_SIZE    0x5000
#define PH_ABI      2
#define PH_MFT      3

enum layout {
	L_SOLO5,        /* Solo5's notes, each in its own PT_NOTE */
	L_SOLO5_ONESEG, /* Solo5's notes, both in one 8-aligned PT_NOTE */
	L_NOTE8,        /* 8-byte note layout, one 8-aligned PT_NOTE */
};

struct opts {
	unsigned entries;
	bool reserved_first;
	enum layout layout;
	bool symtab;
};

static const struct opts defaults = {1, false, L_SOLO5, true};

static _Alignas(4096) unsigned char img[IMG_SIZE];
static size_t img_len;
static _Alignas(4096) unsigned char mem[MEMSZ];
static struct elf_image ei;
static char err[256];

/* Symbols of the template (index 0 is the null symbol). */
static const struct {
	const char *name;
	unsigned type;
	uint16_t shndx;
	uint64_t value, size;
} syms[] = {
    {"", STT_NOTYPE, SHN_UNDEF, 0, 0}, {"_start", STT_FUNC, 1, TEXT_VADDR, 0},
    {"main", STT_FUNC, 1, TEXT_VADDR + 0x100, 0x80},
    {"inner", STT_FUNC, 1, TEXT_VADDR + 0x110, 0x8},
    {"helper", STT_FUNC, 1, TEXT_VADDR + 0x200, 0x40},
    {"counter", STT_OBJECT, 1, DATA_VADDR, 8},
    {"undefined_fn", STT_FUNC, SHN_UNDEF, 0, 0x10000000},
    {"a_function_with_a_rather_long_name", STT_FUNC, 1, TEXT_VADDR + 0x300,
        0x10},
    {NULL, STT_FUNC, 1, TEXT_VADDR + 0x400, 0x10}, /* st_name out of range */
};
#define NSYMS (sizeof syms / sizeof syms[0])

static void
put(size_t off, const void *p, size_t n)
{
	assert_true(off + n <= sizeof img);
	memcpy(img + off, p, n);
}

static void
put32(size_t off, uint32_t v)
{
	put(off, &v, sizeof v);
}

static uint32_t
get32(size_t off)
{
	uint32_t v;

	memcpy(&v, img + off, sizeof v);
	return v;
}

static Elf64_Ehdr
get_eh(void)
{
	Elf64_Ehdr eh;

	memcpy(&eh, img, sizeof eh);
	return eh;
}

static void
set_eh(const Elf64_Ehdr *eh)
{
	put(0, eh, sizeof *eh);
}

static Elf64_Phdr
get_ph(unsigned i)
{
	Elf64_Phdr ph;

	memcpy(&ph, img + sizeof(Elf64_Ehdr) + i * sizeof ph, sizeof ph);
	return ph;
}

static void
set_ph(unsigned i, const Elf64_Phdr *ph)
{
	put(sizeof(Elf64_Ehdr) + i * sizeof *ph, ph, sizeof *ph);
}

static Elf64_Shdr
get_sh(unsigned i)
{
	Elf64_Shdr sh;

	memcpy(&sh, img + SHDR_OFF + i * sizeof sh, sizeof sh);
	return sh;
}

static void
set_sh(unsigned i, const Elf64_Shdr *sh)
{
	put(SHDR_OFF + i * sizeof *sh, sh, sizeof *sh);
}

#define EDIT_EH(stmt)                                                          \
	do {                                                                   \
		Elf64_Ehdr eh = get_eh();                                      \
		stmt;                                                          \
		set_eh(&eh);                                                   \
	} while (0)
#define EDIT_PH(i, stmt)                                                       \
	do {                                                                   \
		Elf64_Phdr ph = get_ph(i);                                     \
		stmt;                                                          \
		set_ph(i, &ph);                                                \
	} while (0)
#define EDIT_SH(i, stmt)                                                       \
	do {                                                                   \
		Elf64_Shdr sh = get_sh(i);                                     \
		stmt;                                                          \
		set_sh(i, &sh);                                                \
	} while (0)

/* Append a program header (the template has room for 8). */
static void
add_ph(uint32_t type, uint64_t off, uint64_t size, uint64_t align)
{
	Elf64_Phdr ph = {.p_type = type,
	    .p_flags = PF_R,
	    .p_offset = off,
	    .p_vaddr = 0,
	    .p_filesz = size,
	    .p_memsz = size,
	    .p_align = align};
	Elf64_Ehdr eh = get_eh();

	assert_true(eh.e_phnum < 8);
	set_ph(eh.e_phnum, &ph);
	eh.e_phnum++;
	set_eh(&eh);
}

static void
note_header(size_t off, uint32_t descsz, uint32_t type)
{
	Elf64_Nhdr nh = {.n_namesz = 6, .n_descsz = descsz, .n_type = type};

	put(off, &nh, sizeof nh);
	put(off + 12, "Solo5\0\0\0", 8);
}

/* ABI1 note at off; returns its length. */
static size_t
write_abi(size_t off, bool desc24)
{
	struct hvt_abi1_note a = {.abi_target = 1, .abi_version = 2};

	note_header(off, sizeof a, HVT_NOTE_ABI);
	put(off + (desc24 ? 24 : 20), &a, sizeof a);
	return desc24 ? 40 : 36;
}

static void
write_entry(unsigned k, const char *name, uint32_t type)
{
	struct hvt_mft_entry e;

	memset(&e, 0, sizeof e);
	snprintf(e.name, sizeof e.name, "%s", name);
	e.type = type;
	put(MFT_E(k), &e, sizeof e);
}

/* MFT1 note at MFT_OFF; returns its length. */
static size_t
write_mft(unsigned n, bool reserved_first, bool desc24)
{
	struct hvt_mft hdr = {.version = 1, .entries = n};
	char name[16];
	unsigned k;

	note_header(MFT_OFF, (desc24 ? 8 : 12) + n * 104, HVT_NOTE_MFT);
	put(MFT_OFF + 24, &hdr, sizeof hdr);
	for (k = 0; k < n; k++) {
		if (k == 0 && reserved_first) {
			write_entry(k, "", ELF_MFT_RESERVED_FIRST);
			continue;
		}
		snprintf(name, sizeof name, "dev%u", k);
		write_entry(k, name,
		    k % 2 ? HVT_MFT_DEV_NET_BASIC : HVT_MFT_DEV_BLOCK_BASIC);
	}
	return 32 + n * 104;
}

static void
write_symtab(void)
{
	Elf64_Shdr sh[4];
	size_t k, str = 1;

	memset(sh, 0, sizeof sh);
	img[STR_OFF] = '\0';
	for (k = 0; k < NSYMS; k++) {
		Elf64_Sym s = {
		    .st_info = ELF64_ST_INFO(STB_GLOBAL, syms[k].type),
		    .st_shndx = syms[k].shndx,
		    .st_value = syms[k].value,
		    .st_size = syms[k].size};

		if (syms[k].name == NULL) {
			s.st_name = 0xffff;
		} else if (syms[k].name[0] != '\0') {
			s.st_name = str;
			put(STR_OFF + str, syms[k].name,
			    strlen(syms[k].name) + 1);
			str += strlen(syms[k].name) + 1;
		}
		put(SYM_OFF + k * sizeof s, &s, sizeof s);
	}
	sh[1] = (Elf64_Shdr){.sh_type = SHT_PROGBITS,
	    .sh_flags = SHF_ALLOC | SHF_EXECINSTR,
	    .sh_addr = TEXT_VADDR,
	    .sh_offset = TEXT_OFF,
	    .sh_size = TEXT_SIZE};
	sh[2] = (Elf64_Shdr){.sh_type = SHT_SYMTAB,
	    .sh_offset = SYM_OFF,
	    .sh_size = NSYMS * sizeof(Elf64_Sym),
	    .sh_link = 3,
	    .sh_info = 1,
	    .sh_entsize = sizeof(Elf64_Sym)};
	sh[3] = (Elf64_Shdr){
	    .sh_type = SHT_STRTAB, .sh_offset = STR_OFF, .sh_size = str};
	put(SHDR_OFF, sh, sizeof sh);
	EDIT_EH(eh.e_shoff = SHDR_OFF; eh.e_shnum = 4;
	        eh.e_shentsize = sizeof(Elf64_Shdr));
}

static void
build(const struct opts *o)
{
	Elf64_Ehdr eh = {.e_type = ET_EXEC,
	    .e_machine = EM_X86_64,
	    .e_version = EV_CURRENT,
	    .e_entry = ENTRY,
	    .e_phoff = sizeof(Elf64_Ehdr),
	    .e_ehsize = sizeof(Elf64_Ehdr),
	    .e_phentsize = sizeof(Elf64_Phdr),
	    .e_phnum = 0};
	Elf64_Phdr text = {.p_type = PT_LOAD,
	    .p_flags = PF_R | PF_X,
	    .p_offset = TEXT_OFF,
	    .p_vaddr = TEXT_VADDR,
	    .p_paddr = TEXT_VADDR,
	    .p_filesz = TEXT_SIZE,
	    .p_memsz = TEXT_SIZE,
	    .p_align = 0x1000};
	Elf64_Phdr data = {.p_type = PT_LOAD,
	    .p_flags = PF_R | PF_W,
	    .p_offset = DATA_OFF,
	    .p_vaddr = DATA_VADDR,
	    .p_paddr = DATA_VADDR,
	    .p_filesz = DATA_FILESZ,
	    .p_memsz = DATA_MEMSZ,
	    .p_align = 0x1000};
	size_t k, abi_len, mft_len;

	memset(img, 0, sizeof img);
	img_len = IMG_SIZE;
	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	set_eh(&eh);
	for (k = 0; k < TEXT_SIZE; k++)
		img[TEXT_OFF + k] = (unsigned char)(k * 7 + 1);
	for (k = 0; k < DATA_FILESZ; k++)
		img[DATA_OFF + k] = (unsigned char)(k * 13 + 5);
	add_ph(PT_NULL, 0, 0, 0);
	set_ph(0, &text);
	add_ph(PT_NULL, 0, 0, 0);
	set_ph(1, &data);

	abi_len = write_abi(ABI_OFF, o->layout == L_NOTE8);
	mft_len =
	    write_mft(o->entries, o->reserved_first, o->layout == L_NOTE8);
	if (o->layout == L_SOLO5) {
		add_ph(PT_NOTE, ABI_OFF, abi_len, 4);
		add_ph(PT_NOTE, MFT_OFF, mft_len, 8);
	} else {
		add_ph(PT_NOTE, ABI_OFF, MFT_OFF - ABI_OFF + mft_len, 8);
	}
	if (o->symtab)
		write_symtab();
}

static int
load(void)
{
	return elf_load(img, img_len, mem, MEMSZ, &ei, err, sizeof err);
}

static bool
mem_is(uint64_t from, uint64_t to, unsigned char v)
{
	for (uint64_t a = from; a < to; a++)
		if (mem[a] != v)
			return false;
	return true;
}

static int
setup(void **state)
{
	(void)state;
	build(&defaults);
	memset(mem, 0xAA, sizeof mem);
	memset(&ei, 0x5A, sizeof ei);
	memset(err, 0, sizeof err);
	return 0;
}

/* ---- hostile images ---- */

struct hostile {
	const char *name;
	void (*mutate)(void);
	const char *expect;
	uint64_t memsz; /* 0: MEMSZ */
};

static void
h_short_file(void)
{
	img_len = 40;
}
static void
h_bad_magic(void)
{
	img[EI_MAG1] = 'X';
}
static void
h_elfclass32(void)
{
	img[EI_CLASS] = ELFCLASS32;
}
static void
h_big_endian(void)
{
	img[EI_DATA] = ELFDATA2MSB;
}
static void
h_bad_ei_version(void)
{
	img[EI_VERSION] = 2;
}
static void
h_bad_e_version(void)
{
	EDIT_EH(eh.e_version = 0);
}
static void
h_not_exec(void)
{
	EDIT_EH(eh.e_type = ET_DYN);
}
static void
h_wrong_machine(void)
{
	EDIT_EH(eh.e_machine = EM_AARCH64);
}
static void
h_bad_ehsize(void)
{
	EDIT_EH(eh.e_ehsize = 52);
}
static void
h_bad_phentsize(void)
{
	EDIT_EH(eh.e_phentsize = 32);
}
static void
h_phoff_outside(void)
{
	EDIT_EH(eh.e_phoff = IMG_SIZE - 100);
}
static void
h_phoff_overflow(void)
{
	EDIT_EH(eh.e_phoff = UINT64_MAX - 8);
}
static void
h_no_phdrs(void)
{
	EDIT_EH(eh.e_phnum = 0);
}
static void
h_too_many_phdrs(void)
{
	EDIT_EH(eh.e_phnum = 0xffff);
}
static void
h_no_load(void)
{
	EDIT_PH(0, ph.p_type = PT_NULL);
	EDIT_PH(1, ph.p_type = PT_NULL);
}
static void
h_filesz_outside_file(void)
{
	EDIT_PH(1, ph.p_filesz = IMG_SIZE; ph.p_memsz = IMG_SIZE);
}
static void
h_offset_overflow(void)
{
	EDIT_PH(1, ph.p_offset = UINT64_MAX - 0x10);
}
static void
h_filesz_gt_memsz(void)
{
	EDIT_PH(1, ph.p_filesz = DATA_MEMSZ + 1);
}
static void
h_vaddr_low(void)
{
	EDIT_PH(0, ph.p_vaddr = 0xff000);
	EDIT_EH(eh.e_entry = 0xff010);
}
static void
h_vaddr_zero_page(void)
{
	EDIT_PH(1, ph.p_vaddr = 0x1000);
}
static void
h_vaddr_memsz_overflow(void)
{
	EDIT_PH(1, ph.p_vaddr = 0xfffffffffffff000ull);
}
static void
h_beyond_memsz(void)
{
	EDIT_PH(1, ph.p_memsz = MEMSZ);
}
static void
h_overlap(void)
{
	EDIT_PH(1, ph.p_vaddr = TEXT_VADDR + 0x800);
}
static void
h_overlap_contained(void)
{
	/* The second segment strictly inside the first (bss of text). */
	EDIT_PH(1, ph.p_vaddr = TEXT_VADDR + 0x100; ph.p_filesz = 0x10;
	        ph.p_memsz = 0x10);
}
static void
h_entry_outside(void)
{
	EDIT_EH(eh.e_entry = 0x1f0000);
}
static void
h_entry_in_data(void)
{
	EDIT_EH(eh.e_entry = DATA_VADDR + 4);
}
static void
h_entry_at_segment_end(void)
{
	EDIT_EH(eh.e_entry = TEXT_VADDR + TEXT_SIZE);
}
static void
h_bad_align(void)
{
	EDIT_PH(0, ph.p_align = 0x1001);
}
static void
h_interp(void)
{
	add_ph(PT_INTERP, 0x200, 0x1c, 1);
}
static void
h_dynamic(void)
{
	add_ph(PT_DYNAMIC, 0x200, 0x100, 8);
}
static void
h_no_abi_note(void)
{
	put32(ABI_OFF + 8, 0x12345);
}
static void
h_abi_wrong_owner(void)
{
	put(ABI_OFF + 12, "Solo6", 5);
}
static void
h_abi_target(void)
{
	put32(ABI_OFF + 20, 3);
}
static void
h_abi_version(void)
{
	put32(ABI_OFF + 24, 1);
}
static void
h_abi_descsz(void)
{
	put32(ABI_OFF + 4, 20);
	EDIT_PH(PH_ABI, ph.p_filesz = 40);
}
static void
h_duplicate_abi(void)
{
	Elf64_Phdr ph = get_ph(PH_ABI);

	add_ph(PT_NOTE, ph.p_offset, ph.p_filesz, ph.p_align);
}
static void
h_duplicate_mft(void)
{
	Elf64_Phdr ph = get_ph(PH_MFT);

	add_ph(PT_NOTE, ph.p_offset, ph.p_filesz, ph.p_align);
}
static void
h_abi_truncated(void)
{
	EDIT_PH(PH_ABI, ph.p_filesz = 30);
}
static void
h_note_header_truncated(void)
{
	/* A second, cut-off note after the ABI note. */
	put32(ABI_OFF + 36, 0x11111111);
	EDIT_PH(PH_ABI, ph.p_filesz = 36 + 8);
}
static void
h_namesz_huge(void)
{
	put32(ABI_OFF, 0xffffffff);
}
static void
h_foreign_descsz_huge(void)
{
	Elf64_Nhdr nh = {.n_namesz = 4, .n_descsz = 0xfffffff0, .n_type = 3};

	/* A GNU note in front of the ABI note, in the same segment. */
	put(ABI_OFF - 36, &nh, sizeof nh);
	put(ABI_OFF - 24, "GNU", 4);
	EDIT_PH(PH_ABI, ph.p_offset = ABI_OFF - 36; ph.p_filesz = 36 + 36);
}
static void
h_pt_note_outside_file(void)
{
	EDIT_PH(PH_MFT, ph.p_offset = IMG_SIZE - 16);
}
static void
h_pt_note_size_overflow(void)
{
	EDIT_PH(PH_MFT, ph.p_filesz = UINT64_MAX - 4);
}
static void
h_pt_note_bad_align(void)
{
	EDIT_PH(PH_MFT, ph.p_align = 16);
}
static void
h_no_mft(void)
{
	put32(MFT_OFF + 8, 0x3254464d); /* "MFT2" */
}
static void
h_mft_version(void)
{
	put32(MFT_OFF + 24, 2);
}
static void
h_mft_too_many_entries(void)
{
	put32(MFT_OFF + 28, 65);
	put32(MFT_OFF + 4, 12 + 65 * 104);
}
static void
h_mft_descsz_mismatch(void)
{
	put32(MFT_OFF + 4, get32(MFT_OFF + 4) + 8);
}
static void
h_mft_8byte_size_in_4_aligned(void)
{
	/* The 8-byte layout's n_descsz only goes with p_align 8. */
	put32(MFT_OFF + 4, 8 + 104);
	EDIT_PH(PH_MFT, ph.p_align = 4);
}
static void
h_mft_descsz_huge(void)
{
	put32(MFT_OFF + 4, 0xffffffff);
}
static void
h_mft_entries_truncated(void)
{
	/* Consistent sizes, but the segment holds only one entry. */
	put32(MFT_OFF + 28, 2);
	put32(MFT_OFF + 4, 12 + 2 * 104);
}
static void
h_mft_name_unterminated(void)
{
	memset(img + MFT_E(0), 'a', HVT_MFT_NAME_SIZE);
}
static void
h_mft_name_empty(void)
{
	img[MFT_E(0)] = '\0';
}
static void
h_mft_name_not_alnum(void)
{
	put(MFT_E(0), "net-0", 6);
}
static void
h_mft_name_high_bit(void)
{
	put(MFT_E(0), "n\xe9t", 4);
}
static void
h_mft_duplicate_names(void)
{
	const struct opts o = {3, true, L_SOLO5, true};

	build(&o);
	write_entry(2, "dev1", HVT_MFT_DEV_NET_BASIC);
}
static void
h_mft_unknown_type(void)
{
	put32(MFT_E(0) + 68, 3);
}
static void
h_mft_attached_set(void)
{
	img[MFT_E(0) + offsetof(struct hvt_mft_entry, attached)] = 1;
}
static void
h_mft_reserved_not_first(void)
{
	const struct opts o = {2, false, L_SOLO5, true};

	build(&o);
	write_entry(1, "", ELF_MFT_RESERVED_FIRST);
}
static void
h_mft_reserved_with_name(void)
{
	write_entry(0, "x", ELF_MFT_RESERVED_FIRST);
}
static void
h_shdrs_outside_file(void)
{
	EDIT_EH(eh.e_shoff = IMG_SIZE - 64);
}
static void
h_shdrs_overflow(void)
{
	EDIT_EH(eh.e_shoff = UINT64_MAX - 63);
}
static void
h_bad_shentsize(void)
{
	EDIT_EH(eh.e_shentsize = 40);
}
static void
h_symtab_outside_file(void)
{
	EDIT_SH(2, sh.sh_offset = IMG_SIZE - 24);
}
static void
h_symtab_entsize(void)
{
	EDIT_SH(2, sh.sh_entsize = 16);
}
static void
h_symtab_partial_entry(void)
{
	EDIT_SH(2, sh.sh_size -= 1);
}
static void
h_symtab_link_bad(void)
{
	EDIT_SH(2, sh.sh_link = 9);
}
static void
h_symtab_link_not_strtab(void)
{
	EDIT_SH(2, sh.sh_link = 1);
}
static void
h_strtab_outside_file(void)
{
	EDIT_SH(3, sh.sh_size = UINT64_MAX);
}
static void
h_end_not_page_rounded(void)
{
	EDIT_PH(1, ph.p_memsz = 0x2800); /* ends at 0x104800 */
}

static const struct hostile hostile[] = {
    {"short_file", h_short_file, "too short for an ELF header", 0},
    {"bad_magic", h_bad_magic, "bad magic", 0},
    {"elfclass32", h_elfclass32, "not a 64-bit ELF file", 0},
    {"big_endian", h_big_endian, "not a little-endian ELF file", 0},
    {"bad_ei_version", h_bad_ei_version, "EI_VERSION 2", 0},
    {"bad_e_version", h_bad_e_version, "e_version 0", 0},
    {"not_exec", h_not_exec, "not a static executable (e_type 3", 0},
    {"wrong_machine", h_wrong_machine, "not an x86_64 image", 0},
    {"bad_ehsize", h_bad_ehsize, "e_ehsize 52", 0},
    {"bad_phentsize", h_bad_phentsize, "e_phentsize 32, want 56", 0},
    {"phoff_outside_file", h_phoff_outside, "program headers (e_phoff", 0},
    {"phoff_overflow", h_phoff_overflow, "outside the file", 0},
    {"no_phdrs", h_no_phdrs, "no program headers", 0},
    {"too_many_phdrs", h_too_many_phdrs, "too many program headers", 0},
    {"no_load", h_no_load, "no loadable (PT_LOAD) segment", 0},
    {"filesz_outside_file", h_filesz_outside_file,
        "segment 1: file bytes at 0x2000 + 0x5000 outside the file", 0},
    {"offset_overflow", h_offset_overflow, "segment 1: file bytes", 0},
    {"filesz_gt_memsz", h_filesz_gt_memsz,
        "segment 1: p_filesz 0x3001 larger than p_memsz 0x3000", 0},
    {"vaddr_below_1mb", h_vaddr_low,
        "segment 0: p_vaddr 0xff000 below 0x100000", 0},
    {"vaddr_in_tender_pages", h_vaddr_zero_page,
        "segment 1: p_vaddr 0x1000 below 0x100000", 0},
    {"vaddr_memsz_overflow", h_vaddr_memsz_overflow, "overflows", 0},
    {"beyond_memsz", h_beyond_memsz, "segment 1: [0x102000, 0x302000) beyond",
        0},
    {"overlapping_segments", h_overlap, "overlaps segment 0", 0},
    {"contained_segment", h_overlap_contained, "overlaps segment 0", 0},
    {"entry_outside_segments", h_entry_outside, "entry point 0x1f0000", 0},
    {"entry_in_data_segment", h_entry_in_data,
        "not inside an executable PT_LOAD", 0},
    {"entry_at_segment_end", h_entry_at_segment_end, "entry point 0x101000", 0},
    {"align_not_power_of_two", h_bad_align, "not a power of two", 0},
    {"pt_interp", h_interp, "segment 4: PT_INTERP", 0},
    {"pt_dynamic", h_dynamic, "segment 4: PT_DYNAMIC", 0},
    {"no_abi_note", h_no_abi_note, "no Solo5 ABI1 note", 0},
    {"abi_note_other_owner", h_abi_wrong_owner, "no Solo5 ABI1 note", 0},
    {"abi_target_not_hvt", h_abi_target, "ABI1 note: target 3", 0},
    {"abi_version", h_abi_version, "ABI1 note: version 1, want 2", 0},
    {"abi_descsz", h_abi_descsz, "ABI1 note n_descsz 20", 0},
    {"duplicate_abi_note", h_duplicate_abi, "duplicate ABI1 note", 0},
    {"duplicate_mft_note", h_duplicate_mft, "duplicate MFT1 note", 0},
    {"abi_note_truncated", h_abi_truncated, "ABI1 note truncated", 0},
    {"note_header_truncated", h_note_header_truncated, "truncated header", 0},
    {"namesz_huge", h_namesz_huge, "n_namesz 4294967295 runs past", 0},
    {"foreign_note_descsz_huge", h_foreign_descsz_huge,
        "n_descsz 4294967280 runs past", 0},
    {"pt_note_outside_file", h_pt_note_outside_file,
        "segment 3: PT_NOTE at 0x4ff0", 0},
    {"pt_note_size_overflow", h_pt_note_size_overflow, "outside the file", 0},
    {"pt_note_align_16", h_pt_note_bad_align, "p_align 16, want 4 or 8", 0},
    {"no_mft_note", h_no_mft, "no Solo5 MFT1 manifest note", 0},
    {"mft_version", h_mft_version, "version 2, want 1", 0},
    {"mft_65_entries", h_mft_too_many_entries, "65 entries, at most 64", 0},
    {"mft_descsz_mismatch", h_mft_descsz_mismatch,
        "n_descsz 124 does not match 1 entries", 0},
    {"mft_8byte_descsz_in_4_aligned_note", h_mft_8byte_size_in_4_aligned,
        "n_descsz 112 does not match", 0},
    {"mft_descsz_huge", h_mft_descsz_huge, "n_descsz 4294967295", 0},
    {"mft_entries_truncated", h_mft_entries_truncated, "MFT1 note truncated",
        0},
    {"mft_name_unterminated", h_mft_name_unterminated,
        "entry 0: name not NUL-terminated (longer than 67", 0},
    {"mft_name_empty", h_mft_name_empty, "entry 0: empty device name", 0},
    {"mft_name_not_alnum", h_mft_name_not_alnum,
        "non-alphanumeric character 0x2d at 3", 0},
    {"mft_name_high_bit", h_mft_name_high_bit,
        "non-alphanumeric character 0xe9 at 1", 0},
    {"mft_duplicate_names", h_mft_duplicate_names,
        "entries 1 and 2: duplicate device name \"dev1\"", 0},
    {"mft_unknown_device_type", h_mft_unknown_type, "unknown device type 3", 0},
    {"mft_attached_set", h_mft_attached_set, "\"attached\" set in the image",
        0},
    {"mft_reserved_not_first", h_mft_reserved_not_first,
        "entry 1: a reserved entry must come first", 0},
    {"mft_reserved_with_name", h_mft_reserved_with_name,
        "entry 0: a reserved entry", 0},
    {"shdrs_outside_file", h_shdrs_outside_file, "section headers (e_shoff", 0},
    {"shdrs_overflow", h_shdrs_overflow, "section headers", 0},
    {"bad_shentsize", h_bad_shentsize, "e_shentsize 40", 0},
    {"symtab_outside_file", h_symtab_outside_file, "section 2: symbol table at",
        0},
    {"symtab_entsize", h_symtab_entsize, "sh_entsize 16, want 24", 0},
    {"symtab_partial_entry", h_symtab_partial_entry, "not a multiple of 24", 0},
    {"symtab_link_out_of_range", h_symtab_link_bad,
        "sh_link 9 is not a section", 0},
    {"symtab_link_not_strtab", h_symtab_link_not_strtab,
        "sh_link 1 is not a string table", 0},
    {"strtab_outside_file", h_strtab_outside_file, "section 3: string table at",
        0},
    {"end_rounded_beyond_memsz", h_end_not_page_rounded,
        "rounded up to a page is beyond guest memory", 0x104900},
};
#define NHOSTILE (sizeof hostile / sizeof hostile[0])

static void
run_hostile(void **state)
{
	const struct hostile *h = *state;
	uint64_t memsz = h->memsz ? h->memsz : MEMSZ;
	struct elf_image zero;

	build(&defaults);
	memset(mem, 0xAA, sizeof mem);
	h->mutate();
	assert_int_equal(
	    elf_load(img, img_len, mem, memsz, &ei, err, sizeof err), -1);
	if (strstr(err, h->expect) == NULL)
		fail_msg("err \"%s\" lacks \"%s\"", err, h->expect);
	/* Nothing written to guest memory; *out left zeroed. */
	assert_true(mem_is(0, MEMSZ, 0xAA));
	memset(&zero, 0, sizeof zero);
	assert_memory_equal(&ei, &zero, sizeof ei);
	/* elf_check agrees. */
	memset(err, 0, sizeof err);
	assert_int_equal(
	    elf_check(img, img_len, memsz, &ei, err, sizeof err), -1);
	assert_non_null(strstr(err, h->expect));
}

/* ---- valid images ---- */

static void
elf_load__valid__segments_copied_bss_zeroed_rest_untouched(void **state)
{
	(void)state;
	assert_int_equal(load(), 0);
	assert_memory_equal(mem + TEXT_VADDR, img + TEXT_OFF, TEXT_SIZE);
	assert_memory_equal(mem + DATA_VADDR, img + DATA_OFF, DATA_FILESZ);
	assert_true(
	    mem_is(DATA_VADDR + DATA_FILESZ, DATA_VADDR + DATA_MEMSZ, 0));
	/* Below, between and above the segments: untouched. */
	assert_true(mem_is(0, TEXT_VADDR, 0xAA));
	assert_true(mem_is(TEXT_VADDR + TEXT_SIZE, DATA_VADDR, 0xAA));
	assert_true(mem_is(DATA_VADDR + DATA_MEMSZ, MEMSZ, 0xAA));
}

static void
elf_load__valid__entry_kernel_end_abi(void **state)
{
	(void)state;
	assert_int_equal(load(), 0);
	assert_string_equal(err, "");
	assert_int_equal(ei.entry, ENTRY);
	assert_int_equal(ei.kernel_end, DATA_VADDR + DATA_MEMSZ);
	assert_int_equal(ei.abi.abi_target, HVT_ABI_TARGET);
	assert_int_equal(ei.abi.abi_version, HVT_ABI_VERSION);
}

static void
elf_load__kernel_end__rounded_up_to_page(void **state)
{
	(void)state;
	EDIT_PH(1, ph.p_memsz = 0x2801);
	assert_int_equal(load(), 0);
	assert_int_equal(ei.kernel_end, 0x105000);
	assert_true(mem_is(DATA_VADDR + 0x2801, MEMSZ, 0xAA));
}

static void
check_entries(unsigned n, bool reserved_first)
{
	char want[16];
	unsigned k;

	assert_int_equal(ei.mft.version, 1);
	assert_int_equal(ei.mft.entries, n);
	assert_int_equal(ei.mft_size, 8 + n * 104);
	for (k = 0; k < n; k++) {
		if (k == 0 && reserved_first) {
			assert_string_equal(ei.mft.e[0].name, "");
			assert_int_equal(
			    ei.mft.e[0].type, ELF_MFT_RESERVED_FIRST);
			continue;
		}
		snprintf(want, sizeof want, "dev%u", k);
		assert_string_equal(ei.mft.e[k].name, want);
		assert_int_equal(ei.mft.e[k].type,
		    k % 2 ? HVT_MFT_DEV_NET_BASIC : HVT_MFT_DEV_BLOCK_BASIC);
		assert_false(ei.mft.e[k].attached);
	}
	/* The copy is exactly what the image holds (bar the private union). */
	assert_memory_equal(&ei.mft, img + MFT_OFF + 24, 8);
}

static void
elf_load__manifest_0_entries__parsed(void **state)
{
	const struct opts o = {0, false, L_SOLO5, true};

	(void)state;
	build(&o);
	assert_int_equal(load(), 0);
	check_entries(0, false);
}

static void
elf_load__manifest_1_entry__parsed_private_union_zeroed(void **state)
{
	(void)state;
	memset(img + MFT_E(0) + offsetof(struct hvt_mft_entry, b), 0x77, 8);
	assert_int_equal(load(), 0);
	check_entries(1, false);
	assert_int_equal(ei.mft.e[0].b.pad, 0);
}

static void
elf_load__manifest_64_entries__parsed(void **state)
{
	const struct opts o = {64, false, L_SOLO5, true};

	(void)state;
	build(&o);
	assert_int_equal(load(), 0);
	check_entries(64, false);
}

static void
elf_load__manifest_67_char_name__accepted(void **state)
{
	char name[68];

	(void)state;
	memset(name, 'z', 67);
	name[67] = '\0';
	write_entry(0, name, HVT_MFT_DEV_NET_BASIC);
	assert_int_equal(load(), 0);
	assert_int_equal(strlen(ei.mft.e[0].name), 67);
}

static void
elf_load__solo5_reserved_first_entry__accepted(void **state)
{
	const struct opts o = {3, true, L_SOLO5, true};

	(void)state;
	build(&o);
	assert_int_equal(load(), 0);
	check_entries(3, true);
}

static void
elf_load__8byte_note_layout__accepted(void **state)
{
	const struct opts o = {2, false, L_NOTE8, true};

	(void)state;
	build(&o);
	assert_int_equal(get32(MFT_OFF + 4), 8 + 2 * 104);
	assert_int_equal(load(), 0);
	assert_int_equal(ei.abi.abi_target, 1);
	check_entries(2, false);
}

static void
elf_load__solo5_notes_in_one_8aligned_segment__accepted(void **state)
{
	const struct opts o = {2, true, L_SOLO5_ONESEG, true};

	(void)state;
	build(&o);
	assert_int_equal(load(), 0);
	assert_int_equal(ei.abi.abi_version, 2);
	check_entries(2, true);
}

static void
elf_load__trailing_zero_padding_in_note__accepted(void **state)
{
	/* guests/runtime/hvt.lds appends LONG(0) after the manifest. */
	(void)state;
	EDIT_PH(PH_MFT, ph.p_filesz += 4);
	assert_int_equal(load(), 0);
	check_entries(1, false);
}

static void
elf_load__foreign_notes__skipped(void **state)
{
	Elf64_Nhdr nh = {.n_namesz = 4, .n_descsz = 20, .n_type = 3};

	(void)state;
	/* A GNU build-id style note in front of the ABI note. */
	put(ABI_OFF - 36, &nh, sizeof nh);
	put(ABI_OFF - 24, "GNU", 4);
	memset(img + ABI_OFF - 20, 0xee, 20);
	EDIT_PH(PH_ABI, ph.p_offset = ABI_OFF - 36; ph.p_filesz = 36 + 36);
	assert_int_equal(load(), 0);
	assert_int_equal(ei.abi.abi_target, 1);
}

static void
elf_load__empty_interp_tls_and_load__ignored(void **state)
{
	(void)state;
	add_ph(PT_INTERP, 0, 0, 1); /* Solo5 >= 0.9 linker scripts */
	add_ph(PT_TLS, 0, 0, 8);
	add_ph(PT_LOAD, 0, 0, 0x1000); /* empty, p_vaddr 0 */
	assert_int_equal(load(), 0);
}

static void
elf_load__bss_only_segment__zeroed(void **state)
{
	Elf64_Phdr ph = {.p_type = PT_LOAD,
	    .p_flags = PF_R | PF_W,
	    .p_offset = UINT64_MAX, /* irrelevant without file bytes */
	    .p_vaddr = 0x110000,
	    .p_filesz = 0,
	    .p_memsz = 0x1000,
	    .p_align = 0x1000};

	(void)state;
	add_ph(PT_NULL, 0, 0, 0);
	set_ph(4, &ph);
	assert_int_equal(load(), 0);
	assert_true(mem_is(0x110000, 0x111000, 0));
	assert_true(mem_is(0x111000, MEMSZ, 0xAA));
	assert_int_equal(ei.kernel_end, 0x111000);
}

static void
elf_load__no_section_headers__symtab_absent(void **state)
{
	const struct opts o = {1, false, L_SOLO5, false};

	(void)state;
	build(&o);
	assert_int_equal(load(), 0);
	assert_int_equal(ei.symtab_off, 0);
	assert_int_equal(ei.symtab_size, 0);
	assert_int_equal(ei.strtab_off, 0);
	assert_int_equal(ei.strtab_size, 0);
	assert_int_equal(
	    elf_symbolize(img, img_len, &ei, ENTRY, err, sizeof err, NULL), -1);
}

static void
elf_load__symtab__located(void **state)
{
	(void)state;
	assert_int_equal(load(), 0);
	assert_int_equal(ei.symtab_off, SYM_OFF);
	assert_int_equal(ei.symtab_size, NSYMS * sizeof(Elf64_Sym));
	assert_int_equal(ei.strtab_off, STR_OFF);
	assert_true(ei.strtab_size > 1);
}

static void
elf_check__valid__same_result_nothing_written(void **state)
{
	struct elf_image a;

	(void)state;
	assert_int_equal(load(), 0);
	memcpy(&a, &ei, sizeof a);
	memset(mem, 0xAA, sizeof mem);
	memset(&ei, 0, sizeof ei);
	assert_int_equal(
	    elf_check(img, img_len, MEMSZ, &ei, err, sizeof err), 0);
	assert_memory_equal(&a, &ei, sizeof ei);
	assert_true(mem_is(0, MEMSZ, 0xAA));
	/* elf_load with mem == NULL is the same check. */
	assert_int_equal(
	    elf_load(img, img_len, NULL, MEMSZ, &ei, err, sizeof err), 0);
	assert_memory_equal(&a, &ei, sizeof ei);
}

static void
elf_load__small_or_null_err__truncated_or_ignored(void **state)
{
	char small[8];

	(void)state;
	img[0] = 0;
	memset(small, 'x', sizeof small);
	assert_int_equal(
	    elf_load(img, img_len, mem, MEMSZ, &ei, small, sizeof small), -1);
	assert_string_equal(small, "not an ");
	assert_int_equal(elf_load(img, img_len, mem, MEMSZ, &ei, NULL, 0), -1);
	assert_int_equal(elf_check(NULL, 0, MEMSZ, &ei, err, sizeof err), -1);
}

static void
elf_load__every_truncation__refused_without_writes(void **state)
{
	size_t len;

	(void)state;
	/* Cut inside the headers, the segments and the notes. */
	for (len = 0; len < SYM_OFF; len += 13) {
		memset(err, 0, sizeof err);
		assert_int_equal(
		    elf_load(img, len, mem, MEMSZ, &ei, err, sizeof err), -1);
		assert_true(err[0] != '\0');
	}
	assert_true(mem_is(0, MEMSZ, 0xAA));
}

/* ---- symbolize ---- */

static void
elf_symbolize__inside_function__name_and_offset(void **state)
{
	char name[64];
	uint64_t off = 99;

	(void)state;
	assert_int_equal(load(), 0);
	assert_int_equal(elf_symbolize(img, img_len, &ei, TEXT_VADDR + 0x23f,
	                     name, sizeof name, &off),
	    0);
	assert_string_equal(name, "helper");
	assert_int_equal(off, 0x3f);
	assert_int_equal(elf_symbolize(img, img_len, &ei, TEXT_VADDR + 0x100,
	                     name, sizeof name, &off),
	    0);
	assert_string_equal(name, "main");
	assert_int_equal(off, 0);
}

static void
elf_symbolize__nested_symbols__innermost(void **state)
{
	char name[64];
	uint64_t off;

	(void)state;
	assert_int_equal(load(), 0);
	assert_int_equal(elf_symbolize(img, img_len, &ei, TEXT_VADDR + 0x114,
	                     name, sizeof name, &off),
	    0);
	assert_string_equal(name, "inner");
	assert_int_equal(off, 4);
	assert_int_equal(elf_symbolize(img, img_len, &ei, TEXT_VADDR + 0x118,
	                     name, sizeof name, &off),
	    0);
	assert_string_equal(name, "main");
	assert_int_equal(off, 0x18);
}

static void
elf_symbolize__zero_size_symbol__exact_address_only(void **state)
{
	char name[64];
	uint64_t off = 7;

	(void)state;
	assert_int_equal(load(), 0);
	assert_int_equal(elf_symbolize(img, img_len, &ei, TEXT_VADDR, name,
	                     sizeof name, &off),
	    0);
	assert_string_equal(name, "_start");
	assert_int_equal(off, 0);
	assert_int_equal(elf_symbolize(img, img_len, &ei, TEXT_VADDR + 4, name,
	                     sizeof name, &off),
	    -1);
}

static void
elf_symbolize__gap_object_undefined__not_found(void **state)
{
	char name[64];

	(void)state;
	assert_int_equal(load(), 0);
	/* Between functions (undefined_fn would cover it if not skipped). */
	assert_int_equal(elf_symbolize(img, img_len, &ei, TEXT_VADDR + 0x180,
	                     name, sizeof name, NULL),
	    -1);
	/* An STT_OBJECT. */
	assert_int_equal(elf_symbolize(img, img_len, &ei, DATA_VADDR + 1, name,
	                     sizeof name, NULL),
	    -1);
	/* Far away. */
	assert_int_equal(elf_symbolize(img, img_len, &ei, UINT64_MAX, name,
	                     sizeof name, NULL),
	    -1);
}

static void
elf_symbolize__bad_st_name__skipped(void **state)
{
	char name[64];

	(void)state;
	assert_int_equal(load(), 0);
	assert_int_equal(elf_symbolize(img, img_len, &ei, TEXT_VADDR + 0x404,
	                     name, sizeof name, NULL),
	    -1);
}

static void
elf_symbolize__long_name__truncated(void **state)
{
	char name[11];
	uint64_t off;

	(void)state;
	assert_int_equal(load(), 0);
	memset(name, 'x', sizeof name);
	assert_int_equal(elf_symbolize(img, img_len, &ei, TEXT_VADDR + 0x305,
	                     name, sizeof name, &off),
	    0);
	assert_string_equal(name, "a_function");
	assert_int_equal(off, 5);
	/* No name buffer at all still reports the offset. */
	assert_int_equal(
	    elf_symbolize(img, img_len, &ei, TEXT_VADDR + 0x306, NULL, 0, &off),
	    0);
	assert_int_equal(off, 6);
}

static void
elf_symbolize__unterminated_strtab__skipped(void **state)
{
	char name[64];

	(void)state;
	assert_int_equal(load(), 0);
	/* Cut the string table in the middle of "helper". */
	ei.strtab_size = 1 + strlen("_start") + 1 + strlen("main") + 1 +
	                 strlen("inner") + 1 + 3;
	assert_int_equal(elf_symbolize(img, img_len, &ei, TEXT_VADDR + 0x200,
	                     name, sizeof name, NULL),
	    -1);
	assert_int_equal(elf_symbolize(img, img_len, &ei, TEXT_VADDR + 0x100,
	                     name, sizeof name, NULL),
	    0);
}

static void
elf_symbolize__bogus_image_info__not_found(void **state)
{
	char name[64];
	struct elf_image bad;

	(void)state;
	assert_int_equal(load(), 0);
	bad = ei;
	bad.symtab_off = UINT64_MAX - 8;
	assert_int_equal(elf_symbolize(img, img_len, &bad, TEXT_VADDR + 0x100,
	                     name, sizeof name, NULL),
	    -1);
	bad = ei;
	bad.strtab_size = IMG_SIZE;
	assert_int_equal(elf_symbolize(img, img_len, &bad, TEXT_VADDR + 0x100,
	                     name, sizeof name, NULL),
	    -1);
	assert_int_equal(elf_symbolize(img, SYM_OFF, &ei, TEXT_VADDR + 0x100,
	                     name, sizeof name, NULL),
	    -1);
	assert_int_equal(
	    elf_symbolize(NULL, 0, &ei, 0, name, sizeof name, NULL), -1);
}

/* ---- a real image ---- */

static void
elf_load__real_hello_image__loaded(void **state)
{
	const char *path = getenv("SUMMONER_HELLO_HVT");
	const uint64_t gmem = 32ull << 20;
	unsigned char *file, *g;
	char name[64];
	struct stat st;
	Elf64_Ehdr eh;
	uint64_t off;
	unsigned i;
	int fd;

	(void)state;
	if (path == NULL)
		path = "build/guests/hello.hvt";
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd == -1) {
		print_message("skipped: %s: %s (build the guests first)\n",
		    path, strerror(errno));
		skip();
	}
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(st.st_size > 0);
	file = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	assert_true(file != MAP_FAILED);
	close(fd);
	g = mmap(NULL, gmem, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	assert_true(g != MAP_FAILED);

	if (elf_load(file, st.st_size, g, gmem, &ei, err, sizeof err) != 0)
		fail_msg("%s: %s", path, err);
	assert_int_equal(ei.abi.abi_target, HVT_ABI_TARGET);
	assert_int_equal(ei.abi.abi_version, HVT_ABI_VERSION);
	assert_true(ei.entry >= HVT_GUEST_MIN_BASE && ei.entry < ei.kernel_end);
	assert_int_equal(ei.kernel_end % ELF_PAGE_SIZE, 0);
	assert_int_equal(ei.mft_size, 8 + ei.mft.entries * 104);

	/* Every PT_LOAD's bytes are where its header says. */
	memcpy(&eh, file, sizeof eh);
	for (i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;

		memcpy(&ph, file + eh.e_phoff + i * sizeof ph, sizeof ph);
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		assert_memory_equal(
		    g + ph.p_vaddr, file + ph.p_offset, ph.p_filesz);
		for (off = ph.p_filesz; off < ph.p_memsz; off++)
			assert_int_equal(g[ph.p_vaddr + off], 0);
	}
	print_message("%s: entry 0x%" PRIx64 ", kernel_end 0x%" PRIx64
	              ", %u manifest entries, symtab %" PRIu64 " bytes\n",
	    path, ei.entry, ei.kernel_end, ei.mft.entries, ei.symtab_size);
	if (elf_symbolize(
	        file, st.st_size, &ei, ei.entry, name, sizeof name, &off) == 0)
		print_message("entry is %s+0x%" PRIx64 "\n", name, off);
	munmap(g, gmem);
	munmap(file, st.st_size);
}

/* ---- corpus for the fuzzer ---- */

static void
write_corpus(const char *dir)
{
	static const struct opts o[] = {
	    {1, false, L_SOLO5, true},
	    {3, true, L_SOLO5, true},
	    {2, false, L_NOTE8, false},
	    {2, true, L_SOLO5_ONESEG, true},
	};
	char path[512];
	size_t k;
	FILE *f;

	for (k = 0; k < sizeof o / sizeof o[0]; k++) {
		build(&o[k]);
		snprintf(path, sizeof path, "%s/template-%zu.elf", dir, k);
		f = fopen(path, "wb");
		if (f == NULL || fwrite(img, 1, img_len, f) != img_len) {
			perror(path);
			exit(1);
		}
		fclose(f);
	}
}

#define T(f) cmocka_unit_test_setup(f, setup)

int
main(void)
{
	static const struct CMUnitTest fixed[] = {
	    T(elf_load__valid__segments_copied_bss_zeroed_rest_untouched),
	    T(elf_load__valid__entry_kernel_end_abi),
	    T(elf_load__kernel_end__rounded_up_to_page),
	    T(elf_load__manifest_0_entries__parsed),
	    T(elf_load__manifest_1_entry__parsed_private_union_zeroed),
	    T(elf_load__manifest_64_entries__parsed),
	    T(elf_load__manifest_67_char_name__accepted),
	    T(elf_load__solo5_reserved_first_entry__accepted),
	    T(elf_load__8byte_note_layout__accepted),
	    T(elf_load__solo5_notes_in_one_8aligned_segment__accepted),
	    T(elf_load__trailing_zero_padding_in_note__accepted),
	    T(elf_load__foreign_notes__skipped),
	    T(elf_load__empty_interp_tls_and_load__ignored),
	    T(elf_load__bss_only_segment__zeroed),
	    T(elf_load__no_section_headers__symtab_absent),
	    T(elf_load__symtab__located),
	    T(elf_check__valid__same_result_nothing_written),
	    T(elf_load__small_or_null_err__truncated_or_ignored),
	    T(elf_load__every_truncation__refused_without_writes),
	    T(elf_symbolize__inside_function__name_and_offset),
	    T(elf_symbolize__nested_symbols__innermost),
	    T(elf_symbolize__zero_size_symbol__exact_address_only),
	    T(elf_symbolize__gap_object_undefined__not_found),
	    T(elf_symbolize__bad_st_name__skipped),
	    T(elf_symbolize__long_name__truncated),
	    T(elf_symbolize__unterminated_strtab__skipped),
	    T(elf_symbolize__bogus_image_info__not_found),
	    T(elf_load__real_hello_image__loaded),
	};
	enum {
		NFIXED = sizeof fixed / sizeof fixed[0]
	};
	static struct CMUnitTest tests[NFIXED + NHOSTILE];
	static char names[NHOSTILE][96];
	const char *corpus = getenv("ELF_TEST_WRITE_CORPUS");
	size_t k;

	if (corpus != NULL) {
		write_corpus(corpus);
		return 0;
	}
	memcpy(tests, fixed, sizeof fixed);
	for (k = 0; k < NHOSTILE; k++) {
		snprintf(names[k], sizeof names[k], "elf_load__%s__refused",
		    hostile[k].name);
		tests[NFIXED + k] = (struct CMUnitTest){.name = names[k],
		    .test_func = run_hostile,
		    .initial_state = (void *)(uintptr_t)&hostile[k]};
	}
	return cmocka_run_group_tests_name("elf", tests, NULL, NULL);
}
