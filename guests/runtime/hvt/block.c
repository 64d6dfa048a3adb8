/*
 * block.c: BLOCK_BASIC devices.
 */
#include <stdint.h>

#include "rt.h"

int
rt_block_open(const char *name, struct rt_block *blk)
{
	const struct hvt_mft_entry *e;
	int i = rt_device_find(name, HVT_MFT_DEV_BLOCK_BASIC);

	if (i < 0)
		return -1;
	e = &rt_manifest_copy()->e[i];
	blk->handle = (uint64_t)i;
	blk->capacity = e->u.block_basic.capacity;
	blk->block_size = e->u.block_basic.block_size;
	return 0;
}

static int
block_io(
    int nr, const struct rt_block *blk, uint64_t off, uintptr_t buf, size_t len)
{
	struct hvt_hc_block_io io = {
	    .handle = blk->handle,
	    .offset = off,
	    .data = (uint64_t)buf,
	    .len = len,
	};

	hvt_hypercall(nr, &io);
	return io.ret;
}

int
rt_block_read(const struct rt_block *blk, uint64_t off, void *buf, size_t len)
{
	return block_io(HVT_HC_BLOCK_READ, blk, off, (uintptr_t)buf, len);
}

int
rt_block_write(
    const struct rt_block *blk, uint64_t off, const void *buf, size_t len)
{
	return block_io(HVT_HC_BLOCK_WRITE, blk, off, (uintptr_t)buf, len);
}
