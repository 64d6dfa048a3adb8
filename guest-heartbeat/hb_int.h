/*
 * hb_int.h: shared between the heartbeat library's own files only.
 */
#ifndef SUMMONER_HB_INT_H
#define SUMMONER_HB_INT_H

#include <stdint.h>

#include "heartbeat.h"

/* The transport every call uses (never NULL). */
const struct hb_transport *hb__transport(void);

/*
 * capture.c: the register frame hb_fault()/hb_dump() fill in before they
 * call hb__report() with the message and the frame's kind.
 */
extern struct hvt_x_frame hb__frame;
void hb__report(const char *msg, uint32_t kind);

#endif /* SUMMONER_HB_INT_H */
