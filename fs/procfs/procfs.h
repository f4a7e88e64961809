/*
 * procfs: generated read-only files under /proc.
 *
 * Any subsystem publishes a file by path with a function that writes its
 * text into a seqbuf:
 *
 *	static int arcstats_show(struct seqbuf *sb, void *arg)
 *	{
 *		seqbuf_printf(sb, "hits %llu\n", ...);
 *		return 0;
 *	}
 *	procfs_register("spl/kstat/zfs/arcstats", arcstats_show, arc);
 *
 * Directories on the way are made. The text is generated once per open,
 * so a reader sees one consistent snapshot however it reads it; show runs
 * in the opening thread with no VFS lock held (it may sleep and may take
 * its subsystem's locks). Registration works before /proc is mounted and
 * from any thread. procfs itself provides "mounts"; the kernel registers
 * "meminfo" and "threads".
 */
#ifndef KARST_PROCFS_H
#define KARST_PROCFS_H

#include <karst/compiler.h>
#include <stddef.h>

/* A growing text buffer. After an allocation failure (or SEQBUF_MAX) the
 * buffer keeps what it had and err is set; appends become no-ops. */
struct seqbuf {
	char *buf;
	size_t len, cap;
	int err;
};
#define SEQBUF_MAX (4UL << 20)

__printf(2, 3) int seqbuf_printf(struct seqbuf *sb, const char *fmt, ...);
int seqbuf_write(struct seqbuf *sb, const void *data, size_t len);
void seqbuf_free(struct seqbuf *sb);

/* Returns 0 or a negative errno, which fails the open that called it. */
typedef int (*procfs_show_t)(struct seqbuf *sb, void *arg);

/* -EEXIST, -EINVAL (bad path), -ENOTDIR, -ENAMETOOLONG, -ENOMEM. */
int procfs_register(const char *path, procfs_show_t show, void *arg);
/* Open files keep their snapshot; show is not called after this returns. */
int procfs_unregister(const char *path);

/* Kernel builds: add lines to /proc/meminfo (the page cache's Cached and
 * Mapped), written by show after the allocators' lines; at most 4. */
int procfs_meminfo_register(procfs_show_t show, void *arg);

/* Register the "procfs" type and the built-in files (idempotent). */
int procfs_init(void);

#endif
