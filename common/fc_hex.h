/*
 * fc_hex: lowercase hex, the one encoder of digests, ids and journal records.
 */
#ifndef FC_HEX_H
#define FC_HEX_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes the lowercase hex of in[0..len) to out, which has room for 2 * len
 * + 1 bytes, and ends it with NUL. Returns out + 2 * len (the NUL), so that
 * calls chain.
 */
char *fc_hex_encode(const uint8_t *in, size_t len, char *out);

/*
 * Decodes hex of lowercase digits only (an even count) into out, which has
 * room for strlen(hex) / 2 bytes. Returns the byte count, or -1 when hex is
 * not that.
 */
long fc_hex_decode(const char *hex, uint8_t *out);

#endif
