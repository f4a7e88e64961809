/*
 * aarch64 PCI on QEMU virt: the "pci-host-ecam-generic" node of the device
 * tree gives the ECAM window, the bus range, the memory windows ("ranges",
 * in which karst assigns BARs, since no firmware did) and "interrupt-map"
 * for INTx. MSI goes to a GICv2m frame when the GIC has one (GICv2); with
 * GICv3 (an ITS, not supported here) devices fall back to INTx.
 */
#include <arch/cpu.h>
#include <errno.h>
#include <karst/arch.h>
#include <karst/pci.h>
#include <karst/printk.h>
#include <libfdt.h>

extern const void *aarch64_fdt;

static volatile uint8_t *ecam;
static const fdt32_t *imap, *imap_mask;
static int imap_len, gic_addr_cells = 2;
static volatile uint32_t *v2m;
static uint64_t v2m_pa;
static unsigned v2m_base, v2m_count, v2m_next;

static uint64_t cells(const fdt32_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = v << 32 | fdt32_to_cpu(p[i]);
	return v;
}

static uint32_t ecam_read(unsigned bus, unsigned devfn, unsigned off)
{
	return *(volatile uint32_t *)(ecam + ((uint64_t)bus << 20 | devfn << 12 | (off & 0xffc)));
}

static void ecam_write(unsigned bus, unsigned devfn, unsigned off, uint32_t v)
{
	*(volatile uint32_t *)(ecam + ((uint64_t)bus << 20 | devfn << 12 | (off & 0xffc))) = v;
}

static void find_v2m(const void *fdt)
{
	int node = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v2m-frame");
	if (node < 0)
		return;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", NULL);
	if (!reg)
		return;
	v2m_pa = cells(reg, 2);
	v2m = arch_map_mmio(v2m_pa, 0x1000);
	if (!v2m)
		return;
	uint32_t typer = v2m[0x008 / 4];
	v2m_base = (typer >> 16) & 0x3ff;
	v2m_count = typer & 0x3ff;
}

int arch_pci_host(struct pci_host *h)
{
	const void *fdt = aarch64_fdt;
	int node = fdt ? fdt_node_offset_by_compatible(fdt, -1, "pci-host-ecam-generic") : -1;
	if (node < 0)
		return -ENODEV;
	int ac = fdt_address_cells(fdt, fdt_parent_offset(fdt, node));
	int sc = fdt_size_cells(fdt, fdt_parent_offset(fdt, node));
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
	if (!reg || len < (ac + sc) * 4)
		return -ENODEV;
	uint64_t ecam_pa = cells(reg, ac), ecam_size = cells(reg + ac, sc);
	ecam = arch_map_mmio(ecam_pa, ecam_size);
	if (!ecam) {
		printk("pci: cannot map ECAM at %#lx\n", (unsigned long)ecam_pa);
		return -ENOMEM;
	}
	h->bus_start = 0;
	h->bus_end = (unsigned)(ecam_size >> 20) - 1;
	const fdt32_t *br = fdt_getprop(fdt, node, "bus-range", &len);
	if (br && len == 8) {
		h->bus_start = fdt32_to_cpu(br[0]);
		h->bus_end = fdt32_to_cpu(br[1]);
	}
	/* ranges: (flags, pci.hi, pci.lo) (cpu address: ac cells) (size: 2 cells) */
	const fdt32_t *r = fdt_getprop(fdt, node, "ranges", &len);
	int step = 3 + ac + 2;
	for (int off = 0; r && off + step <= len / 4; off += step) {
		uint32_t space = (fdt32_to_cpu(r[off]) >> 24) & 3;
		struct pci_window w = {
		    .pci_base = cells(r + off + 1, 2),
		    .cpu_base = cells(r + off + 3, ac),
		    .size = cells(r + off + 3 + ac, 2),
		};
		if (space == 2)
			h->mem32 = w;
		else if (space == 3)
			h->mem64 = w;
	}
	imap = fdt_getprop(fdt, node, "interrupt-map", &imap_len);
	imap_mask = fdt_getprop(fdt, node, "interrupt-map-mask", NULL);
	int gic = fdt_node_offset_by_compatible(fdt, -1, "arm,cortex-a15-gic");
	if (gic < 0)
		gic = fdt_node_offset_by_compatible(fdt, -1, "arm,gic-v3");
	if (gic >= 0)
		gic_addr_cells = fdt_address_cells(fdt, gic);
	find_v2m(fdt);
	h->cfg_read = ecam_read;
	h->cfg_write = ecam_write;
	h->assign_bars = true;
	h->name = v2m ? "ECAM (device tree), MSI through GICv2m" : "ECAM (device tree), INTx";
	return 0;
}

/* interrupt-map entries: child unit address (3 cells), child pin (1),
 * parent phandle (1), parent unit address (gic_addr_cells), parent
 * interrupt (3: type, number, flags). */
int arch_pci_intx(const struct pci_dev *d, unsigned pin, unsigned *line, struct irq_config *cfg)
{
	if (!imap || !imap_mask)
		return -ENOENT;
	uint32_t key[4] = {(uint32_t)d->bus << 16 | (uint32_t)d->dev << 11 | (uint32_t)d->fn << 8,
			   0, 0, pin};
	uint32_t mask[4];
	for (int i = 0; i < 4; i++)
		mask[i] = fdt32_to_cpu(imap_mask[i]);
	int step = 4 + 1 + gic_addr_cells + 3;
	for (int off = 0; off + step <= imap_len / 4; off += step) {
		bool match = true;
		for (int i = 0; i < 4; i++)
			match &= (fdt32_to_cpu(imap[off + i]) & mask[i]) == (key[i] & mask[i]);
		if (!match)
			continue;
		const fdt32_t *irq = imap + off + 5 + gic_addr_cells;
		uint32_t type = fdt32_to_cpu(irq[0]), num = fdt32_to_cpu(irq[1]);
		uint32_t flags = fdt32_to_cpu(irq[2]);
		*line = num + (type == 0 ? 32 : 16);
		cfg->level = (flags & 0xc) != 0;
		cfg->active_low = (flags & 0xa) != 0 && (flags & 0x5) == 0;
		return 0;
	}
	return -ENOENT;
}

int arch_msi_alloc(unsigned *line, uint64_t *addr, uint32_t *data)
{
	if (!v2m)
		return -ENOTSUP;
	unsigned long f = arch_irq_save();
	unsigned k = v2m_next < v2m_count ? v2m_next++ : v2m_count;
	arch_irq_restore(f);
	if (k == v2m_count)
		return -ENOSPC;
	*line = v2m_base + k;
	*addr = v2m_pa + 0x040; /* MSI_SETSPI_NS */
	*data = v2m_base + k;
	return 0;
}
