/*
 * VM areas (kernel/vm/vm_area.c) on the host: the test plays the CPU. A
 * "fault" is a call to vm_fault; what the access would see is read
 * through pgt_lookup and the identity phys_to_virt. Frames come from
 * aligned_alloc and are counted, pager pages from a test object whose
 * references and dirty/writeback state are checked. Built once per entry
 * format, like the page-table suites.
 */
#include "pgt_test.h"
#include <check.h>
#include <errno.h>
#include <karst/reclaim.h>
#include <karst/sync.h>
#include <karst/vm.h>
#include <stdlib.h>
#include <string.h>

#define BASE   0xffffc00040000000ULL
#define SIZE   (64 * PAGE_SIZE)
#define NPAGES 8

static struct pgt_test_env env;
static struct pgtable pt;
static struct vm_space vs;
static long frames_out, frame_fail_at = -1, frame_allocs;

static uint64_t frame_alloc(void *arg)
{
	(void)arg;
	if (frame_fail_at >= 0 && frame_allocs == frame_fail_at)
		return 0;
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!p)
		return 0;
	memset(p, 0x5a, PAGE_SIZE); /* vm_fault must zero it */
	frame_allocs++;
	frames_out++;
	return (uint64_t)(uintptr_t)p;
}

static void frame_free(uint64_t pa, void *arg)
{
	(void)arg;
	frames_out--;
	free((void *)(uintptr_t)pa);
}

static const struct vm_frame_ops frames = {.alloc = frame_alloc, .free = frame_free};

struct obj {
	uint8_t *pages[NPAGES];
	bool dirty[NPAGES];
	int writebacks[NPAGES];
	int refs;
	int fail; /* error for the next fault */
};
static struct obj obj;

static int obj_fault(struct vm_area *a, uint64_t off, bool write, uint64_t *pa)
{
	struct obj *o = a->obj;
	if (o->fail) {
		int e = o->fail;
		o->fail = 0;
		return e;
	}
	if (off / PAGE_SIZE >= NPAGES)
		return -EFAULT;
	if (write)
		o->dirty[off / PAGE_SIZE] = true;
	o->refs++;
	*pa = (uint64_t)(uintptr_t)o->pages[off / PAGE_SIZE];
	return 0;
}

static void obj_put(struct vm_area *a, uint64_t off, uint64_t pa)
{
	struct obj *o = a->obj;
	ck_assert_ptr_eq((void *)(uintptr_t)pa, o->pages[off / PAGE_SIZE]);
	o->refs--;
}

static int obj_writeback(struct vm_area *a, uint64_t off, uint64_t pa)
{
	struct obj *o = a->obj;
	(void)pa;
	o->writebacks[off / PAGE_SIZE]++;
	o->dirty[off / PAGE_SIZE] = false;
	return 0;
}

static const struct vm_pager_ops pager = {
    .fault = obj_fault, .put_page = obj_put, .writeback = obj_writeback};

static void setup(void)
{
	pgt_test_env_init(&env);
	ck_assert_int_eq(pgt_init(&pt, &env.ops), 0);
	ck_assert_int_eq(vm_space_init(&vs, &pt, BASE, SIZE, &frames, 0), 0);
	frames_out = frame_allocs = 0;
	frame_fail_at = -1;
	memset(&obj, 0, sizeof(obj));
	for (int i = 0; i < NPAGES; i++) {
		obj.pages[i] = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
		memset(obj.pages[i], 'a' + i, PAGE_SIZE);
	}
}

static void teardown(void)
{
	vm_space_destroy(&vs);
	ck_assert_int_eq(frames_out, 0); /* every anonymous frame came back */
	ck_assert_int_eq(obj.refs, 0);	 /* every pager page was put back */
	pgt_destroy(&pt);
	for (int i = 0; i < NPAGES; i++)
		free(obj.pages[i]);
}

/* What a read of va sees, through the tables (-1: not mapped). */
static int peek(uintptr_t va)
{
	uint64_t pa;
	if (!pgt_lookup(&pt, va, &pa, NULL))
		return -1;
	return *(uint8_t *)(uintptr_t)pa;
}

