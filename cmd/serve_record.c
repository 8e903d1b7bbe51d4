/* serve_record.c — `serve --record FILE`: a pub/sub in front of the
 * server's backlog that writes every message published into the server
 * (by a WebSocket client, POST /pub or stdin) to a transcript, with its time,
 * channel and id, as dir "in", once the backend has acknowledged it (holds
 * it and gave it its id).  Deliveries to subscribers are not written:
 * they are the same messages, once per subscriber.  A transcript written
 * this way is what `replay --serve` plays back as a feed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "serve_record.h"
#include "proto/transcript.h"

struct serve_rec;

/* A publish on its way: recorded when the backend acknowledges it (it holds
 * the message and has given it its id), then the publisher's ack. */
struct rec_pub {
    struct rec_pub *next, *prev;
    struct serve_rec *r;
    pw_ack_fn ack;            /* NULL once cancelled */
    void *ud;
};

struct serve_rec {
    struct pw_pubsub base;    /* first: the server sees this */
    struct pw_pubsub *inner;
    FILE *f;
    uint64_t t0;
    struct pw_buf line;
    int failed;
    struct rec_pub pending;   /* list head */
};

static void rec_write(struct serve_rec *r, const struct pw_msg *m)
{
    if (r->failed)
        return;
    struct pw_trec t = {
        .t = (double)(uv_hrtime() - r->t0) / 1e9,
        .out = 0,
        .type = m->binary ? PW_TREC_BINARY : PW_TREC_EVENT,
        .id = m->id,
        .event = m->event,
        .channel = m->channel,
        .data = m->data,
        .len = m->len,
    };
    r->line.len = 0;
    if (pw_trec_write(&r->line, &t) != 0 ||
        fwrite(r->line.p, 1, r->line.len, r->f) != r->line.len || fflush(r->f) != 0)
        r->failed = 1;
}

static void rec_ack(void *ud, struct pw_msg *m, int rc)
{
    struct rec_pub *p = ud;
    p->prev->next = p->next;
    p->next->prev = p->prev;
    if (rc == 0)
        rec_write(p->r, m);
    if (p->ack)
        p->ack(p->ud, m, rc);
    free(p);
}

static int rec_publish(struct pw_pubsub *ps, struct pw_msg *m, pw_ack_fn ack, void *ud)
{
    struct serve_rec *r = (struct serve_rec *)ps;
    struct rec_pub *p = malloc(sizeof *p);
    if (!p) {
        pw_msg_unref(m);
        return PW_ENOMEM;
    }
    p->r = r;
    p->ack = ack;
    p->ud = ud;
    p->next = &r->pending;
    p->prev = r->pending.prev;
    r->pending.prev->next = p;
    r->pending.prev = p;
    int rc = r->inner->ops->publish(r->inner, m, rec_ack, p);
    if (rc) {
        p->prev->next = p->next;
        p->next->prev = p->prev;
        free(p);
    }
    return rc;
}

static int rec_subscribe(struct pw_pubsub *ps, const char *ch, size_t n, struct pw_sub *s)
{
    struct serve_rec *r = (struct serve_rec *)ps;
    return r->inner->ops->subscribe(r->inner, ch, n, s);
}

static void rec_unsubscribe(struct pw_pubsub *ps, struct pw_sub *s)
{
    struct serve_rec *r = (struct serve_rec *)ps;
    r->inner->ops->unsubscribe(r->inner, s);
}

static int rec_fetch(struct pw_pubsub *ps, const struct pw_fetch_req *rq)
{
    struct serve_rec *r = (struct serve_rec *)ps;
    return r->inner->ops->fetch(r->inner, rq);
}

/* The publisher's acks are forgotten; the messages are still recorded once
 * held. */
static void rec_cancel(struct pw_pubsub *ps, void *ud)
{
    struct serve_rec *r = (struct serve_rec *)ps;
    for (struct rec_pub *p = r->pending.next; p != &r->pending; p = p->next)
        if (p->ud == ud)
            p->ack = NULL;
    r->inner->ops->cancel(r->inner, ud);
}

static int rec_health(struct pw_pubsub *ps, char *why, size_t whysz)
{
    struct serve_rec *r = (struct serve_rec *)ps;
    return r->inner->ops->health(r->inner, why, whysz);
}

static void rec_each_channel(struct pw_pubsub *ps, void *ud,
                             void (*fn)(void *, const char *, size_t, size_t, size_t))
{
    struct serve_rec *r = (struct serve_rec *)ps;
    r->inner->ops->each_channel(r->inner, ud, fn);
}

static size_t rec_metrics(struct pw_pubsub *ps, char *out, size_t cap)
{
    struct serve_rec *r = (struct serve_rec *)ps;
    return r->inner->ops->metrics ? r->inner->ops->metrics(r->inner, out, cap) : 0;
}

static void rec_destroy(struct pw_pubsub *ps)
{
    struct serve_rec *r = (struct serve_rec *)ps;
    r->inner->ops->destroy(r->inner);
    /* acks that never came (the backend is gone): nothing to record */
    while (r->pending.next != &r->pending) {
        struct rec_pub *p = r->pending.next;
        r->pending.next = p->next;
        free(p);
    }
    pw_buf_free(&r->line);
    free(r);
}

static void rec_stats(struct pw_pubsub *ps, struct pw_pubsub_stats *st)
{
    struct serve_rec *r = (struct serve_rec *)ps;
    if (r->inner->ops->stats)
        r->inner->ops->stats(r->inner, st);
}

static const struct pw_pubsub_ops rec_ops = {
    rec_publish, rec_subscribe, rec_unsubscribe, rec_fetch, rec_cancel, rec_health,
    rec_each_channel, rec_destroy, rec_metrics, rec_stats,
};

struct pw_pubsub *serve_record_new(struct pw_pubsub *inner, FILE *f)
{
    struct serve_rec *r = inner ? calloc(1, sizeof *r) : NULL;
    if (!r) {
        if (inner)
            inner->ops->destroy(inner);
        return NULL;
    }
    r->inner = inner;
    r->base.ops = &rec_ops;
    r->f = f;
    r->t0 = uv_hrtime();
    r->pending.next = r->pending.prev = &r->pending;
    pw_buf_init(&r->line, 0);
    return &r->base;
}

int serve_record_failed(const struct pw_pubsub *ps)
{
    return ((const struct serve_rec *)ps)->failed;
}
