/* feed.c — a subscriber's resume, then live messages (feed.h). */
#include "feed.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define PW__FEED_OF(s) ((struct pw_feed *)((char *)(s) - offsetof(struct pw_feed, sub)))

/* What only catching up needs (f->cu). */
struct pw__feed_catchup {
    const char *channel;
    size_t chlen, page_msgs, page_bytes;
    char pos[PW_ID_MAX];         /* resume after this: posk as a string ("": format it) */
    uint8_t at_newest;           /* ops->position: the first fetch asks only where the channel is */
    struct pw_msgid live_last;   /* the newest live id noted while catching up */
};

/* Not while pw_feed_pump is in the backend's fetch (it reads cu->pos and
 * may answer inside): the pump frees it on the way out. */
static void pw__feed_cu_free(struct pw_feed *f)
{
    if (f->pumping)
        return;
    free(f->cu);
    f->cu = NULL;
}

/* pos := id (a string the backend gave, so normally readable) */
static void pw__feed_set_pos(struct pw_feed *f, const char *id)
{
    size_t n = strnlen(id, PW_ID_MAX - 1);
    f->pos_ok = pw_msgid_parse(id, n, &f->posk) == 0;
    if (f->cu) {
        memcpy(f->cu->pos, id, n);
        f->cu->pos[n] = 0;
    }
}

/* 1 if m is not newer than pos (already given, or given by a page). */
static int pw__feed_had(const struct pw_feed *f, const struct pw_msg *m)
{
    const struct pw_msgid *p = &f->posk;
    if (p->form == PW_MSGID_START)
        return 0;
    if (m->ms != p->ms)
        return m->ms < p->ms;
    return m->seq <= p->seq;
}

/* A gap before m (everything after pos cannot be sent; m is the oldest
 * held): 1 when the feed stops or leaves the live state. */
static int pw__feed_gap_at(struct pw_feed *f, const struct pw_msg *m)
{
    char after[PW_ID_MAX];
    if (!pw_msgid_format(after, &f->posk))
        after[0] = 0;
    return f->ops->gap(f, after[0] ? after : NULL, m->id) || f->state != PW_FEED_LIVE;
}

static void pw__feed_live(struct pw_feed *f, struct pw_msg *m)
{
    if (f->pos_ok && f->posk.form != PW_MSGID_START &&
        pw_msgid_has_epoch(m->id, m->id_len, f->posk.epoch, f->posk.epoch_len)) {
        /* after deliver(NULL), the first message tells: one already had means
         * the hole is behind pos (this feed's own pages, which see trims,
         * went past it); one not had comes after a gap.  (An ordinary
         * delivery only reads f->lost: its cache line stays clean.) */
        if (pw__feed_had(f, m)) {
            f->lost = 0; /* rare: a copy the backend sent twice */
            return;
        }
        if (f->lost) {
            f->lost = 0;
            if (pw__feed_gap_at(f, m))
                return;
        }
        /* same epoch: only the numbers move (no parsing per message) */
        f->posk.ms = m->ms;
        f->posk.seq = m->seq;
    } else {
        /* another epoch: the stream was born again after pos (one gap says
         * that and any loss) */
        f->lost = 0;
        if (f->pos_ok && f->posk.form != PW_MSGID_START && pw__feed_gap_at(f, m))
            return;
        pw__feed_set_pos(f, m->id);
    }
    f->ops->msg(f, m, 1);
}

static void pw__feed_deliver(struct pw_sub *s, struct pw_msg *m)
{
    struct pw_feed *f = PW__FEED_OF(s);
    if (!m) {
        /* the backend's live stream skipped; a feed catching up sees trims
         * in its own pages */
        if (f->state == PW_FEED_LIVE)
            f->lost = 1;
        return;
    }
    if (f->state == PW_FEED_LIVE) {
        pw__feed_live(f, m);
        return;
    }
    /* catching up: a page will bring it; remember how far live has got */
    if (f->state == PW_FEED_CATCHUP && pw_msgid_parse(m->id, m->id_len, &f->cu->live_last) == 0)
        f->live_seen = 1;
}

/* 1 if live deliveries noted while catching up went past pos. */
static int pw__feed_behind(const struct pw_feed *f)
{
    if (!f->live_seen || !f->pos_ok)
        return 0;
    if (!pw_msgid_same_epoch(&f->cu->live_last, &f->posk))
        return 1;
    return pw_msgid_cmp(&f->cu->live_last, &f->posk) > 0;
}

