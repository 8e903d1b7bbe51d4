/* test_feed.c — a subscriber's resume (server/feed.h) against the embedded
 * backend, and against a stand-in for an asynchronous one (pages answered
 * later; live deliveries early, late or doubled): every message exactly
 * once, in order, across pages, output-full stops, publishes during the
 * replay, trimmed history (a gap, never a hole), another epoch, cancel. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pw_errio.h"
#include "server/feed.h"
#include "tap.h"

/* ---- a pub/sub that answers later: pages wait for run_pages(), live
 * deliveries wait for run_live() when `lag` is set ---- */

#define QMAX 4096

struct lazy {
    struct pw_pubsub base;
    struct pw_pubsub *inner;
    struct pw_sub tap;              /* on the inner backend */
    struct pw_sub *subs[8];
    size_t nsubs;
    int lag;                        /* queue live deliveries */
    struct pw_msg *live[QMAX];
    size_t nlive;
    struct {
        struct pw_fetch_req rq;
        char ch[PW_CHANNEL_MAX + 1], after[PW_ID_MAX];
        int has_after;
    } q[16];
    size_t nq;
};

static struct lazy L;

static void lazy_tap(struct pw_sub *s, struct pw_msg *m)
{
    (void)s;
    if (L.lag) {
        if (L.nlive < QMAX)
            L.live[L.nlive++] = pw_msg_ref(m);
        return;
    }
    for (size_t i = 0; i < L.nsubs; i++)
        L.subs[i]->deliver(L.subs[i], m);
}

static void run_live(void)
{
    for (size_t k = 0; k < L.nlive; k++) {
        for (size_t i = 0; i < L.nsubs; i++)
            L.subs[i]->deliver(L.subs[i], L.live[k]);
        pw_msg_unref(L.live[k]);
    }
    L.nlive = 0;
}

static int lazy_publish(struct pw_pubsub *ps, struct pw_msg *m, pw_ack_fn ack, void *ud)
{
    (void)ps;
    return L.inner->ops->publish(L.inner, m, ack, ud);
}

static int lazy_subscribe(struct pw_pubsub *ps, const char *ch, size_t n, struct pw_sub *s)
{
    (void)ps;
    if (!L.tap.chan && L.inner->ops->subscribe(L.inner, ch, n, &L.tap))
        abort();
    L.subs[L.nsubs++] = s;
    s->chan = &L;
    return 0;
}

static void lazy_unsubscribe(struct pw_pubsub *ps, struct pw_sub *s)
{
    (void)ps;
    for (size_t i = 0; i < L.nsubs; i++)
        if (L.subs[i] == s) {
            L.subs[i] = L.subs[--L.nsubs];
            break;
        }
    s->chan = NULL;
}

static int lazy_fetch(struct pw_pubsub *ps, const struct pw_fetch_req *rq)
{
    (void)ps;
    if (L.nq == 16)
        return PW_ENOMEM;
    L.q[L.nq].rq = *rq;
    snprintf(L.q[L.nq].ch, sizeof L.q[L.nq].ch, "%.*s", (int)rq->chlen, rq->channel);
    L.q[L.nq].has_after = rq->after != NULL;
    snprintf(L.q[L.nq].after, PW_ID_MAX, "%s", rq->after ? rq->after : "");
    L.nq++;
    return 0;
}

static void lazy_cancel(struct pw_pubsub *ps, void *ud)
{
    (void)ps;
    size_t k = 0;
    for (size_t i = 0; i < L.nq; i++)
        if (L.q[i].rq.ud != ud)
            L.q[k++] = L.q[i];
    L.nq = k;
}

/* answers the pages asked so far (not those asked while answering) */
static size_t run_pages(void)
{
    size_t n = L.nq, done = 0;
    for (size_t i = 0; i < n && L.nq; i++, done++) {
        struct pw_fetch_req rq = L.q[0].rq;
        char ch[PW_CHANNEL_MAX + 1], after[PW_ID_MAX];
        memcpy(ch, L.q[0].ch, sizeof ch);
        memcpy(after, L.q[0].after, sizeof after);
        rq.channel = ch;
        rq.after = L.q[0].has_after ? after : NULL;
        memmove(&L.q[0], &L.q[1], (L.nq - 1) * sizeof L.q[0]);
        L.nq--;
        if (L.inner->ops->fetch(L.inner, &rq))
            abort();
    }
    return done;
}

