/* handshake_url.c — `pushwire handshake URL`: the opening handshake against
 * a live server, through the same client code as `connect` (src/client_ws.c):
 * prints the request and the response, the verdict on Sec-WebSocket-Accept,
 * Upgrade/Connection, the subprotocol and the extensions, then closes with
 * 1000. */
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "client/client.h"
#include "client/client_ws.h"
#include "handshake_url.h"
#include "proto/json.h"
#include "proto/utf8.h"
#include "opt.h"

#define HSU_TIMEOUT_MS 10000

static struct {
    int err, opened, done;
    uv_timer_t t;
    struct pw_buf req, resp;
    char protocol[128], extensions[256], detail[512], location[300];
    int status;
    double ms;
} R;

static struct pw_wsc *hsu_ws;

static void hsu_head(struct pw_wsc *ws, int out, const char *text, size_t len)
{
    (void)ws;
    pw_buf_append(out ? &R.req : &R.resp, text, len);
}

/* What came back when it is not a complete HTTP head (an SSH banner, a TLS
 * record, a head cut short): the bytes as received, so that the user sees
 * what the server said. */
static void hsu_keep_partial(const struct pw_wsc *ws)
{
    if (R.resp.len == 0 && ws->response.len > 0)
        pw_buf_append(&R.resp, ws->response.p, ws->response.len);
}

static void hsu_end(struct pw_wsc *ws, int err)
{
    if (!R.opened) {
        hsu_keep_partial(ws);
        R.err = err;
        snprintf(R.detail, sizeof R.detail, "%s", ws->detail);
        R.status = ws->http_status;
        snprintf(R.location, sizeof R.location, "%s", ws->location);
        if (err == PW_ECL_REJECTED && ws->response.len > ws->head_len) {
            R.resp.len = 0;
            pw_buf_append(&R.resp, ws->response.p, ws->response.len);
        }
    }
    R.done = 1;
    pw_wsc_free(ws);
    hsu_ws = NULL;
    if (!uv_is_closing((uv_handle_t *)&R.t))
        uv_close((uv_handle_t *)&R.t, NULL);
}

static void hsu_open(struct pw_wsc *ws)
{
    R.opened = 1;
    R.status = ws->http_status;
    R.ms = ws->handshake_ms;
    snprintf(R.protocol, sizeof R.protocol, "%s", ws->protocol);
    snprintf(R.extensions, sizeof R.extensions, "%s", ws->extensions);
    pw_wsc_close(ws, PW_WS_CLOSE_NORMAL, "");
}

static void hsu_msg(struct pw_wsc *ws, int op, const uint8_t *d, size_t n)
{
    (void)ws, (void)op, (void)d, (void)n;
}

static void hsu_timeout(uv_timer_t *t)
{
    (void)t;
    if (!R.opened) {
        R.err = PW_ECL_TIMEOUT;
        if (hsu_ws && !R.done)
            hsu_keep_partial(hsu_ws);
        if (R.resp.len && !R.status)
            snprintf(R.detail, sizeof R.detail,
                     "handshake response incomplete after %d s: %zu bytes and no end of head "
                     "(RFC 9112 §2.1)", HSU_TIMEOUT_MS / 1000, R.resp.len);
        else
            snprintf(R.detail, sizeof R.detail, "no handshake response within %d s", HSU_TIMEOUT_MS / 1000);
    }
    if (hsu_ws && !R.done)
        pw_wsc_free(hsu_ws);
    R.done = 1;
    if (!uv_is_closing((uv_handle_t *)&R.t))
        uv_close((uv_handle_t *)&R.t, NULL);
}

/* One line of the wire, after its prefix: valid UTF-8 as it is, a tab as
 * it is, any other control byte and any byte that is not UTF-8 as \xNN. */
static void hsu_print_line(const char *prefix, const uint8_t *p, size_t n)
{
    fputs(prefix, stdout);
    for (size_t i = 0; i < n;) {
        uint8_t c = p[i];
        size_t k = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (c >= 0x80 && i + k <= n && c >= 0xC2 && c <= 0xF4 && pw_utf8_valid(p + i, k)) {
            fwrite(p + i, 1, k, stdout);
            i += k;
            continue;
        }
        if (c >= 0x80 || (c < 0x20 && c != '\t') || c == 0x7F)
            printf("\\x%02x", c);
        else
            putchar(c);
        i++;
    }
    putchar('\n');
}

static void hsu_print_head(const char *prefix, const struct pw_buf *b)
{
    const uint8_t *p = b->p, *e = p + b->len;
    while (p && p < e) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(e - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(e - p);
        size_t shown = l && p[l - 1] == '\r' ? l - 1 : l;
        hsu_print_line(prefix, p, shown);
        p += l + 1;
    }
}

