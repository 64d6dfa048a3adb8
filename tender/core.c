/*
 * core.c: an ELF core of the frozen guest that stock gdb loads next to the
 * image ("gdb IMAGE core").
 *
 * The layout is a Linux x86_64 process core's, which is what gdb and
 * readelf know: ET_CORE, one PT_NOTE with NT_PRSTATUS (the registers at the
 * fault in user_regs_struct order) and NT_PRPSINFO, then one PT_LOAD per
 * run of guest pages.  The guest is identity-mapped, so vaddr = paddr =
 * guest address.
 *
 * Guest memory is a lazily backed anonymous mapping: mincore() tells which
 * pages the guest (or the loader) touched, and only those are written, so a
 * core is about the guest's footprint (typically a few hundred KB), not its
 * memory size.  Segment data goes straight from guest memory to the file.
 */
#include <elf.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/procfs.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <unistd.h>

#include "tender.h"

#define PAGE        4096ull
#define NOTE_NAME   "CORE"
#define NOTE_NAMESZ 5            /* with its NUL; padded to 8 */
#define STACK_KEEP  (1ull << 20) /* bytes kept either side of rsp */

_Static_assert(sizeof(struct elf_prstatus) == 336, "x86_64 elf_prstatus");
_Static_assert(sizeof(struct elf_prpsinfo) == 136, "x86_64 elf_prpsinfo");
_Static_assert(sizeof(struct user_regs_struct) ==
                   sizeof(((struct elf_prstatus *)0)->pr_reg),
    "pr_reg is a user_regs_struct");

/* A note is its Elf64_Nhdr, "CORE\0" padded to 4 bytes, its descriptor
 * (both descriptors are multiples of 4: no padding after them). */
#define NOTE_HDR (sizeof(Elf64_Nhdr) + 8)
#define NOTES_SIZE                                                             \
	(2 * NOTE_HDR + sizeof(struct elf_prstatus) +                          \
	    sizeof(struct elf_prpsinfo))

_Static_assert(sizeof(struct elf_prstatus) % 4 == 0 &&
                   sizeof(struct elf_prpsinfo) % 4 == 0,
    "note descriptors need no padding");

/* The signal a Linux process would have died of, for gdb's banner. */
static int
fault_signal(const struct ctl_fault *f)
{
	if (f->kind == CTL_FAULT_ABORT)
		return SIGABRT;
	if (f->kind != CTL_FAULT_EXCEPTION)
		return SIGSEGV;
	switch (f->vector) {
	case 0:  /* #DE */
	case 16: /* #MF */
	case 19: /* #XM */
		return SIGFPE;
	case 1: /* #DB */
	case 3: /* #BP */
		return SIGTRAP;
	case 6: /* #UD */
		return SIGILL;
	case 17: /* #AC */
		return SIGBUS;
	default:
		return SIGSEGV;
	}
}

static size_t
put_note(uint8_t *p, uint32_t type, const void *desc, size_t len)
{
	Elf64_Nhdr n = {.n_namesz = NOTE_NAMESZ,
	    .n_descsz = (Elf64_Word)len,
	    .n_type = type};

	memcpy(p, &n, sizeof(n));
	memset(p + sizeof(n), 0, NOTE_HDR - sizeof(n));
	memcpy(p + sizeof(n), NOTE_NAME, NOTE_NAMESZ);
	memcpy(p + NOTE_HDR, desc, len);
	return NOTE_HDR + len;
}

