/*
 * elf.c: validate and load a Solo5-hvt-compatible static ELF64 guest.
 *
 * The image is hostile until proven otherwise.  It is only ever read with
 * memcpy() into local structs (no alignment assumptions), every offset and
 * size is checked with overflow-safe range checks, and guest memory is
 * written only after the whole image has been validated.
 *
 * Solo5 note, as solo5-elftool and our guests/ lay it out:
 *
 *   +0   n_namesz = 6   n_descsz   n_type ("ABI1" or "MFT1")
 *   +12  "Solo5\0" + 2 padding bytes
 *   +20  ABI1: struct hvt_abi1_note (n_descsz 16)
 *        MFT1: 4 padding bytes, then at +24 struct hvt_mft
 *              (n_descsz = 4 + 8 + entries * 104)
 *
 * The 8-byte note layout (PT_NOTE p_align 8, as readelf reads it) has the
 * descriptor at +24 with no internal padding; we accept it in 8-aligned
 * segments.  Either way the manifest starts at note offset 24 and the note
 * ends at 24 + 8 + entries * 104, which is how both are handled with one
 * code path.
 */
#include <sys/mman.h>

#include <elf.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "elf.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the loader reads little-endian ELF fields natively"
#endif

#define NOTE_NAME_OFF  12 /* sizeof(Elf64_Nhdr) */
#define SOLO5_DESC_OFF 20
#define SOLO5_MFT_OFF  24
#define MFT_HDR_SIZE   8
#define MFT_ENTRY_SIZE sizeof(struct hvt_mft_entry)

_Static_assert(sizeof(Elf64_Nhdr) == NOTE_NAME_OFF, "Elf64_Nhdr size");
_Static_assert(sizeof(struct hvt_abi1_note) == 16, "ABI1 descriptor size");

struct seg {
	uint64_t vaddr, memsz, off, filesz;
	unsigned idx; /* program header index, for messages */
};

struct ctx {
	const unsigned char *img;
	size_t len;
	uint64_t memsz;
	struct elf_image *out;
	char *err;
	size_t errsz;
	struct seg segs[ELF_MAX_PHDRS];
	unsigned nsegs;
	bool entry_ok;
	bool have_abi, have_mft;
};

static int fail(struct ctx *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static int
fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err != NULL && c->errsz > 0) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errsz, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* Is [off, off + n) inside [0, lim)?  Never overflows. */
static bool
range_ok(uint64_t off, uint64_t n, uint64_t lim)
{
	return off <= lim && n <= lim - off;
}

/* Round v up to a (a power of two); v is known to be far from overflow. */
static uint64_t
align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static uint32_t
get32(const unsigned char *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof v);
	return v;
}

static bool
is_alnum(unsigned char ch)
{
	return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= 'A' && ch <= 'Z');
}

static int
check_ehdr(struct ctx *c, Elf64_Ehdr *eh)
{
	if (c->len < sizeof *eh)
		return fail(
		    c, "file too short for an ELF header (%zu bytes)", c->len);
	memcpy(eh, c->img, sizeof *eh);
	if (memcmp(eh->e_ident, ELFMAG, SELFMAG) != 0)
		return fail(c, "not an ELF file (bad magic)");
	if (eh->e_ident[EI_CLASS] != ELFCLASS64)
		return fail(c, "not a 64-bit ELF file (EI_CLASS %u)",
		    eh->e_ident[EI_CLASS]);
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB)
		return fail(c, "not a little-endian ELF file (EI_DATA %u)",
		    eh->e_ident[EI_DATA]);
	if (eh->e_ident[EI_VERSION] != EV_CURRENT)
		return fail(c, "unsupported ELF version (EI_VERSION %u)",
		    eh->e_ident[EI_VERSION]);
	if (eh->e_version != EV_CURRENT)
		return fail(
		    c, "unsupported ELF version (e_version %u)", eh->e_version);
	if (eh->e_type != ET_EXEC)
		return fail(c,
		    "not a static executable (e_type %u, want ET_EXEC)",
		    eh->e_type);
	if (eh->e_machine != EM_X86_64)
		return fail(
		    c, "not an x86_64 image (e_machine %u)", eh->e_machine);
	if (eh->e_ehsize != sizeof(Elf64_Ehdr))
		return fail(c, "e_ehsize %u, want %zu", eh->e_ehsize,
		    sizeof(Elf64_Ehdr));
	if (eh->e_phentsize != sizeof(Elf64_Phdr))
		return fail(c, "e_phentsize %u, want %zu", eh->e_phentsize,
		    sizeof(Elf64_Phdr));
	if (eh->e_phnum == 0)
		return fail(c, "no program headers");
	if (eh->e_phnum > ELF_MAX_PHDRS)
		return fail(c, "too many program headers (%u, at most %u)",
		    eh->e_phnum, ELF_MAX_PHDRS);
	if (!range_ok(eh->e_phoff, (uint64_t)eh->e_phnum * sizeof(Elf64_Phdr),
	        c->len))
		return fail(c,
		    "program headers (e_phoff 0x%" PRIx64
		    ", %u entries) outside the file (%zu bytes)",
		    eh->e_phoff, eh->e_phnum, c->len);
	return 0;
}

