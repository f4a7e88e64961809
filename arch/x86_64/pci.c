/*
 * x86_64 PCI: configuration space through ports 0xcf8/0xcfc (the first 256
 * bytes, all the drivers here need), BARs as the firmware assigned them,
 * and MSI/MSI-X delivered to the local APIC: vectors 80-239 are lines
 * 256-415. INTx would need the ACPI _PRT; devices here use MSI-X.
 */
#include <arch/cpu.h>
#include <errno.h>
#include <karst/arch.h>
#include <karst/pci.h>
#include <karst/sync.h>

#define MSI_VEC_BASE  80
#define MSI_VEC_COUNT 160
#define MSI_LINE_BASE 256

static struct spinlock cfg_lock;
static unsigned msi_next;

static uint32_t cf8_read(unsigned bus, unsigned devfn, unsigned off)
{
	spin_lock(&cfg_lock);
	outl(0xcf8, 0x80000000u | bus << 16 | devfn << 8 | (off & 0xfc));
	uint32_t v;
	__asm__ __volatile__("inl %1, %0" : "=a"(v) : "Nd"((uint16_t)0xcfc));
	spin_unlock(&cfg_lock);
	return v;
}

static void cf8_write(unsigned bus, unsigned devfn, unsigned off, uint32_t v)
{
	spin_lock(&cfg_lock);
	outl(0xcf8, 0x80000000u | bus << 16 | devfn << 8 | (off & 0xfc));
	outl(0xcfc, v);
	spin_unlock(&cfg_lock);
}

int arch_pci_host(struct pci_host *h)
{
	spin_lock_init(&cfg_lock, "pci_cfg");
	h->cfg_read = cf8_read;
	h->cfg_write = cf8_write;
	h->bus_start = 0;
	h->bus_end = 255;
	h->assign_bars = false; /* the firmware did */
	h->name = "x86 host bridge (0xcf8)";
	return 0;
}

int arch_pci_intx(const struct pci_dev *d, unsigned pin, unsigned *line, struct irq_config *cfg)
{
	return -ENOTSUP;
}

int arch_msi_alloc(unsigned *line, uint64_t *addr, uint32_t *data)
{
	unsigned long f = arch_irq_save();
	unsigned k = msi_next < MSI_VEC_COUNT ? msi_next++ : MSI_VEC_COUNT;
	arch_irq_restore(f);
	if (k == MSI_VEC_COUNT)
		return -ENOSPC;
	*line = MSI_LINE_BASE + k;
	*addr = 0xfee00000; /* local APIC 0, fixed delivery */
	*data = MSI_VEC_BASE + k;
	return 0;
}

/* The vector an MSI line arrives on, or -1. */
int x86_msi_line_of_vector(unsigned v)
{
	if (v >= MSI_VEC_BASE && v < MSI_VEC_BASE + MSI_VEC_COUNT)
		return (int)(MSI_LINE_BASE + v - MSI_VEC_BASE);
	return -1;
}

bool x86_line_is_msi(unsigned line)
{
	return line >= MSI_LINE_BASE && line < MSI_LINE_BASE + MSI_VEC_COUNT;
}
