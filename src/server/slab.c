/* slab.c — see slab.h. */
#include "slab.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct pw_slab_blk {
    struct pw_slab_blk *next, *prev; /* on the slab's partial or full list */
    void *free;                      /* freed objects, linked through their first word */
    uint32_t live;                   /* objects out */
    uint32_t carved;                 /* objects ever cut from the block: the pages past
                                        them were never touched (not resident) */
    uint32_t full;                   /* on the full list (else the partial one) */
};

/* where the objects start: the header, rounded to 16 */
#define BLK_HEAD ((sizeof(struct pw_slab_blk) + 15) & ~(size_t)15)

void pw_slab_init(struct pw_slab *s, size_t size)
{
    memset(s, 0, sizeof *s);
    if (size < sizeof(void *))
        size = sizeof(void *);
    s->size = (uint32_t)((size + 7) & ~(size_t)7);
    s->per_blk = (uint32_t)((PW_SLAB_BLOCK - BLK_HEAD) / s->size);
}

#ifdef PW_SLAB_MALLOC

void *pw_slab_alloc(struct pw_slab *s)
{
    void *p = calloc(1, s->size);
    if (p)
        s->live++;
    return p;
}

void pw_slab_free(struct pw_slab *s, void *p)
{
    if (!p)
        return;
    s->live--;
    free(p);
}

void pw_slab_fini(struct pw_slab *s)
{
    s->live = 0;
}

#else

/* Every mapped block but the spare is on one list: partial or full. */
static void blk_list(struct pw_slab *s, struct pw_slab_blk *b, uint32_t full)
{
    struct pw_slab_blk **head = full ? &s->full : &s->partial;
    b->prev = NULL;
    b->next = *head;
    if (*head)
        (*head)->prev = b;
    *head = b;
    b->full = full;
}

static void blk_unlist(struct pw_slab *s, struct pw_slab_blk *b)
{
    if (b->prev)
        b->prev->next = b->next;
    else if (b->full)
        s->full = b->next;
    else
        s->partial = b->next;
    if (b->next)
        b->next->prev = b->prev;
    b->next = b->prev = NULL;
}

/* A block aligned to its size, so an object finds its block by masking. */
static struct pw_slab_blk *blk_map(void)
{
    size_t len = 2 * (size_t)PW_SLAB_BLOCK;
    uint8_t *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return NULL;
    uintptr_t a = ((uintptr_t)m + PW_SLAB_BLOCK - 1) & ~(uintptr_t)(PW_SLAB_BLOCK - 1);
    size_t head = a - (uintptr_t)m, tail = len - head - PW_SLAB_BLOCK;
    if (head)
        munmap(m, head);
    if (tail)
        munmap((uint8_t *)a + PW_SLAB_BLOCK, tail);
    return (struct pw_slab_blk *)a; /* zero, as mmap gives it */
}

void *pw_slab_alloc(struct pw_slab *s)
{
    struct pw_slab_blk *b = s->partial;
    if (s->per_blk == 0)
        return NULL; /* an object bigger than a block: not for a slab */
    if (!b) {
        if (s->spare) {
            b = s->spare;
            s->spare = NULL;
        } else {
            if (!(b = blk_map()))
                return NULL;
            s->nblk++;
        }
        blk_list(s, b, 0);
    }
    void *p;
    if (b->free) {
        p = b->free;
        memcpy(&b->free, p, sizeof b->free);
    } else {
        p = (uint8_t *)b + BLK_HEAD + (size_t)b->carved * s->size;
        b->carved++;
    }
    memset(p, 0, s->size);
    if (++b->live == s->per_blk) {
        blk_unlist(s, b);
        blk_list(s, b, 1);
    }
    s->live++;
    return p;
}

void pw_slab_free(struct pw_slab *s, void *p)
{
    if (!p)
        return;
    struct pw_slab_blk *b = (struct pw_slab_blk *)((uintptr_t)p & ~(uintptr_t)(PW_SLAB_BLOCK - 1));
    memcpy(p, &b->free, sizeof b->free);
    b->free = p;
    s->live--;
    uint32_t was_full = b->full;
    if (--b->live > 0) {
        if (was_full) {
            blk_unlist(s, b);
            blk_list(s, b, 0);
        }
        return;
    }
    /* empty: keep one (reset, so its pages are carved again in order), unmap the rest */
    blk_unlist(s, b);
    if (!s->spare) {
        b->free = NULL;
        b->carved = 0;
        s->spare = b;
        return;
    }
    munmap(b, PW_SLAB_BLOCK);
    s->nblk--;
}

void pw_slab_fini(struct pw_slab *s)
{
    while (s->partial || s->full) {
        struct pw_slab_blk *b = s->partial ? s->partial : s->full;
        blk_unlist(s, b);
        munmap(b, PW_SLAB_BLOCK);
        s->nblk--;
    }
    if (s->spare) {
        munmap(s->spare, PW_SLAB_BLOCK);
        s->spare = NULL;
        s->nblk--;
    }
    s->live = 0;
}

#endif

/* ---- strings ---- */

static const size_t strslab_size[PW_STRSLAB_CLASSES] = {16, 32, 64};

void pw_strslab_init(struct pw_strslab *ss)
{
    for (int i = 0; i < PW_STRSLAB_CLASSES; i++)
        pw_slab_init(&ss->cls[i], strslab_size[i]);
}

static int strslab_class(size_t len)
{
    for (int i = 0; i < PW_STRSLAB_CLASSES; i++)
        if (len < strslab_size[i])
            return i;
    return -1;
}

char *pw_strslab_dup(struct pw_strslab *ss, const char *s, size_t len)
{
    len = strnlen(s, len); /* as strndup: pw_strslab_free finds the class by strlen */
    int k = strslab_class(len);
    char *p = k < 0 ? malloc(len + 1) : pw_slab_alloc(&ss->cls[k]);
    if (!p)
        return NULL;
    memcpy(p, s, len);
    p[len] = 0;
    return p;
}

void pw_strslab_free(struct pw_strslab *ss, char *p)
{
    if (!p)
        return;
    int k = strslab_class(strlen(p));
    if (k < 0)
        free(p);
    else
        pw_slab_free(&ss->cls[k], p);
}

size_t pw_strslab_bytes(const struct pw_strslab *ss)
{
    size_t n = 0;
    for (int i = 0; i < PW_STRSLAB_CLASSES; i++)
        n += pw_slab_bytes(&ss->cls[i]);
    return n;
}

void pw_strslab_fini(struct pw_strslab *ss)
{
    for (int i = 0; i < PW_STRSLAB_CLASSES; i++)
        pw_slab_fini(&ss->cls[i]);
}