static void pw__feed_page(void *ud, const struct pw_page *pg)
{
    struct pw_feed *f = ud;
    f->fetching = 0;
    if (f->state != PW_FEED_CATCHUP)
        return;
    if (f->cu->at_newest) {
        /* where the channel is: the position, then what follows it (live
         * messages noted since the subscription went past it: fetch on) */
        f->cu->at_newest = 0;
        const char *at = pg->rc || !pg->last || !pg->last[0] ? NULL : pg->last;
        if (at)
            pw__feed_set_pos(f, at);
        if (f->ops->position(f, at) || f->state != PW_FEED_CATCHUP)
            return;
        if (!at || !pw__feed_behind(f)) {
            f->state = PW_FEED_LIVE;
            pw__feed_cu_free(f);
            return;
        }
        f->ops->hungry(f);
        return;
    }
    if (pg->rc) {
        pw_feed_stop(f);
        f->ops->failed(f, pg->rc);
        return;
    }
    if (pg->gap && f->ops->gap(f, f->cu->pos[0] ? f->cu->pos : NULL, pg->first ? pg->first : ""))
        return;
    size_t i = 0;
    for (; i < pg->n && f->state == PW_FEED_CATCHUP; i++) {
        int r = f->ops->msg(f, pg->msgs[i], 0);
        if (r < 0 || f->state != PW_FEED_CATCHUP)
            return;
        if (r > 0)
            break;
    }
    if (f->state != PW_FEED_CATCHUP)
        return;
    if (i)
        pw__feed_set_pos(f, pg->msgs[i - 1]->id);
    if (i == pg->n && pg->end) {
        /* everything up to `last` is given (or there was nothing after pos) */
        if (pg->last && pg->last[0])
            pw__feed_set_pos(f, pg->last);
        if (!pw__feed_behind(f)) {
            f->state = PW_FEED_LIVE;
            pw__feed_cu_free(f);
            return;
        }
    }
    f->ops->hungry(f);
}

void pw_feed_pump(struct pw_feed *f)
{
    if (!pw_feed_wants(f))
        return;
    struct pw__feed_catchup *cu = f->cu;
    if (!cu->pos[0] && f->pos_ok && !pw_msgid_format(cu->pos, &f->posk))
        f->pos_ok = 0;
    struct pw_fetch_req rq = {cu->channel, cu->chlen, cu->at_newest ? NULL : cu->pos,
                              cu->at_newest ? 1 : cu->page_msgs, cu->page_bytes, pw__feed_page, f};
    f->fetching = 1;
    uint8_t outer = f->pumping; /* a pump inside a fetch (hungry pumping at once) */
    f->pumping = 1;
    int rc = f->ps->ops->fetch(f->ps, &rq);
    f->pumping = outer;
    if (f->state != PW_FEED_CATCHUP) /* live or stopped inside: cu was kept for rq */
        pw__feed_cu_free(f);
    if (rc) {
        f->fetching = 0;
        pw_feed_stop(f);
        f->ops->failed(f, rc);
    }
}

int pw_feed_start(struct pw_feed *f, struct pw_pubsub *ps, const char *ch, size_t chlen,
                  const char *after, const struct pw_feed_ops *ops, void *ud, size_t page_msgs,
                  size_t page_bytes)
{
    memset(f, 0, sizeof *f);
    f->ps = ps;
    f->ops = ops;
    f->ud = ud;
    f->sub.deliver = pw__feed_deliver;
    int at_newest = !after && ops->position;
    if (after || at_newest) {
        if (!(f->cu = calloc(1, sizeof *f->cu)))
            return PW_ENOMEM;
        f->cu->channel = ch;
        f->cu->chlen = chlen;
        f->cu->page_msgs = page_msgs ? page_msgs : 1;
        f->cu->page_bytes = page_bytes;
        f->cu->at_newest = (uint8_t)at_newest;
        if (after)
            pw__feed_set_pos(f, after);
    }
    int rc = ps->ops->subscribe(ps, ch, chlen, &f->sub);
    if (rc) {
        pw__feed_cu_free(f);
        return rc;
    }
    if (!after && !at_newest) {
        f->state = PW_FEED_LIVE;
        return 0;
    }
    f->state = PW_FEED_CATCHUP;
    pw_feed_pump(f);
    return 0;
}

void pw_feed_stop(struct pw_feed *f)
{
    if (f->state == PW_FEED_OFF)
        return;
    f->state = PW_FEED_OFF;
    pw__feed_cu_free(f);
    if (f->sub.chan)
        f->ps->ops->unsubscribe(f->ps, &f->sub);
    if (f->fetching) {
        f->fetching = 0;
        f->ps->ops->cancel(f->ps, f);
    }
}
