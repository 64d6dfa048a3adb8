/*
 * setup.c (virt): from the PVH start info to the shared start path.
 *
 * entry.S calls rt_virt_setup() in long mode on the boot stack, with the
 * first 4 GB identity-mapped.  It reads what the loader passed (struct
 * hvm_start_info: command line, memory map), takes away the memory the
 * image must not touch (below 64 KB: nothing, so null pointers fault;
 * 64 KB to 1 MB: read-only, so the boot stack faults when it overflows;
 * above the end of RAM: nothing, except the local APIC's page), sets up
 * the serial ports, the clock and the heartbeat transport, and fills an
 * hvt-style boot info for rt_start(): the rest of the runtime never knows
 * which platform it runs on.
 */
#include <stddef.h>
#include <stdint.h>

#include <heartbeat.h>

#include "rt.h"
#include "virt.h"

/* struct hvm_start_info (Xen's public arch-x86/hvm/start_info.h). */
#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr; /* version >= 1 */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};

#define E820_RAM     1
#define MEMMAP_MAX   128            /* entries we look at */
#define MAPPED_TOP   0x100000000ull /* entry.S maps 4 GB */
#define PAGE_2M      0x200000ull
#define LOW_NONE_END 0x10000ull
#define LOW_RO_END   0x100000ull
#define PTE_P        0x001ull
#define PTE_RW       0x002ull
#define PTE_PWT      0x008ull
#define PTE_PCD      0x010ull
#define PTE_PS       0x080ull

extern uint64_t rt_virt_pd[4 * 512], rt_virt_pt[512], rt_virt_pml4[];

/* The command line, copied out of memory that becomes unmapped. */
static char cmdline[HVT_CMDLINE_SIZE];
static struct hvt_boot_info boot_info;

/*
 * The manifest this image declared (RT_MANIFEST*): its note header, then
 * the struct hvt_mft fields, as RT__MFT_NOTE (runtime.h) lays them out;
 * the image's own definition has a fixed number of entries.
 */
struct mft_head {
	struct rt_note_hdr h;
	_Alignas(8) uint32_t version;
	uint32_t entries;
	struct hvt_mft_entry e[];
};

extern const struct mft_head rt_manifest;

/* Stops the guest before the runtime is up, saying why on COM1. */
static _Noreturn void
setup_fail(const char *why)
{
	static const char prefix[] = "virt: cannot boot: ";

	hb_uart_write(HB_UART_COM1, prefix, sizeof(prefix) - 1);
	hb_uart_write(HB_UART_COM1, why, strlen(why));
	hb_uart_write(HB_UART_COM1, "\n", 1);
	rt_virt_exit(HVT_EXIT_FAILURE);
}

/*
 * The end of the RAM range holding the image, capped at what entry.S
 * mapped; 0 if the map has none.  Untrusted input in the sense that a
 * broken loader may pass anything: every entry is range-checked.
 */
static uint64_t
ram_top(const struct hvm_start_info *si)
{
	const struct hvm_memmap_entry *m;
	uint32_t n = si->memmap_entries;
	uint64_t image = (uint64_t)(uintptr_t)__stack_bottom;
	uint64_t end = (uint64_t)(uintptr_t)_end;

	if (si->version < 1 || si->memmap_paddr == 0 ||
	    si->memmap_paddr >= MAPPED_TOP - MEMMAP_MAX * sizeof(*m))
		return 0;
	m = (const struct hvm_memmap_entry *)(uintptr_t)si->memmap_paddr;
	if (n > MEMMAP_MAX)
		n = MEMMAP_MAX;
	for (uint32_t i = 0; i < n; i++) {
		uint64_t top = m[i].addr + m[i].size;

		if (m[i].type != E820_RAM || top < m[i].addr)
			continue;
		if (m[i].addr <= image && top >= end)
			return top < MAPPED_TOP ? top : MAPPED_TOP;
	}
	return 0;
}

/* Copies the loader's command line into cmdline (always terminated). */
static void
copy_cmdline(const struct hvm_start_info *si)
{
	const char *src = (const char *)(uintptr_t)si->cmdline_paddr;
	size_t n = 0;

	if (si->cmdline_paddr == 0 ||
	    si->cmdline_paddr >= MAPPED_TOP - sizeof(cmdline))
		return;
	while (n < sizeof(cmdline) - 1 && src[n] != '\0') {
		cmdline[n] = src[n];
		n++;
	}
	cmdline[n] = '\0';
}

/*
 * The final mappings: low memory as on hvt, nothing above RAM but the
 * local APIC's 2 MB page (uncached).
 */
static void
restrict_memory(uint64_t top)
{
	uint64_t lapic = RT_VIRT_LAPIC_BASE & ~(PAGE_2M - 1);

	for (uint64_t a = 0; a < LOW_RO_END; a += 0x1000)
		rt_virt_pt[a >> 12] = a < LOW_NONE_END ? 0 : a | PTE_P;
	for (uint64_t i = (top + PAGE_2M - 1) / PAGE_2M; i < 4 * 512; i++)
		rt_virt_pd[i] = 0;
	rt_virt_pd[lapic / PAGE_2M] =
	    lapic | PTE_P | PTE_RW | PTE_PS | PTE_PWT | PTE_PCD;
	/* A CR3 write flushes every non-global translation. */
	__asm__ __volatile__("movq %0, %%cr3"
	                     :
	                     : "r"((uint64_t)(uintptr_t)rt_virt_pml4)
	                     : "memory");
}

/* Says once, on the console, which declared devices this platform lacks. */
static void
report_devices(void)
{
	const struct hvt_mft_entry *e = rt_manifest.e;
	uint32_t n = rt_manifest.entries;

	for (uint32_t i = 0; i < n && i < HVT_MFT_MAX_ENTRIES; i++)
		printf("virt: no %s device \"%.*s\": devices are not "
		       "supported on the virt platform yet\n",
		    e[i].type == HVT_MFT_DEV_NET_BASIC ? "network" : "block",
		    (int)sizeof(e[i].name), e[i].name);
}

struct hvt_boot_info *
rt_virt_setup(uint32_t start_info)
{
	const struct hvm_start_info *si =
	    (const struct hvm_start_info *)(uintptr_t)start_info;
	uint64_t top;

	hb_uart_init(HB_UART_COM1);
	if (start_info == 0 || si->magic != HVM_START_MAGIC)
		setup_fail("no PVH start info (boot with qemu -kernel)");
	if ((top = ram_top(si)) == 0)
		setup_fail("no memory map holding the image in the start info");
	copy_cmdline(si);
	restrict_memory(top);

	rt_virt_devices_init();
	boot_info.mem_size = top;
	boot_info.kernel_end = (uint64_t)(uintptr_t)_end;
	boot_info.cpu_cycle_freq = rt_virt_clock_init();
	boot_info.cmdline = (uint64_t)(uintptr_t)cmdline;
	boot_info.mft = 0; /* no devices */
	if (rt_manifest.entries != 0)
		report_devices();
	return &boot_info;
}
