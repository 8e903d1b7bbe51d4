/* backlog.c — the embedded pub/sub backend: a hash table of channels, each
 * with a ring of its last `keep` messages and a list of subscribers, and
 * every held message also on one backend-wide list in publish order (the
 * oldest first: what a budget or an age limit evicts).  Every callback comes
 * before the call that causes it returns. */
#include "backlog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "proto/pw_errio.h"

#define PW__MALLOC_OVERHEAD 16  /* what an allocation costs besides its bytes (glibc) */
#define PW__RING_MIN 8

/* ---- channels ---- */

struct pw__chan;

/* One held message: in its channel's ring and on the backend's age list. */
struct pw__held {
    struct pw_msg *m;
    struct pw__chan *c;
    struct pw__held *older, *newer;
    uint64_t t;                 /* ms (now_ms) when published */
    size_t cost;                /* charged to the budget */
};

struct pw__chan {
    struct pw__chan *next;      /* hash bucket chain */
    uint64_t hash;
    uint64_t base;              /* ids of this channel start above it (see pw__drop) */
    uint64_t next_seq;          /* seq of the next message's id (starts at base + 1) */
    struct pw__held **ring;     /* grows up to keep entries */
    size_t cap, head, count;    /* oldest at ring[head] */
    size_t bytes;               /* data bytes held */
    size_t cost;                /* charged: its messages, and itself while it has any */
    struct pw_sub subs;         /* list head (sentinel) */
    size_t nsubs;
    size_t len;
    char name[];
};

struct pw__backlog {
    struct pw_pubsub base;
    struct pw_backlog_limits lim;
    char epoch[PW_EPOCH_MAX + 1];   /* this backend's birth: every id carries it */
    size_t epoch_len;
    struct pw__chan **tab;
    size_t nbuckets, nchans;
    struct pw__held *oldest, *newest;
    size_t total, nmsgs, nhist;     /* charged bytes, messages, channels with history */
    uint64_t floor;                 /* every id a forgotten channel issued is <= it */
    struct pw_pubsub_stats st;      /* the counters */
};

/* the message's one allocation (pw_msg_new), its node and ring slot (a ring
 * may be up to half empty) */
static size_t pw__cost_bare(const struct pw_msg *m)
{
    return sizeof *m + m->len + 1 + PW_ID_MAX + m->event_len + 1 + m->channel_len + 1 +
           PW__MALLOC_OVERHEAD + sizeof(struct pw__held) + PW__MALLOC_OVERHEAD +
           2 * sizeof(struct pw__held *);
}

size_t pw_backlog_cost(const struct pw_msg *m)
{
    size_t n = pw__cost_bare(m);
    for (int i = 0; i < PW_MSG_NENC; i++)
        if (m->enc[i].p)
            n += m->enc[i].len + PW__MALLOC_OVERHEAD;
    return n;
}

/* A replica charges no encodings: its subscribers' differ from another's. */
static size_t pw__cost(const struct pw__backlog *b, const struct pw_msg *m)
{
    return b->lim.replica ? pw__cost_bare(m) : pw_backlog_cost(m);
}

size_t pw_backlog_chan_cost(size_t name_len)
{
    return sizeof(struct pw__chan) + name_len + 1 + PW__MALLOC_OVERHEAD + sizeof(struct pw__chan *);
}

uint64_t pw_backlog_monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

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

/* The channel, created when asked (a publish's creation counts against
 * max_channels: *refused is set when that stops it). */
static struct pw__chan *pw__get(struct pw__backlog *b, const char *ch, size_t n, int create,
                                int *refused)
{
    uint64_t h = pw__hash(ch, n);
    struct pw__chan *c = pw__find(b, ch, n, h);
    if (c || !create)
        return c;
    if (refused && !b->lim.replica && b->lim.max_channels && b->nchans >= b->lim.max_channels) {
        *refused = 1;
        return NULL;
    }
    if (b->nchans >= b->nbuckets && pw__grow_tab(b))
        return NULL;
    c = calloc(1, sizeof *c + n + 1);
    if (!c)
        return NULL;
    c->hash = h;
    c->base = b->floor;
    c->next_seq = c->base + 1;
    c->len = n;
    memcpy(c->name, ch, n);
    c->subs.next = c->subs.prev = &c->subs;
    c->next = b->tab[h & (b->nbuckets - 1)];
    b->tab[h & (b->nbuckets - 1)] = c;
    b->nchans++;
    return c;
}

