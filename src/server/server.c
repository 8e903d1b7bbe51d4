/* server.c — the loop: listeners, connections, the shared read buffer, the
 * corked output queue, timers, signals and stdin publishing.  It knows no
 * protocol: what depends on a connection's transport goes through c->ops
 * (srv.h). */
#include "srv.h"
#include "srv_auth.h"

#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub.h"

static void srv__dirty(struct srv_conn *c);
static void srv__idle_cb(uv_idle_t *h);
static void srv__wake(struct srv *s);
static void srv__pump_ready(struct srv *s);
static void srv__hold_cb(uv_timer_t *t);

/* ---- logging (formatted by the applet) ---- */

void srv_log(struct srv *s, struct srv_conn *c, const char *event, int status, int code,
             const char *fmt, ...)
{
    if (!s->o->log || (c && s->o->quiet))
        return;
    char detail[SRV_LOG_DETAIL_MAX], peer[SRV_ADDR_MAX] = "";
    detail[0] = 0;
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(detail, sizeof detail, fmt, ap);
        va_end(ap);
    }
    struct pw_log ev = {0};
    ev.event = event;
    if (c) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (c->fd >= 0 && getpeername(c->fd, (struct sockaddr *)&ss, &len) == 0)
            pw_net_format_addr((struct sockaddr *)&ss, peer, sizeof peer);
        ev.conn = c->id;
        ev.peer = peer[0] ? peer : NULL;
        ev.transport = c->ops->name;
        ev.channel = c->channel;
    }
    ev.status = status;
    ev.code = code;
    ev.detail = detail[0] ? detail : NULL;
    if (s->hub) /* one writer: workers' lines never interleave */
        pw_hub_log_lock(s->hub, 1);
    s->o->log(s->o->ud, &ev);
    if (s->hub)
        pw_hub_log_lock(s->hub, 0);
}

/* ---- output queue ---- */

static uint8_t *srv__chunk_get(struct srv *s)
{
    if (s->pool) {
        uint8_t *p = s->pool;
        s->pool = *(void **)p;
        s->npool--;
        if (s->npool < s->pool_low)
            s->pool_low = s->npool;
        return p;
    }
    return malloc(SRV_CHUNK);
}

static void srv__seg_release(struct srv *s, struct srv_seg *g)
{
    if (g->ref)
        pw_msg_unref(g->ref);
    else if (g->lent)
        return; /* the read buffer's */
    else if (g->cap == SRV_CHUNK && s->npool < SRV_POOL_MAX) {
        *(void **)g->base = s->pool;
        s->pool = g->base;
        s->npool++;
    } else
        free(g->base);
}

/* Every tick: chunks the pool held all through the last one were not
 * needed (a burst of new connections' answers, say), so they go back to
 * malloc, down to SRV_POOL_KEEP; a steady fan-out keeps what it uses. */
static void srv__pool_trim(struct srv *s)
{
    size_t spare = s->pool_low > SRV_POOL_KEEP ? s->pool_low - SRV_POOL_KEEP : 0;
    for (; spare && s->pool; spare--) {
        void *p = s->pool;
        s->pool = *(void **)p;
        s->npool--;
        free(p);
    }
    s->pool_low = s->npool;
}

static struct srv_seg *srv__seg_new(struct srv_conn *c)
{
    if (c->nseg == c->capseg) {
        if (c->capseg >= SRV_SEG_MAX)
            return NULL;
        uint16_t nc = c->capseg ? (uint16_t)(c->capseg * 2) : SRV_SEG_FIRST;
        struct srv_seg *g = realloc(c->seg, nc * sizeof *g);
        if (!g)
            return NULL;
        c->seg = g;
        c->capseg = nc;
    }
    struct srv_seg *g = &c->seg[c->nseg++];
    memset(g, 0, sizeof *g);
    return g;
}

/* The queue's end, to take back what a write that failed half-way added:
 * a frame is queued whole or not at all (a header without its payload
 * would corrupt the stream for everything after it). */
struct srv__qmark {
    uint16_t nseg;
    uint32_t end;  /* the last segment's end then */
    size_t qbytes;
};

static struct srv__qmark srv__mark(const struct srv_conn *c)
{
    return (struct srv__qmark){c->nseg, c->nseg ? c->seg[c->nseg - 1].end : 0, c->qbytes};
}

static void srv__undo(struct srv_conn *c, struct srv__qmark m)
{
    while (c->nseg > m.nseg)
        srv__seg_release(c->srv, &c->seg[--c->nseg]);
    if (m.nseg)
        c->seg[m.nseg - 1].end = m.end;
    c->qbytes = m.qbytes;
}

int srv_out(struct srv_conn *c, const void *p, size_t n)
{
    if (c->closing || n == 0)
        return c->closing ? PW_ENET_CLOSED : 0;
    const uint8_t *src = p;
    struct srv__qmark mark = srv__mark(c);
    while (n) {
        struct srv_seg *g = c->nseg ? &c->seg[c->nseg - 1] : NULL;
        if (!g || g->ref || g->end == g->cap) {
            g = srv__seg_new(c);
            if (!g) {
                srv__undo(c, mark);
                return PW_ENOMEM;
            }
            size_t cap = n > SRV_CHUNK ? n : SRV_CHUNK;
            g->base = cap == SRV_CHUNK ? srv__chunk_get(c->srv) : malloc(cap);
            if (!g->base) {
                c->nseg--;
                srv__undo(c, mark);
                return PW_ENOMEM;
            }
            g->cap = (uint32_t)cap;
        }
        size_t k = g->cap - g->end;
        if (k > n)
            k = n;
        memcpy(g->base + g->end, src, k);
        g->end += (uint32_t)k;
        src += k;
        n -= k;
        c->qbytes += k;
    }
    srv__dirty(c);
    return 0;
}

int srv_out2(struct srv_conn *c, const void *a, size_t an, const void *b, size_t bn)
{
    struct srv_seg *g = c->nseg ? &c->seg[c->nseg - 1] : NULL;
    if (!g || g->ref || g->cap - g->end < an + bn || c->closing) {
        struct srv__qmark mark = srv__mark(c);
        int rc = srv_out(c, a, an);
        if (rc == 0 && (rc = srv_out(c, b, bn)) != 0)
            srv__undo(c, mark); /* both or neither */
        return rc;
    }
    /* the usual case: both fit the last chunk */
    memcpy(g->base + g->end, a, an);
    if (bn)
        memcpy(g->base + g->end + an, b, bn);
    g->end += (uint32_t)(an + bn);
    c->qbytes += an + bn;
    srv__dirty(c);
    return 0;
}

int srv_out_lend(struct srv_conn *c, const uint8_t *head, size_t hl, const uint8_t *p, size_t n)
{
    struct srv *s = c->srv;
    uintptr_t at = (uintptr_t)p, lo = (uintptr_t)s->rbuf, hi = (uintptr_t)s->lend_end;
    if (s->lend != c || c->closing || at < lo + hl || at > hi || n > hi - at)
        return srv_out2(c, head, hl, p, n);
    struct srv_seg *g = srv__seg_new(c);
    if (!g)
        return PW_ENOMEM;
    uint8_t *f = (uint8_t *)p - hl; /* consumed bytes of the read buffer, ours again */
    memcpy(f, head, hl);
    g->base = f;
    g->end = g->cap = (uint32_t)(hl + n); /* full: srv_out starts a new segment after it */
    g->lent = 1;
    c->qbytes += hl + n;
    s->lent = 1;
    srv__dirty(c);
    return 0;
}

/* Lent segments (srv_out_lend) not written yet become copies: the read
 * buffer is about to be reused.  A read of small frames lends one segment
 * per echo; their copies are packed into the chunk before them where they
 * fit, as srv_out would have written them (one chunk per echo made a queue
 * of 33-byte echoes cost 4 KiB each and ran out of segments). */