int pw_hs_url(const struct pw_hs_url_opts *o)
{
    struct pw_url u;
    const char *why = "";
    if (pw_url_parse(o->url, &u, &why) != 0 || (strcmp(u.scheme, "ws") && strcmp(u.scheme, "wss"))) {
        pw_err("handshake", "bad URL '%s': %s (want ws:// or wss://)", o->url,
               why[0] ? why : "not a WebSocket URL");
        return PW_EXIT_USAGE;
    }
    int compress = 0;
    for (size_t i = 0; i < o->nexts; i++) {
        if (strcmp(o->exts[i], "permessage-deflate") != 0) {
            pw_err("handshake", "only permessage-deflate can be offered, not '%s'", o->exts[i]);
            return PW_EXIT_USAGE;
        }
        compress = 1;
    }
    struct pw_url proxy;
    const char *pstr = pw_proxy_from_env(u.scheme, u.host);
    if (pstr && pw_url_parse(pstr, &proxy, &why) != 0) {
        pw_err("handshake", "bad proxy URL '%s' in the environment: %s", pstr, why);
        return PW_EXIT_USAGE;
    }
    memset(&R, 0, sizeof R);
    pw_buf_init(&R.req, 65536);
    pw_buf_init(&R.resp, 1 << 17);
    uv_loop_t *loop = uv_default_loop();
    uv_timer_init(loop, &R.t);
    uv_timer_start(&R.t, hsu_timeout, HSU_TIMEOUT_MS, 0);
    struct pw_wsc_opts wo = {
        .url = &u, .proxy = pstr ? &proxy : NULL, .cacert = o->cacert, .insecure = o->insecure,
        .headers = o->headers, .nheaders = o->nheaders, .origin = o->origin,
        .protos = o->protos, .nprotos = o->nprotos, .compress = compress, .max_message = 1 << 20,
    };
    static const struct pw_wsc_cb cb = {hsu_open, hsu_msg, NULL, NULL, hsu_end, hsu_head, NULL, NULL};
    hsu_ws = pw_wsc_new(loop, &wo, &cb, NULL);
    if (!hsu_ws) {
        pw_err("handshake", "out of memory");
        return PW_EXIT_FAIL;
    }
    uv_run(loop, UV_RUN_DEFAULT);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);

    int ok = R.opened;
    /* a redirect: say where to, as it is not followed */
    if (!ok && R.location[0]) {
        size_t dl = strlen(R.detail);
        snprintf(R.detail + dl, sizeof R.detail - dl,
                 "; it redirects to '%s', which is not followed (give that URL)", R.location);
    }
    /* a TLS record (handshake 0x16 or alert 0x15, version 3.x) where an HTTP
     * head should be: the port speaks TLS */
    if (!ok && !R.status && R.resp.len >= 2 && (R.resp.p[0] == 0x16 || R.resp.p[0] == 0x15) &&
        R.resp.p[1] == 0x03 && strcmp(u.scheme, "ws") == 0) {
        size_t l = strlen(R.detail);
        snprintf(R.detail + l, sizeof R.detail - l, "; the answer is a TLS record: try wss://");
    }
    int rc = ok ? PW_EXIT_OK : pwc_exit_for(R.err);
    if (o->json) {
        struct pw_buf b;
        pw_buf_init(&b, 0);
        pw_json_begin(&b, '{');
        pw_json_kcstr(&b, "url", o->url);
        pw_json_kbool(&b, "ok", ok);
        if (R.status) /* null when no response came, as in the offline modes */
            pw_json_kint(&b, "status", R.status);
        else
            pw_json_kcstr(&b, "status", NULL);
        pw_json_kstr(&b, "request", R.req.p ? (const char *)R.req.p : "", R.req.len);
        pw_json_kstr(&b, "response", R.resp.p ? (const char *)R.resp.p : "", R.resp.len);
        pw_json_key(&b, "subprotocol");
        if (ok && R.protocol[0])
            pw_json_cstr(&b, R.protocol);
        else
            pw_json_null(&b);
        pw_json_key(&b, "extensions");
        if (ok && R.extensions[0])
            pw_json_cstr(&b, R.extensions);
        else
            pw_json_null(&b);
        if (!ok) {
            pw_json_kcstr(&b, "error", R.detail[0] ? R.detail : pw_strerror(R.err));
            pw_json_kcstr(&b, "rule", *pw_errrule(R.err) ? pw_errrule(R.err) : NULL);
        }
        pw_json_kint(&b, "exit", rc);
        pw_json_end(&b, '}');
        printf("%.*s\n", (int)b.len, (const char *)b.p);
        pw_buf_free(&b);
    } else {
        hsu_print_head("> ", &R.req);
        hsu_print_head("< ", &R.resp);
        if (ok) {
            printf("ok: 101 Switching Protocols, Upgrade and Connection right, "
                   "Sec-WebSocket-Accept matches the key (%.1f ms)\n", R.ms);
            printf("subprotocol: %s\n", R.protocol[0] ? R.protocol : "(none)");
            printf("extensions: %s\n", R.extensions[0] ? R.extensions : "(none)");
        }
    }
    if (!ok)
        pw_err("handshake", "%s", R.detail[0] ? R.detail : pw_strerror(R.err));
    pw_buf_free(&R.req);
    pw_buf_free(&R.resp);
    return rc;
}
