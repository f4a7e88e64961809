/*
 * geomtool: the userland half of karst's LABEL and PART classes, on image
 * files.
 *
 *   geomtool [-S sectorsize] label [-f] -n NAME image   write a label in the last sector
 *   geomtool [-S sectorsize] destroy [-f] image          wipe the label
 *   geomtool [-S sectorsize] gpt create [-f] image       protective MBR + empty GPT
 *   geomtool [-S sectorsize] gpt add -s SIZE [-t TYPE] [-l LABEL] [-b START] image
 *   geomtool [-S sectorsize] show image                  label and partition table
 *
 * The formats are encoded and checked by kernel/geom (g_label_meta.c,
 * g_part_gpt.c), linked in, never written a second time here. When an image
 * is labelled, its GPT lives inside the label (the image minus its last
 * sector), exactly as the kernel sees it on label/NAME; so label an image
 * first, then partition it.
 */
#include "geom.h"
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <karst/format.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *prog = "geomtool";
static uint32_t secsize = 512;

struct image {
	const char *path;
	int fd;
	uint64_t size;	 /* of the file */
	uint64_t medium; /* what the GPT covers: size, or size - 1 sector when labelled */
	bool labelled;
	struct g_label_meta label;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: %s [-S sectorsize] label [-f] -n NAME image\n"
		"       %s [-S sectorsize] destroy [-f] image\n"
		"       %s [-S sectorsize] gpt create [-f] image\n"
		"       %s [-S sectorsize] gpt add -s SIZE [-t TYPE] [-l LABEL] [-b START] image\n"
		"       %s [-S sectorsize] show image\n"
		"SIZE: bytes with an optional K, M, G or T suffix, or sectors with an s suffix.\n"
		"TYPE: efi, linux-data, linux-swap, freebsd-ufs, freebsd-zfs, ms-basic-data,\n"
		"      karst-cowfs (the default) or a UUID.\n",
		prog, prog, prog, prog, prog);
	exit(2);
}

