/*
 * In-kernel tests of the page cache (pagecache/): real faults through the
 * architecture's handlers, on both architectures. Files of ramfs (whose
 * data is the cache's pages) mapped from descriptors, and a test owner
 * that fills pages from a backing store and counts, for eviction,
 * refaults, fill errors and the access scanner (hardware-set accessed
 * bits on x86_64; access-flag faults on aarch64, or the CPU with hwaf=1).
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/kmem.h>
#include <karst/ktest.h>
#include <karst/printk.h>
#include <karst/vm.h>
#include <pagecache.h>
#include <pc_impl.h>
#include <string.h>
#include <vfs.h>

#define RW	   (VFS_PROT_READ | VFS_PROT_WRITE)
#define KT_PAGES   64
#define KT_PC_FILE "/kt_pc_file"

static struct pc_stats pcs(void)
{
	struct pc_stats st;
	pc_stats_get(&st);
	return st;
}

static unsigned leaf(const volatile void *va)
{
	unsigned prot = 0;
	return pgt_lookup(vm_kernel_pgtable(), (uintptr_t)va, NULL, &prot) ? prot : 0;
}

static uint64_t leaf_pa(const volatile void *va)
{
	uint64_t pa = 0;
	return pgt_lookup(vm_kernel_pgtable(), (uintptr_t)va, &pa, NULL) ? pa & ~(uint64_t)PAGE_MASK
									 : 0;
}

/* A ramfs file of `pages` pages, page p filled with 'a' + p. */
static int make_file(const char *path, int pages)
{
	int fd = vfs_open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
	if (fd < 0)
		return fd;
	char *buf = kmalloc(PAGE_SIZE);
	for (int p = 0; p < pages; p++) {
		memset(buf, 'a' + p, PAGE_SIZE);
		if (vfs_write(fd, buf, PAGE_SIZE) != (long)PAGE_SIZE) {
			kfree(buf);
			vfs_close(fd);
			return -EIO;
		}
	}
	kfree(buf);
	return fd;
}

KTEST(pc_ramfs_shared_write_msync_read)
{
	int fd = make_file(KT_PC_FILE, 3);
	KT_ASSERT(fd >= 0);
	volatile uint8_t *p;
	KT_ASSERT(pc_mmap(fd, 3 * PAGE_SIZE, RW, VFS_MAP_SHARED, 0, (void **)&p) == 0);
	KT_EXPECT(p[0] == 'a' && p[PAGE_SIZE] == 'b' && p[2 * PAGE_SIZE + 17] == 'c');
	p[PAGE_SIZE + 5] = 'S';
	char c = 0;
	/* ramfs's pages are the cache's: read() sees the write at once. */
	KT_EXPECT(vfs_pread(fd, &c, 1, PAGE_SIZE + 5) == 1 && c == 'S');
	KT_EXPECT(pc_msync((void *)p, 3 * PAGE_SIZE) == 0);
	KT_EXPECT(leaf(p + PAGE_SIZE) & MMU_READ);
	/* Written after msync: faults again (write notification), not lost. */
	p[PAGE_SIZE + 6] = 'T';
	KT_EXPECT(vfs_pread(fd, &c, 1, PAGE_SIZE + 6) == 1 && c == 'T');
	/* A write() is seen through the mapping. */
	KT_EXPECT(vfs_pwrite(fd, "W", 1, 2 * PAGE_SIZE) == 1);
	KT_EXPECT(p[2 * PAGE_SIZE] == 'W');
	KT_EXPECT(pc_munmap((void *)p, 3 * PAGE_SIZE) == 0);
	KT_EXPECT(leaf(p) == 0);
	vfs_close(fd);
	vfs_unlink(KT_PC_FILE);
}

KTEST(pc_ramfs_private_write_unseen)
{
	int fd = make_file(KT_PC_FILE, 2);
	KT_ASSERT(fd >= 0);
	volatile uint8_t *priv, *shared;
	KT_ASSERT(pc_mmap(fd, 2 * PAGE_SIZE, RW, VFS_MAP_PRIVATE, 0, (void **)&priv) == 0);
	KT_ASSERT(pc_mmap(fd, 2 * PAGE_SIZE, VFS_PROT_READ, VFS_MAP_SHARED, 0, (void **)&shared) ==
		  0);
	KT_EXPECT(priv[10] == 'a' && shared[10] == 'a');
	KT_EXPECT(leaf_pa(priv) == leaf_pa(shared)); /* one page until written */
	priv[10] = 'P';
	KT_EXPECT(leaf_pa(priv) != leaf_pa(shared));
	char c = 0;
	KT_EXPECT(vfs_pread(fd, &c, 1, 10) == 1 && c == 'a');
	KT_EXPECT(shared[10] == 'a');
	KT_EXPECT(priv[10] == 'P');
	KT_EXPECT(pc_munmap((void *)priv, 2 * PAGE_SIZE) == 0);
	KT_EXPECT(pc_munmap((void *)shared, 2 * PAGE_SIZE) == 0);
	vfs_close(fd);
	vfs_unlink(KT_PC_FILE);
}

