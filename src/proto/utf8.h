/* utf8.h — streaming UTF-8 validation that fails fast (RFC 3629 / RFC 6455
 * §8.1): a sequence is rejected at the first byte that cannot begin or
 * continue a valid one (overlongs, surrogates U+D800..DFFF, > U+10FFFF), not
 * at the end of the message.  State lives in the caller; input may be split at
 * any byte, including inside a code point.
 */
#ifndef PW_UTF8_H
#define PW_UTF8_H

#include <stddef.h>
#include <stdint.h>

struct pw_utf8 {
    uint32_t state; /* 0 = between code points (accept state) */
};

enum { PW_UTF8_OK = 0, PW_UTF8_PARTIAL = 1, PW_UTF8_BAD = -1 };

static inline void pw_utf8_init(struct pw_utf8 *u) { u->state = 0; }

/* Validates n more bytes.  Returns PW_UTF8_OK when the text so far ends on a
 * code point boundary, PW_UTF8_PARTIAL when it ends inside one, PW_UTF8_BAD
 * at the first impossible byte (then *bad_at, if not NULL, is its offset in p;
 * the state is sticky-bad).  Word-at-a-time fast path for ASCII. */
int pw_utf8_feed(struct pw_utf8 *u, const uint8_t *p, size_t n, size_t *bad_at);

/* Whole-buffer convenience: 1 if p[0..n) is complete valid UTF-8. */
int pw_utf8_valid(const uint8_t *p, size_t n);

/* The length to keep of n bytes of UTF-8 so that it is at most max and
 * does not end inside a sequence (a close reason's 123 bytes, say): n when
 * n <= max, else max stepped back over continuation bytes. */
size_t pw_utf8_cut(const uint8_t *p, size_t n, size_t max);

#endif
