/*
 * boot.c: from the entry stub to guest_main(), and the ABI1 note.
 *
 * Nothing here may be slow: boot-to-READY is measured in microseconds and
 * each hypercall costs several, so boot issues none.
 */
#include <stddef.h>
#include <stdint.h>

#include "rt.h"

#define RT_MAX_ARGS 64

/*
 * The Solo5 "ABI1" note: hvt target, ABI version 2.  The descriptor is
 * 4-byte aligned, so it follows the 20-byte header directly (Solo5's own
 * layout; loaders compute the descriptor offset the same way).
 */
struct rt_abi1_note {
	struct rt_note_hdr h;
	struct hvt_abi1_note d;
};

_Static_assert(offsetof(struct rt_abi1_note, d) == 20, "ABI1 note layout");

__attribute__((section(".note.solo5.abi"), used, aligned(4)))
const struct rt_abi1_note rt_abi1_note = {
    .h = {.namesz = sizeof(HVT_NOTE_NAME),
        .descsz = sizeof(struct hvt_abi1_note),
        .type = HVT_NOTE_ABI,
        .name = HVT_NOTE_NAME},
    .d = {.abi_target = HVT_ABI_TARGET, .abi_version = HVT_ABI_VERSION},
};

static const struct hvt_boot_info *boot_info;
static char *argv_buf[RT_MAX_ARGS + 1];

const struct hvt_boot_info *
rt_boot_info(void)
{
	return boot_info;
}

/*
 * Splits the words of copy (the command line: arguments after the image,
 * joined by spaces) into argv_buf, in place.  argv[0] is the platform's
 * name ("hvt", "virt") as the image name is not passed.
 */
static int
split_args(char *copy)
{
	char *p = copy;
	int argc = 0;

	argv_buf[argc++] = rt_plat_argv0;
	while (*p != '\0' && argc < RT_MAX_ARGS) {
		while (*p == ' ')
			*p++ = '\0';
		if (*p == '\0')
			break;
		argv_buf[argc++] = p;
		while (*p != ' ' && *p != '\0')
			p++;
	}
	argv_buf[argc] = NULL;
	return argc;
}

_Noreturn void
rt_start(struct hvt_boot_info *bi)
{
	const char *cmdline = (const char *)(uintptr_t)bi->cmdline;
	size_t len =
	    cmdline != NULL ? strnlen(cmdline, HVT_CMDLINE_SIZE - 1) : 0;

	boot_info = bi;
	rt_cpu_init();
	rt_time_init(bi);
	rt_alloc_init(bi);

	{
		/*
		 * The words are copied because the tender's low memory may be
		 * mapped read-only.  The copy lives in this frame, which never
		 * returns; a variable-length array (at most 8 KB) keeps it on
		 * the stack page already in use, where a heap buffer would
		 * cost one more first-touch page fault before READY.
		 */
		char copy[len + 1];

		int argc;

		memcpy(copy, cmdline, len);
		copy[len] = '\0';
		argc = split_args(copy);
		/* User mode goes on below this frame, so copy stays. */
		if (rt_user_mode && rt_plat_user_mode)
			rt_enter_user(argc, argv_buf);
		exit(guest_main(argc, argv_buf));
	}
}

_Noreturn void
rt_user_main(int argc, char **argv)
{
	exit(guest_main(argc, argv));
}