static int lazy_health(struct pw_pubsub *ps, char *why, size_t n)
{
    (void)ps, (void)why, (void)n;
    return 0;
}

static const struct pw_pubsub_ops lazy_ops = {
    lazy_publish, lazy_subscribe, lazy_unsubscribe, lazy_fetch, lazy_cancel, lazy_health, NULL, NULL, NULL, NULL,
};

static void lazy_init(size_t keep, int lag)
{
    memset(&L, 0, sizeof L);
    L.base.ops = &lazy_ops;
    L.inner = pw_backlog_new(keep, "ep");
    L.tap.deliver = lazy_tap;
    L.lag = lag;
}

static void lazy_free(void)
{
    run_live();
    if (L.tap.chan)
        L.inner->ops->unsubscribe(L.inner, &L.tap);
    L.inner->ops->destroy(L.inner);
}

/* ---- a transport: records what it is given, takes `room` history
 * messages per page ---- */

struct tr {
    struct pw_feed f;
    unsigned long seqs[8192];       /* the seq of each message given, in order */
    size_t n, live, gaps;
    char gap_after[PW_ID_MAX], gap_first[PW_ID_MAX];
    int after_null;
    size_t room, taken;             /* history messages taken since the last pump */
    int hungry, failed;
};

static int tr_msg(struct pw_feed *f, struct pw_msg *m, int live)
{
    struct tr *t = f->ud;
    if (!live && t->taken >= t->room)
        return 1;
    if (!live)
        t->taken++;
    else
        t->live++;
    if (t->n < 8192)
        t->seqs[t->n] = (unsigned long)m->seq;
    t->n++;
    return 0;
}

static int tr_gap(struct pw_feed *f, const char *after, const char *first)
{
    struct tr *t = f->ud;
    t->gaps++;
    t->after_null = after == NULL;
    snprintf(t->gap_after, sizeof t->gap_after, "%s", after ? after : "");
    snprintf(t->gap_first, sizeof t->gap_first, "%s", first);
    return 0;
}

static void tr_hungry(struct pw_feed *f)
{
    ((struct tr *)f->ud)->hungry++;
}

static void tr_failed(struct pw_feed *f, int rc)
{
    (void)rc;
    ((struct tr *)f->ud)->failed++;
}

static const struct pw_feed_ops tr_ops = {tr_msg, tr_gap, tr_hungry, tr_failed, NULL};

static struct tr *tr_new(size_t room)
{
    struct tr *t = calloc(1, sizeof *t);
    t->room = room;
    return t;
}

/* the output drained: the next page */
static void pump(struct tr *t)
{
    t->taken = 0;
    pw_feed_pump(&t->f);
}

static void pub(struct pw_pubsub *ps, int k)
{
    for (int i = 0; i < k; i++) {
        struct pw_msg *m = pw_msg_new("c", 1, NULL, "x", 1, 0);
        if (!m || ps->ops->publish(ps, m, NULL, NULL))
            abort();
    }
}

/* 1 if t got seqs from..to, each once, in order */
static int got_range(const struct tr *t, unsigned long from, unsigned long to)
{
    if (t->n != to - from + 1)
        return 0;
    for (size_t i = 0; i < t->n; i++)
        if (t->seqs[i] != from + i)
            return 0;
    return 1;
}

/* ---- the embedded backend: pages come at once ---- */

