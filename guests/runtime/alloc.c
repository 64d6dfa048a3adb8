/*
 * alloc.c: a bump allocator for the little memory guests ever ask for.
 *
 * The heap runs from the end of the image to the top of guest memory (our
 * stack lives below the image, not up there).  Nothing is zeroed here:
 * guest memory starts out zero and is never handed out twice.
 */
#include <stdint.h>

#include "rt.h"

#define ALLOC_ALIGN 16

static uintptr_t heap_cur, heap_end;

void
rt_alloc_init(const struct hvt_boot_info *bi)
{
	uintptr_t start = (uintptr_t)_end;

	if (bi->kernel_end > start)
		start = (uintptr_t)bi->kernel_end;
	heap_cur = (start + ALLOC_ALIGN - 1) & ~(uintptr_t)(ALLOC_ALIGN - 1);
	heap_end = (uintptr_t)bi->mem_size;
	if (heap_end < heap_cur)
		heap_end = heap_cur;
}

void *
rt_alloc(size_t size)
{
	uintptr_t p = heap_cur;

	if (size > heap_end - heap_cur)
		return NULL;
	size = (size + ALLOC_ALIGN - 1) & ~(size_t)(ALLOC_ALIGN - 1);
	if (size > heap_end - heap_cur) /* rounding up may pass the end */
		return NULL;
	heap_cur += size;
	return (void *)p;
}