/* A channel with no subscriber and no message is forgotten, so that
 * subscribing to many names, or history that expired, does not keep memory.
 * The ids it issued stay taken: channels made later start above them. */
static void pw__maybe_drop(struct pw__backlog *b, struct pw__chan *c)
{
    if (c->count || (c->nsubs && !b->lim.replica))
        return;
    if (c->next_seq - 1 > c->base) {
        b->st.channels_expired++;
        if (c->next_seq - 1 > b->floor)
            b->floor = c->next_seq - 1;
        c->base = c->next_seq - 1; /* counted: not again when it goes */
    }
    if (c->nsubs)
        return; /* a replica's: forgotten but for its subscribers (backlog.h) */
    struct pw__chan **pp = &b->tab[c->hash & (b->nbuckets - 1)];
    while (*pp != c)
        pp = &(*pp)->next;
    *pp = c->next;
    b->nchans--;
    free(c->ring);
    free(c);
}

static int pw__ring_resize(struct pw__chan *c, size_t nc)
{
    struct pw__held **r = malloc(nc * sizeof *r);
    if (!r)
        return PW_ENOMEM;
    for (size_t i = 0; i < c->count; i++)
        r[i] = c->ring[(c->head + i) % c->cap];
    free(c->ring);
    c->ring = r;
    c->cap = nc;
    c->head = 0;
    return 0;
}

/* Takes c's oldest message out of the history (the caller counts why, and
 * drops c if it may). */
static void pw__pop_oldest(struct pw__backlog *b, struct pw__chan *c)
{
    struct pw__held *h = c->ring[c->head];
    c->head = (c->head + 1) % c->cap;
    c->count--;
    if (h->older)
        h->older->newer = h->newer;
    else
        b->oldest = h->newer;
    if (h->newer)
        h->newer->older = h->older;
    else
        b->newest = h->older;
    c->bytes -= h->m->len;
    c->cost -= h->cost;
    b->total -= h->cost;
    b->nmsgs--;
    if (c->count == 0) {
        size_t cc = pw_backlog_chan_cost(c->len);
        c->cost -= cc;
        b->total -= cc;
        b->nhist--;
    }
    pw_msg_unref(h->m);
    free(h);
    /* a burst's ring is given back as the history shrinks */
    if (c->cap > PW__RING_MIN && c->count <= c->cap / 4)
        pw__ring_resize(c, c->cap / 2); /* no memory: keep the larger one */
}

static int pw__ring_push(struct pw__backlog *b, struct pw__chan *c, struct pw_msg *m)
{
    if (c->count == c->cap && c->cap < b->lim.keep) {
        size_t nc = c->cap ? c->cap * 2 : PW__RING_MIN;
        if (nc > b->lim.keep)
            nc = b->lim.keep;
        if (pw__ring_resize(c, nc))
            return PW_ENOMEM;
    }
    struct pw__held *h = malloc(sizeof *h);
    if (!h)
        return PW_ENOMEM;
    if (c->count == c->cap) { /* full at `keep`: the oldest goes */
        pw__pop_oldest(b, c);
        b->st.evicted_backlog++;
    }
    if (c->count == 0) {
        size_t cc = pw_backlog_chan_cost(c->len);
        c->cost += cc;
        b->total += cc;
        b->nhist++;
    }
    h->m = m;
    h->c = c;
    h->t = b->lim.now_ms();
    h->cost = pw__cost(b, m);
    h->newer = NULL;
    h->older = b->newest;
    if (b->newest)
        b->newest->newer = h;
    else
        b->oldest = h;
    b->newest = h;
    c->ring[(c->head + c->count) % c->cap] = h;
    c->count++;
    c->bytes += m->len;
    c->cost += h->cost;
    b->total += h->cost;
    b->nmsgs++;
    return 0;
}

