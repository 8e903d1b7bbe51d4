/* srv_ws.c — WebSocket connections, the ws transport (struct srv_ops): the
 * upgrade (RFC 6455 §4.2), messages through ws_reader.h, control frames,
 * the close handshake, keepalive pings, echo or publish, and fan-out frames
 * (plain or the pushwire.v1 JSON envelope).  Calls only server.c. */
#include "srv.h"
#include "srv_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pwmsg.h"
#include "proto/ws_deflate.h"
#include "proto/ws_handshake.h"

#define SRV_SUBPROTOCOL "pushwire.v1"
#define SRV_WS_HEADER_MAX 14          /* a frame header: 2 + 8 length + 4 mask */
#define SRV_WS_CONTROL_MAX 125        /* a control frame's payload (RFC 6455 §5.5) */
#define SRV_PING_DATA "pw"
#define SRV_EXT_MAX 160               /* the Sec-WebSocket-Extensions answer (129 at most) */
#define SRV_LEND_MIN 1024             /* an echo this long goes out from the read buffer */
/* permessage-deflate: a smaller message goes uncompressed (RSV1 clear):
 * below it deflate's block header eats the gain (measured on chat-like JSON
 * at level 6: 16 bytes grew by 2, 32 saved 0, 48 saved 5, 64 saved 8, 96
 * saved 24 on average), and a compression per message is not worth 5
 * bytes.  A message whose compressed form is not smaller goes uncompressed
 * too (without context takeover, where that is allowed). */
#define SRV_DEFLATE_MIN 64

static const struct srv_ops srv__ws_ops;

/* The connection's WebSocket state: valid while c->ops is srv__ws_ops. */
static struct srv_ws *srv__ws(struct srv_conn *c)
{
    return &c->u.ws;
}

/* ---- encodings ---- */

static int srv__frame(struct pw_msg *m, int slot, int opcode, const uint8_t *p, size_t len)
{
    uint8_t *f = malloc(len + SRV_WS_HEADER_MAX);
    if (!f)
        return PW_ENOMEM;
    int h = pw_ws_encode_header(f, 1, 0, opcode, NULL, len, 0);
    if (h < 0) {
        free(f);
        return h;
    }
    memcpy(f + h, p, len);
    m->enc[slot].p = f;
    m->enc[slot].len = (size_t)h + len;
    return 0;
}

/* Encoding slot ENC_WS or ENC_WS_ENV of m, built on first use: one frame
 * shared by every subscriber.  0 or PW_ENOMEM. */
static int srv__enc(struct pw_msg *m, int envelope)
{
    if (!envelope)
        return m->enc[ENC_WS].p ? 0
                                : srv__frame(m, ENC_WS, m->binary ? PW_WS_OP_BINARY : PW_WS_OP_TEXT,
                                             m->data, m->len);
    if (m->enc[ENC_WS_ENV].p)
        return 0;
    struct pw_buf b;
    pw_buf_init(&b, 0);
    int rc = pwmsg_envelope_encode(&b, m);
    rc = rc ? rc : srv__frame(m, ENC_WS_ENV, PW_WS_OP_TEXT, b.p, b.len);
    pw_buf_free(&b);
    return rc;
}

/* Builds encoding slot ENC_WS or ENC_WS_ENV of m into b (appended), not
 * cached: a frame for one copy (srv_out_msg_once). */
static int srv__frame_build(struct pw_msg *m, int enc, struct pw_buf *b)
{
    size_t at = b->len;
    int envelope = enc == ENC_WS_ENV;
    int rc = envelope ? pwmsg_envelope_encode(b, m) : pw_buf_append(b, m->data, m->len);
    if (rc)
        return rc;
    /* the header goes in front of the payload just written */
    uint8_t h[SRV_WS_HEADER_MAX];
    size_t plen = b->len - at;
    int n = pw_ws_encode_header(h, 1, 0, envelope || !m->binary ? PW_WS_OP_TEXT : PW_WS_OP_BINARY,
                                NULL, plen, 0);
    if (n < 0 || (rc = pw_buf_reserve(b, (size_t)n)) != 0) {
        b->len = at;
        return n < 0 ? n : rc;
    }
    memmove(b->p + at + n, b->p + at, plen);
    memcpy(b->p + at, h, (size_t)n);
    b->len += (size_t)n;
    return 0;
}

/* A frame that cannot be queued (out of memory) ends the connection: a
 * reply silently missing would be worse. */
static void srv__send(struct srv_conn *c, int opcode, const void *p, size_t len)
{
    uint8_t h[SRV_WS_HEADER_MAX];
    int n = pw_ws_encode_header(h, 1, 0, opcode, NULL, len, 0);
    if (n > 0 && srv_out2(c, h, (size_t)n, p, len) == PW_ENOMEM)
        srv_close(c, "out of memory");
}

/* An echo without copying the payload (srv_out_lend): a message delivered
 * in place follows its own header in the read buffer, and the reply's
 * header is shorter than a client's (no 4-byte masking key), so the reply
 * frame is built over the old header and goes out from the read buffer. */
