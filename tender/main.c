/*
 * main.c: summoner-tender's command line and start-up.
 *
 * Order matters for boot latency: KVM objects first, then the image is
 * mapped (not read) and its segments copied straight into guest memory,
 * then devices, boot info, vCPU state, and the first KVM_RUN.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "elf.h"
#include "tender.h"
#include "vm.h"

static const char usage_text[] =
    "usage: summoner-tender [--mem=MB] [--net:NAME=IFACE|@FD]\n"
    "                       [--net-mac:NAME=xx:xx:xx:xx:xx:xx]\n"
    "                       [--block:NAME=PATH] [--control-fd=FD [--paused]]\n"
    "                       [--fault-dir=DIR] "
    "[--gdb=unix:PATH|tcp:127.0.0.1:PORT]\n"
    "                       IMAGE [ARGS...]\n";

static const char help_text[] =
    "\n"
    "Boot the static x86_64 ELF unikernel IMAGE on KVM, with the Solo5 hvt\n"
    "guest ABI (so Solo5 and MirageOS .hvt images boot unchanged) plus the\n"
    "summoner extensions for heartbeats, log lines and fault reports.  ARGS\n"
    "are joined by spaces and handed to the guest as its command line.\n"
    "\n"
    "Options:\n"
    "  --mem=MB             guest memory in MB (default 512, rounded down to\n"
    "                       2 MB, 2 MB to 4096 MB).  Backed lazily: only the\n"
    "                       pages the guest touches use host memory.\n"
    "  --net:NAME=IFACE     attach manifest net device NAME to the existing\n"
    "                       tap interface IFACE\n"
    "  --net:NAME=@FD       ... to the inherited descriptor FD (a tap fd, or\n"
    "                       a datagram socket carrying one frame per message)\n"
    "  --net-mac:NAME=xx:xx:xx:xx:xx:xx\n"
    "                       the guest's MAC on net device NAME (unicast;\n"
    "                       default: random, locally administered)\n"
    "  --block:NAME=PATH    attach manifest block device NAME to the file\n"
    "                       PATH (512-byte blocks; size rounded down)\n"
    "  --control-fd=FD      talk to the parent over the inherited socket FD\n"
    "                       with the framed protocol of "
    "docs/control-protocol.md\n"
    "                       (events up; stop, pause and resume down).  "
    "Without\n"
    "                       it, guest console output goes to stdout untouched\n"
    "                       and events are printed on stderr.\n"
    "  --paused             with --control-fd: load everything, send BOOTED "
    "and\n"
    "                       PAUSED, and hold the vCPU at the entry point "
    "until\n"
    "                       RESUME (a warm-pool tender: a summon costs one\n"
    "                       resume)\n"
    "  --gdb=unix:PATH      start with the gdb stub on a new unix socket\n"
    "                       (mode 0600) and hold the guest at its entry\n"
    "                       point until gdb continues; \"target remote PATH\"\n"
    "  --gdb=tcp:127.0.0.1:PORT\n"
    "                       ... on TCP, 127.0.0.1 only (PORT 0: any free\n"
    "                       port); the address is printed or sent as a GDB\n"
    "                       event.  After a fault the VM stays frozen for gdb\n"
    "  --fault-dir=DIR      on a guest fault, write the artifacts into DIR\n"
    "                       (created, mode 0700): core (an ELF core gdb\n"
    "                       loads with the image), report.json (registers,\n"
    "                       backtrace; docs/fault-report.md), console.txt\n"
    "  -h, --help           print this help and exit\n"
    "\n"
    "Every device in the image's manifest must be attached, and every device\n"
    "attached must be in the manifest.\n"
    "\n"
    "Exit status:\n"
    "  0..255  the guest's own status from HALT (0 success, 1 failure, 255\n"
    "          abort), as with solo5-hvt\n"
    "  64      bad command line\n"
    "  65      image or manifest refused (malformed or hostile ELF, device\n"
    "          missing from or not in the manifest)\n"
    "  66      image, block file or tap device could not be opened\n"
    "  69      /dev/kvm missing or unusable\n"
    "  70      internal error of the tender\n"
    "  80      the guest faulted (exception, triple fault, bad hypercall, KVM\n"
    "          error); the fault is printed or sent as a FAULT event\n"
    "  81      stopped by a STOP command, SIGTERM or SIGINT\n";

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("summoner-tender: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static void __attribute__((noreturn)) usage(const char *why)
{
	if (why != NULL)
		fprintf(stderr, "summoner-tender: %s\n", why);
	fputs(usage_text, stderr);
	fputs("Try 'summoner-tender --help' for more information.\n", stderr);
	exit(TENDER_EXIT_USAGE);
}

static unsigned long
parse_num(const char *s, const char *what, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	if (*s < '0' || *s > '9')
		die(TENDER_EXIT_USAGE, "%s: not a number: '%s'", what, s);
	v = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		die(TENDER_EXIT_USAGE, "%s: '%s' is not a number up to %lu",
		    what, s, max);
	return v;
}

struct net_mac {
	char name[HVT_MFT_NAME_SIZE];
	uint8_t mac[6];
};

struct options {
	unsigned long mem_mb;
	struct net_mac macs[TENDER_MAX_DEVICES];
	unsigned nmacs;
	int ctl_fd;
	bool paused;
	const char *fault_dir;
	const char *gdb;
	struct tender_dev devs[TENDER_MAX_DEVICES];
	unsigned ndevs;
	const char *image;
	char cmdline[HVT_CMDLINE_SIZE];
};

/* --net:NAME=ARG / --block:NAME=ARG */
static void
parse_dev(struct options *o, const char *opt, uint32_t type, const char *spec)
{
	const char *eq = strchr(spec, '=');
	struct tender_dev *d;
	size_t namelen;
	unsigned i;

	if (eq == NULL || eq == spec || eq[1] == '\0')
		die(TENDER_EXIT_USAGE, "%s: expected %sNAME=%s", opt, opt,
		    type == HVT_MFT_DEV_NET_BASIC ? "IFACE|@FD" : "PATH");
	namelen = (size_t)(eq - spec);
	if (namelen >= HVT_MFT_NAME_SIZE)
		die(TENDER_EXIT_USAGE, "%s: device name longer than %d", opt,
		    HVT_MFT_NAME_SIZE - 1);
	if (o->ndevs == TENDER_MAX_DEVICES)
		die(TENDER_EXIT_USAGE, "more than %d devices",
		    TENDER_MAX_DEVICES);
	d = &o->devs[o->ndevs];
	memcpy(d->name, spec, namelen);
	d->name[namelen] = '\0';
	for (i = 0; i < o->ndevs; i++)
		if (strcmp(o->devs[i].name, d->name) == 0)
			die(TENDER_EXIT_USAGE, "device '%s' given twice",
			    d->name);
	d->type = type;
	d->arg = eq + 1;
	d->fd = -1;
	o->ndevs++;
}

