/* ws_reader.c — the WebSocket message reader (see ws_reader.h). */
#include "ws_reader.h"

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

/* A buffered frame reserves its declared length up front, up to this much:
 * one allocation for a usual message, while a header that claims a huge
 * length still costs the sender the bytes before our memory grows. */
#define PW_WSR_RESERVE_MAX (64 * 1024)

static const uint8_t pw__empty[1];

/* What the event handlers return besides 0 and errors: a callback's STOP,
 * or the close was delivered (the rest of the input is ignored). */
enum { PW__WSR_CLOSED = 2 };

/* Any non-zero answer from a callback is a STOP. */
static inline int pw__said(int v) { return v ? PW_WSR_STOP : PW_WSR_GO; }

void pw_wsr_init(struct pw_wsr *r, const struct pw_wsr_opts *o)
{
    memset(r, 0, sizeof *r);
    struct pw_ws_parser_opts po = {o->from, o->wsd ? 4u : 0u, o->max_frame, o->strict_minimal};
    pw_ws_parser_init(&r->p, &po);
    pw_ws_msg_init(&r->m, o->max_message);
    r->wsd = o->wsd;
    /* inflating writes one byte past the limit to tell "exactly the limit"
     * from "over it" (ws_deflate.h): leave room for that byte */
    uint64_t cap = o->max_message;
    if (o->wsd && cap && cap < SIZE_MAX)
        cap++;
    pw_buf_init(&r->msg, cap >= SIZE_MAX ? 0 : (size_t)cap);
}

void pw_wsr_free(struct pw_wsr *r)
{
    pw_buf_free(&r->msg);
    free(r->ctl);
    r->ctl = NULL;
    r->ctl_len = 0;
}

size_t pw_wsr_held(const struct pw_wsr *r)
{
    return r->msg.cap + (r->ctl ? 125 : 0);
}

int pw_wsr_idle(const struct pw_wsr *r)
{
    return !r->err && !r->closed && !r->m.in_message && !r->ctl && r->ctl_len == 0 &&
           r->msg.cap == 0 && pw_ws_parser_idle(&r->p);
}

static ssize_t pw__wsr_fail(struct pw_wsr *r, int err)
{
    r->err = err;
    return err;
}

/* Inflates the next piece of a compressed message into r->msg and checks
 * the new text as UTF-8 (RFC 7692 §8: after inflating), failing fast.  The
 * bytes up to the limit are checked before an over-limit error is reported,
 * so the first rule broken is named however the input was split. */
static int pw__wsr_inflate(struct pw_wsr *r, const uint8_t *p, size_t n, int fin)
{
    size_t before = r->msg.len;
    int rc = pw_wsd_decompress(r->wsd, p, n, fin, &r->msg);
    if (r->m.opcode == PW_WS_OP_TEXT) {
        size_t end = r->msg.len;
        if (r->m.max_message && end > r->m.max_message)
            end = (size_t)r->m.max_message;
        if (end > before &&
            pw_utf8_feed(&r->m.utf8, r->msg.p + before, end - before, NULL) == PW_UTF8_BAD)
            return PW_EWS_UTF8;
    }
    /* r->msg is capped one byte past max_message: full means inflated too far */
    return rc == PW_ETOOBIG ? PW_EWSD_TOOBIG : rc;
}

static int pw__wsr_header(struct pw_wsr *r, const struct pw_ws_header *h, size_t avail)
{
    if (pw_ws_is_control(h->opcode))
        return 0;
    r->frame_start = r->msg.len;
    /* delivered in place (pw__wsr_payload) or inflated: nothing to reserve */
    int whole = h->fin && h->opcode != PW_WS_OP_CONT && avail >= h->len;
    if (r->m.compressed || whole || h->len == 0)
        return 0;
    size_t want = h->len < PW_WSR_RESERVE_MAX ? (size_t)h->len : PW_WSR_RESERVE_MAX;
    int rc = pw_buf_reserve(&r->msg, want);
    return rc == PW_ETOOBIG ? PW_EWS_TOOBIG : rc;
}

/* One payload chunk.  *direct is set when the chunk is a whole frame that
 * needs no assembly: a control frame, or a data message of one uncompressed
 * frame; it stays valid until the END event that follows in this feed. */
