/*
 * Mounting from fstab-style tables at boot.
 *
 * A table is a list of entries "source mountpoint type [options [...]]",
 * separated by newlines or by ';' (the kernel command line has no
 * newlines); '#' starts a comment that runs to the end of the entry. The
 * options are comma-separated: "defaults" and "rw" mean nothing, "ro"
 * mounts read-only, anything else goes to the filesystem as its data
 * ("size=64M"). Fields after the options (fstab's dump and pass) are
 * ignored.
 *
 * Entries on "/" go first (the root must exist before anything can be
 * mounted on it), then the others in order; a missing mount point is made
 * with its parents, mode 0755. A failing entry is reported with its number
 * and the error's name, and the table goes on.
 */
#include "vfs_impl.h"

#include <ctype.h>
#include <string.h>

#define VFS_FSTAB_MAX	 (64 * 1024)
#define VFS_FSTAB_FIELDS 6

struct fstab_entry {
	int lineno;
	char *field[VFS_FSTAB_FIELDS];
	int nfields;
};

/* mkdir -p: every missing directory of path; an existing one is fine. */
static int mkdir_parents(const char *path)
{
	char *buf = vfs_strdup(path);
	int err = 0;

	if (!buf)
		return -ENOMEM;
	size_t len = strlen(buf);
	for (size_t i = 1; i <= len && !err; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		if (buf[i - 1] == '/')
			continue;
		char c = buf[i];
		buf[i] = '\0';
		err = vfs_mkdir(buf, 0755);
		if (err == -EEXIST)
			err = 0;
		buf[i] = c;
	}
	kfree(buf);
	return err;
}

/* Split one entry in place into whitespace-separated fields. */
static void split_fields(char *s, struct fstab_entry *e)
{
	char *hash = strchr(s, '#');
	if (hash)
		*hash = '\0';
	e->nfields = 0;
	while (*s) {
		while (*s && isspace((unsigned char)*s))
			s++;
		if (!*s)
			break;
		if (e->nfields == VFS_FSTAB_FIELDS) {
			e->nfields++; /* too many */
			break;
		}
		e->field[e->nfields++] = s;
		while (*s && !isspace((unsigned char)*s))
			s++;
		if (*s)
			*s++ = '\0';
	}
}

/* Options to mount flags and the filesystem's data string (in data). */
static void parse_options(const char *opts, uint32_t *flags, char *data, size_t datalen)
{
	size_t used = 0;

	*flags = 0;
	data[0] = '\0';
	while (*opts) {
		size_t n = strcspn(opts, ",");
		if (n == 2 && !strncmp(opts, "ro", 2)) {
			*flags |= VFS_MNT_RDONLY;
		} else if ((n == 2 && !strncmp(opts, "rw", 2)) ||
			   (n == 8 && !strncmp(opts, "defaults", 8)) || n == 0) {
			/* nothing */
		} else if (used + n + 2 < datalen) {
			if (used)
				data[used++] = ',';
			memcpy(data + used, opts, n);
			used += n;
			data[used] = '\0';
		}
		opts += n;
		if (*opts == ',')
			opts++;
	}
}

static int mount_entry(struct fstab_entry *e, bool from_file)
{
	const char *src = e->field[0], *dir = e->field[1], *type = e->field[2];
	const char *opts = e->nfields > 3 ? e->field[3] : "defaults";
	char data[256];
	uint32_t flags;
	int err;

	if (e->nfields < 3 || e->nfields > VFS_FSTAB_FIELDS) {
		printk("vfs: mount table entry %d: expected 'source mountpoint type [options]'\n",
		       e->lineno);
		return -EINVAL;
	}
	if (dir[0] != '/') {
		printk("vfs: mount table entry %d: mount point '%s' is not absolute\n", e->lineno,
		       dir);
		return -EINVAL;
	}
	bool is_root = dir[strspn(dir, "/")] == '\0';
	if (is_root && from_file && vfs_root_mounted())
		return 0; /* the root an fstab describes is the one already mounted */
	parse_options(opts, &flags, data, sizeof(data));
	err = is_root ? 0 : mkdir_parents(dir);
	if (!err)
		err = vfs_mount(src, dir, type, flags, data[0] ? data : NULL);
	if (err)
		printk("vfs: mount table entry %d: mount %s on %s type %s failed: %s\n", e->lineno,
		       src, dir, type, vfs_errname(err));
	return err;
}

