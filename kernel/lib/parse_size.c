/*
 * Sizes as users write them: see kparse_size in <karst/format.h>.
 */
#include <errno.h>
#include <karst/format.h>

int kparse_size(const char *s, size_t len, uint64_t *out)
{
	size_t i = 0;
	uint64_t v = 0;
	if (len == 0 || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	unsigned shift = 0;
	if (i < len) {
		switch (s[i]) {
		case 'k':
		case 'K':
			shift = 10;
			break;
		case 'm':
		case 'M':
			shift = 20;
			break;
		case 'g':
		case 'G':
			shift = 30;
			break;
		case 't':
		case 'T':
			shift = 40;
			break;
		default:
			return -EINVAL;
		}
		if (i + 1 != len || v > (UINT64_MAX >> shift))
			return -EINVAL;
	}
	*out = v << shift;
	return 0;
}