static void test_sync(void)
{
    struct pw_pubsub *ps = pw_backlog_new(1000, "ep");
    pub(ps, 100);
    struct tr *t = tr_new(7);
    IS(pw_feed_start(&t->f, ps, "c", 1, "ep:10", &tr_ops, t, 10, 1000), 0, "feed started after 10");
    OK(t->n == 7 && t->f.state == PW_FEED_CATCHUP, "the first page stops when the output is full (7)");
    OK(t->hungry == 1, "and the feed asks for more");
    for (int i = 0; i < 40 && t->f.state == PW_FEED_CATCHUP; i++) {
        if (i == 5)
            pub(ps, 3); /* published while catching up: not sent live */
        pump(t);
    }
    IS(t->f.state, PW_FEED_LIVE, "caught up, then live");
    OK(got_range(t, 11, 103), "11..103 once each, in order (3 published during the replay)");
    IS(t->live, 0, "none of them live");
    pub(ps, 2);
    OK(got_range(t, 11, 105) && t->live == 2, "then 104, 105 live");
    IS(t->gaps, 0, "no gap");
    pw_feed_stop(&t->f);
    pub(ps, 1);
    IS(t->n, 95, "stopped: nothing more");
    pw_feed_stop(&t->f);
    free(t);

    /* live only */
    t = tr_new(100);
    pw_feed_start(&t->f, ps, "c", 1, NULL, &tr_ops, t, 10, 1000);
    IS(t->f.state, PW_FEED_LIVE, "no id: live at once");
    pub(ps, 2);
    OK(got_range(t, 107, 108), "live messages only");
    pw_feed_stop(&t->f);
    free(t);

    /* gaps: another epoch, unreadable, trimmed */
    t = tr_new(1000);
    pw_feed_start(&t->f, ps, "c", 1, "old:50", &tr_ops, t, 1000, 100000);
    OK(t->gaps == 1 && strcmp(t->gap_after, "old:50") == 0 && strcmp(t->gap_first, "ep:1") == 0,
       "another epoch's id: a gap after it, first held ep:1");
    OK(got_range(t, 1, 108) && t->f.state == PW_FEED_LIVE, "then everything held, then live");
    pw_feed_stop(&t->f);
    free(t);
    t = tr_new(1000);
    pw_feed_start(&t->f, ps, "c", 1, PW_FEED_UNREADABLE, &tr_ops, t, 1000, 100000);
    OK(t->gaps == 1 && t->after_null, "an unreadable id: a gap after NULL");
    pw_feed_stop(&t->f);
    free(t);
    ps->ops->destroy(ps);

    /* the history is trimmed past the feed's place while it is slow */
    ps = pw_backlog_new(20, "ep");
    pub(ps, 20);
    t = tr_new(5);
    pw_feed_start(&t->f, ps, "c", 1, "0", &tr_ops, t, 5, 1000);
    OK(got_range(t, 1, 5) && t->gaps == 0, "1..5, no gap yet");
    pub(ps, 10); /* 1..10 leave: 6..10 were never sent */
    pump(t);
    OK(t->gaps == 1 && strcmp(t->gap_after, "ep:5") == 0 && strcmp(t->gap_first, "ep:11") == 0,
       "the next page says: gap after ep:5, first held ep:11");
    for (int i = 0; i < 10 && t->f.state == PW_FEED_CATCHUP; i++)
        pump(t);
    int ok = t->n == 5 + 20;
    for (size_t i = 5; ok && i < t->n; i++)
        ok = t->seqs[i] == 11 + (i - 5);
    OK(ok && t->f.state == PW_FEED_LIVE, "then 11..30 once each, in order, and live");
    pw_feed_stop(&t->f);
    free(t);
    ps->ops->destroy(ps);
}

/* ---- a backend that answers later ---- */

struct grab {
    struct pw_msg *m[16];
    size_t n;
};

static void grab(void *ud, const struct pw_page *pg)
{
    struct grab *g = ud;
    for (size_t i = 0; i < pg->n && g->n < 16; i++)
        g->m[g->n++] = pw_msg_ref(pg->msgs[i]);
}

