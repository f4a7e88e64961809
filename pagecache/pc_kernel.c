/*
 * The kernel's page cache: joins the reclaimer registry, publishes
 * /proc/pagecache and the Cached/Mapped/Dirty lines of /proc/meminfo, and
 * maps descriptors into the kernel's address space (pc_mmap, pc_munmap,
 * pc_msync). Kernel builds only.
 */
#include "pc_impl.h"

#include <errno.h>
#include <karst/init.h>
#include <procfs.h>

static int pagecache_show(struct seqbuf *sb, void *arg)
{
	(void)arg;
	char buf[1024];
	int n = pc_stats_format(buf, sizeof(buf));
	if (n > 0)
		seqbuf_write(sb, buf, (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1);
	return sb->err;
}

static int meminfo_lines(struct seqbuf *sb, void *arg)
{
	(void)arg;
	struct pc_stats st;
	pc_stats_get(&st);
	seqbuf_printf(sb, "Cached:         %8lu kB\n", (unsigned long)(st.cached * 4));
	seqbuf_printf(sb, "Mapped:         %8lu kB\n", (unsigned long)(st.mapped * 4));
	seqbuf_printf(sb, "Dirty:          %8lu kB\n", (unsigned long)(st.dirty * 4));
	seqbuf_printf(sb, "Writeback:      %8lu kB\n", (unsigned long)(st.writeback * 4));
	return sb->err;
}

static int pc_kernel_init(void)
{
	pc_globals_init();
	pc_register_reclaim();
	int e = procfs_register("pagecache", pagecache_show, NULL);
	if (!e)
		e = procfs_meminfo_register(meminfo_lines, NULL);
	return e;
}
KARST_INIT(INIT_LATE, pc_kernel_init);

int pc_mmap(int fd, size_t len, int prot, int flags, uint64_t offset, void **out)
{
	return pc_mmap_space(vm_kernel_space(), fd, len, prot, flags, offset, out);
}

int pc_munmap(void *addr, size_t len)
{
	struct vm_space *vs = vm_kernel_space();
	return vs ? vm_munmap(vs, addr, len) : -ENODEV;
}

int pc_msync(void *addr, size_t len)
{
	struct vm_space *vs = vm_kernel_space();
	return vs ? vm_msync(vs, addr, len) : -ENODEV;
}
