/*
 * Check suite (label: concurrent): the accessed/dirty updates against a
 * thread that plays the hardware on the same entries.
 *
 *  - the scanner clears accessed on thousands of pages in a loop while the
 *    "CPU" sets accessed with an atomic OR (and dirty with a CAS, as x86's
 *    D or aarch64's DBM would): every 0 -> 1 transition the CPU made is
 *    later seen by exactly one clear that returned true, or is still set at
 *    the end; no dirty bit is lost;
 *  - the same scanner against the aarch64 fault fast path
 *    (pgt_set_accessed with writes): no dirty state is lost;
 *  - on a few hot entries, the CPU setting both bits against a scanner
 *    clearing accessed and a writeback clearing dirty: both balance;
 *  - pgt_protect flipping the access rights while the CPU sets accessed
 *    and dirty: nothing the CPU set is lost;
 *  - on the hot entries, the fault fast path (pgt_set_accessed for reads,
 *    after the scanner's clear) against a writer that sets dirty (the CPU,
 *    or the fast path for a write) and writeback clearing dirty: every
 *    dirtying is seen by exactly one writeback or is still set at the end
 *    (a plain store in pgt_set_accessed loses or resurrects dirty state);
 *  - threads mapping pages at once where none of the tables exist yet:
 *    every mapping is there and no table is lost or leaked.
 * Run under ThreadSanitizer as well.
 */
#include "pgt_test.h"
#include <check.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#define NPAGES 4096
#define ROUNDS 200
#define BASE   ((uintptr_t)0x40000000)
#define BLOCKS 4 /* 2 MiB blocks after the pages */
#define NLEAF  (NPAGES + BLOCKS)

static struct pgt_test_env env;
static struct pgtable pt;
static pte_t *leaf[NLEAF];
static uintptr_t leaf_va[NLEAF];
static int done;

static void setup(void)
{
	pgt_test_env_init(&env);
	ck_assert_int_eq(pgt_init(&pt, &env.ops), 0);
	ck_assert_int_eq(
	    pgt_map(&pt, BASE, 0x80000000, NPAGES * PAGE_SIZE, MMU_READ | MMU_WRITE, 0), 0);
	uintptr_t bva = BASE + (64ULL << 20);
	ck_assert_int_eq(pgt_map(&pt, bva, 0xc0000000, BLOCKS * (2ULL << 20), MMU_READ | MMU_WRITE,
				 PGT_ALLOW_2M),
			 0);
	for (int i = 0; i < NLEAF; i++) {
		int level;
		leaf_va[i] = i < NPAGES ? BASE + (uintptr_t)i * PAGE_SIZE
					: bva + (uintptr_t)(i - NPAGES) * (2ULL << 20) + 0x1234;
		leaf[i] = pgt_walk(&pt, leaf_va[i], &level);
		ck_assert_ptr_nonnull(leaf[i]);
		ck_assert_int_eq(level, i < NPAGES ? 3 : 2);
	}
	__atomic_store_n(&done, 0, __ATOMIC_RELAXED);
}

static void teardown(void)
{
	pgt_destroy(&pt);
	ck_assert_int_eq(pgt_test_live(&env), 0);
}

/* The CPU marks a leaf dirty: x86 sets D, aarch64 with DBM clears AP[2];
 * both are atomic updates of the entry. */
