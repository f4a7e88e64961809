/*
 * Mounting at boot (kernel builds only). The table comes from the
 * `fstab=` boot option ("source mountpoint type options" entries separated
 * by ';'), then /etc/fstab on the root; ramfs becomes the root when no
 * entry gives one, devfs and procfs go to /dev and /proc. Every failed
 * entry is reported and the boot goes on.
 */
#include <errno.h>
#include <karst/cmdline.h>
#include <karst/init.h>
#include <karst/printk.h>
#include <string.h>
#include <vfs.h>

static char fstab[512];

static int param_fstab(const char *v)
{
	if (!v || strlen(v) >= sizeof(fstab))
		return -EINVAL;
	strcpy(fstab, v);
	return 0;
}
KARST_PARAM("fstab", param_fstab,
	    "fstab=\"src dir type opts; ...\": mount these at boot (then /etc/fstab)");

static int vfs_boot_mount(void)
{
	int failed = vfs_mount_boot(fstab[0] ? fstab : NULL);
	if (failed > 0)
		printk("vfs: %d mount table entries failed\n", failed);
	return 0;
}
KARST_INIT(INIT_LATE, vfs_boot_mount);
