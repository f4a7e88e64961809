/*
 * The access scanner: which mapped cached pages are still in use.
 *
 * Pages with at least one mapping are on pc_mapped. A batch takes pages
 * from its head (moving each to the tail, so successive batches go round
 * the list like a clock hand) and, for every leaf that maps each page
 * (the reverse map), test-and-clears the leaf's accessed state with
 * pgt_clear_accessed, lock-free. Leaves whose bit was set are then
 * flushed from the TLB in runs of consecutive addresses, one flush per run
 * at the end of the batch (until its entry goes, a CPU could use the page
 * without setting the bit again). A page found accessed is marked for the
 * cache's own aging (eviction gives it a second chance) and reported to
 * its owner's accessed() (the ARC counts a hit, the DAX manager heats the
 * chunk). On aarch64 without hardware access flags the next touch of a
 * cleared page takes an access-flag fault, which the fault fast path
 * resolves; that is the scanner's cost there, counted by vmstat.
 *
 * The thread runs rounds inside a CPU budget (pc_scan_ctl.c) and exists
 * only once an owner with evictable pages registered: a kernel whose only
 * owner is ramfs runs no scanner.
 */
#include "pc_impl.h"

#include <karst/thread.h>
#include <karst/time.h>

#define SCAN_BATCH  64 /* pages per batch, under pc_map_lock */
#define SCAN_RUNS   32 /* flush runs remembered per batch */
#define RUN_MAX_PGS 32 /* pages per flush run (below the arch's flush-all limit) */

struct flush_run {
	struct pgtable *pt;
	uintptr_t va;
	size_t len;
};

static size_t pass_left; /* pc_map_lock: pages left in the current pass */

static void flush_runs(struct flush_run *runs, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		const struct pgt_ops *ops = runs[i].pt->ops;
		if (ops->flush)
			ops->flush(runs[i].va, runs[i].len, ops->arg);
		PC_ADD(scan_flushes, 1);
	}
}

size_t pc_scan_batch(size_t max, size_t *accessed_out)
{
	struct flush_run runs[SCAN_RUNS];
	unsigned nruns = 0;
	size_t scanned = 0, accessed = 0, cleared = 0;
	pc_globals_init();
	if (max == 0 || max > SCAN_BATCH)
		max = SCAN_BATCH;
	mutex_lock(&pc_map_lock);
	size_t nmapped = (size_t)atomic_load(&pc_ctr.mapped);
	while (scanned < max && !list_empty(&pc_mapped)) {
		struct pc_page *pg = list_first(&pc_mapped, struct pc_page, mlink);
		list_del(&pg->mlink);
		list_add_tail(&pc_mapped, &pg->mlink);
		bool hot = false;
		for (struct pc_rmap *r = pg->rmap; r; r = r->next) {
			if (!pgt_clear_accessed(r->vs->pt, r->va))
				continue;
			hot = true;
			cleared++;
			struct flush_run *last = nruns ? &runs[nruns - 1] : NULL;
			if (last && last->pt == r->vs->pt && last->va + last->len == r->va &&
			    last->len < RUN_MAX_PGS * PAGE_SIZE) {
				last->len += PAGE_SIZE;
			} else {
				if (nruns == SCAN_RUNS) {
					flush_runs(runs, nruns);
					nruns = 0;
				}
				runs[nruns++] = (struct flush_run){r->vs->pt, r->va, PAGE_SIZE};
			}
		}
		if (hot) {
			accessed++;
			pc_page_set(pg, PC_PG_ACCESSED);
			struct pc_object *obj = pg->obj;
			if (obj->owner->ops->accessed) {
				obj->owner->ops->accessed(obj->arg, pg->index, &pg->lent);
				PC_OWN_ADD(obj->owner, accessed, 1);
			}
		}
		scanned++;
		if (pass_left == 0 || --pass_left == 0) {
			PC_ADD(scan_passes, 1);
			pass_left = nmapped;
		}
	}
	flush_runs(runs, nruns);
	mutex_unlock(&pc_map_lock);
	PC_ADD(scan_scanned, scanned);
	PC_ADD(scan_cleared, cleared);
	PC_ADD(scan_accessed, accessed);
	if (accessed_out)
		*accessed_out = accessed;
	return scanned;
}

