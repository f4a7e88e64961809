/*
 * /dev/console (kernel builds only): writes go to the console through
 * printk's lock; reads return what the console receive path has, at least
 * one character, waiting for it.
 */
#include <devfs.h>
#include <errno.h>
#include <karst/console.h>
#include <karst/init.h>
#include <karst/printk.h>

static int console_write(void *arg, struct uio *uio, int ioflag)
{
	char buf[128];
	while (uio->uio_resid > 0) {
		size_t n = uio->uio_resid < sizeof(buf) - 1 ? uio->uio_resid : sizeof(buf) - 1;
		n = uiomove(buf, n, uio);
		if (n == 0)
			return -EFAULT;
		buf[n] = 0;
		printk("%s", buf);
	}
	return 0;
}

static int console_read(void *arg, struct uio *uio, int ioflag)
{
	if (uio->uio_resid == 0)
		return 0;
	char c = (char)console_getc();
	return uiomove(&c, 1, uio) == 1 ? 0 : -14;
}

static const struct devfs_ops console_ops = {
    .mode = S_IFCHR | 0620,
    .read = console_read,
    .write = console_write,
};

static int devfs_console_init(void)
{
	return devfs_register("console", &console_ops, NULL);
}
KARST_INIT(INIT_LATE, devfs_console_init);
