/*
 * Slab size classes over the page allocator; see <karst/kmalloc.h>.
 */
#include <karst/kmalloc.h>
#include <karst/printk.h>
#include <string.h>

static const uint32_t kma_sizes[KMA_NCLASSES] = {16,  32,  48,	64,  96,   128,	 192,
						 256, 384, 512, 768, 1024, 1536, 2048};

void kma_init(struct kma *a, struct page_allocator *pa)
{
	memset(a, 0, sizeof(*a));
	a->pa = pa;
	for (int i = 0; i < KMA_NCLASSES; i++) {
		struct kma_class *c = &a->cls[i];
		spin_lock_init(&c->lock, "kmalloc_class");
		c->size = kma_sizes[i];
		c->st.size = c->size;
		list_init(&c->partial);
	}
	spin_lock_init(&a->large_lock, "kmalloc_large");
}

static int class_for(size_t size)
{
	for (int i = 0; i < KMA_NCLASSES; i++)
		if (kma_sizes[i] >= size)
			return i;
	return -1;
}

/* Cut a fresh page into objects of class c; caller holds c->lock. */
static struct page *slab_new(struct kma *a, struct kma_class *c, int ci)
{
	struct page *pg = pa_alloc(a->pa, 0);
	if (!pg)
		return NULL;
	char *base = pa_page_to_virt(a->pa, pg);
	uint32_t n = PAGE_SIZE / c->size;
	void *head = NULL;
	for (uint32_t i = n; i-- > 0;) {
		void **obj = (void **)(base + (size_t)i * c->size);
		*obj = head;
		head = obj;
	}
	pg->flags |= PG_SLAB;
	pg->slab_class = (uint16_t)ci;
	pg->count = 0;
	pg->freelist = head;
	list_add(&c->partial, &pg->link);
	c->st.slabs++;
	return pg;
}

static void *large_alloc(struct kma *a, size_t size)
{
	size_t np = DIV_ROUND_UP(size, PAGE_SIZE);
	struct page *pg = pa_alloc_run(a->pa, np);
	spin_lock(&a->large_lock);
	if (!pg) {
		a->failures++;
		spin_unlock(&a->large_lock);
		return NULL;
	}
	pg->flags |= PG_LARGE;
	pg->count = (uint32_t)np;
	a->large_allocs++;
	a->large_pages += np;
	spin_unlock(&a->large_lock);
	return pa_page_to_virt(a->pa, pg);
}

static void *class_alloc(struct kma *a, int ci)
{
	struct kma_class *c = &a->cls[ci];
	spin_lock(&c->lock);
	struct page *pg = list_first(&c->partial, struct page, link);
	if (!pg)
		pg = slab_new(a, c, ci);
	if (!pg) {
		spin_unlock(&c->lock);
		spin_lock(&a->large_lock);
		a->failures++;
		spin_unlock(&a->large_lock);
		return NULL;
	}
	void **obj = pg->freelist;
	pg->freelist = *obj;
	pg->count++;
	if (!pg->freelist)
		list_del(&pg->link); /* full: off the partial list */
	c->st.allocs++;
	c->st.in_use++;
	spin_unlock(&c->lock);
	return obj;
}

void *kma_alloc(struct kma *a, size_t size)
{
	if (size == 0)
		size = 1;
	if (size > KMA_MAX_SMALL)
		return large_alloc(a, size);
	return class_alloc(a, class_for(size));
}

void *kma_alloc_aligned(struct kma *a, size_t size, size_t align)
{
	if (align == 0 || (align & (align - 1)) || align > PAGE_SIZE)
		return NULL;
	if (align <= 16)
		return kma_alloc(a, size);
	/* A power-of-two class at least `align` big has objects aligned to it. */
	size_t need = MAX(size, align);
	size_t p2 = 16;
	while (p2 < need)
		p2 <<= 1;
	if (p2 > KMA_MAX_SMALL)
		return large_alloc(a, size);
	return class_alloc(a, class_for(p2));
}

void kma_free(struct kma *a, void *p)
{
	if (!p)
		return;
	struct page *pg = pa_virt_to_page(a->pa, p);
	VERIFY_MSG(pg != NULL, "kfree of %p: not kernel heap memory", p);
	if (pg->flags & PG_LARGE) {
		VERIFY_MSG(((uintptr_t)p & PAGE_MASK) == 0, "kfree of %p: inside a large block", p);
		size_t np = pg->count;
		pg->flags &= (uint8_t)~PG_LARGE;
		spin_lock(&a->large_lock);
		a->large_frees++;
		a->large_pages -= np;
		spin_unlock(&a->large_lock);
		pa_free_run(a->pa, pg, np);
		return;
	}
	VERIFY_MSG(pg->flags & PG_SLAB, "kfree of %p: not allocated by kmalloc", p);
	struct kma_class *c = &a->cls[pg->slab_class];
	char *base = pa_page_to_virt(a->pa, pg);
	VERIFY_MSG(((uintptr_t)((char *)p - base)) % c->size == 0,
		   "kfree of %p: not an object start", p);
	spin_lock(&c->lock);
#ifdef KARST_DEBUG
	for (void **f = pg->freelist; f; f = *f)
		VERIFY_MSG(f != p, "double kfree of %p", p);
#endif
	bool was_full = pg->freelist == NULL;
	*(void **)p = pg->freelist;
	pg->freelist = p;
	pg->count--;
	c->st.frees++;
	c->st.in_use--;
	if (was_full)
		list_add(&c->partial, &pg->link);
	struct page *release = NULL;
	if (pg->count == 0) {
		/* Keep one empty slab per class to absorb alloc/free churn. */
		bool another_empty = false;
		list_for_each(it, &c->partial)
		{
			struct page *o = list_entry(it, struct page, link);
			if (o != pg && o->count == 0) {
				another_empty = true;
				break;
			}
		}
		if (another_empty) {
			list_del(&pg->link);
			pg->flags &= (uint8_t)~PG_SLAB;
			c->st.slabs--;
			release = pg;
		}
	}
	spin_unlock(&c->lock);
	if (release)
		pa_free(a->pa, release, 0);
}

size_t kma_size(struct kma *a, const void *p)
{
	struct page *pg = pa_virt_to_page(a->pa, p);
	if (!pg)
		return 0;
	if (pg->flags & PG_LARGE)
		return (size_t)pg->count * PAGE_SIZE;
	if (pg->flags & PG_SLAB)
		return a->cls[pg->slab_class].size;
	return 0;
}

void kma_get_stats(struct kma *a, struct kma_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (int i = 0; i < KMA_NCLASSES; i++) {
		struct kma_class *c = &a->cls[i];
		spin_lock(&c->lock);
		out->cls[i] = c->st;
		spin_unlock(&c->lock);
		out->bytes_in_use += c->st.in_use * c->size;
	}
	spin_lock(&a->large_lock);
	out->large_allocs = a->large_allocs;
	out->large_frees = a->large_frees;
	out->large_pages = a->large_pages;
	out->failures = a->failures;
	spin_unlock(&a->large_lock);
	out->bytes_in_use += out->large_pages * PAGE_SIZE;
}