/* --net-mac:NAME=xx:xx:xx:xx:xx:xx (the spelling of Solo5's tender) */
static void
parse_mac(struct options *o, const char *spec)
{
	const char *eq = strchr(spec, '='), *p;
	struct net_mac *m;
	size_t namelen;
	unsigned i;

	if (eq == NULL || eq == spec)
		die(TENDER_EXIT_USAGE,
		    "--net-mac: expected --net-mac:NAME=xx:xx:xx:xx:xx:xx");
	namelen = (size_t)(eq - spec);
	if (namelen >= HVT_MFT_NAME_SIZE)
		die(TENDER_EXIT_USAGE, "--net-mac: device name longer than %d",
		    HVT_MFT_NAME_SIZE - 1);
	if (o->nmacs == TENDER_MAX_DEVICES)
		die(TENDER_EXIT_USAGE, "more than %d --net-mac",
		    TENDER_MAX_DEVICES);
	m = &o->macs[o->nmacs];
	memcpy(m->name, spec, namelen);
	m->name[namelen] = '\0';
	for (i = 0; i < o->nmacs; i++)
		if (strcmp(o->macs[i].name, m->name) == 0)
			die(TENDER_EXIT_USAGE,
			    "--net-mac: device '%s' given twice", m->name);
	/* Exactly six pairs of hex digits, colon-separated. */
	p = eq + 1;
	for (i = 0; i < 6; i++, p += 3) {
		int hi = tender_hexval(p[0]), lo;

		/* p[1] is read only after p[0] proved to be no NUL. */
		if (hi < 0 || (lo = tender_hexval(p[1])) < 0 ||
		    p[2] != (i == 5 ? '\0' : ':'))
			goto bad;
		m->mac[i] = (uint8_t)(hi << 4 | lo);
	}
	if (m->mac[0] & 1)
		die(TENDER_EXIT_USAGE,
		    "--net-mac: %s is a multicast address: a guest needs a "
		    "unicast MAC",
		    eq + 1);
	o->nmacs++;
	return;
bad:
	die(TENDER_EXIT_USAGE,
	    "--net-mac: '%s' is not a MAC (xx:xx:xx:xx:xx:xx)", eq + 1);
}