KTEST(pc_two_mappings_one_page)
{
	int fd = make_file(KT_PC_FILE, 2);
	KT_ASSERT(fd >= 0);
	volatile uint8_t *a, *b;
	uint64_t mapped0 = pcs().mapped;
	KT_ASSERT(pc_mmap(fd, 2 * PAGE_SIZE, RW, VFS_MAP_SHARED, 0, (void **)&a) == 0);
	KT_ASSERT(pc_mmap(fd, PAGE_SIZE, RW, VFS_MAP_SHARED, PAGE_SIZE, (void **)&b) == 0);
	a[PAGE_SIZE + 1] = 'A';
	KT_EXPECT(b[1] == 'A');
	b[2] = 'B';
	KT_EXPECT(a[PAGE_SIZE + 2] == 'B');
	KT_EXPECT(leaf_pa(a + PAGE_SIZE) == leaf_pa(b) && leaf_pa(b) != 0);
	KT_EXPECT(pcs().mapped == mapped0 + 1); /* one page, two leaves */
	KT_EXPECT(pc_munmap((void *)a, 2 * PAGE_SIZE) == 0);
	KT_EXPECT(pc_munmap((void *)b, PAGE_SIZE) == 0);
	KT_EXPECT(pcs().mapped == mapped0);
	vfs_close(fd);
	vfs_unlink(KT_PC_FILE);
}

KTEST(pc_truncate_while_mapped)
{
	int fd = make_file(KT_PC_FILE, 4);
	KT_ASSERT(fd >= 0);
	volatile uint8_t *p;
	KT_ASSERT(pc_mmap(fd, 4 * PAGE_SIZE, RW, VFS_MAP_SHARED, 0, (void **)&p) == 0);
	for (int i = 0; i < 4; i++)
		KT_EXPECT(p[i * PAGE_SIZE] == 'a' + i);
	KT_EXPECT(vfs_ftruncate(fd, PAGE_SIZE + 10) == 0);
	KT_EXPECT(leaf(p + 2 * PAGE_SIZE) == 0 && leaf(p + 3 * PAGE_SIZE) == 0);
	KT_EXPECT(p[PAGE_SIZE + 9] == 'b');
	KT_EXPECT(p[PAGE_SIZE + 10] == 0); /* the tail of the last page */
	KT_EXPECT(vm_fault(vm_kernel_space(), (uintptr_t)p + 2 * PAGE_SIZE, VM_ACCESS_READ) ==
		  -EFAULT);
	KT_EXPECT_PANIC((void)p[3 * PAGE_SIZE]); /* past EOF: reported, never zeros */
	KT_EXPECT(pc_munmap((void *)p, 4 * PAGE_SIZE) == 0);
	vfs_close(fd);
	vfs_unlink(KT_PC_FILE);
}

KTEST(pc_bad_input)
{
	int fd = make_file(KT_PC_FILE, 1);
	KT_ASSERT(fd >= 0);
	void *p = NULL;
	uint64_t resident0;
	struct vm_fault_stats fs;
	vm_space_stats(vm_kernel_space(), &fs, &resident0);
	KT_EXPECT(pc_mmap(fd, PAGE_SIZE, VFS_PROT_READ, VFS_MAP_SHARED, 100, &p) == -EINVAL);
	KT_EXPECT(pc_mmap(fd, 0, VFS_PROT_READ, VFS_MAP_SHARED, 0, &p) == -EINVAL);
	vfs_close(fd);
	fd = vfs_open(KT_PC_FILE, O_RDONLY, 0);
	KT_EXPECT(pc_mmap(fd, PAGE_SIZE, RW, VFS_MAP_SHARED, 0, &p) == -EACCES);
	/* A private writable mapping of a read-only descriptor is fine. */
	KT_EXPECT(pc_mmap(fd, PAGE_SIZE, RW, VFS_MAP_PRIVATE, 0, &p) == 0);
	KT_EXPECT(pc_munmap(p, PAGE_SIZE) == 0);
	vfs_close(fd);
	int dfd = vfs_open("/", O_RDONLY | O_DIRECTORY, 0);
	KT_EXPECT(pc_mmap(dfd, PAGE_SIZE, VFS_PROT_READ, VFS_MAP_SHARED, 0, &p) == -ENODEV);
	vfs_close(dfd);
	int nfd = vfs_open("/dev/null", O_RDWR, 0);
	KT_EXPECT(pc_mmap(nfd, PAGE_SIZE, VFS_PROT_READ, VFS_MAP_SHARED, 0, &p) == -ENODEV);
	vfs_close(nfd);
	KT_EXPECT(pc_mmap(999, PAGE_SIZE, VFS_PROT_READ, VFS_MAP_SHARED, 0, &p) == -EBADF);
	/* msync of a range nothing maps. */
	KT_EXPECT(pc_msync((void *)(VM_AREA_BASE + VM_AREA_SIZE - 16 * PAGE_SIZE), PAGE_SIZE) ==
		  -ENOMEM);
	uint64_t resident1;
	vm_space_stats(vm_kernel_space(), &fs, &resident1);
	KT_EXPECT(resident1 == resident0); /* nothing changed */
	vfs_unlink(KT_PC_FILE);
}

