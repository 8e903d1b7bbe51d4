/* test_utf8.c — fail-fast streaming UTF-8 validation (src/utf8.h). */
#include <stdint.h>
#include <stdlib.h>

#include "tap.h"
#include "proto/utf8.h"

/* Validates p[0..n) in one go; returns the result and the bad offset. */
static int whole(const uint8_t *p, size_t n, size_t *bad)
{
    struct pw_utf8 u;
    pw_utf8_init(&u);
    *bad = (size_t)-1;
    return pw_utf8_feed(&u, p, n, bad);
}

/* Same, split into pieces at a and b (a <= b <= n); bad is global. */
static int split3(const uint8_t *p, size_t n, size_t a, size_t b, size_t *bad)
{
    struct pw_utf8 u;
    size_t cut[4] = {0, a, b, n};
    int r = PW_UTF8_OK;
    pw_utf8_init(&u);
    *bad = (size_t)-1;
    for (int i = 0; i < 3; i++) {
        size_t at;
        r = pw_utf8_feed(&u, p + cut[i], cut[i + 1] - cut[i], &at);
        if (r == PW_UTF8_BAD) {
            *bad = cut[i] + at;
            return r;
        }
    }
    return r;
}

/* Every split (one and two cuts) gives the same answer as no split. */
static int splits_agree(const uint8_t *p, size_t n)
{
    size_t bad0, bad;
    int r0 = whole(p, n, &bad0);
    for (size_t a = 0; a <= n; a++)
        for (size_t b = a; b <= n; b++) {
            int r = split3(p, n, a, b, &bad);
            if (r != r0 || (r == PW_UTF8_BAD && bad != bad0))
                return 0;
        }
    return 1;
}

struct vec {
    const char *name;
    const char *bytes;
    size_t len;
    int result;
    size_t bad_at;
};

#define V(name, s, res, at) {name, s, sizeof(s) - 1, res, at}

static const struct vec vecs[] = {
    V("empty", "", PW_UTF8_OK, 0),
    V("ascii", "Hello, world", PW_UTF8_OK, 0),
    V("U+0000", "\x00", PW_UTF8_OK, 0),
    V("U+007F", "\x7F", PW_UTF8_OK, 0),
    V("U+0080", "\xC2\x80", PW_UTF8_OK, 0),
    V("U+07FF", "\xDF\xBF", PW_UTF8_OK, 0),
    V("U+0800", "\xE0\xA0\x80", PW_UTF8_OK, 0),
    V("U+D7FF", "\xED\x9F\xBF", PW_UTF8_OK, 0),
    V("U+E000", "\xEE\x80\x80", PW_UTF8_OK, 0),
    V("U+FFFF", "\xEF\xBF\xBF", PW_UTF8_OK, 0),
    V("U+10000", "\xF0\x90\x80\x80", PW_UTF8_OK, 0),
    V("U+10FFFF", "\xF4\x8F\xBF\xBF", PW_UTF8_OK, 0),
    V("valid 4-byte emoji in text", "a\xF0\x9F\x98\x80z", PW_UTF8_OK, 0),
    V("kosme", "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5", PW_UTF8_OK, 0),
    V("overlong C0 80", "\xC0\x80", PW_UTF8_BAD, 0),
    V("overlong C1 BF", "\xC1\xBF", PW_UTF8_BAD, 0),
    V("overlong E0 80 80", "\xE0\x80\x80", PW_UTF8_BAD, 1),
    V("overlong E0 9F BF", "\xE0\x9F\xBF", PW_UTF8_BAD, 1),
    V("overlong F0 80 80 80", "\xF0\x80\x80\x80", PW_UTF8_BAD, 1),
    V("overlong F0 8F BF BF", "\xF0\x8F\xBF\xBF", PW_UTF8_BAD, 1),
    V("surrogate ED A0 80", "\xED\xA0\x80", PW_UTF8_BAD, 1),
    V("surrogate ED BF BF", "\xED\xBF\xBF", PW_UTF8_BAD, 1),
    V("surrogate pair", "\xED\xA0\x80\xED\xB0\x80", PW_UTF8_BAD, 1),
    V("F4 90 80 80 > U+10FFFF", "\xF4\x90\x80\x80", PW_UTF8_BAD, 1),
    V("F5 lead", "\xF5\x80\x80\x80", PW_UTF8_BAD, 0),
    V("FE", "\xFE", PW_UTF8_BAD, 0),
    V("FF", "\xFF", PW_UTF8_BAD, 0),
    V("lone continuation", "ab\x80", PW_UTF8_BAD, 2),
    V("2-byte cut by ascii", "\xC2" "a", PW_UTF8_BAD, 1),
    V("3-byte cut by ascii", "\xE2\x82" "a", PW_UTF8_BAD, 2),
    V("4-byte cut by new lead", "\xF0\x9F\x98\xF0", PW_UTF8_BAD, 3),
    V("truncated 2-byte", "\xC2", PW_UTF8_PARTIAL, 0),
    V("truncated 3-byte", "a\xE2\x82", PW_UTF8_PARTIAL, 0),
    V("truncated 4-byte", "\xF0\x9F\x98", PW_UTF8_PARTIAL, 0),
    V("error after valid text, fail fast before the end",
      "\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5\xF4\x90\x80\x80\x65\x64\x69\x74\x65\x64",
      PW_UTF8_BAD, 12),
};

