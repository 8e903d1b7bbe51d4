/* test_ws_mask.c — RFC 6455 §5.3 masking: every loop pw_ws_mask chooses
 * among (8-byte words, 16-byte vectors, 32-byte AVX2 vectors where the CPU
 * has them) against a byte loop, at every length 0..300, alignment 0..31
 * and key offset 0..7; the OR each returns (what tells ASCII) against the
 * bytes written; and the chosen loop (pw_ws_mask, pw_ws_unmask_ascii)
 * across the length where it switches to AVX2. */
#include <stdint.h>
#include <stdlib.h>

#include "tap.h"
#include "proto/ws_frame.h"

#define MAXLEN 300
#define ALIGNS 32
#define GUARD 40

static const char *const loop_name[PW_WS_MASK_NLOOPS] = {"word", "v16", "v32 (AVX2)"};

static uint8_t fill(size_t i, size_t seed)
{
    return (uint8_t)((i * 131 + seed * 7) ^ (i >> 3));
}

/* loop `l` against a byte loop: same bytes, nothing outside them touched,
 * and the OR of the written bytes returned */
static int same_as_bytes(int l, const uint8_t key[4])
{
    static uint8_t a[GUARD + ALIGNS + MAXLEN + GUARD], b[sizeof a];
    for (size_t align = 0; align < ALIGNS; align++)
        for (uint64_t off = 0; off < 8; off++)
            for (size_t len = 0; len <= MAXLEN; len++) {
                for (size_t i = 0; i < sizeof a; i++)
                    a[i] = b[i] = fill(i, len + align);
                uint8_t *p = a + GUARD + align, *q = b + GUARD + align, or = 0;
                uint8_t got = pw_ws_mask_with(l, p, len, key, off);
                for (size_t i = 0; i < len; i++) {
                    q[i] ^= key[(off + i) % 4];
                    or |= q[i];
                }
                if (memcmp(a, b, sizeof a) != 0 || got != or) {
                    printf("# %s: align %zu offset %llu length %zu differs\n", loop_name[l], align,
                           (unsigned long long)off, len);
                    return 0;
                }
            }
    return 1;
}

/* bit 7 of the OR is set exactly when one unmasked byte has it, wherever
 * that byte sits (the ASCII test fused into unmasking) */
static int tells_ascii(int l, const uint8_t key[4])
{
    uint8_t plain[MAXLEN], buf[MAXLEN + 1];
    for (size_t len = 0; len <= MAXLEN; len++)
        for (size_t hi = 0; hi <= len; hi++) { /* hi == len: no high byte */
            for (size_t i = 0; i < len; i++)
                plain[i] = (uint8_t)(fill(i, len) & 0x7F) | (i == hi ? 0x80 : 0);
            for (size_t i = 0; i < len; i++)
                buf[1 + i] = plain[i] ^ key[i % 4];
            uint8_t got = pw_ws_mask_with(l, buf + 1, len, key, 0); /* odd address */
            if ((got < 0x80) != (hi == len) || memcmp(buf + 1, plain, len) != 0) {
                printf("# %s: length %zu, high byte at %zu\n", loop_name[l], len, hi);
                return 0;
            }
        }
    return 1;
}

static void test_loops(void)
{
    static const uint8_t key[4] = {0x9d, 0x3e, 0x01, 0xc7};
    OK(pw_ws_mask_has(PW_WS_MASK_WORD) && pw_ws_mask_has(PW_WS_MASK_V16),
       "the word and 16-byte loops are always there");
    OK(!pw_ws_mask_has(PW_WS_MASK_NLOOPS) && !pw_ws_mask_has(-1), "no loop past the list");
    for (int l = 0; l < PW_WS_MASK_NLOOPS; l++) {
        /* a loop the CPU lacks falls back to the word loop: checked all the same */
        const char *there = pw_ws_mask_has(l) ? "" : " (not on this CPU: the word loop)";
        OK(same_as_bytes(l, key),
           "%s loop%s equals a byte loop at lengths 0..%d, alignments 0..%d, key offsets 0..7",
           loop_name[l], there, MAXLEN, ALIGNS - 1);
        OK(tells_ascii(l, key), "%s loop%s: the OR it returns says ASCII exactly when no byte has bit 7",
           loop_name[l], there);
    }
}

/* the loop pw_ws_mask picks, wherever it switches */
static void test_chosen(void)
{
    static const uint8_t key[4] = {0x12, 0x34, 0x56, 0x78};
    static uint8_t a[4200], b[4200];
    int same = 1, ascii_right = 1;
    for (size_t len = 0; len + 32 <= sizeof a; len += len < 600 ? 1 : 97)
        for (size_t align = 0; align < 32; align += len < 600 ? 31 : 1) {
            for (size_t i = 0; i < sizeof a; i++)
                a[i] = b[i] = fill(i, len) & 0x7F;
            pw_ws_mask(a + align, len, key, 3);
            for (size_t i = 0; i < len; i++)
                b[align + i] ^= key[(3 + i) % 4];
            if (memcmp(a, b, sizeof a) != 0)
                same = 0;
            /* b now holds ASCII masked from offset 0 */
            for (size_t i = 0; i < sizeof a; i++)
                a[i] = b[i] = fill(i, len) & 0x7F;
            pw_ws_mask(a + align, len, key, 0);
            if (!pw_ws_unmask_ascii(a + align, len, key) || memcmp(a, b, sizeof a) != 0)
                ascii_right = 0;
            if (len) {
                a[align + len - 1] ^= 0x80; /* the last byte, the one a tail loop sees */
                if (pw_ws_unmask_ascii(a + align, len, key))
                    ascii_right = 0;
            }
        }
    OK(same, "pw_ws_mask equals a byte loop up to 4 KiB, across the length it changes loops");
    OK(ascii_right, "pw_ws_unmask_ascii restores ASCII and tells it, and tells a high last byte");
    printf("# this CPU: %s\n", pw_ws_mask_has(PW_WS_MASK_V32) ? "AVX2 (v32 loop from 128 bytes)"
                                                              : "no AVX2 (v16 loop)");
}

int main(void)
{
    test_loops();
    test_chosen();
    return tap_done();
}
