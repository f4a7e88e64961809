/*
 * The page cache's figures: /proc/pagecache's text, one "name value" line
 * per counter, read without locks (each counter is atomic; the set is not
 * one snapshot, which a reader of counters does not need).
 */
#include "pc_impl.h"

#include <karst/printk.h>
#include <string.h>

static uint64_t total(_Atomic int64_t *v)
{
	int64_t x = atomic_load_explicit(v, memory_order_relaxed);
	return x > 0 ? (uint64_t)x : 0;
}

#define LOAD(f) atomic_load_explicit(&pc_ctr.f, memory_order_relaxed)

void pc_stats_get(struct pc_stats *st)
{
	st->cached = total(&pc_ctr.cached);
	st->mapped = total(&pc_ctr.mapped);
	st->dirty = total(&pc_ctr.dirty);
	st->writeback = total(&pc_ctr.writeback);
	st->lent = total(&pc_ctr.lent);
	st->pinned = total(&pc_ctr.pinned);
	st->fills = LOAD(fills);
	st->lends = LOAD(lends);
	st->writebacks = LOAD(writebacks);
	st->evicted = LOAD(evicted);
	st->refaults = LOAD(refaults);
	st->hits = LOAD(hits);
	st->misses = LOAD(misses);
	st->fill_errors = LOAD(fill_errors);
	st->lends_broken = LOAD(lends_broken);
	st->read_spans = LOAD(read_spans);
	st->read_span_bytes = LOAD(read_span_bytes);
	st->scan_passes = LOAD(scan_passes);
	st->scan_scanned = LOAD(scan_scanned);
	st->scan_cleared = LOAD(scan_cleared);
	st->scan_accessed = LOAD(scan_accessed);
	st->scan_flushes = LOAD(scan_flushes);
	st->scan_cpu_ppm_now = LOAD(scan_cpu_ppm_now);
	st->scan_cpu_ppm_avg = LOAD(scan_cpu_ppm_avg);
	st->scan_running = pc_scanner_running();
}

int pc_stats_format(char *buf, size_t size)
{
	struct pc_stats st;
	pc_stats_get(&st);
	const struct {
		const char *name;
		uint64_t v;
	} f[] = {
	    {"cached", st.cached},
	    {"mapped", st.mapped},
	    {"dirty", st.dirty},
	    {"writeback", st.writeback},
	    {"lent", st.lent},
	    {"pinned", st.pinned},
	    {"hits", st.hits},
	    {"misses", st.misses},
	    {"fills", st.fills},
	    {"fill_errors", st.fill_errors},
	    {"lends", st.lends},
	    {"lends_broken", st.lends_broken},
	    {"read_spans", st.read_spans},
	    {"read_span_bytes", st.read_span_bytes},
	    {"writebacks", st.writebacks},
	    {"evicted", st.evicted},
	    {"refaults", st.refaults},
	    {"scan_running", st.scan_running},
	    {"scan_passes", st.scan_passes},
	    {"scan_scanned", st.scan_scanned},
	    {"scan_cleared", st.scan_cleared},
	    {"scan_accessed", st.scan_accessed},
	    {"scan_flushes", st.scan_flushes},
	    {"scan_cpu_ppm_now", st.scan_cpu_ppm_now},
	    {"scan_cpu_ppm_avg", st.scan_cpu_ppm_avg},
	};
	size_t len = 0;
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		char line[64];
		int n = ksnprintf(line, sizeof(line), "%s %lu\n", f[i].name, (unsigned long)f[i].v);
		if (n < 0)
			return n;
		if (len < size) {
			size_t room = size - len - 1, c = (size_t)n < room ? (size_t)n : room;
			memcpy(buf + len, line, c);
			buf[len + c] = '\0';
		}
		len += (size_t)n;
	}
	return (int)len;
}
