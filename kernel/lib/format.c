/*
 * kfmt_vsnprintf: the kernel's printf formatter (behind ksnprintf/printk).
 *
 * Supports the conversions kernel code uses: %d %i %u %x %X %o %c %s %p %%,
 * the flags - 0 + space #, width and precision (also as *), and the length
 * modifiers hh h l ll z j t. Output is always NUL-terminated when size > 0;
 * the return value is the length the full output would have had (as ISO C).
 */
#include <karst/format.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

struct fmt_out {
	char *buf;
	size_t size, len;
};

static void out_c(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void out_pad(struct fmt_out *o, char c, int n)
{
	while (n-- > 0)
		out_c(o, c);
}

enum { F_LEFT = 1, F_ZERO = 2, F_PLUS = 4, F_SPACE = 8, F_ALT = 16 };

static void out_num(struct fmt_out *o, uint64_t v, bool neg, int base, bool upper, int flags,
		    int width, int prec)
{
	char tmp[24];
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;
	if (v == 0 && prec != 0)
		tmp[n++] = '0';
	while (v) {
		tmp[n++] = digits[v % (unsigned)base];
		v /= (unsigned)base;
	}
	char sign = neg ? '-' : (flags & F_PLUS) ? '+' : (flags & F_SPACE) ? ' ' : 0;
	const char *prefix = "";
	bool nonzero = n > 0 && !(n == 1 && tmp[0] == '0');
	if ((flags & F_ALT) && base == 16 && nonzero)
		prefix = upper ? "0X" : "0x";
	int zeros = prec > n ? prec - n : 0;
	/* '#' with %o makes the first digit a zero, only if it is not one already. */
	if ((flags & F_ALT) && base == 8 && zeros == 0 && (n == 0 || tmp[n - 1] != '0'))
		prefix = "0";
	int total = n + zeros + (sign ? 1 : 0) + (int)strlen(prefix);
	if ((flags & F_ZERO) && !(flags & F_LEFT) && prec < 0 && width > total) {
		zeros += width - total;
		total = width;
	}
	if (!(flags & F_LEFT))
		out_pad(o, ' ', width - total);
	if (sign)
		out_c(o, sign);
	for (const char *p = prefix; *p; p++)
		out_c(o, *p);
	out_pad(o, '0', zeros);
	while (n)
		out_c(o, tmp[--n]);
	if (flags & F_LEFT)
		out_pad(o, ' ', width - total);
}

int kfmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = {buf, size, 0};
	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			out_c(&o, *p);
			continue;
		}
		p++;
		int flags = 0;
		for (;; p++) {
			if (*p == '-')
				flags |= F_LEFT;
			else if (*p == '0')
				flags |= F_ZERO;
			else if (*p == '+')
				flags |= F_PLUS;
			else if (*p == ' ')
				flags |= F_SPACE;
			else if (*p == '#')
				flags |= F_ALT;
			else
				break;
		}
		int width = 0, prec = -1;
		if (*p == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				flags |= F_LEFT;
				width = -width;
			}
			p++;
		} else {
			while (*p >= '0' && *p <= '9')
				width = width * 10 + (*p++ - '0');
		}
		if (*p == '.') {
			p++;
			prec = 0;
			if (*p == '*') {
				prec = va_arg(ap, int);
				p++;
			} else {
				while (*p >= '0' && *p <= '9')
					prec = prec * 10 + (*p++ - '0');
			}
		}
		int lng = 0; /* -2 hh, -1 h, 0 int, 1 long, 2 long long/size_t/intmax */
		for (;; p++) {
			if (*p == 'h')
				lng--;
			else if (*p == 'l')
				lng++;
			else if (*p == 'z' || *p == 'j' || *p == 't')
				lng = 2;
			else
				break;
		}
		uint64_t u;
		int64_t s;
		switch (*p) {
		case 'd':
		case 'i':
			if (lng >= 2)
				s = va_arg(ap, long long);
			else if (lng == 1)
				s = va_arg(ap, long);
			else
				s = va_arg(ap, int);
			if (lng == -1)
				s = (short)s;
			else if (lng <= -2)
				s = (signed char)s;
			out_num(&o, s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s, s < 0, 10,
				false, flags, width, prec);
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			if (lng >= 2)
				u = va_arg(ap, unsigned long long);
			else if (lng == 1)
				u = va_arg(ap, unsigned long);
			else
				u = va_arg(ap, unsigned int);
			if (lng == -1)
				u = (unsigned short)u;
			else if (lng <= -2)
				u = (unsigned char)u;
			out_num(&o, u, false,
				*p == 'u'   ? 10
				: *p == 'o' ? 8
					    : 16,
				*p == 'X', flags & ~(F_PLUS | F_SPACE), width, prec);
			break;
		case 'p':
			u = (uintptr_t)va_arg(ap, void *);
			out_num(&o, u, false, 16, false, F_ALT, width, prec);
			break;
		case 'c': {
			char c = (char)va_arg(ap, int);
			if (!(flags & F_LEFT))
				out_pad(&o, ' ', width - 1);
			out_c(&o, c);
			if (flags & F_LEFT)
				out_pad(&o, ' ', width - 1);
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			int n = (int)(prec >= 0 ? strnlen(str, (size_t)prec) : strlen(str));
			if (!(flags & F_LEFT))
				out_pad(&o, ' ', width - n);
			for (int i = 0; i < n; i++)
				out_c(&o, str[i]);
			if (flags & F_LEFT)
				out_pad(&o, ' ', width - n);
			break;
		}
		case '%':
			out_c(&o, '%');
			break;
		case '\0':
			p--;
			break;
		default: /* unknown conversion: print it as is */
			out_c(&o, '%');
			out_c(&o, *p);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return (int)o.len;
}