static void poke(uintptr_t va, uint8_t v)
{
	uint64_t pa;
	unsigned prot;
	ck_assert(pgt_lookup(&pt, va, &pa, &prot));
	ck_assert(prot & MMU_WRITE);
	*(uint8_t *)(uintptr_t)pa = v;
}

static unsigned leaf(uintptr_t va)
{
	unsigned prot = 0;
	return pgt_lookup(&pt, va, NULL, &prot) ? prot : 0;
}

static uintptr_t map(size_t len, unsigned prot, unsigned flags, const struct vm_pager_ops *pg,
		     uint64_t off)
{
	void *p = NULL;
	ck_assert_int_eq(vm_mmap(&vs, NULL, len, prot, flags, pg, pg ? &obj : NULL, off, &p), 0);
	return (uintptr_t)p;
}

#define RW (MMU_READ | MMU_WRITE)

START_TEST(test_mmap_arguments)
{
	void *p;
	ck_assert_int_eq(vm_mmap(&vs, NULL, 0, RW, VM_MAP_PRIVATE | VM_MAP_ANON, NULL, NULL, 0, &p),
			 -EINVAL);
	ck_assert_int_eq(vm_mmap(&vs, NULL, PAGE_SIZE, MMU_WRITE, VM_MAP_PRIVATE | VM_MAP_ANON,
				 NULL, NULL, 0, &p),
			 -EINVAL);
	ck_assert_int_eq(vm_mmap(&vs, NULL, PAGE_SIZE, RW, VM_MAP_ANON, NULL, NULL, 0, &p),
			 -EINVAL);
	ck_assert_int_eq(vm_mmap(&vs, NULL, PAGE_SIZE, RW,
				 VM_MAP_PRIVATE | VM_MAP_SHARED | VM_MAP_ANON, NULL, NULL, 0, &p),
			 -EINVAL);
	ck_assert_int_eq(vm_mmap(&vs, NULL, PAGE_SIZE, RW, VM_MAP_SHARED, NULL, &obj, 0, &p),
			 -EINVAL); /* a file mapping needs a pager */
	ck_assert_int_eq(vm_mmap(&vs, NULL, PAGE_SIZE, RW, VM_MAP_SHARED, &pager, &obj, 100, &p),
			 -EINVAL); /* offset not page aligned */
	ck_assert_int_eq(vm_mmap(&vs, NULL, SIZE + PAGE_SIZE, RW, VM_MAP_PRIVATE | VM_MAP_ANON,
				 NULL, NULL, 0, &p),
			 -EINVAL);
	ck_assert_int_eq(vm_mmap(&vs, (void *)(BASE + 1), PAGE_SIZE, RW,
				 VM_MAP_PRIVATE | VM_MAP_ANON | VM_MAP_FIXED, NULL, NULL, 0, &p),
			 -EINVAL);
	/* Rounded up to whole pages; a guard page between areas. */
	uintptr_t a = map(100, RW, VM_MAP_PRIVATE | VM_MAP_ANON, NULL, 0);
	uintptr_t b = map(PAGE_SIZE, RW, VM_MAP_PRIVATE | VM_MAP_ANON, NULL, 0);
	ck_assert_uint_eq(a, BASE);
	ck_assert_uint_eq(b, BASE + 2 * PAGE_SIZE);
	ck_assert_int_eq(vm_fault(&vs, a + PAGE_SIZE, VM_ACCESS_READ), -EFAULT);
	/* Fixed: exactly there, and not over another area. */
	ck_assert_int_eq(vm_mmap(&vs, (void *)(BASE + PAGE_SIZE), PAGE_SIZE, RW,
				 VM_MAP_PRIVATE | VM_MAP_ANON | VM_MAP_FIXED, NULL, NULL, 0, &p),
			 0);
	ck_assert_ptr_eq(p, (void *)(BASE + PAGE_SIZE));
	ck_assert_int_eq(vm_mmap(&vs, (void *)BASE, PAGE_SIZE, RW,
				 VM_MAP_PRIVATE | VM_MAP_ANON | VM_MAP_FIXED, NULL, NULL, 0, &p),
			 -EEXIST);
	/* The space runs out. */
	ck_assert_int_eq(vm_mmap(&vs, NULL, SIZE - 2 * PAGE_SIZE, RW, VM_MAP_PRIVATE | VM_MAP_ANON,
				 NULL, NULL, 0, &p),
			 -ENOMEM);
}
END_TEST