static void srv__echo_lend(struct srv_conn *c, int opcode, const uint8_t *p, size_t len)
{
    uint8_t h[SRV_WS_HEADER_MAX];
    int n = pw_ws_encode_header(h, 1, 0, opcode, NULL, len, 0);
    if (n > 0 && srv_out_lend(c, h, (size_t)n, p, len) == PW_ENOMEM)
        srv_close(c, "out of memory");
}

/* The server's window (--deflate-window): the shared frames' */
static int srv__zbits(const struct srv *s)
{
    return s->o->deflate_window >= 8 && s->o->deflate_window <= 15 ? s->o->deflate_window : 15;
}

/* The server's shared compressor for a window (no context takeover). */
static struct pw_wsz *srv__wsz(struct srv *s, int bits)
{
    struct pw_wsz *z = &s->wsz[bits - 8];
    if (!z->bits)
        pw_wsz_init(z, bits, -1);
    return z;
}

void srv_ws_cleanup(struct srv *s)
{
    for (int i = 0; i < 8; i++)
        pw_wsz_free(&s->wsz[i]);
}

/* A data message: compressed when permessage-deflate was agreed, unless it
 * is too small to gain or (without context takeover) did not shrink. */
int srv_ws_send_data(struct srv_conn *c, int opcode, const uint8_t *p, size_t len)
{
    struct srv_ws *w = srv__ws(c);
    if (!w->wsd || len < SRV_DEFLATE_MIN) {
        srv__send(c, opcode, p, len);
        return 0;
    }
    struct pw_buf *z = &c->srv->scratch;
    pw_buf_reset(z);
    int rc = pw_wsd_compress(w->wsd, p, len, z);
    if (rc)
        return rc;
    if (z->len >= len && pw_wsd_def_reset(w->wsd)) {
        srv__send(c, opcode, p, len);
    } else {
        uint8_t h[SRV_WS_HEADER_MAX];
        int n = pw_ws_encode_header(h, 1, 4, opcode, NULL, z->len, 0);
        if (n < 0)
            return n;
        rc = srv_out2(c, h, (size_t)n, z->p, z->len);
        if (rc == PW_ENOMEM)
            srv_close(c, "out of memory");
    }
    if (z->cap > SRV_SCRATCH_KEEP)
        pw_buf_free(z);
    return 0;
}

/* The payload of a cached server frame (no mask: 2, 4 or 10 header bytes). */
static const uint8_t *srv__frame_payload(const uint8_t *f, size_t flen, size_t *len)
{
    size_t hl = (f[1] & 0x7f) < 126 ? 2 : (f[1] & 0x7f) == 126 ? 4 : 10;
    *len = flen - hl;
    return f + hl;
}

/* m's payload as the plain slot carries it (the data, or the envelope
 * built into tmp) compressed into z from a fresh state at the server's
 * window: 1 when that pays (z holds it), 0 when not, or a PW_E* code. */
static int srv__compress(struct srv *s, struct pw_msg *m, int envelope, struct pw_buf *z)
{
    struct pw_buf tmp;
    const uint8_t *p = m->data;
    size_t len = m->len;
    int rc = 0;
    pw_buf_init(&tmp, 0);
    if (envelope && m->enc[ENC_WS_ENV].p) {
        p = srv__frame_payload(m->enc[ENC_WS_ENV].p, m->enc[ENC_WS_ENV].len, &len);
    } else if (envelope) {
        rc = pwmsg_envelope_encode(&tmp, m);
        p = tmp.p;
        len = tmp.len;
    }
    pw_buf_reset(z);
    if (rc == 0 && len >= SRV_DEFLATE_MIN)
        rc = pw_wsz_compress(srv__wsz(s, srv__zbits(s)), p, len, z);
    if (rc == 0)
        rc = len >= SRV_DEFLATE_MIN && z->len < len;
    pw_buf_free(&tmp);
    return rc;
}

/* Encoding slot ENC_WS_Z or ENC_WS_ENV_Z of m, built on first use: one
 * compressed frame (RSV1) shared by every subscriber that agreed no context
 * takeover at the server's window, as the plain frame is; length 0 when
 * compression does not pay (the plain frame goes instead).  0 or a PW_E*
 * code. */
static int srv__enc_z(struct srv *s, struct pw_msg *m, int envelope)
{
    int slot = envelope ? ENC_WS_ENV_Z : ENC_WS_Z;
    if (m->enc[slot].p)
        return 0;
    struct pw_buf *z = &s->scratch;
    int rc = srv__compress(s, m, envelope, z);
    uint8_t *f = rc >= 0 ? malloc(rc ? z->len + SRV_WS_HEADER_MAX : 1) : NULL;
    if (rc >= 0 && !f)
        rc = PW_ENOMEM;
    if (rc > 0) {
        int op = envelope || !m->binary ? PW_WS_OP_TEXT : PW_WS_OP_BINARY;
        int h = pw_ws_encode_header(f, 1, 4, op, NULL, z->len, 0);
        memcpy(f + h, z->p, z->len);
        m->enc[slot].len = (size_t)h + z->len;
    }
    if (rc >= 0) {
        m->enc[slot].p = f;
        rc = 0;
    }
    if (z->cap > SRV_SCRATCH_KEEP)
        pw_buf_free(z);
    return rc;
}

