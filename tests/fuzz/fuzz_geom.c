/*
 * libFuzzer target: GEOM's tasting of a mutated disk (kernel/geom): the
 * MBR, the GPT (protective MBR, both headers, both tables) and the LABEL
 * metadata in the last sector, as the PART and LABEL classes read them.
 *
 * The disk is 1 MiB of 512-byte sectors. The input is laid over the
 * sectors those formats live in: the first 34 (MBR, primary header and
 * table) then the last 33 (backup table and header, the label in the
 * very last); the rest is zeros. A first byte of the input picks a
 * smaller medium size (to reach the size checks). A table that decodes
 * is also shown (gpart show) and its partitions checked to lie inside the
 * medium, not overlap, and not cover the headers: a bad table must be
 * refused, never accepted. `fuzz_geom -dump_seed=DIR` writes seeds: a GPT
 * disk with partitions, an MBR disk, a labelled disk.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "geom.h"

#define SS    512u
#define DISK  (1u << 20)
#define NSECT (DISK / SS)
#define HEAD  34u
#define TAIL  33u

static uint8_t disk[DISK];
static uint64_t media;

static int rd(void *ctx, uint64_t off, void *buf, size_t len)
{
	if (off > media || len > media - off)
		return -EIO;
	memcpy(buf, disk + off, len);
	return 0;
}

static int wr(void *ctx, uint64_t off, void *buf, size_t len)
{
	if (off > DISK || len > DISK - off)
		return -EIO;
	memcpy(disk + off, buf, len);
	return 0;
}

static void bug(const char *what)
{
	fprintf(stderr, "fuzz_geom: %s\n", what);
	abort();
}

static void taste(void)
{
	char why[160];
	const char *w;
	struct g_mbr m;
	uint64_t ns = media / SS;
	if (g_mbr_decode(disk, SS, ns, &m, &w) == 0) {
		for (int i = 0; i < 4; i++) {
			const struct g_mbr_ent *e = &m.ent[i];
			if (e->type && (uint64_t)e->lba_start + e->nsectors > ns &&
			    e->type != G_MBR_TYPE_GPT)
				bug("an MBR entry past the medium accepted");
		}
	}
	struct g_gpt_table t;
	if (g_gpt_read(rd, NULL, media, SS, &t, why, sizeof(why)) == 0) {
		for (uint32_t i = 0; i < t.hdr.nents; i++) {
			const struct g_gpt_ent *e = &t.ents[i];
			if (g_uuid_is_nil(&e->type))
				continue;
			if (e->lba_start > e->lba_end || e->lba_end >= ns ||
			    e->lba_start < t.hdr.lba_first || e->lba_end > t.hdr.lba_last)
				bug("a GPT entry outside the usable sectors accepted");
			for (uint32_t j = i + 1; j < t.hdr.nents; j++) {
				const struct g_gpt_ent *f = &t.ents[j];
				if (!g_uuid_is_nil(&f->type) && f->lba_start <= e->lba_end &&
				    e->lba_start <= f->lba_end)
					bug("overlapping GPT entries accepted");
			}
		}
		static char out[64 * 1024];
		struct g_sbuf sb;
		g_sbuf_init(&sb, out, sizeof(out));
		g_gpt_show(&sb, "fuzz", &t);
		g_gpt_free(&t);
	}
	struct g_label_meta md;
	if (g_label_decode(disk + media - SS, SS, media, &md, &w) == 0 &&
	    !g_label_name_valid(md.name))
		bug("a label with a bad name accepted");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Zeros again where the last input was laid (tasting only reads):
	 * clearing the whole 1 MiB was a sixth of this target's time. */
	static uint64_t last_media = DISK;
	memset(disk, 0, HEAD * SS);
	memset(disk + last_media - TAIL * SS, 0, TAIL * SS);
	media = DISK;
	if (size && data[0] < 16) /* a smaller medium: 64K..1M */
		media = (uint64_t)(data[0] + 1) * 64 * 1024;
	if (size) {
		data++;
		size--;
	}
	size_t head = HEAD * SS, tail = TAIL * SS;
	memcpy(disk, data, size < head ? size : head);
	if (size > head)
		memcpy(disk + media - tail, data + head, size - head < tail ? size - head : tail);
	last_media = media;
	taste();
	return 0;
}

/* ---- seeds ---- */

static void dump(const char *dir, const char *name)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		bug("cannot write a seed");
	fputc(0xff, f); /* the whole 1 MiB medium */
	fwrite(disk, 1, HEAD * SS, f);
	fwrite(disk + DISK - TAIL * SS, 1, TAIL * SS, f);
	fclose(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	for (int i = 1; i < *argc; i++) {
		if (strncmp((*argv)[i], "-dump_seed=", 11))
			continue;
		const char *dir = (*argv)[i] + 11;
		struct g_gpt_table t;
		struct g_uuid guid = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
			      type;
		unsigned idx;
		memset(disk, 0, DISK);
		if (g_gpt_create(&t, DISK, SS, &guid) || g_gpt_type_parse("karst-cowfs", &type))
			bug("cannot make a GPT");
		guid.b[0] = 9;
		g_gpt_add(&t, 0, 300, 8, &type, &guid, "one", &idx);
		guid.b[0] = 10;
		g_gpt_add(&t, 0, 500, 8, &type, &guid, "two", &idx);
		if (g_gpt_write(wr, NULL, &t))
			bug("cannot write a GPT");
		g_gpt_free(&t);
		dump(dir, "seed-gpt");
		/* MBR: two entries and the signature. */
		memset(disk, 0, DISK);
		uint8_t *e = disk + 446;
		e[0] = 0x80, e[4] = 0x83, e[8] = 63, e[12] = 200;
		e += 16;
		e[4] = 0x07, e[8] = 0x10, e[9] = 1, e[12] = 100;
		disk[510] = 0x55, disk[511] = 0xaa;
		dump(dir, "seed-mbr");
		/* LABEL in the last sector. */
		memset(disk, 0, DISK);
		struct g_label_meta md = {.version = G_LABEL_VERSION, .provsize = DISK};
		strcpy(md.name, "rootdisk");
		g_label_encode(&md, disk + DISK - SS, SS);
		dump(dir, "seed-label");
		exit(0);
	}
	return 0;
}
