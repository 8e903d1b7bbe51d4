/* replay_serve.c — `pushwire replay FILE --serve ADDR:PORT`: the embedded
 * push server of `serve` (src/server.h), fed with the transcript's `in`
 * messages at their times instead of by publishers.
 *
 * The feed's clock starts when the first client subscribes (WebSocket, SSE
 * or a long poll on any channel), so a client that connects right after
 * start sees the whole feed with its timing.  A thin pub/sub in front of the
 * server's backlog notices that first subscription; the messages themselves
 * go through the backlog, so they get ids and resuming works exactly as with
 * `serve`.  The transcript is streamed: one record is held at a time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "server/backlog.h"
#include "opt.h"
#include "replay.h"
#include "server/server.h"

#define FEED_BATCH 64 /* messages published per loop turn when several are due */

static struct {
    const struct replay_opts *o;
    struct pw_pubsub base;       /* what the server sees */
    struct pw_pubsub *inner;     /* the backlog */
    uv_loop_t *loop;
    uv_timer_t timer;
    uv_idle_t kick;      /* keeps the next poll from sleeping: see feed_kick */
    uv_check_t kicked;   /* stops it once the check phase has written */
    int timer_init, started, done, failed;
    uint64_t t0;
    FILE *f;
    struct pw_treader r;
    uv_poll_t in;                /* standard input read live (replay_live) */
    int in_fd, in_flags;
    struct pw_trec next;
    int have_next;
    const char *channel;         /* default channel */
    unsigned long published;
} F;

static void feed_cb(uv_timer_t *t);
static void in_cb(uv_poll_t *h, int status, int events);

static void kick_cb(uv_idle_t *h) { (void)h; }

static void kicked_cb(uv_check_t *h)
{
    uv_idle_stop(&F.kick);
    uv_check_stop(h);
}

/* The server writes queued output in its check phase, after the poll.  A
 * message published from this timer (not from an I/O callback, as serve's
 * publishers are) would wait in the queue for whatever wakes the poll next
 * — the next message's time or the server's 250 ms tick.  An active idle
 * handle makes that poll return at once, so the check phase writes the
 * message now; the check handle stops it again. */
static void feed_kick(void)
{
    if (uv_is_active((uv_handle_t *)&F.kick))
        return;
    uv_idle_start(&F.kick, kick_cb);
    uv_check_start(&F.kicked, kicked_cb);
}

static void feed_start(void)
{
    if (F.started || !F.timer_init)
        return;
    F.started = 1;
    uv_update_time(F.loop);
    F.t0 = uv_now(F.loop);
    /* a timer, not a call: the subscription in progress completes first */
    uv_timer_start(&F.timer, feed_cb, 0, 0);
}

static void feed_end(int rc)
{
    F.done = 1;
    if (rc < 0) {
        F.failed = replay_bad_line(F.o->file, &F.r, rc);
        pw_err("replay", "the feed stopped at that line; clients keep what they got");
    } else if (!pw_quiet) {
        fprintf(stderr, "pushwire replay: the transcript ended: %lu messages published\n",
                F.published);
    }
}

static void in_cb(uv_poll_t *h, int status, int events)
{
    (void)status; /* an error: the read says what it is */
    (void)events;
    uv_poll_stop(h);
    pw_treader_readable(&F.r);
    feed_cb(NULL);
}

static void feed_cb(uv_timer_t *t)
{
    (void)t;
    if (F.done)
        return;
    feed_kick(); /* this turn publishes, or has something to tell */
    for (int i = 0; i < FEED_BATCH && !F.done; i++) {
        if (!F.have_next) {
            int rc;
            while ((rc = pw_treader_next(&F.r, &F.next)) == 1 && F.next.out)
                ;
            if (rc == PW_TREADER_WAIT) { /* standard input: in_cb goes on */
                uv_poll_start(&F.in, UV_READABLE, in_cb);
                return;
            }
            if (rc != 1) {
                feed_end(rc);
                return;
            }
            F.have_next = 1;
        }
        uint64_t due = replay_due_ms(F.o, F.next.t);
        uint64_t now = uv_now(F.loop) - F.t0;
        if (due > now) {
            uv_timer_start(&F.timer, feed_cb, due - now, 0);
            return;
        }
        if ((F.failed = replay_bad_channel(F.o, &F.next, F.r.line))) {
            /* standard input, which is not checked before the play */
            pw_err("replay", "the feed stopped at that line; clients keep what they got");
            F.done = 1;
            return;
        }
        const char *ch = F.o->channel ? F.o->channel : F.next.channel ? F.next.channel : F.channel;
        struct pw_msg *m = pw_msg_new(ch, strlen(ch), F.next.event, F.next.data, F.next.len,
                                      F.next.type == PW_TREC_BINARY);
        if (!m || F.inner->ops->publish(F.inner, m, NULL, NULL) != 0) {
            pw_err("replay", "out of memory publishing line %lu", F.r.line);
            F.done = 1;
            F.failed = PW_EXIT_FAIL;
            return;
        }
        F.published++;
        F.have_next = 0;
    }
    if (!F.done)
        uv_timer_start(&F.timer, feed_cb, 0, 0);
}

/* ---- the pub/sub in front of the backlog ---- */

static int rps_publish(struct pw_pubsub *ps, struct pw_msg *m, pw_ack_fn ack, void *ud)
{
    (void)ps;
    return F.inner->ops->publish(F.inner, m, ack, ud);
}

