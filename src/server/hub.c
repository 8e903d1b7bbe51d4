/* hub.c — the worker threads' shared channels (hub.h): one ordered stream
 * of publishes, replayed into each worker's own backlog. */
#include "hub.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backlog.h"
#include "proto/msgid.h"

/* Items queued for one worker, at most: a worker this far behind makes
 * publishes fail (503) rather than memory grow without bound. */
#define HUB_QMAX (1u << 20)
/* With no publish to carry the time, a tick brings it to every replica at
 * most this often (message ages are cut then). */
#define HUB_TICK_MS 200

/* One publish, as every worker sees it: immutable bytes and a count of the
 * workers that still have to apply it.  own/ack/ud are the publishing
 * worker's only (its own message, not copied).  Or a tick: only the time.
 * t: when it was queued (ms, never less than the item before it); each
 * replica's clock is the t of the last item it applied. */
struct hub_item {
    atomic_uint refs;
    unsigned origin;
    uint64_t t;
    uint8_t tick;
    uint8_t binary;
    size_t chlen, evlen, len;
    struct pw_msg *own;
    pw_ack_fn ack;
    void *ud;
    char bytes[];                 /* channel, event and its NUL, data */
};

struct hub_q {
    struct hub_item **v;
    size_t n, cap;
};

/* A channel with subscribers on some worker (hub->chan_mu): each replica
 * only knows its own worker's subscribers, and holds a channel with no
 * history only while its worker has some, so /metrics asks these for the
 * count over all workers and for the channels no replica of its own holds. */
struct hub_chan {
    struct hub_chan *next;
    size_t subs;                  /* over all workers */
    unsigned mark;                /* a walk's stamp: held by the walker's replica */
    size_t len;
    char name[];
};

/* A worker's channels with subscribers (worker only), by the replica's
 * channel (the pw_sub's chan once subscribed: fixed while it has any). */
struct hub_lsub {
    struct hub_lsub *next;
    void *lchan;
    struct hub_chan *c;
    size_t n;
};

struct hub_worker {
    struct pw_pubsub ps;          /* first: the worker's view */
    struct pw_hub *hub;
    unsigned i;
    int live;                     /* under hub->mu: queued for (from the start, so that
                                     a worker starting late misses nothing) */
    int awake;                    /* under hub->mu: wake is ready to be sent */
    struct pw_pubsub *local;      /* the worker's backlog */
    uv_async_t wake;
    struct hub_q q;               /* under hub->mu */
    struct hub_q batch;           /* taken from q, being applied (worker only) */
    size_t bpos;
    int draining;
    uint64_t counts[PW_HUB_NCOUNT]; /* under hub->mu */
    struct hub_lsub **lsubs;      /* worker only: a hash of its channels with subscribers */
    size_t nlsub_b, nlsub;
};

struct pw_hub {
    pthread_mutex_t mu, log_mu, chan_mu;
    unsigned n;
    struct hub_chan **chans;      /* under chan_mu: channels with subscribers, by name */
    size_t nchan_b, nchan;
    unsigned stamp;               /* under chan_mu */
    struct pw_backlog_limits lim;
    char epoch[PW_EPOCH_LEN + 1];
    atomic_long conns;
    atomic_ullong next_id;
    uint64_t t_last;              /* under mu: the newest item's t */
    struct hub_worker *w;
};

/* The replica's clock on this worker's thread (backlog.h: now_ms). */
static _Thread_local uint64_t hub__now;

static uint64_t hub__clock(void)
{
    return hub__now;
}

static void hub__release(struct hub_item *it, unsigned self)
{
    if (it->origin == self && it->own) {
        pw_msg_unref(it->own);
        it->own = NULL;
    }
    if (atomic_fetch_sub(&it->refs, 1) == 1)
        free(it);
}

