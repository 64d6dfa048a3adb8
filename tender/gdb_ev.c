/*
 * gdb_ev.c: the GDB event (where the stub listens), kept out of events.c so
 * that the stub is one self-contained module.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "tender.h"

void
ev_gdb(struct tender *t, const char *where, size_t len)
{
	struct ctl_text x = {.t_ns = tender_now_ns()};
	uint8_t buf[CTL_HDR_SIZE + sizeof(x) + CTL_MAX_TEXT];
	const uint8_t *p = buf;
	ssize_t n;
	int total;

	if (t->ctl_fd < 0) {
		fprintf(stderr, "summoner-tender: gdb: target remote %.*s\n",
		    (int)len, where);
		fflush(stderr);
		return;
	}
	total =
	    ctl_encode(buf, sizeof(buf), CTL_GDB, &x, sizeof(x), where, len);
	if (total < 0) {
		fprintf(stderr, "summoner-tender: cannot encode gdb: %s\n",
		    ctl_strerror(total));
		return;
	}
	while (total > 0) {
		n = write(t->ctl_fd, p, (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(
			    TENDER_EXIT_STOPPED); /* as events.c: parent gone */
		p += n;
		total -= (int)n;
	}
}