/* The shared compressed frame of m to c (zshared): live, the cached one;
 * history, the cached one if built, else one for this copy only.  When
 * compression does not pay, the plain frame as without deflate. */
static int srv__ws_out_z(struct srv_conn *c, struct pw_msg *m, int live)
{
    struct srv *s = c->srv;
    int envelope = srv__ws(c)->envelope, slot = envelope ? ENC_WS_ENV_Z : ENC_WS_Z;
    int plain = envelope ? ENC_WS_ENV : ENC_WS;
    int rc = live ? srv__enc_z(s, m, envelope) : 0;
    if (rc)
        return rc;
    if (m->enc[slot].p && m->enc[slot].len)
        return srv_over_limit(c, m->enc[slot].len) ? PW_ENET_SLOW : srv_out_msg(c, m, slot);
    if (m->enc[slot].p || live) { /* does not pay: plain */
        if (live && (rc = srv__enc(m, envelope)) != 0)
            return rc;
        return live ? (srv_over_limit(c, m->enc[plain].len) ? PW_ENET_SLOW : srv_out_msg(c, m, plain))
                    : srv_out_msg_once(c, m, plain, srv__frame_build);
    }
    /* history, not built: compressed for this copy */
    struct pw_buf *z = &s->scratch;
    rc = srv__compress(s, m, envelope, z);
    if (rc > 0) {
        uint8_t h[SRV_WS_HEADER_MAX];
        int op = envelope || !m->binary ? PW_WS_OP_TEXT : PW_WS_OP_BINARY;
        int n = pw_ws_encode_header(h, 1, 4, op, NULL, z->len, 0);
        rc = srv_over_limit(c, (size_t)n + z->len) ? PW_ENET_SLOW : srv_out2(c, h, (size_t)n, z->p, z->len);
    } else if (rc == 0) {
        rc = srv_out_msg_once(c, m, plain, srv__frame_build);
    }
    if (z->cap > SRV_SCRATCH_KEEP)
        pw_buf_free(z);
    return rc;
}

static void srv__send_close(struct srv_conn *c, unsigned code, const char *reason)
{
    uint8_t pl[SRV_WS_CONTROL_MAX];
    int n = pw_ws_close_build(pl, code, reason, reason ? strlen(reason) : 0);
    if (n < 0)
        n = pw_ws_close_build(pl, code, NULL, 0);
    srv__send(c, PW_WS_OP_CLOSE, pl, n > 0 ? (size_t)n : 0);
    srv__ws(c)->close_sent = 1;
}

/* ---- fan-out: the feed's operations (feed.h) ---- */

/* live: the message's shared frame; history: the shared frame if it was
 * built already, else one for this copy only */
static void srv__ws_out(struct srv_conn *c, struct pw_msg *m, int live)
{
    struct srv_ws *w = srv__ws(c);
    int slot = w->envelope ? ENC_WS_ENV : ENC_WS;
    int rc;
    if (w->zshared) {
        rc = srv__ws_out_z(c, m, live);
    } else if (w->wsd) {
        /* compressed per connection (context takeover, or a smaller window
         * than the shared frame's): not shareable */
        struct pw_buf t;
        pw_buf_init(&t, 0);
        const uint8_t *f = m->enc[slot].p;
        size_t flen = m->enc[slot].len, plen;
        if (!f) {
            rc = live ? srv__enc(m, w->envelope) : srv__frame_build(m, slot, &t);
            f = live ? m->enc[slot].p : t.p;
            flen = live ? m->enc[slot].len : t.len;
        } else
            rc = 0;
        if (rc == 0 && srv_over_limit(c, flen))
            rc = PW_ENET_SLOW;
        if (rc == 0) {
            const uint8_t *pl = srv__frame_payload(f, flen, &plen);
            int op = w->envelope || !m->binary ? PW_WS_OP_TEXT : PW_WS_OP_BINARY;
            rc = srv_ws_send_data(c, op, pl, plen);
        }
        pw_buf_free(&t);
    } else if (live) {
        rc = srv__enc(m, w->envelope);
        if (rc == 0)
            rc = srv_over_limit(c, m->enc[slot].len) ? PW_ENET_SLOW : srv_out_msg(c, m, slot);
    } else
        rc = srv_out_msg_once(c, m, slot, srv__frame_build);
    srv_sent(c, rc);
}

static int srv__ws_msg(struct pw_feed *f, struct pw_msg *m, int live)
{
    struct srv_conn *c = f->ud;
    int room = srv__ws(c)->close_sent ? -1 : srv_feed_room(c, live);
    if (room)
        return room;
    srv__ws_out(c, m, live);
    return c->slow || c->closing ? -1 : 0;
}

