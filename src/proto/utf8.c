/* utf8.c — fail-fast streaming UTF-8 validation (see utf8.h).
 *
 * A small explicit automaton: each state says which range the next byte must
 * fall in and where it leads.  The ranges encode RFC 3629's table 3.9, so
 * overlongs (E0 80.., F0 80..), surrogates (ED A0..) and code points above
 * U+10FFFF (F4 90.., F5..) fail at the byte that makes them impossible.
 */
#include "utf8.h"

#include <string.h>

enum {
    U_ACCEPT = 0,
    U_C1,  /* one continuation byte 80..BF left */
    U_C2,  /* two left */
    U_C3,  /* three left */
    U_E0,  /* after E0: A0..BF, then one more */
    U_ED,  /* after ED: 80..9F (no surrogates), then one more */
    U_F0,  /* after F0: 90..BF, then two more */
    U_F4,  /* after F4: 80..8F (<= U+10FFFF), then two more */
    U_BAD,
};

static const struct {
    uint8_t lo, hi, next;
} pw__ucont[U_BAD] = {
    [U_C1] = {0x80, 0xBF, U_ACCEPT},
    [U_C2] = {0x80, 0xBF, U_C1},
    [U_C3] = {0x80, 0xBF, U_C2},
    [U_E0] = {0xA0, 0xBF, U_C1},
    [U_ED] = {0x80, 0x9F, U_C1},
    [U_F0] = {0x90, 0xBF, U_C2},
    [U_F4] = {0x80, 0x8F, U_C2},
};

static uint32_t pw__ulead(uint8_t b)
{
    if (b < 0x80)
        return U_ACCEPT;
    if (b < 0xC2) /* stray continuation, or C0/C1 (always overlong) */
        return U_BAD;
    if (b < 0xE0)
        return U_C1;
    if (b == 0xE0)
        return U_E0;
    if (b == 0xED)
        return U_ED;
    if (b < 0xF0)
        return U_C2;
    if (b == 0xF0)
        return U_F0;
    if (b < 0xF4)
        return U_C3;
    if (b == 0xF4)
        return U_F4;
    return U_BAD; /* F5..FF */
}

#define PW__HIGH8 0x8080808080808080ULL

/* 16 bytes as one value (GCC and clang vector extension: SSE2 on x86-64,
 * NEON on arm64, plain words elsewhere) */
typedef uint64_t pw__v16 __attribute__((vector_size(16)));

static int pw__cont(uint8_t b)
{
    return (b & 0xC0) == 0x80;
}

/* A valid 2-byte sequence at p (2 bytes readable): C2..DF 80..BF */
static int pw__seq2(const uint8_t *p)
{
    return (uint8_t)(p[0] - 0xC2) <= 0xDF - 0xC2 && pw__cont(p[1]);
}

/* A valid 3-byte sequence led by E1..EC or EE..EF (3 bytes readable): any
 * two continuation bytes follow those (E0 and ED have narrower ranges) */
static int pw__seq3(const uint8_t *p)
{
    return (p[0] & 0xF0) == 0xE0 && p[0] != 0xE0 && p[0] != 0xED && pw__cont(p[1]) && pw__cont(p[2]);
}

/* Length of the valid multi-byte sequence at p (4 bytes readable), or 0. */
static size_t pw__whole_seq(const uint8_t *p)
{
    uint8_t b = p[0];
    if (b >= 0xC2 && b <= 0xDF)
        return pw__cont(p[1]) ? 2 : 0;
    if (b >= 0xE0 && b <= 0xEF) {
        uint8_t lo = b == 0xE0 ? 0xA0 : 0x80, hi = b == 0xED ? 0x9F : 0xBF;
        return p[1] >= lo && p[1] <= hi && pw__cont(p[2]) ? 3 : 0;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        uint8_t lo = b == 0xF0 ? 0x90 : 0x80, hi = b == 0xF4 ? 0x8F : 0xBF;
        return p[1] >= lo && p[1] <= hi && pw__cont(p[2]) && pw__cont(p[3]) ? 4 : 0;
    }
    return 0;
}

int pw_utf8_feed(struct pw_utf8 *u, const uint8_t *p, size_t n, size_t *bad_at)
{
    uint32_t s = u->state;
    size_t i = 0;

    if (s == U_BAD) {
        if (bad_at)
            *bad_at = 0;
        return PW_UTF8_BAD;
    }
    while (i < n) {
        if (s == U_ACCEPT) {
            if (p[i] < 0x80) {
                /* ASCII fast path: 64 bytes, then 16, then 8, at a time */
                while (n - i >= 64) {
                    pw__v16 a, b, c, d;
                    memcpy(&a, p + i, 16);
                    memcpy(&b, p + i + 16, 16);
                    memcpy(&c, p + i + 32, 16);
                    memcpy(&d, p + i + 48, 16);
                    a |= b | c | d;
                    if ((a[0] | a[1]) & PW__HIGH8)
                        break;
                    i += 64;
                }
                while (n - i >= 16) {
                    pw__v16 a;
                    memcpy(&a, p + i, 16);
                    if ((a[0] | a[1]) & PW__HIGH8)
                        break;
                    i += 16;
                }
                while (n - i >= 8) {
                    uint64_t w;
                    memcpy(&w, p + i, 8);
                    if (w & PW__HIGH8) {
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
                        /* straight to the first byte >= 0x80 (text with
                         * a few accents leaves ASCII every few words) */
                        i += (size_t)__builtin_ctzll(w & PW__HIGH8) >> 3;
#endif
                        break;
                    }
                    i += 8;
                }
                while (i < n && p[i] < 0x80)
                    i++;
                if (i == n)
                    break;
            }
            /* a run of 2-byte characters (Latin accents, Greek, Cyrillic,
             * Hebrew, Arabic) or of 3-byte ones outside E0 and ED (most of
             * the BMP: CJK, Indic), in a tight loop; anything else goes on
             * below */
            if (n - i >= 2 && pw__seq2(p + i)) {
                do
                    i += 2;
                while (n - i >= 2 && pw__seq2(p + i));
                continue;
            }
            if (n - i >= 3 && pw__seq3(p + i)) {
                do
                    i += 3;
                while (n - i >= 3 && pw__seq3(p + i));
                continue;
            }
            /* a whole multi-byte sequence in view: check it in one go;
             * anything else (errors, a sequence cut by the end of input)
             * goes byte by byte below so the bad byte is found exactly */
            if (n - i >= 4) {
                size_t k = pw__whole_seq(p + i);
                if (k) {
                    i += k;
                    continue;
                }
            }
            s = pw__ulead(p[i]);
        } else {
            uint8_t b = p[i];
            s = (b >= pw__ucont[s].lo && b <= pw__ucont[s].hi) ? pw__ucont[s].next : U_BAD;
        }
        if (s == U_BAD) {
            u->state = U_BAD;
            if (bad_at)
                *bad_at = i;
            return PW_UTF8_BAD;
        }
        i++;
    }
    u->state = s;
    return s == U_ACCEPT ? PW_UTF8_OK : PW_UTF8_PARTIAL;
}

size_t pw_utf8_cut(const uint8_t *p, size_t n, size_t max)
{
    if (n <= max)
        return n;
    while (max && (p[max] & 0xc0) == 0x80)
        max--; /* p[max] is the first byte cut: it must start a sequence */
    return max;
}

int pw_utf8_valid(const uint8_t *p, size_t n)
{
    struct pw_utf8 u;
    pw_utf8_init(&u);
    return pw_utf8_feed(&u, p, n, NULL) == PW_UTF8_OK;
}
