/* ws_frame.c — RFC 6455 frame codec (see ws_frame.h). */
#include "ws_frame.h"

#include <string.h>

#include "ws_deflate.h"

/* Parser states, named after the part of the frame being read. */
enum {
    PS_HEADER = 0, /* the first two bytes */
    PS_EXTLEN,     /* the 16- or 64-bit extended payload length */
    PS_MASK,       /* the 4-byte masking key */
    PS_PAYLOAD,    /* payload bytes */
    PS_END,        /* payload done, END event owed */
};

const char *pw_ws_opcode_name(int opcode)
{
    switch (opcode) {
    case PW_WS_OP_CONT: return "continuation";
    case PW_WS_OP_TEXT: return "text";
    case PW_WS_OP_BINARY: return "binary";
    case PW_WS_OP_CLOSE: return "close";
    case PW_WS_OP_PING: return "ping";
    case PW_WS_OP_PONG: return "pong";
    default: return "reserved";
    }
}

static int pw__op_known(int op)
{
    return op <= PW_WS_OP_BINARY || (op >= PW_WS_OP_CLOSE && op <= PW_WS_OP_PONG);
}

void pw_ws_parser_init(struct pw_ws_parser *p, const struct pw_ws_parser_opts *o)
{
    memset(p, 0, sizeof *p);
    if (o)
        p->o = *o;
    p->state = PS_HEADER;
    p->hneed = 2;
}

int pw_ws_parser_idle(const struct pw_ws_parser *p)
{
    return !p->err && p->state == PS_HEADER && p->hlen == 0;
}

static ssize_t pw__fail(struct pw_ws_parser *p, int err)
{
    p->err = err;
    return err;
}

/* Checks the first two bytes; sets the length when it fits in 7 bits. */
static int pw__first_two(struct pw_ws_parser *p)
{
    struct pw_ws_header *h = &p->hdr;
    uint8_t b0 = p->hbuf[0], b1 = p->hbuf[1];
    unsigned l7 = b1 & 0x7F;

    memset(h, 0, sizeof *h);
    h->fin = b0 >> 7;
    h->rsv = (b0 >> 4) & 7;
    h->opcode = b0 & 0xF;
    h->masked = b1 >> 7;
    if (p->lenient)
        goto framing; /* rules left to pw_ws_header_violations */
    if (h->rsv & ~p->o.allowed_rsv)
        return PW_EWS_RSV;
    if (!pw__op_known(h->opcode))
        return PW_EWS_OPCODE;
    if (pw_ws_is_control(h->opcode) && !h->fin)
        return PW_EWS_CTRL_FRAG;
    if (pw_ws_is_control(h->opcode) && l7 > 125)
        return PW_EWS_CTRL_LEN;
    if (p->o.from == PW_WS_FROM_CLIENT && !h->masked)
        return PW_EWS_UNMASKED;
    if (p->o.from == PW_WS_FROM_SERVER && h->masked)
        return PW_EWS_MASKED;
framing:
    if (l7 == 126) {
        h->len_form = 16;
        p->hneed = 4;
        p->state = PS_EXTLEN;
    } else if (l7 == 127) {
        h->len_form = 64;
        p->hneed = 10;
        p->state = PS_EXTLEN;
    } else {
        h->len_form = 7;
        h->minimal = 1;
        h->len = l7;
    }
    return 0;
}

static int pw__extlen(struct pw_ws_parser *p)
{
    struct pw_ws_header *h = &p->hdr;
    uint64_t len = 0;
    for (unsigned i = 2; i < p->hneed; i++)
        len = len << 8 | p->hbuf[i];
    if (h->len_form == 64 && (len >> 63))
        return PW_EWS_LEN_MSB;
    h->len = len;
    h->minimal = h->len_form == 16 ? len > 125 : len > 0xFFFF;
    if (!h->minimal && p->o.strict_minimal && !p->lenient)
        return PW_EWS_NONMINIMAL;
    return 0;
}

/* Advances through the header states once hbuf holds hneed bytes.
 * Returns 1 when the header is complete, 0 when more bytes are needed. */
static int pw__header_step(struct pw_ws_parser *p)
{
    int r;
    if (p->state == PS_HEADER) {
        if ((r = pw__first_two(p)) < 0)
            return r;
        if (p->state == PS_EXTLEN)
            return 0;
    } else if (p->state == PS_EXTLEN) {
        if ((r = pw__extlen(p)) < 0)
            return r;
    }
    if (p->state != PS_MASK) {
        /* a control frame is bounded by its own rule (125 bytes), not this */
        if (p->o.max_frame && p->hdr.len > p->o.max_frame && !pw_ws_is_control(p->hdr.opcode))
            return PW_EWS_TOOBIG;
        if (p->hdr.masked) {
            p->state = PS_MASK;
            p->hneed += 4;
            return 0;
        }
    } else {
        memcpy(p->hdr.mask, p->hbuf + p->hneed - 4, 4);
    }
    p->hdr.header_len = p->hneed;
    p->done = 0;
    p->hlen = 0;
    p->hneed = 2;
    p->state = p->hdr.len ? PS_PAYLOAD : PS_END;
    return 1;
}

