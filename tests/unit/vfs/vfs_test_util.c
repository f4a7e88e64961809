/*
 * Helpers shared by the VFS suites and vfs_bench (see vfs_test_util.h).
 */
#include "vfs_test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Usable outside a Check test too (vfs_bench). */
#define VT_MUST(expr)                                                                              \
	do {                                                                                       \
		int e_ = (expr);                                                                   \
		if (e_) {                                                                          \
			fprintf(stderr, "%s failed: %s\n", #expr, vfs_errname(e_));                \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

void vt_init_types(void)
{
	VT_MUST(vfs_init());
	VT_MUST(ramfs_register());
	VT_MUST(procfs_init());
	VT_MUST(devfs_init());
}

void vt_boot(void)
{
	vt_init_types();
	VT_MUST(vfs_mount("none", "/", "ramfs", 0, NULL));
}

void vt_setup(void)
{
	vt_boot();
}

void vt_teardown(void)
{
	ck_assert_int_eq(vfs_shutdown(), 0);
}

int vt_write_file(const char *path, const void *data, size_t len)
{
	int fd = vfs_open(path, O_CREAT | O_WRONLY | O_TRUNC, 0644);
	if (fd < 0)
		return fd;
	long n = vfs_write(fd, data, len);
	vfs_close(fd);
	if (n < 0)
		return (int)n;
	return n == (long)len ? 0 : -EIO;
}

int vt_write_str(const char *path, const char *s)
{
	return vt_write_file(path, s, strlen(s));
}

char *vt_read_all(const char *path)
{
	int fd = vfs_open(path, O_RDONLY, 0);
	if (fd < 0)
		return NULL;
	size_t cap = 256, len = 0;
	char *buf = malloc(cap);
	for (;;) {
		if (len + 1 >= cap)
			buf = realloc(buf, cap *= 2);
		long n = vfs_read(fd, buf + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	vfs_close(fd);
	buf[len] = '\0';
	return buf;
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of dir (without . and ..); *n gets the count. */
static char **names_of(const char *dir, size_t *n)
{
	static _Alignas(8) char buf[4096];
	size_t cap = 16;
	char **v = malloc(cap * sizeof(*v));
	*n = 0;
	int fd = vfs_open(dir, O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return v;
	long got;
	while ((got = vfs_getdents(fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < got;) {
			struct vfs_dirent *d = (struct vfs_dirent *)(buf + off);
			off += d->d_reclen;
			if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
				continue;
			if (*n == cap)
				v = realloc(v, (cap *= 2) * sizeof(*v));
			v[(*n)++] = strdup(d->d_name);
		}
	}
	vfs_close(fd);
	qsort(v, *n, sizeof(*v), cmpstr);
	return v;
}

char *vt_list(const char *dir)
{
	size_t n, len = 1;
	char **v = names_of(dir, &n);
	for (size_t i = 0; i < n; i++)
		len += strlen(v[i]) + 1;
	char *out = calloc(1, len);
	for (size_t i = 0; i < n; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, v[i]);
		free(v[i]);
	}
	free(v);
	return out;
}

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_add(struct sbuf *b, const char *text)
{
	size_t n = strlen(text);
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = realloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, text, n + 1);
	b->len += n;
}

static void snap(struct sbuf *b, const char *path)
{
	struct vfs_stat st;
	char line[2 * KARST_PATH_MAX];
	if (vfs_lstat(path, &st) < 0) {
		snprintf(line, sizeof(line), "%s ?\n", path);
		sb_add(b, line);
		return;
	}
	unsigned long long h = 1469598103934665603ULL;
	char target[KARST_PATH_MAX] = "";
	if (S_ISREG(st.st_mode)) {
		char *data = vt_read_all(path);
		for (char *p = data; p && *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		free(data);
	} else if (S_ISLNK(st.st_mode)) {
		long n = vfs_readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
	}
	snprintf(line, sizeof(line), "%s mode=%o nlink=%u size=%llu ino=%llu h=%llx %s\n", path,
		 st.st_mode, st.st_nlink, (unsigned long long)st.st_size,
		 (unsigned long long)st.st_ino, h, target);
	sb_add(b, line);
	if (S_ISDIR(st.st_mode)) {
		size_t n;
		char **v = names_of(path, &n);
		for (size_t i = 0; i < n; i++) {
			char child[2 * KARST_PATH_MAX];
			snprintf(child, sizeof(child), "%s/%s", strcmp(path, "/") ? path : "",
				 v[i]);
			snap(b, child);
			free(v[i]);
		}
		free(v);
	}
}

char *vt_snapshot(const char *path)
{
	struct sbuf b = {0};
	sb_add(&b, "");
	snap(&b, path);
	return b.s;
}
