/*
 * fuzz_config.c: libFuzzer target for the configuration parser.
 *   clang -fsanitize=fuzzer,address -Iinclude -I. tests/fuzz/fuzz_config.c \
 *     summoner/config.c build/obj/summoner/parse.c -Isummoner -lldns
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../../summoner/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c;
	FILE *fp;

	if (size == 0 ||
	    (fp = fmemopen((void *)(uintptr_t)data, size, "r")) == NULL)
		return 0;
	c = config_load_fp(fp, "fuzz", NULL);
	if (c != NULL) {
		FILE *null = fopen("/dev/null", "w");

		if (null != NULL) {
			config_print(c, null);
			fclose(null);
		}
	}
	config_free(c);
	fclose(fp);
	return 0;
}
