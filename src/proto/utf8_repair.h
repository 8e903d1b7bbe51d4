/* utf8_repair.h — decode one code point the way a browser does (WHATWG
 * Encoding, "UTF-8 decoder"), for writers that must replace rather than
 * reject invalid UTF-8 (json.c, sse.c).
 *
 * pw__u8_next(p, n, &cp) decodes at p[0..n), n >= 1, and returns the number
 * of bytes consumed (>= 1).  For ill-formed input *cp is U+FFFD and the bytes
 * consumed are the maximal subpart: the lead byte and the continuation bytes
 * that were still possible, so the byte that broke the sequence is decoded
 * afresh next time (one U+FFFD per maximal ill-formed subsequence).  A
 * sequence cut short by the end of the input is one U+FFFD too.
 */
#ifndef PW_UTF8_REPAIR_H
#define PW_UTF8_REPAIR_H

#include <stddef.h>
#include <stdint.h>

static inline size_t pw__u8_next(const uint8_t *p, size_t n, uint32_t *cp)
{
    uint8_t c = p[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    size_t need;
    uint32_t v;
    uint8_t lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1, v = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2, v = c & 0x0F;
        if (c == 0xE0) lo = 0xA0; /* no overlongs */
        if (c == 0xED) hi = 0x9F; /* no surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3, v = c & 0x07;
        if (c == 0xF0) lo = 0x90; /* no overlongs */
        if (c == 0xF4) hi = 0x8F; /* <= U+10FFFF */
    } else {
        *cp = 0xFFFD;
        return 1;
    }
    size_t i = 1;
    for (; i <= need; i++) {
        if (i >= n || p[i] < lo || p[i] > hi) {
            *cp = 0xFFFD;
            return i;
        }
        v = (v << 6) | (p[i] & 0x3F);
        lo = 0x80, hi = 0xBF;
    }
    *cp = v;
    return i;
}

/* Length of the valid UTF-8 prefix of p[0..n) that needs no repair. */
static inline size_t pw__u8_valid_prefix(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (p[i] < 0x80) {
            i++;
            continue;
        }
        uint32_t cp;
        size_t k = pw__u8_next(p + i, n - i, &cp);
        if (cp == 0xFFFD && !(k == 3 && p[i] == 0xEF && p[i + 1] == 0xBF && p[i + 2] == 0xBD))
            break;
        i += k;
    }
    return i;
}

#endif
