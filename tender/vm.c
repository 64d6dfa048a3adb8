/*
 * vm.c: the KVM side of the tender: one VM, one memory slot, one vCPU that
 * starts in 64-bit long mode at the image's entry point (the hvt ABI of
 * ../shared/hvt-abi-facts.md), and the loop that runs it.
 *
 * Boot speed matters (a summon waits for it), so set-up is a handful of
 * ioctls and writes to at most a dozen guest pages: guest memory is an
 * anonymous mapping that the kernel backs only where the guest (or the
 * loader) touches it.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gdb.h"
#include "tender.h"
#include "vm.h"

#define PTE_P  0x1ull
#define PTE_RW 0x2ull
#define PTE_US 0x4ull
#define PTE_PS 0x80ull

#define CR0_PE         0x1ull
#define CR0_NE         0x20ull
#define CR0_WP         0x10000ull
#define CR0_PG         0x80000000ull
#define CR4_PAE        0x20ull
#define CR4_OSFXSR     0x200ull
#define CR4_OSXMMEXCPT 0x400ull
#define EFER_LME       0x100ull
#define EFER_LMA       0x400ull

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS  0x18

static void *fetch_cpuid(void *arg);

int
vm_create(struct vm *vm, struct tender *t, char *err, size_t errsz)
{
	struct kvm_userspace_memory_region region;
	int api, mmap_size;

	vm->kvm_fd = vm->vm_fd = vm->vcpu_fd = -1;
	vm->run = NULL;
	if ((vm->kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC)) < 0) {
		snprintf(err, errsz, "/dev/kvm: %s", strerror(errno));
		return -1;
	}
	if ((api = ioctl(vm->kvm_fd, KVM_GET_API_VERSION, 0)) !=
	    KVM_API_VERSION) {
		snprintf(err, errsz, "KVM API version %d, expected %d", api,
		    KVM_API_VERSION);
		return -1;
	}
	vm->cpuid = NULL;
	vm->cpuid_started =
	    pthread_create(&vm->cpuid_thread, NULL, fetch_cpuid, vm) == 0;
	if ((vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0)) < 0) {
		snprintf(err, errsz, "KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}

	t->mem = mmap(NULL, t->mem_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (t->mem == MAP_FAILED) {
		t->mem = NULL;
		snprintf(err, errsz, "guest memory (%llu MB): %s",
		    (unsigned long long)(t->mem_size >> 20), strerror(errno));
		return -1;
	}
	/* Small pages only: a huge page would back 2 MB for one touched byte,
	 * and a guest's footprint is what it touches. */
	(void)madvise(t->mem, t->mem_size, MADV_NOHUGEPAGE);

	memset(&region, 0, sizeof(region));
	region.slot = 0;
	region.guest_phys_addr = 0;
	region.memory_size = t->mem_size;
	region.userspace_addr = (uint64_t)(uintptr_t)t->mem;
	if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
		snprintf(err, errsz, "KVM_SET_USER_MEMORY_REGION: %s",
		    strerror(errno));
		return -1;
	}
	if ((vm->vcpu_fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, 0)) < 0) {
		snprintf(err, errsz, "KVM_CREATE_VCPU: %s", strerror(errno));
		return -1;
	}
	mmap_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (mmap_size < (int)sizeof(struct kvm_run)) {
		snprintf(
		    err, errsz, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -1;
	}
	vm->run_size = (size_t)mmap_size;
	vm->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
	    vm->vcpu_fd, 0);
	if (vm->run == MAP_FAILED) {
		vm->run = NULL;
		snprintf(err, errsz, "mmap kvm_run: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* GDT, page tables: the low memory the hvt ABI says the tender owns. */
static void
setup_low_memory(struct tender *t)
{
	uint64_t *gdt = (uint64_t *)(t->mem + HVT_GDT_BASE);
	uint64_t *pml4 = (uint64_t *)(t->mem + HVT_PML4_BASE);
	uint64_t *pdpt = (uint64_t *)(t->mem + HVT_PDPT_BASE);
	uint64_t *pd = (uint64_t *)(t->mem + HVT_PD_BASE);
	uint64_t *pt = (uint64_t *)(t->mem + HVT_PT_BASE);
	uint64_t addr, gb;
	unsigned i;

	gdt[0] = 0;
	gdt[1] = 0x00af9b000000ffffull; /* 64-bit code, DPL 0 */
	gdt[2] = 0x00cf93000000ffffull; /* data */
	gdt[3] = 0x00008b0000000067ull; /* busy 64-bit TSS at 0, low half */
	gdt[4] = 0;                     /* ... high half */

	/*
	 * Every page is also a user page (PTE_US; SMEP and SMAP stay off, so
	 * supervisor code is unaffected): our runtime may run the guest's
	 * program at CPL 3, which some nested hosts execute natively while
	 * they emulate CPL 0 instruction by instruction (docs/tender.md).
	 */
	pml4[0] = HVT_PDPT_BASE | PTE_P | PTE_RW | PTE_US;
	for (gb = 0; gb < (t->mem_size + (1ull << 30) - 1) >> 30; gb++)
		pdpt[gb] =
		    (HVT_PD_BASE + gb * 0x1000) | PTE_P | PTE_RW | PTE_US;
	/* 2 MB pages; pd[] spans the four consecutive PDs. */
	pd[0] = HVT_PT_BASE | PTE_P | PTE_RW | PTE_US;
	for (addr = 2ull << 20, i = 1; addr < t->mem_size; addr += 2ull << 20)
		pd[i++] = addr | PTE_P | PTE_RW | PTE_PS | PTE_US;
	/* First 2 MB in 4 KB pages: nothing below the boot info (so a null
	 * pointer faults), read-only up to 1 MB, read-write above. */
	for (i = HVT_BOOT_INFO_BASE >> 12; i < 512; i++) {
		addr = (uint64_t)i << 12;
		pt[i] = addr | PTE_P | PTE_US |
		        (addr >= HVT_GUEST_MIN_BASE ? PTE_RW : 0);
	}
}

static void
set_seg(struct kvm_segment *s, uint16_t sel, uint8_t type, int code)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->type = type;
	s->present = 1;
	s->limit = 0xffffffff;
	s->g = 1;
	s->s = 1;
	s->l = code ? 1 : 0;
	s->db = code ? 0 : 1;
}

/*
 * KVM's default CPUID tells the guest nothing; hand it what KVM supports,
 * as solo5-hvt does, so SSE and friends are advertised.  Asking KVM costs
 * a good part of the whole boot on a nested host (each CPUID leaf traps to
 * the outer hypervisor), so a helper thread asks while the main thread
 * creates the VM and loads the image; vm_setup_vcpu() collects the answer.
 */
static void *
fetch_cpuid(void *arg)
{
	struct vm *vm = arg;
	struct kvm_cpuid2 *c;
	unsigned n = 100;

	for (;;) {
		c = calloc(1, sizeof(*c) + n * sizeof(c->entries[0]));
		if (c == NULL) {
			vm->cpuid_errno = ENOMEM;
			return NULL;
		}
		c->nent = n;
		if (ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0) {
			vm->cpuid = c;
			return NULL;
		}
		vm->cpuid_errno = errno;
		free(c);
		if (vm->cpuid_errno != E2BIG || n >= 1600)
			return NULL;
		n *= 2;
	}
}

static int
setup_cpuid(struct vm *vm, char *err, size_t errsz)
{
	int r = 0;

	if (vm->cpuid_started)
		pthread_join(vm->cpuid_thread, NULL);
	else
		fetch_cpuid(vm);
	vm->cpuid_started = false;
	if (vm->cpuid == NULL) {
		snprintf(err, errsz, "KVM_GET_SUPPORTED_CPUID: %s",
		    strerror(vm->cpuid_errno));
		return -1;
	}
	if (ioctl(vm->vcpu_fd, KVM_SET_CPUID2, vm->cpuid) < 0) {
		snprintf(err, errsz, "KVM_SET_CPUID2: %s", strerror(errno));
		r = -1;
	}
	free(vm->cpuid);
	vm->cpuid = NULL;
	return r;
}

int
vm_setup_vcpu(
    struct vm *vm, struct tender *t, uint64_t entry, char *err, size_t errsz)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs;

	setup_low_memory(t);
	if (setup_cpuid(vm, err, errsz) < 0)
		return -1;
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &sregs) < 0) {
		snprintf(err, errsz, "KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	set_seg(&sregs.cs, SEL_CODE, 0xb, 1);
	set_seg(&sregs.ds, SEL_DATA, 0x3, 0);
	sregs.es = sregs.fs = sregs.gs = sregs.ss = sregs.ds;
	memset(&sregs.tr, 0, sizeof(sregs.tr));
	sregs.tr.selector = SEL_TSS;
	sregs.tr.type = 0xb;
	sregs.tr.present = 1;
	sregs.tr.limit = 0x67;
	sregs.gdt.base = HVT_GDT_BASE;
	sregs.gdt.limit = 5 * 8 - 1;
	sregs.idt.base = 0;
	sregs.idt.limit = 0;
	sregs.cr0 = CR0_PE | CR0_NE | CR0_WP | CR0_PG;
	sregs.cr3 = HVT_PML4_BASE;
	sregs.cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
	sregs.efer = EFER_LME | EFER_LMA;
	if (ioctl(vm->vcpu_fd, KVM_SET_SREGS, &sregs) < 0) {
		snprintf(err, errsz, "KVM_SET_SREGS: %s", strerror(errno));
		return -1;
	}
	memset(&regs, 0, sizeof(regs));
	regs.rip = entry;
	regs.rflags = 0x2;
	regs.rsp = t->mem_size - 8;
	regs.rdi = HVT_BOOT_INFO_BASE;
	if (ioctl(vm->vcpu_fd, KVM_SET_REGS, &regs) < 0) {
		snprintf(err, errsz, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

uint64_t
vm_tsc_hz(struct vm *vm)
{
	int khz = ioctl(vm->vcpu_fd, KVM_GET_TSC_KHZ, 0);

	return khz > 0 ? (uint64_t)khz * 1000 : 0;
}

static void
get_seg(struct fault_seg *d, const struct kvm_segment *s)
{
	d->base = s->base;
	d->limit = s->limit;
	d->selector = s->selector;
	d->type = s->type;
	d->flags = (s->present ? 0x1 : 0) | (s->l ? 0x2 : 0) |
	           (s->db ? 0x4 : 0) | (s->g ? 0x8 : 0) | (s->s ? 0x10 : 0);
}

/*
 * Read the frozen vCPU into t->cap.cpu, and fill the registers of t->fault
 * that the guest did not report itself from it, saying where each came
 * from.
 */
static void
capture_regs(struct vm *vm, struct tender *t)
{
	struct ctl_fault *f = &t->fault;
	struct fault_cpu *c = &t->cap.cpu;
	struct kvm_regs r;
	struct kvm_sregs s;
	bool guest = (f->source & CTL_REGS_GUEST) != 0;
	bool full_frame = guest && !t->frame_partial;

	memset(c, 0, sizeof(*c));
	if (ioctl(vm->vcpu_fd, KVM_GET_SREGS, &s) == 0) {
		c->sregs_valid = true;
		get_seg(&c->seg[FAULT_SEG_CS], &s.cs);
		get_seg(&c->seg[FAULT_SEG_SS], &s.ss);
		get_seg(&c->seg[FAULT_SEG_DS], &s.ds);
		get_seg(&c->seg[FAULT_SEG_ES], &s.es);
		get_seg(&c->seg[FAULT_SEG_FS], &s.fs);
		get_seg(&c->seg[FAULT_SEG_GS], &s.gs);
		c->cr0 = s.cr0;
		c->cr2 = s.cr2;
		c->cr3 = s.cr3;
		c->cr4 = s.cr4;
		c->efer = s.efer;
		f->ds = s.ds.selector;
		f->es = s.es.selector;
		f->fs = s.fs.selector;
		f->gs = s.gs.selector;
		if (!guest) {
			f->cs = s.cs.selector;
			f->ss = s.ss.selector;
			f->cr2 = s.cr2;
		}
	}
	if (ioctl(vm->vcpu_fd, KVM_GET_REGS, &r) < 0)
		return;
	c->regs_valid = true;
	c->regs[HVT_X_RAX] = r.rax;
	c->regs[HVT_X_RBX] = r.rbx;
	c->regs[HVT_X_RCX] = r.rcx;
	c->regs[HVT_X_RDX] = r.rdx;
	c->regs[HVT_X_RSI] = r.rsi;
	c->regs[HVT_X_RDI] = r.rdi;
	c->regs[HVT_X_RBP] = r.rbp;
	c->regs[HVT_X_RSP] = r.rsp;
	c->regs[HVT_X_R8] = r.r8;
	c->regs[HVT_X_R9] = r.r9;
	c->regs[HVT_X_R10] = r.r10;
	c->regs[HVT_X_R11] = r.r11;
	c->regs[HVT_X_R12] = r.r12;
	c->regs[HVT_X_R13] = r.r13;
	c->regs[HVT_X_R14] = r.r14;
	c->regs[HVT_X_R15] = r.r15;
	c->rip = r.rip;
	c->rflags = r.rflags;
	if (full_frame)
		return;
	f->source |= CTL_REGS_VCPU;
	if (guest) {
		/* an abort's trap frame: keep its rip/rsp/rflags */
		uint64_t rsp = f->regs[HVT_X_RSP];

		memcpy(f->regs, c->regs, sizeof(f->regs));
		f->regs[HVT_X_RSP] = rsp;
		return;
	}
	memcpy(f->regs, c->regs, sizeof(f->regs));
	f->rip = r.rip;
	f->rflags = r.rflags;
}

/*
 * Every fault ends here, frozen: report it, capture it, and hold the VM
 * for the parent's decision (fault_wait()).
 */
static void __attribute__((noreturn))
vm_freeze(struct vm *vm, struct tender *t, int status, unsigned reason)
{
	t->cap.exit_status = status;
	t->cap.exit_reason = reason;
	capture_regs(vm, t);
	ev_fault(t);
	fault_capture(t);
	fault_wait(t, vm);
}

static void __attribute__((noreturn)) vm_fault(struct vm *vm, struct tender *t)
{
	t->cap.t_exit_ns = tender_now_ns();
	vm_freeze(vm, t, TENDER_EXIT_FAULT, CTL_EXIT_FAULT);
}

static enum hc_result
vm_io(struct vm *vm, struct tender *t)
{
	struct kvm_run *run = vm->run;
	uint32_t value = 0;
	unsigned size = run->io.size;

	if (run->io.count != 1)
		return hc_fault(t, CTL_FAULT_BAD_HCALL, 0,
		    "string I/O on port 0x%x", run->io.port);
	if (size > sizeof(value) || run->io.data_offset > vm->run_size ||
	    size > vm->run_size - run->io.data_offset)
		return hc_fault(
		    t, CTL_FAULT_KVM_ERROR, 0, "bad I/O exit from KVM");
	memcpy(&value, (uint8_t *)run + run->io.data_offset, size);
	return hc_dispatch(
	    t, run->io.port, size, run->io.direction == KVM_EXIT_IO_OUT, value);
}

void
vm_run(struct vm *vm, struct tender *t)
{
	struct kvm_run *run = vm->run;

	gdb_vm_start(t, vm); /* with --gdb: held until gdb continues */
	for (;;) {
		if (ioctl(vm->vcpu_fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				control_apply(t);
				continue;
			}
			hc_fault(t, CTL_FAULT_HOST_ERROR, 0, "KVM_RUN: %s",
			    strerror(errno));
			vm_fault(vm, t);
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO:
			switch (vm_io(vm, t)) {
			case HC_CONTINUE:
				continue;
			case HC_HALT:
				if (t->exit_status == HVT_EXIT_ABORT) {
					/* Solo5's convention: an abort exits
					 * 255, but it is held like a fault. */
					t->cap.t_exit_ns = tender_now_ns();
					vm_freeze(vm, t, t->exit_status,
					    CTL_EXIT_GUEST);
				}
				tender_exit(t, t->exit_status, CTL_EXIT_GUEST);
			case HC_FAULT:
				vm_fault(vm, t);
			}
			break;
		case KVM_EXIT_DEBUG:
			/* A breakpoint or single step of the gdb stub. */
			gdb_debug_exit(t, vm);
			continue;
		case KVM_EXIT_SHUTDOWN:
			hc_fault(t, CTL_FAULT_TRIPLE, 0,
			    "triple fault: the guest could not handle an "
			    "exception");
			vm_fault(vm, t);
		case KVM_EXIT_HLT:
			hc_fault(t, CTL_FAULT_KVM_ERROR, 0,
			    "the guest halted the CPU with no interrupt to "
			    "wake it");
			vm_fault(vm, t);
		case KVM_EXIT_MMIO:
			hc_fault(t, CTL_FAULT_KVM_ERROR, 0,
			    "guest access to 0x%llx outside its memory",
			    (unsigned long long)run->mmio.phys_addr);
			vm_fault(vm, t);
		case KVM_EXIT_FAIL_ENTRY:
			hc_fault(t, CTL_FAULT_KVM_ERROR, 0,
			    "KVM entry failed (reason 0x%llx)",
			    (unsigned long long)
			        run->fail_entry.hardware_entry_failure_reason);
			vm_fault(vm, t);
		case KVM_EXIT_INTERNAL_ERROR:
			hc_fault(t, CTL_FAULT_KVM_ERROR, 0,
			    "KVM internal error (suberror %u)",
			    run->internal.suberror);
			vm_fault(vm, t);
		default:
			hc_fault(t, CTL_FAULT_KVM_ERROR, 0,
			    "unexpected KVM exit %u", run->exit_reason);
			vm_fault(vm, t);
		}
	}
}
