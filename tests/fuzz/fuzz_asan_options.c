/*
 * AddressSanitizer defaults for the fuzz targets (linked into each; an
 * ASAN_OPTIONS from the environment still overrides them).
 *
 * clear_shadow_mmap_threshold: ASan zeroes the shadow of a large region
 * (an allocation of more than 512 KiB being made or unmapped: cowfs's
 * 1 MiB scrub, check and write-gather buffers, several per input) by
 * remapping the shadow pages rather than by memset. Each remap flushes the
 * TLB of every CPU the process ran on, and the next touch faults the
 * pages in again: under a VM that was a fifth of fuzz_cowfs's time. With
 * the threshold at 1 GiB the shadow is cleared by memset; what ASan
 * checks is the same, only how it clears the shadow differs.
 */
const char *__asan_default_options(void);

const char *__asan_default_options(void)
{
	return "clear_shadow_mmap_threshold=1073741824";
}
