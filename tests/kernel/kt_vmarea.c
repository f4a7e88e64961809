/*
 * In-kernel tests of the VM areas (<karst/vm.h>): real faults through the
 * architecture's handlers into vm_fault, on both architectures.
 * Anonymous demand-zero memory, protection violations, mprotect, a
 * file-like object through a test pager (shared: write notification and
 * msync that loses no write; private: copy on write), past-the-end access.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/kmem.h>
#include <karst/kmem_kernel.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/thread.h>
#include <karst/vm.h>
#include <string.h>

#define NPAGES 16

static struct vm_fault_stats stats(void)
{
	struct vm_fault_stats st;
	vm_space_stats(vm_kernel_space(), &st, NULL);
	return st;
}

static unsigned leaf_state(const void *va)
{
	unsigned prot = 0;
	if (!pgt_lookup(vm_kernel_pgtable(), (uintptr_t)va, NULL, &prot))
		return 0;
	return prot;
}

KTEST(vmarea_anon_demand_zero)
{
	struct vm_space *vs = vm_kernel_space();
	KT_ASSERT(vs != NULL);
	uint8_t *p;
	struct vm_fault_stats s0 = stats();
	KT_ASSERT(vm_mmap(vs, NULL, NPAGES * PAGE_SIZE, MMU_READ | MMU_WRITE,
			  VM_MAP_PRIVATE | VM_MAP_ANON, NULL, NULL, 0, (void **)&p) == 0);
	KT_EXPECT((uintptr_t)p >= VM_AREA_BASE && ((uintptr_t)p & PAGE_MASK) == 0);
	KT_EXPECT(leaf_state(p) == 0); /* nothing until touched */
	bool zero = true;
	for (size_t i = 0; i < NPAGES * PAGE_SIZE; i += 64)
		zero &= ((volatile uint8_t *)p)[i] == 0;
	KT_EXPECT(zero);
	struct vm_fault_stats s1 = stats();
	KT_EXPECT(s1.demand_zero - s0.demand_zero == NPAGES);
	unsigned st = leaf_state(p);
	KT_EXPECT((st & MMU_ACCESSED) && !(st & MMU_DIRTY) && (st & MMU_ANON));
	for (size_t i = 0; i < NPAGES; i++)
		memset(p + i * PAGE_SIZE, (int)i + 1, PAGE_SIZE);
	KT_EXPECT(leaf_state(p) & MMU_DIRTY);
	bool same = true;
	for (size_t i = 0; i < NPAGES; i++)
		same &= p[i * PAGE_SIZE + 100] == (uint8_t)(i + 1);
	KT_EXPECT(same);
	/* Written first: the page comes in dirty at once. */
	KT_EXPECT(vm_munmap(vs, p, NPAGES * PAGE_SIZE) == 0);
	KT_EXPECT(leaf_state(p) == 0);
	KT_EXPECT_PANIC((void)*(volatile uint8_t *)p);
}

KTEST(vmarea_protection)
{
	struct vm_space *vs = vm_kernel_space();
	volatile uint32_t *p;
	KT_ASSERT(vm_mmap(vs, NULL, 2 * PAGE_SIZE, MMU_READ | MMU_WRITE,
			  VM_MAP_PRIVATE | VM_MAP_ANON, NULL, NULL, 0, (void **)&p) == 0);
	p[0] = 0x1234;
	p[PAGE_SIZE / 4] = 0x5678;
	KT_EXPECT(vm_mprotect(vs, (void *)p, PAGE_SIZE, MMU_READ) == 0);
	struct vm_fault_stats s0 = stats();
	KT_EXPECT_PANIC(p[0] = 1);
	KT_EXPECT(stats().protection == s0.protection + 1);
	KT_EXPECT(p[0] == 0x1234);
	p[PAGE_SIZE / 4] = 0x9abc; /* the second page is still writable */
	KT_EXPECT(vm_mprotect(vs, (void *)p, 2 * PAGE_SIZE, MMU_READ | MMU_WRITE) == 0);
	p[0] = 0x4321;
	KT_EXPECT(p[0] == 0x4321 && p[PAGE_SIZE / 4] == 0x9abc);
	/* Errors: a range with a hole, bad arguments. */
	KT_EXPECT(vm_mprotect(vs, (void *)p, 3 * PAGE_SIZE, MMU_READ) == -ENOMEM);
	KT_EXPECT(vm_mprotect(vs, (void *)(p + 1), PAGE_SIZE, MMU_READ) == -EINVAL);
	KT_EXPECT(vm_mmap(vs, NULL, PAGE_SIZE, MMU_WRITE, VM_MAP_PRIVATE | VM_MAP_ANON, NULL, NULL,
			  0, (void **)&p) == -EINVAL);
	KT_EXPECT(vm_munmap(vs, (void *)p, 2 * PAGE_SIZE) == 0);
	KT_EXPECT_PANIC((void)p[0]);
}

