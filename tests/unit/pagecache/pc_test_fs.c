/*
 * The page-cache suites' test filesystem and machine (see pc_test_fs.h).
 */
#include "pc_test_fs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <vfs.h>

pthread_mutex_t tfs_data_lock = PTHREAD_MUTEX_INITIALIZER;

static struct tfs *arg_tfs(void *arg)
{
	return arg;
}

static int tfs_fill(void *arg, uint64_t index, void *dst)
{
	struct tfs *f = arg_tfs(arg);
	ck_assert_uint_lt(index, TFS_PAGES);
	if ((long)index == f->fail_fill_index)
		return -EIO;
	memcpy(dst, f->store + index * PAGE_SIZE, PAGE_SIZE);
	f->fills[index]++;
	f->total_fills++;
	return 0;
}

static int tfs_writeback(void *arg, uint64_t index, const void *src, size_t len)
{
	struct tfs *f = arg_tfs(arg);
	ck_assert_uint_lt(index, TFS_PAGES);
	ck_assert_uint_le(len, PAGE_SIZE);
	ck_assert_uint_gt(len, 0);
	if ((long)index == f->fail_writeback_index)
		return -EIO;
	pthread_mutex_lock(&tfs_data_lock);
	memcpy(f->store + index * PAGE_SIZE, src, len);
	pthread_mutex_unlock(&tfs_data_lock);
	f->writebacks[index]++;
	f->total_writebacks++;
	return 0;
}

static void tfs_accessed(void *arg, uint64_t index, const struct pc_lent *lent)
{
	struct tfs *f = arg_tfs(arg);
	(void)lent;
	if (index < TFS_PAGES)
		__atomic_fetch_add(&f->accessed[index], 1, __ATOMIC_RELAXED);
}

static int tfs_lend(void *arg, uint64_t index, bool write, struct pc_lent *lent)
{
	struct tfs *f = arg_tfs(arg);
	if (write)
		return PC_NO_LEND; /* immutable, like an ARC block */
	ck_assert_uint_lt(index, TFS_PAGES);
	lent->pa = virt_to_phys(f->store + index * PAGE_SIZE);
	lent->cookie = f;
	lent->flags = 0;
	f->lends[index]++;
	return 0;
}

static void tfs_unlend(void *arg, uint64_t index, const struct pc_lent *lent)
{
	struct tfs *f = arg_tfs(arg);
	ck_assert_ptr_eq(lent->cookie, f);
	f->unlends[index]++;
	ck_assert_int_le(f->unlends[index], f->lends[index]);
}

static int store_lend(void *arg, uint64_t index, bool write, struct pc_lent *lent)
{
	struct tfs *f = arg_tfs(arg);
	(void)write;
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!p)
		return -ENOMEM;
	memset(p, 0, PAGE_SIZE);
	lent->pa = virt_to_phys(p);
	lent->cookie = p;
	lent->flags = PC_LENT_WRITABLE | PC_LENT_PINNED;
	f->store_pages_out++;
	if (index < TFS_PAGES)
		f->lends[index]++;
	return 0;
}

static void store_unlend(void *arg, uint64_t index, const struct pc_lent *lent)
{
	struct tfs *f = arg_tfs(arg);
	ck_assert_ptr_eq(phys_to_virt(lent->pa), lent->cookie);
	free(lent->cookie);
	f->store_pages_out--;
	if (index < TFS_PAGES)
		f->unlends[index]++;
}

/* Spans of the store up to the end of a TFS_SPAN_PAGES-page "block". */
static int tfs_read_hold(void *arg, uint64_t off, struct pc_span *span)
{
	struct tfs *f = arg_tfs(arg);
	uint64_t index = off >> PAGE_SHIFT;
	ck_assert_uint_lt(off, f->obj.size);
	if ((long)index == f->fail_hold_index)
		return -EIO;
	if ((long)index == f->nohold_index)
		return PC_NO_LEND;
	uint64_t end = (index / TFS_SPAN_PAGES + 1) * TFS_SPAN_PAGES * PAGE_SIZE;
	if (end > f->obj.size)
		end = f->obj.size;
	span->data = f->store + off;
	span->len = (size_t)(end - off);
	span->cookie = f;
	f->holds++;
	return 0;
}

