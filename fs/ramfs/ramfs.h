/*
 * ramfs: the in-memory filesystem, karst's first root.
 *
 * Files (sparse: page-sized chunks allocated on first write), directories,
 * symbolic links, hard links, timestamps. Mount data "size=N" (suffix k, m
 * or g) caps the bytes of file data; writes beyond it fail with ENOSPC.
 *
 * ramfs_register() adds the "ramfs" type to the VFS; the KARST_INIT entry
 * calls it at INIT_FS, and host programs call it after vfs_init().
 */
#ifndef KARST_RAMFS_H
#define KARST_RAMFS_H

#include <stdint.h>

#define RAMFS_MAX_FILE (1ULL << 48) /* largest file size: EFBIG beyond */

int ramfs_register(void);

#endif
