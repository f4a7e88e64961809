/*
 * PCI enumeration, BAR assignment, capabilities, MSI-X and driver probing;
 * see <karst/pci.h>.
 *
 * BAR sizing writes all ones and reads back the mask (with decoding off).
 * When karst assigns BARs, it hands each one the next naturally aligned
 * range of the host bridge's 32-bit memory window, largest BARs first so
 * alignment wastes little; 64-bit BARs too, while they fit below 4 GiB
 * (the window above needs run-time mappings the VM layer will bring). I/O
 * BARs are left unassigned: no driver here needs port I/O.
 */
#include <errno.h>
#include <karst/init.h>
#include <karst/kmem.h>
#include <karst/pci.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <string.h>

#define PCI_COMMAND	 0x04
#define PCI_CMD_MEM	 (1 << 1)
#define PCI_CMD_MASTER	 (1 << 2)
#define PCI_CMD_INTX_OFF (1 << 10)
#define PCI_STATUS	 0x06
#define PCI_STATUS_CAPS	 (1 << 4)
#define PCI_BAR0	 0x10
#define PCI_CAP_PTR	 0x34
#define PCI_INT_PIN	 0x3d
#define PCI_SECONDARY	 0x19
#define MSIX_CTRL	 2
#define MSIX_ENABLE	 (1u << 15)
#define MSIX_MASKALL	 (1u << 14)

extern const struct pci_driver *const __start_karst_pci_driver[], *const __stop_karst_pci_driver[];

static struct pci_host host;
static bool host_ok;
static struct list_node devices = LIST_HEAD_INIT(devices);

static unsigned devfn(const struct pci_dev *d)
{
	return (unsigned)d->dev << 3 | d->fn;
}

uint32_t pci_cfg_read32(const struct pci_dev *d, unsigned off)
{
	return host.cfg_read(d->bus, devfn(d), off & ~3u);
}

uint16_t pci_cfg_read16(const struct pci_dev *d, unsigned off)
{
	return (uint16_t)(pci_cfg_read32(d, off) >> ((off & 2) * 8));
}

uint8_t pci_cfg_read8(const struct pci_dev *d, unsigned off)
{
	return (uint8_t)(pci_cfg_read32(d, off) >> ((off & 3) * 8));
}

void pci_cfg_write32(const struct pci_dev *d, unsigned off, uint32_t v)
{
	host.cfg_write(d->bus, devfn(d), off & ~3u, v);
}

void pci_cfg_write16(const struct pci_dev *d, unsigned off, uint16_t v)
{
	uint32_t old = pci_cfg_read32(d, off);
	unsigned shift = (off & 2) * 8;
	old &= ~(0xffffu << shift);
	pci_cfg_write32(d, off, old | (uint32_t)v << shift);
}

unsigned pci_find_cap(const struct pci_dev *d, uint8_t id, unsigned after)
{
	if (!(pci_cfg_read16(d, PCI_STATUS) & PCI_STATUS_CAPS))
		return 0;
	unsigned off = after ? pci_cfg_read8(d, after + 1) : pci_cfg_read8(d, PCI_CAP_PTR);
	for (int guard = 0; off >= 0x40 && off < 256 && guard < 48; guard++) {
		if (pci_cfg_read8(d, off) == id)
			return off;
		off = pci_cfg_read8(d, off + 1) & ~3u;
	}
	return 0;
}

/* Size BAR i (decoding must be off); returns the BARs it used (1 or 2). */
static int bar_probe(struct pci_dev *d, int i)
{
	unsigned off = PCI_BAR0 + 4 * (unsigned)i;
	uint32_t orig = pci_cfg_read32(d, off);
	pci_cfg_write32(d, off, 0xffffffff);
	uint32_t mask = pci_cfg_read32(d, off);
	pci_cfg_write32(d, off, orig);
	struct pci_bar *b = &d->bar[i];
	if (mask == 0 || mask == 0xffffffff)
		return 1;
	if (orig & 1) {
		b->io = true;
		b->size = (uint64_t)(~(mask & ~3u) & 0xffff) + 1;
		b->pa = orig & ~3u;
		return 1;
	}
	b->prefetch = orig & 8;
	uint64_t base = orig & ~0xfull, m = mask & ~0xfull;
	int used = 1;
	if (((orig >> 1) & 3) == 2 && i < 5) {
		b->is64 = true;
		uint32_t orig_hi = pci_cfg_read32(d, off + 4);
		pci_cfg_write32(d, off + 4, 0xffffffff);
		uint32_t mask_hi = pci_cfg_read32(d, off + 4);
		pci_cfg_write32(d, off + 4, orig_hi);
		base |= (uint64_t)orig_hi << 32;
		m |= (uint64_t)mask_hi << 32;
		used = 2;
	} else {
		m |= 0xffffffff00000000ULL;
	}
	b->size = ~m + 1;
	b->pa = base;
	return used;
}

