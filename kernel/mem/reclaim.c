/*
 * The reclaim thread (reclaimd), over the reclaimer registry of
 * reclaim_registry.c: the page allocator
 * calls reclaim_wake() when an allocation leaves fewer pages free than the
 * low watermark (1/64 of memory), and reclaimd asks the reclaimers for
 * enough to get back to the high watermark (twice the low one), then
 * tells them memory is low if they could not.
 *
 * An allocation that fails in a thread that may sleep waits for reclaimd
 * (reclaim_alloc_wait, from kmalloc and kpage_alloc) and tries once more,
 * as Linux's allocator reclaims before it gives up: a burst of
 * allocations would otherwise fail before reclaimd, woken by the first of
 * them, has given anything back. The wait is bounded (RECLAIM_WAIT_MS), so
 * a caller holding a lock some reclaimer needs only fails as before.
 */
#include <errno.h>
#include <karst/arch.h>
#include <karst/init.h>
#include <karst/kmem_kernel.h>
#include <karst/printk.h>
#include <karst/reclaim.h>
#include <karst/sched.h>
#include <karst/shell.h>
#include <karst/sync.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <stdlib.h>

static struct waitq reclaimd_wq;
static volatile bool reclaim_wanted;
static size_t low_pages, high_pages;
static uint64_t reclaimd_runs, reclaimd_freed;
static struct thread *reclaimd_thread;
static uint64_t alloc_waits;

#define RECLAIM_WAIT_MS 20

/* The page allocator's low-memory hook: any context, just a wakeup. */
static void reclaim_wake(void *arg)
{
	if (!reclaim_wanted) {
		reclaim_wanted = true;
		wq_wake_one(&reclaimd_wq);
	}
}

static void reclaimd(void *arg)
{
	for (;;) {
		unsigned long f = arch_irq_save();
		while (!reclaim_wanted)
			wq_sleep(&reclaimd_wq, 0);
		arch_irq_restore(f);
		struct pa_stats st;
		pa_get_stats(&kernel_pa, &st);
		if (st.free_pages < high_pages) {
			size_t want = (high_pages - st.free_pages) * PAGE_SIZE;
			size_t got = reclaim_memory(want);
			reclaimd_runs++;
			reclaimd_freed += got;
			if (got < want)
				reclaim_lowmem();
		}
		reclaim_wanted = false;
	}
}

/* Fewer free pages than the high watermark: a racy read of the count,
 * which is all a hint needs. */
static bool reclaim_pressure_kernel(void)
{
	return *(volatile size_t *)&kernel_pa.st.free_pages < high_pages;
}

static int reclaim_init(void)
{
	wq_init(&reclaimd_wq);
	struct pa_stats st;
	pa_get_stats(&kernel_pa, &st);
	low_pages = MAX(st.total_pages / 64, (size_t)256);
	high_pages = 2 * low_pages;
	reclaimd_thread = thread_create("reclaimd", reclaimd, NULL, THREAD_PRIO_HIGH);
	if (!reclaimd_thread)
		return -ENOMEM;
	pa_set_low_watermark(&kernel_pa, low_pages, reclaim_wake, NULL);
	reclaim_set_pressure_fn(reclaim_pressure_kernel);
	return 0;
}
KARST_INIT(INIT_EARLY, reclaim_init);

bool reclaim_alloc_wait(void)
{
	/* Interrupts on: not in a handler and no spinlock held (spin_lock
	 * masks them), so this thread may sleep. */
	if (!reclaimd_thread || in_interrupt() || !arch_irqs_enabled() ||
	    thread_self() == reclaimd_thread)
		return false;
	/* With free pages above the high watermark reclaimd would do nothing:
	 * the request is larger or more fragmented than reclaim can help. */
	if (*(volatile size_t *)&kernel_pa.st.free_pages >= high_pages)
		return false;
	uint64_t runs = *(volatile uint64_t *)&reclaimd_runs;
	reclaim_wake(NULL);
	__atomic_fetch_add(&alloc_waits, 1, __ATOMIC_RELAXED);
	for (int ms = 0; ms < RECLAIM_WAIT_MS && *(volatile uint64_t *)&reclaimd_runs == runs; ms++)
		thread_sleep_ns(NSEC_PER_MSEC);
	return true;
}

void reclaim_stats(uint64_t *runs, uint64_t *freed, size_t *low, size_t *high)
{
	*runs = reclaimd_runs;
	*freed = reclaimd_freed;
	*low = low_pages;
	*high = high_pages;
}

static int cmd_reclaim(int argc, char **argv)
{
	if (argc == 2 && argv[1][0] == 'l') {
		reclaim_lowmem();
		shell_printf("told every reclaimer that memory is low\n");
		return 0;
	}
	if (argc == 1) {
		uint64_t dcalls, dfreed;
		reclaim_direct_stats(&dcalls, &dfreed);
		struct pa_stats st;
		pa_get_stats(&kernel_pa, &st);
		shell_printf(
		    "reclaimd: %lu runs, %lu bytes freed; watermarks low %lu high %lu pages\n",
		    (unsigned long)reclaimd_runs, (unsigned long)reclaimd_freed,
		    (unsigned long)low_pages, (unsigned long)high_pages);
		shell_printf("direct reclaim: %lu calls, %lu bytes freed; free %lu of %lu pages\n",
			     (unsigned long)dcalls, (unsigned long)dfreed,
			     (unsigned long)st.free_pages, (unsigned long)st.total_pages);
		shell_printf("failed allocations that waited for reclaimd: %lu\n",
			     (unsigned long)alloc_waits);
		return 0;
	}
	if (argc != 2) {
		printk("usage: reclaim [BYTES | lowmem]\n");
		return 2;
	}
	size_t want = (size_t)strtoull(argv[1], NULL, 0);
	shell_printf("reclaimed %lu of %lu bytes\n", (unsigned long)reclaim_memory(want),
		     (unsigned long)want);
	return 0;
}
SHELL_CMD("reclaim", cmd_reclaim,
	  "reclaim [BYTES | lowmem]: reclaimd figures, or ask caches for memory back");
