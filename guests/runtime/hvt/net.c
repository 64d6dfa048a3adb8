/*
 * net.c: NET_BASIC devices, one Ethernet frame per hypercall.
 */
#include <stdint.h>

#include "rt.h"

int
rt_net_open(const char *name, struct rt_net *net)
{
	const struct hvt_mft_entry *e;
	int i = rt_device_find(name, HVT_MFT_DEV_NET_BASIC);

	if (i < 0)
		return -1;
	e = &rt_manifest_copy()->e[i];
	net->handle = (uint64_t)i;
	memcpy(net->mac, e->u.net_basic.mac, sizeof(net->mac));
	net->mtu = e->u.net_basic.mtu;
	return 0;
}

int
rt_net_write(const struct rt_net *net, const void *frame, size_t len)
{
	struct hvt_hc_net_write w = {
	    .handle = net->handle,
	    .data = (uint64_t)(uintptr_t)frame,
	    .len = len,
	};

	hvt_hypercall(HVT_HC_NET_WRITE, &w);
	return w.ret;
}

int
rt_net_read(const struct rt_net *net, void *buf, size_t size, size_t *len)
{
	struct hvt_hc_net_read r = {
	    .handle = net->handle,
	    .data = (uint64_t)(uintptr_t)buf,
	    .len = size,
	};

	hvt_hypercall(HVT_HC_NET_READ, &r);
	if (r.ret != HVT_OK)
		*len = 0;
	else
		*len =
		    r.len <= size ? r.len : size; /* never trust it blindly */
	return r.ret;
}
