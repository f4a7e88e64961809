/*
 * MBR, read only: the four primary entries of sector 0, for PART's MBR
 * scheme and for recognising the protective MBR in front of a GPT.
 *
 * Sector 0 holds boot code, four 16-byte entries at offset 446 (status,
 * CHS start, type, CHS end, LBA start, sector count; little-endian) and the
 * 0x55 0xAA signature at 510. The CHS fields are ignored. An entry of type
 * 0xEE marks the disk as GPT (its range usually covers the whole disk, or
 * 0xFFFFFFFF sectors, and is not checked). Extended partitions are not
 * followed.
 */
#include "g_internal.h"
#include <errno.h>
#include <string.h>

#define MBR_ENTRIES_OFF 446
#define MBR_ENTRY_SIZE	16

int g_mbr_decode(const void *sector, size_t secsize, uint64_t nsectors, struct g_mbr *m,
		 const char **why)
{
	const uint8_t *p = sector;
	*why = "";
	memset(m, 0, sizeof(*m));
	if (secsize < 512 || p[510] != 0x55 || p[511] != 0xaa) {
		*why = "no MBR signature";
		return -ENOENT;
	}
	for (int i = 0; i < 4; i++) {
		const uint8_t *e = p + MBR_ENTRIES_OFF + i * MBR_ENTRY_SIZE;
		struct g_mbr_ent *me = &m->ent[i];
		me->active = e[0];
		me->type = e[4];
		me->lba_start = g_le32dec(e + 8);
		me->nsectors = g_le32dec(e + 12);
		/* A boot sector with the signature but no table is not an MBR. */
		if (me->active != 0 && me->active != 0x80) {
			*why = "bad MBR status byte";
			return -ENOENT;
		}
		if (me->type == 0)
			continue;
		if (me->type == G_MBR_TYPE_GPT) {
			m->protective = true;
			continue;
		}
		if (me->lba_start == 0 || me->nsectors == 0) {
			*why = "empty MBR entry with a type";
			return -EINVAL;
		}
		if ((uint64_t)me->lba_start + me->nsectors > nsectors) {
			*why = "MBR entry past the end of the disk";
			return -EINVAL;
		}
	}
	for (int i = 0; i < 4; i++) {
		const struct g_mbr_ent *a = &m->ent[i];
		if (a->type == 0 || a->type == G_MBR_TYPE_GPT)
			continue;
		for (int j = i + 1; j < 4; j++) {
			const struct g_mbr_ent *b = &m->ent[j];
			if (b->type == 0 || b->type == G_MBR_TYPE_GPT)
				continue;
			if ((uint64_t)a->lba_start < (uint64_t)b->lba_start + b->nsectors &&
			    (uint64_t)b->lba_start < (uint64_t)a->lba_start + a->nsectors) {
				*why = "overlapping MBR entries";
				return -EINVAL;
			}
		}
	}
	return 0;
}
