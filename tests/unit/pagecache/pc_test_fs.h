/*
 * A test filesystem for the page-cache suites: one file whose backing
 * store is an array of pages, with counters of what the cache asked
 * (fills, writebacks, lends, unlends, accessed reports, per page) and
 * failures on demand. Three owners over it:
 *   tfs_fill_owner   fills from the store, writes back into it
 *   tfs_lend_owner   lends the store's pages read-only (as cowfs lends ARC
 *                    buffers), fills a page of the cache's own for writes
 *   tfs_span_owner   tfs_lend_owner that also answers read() with spans of
 *                    the store (read_hold, as cowfs holds ARC buffers),
 *                    up to the end of a TFS_SPAN_PAGES-page block
 *   tfs_store_owner  ramfs's kind: pinned, the index is the data, lend
 *                    allocates a zeroed page (and counts it)
 * Also the host "machine": a page-table tree and a VM space over it.
 */
#ifndef PC_TEST_FS_H
#define PC_TEST_FS_H

#include "pgt_test.h"
#include <check.h>
#include <karst/vm.h>
#include <pagecache.h>
#include <pc_impl.h>
#include <pthread.h>

#define TFS_PAGES      64
#define TFS_SPAN_PAGES 4

struct tfs {
	struct pc_object obj;
	uint8_t *store; /* TFS_PAGES pages */
	int fills[TFS_PAGES], writebacks[TFS_PAGES], lends[TFS_PAGES], unlends[TFS_PAGES];
	int accessed[TFS_PAGES];
	int total_fills, total_writebacks;
	long fail_fill_index;	   /* -1: none */
	long fail_writeback_index; /* -1: none */
	int store_pages_out;	   /* tfs_store_owner pages allocated, not yet unlent */
	int holds, releases;	   /* tfs_span_owner spans */
	long fail_hold_index;	   /* -1: none; else read_hold fails there (-EIO) */
	long nohold_index;	   /* -1: none; else read_hold says PC_NO_LEND there */
};

extern struct pc_owner tfs_fill_owner, tfs_lend_owner, tfs_span_owner, tfs_store_owner;

/* Page contents are shared by the test's "CPU" (tmach_read/write) and the
 * owner's writeback copying a page that is still mapped, as in any kernel;
 * this lock makes each access one indivisible step for ThreadSanitizer (a
 * real CPU's store is one). */
extern pthread_mutex_t tfs_data_lock;

/* Register the owners (scanner auto-start off), set up f over owner with
 * a store of TFS_PAGES pages, byte i of page p being tfs_byte(p, i). */
void tfs_init(struct tfs *f, struct pc_owner *owner, uint64_t size);
void tfs_destroy(struct tfs *f);
static inline uint8_t tfs_byte(uint64_t page, size_t i)
{
	return (uint8_t)(page * 7 + i * 13 + 1);
}

/* Read/write through the cache with a kernel buffer. */
long tfs_pread(struct tfs *f, void *buf, size_t len, uint64_t off);
long tfs_pwrite(struct tfs *f, const void *buf, size_t len, uint64_t off);

/* A machine: a tree and a space of 256 pages. */
struct tmach {
	struct pgt_test_env env;
	struct pgtable pt;
	struct vm_space vs;
	long frames_out;
};
void tmach_init(struct tmach *m);
void tmach_destroy(struct tmach *m);
/* Map f's object through the page cache's pager (no vnode). */
uintptr_t tmach_map(struct tmach *m, struct tfs *f, size_t len, unsigned prot, unsigned flags,
		    uint64_t off);
/* Play the CPU: fault when the access is not allowed, then read / write
 * through the tables (setting accessed, and dirty on a write, as the
 * hardware does). Return the fault's error, or 0. */
int tmach_read(struct tmach *m, uintptr_t va, uint8_t *out);
int tmach_write(struct tmach *m, uintptr_t va, uint8_t v);
/* What the leaf at va maps (0 when nothing). */
uint64_t tmach_pa(struct tmach *m, uintptr_t va);

#endif
