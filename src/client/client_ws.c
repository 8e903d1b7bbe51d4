/* client_ws.c — WebSocket client: opening handshake, frames in and out,
 * pings, the closing handshake.  See client_ws.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_ws.h"
#include "proto/base64.h"
#include "proto/http1.h"
#include "proto/ws_handshake.h"

#define PW_WSC_MAX_HEAD 65536
#define PW_WSC_MAX_BODY 65536
/* our request head: a resume id in the target may be long (connect keeps
 * ids up to 64 KiB, up to three times that percent-encoded) */
#define PW_WSC_MAX_REQUEST (256u << 10)

static void pw__wsc_end(struct pw_wsc *ws, int err)
{
    if (ws->ended || ws->freed)
        return;
    ws->ended = 1;
    ws->state = PW_WSC_DONE;
    ws->cb.on_end(ws, err);
}

/* end once what is queued (a close frame) is in the kernel */
static void pw__wsc_end_after_flush(struct pw_wsc *ws, int err)
{
    if (ws->ending)
        return;
    ws->ending = 1;
    ws->end_err = err;
    if (pw_stream_pending(&ws->st) == 0)
        pw__wsc_end(ws, err);
}

/* Sends one frame.  plain/plain_len: a compressed message before deflating,
 * for the wire view (NULL when data is not compressed). */
static int pw__wsc_frame(struct pw_wsc *ws, int opcode, unsigned rsv, const void *data, size_t len,
                         const void *plain, size_t plain_len)
{
    if (ws->st.state != PW_ST_OPEN || ws->st.ended)
        return PW_ESTATE;
    uint8_t key[4];
    if (pw_rand_bytes(key, 4))
        return PW_EIO;
    uint8_t hdr[14];
    int hl = pw_ws_encode_header(hdr, 1, rsv, opcode, key, len, 0);
    if (hl < 0)
        return hl;
    struct pw_buf *f = &ws->frame;
    f->len = 0;
    int rc = pw_buf_reserve(f, (size_t)hl + len);
    if (rc)
        return rc;
    memcpy(f->p, hdr, (size_t)hl);
    if (len)
        memcpy(f->p + hl, data, len);
    if (ws->cb.on_frame) {
        const void *shown = plain ? plain : data;
        size_t slen = plain ? plain_len : len;
        struct pw_wsc_frame fr = {1, 1, (int)rsv, opcode, 1, len, shown, slen < 4096 ? slen : 4096,
                                  plain != NULL, slen};
        ws->cb.on_frame(ws, &fr);
    }
    pw_ws_mask(f->p + hl, len, key, 0);
    f->len = (size_t)hl + len;
    return pw_stream_write(&ws->st, f->p, f->len);
}

int pw_wsc_send(struct pw_wsc *ws, int opcode, const void *data, size_t len)
{
    if (ws->state != PW_WSC_OPEN && !(ws->state == PW_WSC_CLOSING && pw_ws_is_control(opcode) &&
                                      opcode != PW_WS_OP_CLOSE))
        return PW_ESTATE;
    if (pw_ws_is_control(opcode) && len > 125)
        return PW_EINVAL;
    int rc;
    if (ws->deflate && !pw_ws_is_control(opcode)) {
        ws->ztmp.len = 0;
        rc = pw_wsd_compress(&ws->wsd, data, len, &ws->ztmp);
        if (rc == 0)
            rc = pw__wsc_frame(ws, opcode, 4, ws->ztmp.p, ws->ztmp.len, data ? data : "", len);
    } else {
        rc = pw__wsc_frame(ws, opcode, 0, data, len, NULL, 0);
    }
    if (rc == 0 && !pw_ws_is_control(opcode))
        ws->msgs_out++;
    return rc;
}