ssize_t pw_ws_parse(struct pw_ws_parser *p, uint8_t *in, size_t len,
                    struct pw_ws_event *ev)
{
    size_t used = 0;

    ev->type = PW_WS_EV_NONE;
    ev->data = NULL;
    ev->len = 0;
    ev->offset = 0;
    if (p->err)
        return p->err;
    switch (p->state) {
    case PS_HEADER:
        if (p->hlen == 0 && len >= 14) {
            /* fast path: a whole header is surely in view; one fixed-size
             * copy, then the same steps as byte-wise */
            memcpy(p->hbuf, in, 14);
            int r;
            do {
                p->hlen = p->hneed;
                if ((r = pw__header_step(p)) < 0)
                    return pw__fail(p, r);
            } while (r == 0);
            ev->type = PW_WS_EV_HEADER;
            ev->hdr = p->hdr;
            return (ssize_t)p->hdr.header_len;
        }
        /* fall through */
    case PS_EXTLEN:
    case PS_MASK:
        for (;;) {
            size_t take = p->hneed - p->hlen;
            if (take > len - used)
                take = len - used;
            if (take) /* in may be NULL when len is 0 */
                memcpy(p->hbuf + p->hlen, in + used, take);
            p->hlen += take;
            used += take;
            if (p->hlen < p->hneed)
                return (ssize_t)used;
            int r = pw__header_step(p);
            if (r < 0)
                return pw__fail(p, r);
            if (r == 1)
                break;
        }
        ev->type = PW_WS_EV_HEADER;
        ev->hdr = p->hdr;
        return (ssize_t)used;
    case PS_PAYLOAD: {
        uint64_t left = p->hdr.len - p->done;
        size_t n = len < left ? len : (size_t)left;
        ev->hdr = p->hdr;
        if (n == 0)
            return 0;
        if (p->hdr.masked)
            pw_ws_mask(in, n, p->hdr.mask, p->done);
        ev->type = PW_WS_EV_PAYLOAD;
        ev->data = in;
        ev->len = n;
        ev->offset = p->done;
        p->done += n;
        if (p->done == p->hdr.len)
            p->state = PS_END;
        return (ssize_t)n;
    }
    default: /* PS_END */
        ev->type = PW_WS_EV_END;
        ev->hdr = p->hdr;
        p->state = PS_HEADER;
        return 0;
    }
}

size_t pw_ws_peek_whole(const struct pw_ws_parser *p, const uint8_t *in, size_t len, int *opcode,
                        size_t *plen, int *masked)
{
    if (len < 2 || p->state != PS_HEADER || p->hlen || p->err || p->lenient)
        return 0;
    unsigned b0 = in[0], b1 = in[1], op = b0 & 0xF, m = b1 >> 7;
    /* FIN, no RSV (what allowed_rsv permits is left to pw_ws_parse), data */
    if ((b0 & 0xF0) != 0x80 || (op != PW_WS_OP_TEXT && op != PW_WS_OP_BINARY))
        return 0;
    if ((p->o.from == PW_WS_FROM_CLIENT && !m) || (p->o.from == PW_WS_FROM_SERVER && m))
        return 0;
    size_t hl = 2, n = b1 & 0x7F;
    if (n == 126) {
        if (len < 4)
            return 0;
        n = (size_t)in[2] << 8 | in[3];
        if (n <= 125 && p->o.strict_minimal)
            return 0;
        hl = 4;
    } else if (n == 127)
        return 0;
    hl += m ? 4 : 0;
    if ((p->o.max_frame && n > p->o.max_frame) || len < hl || len - hl < n)
        return 0;
    *opcode = (int)op;
    *plen = n;
    *masked = (int)m;
    return hl;
}

/* --- inspection (frame --decode) --- */

void pw_ws_parser_lenient(struct pw_ws_parser *p)
{
    p->lenient = 1;
}