START_TEST(test_anon_demand_zero)
{
	uintptr_t a = map(4 * PAGE_SIZE, RW, VM_MAP_PRIVATE | VM_MAP_ANON, NULL, 0);
	ck_assert_int_eq(peek(a), -1); /* nothing before the first touch */
	ck_assert_int_eq(vm_fault(&vs, a + 5, VM_ACCESS_READ), 0);
	ck_assert_int_eq(peek(a), 0);
	ck_assert_int_eq(peek(a + PAGE_SIZE - 1), 0);
	unsigned l = leaf(a);
	ck_assert(l & MMU_ACCESSED);
	ck_assert(!(l & MMU_DIRTY));
	ck_assert(l & MMU_WRITE);
	ck_assert(l & MMU_ANON);
	ck_assert_int_eq(vm_fault(&vs, a + 2 * PAGE_SIZE, VM_ACCESS_WRITE), 0);
	ck_assert(leaf(a + 2 * PAGE_SIZE) & MMU_DIRTY);
	/* A fault on a page already there is spurious and changes nothing. */
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_READ), 0);
	struct vm_fault_stats st;
	uint64_t resident;
	vm_space_stats(&vs, &st, &resident);
	ck_assert_uint_eq(st.demand_zero, 2);
	ck_assert_uint_eq(st.spurious, 1);
	ck_assert_uint_eq(resident, 2);
	ck_assert_int_eq(frames_out, 2);
	/* Exec is not allowed; nor is a write to a read-only area. */
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_EXEC), -EACCES);
	uintptr_t r = map(PAGE_SIZE, MMU_READ, VM_MAP_PRIVATE | VM_MAP_ANON, NULL, 0);
	ck_assert_int_eq(vm_fault(&vs, r, VM_ACCESS_WRITE), -EACCES);
	vm_space_stats(&vs, &st, NULL);
	ck_assert_uint_eq(st.protection, 2);
	ck_assert_int_eq(vm_munmap(&vs, (void *)a, 4 * PAGE_SIZE), 0);
	ck_assert_int_eq(frames_out, 0);
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_READ), -EFAULT);
}
END_TEST

START_TEST(test_anon_out_of_memory)
{
	uintptr_t a = map(2 * PAGE_SIZE, RW, VM_MAP_PRIVATE | VM_MAP_ANON, NULL, 0);
	frame_fail_at = 0;
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_READ), -ENOMEM);
	ck_assert_int_eq(peek(a), -1);
	frame_fail_at = -1;
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_READ), 0);
	ck_assert_int_eq(frames_out, 1);
}
END_TEST

/* A fault short of memory reclaims, with the space unlocked (eviction
 * unmaps pages of this very space), and tries again, a bounded number of
 * times. */
static int reclaims;
static bool give_back;
static size_t test_reclaim(void *arg, size_t bytes)
{
	(void)arg;
	(void)bytes;
	reclaims++;
	ck_assert(mutex_trylock(&vs.lock));
	mutex_unlock(&vs.lock);
	if (!give_back)
		return 0;
	frame_fail_at = -1;
	return PAGE_SIZE;
}