static void test_async(void)
{
    lazy_init(1000, 0);
    pub(L.inner, 50);
    struct tr *t = tr_new(10);
    pw_feed_start(&t->f, &L.base, "c", 1, "0", &tr_ops, t, 10, 1000);
    OK(t->f.fetching && t->n == 0, "the page is on its way");
    pub(L.inner, 5); /* live deliveries while catching up: noted, not sent */
    IS(t->n, 0, "nothing sent before the page");
    for (int i = 0; i < 20 && t->f.state == PW_FEED_CATCHUP; i++) {
        run_pages();
        if (i == 2)
            pub(L.inner, 3); /* more while a page is on its way */
        pump(t);
    }
    IS(t->f.state, PW_FEED_LIVE, "caught up");
    OK(got_range(t, 1, 58), "1..58 once each, in order");
    pub(L.inner, 2);
    OK(got_range(t, 1, 60), "then live");

    /* the backend reads a page ending at the newest (60); 61 is published
     * and delivered live before that page arrives: fetch on, never skip 61 */
    struct tr *u = tr_new(1000);
    pw_feed_start(&u->f, &L.base, "c", 1, "ep:55", &tr_ops, u, 1000, 100000);
    struct pw_fetch_req rq = L.q[0].rq;
    L.nq = 0;
    struct grab g = {{0}, 0};
    struct pw_fetch_req rg = {"c", 1, "ep:55", 100, 100000, grab, &g};
    L.inner->ops->fetch(L.inner, &rg); /* read now: 56..60 */
    pub(L.inner, 1);                   /* 61, live while catching up */
    struct pw_page pg = {0, 0, "", "ep:60", g.m, g.n, 1};
    rq.done(rq.ud, &pg);               /* the page read before 61 arrives */
    for (size_t i = 0; i < g.n; i++)
        pw_msg_unref(g.m[i]);
    OK(got_range(u, 56, 60) && u->f.state == PW_FEED_CATCHUP, "56..60, and not live yet: 61 came meanwhile");
    for (int i = 0; i < 5 && u->f.state == PW_FEED_CATCHUP; i++) {
        pump(u);
        run_pages();
    }
    OK(got_range(u, 56, 61) && u->f.state == PW_FEED_LIVE, "61 is fetched, not lost; then live");

    /* cancel: a stopped feed hears nothing from its page */
    struct tr *v = tr_new(10);
    pw_feed_start(&v->f, &L.base, "c", 1, "0", &tr_ops, v, 10, 1000);
    IS(L.nq, 1, "a page on its way");
    pw_feed_stop(&v->f);
    IS(L.nq, 0, "stop cancels it");
    run_pages();
    IS(v->n, 0, "and nothing comes");
    pw_feed_stop(&t->f);
    pw_feed_stop(&u->f);
    free(t);
    free(u);
    free(v);
    lazy_free();
}

/* live deliveries that lag the history: some come twice */
static void test_lagging_live(void)
{
    lazy_init(1000, 1);
    pub(L.inner, 10);
    run_live(); /* nobody subscribed yet */
    struct tr *t = tr_new(100);
    pw_feed_start(&t->f, &L.base, "c", 1, "ep:3", &tr_ops, t, 100, 100000);
    pub(L.inner, 4); /* 11..14, held back by the lagging live stream */
    run_pages();     /* the page brings 4..14: caught up */
    IS(t->f.state, PW_FEED_LIVE, "live after the page");
    OK(got_range(t, 4, 14), "4..14 from the page");
    run_live();      /* now 11..14 arrive live too */
    OK(got_range(t, 4, 14) && t->live == 0, "the late live copies are dropped");
    pub(L.inner, 2);
    run_live();
    OK(got_range(t, 4, 16) && t->live == 2, "new ones come live");

    /* a live message of another epoch: the stream was born again */
    struct pw_msg *m = pw_msg_new("c", 1, NULL, "y", 1, 0);
    struct pw_msgid id = pw_msgid_seq("new", 1);
    pw_msg_set_id(m, &id);
    t->f.sub.deliver(&t->f.sub, m);
    OK(t->gaps == 1 && strcmp(t->gap_after, "ep:16") == 0 && strcmp(t->gap_first, "new:1") == 0,
       "a gap after ep:16, first new:1");
    IS(t->n, 14, "then new:1 itself");
    pw_msg_unref(m);
    pw_feed_stop(&t->f);
    free(t);
    lazy_free();
}