static int pw__wsr_payload(struct pw_wsr *r, const struct pw_ws_event *ev, const uint8_t **direct)
{
    const struct pw_ws_header *h = &ev->hdr;
    int whole = ev->offset == 0 && ev->len == h->len;
    if (pw_ws_is_control(h->opcode)) {
        if (whole) {
            *direct = ev->data;
            return 0;
        }
        if (!r->ctl && !(r->ctl = malloc(125)))
            return PW_ENOMEM;
        memcpy(r->ctl + r->ctl_len, ev->data, ev->len); /* <= 125 in all (parser) */
        r->ctl_len = (uint8_t)(r->ctl_len + ev->len);
        return 0;
    }
    if (r->m.compressed)
        return pw__wsr_inflate(r, ev->data, ev->len, 0);
    if (whole && h->fin && h->opcode != PW_WS_OP_CONT) {
        *direct = ev->data; /* the whole message is in the input: no copy */
        return 0;
    }
    int rc = pw_buf_append(&r->msg, ev->data, ev->len);
    return rc == PW_ETOOBIG ? PW_EWS_TOOBIG : rc;
}

/* The wire view of a data frame that just ended. */
static int pw__wsr_show(struct pw_wsr *r, const struct pw_ws_header *h, const uint8_t *direct,
                        const struct pw_wsr_cb *cb, void *ud)
{
    struct pw_wsr_frame f = {*h, direct, (size_t)h->len, 0};
    if (!direct) {
        const uint8_t *base = r->msg.p ? r->msg.p : pw__empty;
        size_t start = r->m.compressed ? (size_t)r->frame_start : r->msg.len - (size_t)h->len;
        f.payload = base + start;
        f.len = r->msg.len - start;
        f.inflated = r->m.compressed;
    }
    return pw__said(cb->on_frame(ud, &f));
}

static int pw__wsr_data_end(struct pw_wsr *r, const struct pw_ws_header *h, const uint8_t *direct,
                            const struct pw_wsr_cb *cb, void *ud)
{
    int rc;
    if (r->m.compressed && h->fin) {
        if ((rc = pw__wsr_inflate(r, NULL, 0, 1)) < 0)
            return rc;
        if (r->m.opcode == PW_WS_OP_TEXT && r->m.utf8.state != 0)
            return PW_EWS_UTF8; /* ends inside a code point */
    }
    if (cb->on_frame && (rc = pw__wsr_show(r, h, direct, cb, ud)) != PW_WSR_GO)
        return rc;
    if (!h->fin)
        return PW_WSR_GO;
    /* the buffer goes with the message: the reader holds nothing between
     * messages, and is consistent again before the callback runs */
    struct pw_buf msg = r->msg;
    r->msg.p = NULL;
    r->msg.len = r->msg.cap = 0;
    const uint8_t *d = direct ? direct : msg.p ? msg.p : pw__empty;
    size_t n = direct ? (size_t)h->len : msg.len;
    rc = pw__said(cb->on_message(ud, r->m.opcode, d, n));
    if (msg.p) /* not for a message delivered in place: the usual case */
        free(msg.p);
    return rc;
}

static int pw__wsr_control(int opcode, const uint8_t *p, size_t n, const struct pw_wsr_cb *cb,
                           void *ud)
{
    if (opcode != PW_WS_OP_CLOSE)
        return cb->on_control ? pw__said(cb->on_control(ud, opcode, p, n)) : PW_WSR_GO;
    unsigned code;
    const uint8_t *reason;
    size_t rlen;
    int rc = pw_ws_close_parse(p, n, &code, &reason, &rlen); /* the message layer checked it */
    if (rc < 0)
        return rc;
    return cb->on_close ? pw__said(cb->on_close(ud, code ? code : 1005, reason, rlen)) : PW_WSR_GO;
}

static int pw__wsr_control_end(struct pw_wsr *r, const struct pw_ws_header *h,
                               const uint8_t *direct, const struct pw_wsr_cb *cb, void *ud)
{
    uint8_t *ctl = r->ctl; /* the callback's now, freed after it */
    const uint8_t *p = direct ? direct : ctl ? ctl : pw__empty;
    size_t n = direct ? (size_t)h->len : r->ctl_len;
    r->ctl = NULL;
    r->ctl_len = 0;
    int close = h->opcode == PW_WS_OP_CLOSE;
    if (close)
        r->closed = 1;
    int rc = PW_WSR_GO;
    if (cb->on_frame) {
        struct pw_wsr_frame f = {*h, p, n, 0};
        rc = pw__said(cb->on_frame(ud, &f));
    }
    if (rc == PW_WSR_GO)
        rc = pw__wsr_control(h->opcode, p, n, cb, ud);
    if (ctl)
        free(ctl);
    return rc == PW_WSR_GO && close ? PW__WSR_CLOSED : rc;
}

