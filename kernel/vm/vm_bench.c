/*
 * `bench vm` (or `bench vm_af`, `bench vm_clear`, `bench vm_dz`): figures
 * for the accessed-state machinery of the runtime mapping region and for
 * demand paging. A benchmark,
 * not a test: it prints numbers and never fails on speed.
 *   vm_af     the cost of the first touch of a page whose accessed state is
 *             clear: on aarch64 in software mode (the default) one
 *             access-flag fault resolved by the trap fast path; where the
 *             MMU sets it (x86_64 always, aarch64 with hwaf=1) no fault,
 *             and the figure is what the first touch of a fresh mapping
 *             costs over a touch of a page already accessed. Measured on a
 *             fresh mapping, then again after pgt_clear_accessed and a TLB
 *             flush re-armed every page (what the access scanner does).
 *             Each figure is (touch loop - baseline loop) / pages, the
 *             baseline being a touch of the same pages, now accessed,
 *             after the same TLB flush: what is left is the cost of
 *             setting the access flag, not of the TLB miss.
 *   vm_dz     demand-zero faults per second through the VM areas.
 *   vm_clear  pages per millisecond pgt_clear_accessed gets through, over
 *             pages all accessed (a compare-and-swap each) and none
 *             accessed (a walk and a load each), best of a few passes,
 *             and what one flush of a batch costs (beyond 64 pages
 *             arch_vm_flush drops the whole TLB).
 * The pages are one 4 MiB block of memory mapped several times over (the
 * figures count virtual pages; the frames behind them do not matter), in
 * mappings of 1023 pages so that vm_map_kernel uses 4 KiB leaves, never a
 * 2 MiB block.
 */
#include <karst/arch.h>
#include <karst/bench.h>
#include <karst/kmem_kernel.h>
#include <karst/printk.h>
#include <karst/time.h>
#include <karst/vm.h>

#define CHUNK_ORDER  10
#define CHUNK_PAGES  1023 /* not a 2 MiB multiple: 4 KiB leaves */
#define AF_MAPS	     4	  /* 4092 pages */
#define CLEAR_MAPS   16	  /* 16368 pages */
#define AF_ROUNDS    4
#define CLEAR_ROUNDS 4

struct bench_maps {
	void *mem;
	uint8_t *va[CLEAR_MAPS];
	int n;
};

static volatile unsigned bench_sink;

static void maps_destroy(struct bench_maps *m)
{
	for (int i = 0; i < m->n; i++)
		vm_unmap_kernel(m->va[i], CHUNK_PAGES * PAGE_SIZE);
	if (m->mem)
		page_free(m->mem, CHUNK_ORDER);
	m->mem = NULL;
	m->n = 0;
}

/* n mappings of the same chunk, not accessed, clean. */
static bool maps_create(struct bench_maps *m, int n)
{
	m->n = 0;
	m->mem = page_alloc(CHUNK_ORDER);
	if (!m->mem) {
		printk("bench vm: no memory for a %lu KiB block\n",
		       (unsigned long)((PAGE_SIZE << CHUNK_ORDER) >> 10));
		return false;
	}
	for (int i = 0; i < n; i++) {
		m->va[i] = vm_map_kernel(virt_to_phys(m->mem), CHUNK_PAGES * PAGE_SIZE,
					 MMU_READ | MMU_WRITE);
		if (!m->va[i]) {
			printk("bench vm: vm_map_kernel failed\n");
			maps_destroy(m);
			return false;
		}
		m->n++;
	}
	return true;
}

static unsigned maps_pages(const struct bench_maps *m)
{
	return (unsigned)m->n * CHUNK_PAGES;
}

/* Read one byte of every page; ns taken. */
static uint64_t maps_touch(const struct bench_maps *m)
{
	unsigned sum = 0;
	uint64_t t0 = time_ns();
	for (int i = 0; i < m->n; i++)
		for (size_t p = 0; p < CHUNK_PAGES; p++)
			sum += *(volatile uint8_t *)(m->va[i] + p * PAGE_SIZE);
	uint64_t dt = time_ns() - t0;
	bench_sink = sum;
	return dt;
}

/* pgt_clear_accessed on every page; ns taken, *cleared gets how many were
 * accessed. No flush. */
static uint64_t maps_clear(const struct bench_maps *m, unsigned *cleared)
{
	struct pgtable *pt = vm_kernel_pgtable();
	unsigned n = 0;
	uint64_t t0 = time_ns();
	for (int i = 0; i < m->n; i++)
		for (size_t p = 0; p < CHUNK_PAGES; p++)
			n += pgt_clear_accessed(pt, (uintptr_t)m->va[i] + p * PAGE_SIZE);
	uint64_t dt = time_ns() - t0;
	*cleared = n;
	return dt;
}

/* Flush every mapping's TLB entries; ns taken. */
static uint64_t maps_flush(const struct bench_maps *m)
{
	uint64_t t0 = time_ns();
	for (int i = 0; i < m->n; i++)
		arch_vm_flush((uintptr_t)m->va[i], CHUNK_PAGES * PAGE_SIZE);
	return time_ns() - t0;
}