static int srv__ws_gap(struct pw_feed *f, const char *after, const char *first);

static void srv__ws_hungry(struct pw_feed *f)
{
    srv_feed_hungry(f->ud);
}

void srv_ws_close(struct srv_conn *c, unsigned code, const char *reason);

static void srv__ws_failed(struct pw_feed *f, int rc)
{
    struct srv_conn *c = f->ud;
    srv_log(c->srv, c, "error", 0, 0, "resume failed: %s", pw_strerror(rc));
    srv_ws_close(c, PW_WS_CLOSE_TRY_AGAIN, "resume failed, try again");
}

static const struct pw_feed_ops srv__ws_feed = {srv__ws_msg, srv__ws_gap, srv__ws_hungry,
                                                srv__ws_failed, NULL};

/* pushwire.v1 without ?since=: the channel's position first, an envelope
 * with its newest id ("EPOCH:0" when it holds nothing) and no data, then
 * what follows it (feed.h).  A client whose connection drops before the
 * first message resumes after it: what was published meanwhile comes (or a
 * gap after a restart), where with no id it would be lost silently.  When
 * the backend cannot say (Redis down or busy) nothing is sent and the
 * stream is live from now, as one without ?since= always was. */
static int srv__ws_position(struct pw_feed *f, const char *id)
{
    struct srv_conn *c = f->ud;
    if (!id || srv__ws(c)->close_sent)
        return 0;
    struct pw_buf b;
    pw_buf_init(&b, 0);
    if (pwmsg_position_envelope_encode(&b, c->channel, strlen(c->channel), id) == 0)
        srv_ws_send_data(c, PW_WS_OP_TEXT, b.p, b.len);
    pw_buf_free(&b);
    return 0;
}

static const struct pw_feed_ops srv__ws_feed_v1 = {srv__ws_msg, srv__ws_gap, srv__ws_hungry,
                                                   srv__ws_failed, srv__ws_position};

/* ---- closing ---- */

static void srv__wsr_drop(struct pw_wsr *r)
{
    if (r) {
        pw_wsr_free(r);
        free(r);
    }
}

void srv_ws_free(struct srv_conn *c)
{
    struct srv_ws *w = srv__ws(c);
    if (!w->in_feed) /* else srv_ws_input frees it once pw_wsr_feed is out */
        srv__wsr_drop(w->r);
    if (w->wsd) {
        pw_wsd_free(w->wsd);
        free(w->wsd);
    }
    memset(&c->u, 0, sizeof c->u);
}

/* The closing handshake from our side: a close frame, then (bounded) the
 * peer's; at most once. */
void srv_ws_close(struct srv_conn *c, unsigned code, const char *reason)
{
    if (srv__ws(c)->close_sent) {
        if (c->srv->stopping)
            srv_end(c);
        return;
    }
    srv_unsubscribe(c);
    srv__send_close(c, code, reason);
    srv_log(c->srv, c, "close-sent", 0, (int)code, "%s", reason ? reason : "");
    /* wait (bounded) for the peer's close frame */
    c->t_deadline = uv_now(c->srv->loop) + SRV_CLOSE_GRACE_MS;
    c->t_tick = 0;
}

/* Fail the connection (§7.1.7): close frame with the code, then TCP close. */
static size_t srv__fail(struct srv_conn *c, int err, size_t n)
{
    unsigned code = pw_ws_close_code_for(err);
    c->srv->m_proto_errors++;
    char why[80];
    const char *reason = pw_strerror(err);
    if (code == PW_WS_CLOSE_TOO_BIG) { /* name the limit, as a POST's 413 does */
        snprintf(why, sizeof why, "message larger than --max-message (%zu bytes)", c->srv->o->max_message);
        reason = why;
    }
    srv_log(c->srv, c, "error", 0, (int)code, "%s%s (%s)", err == PW_EWSD_TOOBIG ? "decompressed " : "",
            reason, pw_errrule(err));
    srv_unsubscribe(c);
    if (!srv__ws(c)->close_sent)
        srv__send_close(c, code, reason);
    srv_end(c);
    return n;
}

/* Keepalive.  A peer is dropped only when nothing at all (no pong, no other
 * frame: any byte proves it alive, see srv_ws_input) has come from it for
 * two ping intervals after a ping: one late pong on a loaded machine or a
 * slow link must not cost a live client its connection. */
void srv_ws_tick(struct srv_conn *c)
{
    struct srv *s = c->srv;
    struct srv_ws *w = srv__ws(c);
    /* ticks come an interval apart: the second one after an unanswered
     * ping is two intervals after it */
    if (w->awaiting_pong && ++w->awaiting_pong > 2) {
        s->m_timeouts++;
        srv_log(s, c, "timeout", 0, 0, "no pong within %gs (--ping)", 2 * s->o->ping);
        srv_close(c, "ping timeout");
        return;
    }
    if (!w->close_sent) {
        srv__send(c, PW_WS_OP_PING, SRV_PING_DATA, sizeof SRV_PING_DATA - 1);
        if (!w->awaiting_pong)
            w->awaiting_pong = 1;
    }
    c->t_tick = srv_in(s, s->o->ping);
}

