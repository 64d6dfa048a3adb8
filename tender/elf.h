/*
 * elf.h: the tender's ELF loader for Solo5-hvt-compatible guest images.
 *
 * The image is untrusted: every field is checked before it is used, and a
 * refused image never causes a single byte of guest memory to be written
 * (validation completes before the first copy).  Nothing here allocates,
 * so the loader adds nothing to the tender's heap.
 *
 * Accepted images: static ELF64 little-endian ET_EXEC for EM_X86_64 with
 * at most ELF_MAX_PHDRS program headers; every non-empty PT_LOAD inside the
 * file, at or above HVT_GUEST_MIN_BASE, inside guest memory and overlapping
 * no other PT_LOAD; the entry point inside an executable PT_LOAD; no
 * PT_DYNAMIC and no non-empty PT_INTERP (recent Solo5 linker scripts
 * declare an empty one); exactly one Solo5 ABI1 note (target hvt, version
 * 2) and exactly one Solo5 MFT1 manifest note, each checked field by field.
 *
 * Note layouts (elf.c has the byte-level picture):
 *   - Solo5's own (what solo5-elftool, MirageOS and our guests/ emit): the
 *     12-byte header, "Solo5\0" padded to 8 bytes, the descriptor at note
 *     offset 20.  The manifest struct needs 8-byte alignment, so Solo5
 *     puts 4 padding bytes first and counts them in n_descsz: the manifest
 *     is at note offset 24 and n_descsz is 4 + 8 + entries * 104.
 *   - The 8-byte note layout (PT_NOTE p_align 8, as readelf reads it): the
 *     descriptor at note offset 24 and n_descsz is 8 + entries * 104.
 *     Accepted only in PT_NOTE segments with p_align 8.
 *
 * Manifest: a Solo5 toolchain always emits a first entry of type
 * ELF_MFT_RESERVED_FIRST with an empty name, so real Solo5 images have
 * their first device at index 1; images from our own runtime may start
 * their devices at index 0.  Manifest indexes are the guest's device
 * handles, so the tender must keep the order and skip reserved entries
 * when it requires every device to be attached.
 *
 * The ABI note and the manifest are returned as copies inside struct
 * elf_image, never as pointers into the image: a hostile file could put
 * them at any alignment, and the tender fills in the manifest (attached,
 * mac, mtu, capacity, ...) before copying mft_size bytes of it into guest
 * memory.
 *
 * Include this header as "elf.h" from tender/ (or by relative path); it is
 * not <elf.h>, which the loader itself uses for the ELF types.
 */
#ifndef TENDER_ELF_H
#define TENDER_ELF_H

#include <stddef.h>
#include <stdint.h>

#include "summoner/hvt_abi.h"

#define ELF_MAX_PHDRS 64 /* real images have fewer than 10 */
#define ELF_PAGE_SIZE 0x1000ull

/* Type of Solo5's reserved first manifest entry (not a device). */
#define ELF_MFT_RESERVED_FIRST 0x40000000u

/* struct hvt_mft with room for every entry; the same bytes as in the guest. */
struct elf_mft {
	uint32_t version;
	uint32_t entries;
	struct hvt_mft_entry e[HVT_MFT_MAX_ENTRIES];
};

_Static_assert(offsetof(struct elf_mft, e) == offsetof(struct hvt_mft, e),
    "elf_mft layout must match hvt_mft");

struct elf_image {
	uint64_t entry;      /* e_entry, inside an executable PT_LOAD */
	uint64_t kernel_end; /* highest p_vaddr + p_memsz, rounded up to 4 KB */
	struct hvt_abi1_note abi; /* copy of the ABI1 descriptor, validated */
	/*
	 * Copy of the manifest, validated: entry names are NUL-terminated,
	 * devices have 1..67 alphanumeric unique names and a known type,
	 * "attached" is 0 and the tender-private union "b" is zeroed.
	 */
	struct elf_mft mft;
	size_t mft_size; /* 8 + entries * 104: the bytes to give the guest */
	/* Symbol table and its string table in the file; all 0 if absent. */
	uint64_t symtab_off, symtab_size, strtab_off, strtab_size;
};

/*
 * Validate img (imglen bytes, e.g. an mmap of the file) for a guest memory
 * of memsz bytes (page-aligned), fill *out, and copy every PT_LOAD's file
 * bytes to mem + p_vaddr, zeroing the rest up to p_memsz; only bytes
 * inside the segments are written.  mem must be private anonymous memory
 * (mmap MAP_ANONYMOUS, or .bss): whole pages to be zeroed are dropped
 * with MADV_DONTNEED instead of written, which reads back as zeros only
 * there.  mem == NULL validates only.  Returns 0,
 * or -1 with a one-line reason in err (if err != NULL and errsz > 0) and
 * nothing written to mem.
 */
int elf_load(const void *img, size_t imglen, void *mem, uint64_t memsz,
    struct elf_image *out, char *err, size_t errsz);

/* elf_load() without copying: the same validation, the same *out. */
int elf_check(const void *img, size_t imglen, uint64_t memsz,
    struct elf_image *out, char *err, size_t errsz);

/*
 * Find the STT_FUNC symbol containing addr (a symbol of size 0 matches only
 * its own address) in the symbol table that elf_load/elf_check found in the
 * same img.  Returns 0 with its name (truncated to namesz - 1 bytes, always
 * NUL-terminated when namesz > 0) and *offset = addr - st_value (offset may
 * be NULL), or -1 if no symbol matches or there is no symbol table.
 */
int elf_symbolize(const void *img, size_t imglen, const struct elf_image *ei,
    uint64_t addr, char *name, size_t namesz, uint64_t *offset);

#endif /* TENDER_ELF_H */
