/*
 * The table of device-interrupt handlers; see <karst/irq.h>.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/irq.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <karst/timer.h>

struct irq_slot {
	irq_handler_t fn;
	void *arg;
	const char *name;
	uint64_t count;
};

static struct irq_slot irq_table[IRQ_MAX_LINES];
static uint64_t irq_unhandled;

int irq_register(unsigned line, irq_handler_t fn, void *arg, const char *name,
		 struct irq_config cfg)
{
	if (line >= IRQ_MAX_LINES || !fn)
		return -EINVAL;
	unsigned long f = arch_irq_save();
	if (irq_table[line].fn) {
		arch_irq_restore(f);
		return -EBUSY;
	}
	irq_table[line] = (struct irq_slot){fn, arg, name, 0};
	int e = arch_irq_line_enable(line, cfg.level, cfg.active_low);
	if (e)
		irq_table[line].fn = NULL;
	arch_irq_restore(f);
	return e;
}

void irq_unregister(unsigned line)
{
	if (line >= IRQ_MAX_LINES)
		return;
	unsigned long f = arch_irq_save();
	arch_irq_line_disable(line);
	irq_table[line].fn = NULL;
	arch_irq_restore(f);
}

void irq_dispatch(unsigned line)
{
	struct irq_slot *s = line < IRQ_MAX_LINES ? &irq_table[line] : NULL;
	if (!s || !s->fn) {
		irq_unhandled++;
		return;
	}
	s->count++;
	s->fn(s->arg);
}

void irq_print_stats(void)
{
	printk("%6s %12s  %s\n", "line", "count", "handler");
	for (unsigned i = 0; i < IRQ_MAX_LINES; i++)
		if (irq_table[i].fn)
			printk("%6u %12lu  %s\n", i, (unsigned long)irq_table[i].count,
			       irq_table[i].name);
	printk("timer interrupts: %lu, unhandled: %lu\n", (unsigned long)timer_interrupts(),
	       (unsigned long)irq_unhandled);
}

static int cmd_irqs(int argc, char **argv)
{
	irq_print_stats();
	return 0;
}
SHELL_CMD("irqs", cmd_irqs, "interrupt lines and their counts");
