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
};

struct pw_hub {
    pthread_mutex_t mu, log_mu;
    unsigned n;
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

static int hub__subscribe(struct pw_pubsub *ps, const char *ch, size_t chlen, struct pw_sub *s)
{
    struct hub_worker *w = (struct hub_worker *)ps;
    hub__drain(w);
    return w->local->ops->subscribe(w->local, ch, chlen, s);
}

static void hub__unsubscribe(struct pw_pubsub *ps, struct pw_sub *s)
{
    struct hub_worker *w = (struct hub_worker *)ps;
    w->local->ops->unsubscribe(w->local, s);
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

static void hub__each_channel(struct pw_pubsub *ps, void *ud,
                              void (*fn)(void *ud, const char *ch, size_t msgs, size_t bytes,
                                         size_t subs))
{
    struct hub_worker *w = (struct hub_worker *)ps;
    w->local->ops->each_channel(w->local, ud, fn);
}

/* One worker's replica: the same history as every other's. */
static void hub__stats(struct pw_pubsub *ps, struct pw_pubsub_stats *st)
{
    struct hub_worker *w = (struct hub_worker *)ps;
    w->local->ops->stats(w->local, st);
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
    }
    pthread_mutex_destroy(&h->mu);
    pthread_mutex_destroy(&h->log_mu);
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
