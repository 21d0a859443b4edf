/*
 * fc_json: what fleetcap says of JSON it cannot parse.
 */
#ifndef FC_JSON_H
#define FC_JSON_H

#include <stddef.h>

#include <jansson.h>

/*
 * jansson's reason without the text it quotes from the document ("near
 * '...'"): a body or a file may hold a SAS token, and no error repeats it.
 * Returns out.
 */
const char *fc_json_error_reason(const json_error_t *e, char *out, size_t len);

#endif