static int srv__unlend(struct srv_conn *c)
{
    uint16_t j = 0, i = 0;
    int rc = 0;
    for (; i < c->nseg; i++) {
        struct srv_seg g = c->seg[i];
        if (g.lent) {
            uint32_t len = g.end - g.start;
            struct srv_seg *t = j ? &c->seg[j - 1] : NULL;
            if (t && !t->ref && !t->lent && t->cap - t->end >= len) {
                memcpy(t->base + t->end, g.base + g.start, len);
                t->end += len;
                continue;
            }
            uint8_t *b = len <= SRV_CHUNK ? srv__chunk_get(c->srv) : malloc(len);
            if (!b) {
                rc = PW_ENOMEM;
                break;
            }
            memcpy(b, g.base + g.start, len);
            g.base = b;
            g.start = 0;
            g.end = len;
            g.cap = len <= SRV_CHUNK ? SRV_CHUNK : len;
            g.lent = 0;
        }
        c->seg[j++] = g;
    }
    if (i < c->nseg) /* out of memory: the rest as it was (the caller closes) */
        memmove(&c->seg[j], &c->seg[i], (size_t)(c->nseg - i) * sizeof *c->seg);
    c->nseg = (uint16_t)(j + (c->nseg - i));
    return rc;
}

int srv_outf(struct srv_conn *c, const char *fmt, ...)
{
    char tmp[SRV_OUTF_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return PW_ETOOBIG;
    return srv_out(c, tmp, (size_t)n);
}

int srv_out_msg(struct srv_conn *c, struct pw_msg *m, int enc)
{
    size_t len = m->enc[enc].len;
    if (c->closing)
        return PW_ENET_CLOSED;
    if (len <= SRV_COPY_MAX)
        return srv_out(c, m->enc[enc].p, len);
    struct srv_seg *g = srv__seg_new(c);
    if (!g)
        return PW_ENOMEM;
    g->ref = pw_msg_ref(m);
    g->base = m->enc[enc].p;
    g->end = (uint32_t)len;
    c->qbytes += len;
    srv__dirty(c);
    return 0;
}

int srv_out_msg_once(struct srv_conn *c, struct pw_msg *m, int enc,
                     int (*build)(struct pw_msg *m, int enc, struct pw_buf *b))
{
    if (m->enc[enc].p)
        return srv_over_limit(c, m->enc[enc].len) ? PW_ENET_SLOW : srv_out_msg(c, m, enc);
    struct pw_buf *b = &c->srv->scratch;
    pw_buf_reset(b);
    int rc = build(m, enc, b);
    if (rc == 0)
        rc = srv_over_limit(c, b->len) ? PW_ENET_SLOW : srv_out(c, b->p, b->len);
    if (b->cap > SRV_SCRATCH_KEEP)
        pw_buf_free(b);
    return rc;
}

int srv_over_limit(struct srv_conn *c, size_t more)
{
    /* a subscriber is dropped only when more than one message is waiting:
     * serve sets --send-buffer to at least --max-message + 16 KiB, but an
     * encoding may be larger than the message (a pushwire.v1 envelope, SSE
     * base64: 4/3 of binary data; JSON escapes), so the floor is per message */
    size_t cap = c->srv->o->send_buffer;
    if (more <= SIZE_MAX - SRV_SEND_SLACK && cap < more + SRV_SEND_SLACK)
        cap = more + SRV_SEND_SLACK;
    /* a message is at most two segments (a frame's header and its shared
     * encoding): past that the queue could not take it whole */
    return c->qbytes + more > cap || c->nseg + 2 > SRV_SEG_MAX;
}

/* drop n written bytes from the front of the queue */
void srv__consume(struct srv_conn *c, size_t n)
{
    uint16_t i = 0;
    c->qbytes -= n;
    while (n && i < c->nseg) {
        struct srv_seg *g = &c->seg[i];
        size_t have = g->end - g->start;
        if (n < have) {
            g->start += (uint32_t)n;
            break;
        }
        n -= have;
        srv__seg_release(c->srv, g);
        i++;
    }
    /* a fully written last chunk could be reused, but keeping it would cost
     * an idle connection a chunk: give it back */
    if (i) {
        memmove(c->seg, c->seg + i, (c->nseg - i) * sizeof *c->seg);
        c->nseg = (uint16_t)(c->nseg - i);
    }
    if (c->nseg == 0 && c->capseg > SRV_SEG_KEEP) { /* a burst's big array */
        free(c->seg);
        c->seg = NULL;
        c->capseg = 0;
    }
}

static void srv__drop_queue(struct srv_conn *c)
{
    for (uint16_t i = 0; i < c->nseg; i++) {
        c->qbytes -= c->seg[i].end - c->seg[i].start;
        srv__seg_release(c->srv, &c->seg[i]);
    }
    c->nseg = 0;
}

/* The queue's first segments as an iovec; returns how many, *n their bytes. */
static int srv__iov(const struct srv_conn *c, struct iovec *iov, size_t *n)
{
    int k = c->nseg < SRV_IOV ? c->nseg : SRV_IOV;
    *n = 0;
    for (int i = 0; i < k; i++) {
        iov[i].iov_base = c->seg[i].base + c->seg[i].start;
        iov[i].iov_len = c->seg[i].end - c->seg[i].start;
        *n += iov[i].iov_len;
    }
    return k;
}

/* The one place queued bytes leave for the peer (a TLS layer has its own:
 * srv_tls.c): as much as the socket takes now; what it did not take stays
 * queued and is written when EPOLLOUT comes (srv__writable).  Closes the
 * connection on an error. */
static void srv__write(struct srv_conn *c)
{
    struct iovec iov[SRV_IOV];
    for (unsigned round = 0; c->nseg && round < SRV_WRITE_ROUNDS; round++) {
        size_t want;
        int k = srv__iov(c, iov, &want);
        ssize_t r = srv_io_writev(c, iov, k);
        if (r < 0) {
            srv_close(c, uv_strerror((int)r));
            return;
        }
        c->srv->m_bytes_out += (uint64_t)r;
        srv__consume(c, (size_t)r);
        if ((size_t)r < want)
            break; /* the socket is full */
    }
    int r = c->nseg ? srv_io_wait_out(c) : 0;
    if (r)
        srv_close(c, uv_strerror(r));
}

void srv__writable(struct srv_conn *c)
{
    c->writing = 0;
    srv__flush(c);
}

/* The answer is written: the FIN, then a bounded wait for the peer's (so a
 * reset does not eat the answer), reading to see it. */
static void srv__fin(struct srv_conn *c)
{
    c->fin = 1;
    if (shutdown(c->fd, SHUT_WR)) {
        srv_close(c, NULL);
        return;
    }
    c->t_deadline = uv_now(c->srv->loop) + SRV_CLOSE_GRACE_MS;
    if (!c->reading)
        srv_read_pause(c, 0);
}

void srv__flush(struct srv_conn *c)
{
    if (c->closing || c->writing)
        return;
    if (c->layer) {
        if (c->layer->write(c))
            return;
    } else if (c->nseg) {
        srv__write(c);
        if (c->closing || c->writing)
            return;
    }
    /* a resume waiting for its queue to drain: its next page */
    if (c->feed && c->qbytes < c->srv->lowat && pw_feed_wants(c->feed))
        srv_feed_hungry(c);
    if (c->qbytes < SRV_RESUME_AT(c->srv->o->send_buffer)) {
        if (!c->reading && !c->close_after && !c->held)
            srv_read_pause(c, 0);
        if (c->ops->drained && !c->close_after)
            c->ops->drained(c);
    }
    if (c->close_after && !c->fin) {
        if (!c->shut) {
            c->shut = 1;
            if (c->layer) {
                c->layer->end(c); /* TLS close_notify: written before the FIN */
                if (c->closing || c->writing)
                    return; /* the FIN once it is (srv__writable flushes again) */
            }
        }
        srv__fin(c);
    }
}

/* The dirty list is a queue (oldest first), so a connection left over by
 * one check phase's slice is written before those that got output since;
 * but an answer to the connection's own input (a publisher's ack, an echo)
 * goes first: it does not wait behind a fan-out. */
static void srv__dirty(struct srv_conn *c)
{
    if (c->closing)
        return;
    struct srv *s = c->srv;
    /* --write-delay holds nothing urgent: an answer to the connection's own
     * input, a parked poll's answer, the end, a resume's page */
    if (s->write_delay && !c->hurry && (c->feeding || c->ready || c->close_after || s->paging)) {
        c->hurry = 1;
        if (c->dirty == SRV_DIRTY_HELD)
            s->hurry_walk = 1;
    }
    if (c->dirty)
        return;
    c->dirty = 1;
    if (!s->dirty) {
        c->dnext = NULL;
        s->dirty = s->dirty_tail = c;
    } else if (c->feeding) {
        c->dnext = s->dirty;
        s->dirty = c;
    } else {
        c->dnext = NULL;
        s->dirty_tail->dnext = c;
        s->dirty_tail = c;
    }
}

/* The oldest dirty connection, off the list; its dirty mark is the
 * caller's to clear (SRV_DIRTY_GONE: its handle is closed, free it). */
static struct srv_conn *srv__dirty_pop(struct srv *s)
{
    struct srv_conn *c = s->dirty;
    s->dirty = c->dnext;
    return c;
}

/* This worker's counters, in the order of struct srv_counts. */
static void srv__counts_own(const struct srv *s, uint64_t v[PW_HUB_NCOUNT])
{
    struct srv_counts t = {s->m_accepted, s->m_msgs_in, s->m_msgs_out, s->m_bytes_in,
                           s->m_bytes_out, s->m_slow, s->m_rejected_conns, s->m_requests,
                           s->m_proto_errors, s->m_timeouts, {0}, 0, 0, {0}, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < SRV_NSLOTS; i++)
        t.by_slot[i] = s->m_by_slot[i];
    t.stream_writes = s->m_stream_writes;
    t.conn_bytes = pw_slab_bytes(&s->conn_slab) + pw_slab_bytes(&s->feed_slab) + pw_strslab_bytes(&s->chan_slab);
    srv_auth_counts(s, &t);
    srv_tls_counts(s, &t);
    memset(v, 0, PW_HUB_NCOUNT * sizeof *v);
    memcpy(v, &t, sizeof t);
}

void srv_counts(const struct srv *s, struct srv_counts *out)
{
    _Static_assert(sizeof *out <= PW_HUB_NCOUNT * sizeof(uint64_t), "counts fit the hub's");
    uint64_t v[PW_HUB_NCOUNT];
    srv__counts_own(s, v);
    if (s->hub)
        pw_hub_counts_others(s->hub, s->wid, v);
    memcpy(out, v, sizeof *out);
}

void srv_counts_worker(const struct srv *s, unsigned j, struct srv_counts *out)
{
    uint64_t v[PW_HUB_NCOUNT];
    if (j == s->wid)
        srv__counts_own(s, v);
    else
        pw_hub_counts_of(s->hub, j, v);
    memcpy(out, v, sizeof *out);
}

unsigned srv_workers(const struct srv *s)
{
    return s->hub ? pw_hub_workers(s->hub) : 1;
}

size_t srv_conns_total(const struct srv *s)
{
    return s->hub ? (size_t)pw_hub_conns_add(s->hub, 0) : s->nconns;
}

/* ops->ready (a parked poll's answer), then the queue to the socket.
 * Returns 1 if there was output to write. */
static int srv__write_one(struct srv *s, struct srv_conn *c)
{
    if (c->ready) {
        c->ready = 0;
        if (c->ops->ready && !c->close_after)
            c->ops->ready(c);
    }
    int had = c->nseg > 0 && !c->writing && !c->closing;
    srv__flush(c);
    c->q1 = c->qmany = 0;
    if (had && (c->ops->slot == SRV_SLOT_SSE || c->ops->slot == SRV_SLOT_WS))
        s->m_stream_writes++;
    return had;
}

/* ---- --write-delay: a stream written now waits write_delay ms for the next ----
 *
 * One write per subscriber per pass is what a fan-out costs (the kernel's
 * loopback write is most of it), so a subscriber written in this check
 * phase goes on srv.held, oldest first, and what is queued for it
 * meanwhile leaves in one write when its delay ends (srv__hold_cb), not one
 * per pass.  The first message after a quiet delay is not held: a
 * connection that is not on srv.held is written in the pass as before.
 *
 * --write-delay-adaptive: held only while the loop is behind, that is
 * while a pass over the streams takes longer than the gap between their
 * messages.  A stream tells it at its write: a message came for it in a
 * later loop turn than the first it was waiting with (qmany, srv_sent;
 * what comes while it is held does not count).  Such a write marks the
 * loop behind for write_delay ms (srv.t_behind), and every stream written
 * meanwhile is held; a loop that keeps up holds none, so a quiet or narrow
 * stream pays no delay while a saturated fan-out batches as with a fixed
 * one. */

static void srv__hold_arm(struct srv *s)
{
    if (!s->hlen || s->finished)
        return;
    uint64_t now = uv_now(s->loop), at = s->hring[s->hhead].t + s->write_delay;
    uv_timer_start(&s->hold_timer, srv__hold_cb, at > now ? at - now : 0, 0);
}

/* c was written in this check phase (SRV_DIRTY_HELD from now). */
static void srv__hold(struct srv *s, struct srv_conn *c)
{
    uint64_t now = uv_now(s->loop);
    c->dirty = SRV_DIRTY_HELD;
    c->dnext = NULL;
    if (s->held_tail)
        s->held_tail->dnext = c;
    else
        s->held = c;
    s->held_tail = c;
    unsigned last = (s->hhead + s->hlen + SRV_HOLD_RING - 1) % SRV_HOLD_RING;
    if (s->hlen && (s->hring[last].t == now || s->hlen == SRV_HOLD_RING)) {
        s->hring[last].n++; /* the same turn (or the ring is full: released early) */
    } else {
        last = (s->hhead + s->hlen) % SRV_HOLD_RING;
        s->hring[last] = (struct srv_hold_run){now, 1};
        if (s->hlen++ == 0)
            srv__hold_arm(s);
    }
}

/* c's delay is over: what was queued for it meanwhile is written in the
 * next check phase (or it is freed: closed while held). */
static void srv__unhold(struct srv_conn *c)
{
    if (c->dirty == SRV_DIRTY_GONE) {
        srv__conn_free(c);
        return;
    }
    c->dirty = 0;
    if (c->nseg || c->ready || c->close_after)
        srv__dirty(c);
}

static void srv__hold_cb(uv_timer_t *t)
{
    struct srv *s = t->data;
    uint64_t now = uv_now(s->loop);
    while (s->hlen && s->hring[s->hhead].t + s->write_delay <= now) {
        for (uint32_t k = s->hring[s->hhead].n; k && s->held; k--) {
            struct srv_conn *c = s->held;
            s->held = c->dnext;
            srv__unhold(c);
        }
        s->hhead = (uint8_t)((s->hhead + 1) % SRV_HOLD_RING);
        s->hlen--;
    }
    if (!s->held)
        s->held_tail = NULL;
    srv__hold_arm(s);
    srv__wake(s);
}

/* Urgent output came for held connections (srv__dirty): written now; they
 * stay on srv.held (they have just been written). */
static void srv__held_hurry(struct srv *s)
{
    s->hurry_walk = 0;
    for (struct srv_conn *c = s->held; c; c = c->dnext) {
        if (c->dirty != SRV_DIRTY_HELD || !c->hurry)
            continue;
        c->hurry = 0;
        if (!c->closing)
            srv__write_one(s, c);
    }
}

/* Queued output is written here, oldest dirty connection first, at most
 * SRV_FLUSH_SLICE connections per turn.  A fan-out to thousands of
 * subscribers takes several turns, each after a poll (without waiting: the
 * idle handle is on) that reads what publishers sent meanwhile: a message
 * published during the writes is queued at once, and reaches every
 * subscriber within one pass over them rather than after the rest of this
 * pass and most of the next. */
static void srv__check_cb(uv_check_t *h)
{
    struct srv *s = h->data;
    s->turn++;
    srv__pump_ready(s);
    if (s->hurry_walk)
        srv__held_hurry(s);
    for (unsigned n = 0; s->dirty && n < SRV_FLUSH_SLICE;) {
        struct srv_conn *c = srv__dirty_pop(s);
        uint8_t gone = c->dirty == SRV_DIRTY_GONE, hurried = c->hurry;
        uint8_t behind = 1; /* a fixed delay holds every stream written */
        if (s->write_adaptive && s->write_delay) {
            uint64_t now = uv_now(s->loop);
            if (c->qmany)
                s->t_behind = now + 1; /* 0: never */
            /* behind for write_delay ms from T = t_behind - 1: at T + write_delay
             * the streams held at T are let go, and not held again */
            behind = s->t_behind && now + 1 < s->t_behind + s->write_delay;
        }
        c->dirty = 0;
        c->hurry = 0;
        if (gone)
            srv__conn_free(c);
        if (gone || c->closing)
            continue;
        if (srv__write_one(s, c) && s->write_delay && !hurried && behind && !c->dirty && !c->closing &&
            (c->ops->slot == SRV_SLOT_SSE || c->ops->slot == SRV_SLOT_WS))
            srv__hold(s, c);
        n++;
    }
    if ((s->dirty || s->hurry_walk) && !uv_is_active((uv_handle_t *)&s->idle) && !s->finished)
        uv_idle_start(&s->idle, srv__idle_cb);
    else if (!s->dirty && !s->ready && !s->hurry_walk && uv_is_active((uv_handle_t *)&s->idle))
        uv_idle_stop(&s->idle);
    if (s->hub) {
        uint64_t v[PW_HUB_NCOUNT];
        srv__counts_own(s, v);
        pw_hub_counts_put(s->hub, s->wid, v);
    }
    srv_io_reap(s);
}

/* ---- connections ---- */

/* How much of the loop's one read buffer a read may fill.  At most half of
 * --send-buffer: a WebSocket whose queue fills in the middle of a read keeps
 * the rest of it in c->in until the queue drains (in_wait), and a parked
 * poll keeps what was pipelined behind it: what a connection holds that way
 * is bounded by its send buffer. */
static size_t srv__read_room(const struct srv_conn *c)
{
    size_t len = SRV_PAUSE_AT(c->srv->o->send_buffer);
    if (len > SRV_RBUF)
        len = SRV_RBUF;
    if (!c->ops->input && c->in.max - c->in.len < len) {
        /* parked: read no more than c->in can keep, so nothing is lost and a
         * client that goes away is still seen while there is room; none
         * left and reading pauses (srv__readable) */
        len = c->in.max - c->in.len;
    }
    return len;
}

/* After srv_close, once no epoll batch can name c (srv_io.c). */
void srv__conn_free(struct srv_conn *c)
{
    struct srv *s = c->srv;
    if (c->layer)
        c->layer->free(c);
    for (uint16_t i = 0; i < c->nseg; i++)
        srv__seg_release(s, &c->seg[i]);
    free(c->seg);
    pw_buf_free(&c->in);
    srv_channel_drop(c);
    pw_slab_free(&s->feed_slab, c->feed);
    free(c->cl);
    pw_slab_free(&s->conn_slab, c);
}

static void srv__ready_remove(struct srv_conn *c)
{
    if (!c->feed_ready)
        return;
    struct srv_conn **pp = &c->srv->ready;
    while (*pp && *pp != c)
        pp = &(*pp)->rnext;
    if (*pp)
        *pp = c->rnext;
    c->feed_ready = 0;
}

void srv_close(struct srv_conn *c, const char *why)
{
    if (c->closing)
        return;
    struct srv *s = c->srv;
    srv_log(s, c, "close", 0, 0, "%s", why ? why : "done");
    srv_auth_closed(c);
    srv_unsubscribe(c);
    s->ps->ops->cancel(s->ps, c); /* the acks of its publishes too */
    srv__ready_remove(c);
    srv__drop_queue(c);
    c->ops->free(c);
    c->closing = 1;
    s->m_by_slot[c->ops->slot]--;
    s->nconns--;
    if (s->hub)
        pw_hub_conns_add(s->hub, -1);
    c->prev->next = c->next;
    c->next->prev = c->prev;
    srv_io_close(c);
}

void srv_end(struct srv_conn *c)
{
    uint64_t by = uv_now(c->srv->loop) + SRV_END_GRACE_MS;
    c->close_after = 1;
    c->t_tick = 0;
    if (c->t_deadline == 0 || c->t_deadline > by)
        c->t_deadline = by;
    srv_unsubscribe(c);
    srv__dirty(c);
}

void srv_set_ops(struct srv_conn *c, const struct srv_ops *ops)
{
    c->srv->m_by_slot[c->ops->slot]--;
    c->ops = ops;
    c->srv->m_by_slot[ops->slot]++;
    c->ready = 0; /* a request for the old transport */
}

void srv_ready(struct srv_conn *c)
{
    c->ready = 1;
    srv__dirty(c);
}

int srv_subscribe(struct srv_conn *c, const char *ch, size_t len,
                  void (*deliver)(struct pw_sub *, struct pw_msg *))
{
    struct pw_pubsub *ps = c->srv->ps;
    c->u.h.sub.deliver = deliver;
    return ps->ops->subscribe(ps, ch, len, &c->u.h.sub);
}

void srv_unsubscribe(struct srv_conn *c)
{
    struct pw_pubsub *ps = c->srv->ps;
    if (c->feed)
        pw_feed_stop(c->feed);
    if (c->ops->slot == SRV_SLOT_WS)
        return; /* the union is WebSocket state: no poll there */
    if (c->u.h.sub.chan)
        ps->ops->unsubscribe(ps, &c->u.h.sub);
    if (c->u.h.fetching) {
        /* a poll's page still on its way is not wanted any more */
        c->u.h.fetching = 0;
        ps->ops->cancel(ps, c);
    }
}

/* ---- resumes: a page each time the queue has drained ---- */

int srv_feed_start(struct srv_conn *c, const char *after, const struct pw_feed_ops *ops)
{
    struct srv *s = c->srv;
    if (!c->feed && !(c->feed = pw_slab_alloc(&s->feed_slab)))
        return PW_ENOMEM;
    /* a page is about a quarter of the queue's bound in data, and at most
     * SRV_PAGE_MSGS messages: one page is one turn's work whatever their size */
    size_t bytes = s->o->send_buffer / 4;
    return pw_feed_start(c->feed, s->ps, c->channel, strlen(c->channel), after, ops, c,
                         SRV_PAGE_MSGS, bytes ? bytes : 1);
}

int srv_channel_set(struct srv_conn *c, const char *ch, size_t len)
{
    srv_channel_drop(c);
    c->channel = pw_strslab_dup(&c->srv->chan_slab, ch, len);
    return c->channel ? 0 : PW_ENOMEM;
}

void srv_channel_drop(struct srv_conn *c)
{
    pw_strslab_free(&c->srv->chan_slab, c->channel);
    c->channel = NULL;
}

/* On srv.ready: served in the next check phase (srv__pump_ready): a
 * resume's next page, or input kept while the queue was full (in_wait). */
void srv_feed_hungry(struct srv_conn *c)
{
    struct srv *s = c->srv;
    if (c->feed_ready || c->closing || c->qbytes >= s->lowat)
        return; /* srv__flush asks again once the queue has drained */
    c->feed_ready = 1;
    c->rnext = s->ready;
    s->ready = c;
    if (!uv_is_active((uv_handle_t *)&s->idle))
        uv_idle_start(&s->idle, srv__idle_cb);
}

/* Only keeps the loop from sleeping while resumes wait: their pages are
 * fetched in the check phase, right before the output is written. */
static void srv__idle_cb(uv_idle_t *h)
{
    (void)h;
}

/* One page per waiting resume per loop turn, so a fast reader's replay does
 * not hold up the loop; those that drain again wait for the next turn.
 * Input kept when a queue filled (in_wait) is fed here once the queue has
 * drained, before reading resumes: it may fill the queue again and wait
 * again, so a connection never holds more than the read it stopped in. */
static void srv__pump_ready(struct srv *s)
{
    struct srv_conn *c = s->ready;
    s->ready = NULL;
    while (c) {
        struct srv_conn *nx = c->rnext;
        c->feed_ready = 0;
        c->rnext = NULL;
        if (!c->closing && c->in_wait && c->qbytes < s->lowat) {
            c->in_wait = 0;
            srv_input_pending(c);
            if (!c->closing && !c->in_wait && !c->held && !c->close_after)
                srv_read_pause(c, 0);
        }
        if (!c->closing && c->feed && c->qbytes < s->lowat) {
            s->paging = 1;
            pw_feed_pump(c->feed);
            s->paging = 0;
        }
        c = nx;
    }
}

void srv_slow(struct srv_conn *c)
{
    if (c->slow)
        return;
    c->slow = 1;
    c->srv->m_slow++;
    srv_log(c->srv, c, "slow", 0, c->ops->slow_code,
            "subscriber cannot keep up (%zu bytes queued): disconnected", c->qbytes);
    srv_unsubscribe(c);
    c->ops->slow(c);
}

int srv_sent(struct srv_conn *c, int rc)
{
    if (rc == PW_ENET_SLOW)
        srv_slow(c);
    if (rc)
        return rc;
    struct srv *s = c->srv;
    s->m_msgs_out++;
    if (s->write_adaptive && c->dirty != SRV_DIRTY_HELD) {
        if (!c->q1) {
            c->q1 = 1;
            c->qturn = s->turn;
        } else if (c->qturn != s->turn) {
            c->qmany = 1;
        }
    }
    c->t_active = uv_now(c->srv->loop);
    return 0;
}

int srv_feed_room(struct srv_conn *c, int live)
{
    if (c->closing || c->close_after || c->slow)
        return -1;
    return !live && c->qbytes >= c->srv->hiwat;
}

int srv_publish(struct srv *s, const char *ch, size_t chlen, const char *event,
                const void *data, size_t len, int binary, pw_ack_fn ack, void *ud)
{
    struct pw_msg *m = pw_msg_new(ch, chlen, event, data, len, binary);
    if (!m)
        return PW_ENOMEM;
    s->m_msgs_in++; /* before: the ack may come first */
    int rc = s->ps->ops->publish(s->ps, m, ack, ud);
    if (rc)
        s->m_msgs_in--;
    return rc;
}

/* Pausing costs no system call: the registration is dropped only if input
 * comes meanwhile (srv_io.c), so an echo that pauses and resumes as its
 * queue fills and drains does not pay one per message. */
void srv_read_pause(struct srv_conn *c, int pause)
{
    if (c->closing)
        return;
    if (pause)
        c->reading = 0;
    else if (c->in_wait && !c->close_after)
        srv_feed_hungry(c); /* what was kept first; reading once it is all taken */
    else if (!c->reading) {
        c->reading = 1;
        if (srv_io_want(c))
            c->reading = 0; /* the kernel is out of memory for epoll: as if paused */
    }
}

void srv_read_hold(struct srv_conn *c, int hold)
{
    c->held = (uint8_t)hold;
    if (hold)
        srv_read_pause(c, 1);
    else if (!c->close_after && c->qbytes < SRV_RESUME_AT(c->srv->o->send_buffer))
        srv_read_pause(c, 0);
}

/* Feeds bytes to the connection's transport, which may change on the way
 * (a request that upgrades); returns bytes consumed. */
static size_t srv__input(struct srv_conn *c, uint8_t *p, size_t n)
{
    size_t used = 0;
    while (used < n && !c->closing) {
        const struct srv_ops *ops = c->ops;
        if (c->close_after)
            return n; /* answered: the rest is not read */
        if (!ops->input)
            break; /* pipelined behind a parked poll: waits for its answer */
        size_t k = ops->input(c, p + used, n - used);
        used += k;
        if (c->in_wait || (k == 0 && c->ops == ops))
            break;
    }
    return used;
}

/* Input that came behind a parked poll is kept in c->in (HTTP/1.1 answers
 * go out in request order, and a pipelined POST must not run before the
 * answers before it), and so is input a transport stopped taking because its
 * queue is full (c->in_wait): as much as c->in may hold, or the rest of the
 * read it came in, which srv__read_room bounds (reading is paused meanwhile,
 * so nothing is added to it until it has all been fed). */
static void srv__keep(struct srv_conn *c, const uint8_t *p, size_t n)
{
    if (c->in.max - c->in.len < n)
        c->in.max = c->in.len + n;
    if (pw_buf_append(&c->in, p, n))
        srv_close(c, "out of memory");
}

/* The one place bytes from the peer come in (a byte layer goes before it:
 * TLS decrypts the socket's bytes and calls this with the plaintext).
 * Feeds input in order: first what c->in holds (an incomplete head, or what
 * came behind a parked poll), then p[0..n). */
void srv__feed(struct srv_conn *c, uint8_t *p, size_t n)
{
    while (!c->closing) {
        if (c->in_wait) {
            /* more of the same read (a TLS record after the one that filled
             * the queue): waits behind what is kept */
            srv__keep(c, p, n);
            return;
        }
        if (c->in.len) {
            /* join as much as the bound allows */
            size_t take = c->in.max - c->in.len;
            if (take > n)
                take = n;
            pw_buf_append(&c->in, p, take);
            p += take;
            n -= take;
            size_t used = srv__input(c, c->in.p, c->in.len);
            if (c->closing)
                return;
            pw_buf_consume(&c->in, used);
            if (c->in.len == 0) {
                pw_buf_free(&c->in);
                c->in.max = c->srv->o->max_head + 1;
            }
            if (!c->ops->input || c->in_wait) {
                srv__keep(c, p, n);
                return;
            }
            if (used == 0 && take == 0)
                break; /* cannot happen: the parser refuses a full buffer */
            if (n == 0 && (used == 0 || c->in.len == 0))
                return;
            continue;
        }
        if (n == 0)
            return;
        size_t used = srv__input(c, p, n);
        if (c->closing || used == n)
            return;
        p += used;
        n -= used;
        if (!c->ops->input || c->in_wait) {
            srv__keep(c, p, n);
            return;
        }
        /* the rest is an incomplete head: the parser refuses one that
         * reaches --max-header-size, so it fits */
        if (pw_buf_append(&c->in, p, n))
            srv_close(c, "out of memory");
        return;
    }
}

void srv_input_pending(struct srv_conn *c)
{
    if (!c->closing && !c->feeding && c->ops->input && c->in.len) {
        c->feeding = 1;
        srv__feed(c, c->srv->rbuf, 0);
        c->feeding = 0;
    }
}

/* After a read that lent its buffer to the queue (srv_out_lend): written
 * now, as a raw echo would, and what the socket did not take copied. */
static void srv__lent_out(struct srv_conn *c)
{
    c->srv->lent = 0;
    if (c->closing)
        return; /* the queue went with it */
    if (!c->writing)
        srv__write(c);
    if (!c->closing && srv__unlend(c))
        srv_close(c, "out of memory");
}

/* One read into the loop's buffer, fed to the connection: 1 if the read
 * filled the room it had (more may be waiting), else 0. */
static int srv__read(struct srv_conn *c)
{
    struct srv *s = c->srv;
    size_t room = srv__read_room(c);
    if (room == 0) {
        /* parked with c->in full: the poll's answer reads on (srv_input_pending) */
        srv_read_pause(c, 1);
        return 0;
    }
    ssize_t nread;
    do
        nread = read(c->fd, s->rbuf, room);
    while (nread < 0 && errno == EINTR);
    if (nread < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return 0;
    if (nread <= 0) {
        srv_close(c, nread ? uv_strerror(-errno) : c->close_after ? NULL : c->ops->eof);
        return 0;
    }
    s->m_bytes_in += (uint64_t)nread;
    c->t_active = uv_now(s->loop);
    if (c->shut) /* answered; only waiting for FIN */
        return (size_t)nread == room;
    c->feeding = 1;
    if (c->layer) { /* TLS: decrypts, then srv__feed with the plaintext */
        c->layer->input(c, s->rbuf, (size_t)nread);
    } else {
        s->lend = c;
        s->lend_end = s->rbuf + nread;
        srv__feed(c, s->rbuf, (size_t)nread);
        s->lend = NULL;
        if (s->lent)
            srv__lent_out(c);
    }
    c->feeding = 0;
    return (size_t)nread == room;
}

/* A few reads while they fill the buffer (as libuv read); level-triggered,
 * so what is left comes with the next turn. */
void srv__readable(struct srv_conn *c)
{
    for (unsigned i = 0; i < SRV_READ_ROUNDS && c->reading && !c->closing; i++)
        if (!srv__read(c))
            return;
}

void srv__accepted(struct srv_listener *l, int fd)
{
    struct srv *s = l->srv;
    struct srv_conn *c = pw_slab_alloc(&s->conn_slab);
    if (!c) {
        close(fd);
        return;
    }
    c->srv = s;
    c->fd = fd;
    int auth_rc = srv_auth_accepted(c);
    c->id = s->hub ? pw_hub_next_id(s->hub) : ++s->next_id;
    c->next = &s->conns;
    c->prev = s->conns.prev;
    s->conns.prev->next = c;
    s->conns.prev = c;
    s->nconns++;
    if (s->hub)
        pw_hub_conns_add(s->hub, 1);
    c->ops = l->ops;
    s->m_by_slot[c->ops->slot]++;
    s->m_accepted++;
    pw_buf_init(&c->in, s->o->max_head + 1);
    c->t_active = uv_now(s->loop);
    srv_log(s, c, "open", 0, 0, NULL);
    if (s->stopping || auth_rc) {
        srv_close(c, auth_rc ? "out of memory" : "shutting down");
        return;
    }
    c->layer = l->layer;
    if (c->layer && c->layer->open(c)) {
        c->layer = NULL;
        srv_close(c, "out of memory");
        return;
    }
    srv_read_pause(c, 0);
    if (!c->reading) {
        srv_close(c, "out of memory");
        return;
    }
    if (c->ops->open)
        c->ops->open(c); /* may refuse it: --max-conns */
}

/* ---- timers ---- */

/* From a timer or a signal: the check phase writes what was queued; do not
 * sleep in the poll before it (up to the next timer). */
static void srv__wake(struct srv *s)
{
    if (s->dirty && !uv_is_active((uv_handle_t *)&s->idle) && !s->finished)
        uv_idle_start(&s->idle, srv__idle_cb);
}

static void srv__maybe_finish(struct srv *s);
static void srv__drain_step(struct srv *s, uint64_t now);

/* A connection whose reading is held (srv_read_hold) would not see its
 * client leave: the kernel's TCP state tells (FIN: CLOSE_WAIT; RST: CLOSE). */
static int srv__peer_gone(struct srv_conn *c)
{
    struct tcp_info ti;
    socklen_t len = sizeof ti;
    if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) != 0)
        return 0;
    return ti.tcpi_state == TCP_CLOSE_WAIT || ti.tcpi_state == TCP_CLOSE;
}

