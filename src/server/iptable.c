/* iptable.c — see iptable.h. */
#include "iptable.h"

#include <stdlib.h>
#include <string.h>

#define PW_IPT_FIRST 64 /* slots at first */

void pw_iptable_init(struct pw_iptable *t, size_t max, uint64_t seed)
{
    memset(t, 0, sizeof *t);
    t->max = max ? max : 1;
    t->seed = seed | 1;
}

void pw_iptable_free(struct pw_iptable *t)
{
    free(t->slot);
    t->slot = NULL;
    t->nslots = t->count = 0;
}

static uint64_t pw__hash(const struct pw_iptable *t, const uint8_t a[16])
{
    uint64_t w0, w1;
    memcpy(&w0, a, 8);
    memcpy(&w1, a + 8, 8);
    uint64_t h = (w0 ^ t->seed) * 0x9e3779b97f4a7c15ull;
    h ^= h >> 29;
    h = (h ^ w1 ^ (t->seed >> 7)) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h * 0x94d049bb133111ebull ^ (h >> 31);
}

/* The slot of addr, or the empty slot where it would go. */
static struct pw_ipent *pw__find(const struct pw_iptable *t, const uint8_t a[16])
{
    size_t mask = t->nslots - 1, i = (size_t)pw__hash(t, a) & mask;
    while (t->slot[i].used && memcmp(t->slot[i].addr, a, 16) != 0)
        i = (i + 1) & mask;
    return &t->slot[i];
}

static int pw__keep_all(const struct pw_ipent *e, void *ud)
{
    (void)e, (void)ud;
    return 1;
}

/* Moves the entries that keep() keeps into a table of n slots; 0 or -1. */
static int pw__rebuild(struct pw_iptable *t, size_t n, int (*keep)(const struct pw_ipent *, void *), void *ud,
                       size_t *dropped)
{
    struct pw_ipent *old = t->slot, *nw = calloc(n, sizeof *nw);
    size_t on = t->nslots;
    if (!nw)
        return -1;
    t->slot = nw;
    t->nslots = n;
    t->count = 0;
    for (size_t i = 0; i < on; i++) {
        const struct pw_ipent *e = &old[i];
        if (!e->used)
            continue;
        if (e->conns == 0 && (!keep || !keep(e, ud))) {
            (*dropped)++;
            continue;
        }
        *pw__find(t, e->addr) = *e;
        t->count++;
    }
    free(old);
    return 0;
}

size_t pw_iptable_sweep(struct pw_iptable *t, int (*keep)(const struct pw_ipent *e, void *ud), void *ud)
{
    size_t dropped = 0;
    if (t->count == 0)
        return 0;
    /* the same size (open addressing cannot just empty a slot); out of
     * memory, nothing goes this time */
    pw__rebuild(t, t->nslots, keep, ud, &dropped);
    /* after a flood: back to a size that fits what is left */
    size_t n = t->nslots;
    while (n > PW_IPT_FIRST && t->count * 8 < n)
        n /= 2;
    if (n != t->nslots) {
        size_t none = 0;
        pw__rebuild(t, n, pw__keep_all, NULL, &none);
    }
    return dropped;
}

struct pw_ipent *pw_iptable_get(struct pw_iptable *t, const uint8_t addr[16], int create)
{
    if (t->nslots) {
        struct pw_ipent *e = pw__find(t, addr);
        if (e->used || !create)
            return e->used ? e : NULL;
    } else if (!create)
        return NULL;
    if (t->count >= t->max) {
        size_t dropped = pw_iptable_sweep(t, NULL, NULL);
        t->evicted += dropped;
        if (t->count >= t->max)
            return NULL;
    }
    if ((t->count + 1) * 2 > t->nslots) {
        size_t n = t->nslots ? t->nslots * 2 : PW_IPT_FIRST, dropped = 0;
        if (pw__rebuild(t, n, pw__keep_all, NULL, &dropped))
            return NULL;
    }
    struct pw_ipent *e = pw__find(t, addr);
    memset(e, 0, sizeof *e);
    memcpy(e->addr, addr, 16);
    e->used = 1;
    t->count++;
    return e;
}