static void hub__apply(struct hub_worker *w, struct hub_item *it)
{
    hub__now = it->t;
    if (it->tick) {
        struct pw_pubsub_stats st;
        w->local->ops->stats(w->local, &st); /* ages cut at it->t */
        hub__release(it, w->i);
        return;
    }
    struct pw_msg *m;
    pw_ack_fn ack = NULL;
    void *ud = NULL;
    if (it->origin == w->i) {
        m = it->own;
        it->own = NULL;
        ack = it->ack;
        ud = it->ud;
    } else {
        const char *ev = it->bytes + it->chlen;
        m = pw_msg_new(it->bytes, it->chlen, ev, ev + it->evlen, it->len, it->binary);
    }
    /* out of memory here would give this worker's later ids a shift; the
     * publisher is told (its ack says so) when it is its own message */
    int rc = m ? w->local->ops->publish(w->local, m, ack, ud) : PW_ENOMEM;
    if (rc && ack)
        ack(ud, m, rc);
    hub__release(it, w->i);
}

/* Applies everything queued for w, in the hub's order. */
static void hub__drain(struct hub_worker *w)
{
    if (w->draining)
        return; /* the outer call goes on until the queue is empty */
    w->draining = 1;
    for (;;) {
        pthread_mutex_lock(&w->hub->mu);
        struct hub_q t = w->q;
        w->q = w->batch;
        w->q.n = 0;
        pthread_mutex_unlock(&w->hub->mu);
        w->batch = t;
        if (!t.n)
            break;
        for (w->bpos = 0; w->bpos < w->batch.n;)
            hub__apply(w, w->batch.v[w->bpos++]);
        w->batch.n = 0;
    }
    w->draining = 0;
}

static void hub__wake_cb(uv_async_t *a)
{
    hub__drain(a->data);
}

/* Makes room for one more item in q: 0 or PW_ENOMEM (full, or no memory). */
static int hub__room(struct hub_q *q)
{
    if (q->n < q->cap)
        return 0;
    if (q->cap >= HUB_QMAX)
        return PW_ENOMEM;
    size_t nc = q->cap ? q->cap * 2 : 64;
    void *p = realloc(q->v, nc * sizeof *q->v);
    if (!p)
        return PW_ENOMEM;
    q->v = p;
    q->cap = nc;
    return 0;
}

/* Under h->mu: it, stamped with the time, into every live worker's queue,
 * waking the others.  0, or PW_ENOMEM with nothing queued. */
static int hub__enqueue(struct pw_hub *h, unsigned self, struct hub_item *it)
{
    unsigned nlive = 0;
    for (unsigned j = 0; j < h->n; j++)
        if (h->w[j].live) {
            nlive++;
            if (hub__room(&h->w[j].q))
                return PW_ENOMEM;
        }
    /* nothing can fail from here: every queue has room */
    uint64_t now = pw_backlog_monotonic_ms();
    it->t = h->t_last = now > h->t_last ? now : h->t_last;
    atomic_init(&it->refs, nlive);
    for (unsigned j = 0; j < h->n; j++) {
        if (!h->w[j].live)
            continue;
        h->w[j].q.v[h->w[j].q.n++] = it;
        if (j != self && h->w[j].awake)
            uv_async_send(&h->w[j].wake);
    }
    return 0;
}

static int hub__publish(struct pw_pubsub *ps, struct pw_msg *m, pw_ack_fn ack, void *ud)
{
    struct hub_worker *w = (struct hub_worker *)ps;
    struct pw_hub *h = w->hub;
    size_t evlen = strlen(m->event) + 1; /* with its NUL: pw_msg_new takes a C string */
    struct hub_item *it = malloc(sizeof *it + m->channel_len + evlen + m->len);
    if (!it) {
        pw_msg_unref(m);
        return PW_ENOMEM;
    }
    it->origin = w->i;
    it->tick = 0;
    it->binary = m->binary;
    it->chlen = m->channel_len;
    it->evlen = evlen;
    it->len = m->len;
    it->own = m;
    it->ack = ack;
    it->ud = ud;
    memcpy(it->bytes, m->channel, it->chlen);
    memcpy(it->bytes + it->chlen, m->event, evlen);
    memcpy(it->bytes + it->chlen + evlen, m->data, m->len);
    pthread_mutex_lock(&h->mu);
    int rc = hub__enqueue(h, w->i, it);
    pthread_mutex_unlock(&h->mu);
    if (rc) {
        pw_msg_unref(m);
        free(it);
        return rc;
    }
    hub__drain(w); /* ours (and what came before it) now: the ack comes before we return */
    return 0;
}