static bool hw_set_dirty(pte_t *ep)
{
	pte_t old = __atomic_load_n(ep, __ATOMIC_RELAXED);
	for (;;) {
		if (pte_dirty(old))
			return false;
		if (__atomic_compare_exchange_n(ep, &old, pte_with_dirty(old, true), true,
						__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			return true;
	}
}

struct hw_result {
	long accessed_sets; /* 0 -> 1 transitions of accessed */
	long dirty_sets;
};

static void *hw_thread(void *arg)
{
	struct hw_result *r = arg;
	unsigned seed = 7;
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < NLEAF; i++) {
			pte_t old = __atomic_fetch_or(leaf[i], PTE_ACCESSED_BIT, __ATOMIC_RELAXED);
			if (!(old & PTE_ACCESSED_BIT))
				r->accessed_sets++;
			/* Write to about one leaf in 8. */
			if ((rand_r(&seed) & 7) == 0 && hw_set_dirty(leaf[i]))
				r->dirty_sets++;
		}
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *fault_thread(void *arg)
{
	long *faults = arg;
	for (int round = 0; round < ROUNDS; round++) {
		for (int i = 0; i < NLEAF; i++) {
			/* Every leaf written once, then read. */
			bool w = round == i % ROUNDS;
			if (!pgt_set_accessed(&pt, leaf_va[i], w))
				return NULL; /* counted as missing below */
			(*faults)++;
		}
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *scanner_thread(void *arg)
{
	long *clears = arg;
	/* Keep sweeping until the other side is done, then sweep once more. */
	for (;;) {
		int finished = __atomic_load_n(&done, __ATOMIC_ACQUIRE);
		for (int i = 0; i < NLEAF; i++)
			if (pgt_clear_accessed(&pt, leaf_va[i]))
				(*clears)++;
		if (finished)
			return NULL;
	}
}

static int count_state(bool dirty)
{
	int n = 0;
	for (int i = 0; i < NLEAF; i++) {
		pte_t e = pgt_entry_load(leaf[i]);
		n += dirty ? pte_dirty(e) : pte_accessed(e);
		/* Nothing else in the entry moved. */
		PGT_CHECK_EQ(pte_prot(e), MMU_READ | MMU_WRITE);
		PGT_CHECK(pte_is_leaf(e, i < NPAGES ? 3 : 2));
	}
	return n;
}

START_TEST(test_clear_accessed_vs_hardware)
{
	struct hw_result hw = {0};
	long clears = 0;
	pthread_t h, s;
	ck_assert_int_eq(pthread_create(&s, NULL, scanner_thread, &clears), 0);
	ck_assert_int_eq(pthread_create(&h, NULL, hw_thread, &hw), 0);
	pthread_join(h, NULL);
	pthread_join(s, NULL);
	/* The scanner's last sweep ran after the CPU stopped: all clear. */
	ck_assert_int_eq(count_state(false), 0);
	ck_assert_int_eq(hw.accessed_sets, clears);
	ck_assert_int_ge(hw.accessed_sets, NLEAF);
	/* Dirty is never cleared here: every dirtying survived the scanner. */
	ck_assert_int_eq(count_state(true), hw.dirty_sets);
	ck_assert_int_gt(hw.dirty_sets, NLEAF / 2);
}
END_TEST

START_TEST(test_clear_accessed_then_count_balance)
{
	/* The same, with the accessed bits left as they are at the end: sets
	 * balance clears plus what is still set. */
	struct hw_result hw = {0};
	long clears = 0;
	pthread_t h;
	ck_assert_int_eq(pthread_create(&h, NULL, hw_thread, &hw), 0);
	/* The scanner sweeps a fixed number of times, racing the CPU. */
	for (int sweep = 0; sweep < ROUNDS / 2; sweep++)
		for (int i = 0; i < NLEAF; i++)
			if (pgt_clear_accessed(&pt, leaf_va[i]))
				clears++;
	pthread_join(h, NULL);
	ck_assert_int_eq(hw.accessed_sets, clears + count_state(false));
	ck_assert_int_eq(count_state(true), hw.dirty_sets);
}
END_TEST

START_TEST(test_clear_accessed_vs_fault_fast_path)
{
	long faults = 0, clears = 0;
	pthread_t f, s;
	ck_assert_int_eq(pthread_create(&s, NULL, scanner_thread, &clears), 0);
	ck_assert_int_eq(pthread_create(&f, NULL, fault_thread, &faults), 0);
	pthread_join(f, NULL);
	pthread_join(s, NULL);
	ck_assert_int_eq(faults, (long)ROUNDS * NLEAF);
	ck_assert_int_eq(count_state(false), 0);
	/* Every leaf was written once: every one is dirty. */
	ck_assert_int_eq(count_state(true), NLEAF);
	ck_assert_int_ge(clears, NLEAF);
	ck_assert_int_le(clears, faults);
}
END_TEST

/*
 * Few leaves, many rounds, so the two sides collide on the same entry all
 * the time: the CPU sets accessed (atomic OR) and dirty (CAS); the kernel
 * thread, in turn on each leaf, clears accessed (the scanner) and dirty
 * (writeback). Each clear must leave the other bit alone even when the CPU
 * sets it at that moment: a read-modify-write in either would lose the
 * CPU's bit and unbalance the counts. (Two threads, not three: on a small
 * host three would mostly take turns instead of colliding.)
 */
#define NHOT	       3	      /* two pages and a block */
#define HOT_NS	       300000000ULL   /* the CPU keeps going at least this long */
#define HOT_MAX_NS     60000000000ULL /* and at most this long (a loaded host) */
#define HOT_MIN_CLEARS 20000
static int hot[NHOT]; /* indexes into leaf[] */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct hot_clears {
	long accessed, dirty; /* written by the kernel thread */
};

struct hot_hw {
	struct hw_result r;
	const struct hot_clears *c;
};

/* Progress of the other side; a relaxed read is enough to pace the loop. */
static long hot_min_clears(const struct hot_clears *c)
{
	long a = __atomic_load_n(&c->accessed, __ATOMIC_RELAXED);
	long d = __atomic_load_n(&c->dirty, __ATOMIC_RELAXED);
	return a < d ? a : d;
}

/* Keeps going for HOT_NS and until the kernel thread has cleared each bit
 * HOT_MIN_CLEARS times (on a loaded host the two threads may share one
 * CPU and take turns), but not beyond HOT_MAX_NS. */
static void *hot_hw_thread(void *arg)
{
	struct hot_hw *h = arg;
	unsigned seed = 11;
	uint64_t start = now_ns();
	for (int round = 0;; round++) {
		if (round % 64 == 0) {
			uint64_t t = now_ns() - start;
			if (t > HOT_MAX_NS ||
			    (t > HOT_NS && hot_min_clears(h->c) >= HOT_MIN_CLEARS))
				break;
			/* On a loaded host the two threads may share one CPU
			 * for whole time slices: yield so they interleave. */
			sched_yield();
		}
		for (int k = 0; k < NHOT; k++) {
			pte_t *ep = leaf[hot[k]];
			pte_t old = __atomic_fetch_or(ep, PTE_ACCESSED_BIT, __ATOMIC_RELAXED);
			if (!(old & PTE_ACCESSED_BIT))
				h->r.accessed_sets++;
			if ((rand_r(&seed) & 1) && hw_set_dirty(ep))
				h->r.dirty_sets++;
		}
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *hot_clear_thread(void *arg)
{
	struct hot_clears *c = arg;
	for (;;) {
		int finished = __atomic_load_n(&done, __ATOMIC_ACQUIRE);
		bool cleared = false;
		for (int k = 0; k < NHOT; k++) {
			if (pgt_clear_accessed(&pt, leaf_va[hot[k]])) {
				__atomic_store_n(&c->accessed, c->accessed + 1, __ATOMIC_RELAXED);
				cleared = true;
			}
			if (pgt_clear_dirty(&pt, leaf_va[hot[k]])) {
				__atomic_store_n(&c->dirty, c->dirty + 1, __ATOMIC_RELAXED);
				cleared = true;
			}
		}
		if (finished)
			return NULL;
		if (!cleared)
			sched_yield(); /* nothing to do: let the "CPU" thread run */
	}
}

START_TEST(test_hot_entries_balance)
{
	hot[0] = 0;
	hot[1] = NPAGES / 2;
	hot[2] = NPAGES + 1;
	struct hot_clears c = {0};
	struct hot_hw hh = {.c = &c};
	struct hw_result *hw = &hh.r;
	pthread_t h, k;
	ck_assert_int_eq(pthread_create(&k, NULL, hot_clear_thread, &c), 0);
	ck_assert_int_eq(pthread_create(&h, NULL, hot_hw_thread, &hh), 0);
	pthread_join(h, NULL);
	pthread_join(k, NULL);
	/* The kernel thread swept once more after the CPU stopped. */
	ck_assert_int_eq(count_state(false), 0);
	ck_assert_int_eq(count_state(true), 0);
	ck_assert_int_eq(hw->accessed_sets, c.accessed);
	ck_assert_int_eq(hw->dirty_sets, c.dirty);
	/* Enough rounds for the two to meet on the same entry. */
	ck_assert_int_ge(c.accessed, HOT_MIN_CLEARS);
	ck_assert_int_ge(c.dirty, HOT_MIN_CLEARS);
	ck_assert_int_eq(env.flushes, c.dirty);
}
END_TEST

static void *protect_thread(void *arg)
{
	long *flips = arg;
	do {
		unsigned prot =
		    (*flips & 1) ? (MMU_READ | MMU_WRITE) : (MMU_READ | MMU_WRITE | MMU_EXEC);
		ck_assert_int_eq(pgt_protect(&pt, BASE, NPAGES * PAGE_SIZE, prot), 0);
		(*flips)++;
	} while (!__atomic_load_n(&done, __ATOMIC_ACQUIRE));
	if (*flips & 1) /* leave it as it started */
		ck_assert_int_eq(pgt_protect(&pt, BASE, NPAGES * PAGE_SIZE, MMU_READ | MMU_WRITE),
				 0);
	return NULL;
}

START_TEST(test_protect_vs_hardware)
{
	struct hw_result hw = {0};
	long flips = 0;
	pthread_t h, p;
	ck_assert_int_eq(pthread_create(&p, NULL, protect_thread, &flips), 0);
	ck_assert_int_eq(pthread_create(&h, NULL, hw_thread, &hw), 0);
	pthread_join(h, NULL);
	pthread_join(p, NULL);
	ck_assert_int_gt(flips, 0);
	/* Nobody cleared anything: every leaf accessed, every dirtying kept. */
	ck_assert_int_eq(count_state(false), NLEAF);
	ck_assert_int_eq(hw.accessed_sets, NLEAF);
	ck_assert_int_eq(count_state(true), hw.dirty_sets);
}
END_TEST

/*
 * The fast path against dirty-state changes. Thread F plays the fault path
 * of reads: it clears accessed (as the scanner would) and sets it again
 * with pgt_set_accessed(false), so that call really stores an entry each
 * time. Thread W is the only one that changes dirty: it makes a clean leaf
 * dirty (half the time as the CPU does, half the time through the fast
 * path for a write) and writes dirty leaves back (pgt_clear_dirty), and
 * counts both. A fast path that wrote its entry with a plain store could
 * drop a dirty bit W had just set, or put back one W had just cleared:
 * either way the counts no longer balance.
 */
/* One entry: the two threads meet on it all the time. */
#define NDIRTY_HOT 1

struct dirty_counts {
	long sets, cleans; /* written by W */
	long w_ops;	   /* W's changes so far (F reads it) */
	long fast_sets;	   /* pgt_set_accessed(false) that stored (F) */
	long overlaps;	   /* ... while W changed the entry (F) */
};

/* Changes by W that the fast path must not undo; F needs this many to
 * have overlapped one of its calls (on a loaded host the two threads may
 * take turns on one CPU for long stretches, and then nothing collides). */
#define MIN_OVERLAPS 1000

static void dirty_op_done(struct dirty_counts *c)
{
	__atomic_store_n(&c->w_ops, c->w_ops + 1, __ATOMIC_RELAXED);
}

static void *fast_read_thread(void *arg)
{
	struct dirty_counts *c = arg;
	for (;;) {
		int finished = __atomic_load_n(&done, __ATOMIC_ACQUIRE);
		for (int k = 0; k < NDIRTY_HOT; k++) {
			uintptr_t va = leaf_va[hot[k]];
			if (pgt_clear_accessed(&pt, va)) {
				long before = __atomic_load_n(&c->w_ops, __ATOMIC_RELAXED);
				PGT_CHECK(pgt_set_accessed(&pt, va, false));
				if (__atomic_load_n(&c->w_ops, __ATOMIC_RELAXED) != before)
					__atomic_store_n(&c->overlaps, c->overlaps + 1,
							 __ATOMIC_RELAXED);
				__atomic_store_n(&c->fast_sets, c->fast_sets + 1, __ATOMIC_RELAXED);
			}
		}
		if (finished)
			return NULL;
	}
}

static void *dirty_writer_thread(void *arg)
{
	struct dirty_counts *c = arg;
	unsigned seed = 13;
	uint64_t start = now_ns();
	for (int round = 0;; round++) {
		if (round % 64 == 0) {
			uint64_t t = now_ns() - start;
			long f = __atomic_load_n(&c->overlaps, __ATOMIC_RELAXED);
			if (t > HOT_MAX_NS ||
			    (t > HOT_NS && f >= MIN_OVERLAPS && c->cleans >= HOT_MIN_CLEARS))
				break;
			sched_yield();
		}
		for (int k = 0; k < NDIRTY_HOT; k++) {
			pte_t *ep = leaf[hot[k]];
			if (pte_dirty(pgt_entry_load(ep))) {
				if (pgt_clear_dirty(&pt, leaf_va[hot[k]]))
					c->cleans++;
			} else if (rand_r(&seed) & 1) {
				if (hw_set_dirty(ep))
					c->sets++;
			} else {
				/* W alone sets dirty: the leaf is clean, this
				 * call makes it dirty. */
				PGT_CHECK(pgt_set_accessed(&pt, leaf_va[hot[k]], true));
				c->sets++;
			}
			dirty_op_done(c);
		}
	}
	__atomic_store_n(&done, 1, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(test_fast_path_vs_dirty_writer_and_writeback)
{
	hot[0] = 1;
	struct dirty_counts c = {0};
	pthread_t f, w;
	ck_assert_int_eq(pthread_create(&f, NULL, fast_read_thread, &c), 0);
	ck_assert_int_eq(pthread_create(&w, NULL, dirty_writer_thread, &c), 0);
	pthread_join(w, NULL);
	pthread_join(f, NULL);
	/* Every dirtying was written back once, or is still dirty. */
	ck_assert_int_eq(c.sets, c.cleans + count_state(true));
	/* And the test saw what it guards: W's changes landed inside F's calls. */
	ck_assert_int_ge(c.overlaps, MIN_OVERLAPS);
	ck_assert_int_ge(c.cleans, HOT_MIN_CLEARS);
}
END_TEST

/*
 * Tables created by several mappers at once. The kernel's runtime region
 * (under vm_lock) and its VM areas (under vs->lock) share tables; each
 * round here starts from an empty tree and has NMAPPERS threads map one
 * page each in the same level-3 table, none of whose tables exist yet,
 * released together. Whoever creates a table must not lose another's
 * (its mapping would vanish) nor leave one behind (a leak), and the table
 * count must stay exact.
 */
#define NMAPPERS   4
#define MAP_ROUNDS 3000
#define MAP_BASE   ((uintptr_t)0x8040000000) /* a fresh level-0 entry */

static struct pgtable mpt;
static pthread_barrier_t map_barrier;

struct mapper {
	int id;
	int failures;
};

static void *mapper_thread(void *arg)
{
	struct mapper *m = arg;
	for (int round = 0; round < MAP_ROUNDS; round++) {
		pthread_barrier_wait(&map_barrier); /* the tree is fresh */
		uintptr_t va = MAP_BASE + (uintptr_t)m->id * PAGE_SIZE;
		if (pgt_map(&mpt, va, 0x100000000ULL + (uint64_t)m->id * PAGE_SIZE, PAGE_SIZE,
			    MMU_READ | MMU_WRITE, 0) != 0)
			m->failures++;
		pthread_barrier_wait(&map_barrier); /* all mapped: main checks */
		pthread_barrier_wait(&map_barrier); /* main rebuilt the tree */
	}
	return NULL;
}

START_TEST(test_concurrent_maps_share_tables)
{
	struct pgt_test_env menv;
	pgt_test_env_init(&menv);
	struct mapper m[NMAPPERS];
	pthread_t t[NMAPPERS];
	ck_assert_int_eq(pthread_barrier_init(&map_barrier, NULL, NMAPPERS + 1), 0);
	ck_assert_int_eq(pgt_init(&mpt, &menv.ops), 0);
	for (int i = 0; i < NMAPPERS; i++) {
		m[i] = (struct mapper){.id = i};
		ck_assert_int_eq(pthread_create(&t[i], NULL, mapper_thread, &m[i]), 0);
	}
	int lost = 0, bad_count = 0;
	for (int round = 0; round < MAP_ROUNDS; round++) {
		pthread_barrier_wait(&map_barrier);
		pthread_barrier_wait(&map_barrier);
		for (int i = 0; i < NMAPPERS; i++) {
			uint64_t pa;
			if (!pgt_lookup(&mpt, MAP_BASE + (uintptr_t)i * PAGE_SIZE, &pa, NULL) ||
			    pa != 0x100000000ULL + (uint64_t)i * PAGE_SIZE)
				lost++;
		}
		/* Root, level 1, 2 and 3: exactly four, all accounted. */
		if (mpt.ntables != 4 || pgt_test_live(&menv) != 4)
			bad_count++;
		pgt_destroy(&mpt);
		PGT_CHECK_EQ(pgt_test_live(&menv), 0);
		menv.allocs = menv.frees = 0;
		ck_assert_int_eq(pgt_init(&mpt, &menv.ops), 0);
		pthread_barrier_wait(&map_barrier);
	}
	for (int i = 0; i < NMAPPERS; i++) {
		pthread_join(t[i], NULL);
		ck_assert_int_eq(m[i].failures, 0);
	}
	pgt_destroy(&mpt);
	pthread_barrier_destroy(&map_barrier);
	ck_assert_int_eq(lost, 0);
	ck_assert_int_eq(bad_count, 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pgt_concurrent_" PTE_ARCH_NAME);
	TCase *tc = tcase_create("concurrent");
	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_clear_accessed_vs_hardware);
	tcase_add_test(tc, test_clear_accessed_then_count_balance);
	tcase_add_test(tc, test_clear_accessed_vs_fault_fast_path);
	tcase_add_test(tc, test_protect_vs_hardware);
	tcase_add_test(tc, test_hot_entries_balance);
	tcase_add_test(tc, test_fast_path_vs_dirty_writer_and_writeback);
	tcase_add_test(tc, test_concurrent_maps_share_tables);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