static int mount_table(const char *table, bool from_file)
{
	if (!table)
		return -EINVAL;
	size_t len = strnlen(table, VFS_FSTAB_MAX + 1);
	if (len > VFS_FSTAB_MAX)
		return -EFBIG;
	char *buf = kmalloc(len + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, table, len);
	buf[len] = '\0';

	/* Cut into entries and count them. */
	int n = 1;
	for (size_t i = 0; i < len; i++) {
		if (buf[i] == '\n' || buf[i] == ';') {
			buf[i] = '\0';
			n++;
		}
	}
	struct fstab_entry *ents = kcalloc((size_t)n, sizeof(*ents));
	if (!ents) {
		kfree(buf);
		return -ENOMEM;
	}
	int nents = 0;
	char *s = buf;
	for (int i = 0; i < n; i++) {
		struct fstab_entry *e = &ents[nents];
		char *next = s + strlen(s) + 1; /* before split_fields cuts s up */
		e->lineno = i + 1;
		split_fields(s, e);
		s = next;
		if (e->nfields > 0)
			nents++;
	}

	int failures = 0;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < nents; i++) {
			struct fstab_entry *e = &ents[i];
			bool root = e->nfields >= 3 && e->field[1][0] == '/' &&
				    e->field[1][strspn(e->field[1], "/")] == '\0';
			if ((pass == 0) != root)
				continue;
			if (mount_entry(e, from_file))
				failures++;
		}
	}
	kfree(ents);
	kfree(buf);
	return failures;
}

int vfs_mount_table(const char *table)
{
	return mount_table(table, false);
}

static int read_file(const char *path, char **out)
{
	int fd = vfs_open(path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	char *buf = kmalloc(VFS_FSTAB_MAX + 1);
	long total = 0, r = 0;
	if (!buf) {
		vfs_close(fd);
		return -ENOMEM;
	}
	while (total < VFS_FSTAB_MAX &&
	       (r = vfs_read(fd, buf + total, (size_t)(VFS_FSTAB_MAX - total))) > 0)
		total += r;
	vfs_close(fd);
	if (r < 0 && total == 0) {
		kfree(buf);
		return (int)r;
	}
	buf[total] = '\0';
	*out = buf;
	return 0;
}

int vfs_mount_table_file(const char *path)
{
	char *text = NULL;
	int err = read_file(path, &text);
	if (err)
		return err;
	err = mount_table(text, true);
	kfree(text);
	return err;
}

struct find_mount {
	const char *path;
	bool found;
};

static int find_mount_fn(void *arg, const struct vfs_mount_info *mi)
{
	struct find_mount *fm = arg;
	if (!strcmp(mi->path, fm->path))
		fm->found = true;
	return 0;
}

static int ensure_mounted(const char *path, const char *type)
{
	struct find_mount fm = {.path = path, .found = false};
	vfs_mount_foreach(find_mount_fn, &fm);
	if (fm.found)
		return 0;
	int err = mkdir_parents(path);
	if (!err)
		err = vfs_mount(type, path, type, 0, NULL);
	if (err)
		printk("vfs: mount %s on %s failed: %s\n", type, path, vfs_errname(err));
	return err;
}

int vfs_mount_boot(const char *table)
{
	int failures = 0, r;

	vfs_init();
	if (table) {
		r = vfs_mount_table(table);
		failures += r > 0 ? r : (r < 0);
	}
	if (!vfs_root_mounted()) {
		r = vfs_mount("none", "/", "ramfs", 0, NULL);
		if (r) {
			printk("vfs: cannot mount a ramfs root: %s\n", vfs_errname(r));
			return failures + 1;
		}
	}
	r = vfs_mount_table_file("/etc/fstab");
	if (r > 0)
		failures += r;
	else if (r < 0 && r != -ENOENT) {
		printk("vfs: /etc/fstab: %s\n", vfs_errname(r));
		failures++;
	}
	failures += ensure_mounted("/dev", "devfs") != 0;
	failures += ensure_mounted("/proc", "procfs") != 0;
	return failures;
}
