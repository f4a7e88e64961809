/*
 * Mounting at boot (kernel builds only). The root comes from the `root=`
 * boot option when given (`rootfstype=`, cowfs by default; `rootflags=`,
 * the mount options, "rw" by default: "ro", "txg=30", ...), else from an
 * `fstab=` entry on "/", else ramfs. A root= that cannot be mounted (no
 * such device, a corrupt image, a type this kernel lacks) is reported in
 * one line and the boot goes on with a ramfs root: never a panic or a hang.
 * Then the `fstab=` table ("source mountpoint type options" entries
 * separated by ';'), then /etc/fstab on the root; devfs and procfs go to
 * /dev and /proc. Every failed entry is reported and the boot goes on.
 *
 * At an orderly power-off (INIT_SHUTDOWN) every writable mount is synced,
 * so what the shell wrote to a disk root is on the disk.
 */
#include <errno.h>
#include <karst/cmdline.h>
#include <karst/init.h>
#include <karst/printk.h>
#include <string.h>
#include <vfs.h>

static char fstab[512];
static char root_dev[128], root_type[32], root_flags[128];

/* Copy a boot option's value; one table field, so no spaces, ';' or '#'. */
static int param_word(const char *v, char *dst, size_t size)
{
	if (!v || !*v || strlen(v) >= size)
		return -EINVAL;
	for (const char *c = v; *c; c++)
		if (*c == ' ' || *c == '\t' || *c == ';' || *c == '#' || *c == '\n')
			return -EINVAL;
	strcpy(dst, v);
	return 0;
}

static int param_fstab(const char *v)
{
	if (!v || strlen(v) >= sizeof(fstab))
		return -EINVAL;
	strcpy(fstab, v);
	return 0;
}
KARST_PARAM("fstab", param_fstab,
	    "fstab=\"src dir type opts; ...\": mount these at boot (then /etc/fstab)");

static int param_root(const char *v)
{
	return param_word(v, root_dev, sizeof(root_dev));
}
KARST_PARAM("root", param_root, "root=DEVICE: the root filesystem's device (/dev/vtbd0)");

static int param_rootfstype(const char *v)
{
	return param_word(v, root_type, sizeof(root_type));
}
KARST_PARAM("rootfstype", param_rootfstype, "rootfstype=TYPE: the root's type (default cowfs)");

static int param_rootflags(const char *v)
{
	return param_word(v, root_flags, sizeof(root_flags));
}
KARST_PARAM("rootflags", param_rootflags,
	    "rootflags=OPTS: the root's mount options (default rw; ro, txg=SECONDS, ...)");

/* root=: mount it on "/" through the table code (same option parsing). */
static void vfs_boot_root(void)
{
	const char *type = root_type[0] ? root_type : "cowfs";
	const char *flags = root_flags[0] ? root_flags : "rw";
	char entry[sizeof(root_dev) + sizeof(root_type) + sizeof(root_flags) + 8];

	ksnprintf(entry, sizeof(entry), "%s / %s %s", root_dev, type, flags);
	if (vfs_mount_table(entry) == 0) {
		printk("vfs: root is %s (%s, %s)\n", root_dev, type, flags);
		return;
	}
	printk("vfs: cannot mount the root %s (type %s, %s): using a ramfs root instead\n",
	       root_dev, type, flags);
}

static int vfs_boot_mount(void)
{
	if (root_dev[0])
		vfs_boot_root();
	else if (root_type[0] || root_flags[0])
		printk("vfs: rootfstype= and rootflags= need root=DEVICE; ignored\n");
	int failed = vfs_mount_boot(fstab[0] ? fstab : NULL);
	if (failed > 0)
		printk("vfs: %d mount table entries failed\n", failed);
	return 0;
}
KARST_INIT(INIT_LATE, vfs_boot_mount);

static int vfs_boot_sync(void)
{
	int failed = vfs_sync_all();
	return failed ? -EIO : 0;
}
KARST_INIT(INIT_SHUTDOWN, vfs_boot_sync);
