/*
 * gmem.c: guest memory access.  Every guest address the tender follows goes
 * through gmem_ptr(), so a hostile guest can never make it touch host memory.
 */
#include "tender.h"

void *
gmem_ptr(const struct tender *t, uint64_t gpa, uint64_t len)
{
	if (gpa > t->mem_size || len > t->mem_size - gpa)
		return NULL;
	return t->mem + gpa;
}