/* The backend expires old messages on every call into it: one call per
 * tick expires them on a server nobody talks to as well (srv__trim_tick
 * gives their memory back). */
static void srv__expire_tick(struct srv *s)
{
    struct pw_pubsub_stats st;
    if (s->hub)
        pw_hub_tick(s->hub, s->wid); /* the time reaches every replica in order */
    s->ps->ops->stats(s->ps, &st);
}

/* glibc keeps freed heap resident: after a burst (10 000 handshakes'
 * buffers, expired history) an idle server would stay as big as its peak.
 * Once the heap holds SRV_TRIM_AT or more free and has settled (its free
 * bytes moved less than a quarter of that since the last tick), and they
 * moved by a sixteenth or more since the last trim, the free pages go back
 * to the system: after a burst, not during it, and not every tick of a
 * server whose heap churns a little.  What connections keep for their
 * lifetime is in slabs (slab.h), not between the heap's temporaries, so the
 * freed pages are whole.  The heap is the process's: worker 0 does it. */
static size_t srv__absdiff(size_t a, size_t b)
{
    return a > b ? a - b : b - a;
}

static void srv__trim_tick(struct srv *s)
{
    if (s->wid != 0)
        return;
    struct mallinfo2 mi = mallinfo2();
    size_t fr = mi.fordblks;
    if (fr >= SRV_TRIM_AT && srv__absdiff(fr, s->heap_free_prev) < SRV_TRIM_AT / 4 &&
        srv__absdiff(fr, s->heap_free_trimmed) >= SRV_TRIM_AT / 16) {
        malloc_trim(0);
        s->heap_free_trimmed = fr;
    }
    s->heap_free_prev = fr;
}

