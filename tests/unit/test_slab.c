/* test_slab.c — the slabs connections keep their long-lived pieces in
 * (server/slab.h): objects zeroed, distinct and kept intact while others
 * come and go, blocks filled before new ones are mapped, an emptied block
 * unmapped (one spare kept), strings by size class.  Under AddressSanitizer
 * the slab is plain calloc: the block counts are checked without it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/slab.h"
#include "tap.h"

#ifdef PW_SLAB_MALLOC
#define BLOCKS 0
#else
#define BLOCKS 1
#endif

#define N 5000
#define SZ 264 /* a connection's size today; any will do */

static uint32_t rnd = 12345;
static uint32_t next_rnd(void)
{
    rnd = rnd * 1103515245u + 12345u;
    return rnd >> 8;
}

int main(void)
{
    struct pw_slab s;
    pw_slab_init(&s, 261);
    IS(s.size, SZ, "size rounded up to a multiple of 8");
    OK(s.per_blk * s.size <= PW_SLAB_BLOCK && s.per_blk > 200, "a block holds %u objects", s.per_blk);

    static uint8_t *p[N];
    int zero = 1, aligned = 1;
    for (int i = 0; i < N; i++) {
        p[i] = pw_slab_alloc(&s);
        if (!p[i])
            break;
        for (int k = 0; k < SZ; k++)
            zero &= p[i][k] == 0;
        aligned &= ((uintptr_t)p[i] & 7) == 0;
        memset(p[i], (uint8_t)i, SZ);
    }
    OK(p[N - 1] != NULL, "%d objects", N);
    OK(zero, "every object comes zeroed");
    OK(aligned, "every object is 8-aligned");
    IS(s.live, N, "live counts them");
    IS(pw_slab_bytes(&s), (size_t)N * SZ, "pw_slab_bytes: objects out times size");
    if (BLOCKS)
        IS(s.nblk, (N + s.per_blk - 1) / s.per_blk, "blocks are filled before another is mapped");

    /* free a random half, allocate again: contents of the rest intact, the
     * new ones zeroed, no object handed out twice */
    int freed = 0;
    for (int i = 0; i < N; i++)
        if (next_rnd() & 1) {
            pw_slab_free(&s, p[i]);
            p[i] = NULL;
            freed++;
        }
    size_t nblk_half = s.nblk;
    for (int i = 0; i < N; i++)
        if (!p[i]) {
            p[i] = pw_slab_alloc(&s);
            zero = 1;
            for (int k = 0; k < SZ && p[i]; k++)
                zero &= p[i][k] == 0;
            if (p[i])
                memset(p[i], (uint8_t)i, SZ);
            if (!zero)
                break;
        }
    OK(zero, "objects reused after %d frees come zeroed", freed);
    if (BLOCKS)
        IS(s.nblk, nblk_half, "the freed room is used again: no new block");
    int intact = 1;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < SZ; k++)
            intact &= p[i][k] == (uint8_t)i;
    OK(intact, "no object was handed out twice: each keeps what was written to it");

    /* free everything: blocks go back but one spare */
    for (int i = 0; i < N; i++)
        pw_slab_free(&s, p[i]);
    IS(s.live, 0, "all returned");
    if (BLOCKS)
        IS(s.nblk, 1, "emptied blocks are unmapped, one kept as the spare");
    uint8_t *q = pw_slab_alloc(&s);
    OK(q && q[0] == 0 && q[SZ - 1] == 0, "the spare serves the next object, zeroed");
    if (BLOCKS)
        IS(s.nblk, 1, "from the spare: nothing mapped");
    pw_slab_free(&s, q);
    pw_slab_free(&s, NULL);
    pw_slab_fini(&s);
    IS(s.nblk, 0, "fini unmaps everything");

    /* fini with objects still out (full and partial blocks) */
    pw_slab_init(&s, 100);
    for (int i = 0; i < N; i++)
        p[i] = pw_slab_alloc(&s);
    for (int i = 0; i < N; i += 3)
        pw_slab_free(&s, p[i]);
    pw_slab_fini(&s);
    IS(s.nblk, 0, "fini unmaps full and partial blocks alike");
    if (!BLOCKS) /* calloc'd objects are freed by their owner, as a server does */
        for (int i = 0; i < N; i++)
            if (i % 3)
                free(p[i]);

    /* an object bigger than a block is refused, not carved past its end */
    if (BLOCKS) {
        pw_slab_init(&s, PW_SLAB_BLOCK);
        OK(pw_slab_alloc(&s) == NULL && s.nblk == 0, "an object bigger than a block: NULL, nothing mapped");
        pw_slab_fini(&s);
    }

    /* strings */
    struct pw_strslab ss;
    pw_strslab_init(&ss);
    static const char *const names[] = {"", "a", "fifteen-chars-x", "sixteen-chars-xx", "chat/room-42",
                                        "a name of exactly sixty-three characters, to fill the class....",
                                        "a name of sixty-four characters or more goes to malloc, not a slab"};
    char *cp[7];
    for (int i = 0; i < 7; i++) {
        cp[i] = pw_strslab_dup(&ss, names[i], strlen(names[i]));
        OK(cp[i] && strcmp(cp[i], names[i]) == 0, "dup \"%.20s\" (%zu chars)", names[i], strlen(names[i]));
    }
    char *cut = pw_strslab_dup(&ss, "abc\0def", 7);
    OK(cut && strcmp(cut, "abc") == 0, "a NUL inside ends the copy, as strndup");
    IS(pw_strslab_bytes(&ss), 16 * 5 + 32 + 64, "bytes by class: 16 x5 (with \"abc\"), 32, 64; the long one not");
    for (int i = 0; i < 7; i++)
        pw_strslab_free(&ss, cp[i]);
    pw_strslab_free(&ss, cut);
    pw_strslab_free(&ss, NULL);
    IS(pw_strslab_bytes(&ss), 0, "all strings returned to their class");
    pw_strslab_fini(&ss);
    return tap_done();
}