static int pw__wsc_send_close(struct pw_wsc *ws, unsigned code, const char *reason)
{
    uint8_t p[125];
    size_t n = 0;
    if (code) {
        p[0] = (uint8_t)(code >> 8);
        p[1] = (uint8_t)code;
        n = 2;
        size_t rl = reason ? pw_utf8_cut((const uint8_t *)reason, strlen(reason), 123) : 0;
        if (rl)
            memcpy(p + 2, reason, rl);
        n += rl;
    }
    ws->close_out = (int)(code ? code : PW_WS_CLOSE_NO_STATUS);
    return pw__wsc_frame(ws, PW_WS_OP_CLOSE, 0, p, n, NULL, 0);
}

int pw_wsc_close(struct pw_wsc *ws, unsigned code, const char *reason)
{
    if (ws->state != PW_WSC_OPEN)
        return PW_ESTATE;
    ws->state = PW_WSC_CLOSING;
    return pw__wsc_send_close(ws, code, reason);
}

size_t pw_wsc_pending(const struct pw_wsc *ws) { return pw_stream_pending(&ws->st); }

void pw_wsc_pause(struct pw_wsc *ws, int paused) { pw_stream_pause(&ws->st, paused); }

/* The server broke a rule: tell it with the right close code, then end.
 * Our own failures (out of memory, zlib) close with 1011 and say so. */
static void pw__wsc_violation(struct pw_wsc *ws, int err)
{
    unsigned code = pw_ws_close_code_for(err);
    if (pw_errrule(err)[0])
        snprintf(ws->detail, sizeof ws->detail, "server broke %s: %s (closing with %u)",
                 pw_errrule(err), pw_strerror(err), code);
    else
        snprintf(ws->detail, sizeof ws->detail, "%s (closing with %u)", pw_strerror(err), code);
    if (ws->close_out < 0)
        pw__wsc_send_close(ws, code, pw_strerror(err));
    ws->state = PW_WSC_CLOSING;
    pw__wsc_end_after_flush(ws, err);
}

/* ---- frames in: the message reader's callbacks (ws_reader.h) ---------- */

/* Stop reading once the connection is ending or the user freed it. */
static int pw__wsc_go(const struct pw_wsc *ws)
{
    return ws->ending || ws->ended || ws->freed ? PW_WSR_STOP : PW_WSR_GO;
}

static int pw__wsc_on_message(void *ud, int opcode, const uint8_t *data, size_t len)
{
    struct pw_wsc *ws = ud;
    ws->msgs_in++;
    ws->cb.on_message(ws, opcode, data, len);
    return pw__wsc_go(ws);
}

static int pw__wsc_on_control(void *ud, int opcode, const uint8_t *data, size_t len)
{
    struct pw_wsc *ws = ud;
    if (opcode == PW_WS_OP_PING && ws->close_out < 0)
        pw__wsc_frame(ws, PW_WS_OP_PONG, 0, data, len, NULL, 0);
    else if (opcode == PW_WS_OP_PONG && ws->cb.on_pong)
        ws->cb.on_pong(ws, data, len);
    return pw__wsc_go(ws);
}

static int pw__wsc_on_close(void *ud, unsigned code, const uint8_t *reason, size_t rl)
{
    struct pw_wsc *ws = ud;
    ws->close_in = (int)code;
    if (rl >= sizeof ws->close_in_reason)
        rl = sizeof ws->close_in_reason - 1;
    if (rl)
        memcpy(ws->close_in_reason, reason, rl);
    ws->close_in_reason[rl] = 0;
    if (ws->cb.on_close)
        ws->cb.on_close(ws, code, ws->close_in_reason);
    if (ws->ended || ws->freed)
        return PW_WSR_STOP;
    if (ws->close_out < 0) /* echo the code, as §5.5.1 suggests (none for none) */
        pw__wsc_send_close(ws, code == PW_WS_CLOSE_NO_STATUS ? 0 : code, NULL);
    ws->state = PW_WSC_CLOSING;
    pw__wsc_end_after_flush(ws, 0);
    return PW_WSR_STOP;
}

static int pw__wsc_on_frame(void *ud, const struct pw_wsr_frame *f)
{
    struct pw_wsc *ws = ud;
    const struct pw_ws_header *h = &f->hdr;
    struct pw_wsc_frame fr = {0,       h->fin,     (int)h->rsv, h->opcode,   h->masked,
                              h->len,  f->payload, f->len,      f->inflated, f->len};
    ws->cb.on_frame(ws, &fr);
    return pw__wsc_go(ws);
}

