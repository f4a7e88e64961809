/*
 * The page cache under concurrency (run under TSan too): writers through
 * write(), a thread writing through a shared mapping (faults, msync,
 * munmap, remap), readers, eviction and the scanner all at once on one
 * file. Each writer owns its pages and writes a growing counter; at the
 * end, after fsync, the store holds each writer's last value: eviction,
 * scanning and unmapping lost no write. Then faults racing invalidations
 * (a host-side change): every fault inside the file succeeds.
 */
#include "pc_test_fs.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RW	  (MMU_READ | MMU_WRITE)
#define NPAGES	  16
#define WRITERS	  2 /* pages 0..7: writer w owns pages with p % WRITERS == w */
#define MAP_FIRST 8 /* pages 8..15: the mapping thread's */
#define RUN_NS	  (1500ULL * 1000 * 1000)

static struct tfs f;
static struct tmach m;
static _Atomic bool stop;
/* The VFS's v_lock: read() shared, write() and fsync() exclusive. */
static pthread_rwlock_t vlock = PTHREAD_RWLOCK_INITIALIZER;
static uint32_t last_write[NPAGES];

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void *writer(void *arg)
{
	int w = (int)(intptr_t)arg;
	for (uint32_t n = 1; !atomic_load(&stop); n++) {
		for (int p = w; p < MAP_FIRST; p += WRITERS) {
			pthread_rwlock_wrlock(&vlock);
			long r = tfs_pwrite(&f, &n, sizeof(n), (uint64_t)p * PAGE_SIZE + 64);
			pthread_rwlock_unlock(&vlock);
			ck_assert_int_eq(r, sizeof(n));
			last_write[p] = n;
		}
		if (n % 16 == 0) {
			pthread_rwlock_wrlock(&vlock);
			ck_assert_int_eq(pc_fsync(&f.obj), 0);
			pthread_rwlock_unlock(&vlock);
		}
	}
	return NULL;
}

static void *mapper(void *arg)
{
	(void)arg;
	for (uint8_t n = 1; !atomic_load(&stop); n++) {
		uintptr_t va = tmach_map(&m, &f, (NPAGES - MAP_FIRST) * PAGE_SIZE, RW,
					 VM_MAP_SHARED, MAP_FIRST * PAGE_SIZE);
		for (int p = 0; p < NPAGES - MAP_FIRST; p++) {
			ck_assert_int_eq(tmach_write(&m, va + p * PAGE_SIZE + 8, n), 0);
			last_write[MAP_FIRST + p] = n;
		}
		if (n % 2)
			ck_assert_int_eq(
			    vm_msync(&m.vs, (void *)va, (NPAGES - MAP_FIRST) * PAGE_SIZE), 0);
		ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, (NPAGES - MAP_FIRST) * PAGE_SIZE), 0);
	}
	return NULL;
}

static void *reader(void *arg)
{
	(void)arg;
	/* The writers' pages (the mapping thread's pages are read through
	 * its mapping; read() racing a store into a mapped page is a race of
	 * the program's, not the cache's). */
	uint8_t buf[MAP_FIRST * PAGE_SIZE];
	while (!atomic_load(&stop)) {
		pthread_rwlock_rdlock(&vlock);
		long n = tfs_pread(&f, buf, sizeof(buf), 0);
		pthread_rwlock_unlock(&vlock);
		ck_assert_int_eq(n, sizeof(buf));
	}
	return NULL;
}

static void *evictor(void *arg)
{
	(void)arg;
	while (!atomic_load(&stop)) {
		pc_evict(4 * PAGE_SIZE);
		pc_scan_pass(0);
	}
	return NULL;
}

START_TEST(test_everything_at_once)
{
	tmach_init(&m);
	tfs_init(&f, &tfs_fill_owner, NPAGES * PAGE_SIZE);
	pthread_t t[6];
	int n = 0;
	for (int w = 0; w < WRITERS; w++)
		pthread_create(&t[n++], NULL, writer, (void *)(intptr_t)w);
	pthread_create(&t[n++], NULL, mapper, NULL);
	pthread_create(&t[n++], NULL, reader, NULL);
	pthread_create(&t[n++], NULL, evictor, NULL);
	uint64_t end = now_ns() + RUN_NS;
	while (now_ns() < end)
		usleep(10000);
	atomic_store(&stop, true);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	ck_assert_int_eq(pc_fsync(&f.obj), 0);
	for (int p = 0; p < MAP_FIRST; p++) {
		uint32_t v;
		memcpy(&v, f.store + p * PAGE_SIZE + 64, sizeof(v));
		ck_assert_uint_eq(v, last_write[p]);
	}
	for (int p = MAP_FIRST; p < NPAGES; p++)
		ck_assert_uint_eq(f.store[p * PAGE_SIZE + 8], (uint8_t)last_write[p]);
	struct pc_stats st;
	pc_stats_get(&st);
	ck_assert_uint_gt(st.evicted, 0);
	ck_assert_uint_eq(st.mapped, 0);
	tfs_destroy(&f);
	tmach_destroy(&m);
}
END_TEST

/* A fault racing an invalidation (a host-side change of a virtio-fs file
 * drops every cached page): the page the fault got may be removed before
 * it is mapped. Inside the file the fault must be tried again and map the
 * current page, never fail (a kernel mapping would panic on EFAULT). */
static struct tfs inv_f;
static void *invalidator(void *arg)
{
	(void)arg;
	/* Changes come and go; back to back, a fault slowed down by a
	 * sanitizer could lose every one of its bounded retries. */
	while (!atomic_load(&stop)) {
		ck_assert_int_eq(pc_invalidate(&inv_f.obj, NPAGES * PAGE_SIZE), 0);
		usleep(100);
	}
	return NULL;
}

START_TEST(test_fault_races_invalidate)
{
	atomic_store(&stop, false);
	tmach_init(&m);
	tfs_init(&inv_f, &tfs_fill_owner, NPAGES * PAGE_SIZE);
	pthread_t t;
	pthread_create(&t, NULL, invalidator, NULL);
	uint64_t end = now_ns() + RUN_NS, faults = 0;
	while (now_ns() < end) {
		uintptr_t va =
		    tmach_map(&m, &inv_f, NPAGES * PAGE_SIZE, MMU_READ, VM_MAP_SHARED, 0);
		for (int p = 0; p < NPAGES; p++) {
			uint8_t v = 0;
			int e = tmach_read(&m, va + p * PAGE_SIZE + 5, &v);
			if (e || v != tfs_byte(p, 5))
				fprintf(stderr, "    page %d: fault %d, byte %u\n", p, e, v);
			ck_assert_int_eq(e, 0);
			ck_assert_uint_eq(v, tfs_byte(p, 5));
			faults++;
		}
		ck_assert_int_eq(vm_munmap(&m.vs, (void *)va, NPAGES * PAGE_SIZE), 0);
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	ck_assert_uint_gt(faults, 0);
	tfs_destroy(&inv_f);
	tmach_destroy(&m);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pc_concurrent");
	TCase *tc = tcase_create("concurrent");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_everything_at_once);
	tcase_add_test(tc, test_fault_races_invalidate);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
