/*
 * virtio-fs statistics: /proc/virtiofs/<tag> and the shell's `virtiofs`
 * command, both from the per-connection counters (FUSE requests by
 * opcode, bytes each way, errors, forgets, bad replies).
 */
#include "dax.h"
#include "virtiofs.h"

#include <karst/init.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <procfs.h>
#include <stdarg.h>

static void stats_print(struct virtiofs_conn *conn, int (*out)(void *, const char *, ...),
			void *arg)
{
	out(arg, "tag %s\nsession %s\nmounts %d\nmax_read %u\nmap_alignment %u\n", conn->tag,
	    conn->inited ? "up" : "down", conn->mounts, conn->max_read, 1u << conn->map_alignment);
	out(arg, "device_window %lu\nforgets %lu\nlookups_counted %lu\nlookups_forgotten %lu\n",
	    (unsigned long)conn->window_len, (unsigned long)atomic_load(&conn->forgets),
	    (unsigned long)atomic_load(&conn->lookups_counted),
	    (unsigned long)atomic_load(&conn->lookups_forgotten));
	out(arg, "bad_replies %lu\n", (unsigned long)atomic_load(&conn->bad_replies));
	out(arg, "mmap_pages_lent %lu\nmmap_pages_filled %lu\nmmap_pages_accessed %lu\n",
	    (unsigned long)atomic_load(&conn->pages_lent),
	    (unsigned long)atomic_load(&conn->pages_filled),
	    (unsigned long)atomic_load(&conn->pages_accessed));
	out(arg, "host_changes %lu\n", (unsigned long)atomic_load(&conn->host_changes));
	struct dax_mgr *m = conn->dax;
	if (m) { /* present from the first mount to the last unmount */
		out(arg, "window_kind %s\nwindow_bytes %lu\nchunk %lu\n",
		    conn->dax_dev ? "device" : "guest-memory",
		    (unsigned long)conn->dax_window_bytes, (unsigned long)m->chunk_size);
		out(arg, "chunks_pinned %u\nwindow_refused %lu\n", dax_pinned(m),
		    (unsigned long)virtiofs_devwindow_refused(conn));
		out(arg, "chunks_in_use %u\nwindow_hits %lu\nwindow_misses %lu\n", dax_in_use(m),
		    (unsigned long)atomic_load(&m->st.hits),
		    (unsigned long)atomic_load(&m->st.misses));
		out(arg, "window_evictions %lu\nwindow_fallbacks %lu\nwindow_map_errors %lu\n",
		    (unsigned long)atomic_load(&m->st.evictions),
		    (unsigned long)atomic_load(&m->st.fallbacks),
		    (unsigned long)atomic_load(&m->st.map_errors));
		out(arg, "window_readahead %lu\nwindow_shrunk %lu\nwindow_prepared %lu\n",
		    (unsigned long)atomic_load(&m->st.readahead),
		    (unsigned long)atomic_load(&m->st.shrunk),
		    (unsigned long)atomic_load(&m->st.prepared));
	}
	out(arg, "%-14s %10s %8s %12s %12s\n", "op", "requests", "errors", "bytes_out", "bytes_in");
	for (unsigned op = 0; op < VIRTIOFS_OPS; op++) {
		struct virtiofs_opstat *s = &conn->ops_stat[op];
		uint64_t n = atomic_load(&s->requests);
		if (!n)
			continue;
		char buf[16];
		out(arg, "%-14s %10lu %8lu %12lu %12lu\n", fuse_opname(op, buf, sizeof(buf)),
		    (unsigned long)n, (unsigned long)atomic_load(&s->errors),
		    (unsigned long)atomic_load(&s->bytes_out),
		    (unsigned long)atomic_load(&s->bytes_in));
	}
}

static int seq_out(void *arg, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return seqbuf_printf(arg, "%s", line) < 0 ? -1 : n;
}

static int shell_out(void *arg, const char *fmt, ...)
{
	char line[160];
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	shell_printf("%s", line);
	return n;
}

static int proc_show(struct seqbuf *sb, void *arg)
{
	stats_print(arg, seq_out, sb);
	return sb->err;
}

static void proc_register_one(struct virtiofs_conn *conn, void *arg)
{
	char path[64];
	ksnprintf(path, sizeof(path), "virtiofs/%s", conn->tag);
	int e = procfs_register(path, proc_show, conn);
	if (e)
		printk("virtiofs: cannot publish /proc/%s (%d)\n", path, e);
}

static int virtiofs_proc_init(void)
{
	virtiofs_conn_foreach(proc_register_one, NULL);
	return 0;
}
KARST_INIT(INIT_FS, virtiofs_proc_init);

static void shell_one(struct virtiofs_conn *conn, void *arg)
{
	int *n = arg;
	if ((*n)++)
		shell_printf("\n");
	stats_print(conn, shell_out, NULL);
}

static int cmd_virtiofs(int argc, char **argv)
{
	int n = 0;
	virtiofs_conn_foreach(shell_one, &n);
	if (!n)
		shell_printf("no virtio-fs devices\n");
	return 0;
}
SHELL_CMD("virtiofs", cmd_virtiofs, "virtiofs: virtio-fs devices, FUSE requests by opcode");