static void srv__tick_cb(uv_timer_t *t)
{
    struct srv *s = t->data;
    srv__maybe_finish(s);
    if (s->finished)
        return;
    uint64_t now = uv_now(s->loop);
    if (s->drain_end)
        srv__drain_step(s, now);
    srv_auth_tick(s);
    srv__pool_trim(s);
    if (s->o->message_ttl > 0 && s->ps->ops->stats)
        srv__expire_tick(s);
    srv__trim_tick(s);
    double idle = s->o->idle_timeout;
    for (struct srv_conn *c = s->conns.next, *nx; c != &s->conns; c = nx) {
        nx = c->next;
        if (c->nseg == 0 && c->seg) {
            /* an idle connection keeps no segment array; a busy one keeps it
             * between writes instead of a malloc and a free per loop turn */
            free(c->seg);
            c->seg = NULL;
            c->capseg = 0;
        }
        if (c->ops->trim && !c->closing)
            c->ops->trim(c);
        if (c->held && !c->closing && srv__peer_gone(c)) {
            srv_close(c, "client gone while its input was held");
            continue;
        }
        if (c->t_deadline && now >= c->t_deadline) {
            c->t_deadline = 0;
            if (c->close_after)
                srv_close(c, NULL); /* answered; the peer had its grace */
            else
                c->ops->deadline(c);
            continue;
        }
        if (c->close_after)
            continue;
        if (c->t_expire && now >= c->t_expire) {
            c->t_expire = 0;
            if (c->ops->expire) {
                c->ops->expire(c);
                continue;
            }
        }
        if (idle > 0 && c->ops->idle && now - c->t_active >= srv_ms(idle)) {
            s->m_timeouts++;
            srv_log(s, c, "timeout", 0, 0, "idle for %gs (--idle-timeout)", idle);
            c->t_active = now;
            c->ops->idle(c);
            continue;
        }
        if (c->t_tick && now >= c->t_tick) {
            if (c->ops->tick)
                c->ops->tick(c);
            else
                c->t_tick = 0;
        }
    }
    srv__wake(s);
}