/* A file of NPAGES pages in memory, with per-page dirty and writeback
 * counts, standing in for the page cache. */
struct test_obj {
	void *pages[NPAGES];
	bool dirty[NPAGES];
	unsigned writebacks[NPAGES];
	uint8_t saved[NPAGES]; /* byte 0 of each page at its last writeback */
	int refs;
};

static int tobj_fault(struct vm_area *a, uint64_t off, bool write, uint64_t *pa)
{
	struct test_obj *o = a->obj;
	uint64_t i = off / PAGE_SIZE;
	if (i >= NPAGES)
		return -EFAULT;
	if (write)
		o->dirty[i] = true;
	o->refs++;
	*pa = virt_to_phys(o->pages[i]);
	return 0;
}

static void tobj_put(struct vm_area *a, uint64_t off, uint64_t pa)
{
	struct test_obj *o = a->obj;
	(void)off;
	(void)pa;
	o->refs--;
}

static int tobj_writeback(struct vm_area *a, uint64_t off, uint64_t pa)
{
	struct test_obj *o = a->obj;
	uint64_t i = off / PAGE_SIZE;
	o->writebacks[i]++;
	o->saved[i] = *(uint8_t *)phys_to_virt(pa);
	o->dirty[i] = false;
	return 0;
}

static const struct vm_pager_ops tobj_ops = {
    .fault = tobj_fault, .put_page = tobj_put, .writeback = tobj_writeback};

static struct test_obj *tobj_new(void)
{
	struct test_obj *o = kzalloc(sizeof(*o));
	if (!o)
		return NULL;
	for (int i = 0; i < NPAGES; i++) {
		o->pages[i] = page_alloc(0);
		if (o->pages[i])
			memset(o->pages[i], 'a' + i, PAGE_SIZE);
	}
	return o;
}

static void tobj_free(struct test_obj *o)
{
	for (int i = 0; i < NPAGES; i++)
		page_free(o->pages[i], 0);
	kfree(o);
}

KTEST(vmarea_shared_file_msync_loses_no_write)
{
	struct vm_space *vs = vm_kernel_space();
	struct test_obj *o = tobj_new();
	KT_ASSERT(o && o->pages[NPAGES - 1]);
	volatile uint8_t *p;
	KT_ASSERT(vm_mmap(vs, NULL, NPAGES * PAGE_SIZE, MMU_READ | MMU_WRITE, VM_MAP_SHARED,
			  &tobj_ops, o, 0, (void **)&p) == 0);
	struct vm_fault_stats s0 = stats();
	KT_EXPECT(p[3 * PAGE_SIZE] == 'd');
	KT_EXPECT(stats().file == s0.file + 1);
	KT_EXPECT(!(leaf_state((void *)p + 3 * PAGE_SIZE) & MMU_WRITE)); /* clean: read-only */
	KT_EXPECT(!o->dirty[3]);
	p[3 * PAGE_SIZE] = 'X'; /* first write: the pager hears of it */
	KT_EXPECT(stats().write_notify == s0.write_notify + 1);
	KT_EXPECT(o->dirty[3]);
	KT_EXPECT(((uint8_t *)o->pages[3])[0] == 'X'); /* shared: the pager's page */
	KT_EXPECT(vm_msync(vs, (void *)p, NPAGES * PAGE_SIZE) == 0);
	KT_EXPECT(o->writebacks[3] == 1 && o->saved[3] == 'X' && !o->dirty[3]);
	KT_EXPECT(o->writebacks[2] == 0);
	/* The write after msync must fault and dirty the page again (OSv's
	 * aarch64 port lost it). */
	p[3 * PAGE_SIZE] = 'Y';
	KT_EXPECT(o->dirty[3]);
	KT_EXPECT(stats().write_notify == s0.write_notify + 2);
	KT_EXPECT(vm_msync(vs, (void *)p, NPAGES * PAGE_SIZE) == 0);
	KT_EXPECT(o->writebacks[3] == 2 && o->saved[3] == 'Y');
	/* A write straight into a page never read: one fault, dirty at once. */
	p[5 * PAGE_SIZE] = 'Z';
	KT_EXPECT(o->dirty[5] && (leaf_state((void *)p + 5 * PAGE_SIZE) & MMU_DIRTY));
	KT_EXPECT(vm_munmap(vs, (void *)p, NPAGES * PAGE_SIZE) == 0);
	KT_EXPECT(o->refs == 0);
	tobj_free(o);
}