/* ---- input: the message reader's callbacks (ws_reader.h) ---- */

/* Stop reading once the connection is no longer an open WebSocket (a
 * close, a slow-subscriber drop or an error inside a callback). */
static int srv__go(struct srv_conn *c)
{
    return !c->close_after && !c->closing ? PW_WSR_GO : PW_WSR_STOP;
}

/* After a message or a control frame: the next frame, or a stop because the
 * connection ends or its queue passed the pause point (a client publishing
 * to a channel it reads gets back more than it sends: one read's messages
 * would queue their answers past --send-buffer).  srv_ws_input keeps the
 * rest of the input for when the queue has drained. */
static int srv__go_on(struct srv_conn *c)
{
    return srv__go(c) != PW_WSR_GO || srv_queue_full(c) || srv__ws(c)->pubs >= SRV_WS_PUBS
               ? PW_WSR_STOP
               : PW_WSR_GO;
}

/* A publish the backend could not hold: the publisher is told.  (Held, its
 * own message comes back to it: that is its acknowledgement.) */
static void srv__ws_ack(void *ud, struct pw_msg *m, int rc)
{
    struct srv_conn *c = ud;
    struct srv_ws *w = srv__ws(c);
    (void)m;
    if (w->pubs && --w->pubs == SRV_WS_PUBS / 2 && c->in_wait && !c->closing)
        srv_read_pause(c, 0); /* the input kept (srv_ws_input) goes on */
    if (rc == 0 || c->closing || c->close_after)
        return;
    srv_log(c->srv, c, "error", 0, 0, "cannot publish: %s", pw_strerror(rc));
    if (rc == PW_ENET_BACKEND)
        srv_ws_close(c, PW_WS_CLOSE_TRY_AGAIN, "backend unavailable, try again");
}

/* The ws table's message: echoed, or published to the channel. */
static void srv__ws_message(struct srv_conn *c, int opcode, const uint8_t *p, size_t len)
{
    struct srv *s = c->srv;
    if (s->o->echo) {
        s->m_msgs_in++;
        s->m_msgs_out++;
        /* only queues: c stays as it is */
        if (len < SRV_LEND_MIN || srv__ws(c)->wsd)
            srv_ws_send_data(c, opcode, p, len);
        else
            srv__echo_lend(c, opcode, p, len);
        return;
    }
    if (s->o->read_only)
        return;
    int may = srv_auth_pub_take(c, NULL);
    if (may <= 0) {
        /* a clear end rather than messages silently dropped */
        const char *why = may < 0 ? "the token does not allow publishing on this channel"
                                  : "publishing too fast (--max-pub-rate)";
        srv_log(s, c, "reject", 0, PW_WS_CLOSE_POLICY, "%s", why);
        srv_ws_close(c, PW_WS_CLOSE_POLICY, why);
        return;
    }
    /* publishing delivers to this connection too, which may find it slow */
    srv__ws(c)->pubs++;
    int rc = srv_publish(s, c->channel, strlen(c->channel), NULL, p, len, opcode == PW_WS_OP_BINARY,
                         srv__ws_ack, c);
    if (rc)
        srv__ws_ack(c, NULL, rc);
}

static int srv__on_message(void *ud, int opcode, const uint8_t *p, size_t len)
{
    struct srv_conn *c = ud;
    struct srv *s = c->srv;
    if (srv__ws(c)->close_sent)
        return PW_WSR_GO; /* closing: data is not answered any more (§5.5.1) */
    if (s->o->verbose)
        srv_log(s, c, "wire", 0, 0, "< %s message, %zu bytes", pw_ws_opcode_name(opcode), len);
    c->ops->message(c, opcode, p, len); /* published, echoed, or --exec's program */
    return srv__go_on(c);
}

static int srv__on_control(void *ud, int opcode, const uint8_t *p, size_t len)
{
    struct srv_conn *c = ud;
    if (opcode == PW_WS_OP_PING && !srv__ws(c)->close_sent)
        srv__send(c, PW_WS_OP_PONG, p, len);
    else if (opcode == PW_WS_OP_PONG)
        srv__ws(c)->awaiting_pong = 0;
    return srv__go_on(c);
}

