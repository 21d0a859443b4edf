/* fc_hex: see fc_hex.h. */
#include "fc_hex.h"

#include <string.h>

static const char digits[] = "0123456789abcdef";

char *fc_hex_encode(const uint8_t *in, size_t len, char *out)
{
	for (size_t i = 0; i < len; i++) {
		*out++ = digits[in[i] >> 4];
		*out++ = digits[in[i] & 15];
	}
	*out = '\0';
	return out;
}

static int digit(char c)
{
	const char *at = c ? strchr(digits, c) : NULL;
	return at ? (int)(at - digits) : -1;
}

long fc_hex_decode(const char *hex, uint8_t *out)
{
	size_t n = strlen(hex);

	if (n % 2)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		int hi = digit(hex[2 * i]), lo = digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}