static void tfs_read_release(void *arg, const struct pc_span *span)
{
	struct tfs *f = arg_tfs(arg);
	ck_assert_ptr_eq(span->cookie, f);
	f->releases++;
	ck_assert_int_le(f->releases, f->holds);
}

static const struct pc_owner_ops fill_ops = {
    .fill = tfs_fill, .writeback = tfs_writeback, .accessed = tfs_accessed};
static const struct pc_owner_ops lend_ops = {.lend = tfs_lend,
					     .unlend = tfs_unlend,
					     .fill = tfs_fill,
					     .writeback = tfs_writeback,
					     .accessed = tfs_accessed};
static const struct pc_owner_ops span_ops = {.lend = tfs_lend,
					     .unlend = tfs_unlend,
					     .fill = tfs_fill,
					     .writeback = tfs_writeback,
					     .accessed = tfs_accessed,
					     .read_hold = tfs_read_hold,
					     .read_release = tfs_read_release};
static const struct pc_owner_ops store_ops = {.lend = store_lend, .unlend = store_unlend};

struct pc_owner tfs_fill_owner = {.name = "tfs-fill", .ops = &fill_ops};
struct pc_owner tfs_lend_owner = {.name = "tfs-lend", .ops = &lend_ops};
struct pc_owner tfs_span_owner = {.name = "tfs-span", .ops = &span_ops};
struct pc_owner tfs_store_owner = {
    .name = "tfs-store", .ops = &store_ops, .flags = PC_OWNER_PINNED | PC_OWNER_STORE};

void tfs_init(struct tfs *f, struct pc_owner *owner, uint64_t size)
{
	pc_scanner_set_auto(false);
	ck_assert_int_eq(pc_owner_register(&tfs_fill_owner), 0);
	ck_assert_int_eq(pc_owner_register(&tfs_lend_owner), 0);
	ck_assert_int_eq(pc_owner_register(&tfs_store_owner), 0);
	ck_assert_int_eq(pc_owner_register(&tfs_span_owner), 0);
	memset(f, 0, sizeof(*f));
	f->fail_fill_index = f->fail_writeback_index = -1;
	f->fail_hold_index = f->nohold_index = -1;
	f->store = aligned_alloc(PAGE_SIZE, TFS_PAGES * PAGE_SIZE);
	ck_assert_ptr_nonnull(f->store);
	for (uint64_t p = 0; p < TFS_PAGES; p++)
		for (size_t i = 0; i < PAGE_SIZE; i++)
			f->store[p * PAGE_SIZE + i] = tfs_byte(p, i);
	ck_assert_int_eq(pc_object_init(&f->obj, owner, f, size), 0);
}

void tfs_destroy(struct tfs *f)
{
	pc_object_destroy(&f->obj);
	if (f->obj.owner == &tfs_store_owner)
		ck_assert_int_eq(f->store_pages_out, 0);
	for (int i = 0; i < TFS_PAGES; i++)
		ck_assert_int_eq(f->unlends[i], f->lends[i]); /* exactly once each */
	free(f->store);
}

long tfs_pread(struct tfs *f, void *buf, size_t len, uint64_t off)
{
	struct vfs_iovec iov;
	struct uio uio;
	uio_init_buf(&uio, &iov, buf, len, (int64_t)off, UIO_READ);
	int e = pc_read(&f->obj, &uio);
	return e ? e : (long)(len - uio.uio_resid);
}

long tfs_pwrite(struct tfs *f, const void *buf, size_t len, uint64_t off)
{
	struct vfs_iovec iov;
	struct uio uio;
	uio_init_buf(&uio, &iov, (void *)buf, len, (int64_t)off, UIO_WRITE);
	int e = pc_write(&f->obj, &uio);
	return e ? e : (long)(len - uio.uio_resid);
}

/* ---- the machine ---- */

#define TM_BASE 0xffffc00040000000ULL
#define TM_SIZE (256 * PAGE_SIZE)

