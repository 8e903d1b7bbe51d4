/* backlog.h — channels and their history behind one interface (struct
 * pw_pubsub), so that a Redis backplane or several event loops can replace
 * the embedded backend without touching the transports.  Messages:
 * proto/msg.h; ids: proto/msgid.h.
 *
 * The interface is asynchronous-ready: a publish is acknowledged, and a
 * fetch answered, through a callback that a backend may call before the
 * call returns (the embedded backend always does) or later from the loop
 * (a backend that waits on a network).  Whoever starts one passes a `ud`;
 * cancel(ud) guarantees that no callback with that ud comes afterwards, so
 * a connection that goes away calls it and forgets the rest.
 *
 * Single-threaded: every call and every callback happens on the loop that
 * owns the pub/sub.
 */
#ifndef PW_BACKLOG_H
#define PW_BACKLOG_H

#include <stddef.h>
#include <stdint.h>

#include "proto/msg.h"

/* A subscriber: embedded in whoever owns it.  deliver() is called once per
 * new message, in id order, with the message borrowed (take a reference to
 * keep it); it must not block or do I/O (queue a reference and return), and
 * must not unsubscribe.
 *
 * What a subscription promises, with fetch below (feed.h builds a resume
 * on it): once subscribe() has returned, every message newer than the
 * `last` of a page fetched afterwards is delivered, in id order, and none is
 * skipped.  A message may also be delivered that such a page already held
 * (a backend whose live stream lags its history): receivers drop what they
 * have already had by its id.
 *
 * The one exception: a backend that lost its live stream for a while (a
 * network backend's link) and finds, catching up, that its history was
 * trimmed past the last message it delivered, calls deliver(s, NULL) first:
 * what comes next does not follow on from what came before (feed.c turns
 * it into a gap when it skips something the subscriber has not had). */
struct pw_sub {
    void (*deliver)(struct pw_sub *s, struct pw_msg *m);
    /* private (the backend's) */
    struct pw_sub *next, *prev;
    void *chan;
};

/* For backends: a channel's subscribers are a ring with a sentinel head. */
static inline void pw_sub_link(struct pw_sub *head, struct pw_sub *s, void *chan)
{
    s->chan = chan;
    s->next = head;
    s->prev = head->prev;
    head->prev->next = s;
    head->prev = s;
}

static inline void pw_sub_unlink(struct pw_sub *s)
{
    s->prev->next = s->next;
    s->next->prev = s->prev;
    s->next = s->prev = NULL;
}

/* One page of a channel's history, as fetch found it.  Lives only during
 * the callback: messages are borrowed (take a reference to keep one). */
struct pw_page {
    int rc;                      /* 0, or why there is no page (PW_ENET_BACKEND …) */
    int gap;                     /* `after` cannot be honoured (older than what is held,
                                    never issued, another epoch, unreadable): the page
                                    starts at the oldest message held */
    const char *first;           /* gap: the oldest id held, "" if none */
    const char *last;            /* the channel's newest id when the page was read;
                                    "EPOCH:0" (or "0") when it holds nothing */
    struct pw_msg *const *msgs;  /* the messages after `after`, oldest first */
    size_t n;
    int end;                     /* 1: msgs reach `last` (nothing newer was held) */
};

/* What to fetch.  The backend copies what it keeps: the request may go as
 * soon as fetch() returns. */
struct pw_fetch_req {
    const char *channel;
    size_t chlen;
    const char *after;           /* resume after this id (NUL-terminated, any bytes a
                                    client sent); NULL: no messages, only `last` */
    size_t max_msgs;             /* at most this many messages (>= 1) */
    size_t max_bytes;            /* and about this many data bytes (the first message
                                    comes whatever its size) */
    void (*done)(void *ud, const struct pw_page *pg);
    void *ud;
};

/* A publish's acknowledgement: rc 0 once the backend holds m (m->id is
 * set), or why it does not (PW_ENET_BACKEND: unavailable, PW_ENOMEM).
 * m is borrowed for the call. */
typedef void (*pw_ack_fn)(void *ud, struct pw_msg *m, int rc);

/* Totals of a backend's history, and what left it and why. */
struct pw_pubsub_stats {
    size_t channels;             /* channels held (with history or subscribers) */
    size_t messages;             /* messages held */
    size_t bytes;                /* bytes charged to the history budget */
    size_t budget;               /* the budget (--history-bytes), 0: none */
    uint64_t evicted_backlog;    /* messages pushed out by --backlog (a channel's ring) */
    uint64_t evicted_budget;     /* ... by --history-bytes */
    uint64_t evicted_ttl;        /* ... by --message-ttl */
    uint64_t channels_expired;   /* channels forgotten (no subscriber, no history left) */
    uint64_t channels_refused;   /* publishes refused by --max-channels */
};