/* ---- a filesystem with a backing store ---- */

struct ktfs {
	struct pc_object obj;
	uint8_t *store;
	int fills, writebacks, accessed;
	long fail_index;
};

static int ktfs_fill(void *arg, uint64_t index, void *dst)
{
	struct ktfs *f = arg;
	if ((long)index == f->fail_index)
		return -EIO;
	memcpy(dst, f->store + index * PAGE_SIZE, PAGE_SIZE);
	f->fills++;
	return 0;
}

static int ktfs_writeback(void *arg, uint64_t index, const void *src, size_t len)
{
	struct ktfs *f = arg;
	memcpy(f->store + index * PAGE_SIZE, src, len);
	f->writebacks++;
	return 0;
}

static void ktfs_accessed(void *arg, uint64_t index, const struct pc_lent *lent)
{
	struct ktfs *f = arg;
	(void)index;
	(void)lent;
	__atomic_fetch_add(&f->accessed, 1, __ATOMIC_RELAXED);
}

static const struct pc_owner_ops ktfs_ops = {
    .fill = ktfs_fill, .writeback = ktfs_writeback, .accessed = ktfs_accessed};
static struct pc_owner ktfs_owner = {.name = "ktest", .ops = &ktfs_ops};
static bool ktfs_registered;

/* Registering the first evictable owner starts the scanner thread. */
static void ktfs_register(void)
{
	if (ktfs_registered)
		return;
	bool before = pc_scanner_running();
	KT_EXPECT(pc_owner_register(&ktfs_owner) == 0);
	KT_EXPECT(pc_scanner_running());
	if (!before)
		printk("  (the scanner thread started with the first evictable owner)\n");
	ktfs_registered = true;
}

static bool ktfs_init(struct ktfs *f, uint64_t size)
{
	ktfs_register();
	/* Deterministic figures: the tests run the scanner themselves. */
	pc_scanner_stop();
	memset(f, 0, sizeof(*f));
	f->fail_index = -1;
	f->store = kpage_alloc(KT_PAGES);
	if (!f->store)
		return false;
	for (size_t i = 0; i < KT_PAGES * PAGE_SIZE; i++)
		f->store[i] = (uint8_t)(i / PAGE_SIZE + i % 251);
	return pc_object_init(&f->obj, &ktfs_owner, f, size) == 0;
}

static void ktfs_destroy(struct ktfs *f)
{
	pc_object_destroy(&f->obj);
	kpage_free(f->store, KT_PAGES);
}

static volatile uint8_t *ktfs_map(struct ktfs *f, size_t len, unsigned prot)
{
	struct pc_map *m = kzalloc(sizeof(*m));
	m->obj = &f->obj;
	atomic_store(&m->refs, 1);
	void *p = NULL;
	if (vm_mmap(vm_kernel_space(), NULL, len, prot, VM_MAP_SHARED, &pc_pager_ops, m, 0, &p)) {
		kfree(m);
		return NULL;
	}
	return p;
}