/* ---- stdin ---- */

static void srv__stdin_line(struct pw_stdin *in, const uint8_t *p, size_t n)
{
    struct srv *s = in->data;
    const char *ch = s->o->stdin_channel;
    int rc = srv_publish(s, ch, strlen(ch), NULL, p, n, 0, NULL, NULL);
    if (rc) /* out of memory, or a backend that is down (--redis) */
        srv_log(s, NULL, "error", 0, 0, "stdin: cannot publish: %s", pw_strerror(rc));
}

static void srv__stdin_long(struct pw_stdin *in, size_t max)
{
    (void)max;
    srv_log(in->data, NULL, "stdin", 0, 0, "line longer than --max-message: dropped");
}

static void srv__stdin_end(struct pw_stdin *in, int err)
{
    (void)err;
    pw_stdin_close(in);
}

static void srv__stdin_start(struct srv *s)
{
    static const struct pw_stdin_cb cb = {srv__stdin_line, srv__stdin_long, srv__stdin_end, NULL};
    struct pw_stdin_opts o = {0, '\n', s->o->max_message};
    s->in.data = s;
    pw_stdin_start(&s->in, s->loop, &o, &cb);
}

/* ---- signals and shutdown ---- */

static void srv__hard_stop_cb(uv_timer_t *t)
{
    struct srv *s = t->data;
    for (struct srv_conn *c = s->conns.next, *nx; c != &s->conns; c = nx) {
        nx = c->next;
        srv_close(c, "shutting down");
    }
    srv__maybe_finish(s);
}

