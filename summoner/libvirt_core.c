/*
 * libvirt_core.c: symbols, QEMU's memory-only core, and the frame-pointer
 * walk over it (libvirt_core.h).
 */
#include <sys/stat.h>

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "libvirt_core.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the core is read as little-endian ELF natively"
#endif

#define MAX_PHDRS  4096
#define MAX_SYMS   (1u << 20)
#define NOTE_MAX   (1u << 20) /* a PT_NOTE larger than this is not QEMU's */
#define UNWIND_MAX 64

/* ---- symbols ---- */

struct lv_sym {
	uint64_t value, size;
	size_t name; /* offset in names */
};

struct lv_syms {
	struct lv_sym *v;
	size_t n;
	char *names;
};

struct lv_syms *
lv_syms_load(const char *image)
{
	struct lv_syms *s = NULL;
	Elf *e = NULL;
	Elf_Scn *scn = NULL;
	Elf_Data *data;
	GElf_Shdr sh;
	GElf_Sym sym;
	size_t i, nsyms, namelen = 0, cap = 0, len;
	const char *nm;
	char *names = NULL;
	int fd = -1;

	if (elf_version(EV_CURRENT) == EV_NONE ||
	    (fd = open(image, O_RDONLY | O_CLOEXEC)) < 0 ||
	    (e = elf_begin(fd, ELF_C_READ, NULL)) == NULL ||
	    elf_kind(e) != ELF_K_ELF)
		goto fail;
	while ((scn = elf_nextscn(e, scn)) != NULL)
		if (gelf_getshdr(scn, &sh) != NULL && sh.sh_type == SHT_SYMTAB)
			break;
	if (scn == NULL || sh.sh_entsize == 0 ||
	    (data = elf_getdata(scn, NULL)) == NULL)
		goto fail;
	nsyms = sh.sh_size / sh.sh_entsize;
	if (nsyms > MAX_SYMS || (s = calloc(1, sizeof(*s))) == NULL ||
	    (s->v = calloc(nsyms + 1, sizeof(*s->v))) == NULL)
		goto fail;
	for (i = 0; i < nsyms; i++) {
		if (gelf_getsym(data, (int)i, &sym) == NULL ||
		    GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    sym.st_shndx == SHN_UNDEF || sym.st_name == 0 ||
		    (nm = elf_strptr(e, sh.sh_link, sym.st_name)) == NULL)
			continue;
		len = strnlen(nm, LV_FUNC_MAX - 1);
		if (namelen + len + 1 > cap) {
			char *p;

			cap = (cap + len + 1) * 2;
			if ((p = realloc(names, cap)) == NULL)
				goto fail;
			names = p;
		}
		memcpy(names + namelen, nm, len);
		names[namelen + len] = '\0';
		s->v[s->n].value = sym.st_value;
		s->v[s->n].size = sym.st_size;
		s->v[s->n].name = namelen;
		s->n++;
		namelen += len + 1;
	}
	if (s->n == 0) {
		errno = ENOENT;
		goto fail;
	}
	s->names = names;
	elf_end(e);
	close(fd);
	return s;
fail:
	if (errno == 0)
		errno = EINVAL;
	free(names);
	if (s != NULL)
		free(s->v);
	free(s);
	if (e != NULL)
		elf_end(e);
	if (fd >= 0)
		close(fd);
	return NULL;
}

void
lv_syms_free(struct lv_syms *s)
{
	if (s == NULL)
		return;
	free(s->v);
	free(s->names);
	free(s);
}

int
lv_syms_lookup(const struct lv_syms *s, uint64_t addr, char *name,
    size_t namesz, uint64_t *offset)
{
	const struct lv_sym *best = NULL;
	uint64_t d;
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < s->n; i++) {
		const struct lv_sym *y = &s->v[i];

		if (addr < y->value)
			continue;
		d = addr - y->value;
		if (y->size == 0 ? d != 0 : d >= y->size)
			continue;
		/* Prefer a sized symbol, then the innermost one. */
		if (best != NULL && best->size != 0 &&
		    (y->size == 0 || y->size >= best->size))
			continue;
		best = y;
	}
	if (best == NULL)
		return -1;
	if (name != NULL && namesz > 0)
		snprintf(name, namesz, "%s", s->names + best->name);
	if (offset != NULL)
		*offset = addr - best->value;
	return 0;
}

