/*
 * Shell commands of cowfs and its /proc file (kernel builds):
 *   cowfs status   every mounted pool: txg, space, dirty bytes, commits,
 *                  checksum errors found and repaired, I/O errors
 *   sync           commit the open transaction group of every pool now
 * and /proc/cowfs/status with the same text as `cowfs status`.
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

static void sync_one(void *arg, struct cowfs_mount *cm)
{
	int *status = arg;
	int err = cowfs_sync(cm->pool);
	if (err) {
		shell_printf("sync: %s: commit failed (%d)\n", cm->source, err);
		*status = 1;
	}
}

static int cmd_sync(int argc, char **argv)
{
	int status = 0;
	cowfs_foreach_mount(sync_one, &status);
	return status;
}
SHELL_CMD("sync", cmd_sync, "sync: commit every cowfs pool's open transaction group");

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
