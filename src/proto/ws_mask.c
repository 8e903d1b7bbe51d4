/* ws_mask.c — RFC 6455 §5.3 masking (see ws_frame.h): the payload XOR the
 * 4-byte key, in one of three loops of the same result:
 *   word  8 bytes at a time (any CPU; the reference the others are tested
 *         against besides a byte loop),
 *   v16   16-byte vectors, 64 bytes a turn (GCC and clang vector extension:
 *         SSE2 on x86-64, NEON on arm64, plain words elsewhere),
 *   v32   32-byte AVX2 vectors, 128 bytes a turn, on x86-64 CPUs that have
 *         AVX2 (asked at run time: the binary still runs on any x86-64).
 * Each returns the OR of the words it wrote, so a caller learns in the same
 * pass whether an unmasked payload is all ASCII (bit 7 clear everywhere).
 * Loads and stores go through memcpy: unaligned is fine and cheap on the
 * targets we build for, and an alignment prologue cost more than it saved
 * on small frames. */
#include "ws_frame.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define PW__HAVE_V32 1
#else
#define PW__HAVE_V32 0
#endif

typedef uint64_t pw__v16 __attribute__((vector_size(16)));

/* A payload this long or longer goes to the AVX2 loop: below it the v16
 * loop does the same in as few instructions. */
#define PW__V32_MIN 128

#define PW__HIGH8 0x8080808080808080ULL

/* The key lined up for the byte at payload offset `offset` (a byte rotation
 * of its 4 bytes), twice in a word. */
static uint64_t pw__key_word(const uint8_t key[4], uint64_t offset)
{
    uint32_t k;
    memcpy(&k, key, 4);
    unsigned sh = (unsigned)(offset & 3) * 8;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    k = sh ? k >> sh | k << (32 - sh) : k;
#else
    k = sh ? k << sh | k >> (32 - sh) : k;
#endif
    return (uint64_t)k << 32 | k;
}

/* The last bytes, from i (a multiple of 8 from the start, so w still lines
 * up): 8 at a time, then one by one.  Returns acc ORed with every word and
 * byte it wrote (a byte's bit 7 stays a bit 7: ASCII is acc & PW__HIGH8 == 0).
 * Inlined: for a small frame a call and its set-up cost as much as the work. */
static inline __attribute__((always_inline)) uint64_t
pw__mask_tail(uint8_t *buf, size_t i, size_t len, uint64_t w, uint64_t acc)
{
    for (; len - i >= 8; i += 8) {
        uint64_t v;
        memcpy(&v, buf + i, 8);
        v ^= w;
        memcpy(buf + i, &v, 8);
        acc |= v;
    }
    uint8_t k8[8];
    memcpy(k8, &w, 8);
    for (size_t t = 0; i + t < len; t++) {
        buf[i + t] ^= k8[t];
        acc |= buf[i + t];
    }
    return acc;
}

static uint64_t pw__mask_word(uint8_t *buf, size_t len, uint64_t w)
{
    return pw__mask_tail(buf, 0, len, w, 0);
}

/* 64 bytes a turn, then 16, then the tail */
static inline __attribute__((always_inline)) uint64_t pw__mask_v16(uint8_t *buf, size_t len, uint64_t w)
{
    size_t i = 0;
    pw__v16 w2 = {w, w}, acc2 = {0, 0};
    for (; len - i >= 64; i += 64) {
        pw__v16 a, b, c, d;
        memcpy(&a, buf + i, 16);
        memcpy(&b, buf + i + 16, 16);
        memcpy(&c, buf + i + 32, 16);
        memcpy(&d, buf + i + 48, 16);
        a ^= w2, b ^= w2, c ^= w2, d ^= w2;
        memcpy(buf + i, &a, 16);
        memcpy(buf + i + 16, &b, 16);
        memcpy(buf + i + 32, &c, 16);
        memcpy(buf + i + 48, &d, 16);
        acc2 |= a | b | c | d;
    }
    for (; len - i >= 16; i += 16) {
        pw__v16 v;
        memcpy(&v, buf + i, 16);
        v ^= w2;
        memcpy(buf + i, &v, 16);
        acc2 |= v;
    }
    return pw__mask_tail(buf, i, len, w, acc2[0] | acc2[1]);
}

