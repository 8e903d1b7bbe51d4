/* backlog.c — the embedded pub/sub backend: a hash table of channels, each
 * with a ring of its last `keep` messages and a list of subscribers. */
#include "backlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pw_errio.h"

/* ---- channels ---- */

struct pw__chan {
    struct pw__chan *next;      /* hash bucket chain */
    uint64_t hash;
    uint64_t next_seq;          /* id of the next message (starts at 1) */
    struct pw_msg **ring;       /* grows up to keep entries */
    size_t cap, head, count;    /* oldest at ring[head] */
    size_t bytes;               /* data bytes held */
    struct pw_sub subs;         /* list head (sentinel) */
    size_t nsubs;
    size_t len;
    char name[];
};

struct pw__backlog {
    struct pw_pubsub base;
    size_t keep;
    struct pw__chan **tab;
    size_t nbuckets, nchans;
};

static uint64_t pw__hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static struct pw__chan *pw__find(struct pw__backlog *b, const char *ch, size_t n, uint64_t h)
{
    for (struct pw__chan *c = b->tab[h & (b->nbuckets - 1)]; c; c = c->next)
        if (c->hash == h && c->len == n && memcmp(c->name, ch, n) == 0)
            return c;
    return NULL;
}

static int pw__grow_tab(struct pw__backlog *b)
{
    size_t nb = b->nbuckets * 2;
    struct pw__chan **t = calloc(nb, sizeof *t);
    if (!t)
        return PW_ENOMEM;
    for (size_t i = 0; i < b->nbuckets; i++) {
        struct pw__chan *c = b->tab[i], *nx;
        for (; c; c = nx) {
            nx = c->next;
            c->next = t[c->hash & (nb - 1)];
            t[c->hash & (nb - 1)] = c;
        }
    }
    free(b->tab);
    b->tab = t;
    b->nbuckets = nb;
    return 0;
}

static struct pw__chan *pw__get(struct pw__backlog *b, const char *ch, size_t n, int create)
{
    uint64_t h = pw__hash(ch, n);
    struct pw__chan *c = pw__find(b, ch, n, h);
    if (c || !create)
        return c;
    if (b->nchans >= b->nbuckets && pw__grow_tab(b))
        return NULL;
    c = calloc(1, sizeof *c + n + 1);
    if (!c)
        return NULL;
    c->hash = h;
    c->next_seq = 1;
    c->len = n;
    memcpy(c->name, ch, n);
    c->subs.next = c->subs.prev = &c->subs;
    c->next = b->tab[h & (b->nbuckets - 1)];
    b->tab[h & (b->nbuckets - 1)] = c;
    b->nchans++;
    return c;
}

/* A channel with no subscriber and no message is forgotten, so that
 * subscribing to many names does not grow memory forever. */
static void pw__maybe_drop(struct pw__backlog *b, struct pw__chan *c)
{
    if (c->nsubs || c->count)
        return;
    struct pw__chan **pp = &b->tab[c->hash & (b->nbuckets - 1)];
    while (*pp != c)
        pp = &(*pp)->next;
    *pp = c->next;
    b->nchans--;
    free(c->ring);
    free(c);
}

static int pw__ring_push(struct pw__backlog *b, struct pw__chan *c, struct pw_msg *m)
{
    if (c->count == c->cap && c->cap < b->keep) {
        size_t nc = c->cap ? c->cap * 2 : 8;
        if (nc > b->keep)
            nc = b->keep;
        struct pw_msg **r = malloc(nc * sizeof *r);
        if (!r)
            return PW_ENOMEM;
        for (size_t i = 0; i < c->count; i++)
            r[i] = c->ring[(c->head + i) % c->cap];
        free(c->ring);
        c->ring = r;
        c->cap = nc;
        c->head = 0;
    }
    if (c->count == c->cap) { /* full at `keep`: the oldest goes */
        struct pw_msg *old = c->ring[c->head];
        c->bytes -= old->len;
        pw_msg_unref(old);
        c->ring[c->head] = m;
        c->head = (c->head + 1) % c->cap;
    } else {
        c->ring[(c->head + c->count) % c->cap] = m;
        c->count++;
    }
    c->bytes += m->len;
    return 0;
}

static int pw__publish(struct pw_pubsub *ps, struct pw_msg *m)
{
    struct pw__backlog *b = (struct pw__backlog *)ps;
    struct pw__chan *c = pw__get(b, m->channel, m->channel_len, 1);
    if (!c) {
        pw_msg_unref(m);
        return PW_ENOMEM;
    }
    pw_msg_set_id(m, c->next_seq);
    if (pw__ring_push(b, c, m)) {
        pw__maybe_drop(b, c);
        pw_msg_unref(m);
        return PW_ENOMEM;
    }
    c->next_seq++;
    /* the ring holds our reference; each subscriber takes its own */
    for (struct pw_sub *s = c->subs.next; s != &c->subs;) {
        struct pw_sub *nx = s->next;
        s->deliver(s, m);
        s = nx;
    }
    return 0;
}