static int srv__on_close(void *ud, unsigned code, const uint8_t *reason, size_t rlen)
{
    struct srv_conn *c = ud;
    struct srv_ws *w = srv__ws(c);
    srv_log(c->srv, c, "close-received", 0, code == PW_WS_CLOSE_NO_STATUS ? 0 : (int)code, "%.*s", (int)rlen,
            (const char *)reason);
    srv_unsubscribe(c);
    if (!w->close_sent) {
        /* echo the code (§5.5.1); an empty close gets an empty close */
        uint8_t pl[2] = {(uint8_t)(code >> 8), (uint8_t)code};
        srv__send(c, PW_WS_OP_CLOSE, pl, code == PW_WS_CLOSE_NO_STATUS ? 0 : 2);
        w->close_sent = 1;
    }
    srv_end(c); /* the server closes TCP first (§7.1.1) */
    return PW_WSR_STOP;
}

static int srv__on_frame(void *ud, const struct pw_wsr_frame *f)
{
    struct srv_conn *c = ud;
    if (f->inflated)
        srv_log(c->srv, c, "wire", 0, 0, "< frame %s fin=%d len=%llu compressed, inflated to %zu",
                pw_ws_opcode_name(f->hdr.opcode), f->hdr.fin, (unsigned long long)f->hdr.len, f->len);
    else
        srv_log(c->srv, c, "wire", 0, 0, "< frame %s fin=%d len=%llu", pw_ws_opcode_name(f->hdr.opcode),
                f->hdr.fin, (unsigned long long)f->hdr.len);
    return PW_WSR_GO;
}

static const struct pw_wsr_cb srv__wsr_cb = {srv__on_message, srv__on_control, srv__on_close, NULL};
static const struct pw_wsr_cb srv__wsr_cb_wire = {srv__on_message, srv__on_control, srv__on_close,
                                                  srv__on_frame};

/* The reader's options: the same every time one is made (srv__wsr). */
static struct pw_wsr *srv__wsr_new(struct srv_conn *c)
{
    struct srv_ws *w = srv__ws(c);
    struct pw_wsr *r = malloc(sizeof *r);
    if (r) {
        uint64_t max = c->srv->o->max_message;
        struct pw_wsr_opts ro = {PW_WS_FROM_CLIENT, max, max, 1, w->wsd};
        pw_wsr_init(r, &ro);
    }
    return r;
}

/* Every tick (ops->trim): a reader quiet since the last tick and between
 * messages is freed; the next byte read makes a new one.  Idle connections
 * are most of them, and a reader is most of a WebSocket's own state. */
void srv_ws_trim(struct srv_conn *c)
{
    struct srv_ws *w = srv__ws(c);
    if (w->r && !w->read_since_trim && pw_wsr_idle(w->r)) {
        srv__wsr_drop(w->r);
        w->r = NULL;
    }
    w->read_since_trim = 0;
}

size_t srv_ws_input(struct srv_conn *c, uint8_t *in, size_t n)
{
    struct srv_ws *w = srv__ws(c);
    if (n)
        w->awaiting_pong = 0; /* the peer is alive (srv_ws_tick) */
    if (!w->r && !(w->r = srv__wsr_new(c))) {
        srv_close(c, "out of memory");
        return n;
    }
    if (w->pubs >= SRV_WS_PUBS) {
        /* as many publishes on their way to the backend as a publisher may
         * have: the rest waits, kept, until acks bring them to half (srv__ws_ack) */
        c->in_wait = 1;
        srv_read_pause(c, 1);
        return 0;
    }
    struct pw_wsr *r = w->r;
    w->read_since_trim = 1;
    w->in_feed = 1;
    ssize_t k = pw_wsr_feed(r, in, n, c->srv->o->verbose ? &srv__wsr_cb_wire : &srv__wsr_cb, c);
    if (w->r != r) /* srv_ws_free ran inside (the union is cleared): ours to free */
        srv__wsr_drop(r);
    else
        w->in_feed = 0;
    if (k < 0)
        return srv__fail(c, (int)k, n);
    if (srv__go(c) != PW_WSR_GO)
        return n;
    /* a peer that pipelines faster than it reads, or publishes faster than
     * the backend acknowledges: stop reading for a while, and taking input
     * (the rest is kept: srv.h, ops->input) */
    if (srv_queue_full(c) || w->pubs >= SRV_WS_PUBS) {
        srv_read_pause(c, 1);
        if ((size_t)k < n || w->pubs >= SRV_WS_PUBS)
            c->in_wait = 1; /* (the acks' half-way mark goes on: srv__ws_ack) */
    }
    return (size_t)k;
}

/* ---- the upgrade ---- */

/* A resume that cannot be honoured, without pushwire.v1: plain messages are
 * all data, so there is nowhere to put a gap signal.  Rather than lose
 * messages silently, close with 4410 and the gap as the reason, sending
 * nothing; the client reconnects without ?since= (accepting the loss) or
 * with pushwire.v1 (the gap envelope, then the backlog). */
static void srv__gap_close(struct srv_conn *c, const struct pwmsg_gap *g)
{
    char why[PWMSG_REASON_MAX + 1];
    pwmsg_gap_reason(why, g);
    srv_ws_close(c, PW_WS_CLOSE_GAP, why);
}

