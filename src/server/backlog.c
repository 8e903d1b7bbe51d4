/* backlog.c — the embedded pub/sub backend: a hash table of channels, each
 * with a ring of its last `keep` messages and a list of subscribers.  Every
 * callback comes before the call that causes it returns. */
#include "backlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pw_errio.h"

/* ---- channels ---- */

struct pw__chan {
    struct pw__chan *next;      /* hash bucket chain */
    uint64_t hash;
    uint64_t next_seq;          /* seq of the next message's id (starts at 1) */
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
    char epoch[PW_EPOCH_MAX + 1];   /* this backend's birth: every id carries it */
    size_t epoch_len;
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

static struct pw_msgid pw__id(const struct pw__backlog *b, uint64_t seq)
{
    return pw_msgid_seq(b->epoch, seq);
}

static int pw__publish(struct pw_pubsub *ps, struct pw_msg *m, pw_ack_fn ack, void *ud)
{
    struct pw__backlog *b = (struct pw__backlog *)ps;
    struct pw__chan *c = pw__get(b, m->channel, m->channel_len, 1);
    if (!c) {
        pw_msg_unref(m);
        return PW_ENOMEM;
    }
    struct pw_msgid id = pw__id(b, c->next_seq);
    if (pw_msg_set_id(m, &id) || pw__ring_push(b, c, m)) {
        pw__maybe_drop(b, c);
        pw_msg_unref(m);
        return PW_ENOMEM;
    }
    c->next_seq++;
    /* the ring holds one reference; each subscriber takes its own; ours
     * keeps m through the ack, whatever the callbacks publish meanwhile */
    pw_msg_ref(m);
    for (struct pw_sub *s = c->subs.next; s != &c->subs;) {
        struct pw_sub *nx = s->next;
        s->deliver(s, m);
        s = nx;
    }
    if (ack)
        ack(ud, m, 0);
    pw_msg_unref(m);
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

/* Where a resume after `after` starts among the held seqs [first, last]:
 * sets *from (a seq) and returns 0, or returns 1 for a gap.  An id of this
 * epoch names a place only when it was issued and is not older than the
 * oldest held minus one; "0" is the place before seq 1; anything else (not
 * an id, another epoch, a stream id) cannot be placed. */
static int pw__place(const struct pw__backlog *b, const char *after, uint64_t first, uint64_t last,
                     uint64_t *from)
{
    struct pw_msgid id;
    if (pw_msgid_parse(after, strlen(after), &id))
        return 1;
    uint64_t x;
    if (id.form == PW_MSGID_START)
        x = 0;
    else if (id.form == PW_MSGID_SEQ && pw_msgid_has_epoch(after, b->epoch, b->epoch_len))
        x = id.seq;
    else
        return 1;
    if (x > last || x + 1 < first)
        return 1;
    *from = x + 1;
    return 0;
}

static int pw__fetch(struct pw_pubsub *ps, const struct pw_fetch_req *rq)
{
    struct pw__backlog *b = (struct pw__backlog *)ps;
    if (!pw_channel_valid(rq->channel, rq->chlen))
        return PW_ENET_CHANNEL;
    struct pw__chan *c = pw__get(b, rq->channel, rq->chlen, 0);
    uint64_t last = c ? c->next_seq - 1 : 0;
    size_t count = c ? c->count : 0;
    uint64_t first = last - count + 1;
    char lastid[PW_ID_MAX], firstid[PW_ID_MAX] = "";
    struct pw_msgid id = pw__id(b, last);
    pw_msgid_format(lastid, &id);
    struct pw_page pg = {0, 0, firstid, lastid, NULL, 0, 1};
    uint64_t from = first;
    if (rq->after && pw__place(b, rq->after, first, last, &from)) {
        pg.gap = 1;
        if (count) {
            id = pw__id(b, first);
            pw_msgid_format(firstid, &id);
        }
    }
    size_t skip = (size_t)(from - first), n = 0, bytes = 0;
    if (rq->after) {
        size_t max = rq->max_msgs ? rq->max_msgs : 1;
        while (skip + n < count && n < max) {
            size_t len = c->ring[(c->head + skip + n) % c->cap]->len;
            if (n && bytes + len > rq->max_bytes)
                break;
            bytes += len;
            n++;
        }
    }
    struct pw_msg **msgs = NULL;
    if (n) {
        msgs = malloc(n * sizeof *msgs);
        if (!msgs)
            return PW_ENOMEM;
        /* our references: the callback may publish (a pipelined POST behind
         * a poll's answer), which may push these out of the ring */
        for (size_t i = 0; i < n; i++)
            msgs[i] = pw_msg_ref(c->ring[(c->head + skip + i) % c->cap]);
    }
    pg.msgs = msgs;
    pg.n = n;
    pg.end = skip + n == count;
    rq->done(rq->ud, &pg);
    for (size_t i = 0; i < n; i++)
        pw_msg_unref(msgs[i]);
    free(msgs);
    return 0;
}

static void pw__cancel(struct pw_pubsub *ps, void *ud)
{
    (void)ps, (void)ud; /* every callback came before its call returned */
}

static int pw__health(struct pw_pubsub *ps, char *why, size_t whysz)
{
    (void)ps;
    if (whysz)
        why[0] = 0;
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
    pw__publish, pw__subscribe, pw__unsubscribe, pw__fetch, pw__cancel, pw__health,
    pw__each_channel, pw__destroy, NULL,
};

struct pw_pubsub *pw_backlog_new(size_t keep, const char *epoch)
{
    struct pw__backlog *b = calloc(1, sizeof *b);
    if (!b || keep < 1) {
        free(b);
        return NULL;
    }
    if (epoch ? !pw_msgid_epoch_valid(epoch, strlen(epoch)) : pw_msgid_epoch_new(b->epoch)) {
        free(b);
        return NULL;
    }
    if (epoch)
        memcpy(b->epoch, epoch, strlen(epoch) + 1);
    b->epoch_len = strlen(b->epoch);
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

const char *pw_backlog_epoch(const struct pw_pubsub *ps)
{
    return ((const struct pw__backlog *)ps)->epoch;
}
