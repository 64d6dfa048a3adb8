/*
 * transport_hvt.c: the default transport, summoner's hvt hypercalls.
 *
 * The library issues its hypercalls itself (rather than through a
 * runtime) so that any unikernel running under summoner-tender can link it.
 */
#include <stddef.h>
#include <stdint.h>

#include "hb_int.h"

static int
hvt_text(int nr, const char *s, size_t len)
{
	struct hvt_hc_x_text t = {
	    .data = (uint64_t)(uintptr_t)s,
	    .len = len,
	};

	hvt_hypercall(nr, &t);
	return t.ret == HVT_OK ? 0 : -1;
}

static int
hvt_notify(const char *msg, size_t len)
{
	return hvt_text(HVT_HC_X_NOTIFY, msg, len);
}

static int
hvt_log(const char *line, size_t len)
{
	return hvt_text(HVT_HC_X_LOG, line, len);
}

static int
hvt_frame(const struct hvt_x_frame *f)
{
	struct hvt_hc_x_fault x = {.frame = (uint64_t)(uintptr_t)f};

	hvt_hypercall(
	    f->kind == HVT_X_FAULT_DUMP ? HVT_HC_X_DUMP : HVT_HC_X_FAULT, &x);
	return x.ret == HVT_OK ? 0 : -1;
}

static void
hvt_halt(int status)
{
	struct hvt_hc_halt h = {.exit_status = status};

	hvt_hypercall(HVT_HC_HALT, &h);
}

const struct hb_transport hb_transport_hvt = {
    .name = "hvt",
    .notify = hvt_notify,
    .log = hvt_log,
    .frame = hvt_frame,
    .halt = hvt_halt,
};