/* Hand each --net-mac to its --net device. */
static void
apply_macs(struct options *o)
{
	unsigned i, j;

	for (i = 0; i < o->nmacs; i++) {
		for (j = 0; j < o->ndevs; j++)
			if (o->devs[j].type == HVT_MFT_DEV_NET_BASIC &&
			    strcmp(o->devs[j].name, o->macs[i].name) == 0)
				break;
		if (j == o->ndevs)
			die(TENDER_EXIT_USAGE,
			    "--net-mac:%s: no --net:%s=... device given",
			    o->macs[i].name, o->macs[i].name);
		memcpy(o->devs[j].mac, o->macs[i].mac, 6);
		o->devs[j].mac_set = true;
	}
}

static void
parse_args(struct options *o, int argc, char **argv)
{
	size_t len = 0;
	int i;

	o->mem_mb = TENDER_MEM_DEFAULT_MB;
	o->ctl_fd = -1;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			exit(0);
		} else if (strncmp(a, "--mem=", 6) == 0)
			o->mem_mb = parse_num(a + 6, "--mem", 4096);
		else if (strncmp(a, "--control-fd=", 13) == 0)
			o->ctl_fd =
			    (int)parse_num(a + 13, "--control-fd", INT_MAX);
		else if (strcmp(a, "--paused") == 0)
			o->paused = true;
		else if (strncmp(a, "--fault-dir=", 12) == 0 && a[12] != '\0')
			o->fault_dir = a + 12;
		else if (strncmp(a, "--gdb=", 6) == 0 && a[6] != '\0')
			o->gdb = a + 6;
		else if (strncmp(a, "--net-mac:", 10) == 0)
			parse_mac(o, a + 10);
		else if (strncmp(a, "--net:", 6) == 0)
			parse_dev(o, "--net:", HVT_MFT_DEV_NET_BASIC, a + 6);
		else if (strncmp(a, "--block:", 8) == 0)
			parse_dev(
			    o, "--block:", HVT_MFT_DEV_BLOCK_BASIC, a + 8);
		else if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (a[0] == '-' && a[1] != '\0') {
			fprintf(stderr,
			    "summoner-tender: unknown option '%s'\n", a);
			usage(NULL);
		} else
			break;
	}
	if (i >= argc)
		usage("no image given");
	o->image = argv[i++];
	if ((o->mem_mb << 20) < TENDER_MEM_MIN)
		die(TENDER_EXIT_USAGE, "--mem: at least %llu MB",
		    TENDER_MEM_MIN >> 20);
	for (; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (len + n + (len ? 1 : 0) >= sizeof(o->cmdline))
			die(TENDER_EXIT_USAGE,
			    "guest arguments longer than %d bytes",
			    HVT_CMDLINE_SIZE - 1);
		if (len)
			o->cmdline[len++] = ' ';
		memcpy(o->cmdline + len, argv[i], n);
		len += n;
	}
	o->cmdline[len] = '\0';
	apply_macs(o);
	if (o->paused && o->ctl_fd < 0)
		die(TENDER_EXIT_USAGE, "--paused needs --control-fd");
	if (o->ctl_fd >= 0 && fcntl(o->ctl_fd, F_GETFD) < 0)
		die(TENDER_EXIT_USAGE, "--control-fd=%d: %s", o->ctl_fd,
		    strerror(errno));
}

/*
 * Match the manifest against the devices on the command line, open them,
 * fill in what the guest learns about each, and index them by handle.
 */
static void
attach_devices(struct tender *t, struct options *o, struct hvt_mft *mft)
{
	char err[256];
	unsigned i, j;

	for (j = 0; j < o->ndevs; j++) {
		for (i = 0; i < mft->entries; i++)
			if (mft->e[i].type != ELF_MFT_RESERVED_FIRST &&
			    strcmp(mft->e[i].name, o->devs[j].name) == 0)
				break;
		if (i == mft->entries)
			die(TENDER_EXIT_IMAGE,
			    "device '%s' is not in the image's manifest",
			    o->devs[j].name);
		if (mft->e[i].type != o->devs[j].type)
			die(TENDER_EXIT_IMAGE,
			    "device '%s' is a %s device in the manifest",
			    o->devs[j].name,
			    mft->e[i].type == HVT_MFT_DEV_NET_BASIC ? "net"
			                                            : "block");
	}
	for (i = 0; i < mft->entries; i++) {
		struct hvt_mft_entry *e = &mft->e[i];
		struct tender_dev *d = NULL;

		if (e->type == ELF_MFT_RESERVED_FIRST) {
			/* Solo5 toolchains' placeholder: not a device. */
			e->attached = 1;
			continue;
		}

		for (j = 0; j < o->ndevs; j++)
			if (strcmp(e->name, o->devs[j].name) == 0)
				d = &o->devs[j];
		if (d == NULL)
			die(TENDER_EXIT_IMAGE,
			    "the image needs %s device '%s': attach it with "
			    "%s%s=...",
			    e->type == HVT_MFT_DEV_NET_BASIC ? "net" : "block",
			    e->name,
			    e->type == HVT_MFT_DEV_NET_BASIC ? "--net:"
			                                     : "--block:",
			    e->name);
		if (dev_open(d, err, sizeof(err)) < 0)
			die(TENDER_EXIT_NOINPUT, "%s", err);
		if (d->type == HVT_MFT_DEV_BLOCK_BASIC) {
			e->u.block_basic.capacity = d->capacity;
			e->u.block_basic.block_size = d->block_size;
		} else {
			memcpy(e->u.net_basic.mac, d->mac, sizeof(d->mac));
			e->u.net_basic.mtu = d->mtu;
		}
		e->b.hostfd = d->fd;
		e->attached = 1;
		t->dev_by_handle[i] = d;
	}
	t->ndev_handles = mft->entries;
}