static void test_vectors(void)
{
    for (size_t i = 0; i < sizeof vecs / sizeof vecs[0]; i++) {
        const struct vec *v = &vecs[i];
        size_t bad;
        int r = whole((const uint8_t *)v->bytes, v->len, &bad);
        IS(r, v->result, "%s: result", v->name);
        if (v->result == PW_UTF8_BAD)
            IS(bad, v->bad_at, "%s: fails at byte %zu", v->name, v->bad_at);
        IS(pw_utf8_valid((const uint8_t *)v->bytes, v->len), v->result == PW_UTF8_OK,
           "%s: pw_utf8_valid", v->name);
        OK(splits_agree((const uint8_t *)v->bytes, v->len),
           "%s: same result split anywhere", v->name);
    }
}

static void test_partial_then_complete(void)
{
    struct pw_utf8 u;
    size_t bad;
    pw_utf8_init(&u);
    IS(pw_utf8_feed(&u, (const uint8_t *)"\xE2", 1, &bad), PW_UTF8_PARTIAL, "E2: partial");
    IS(pw_utf8_feed(&u, (const uint8_t *)"\x82", 1, &bad), PW_UTF8_PARTIAL, "E2 82: partial");
    IS(pw_utf8_feed(&u, (const uint8_t *)"\xAC", 1, &bad), PW_UTF8_OK, "E2 82 AC: complete euro sign");
    IS(pw_utf8_feed(&u, (const uint8_t *)"\xF0", 1, &bad), PW_UTF8_PARTIAL, "F0: partial");
    IS(pw_utf8_feed(&u, (const uint8_t *)"\x80", 1, &bad), PW_UTF8_BAD, "F0 then 80 fails at once");
    IS(bad, 0, "  at offset 0 of that call");
    IS(pw_utf8_feed(&u, (const uint8_t *)"a", 1, &bad), PW_UTF8_BAD, "bad is sticky");
    IS(pw_utf8_feed(&u, (const uint8_t *)"", 0, &bad), PW_UTF8_BAD, "bad is sticky on empty input");
}

/* The word-at-a-time path must find a bad byte at every position and
 * alignment, and accept long ASCII. */
static void test_fast_path_positions(void)
{
    uint8_t buf[200 + 16];
    int all = 1, ascii_ok = 1;
    for (size_t align = 0; align < 8; align++) {
        uint8_t *p = buf + align;
        memset(p, 'x', 200);
        size_t bad;
        if (whole(p, 200, &bad) != PW_UTF8_OK)
            ascii_ok = 0;
        for (size_t pos = 0; pos < 200; pos++) {
            p[pos] = 0x80;
            if (whole(p, 200, &bad) != PW_UTF8_BAD || bad != pos)
                all = 0;
            p[pos] = 0xC3; /* valid lead followed by 'x': bad at pos + 1 */
            int r = whole(p, 200, &bad);
            if (pos + 1 < 200 ? (r != PW_UTF8_BAD || bad != pos + 1) : r != PW_UTF8_PARTIAL)
                all = 0;
            p[pos] = 'x';
        }
    }
    OK(ascii_ok, "200 ASCII bytes valid at every alignment");
    OK(all, "a bad byte is found at its exact offset at every position and alignment");
}

/* Reference: decode one complete sequence by the RFC 3629 definition. */
static int ref_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint32_t c = p[i], need, min;
        if (c < 0x80) { i++; continue; }
        else if ((c & 0xE0) == 0xC0) need = 1, c &= 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0) need = 2, c &= 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0) need = 3, c &= 0x07, min = 0x10000;
        else return 0;
        if (n - i - 1 < need)
            return 0;
        for (uint32_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return 0;
            c = c << 6 | (p[i + k] & 0x3F);
        }
        if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
            return 0;
        i += need + 1;
    }
    return 1;
}