static __printf(1, 2) void die(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static int img_rw(struct image *img, bool wr, uint64_t off, void *buf, size_t len)
{
	if (off > img->size || len > img->size - off)
		return -EIO;
	while (len) {
		ssize_t n = wr ? pwrite(img->fd, buf, len, (off_t)off)
			       : pread(img->fd, buf, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf = (char *)buf + n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

/* The GPT's medium starts at offset 0 and ends at img->medium. */
static int medium_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct image *img = ctx;
	if (off > img->medium || len > img->medium - off)
		return -EIO;
	return img_rw(img, false, off, buf, len);
}

static int medium_write(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct image *img = ctx;
	if (off > img->medium || len > img->medium - off)
		return -EIO;
	return img_rw(img, true, off, buf, len);
}

static void img_open(struct image *img, const char *path, bool wr)
{
	struct stat st;
	memset(img, 0, sizeof(*img));
	img->path = path;
	img->fd = open(path, wr ? O_RDWR : O_RDONLY);
	if (img->fd < 0 || fstat(img->fd, &st) != 0)
		die("%s: %s", path, strerror(errno));
	img->size = (uint64_t)st.st_size;
	if (img->size % secsize || img->size < 2 * (uint64_t)secsize)
		die("%s: size %llu is not a multiple of %u bytes of at least two sectors", path,
		    (unsigned long long)img->size, secsize);
	uint8_t *sec = malloc(secsize);
	const char *why;
	if (!sec || img_rw(img, false, img->size - secsize, sec, secsize) != 0)
		die("%s: cannot read the last sector", path);
	img->labelled = g_label_decode(sec, secsize, img->size, &img->label, &why) == 0;
	free(sec);
	img->medium = img->labelled ? img->size - secsize : img->size;
}

static void img_close(struct image *img)
{
	if (fsync(img->fd) != 0 && errno != EINVAL)
		die("%s: %s", img->path, strerror(errno));
	close(img->fd);
}

static void random_uuid(struct g_uuid *u)
{
	int fd = open("/dev/urandom", O_RDONLY);
	if (fd < 0 || read(fd, u->b, sizeof(u->b)) != (ssize_t)sizeof(u->b))
		die("cannot read /dev/urandom");
	close(fd);
	u->b[7] = (uint8_t)((u->b[7] & 0x0f) | 0x40); /* version 4 */
	u->b[8] = (uint8_t)((u->b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
}

static bool has_gpt(struct image *img, uint64_t medium)
{
	struct g_gpt_table t;
	char why[160];
	uint64_t saved = img->medium;
	img->medium = medium;
	int err = g_gpt_read(medium_read, img, medium, secsize, &t, why, sizeof(why));
	img->medium = saved;
	if (err == 0)
		g_gpt_free(&t);
	return err == 0;
}

static int cmd_label(int argc, char **argv)
{
	const char *name = NULL;
	bool force = false;
	int c;
	while ((c = getopt(argc, argv, "fn:")) != -1) {
		if (c == 'f')
			force = true;
		else if (c == 'n')
			name = optarg;
		else
			usage();
	}
	if (!name || optind != argc - 1)
		usage();
	if (!g_label_name_valid(name))
		die("bad label name '%s': 1 to %d of A-Z a-z 0-9 . _ -", name, G_LABEL_NAMELEN);
	struct image img;
	img_open(&img, argv[optind], true);
	if (!force && has_gpt(&img, img.size))
		die("%s: its GPT keeps a backup header in the last sector; label first, then "
		    "create the GPT (or -f to overwrite it)",
		    img.path);
	if (!force && img.labelled)
		die("%s: already labelled %s (-f to replace)", img.path, img.label.name);
	struct g_label_meta md = {.version = G_LABEL_VERSION, .provsize = img.size};
	strcpy(md.name, name);
	uint8_t *sec = calloc(1, secsize);
	if (!sec || g_label_encode(&md, sec, secsize) != 0)
		die("cannot encode the label");
	if (img_rw(&img, true, img.size - secsize, sec, secsize) != 0)
		die("%s: cannot write the label", img.path);
	free(sec);
	img_close(&img);
	printf("%s: labelled %s (label/%s, %llu bytes)\n", img.path, name, name,
	       (unsigned long long)(img.size - secsize));
	return 0;
}

static int cmd_destroy(int argc, char **argv)
{
	bool force = false;
	int c;
	while ((c = getopt(argc, argv, "f")) != -1) {
		if (c == 'f')
			force = true;
		else
			usage();
	}
	if (optind != argc - 1)
		usage();
	struct image img;
	img_open(&img, argv[optind], true);
	if (!img.labelled && !force)
		die("%s: no valid label (-f wipes the last sector anyway)", img.path);
	uint8_t *sec = calloc(1, secsize);
	if (!sec || img_rw(&img, true, img.size - secsize, sec, secsize) != 0)
		die("%s: cannot wipe the label", img.path);
	free(sec);
	img_close(&img);
	printf("%s: label %s destroyed\n", img.path, img.labelled ? img.label.name : "");
	return 0;
}

/* SIZE: bytes with an optional K/M/G/T suffix (kparse_size), or sectors
 * with an s suffix. */
static int parse_size(const char *s, uint64_t *out)
{
	size_t len = strlen(s);
	bool sectors = len > 0 && s[len - 1] == 's';
	uint64_t v;
	if (kparse_size(s, sectors ? len - 1 : len, &v) != 0)
		return -EINVAL;
	if (sectors) {
		if (v > UINT64_MAX / secsize)
			return -ERANGE;
		v *= secsize;
	}
	*out = v;
	return 0;
}

static int cmd_gpt_create(int argc, char **argv)
{
	bool force = false;
	int c;
	while ((c = getopt(argc, argv, "f")) != -1) {
		if (c == 'f')
			force = true;
		else
			usage();
	}
	if (optind != argc - 1)
		usage();
	struct image img;
	img_open(&img, argv[optind], true);
	if (!force && has_gpt(&img, img.medium))
		die("%s: already holds a GPT (-f to replace it)", img.path);
	struct g_gpt_table t;
	struct g_uuid guid;
	random_uuid(&guid);
	int err = g_gpt_create(&t, img.medium, secsize, &guid);
	if (err)
		die("%s: cannot create a GPT: %s", img.path, strerror(-err));
	err = g_gpt_write(medium_write, &img, &t);
	if (err)
		die("%s: cannot write the GPT: %s", img.path, strerror(-err));
	g_gpt_free(&t);
	img_close(&img);
	printf("%s: GPT created%s\n", img.path, img.labelled ? " inside the label" : "");
	return 0;
}

static int cmd_gpt_add(int argc, char **argv)
{
	const char *size_s = NULL, *type_s = "karst-cowfs", *label = NULL, *start_s = NULL;
	int c;
	while ((c = getopt(argc, argv, "s:t:l:b:")) != -1) {
		switch (c) {
		case 's':
			size_s = optarg;
			break;
		case 't':
			type_s = optarg;
			break;
		case 'l':
			label = optarg;
			break;
		case 'b':
			start_s = optarg;
			break;
		default:
			usage();
		}
	}
	if (!size_s || optind != argc - 1)
		usage();
	uint64_t size, start = 0;
	if (parse_size(size_s, &size) != 0 || size == 0 || size % secsize)
		die("bad size '%s': a positive multiple of %u bytes", size_s, secsize);
	if (start_s && (parse_size(start_s, &start) != 0 || start % secsize || start == 0))
		die("bad start '%s'", start_s);
	struct g_uuid type, guid;
	if (g_gpt_type_parse(type_s, &type) != 0)
		die("unknown partition type '%s'", type_s);
	if (label && strlen(label) > G_GPT_NAMELEN)
		die("partition label longer than %d characters", G_GPT_NAMELEN);

	struct image img;
	img_open(&img, argv[optind], true);
	struct g_gpt_table t;
	char why[160];
	int err = g_gpt_read(medium_read, &img, img.medium, secsize, &t, why, sizeof(why));
	if (err)
		die("%s: no usable GPT: %s", img.path, why);
	if (why[0])
		fprintf(stderr, "%s: %s\n", prog, why);
	random_uuid(&guid);
	unsigned index;
	uint64_t align = (1u << 20) / secsize;
	err = g_gpt_add(&t, start / secsize, size / secsize, align, &type, &guid, label, &index);
	if (err)
		die("%s: cannot add the partition: %s", img.path,
		    err == -ENOSPC ? "no free space (or entry) large enough" : strerror(-err));
	err = g_gpt_write(medium_write, &img, &t);
	if (err)
		die("%s: cannot write the GPT: %s", img.path, strerror(-err));
	g_gpt_free(&t);
	img_close(&img);
	if (img.labelled)
		printf("label/%sp%u added\n", img.label.name, index);
	else
		printf("%sp%u added\n", img.path, index);
	return 0;
}

static int cmd_show(int argc, char **argv)
{
	if (argc != 2)
		usage();
	struct image img;
	img_open(&img, argv[1], false);
	char out[16384];
	struct g_sbuf sb;
	g_sbuf_init(&sb, out, sizeof(out));
	const char *name = img.path;
	char lname[G_NAME_MAX];
	if (img.labelled) {
		printf("%s: label %s (version %u, %llu bytes)\n", img.path, img.label.name,
		       img.label.version, (unsigned long long)img.label.provsize);
		snprintf(lname, sizeof(lname), "label/%s", img.label.name);
		name = lname;
	}
	struct g_gpt_table t;
	char why[160];
	int err = g_gpt_read(medium_read, &img, img.medium, secsize, &t, why, sizeof(why));
	if (err) {
		printf("%s: no GPT (%s)\n", name, why);
		close(img.fd);
		return err == -ENOENT ? 0 : 1;
	}
	if (why[0])
		printf("%s: %s\n", name, why);
	g_gpt_show(&sb, name, &t);
	fputs(out, stdout);
	g_gpt_free(&t);
	close(img.fd);
	return 0;
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "+S:")) != -1) {
		if (c != 'S')
			usage();
		char *end;
		unsigned long v = strtoul(optarg, &end, 0);
		if (*end || v < 512 || v > 65536 || (v & (v - 1)))
			die("bad sector size '%s'", optarg);
		secsize = (uint32_t)v;
	}
	argc -= optind;
	argv += optind;
	optind = 1;
	if (argc < 1)
		usage();
	if (strcmp(argv[0], "label") == 0)
		return cmd_label(argc, argv);
	if (strcmp(argv[0], "destroy") == 0)
		return cmd_destroy(argc, argv);
	if (strcmp(argv[0], "show") == 0)
		return cmd_show(argc, argv);
	if (strcmp(argv[0], "gpt") == 0 && argc >= 2) {
		if (strcmp(argv[1], "create") == 0)
			return cmd_gpt_create(argc - 1, argv + 1);
		if (strcmp(argv[1], "add") == 0)
			return cmd_gpt_add(argc - 1, argv + 1);
	}
	usage();
}
