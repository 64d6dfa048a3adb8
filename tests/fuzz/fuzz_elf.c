/*
 * fuzz_elf.c: libFuzzer target for the tender's ELF loader.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude \
 *       tests/fuzz/fuzz_elf.c tender/elf.c -o build/fuzz_elf
 *   mkdir -p build/elf-seeds
 *   ELF_TEST_WRITE_CORPUS=build/elf-seeds build/tests/test_elf
 *   build/fuzz_elf -max_total_time=30 build/elf-corpus build/elf-seeds
 *
 * Each input is an image.  It is loaded into a small guest memory whose
 * first HVT_GUEST_MIN_BASE bytes (the tender's own pages) and a guard page
 * past its end are PROT_NONE: any write there, which ASan cannot see
 * inside one mapping, crashes the run.  Accepted images are checked for
 * consistency and symbolized at a few addresses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../tender/elf.h"

#define MEMSZ (4ull << 20)
#define GUARD 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char *mem;

/* The input copied to a page-aligned buffer, like the tender's mmap. */
static unsigned char *
aligned_copy(const uint8_t *data, size_t size)
{
	unsigned char *p = aligned_alloc(4096, (size + 4095) & ~(size_t)4095);

	if (p == NULL)
		abort();
	if (size > 0)
		memcpy(p, data, size);
	return p;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct elf_image ei, ei2;
	unsigned char *img;
	char err[160], name[64];
	uint64_t off, probe[4];
	size_t k;

	if (mem == NULL) {
		mem = mmap(NULL, MEMSZ + GUARD, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (mem == MAP_FAILED ||
		    mprotect(mem, HVT_GUEST_MIN_BASE, PROT_NONE) == -1 ||
		    mprotect(mem + MEMSZ, GUARD, PROT_NONE) == -1)
			abort();
	}
	img = aligned_copy(data, size);

	if (elf_load(img, size, mem, MEMSZ, &ei, err, sizeof err) == 0) {
		/* Accepted: elf_check agrees, and the result is sane. */
		if (elf_check(img, size, MEMSZ, &ei2, err, sizeof err) != 0 ||
		    memcmp(&ei, &ei2, sizeof ei) != 0)
			abort();
		if (ei.kernel_end > MEMSZ || ei.entry < HVT_GUEST_MIN_BASE ||
		    ei.entry >= ei.kernel_end ||
		    ei.mft_size != 8 + ei.mft.entries * 104ull ||
		    ei.mft.entries > HVT_MFT_MAX_ENTRIES)
			abort();
		for (k = 0; k < ei.mft.entries; k++)
			if (memchr(ei.mft.e[k].name, 0,
			        sizeof ei.mft.e[k].name) == NULL)
				abort();
		probe[0] = ei.entry;
		probe[1] = ei.entry + 0x10;
		probe[2] = ei.kernel_end - 1;
		probe[3] = HVT_GUEST_MIN_BASE;
		for (k = 0; k < 4; k++)
			if (elf_symbolize(img, size, &ei, probe[k], name,
			        sizeof name, &off) == 0 &&
			    memchr(name, 0, sizeof name) == NULL)
				abort();
	} else if (err[0] == '\0') {
		abort(); /* every refusal says why */
	}
	free(img);
	return 0;
}
