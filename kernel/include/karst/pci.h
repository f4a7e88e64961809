/*
 * PCI (kernel only): enumeration, BARs, capabilities, MSI-X and INTx, and
 * driver registration.
 *
 * At boot (INIT_BUS) the host bridge the architecture describes is
 * scanned, bus 0 and the buses behind bridges firmware configured. Where
 * no firmware assigned BARs (aarch64 virt booted with -kernel) karst sizes
 * and assigns them itself from the host bridge's windows. Memory decoding
 * and bus mastering are enabled, then every registered driver whose match()
 * accepts a device gets probe(). Probing runs in the boot thread and may
 * sleep.
 *
 * Interrupts: pci_msix_enable() allocates message-signalled vectors where
 * the platform has an MSI target (x86_64 local APIC, aarch64 GICv2m) and
 * returns -ENOTSUP otherwise; pci_intx() gives the INTx line. Either way
 * the result is an interrupt line for irq_register().
 */
#ifndef KARST_PCI_H
#define KARST_PCI_H

#include <karst/irq.h>
#include <karst/list.h>
#include <stdbool.h>
#include <stdint.h>

#define PCI_CAP_MSIX   0x11
#define PCI_CAP_VENDOR 0x09

struct pci_bar {
	uint64_t pa; /* CPU physical address (0: not implemented) */
	uint64_t size;
	bool io, is64, prefetch;
	void *va; /* mapped by pci_bar_map() */
};

struct pci_dev {
	uint8_t bus, dev, fn;
	uint16_t vendor, device;
	uint32_t class_code; /* class << 16 | subclass << 8 | prog-if */
	uint8_t revision, header_type;
	uint16_t subsys_vendor, subsys_id;
	struct pci_bar bar[6];
	uint8_t msix_cap; /* config offset, 0 when absent */
	uint8_t intx_pin; /* 1-4, 0 when none */
	void *driver_data;
	struct list_node link;
};

struct pci_driver {
	const char *name;
	bool (*match)(const struct pci_dev *d);
	int (*probe)(struct pci_dev *d);
};

#define PCI_DRIVER(drv)                                                                            \
	static const struct pci_driver *const __pci_drv_##drv __attribute__((used))                \
	__attribute__((section("karst_pci_driver"))) = &(drv)

uint8_t pci_cfg_read8(const struct pci_dev *d, unsigned off);
uint16_t pci_cfg_read16(const struct pci_dev *d, unsigned off);
uint32_t pci_cfg_read32(const struct pci_dev *d, unsigned off);
void pci_cfg_write16(const struct pci_dev *d, unsigned off, uint16_t v);
void pci_cfg_write32(const struct pci_dev *d, unsigned off, uint32_t v);

/* Offset of the first capability `id` after `after` (0: from the start),
 * or 0. */
unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned after);
/* The kernel virtual address of a memory BAR, mapping it on first use;
 * NULL for an I/O or absent BAR or when it cannot be mapped. */
void *pci_bar_map(struct pci_dev *d, unsigned bar);
/* Enable MSI-X with nvec vectors, the line of vector i in lines[i]
 * (register handlers with irq_register before interrupts can come).
 * Returns 0, -ENOTSUP (no MSI-X, or no MSI target on this platform),
 * -ENOSPC (fewer vectors than asked) or -ENOMEM. */
int pci_msix_enable(struct pci_dev *d, unsigned nvec, unsigned *lines);
/* The line and trigger of the device's INTx pin; -ENOENT when none. */
int pci_intx(const struct pci_dev *d, unsigned *line, struct irq_config *cfg);

/* The architecture's side. */
struct pci_window {
	uint64_t pci_base, cpu_base, size;
	uint64_t next; /* allocation cursor, a PCI address */
};

struct pci_host {
	uint32_t (*cfg_read)(unsigned bus, unsigned devfn, unsigned off);
	void (*cfg_write)(unsigned bus, unsigned devfn, unsigned off, uint32_t v);
	unsigned bus_start, bus_end;
	bool assign_bars; /* no firmware assigned them: karst does */
	struct pci_window mem32, mem64;
	const char *name;
};

/* Fill in the host bridge; -ENODEV when the machine has none. */
int arch_pci_host(struct pci_host *h);
int arch_pci_intx(const struct pci_dev *d, unsigned pin, unsigned *line, struct irq_config *cfg);
/* One message-signalled interrupt: its line, and the address and data the
 * device writes to raise it; -ENOTSUP when the platform has no MSI target. */
int arch_msi_alloc(unsigned *line, uint64_t *addr, uint32_t *data);
/* Map device memory (uncached); NULL when it cannot. */
void *arch_map_mmio(uint64_t pa, uint64_t size);

/* Call fn for every device found. */
void pci_for_each(void (*fn)(struct pci_dev *d, void *arg), void *arg);

#endif
