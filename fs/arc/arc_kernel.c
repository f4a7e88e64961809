/*
 * The kernel's ARC (kernel builds with the disk filesystem only): one
 * instance, sized from RAM at boot (c_max a quarter of it:
 * arc_c_max_for_ram()), registered with
 * the reclaimer so memory pressure shrinks it, and its statistics published
 * where ZFS users look: /proc/spl/kstat/zfs/arcstats. The disk filesystem
 * takes it with arc_kernel(). Created at INIT_FS, so it exists before the
 * boot mounts (INIT_LATE) can mount a cowfs root.
 */
#include <karst/init.h>
#include <karst/kmem.h>
#include <karst/kmem_kernel.h>
#include <karst/printk.h>
#include <procfs.h>

#include "arc.h"

static struct arc *kernel_arc;

struct arc *arc_kernel(void)
{
	return kernel_arc;
}

static int arcstats_show(struct seqbuf *sb, void *arg)
{
	char *buf = kmalloc(8192);
	if (!buf)
		return -12;
	int n = arc_stats_format(kernel_arc, buf, 8192);
	if (n > 0)
		seqbuf_write(sb, buf, n < 8192 ? (size_t)n : 8191);
	kfree(buf);
	return sb->err;
}

static int arc_kernel_init(void)
{
	uint64_t ram = kmem_ram_found();
	struct arc_config cfg = {
	    .name = "arc",
	    /* No floor above RAM: a 64 MiB guest's ARC of 64 MiB left
	     * nothing for the page cache and ran the kernel out of memory. */
	    .c_max = arc_c_max_for_ram(ram),
	    /* Blocks stay as they are on disk (lz4 ones compressed), as in
	     * ZFS's compressed ARC: compressing plain fills too cost every
	     * cold read an lz4 pass (cowfs cold reads 1.3-2x slower under
	     * TCG) and kept those blocks from being lent to the page cache. */
	    .compress = false,
	};
	int e = arc_create(&cfg, &kernel_arc);
	if (e) {
		printk("arc: cannot create the ARC (%d)\n", e);
		return e;
	}
	arc_register_reclaim(kernel_arc);
	return procfs_register("spl/kstat/zfs/arcstats", arcstats_show, NULL);
}
KARST_INIT(INIT_FS, arc_kernel_init);