static void pw__wsc_frames(struct pw_wsc *ws, uint8_t *p, size_t n)
{
    static const struct pw_wsr_cb cb = {pw__wsc_on_message, pw__wsc_on_control, pw__wsc_on_close,
                                        NULL};
    static const struct pw_wsr_cb cb_wire = {pw__wsc_on_message, pw__wsc_on_control,
                                             pw__wsc_on_close, pw__wsc_on_frame};
    if (pw__wsc_go(ws) != PW_WSR_GO)
        return;
    ssize_t k = pw_wsr_feed(&ws->reader, p, n, ws->cb.on_frame ? &cb_wire : &cb, ws);
    if (k < 0)
        pw__wsc_violation(ws, (int)k);
}

/* ---- opening handshake ------------------------------------------------ */

static int pw__has_header(const struct pw_wsc_opts *o, const char *name)
{
    size_t l = strlen(name);
    for (size_t i = 0; i < o->nheaders; i++)
        if (strncasecmp(o->headers[i], name, l) == 0 && o->headers[i][l] == ':')
            return 1;
    return 0;
}

static void pw__wsc_stream_open(struct pw_stream *s)
{
    struct pw_wsc *ws = s->ud;
    if (pw_ws_gen_key(ws->key)) {
        snprintf(ws->detail, sizeof ws->detail, "no random bytes for the key");
        pw__wsc_end(ws, PW_EIO);
        return;
    }
    struct pw_buf *r = &ws->request;
    char hp[300];
    pw_url_hostport(&ws->url, hp, sizeof hp, 0);
    pw_buf_printf(r, "GET %s HTTP/1.1\r\n", ws->target ? ws->target : ws->url.target);
    if (!pw__has_header(&ws->o, "Host"))
        pw_buf_printf(r, "Host: %s\r\n", hp);
    pw_buf_printf(r, "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n", ws->key);
    if (ws->o.origin && !pw__has_header(&ws->o, "Origin"))
        pw_buf_printf(r, "Origin: %s\r\n", ws->o.origin);
    if (ws->o.nprotos) {
        pw_buf_printf(r, "Sec-WebSocket-Protocol: ");
        for (size_t i = 0; i < ws->o.nprotos; i++)
            pw_buf_printf(r, "%s%s", i ? ", " : "", ws->o.protos[i]);
        pw_buf_printf(r, "\r\n");
    }
    if (ws->o.compress) {
        char offer[128];
        if (pw_wsd_client_offer(&ws->wsd_cfg, offer, sizeof offer) > 0)
            pw_buf_printf(r, "Sec-WebSocket-Extensions: %s\r\n", offer);
    }
    /* user:pass@ in the URL is Basic authentication, as curl, Node's ws and
     * python3-websockets send it; an -H Authorization wins */
    if (ws->url.user[0] && !pw__has_header(&ws->o, "Authorization")) {
        char up[sizeof ws->url.user + sizeof ws->url.pass + 1], b64[4 * sizeof up / 3 + 8];
        int ul = snprintf(up, sizeof up, "%s:%s", ws->url.user, ws->url.pass);
        if (ul > 0 && (size_t)ul < sizeof up &&
            pw_base64((const uint8_t *)up, (size_t)ul, b64, sizeof b64) > 0)
            pw_buf_printf(r, "Authorization: Basic %s\r\n", b64);
    }
    if (!pw__has_header(&ws->o, "User-Agent"))
        pw_buf_printf(r, "User-Agent: pushwire\r\n");
    for (size_t i = 0; i < ws->o.nheaders; i++)
        pw_buf_printf(r, "%s\r\n", ws->o.headers[i]);
    if (pw_buf_printf(r, "\r\n")) {
        snprintf(ws->detail, sizeof ws->detail, "request head larger than %u bytes",
                 PW_WSC_MAX_REQUEST);
        pw__wsc_end(ws, PW_ETOOBIG);
        return;
    }
    if (ws->cb.on_head)
        ws->cb.on_head(ws, 1, (const char *)r->p, r->len);
    ws->state = PW_WSC_HANDSHAKE;
    ws->t_req = uv_hrtime();
    pw_stream_write(&ws->st, r->p, r->len);
}

