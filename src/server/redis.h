/* redis.h — the Redis backplane behind struct pw_pubsub (backlog.h): every
 * channel is a Redis Stream, so that several servers share channels, ids
 * and history, and a restart loses nothing Redis holds.  Key layout and the
 * notification format: proto/redis_wire.h and docs/REDIS.md.
 *
 * Connections on the server's libuv loop, never a blocking call: one
 * for commands (one per primary in a Cluster: CLUSTER SLOTS, MOVED, ASK;
 * publishes by EVALSHA of a script that makes the channel's
 * epoch when missing, XADDs and PUBLISHes a notification; pages of history
 * by another script around XRANGE), pipelined; one subscribed to the
 * notifications of the channels this node has subscribers for.  A channel
 * goes live only after a page read after its SUBSCRIBE took effect, and
 * again after any reconnection, so a subscriber misses nothing Redis holds;
 * notifications that come while a channel catches up are kept (bounded:
 * past the bound they are dropped and the stream is read again).
 *
 * Bounds: commands in flight (past them a publish is refused as "backend
 * unavailable"), bytes of a reply being read, notes kept per channel.  A
 * link with a command unanswered for PW_REDIS_TIMEOUT_MS is dropped and
 * made again with backoff.
 */
#ifndef PW_REDIS_H
#define PW_REDIS_H

#include <stddef.h>

#include <uv.h>

#include "proto/redis_wire.h"
#include "server/backlog.h"

#define PW_REDIS_TIMEOUT_MS 3000

struct pw_redis_opts {
    struct pw_redis_url url;
    size_t backlog;          /* MAXLEN ~ per channel stream */
    size_t max_message;      /* the largest message: bounds what a reply may hold */
    /* one line per state change ("connected to …", "link lost: …"); may be NULL */
    void (*log)(void *ud, const char *line);
    void *ud;
};

/* A backend not yet connected: NULL on out of memory.  The options are
 * copied. */
struct pw_pubsub *pw_redis_new(const struct pw_redis_opts *o);
/* Starts connecting on loop (the server's, from its on_ready).  Its handles
 * are unreferenced: the server decides when the loop ends and closes them;
 * destroy() (after the loop is gone) frees the rest without touching it. */
void pw_redis_attach(struct pw_pubsub *ps, uv_loop_t *loop);

#endif