static int
check_load(struct ctx *c, unsigned i, const Elf64_Phdr *ph, uint64_t entry)
{
	uint64_t end;
	unsigned j;

	if (ph->p_filesz > ph->p_memsz)
		return fail(c,
		    "segment %u: p_filesz 0x%" PRIx64
		    " larger than p_memsz 0x%" PRIx64,
		    i, ph->p_filesz, ph->p_memsz);
	/* Linker scripts that declare PHDRS may leave some empty. */
	if (ph->p_memsz == 0)
		return 0;
	if (ph->p_align > 1 && (ph->p_align & (ph->p_align - 1)) != 0)
		return fail(c,
		    "segment %u: p_align 0x%" PRIx64 " is not a power of two",
		    i, ph->p_align);
	if (ph->p_filesz > 0 && !range_ok(ph->p_offset, ph->p_filesz, c->len))
		return fail(c,
		    "segment %u: file bytes at 0x%" PRIx64 " + 0x%" PRIx64
		    " outside the file (%zu bytes)",
		    i, ph->p_offset, ph->p_filesz, c->len);
	if (ph->p_vaddr < HVT_GUEST_MIN_BASE)
		return fail(c, "segment %u: p_vaddr 0x%" PRIx64 " below 0x%llx",
		    i, ph->p_vaddr, HVT_GUEST_MIN_BASE);
	if (ph->p_memsz > UINT64_MAX - ph->p_vaddr)
		return fail(c,
		    "segment %u: p_vaddr 0x%" PRIx64 " + p_memsz 0x%" PRIx64
		    " overflows",
		    i, ph->p_vaddr, ph->p_memsz);
	end = ph->p_vaddr + ph->p_memsz;
	if (end > c->memsz)
		return fail(c,
		    "segment %u: [0x%" PRIx64 ", 0x%" PRIx64
		    ") beyond guest memory (0x%" PRIx64 " bytes)",
		    i, ph->p_vaddr, end, c->memsz);
	for (j = 0; j < c->nsegs; j++) {
		const struct seg *s = &c->segs[j];

		if (ph->p_vaddr < s->vaddr + s->memsz && s->vaddr < end)
			return fail(c,
			    "segment %u: [0x%" PRIx64 ", 0x%" PRIx64
			    ") overlaps segment %u [0x%" PRIx64 ", 0x%" PRIx64
			    ")",
			    i, ph->p_vaddr, end, s->idx, s->vaddr,
			    s->vaddr + s->memsz);
	}
	/* c->nsegs < ELF_MAX_PHDRS: there are at most that many headers. */
	c->segs[c->nsegs++] = (struct seg){.vaddr = ph->p_vaddr,
	    .memsz = ph->p_memsz,
	    .off = ph->p_offset,
	    .filesz = ph->p_filesz,
	    .idx = i};
	if ((ph->p_flags & PF_X) && entry >= ph->p_vaddr && entry < end)
		c->entry_ok = true;
	if (end > c->out->kernel_end)
		c->out->kernel_end = end;
	return 0;
}

/*
 * ABI1 descriptor.  In a 4-aligned segment it is at +20.  In an 8-aligned
 * one it may be at +20 (Solo5's toolchain) or +24 (8-byte layout): the word
 * at +20 is abi_target (non-zero in any valid image) in the first and
 * zero padding in the second.  Either guess is then fully validated.
 */
