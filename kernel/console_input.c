/*
 * Console input: the console's receive interrupt puts characters in a
 * ring and wakes the reader, so a shell waiting for a key leaves the CPU
 * halted. Consoles without a receive interrupt are polled every 10 ms.
 */
#include <karst/arch.h>
#include <karst/console.h>
#include <karst/irq.h>
#include <karst/printk.h>
#include <karst/sched.h>
#include <karst/time.h>

#define RING 256

static char ring[RING];
static unsigned ring_r, ring_w; /* free-running; interrupts disabled around use */
static struct waitq readers = {LIST_HEAD_INIT(readers.waiters)};
static bool rx_irq;

static void console_rx(void *arg)
{
	int c;
	while ((c = arch_console_getc()) >= 0) {
		if (ring_w - ring_r < RING)
			ring[ring_w++ % RING] = (char)c;
	}
	wq_wake_all(&readers);
}

void console_input_init(void)
{
	struct irq_config cfg = {0};
	int line = arch_console_rx_irq(&cfg);
	if (line >= 0 && irq_register((unsigned)line, console_rx, NULL, "console", cfg) == 0) {
		rx_irq = true;
		/* What arrived before the interrupt was on (keys typed or piped
		 * during boot) may not raise it: take it now. */
		unsigned long f = arch_irq_save();
		console_rx(NULL);
		arch_irq_restore(f);
	} else {
		printk("console: no receive interrupt, polling\n");
	}
}

int console_getc(void)
{
	for (;;) {
		unsigned long f = arch_irq_save();
		if (ring_r != ring_w) {
			int c = (unsigned char)ring[ring_r++ % RING];
			arch_irq_restore(f);
			return c;
		}
		if (rx_irq) {
			wq_sleep(&readers, 0);
			arch_irq_restore(f);
			continue;
		}
		arch_irq_restore(f);
		int c = arch_console_getc();
		if (c >= 0)
			return c;
		thread_sleep_ns(10 * NSEC_PER_MSEC);
	}
}