/* ---- the core ---- */

static int
pread_all(int fd, void *buf, size_t len, uint64_t off)
{
	ssize_t n;
	size_t got = 0;

	while (got < len) {
		n = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		got += (size_t)n;
	}
	return 0;
}

static int
pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
	ssize_t n;
	size_t put = 0;

	while (put < len) {
		n = pwrite(
		    fd, (const char *)buf + put, len - put, (off_t)(off + put));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		put += (size_t)n;
	}
	return 0;
}

/* off + len within size, without overflow. */
static bool
in_file(uint64_t off, uint64_t len, uint64_t size)
{
	return off <= size && len <= size - off;
}

/* The first NT_PRSTATUS of the PT_NOTE at [off, off + len). */
static void
find_prstatus(struct lv_core *c, uint64_t off, uint64_t len)
{
	char *buf = NULL;
	Elf64_Nhdr nh;
	uint64_t p = 0, desc, next;

	if (len < sizeof(nh) || len > NOTE_MAX || (buf = malloc(len)) == NULL)
		return;
	if (pread_all(c->fd, buf, len, off) < 0)
		goto out;
	while (len - p >= sizeof(nh)) {
		memcpy(&nh, buf + p, sizeof(nh));
		desc = p + sizeof(nh) + (((uint64_t)nh.n_namesz + 3) & ~3ull);
		next = desc + (((uint64_t)nh.n_descsz + 3) & ~3ull);
		if (desc > len || next > len)
			break;
		if (nh.n_type == NT_PRSTATUS &&
		    nh.n_descsz >= LV_PRSTATUS_BYTES) {
			c->prstatus = off + desc;
			break;
		}
		p = next;
	}
out:
	free(buf);
}