static uint64_t tm_frame_alloc(void *arg)
{
	struct tmach *m = arg;
	void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
	if (!p)
		return 0;
	__atomic_fetch_add(&m->frames_out, 1, __ATOMIC_RELAXED);
	return virt_to_phys(p);
}

static void tm_frame_free(uint64_t pa, void *arg)
{
	struct tmach *m = arg;
	__atomic_fetch_sub(&m->frames_out, 1, __ATOMIC_RELAXED);
	free(phys_to_virt(pa));
}

static struct vm_frame_ops tm_frames = {.alloc = tm_frame_alloc, .free = tm_frame_free};

void tmach_init(struct tmach *m)
{
	memset(m, 0, sizeof(*m));
	pgt_test_env_init(&m->env);
	ck_assert_int_eq(pgt_init(&m->pt, &m->env.ops), 0);
	tm_frames.arg = m;
	ck_assert_int_eq(vm_space_init(&m->vs, &m->pt, TM_BASE, TM_SIZE, &tm_frames, 0), 0);
}

void tmach_destroy(struct tmach *m)
{
	vm_space_destroy(&m->vs);
	ck_assert_int_eq(m->frames_out, 0);
	pgt_destroy(&m->pt);
}

uintptr_t tmach_map(struct tmach *m, struct tfs *f, size_t len, unsigned prot, unsigned flags,
		    uint64_t off)
{
	struct pc_map *pm = calloc(1, sizeof(*pm));
	pm->obj = &f->obj;
	atomic_store(&pm->refs, 1);
	void *out = NULL;
	int e = vm_mmap(&m->vs, NULL, len, prot, flags, &pc_pager_ops, pm, off, &out);
	ck_assert_int_eq(e, 0);
	return (uintptr_t)out;
}

/* The access itself runs under the space's lock, so that unmapping
 * (which takes it) cannot free the frame between the lookup and the load
 * or store, as a TLB shootdown would wait for a real CPU's access. A write
 * stores before it marks the leaf dirty: a dirty harvest in between (it
 * takes no space lock) then copies the new byte already. */
int tmach_read(struct tmach *m, uintptr_t va, uint8_t *out)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint64_t pa;
		mutex_lock(&m->vs.lock);
		bool ok = pgt_lookup(&m->pt, va, &pa, NULL);
		if (ok) {
			pgt_set_accessed(&m->pt, va, false);
			pthread_mutex_lock(&tfs_data_lock);
			*out = *(uint8_t *)phys_to_virt(pa);
			pthread_mutex_unlock(&tfs_data_lock);
		}
		mutex_unlock(&m->vs.lock);
		if (ok)
			return 0;
		int e = vm_fault(&m->vs, va, VM_ACCESS_READ);
		if (e)
			return e;
	}
	ck_abort_msg("read of %lx never succeeded", (unsigned long)va);
	return -1;
}

int tmach_write(struct tmach *m, uintptr_t va, uint8_t v)
{
	for (int tries = 0; tries < 1000; tries++) {
		uint64_t pa;
		unsigned prot = 0;
		mutex_lock(&m->vs.lock);
		bool ok = pgt_lookup(&m->pt, va, &pa, &prot) && (prot & MMU_WRITE);
		if (ok) {
			pthread_mutex_lock(&tfs_data_lock);
			*(uint8_t *)phys_to_virt(pa) = v;
			pthread_mutex_unlock(&tfs_data_lock);
			ck_assert(pgt_set_accessed(&m->pt, va, true));
		}
		mutex_unlock(&m->vs.lock);
		if (ok)
			return 0;
		int e = vm_fault(&m->vs, va, VM_ACCESS_WRITE);
		if (e)
			return e;
	}
	ck_abort_msg("write of %lx never succeeded", (unsigned long)va);
	return -1;
}

uint64_t tmach_pa(struct tmach *m, uintptr_t va)
{
	uint64_t pa;
	return pgt_lookup(&m->pt, va, &pa, NULL) ? pa & ~(uint64_t)PAGE_MASK : 0;
}