KTEST(vmarea_private_file_copy_on_write)
{
	struct vm_space *vs = vm_kernel_space();
	struct test_obj *o = tobj_new();
	KT_ASSERT(o && o->pages[NPAGES - 1]);
	volatile uint8_t *p;
	/* Offset 2 pages in, 4 pages long: past-the-end exists in the object,
	 * but the area stops the access first. */
	KT_ASSERT(vm_mmap(vs, NULL, 4 * PAGE_SIZE, MMU_READ | MMU_WRITE, VM_MAP_PRIVATE, &tobj_ops,
			  o, 2 * PAGE_SIZE, (void **)&p) == 0);
	struct vm_fault_stats s0 = stats();
	KT_EXPECT(p[0] == 'c');
	p[0] = 'Q'; /* copy on write: the object keeps 'c' */
	KT_EXPECT(stats().cow == s0.cow + 1);
	KT_EXPECT(p[0] == 'Q' && ((uint8_t *)o->pages[2])[0] == 'c' && !o->dirty[2]);
	KT_EXPECT(leaf_state((void *)p) & MMU_ANON);
	p[PAGE_SIZE] = 'R'; /* a write first: copy at once */
	KT_EXPECT(stats().cow == s0.cow + 2 && p[PAGE_SIZE + 1] == 'd');
	KT_EXPECT(vm_msync(vs, (void *)p, 4 * PAGE_SIZE) == 0); /* nothing shared */
	KT_EXPECT(o->writebacks[2] == 0);
	KT_EXPECT(vm_munmap(vs, (void *)p, 4 * PAGE_SIZE) == 0);
	KT_EXPECT(o->refs == 0);
	tobj_free(o);
}

KTEST(vmarea_past_end_of_object_panics)
{
	struct vm_space *vs = vm_kernel_space();
	struct test_obj *o = tobj_new();
	KT_ASSERT(o && o->pages[NPAGES - 1]);
	volatile uint8_t *p;
	KT_ASSERT(vm_mmap(vs, NULL, (NPAGES + 2) * PAGE_SIZE, MMU_READ, VM_MAP_SHARED, &tobj_ops, o,
			  0, (void **)&p) == 0);
	KT_EXPECT(p[(NPAGES - 1) * PAGE_SIZE] == 'a' + NPAGES - 1);
	KT_EXPECT_PANIC((void)p[NPAGES * PAGE_SIZE]);
	KT_EXPECT(vm_munmap(vs, (void *)p, (NPAGES + 2) * PAGE_SIZE) == 0);
	KT_EXPECT(o->refs == 0);
	tobj_free(o);
}

/* Threads faulting on the same pages at once: each page gets exactly one
 * frame, and neither thread's writes are lost. */
#define RACE_PAGES 256

struct racer {
	volatile uint8_t *base;
	unsigned slot;
};

static void racer_fn(void *arg)
{
	struct racer *r = arg;
	for (int round = 0; round < 4; round++)
		for (size_t i = 0; i < RACE_PAGES; i++) {
			r->base[i * PAGE_SIZE + r->slot] = (uint8_t)(r->slot + round + 1);
			if (i % 3 == r->slot / 8)
				thread_yield(); /* interleave the faults */
		}
}