int
lv_core_open(struct lv_core *c, const char *path, bool writable, char *err,
    size_t errlen)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	struct stat st;
	uint16_t i;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if ((c->fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC)) <
	        0 ||
	    fstat(c->fd, &st) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	c->size = (uint64_t)st.st_size;
	if (pread_all(c->fd, &eh, sizeof(eh), 0) < 0 ||
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_type != ET_CORE ||
	    eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phnum > MAX_PHDRS ||
	    !in_file(eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(ph), c->size)) {
		snprintf(err, errlen, "%s: not an ELF64 core", path);
		goto fail;
	}
	c->nph = eh.e_phnum;
	c->phoff = eh.e_phoff;
	if ((c->loads = calloc(c->nph, sizeof(*c->loads))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < c->nph; i++) {
		if (pread_all(c->fd, &ph, sizeof(ph),
		        c->phoff + (uint64_t)i * sizeof(ph)) < 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		if (ph.p_type == PT_NOTE && c->prstatus == 0 &&
		    in_file(ph.p_offset, ph.p_filesz, c->size))
			find_prstatus(c, ph.p_offset, ph.p_filesz);
		if (ph.p_type != PT_LOAD || ph.p_filesz == 0 ||
		    !in_file(ph.p_offset, ph.p_filesz, c->size) ||
		    ph.p_paddr + ph.p_filesz < ph.p_paddr)
			continue;
		c->loads[c->nloads].paddr = ph.p_paddr;
		c->loads[c->nloads].vaddr = ph.p_vaddr;
		c->loads[c->nloads].off = ph.p_offset;
		c->loads[c->nloads].filesz = ph.p_filesz;
		c->nloads++;
		c->bytes += ph.p_filesz;
	}
	return 0;
fail:
	lv_core_close(c);
	return -1;
}

void
lv_core_close(struct lv_core *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c->loads);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

int
lv_core_read(const struct lv_core *c, uint64_t gpa, void *buf, size_t len)
{
	size_t i;

	for (i = 0; i < c->nloads; i++) {
		const struct lv_load *l = &c->loads[i];

		if (gpa >= l->paddr && gpa - l->paddr <= l->filesz &&
		    len <= l->filesz - (gpa - l->paddr))
			return pread_all(
			    c->fd, buf, len, l->off + (gpa - l->paddr));
	}
	errno = EFAULT;
	return -1;
}

int
lv_core_regs(const struct lv_core *c, uint64_t *regs)
{
	if (c->prstatus == 0) {
		errno = ENOENT;
		return -1;
	}
	return pread_all(c->fd, regs, LV_UR_NREGS_USED * sizeof(uint64_t),
	    c->prstatus + LV_PRSTATUS_REGS);
}

int
lv_core_fix(struct lv_core *c, const uint64_t *regs, const bool *set)
{
	Elf64_Phdr ph;
	uint64_t off;
	uint16_t i;
	int k;

	for (i = 0; i < c->nph; i++) {
		off = c->phoff + (uint64_t)i * sizeof(ph);
		if (pread_all(c->fd, &ph, sizeof(ph), off) < 0)
			return -1;
		if (ph.p_type != PT_LOAD || ph.p_vaddr != 0 || ph.p_paddr == 0)
			continue;
		ph.p_vaddr = ph.p_paddr;
		if (pwrite_all(c->fd, &ph, sizeof(ph), off) < 0)
			return -1;
	}
	for (i = 0; i < c->nloads; i++)
		if (c->loads[i].vaddr == 0)
			c->loads[i].vaddr = c->loads[i].paddr;
	if (c->prstatus == 0)
		return 0;
	for (k = 0; k < LV_UR_NREGS_USED; k++)
		if (set[k] &&
		    pwrite_all(c->fd, &regs[k], sizeof(regs[k]),
		        c->prstatus + LV_PRSTATUS_REGS + (uint64_t)k * 8) < 0)
			return -1;
	return 0;
}

/* ---- backtraces ---- */

static void
symbolise(const struct lv_syms *s, struct lv_frame *f, uint64_t lookup)
{
	uint64_t off = 0;

	f->func[0] = '\0';
	f->offset = 0;
	if (lv_syms_lookup(s, lookup, f->func, sizeof(f->func), &off) < 0) {
		f->func[0] = '\0';
		return;
	}
	f->offset = off + (f->pc - lookup); /* of pc, not of lookup */
}

unsigned
lv_backtrace(const struct lv_core *c, const struct lv_syms *s, uint64_t rip,
    uint64_t rbp, struct lv_frame *out, unsigned max)
{
	uint64_t rec[2];
	unsigned n = 0;

	if (max == 0)
		return 0;
	out[n].pc = rip;
	symbolise(s, &out[n], rip);
	n++;
	while (n < max) {
		if (rbp == 0 || rbp % 8 != 0 ||
		    lv_core_read(c, rbp, rec, sizeof(rec)) < 0 || rec[1] == 0)
			break;
		out[n].pc = rec[1];
		/* A call that ends its function (noreturn) returns past it:
		 * look up the call itself. */
		symbolise(s, &out[n], rec[1] - 1);
		n++;
		if (rec[0] <= rbp)
			break;
		rbp = rec[0];
	}
	return n;
}

uint64_t
lv_unwind_rbp(const struct lv_core *c, uint64_t rbp, uint64_t rsp)
{
	uint64_t rec[2];
	unsigned i;

	for (i = 0; i < UNWIND_MAX; i++) {
		if (rbp == 0 || rbp % 8 != 0 ||
		    lv_core_read(c, rbp, rec, sizeof(rec)) < 0)
			return 0;
		if (rbp + 16 == rsp)
			return rec[0];
		if (rbp + 16 > rsp || rec[0] <= rbp)
			return 0;
		rbp = rec[0];
	}
	return 0;
}

int
lv_frame_line(const struct lv_frame *f, char *buf, size_t sz)
{
	if (f->func[0] != '\0')
		return snprintf(buf, sz, "0x%llx %s+0x%llx",
		    (unsigned long long)f->pc, f->func,
		    (unsigned long long)f->offset);
	return snprintf(buf, sz, "0x%llx ?", (unsigned long long)f->pc);
}