START_TEST(test_fault_nomem_reclaims)
{
	struct reclaimer r = {.name = "test", .reclaim = test_reclaim};
	reclaim_register(&r);
	reclaims = 0;
	give_back = true;
	uintptr_t a = map(2 * PAGE_SIZE, RW, VM_MAP_PRIVATE | VM_MAP_ANON, NULL, 0);
	frame_fail_at = frame_allocs; /* every frame allocation fails until a reclaim */
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_WRITE), 0);
	ck_assert_int_eq(reclaims, 1);
	ck_assert_int_eq(peek(a), 0);
	/* The pager's page could not be had: the same. */
	uintptr_t f = map(NPAGES * PAGE_SIZE, RW, VM_MAP_SHARED, &pager, 0);
	obj.fail = -ENOMEM;
	ck_assert_int_eq(vm_fault(&vs, f, VM_ACCESS_READ), 0);
	ck_assert_int_eq(reclaims, 2);
	/* Nothing to give back: -ENOMEM after a bounded number of tries. */
	give_back = false;
	frame_fail_at = frame_allocs;
	ck_assert_int_eq(vm_fault(&vs, a + PAGE_SIZE, VM_ACCESS_WRITE), -ENOMEM);
	ck_assert_int_eq(reclaims, 2 + 8);
	frame_fail_at = -1;
	reclaim_unregister(&r);
}
END_TEST

START_TEST(test_munmap_middle_splits)
{
	uintptr_t a = map(3 * PAGE_SIZE, RW, VM_MAP_PRIVATE | VM_MAP_ANON, NULL, 0);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(vm_fault(&vs, a + i * PAGE_SIZE, VM_ACCESS_WRITE), 0);
		poke(a + i * PAGE_SIZE, (uint8_t)(i + 1));
	}
	ck_assert_int_eq(vm_munmap(&vs, (void *)(a + PAGE_SIZE), PAGE_SIZE), 0);
	ck_assert_int_eq(frames_out, 2);
	ck_assert_int_eq(peek(a), 1);
	ck_assert_int_eq(peek(a + PAGE_SIZE), -1);
	ck_assert_int_eq(peek(a + 2 * PAGE_SIZE), 3);
	ck_assert_int_eq(vm_fault(&vs, a + PAGE_SIZE, VM_ACCESS_READ), -EFAULT);
	/* Unmapping across the hole and beyond the areas is fine. */
	ck_assert_int_eq(vm_munmap(&vs, (void *)a, 8 * PAGE_SIZE), 0);
	ck_assert_int_eq(frames_out, 0);
	ck_assert_int_eq(vm_munmap(&vs, (void *)(a + 1), PAGE_SIZE), -EINVAL);
	ck_assert_int_eq(vm_munmap(&vs, (void *)(BASE - PAGE_SIZE), PAGE_SIZE), -EINVAL);
}
END_TEST

START_TEST(test_mprotect)
{
	uintptr_t a = map(3 * PAGE_SIZE, RW, VM_MAP_PRIVATE | VM_MAP_ANON, NULL, 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(vm_fault(&vs, a + i * PAGE_SIZE, VM_ACCESS_WRITE), 0);
	poke(a + PAGE_SIZE, 7);
	ck_assert_int_eq(vm_mprotect(&vs, (void *)(a + PAGE_SIZE), PAGE_SIZE, MMU_READ), 0);
	ck_assert(!(leaf(a + PAGE_SIZE) & MMU_WRITE));
	ck_assert(leaf(a + PAGE_SIZE) & MMU_DIRTY); /* dirty survives */
	ck_assert(leaf(a) & MMU_WRITE);
	ck_assert(leaf(a + 2 * PAGE_SIZE) & MMU_WRITE);
	ck_assert_int_eq(vm_fault(&vs, a + PAGE_SIZE, VM_ACCESS_WRITE), -EACCES);
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_WRITE), 0);
	ck_assert_int_eq(peek(a + PAGE_SIZE), 7);
	ck_assert_int_eq(vm_mprotect(&vs, (void *)a, 3 * PAGE_SIZE, RW | MMU_EXEC), 0);
	ck_assert(leaf(a + PAGE_SIZE) & MMU_WRITE);
	ck_assert(leaf(a + PAGE_SIZE) & MMU_EXEC);
	ck_assert_int_eq(vm_fault(&vs, a + 2 * PAGE_SIZE, VM_ACCESS_EXEC), 0);
	/* A hole in the range: ENOMEM, as POSIX has it; bad prot: EINVAL. */
	ck_assert_int_eq(vm_mprotect(&vs, (void *)a, 4 * PAGE_SIZE, MMU_READ), -ENOMEM);
	ck_assert_int_eq(vm_mprotect(&vs, (void *)a, PAGE_SIZE, MMU_WRITE), -EINVAL);
	ck_assert_int_eq(vm_mprotect(&vs, (void *)a, PAGE_SIZE, RW | MMU_DEVICE), -EINVAL);
}
END_TEST

