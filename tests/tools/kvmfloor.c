/*
 * kvmfloor: the floor under any KVM tender's boot time on this host, as a
 * peer for tests/bench/boot.  The child is the least a monitor can do:
 * open /dev/kvm, create a VM with 2 MB of memory and one vCPU, run three
 * real-mode instructions until their first "out", and tell the parent
 * when (its CLOCK_MONOTONIC stamp).  The parent times fork -> that moment,
 * as tctl times spawn -> the tender's READY stamp.
 *
 *   kvmfloor N        run N boots, print median/p99/max in microseconds
 *   kvmfloor --child  (internal) one boot, its timestamp written to fd 3
 */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"
#include "tender/tender.h"

static int
child(void)
{
	/* mov $'!', %al; out %al, $0x10; hlt */
	static const uint8_t code[] = {0xb0, '!', 0xe6, 0x10, 0xf4};
	struct kvm_userspace_memory_region r;
	struct kvm_sregs s;
	struct kvm_regs g;
	struct kvm_run *run;
	uint64_t t;
	uint8_t *mem;
	int kvm, vm, cpu, sz;

	if ((kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0 ||
	    (vm = ioctl(kvm, KVM_CREATE_VM, 0)) < 0)
		return 1;
	mem = mmap(NULL, 2 << 20, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	memcpy(mem + 0x1000, code, sizeof(code));
	memset(&r, 0, sizeof(r));
	r.memory_size = 2 << 20;
	r.userspace_addr = (uint64_t)(uintptr_t)mem;
	if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r) < 0 ||
	    (cpu = ioctl(vm, KVM_CREATE_VCPU, 0)) < 0 ||
	    (sz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0)) <= 0)
		return 1;
	run =
	    mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, cpu, 0);
	if (run == MAP_FAILED || ioctl(cpu, KVM_GET_SREGS, &s) < 0)
		return 1;
	s.cs.base = 0;
	s.cs.selector = 0;
	if (ioctl(cpu, KVM_SET_SREGS, &s) < 0)
		return 1;
	memset(&g, 0, sizeof(g));
	g.rip = 0x1000;
	g.rflags = 0x2;
	if (ioctl(cpu, KVM_SET_REGS, &g) < 0 || ioctl(cpu, KVM_RUN, 0) < 0)
		return 1;
	if (run->exit_reason != KVM_EXIT_IO)
		return 1;
	t = tender_now_ns();
	return write(3, &t, sizeof(t)) == (ssize_t)sizeof(t) ? 0 : 1;
}

int
main(int argc, char **argv)
{
	uint64_t *lat;
	int n, i, ok = 0;

	if (argc == 2 && strcmp(argv[1], "--child") == 0)
		return child();
	if (argc != 2 || (n = atoi(argv[1])) <= 0) {
		fprintf(stderr, "usage: kvmfloor N\n");
		return 2;
	}
	lat = calloc((size_t)n, sizeof(*lat));
	for (i = 0; i < n; i++) {
		int p[2], st;
		uint64_t t0, t1;
		pid_t pid;

		if (pipe(p) < 0)
			return 1;
		t0 = tender_now_ns();
		if ((pid = fork()) == 0) {
			dup2(p[1], 3);
			execl(
			    "/proc/self/exe", argv[0], "--child", (char *)NULL);
			_exit(127);
		}
		close(p[1]);
		/* The child's own timestamp, as tctl uses the tender's: our
		 * wake-up is not part of its boot. */
		if (read(p[0], &t1, sizeof(t1)) == (ssize_t)sizeof(t1))
			lat[ok++] = t1 - t0;
		close(p[0]);
		waitpid(pid, &st, 0);
	}
	if (ok == 0) {
		fprintf(stderr, "kvmfloor: no boot succeeded\n");
		return 1;
	}
	printf("boots=%d\n", ok);
	stats_print("kvm-run", lat, ok);
	free(lat);
	return 0;
}
