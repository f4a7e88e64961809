/*
 * Binary buddy page-frame allocator; see <karst/page_alloc.h> for how it
 * works and its locking contract.
 */
#include <karst/page_alloc.h>
#include <karst/printk.h>
#include <string.h>

void pa_init(struct page_allocator *pa)
{
	memset(pa, 0, sizeof(*pa));
	spin_lock_init(&pa->lock, "page_alloc");
	for (int o = 0; o <= PA_MAX_ORDER; o++)
		list_init(&pa->free[o]);
}

unsigned int pa_order_for(size_t npages)
{
	unsigned int o = 0;
	while (((size_t)1 << o) < npages)
		o++;
	return o;
}

static const struct pa_zone *zone_of_page(const struct page_allocator *pa, const struct page *pg)
{
	for (int i = 0; i < pa->nzones; i++) {
		const struct pa_zone *z = &pa->zones[i];
		if (pg >= z->memmap && pg < z->memmap + z->npages)
			return z;
	}
	return NULL;
}

static uint64_t page_pfn(const struct pa_zone *z, const struct page *pg)
{
	return z->base_pfn + (uint64_t)(pg - z->memmap);
}

/* Put a free block on its list; caller holds the lock. */
static void free_list_push(struct page_allocator *pa, struct page *pg, unsigned int order)
{
	pg->flags = PG_FREE;
	pg->order = (uint8_t)order;
	list_add(&pa->free[order], &pg->link);
	pa->st.free_blocks[order]++;
	pa->st.free_pages += (size_t)1 << order;
}

static void free_list_remove(struct page_allocator *pa, struct page *pg)
{
	unsigned int order = pg->order;
	list_del(&pg->link);
	pg->flags = 0;
	pa->st.free_blocks[order]--;
	pa->st.free_pages -= (size_t)1 << order;
}

size_t pa_add_region(struct page_allocator *pa, void *virt, uint64_t phys, size_t size)
{
	uintptr_t v = (uintptr_t)virt;
	uintptr_t vend = v + size;
	uintptr_t va = ALIGN_UP(v, PAGE_SIZE);
	phys += va - v;
	if (vend < va + PAGE_SIZE)
		return 0;
	size_t n = (ALIGN_DOWN(vend, PAGE_SIZE) - va) / PAGE_SIZE;
	/* The memmap of the remaining m pages takes k pages: k = ceil(m * sz / PAGE_SIZE). */
	size_t k = DIV_ROUND_UP(n * sizeof(struct page), PAGE_SIZE + sizeof(struct page));
	if (k >= n)
		return 0;
	size_t m = n - k;

	spin_lock(&pa->lock);
	if (pa->nzones == PA_MAX_ZONES) {
		spin_unlock(&pa->lock);
		return 0;
	}
	struct pa_zone *z = &pa->zones[pa->nzones++];
	z->memmap = (struct page *)va;
	z->virt = va + k * PAGE_SIZE;
	z->base_pfn = (phys >> PAGE_SHIFT) + k;
	z->npages = m;
	memset(z->memmap, 0, m * sizeof(struct page));
	for (size_t i = 0; i < m; i++)
		list_init(&z->memmap[i].link);

	/* Free the zone as maximal naturally aligned blocks. */
	uint64_t pfn = z->base_pfn, end = z->base_pfn + m;
	while (pfn < end) {
		unsigned int o = PA_MAX_ORDER;
		while (o > 0 &&
		       ((pfn & (((uint64_t)1 << o) - 1)) || pfn + ((uint64_t)1 << o) > end))
			o--;
		free_list_push(pa, &z->memmap[pfn - z->base_pfn], o);
		pfn += (uint64_t)1 << o;
	}
	pa->st.total_pages += m;
	pa->st.memmap_pages += k;
	spin_unlock(&pa->lock);
	return m;
}

void pa_set_low_watermark(struct page_allocator *pa, size_t pages, void (*fn)(void *arg), void *arg)
{
	spin_lock(&pa->lock);
	pa->low_fn = fn;
	pa->low_arg = arg;
	pa->low_pages = pages;
	spin_unlock(&pa->lock);
}

/* After the lock is dropped: tell the low-memory hook, if memory is low. */
static void pa_check_low(struct page_allocator *pa, bool failed, size_t free_pages)
{
	void (*fn)(void *) = READ_ONCE(pa->low_fn);
	if (fn && (failed || free_pages < READ_ONCE(pa->low_pages)))
		fn(READ_ONCE(pa->low_arg));
}

