/*
 * aarch64_boot: from the device tree to kmain().
 *
 * The device tree (libfdt, from Debian's package) gives the memory nodes,
 * /chosen/bootargs, the console (/chosen/stdout-path, a PL011), the PSCI
 * conduit and the model name. Reserved: the kernel image, the device tree
 * blob itself, its /memreserve/ entries and /reserved-memory children.
 */
#include <arch/cpu.h>
#include <karst/arch.h>
#include <karst/printk.h>
#include <libfdt.h>
#include <string.h>

void aarch64_console_init(uint64_t pl011_pa, int intid);
void aarch64_gic_init(const void *fdt);
void aarch64_time_init(void);
void aarch64_power_init(const char *method);

static struct boot_info boot_info;
const void *aarch64_fdt; /* the device tree, for drivers (reserved memory) */
static char cmdline[2048];
static char model[64] = "QEMU virt (aarch64)";

static void add_region(struct boot_region *r, int *n, uint64_t base, uint64_t size)
{
	if (*n < BOOT_MAX_REGIONS && size)
		r[(*n)++] = (struct boot_region){base, size};
}

static uint64_t read_cells(const fdt32_t *p, int cells)
{
	uint64_t v = 0;
	for (int i = 0; i < cells; i++)
		v = (v << 32) | fdt32_to_cpu(p[i]);
	return v;
}

/* Append each (address, size) pair of node's "reg" to r. */
static void add_reg(const void *fdt, int node, int ac, int sc, struct boot_region *r, int *n)
{
	int len;
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", &len);
	if (!reg || ac < 1 || ac > 2 || sc < 1 || sc > 2)
		return;
	int step = (ac + sc) * 4;
	for (int off = 0; off + step <= len; off += step) {
		const fdt32_t *e = (const fdt32_t *)((const char *)reg + off);
		add_region(r, n, read_cells(e, ac), read_cells(e + ac, sc));
	}
}

/* The PL011 named by /chosen/stdout-path, or the first one in the tree;
 * *intid gets its GIC interrupt ID (SPI n is 32 + n), or -1. */
static uint64_t find_console(const void *fdt, int ac, int *intid)
{
	*intid = -1;
	int chosen = fdt_path_offset(fdt, "/chosen");
	int node = -1;
	if (chosen >= 0) {
		const char *path = fdt_getprop(fdt, chosen, "stdout-path", NULL);
		if (path) {
			char p[128];
			size_t n = strcspn(path, ":");
			if (n < sizeof(p)) {
				memcpy(p, path, n);
				p[n] = 0;
				node = fdt_path_offset(fdt, p);
			}
		}
	}
	if (node < 0)
		node = fdt_node_offset_by_compatible(fdt, -1, "arm,pl011");
	if (node < 0)
		return 0x09000000;
	int len;
	const fdt32_t *irq = fdt_getprop(fdt, node, "interrupts", &len);
	if (irq && len >= 12)
		*intid = (int)fdt32_to_cpu(irq[1]) + (fdt32_to_cpu(irq[0]) == 0 ? 32 : 16);
	const fdt32_t *reg = fdt_getprop(fdt, node, "reg", NULL);
	return reg ? read_cells(reg, ac) : 0x09000000;
}

void aarch64_boot(uint64_t dtb_pa)
{
	const void *fdt = (const void *)(uintptr_t)dtb_pa;
	bool fdt_ok = dtb_pa && fdt_check_header(fdt) == 0;
	int ac = fdt_ok ? fdt_address_cells(fdt, 0) : 2;
	int uart_irq = -1;
	aarch64_console_init(fdt_ok ? find_console(fdt, ac, &uart_irq) : 0x09000000, uart_irq);
	if (!fdt_ok)
		panic("aarch64_boot: no valid device tree at %#lx (x0); boot with QEMU -kernel",
		      (unsigned long)dtb_pa);
	int sc = fdt_size_cells(fdt, 0);
	aarch64_fdt = fdt;

	const char *m = fdt_getprop(fdt, 0, "model", NULL);
	if (m)
		strncpy(model, m, sizeof(model) - 1);
	boot_info.machine = model;

	int chosen = fdt_path_offset(fdt, "/chosen");
	const char *args = chosen >= 0 ? fdt_getprop(fdt, chosen, "bootargs", NULL) : NULL;
	if (args)
		strncpy(cmdline, args, sizeof(cmdline) - 1);
	boot_info.cmdline = cmdline;

	for (int node = fdt_next_node(fdt, -1, NULL); node >= 0;
	     node = fdt_next_node(fdt, node, NULL)) {
		const char *type = fdt_getprop(fdt, node, "device_type", NULL);
		if (type && strcmp(type, "memory") == 0)
			add_reg(fdt, node, ac, sc, boot_info.ram, &boot_info.nram);
	}
	if (boot_info.nram == 0)
		panic("aarch64_boot: the device tree has no memory node");

	add_region(boot_info.reserved, &boot_info.nreserved, (uintptr_t)__kernel_start,
		   (uintptr_t)__kernel_end - (uintptr_t)__kernel_start);
	add_region(boot_info.reserved, &boot_info.nreserved, dtb_pa, fdt_totalsize(fdt));
	for (int i = 0; i < fdt_num_mem_rsv(fdt); i++) {
		uint64_t a, s;
		if (fdt_get_mem_rsv(fdt, i, &a, &s) == 0)
			add_region(boot_info.reserved, &boot_info.nreserved, a, s);
	}
	int rsv = fdt_path_offset(fdt, "/reserved-memory");
	if (rsv >= 0) {
		int rac = fdt_address_cells(fdt, rsv), rsc = fdt_size_cells(fdt, rsv);
		int child;
		fdt_for_each_subnode(child, fdt, rsv)
		    add_reg(fdt, child, rac, rsc, boot_info.reserved, &boot_info.nreserved);
	}

	int psci = fdt_node_offset_by_compatible(fdt, -1, "arm,psci-0.2");
	if (psci < 0)
		psci = fdt_node_offset_by_compatible(fdt, -1, "arm,psci");
	aarch64_power_init(psci >= 0 ? fdt_getprop(fdt, psci, "method", NULL) : NULL);
	aarch64_time_init();
	aarch64_gic_init(fdt);
	kmain(&boot_info);
}