static int rps_subscribe(struct pw_pubsub *ps, const char *ch, size_t chlen, struct pw_sub *s)
{
    (void)ps;
    int rc = F.inner->ops->subscribe(F.inner, ch, chlen, s);
    if (rc == 0)
        feed_start();
    return rc;
}

static void rps_unsubscribe(struct pw_pubsub *ps, struct pw_sub *s)
{
    (void)ps;
    F.inner->ops->unsubscribe(F.inner, s);
}

static int rps_fetch(struct pw_pubsub *ps, const struct pw_fetch_req *rq)
{
    (void)ps;
    /* a client's first fetch starts the feed as its subscription does */
    int rc = F.inner->ops->fetch(F.inner, rq);
    if (rc == 0)
        feed_start();
    return rc;
}

static void rps_cancel(struct pw_pubsub *ps, void *ud)
{
    (void)ps;
    F.inner->ops->cancel(F.inner, ud);
}

static int rps_health(struct pw_pubsub *ps, char *why, size_t whysz)
{
    (void)ps;
    return F.inner->ops->health(F.inner, why, whysz);
}

static void rps_each_channel(struct pw_pubsub *ps, void *ud,
                             void (*fn)(void *ud, const char *ch, size_t msgs, size_t bytes,
                                        size_t subs))
{
    (void)ps;
    F.inner->ops->each_channel(F.inner, ud, fn);
}

static void rps_destroy(struct pw_pubsub *ps) { (void)ps; }

static void rps_stats(struct pw_pubsub *ps, struct pw_pubsub_stats *st)
{
    (void)ps;
    F.inner->ops->stats(F.inner, st);
}

static const struct pw_pubsub_ops rps_ops = {
    rps_publish, rps_subscribe, rps_unsubscribe, rps_fetch, rps_cancel, rps_health,
    rps_each_channel, rps_destroy, NULL, rps_stats,
};

/* ---- server hooks ---- */

static void on_ready(void *ud, uv_loop_t *loop)
{
    (void)ud;
    F.loop = loop;
    uv_timer_init(loop, &F.timer);
    /* the server's handles keep the loop alive, not the feed: after
     * SIGTERM the server ends whether or not the feed is done */
    uv_unref((uv_handle_t *)&F.timer);
    uv_idle_init(loop, &F.kick);
    uv_unref((uv_handle_t *)&F.kick);
    uv_check_init(loop, &F.kicked);
    uv_unref((uv_handle_t *)&F.kicked);
    if (F.in_fd >= 0 && uv_poll_init(loop, &F.in, F.in_fd) == 0)
        uv_unref((uv_handle_t *)&F.in);
    else
        F.r.live = 0, F.in_fd = -1; /* not pollable after all: blocking reads */
    F.timer_init = 1;
}

static void on_log(void *ud, const struct pw_log *e)
{
    (void)ud;
    if (strcmp(e->event, "listen") == 0) {
        fprintf(stderr, "pushwire replay: listening on %s\n", e->detail);
        return;
    }
    if (pw_quiet)
        return;
    if (strcmp(e->event, "error") == 0 || (F.o->verbose && strcmp(e->event, "wire") != 0))
        fprintf(stderr, "pushwire replay: #%llu %s %s%s%s%s%s\n", (unsigned long long)e->conn,
                e->event, e->transport ? e->transport : "", e->channel ? " '" : "",
                e->channel ? e->channel : "", e->channel ? "' " : " ", e->detail ? e->detail : "");
}

int replay_serve_main(const struct replay_opts *o)
{
    memset(&F, 0, sizeof F);
    F.o = o;
    F.channel = o->first_channel ? o->first_channel : "default";
    F.f = replay_open(o->file);
    if (!F.f)
        return PW_EXIT_FAIL;
    pw_treader_init(&F.r, F.f, o->max_line);
    F.in_fd = replay_live(&F.r, F.f, &F.in_flags);
    F.inner = pw_backlog_new(o->backlog, NULL);
    if (!F.inner) {
        pw_err("replay", "out of memory");
        return PW_EXIT_FAIL;
    }
    F.base.ops = &rps_ops;

    const char *listen[1] = {o->serve};
    size_t maxmsg = o->max_line ? o->max_line : PW_TREADER_MAX_LINE_DEFAULT;
    struct pw_server_opts so = {
        .listen = listen,
        .nlisten = 1,
        .backlog = o->backlog,
        .heartbeat = 15,
        .poll_timeout = 120,
        .ping = 30,
        .handshake_timeout = 10,
        .max_message = maxmsg,
        .max_conns = 10000,
        .max_head = 8192,
        .max_headers = 64,
        /* a feed played with --no-delay arrives in bursts */
        .send_buffer = maxmsg + (16u << 20),
        .read_only = 1, /* the feed is the transcript's */
        .verbose = o->verbose,
        .stdin_channel = "default",
        .retry_ms = "1000",
        .log = on_log,
        .pubsub = &F.base,
        .on_ready = on_ready,
    };
    char err[256];
    int rc = pw_server_run(&so, err, sizeof err);
    F.inner->ops->destroy(F.inner);
    pw_treader_free(&F.r);
    replay_live_end(F.in_fd, F.in_flags);
    if (F.f != stdin)
        fclose(F.f);
    if (rc) {
        pw_err("replay", "%s", err[0] ? err : pw_strerror(rc));
        return rc == PW_ENET_ADDR ? PW_EXIT_USAGE : PW_EXIT_FAIL;
    }
    return F.failed ? F.failed : PW_EXIT_OK;
}
