/*
 * 16550 UART on COM1 (0x3f8), polled: the console of QEMU's -serial.
 */
#include <arch/cpu.h>
#include <karst/arch.h>
#include <karst/irq.h>

#define COM1	       0x3f8
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY  0x20

void x86_console_init(void)
{
	outb(COM1 + 1, 0x00); /* no interrupts */
	outb(COM1 + 3, 0x80); /* DLAB */
	outb(COM1 + 0, 0x01); /* 115200 baud */
	outb(COM1 + 1, 0x00);
	outb(COM1 + 3, 0x03); /* 8N1 */
	/* FCR is left alone: turning the FIFOs on empties them, and what
	 * arrived during boot is input, not noise (QEMU buffers behind the
	 * one-byte holding register). */
	outb(COM1 + 4, 0x0b); /* DTR, RTS, OUT2 */
}

void arch_console_putc(char c)
{
	while (!(inb(COM1 + 5) & LSR_THR_EMPTY))
		__asm__ __volatile__("pause");
	outb(COM1, (uint8_t)c);
}

int arch_console_getc(void)
{
	if (!(inb(COM1 + 5) & LSR_DATA_READY))
		return -1;
	return inb(COM1);
}

/* COM1 raises ISA IRQ 4 (IOAPIC input 4, edge, active high) on received data. */
int arch_console_rx_irq(struct irq_config *cfg)
{
	cfg->level = false;
	cfg->active_low = false;
	outb(COM1 + 1, 0x01); /* IER: received data available */
	return 4;
}
