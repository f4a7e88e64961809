/*
 * Device interrupts (kernel only).
 *
 * A line is the architecture's number for a device interrupt: an IOAPIC
 * input (GSI) on x86_64, a GIC interrupt ID on aarch64. Handlers run in
 * interrupt context with interrupts disabled: they must not sleep and
 * should only acknowledge the device and wake a thread.
 */
#ifndef KARST_IRQ_H
#define KARST_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#define IRQ_MAX_LINES 1024

typedef void (*irq_handler_t)(void *arg);

struct irq_config {
	bool level; /* level-triggered (else edge) */
	bool active_low;
};

/* 0, -EINVAL (bad line), -EBUSY (taken) or the arch's error. */
int irq_register(unsigned line, irq_handler_t fn, void *arg, const char *name,
		 struct irq_config cfg);
void irq_unregister(unsigned line);
/* Called by the arch interrupt entry, between irq_enter and irq_exit. */
void irq_dispatch(unsigned line);
void irq_print_stats(void);

#endif