static int
abi_note(struct ctx *c, unsigned i, const unsigned char *n, uint64_t avail,
    uint64_t a, uint32_t descsz, uint64_t *len)
{
	struct hvt_abi1_note abi;
	uint64_t doff = SOLO5_DESC_OFF;

	if (c->have_abi)
		return fail(c, "segment %u: duplicate ABI1 note", i);
	if (descsz != sizeof abi)
		return fail(c,
		    "segment %u: ABI1 note n_descsz %" PRIu32 ", want %zu", i,
		    descsz, sizeof abi);
	if (a == 8 && avail >= SOLO5_MFT_OFF && get32(n + SOLO5_DESC_OFF) == 0)
		doff = SOLO5_MFT_OFF;
	if (doff + sizeof abi > avail)
		return fail(c, "segment %u: ABI1 note truncated", i);
	memcpy(&abi, n + doff, sizeof abi);
	if (abi.abi_target != HVT_ABI_TARGET)
		return fail(c, "ABI1 note: target %" PRIu32 " is not hvt (%d)",
		    abi.abi_target, HVT_ABI_TARGET);
	if (abi.abi_version != HVT_ABI_VERSION)
		return fail(c, "ABI1 note: version %" PRIu32 ", want %d",
		    abi.abi_version, HVT_ABI_VERSION);
	c->out->abi = abi;
	c->have_abi = true;
	*len = doff + sizeof abi;
	return 0;
}

static int
mft_entry_check(struct ctx *c, const unsigned char *raw, uint32_t k)
{
	const unsigned char *name = raw + offsetof(struct hvt_mft_entry, name);
	uint32_t type = get32(raw + offsetof(struct hvt_mft_entry, type));
	size_t len, pos;
	uint32_t j;

	len = strnlen((const char *)name, HVT_MFT_NAME_SIZE);
	if (len == HVT_MFT_NAME_SIZE)
		return fail(c,
		    "manifest entry %" PRIu32
		    ": name not NUL-terminated (longer than %d characters)",
		    k, HVT_MFT_NAME_SIZE - 1);
	if (raw[offsetof(struct hvt_mft_entry, attached)] != 0)
		return fail(c,
		    "manifest entry %" PRIu32 ": \"attached\" set in the image",
		    k);
	if (type == ELF_MFT_RESERVED_FIRST) {
		if (k != 0 || len != 0)
			return fail(c,
			    "manifest entry %" PRIu32
			    ": a reserved entry must come first, with an empty "
			    "name",
			    k);
		return 0;
	}
	if (type != HVT_MFT_DEV_BLOCK_BASIC && type != HVT_MFT_DEV_NET_BASIC)
		return fail(c,
		    "manifest entry %" PRIu32 ": unknown device type %" PRIu32,
		    k, type);
	if (len == 0)
		return fail(
		    c, "manifest entry %" PRIu32 ": empty device name", k);
	for (pos = 0; pos < len; pos++)
		if (!is_alnum(name[pos]))
			return fail(c,
			    "manifest entry %" PRIu32
			    ": device name has non-alphanumeric character "
			    "0x%02x at %zu",
			    k, name[pos], pos);
	/* Earlier entries are valid: their names are NUL-terminated. */
	for (j = 0; j < k; j++)
		if (strcmp(c->out->mft.e[j].name, (const char *)name) == 0)
			return fail(c,
			    "manifest entries %" PRIu32 " and %" PRIu32
			    ": duplicate device name \"%s\"",
			    j, k, (const char *)name);
	return 0;
}

static int
mft_note(struct ctx *c, unsigned i, const unsigned char *n, uint64_t avail,
    uint64_t a, uint32_t descsz, uint64_t *len)
{
	const unsigned char *m = n + SOLO5_MFT_OFF;
	uint32_t version, entries, k;
	uint64_t want;

	if (c->have_mft)
		return fail(c, "segment %u: duplicate MFT1 note", i);
	if (avail < SOLO5_MFT_OFF + MFT_HDR_SIZE)
		return fail(c, "segment %u: MFT1 note truncated", i);
	version = get32(m);
	entries = get32(m + 4);
	if (version != HVT_MFT_VERSION)
		return fail(c, "MFT1 manifest: version %" PRIu32 ", want %d",
		    version, HVT_MFT_VERSION);
	if (entries > HVT_MFT_MAX_ENTRIES)
		return fail(c, "MFT1 manifest: %" PRIu32 " entries, at most %d",
		    entries, HVT_MFT_MAX_ENTRIES);
	want = MFT_HDR_SIZE + (uint64_t)entries * MFT_ENTRY_SIZE;
	if (descsz != want + (SOLO5_MFT_OFF - SOLO5_DESC_OFF) &&
	    !(a == 8 && descsz == want))
		return fail(c,
		    "MFT1 note: n_descsz %" PRIu32 " does not match %" PRIu32
		    " entries (want %" PRIu64 ")",
		    descsz, entries, want + (SOLO5_MFT_OFF - SOLO5_DESC_OFF));
	if (SOLO5_MFT_OFF + want > avail)
		return fail(c,
		    "segment %u: MFT1 note truncated (%" PRIu32 " entries)", i,
		    entries);
	c->out->mft.version = version;
	c->out->mft.entries = entries;
	for (k = 0; k < entries; k++) {
		const unsigned char *raw =
		    m + MFT_HDR_SIZE + k * MFT_ENTRY_SIZE;
		struct hvt_mft_entry *e = &c->out->mft.e[k];

		if (mft_entry_check(c, raw, k) == -1)
			return -1;
		memcpy(e, raw, sizeof *e);
		/* Tender-private: never taken from the image. */
		memset(&e->b, 0, sizeof e->b);
	}
	c->out->mft_size = want;
	c->have_mft = true;
	*len = SOLO5_MFT_OFF + want;
	return 0;
}