static void pw__wsc_rejected(struct pw_wsc *ws)
{
    snprintf(ws->detail, sizeof ws->detail, "server answered %d instead of 101", ws->http_status);
    pw__wsc_end(ws, PW_ECL_REJECTED);
}

static void pw__wsc_head(struct pw_wsc *ws)
{
    struct pw_http_resp resp;
    struct pw_http_limits lim = {PW_WSC_MAX_HEAD, PW_HTTP_MAX_HEADERS};
    int hl = pw_http_parse_response((const char *)ws->response.p, ws->response.len, &resp, &lim);
    if (hl == PW_EAGAIN)
        return;
    if (hl < 0) {
        snprintf(ws->detail, sizeof ws->detail, "malformed handshake response: %s (%s)",
                 pw_strerror(hl), pw_errrule(hl));
        pw__wsc_end(ws, hl);
        return;
    }
    ws->head_len = (size_t)hl;
    ws->http_status = resp.status;
    ws->handshake_ms = (double)(uv_hrtime() - ws->t_req) / 1e6;
    if (ws->cb.on_head)
        ws->cb.on_head(ws, 0, (const char *)ws->response.p, (size_t)hl);
    if (resp.status != 101) {
        const struct pw_str *loc = resp.status / 100 == 3
                                       ? pw_http_header_get(resp.headers, resp.nheaders, "Location", NULL)
                                       : NULL;
        if (loc)
            snprintf(ws->location, sizeof ws->location, "%.*s", (int)loc->len, loc->p);
        /* keep the body for the user: Content-Length bytes, or until EOF */
        size_t have = ws->response.len - (size_t)hl;
        long long want = resp.content_length >= 0 ? resp.content_length : -1;
        if (want >= 0 && (size_t)want <= have) {
            ws->response.len = (size_t)hl + (size_t)want;
            pw__wsc_rejected(ws);
            return;
        }
        ws->body_left = want < 0 ? -1 : (int)(want > PW_WSC_MAX_BODY ? PW_WSC_MAX_BODY : want) - (int)have;
        if (resp.status == 204 || resp.status == 304 || ws->body_left == 0)
            pw__wsc_rejected(ws);
        return;
    }
    static const char *const deflate_name[] = {"permessage-deflate"};
    struct pw_ws_response_info info;
    int rc = pw_ws_check_response(&resp, ws->key, ws->o.protos, ws->o.nprotos,
                                  deflate_name, ws->o.compress ? 1 : 0, &info);
    if (rc < 0) {
        snprintf(ws->detail, sizeof ws->detail, "bad handshake response: %s (%s)", pw_strerror(rc),
                 pw_errrule(rc));
        pw__wsc_end(ws, rc);
        return;
    }
    if (info.protocol.len && info.protocol.len < sizeof ws->protocol) {
        memcpy(ws->protocol, info.protocol.p, info.protocol.len);
        ws->protocol[info.protocol.len] = 0;
    }
    const struct pw_str *ext = pw_http_header_get(resp.headers, resp.nheaders,
                                                  "Sec-WebSocket-Extensions", NULL);
    if (ext)
        snprintf(ws->extensions, sizeof ws->extensions, "%.*s", (int)ext->len, ext->p);
    if (info.nexts) {
        struct pw_wsd_params prm;
        int d = pw_wsd_client_check(info.exts, info.nexts, &ws->wsd_cfg, &prm);
        if (d < 0) {
            snprintf(ws->detail, sizeof ws->detail, "bad handshake response: %s (%s)",
                     pw_strerror(d), pw_errrule(d));
            pw__wsc_end(ws, d);
            return;
        }
        if (d == 1) {
            if (pw_wsd_init(&ws->wsd, &prm, 0, -1, ws->o.max_message) < 0) {
                snprintf(ws->detail, sizeof ws->detail, "zlib could not be set up");
                pw__wsc_end(ws, PW_EWSD_ZLIB);
                return;
            }
            ws->deflate = 1;
        }
    }
    struct pw_wsr_opts ro = {PW_WS_FROM_SERVER, ws->o.max_message, ws->o.max_message, 0,
                             ws->deflate ? &ws->wsd : NULL};
    pw_wsr_init(&ws->reader, &ro);
    ws->state = PW_WSC_OPEN;
    size_t rest = ws->response.len - (size_t)hl;
    uint8_t *tmp = NULL;
    if (rest) { /* frames that came with the head */
        tmp = malloc(rest);
        if (!tmp) {
            pw__wsc_end(ws, PW_ENOMEM);
            return;
        }
        memcpy(tmp, ws->response.p + hl, rest);
    }
    ws->response.len = (size_t)hl;
    ws->cb.on_open(ws);
    if (tmp && !ws->ended && !ws->freed)
        pw__wsc_frames(ws, tmp, rest);
    free(tmp);
}

