/* base64.h — RFC 4648 base64, the standard alphabet, padded. */
#ifndef PW_BASE64_H
#define PW_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Base64 (standard alphabet, padded) into out, NUL-terminated; returns the
 * length.  outsz must be >= 4*((n+2)/3)+1. */
size_t pw_base64(const uint8_t *in, size_t n, char *out, size_t outsz);

#endif
