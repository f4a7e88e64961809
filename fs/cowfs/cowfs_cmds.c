/*
 * Shell commands of cowfs and its /proc file (kernel builds):
 *   cowfs status   every mounted pool: txg, space, dirty bytes, commits,
 *                  checksum errors found and repaired, I/O errors, and
 *                  the progress or result of the last scrub
 *   cowfs scrub [-w] [MIB_PER_S]
 *                  scrub every mounted pool in a background thread
 *                  (cowfs_scrub.c), paced at MIB_PER_S (default 64; 0:
 *                  unpaced); -w waits for the end and prints the result
 * and /proc/cowfs/status with the same text as `cowfs status`. The shell's
 * `sync` (every filesystem's sync op) commits the pools' open groups.
 */
#include "cowfs_vfs.h"
#include <karst/init.h>
#include <karst/printk.h>
#include <karst/shell.h>
#include <karst/thread.h>
#include <karst/time.h>
#include <procfs.h>
#include <stdlib.h>
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
		  "  checksum errors %llu  repaired %llu  i/o errors %llu  space errors %llu%s\n",
		  pi.name, cm->source, (unsigned long long)pi.txg, pi.rdonly ? "  read-only" : "",
		  pi.failed ? "  FAILED (remount)" : "", (unsigned long long)pi.size,
		  (unsigned long long)pi.alloc_bytes, (unsigned long long)pi.free_bytes,
		  (unsigned long long)pi.dirty_bytes, (unsigned long long)pi.nobjects,
		  pi.recordsize, pi.comp ? "lz4" : "off", (unsigned long long)pi.commits,
		  (unsigned long long)pi.blocks_written, (unsigned long long)pi.blocks_read,
		  (unsigned long long)pi.cksum_errors, (unsigned long long)pi.repaired,
		  (unsigned long long)pi.io_errors, (unsigned long long)pi.space_errors, "");
	line(arg, buf);
	if (pi.prefetch_queued) {
		ksnprintf(
		    buf, sizeof(buf),
		    "  prefetch: queued %llu  read %llu in %llu runs, %llu requests  failed %llu  "
		    "dropped %llu\n",
		    (unsigned long long)pi.prefetch_queued, (unsigned long long)pi.prefetch_reads,
		    (unsigned long long)pi.prefetch_runs, (unsigned long long)pi.prefetch_ios,
		    (unsigned long long)pi.prefetch_failed,
		    (unsigned long long)pi.prefetch_dropped);
		line(arg, buf);
	}
	if (cm->scrub) {
		char sbuf[1400];
		line(arg, "  ");
		cowfs_scrub_format(cowfs_scrub_progress(cm->scrub), sbuf, sizeof(sbuf) - 1);
		strcat(sbuf, "\n");
		line(arg, sbuf);
	}
}

struct scrub_req {
	uint64_t rate;
	bool wait;
	int status;
};

static void scrub_one(void *arg, struct cowfs_mount *cm)
{
	struct scrub_req *r = arg;
	if (cm->scrub) {
		cowfs_scrub_stop(cm->scrub);
		cm->scrub = NULL;
	}
	int err = cowfs_scrub_start(cm->pool, r->rate, &cm->scrub);
	if (err) {
		shell_printf("cowfs scrub: %s: cannot start (%d)\n", cm->source, err);
		r->status = 1;
		return;
	}
	shell_printf("cowfs scrub: %s: started\n", cm->source);
	if (!r->wait)
		return;
	const struct cowfs_scrub_stats *st = cowfs_scrub_progress(cm->scrub);
	while (st->running)
		thread_sleep_ns(20 * NSEC_PER_MSEC);
	char buf[1400];
	cowfs_scrub_format(st, buf, sizeof(buf));
	shell_printf("%s: %s\n", cm->source, buf);
	if (st->unrecoverable || st->err)
		r->status = 1;
}

static int cmd_scrub(int argc, char **argv)
{
	struct scrub_req r = {.rate = 64ull << 20};
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "-w")) {
			r.wait = true;
			continue;
		}
		char *end;
		unsigned long long v = strtoull(argv[i], &end, 10);
		if (*end || end == argv[i] || v > (1ull << 20)) {
			shell_printf("usage: cowfs scrub [-w] [MIB_PER_S]\n");
			return 2;
		}
		r.rate = v << 20;
	}
	cowfs_foreach_mount(scrub_one, &r);
	return r.status;
}

static int cmd_cowfs(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "scrub"))
		return cmd_scrub(argc, argv);
	if (argc != 2 || strcmp(argv[1], "status")) {
		shell_printf("usage: cowfs status | cowfs scrub [-w] [MIB_PER_S]\n");
		return 2;
	}
	struct out o = {NULL};
	cowfs_foreach_mount(one, &o);
	return 0;
}
SHELL_CMD("cowfs", cmd_cowfs,
	  "cowfs status | scrub [-w] [MIB_PER_S]: pools, their txg, space, errors; scrub them");

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