static void pw__wsc_data(struct pw_stream *s, uint8_t *data, size_t len)
{
    struct pw_wsc *ws = s->ud;
    if (ws->ended || ws->freed)
        return;
    if (ws->state == PW_WSC_HANDSHAKE) {
        if (ws->http_status) { /* body of a refusal */
            size_t take = len;
            if (ws->body_left >= 0 && take > (size_t)ws->body_left)
                take = (size_t)ws->body_left;
            if (ws->response.len + take > ws->head_len + PW_WSC_MAX_BODY)
                take = ws->head_len + PW_WSC_MAX_BODY - ws->response.len;
            pw_buf_append(&ws->response, data, take);
            if (ws->body_left >= 0)
                ws->body_left -= (int)take;
            if (ws->body_left == 0 || ws->response.len >= ws->head_len + PW_WSC_MAX_BODY)
                pw__wsc_rejected(ws);
            return;
        }
        if (pw_buf_append(&ws->response, data, len)) {
            snprintf(ws->detail, sizeof ws->detail, "handshake response head larger than %d bytes",
                     PW_WSC_MAX_HEAD);
            pw__wsc_end(ws, PW_EHTTP_HEAD_TOOBIG);
            return;
        }
        pw__wsc_head(ws);
        return;
    }
    if (ws->state == PW_WSC_OPEN || ws->state == PW_WSC_CLOSING)
        pw__wsc_frames(ws, data, len);
}

static void pw__wsc_stream_end(struct pw_stream *s, int err)
{
    struct pw_wsc *ws = s->ud;
    if (ws->ended || ws->freed)
        return;
    if (err == PW_ECL_IO && ws->state >= PW_WSC_HANDSHAKE && !ws->ending) {
        /* a reset (or a write the peer no longer takes) once TCP was up is
         * a drop without a close frame, as an EOF is, not a local failure */
        snprintf(ws->detail, sizeof ws->detail, "%s%.200s", ws->state == PW_WSC_HANDSHAKE
                 ? "server cut the connection during the handshake: "
                 : "connection closed without a close frame (1006): ", s->detail);
        pw__wsc_end(ws, PW_ECL_ABNORMAL);
        return;
    }
    if (err) {
        snprintf(ws->detail, sizeof ws->detail, "%s", s->detail);
        pw__wsc_end(ws, err);
        return;
    }
    if (ws->ending) { /* the server closed TCP after its close frame: fine */
        pw__wsc_end(ws, ws->end_err);
        return;
    }
    if (ws->state == PW_WSC_HANDSHAKE && ws->http_status && ws->http_status != 101) {
        pw__wsc_rejected(ws);
        return;
    }
    if (ws->state == PW_WSC_HANDSHAKE)
        snprintf(ws->detail, sizeof ws->detail, "server closed the connection during the handshake");
    else
        snprintf(ws->detail, sizeof ws->detail, "connection closed without a close frame (1006)");
    pw__wsc_end(ws, PW_ECL_ABNORMAL);
}

