/* backlog.h — channels and the per-channel backlog behind a small
 * interface (struct pw_pubsub) so that a Redis backplane can replace the
 * embedded one without touching the transports.  Messages: proto/msg.h.
 *
 * Ids are opaque strings to everyone but the backend.  The embedded backend
 * numbers messages "1", "2", … per channel.
 */
#ifndef PW_BACKLOG_H
#define PW_BACKLOG_H

#include <stddef.h>
#include <stdint.h>

#include "proto/msg.h"

/* A subscriber: embedded in the connection that owns it.  deliver() is
 * called once per new message, in order, during publish; it must not block
 * or do I/O (queue a reference and return), and must not unsubscribe. */
struct pw_sub {
    void (*deliver)(struct pw_sub *s, struct pw_msg *m);
    /* private (the backend's) */
    struct pw_sub *next, *prev;
    void *chan;
};

/* What fetch_after found. */
struct pw_fetch {
    int gap;                       /* 1: `after` is older than what is kept */
    char first[PW_ID_MAX];         /* gap: first id still held ("" if none) */
    char last[PW_ID_MAX];          /* newest id of the channel ("0" if none) */
};
/* Called for each message after the id, in order; return nonzero to stop. */
typedef int (*pw_fetch_fn)(void *ud, struct pw_msg *m);

struct pw_pubsub;
struct pw_pubsub_ops {
    /* Takes the caller's reference to m (which must not yet be shared),
     * gives it an id, keeps it and delivers it to every subscriber.
     * 0 or PW_ENOMEM. */
    int (*publish)(struct pw_pubsub *ps, struct pw_msg *m);
    /* 0, PW_ENET_CHANNEL or PW_ENOMEM. */
    int (*subscribe)(struct pw_pubsub *ps, const char *ch, size_t chlen, struct pw_sub *s);
    void (*unsubscribe)(struct pw_pubsub *ps, struct pw_sub *s);
    /* Every kept message with an id after `after` (NULL: none, just fill
     * out->last).  An id newer than the newest, or older than the oldest kept
     * minus one, is a gap: out->gap = 1 and every kept message follows.
     * fn may be NULL (only out is filled).
     * 0, PW_ENET_ID (malformed id) or PW_ENET_CHANNEL. */
    int (*fetch_after)(struct pw_pubsub *ps, const char *ch, size_t chlen,
                       const char *after, struct pw_fetch *out, pw_fetch_fn fn, void *ud);
    /* Statistics for /metrics: calls fn for each channel. */
    void (*each_channel)(struct pw_pubsub *ps, void *ud,
                         void (*fn)(void *ud, const char *ch, size_t msgs, size_t bytes,
                                    size_t subs));
    void (*destroy)(struct pw_pubsub *ps);
};
struct pw_pubsub {
    const struct pw_pubsub_ops *ops;
};

/* The embedded backend: keeps the last `keep` (>= 1) messages per channel.
 * NULL on out of memory. */
struct pw_pubsub *pw_backlog_new(size_t keep);

#endif
