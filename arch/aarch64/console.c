/*
 * PL011 UART, polled, through the direct map's device window. QEMU needs no
 * baud-rate setup.
 */
#include <karst/arch.h>
#include <stdint.h>

#define PL011_DR 0x00
#define PL011_FR 0x18
#define FR_RXFE	 (1 << 4)
#define FR_TXFF	 (1 << 5)

static volatile uint32_t *uart;

void aarch64_console_init(uint64_t pl011_pa)
{
	uart = phys_to_virt(pl011_pa);
}

void arch_console_putc(char c)
{
	while (uart[PL011_FR / 4] & FR_TXFF)
		;
	uart[PL011_DR / 4] = (uint8_t)c;
}

int arch_console_getc(void)
{
	if (uart[PL011_FR / 4] & FR_RXFE)
		return -1;
	return (int)(uart[PL011_DR / 4] & 0xff);
}