static uint64_t access_faults(void)
{
	struct vm_stats st;
	vm_get_stats(&st);
	return st.access_faults;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* One line: ns per page of (touch - base); touch and base are the ns of
 * one pass over the n pages (the best of `passes`), faults the count of
 * all passes. */
static void af_line(const char *label, uint64_t touch, uint64_t base, unsigned n, int passes,
		    uint64_t faults)
{
	uint64_t t = touch / n, b = base / n;
	uint64_t d = touch > base ? (touch - base) / n : 0;
	printk("%-20s %5lu ns per %s (touch %lu - baseline %lu ns; %u pages, best of %d; "
	       "%lu faults a pass)\n",
	       label, (unsigned long)d, faults ? "fault" : "first touch, no fault",
	       (unsigned long)t, (unsigned long)b, n, passes,
	       (unsigned long)(faults / (uint64_t)passes));
}

static void bench_vm_af(void)
{
	static struct bench_maps m;
	if (!maps_create(&m, AF_MAPS))
		return;
	unsigned n = maps_pages(&m);
	if (arch_vm_hw_access_flag())
		printk("access flag:         set by the MMU (%s), no fault\n", KARST_ARCH_NAME);
	else
		printk("access flag:         software (%s): a fault per first touch\n",
		       KARST_ARCH_NAME);

	/* A fresh mapping: its leaves were never accessed or cached. The
	 * baselines touch the pages accessed, after a flush. */
	uint64_t f0 = access_faults();
	uint64_t touch = maps_touch(&m);
	uint64_t faults = access_faults() - f0;
	maps_flush(&m);
	uint64_t base = maps_touch(&m);
	af_line("fresh mapping:", touch, base, n, 1, faults);

	/* Re-armed: clear accessed and flush, as the access scanner does. */
	touch = base = UINT64_MAX;
	f0 = access_faults();
	unsigned cleared;
	for (int r = 0; r < AF_ROUNDS; r++) {
		maps_clear(&m, &cleared);
		maps_flush(&m);
		touch = min_u64(touch, maps_touch(&m));
		maps_flush(&m);
		base = min_u64(base, maps_touch(&m));
	}
	faults = access_faults() - f0;
	af_line("cleared + flushed:", touch, base, n, AF_ROUNDS, faults);
	maps_destroy(&m);
}

static unsigned long pages_per_ms(uint64_t pages, uint64_t ns)
{
	return (unsigned long)(pages * NSEC_PER_MSEC / (ns ? ns : 1));
}

static void bench_vm_clear(void)
{
	static struct bench_maps m;
	if (!maps_create(&m, CLEAR_MAPS))
		return;
	unsigned n = maps_pages(&m);
	uint64_t t_acc = UINT64_MAX, t_none = UINT64_MAX, t_flush = UINT64_MAX;
	unsigned c_acc = 0, c_none = 0;
	for (int r = 0; r < CLEAR_ROUNDS; r++) {
		maps_touch(&m); /* every page accessed (faults, untimed) */
		t_acc = min_u64(t_acc, maps_clear(&m, &c_acc));
		t_none = min_u64(t_none, maps_clear(&m, &c_none)); /* none accessed now */
		t_flush = min_u64(t_flush, maps_flush(&m));
	}
	printk("clear accessed:      %7lu pages/ms, all accessed (%u of %u cleared, best of %d)\n",
	       pages_per_ms(n, t_acc), c_acc, n, CLEAR_ROUNDS);
	printk("clear accessed:      %7lu pages/ms, none accessed (%u of %u cleared, best of %d)\n",
	       pages_per_ms(n, t_none), c_none, n, CLEAR_ROUNDS);
	printk("flush:               %7lu ns per arch_vm_flush of %d pages (whole TLB)\n",
	       (unsigned long)(t_flush / (uint64_t)m.n), CHUNK_PAGES);
	maps_destroy(&m);
}

/* Demand-zero faults per second through the VM areas' slow path (the
 * architecture's fault handler, vm_fault, a page allocated, zeroed and
 * mapped): an anonymous mapping touched page by page, by reads and by
 * writes, then unmapped (frames freed). */
#define DZ_PAGES 4096

static void bench_vm_dz(void)
{
	struct vm_space *vs = vm_kernel_space();
	if (!vs)
		return;
	/* w = -1: a warm-up pass (page tables, allocator), not printed. */
	for (int w = -1; w < 2; w++) {
		volatile uint8_t *p;
		if (vm_mmap(vs, NULL, DZ_PAGES * PAGE_SIZE, MMU_READ | MMU_WRITE,
			    VM_MAP_PRIVATE | VM_MAP_ANON, NULL, NULL, 0, (void **)&p) != 0) {
			printk("demand-zero: no room for %d pages\n", DZ_PAGES);
			return;
		}
		uint64_t t0 = time_ns();
		for (size_t i = 0; i < DZ_PAGES; i++) {
			if (w != 0)
				p[i * PAGE_SIZE] = 1;
			else
				(void)p[i * PAGE_SIZE];
		}
		uint64_t t1 = time_ns();
		vm_munmap(vs, (void *)p, DZ_PAGES * PAGE_SIZE);
		uint64_t t2 = time_ns();
		uint64_t ns = t1 - t0 ? t1 - t0 : 1;
		if (w < 0)
			continue;
		printk("demand-zero faults:  %7lu per second by %s (%lu ns each), munmap %lu "
		       "ns/page\n",
		       (unsigned long)((uint64_t)DZ_PAGES * 1000000000ULL / ns),
		       w ? "writes" : "reads", (unsigned long)(ns / DZ_PAGES),
		       (unsigned long)((t2 - t1) / DZ_PAGES));
	}
}

static void bench_vm(void)
{
	bench_vm_af();
	bench_vm_clear();
	bench_vm_dz();
}
KARST_BENCH("vm", bench_vm, "VM: access-flag fault / first touch, pgt_clear_accessed rate");
KARST_BENCH("vm_af", bench_vm_af,
	    "VM: ns per access-flag fault (first touch where the MMU sets it)");
KARST_BENCH("vm_clear", bench_vm_clear, "VM: pages/ms through pgt_clear_accessed, flush cost");
KARST_BENCH("vm_dz", bench_vm_dz, "VM: demand-zero faults per second (vm_mmap anonymous)");