void pw_hub_tick(struct pw_hub *h, unsigned i)
{
    struct hub_worker *w = &h->w[i];
    struct hub_item *it = calloc(1, sizeof *it);
    if (!it)
        return; /* the next tick brings the time */
    it->origin = i;
    it->tick = 1;
    pthread_mutex_lock(&h->mu);
    int rc = pw_backlog_monotonic_ms() < h->t_last + HUB_TICK_MS ? 1 : hub__enqueue(h, i, it);
    pthread_mutex_unlock(&h->mu);
    if (rc)
        free(it);
    hub__drain(w);
}

static size_t hub__hash(const void *p, size_t len)
{
    const unsigned char *b = p;
    uint64_t x = 14695981039346656037ull; /* FNV-1a */
    for (size_t k = 0; k < len; k++)
        x = (x ^ b[k]) * 1099511628211ull;
    return (size_t)(x ^ x >> 29);
}

static size_t hub__phash(const void *p)
{
    uintptr_t v = (uintptr_t)p;
    return hub__hash(&v, sizeof v);
}

/* Doubles a table of nb chains (a power of 2, or 0: 16) when it holds
 * more than nb entries.  Growing is optional: out of memory keeps the
 * chains longer. */
#define HUB_GROW(T, tab, nb, n, hashof)                                 \
    do {                                                                \
        if ((n) < (nb))                                                 \
            break;                                                      \
        size_t nn_ = (nb) ? (nb) * 2 : 16;                              \
        T **t_ = calloc(nn_, sizeof *t_);                               \
        if (!t_)                                                        \
            break;                                                      \
        for (size_t b_ = 0; b_ < (nb); b_++)                            \
            for (T *e_ = (tab)[b_], *nx_; e_; e_ = nx_) {               \
                nx_ = e_->next;                                         \
                size_t k_ = (hashof(e_)) & (nn_ - 1);                   \
                e_->next = t_[k_];                                      \
                t_[k_] = e_;                                            \
            }                                                           \
        free(tab);                                                      \
        (tab) = t_;                                                     \
        (nb) = nn_;                                                     \
    } while (0)

#define HUB_CHAN_HASH(c) hub__hash((c)->name, (c)->len)
#define HUB_LSUB_HASH(l) hub__phash((l)->lchan)