/*
 * Any other note: only its bounds matter.  Solo5's toolchain pads the name
 * to 4 bytes whatever the segment's alignment; others follow p_align.
 */
static int
other_note(struct ctx *c, unsigned i, uint64_t pos, const Elf64_Nhdr *nh,
    bool solo5, uint64_t avail, uint64_t a, uint64_t *len)
{
	uint64_t doff;

	doff = solo5 ? SOLO5_DESC_OFF : align_up(sizeof *nh + nh->n_namesz, a);
	if (doff > avail || nh->n_descsz > avail - doff)
		return fail(c,
		    "segment %u: note at +0x%" PRIx64 ": n_descsz %" PRIu32
		    " runs past the segment",
		    i, pos, nh->n_descsz);
	*len = doff + nh->n_descsz;
	return 0;
}

static int
scan_notes(struct ctx *c, unsigned i, const Elf64_Phdr *ph)
{
	static const char solo5[] = HVT_NOTE_NAME; /* with its NUL */
	const unsigned char *seg;
	uint64_t a, pos, size = ph->p_filesz;

	if (ph->p_align <= 4)
		a = 4;
	else if (ph->p_align == 8)
		a = 8;
	else
		return fail(c,
		    "segment %u: PT_NOTE p_align %" PRIu64 ", want 4 or 8", i,
		    ph->p_align);
	if (!range_ok(ph->p_offset, size, c->len))
		return fail(c,
		    "segment %u: PT_NOTE at 0x%" PRIx64 " + 0x%" PRIx64
		    " outside the file (%zu bytes)",
		    i, ph->p_offset, size, c->len);
	seg = c->img + ph->p_offset;
	for (pos = 0; pos < size; pos = align_up(pos, a)) {
		const unsigned char *n = seg + pos;
		uint64_t avail = size - pos, len = 0;
		Elf64_Nhdr nh;
		bool owned;
		int r;

		if (avail < sizeof nh) {
			/* Tolerate zero padding at the end of the segment. */
			while (avail > 0 && n[avail - 1] == 0)
				avail--;
			if (avail == 0)
				break;
			return fail(c,
			    "segment %u: note at +0x%" PRIx64
			    ": truncated header",
			    i, pos);
		}
		memcpy(&nh, n, sizeof nh);
		if (nh.n_namesz > avail - sizeof nh)
			return fail(c,
			    "segment %u: note at +0x%" PRIx64
			    ": n_namesz %" PRIu32 " runs past the segment",
			    i, pos, nh.n_namesz);
		owned = nh.n_namesz == sizeof solo5 &&
		        memcmp(n + NOTE_NAME_OFF, solo5, sizeof solo5) == 0;
		if (owned && nh.n_type == HVT_NOTE_ABI)
			r = abi_note(c, i, n, avail, a, nh.n_descsz, &len);
		else if (owned && nh.n_type == HVT_NOTE_MFT)
			r = mft_note(c, i, n, avail, a, nh.n_descsz, &len);
		else
			r = other_note(c, i, pos, &nh, owned, avail, a, &len);
		if (r == -1)
			return -1;
		pos += len;
	}
	return 0;
}