KTEST(pc_scanner_sees_touch)
{
	struct ktfs f;
	KT_ASSERT(ktfs_init(&f, 16 * PAGE_SIZE));
	volatile uint8_t *p = ktfs_map(&f, 16 * PAGE_SIZE, MMU_READ);
	KT_ASSERT(p != NULL);
	unsigned sum = 0;
	for (int i = 0; i < 16; i++)
		sum += p[i * PAGE_SIZE];
	(void)sum;
	KT_EXPECT(pc_scan_pass(0) >= 16);
	KT_EXPECT(f.accessed == 16);
	for (int i = 0; i < 16; i++)
		KT_EXPECT(!(leaf(p + i * PAGE_SIZE) & MMU_ACCESSED));
	struct vm_stats v0;
	vm_get_stats(&v0);
	/* Touch page 5: set again by the CPU (x86_64, hwaf=1) or by the
	 * access-flag fault handler (aarch64). */
	(void)p[5 * PAGE_SIZE + 3];
	KT_EXPECT(leaf(p + 5 * PAGE_SIZE) & MMU_ACCESSED);
	struct vm_stats v1;
	vm_get_stats(&v1);
#ifdef __aarch64__
	if (!arch_vm_hw_access_flag())
		KT_EXPECT(v1.access_faults == v0.access_faults + 1);
	else
		KT_EXPECT(v1.access_faults == v0.access_faults);
#else
	KT_EXPECT(v1.access_faults == v0.access_faults);
#endif
	int acc0 = f.accessed;
	KT_EXPECT(pc_scan_pass(0) >= 16);
	KT_EXPECT(f.accessed == acc0 + 1);
	KT_EXPECT(!(leaf(p + 5 * PAGE_SIZE) & MMU_ACCESSED));
	KT_EXPECT(vm_munmap(vm_kernel_space(), (void *)p, 16 * PAGE_SIZE) == 0);
	ktfs_destroy(&f);
}

KTEST(pc_pressure_evicts_and_refaults)
{
	struct ktfs f;
	KT_ASSERT(ktfs_init(&f, KT_PAGES * PAGE_SIZE));
	volatile uint8_t *p = ktfs_map(&f, KT_PAGES * PAGE_SIZE, MMU_READ | MMU_WRITE);
	KT_ASSERT(p != NULL);
	for (int i = 0; i < KT_PAGES; i++)
		p[i * PAGE_SIZE + 7] = (uint8_t)(0xd0 + i);
	KT_EXPECT(f.fills == KT_PAGES);
	KT_EXPECT(f.writebacks == 0);
	struct pc_stats s0 = pcs();
	/* Ask for more than there is: every page of this file goes, mapped
	 * ones unmapped first, dirty ones written back first. */
	(void)pc_evict(2 * KT_PAGES * PAGE_SIZE);
	struct pc_stats s1 = pcs();
	KT_EXPECT(s1.evicted - s0.evicted >= KT_PAGES);
	KT_EXPECT(f.writebacks == KT_PAGES);
	KT_EXPECT(pc_npages(&f.obj) == 0);
	KT_EXPECT(leaf(p) == 0);
	bool kept = true;
	for (int i = 0; i < KT_PAGES; i++)
		kept &= f.store[i * PAGE_SIZE + 7] == (uint8_t)(0xd0 + i);
	KT_EXPECT(kept);
	/* Touch again: refaults, with the written bytes. */
	bool back = true;
	for (int i = 0; i < KT_PAGES; i++)
		back &= p[i * PAGE_SIZE + 7] == (uint8_t)(0xd0 + i) &&
			p[i * PAGE_SIZE + 8] == (uint8_t)(i + (i * PAGE_SIZE + 8) % 251);
	KT_EXPECT(back);
	KT_EXPECT(pcs().refaults - s1.refaults == KT_PAGES);
	KT_EXPECT(f.fills == 2 * KT_PAGES);
	KT_EXPECT(vm_munmap(vm_kernel_space(), (void *)p, KT_PAGES * PAGE_SIZE) == 0);
	ktfs_destroy(&f);
}

KTEST(pc_fill_error_is_eio)
{
	struct ktfs f;
	KT_ASSERT(ktfs_init(&f, 2 * PAGE_SIZE));
	volatile uint8_t *p = ktfs_map(&f, 2 * PAGE_SIZE, MMU_READ);
	KT_ASSERT(p != NULL);
	f.fail_index = 1;
	KT_EXPECT(vm_fault(vm_kernel_space(), (uintptr_t)p + PAGE_SIZE, VM_ACCESS_READ) == -EIO);
	KT_EXPECT_PANIC((void)p[PAGE_SIZE]); /* the fault says EIO in words */
	KT_EXPECT(leaf(p + PAGE_SIZE) == 0);
	f.fail_index = -1;
	KT_EXPECT(p[PAGE_SIZE + 1] == (uint8_t)(1 + (PAGE_SIZE + 1) % 251));
	KT_EXPECT(vm_munmap(vm_kernel_space(), (void *)p, 2 * PAGE_SIZE) == 0);
	ktfs_destroy(&f);
}