static int pw__subscribe(struct pw_pubsub *ps, const char *ch, size_t n, struct pw_sub *s)
{
    struct pw__backlog *b = (struct pw__backlog *)ps;
    if (!pw_channel_valid(ch, n))
        return PW_ENET_CHANNEL;
    struct pw__chan *c = pw__get(b, ch, n, 1);
    if (!c)
        return PW_ENOMEM;
    s->chan = c;
    s->next = &c->subs;
    s->prev = c->subs.prev;
    c->subs.prev->next = s;
    c->subs.prev = s;
    c->nsubs++;
    return 0;
}

static void pw__unsubscribe(struct pw_pubsub *ps, struct pw_sub *s)
{
    struct pw__chan *c = s->chan;
    if (!c)
        return;
    s->prev->next = s->next;
    s->next->prev = s->prev;
    s->next = s->prev = NULL;
    s->chan = NULL;
    c->nsubs--;
    pw__maybe_drop((struct pw__backlog *)ps, c);
}

/* Decimal id → seq; -1 if malformed. */
static int pw__parse_id(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s || strlen(s) > 19)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

static int pw__fetch_after(struct pw_pubsub *ps, const char *ch, size_t n, const char *after,
                           struct pw_fetch *out, pw_fetch_fn fn, void *ud)
{
    struct pw__backlog *b = (struct pw__backlog *)ps;
    memset(out, 0, sizeof *out);
    if (!pw_channel_valid(ch, n))
        return PW_ENET_CHANNEL;
    uint64_t x = 0;
    if (after && pw__parse_id(after, &x))
        return PW_ENET_ID;
    struct pw__chan *c = pw__get(b, ch, n, 0);
    uint64_t last = c ? c->next_seq - 1 : 0;
    uint64_t first = c && c->count ? last - c->count + 1 : last + 1;
    snprintf(out->last, sizeof out->last, "%llu", (unsigned long long)last);
    if (!after)
        return 0;
    size_t from = 0; /* index into the kept messages */
    if (x > last || x + 1 < first) {
        out->gap = 1;
        if (c && c->count)
            snprintf(out->first, sizeof out->first, "%llu", (unsigned long long)first);
    } else {
        from = (size_t)(x + 1 - first);
    }
    for (size_t i = from; fn && c && i < c->count; i++)
        if (fn(ud, c->ring[(c->head + i) % c->cap]))
            break;
    return 0;
}

static void pw__each_channel(struct pw_pubsub *ps, void *ud,
                             void (*fn)(void *, const char *, size_t, size_t, size_t))
{
    struct pw__backlog *b = (struct pw__backlog *)ps;
    for (size_t i = 0; i < b->nbuckets; i++)
        for (struct pw__chan *c = b->tab[i]; c; c = c->next)
            fn(ud, c->name, c->count, c->bytes, c->nsubs);
}

static void pw__destroy(struct pw_pubsub *ps)
{
    struct pw__backlog *b = (struct pw__backlog *)ps;
    if (!b)
        return;
    for (size_t i = 0; i < b->nbuckets; i++) {
        struct pw__chan *c = b->tab[i], *nx;
        for (; c; c = nx) {
            nx = c->next;
            for (size_t k = 0; k < c->count; k++)
                pw_msg_unref(c->ring[(c->head + k) % c->cap]);
            /* subscribers still listed are detached, not freed (not ours) */
            for (struct pw_sub *s = c->subs.next; s != &c->subs; s = s->next)
                s->chan = NULL;
            free(c->ring);
            free(c);
        }
    }
    free(b->tab);
    free(b);
}

static const struct pw_pubsub_ops pw__backlog_ops = {
    pw__publish, pw__subscribe, pw__unsubscribe, pw__fetch_after, pw__each_channel, pw__destroy,
};

struct pw_pubsub *pw_backlog_new(size_t keep)
{
    struct pw__backlog *b = calloc(1, sizeof *b);
    if (!b || keep < 1) {
        free(b);
        return NULL;
    }
    b->base.ops = &pw__backlog_ops;
    b->keep = keep;
    b->nbuckets = 64;
    b->tab = calloc(b->nbuckets, sizeof *b->tab);
    if (!b->tab) {
        free(b);
        return NULL;
    }
    return &b->base;
}
