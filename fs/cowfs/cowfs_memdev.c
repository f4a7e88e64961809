/*
 * A cowfs device in memory, for tests and tools: reads and writes copy
 * bytes; fault injection makes writes fail after a count (a device that
 * dies in the middle of a commit) or flushes fail.
 */
#include "cowfs_impl.h"
#include <errno.h>
#include <string.h>

struct memdev {
	struct cowfs_dev dev;
	uint8_t *bytes;
	uint64_t writes;
	struct cowfs_memdev_faults faults;
};

static int md_read(void *ctx, uint64_t off, void *buf, size_t len)
{
	struct memdev *m = ctx;
	if (off > m->dev.size || len > m->dev.size - off)
		return -EIO;
	memcpy(buf, m->bytes + off, len);
	return 0;
}

static int md_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
	struct memdev *m = ctx;
	if (off > m->dev.size || len > m->dev.size - off)
		return -EIO;
	m->writes++;
	if (m->faults.fail_writes_after && m->writes > m->faults.fail_writes_after)
		return -EIO;
	memcpy(m->bytes + off, buf, len);
	return 0;
}

static int md_flush(void *ctx)
{
	struct memdev *m = ctx;
	return m->faults.fail_flush ? -EIO : 0;
}

static const struct cowfs_dev_ops memdev_ops = {
    .read = md_read,
    .write = md_write,
    .flush = md_flush,
};

int cowfs_memdev_create(uint64_t size, struct cowfs_dev **out)
{
	struct memdev *m = kzalloc(sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->bytes = kzalloc(size);
	if (!m->bytes) {
		kfree(m);
		return -ENOMEM;
	}
	m->dev.ops = &memdev_ops;
	m->dev.ctx = m;
	m->dev.size = size;
	*out = &m->dev;
	return 0;
}

void cowfs_memdev_destroy(struct cowfs_dev *dev)
{
	struct memdev *m = container_of(dev, struct memdev, dev);
	kfree(m->bytes);
	kfree(m);
}

uint8_t *cowfs_memdev_bytes(struct cowfs_dev *dev)
{
	return container_of(dev, struct memdev, dev)->bytes;
}

struct cowfs_memdev_faults *cowfs_memdev_faults(struct cowfs_dev *dev)
{
	return &container_of(dev, struct memdev, dev)->faults;
}

uint64_t cowfs_memdev_writes(struct cowfs_dev *dev)
{
	return container_of(dev, struct memdev, dev)->writes;
}