static void srv__walk_close(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* No more signals taken: another SIGINT/SIGTERM ends the process. */
static void srv__close_signals(struct srv *s)
{
    for (int i = 0; i < 3; i++)
        if (!uv_is_closing((uv_handle_t *)&s->sig[i]))
            uv_close((uv_handle_t *)&s->sig[i], NULL);
}

/* Once stopping and the last connection is gone, the loop may end. */
static void srv__maybe_finish(struct srv *s)
{
    if (!s->stopping || s->nconns || s->finished)
        return;
    s->finished = 1;
    srv__close_signals(s);
    srv_io_stop(s);
    uv_close((uv_handle_t *)&s->tick, NULL);
    uv_close((uv_handle_t *)&s->check, NULL);
    uv_close((uv_handle_t *)&s->idle, NULL);
    uv_close((uv_handle_t *)&s->hard_stop, NULL);
    uv_close((uv_handle_t *)&s->hold_timer, NULL);
}

/* --drain: the streams not told to end yet, a share of them at each step
 * (the tick) so that the last is told at drain_end: clients reconnecting
 * elsewhere come over the drain, not all in one moment.  Until its turn a
 * stream is served as before.  At drain_end, what is left, then the grace. */
static void srv__drain_step(struct srv *s, uint64_t now)
{
    size_t n = SIZE_MAX; /* at the end: all that is left */
    if (now < s->drain_end) {
        uint64_t due = (uint64_t)s->drain_n * (now - s->drain_start) / (s->drain_end - s->drain_start);
        n = due > s->drain_told ? (size_t)(due - s->drain_told) : 0;
    }
    for (struct srv_conn *c = s->conns.next, *nx; n && c != &s->conns; c = nx) {
        nx = c->next;
        if (c->drained || c->close_after)
            continue;
        c->drained = 1;
        n--;
        s->drain_told++;
        c->ops->shutdown(c);
    }
    if (now >= s->drain_end) {
        s->drain_end = 0;
        uv_timer_start(&s->hard_stop, srv__hard_stop_cb, SRV_STOP_GRACE_MS, 0);
        srv__close_signals(s);
    }
}

static void srv__stop(struct srv *s, const char *why)
{
    if (s->stopping && s->drain_end) { /* a second signal: the rest now, then the grace */
        s->drain_end = uv_now(s->loop);
        srv__drain_step(s, s->drain_end);
        srv__maybe_finish(s);
        return;
    }
    if (s->stopping) {
        srv__hard_stop_cb(&s->hard_stop);
        return;
    }
    s->stopping = 1;
    if (s->wid == 0) /* every worker gets the signal: one line */
        srv_log(s, NULL, "shutdown", 0, 0, "%s%s", why, s->o->drain > 0 ? ": draining (--drain)" : "");
    for (size_t i = 0; i < s->nls; i++)
        srv_io_unlisten(&s->ls[i]);
    pw_stdin_close(&s->in);
    for (struct srv_conn *c = s->conns.next, *nx; c != &s->conns; c = nx) {
        nx = c->next;
        /* with --drain, a connection with no stream (keep-alive) now; one
         * whose request is still coming ends after its answer (stopping: no
         * keep-alive), within its deadline */
        if (!c->close_after && (s->o->drain <= 0 || c->ops->slot == SRV_SLOT_HTTP)) {
            c->drained = 1;
            if (s->o->drain <= 0 || c->ops != &srv_http_ops || !(c->in.len || c->u.h.pub))
                c->ops->shutdown(c);
        }
    }
    if (s->o->drain > 0) { /* signals still taken: a second one ends the drain */
        s->drain_start = uv_now(s->loop);
        s->drain_end = s->drain_start + srv_ms(s->o->drain);
        s->drain_n = 0;
        for (struct srv_conn *c = s->conns.next; c != &s->conns; c = c->next)
            s->drain_n += !c->drained && !c->close_after;
    } else {
        uv_timer_start(&s->hard_stop, srv__hard_stop_cb, SRV_STOP_GRACE_MS, 0);
        srv__close_signals(s);
    }
    srv__maybe_finish(s);
}

static void srv__signal_cb(uv_signal_t *h, int signum)
{
    struct srv *s = h->data;
    if (signum == SIGHUP) {
        if (s->o->on_hup && s->wid == 0) {
            if (s->hub) /* no worker writes while the log is reopened */
                pw_hub_log_lock(s->hub, 1);
            s->o->on_hup(s->o->ud);
            if (s->hub)
                pw_hub_log_lock(s->hub, 0);
        }
        if (s->wid == 0)
            srv_log(s, NULL, "reopen", 0, 0, "SIGHUP: log reopened");
        if (s->tls)
            srv_tls_reload(s);
        srv_auth_reload(s);
        return;
    }
    srv__stop(s, signum == SIGINT ? "SIGINT" : "SIGTERM");
}

/* ---- SIGHUP held until every worker listens for it ---- */

void pw_server_hold_hup(void)
{
    sigset_t hup;
    sigemptyset(&hup);
    sigaddset(&hup, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &hup, NULL);
}

/* The workers still starting: each passes once its SIGHUP handler is in
 * (or it failed before that), then waits for the others, so that a SIGHUP
 * is taken by all of them or, before, by none (the reload's count of the
 * SIGHUPs each worker saw, keyring.h pw_keyring_hup, stays the same in
 * every worker).  A few milliseconds at start, once. */
struct srv__gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned left;
};