static void pw__wsc_drain(struct pw_stream *s)
{
    struct pw_wsc *ws = s->ud;
    if (ws->freed)
        return;
    if (ws->ending && !ws->ended) {
        pw__wsc_end(ws, ws->end_err);
        return;
    }
    if (ws->cb.on_drain && !ws->ended)
        ws->cb.on_drain(ws);
}

static void pw__wsc_closed(struct pw_stream *s)
{
    struct pw_wsc *ws = s->ud;
    pw_buf_free(&ws->request);
    pw_buf_free(&ws->response);
    pw_wsr_free(&ws->reader);
    pw_buf_free(&ws->frame);
    pw_buf_free(&ws->ztmp);
    free(ws->target);
    if (ws->deflate)
        pw_wsd_free(&ws->wsd);
    free(ws);
}

struct pw_wsc *pw_wsc_new(uv_loop_t *loop, const struct pw_wsc_opts *o,
                          const struct pw_wsc_cb *cb, void *ud)
{
    struct pw_wsc *ws = calloc(1, sizeof *ws);
    if (!ws)
        return NULL;
    ws->loop = loop;
    ws->o = *o;
    ws->url = *o->url;
    ws->o.url = &ws->url;
    if (o->proxy) {
        ws->proxy = *o->proxy;
        ws->o.proxy = &ws->proxy;
    }
    ws->cb = *cb;
    ws->ud = ud;
    ws->close_in = ws->close_out = -1;
    ws->state = PW_WSC_CONNECTING;
    pw_buf_init(&ws->request, PW_WSC_MAX_REQUEST);
    pw_buf_init(&ws->response, PW_WSC_MAX_HEAD + PW_WSC_MAX_BODY);
    pw_buf_init(&ws->frame, 0);
    pw_buf_init(&ws->ztmp, 0);
    ws->st.ud = ws;
    if (o->target && !(ws->target = strdup(o->target))) {
        free(ws);
        return NULL;
    }
    ws->o.target = ws->target;
    struct pw_stream_opts so = {&ws->url, o->proxy ? &ws->proxy : NULL, o->cacert, o->insecure,
                                "http/1.1", o->cert, o->key, o->unix_path};
    static const struct pw_stream_cb scb = {pw__wsc_stream_open, pw__wsc_data, pw__wsc_stream_end,
                                            pw__wsc_drain, pw__wsc_closed};
    pw_stream_open(&ws->st, loop, &so, &scb);
    ws->st.ud = ws;
    return ws;
}

void pw_wsc_free(struct pw_wsc *ws)
{
    if (!ws || ws->freed)
        return;
    ws->freed = 1;
    pw_stream_close(&ws->st);
}

void pw_wsc_phase(const struct pw_wsc *ws, char *out, size_t n)
{
    const struct pw_stream *st = &ws->st;
    const struct pw_url *dest = st->has_proxy ? &st->proxy : &st->url;
    const char *proxy = st->has_proxy ? "proxy " : "";
    char where[300];
    if (st->o.unix_path)
        snprintf(where, sizeof where, "the Unix socket '%s'", st->o.unix_path);
    else
        snprintf(where, sizeof where, "'%s' port %s", st->url.host, st->url.port);
    if (st->o.unix_path && st->state < PW_ST_TLS)
        snprintf(out, n, "connecting to %s", where);
    else if (st->state == PW_ST_RESOLVE)
        snprintf(out, n, "resolving %s'%s'", proxy, dest->host);
    else if (st->state == PW_ST_CONNECT)
        snprintf(out, n, "connecting to %s'%s' port %s (TCP)", proxy, dest->host, dest->port);
    else if (st->state == PW_ST_PROXY)
        snprintf(out, n, "waiting for the proxy '%s' port %s to open the tunnel", dest->host,
                 dest->port);
    else if (st->state == PW_ST_TLS)
        snprintf(out, n, "in the TLS handshake with %s", where);
    else if (ws->http_status)
        snprintf(out, n, "reading the body of the server's %d answer", ws->http_status);
    else
        snprintf(out, n, "waiting for the server's answer to the WebSocket upgrade from %s", where);
}
