/* backlog.h — channels, messages and the per-channel backlog (SPEC §2),
 * behind a small interface (struct pw_pubsub) so that a Redis backplane can
 * replace the embedded one without touching the transports.
 *
 * Messages are immutable once published and reference counted: the backlog
 * ring holds one reference, and every subscriber queue that still has to
 * send it holds one more; no subscriber copies the bytes.  Single-threaded
 * (one event loop): counts are plain integers.
 *
 * Ids are opaque strings to everyone but the backend.  The embedded backend
 * numbers messages "1", "2", … per channel.
 */
#ifndef PW_BACKLOG_H
#define PW_BACKLOG_H

#include <stddef.h>
#include <stdint.h>

#include "pw_err.h"

#define PW_CHANNEL_MAX 128
#define PW_EVENT_MAX 128
#define PW_ID_MAX 48 /* room for a Redis stream id */

/* Number of cached wire encodings a message can carry (see pw_msg.enc). */
#define PW_MSG_NENC 4

struct pw_msg {
    uint32_t refs;            /* private */
    uint8_t binary;           /* 1: came in as a binary WebSocket message */
    uint8_t id_len, event_len, channel_len;
    uint64_t seq;             /* embedded backend: the numeric id */
    size_t len;               /* data bytes */
    const char *id;           /* NUL-terminated, points into this allocation */
    const char *event;        /* NUL-terminated, "message" by default */
    const char *channel;      /* NUL-terminated */
    /* Lazily built wire encodings (SSE event, WebSocket frame, …), owned by
     * the message and freed with it.  The server decides what slot means
     * what; a slot once set never changes (the message stays immutable). */
    struct { uint8_t *p; size_t len; } enc[PW_MSG_NENC];
    uint8_t data[];           /* len bytes + NUL, then id, event, channel */
};

/* New message with one reference, or NULL (out of memory).  event NULL or
 * "" means "message". */
struct pw_msg *pw_msg_new(const char *channel, size_t chlen, const char *event,
                          const void *data, size_t len, int binary);
static inline struct pw_msg *pw_msg_ref(struct pw_msg *m) { m->refs++; return m; }
void pw_msg_unref(struct pw_msg *m);
/* Sets id and seq (backends only, before the message is shared). */
void pw_msg_set_id(struct pw_msg *m, uint64_t seq);

/* 1 if name[0..len) is a valid channel name: 1–128 of [A-Za-z0-9._~-]. */
int pw_channel_valid(const char *name, size_t len);
/* 1 if an event name is acceptable: 1–128 bytes, no CR, LF or NUL. */
int pw_event_valid(const char *name, size_t len);

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
