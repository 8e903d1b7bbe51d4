/* base64.h — RFC 4648 §4 base64 (standard alphabet, padded): the one
 * implementation.  JSON data fields (pushwire.v1 envelopes, poll bodies,
 * transcripts), the Sec-WebSocket-Key/Accept values, SSE data of binary
 * messages and proxy Basic credentials all go through here.
 *
 * Encoding always pads.  Decoding is strict, the only kind any caller
 * needs: length a multiple of 4, only A-Z a-z 0-9 + /, '=' only as the last
 * one or two characters, and the bits the padding drops must be zero
 * (canonical form: every byte string has exactly one accepted spelling, so
 * decode-then-encode gives the input back).  No whitespace.  The URL-safe
 * alphabet (RFC 4648 §5) only unpadded, as JOSE writes it (RFC 7515 §2),
 * through the base64url functions.  Error code PW_EBASE64 (range
 * -700..-749, shared with json.h).
 */
#ifndef PW_BASE64_H
#define PW_BASE64_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "pw_err.h"

#define PW_BASE64_ERRORS(X) X(BASE64, -712, "RFC 4648 §4", "invalid base64")

enum { PW_BASE64_ERRORS(PW_ERR_ENUM) };

/* Characters of the encoding of n bytes: 4*ceil(n/3), or 0 when that does
 * not fit a size_t. */
size_t pw_base64_len(size_t n);

/* Encodes into out, NUL-terminated; returns the length (without the NUL), or
 * 0 with out[0] = 0 when outsz < pw_base64_len(n) + 1 (and 0 for n == 0). */
size_t pw_base64(const uint8_t *in, size_t n, char *out, size_t outsz);

/* Appends the encoding (no quotes, no NUL) to b.  0, or PW_ETOOBIG /
 * PW_ENOMEM with b unchanged. */
int pw_base64_append(struct pw_buf *b, const void *in, size_t n);

/* Decodes s[0..n) strictly (see above) into out[0..outsz).  Returns the
 * number of bytes, or PW_EBASE64 (out then holds garbage), or PW_ETOOBIG
 * when outsz is too small (out untouched).  out NULL only validates and
 * returns the length the bytes would have. */
ssize_t pw_base64_decode(const char *s, size_t n, uint8_t *out, size_t outsz);

/* Decodes s[0..n) strictly, appending the bytes to b.  0, PW_EBASE64 or a
 * buffer error; b is unchanged on error. */
int pw_base64_decode_append(struct pw_buf *b, const char *s, size_t n);

/* base64url without padding (RFC 4648 §5, RFC 7515 §2): '-' and '_' for
 * '+' and '/', no '='.  Appends the encoding to b: 0, or PW_ETOOBIG /
 * PW_ENOMEM with b unchanged. */
int pw_base64url_append(struct pw_buf *b, const void *in, size_t n);
/* Decodes s[0..n) strictly (A-Z a-z 0-9 - _ only, no '=', a length that is
 * not 1 more than a multiple of 4, zero bits where a group ends early),
 * appending the bytes to b.  0, PW_EBASE64 or a buffer error; b is unchanged
 * on error. */
int pw_base64url_decode_append(struct pw_buf *b, const char *s, size_t n);

#endif