START_TEST(test_shared_file_dirty_tracking)
{
	uintptr_t a = map(4 * PAGE_SIZE, RW, VM_MAP_SHARED, &pager, 2 * PAGE_SIZE);
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_READ), 0);
	ck_assert_int_eq(peek(a), 'c');
	ck_assert(!(leaf(a) & MMU_WRITE)); /* clean: read-only until written */
	ck_assert(!(leaf(a) & MMU_ANON));
	ck_assert(!obj.dirty[2]);
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_WRITE), 0);
	ck_assert(obj.dirty[2]);
	ck_assert(leaf(a) & MMU_WRITE);
	ck_assert(leaf(a) & MMU_DIRTY);
	poke(a, 'X');
	ck_assert_int_eq(obj.pages[2][0], 'X'); /* shared: the pager's own page */
	ck_assert_int_eq(obj.refs, 1);		/* one reference per mapped page */
	/* msync: written back, and read-only again. */
	ck_assert_int_eq(vm_msync(&vs, (void *)a, 4 * PAGE_SIZE), 0);
	ck_assert_int_eq(obj.writebacks[2], 1);
	ck_assert(!obj.dirty[2]);
	ck_assert(!(leaf(a) & MMU_WRITE));
	ck_assert(!(leaf(a) & MMU_DIRTY));
	/* The next write faults and dirties the page again. */
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_WRITE), 0);
	ck_assert(obj.dirty[2]);
	ck_assert_int_eq(vm_msync(&vs, (void *)a, PAGE_SIZE), 0);
	ck_assert_int_eq(obj.writebacks[2], 2);
	/* A clean page is not written back. */
	ck_assert_int_eq(vm_fault(&vs, a + PAGE_SIZE, VM_ACCESS_READ), 0);
	ck_assert_int_eq(vm_msync(&vs, (void *)a, 4 * PAGE_SIZE), 0);
	ck_assert_int_eq(obj.writebacks[3], 0);
	ck_assert_int_eq(obj.writebacks[2], 2);
	/* Written, then made read-only by mprotect: msync still writes it
	 * back (the leaf kept its dirty state), once. */
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_WRITE), 0);
	ck_assert_int_eq(vm_mprotect(&vs, (void *)a, PAGE_SIZE, MMU_READ), 0);
	ck_assert(leaf(a) & MMU_DIRTY);
	ck_assert_int_eq(vm_msync(&vs, (void *)a, PAGE_SIZE), 0);
	ck_assert_int_eq(obj.writebacks[2], 3);
	ck_assert_int_eq(vm_msync(&vs, (void *)a, PAGE_SIZE), 0);
	ck_assert_int_eq(obj.writebacks[2], 3);
	/* mprotect to read-write keeps a clean page read-only. */
	ck_assert_int_eq(vm_mprotect(&vs, (void *)a, 4 * PAGE_SIZE, RW), 0);
	ck_assert(!(leaf(a + PAGE_SIZE) & MMU_WRITE));
	/* Beyond the object's end: the pager says EFAULT. */
	ck_assert_int_eq(vm_fault(&vs, a + 3 * PAGE_SIZE, VM_ACCESS_READ), 0);
	uintptr_t b = map(2 * PAGE_SIZE, MMU_READ, VM_MAP_SHARED, &pager, 7 * PAGE_SIZE);
	ck_assert_int_eq(vm_fault(&vs, b, VM_ACCESS_READ), 0);
	ck_assert_int_eq(vm_fault(&vs, b + PAGE_SIZE, VM_ACCESS_READ), -EFAULT);
	/* A pager error comes back as it is, nothing mapped. */
	obj.fail = -EIO;
	ck_assert_int_eq(vm_fault(&vs, a + 2 * PAGE_SIZE, VM_ACCESS_READ), -EIO);
	ck_assert_int_eq(peek(a + 2 * PAGE_SIZE), -1);
	struct vm_fault_stats st;
	vm_space_stats(&vs, &st, NULL);
	ck_assert_uint_eq(st.write_notify, 3);
	ck_assert_uint_eq(st.file, 4);
	ck_assert_int_eq(vm_munmap(&vs, (void *)a, 4 * PAGE_SIZE), 0);
	ck_assert_int_eq(obj.refs, 1); /* b's page */
}
END_TEST