/* Messages older than the age limit leave, the oldest first. */
static void pw__expire(struct pw__backlog *b)
{
    if (!b->lim.ttl_ms || !b->oldest)
        return;
    uint64_t now = b->lim.now_ms();
    while (b->oldest && now - b->oldest->t >= b->lim.ttl_ms) {
        struct pw__chan *c = b->oldest->c;
        pw__pop_oldest(b, c);
        b->st.evicted_ttl++;
        pw__maybe_drop(b, c);
    }
}

/* What the budget evicts next (never `keep`, the message being published
 * on channel pc): see backlog.h. */
static struct pw__held *pw__victim(struct pw__backlog *b, struct pw__chan *pc,
                                   const struct pw__held *keep)
{
    size_t share = b->lim.history_bytes / (b->nhist ? b->nhist : 1);
    size_t n = 0;
    for (struct pw__held *h = b->oldest; h && n < PW_BACKLOG_SCAN; h = h->newer, n++)
        if (h != keep && h->c->cost > share)
            return h; /* its channel's oldest: a channel's messages leave in order */
    if (pc->count > 1 && pc->cost > share)
        return pc->ring[pc->head];
    return b->oldest != keep ? b->oldest : NULL;
}

/* Evicts until the history fits the budget again. */
static void pw__fit(struct pw__backlog *b, struct pw__chan *pc, const struct pw__held *keep)
{
    if (!b->lim.history_bytes)
        return;
    while (b->total > b->lim.history_bytes) {
        struct pw__held *v = pw__victim(b, pc, keep);
        if (!v)
            return;
        struct pw__chan *c = v->c;
        pw__pop_oldest(b, c);
        b->st.evicted_budget++;
        if (c != pc)
            pw__maybe_drop(b, c);
    }
}

static struct pw_msgid pw__id(const struct pw__backlog *b, uint64_t seq)
{
    return pw_msgid_seq(b->epoch, seq);
}

static int pw__publish(struct pw_pubsub *ps, struct pw_msg *m, pw_ack_fn ack, void *ud)
{
    struct pw__backlog *b = (struct pw__backlog *)ps;
    pw__expire(b);
    int refused = 0;
    struct pw__chan *c = NULL;
    if (b->lim.replica) {
        /* max_channels counts channels with history, alike on every replica;
         * one without (new, or kept only for subscribers) numbers as new */
        c = pw__get(b, m->channel, m->channel_len, 0, NULL);
        if ((!c || !c->count) && b->lim.max_channels && b->nhist >= b->lim.max_channels) {
            refused = 1;
            c = NULL;
        } else if (!c) {
            c = pw__get(b, m->channel, m->channel_len, 1, NULL);
        } else if (!c->count) {
            c->base = b->floor;
            c->next_seq = c->base + 1;
        }
    } else {
        c = pw__get(b, m->channel, m->channel_len, 1, &refused);
    }
    if (!c) {
        pw_msg_unref(m);
        if (refused)
            b->st.channels_refused++;
        return refused ? PW_ENET_CHANNELS : PW_ENOMEM;
    }
    struct pw_msgid id = pw__id(b, c->next_seq);
    if (pw_msg_set_id(m, &id) || pw__ring_push(b, c, m)) {
        pw__maybe_drop(b, c);
        pw_msg_unref(m);
        return PW_ENOMEM;
    }
    c->next_seq++;
    struct pw__held *h = b->newest;
    /* the ring holds one reference; each subscriber takes its own; ours
     * keeps m through the ack, whatever the callbacks publish meanwhile */
    pw_msg_ref(m);
    for (struct pw_sub *s = c->subs.next; s != &c->subs;) {
        struct pw_sub *nx = s->next;
        s->deliver(s, m);
        s = nx;
    }
    /* the subscribers cached their encodings on m: they live as long as it */
    size_t cost = pw__cost(b, m);
    c->cost += cost - h->cost;
    b->total += cost - h->cost;
    h->cost = cost;
    pw__fit(b, c, h);
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
    pw__expire(b);
    struct pw__chan *c = pw__get(b, ch, n, 1, NULL);
    if (!c)
        return PW_ENOMEM;
    pw_sub_link(&c->subs, s, c);
    c->nsubs++;
    return 0;
}

