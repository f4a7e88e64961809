/*
 * Boot memory map: RAM ranges minus reserved ranges (kernel image, boot
 * page tables, the device tree), as page-aligned usable ranges sorted by
 * address.
 */
#include <karst/kmem_kernel.h>
#include <karst/param.h>

int memmap_usable(const struct boot_region *ram, int nram, const struct boot_region *rsv, int nrsv,
		  struct boot_region *out, int max_out)
{
	int n = 0;
	for (int i = 0; i < nram; i++) {
		/* Work on a list of pieces of this RAM range, cutting each reserved range out. */
		struct boot_region piece[BOOT_MAX_REGIONS * 2];
		int np = 1;
		piece[0].base = ALIGN_UP(ram[i].base, PAGE_SIZE);
		uint64_t end = ALIGN_DOWN(ram[i].base + ram[i].size, PAGE_SIZE);
		piece[0].size = end > piece[0].base ? end - piece[0].base : 0;
		for (int r = 0; r < nrsv; r++) {
			uint64_t rs = ALIGN_DOWN(rsv[r].base, PAGE_SIZE);
			uint64_t re = ALIGN_UP(rsv[r].base + rsv[r].size, PAGE_SIZE);
			for (int k = 0; k < np; k++) {
				uint64_t ps = piece[k].base, pe = ps + piece[k].size;
				if (re <= ps || rs >= pe)
					continue;
				struct boot_region lo = {ps, rs > ps ? rs - ps : 0};
				struct boot_region hi = {re, pe > re ? pe - re : 0};
				piece[k] = lo;
				if (hi.size && np < (int)ARRAY_SIZE(piece))
					piece[np++] = hi;
			}
		}
		for (int k = 0; k < np; k++) {
			if (piece[k].size == 0)
				continue;
			if (n == max_out)
				return n;
			/* Keep the output sorted by address (insertion sort). */
			int j = n++;
			while (j > 0 && out[j - 1].base > piece[k].base) {
				out[j] = out[j - 1];
				j--;
			}
			out[j] = piece[k];
		}
	}
	return n;
}