static void
fill_notes(uint8_t *out, const struct tender *t)
{
	struct {
		struct elf_prstatus prs;
		struct elf_prpsinfo psi;
	} nb, *nt = &nb;
	const struct fault_info *c = &t->cap;
	const struct fault_seg *seg = c->cpu.seg;
	const struct hvt_boot_info *bi;
	struct user_regs_struct u;
	const char *base, *cmd;
	size_t n, len;

	memset(nt, 0, sizeof(*nt));

	memset(&u, 0, sizeof(u));
	u.r15 = c->regs[HVT_X_R15];
	u.r14 = c->regs[HVT_X_R14];
	u.r13 = c->regs[HVT_X_R13];
	u.r12 = c->regs[HVT_X_R12];
	u.rbp = c->regs[HVT_X_RBP];
	u.rbx = c->regs[HVT_X_RBX];
	u.r11 = c->regs[HVT_X_R11];
	u.r10 = c->regs[HVT_X_R10];
	u.r9 = c->regs[HVT_X_R9];
	u.r8 = c->regs[HVT_X_R8];
	u.rax = c->regs[HVT_X_RAX];
	u.rcx = c->regs[HVT_X_RCX];
	u.rdx = c->regs[HVT_X_RDX];
	u.rsi = c->regs[HVT_X_RSI];
	u.rdi = c->regs[HVT_X_RDI];
	u.orig_rax = ~0ull;
	u.rip = c->rip;
	u.cs = t->fault.cs;
	u.eflags = c->rflags;
	u.rsp = c->regs[HVT_X_RSP];
	u.ss = t->fault.ss;
	u.fs_base = seg[FAULT_SEG_FS].base;
	u.gs_base = seg[FAULT_SEG_GS].base;
	u.ds = t->fault.ds;
	u.es = t->fault.es;
	u.fs = t->fault.fs;
	u.gs = t->fault.gs;
	memcpy(&nt->prs.pr_reg, &u, sizeof(u));
	nt->prs.pr_info.si_signo = fault_signal(&t->fault);
	nt->prs.pr_cursig = (short)nt->prs.pr_info.si_signo;
	nt->prs.pr_pid = 1;
	nt->prs.pr_ppid = 0;
	nt->prs.pr_pgrp = 1;
	nt->prs.pr_sid = 1;

	nt->psi.pr_state = 0;
	nt->psi.pr_sname = 'R';
	nt->psi.pr_pid = 1;
	nt->psi.pr_pgrp = 1;
	nt->psi.pr_sid = 1;
	base = t->image_path != NULL ? t->image_path : "guest";
	if (strrchr(base, '/') != NULL)
		base = strrchr(base, '/') + 1;
	strncpy(nt->psi.pr_fname, base, sizeof(nt->psi.pr_fname) - 1);
	/* psargs: "IMAGE ARGS", the arguments read back from the guest's
	 * boot info (bounded: the guest may have changed it). */
	len = strnlen(base, sizeof(nt->psi.pr_psargs) - 1);
	memcpy(nt->psi.pr_psargs, base, len);
	bi = gmem_ptr(t, HVT_BOOT_INFO_BASE, sizeof(*bi));
	if (bi != NULL && bi->cmdline < t->mem_size) {
		n = sizeof(nt->psi.pr_psargs) - 1 - len;
		if (n > t->mem_size - bi->cmdline)
			n = (size_t)(t->mem_size - bi->cmdline);
		if (n >= 2 && (cmd = gmem_ptr(t, bi->cmdline, n)) != NULL &&
		    cmd[0] != '\0') {
			nt->psi.pr_psargs[len++] = ' ';
			n = strnlen(cmd, n - 1);
			memcpy(nt->psi.pr_psargs + len, cmd, n);
		}
	}
	out += put_note(out, NT_PRSTATUS, &nt->prs, sizeof(nt->prs));
	put_note(out, NT_PRPSINFO, &nt->psi, sizeof(nt->psi));
}

/* writev() all of iov[0..n), which it may modify. */
static int
writev_all(int fd, struct iovec *iov, size_t n)
{
	ssize_t done;

	while (n > 0) {
		done = writev(fd, iov, n > IOV_MAX ? IOV_MAX : (int)n);
		if (done < 0 && errno == EINTR)
			continue;
		if (done < 0)
			return -1;
		if (done == 0) {
			errno = EIO;
			return -1;
		}
		while (n > 0 && (size_t)done >= iov->iov_len) {
			done -= (ssize_t)iov->iov_len;
			iov++;
			n--;
		}
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + done;
			iov->iov_len -= (size_t)done;
		}
	}
	return 0;
}

static bool
page_is_zero(const uint8_t *p)
{
	const uint64_t *w = (const uint64_t *)(const void *)p;
	size_t i;

	for (i = 0; i < PAGE / sizeof(*w); i++)
		if (w[i] != 0)
			return false;
	return true;
}

/*
 * Choose the pages to write: every resident page (vec[i] & 1), or, when
 * that is more than FAULT_CORE_MAX, the pages around rsp and up to the end
 * of the image first, then the others from low addresses up.  Chosen pages
 * get vec[i] = 2.  Returns the bytes chosen.
 */