/* What an upgrade request asks for, once checked. */
struct srv__ask {
    struct pw_ws_request_info info;
    char accept[PW_WS_ACCEPT_LEN + 1];
    char sbuf[PW_ID_MAX];
    const char *since;            /* NULL: no resume; PW_FEED_UNREADABLE; else sbuf */
    int envelope;                 /* pushwire.v1 was offered */
};

#define SRV__REFUSE(no, st, m, r, x) (*(no) = (struct srv_refusal){(st), (m), (r), (x)})

/* Everything that can refuse the upgrade, before anything is sent: 0, or a
 * negative PW_E* code with *no filled. */
static int srv__ws_check(struct srv_conn *c, const struct pw_http_req *req, struct srv__ask *a,
                         struct srv_refusal *no)
{
    struct srv *s = c->srv;
    int rc = pw_ws_check_request(req, &a->info);
    if (rc == PW_EHS_WS_VERSION) {
        SRV__REFUSE(no, 426, "Sec-WebSocket-Version must be 13", NULL,
                    "Sec-WebSocket-Version: 13\r\nUpgrade: websocket\r\n");
        return rc;
    }
    if (rc) {
        srv_log(s, c, "error", 400, 0, "%s (%s)", pw_strerror(rc), pw_errrule(rc));
        SRV__REFUSE(no, 400, pw_strerror(rc), pw_errrule(rc), NULL);
        return rc;
    }
    /* any ?since= is taken: one that names nothing held here is a gap */
    int hs = pw_http_query_get(req->query, "since", a->sbuf, sizeof a->sbuf);
    a->since = hs > 0 ? a->sbuf : hs < -1 ? PW_FEED_UNREADABLE : NULL;
    a->envelope = 0;
    for (size_t i = 0; i < a->info.nprotos; i++)
        if (pw_str_eq(a->info.protos[i], SRV_SUBPROTOCOL))
            a->envelope = 1;
    if (pw_ws_accept_key(a->info.key.p, a->info.key.len, a->accept)) {
        SRV__REFUSE(no, 500, "out of memory", NULL, NULL);
        return PW_ENOMEM;
    }
    return 0;
}

/* permessage-deflate when offered (RFC 7692 §7.1).  By default the answer
 * says server_no_context_takeover, so our side needs no compressor of its
 * own (the shared frame, or the shared compressor for its window), and
 * client_no_context_takeover (§7.1.1.2 lets a server add it to any offer),
 * so the inflater lives only while a compressed message arrives.  With
 * --deflate-context only what the client asked for.  1 and ext filled when
 * agreed (w->wsd set), 0 when no offer is acceptable, < 0 on no memory. */
static int srv__deflate_open(struct srv_conn *c, const struct srv__ask *a, char *ext, size_t cap)
{
    struct srv *s = c->srv;
    struct srv_ws *w = srv__ws(c);
    int bits = srv__zbits(s);
    int share = !s->o->deflate_context;
    struct pw_wsd_config cfg = {share, share, bits, bits};
    struct pw_wsd_params params;
    int rc = pw_wsd_server_accept(a->info.exts, a->info.nexts, &cfg, &params, ext, cap);
    if (rc != 1)
        return rc;
    w->wsd = calloc(1, sizeof *w->wsd);
    if (!w->wsd || pw_wsd_init(w->wsd, &params, 1, -1, s->o->max_message)) {
        free(w->wsd);
        w->wsd = NULL;
        return PW_ENOMEM;
    }
    if (pw_wsd_def_reset(w->wsd)) {
        /* the window agreed is at most ours: the shared frame when equal */
        pw_wsd_share(w->wsd, srv__wsz(s, pw_wsd_def_bits(w->wsd)));
        w->zshared = pw_wsd_def_bits(w->wsd) == bits;
    }
    return 1;
}

/* The connection becomes a WebSocket: its state, permessage-deflate when
 * offered and possible, the 101, timers. */
static void srv__ws_open(struct srv_conn *c, const struct srv__ask *a, const struct srv_ops *ops)
{
    struct srv *s = c->srv;
    c->ops->free(c); /* the union turns into WebSocket state */
    srv_set_ops(c, ops);
    struct srv_ws *w = srv__ws(c);
    memset(&c->u, 0, sizeof c->u);
    w->envelope = (uint8_t)a->envelope;
    char ext[SRV_EXT_MAX] = "";
    if (a->info.nexts && srv__deflate_open(c, a, ext, sizeof ext) != 1)
        ext[0] = 0; /* declined or no memory: no compression */
    srv_outf(c, "HTTP/1.1 101 Switching Protocols\r\n"
                "Upgrade: websocket\r\n"
                "Connection: Upgrade\r\n"
                "Sec-WebSocket-Accept: %s\r\n"
                "%s%s%s%s\r\n",
             a->accept, a->envelope ? "Sec-WebSocket-Protocol: " SRV_SUBPROTOCOL "\r\n" : "",
             ext[0] ? "Sec-WebSocket-Extensions: " : "", ext, ext[0] ? "\r\n" : "");
    c->keepalive = 0;
    c->t_deadline = 0;
    c->t_active = uv_now(s->loop);
    c->t_tick = s->o->ping > 0 ? srv_in(s, s->o->ping) : 0;
    srv_log(s, c, "upgrade", 101, 0, "%s%s%s%s", a->envelope ? SRV_SUBPROTOCOL : "websocket",
            w->wsd ? " permessage-deflate" : "", a->since ? " since " : "",
            a->since ? (a->since[0] ? a->since : "(unreadable id)") : "");
}

