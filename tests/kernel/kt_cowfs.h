/*
 * Shared by the in-kernel cowfs tests (kt_cowfs.c, kt_cowfs_pc.c).
 */
#ifndef KT_COWFS_H
#define KT_COWFS_H

#include <stdint.h>

/* Create the GEOM memory disk `name` of `size` bytes and format an empty
 * cowfs on it (compression comp). 0 or a negative errno; thread context. */
int kt_cowfs_make_pool(const char *name, uint64_t size, uint8_t comp);

#endif