static uint64_t
choose_pages(struct tender *t, unsigned char *vec, size_t npages)
{
	uint64_t rsp = t->cap.regs[HVT_X_RSP], total = 0, budget;
	uint64_t lo = rsp > STACK_KEEP ? (rsp - STACK_KEEP) / PAGE : 0;
	uint64_t hi = (rsp + STACK_KEEP) / PAGE;
	uint64_t img = (t->ei.kernel_end + PAGE - 1) / PAGE;
	size_t i;

	for (i = 0; i < npages; i++) {
		vec[i] &= 1;
		total += vec[i];
	}
	t->cap.core_truncated = total * PAGE > FAULT_CORE_MAX;
	budget = FAULT_CORE_MAX / PAGE;
	for (i = 0; i < npages; i++) {
		if (vec[i] &&
		    (!t->cap.core_truncated || i < img ||
		        (i >= lo && i <= hi)) &&
		    budget > 0) {
			vec[i] = 2;
			budget--;
		}
	}
	for (i = 0; i < npages && budget > 0; i++) {
		if (vec[i] == 1) {
			vec[i] = 2;
			budget--;
		}
	}
	for (total = 0, i = 0; i < npages; i++)
		total += vec[i] == 2;
	return total * PAGE;
}

/*
 * The file is the headers and notes padded to a page, then every segment
 * back to back: one writev() (a few for thousands of segments) straight
 * from guest memory.
 */
int
core_write(int fd, struct tender *t)
{
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph;
	uint8_t *notes;
	struct iovec *iov = NULL;
	unsigned char *vec = NULL, *head = NULL;
	size_t npages = (size_t)(t->mem_size / PAGE), nseg = 0, i, j, k, n;
	size_t hdrlen, headlen;
	uint64_t off;
	int saved;

	if (t->mem == NULL || npages == 0) {
		errno = EINVAL;
		return -1;
	}
	if ((vec = malloc(npages)) == NULL)
		goto fail;
	if (mincore(t->mem, t->mem_size, vec) < 0)
		goto fail;
	t->cap.core_bytes = choose_pages(t, vec, npages);
	/* All-zero pages (bss the loader cleared, untouched stack) become
	 * segments with no file bytes: gdb reads them as zeros. */
	for (i = 0; i < npages; i++)
		if (vec[i] == 2 && page_is_zero(t->mem + i * PAGE))
			vec[i] = 3;
	for (i = 0; i < npages; i++)
		if (vec[i] >= 2 && (i == 0 || vec[i - 1] != vec[i]))
			nseg++;
	if (nseg + 1 >= PN_XNUM) {
		/* Thousands of scattered pages: not worth the extended
		 * numbering; a gdb-readable core needs far fewer. */
		errno = E2BIG;
		goto fail;
	}
	hdrlen = sizeof(*eh) + (nseg + 1) * sizeof(*ph);
	headlen = (hdrlen + NOTES_SIZE + PAGE - 1) & ~(PAGE - 1);
	if ((head = calloc(1, headlen)) == NULL ||
	    (iov = calloc(nseg + 1, sizeof(*iov))) == NULL)
		goto fail;
	eh = (Elf64_Ehdr *)head;
	ph = (Elf64_Phdr *)(head + sizeof(*eh));
	notes = head + hdrlen;

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_ident[EI_OSABI] = ELFOSABI_NONE;
	eh->e_type = ET_CORE;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_phoff = sizeof(*eh);
	eh->e_ehsize = sizeof(*eh);
	eh->e_phentsize = sizeof(*ph);
	eh->e_phnum = (Elf64_Half)(nseg + 1);

	fill_notes(notes, t);
	ph[0].p_type = PT_NOTE;
	ph[0].p_offset = hdrlen;
	ph[0].p_filesz = NOTES_SIZE;
	ph[0].p_align = 4;
	iov[0].iov_base = head;
	iov[0].iov_len = headlen;
	off = headlen;
	for (i = 0, k = 1, n = 1; i < npages; i = j) {
		if (vec[i] < 2) {
			j = i + 1;
			continue;
		}
		for (j = i; j < npages && vec[j] == vec[i]; j++)
			;
		ph[k].p_type = PT_LOAD;
		ph[k].p_flags = PF_R | PF_W | PF_X;
		ph[k].p_offset = off;
		ph[k].p_vaddr = ph[k].p_paddr = i * PAGE;
		ph[k].p_memsz = (j - i) * PAGE;
		ph[k].p_align = PAGE;
		if (vec[i] == 2) {
			ph[k].p_filesz = ph[k].p_memsz;
			iov[n].iov_base = t->mem + i * PAGE;
			iov[n].iov_len = ph[k].p_filesz;
			off += ph[k].p_filesz;
			n++;
		}
		k++;
	}
	if (writev_all(fd, iov, n) < 0)
		goto fail;
	free(iov);
	free(head);
	free(vec);
	return 0;
fail:
	saved = errno;
	free(iov);
	free(head);
	free(vec);
	errno = saved;
	return -1;
}