/* One worker fewer to wait for (wait: until there are none), then this
 * thread takes SIGHUP. */
static void srv__gate_pass(struct srv__gate *g, int wait)
{
    if (g) {
        pthread_mutex_lock(&g->mu);
        if (g->left && --g->left == 0)
            pthread_cond_broadcast(&g->cv);
        while (wait && g->left)
            pthread_cond_wait(&g->cv, &g->mu);
        pthread_mutex_unlock(&g->mu);
    }
    if (wait) {
        sigset_t hup;
        sigemptyset(&hup);
        sigaddset(&hup, SIGHUP);
        pthread_sigmask(SIG_UNBLOCK, &hup, NULL);
    }
}

/* ---- run ---- */

/* fds: sockets bound already (--workers: one set per worker), or NULL. */
static int srv__listen(struct srv *s, const int *fds, char *err, size_t errsz)
{
    s->ls = calloc(s->o->nlisten, sizeof *s->ls);
    if (!s->ls)
        return PW_ENOMEM;
    for (size_t i = 0; i < s->o->nlisten; i++) {
        const char *a = s->o->listen[i];
        struct sockaddr_storage ss;
        struct srv_listener *l = &s->ls[i];
        int tls = pw_net_listen_tls(a, &a);
        if (pw_net_parse_listen(a, &ss)) {
            snprintf(err, errsz, "bad listen address '%s': want HOST:PORT or [IPv6]:PORT", a);
            return PW_ENET_ADDR;
        }
        if (tls && !s->tls) {
            snprintf(err, errsz, "listen address 'tls://%s' needs --tls-cert and --tls-key", a);
            return PW_ENET_ADDR;
        }
        l->ops = &srv_http_ops;
        l->layer = tls ? &srv_tls_layer : NULL;
        int fd = fds ? fds[i] : srv_io_bind(&ss, 0);
        int r = fd < 0 ? fd : srv_io_listen(s, l, fd);
        if (r) {
            snprintf(err, errsz, "cannot listen on '%s': %s", a, uv_strerror(r));
            return PW_ENET_BIND;
        }
        s->nls++;
        char name[SRV_ADDR_MAX];
        socklen_t len = sizeof ss;
        getsockname(l->fd, (struct sockaddr *)&ss, &len);
        pw_net_format_addr((struct sockaddr *)&ss, name, sizeof name);
        if (s->wid == 0)
            srv_log(s, NULL, "listen", 0, 0, "%s%s", tls ? "tls://" : "", name);
    }
    return 0;
}

struct pw_pubsub *pw_server_backlog(const struct pw_server_opts *o)
{
    struct pw_backlog_limits lim = {o->backlog, o->history_bytes, srv_ms(o->message_ttl),
                                    o->max_channels, NULL, 0};
    return pw_backlog_new_limits(&lim, NULL);
}

/* One event loop serving until stopped: the whole server, or worker wid
 * of a hub (ps its view, fds its bound listeners). */