/* a message of epoch ep with seq k, delivered by hand */
static void hand(struct tr *t, const char *ep, unsigned long k)
{
    struct pw_msg *m = pw_msg_new("c", 1, NULL, "z", 1, 0);
    struct pw_msgid id = pw_msgid_seq(ep, k);
    if (!m || pw_msg_set_id(m, &id))
        abort();
    t->f.sub.deliver(&t->f.sub, m);
    pw_msg_unref(m);
}

/* deliver(NULL): the backend's live stream skipped (a network backend cut
 * off while its history was trimmed) */
static void test_lost_live(void)
{
    lazy_init(1000, 1);
    pub(L.inner, 10);
    run_live();
    struct tr *t = tr_new(100);
    pw_feed_start(&t->f, &L.base, "c", 1, "ep:3", &tr_ops, t, 100, 100000);
    t->f.sub.deliver(&t->f.sub, NULL); /* while catching up: its pages see trims */
    run_pages();
    IS(t->f.state, PW_FEED_LIVE, "live after the page (4..10)");
    hand(t, "ep", 11);
    OK(t->gaps == 0 && t->n == 8, "a skip told while catching up is not a gap later");

    t->f.sub.deliver(&t->f.sub, NULL);
    IS(t->gaps, 0, "the skip alone says nothing yet");
    hand(t, "ep", 15);
    OK(t->gaps == 1 && strcmp(t->gap_after, "ep:11") == 0 && strcmp(t->gap_first, "ep:15") == 0,
       "then the first message not had comes after a gap: after ep:11, first ep:15");
    OK(t->n == 9 && t->seqs[8] == 15, "and is given");
    hand(t, "ep", 16);
    OK(t->gaps == 1 && t->n == 10, "the next one follows on: one gap");

    t->f.sub.deliver(&t->f.sub, NULL);
    hand(t, "ep", 14); /* the hole is behind what this feed had */
    hand(t, "ep", 16);
    hand(t, "ep", 17);
    OK(t->gaps == 1 && t->n == 11 && t->seqs[10] == 17,
       "a skip whose first message was had already: no gap, the rest as usual");

    t->f.sub.deliver(&t->f.sub, NULL);
    hand(t, "new", 1);
    OK(t->gaps == 2 && strcmp(t->gap_after, "ep:17") == 0 && strcmp(t->gap_first, "new:1") == 0,
       "a skip into a new epoch: one gap, after ep:17, first new:1");
    hand(t, "new", 2);
    OK(t->gaps == 2 && t->n == 13, "then on as usual");
    pw_feed_stop(&t->f);
    free(t);
    lazy_free();
}

/* ---- ops->position: a feed with no id starts where the channel is ---- */

struct trp {
    struct tr t;                    /* first: the callbacks take f->ud as a tr */
    char pos[PW_ID_MAX];
    size_t positions, n_at_position; /* messages given before it (must be 0) */
    int null_pos;
};

static int tr_position(struct pw_feed *f, const char *id)
{
    struct trp *p = f->ud;
    p->positions++;
    p->n_at_position = p->t.n;
    p->null_pos = id == NULL;
    snprintf(p->pos, sizeof p->pos, "%s", id ? id : "");
    return 0;
}

static const struct pw_feed_ops trp_ops = {tr_msg, tr_gap, tr_hungry, tr_failed, tr_position};