START_TEST(test_private_file_copy_on_write)
{
	uintptr_t a = map(3 * PAGE_SIZE, RW, VM_MAP_PRIVATE, &pager, 0);
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_READ), 0);
	ck_assert(!(leaf(a) & MMU_WRITE)); /* the pager's page, read-only */
	ck_assert_int_eq(vm_fault(&vs, a, VM_ACCESS_WRITE), 0);
	ck_assert(leaf(a) & MMU_ANON);
	ck_assert(leaf(a) & MMU_WRITE);
	ck_assert(leaf(a) & MMU_DIRTY);
	ck_assert_int_eq(peek(a), 'a');
	poke(a, 'Q');
	ck_assert_int_eq(obj.pages[0][0], 'a'); /* the object is untouched */
	ck_assert(!obj.dirty[0]);
	ck_assert_int_eq(obj.refs, 0); /* its page went back */
	ck_assert_int_eq(frames_out, 1);
	/* A write to a page never read: copied at once. */
	ck_assert_int_eq(vm_fault(&vs, a + PAGE_SIZE, VM_ACCESS_WRITE), 0);
	ck_assert_int_eq(peek(a + PAGE_SIZE), 'b');
	ck_assert_int_eq(frames_out, 2);
	/* mprotect to read-write leaves pager pages read-only (still COW). */
	ck_assert_int_eq(vm_fault(&vs, a + 2 * PAGE_SIZE, VM_ACCESS_READ), 0);
	ck_assert_int_eq(vm_mprotect(&vs, (void *)a, 3 * PAGE_SIZE, RW), 0);
	ck_assert(!(leaf(a + 2 * PAGE_SIZE) & MMU_WRITE));
	ck_assert_int_eq(vm_msync(&vs, (void *)a, 3 * PAGE_SIZE), 0);
	ck_assert_int_eq(obj.writebacks[0] + obj.writebacks[1], 0);
	struct vm_fault_stats st;
	vm_space_stats(&vs, &st, NULL);
	ck_assert_uint_eq(st.cow, 2);
	/* Out of memory for the copy: nothing changes. */
	frame_fail_at = frame_allocs;
	ck_assert_int_eq(vm_fault(&vs, a + 2 * PAGE_SIZE, VM_ACCESS_WRITE), -ENOMEM);
	ck_assert(!(leaf(a + 2 * PAGE_SIZE) & MMU_ANON));
	frame_fail_at = -1;
	ck_assert_int_eq(vm_msync(&vs, (void *)a, 5 * PAGE_SIZE), -ENOMEM);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("vm_area");
	TCase *tc = tcase_create("areas");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_mmap_arguments);
	tcase_add_test(tc, test_anon_demand_zero);
	tcase_add_test(tc, test_anon_out_of_memory);
	tcase_add_test(tc, test_fault_nomem_reclaims);
	tcase_add_test(tc, test_munmap_middle_splits);
	tcase_add_test(tc, test_mprotect);
	tcase_add_test(tc, test_shared_file_dirty_tracking);
	tcase_add_test(tc, test_private_file_copy_on_write);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(suite());
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