/* A naturally aligned range of size bytes in window w (its PCI address in
 * *at); false when the window is absent or full. */
static bool window_take(struct pci_window *w, uint64_t size, uint64_t *at)
{
	uint64_t a = (w->next + size - 1) & ~(size - 1);
	if (w->size == 0 || a < w->next || a + size > w->pci_base + w->size)
		return false;
	w->next = a + size;
	*at = a;
	return true;
}

/* Give every unassigned memory BAR a range: 64-bit BARs from the 64-bit
 * window where the host has one (large ones, such as a virtio-fs DAX
 * window, fit only there), the rest, and 64-bit BARs the 64-bit window
 * cannot take, from the 32-bit window. Largest first, to waste less to
 * alignment. */
static void bars_assign(struct pci_dev *d)
{
	for (;;) {
		int best = -1;
		for (int i = 0; i < 6; i++) {
			struct pci_bar *b = &d->bar[i];
			if (b->size && !b->io && b->pa == 0 &&
			    (best < 0 || b->size > d->bar[best].size))
				best = i;
		}
		if (best < 0)
			return;
		struct pci_bar *b = &d->bar[best];
		struct pci_window *w = &host.mem64;
		uint64_t at = 0;
		bool ok = b->is64 && window_take(w, b->size, &at);
		if (!ok) {
			w = &host.mem32;
			ok = window_take(w, b->size, &at);
		}
		if (!ok) {
			printk("pci %02x:%02x.%x: no room for BAR%d (%lu bytes)\n", d->bus, d->dev,
			       d->fn, best, (unsigned long)b->size);
			b->size = 0;
			continue;
		}
		unsigned off = PCI_BAR0 + 4 * (unsigned)best;
		pci_cfg_write32(d, off, (uint32_t)at | (pci_cfg_read32(d, off) & 0xf));
		if (b->is64)
			pci_cfg_write32(d, off + 4, (uint32_t)(at >> 32));
		b->pa = at - w->pci_base + w->cpu_base;
	}
}

static void pci_add_function(unsigned bus, unsigned dev, unsigned fn)
{
	struct pci_dev *d = kzalloc(sizeof(*d));
	if (!d)
		return;
	d->bus = (uint8_t)bus;
	d->dev = (uint8_t)dev;
	d->fn = (uint8_t)fn;
	uint32_t id = pci_cfg_read32(d, 0);
	d->vendor = (uint16_t)id;
	d->device = (uint16_t)(id >> 16);
	uint32_t cls = pci_cfg_read32(d, 8);
	d->revision = (uint8_t)cls;
	d->class_code = cls >> 8;
	d->header_type = pci_cfg_read8(d, 0x0e) & 0x7f;
	if (d->header_type == 0) {
		uint32_t ss = pci_cfg_read32(d, 0x2c);
		d->subsys_vendor = (uint16_t)ss;
		d->subsys_id = (uint16_t)(ss >> 16);
		uint16_t cmd = pci_cfg_read16(d, PCI_COMMAND);
		pci_cfg_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_MEM | 1));
		for (int i = 0; i < 6;)
			i += bar_probe(d, i);
		if (host.assign_bars)
			bars_assign(d);
		pci_cfg_write16(d, PCI_COMMAND, cmd | PCI_CMD_MEM | PCI_CMD_MASTER);
		d->msix_cap = (uint8_t)pci_find_cap(d, PCI_CAP_MSIX, 0);
		d->intx_pin = pci_cfg_read8(d, PCI_INT_PIN);
	}
	list_add_tail(&devices, &d->link);
}

static void pci_scan_bus(unsigned bus, int depth)
{
	for (unsigned dev = 0; dev < 32; dev++) {
		for (unsigned fn = 0; fn < 8; fn++) {
			uint32_t id = host.cfg_read(bus, dev << 3 | fn, 0);
			if ((id & 0xffff) == 0xffff || (id & 0xffff) == 0) {
				if (fn == 0)
					break;
				continue;
			}
			pci_add_function(bus, dev, fn);
			uint8_t ht = (uint8_t)(host.cfg_read(bus, dev << 3 | fn, 0x0c) >> 16);
			/* A bridge firmware configured: follow it. */
			if ((ht & 0x7f) == 1 && depth < 8) {
				unsigned sec =
				    (host.cfg_read(bus, dev << 3 | fn, 0x18) >> 8) & 0xff;
				if (sec > bus && sec <= host.bus_end)
					pci_scan_bus(sec, depth + 1);
			}
			if (fn == 0 && !(ht & 0x80))
				break; /* single-function device */
		}
	}
}

