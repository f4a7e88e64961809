/*
 * Shell commands of cowfs and its /proc file (kernel builds):
 *   cowfs status   every mounted pool: txg, space, dirty bytes, commits,
 *                  checksum errors found and repaired, I/O errors
 * and /proc/cowfs/status with the same text as `cowfs status`. The shell's
 * `sync` (every filesystem's sync op) commits the pools' open groups.
 */
#include "cowfs_vfs.h"
#include <karst/init.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <procfs.h>
#include <string.h>

struct out {
	struct seqbuf *sb; /* NULL: the shell */
};

static void line(struct out *o, const char *buf)
{
	if (o->sb)
		seqbuf_write(o->sb, buf, strlen(buf));
	else
		shell_printf("%s", buf);
}

static void one(void *arg, struct cowfs_mount *cm)
{
	struct cowfs_pool_info pi;
	cowfs_pool_info(cm->pool, &pi);
	char buf[512];
	ksnprintf(buf, sizeof(buf),
		  "pool %s on %s: txg %llu%s%s\n"
		  "  size %llu  allocated %llu  free %llu  dirty %llu  objects %llu\n"
		  "  recordsize %u  compression %s  commits %llu  blocks written %llu read %llu\n"
		  "  checksum errors %llu  repaired %llu  i/o errors %llu%s\n",
		  pi.name, cm->source, (unsigned long long)pi.txg, pi.rdonly ? "  read-only" : "",
		  pi.failed ? "  FAILED (remount)" : "", (unsigned long long)pi.size,
		  (unsigned long long)pi.alloc_bytes, (unsigned long long)pi.free_bytes,
		  (unsigned long long)pi.dirty_bytes, (unsigned long long)pi.nobjects,
		  pi.recordsize, pi.comp ? "lz4" : "off", (unsigned long long)pi.commits,
		  (unsigned long long)pi.blocks_written, (unsigned long long)pi.blocks_read,
		  (unsigned long long)pi.cksum_errors, (unsigned long long)pi.repaired,
		  (unsigned long long)pi.io_errors, "");
	line(arg, buf);
}

static int cmd_cowfs(int argc, char **argv)
{
	if (argc != 2 || strcmp(argv[1], "status")) {
		shell_printf("usage: cowfs status\n");
		return 2;
	}
	struct out o = {NULL};
	cowfs_foreach_mount(one, &o);
	return 0;
}
SHELL_CMD("cowfs", cmd_cowfs, "cowfs status: mounted pools, their txg, space and errors");

static int status_show(struct seqbuf *sb, void *arg)
{
	struct out o = {sb};
	cowfs_foreach_mount(one, &o);
	return sb->err;
}

static int cowfs_cmds_init(void)
{
	return procfs_register("cowfs/status", status_show, NULL);
}
KARST_INIT(INIT_LATE, cowfs_cmds_init);