#if PW__HAVE_V32
typedef uint64_t pw__v32 __attribute__((vector_size(32)));

/* 128 bytes a turn, then 32, then the tail.  Only called when the CPU has
 * AVX2; the compiler may use it in this function alone. */
__attribute__((target("avx2"))) static uint64_t pw__mask_v32(uint8_t *buf, size_t len, uint64_t w)
{
    size_t i = 0;
    pw__v32 w4 = {w, w, w, w}, acc4 = {0, 0, 0, 0};
    for (; len - i >= 128; i += 128) {
        pw__v32 a, b, c, d;
        memcpy(&a, buf + i, 32);
        memcpy(&b, buf + i + 32, 32);
        memcpy(&c, buf + i + 64, 32);
        memcpy(&d, buf + i + 96, 32);
        a ^= w4, b ^= w4, c ^= w4, d ^= w4;
        memcpy(buf + i, &a, 32);
        memcpy(buf + i + 32, &b, 32);
        memcpy(buf + i + 64, &c, 32);
        memcpy(buf + i + 96, &d, 32);
        acc4 |= a | b | c | d;
    }
    for (; len - i >= 32; i += 32) {
        pw__v32 v;
        memcpy(&v, buf + i, 32);
        v ^= w4;
        memcpy(buf + i, &v, 32);
        acc4 |= v;
    }
    return pw__mask_tail(buf, i, len, w, acc4[0] | acc4[1] | acc4[2] | acc4[3]);
}

/* libgcc (or compiler-rt) fills in what the CPU has before main, in a
 * constructor: reading it here is a load, and safe from any thread. */
static int pw__has_avx2(void)
{
    return __builtin_cpu_supports("avx2");
}
#endif

int pw_ws_mask_has(int loop)
{
    switch (loop) {
    case PW_WS_MASK_WORD:
    case PW_WS_MASK_V16:
        return 1;
#if PW__HAVE_V32
    case PW_WS_MASK_V32:
        return pw__has_avx2();
#endif
    default:
        return 0;
    }
}

/* the OR of a loop's words, as the OR of its bytes */
static uint8_t pw__fold(uint64_t acc)
{
    acc |= acc >> 32;
    acc |= acc >> 16;
    acc |= acc >> 8;
    return (uint8_t)acc;
}

uint8_t pw_ws_mask_with(int loop, uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset)
{
    uint64_t w = pw__key_word(key, offset);
    switch (loop) {
    case PW_WS_MASK_V16:
        return pw__fold(pw__mask_v16(buf, len, w));
#if PW__HAVE_V32
    case PW_WS_MASK_V32:
        if (pw__has_avx2())
            return pw__fold(pw__mask_v32(buf, len, w));
        break;
#endif
    default:
        break;
    }
    return pw__fold(pw__mask_word(buf, len, w));
}

/* The loop for this payload: AVX2 when it is long enough and the CPU has
 * it.  Inlined into both callers, as is the 16-byte loop: a 32-byte echo
 * spends no more on its unmasking than on the copy it needs anyway. */
static inline __attribute__((always_inline)) uint64_t pw__mask(uint8_t *buf, size_t len,
                                                               const uint8_t key[4], uint64_t offset)
{
    uint64_t w = pw__key_word(key, offset);
#if PW__HAVE_V32
    if (len >= PW__V32_MIN && pw__has_avx2())
        return pw__mask_v32(buf, len, w);
#endif
    return pw__mask_v16(buf, len, w);
}

void pw_ws_mask(uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset)
{
    pw__mask(buf, len, key, offset);
}

int pw_ws_unmask_ascii(uint8_t *buf, size_t len, const uint8_t key[4])
{
    return (pw__mask(buf, len, key, 0) & PW__HIGH8) == 0;
}