struct page *pa_alloc(struct page_allocator *pa, unsigned int order)
{
	if (order > PA_MAX_ORDER)
		return NULL;
	spin_lock(&pa->lock);
	unsigned int o = order;
	while (o <= PA_MAX_ORDER && list_empty(&pa->free[o]))
		o++;
	if (o > PA_MAX_ORDER) {
		pa->st.failures++;
		spin_unlock(&pa->lock);
		pa_check_low(pa, true, 0);
		return NULL;
	}
	struct page *pg = list_entry(pa->free[o].next, struct page, link);
	free_list_remove(pa, pg);
	/* Split down to the requested order, freeing the upper halves. */
	while (o > order) {
		o--;
		free_list_push(pa, pg + ((size_t)1 << o), o);
		pa->st.splits++;
	}
	pg->flags = PG_ALLOC;
	pg->order = (uint8_t)order;
	pa->st.allocs++;
	size_t free_pages = pa->st.free_pages;
	spin_unlock(&pa->lock);
	pa_check_low(pa, false, free_pages);
	return pg;
}

void pa_free(struct page_allocator *pa, struct page *pg, unsigned int order)
{
	spin_lock(&pa->lock);
	const struct pa_zone *z = zone_of_page(pa, pg);
	VERIFY_MSG(z != NULL, "pa_free of unmanaged page %p", (void *)pg);
	VERIFY_MSG(!(pg->flags & PG_FREE), "double free of page frame %p", pa_page_to_virt(pa, pg));
	uint64_t pfn = page_pfn(z, pg);
	VERIFY_MSG((pfn & (((uint64_t)1 << order) - 1)) == 0, "misaligned free, order %u", order);
	pa->st.frees++;
	while (order < PA_MAX_ORDER) {
		uint64_t bpfn = pfn ^ ((uint64_t)1 << order);
		if (bpfn < z->base_pfn || bpfn + ((uint64_t)1 << order) > z->base_pfn + z->npages)
			break;
		struct page *b = &z->memmap[bpfn - z->base_pfn];
		if (!(b->flags & PG_FREE) || b->order != order)
			break;
		free_list_remove(pa, b);
		pa->st.merges++;
		pfn &= bpfn;
		order++;
	}
	free_list_push(pa, &z->memmap[pfn - z->base_pfn], order);
	spin_unlock(&pa->lock);
}

/* Free [pfn, pfn + n) of zone z as maximal aligned blocks. */
static void free_span(struct page_allocator *pa, struct page *pg, const struct pa_zone *z, size_t n)
{
	uint64_t pfn = page_pfn(z, pg), end = pfn + n;
	while (pfn < end) {
		unsigned int o = 0;
		while (o < PA_MAX_ORDER && !(pfn & ((uint64_t)1 << o)) &&
		       pfn + ((uint64_t)2 << o) <= end)
			o++;
		pa_free(pa, &z->memmap[pfn - z->base_pfn], o);
		pfn += (uint64_t)1 << o;
	}
}

struct page *pa_alloc_run(struct page_allocator *pa, size_t npages)
{
	if (npages == 0)
		return NULL;
	unsigned int order = pa_order_for(npages);
	struct page *pg = pa_alloc(pa, order);
	if (!pg)
		return NULL;
	size_t excess = ((size_t)1 << order) - npages;
	if (excess) {
		const struct pa_zone *z = zone_of_page(pa, pg);
		free_span(pa, pg + npages, z, excess);
	}
	for (size_t i = 1; i < npages; i++)
		pg[i].flags = PG_ALLOC;
	return pg;
}

void pa_free_run(struct page_allocator *pa, struct page *pg, size_t npages)
{
	const struct pa_zone *z = zone_of_page(pa, pg);
	VERIFY_MSG(z != NULL, "pa_free_run of unmanaged page %p", (void *)pg);
	for (size_t i = 1; i < npages; i++)
		pg[i].flags = PG_ALLOC;
	free_span(pa, pg, z, npages);
}

void *pa_page_to_virt(const struct page_allocator *pa, const struct page *pg)
{
	const struct pa_zone *z = zone_of_page(pa, pg);
	if (!z)
		return NULL;
	return (void *)(z->virt + (uintptr_t)(pg - z->memmap) * PAGE_SIZE);
}

uint64_t pa_page_to_phys(const struct page_allocator *pa, const struct page *pg)
{
	const struct pa_zone *z = zone_of_page(pa, pg);
	KASSERT(z != NULL);
	return page_pfn(z, pg) << PAGE_SHIFT;
}

struct page *pa_virt_to_page(const struct page_allocator *pa, const void *virt)
{
	uintptr_t v = (uintptr_t)virt;
	for (int i = 0; i < pa->nzones; i++) {
		const struct pa_zone *z = &pa->zones[i];
		if (v >= z->virt && v < z->virt + z->npages * PAGE_SIZE)
			return &z->memmap[(v - z->virt) / PAGE_SIZE];
	}
	return NULL;
}

void pa_get_stats(struct page_allocator *pa, struct pa_stats *out)
{
	spin_lock(&pa->lock);
	*out = pa->st;
	spin_unlock(&pa->lock);
}