static void test_exhaustive(void)
{
    uint8_t b[4];
    int agree = 1;
    for (unsigned x = 0; x < 0x10000; x++) {
        b[0] = (uint8_t)(x >> 8), b[1] = (uint8_t)x;
        if (pw_utf8_valid(b, 2) != ref_valid(b, 2))
            agree = 0;
    }
    OK(agree, "every 2-byte string agrees with the RFC 3629 definition");
    agree = 1;
    for (unsigned x = 0; x < 0x1000000; x++) {
        b[0] = (uint8_t)(x >> 16), b[1] = (uint8_t)(x >> 8), b[2] = (uint8_t)x;
        if (b[0] < 0xC0 && b[0] >= 0x80)
            continue;
        if (pw_utf8_valid(b, 3) != ref_valid(b, 3))
            agree = 0;
    }
    OK(agree, "every 3-byte string agrees with the RFC 3629 definition");
    agree = 1;
    for (unsigned lead = 0xF0; lead <= 0xF7; lead++)
        for (unsigned x = 0; x < 0x1000000; x += 7) {
            b[0] = (uint8_t)lead, b[1] = (uint8_t)(x >> 16), b[2] = (uint8_t)(x >> 8), b[3] = (uint8_t)x;
            if (pw_utf8_valid(b, 4) != ref_valid(b, 4))
                agree = 0;
        }
    OK(agree, "4-byte strings led by F0..F7 agree with the RFC 3629 definition");
}

/* Result and bad offset fed one byte at a time (the byte-wise automaton
 * only) must equal those of one call (which checks whole sequences at once
 * when 4 bytes are in view). */
static int bytewise_agrees(const uint8_t *p, size_t n)
{
    struct pw_utf8 u;
    size_t bad0 = (size_t)-1, bad = (size_t)-1, at;
    int r0 = whole(p, n, &bad0), r = PW_UTF8_OK;
    pw_utf8_init(&u);
    for (size_t i = 0; i < n; i++) {
        r = pw_utf8_feed(&u, p + i, 1, &at);
        if (r == PW_UTF8_BAD) {
            bad = i;
            break;
        }
    }
    if (n == 0)
        r = PW_UTF8_OK;
    return r == r0 && (r != PW_UTF8_BAD || bad == bad0);
}

static void test_whole_sequence_path(void)
{
    uint8_t b[8];
    int agree = 1;
    for (unsigned x = 0; x < 0x400000; x++) {
        b[0] = (uint8_t)(0xC0 | x >> 16), b[1] = (uint8_t)(x >> 8), b[2] = (uint8_t)x;
        memcpy(b + 3, "abcde", 5);
        for (size_t n = 4; n <= 8; n += 4)
            if (!bytewise_agrees(b, n) || pw_utf8_valid(b, n) != ref_valid(b, n))
                agree = 0;
    }
    OK(agree, "every lead C0..FF with 2 more bytes, padded to 4 and 8: one call agrees with byte-wise and RFC 3629");
    agree = 1;
    uint32_t x = 12345;
    uint8_t r[64];
    for (int t = 0; t < 200000; t++) {
        for (size_t i = 0; i < sizeof r; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            /* mostly plausible UTF-8 pieces, some noise */
            static const uint8_t pick[] = {'a', 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80,
                                           0xED, 0xA0, 0xF4, 0x90, 0xE0, 0x80, 0xBF, 0xC0, 0xFF, ' '};
            r[i] = pick[x % sizeof pick];
        }
        if (!bytewise_agrees(r, 1 + x % sizeof r))
            agree = 0;
    }
    OK(agree, "200000 random UTF-8-ish strings: one call agrees with byte-wise (result and bad offset)");
}

/* pw_utf8_cut: at most max bytes, never ending inside a sequence */
static void test_cut(void)
{
    const uint8_t *s = (const uint8_t *)"ab\xe2\x82\xac" "c"; /* a b € c */
    IS(pw_utf8_cut(s, 6, 6), 6, "cut: short enough is kept whole");
    IS(pw_utf8_cut(s, 6, 5), 5, "cut: after the whole euro sign");
    IS(pw_utf8_cut(s, 6, 4), 2, "cut: inside the euro sign steps back before it");
    IS(pw_utf8_cut(s, 6, 3), 2, "cut: right after its first byte too");
    IS(pw_utf8_cut(s, 6, 2), 2, "cut: before it");
    IS(pw_utf8_cut((const uint8_t *)"\xc3\xa9", 2, 1), 0, "cut: nothing left of a 2-byte sequence");
    IS(pw_utf8_cut(s, 6, 0), 0, "cut: max 0");
}

int main(void)
{
    test_cut();
    test_whole_sequence_path();
    test_vectors();
    test_partial_then_complete();
    test_fast_path_positions();
    test_exhaustive();
    return tap_done();
}