KTEST(vmarea_concurrent_faults)
{
	struct vm_space *vs = vm_kernel_space();
	volatile uint8_t *p;
	KT_ASSERT(vm_mmap(vs, NULL, RACE_PAGES * PAGE_SIZE, MMU_READ | MMU_WRITE,
			  VM_MAP_SHARED | VM_MAP_ANON, NULL, NULL, 0, (void **)&p) == 0);
	struct vm_fault_stats s0 = stats();
	struct racer r[3];
	struct thread *th[3];
	for (unsigned t = 0; t < 3; t++) {
		r[t] = (struct racer){p, t * 8};
		th[t] = thread_create("kt_vmarea_race", racer_fn, &r[t], THREAD_PRIO_DEFAULT);
		KT_ASSERT(th[t] != NULL);
	}
	for (unsigned t = 0; t < 3; t++)
		thread_join(th[t]);
	KT_EXPECT(stats().demand_zero - s0.demand_zero == RACE_PAGES);
	size_t bad = 0;
	for (size_t i = 0; i < RACE_PAGES; i++)
		for (unsigned t = 0; t < 3; t++)
			bad += p[i * PAGE_SIZE + t * 8] != (uint8_t)(t * 8 + 4);
	KT_EXPECT(bad == 0);
	KT_EXPECT(vm_munmap(vs, (void *)p, RACE_PAGES * PAGE_SIZE) == 0);
}

/*
 * The runtime region (vm_map_kernel, under vm_lock) and the VM areas
 * (vm_mmap and their faults, under vs->lock) change one tree: the level-1
 * table under the same top-level entry is shared, and both create tables
 * below it. Threads of both kinds map, write, check and unmap at once;
 * every mapping must hold what was written to it (a table lost to a race
 * would take a mapping with it: a fault or other data).
 */
#define STRESS_ROUNDS 60

struct vm_stress {
	int id;
	int errors;
};

static void stress_region(void *arg)
{
	struct vm_stress *s = arg;
	for (int r = 0; r < STRESS_ROUNDS; r++) {
		void *mem = page_alloc(0);
		if (!mem) {
			s->errors++;
			continue;
		}
		volatile uint32_t *va = vm_map_kernel(virt_to_phys(mem), PAGE_SIZE,
						      MMU_READ | MMU_WRITE | MMU_ACCESSED);
		if (!va) {
			s->errors++;
			page_free(mem, 0);
			continue;
		}
		uint32_t tag = (uint32_t)(s->id << 16 | r);
		for (int i = 0; i < 1024; i += 97)
			va[i] = tag + (uint32_t)i;
		thread_yield();
		for (int i = 0; i < 1024; i += 97)
			s->errors += va[i] != tag + (uint32_t)i;
		s->errors += ((uint32_t *)mem)[97] != tag + 97;
		s->errors += vm_unmap_kernel((void *)va, PAGE_SIZE) != 0;
		page_free(mem, 0);
	}
}

static void stress_areas(void *arg)
{
	struct vm_stress *s = arg;
	struct vm_space *vs = vm_kernel_space();
	for (int r = 0; r < STRESS_ROUNDS; r++) {
		uint8_t *p;
		if (vm_mmap(vs, NULL, 4 * PAGE_SIZE, MMU_READ | MMU_WRITE,
			    VM_MAP_PRIVATE | VM_MAP_ANON, NULL, NULL, 0, (void **)&p) != 0) {
			s->errors++;
			continue;
		}
		uint8_t tag = (uint8_t)(s->id * 31 + r);
		for (int i = 0; i < 4; i++)
			p[i * PAGE_SIZE + 7] = (uint8_t)(tag + i);
		thread_yield();
		for (int i = 0; i < 4; i++)
			s->errors += p[i * PAGE_SIZE + 7] != (uint8_t)(tag + i);
		s->errors += vm_munmap(vs, p, 4 * PAGE_SIZE) != 0;
	}
}

KTEST(vm_regions_stress_shared_tree)
{
	KT_ASSERT(vm_kernel_space() != NULL);
	struct vm_stress s[4];
	struct thread *t[4];
	for (int i = 0; i < 4; i++) {
		s[i] = (struct vm_stress){.id = i};
		t[i] =
		    thread_create(i & 1 ? "vmstress_area" : "vmstress_region",
				  i & 1 ? stress_areas : stress_region, &s[i], THREAD_PRIO_DEFAULT);
		KT_ASSERT(t[i] != NULL);
	}
	int errors = 0;
	for (int i = 0; i < 4; i++) {
		thread_join(t[i]);
		errors += s[i].errors;
	}
	KT_EXPECT(errors == 0);
}
