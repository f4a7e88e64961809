/*
 * The per-object page index: a radix tree keyed by page index.
 *
 * Interior nodes have 64 slots (6 bits of the index per level); a tree of
 * height h covers 64^h pages and grows upward on demand (the old root
 * becomes slot 0 of a new root), so a small file costs one node and a
 * lookup is h array steps, never a list walk. Leaf slots hold a struct
 * pc_page pointer or a shadow (an odd value, see pc_impl.h). Nodes are
 * only freed when the whole object is (pc_index_free): truncation leaves
 * empty nodes behind, which keeps removal simple and costs at most one
 * node per 64 pages ever cached.
 *
 * Every function runs with obj->lock held.
 */
#include "pc_impl.h"

#include <errno.h>
#include <karst/kmem.h>

#define PC_SLOT_SHIFT 6
#define PC_SLOTS      (1u << PC_SLOT_SHIFT)
#define PC_MAX_HEIGHT 9 /* 54 bits of page index: any 64-bit byte offset */

static uint64_t span(int height)
{
	return height == 0		 ? 0
	       : height >= PC_MAX_HEIGHT ? UINT64_MAX
					 : 1ULL << (PC_SLOT_SHIFT * height);
}

void **pc_index_slot(struct pc_object *obj, uint64_t index, bool create, int *err)
{
	while (index >= span(obj->height) && obj->height < PC_MAX_HEIGHT) {
		if (!create)
			return NULL;
		void **root = kzalloc(PC_SLOTS * sizeof(void *));
		if (!root) {
			*err = -ENOMEM;
			return NULL;
		}
		root[0] = obj->root;
		obj->root = root;
		obj->height++;
	}
	void **node = obj->root;
	for (int level = obj->height - 1; level > 0; level--) {
		unsigned i = (unsigned)(index >> (PC_SLOT_SHIFT * level)) & (PC_SLOTS - 1);
		if (!node[i]) {
			if (!create)
				return NULL;
			node[i] = kzalloc(PC_SLOTS * sizeof(void *));
			if (!node[i]) {
				*err = -ENOMEM;
				return NULL;
			}
		}
		node = node[i];
	}
	return &node[index & (PC_SLOTS - 1)];
}

void *pc_index_get(struct pc_object *obj, uint64_t index)
{
	void **slot = pc_index_slot(obj, index, false, NULL);
	return slot ? *slot : NULL;
}

/* First non-empty leaf slot at or after *index in the subtree `node` of
 * `level` levels whose first index is base. */
static void *next_in(void **node, int level, uint64_t base, uint64_t *index)
{
	uint64_t child_span = 1ULL << (PC_SLOT_SHIFT * (level - 1));
	unsigned first = *index > base ? (unsigned)((*index - base) / child_span) : 0;
	for (unsigned i = first; i < PC_SLOTS; i++) {
		if (!node[i])
			continue;
		uint64_t cbase = base + i * child_span;
		if (level == 1) {
			*index = cbase;
			return node[i];
		}
		void *r = next_in(node[i], level - 1, cbase, index);
		if (r)
			return r;
	}
	return NULL;
}

void *pc_index_next(struct pc_object *obj, uint64_t *index)
{
	if (obj->height == 0 || *index >= span(obj->height))
		return NULL;
	return next_in(obj->root, obj->height, 0, index);
}

static void free_nodes(void **node, int level)
{
	if (level > 1)
		for (unsigned i = 0; i < PC_SLOTS; i++)
			if (node[i])
				free_nodes(node[i], level - 1);
	kfree(node);
}

void pc_index_free(struct pc_object *obj)
{
	if (obj->height)
		free_nodes(obj->root, obj->height);
	obj->root = NULL;
	obj->height = 0;
}