int pw_ws_header_violations(const struct pw_ws_header *h, enum pw_ws_role from,
                            unsigned allowed_rsv, int *errs, int max)
{
    int n = 0, ctl = pw_ws_is_control(h->opcode);
    int rule[] = {
        (h->rsv & ~allowed_rsv) ? PW_EWS_RSV : 0,
        !pw__op_known(h->opcode) ? PW_EWS_OPCODE : 0,
        ctl && !h->fin ? PW_EWS_CTRL_FRAG : 0,
        ctl && h->len > 125 ? PW_EWS_CTRL_LEN : 0,
        from == PW_WS_FROM_CLIENT && !h->masked ? PW_EWS_UNMASKED : 0,
        from == PW_WS_FROM_SERVER && h->masked ? PW_EWS_MASKED : 0,
        !h->minimal ? PW_EWS_NONMINIMAL : 0,
    };
    for (size_t i = 0; i < sizeof rule / sizeof rule[0] && n < max; i++)
        if (rule[i])
            errs[n++] = rule[i];
    return n;
}

/* --- message layer --- */

void pw_ws_msg_init(struct pw_ws_msgstate *m, uint64_t max_message)
{
    memset(m, 0, sizeof *m);
    m->max_message = max_message;
}

static int pw__msg_fail(struct pw_ws_msgstate *m, int err)
{
    m->err = err;
    return err;
}

static int pw__msg_header(struct pw_ws_msgstate *m, const struct pw_ws_header *h)
{
    if (pw_ws_is_control(h->opcode)) {
        if (h->rsv & 4)
            return PW_EWS_RSV;
        if (h->opcode == PW_WS_OP_CLOSE && h->len == 1)
            return PW_EWS_CLOSE_LEN;
        pw_utf8_init(&m->ctl_utf8);
        return 0;
    }
    if (h->opcode == PW_WS_OP_CONT) {
        if (!m->in_message)
            return PW_EWS_CONT_UNEXPECTED;
        if (h->rsv & 4)
            return PW_EWS_RSV;
    } else {
        if (m->in_message)
            return PW_EWS_CONT_EXPECTED;
        m->in_message = 1;
        m->opcode = h->opcode;
        m->compressed = (h->rsv & 4) != 0;
        m->size = 0;
        m->check_utf8 = h->opcode == PW_WS_OP_TEXT && !m->compressed;
        pw_utf8_init(&m->utf8);
    }
    if (m->max_message && h->len > m->max_message - m->size)
        return PW_EWS_TOOBIG;
    m->size += h->len;
    return 0;
}

static int pw__msg_close_payload(struct pw_ws_msgstate *m, const struct pw_ws_event *ev)
{
    const uint8_t *d = ev->data;
    size_t n = ev->len;
    uint64_t off = ev->offset;
    while (off < 2 && n > 0) {
        m->ctl_code[off++] = *d++;
        n--;
        if (off == 2 && !pw_ws_close_code_valid((unsigned)m->ctl_code[0] << 8 | m->ctl_code[1]))
            return PW_EWS_CLOSE_CODE;
    }
    if (n && pw_utf8_feed(&m->ctl_utf8, d, n, NULL) == PW_UTF8_BAD)
        return PW_EWS_CLOSE_UTF8;
    return 0;
}

int pw_ws_msg_event(struct pw_ws_msgstate *m, const struct pw_ws_event *ev)
{
    const struct pw_ws_header *h = &ev->hdr;
    int ctrl = pw_ws_is_control(h->opcode);
    int r = 0;

    if (m->err)
        return m->err;
    switch (ev->type) {
    case PW_WS_EV_HEADER:
        r = pw__msg_header(m, h);
        break;
    case PW_WS_EV_PAYLOAD:
        if (ctrl) {
            if (h->opcode == PW_WS_OP_CLOSE)
                r = pw__msg_close_payload(m, ev);
        } else if (m->check_utf8 &&
                   pw_utf8_feed(&m->utf8, ev->data, ev->len, NULL) == PW_UTF8_BAD) {
            r = PW_EWS_UTF8;
        }
        break;
    case PW_WS_EV_END:
        if (ctrl) {
            if (h->opcode == PW_WS_OP_CLOSE && m->ctl_utf8.state != 0)
                r = PW_EWS_CLOSE_UTF8;
        } else if (h->fin) {
            if (m->check_utf8 && m->utf8.state != 0)
                r = PW_EWS_UTF8;
            m->in_message = 0;
        }
        break;
    default:
        break;
    }
    return r < 0 ? pw__msg_fail(m, r) : 0;
}

/* --- encoder --- */

