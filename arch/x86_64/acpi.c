/*
 * Just enough ACPI to power off: follow the RSDP that the PVH start info
 * gives to the RSDT/XSDT, find the FADT ("FACP") and take its PM1a control
 * block port. QEMU's DSDT gives S5 the sleep type 0, so power-off is
 * writing SLP_EN (bit 13) there. Tables are read through the direct map.
 */
#include <arch/cpu.h>
#include <karst/arch.h>
#include <string.h>

static uint16_t pm1a_cnt;

static bool checksum_ok(const void *p, size_t len)
{
	uint8_t sum = 0;
	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + ((const uint8_t *)p)[i]);
	return sum == 0;
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t rd64(const uint8_t *p)
{
	return rd32(p) | (uint64_t)rd32(p + 4) << 32;
}

void x86_acpi_init(uint64_t rsdp_pa)
{
	if (!rsdp_pa || rsdp_pa >= (4ULL << 30))
		return;
	const uint8_t *rsdp = phys_to_virt(rsdp_pa);
	if (memcmp(rsdp, "RSD PTR ", 8) != 0 || !checksum_ok(rsdp, 20))
		return;
	bool xsdt = rsdp[15] >= 2 && rd64(rsdp + 24);
	uint64_t sdt_pa = xsdt ? rd64(rsdp + 24) : rd32(rsdp + 16);
	if (sdt_pa >= (4ULL << 30))
		return;
	const uint8_t *sdt = phys_to_virt(sdt_pa);
	uint32_t len = rd32(sdt + 4);
	if (len < 36 || len > 65536 || !checksum_ok(sdt, len))
		return;
	size_t esz = xsdt ? 8 : 4;
	for (size_t off = 36; off + esz <= len; off += esz) {
		uint64_t pa = xsdt ? rd64(sdt + off) : rd32(sdt + off);
		if (pa >= (4ULL << 30))
			continue;
		const uint8_t *t = phys_to_virt(pa);
		if (memcmp(t, "FACP", 4) == 0 && rd32(t + 4) >= 68) {
			pm1a_cnt = (uint16_t)rd32(t + 64);
			return;
		}
	}
}

/* Returns only when ACPI power-off is unavailable or did not work. */
void x86_acpi_poweroff(void)
{
	if (pm1a_cnt)
		outw(pm1a_cnt, 1 << 13);
}