/* Locate SHT_SYMTAB and its SHT_STRTAB; absent is fine, malformed is not. */
static int
find_symtab(struct ctx *c, const Elf64_Ehdr *eh)
{
	Elf64_Shdr sh, st;
	unsigned i;

	if (eh->e_shoff == 0 || eh->e_shnum == 0)
		return 0;
	if (eh->e_shentsize != sizeof(Elf64_Shdr))
		return fail(c, "e_shentsize %u, want %zu", eh->e_shentsize,
		    sizeof(Elf64_Shdr));
	if (!range_ok(eh->e_shoff, (uint64_t)eh->e_shnum * sizeof sh, c->len))
		return fail(c,
		    "section headers (e_shoff 0x%" PRIx64
		    ", %u entries) outside the file (%zu bytes)",
		    eh->e_shoff, eh->e_shnum, c->len);
	for (i = 0; i < eh->e_shnum; i++) {
		memcpy(&sh, c->img + eh->e_shoff + i * sizeof sh, sizeof sh);
		if (sh.sh_type != SHT_SYMTAB)
			continue;
		if (sh.sh_entsize != sizeof(Elf64_Sym))
			return fail(c,
			    "section %u: symbol table sh_entsize %" PRIu64
			    ", want %zu",
			    i, sh.sh_entsize, sizeof(Elf64_Sym));
		if (sh.sh_size % sizeof(Elf64_Sym) != 0)
			return fail(c,
			    "section %u: symbol table size 0x%" PRIx64
			    " not a multiple of %zu",
			    i, sh.sh_size, sizeof(Elf64_Sym));
		if (!range_ok(sh.sh_offset, sh.sh_size, c->len))
			return fail(c,
			    "section %u: symbol table at 0x%" PRIx64
			    " + 0x%" PRIx64 " outside the file (%zu bytes)",
			    i, sh.sh_offset, sh.sh_size, c->len);
		if (sh.sh_link == 0 || sh.sh_link >= eh->e_shnum)
			return fail(c,
			    "section %u: symbol table sh_link %" PRIu32
			    " is not a section",
			    i, sh.sh_link);
		memcpy(&st, c->img + eh->e_shoff + sh.sh_link * sizeof st,
		    sizeof st);
		if (st.sh_type != SHT_STRTAB)
			return fail(c,
			    "section %u: symbol table sh_link %" PRIu32
			    " is not a string table",
			    i, sh.sh_link);
		if (!range_ok(st.sh_offset, st.sh_size, c->len))
			return fail(c,
			    "section %" PRIu32 ": string table at 0x%" PRIx64
			    " + 0x%" PRIx64 " outside the file (%zu bytes)",
			    sh.sh_link, st.sh_offset, st.sh_size, c->len);
		c->out->symtab_off = sh.sh_offset;
		c->out->symtab_size = sh.sh_size;
		c->out->strtab_off = st.sh_offset;
		c->out->strtab_size = st.sh_size;
		return 0;
	}
	return 0;
}

static int
validate(struct ctx *c)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	unsigned i;
	int r;

	if (c->img == NULL)
		return fail(c, "no image");
	if (check_ehdr(c, &eh) == -1)
		return -1;
	for (i = 0; i < eh.e_phnum; i++) {
		memcpy(&ph, c->img + eh.e_phoff + i * sizeof ph, sizeof ph);
		switch (ph.p_type) {
		case PT_LOAD:
			r = check_load(c, i, &ph, eh.e_entry);
			break;
		case PT_NOTE:
			r = scan_notes(c, i, &ph);
			break;
		case PT_INTERP:
			/* Solo5's hvt linker script declares an empty one. */
			r = 0;
			if (ph.p_filesz != 0 || ph.p_memsz != 0)
				r = fail(c,
				    "segment %u: PT_INTERP: dynamically linked "
				    "images are not supported",
				    i);
			break;
		case PT_DYNAMIC:
			r = fail(c,
			    "segment %u: PT_DYNAMIC: dynamically linked images "
			    "are not supported",
			    i);
			break;
		default: /* PT_TLS, PT_GNU_STACK, ...: nothing to load */
			r = 0;
			break;
		}
		if (r == -1)
			return -1;
	}
	if (c->nsegs == 0)
		return fail(c, "no loadable (PT_LOAD) segment");
	if (!c->entry_ok)
		return fail(c,
		    "entry point 0x%" PRIx64
		    " not inside an executable PT_LOAD segment",
		    eh.e_entry);
	/* kernel_end <= memsz, so this cannot overflow unless memsz is huge. */
	if (c->out->kernel_end > UINT64_MAX - (ELF_PAGE_SIZE - 1) ||
	    align_up(c->out->kernel_end, ELF_PAGE_SIZE) > c->memsz)
		return fail(c,
		    "image end 0x%" PRIx64
		    " rounded up to a page is beyond guest memory (0x%" PRIx64
		    " bytes)",
		    c->out->kernel_end, c->memsz);
	c->out->kernel_end = align_up(c->out->kernel_end, ELF_PAGE_SIZE);
	c->out->entry = eh.e_entry;
	if (!c->have_abi)
		return fail(c, "no Solo5 ABI1 note (not a Solo5 hvt image?)");
	if (!c->have_mft)
		return fail(c, "no Solo5 MFT1 manifest note");
	return find_symtab(c, &eh);
}