int pw_ws_encode_header(uint8_t out[14], int fin, unsigned rsv, int opcode,
                        const uint8_t *mask, uint64_t len, int len_form)
{
    size_t n = 2;
    if (opcode < 0 || opcode > 15 || rsv > 7 || (len >> 63))
        return PW_EINVAL;
    if (len <= 125 && !mask && len_form == 0) { /* a server's small frame: every echo */
        out[0] = (uint8_t)((fin ? 0x80 : 0) | rsv << 4 | opcode);
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len_form == 0)
        len_form = len <= 125 ? 7 : len <= 0xFFFF ? 16 : 64;
    if ((len_form == 7 && len > 125) || (len_form == 16 && len > 0xFFFF) ||
        (len_form != 7 && len_form != 16 && len_form != 64))
        return PW_EINVAL;
    out[0] = (uint8_t)((fin ? 0x80 : 0) | rsv << 4 | opcode);
    out[1] = mask ? 0x80 : 0;
    if (len_form == 7) {
        out[1] |= (uint8_t)len;
    } else if (len_form == 16) {
        out[1] |= 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        n = 4;
    } else {
        out[1] |= 127;
        for (int i = 0; i < 8; i++)
            out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
        n = 10;
    }
    if (mask) {
        memcpy(out + n, mask, 4);
        n += 4;
    }
    return (int)n;
}

ssize_t pw_ws_encode(uint8_t *out, size_t cap, int fin, unsigned rsv, int opcode,
                     const uint8_t *mask, const uint8_t *payload, size_t len,
                     int len_form)
{
    uint8_t h[14];
    int hl = pw_ws_encode_header(h, fin, rsv, opcode, mask, len, len_form);
    if (hl < 0)
        return hl;
    if (cap < (size_t)hl || cap - (size_t)hl < len)
        return PW_ETOOBIG;
    memcpy(out, h, (size_t)hl);
    if (len) {
        memcpy(out + hl, payload, len);
        if (mask)
            pw_ws_mask(out + hl, len, mask, 0);
    }
    return (ssize_t)((size_t)hl + len);
}

/* --- close codes --- */

int pw_ws_close_code_valid(unsigned code)
{
    /* 1004 reserved, 1005/1006/1015 never on the wire (§7.4.1); 1012-1014
     * registered by IANA; 1016-2999 reserved for RFCs; 3000-4999 for users */
    return (code >= PW_WS_CLOSE_NORMAL && code <= PW_WS_CLOSE_UNSUPPORTED) ||
           (code >= PW_WS_CLOSE_INVALID_DATA && code <= PW_WS_CLOSE_BAD_GATEWAY) ||
           (code >= 3000 && code <= 4999);
}

int pw_ws_close_parse(const uint8_t *payload, size_t len, unsigned *code,
                      const uint8_t **reason, size_t *reason_len)
{
    *code = 0;
    *reason = payload;
    *reason_len = 0;
    if (len == 0)
        return 0;
    if (len > 125)
        return PW_EWS_CTRL_LEN;
    if (len == 1)
        return PW_EWS_CLOSE_LEN;
    unsigned c = (unsigned)payload[0] << 8 | payload[1];
    if (!pw_ws_close_code_valid(c))
        return PW_EWS_CLOSE_CODE;
    if (!pw_utf8_valid(payload + 2, len - 2))
        return PW_EWS_CLOSE_UTF8;
    *code = c;
    *reason = payload + 2;
    *reason_len = len - 2;
    return 0;
}

int pw_ws_close_build(uint8_t out[125], unsigned code, const char *reason,
                      size_t reason_len)
{
    if (code == 0)
        return 0;
    if (reason_len > 123 || code > 0xFFFF)
        return PW_EINVAL;
    out[0] = (uint8_t)(code >> 8);
    out[1] = (uint8_t)code;
    if (reason_len)
        memcpy(out + 2, reason, reason_len);
    return (int)(2 + reason_len);
}

int pw_ws_close_is_normal(int code)
{
    return code == PW_WS_CLOSE_NORMAL || code == PW_WS_CLOSE_GOING_AWAY ||
           code == PW_WS_CLOSE_NO_STATUS;
}

unsigned pw_ws_close_code_for(int err)
{
    switch (err) {
    case PW_EWS_UTF8:
    case PW_EWS_CLOSE_UTF8:
    case PW_EWSD_DATA:
        return PW_WS_CLOSE_INVALID_DATA;
    case PW_EWS_TOOBIG:
    case PW_EWSD_TOOBIG:
    case PW_ETOOBIG:
        return PW_WS_CLOSE_TOO_BIG;
    case PW_EWSD_ZLIB:
        return PW_WS_CLOSE_INTERNAL;
    }
    if (err <= -100 && err >= -199)
        return PW_WS_CLOSE_PROTOCOL;
    return PW_WS_CLOSE_INTERNAL;
}

#define PW_WS_CLOSE_NAME(name, code, meaning) case (code): return (meaning);

const char *pw_ws_close_code_name(unsigned code)
{
    switch (code) {
    PW_WS_CLOSE_CODES(PW_WS_CLOSE_NAME)
    }
    if (code >= 3000 && code <= 3999)
        return "registered (libraries and frameworks)";
    if (code >= 4000 && code <= 4999)
        return "private use";
    return "unknown";
}
