/*
 * The FUSE wire structures, from Debian's <linux/fuse.h> (package
 * linux-libc-dev), not a copy of them. Outside a Linux kernel that header
 * needs only <stdint.h>; the kernel build sees it through a directory that
 * holds nothing but linux/fuse.h (fs/virtiofs/CMakeLists.txt), so no other
 * Linux header leaks into karst.
 *
 * The structures are little-endian on the wire and so are both of karst's
 * architectures: they are used in place.
 */
#ifndef KARST_VIRTIOFS_WIRE_H
#define KARST_VIRTIOFS_WIRE_H

#include <linux/fuse.h>

_Static_assert(sizeof(struct fuse_in_header) == 40, "fuse_in_header");
_Static_assert(sizeof(struct fuse_out_header) == 16, "fuse_out_header");
_Static_assert(sizeof(struct fuse_entry_out) == 128, "fuse_entry_out");
_Static_assert(sizeof(struct fuse_init_out) == 64, "fuse_init_out");

#endif
