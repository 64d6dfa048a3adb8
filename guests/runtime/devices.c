/*
 * devices.c: finding manifest devices by name.
 *
 * The tender copies the manifest (with mac/mtu/capacity/block_size filled
 * in) into guest memory and points the boot info at it; the hypercall
 * handle of a device is its index there.
 */
#include <stdint.h>

#include "rt.h"

const struct hvt_mft *
rt_manifest_copy(void)
{
	const struct hvt_boot_info *bi = rt_boot_info();

	if (bi == NULL || bi->mft == 0)
		return NULL;
	return (const struct hvt_mft *)(uintptr_t)bi->mft;
}

int
rt_device_find(const char *name, uint32_t type)
{
	const struct hvt_mft *m = rt_manifest_copy();

	if (m == NULL || m->version != HVT_MFT_VERSION)
		return -1;
	for (uint32_t i = 0; i < m->entries && i < HVT_MFT_MAX_ENTRIES; i++) {
		const struct hvt_mft_entry *e = &m->e[i];

		if (e->type == type && e->attached &&
		    strncmp(e->name, name, sizeof(e->name)) == 0)
			return (int)i;
	}
	return -1;
}
