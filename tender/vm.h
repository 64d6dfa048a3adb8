/*
 * vm.h: the KVM virtual machine of one tender (vm.c).  Kept apart from
 * tender.h so that the hypercall code and its unit tests never need KVM.
 */
#ifndef SUMMONER_TENDER_VM_H
#define SUMMONER_TENDER_VM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tender;

struct vm {
	int kvm_fd, vm_fd, vcpu_fd;
	struct kvm_run *run;
	size_t run_size;
	/* KVM_GET_SUPPORTED_CPUID, fetched by a helper thread (vm.c) */
	pthread_t cpuid_thread;
	bool cpuid_started;
	struct kvm_cpuid2 *cpuid;
	int cpuid_errno;
};

/* Open /dev/kvm, create the VM, map t->mem_size bytes of lazily backed
 * guest memory at guest-physical 0 and create the vCPU.  0, or -1 with a
 * message in err. */
int vm_create(struct vm *vm, struct tender *t, char *err, size_t errsz);

/* Write the GDT and page tables and put the vCPU in long mode at "entry"
 * with rdi = boot info, as the hvt ABI says.  0 or -1 with err. */
int vm_setup_vcpu(
    struct vm *vm, struct tender *t, uint64_t entry, char *err, size_t errsz);

/* The guest's TSC frequency in Hz (0 if KVM cannot tell). */
uint64_t vm_tsc_hz(struct vm *vm);

/* Run the guest until it halts, faults or is stopped; never returns (the
 * tender exits with the status the outcome calls for). */
void vm_run(struct vm *vm, struct tender *t) __attribute__((noreturn));

#endif /* SUMMONER_TENDER_VM_H */