/* One parser event the message layer accepted: 0 (go on), PW_WSR_STOP,
 * PW__WSR_CLOSED, or an error. */
static int pw__wsr_event(struct pw_wsr *r, const struct pw_ws_event *ev, size_t avail,
                         const uint8_t **direct, const struct pw_wsr_cb *cb, void *ud)
{
    const uint8_t *d;
    switch (ev->type) {
    case PW_WS_EV_HEADER:
        *direct = NULL;
        return pw__wsr_header(r, &ev->hdr, avail);
    case PW_WS_EV_PAYLOAD:
        return pw__wsr_payload(r, ev, direct);
    case PW_WS_EV_END:
        d = *direct;
        *direct = NULL;
        if (pw_ws_is_control(ev->hdr.opcode))
            return pw__wsr_control_end(r, &ev->hdr, d, cb, ud);
        return pw__wsr_data_end(r, &ev->hdr, d, cb, ud);
    default:
        return 0;
    }
}

/* The usual message on a fast path: a whole unfragmented, uncompressed data
 * frame in view at a frame boundary (pw_ws_peek_whole) while no message is
 * open.  It gets the checks the general path would make (max_message, the
 * UTF-8 of text) and is delivered in place, so the outcome is the same
 * however the input was split.  Returns the bytes taken (> 0; *said: the
 * callback's answer), 0 when the frame is not one (the general path takes
 * it), or an error. */
static ssize_t pw__wsr_quick(struct pw_wsr *r, uint8_t *in, size_t len, const struct pw_wsr_cb *cb,
                             void *ud, int *said)
{
    int op, masked;
    size_t n, hl = pw_ws_peek_whole(&r->p, in, len, &op, &n, &masked);
    if (!hl || (r->m.max_message && n > r->m.max_message))
        return 0;
    uint8_t *d = in + hl;
    int ascii = masked && pw_ws_unmask_ascii(d, n, d - 4); /* ASCII is valid UTF-8 */
    if (op == PW_WS_OP_TEXT && !ascii && !pw_utf8_valid(d, n))
        return PW_EWS_UTF8;
    *said = pw__said(cb->on_message(ud, op, n ? d : pw__empty, n));
    return (ssize_t)(hl + n);
}

ssize_t pw_wsr_feed(struct pw_wsr *r, uint8_t *in, size_t len, const struct pw_wsr_cb *cb,
                    void *ud)
{
    if (r->err)
        return r->err;
    if (r->closed || len == 0)
        return (ssize_t)len; /* after a close the peer sends nothing (§5.5.1) */
    const uint8_t *direct = NULL;
    size_t used = 0;
    for (;;) {
        if (!cb->on_frame && !r->m.in_message) {
            int said = PW_WSR_GO;
            ssize_t q = pw__wsr_quick(r, in + used, len - used, cb, ud, &said);
            if (q < 0)
                return pw__wsr_fail(r, (int)q);
            if (q > 0) {
                used += (size_t)q;
                if (said != PW_WSR_GO)
                    return (ssize_t)used; /* r may be gone: touch nothing */
                if (used == len)
                    break;
                continue;
            }
        }
        struct pw_ws_event ev;
        ssize_t k = pw_ws_parse(&r->p, in + used, len - used, &ev);
        if (k < 0)
            return pw__wsr_fail(r, (int)k);
        used += (size_t)k;
        if (ev.type == PW_WS_EV_NONE)
            break; /* the input ended inside a header */
        int rc = pw_ws_msg_event(&r->m, &ev);
        if (rc == 0)
            rc = pw__wsr_event(r, &ev, len - used, &direct, cb, ud);
        if (rc != 0) {
            if (rc < 0)
                return pw__wsr_fail(r, rc);
            /* STOP: r may be gone, touch nothing; CLOSED: ignore the rest */
            return (ssize_t)(rc == PW_WSR_STOP ? used : len);
        }
        /* all in: go on only for the END a complete frame still owes
         * (ws_frame.h: after its last payload byte, or a header of length 0) */
        if (used == len && (ev.type == PW_WS_EV_END ||
                            (ev.type == PW_WS_EV_PAYLOAD ? ev.offset + ev.len < ev.hdr.len
                                                         : ev.hdr.len != 0)))
            break;
    }
    return (ssize_t)used;
}