/* The feed's gap: with pushwire.v1 the gap envelope goes before the
 * messages that follow; without it there is no place for it among plain
 * messages, so close 4410 (srv__gap_close). */
static int srv__ws_gap(struct pw_feed *f, const char *after, const char *first)
{
    struct srv_conn *c = f->ud;
    struct pwmsg_gap g = {after, first};
    srv_log(c->srv, c, "gap", 0, 0, "after %s, first held %s", after ? after : "(unreadable)",
            first[0] ? first : "(none)");
    if (!srv__ws(c)->envelope) {
        srv__gap_close(c, &g);
        return 1;
    }
    struct pw_buf b;
    pw_buf_init(&b, 0);
    if (pwmsg_gap_envelope_encode(&b, c->channel, strlen(c->channel), &g) == 0)
        srv_ws_send_data(c, PW_WS_OP_TEXT, b.p, b.len);
    pw_buf_free(&b);
    return 0;
}

/* The checks, the caller's start (before anything is sent), the 101. */
static int srv__ws_accept(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen,
                          const struct srv_ops *ops, srv_ws_start *start, struct srv_refusal *no,
                          struct srv__ask *a)
{
    int rc = srv__ws_check(c, req, a, no);
    if (rc)
        return rc;
    /* pushwire.v1 promises envelopes: only pub/sub sends them, not --echo
     * (the client's own frames back) nor --exec (the program's lines) */
    if (start || c->srv->o->echo)
        a->envelope = 0;
    if (srv_channel_set(c, ch, chlen)) {
        SRV__REFUSE(no, 500, "out of memory", NULL, NULL);
        return PW_ENOMEM;
    }
    rc = start ? start(c, req, no) : 0;
    if (rc) {
        srv_channel_drop(c);
        return rc;
    }
    srv__ws_open(c, a, ops);
    return 0;
}

int srv_ws_accept(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen,
                  const struct srv_ops *ops, srv_ws_start *start, struct srv_refusal *no)
{
    struct srv__ask a;
    return srv__ws_accept(c, req, ch, chlen, ops, start, no, &a);
}

int srv_ws_upgrade(struct srv_conn *c, const struct pw_http_req *req, const char *ch, size_t chlen,
                   struct srv_refusal *no)
{
    struct srv__ask a;
    int rc = srv__ws_accept(c, req, ch, chlen, &srv__ws_ops, NULL, no, &a);
    if (rc)
        return rc;
    if (c->srv->o->echo)
        return 0;
    /* the gap (if any), then what is held, page by page as the client
     * reads, then live */
    if (srv_feed_start(c, a.since, a.envelope ? &srv__ws_feed_v1 : &srv__ws_feed))
        srv_ws_close(c, PW_WS_CLOSE_INTERNAL, "cannot subscribe");
    return 0;
}

/* ---- the ws transport ---- */

void srv_ws_deadline(struct srv_conn *c)
{
    srv_close(c, "close handshake timed out"); /* only set once our close is sent */
}

void srv_ws_idle(struct srv_conn *c)
{
    srv_ws_close(c, PW_WS_CLOSE_GOING_AWAY, "idle timeout");
}

void srv_ws_shutdown(struct srv_conn *c)
{
    srv_ws_close(c, PW_WS_CLOSE_GOING_AWAY, "server shutting down");
}

static void srv__ws_slow(struct srv_conn *c)
{
    srv_ws_close(c, PW_WS_CLOSE_TRY_AGAIN, "slow consumer");
}

void srv_ws_expire(struct srv_conn *c)
{
    /* closing already (our close frame sent, the peer's awaited): nothing
     * is left to end, nor to count as expired or revoked */
    if (srv__ws(c)->close_sent)
        return;
    srv_ws_close(c, PW_WS_CLOSE_POLICY, srv_auth_expired(c) ? SRV_REVOKED_MSG : "token expired");
}

static const struct srv_ops srv__ws_ops = {
    .name = "ws",
    .slot = SRV_SLOT_WS,
    .slow_code = PW_WS_CLOSE_TRY_AGAIN,
    .input = srv_ws_input,
    .eof = "peer closed without a close frame (1006)",
    .tick = srv_ws_tick,
    .deadline = srv_ws_deadline,
    .idle = srv_ws_idle,
    .shutdown = srv_ws_shutdown,
    .slow = srv__ws_slow,
    .expire = srv_ws_expire,
    .free = srv_ws_free,
    .message = srv__ws_message,
    .trim = srv_ws_trim,
};