size_t pc_scan_pass(size_t max)
{
	size_t total = 0;
	size_t want = max ? max : (size_t)atomic_load(&pc_ctr.mapped);
	while (total < want) {
		size_t n = pc_scan_batch(want - total, NULL);
		if (n == 0)
			break;
		total += n;
	}
	return total;
}

/* ---- the thread ---- */

static struct mutex scan_lock; /* the fields below */
static struct condvar scan_cv;
static struct thread *scan_thread;
static bool scan_stop, scan_auto = true;
static atomic_int scan_lock_state;
static struct pc_scan_ctl scan_ctl;

static void scan_lock_init(void)
{
	int expected = 0;
	if (atomic_compare_exchange_strong(&scan_lock_state, &expected, 1)) {
		mutex_init(&scan_lock, "pc_scan");
		cv_init(&scan_cv);
		atomic_store(&scan_lock_state, 2);
	}
	while (atomic_load(&scan_lock_state) != 2)
		;
}

static void scan_main(void *arg)
{
	(void)arg;
	mutex_lock(&scan_lock);
	while (!scan_stop) {
		uint64_t budget = pc_scan_ctl_budget(&scan_ctl);
		mutex_unlock(&scan_lock);
		uint64_t start = time_ns(), worked;
		size_t scanned = 0, accessed = 0;
		do {
			size_t acc = 0, n = pc_scan_batch(SCAN_BATCH, &acc);
			scanned += n;
			accessed += acc;
			worked = time_ns() - start;
			if (n < SCAN_BATCH)
				break; /* nothing more mapped */
		} while (worked < budget && scanned < (size_t)atomic_load(&pc_ctr.mapped));
		mutex_lock(&scan_lock);
		uint64_t sleep = pc_scan_ctl_plan(&scan_ctl, worked, scanned, accessed,
						  (size_t)atomic_load(&pc_ctr.mapped));
		if (!scan_stop)
			(void)cv_timedwait(&scan_cv, &scan_lock, sleep);
		pc_scan_ctl_measure(&scan_ctl, worked, time_ns() - start);
		atomic_store(&pc_ctr.scan_cpu_ppm_now, scan_ctl.now_ppm);
		atomic_store(&pc_ctr.scan_cpu_ppm_avg, scan_ctl.avg_ppm);
	}
	mutex_unlock(&scan_lock);
}

void pc_scanner_set_auto(bool on)
{
	scan_lock_init();
	mutex_lock(&scan_lock);
	scan_auto = on;
	mutex_unlock(&scan_lock);
}

/* pc_owner_register's call: only when automatic starts are on. */
int pc_scanner_start(void)
{
	scan_lock_init();
	mutex_lock(&scan_lock);
	int rc = 0;
	if (!scan_thread) {
		pc_scan_ctl_init(&scan_ctl, 1000, 200000, 100 * NSEC_PER_MSEC);
		scan_stop = false;
		scan_thread = thread_create("pc_scan", scan_main, NULL, THREAD_PRIO_LOW);
		if (!scan_thread)
			rc = -12; /* ENOMEM */
	}
	mutex_unlock(&scan_lock);
	return rc;
}

int pc_scanner_autostart(void)
{
	scan_lock_init();
	mutex_lock(&scan_lock);
	bool on = scan_auto;
	mutex_unlock(&scan_lock);
	return on ? pc_scanner_start() : 0;
}

void pc_scanner_stop(void)
{
	scan_lock_init();
	mutex_lock(&scan_lock);
	struct thread *t = scan_thread;
	scan_stop = true;
	cv_broadcast(&scan_cv);
	mutex_unlock(&scan_lock);
	if (t)
		thread_join(t);
	mutex_lock(&scan_lock);
	scan_thread = NULL;
	mutex_unlock(&scan_lock);
}

bool pc_scanner_running(void)
{
	scan_lock_init();
	mutex_lock(&scan_lock);
	bool r = scan_thread != NULL;
	mutex_unlock(&scan_lock);
	return r;
}

uint64_t pc_scanner_cpu_ns(void)
{
	scan_lock_init();
	mutex_lock(&scan_lock);
	uint64_t ns = scan_thread ? thread_cpu_ns(scan_thread) : 0;
	mutex_unlock(&scan_lock);
	return ns;
}