int
main(int argc, char **argv)
{
	static struct options o;
	static struct tender t;
	struct vm vm;
	struct elf_image ei;
	struct hvt_boot_info *bi;
	struct hvt_mft *mft;
	struct stat st;
	char err[512];
	uint64_t mft_gpa, cmd_gpa;
	void *img;
	int fd;

	t.t_start = tender_now_ns();
	t.ctl_fd = t.cmd_rd = t.cmd_wr = -1;
	parse_args(&o, argc, argv);
	t.ctl_fd = o.ctl_fd;
	t.fault_dir = o.fault_dir;
	t.gdb_spec = o.gdb;
	t.image_path = o.image;
	t.mem_size = ((uint64_t)o.mem_mb << 20) & ~((2ull << 20) - 1);
	if (t.mem_size > TENDER_MEM_MAX)
		t.mem_size = TENDER_MEM_MAX;

	if ((fd = open(o.image, O_RDONLY | O_CLOEXEC)) < 0)
		die(TENDER_EXIT_NOINPUT, "%s: %s", o.image, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		die(TENDER_EXIT_IMAGE, "%s: not a regular, non-empty file",
		    o.image);
	img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (img == MAP_FAILED)
		die(TENDER_EXIT_NOINPUT, "%s: %s", o.image, strerror(errno));
	close(fd);

	if (vm_create(&vm, &t, err, sizeof(err)) < 0)
		die(TENDER_EXIT_KVM, "%s", err);
	if (elf_load(img, (size_t)st.st_size, t.mem, t.mem_size, &ei, err,
	        sizeof(err)) < 0)
		die(TENDER_EXIT_IMAGE, "%s: %s", o.image, err);

	/* Boot info, then the manifest copy, then the command line. */
	bi = (struct hvt_boot_info *)(t.mem + HVT_BOOT_INFO_BASE);
	mft_gpa = HVT_BOOT_INFO_BASE + sizeof(*bi);
	mft = (struct hvt_mft *)(t.mem + mft_gpa);
	memcpy(mft, &ei.mft, ei.mft_size);
	cmd_gpa = (mft_gpa + ei.mft_size + 7) & ~7ull;
	attach_devices(&t, &o, mft);
	memcpy(t.mem + cmd_gpa, o.cmdline, strlen(o.cmdline) + 1);
	/* The image stays mapped (read-only, shared with the page cache):
	 * fault capture symbolises backtraces from its symbol table. */
	t.img = img;
	t.imglen = (size_t)st.st_size;
	t.ei = ei;

	bi->mem_size = t.mem_size;
	bi->kernel_end = ei.kernel_end;
	bi->cpu_cycle_freq = vm_tsc_hz(&vm);
	bi->cmdline = cmd_gpa;
	bi->mft = mft_gpa;
	if (vm_setup_vcpu(&vm, &t, ei.entry, err, sizeof(err)) < 0)
		die(TENDER_EXIT_KVM, "%s", err);
	/* The kick handler first: a command may arrive the moment the
	 * control thread runs, also while we wait paused below. */
	control_set_kick(&vm.run->immediate_exit);
	if (control_start(&t) < 0)
		die(TENDER_EXIT_INTERNAL, "control channel: %s",
		    strerror(errno));
	ev_booted(&t, ei.entry, ei.kernel_end);
	if (o.paused) {
		/* Warm pool: everything is loaded; wait for RESUME (or STOP)
		 * before the first KVM_RUN. */
		t.paused = true;
		ev_paused(&t, true);
		control_apply(&t);
	}
	vm_run(&vm, &t);
}
