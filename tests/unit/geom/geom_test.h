/*
 * Helpers shared by the GEOM suites and the benchmark: bringing the layer
 * up and down, building GPT and label images in memory with the same
 * format code the host tool uses, and asynchronous I/O with completions
 * counted on a semaphore.
 */
#ifndef GEOM_TEST_H
#define GEOM_TEST_H

#include "geom.h"
#include <karst/sync.h>
#include <stdbool.h>
#include <stdint.h>

/* g_init and register MD, NOP, PART, LABEL. */
void gt_start(void);
/* g_fini; fails the test when something is left open. */
void gt_stop(void);

/* An image in memory, as a g_meta_io_t target. */
struct gt_mem {
	uint8_t *buf;
	uint64_t size;
};
int gt_mem_read(void *ctx, uint64_t off, void *buf, size_t len);
int gt_mem_write(void *ctx, uint64_t off, void *buf, size_t len);

/* A zeroed image of `size` bytes with a GPT holding nparts partitions of
 * the given sizes (sectors), placed first-fit with 1 MiB alignment. */
uint8_t *gt_gpt_image(uint64_t size, uint32_t ss, int nparts, const uint64_t *sectors);
/* Write a label named name into the last sector of buf. */
void gt_label_image(uint8_t *buf, uint64_t size, uint32_t ss, const char *name);

/* Wait (up to 10 s) until a provider exists (want) or is gone (!want). */
bool gt_wait_provider(const char *name, bool want);
bool gt_provider_exists(const char *name);

/* Asynchronous requests: each completion bumps a semaphore. */
struct gt_batch {
	struct semaphore done;
	_Atomic int completed;
	_Atomic int errors;
	_Atomic int first_error;
};
void gt_batch_init(struct gt_batch *b);
void gt_batch_destroy(struct gt_batch *b);
/* Queue one request; its bio's caller1 is the batch. */
struct bio *gt_submit(struct gt_batch *b, struct g_consumer *cp, enum bio_cmd cmd, uint64_t off,
		      void *buf, size_t len);
/* Wait for n completions. */
void gt_wait(struct gt_batch *b, int n);

/* Deterministic byte pattern for (seed, offset). */
void gt_fill(uint8_t *buf, size_t len, uint64_t seed, uint64_t off);
bool gt_check(const uint8_t *buf, size_t len, uint64_t seed, uint64_t off);

#endif