static void test_position(void)
{
    /* the embedded backend: the position at once, then live after it */
    struct pw_pubsub *ps = pw_backlog_new(1000, "ep");
    pub(ps, 5);
    struct trp *p = calloc(1, sizeof *p);
    p->t.room = 100;
    IS(pw_feed_start(&p->t.f, ps, "c", 1, NULL, &trp_ops, p, 10, 1000), 0, "a feed with position started");
    OK(p->positions == 1 && strcmp(p->pos, "ep:5") == 0 && p->t.n == 0, "its position first: ep:5, no message");
    IS(p->t.f.state, PW_FEED_LIVE, "then live");
    pub(ps, 2);
    OK(got_range(&p->t, 6, 7) && p->t.gaps == 0, "6, 7 live, once each");
    pw_feed_stop(&p->t.f);
    free(p);
    /* an empty channel: EPOCH:0 */
    p = calloc(1, sizeof *p);
    p->t.room = 100;
    pw_feed_start(&p->t.f, ps, "e", 1, NULL, &trp_ops, p, 10, 1000);
    OK(p->positions == 1 && strcmp(p->pos, "ep:0") == 0, "an empty channel's position: ep:0");
    pw_feed_stop(&p->t.f);
    free(p);
    /* with a resume id, no position */
    p = calloc(1, sizeof *p);
    p->t.room = 100;
    pw_feed_start(&p->t.f, ps, "c", 1, "ep:5", &trp_ops, p, 10, 1000);
    OK(p->positions == 0 && got_range(&p->t, 6, 7), "a resume has no position");
    pw_feed_stop(&p->t.f);
    free(p);
    ps->ops->destroy(ps);

    /* a backend that answers later: messages published between the
     * subscription and the answer, and while the answer was read, are not
     * lost nor doubled */
    lazy_init(1000, 0);
    pub(L.inner, 3);
    p = calloc(1, sizeof *p);
    p->t.room = 100;
    pw_feed_start(&p->t.f, &L.base, "c", 1, NULL, &trp_ops, p, 10, 1000);
    OK(p->positions == 0 && L.nq == 1 && !L.q[0].has_after, "the position is asked (no after)");
    struct pw_fetch_req rq = L.q[0].rq;
    L.nq = 0;
    pub(L.inner, 2); /* 4, 5: delivered live before the answer, which says ep:3 */
    struct pw_page pg = {0, 0, "", "ep:3", NULL, 0, 1};
    rq.done(rq.ud, &pg);
    OK(p->positions == 1 && strcmp(p->pos, "ep:3") == 0 && p->t.n == 0, "position ep:3, nothing given before it");
    IS(p->t.f.state, PW_FEED_CATCHUP, "4, 5 came meanwhile: fetch them");
    for (int i = 0; i < 5 && p->t.f.state == PW_FEED_CATCHUP; i++) {
        pump(&p->t);
        run_pages();
    }
    OK(got_range(&p->t, 4, 5) && p->t.f.state == PW_FEED_LIVE, "4, 5 fetched after the position, then live");
    pub(L.inner, 1);
    OK(got_range(&p->t, 4, 6) && p->t.gaps == 0, "6 live: each once, in order, no gap");
    pw_feed_stop(&p->t.f);
    free(p);

    /* the backend cannot say: no position, live from now */
    p = calloc(1, sizeof *p);
    p->t.room = 100;
    pw_feed_start(&p->t.f, &L.base, "c", 1, NULL, &trp_ops, p, 10, 1000);
    rq = L.q[0].rq;
    L.nq = 0;
    struct pw_page down = {PW_ENET_BACKEND, 0, "", "0", NULL, 0, 1};
    rq.done(rq.ud, &down);
    OK(p->positions == 1 && p->null_pos && p->t.failed == 0, "backend down: position NULL, not a failure");
    IS(p->t.f.state, PW_FEED_LIVE, "live from now");
    pub(L.inner, 1);
    OK(got_range(&p->t, 7, 7), "then live messages");
    /* stopped while the position is on its way: nothing comes */
    struct trp *q = calloc(1, sizeof *q);
    q->t.room = 100;
    pw_feed_start(&q->t.f, &L.base, "c", 1, NULL, &trp_ops, q, 10, 1000);
    pw_feed_stop(&q->t.f);
    IS(L.nq, 0, "stop cancels the position's fetch");
    OK(q->positions == 0 && q->t.n == 0, "and nothing comes");
    pw_feed_stop(&p->t.f);
    free(p);
    free(q);
    lazy_free();
}

int main(void)
{
    test_position();
    test_sync();
    test_async();
    test_lagging_live();
    test_lost_live();
    return tap_done();
}