void *pci_bar_map(struct pci_dev *d, unsigned i)
{
	if (i >= 6 || !d->bar[i].size || d->bar[i].io || !d->bar[i].pa)
		return NULL;
	if (!d->bar[i].va)
		d->bar[i].va = arch_map_mmio(d->bar[i].pa, d->bar[i].size);
	return d->bar[i].va;
}

int pci_msix_enable(struct pci_dev *d, unsigned nvec, unsigned *lines)
{
	if (!d->msix_cap)
		return -ENOTSUP;
	unsigned cap = d->msix_cap;
	uint16_t ctrl = pci_cfg_read16(d, cap + MSIX_CTRL);
	unsigned tsize = (ctrl & 0x7ff) + 1;
	if (nvec > tsize)
		return -ENOSPC;
	uint32_t tinfo = pci_cfg_read32(d, cap + 4);
	uint8_t *table = pci_bar_map(d, tinfo & 7);
	if (!table)
		return -ENOTSUP;
	table += tinfo & ~7u;
	for (unsigned i = 0; i < nvec; i++) {
		uint64_t addr;
		uint32_t data;
		int e = arch_msi_alloc(&lines[i], &addr, &data);
		if (e)
			return e;
		volatile uint32_t *ent = (volatile uint32_t *)(table + 16 * i);
		ent[0] = (uint32_t)addr;
		ent[1] = (uint32_t)(addr >> 32);
		ent[2] = data;
		ent[3] = 0; /* unmasked */
	}
	pci_cfg_write16(d, cap + MSIX_CTRL, (uint16_t)((ctrl & ~MSIX_MASKALL) | MSIX_ENABLE));
	/* With MSI-X on, INTx is off. */
	pci_cfg_write16(d, PCI_COMMAND, pci_cfg_read16(d, PCI_COMMAND) | PCI_CMD_INTX_OFF);
	return 0;
}

int pci_intx(const struct pci_dev *d, unsigned *line, struct irq_config *cfg)
{
	if (d->intx_pin < 1 || d->intx_pin > 4)
		return -ENOENT;
	return arch_pci_intx(d, d->intx_pin, line, cfg);
}

void pci_for_each(void (*fn)(struct pci_dev *d, void *arg), void *arg)
{
	list_for_each(it, &devices)
	{
		fn(list_entry(it, struct pci_dev, link), arg);
	}
}

static int pci_init(void)
{
	if (arch_pci_host(&host) != 0) {
		printk("pci: no host bridge\n");
		return 0;
	}
	host_ok = true;
	host.mem32.next = host.mem32.pci_base;
	host.mem64.next = host.mem64.pci_base;
	pci_scan_bus(host.bus_start, 0);
	int n = 0;
	list_for_each(it, &devices)
	{
		struct pci_dev *d = list_entry(it, struct pci_dev, link);
		n++;
		for (const struct pci_driver *const *dp = __start_karst_pci_driver;
		     dp < __stop_karst_pci_driver; dp++) {
			if (!(*dp)->match(d))
				continue;
			int e = (*dp)->probe(d);
			if (e)
				printk("pci %02x:%02x.%x: %s: probe failed (%d)\n", d->bus, d->dev,
				       d->fn, (*dp)->name, e);
			break;
		}
	}
	printk("pci: %s, %d functions\n", host.name, n);
	return 0;
}
KARST_INIT(INIT_BUS, pci_init);

static void print_dev(struct pci_dev *d, void *arg)
{
	shell_printf("%02x:%02x.%x %04x:%04x class %06x", d->bus, d->dev, d->fn, d->vendor,
		     d->device, d->class_code);
	for (int i = 0; i < 6; i++)
		if (d->bar[i].size)
			shell_printf(" bar%d %s%#lx+%#lx", i, d->bar[i].io ? "io " : "",
				     (unsigned long)d->bar[i].pa, (unsigned long)d->bar[i].size);
	shell_printf("%s\n", d->msix_cap ? " msix" : "");
}

static int cmd_pci(int argc, char **argv)
{
	if (!host_ok) {
		shell_printf("no PCI host bridge\n");
		return 1;
	}
	shell_printf("host %s, buses %u-%u\n", host.name, host.bus_start, host.bus_end);
	pci_for_each(print_dev, NULL);
	return 0;
}
SHELL_CMD("pci", cmd_pci, "list PCI functions, their BARs and MSI-X");