static void pw__unsubscribe(struct pw_pubsub *ps, struct pw_sub *s)
{
    struct pw__chan *c = s->chan;
    if (!c)
        return;
    pw_sub_unlink(s);
    s->chan = NULL;
    c->nsubs--;
    pw__maybe_drop((struct pw__backlog *)ps, c);
}

/* Where a resume after `after` starts among the held seqs [first, last]:
 * sets *from (a seq) and returns 0, or returns 1 for a gap.  An id of this
 * epoch names a place only when it was issued and is not older than the
 * oldest held minus one; "0" is the place before the channel's first id
 * (base + 1); anything else (not an id, another epoch, a stream id) cannot
 * be placed. */
static int pw__place(const struct pw__backlog *b, const char *after, uint64_t base, uint64_t first,
                     uint64_t last, uint64_t *from)
{
    struct pw_msgid id;
    if (pw_msgid_parse(after, strlen(after), &id))
        return 1;
    uint64_t x;
    if (id.form == PW_MSGID_START)
        x = base;
    else if (id.form == PW_MSGID_SEQ && pw_msgid_has_epoch(after, strlen(after), b->epoch, b->epoch_len))
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
    pw__expire(b);
    struct pw__chan *c = pw__get(b, rq->channel, rq->chlen, 0, NULL);
    if (c && !c->count && b->lim.replica)
        c = NULL; /* forgotten, kept only for its subscribers (backlog.h) */
    /* a channel not held is one that would start above the floor */
    uint64_t base = c ? c->base : b->floor;
    uint64_t last = c ? c->next_seq - 1 : b->floor;
    size_t count = c ? c->count : 0;
    uint64_t first = last - count + 1;
    char lastid[PW_ID_MAX], firstid[PW_ID_MAX] = "";
    struct pw_msgid id = pw__id(b, last);
    pw_msgid_format(lastid, &id);
    struct pw_page pg = {0, 0, firstid, lastid, NULL, 0, 1};
    uint64_t from = first;
    if (rq->after && pw__place(b, rq->after, base, first, last, &from)) {
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
            size_t len = c->ring[(c->head + skip + n) % c->cap]->m->len;
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
            msgs[i] = pw_msg_ref(c->ring[(c->head + skip + i) % c->cap]->m);
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
    pw__expire(b);
    for (size_t i = 0; i < b->nbuckets; i++)
        for (struct pw__chan *c = b->tab[i]; c; c = c->next)
            fn(ud, c->name, c->count, c->bytes, c->nsubs);
}

static void pw__stats(struct pw_pubsub *ps, struct pw_pubsub_stats *st)
{
    struct pw__backlog *b = (struct pw__backlog *)ps;
    pw__expire(b);
    *st = b->st;
    st->channels = b->nchans;
    st->messages = b->nmsgs;
    st->bytes = b->total;
    st->budget = b->lim.history_bytes;
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
            for (size_t k = 0; k < c->count; k++) {
                struct pw__held *h = c->ring[(c->head + k) % c->cap];
                pw_msg_unref(h->m);
                free(h);
            }
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
    pw__each_channel, pw__destroy, NULL, pw__stats,
};

struct pw_pubsub *pw_backlog_new(size_t keep, const char *epoch)
{
    struct pw_backlog_limits lim = {keep, 0, 0, 0, NULL, 0};
    return pw_backlog_new_limits(&lim, epoch);
}

struct pw_pubsub *pw_backlog_new_limits(const struct pw_backlog_limits *lim, const char *epoch)
{
    struct pw__backlog *b = calloc(1, sizeof *b);
    if (!b || lim->keep < 1) {
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
    b->lim = *lim;
    if (!b->lim.now_ms)
        b->lim.now_ms = pw_backlog_monotonic_ms;
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
