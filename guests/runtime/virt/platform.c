/*
 * platform.c (virt): the runtime's platform layer on QEMU microvm.
 *
 * Console lines go to COM1, heartbeats and fault reports to COM2 (the
 * heartbeat library's UART transport), the guest ends through
 * isa-debug-exit, and a fault or abort raises pvpanic once its report is
 * out, so that the host's panic action (pause, shutdown, an event)
 * applies.  Block and network devices do not exist here yet (virtio is
 * later work): opening one fails, and setup.c says so on the console.
 */
#include <stddef.h>
#include <stdint.h>

#include <heartbeat.h>

#include "rt.h"
#include "virt.h"

char rt_plat_argv0[] = "virt";

/*
 * RT_USER_MODE() is ignored: our page tables are supervisor-only and the
 * UARTs need "out", which CPL 3 may not execute.  Under KVM nothing makes
 * CPL 0 slow, which is all user mode was for.
 */
const int rt_plat_user_mode = 0;

static void virt_halt(int status);

/* The UART transport, stopping the guest the platform's way. */
static struct hb_transport transport;

static inline void
outl(uint16_t port, uint32_t v)
{
	__asm__ __volatile__("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline void
outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" : : "a"(v), "Nd"(port));
}

void
rt_virt_devices_init(void)
{
	hb_uart_init(HB_UART_COM2);
	hb_uart_set_port(HB_UART_COM2);
	transport = hb_transport_uart;
	transport.halt = virt_halt;
	hb_set_transport(&transport);
}

_Noreturn void
rt_virt_exit(int status)
{
	struct {
		uint16_t limit;
		uint64_t base;
	} __attribute__((packed)) empty = {0, 0};
	uint32_t v = status >= 0 && status <= RT_VIRT_EXIT_MAX
	                 ? (uint32_t)status
	                 : RT_VIRT_EXIT_MAX;

	outl(RT_VIRT_DEBUG_EXIT_PORT, v);
	/* No isa-debug-exit: a triple fault resets (or ends) the machine. */
	__asm__ __volatile__("cli\n\tlidt %0\n\tint3" : : "m"(empty));
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

/* Tells the host the guest panicked; it may stop us right here. */
static void
panic_host(void)
{
	outb(RT_VIRT_PVPANIC_PORT, RT_VIRT_PVPANIC_PANICKED);
}

static void
virt_halt(int status)
{
	if (status == HVT_EXIT_ABORT)
		panic_host();
	rt_virt_exit(status);
}

void
rt_plat_puts(const char *buf, size_t len)
{
	hb_uart_write(HB_UART_COM1, buf, len);
}

_Noreturn void
rt_halt(int status, const void *cookie)
{
	const struct rt_solo5_trap *t = cookie;

	if (status == HVT_EXIT_ABORT && t != NULL) {
		/* abort_msg(): the same report hb_fault() would send. */
		static struct hvt_x_frame xf;
		static const char msg[] = "abort (see the console)";

		xf.version = HVT_X_FRAME_VERSION;
		xf.kind = HVT_X_FAULT_ABORT;
		xf.cr2 = t->cr2;
		xf.error_code = t->ec;
		xf.rip = t->rip;
		xf.cs = t->cs;
		xf.rflags = t->rflags;
		xf.ss = t->ss;
		xf.regs[HVT_X_RSP] = t->rsp;
		xf.msg = (uint64_t)(uintptr_t)msg;
		xf.msglen = sizeof(msg) - 1;
		hb_transport_uart.frame(&xf);
		panic_host();
	} else if (status != HVT_EXIT_ABORT) {
		/* QEMU's exit status cannot carry every status: say it here. */
		char m[64];
		int n =
		    snprintf(m, sizeof(m), "STOPPING=1\nX_EXIT=%d\n", status);

		hb_transport_uart.notify(m, (size_t)n);
	}
	rt_virt_exit(status);
}

_Noreturn void
rt_plat_fault(struct hvt_x_frame *xf, const struct rt_solo5_trap *cookie)
{
	(void)cookie;
	hb_transport_uart.frame(xf);
	panic_host();
	rt_virt_exit(HVT_EXIT_ABORT);
}

int
rt_block_open(const char *name, struct rt_block *blk)
{
	(void)name;
	(void)blk;
	return -1;
}

int
rt_block_read(const struct rt_block *blk, uint64_t off, void *buf, size_t len)
{
	(void)blk, (void)off, (void)buf, (void)len;
	return HVT_EINVAL;
}

int
rt_block_write(
    const struct rt_block *blk, uint64_t off, const void *buf, size_t len)
{
	(void)blk, (void)off, (void)buf, (void)len;
	return HVT_EINVAL;
}

int
rt_net_open(const char *name, struct rt_net *net)
{
	(void)name;
	(void)net;
	return -1;
}

int
rt_net_write(const struct rt_net *net, const void *frame, size_t len)
{
	(void)net, (void)frame, (void)len;
	return HVT_EINVAL;
}

int
rt_net_read(const struct rt_net *net, void *buf, size_t size, size_t *len)
{
	(void)net, (void)buf, (void)size;
	*len = 0;
	return HVT_EINVAL;
}
