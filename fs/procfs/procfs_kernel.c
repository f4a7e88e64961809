/*
 * The kernel's own /proc files (kernel builds only): meminfo, threads,
 * interrupts, uptime and namecache, generated from the allocators, the
 * scheduler and the VFS's name cache at each open.
 */
#include <karst/init.h>
#include <karst/kmem_kernel.h>
#include <karst/sched.h>
#include <karst/time.h>
#include <procfs.h>
#include <vfs.h>

#define MEMINFO_EXTRA 4
static struct {
	procfs_show_t show;
	void *arg;
} meminfo_extra[MEMINFO_EXTRA];
static _Atomic int meminfo_nextra;

int procfs_meminfo_register(procfs_show_t show, void *arg)
{
	int i = meminfo_nextra;
	if (i >= MEMINFO_EXTRA)
		return -28; /* ENOSPC */
	meminfo_extra[i].show = show;
	meminfo_extra[i].arg = arg;
	meminfo_nextra = i + 1; /* published after the entry (seq_cst) */
	return 0;
}

static int meminfo_show(struct seqbuf *sb, void *arg)
{
	struct pa_stats ps;
	struct kma_stats ks;
	pa_get_stats(&kernel_pa, &ps);
	kma_get_stats(&kernel_kma, &ks);
	seqbuf_printf(sb, "MemTotal:       %8lu kB\n", (unsigned long)(kmem_ram_found() >> 10));
	seqbuf_printf(sb, "MemManaged:     %8lu kB\n", (unsigned long)(ps.total_pages * 4));
	seqbuf_printf(sb, "MemFree:        %8lu kB\n", (unsigned long)(ps.free_pages * 4));
	seqbuf_printf(sb, "Memmap:         %8lu kB\n", (unsigned long)(ps.memmap_pages * 4));
	seqbuf_printf(sb, "Kmalloc:        %8lu kB\n", (unsigned long)(ks.bytes_in_use >> 10));
	seqbuf_printf(sb, "KmallocLarge:   %8lu kB\n", (unsigned long)(ks.large_pages * 4));
	seqbuf_printf(sb, "PageAllocs:     %8lu\n", (unsigned long)ps.allocs);
	seqbuf_printf(sb, "PageFailures:   %8lu\n", (unsigned long)ps.failures);
	for (int i = 0; i < meminfo_nextra && !sb->err; i++)
		meminfo_extra[i].show(sb, meminfo_extra[i].arg);
	return sb->err;
}

static void thread_line(const struct thread *t, void *arg)
{
	seqbuf_printf(arg, "%lu %s %s %d %lu %lu\n", (unsigned long)t->id, t->name,
		      thread_state_name(t->state), t->prio,
		      (unsigned long)(thread_cpu_ns(t) / 1000), (unsigned long)t->switches);
}

/* One line per thread: id name state priority cpu_us switches. (The
 * callback runs with interrupts off; seqbuf's kmalloc does not sleep.) */
static int threads_show(struct seqbuf *sb, void *arg)
{
	seqbuf_printf(sb, "# id name state prio cpu_us switches\n");
	sched_for_each_thread(thread_line, sb);
	return sb->err;
}

static int uptime_show(struct seqbuf *sb, void *arg)
{
	uint64_t up = time_ns(), idle = sched_idle_ns();
	seqbuf_printf(sb, "%lu.%02lu %lu.%02lu\n", (unsigned long)(up / NSEC_PER_SEC),
		      (unsigned long)(up / (NSEC_PER_SEC / 100) % 100),
		      (unsigned long)(idle / NSEC_PER_SEC),
		      (unsigned long)(idle / (NSEC_PER_SEC / 100) % 100));
	return sb->err;
}

/* The VFS name cache: one "name value" per line. */
static int namecache_show(struct seqbuf *sb, void *arg)
{
	struct vfs_nc_stats st;
	vfs_namecache_stats(&st);
	seqbuf_printf(sb,
		      "entries %lu\nlimit %lu\nhits %lu\nneg_hits %lu\nmisses %lu\n"
		      "evictions %lu\nlowmem %lu\n",
		      (unsigned long)st.entries, (unsigned long)st.limit, (unsigned long)st.hits,
		      (unsigned long)st.neg_hits, (unsigned long)st.misses,
		      (unsigned long)st.evictions, (unsigned long)st.lowmem);
	return sb->err;
}

static int procfs_kernel_init(void)
{
	int e = procfs_register("meminfo", meminfo_show, NULL);
	if (!e)
		e = procfs_register("threads", threads_show, NULL);
	if (!e)
		e = procfs_register("uptime", uptime_show, NULL);
	if (!e)
		e = procfs_register("namecache", namecache_show, NULL);
	return e;
}
KARST_INIT(INIT_LATE, procfs_kernel_init);
