/*
 * blk: exercises a BLOCK_BASIC device named "storage".
 *
 *   blk.hvt [LBA TEXT]
 *
 * Writes a fresh pattern (seeded from the clock, so stale data from an
 * earlier run cannot pass) to the last TEST_BLOCKS blocks, one request per
 * block, reads them back in a single multi-block request and compares;
 * sends one misaligned read and expects HVT_EINVAL; with LBA TEXT, also
 * checks that block LBA (written by the test beforehand) starts with
 * TEXT.  Prints "blk: OK <n> blocks" and exits 0, or prints what went
 * wrong ("blk: FAIL ...") and exits 1.
 */
#include <stdint.h>

#include <heartbeat.h>
#include <runtime.h>

RT_MANIFEST(1, RT_MFT_BLOCK("storage"));

#define TEST_BLOCKS 8

static uint8_t
pattern(uint64_t lba, size_t i, uint8_t seed)
{
	return (uint8_t)(lba * 131 + i * 7 + seed);
}

static int
fail(const char *what, int ret)
{
	printf("blk: FAIL %s (ret %d)\n", what, ret);
	return 1;
}

static int
check_prewritten(
    const struct rt_block *blk, uint8_t *buf, const char *arg, const char *text)
{
	uint64_t lba = strtoul(arg, NULL, 0);
	size_t len = strlen(text);
	int r;

	if (lba >= blk->capacity / blk->block_size || len > blk->block_size)
		return fail("pre-written block out of range", 0);
	if ((r = rt_block_read(
	         blk, lba * blk->block_size, buf, blk->block_size)) != HVT_OK)
		return fail("read of the pre-written block", r);
	if (memcmp(buf, text, len) != 0) {
		printf("blk: FAIL block %llu does not start with \"%s\"\n",
		    (unsigned long long)lba, text);
		return 1;
	}
	printf("blk: block %llu holds \"%s\"\n", (unsigned long long)lba, text);
	return 0;
}

int
guest_main(int argc, char **argv)
{
	struct rt_block blk;
	uint64_t nblocks, first;
	uint8_t *wbuf, *rbuf, seed;
	size_t bs, i;
	int r;

	hb_ready();
	if (rt_block_open("storage", &blk) < 0)
		return fail("no block device \"storage\"", 0);
	bs = blk.block_size;
	nblocks = bs != 0 ? blk.capacity / bs : 0;
	printf("blk: capacity %llu bytes, block size %zu\n",
	    (unsigned long long)blk.capacity, bs);
	if (nblocks < TEST_BLOCKS + 1)
		return fail("device too small", 0);
	first = nblocks - TEST_BLOCKS;

	wbuf = rt_alloc(bs * TEST_BLOCKS);
	rbuf = rt_alloc(bs * TEST_BLOCKS);
	if (wbuf == NULL || rbuf == NULL)
		return fail("out of memory", 0);
	seed = (uint8_t)(rt_monotonic_ns() >> 10);

	for (uint64_t b = 0; b < TEST_BLOCKS; b++) {
		uint8_t *p = wbuf + b * bs;

		for (i = 0; i < bs; i++)
			p[i] = pattern(first + b, i, seed);
		if ((r = rt_block_write(&blk, (first + b) * bs, p, bs)) !=
		    HVT_OK)
			return fail("write", r);
	}
	if ((r = rt_block_read(&blk, first * bs, rbuf, bs * TEST_BLOCKS)) !=
	    HVT_OK)
		return fail("read back", r);
	for (i = 0; i < bs * TEST_BLOCKS; i++) {
		if (rbuf[i] != wbuf[i]) {
			printf("blk: FAIL mismatch at block %llu byte %zu: "
			       "wrote 0x%02x, read 0x%02x\n",
			    (unsigned long long)(first + i / bs), i % bs,
			    wbuf[i], rbuf[i]);
			return 1;
		}
	}

	r = rt_block_read(&blk, first * bs + 1, rbuf, bs);
	if (r != HVT_EINVAL)
		return fail("misaligned read was not refused with EINVAL", r);
	printf("blk: misaligned read refused (EINVAL)\n");

	if (argc > 2 && check_prewritten(&blk, rbuf, argv[1], argv[2]) != 0)
		return 1;

	printf("blk: OK %d blocks\n", TEST_BLOCKS);
	return 0;
}