/* Under chan_mu: the channel's entry, or NULL. */
static struct hub_chan **hub__chan_at(struct pw_hub *h, const char *ch, size_t len)
{
    if (!h->nchan_b)
        return NULL;
    struct hub_chan **pp = &h->chans[hub__hash(ch, len) & (h->nchan_b - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->len == len && memcmp((*pp)->name, ch, len) == 0)
            return pp;
    return NULL;
}

static struct hub_lsub **hub__lsub_at(struct hub_worker *w, void *lchan)
{
    if (!w->nlsub_b)
        return NULL;
    struct hub_lsub **pp = &w->lsubs[hub__phash(lchan) & (w->nlsub_b - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->lchan == lchan)
            return pp;
    return NULL;
}

/* Counts one more subscriber of the replica's channel lchan (named ch):
 * 0 or PW_ENOMEM. */
static int hub__count_sub(struct hub_worker *w, const char *ch, size_t chlen, void *lchan)
{
    struct pw_hub *h = w->hub;
    struct hub_lsub **lp = hub__lsub_at(w, lchan);
    if (lp) {
        (*lp)->n++;
        pthread_mutex_lock(&h->chan_mu);
        (*lp)->c->subs++;
        pthread_mutex_unlock(&h->chan_mu);
        return 0;
    }
    HUB_GROW(struct hub_lsub, w->lsubs, w->nlsub_b, w->nlsub, HUB_LSUB_HASH);
    struct hub_lsub *l = w->nlsub_b ? malloc(sizeof *l) : NULL;
    if (!l)
        return PW_ENOMEM;
    pthread_mutex_lock(&h->chan_mu);
    struct hub_chan **cp = hub__chan_at(h, ch, chlen), *c = cp ? *cp : NULL;
    if (!c) {
        HUB_GROW(struct hub_chan, h->chans, h->nchan_b, h->nchan, HUB_CHAN_HASH);
        c = h->nchan_b ? malloc(sizeof *c + chlen) : NULL;
        if (c) {
            size_t k = hub__hash(ch, chlen) & (h->nchan_b - 1);
            c->subs = 0;
            c->mark = 0;
            c->len = chlen;
            memcpy(c->name, ch, chlen);
            c->next = h->chans[k];
            h->chans[k] = c;
            h->nchan++;
        }
    }
    if (c)
        c->subs++;
    pthread_mutex_unlock(&h->chan_mu);
    if (!c) {
        free(l);
        return PW_ENOMEM;
    }
    size_t k = hub__phash(lchan) & (w->nlsub_b - 1);
    *l = (struct hub_lsub){w->lsubs[k], lchan, c, 1};
    w->lsubs[k] = l;
    w->nlsub++;
    return 0;
}

static void hub__uncount_sub(struct hub_worker *w, void *lchan)
{
    struct pw_hub *h = w->hub;
    struct hub_lsub **lp = hub__lsub_at(w, lchan), *l = lp ? *lp : NULL;
    if (!l)
        return;
    struct hub_chan *c = l->c;
    if (--l->n == 0) {
        *lp = l->next;
        w->nlsub--;
        free(l);
    }
    pthread_mutex_lock(&h->chan_mu);
    if (--c->subs == 0) {
        struct hub_chan **cp = hub__chan_at(h, c->name, c->len);
        *cp = c->next;
        h->nchan--;
        free(c);
    }
    pthread_mutex_unlock(&h->chan_mu);
}

static int hub__subscribe(struct pw_pubsub *ps, const char *ch, size_t chlen, struct pw_sub *s)
{
    struct hub_worker *w = (struct hub_worker *)ps;
    hub__drain(w);
    int rc = w->local->ops->subscribe(w->local, ch, chlen, s);
    /* s->chan: the replica's channel, a key that holds while it has subscribers */
    if (rc == 0 && (rc = hub__count_sub(w, ch, chlen, s->chan)) != 0)
        w->local->ops->unsubscribe(w->local, s);
    return rc;
}

static void hub__unsubscribe(struct pw_pubsub *ps, struct pw_sub *s)
{
    struct hub_worker *w = (struct hub_worker *)ps;
    void *lchan = s->chan; /* NULL: not subscribed */
    w->local->ops->unsubscribe(w->local, s);
    if (lchan)
        hub__uncount_sub(w, lchan);
}

static int hub__fetch(struct pw_pubsub *ps, const struct pw_fetch_req *rq)
{
    struct hub_worker *w = (struct hub_worker *)ps;
    hub__drain(w); /* every id another worker has sent is ours too now */
    return w->local->ops->fetch(w->local, rq);
}

static void hub__cancel(struct pw_pubsub *ps, void *ud)
{
    struct hub_worker *w = (struct hub_worker *)ps;
    for (size_t k = w->bpos; k < w->batch.n; k++)
        if (w->batch.v[k]->origin == w->i && w->batch.v[k]->ud == ud)
            w->batch.v[k]->ack = NULL;
    pthread_mutex_lock(&w->hub->mu);
    for (size_t k = 0; k < w->q.n; k++)
        if (w->q.v[k]->origin == w->i && w->q.v[k]->ud == ud)
            w->q.v[k]->ack = NULL;
    pthread_mutex_unlock(&w->hub->mu);
    w->local->ops->cancel(w->local, ud);
}

static int hub__health(struct pw_pubsub *ps, char *why, size_t whysz)
{
    struct hub_worker *w = (struct hub_worker *)ps;
    return w->local->ops->health(w->local, why, whysz);
}

/* A walk over the replica's channels (under chan_mu), marking each one
 * that has subscribers somewhere and giving fn (if any) its count over
 * every worker. */
struct hub_walk {
    struct pw_hub *h;
    void *ud;
    void (*fn)(void *ud, const char *ch, size_t msgs, size_t bytes, size_t subs);
};

static void hub__walk_cb(void *ud, const char *ch, size_t msgs, size_t bytes, size_t subs)
{
    struct hub_walk *x = ud;
    struct hub_chan **cp = hub__chan_at(x->h, ch, strlen(ch));
    if (cp) {
        (*cp)->mark = x->h->stamp;
        subs = (*cp)->subs;
    }
    if (x->fn)
        x->fn(x->ud, ch, msgs, bytes, subs);
}

/* Under chan_mu: walks the replica, then gives fn every channel with
 * subscribers that it does not hold (no history, none of its worker's);
 * returns how many those were. */
static size_t hub__walk(struct hub_worker *w, void *ud,
                        void (*fn)(void *ud, const char *ch, size_t msgs, size_t bytes,
                                   size_t subs))
{
    struct pw_hub *h = w->hub;
    struct hub_walk x = {h, ud, fn};
    if (++h->stamp == 0)
        h->stamp = 1;
    w->local->ops->each_channel(w->local, &x, hub__walk_cb);
    size_t more = 0;
    char name[PW_CHANNEL_MAX + 1];
    for (size_t b = 0; b < h->nchan_b; b++)
        for (struct hub_chan *c = h->chans[b]; c; c = c->next) {
            if (c->mark == h->stamp)
                continue;
            more++;
            if (fn && c->len < sizeof name) { /* always: a valid name is short */
                memcpy(name, c->name, c->len);
                name[c->len] = 0;
                fn(ud, name, 0, 0, c->subs);
            }
        }
    return more;
}

static void hub__each_channel(struct pw_pubsub *ps, void *ud,
                              void (*fn)(void *ud, const char *ch, size_t msgs, size_t bytes,
                                         size_t subs))
{
    struct hub_worker *w = (struct hub_worker *)ps;
    hub__drain(w);
    pthread_mutex_lock(&w->hub->chan_mu);
    hub__walk(w, ud, fn);
    pthread_mutex_unlock(&w->hub->chan_mu);
}

/* One worker's replica: the same history as every other's; its channels
 * are those with history and those with subscribers on this worker, so
 * the channels held only for other workers' subscribers are added. */
static void hub__stats(struct pw_pubsub *ps, struct pw_pubsub_stats *st)
{
    struct hub_worker *w = (struct hub_worker *)ps;
    struct pw_hub *h = w->hub;
    hub__drain(w);
    w->local->ops->stats(w->local, st);
    pthread_mutex_lock(&h->chan_mu);
    if (h->nchan > w->nlsub) /* else every one has subscribers here: held */
        st->channels += hub__walk(w, NULL, NULL);
    pthread_mutex_unlock(&h->chan_mu);
}

static void hub__destroy(struct pw_pubsub *ps)
{
    (void)ps; /* the hub owns its workers' views */
}

static const struct pw_pubsub_ops hub_ops = {
    hub__publish, hub__subscribe, hub__unsubscribe, hub__fetch, hub__cancel, hub__health,
    hub__each_channel, hub__destroy, NULL, hub__stats,
};

struct pw_hub *pw_hub_new(unsigned n, const struct pw_backlog_limits *lim)
{
    struct pw_hub *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->w = calloc(n, sizeof *h->w);
    if (!h->w || pw_msgid_epoch_new(h->epoch)) {
        free(h->w);
        free(h);
        return NULL;
    }
    h->n = n;
    h->lim = *lim;
    h->lim.now_ms = hub__clock; /* each copy a replica (backlog.h) */
    h->lim.replica = 1;
    for (unsigned i = 0; i < n; i++)
        h->w[i].live = 1;
    pthread_mutex_init(&h->mu, NULL);
    pthread_mutex_init(&h->log_mu, NULL);
    pthread_mutex_init(&h->chan_mu, NULL);
    atomic_init(&h->conns, 0);
    atomic_init(&h->next_id, 0);
    return h;
}

struct pw_pubsub *pw_hub_worker(struct pw_hub *h, unsigned i, uv_loop_t *loop)
{
    struct hub_worker *w = &h->w[i];
    w->local = pw_backlog_new_limits(&h->lim, h->epoch);
    if (!w->local || uv_async_init(loop, &w->wake, hub__wake_cb)) {
        if (w->local)
            w->local->ops->destroy(w->local);
        w->local = NULL;
        return NULL;
    }
    w->ps.ops = &hub_ops;
    w->hub = h;
    w->i = i;
    w->wake.data = w;
    uv_unref((uv_handle_t *)&w->wake);
    pthread_mutex_lock(&h->mu);
    w->awake = 1;
    pthread_mutex_unlock(&h->mu);
    uv_async_send(&w->wake); /* what was published before we were up */
    return &w->ps;
}

void pw_hub_leave(struct pw_hub *h, unsigned i)
{
    struct hub_worker *w = &h->w[i];
    pthread_mutex_lock(&h->mu);
    w->live = 0;
    w->awake = 0;
    struct hub_q t = w->q;
    w->q = (struct hub_q){0};
    pthread_mutex_unlock(&h->mu);
    for (size_t k = 0; k < t.n; k++)
        hub__release(t.v[k], i);
    free(t.v);
}

void pw_hub_free(struct pw_hub *h)
{
    if (!h)
        return;
    for (unsigned i = 0; i < h->n; i++) {
        struct hub_worker *w = &h->w[i];
        if (w->live)
            pw_hub_leave(h, i);
        free(w->batch.v);
        if (w->local)
            w->local->ops->destroy(w->local);
        for (size_t b = 0; b < w->nlsub_b; b++)
            for (struct hub_lsub *l = w->lsubs[b], *nx; l; l = nx) {
                nx = l->next;
                free(l);
            }
        free(w->lsubs);
    }
    for (size_t b = 0; b < h->nchan_b; b++)
        for (struct hub_chan *c = h->chans[b], *nx; c; c = nx) {
            nx = c->next;
            free(c);
        }
    free(h->chans);
    pthread_mutex_destroy(&h->mu);
    pthread_mutex_destroy(&h->log_mu);
    pthread_mutex_destroy(&h->chan_mu);
    free(h->w);
    free(h);
}

void pw_hub_counts_put(struct pw_hub *h, unsigned i, const uint64_t c[PW_HUB_NCOUNT])
{
    pthread_mutex_lock(&h->mu);
    memcpy(h->w[i].counts, c, sizeof h->w[i].counts);
    pthread_mutex_unlock(&h->mu);
}

void pw_hub_counts_others(struct pw_hub *h, unsigned i, uint64_t c[PW_HUB_NCOUNT])
{
    pthread_mutex_lock(&h->mu);
    for (unsigned j = 0; j < h->n; j++)
        for (unsigned k = 0; k < PW_HUB_NCOUNT && j != i; k++)
            c[k] += h->w[j].counts[k];
    pthread_mutex_unlock(&h->mu);
}

uint64_t pw_hub_next_id(struct pw_hub *h)
{
    return atomic_fetch_add(&h->next_id, 1) + 1;
}

void pw_hub_counts_of(struct pw_hub *h, unsigned j, uint64_t c[PW_HUB_NCOUNT])
{
    pthread_mutex_lock(&h->mu);
    memcpy(c, h->w[j].counts, sizeof h->w[j].counts);
    pthread_mutex_unlock(&h->mu);
}

unsigned pw_hub_workers(const struct pw_hub *h)
{
    return h->n;
}

long pw_hub_conns_add(struct pw_hub *h, long d)
{
    return atomic_fetch_add(&h->conns, d) + d;
}

void pw_hub_log_lock(struct pw_hub *h, int lock)
{
    if (lock)
        pthread_mutex_lock(&h->log_mu);
    else
        pthread_mutex_unlock(&h->log_mu);
}