static int srv__run(const struct pw_server_opts *o, struct pw_hub *hub, unsigned wid,
                    const int *fds, struct srv__gate *gate, char *err, size_t errsz)
{
    struct srv s;
    memset(&s, 0, sizeof s);
    err[0] = 0;
    s.o = o;
    s.hub = hub;
    s.wid = wid;
    s.attach = o->exec ? &srv_attach_exec : &srv_attach_pubsub;
    pw_buf_init(&s.scratch, 0);
    s.epfd = s.spare_fd = -1;
    s.lim.max_head = o->max_head;
    s.lim.max_headers = o->max_headers;
    s.conns.next = s.conns.prev = &s.conns;
    s.rbuf = malloc(SRV_RBUF);
    /* docs/SERVER.md "What an idle connection holds" promises this size */
    _Static_assert(sizeof(void *) != 8 || sizeof(struct srv_conn) <= 264, "struct srv_conn grew");
    pw_slab_init(&s.conn_slab, sizeof(struct srv_conn));
    pw_slab_init(&s.feed_slab, sizeof(struct pw_feed));
    pw_strslab_init(&s.chan_slab);
    uv_loop_t loop;
    int lrc = uv_loop_init(&loop);
    s.ps = lrc ? NULL : hub ? pw_hub_worker(hub, wid, &loop)
                 : o->pubsub ? o->pubsub : pw_server_backlog(o);
    s.lowat = SRV_RESUME_AT(o->send_buffer);
    s.write_delay = o->write_delay;
    s.write_adaptive = o->write_adaptive != 0;
    s.hiwat = SRV_PAUSE_AT(o->send_buffer);
    if (!s.rbuf || !s.ps || lrc || srv_auth_init(&s)) {
        srv_auth_free(&s);
        free(s.rbuf);
        if (s.ps && !o->pubsub && !hub)
            s.ps->ops->destroy(s.ps);
        if (hub)
            pw_hub_leave(hub, wid);
        if (!lrc) {
            uv_walk(&loop, srv__walk_close, NULL);
            uv_run(&loop, UV_RUN_DEFAULT);
            uv_loop_close(&loop);
        }
        snprintf(err, errsz, "out of memory");
        srv__gate_pass(gate, 1);
        return PW_ENOMEM;
    }
    s.loop = &loop;
    int rc = o->ntls ? srv_tls_setup(&s, err, errsz) : 0;
    if (rc == 0)
        rc = srv_io_start(&s, err, errsz);
    if (rc == 0)
        rc = srv__listen(&s, fds, err, errsz);
    if (rc == 0) {
        uv_check_init(&loop, &s.check);
        s.check.data = &s;
        uv_check_start(&s.check, srv__check_cb);
        uv_idle_init(&loop, &s.idle);
        s.idle.data = &s;
        uv_timer_init(&loop, &s.tick);
        s.tick.data = &s;
        uv_timer_start(&s.tick, srv__tick_cb, SRV_TICK_MS, SRV_TICK_MS);
        uv_timer_init(&loop, &s.hard_stop);
        s.hard_stop.data = &s;
        uv_timer_init(&loop, &s.hold_timer);
        s.hold_timer.data = &s;
        static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
        for (int i = 0; i < 3; i++) {
            uv_signal_init(&loop, &s.sig[i]);
            s.sig[i].data = &s;
            uv_signal_start(&s.sig[i], srv__signal_cb, sigs[i]);
        }
        srv__gate_pass(gate, 1);
        if (o->read_stdin && wid == 0)
            srv__stdin_start(&s);
        if (o->on_ready)
            o->on_ready(o->ud, &loop);
        uv_run(&loop, UV_RUN_DEFAULT);
    }
    if (rc)
        srv__gate_pass(gate, 1);
    /* close whatever is left (bind errors, a file read still pending) */
    if (!s.stopping)
        for (size_t i = 0; i < s.nls; i++)
            srv_io_unlisten(&s.ls[i]);
    pw_stdin_close(&s.in);
    if (hub)
        pw_hub_leave(hub, wid); /* before its wake-up handle closes */
    uv_walk(&loop, srv__walk_close, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    while (s.dirty) /* closed connections the last check phase did not reach */
        srv__conn_free(srv__dirty_pop(&s));
    while (s.held) { /* closed while held */
        struct srv_conn *c = s.held;
        s.held = c->dnext;
        srv__conn_free(c);
    }
    srv_io_free(&s);
    pw_slab_fini(&s.conn_slab);
    pw_slab_fini(&s.feed_slab);
    pw_strslab_fini(&s.chan_slab);
    pw_buf_free(&s.scratch);
    srv_ws_cleanup(&s);
    while (s.pool) {
        void *p = s.pool;
        s.pool = *(void **)p;
        free(p);
    }
    if (!o->pubsub && !hub)
        s.ps->ops->destroy(s.ps);
    srv_tls_cleanup(&s);
    srv_auth_free(&s);
    free(s.ls);
    free(s.rbuf);
    return rc;
}

/* ---- workers (--workers N): one loop per thread, sharing a hub ---- */

/* Binds every listen address once per worker with SO_REUSEPORT (the
 * kernel spreads connections over the workers' sockets); port 0 becomes
 * the port the first one got, for all.  fds[w * nlisten + i]. */
static int srv__bind_all(const struct pw_server_opts *o, unsigned n, int *fds, char *err,
                         size_t errsz)
{
    for (size_t i = 0; i < o->nlisten; i++) {
        const char *a = o->listen[i];
        struct sockaddr_storage ss;
        pw_net_listen_tls(a, &a);
        if (pw_net_parse_listen(a, &ss)) {
            snprintf(err, errsz, "bad listen address '%s': want HOST:PORT or [IPv6]:PORT", a);
            return PW_ENET_ADDR;
        }
        socklen_t len = sizeof ss;
        for (unsigned w = 0; w < n; w++) {
            int fd = srv_io_bind(&ss, 1);
            fds[w * o->nlisten + i] = fd;
            if (fd < 0 || (w == 0 && getsockname(fd, (struct sockaddr *)&ss, &len))) {
                snprintf(err, errsz, "cannot listen on '%s': %s", a,
                         uv_strerror(fd < 0 ? fd : -errno));
                return PW_ENET_BIND;
            }
        }
    }
    return 0;
}

struct srv__worker {
    const struct pw_server_opts *o;
    struct pw_hub *hub;
    unsigned wid;
    const int *fds;
    struct srv__gate *gate;
    int rc;
    char err[256];
    uv_thread_t th;
    int started;
};

static void srv__worker_main(void *arg)
{
    struct srv__worker *w = arg;
    w->rc = srv__run(w->o, w->hub, w->wid, w->fds, w->gate, w->err, sizeof w->err);
}

static int srv__run_workers(const struct pw_server_opts *o, char *err, size_t errsz)
{
    unsigned n = o->workers;
    size_t nfd = (size_t)n * o->nlisten;
    int *fds = malloc(nfd * sizeof *fds);
    struct srv__worker *w = calloc(n, sizeof *w);
    /* every limit: the hub makes each worker's copy a replica (backlog.h),
     * cut by the sequence it is fed, not by its own clock or subscribers */
    struct pw_backlog_limits lim = {o->backlog, o->history_bytes, srv_ms(o->message_ttl),
                                    o->max_channels, NULL, 1};
    struct pw_hub *hub = pw_hub_new(n, &lim);
    struct srv__gate gate = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, n};
    int rc = fds && w && hub ? 0 : PW_ENOMEM;
    if (rc)
        snprintf(err, errsz, "out of memory");
    for (size_t k = 0; fds && k < nfd; k++)
        fds[k] = -1;
    if (rc == 0)
        rc = srv__bind_all(o, n, fds, err, errsz);
    for (unsigned i = 1; rc == 0 && i < n; i++) {
        w[i] = (struct srv__worker){o, hub, i, fds + (size_t)i * o->nlisten, &gate, 0, "", 0, 0};
        w[i].started = uv_thread_create(&w[i].th, srv__worker_main, &w[i]) == 0;
        if (!w[i].started) { /* serve with the others: this one gets nothing */
            srv__gate_pass(&gate, 0);
            pw_hub_leave(hub, i);
            for (size_t k = 0; k < o->nlisten; k++)
                close(w[i].fds[k]);
        }
    }
    if (rc == 0) {
        w[0] = (struct srv__worker){o, hub, 0, fds, &gate, 0, "", 0, 1};
        srv__worker_main(&w[0]);
        rc = w[0].rc;
        snprintf(err, errsz, "%s", w[0].err);
    }
    for (unsigned i = 1; i < n; i++) {
        if (!w[i].started)
            continue;
        uv_thread_join(&w[i].th);
        if (rc == 0 && w[i].rc) {
            rc = w[i].rc;
            snprintf(err, errsz, "%s", w[i].err);
        }
    }
    /* sockets a loop took are closed with it; a failed bind leaves them here */
    for (size_t k = 0; fds && k < nfd && !w[0].started; k++)
        if (fds[k] >= 0)
            close(fds[k]);
    pw_hub_free(hub);
    free(w);
    free(fds);
    return rc;
}

int pw_server_run(const struct pw_server_opts *o, char *err, size_t errsz)
{
    pw_server_hold_hup();
    if (o->workers > 1 && !o->pubsub)
        return srv__run_workers(o, err, errsz);
    return srv__run(o, NULL, 0, NULL, NULL, err, errsz);
}
