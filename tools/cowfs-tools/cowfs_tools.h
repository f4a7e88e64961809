/* Host-side helpers shared by mkcowfs and the cowfs inspector. */
#ifndef KARST_COWFS_TOOLS_H
#define KARST_COWFS_TOOLS_H

#include <stdbool.h>
#include <stdint.h>

#include "cowfs.h"

/* Open an image file as a cowfs device; create_size > 0 creates (or
 * truncates) it at that size. 0 or a negative errno. */
int cowfs_filedev_open(const char *path, bool write, uint64_t create_size, struct cowfs_dev **out);
void cowfs_filedev_close(struct cowfs_dev *dev);

#endif
