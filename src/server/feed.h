/* feed.h — one subscriber's way through a channel: a resume (the history
 * after an id, page by page, as fast as the subscriber's transport asks for
 * pages) and then live messages, in id order, with no duplicate and no hole,
 * whether the backend (backlog.h) answers fetches at once or later.
 *
 * How: the feed subscribes first and then fetches pages after its position
 * `pos` (the last id it gave).  While it is catching up, live deliveries are
 * not sent, only noted (the newest one's id: nothing is buffered).  A page
 * that reaches the channel's newest id (`end`) ends the catching up when no
 * live message newer than pos was noted meanwhile; otherwise it fetches on.
 * From then on live messages go out, except those not newer than pos (a
 * backend whose live stream lags its fetches sends some twice).  A live
 * message of another epoch than pos (the stream was born again) is preceded
 * by a gap.  When the history was trimmed past pos between two pages, the
 * next page says so and the feed passes the gap on; when a backend's live
 * stream skipped (deliver(NULL): it was cut off while the history was
 * trimmed), the first live message not yet had comes after a gap: nothing
 * is skipped silently.
 *
 * Pacing is the transport's: ops->msg refuses a history message when its
 * output is full, the page stops there, ops->hungry says the feed wants more,
 * and the transport calls pw_feed_pump once its output has drained.  So a
 * replay costs the memory of one page and the transport's output bound, not
 * the size of the history.
 *
 * Memory: a feed is embedded or allocated by its transport, which must not
 * free it inside one of its callbacks (stop it there; free it later).  The
 * channel name is borrowed and must outlive the feed's subscription.  What
 * only catching up needs (the position as a string, the page size, the
 * newest live id noted) is a heap block from pw_feed_start with `after` to
 * the end of the catching up or pw_feed_stop: a live feed is small, since
 * most subscribers are idle and live.
 */
#ifndef PW_FEED_H
#define PW_FEED_H

#include "backlog.h"

struct pw_feed;

struct pw_feed_ops {
    /* A message for the subscriber.  live 0 (history): return 0 when taken,
     * 1 when the output is full (not taken: the page stops, the feed goes on
     * from the last message taken at the next pw_feed_pump).  Take at least
     * the first message of a page asked for while the output was not full
     * (refuse only when already full, not because of this message's size),
     * or a page that starts with a gap would be asked for again and again.  live 1: must
     * take it (0), as a live delivery.  Either: < 0 means the subscriber is
     * going away; the feed does nothing more. */
    int (*msg)(struct pw_feed *f, struct pw_msg *m, int live);
    /* Before the messages that follow: everything after `after` (NULL: an id
     * that could not be read) cannot be sent; `first` is the oldest id held
     * ("" if none).  Nonzero: stop (the transport ends the stream). */
    int (*gap)(struct pw_feed *f, const char *after, const char *first);
    /* The feed wants another page: call pw_feed_pump when the output can
     * take one (at once is fine). */
    void (*hungry)(struct pw_feed *f);
    /* A page could not be fetched (rc: PW_ENET_BACKEND, PW_ENOMEM): the feed
     * has stopped; the transport ends the stream. */
    void (*failed)(struct pw_feed *f, int rc);
    /* Optional.  When set, a feed started with no `after` does not go live
     * at once: it asks the backend where the channel is and calls position
     * with its newest id ("EPOCH:0", or "0", when it holds nothing) before
     * any message, then gives every message after that id (so a client
     * told the position loses nothing published after it, even before the
     * first message comes).  id NULL: the backend could not say (down,
     * busy); the feed is then live from now, as without position.
     * Nonzero: stop (the transport ends the stream). */
    int (*position)(struct pw_feed *f, const char *id);
};

enum pw_feed_state { PW_FEED_OFF = 0, PW_FEED_CATCHUP, PW_FEED_LIVE };

struct pw__feed_catchup;

struct pw_feed {
    /* public, read-only */
    uint8_t state;               /* enum pw_feed_state */
    uint8_t fetching;            /* a page is on its way */
    void *ud;                    /* the transport's */
    /* private */
    uint8_t pos_ok, live_seen, pumping;
    uint8_t lost;                /* the backend's live stream skipped (deliver(NULL)) */
    struct pw_sub sub;
    const struct pw_feed_ops *ops;
    struct pw_pubsub *ps;
    struct pw_msgid posk;        /* the position: the id asked, then the last given (pos_ok) */
    struct pw__feed_catchup *cu; /* heap while catching up (feed.c), else NULL */
};

/* Id given, but unreadable (too long, bad percent-encoding): pass as `after`
 * to get a gap whose after is NULL. */
#define PW_FEED_UNREADABLE ""

/* Subscribes to the channel and, when after is not NULL, starts the resume
 * after it (the first page may come, and ops may be called, before this
 * returns); with no after, live at once, or with ops->position, after the
 * channel's position once the backend has said it.  page_msgs/page_bytes: the size of a page asked of the backend
 * (messages, data bytes).  0, or PW_ENET_CHANNEL / PW_ENOMEM (nothing
 * started). */
int pw_feed_start(struct pw_feed *f, struct pw_pubsub *ps, const char *ch, size_t chlen,
                  const char *after, const struct pw_feed_ops *ops, void *ud, size_t page_msgs,
                  size_t page_bytes);
/* The next page, if the feed is catching up and none is on its way. */
void pw_feed_pump(struct pw_feed *f);
/* Unsubscribes and cancels a page on its way; no callback afterwards.
 * Safe to call twice, and inside the feed's callbacks. */
void pw_feed_stop(struct pw_feed *f);
/* 1 while the feed wants pages and none is on its way. */
static inline int pw_feed_wants(const struct pw_feed *f)
{
    return f->state == PW_FEED_CATCHUP && !f->fetching;
}

#endif
