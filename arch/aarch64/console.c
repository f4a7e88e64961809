/*
 * PL011 UART through the direct map's device window: output polled, input
 * by the receive interrupt. QEMU needs no baud-rate setup.
 */
#include <karst/arch.h>
#include <karst/irq.h>
#include <stdint.h>

#define PL011_DR 0x00
#define PL011_FR 0x18
#define FR_RXFE	 (1 << 4)
#define FR_TXFF	 (1 << 5)

#define PL011_IMSC 0x38
#define PL011_ICR  0x44
#define INT_RX	   (1 << 4)
#define INT_RT	   (1 << 6)

static volatile uint32_t *uart;
static int uart_intid = -1;

void aarch64_console_init(uint64_t pl011_pa, int intid)
{
	uart = phys_to_virt(pl011_pa);
	uart_intid = intid;
}

/* Receive and receive-timeout interrupts, level-triggered, on the GIC ID
 * the device tree gave. */
int arch_console_rx_irq(struct irq_config *cfg)
{
	if (uart_intid < 0)
		return -1;
	cfg->level = true;
	cfg->active_low = false;
	/* No ICR clear: a character that came during boot keeps its pending
	 * receive interrupt (console_input_init drains it anyway). */
	uart[PL011_IMSC / 4] = INT_RX | INT_RT;
	return uart_intid;
}

void arch_console_putc(char c)
{
	while (uart[PL011_FR / 4] & FR_TXFF)
		;
	uart[PL011_DR / 4] = (uint8_t)c;
}

/* Reading DR until the FIFO is empty is what clears the receive interrupt.
 * Clearing it through ICR after seeing the FIFO empty would race with a
 * character arriving in between: its interrupt would be wiped and it would
 * sit unread (piped input stalled after one character). */
int arch_console_getc(void)
{
	if (uart[PL011_FR / 4] & FR_RXFE)
		return -1;
	return (int)(uart[PL011_DR / 4] & 0xff);
}