/*
 * Zero n bytes at p.  Whole pages are handed back to the kernel instead of
 * written (MADV_DONTNEED on private anonymous memory reads back as zeros):
 * a guest's .bss of a megabyte then costs nothing until the guest touches
 * it, rather than hundreds of page faults on every boot.
 */
static void
zero(uint8_t *p, uint64_t n)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = ((uintptr_t)p + pg - 1) & ~(pg - 1);
	uintptr_t b = ((uintptr_t)p + n) & ~(pg - 1);

	if (b <= a || b - a < 4 * pg ||
	    madvise((void *)a, b - a, MADV_DONTNEED) != 0) {
		memset(p, 0, n);
		return;
	}
	memset(p, 0, a - (uintptr_t)p);
	memset((void *)b, 0, (uintptr_t)p + n - b);
}

int
elf_load(const void *img, size_t imglen, void *mem, uint64_t memsz,
    struct elf_image *out, char *err, size_t errsz)
{
	struct ctx c = {.img = img,
	    .len = imglen,
	    .memsz = memsz,
	    .out = out,
	    .err = err,
	    .errsz = errsz};
	unsigned char *m = mem;
	unsigned j;

	if (err != NULL && errsz > 0)
		err[0] = '\0';
	memset(out, 0, sizeof *out);
	if (validate(&c) == -1) {
		memset(out, 0, sizeof *out);
		return -1;
	}
	if (m == NULL)
		return 0;
	for (j = 0; j < c.nsegs; j++) {
		const struct seg *s = &c.segs[j];

		/* Without file bytes, p_offset is unchecked: do not use it. */
		if (s->filesz > 0)
			memcpy(m + s->vaddr, c.img + s->off, s->filesz);
		zero(m + s->vaddr + s->filesz, s->memsz - s->filesz);
	}
	return 0;
}

int
elf_check(const void *img, size_t imglen, uint64_t memsz, struct elf_image *out,
    char *err, size_t errsz)
{
	return elf_load(img, imglen, NULL, memsz, out, err, errsz);
}

int
elf_symbolize(const void *img, size_t imglen, const struct elf_image *ei,
    uint64_t addr, char *name, size_t namesz, uint64_t *offset)
{
	const unsigned char *p = img, *strtab, *best = NULL;
	uint64_t k, nsyms, best_off = 0, best_size = 0;
	Elf64_Sym s;

	if (p == NULL || ei == NULL || ei->symtab_size == 0 ||
	    !range_ok(ei->symtab_off, ei->symtab_size, imglen) ||
	    !range_ok(ei->strtab_off, ei->strtab_size, imglen))
		return -1;
	strtab = p + ei->strtab_off;
	nsyms = ei->symtab_size / sizeof s;
	for (k = 0; k < nsyms; k++) {
		uint64_t d;

		memcpy(&s, p + ei->symtab_off + k * sizeof s, sizeof s);
		if (ELF64_ST_TYPE(s.st_info) != STT_FUNC ||
		    s.st_shndx == SHN_UNDEF || addr < s.st_value)
			continue;
		d = addr - s.st_value;
		if (s.st_size == 0 ? d != 0 : d >= s.st_size)
			continue;
		if (s.st_name == 0 || s.st_name >= ei->strtab_size ||
		    memchr(strtab + s.st_name, 0,
		        ei->strtab_size - s.st_name) == NULL)
			continue;
		/* Prefer a sized symbol, then the innermost one. */
		if (best != NULL && best_size != 0 &&
		    (s.st_size == 0 || s.st_size >= best_size))
			continue;
		best = strtab + s.st_name;
		best_off = d;
		best_size = s.st_size;
	}
	if (best == NULL)
		return -1;
	if (name != NULL && namesz > 0) {
		size_t n = strlen((const char *)best);

		if (n >= namesz)
			n = namesz - 1;
		memcpy(name, best, n);
		name[n] = '\0';
	}
	if (offset != NULL)
		*offset = best_off;
	return 0;
}
