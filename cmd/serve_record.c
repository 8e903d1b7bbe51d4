/* serve_record.c — `serve --record FILE`: a pub/sub in front of the
 * server's backlog that writes every message published into the server
 * (by a WebSocket client, POST /pub or stdin) to a transcript, with its time,
 * channel and id, as dir "in".  Deliveries to subscribers are not written:
 * they are the same messages, once per subscriber.  A transcript written
 * this way is what `replay --serve` plays back as a feed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "serve_record.h"
#include "proto/transcript.h"

struct serve_rec {
    struct pw_pubsub base;   /* first: the server sees this */
    struct pw_pubsub *inner;
    FILE *f;
    uint64_t t0;
    struct pw_buf line;
    int failed;
};

static int rec_publish(struct pw_pubsub *ps, struct pw_msg *m)
{
    struct serve_rec *r = (struct serve_rec *)ps;
    pw_msg_ref(m); /* the backlog takes one reference; we read m after */
    int rc = r->inner->ops->publish(r->inner, m);
    if (rc == 0 && !r->failed) {
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
    pw_msg_unref(m);
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

static int rec_fetch_after(struct pw_pubsub *ps, const char *ch, size_t n, const char *after,
                           struct pw_fetch *out, pw_fetch_fn fn, void *ud)
{
    struct serve_rec *r = (struct serve_rec *)ps;
    return r->inner->ops->fetch_after(r->inner, ch, n, after, out, fn, ud);
}

static void rec_each_channel(struct pw_pubsub *ps, void *ud,
                             void (*fn)(void *, const char *, size_t, size_t, size_t))
{
    struct serve_rec *r = (struct serve_rec *)ps;
    r->inner->ops->each_channel(r->inner, ud, fn);
}

static void rec_destroy(struct pw_pubsub *ps)
{
    struct serve_rec *r = (struct serve_rec *)ps;
    r->inner->ops->destroy(r->inner);
    pw_buf_free(&r->line);
    free(r);
}

static const struct pw_pubsub_ops rec_ops = {
    rec_publish, rec_subscribe, rec_unsubscribe, rec_fetch_after, rec_each_channel, rec_destroy,
};

struct pw_pubsub *serve_record_new(size_t keep, FILE *f)
{
    struct serve_rec *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->inner = pw_backlog_new(keep);
    if (!r->inner) {
        free(r);
        return NULL;
    }
    r->base.ops = &rec_ops;
    r->f = f;
    r->t0 = uv_hrtime();
    pw_buf_init(&r->line, 0);
    return &r->base;
}

int serve_record_failed(const struct pw_pubsub *ps)
{
    return ((const struct serve_rec *)ps)->failed;
}