struct pw_pubsub;
struct pw_pubsub_ops {
    /* Takes the caller's reference to m (which must not yet be shared),
     * gives it an id, keeps it and delivers it to every subscriber; then
     * ack(ud, m, rc) is called once (ack may be NULL).  Returns 0 (the ack
     * will come, perhaps already came) or a negative code (no ack; m was
     * not published). */
    int (*publish)(struct pw_pubsub *ps, struct pw_msg *m, pw_ack_fn ack, void *ud);
    /* 0, PW_ENET_CHANNEL or PW_ENOMEM.  Deliveries start at once. */
    int (*subscribe)(struct pw_pubsub *ps, const char *ch, size_t chlen, struct pw_sub *s);
    void (*unsubscribe)(struct pw_pubsub *ps, struct pw_sub *s);
    /* One page of history after rq->after.  0: rq->done(rq->ud, page) will
     * be called once (perhaps before fetch returns); PW_ENET_CHANNEL or
     * PW_ENOMEM: it will not.  A resume that cannot be honoured is not an
     * error but a page with gap set (and every id the backend cannot read is
     * such a resume). */
    int (*fetch)(struct pw_pubsub *ps, const struct pw_fetch_req *rq);
    /* No fetch page and no ack for ud after this returns. */
    void (*cancel)(struct pw_pubsub *ps, void *ud);
    /* 0 while the backend works; else PW_ENET_BACKEND with why (for
     * /healthz) filled, NUL-terminated. */
    int (*health)(struct pw_pubsub *ps, char *why, size_t whysz);
    /* Statistics for /metrics: calls fn for each channel. */
    void (*each_channel)(struct pw_pubsub *ps, void *ud,
                         void (*fn)(void *ud, const char *ch, size_t msgs, size_t bytes,
                                    size_t subs));
    void (*destroy)(struct pw_pubsub *ps);
    /* The backend's own Prometheus lines (# HELP, # TYPE, samples) for
     * /metrics, written into out; returns their length (< cap).  NULL: none. */
    size_t (*metrics)(struct pw_pubsub *ps, char *out, size_t cap);
    /* Totals for /metrics (whatever the backend does not count stays 0);
     * may be NULL. */
    void (*stats)(struct pw_pubsub *ps, struct pw_pubsub_stats *st);
};
struct pw_pubsub {
    const struct pw_pubsub_ops *ops;
};

/* The embedded backend: keeps the last `keep` (>= 1) messages per channel,
 * ids EPOCH:1, EPOCH:2, … per channel with one epoch per backend (made
 * when it is created: a restart is a new epoch).  epoch NULL: a fresh one
 * (pw_msgid_epoch_new); else that epoch (tests).  NULL on out of memory or
 * a bad epoch.  No other limit: pw_backlog_new_limits. */
struct pw_pubsub *pw_backlog_new(size_t keep, const char *epoch);

/* Limits of the embedded backend's memory.
 *
 * Budget: every held message is charged its real cost (pw_backlog_cost:
 * data, names, the wire encodings cached for live subscribers, and the
 * bookkeeping), and a channel with history its own.  A publish that takes
 * the total over `history_bytes` evicts, oldest first, messages of channels
 * holding more than their fair share (the budget divided by the channels
 * with history): the oldest PW_BACKLOG_SCAN messages are looked at for one;
 * when none of them is over its share, the publishing channel's oldest goes
 * if that channel is over its share, else the oldest message held.  The
 * message being published is never evicted by its own publish (the total
 * may exceed the budget by that one message).
 *
 * Age: a message older than `ttl_ms` leaves the history; expiry runs on
 * every call into the backend (publish, subscribe, fetch, statistics), the
 * oldest first; the server asks for statistics on its tick, so an idle
 * server returns the memory within a tick too.
 *
 * Channels: a channel with no subscriber and no history left is forgotten
 * at once.  Its ids are never reissued: a channel created later under the
 * same name continues above every id the forgotten ones had issued (so a
 * resume from before gets a gap).  A publish that would create a channel
 * beyond `max_channels` fails with PW_ENET_CHANNELS; subscribing always
 * creates one (a subscriber-only channel lives as long as its connections,
 * which --max-conns bounds).
 *
 * Evicted or expired messages leave a channel's oldest end, so a resume
 * into what they covered is a gap (struct pw_page).
 *
 * Replicas (`replica`, hub.c: one backlog per worker, fed the same
 * publishes in the same order): the history and the ids must then be a
 * function of that sequence alone, not of who subscribed where, so
 *  - a message is charged without the wire encodings its subscribers cache
 *    (they differ by worker);
 *  - a channel whose history runs out counts as forgotten (its ids raise
 *    the floor, channels_expired counts it) even if subscribers keep its
 *    struct; its next publish numbers from the floor, as a new channel's
 *    would, and a fetch sees it as a channel not held;
 *  - max_channels counts channels with history (subscriber-only channels
 *    differ by worker);
 *  - now_ms is the replica's clock: the time the sequence carries (the
 *    hub stamps each item), so ages are cut at the same point everywhere. */
struct pw_backlog_limits {
    size_t keep;                 /* messages per channel (>= 1) */
    size_t history_bytes;        /* 0: no budget */
    uint64_t ttl_ms;             /* 0: messages do not age out */
    size_t max_channels;         /* 0: no limit */
    uint64_t (*now_ms)(void);    /* a monotonic clock; NULL: CLOCK_MONOTONIC (tests set it) */
    int replica;                 /* one of several copies kept alike (above) */
};
#define PW_BACKLOG_SCAN 256
struct pw_pubsub *pw_backlog_new_limits(const struct pw_backlog_limits *lim, const char *epoch);
/* Bytes charged for holding m (with the encodings it carries now). */
size_t pw_backlog_cost(const struct pw_msg *m);
/* Bytes charged for a channel with history, besides its messages. */
size_t pw_backlog_chan_cost(size_t name_len);
/* CLOCK_MONOTONIC in ms: now_ms's default. */
uint64_t pw_backlog_monotonic_ms(void);
/* The backend's epoch (NUL-terminated, lives as long as it). */
const char *pw_backlog_epoch(const struct pw_pubsub *ps);

#endif
