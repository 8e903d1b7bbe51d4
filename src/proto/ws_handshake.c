#include "ws_handshake.h"

#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "base64.h"

/* ---- small lexical helpers (RFC 9110 §5.6) ---- */

static int pw__is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int pw__is_ows(unsigned char c) { return c == ' ' || c == '\t'; }

static int pw__is_token(const char *p, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!pw__is_tchar((unsigned char)p[i]))
            return 0;
    return 1;
}

static unsigned char pw__lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

static int pw__ieq(const char *a, size_t an, const char *b)
{
    size_t bn = strlen(b);
    if (an != bn)
        return 0;
    for (size_t i = 0; i < an; i++)
        if (pw__lower((unsigned char)a[i]) != pw__lower((unsigned char)b[i]))
            return 0;
    return 1;
}

static int pw__eq(struct pw_str s, const char *c)
{
    return s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

static struct pw_str pw__trim(const char *p, size_t n)
{
    while (n && pw__is_ows((unsigned char)p[0]))
        p++, n--;
    while (n && pw__is_ows((unsigned char)p[n - 1]))
        n--;
    return (struct pw_str){p, n};
}

/* Walks the comma-separated elements of a list value; empty ones are
 * skipped.  Returns 1 with *el set (trimmed), 0 at the end. */
static int pw__list_next(struct pw_str v, size_t *pos, struct pw_str *el)
{
    while (*pos < v.len) {
        size_t start = *pos, end = start;
        while (end < v.len && v.p[end] != ',')
            end++;
        *pos = end < v.len ? end + 1 : end;
        *el = pw__trim(v.p + start, end - start);
        if (el->len)
            return 1;
    }
    return 0;
}

/* Header fields named `name` (case-insensitive): how many, the first. */
static int pw__hcount(const struct pw_http_header *h, size_t n, const char *name,
                      const struct pw_str **first)
{
    int count = 0;
    for (size_t i = 0; i < n; i++)
        if (pw__ieq(h[i].name.p, h[i].name.len, name)) {
            if (count++ == 0 && first)
                *first = &h[i].value;
        }
    if (count == 0 && first)
        *first = NULL;
    return count;
}

/* 1 if any field named `name` lists `token` (case-insensitive). */
static int pw__hlist_has(const struct pw_http_header *h, size_t n, const char *name,
                         const char *token)
{
    for (size_t i = 0; i < n; i++) {
        if (!pw__ieq(h[i].name.p, h[i].name.len, name))
            continue;
        size_t pos = 0;
        struct pw_str el;
        while (pw__list_next(h[i].value, &pos, &el))
            if (pw__ieq(el.p, el.len, token))
                return 1;
    }
    return 0;
}

/* ---- keys ---- */

int pw_ws_accept_key(const char *key, size_t len, char out[PW_WS_ACCEPT_LEN + 1])
{
    if (!out || (!key && len))
        return PW_EINVAL;
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx)
        return PW_ENOMEM;
    int ok = EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
             (len == 0 || EVP_DigestUpdate(ctx, key, len) == 1) &&
             EVP_DigestUpdate(ctx, PW_WS_GUID, sizeof PW_WS_GUID - 1) == 1 &&
             EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen == 20;
    EVP_MD_CTX_free(ctx);
    if (!ok)
        return PW_EINVAL;
    if (pw_base64(md, 20, out, PW_WS_ACCEPT_LEN + 1) != PW_WS_ACCEPT_LEN)
        return PW_EINVAL;
    return 0;
}

int pw_ws_key_check(const char *key, size_t len)
{
    if (!key && len)
        return PW_EINVAL;
    ssize_t n = pw_base64_decode(key, len, NULL, 0); /* strict: canonical form */
    if (n < 0)
        return PW_EHS_KEY_B64;
    return n == 16 ? 0 : PW_EHS_KEY_LEN;
}

int pw_ws_gen_key(char out[PW_WS_KEY_LEN + 1])
{
    unsigned char raw[16];
    if (!out || RAND_bytes(raw, sizeof raw) != 1)
        return PW_EIO;
    if (pw_base64(raw, sizeof raw, out, PW_WS_KEY_LEN + 1) != PW_WS_KEY_LEN)
        return PW_EIO;
    return 0;
}

/* ---- Sec-WebSocket-Extensions (§9.1) ---- */

/* A quoted-string at v[*pos] (the opening quote).  On success *pos is past
 * the closing quote and *inner is the text between the quotes. */
static int pw__quoted(struct pw_str v, size_t *pos, struct pw_str *inner, int *escaped)
{
    size_t i = *pos + 1;
    *escaped = 0;
    size_t start = i, unescaped = 0;
    while (i < v.len && v.p[i] != '"') {
        unsigned char c = (unsigned char)v.p[i];
        if (c == '\\') {
            if (i + 1 >= v.len)
                return -1;
            *escaped = 1;
            c = (unsigned char)v.p[i + 1];
            i++;
        }
        /* unescaped, the value must be a token (§9.1) */
        if (!pw__is_tchar(c))
            return -1;
        unescaped++;
        i++;
    }
    if (i >= v.len || unescaped == 0)
        return -1;
    *inner = (struct pw_str){v.p + start, i - start};
    *pos = i + 1;
    return 0;
}

static size_t pw__skip_ows(struct pw_str v, size_t i)
{
    while (i < v.len && pw__is_ows((unsigned char)v.p[i]))
        i++;
    return i;
}

static size_t pw__token_end(struct pw_str v, size_t i)
{
    while (i < v.len && pw__is_tchar((unsigned char)v.p[i]))
        i++;
    return i;
}

/* One parameter after a ';' (OWS already skipped).  Returns the position
 * after it, or 0 on a syntax error (a parameter never ends at 0). */
static size_t pw__ext_param(struct pw_str v, size_t i, struct pw_ws_ext_param *pr)
{
    size_t e = pw__token_end(v, i);
    if (e == i)
        return 0;
    memset(pr, 0, sizeof *pr);
    pr->name = (struct pw_str){v.p + i, e - i};
    i = pw__skip_ows(v, e);
    if (i >= v.len || v.p[i] != '=')
        return i;
    i = pw__skip_ows(v, i + 1);
    if (i < v.len && v.p[i] == '"') {
        pr->quoted = 1;
        if (pw__quoted(v, &i, &pr->value, &pr->escaped) < 0)
            return 0;
        return pw__skip_ows(v, i);
    }
    e = pw__token_end(v, i);
    if (e == i)
        return 0;
    pr->value = (struct pw_str){v.p + i, e - i};
    return pw__skip_ows(v, e);
}

int pw_ws_ext_parse(struct pw_str value, struct pw_ws_ext *exts, size_t n, size_t max)
{
    size_t i = 0, found = 0;
    if (!value.p && value.len)
        return PW_EINVAL;
    for (;;) {
        i = pw__skip_ows(value, i);
        if (i >= value.len)
            break;
        if (value.p[i] == ',') { /* empty element */
            i++;
            continue;
        }
        size_t e = pw__token_end(value, i);
        if (e == i)
            return PW_EHS_EXT_SYNTAX;
        if (n >= max)
            return PW_ETOOBIG;
        struct pw_ws_ext *x = &exts[n];
        memset(x, 0, sizeof *x);
        x->name = (struct pw_str){value.p + i, e - i};
        i = pw__skip_ows(value, e);
        while (i < value.len && value.p[i] == ';') {
            if (x->nparams >= PW_WS_MAX_PARAMS)
                return PW_ETOOBIG;
            i = pw__ext_param(value, pw__skip_ows(value, i + 1), &x->params[x->nparams]);
            if (i == 0)
                return PW_EHS_EXT_SYNTAX;
            x->nparams++;
        }
        if (i < value.len && value.p[i] != ',')
            return PW_EHS_EXT_SYNTAX;
        n++, found++;
        if (i < value.len)
            i++;
    }
    return found ? (int)n : PW_EHS_EXT_SYNTAX;
}

int pw_ws_ext_value(const struct pw_ws_ext_param *p, char *out, size_t outsz)
{
    if (!p || !out || outsz == 0)
        return PW_EINVAL;
    if (p->value.len == 0) {
        out[0] = 0;
        return -1;
    }
    size_t k = 0;
    for (size_t i = 0; i < p->value.len; i++) {
        char c = p->value.p[i];
        if (p->escaped && c == '\\' && i + 1 < p->value.len)
            c = p->value.p[++i];
        if (k + 1 >= outsz) {
            out[0] = 0;
            return PW_ETOOBIG;
        }
        out[k++] = c;
    }
    out[k] = 0;
    return (int)k;
}

/* ---- Sec-WebSocket-Protocol ---- */

int pw_ws_proto_parse(struct pw_str value, struct pw_str *out, size_t n, size_t max)
{
    size_t pos = 0, found = 0;
    struct pw_str el;
    if (!value.p && value.len)
        return PW_EINVAL;
    while (pw__list_next(value, &pos, &el)) {
        if (!pw__is_token(el.p, el.len))
            return PW_EHS_PROTO_SYNTAX;
        for (size_t j = 0; j < n; j++)
            if (out[j].len == el.len && memcmp(out[j].p, el.p, el.len) == 0)
                return PW_EHS_PROTO_SYNTAX;
        if (n >= max)
            return PW_ETOOBIG;
        out[n++] = el;
        found++;
    }
    return found ? (int)n : PW_EHS_PROTO_SYNTAX;
}

/* ---- the client's request (§4.2.1) ---- */

static int pw__target_ok(struct pw_str t)
{
    if (t.len == 0 || memchr(t.p, '#', t.len))
        return 0;
    if (t.p[0] == '/')
        return 1;
    /* absolute-form: http://authority[/path] or https:// (item 1 allows it) */
    size_t skip = 0;
    if (t.len > 7 && pw__ieq(t.p, 7, "http://"))
        skip = 7;
    else if (t.len > 8 && pw__ieq(t.p, 8, "https://"))
        skip = 8;
    if (!skip)
        return 0;
    size_t i = skip;
    while (i < t.len && t.p[i] != '/' && t.p[i] != '?')
        i++;
    return i > skip;
}

static int pw__request_lists(const struct pw_http_req *req, struct pw_ws_request_info *info)
{
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct pw_http_header *h = &req->headers[i];
        int r;
        if (pw__ieq(h->name.p, h->name.len, "Sec-WebSocket-Protocol")) {
            r = pw_ws_proto_parse(h->value, info->protos, info->nprotos, PW_WS_MAX_PROTOS);
            if (r < 0)
                return r;
            info->nprotos = (size_t)r;
        } else if (pw__ieq(h->name.p, h->name.len, "Sec-WebSocket-Extensions")) {
            r = pw_ws_ext_parse(h->value, info->exts, info->nexts, PW_WS_MAX_EXTS);
            if (r < 0)
                return r;
            info->nexts = (size_t)r;
        }
    }
    return 0;
}

int pw_ws_check_request(const struct pw_http_req *req, struct pw_ws_request_info *info)
{
    if (!req || !info)
        return PW_EINVAL;
    memset(info, 0, sizeof *info);
    const struct pw_http_header *h = req->headers;
    size_t n = req->nheaders;
    const struct pw_str *v;

    if (!pw__eq(req->method, "GET"))
        return PW_EHS_METHOD;
    if (req->minor < 1)
        return PW_EHS_VERSION_HTTP;
    if (!pw__target_ok(req->target))
        return PW_EHS_TARGET;
    if (pw__hcount(h, n, "Host", &v) != 1 || v->len == 0)
        return PW_EHS_HOST;
    if (!pw__hlist_has(h, n, "Upgrade", "websocket"))
        return PW_EHS_UPGRADE;
    if (!pw__hlist_has(h, n, "Connection", "Upgrade"))
        return PW_EHS_CONNECTION;
    if (pw__hcount(h, n, "Sec-WebSocket-Key", &v) != 1)
        return PW_EHS_KEY_MISSING;
    int r = pw_ws_key_check(v->p, v->len);
    if (r < 0)
        return r;
    info->key = *v;
    if (pw__hcount(h, n, "Sec-WebSocket-Version", &v) != 1 || !pw__eq(*v, "13"))
        return PW_EHS_WS_VERSION;
    if (pw__hcount(h, n, "Origin", &v) >= 1)
        info->origin = *v;
    return pw__request_lists(req, info);
}

/* ---- the server's response (§4.1) ---- */

static int pw__response_upgrade(const struct pw_http_header *h, size_t n)
{
    int seen = 0;
    for (size_t i = 0; i < n; i++) {
        if (!pw__ieq(h[i].name.p, h[i].name.len, "Upgrade"))
            continue;
        size_t pos = 0;
        struct pw_str el;
        while (pw__list_next(h[i].value, &pos, &el)) {
            if (!pw__ieq(el.p, el.len, "websocket"))
                return 0;
            seen = 1;
        }
    }
    return seen;
}

static int pw__response_exts(const struct pw_http_resp *resp, const char *const *offered,
                             size_t noffered, struct pw_ws_response_info *info)
{
    for (size_t i = 0; i < resp->nheaders; i++) {
        const struct pw_http_header *h = &resp->headers[i];
        if (!pw__ieq(h->name.p, h->name.len, "Sec-WebSocket-Extensions"))
            continue;
        size_t before = info->nexts;
        int r = pw_ws_ext_parse(h->value, info->exts, info->nexts, PW_WS_MAX_EXTS);
        if (r < 0)
            return r;
        info->nexts = (size_t)r;
        if (!offered)
            continue;
        for (size_t k = before; k < info->nexts; k++) {
            size_t j = 0;
            while (j < noffered &&
                   !(offered[j] && pw__ieq(info->exts[k].name.p, info->exts[k].name.len, offered[j])))
                j++;
            if (j == noffered)
                return PW_EHS_EXTENSION;
        }
    }
    return 0;
}

static int pw__response_proto(const struct pw_http_resp *resp, const char *const *offered,
                              size_t noffered, struct pw_ws_response_info *info)
{
    const struct pw_str *v;
    int count = pw__hcount(resp->headers, resp->nheaders, "Sec-WebSocket-Protocol", &v);
    if (count == 0)
        return 0;
    if (count > 1 || !pw__is_token(v->p, v->len))
        return PW_EHS_PROTO_SYNTAX;
    info->protocol = *v;
    if (!offered)
        return 0;
    for (size_t j = 0; j < noffered; j++)
        if (offered[j] && pw__eq(*v, offered[j]))
            return 0;
    return PW_EHS_PROTOCOL;
}

int pw_ws_check_response(const struct pw_http_resp *resp, const char *key,
                         const char *const *offered_protos, size_t nprotos,
                         const char *const *offered_exts, size_t nexts,
                         struct pw_ws_response_info *info)
{
    if (!resp || !key || !info)
        return PW_EINVAL;
    memset(info, 0, sizeof *info);
    const struct pw_http_header *h = resp->headers;
    size_t n = resp->nheaders;

    if (resp->status != 101)
        return PW_EHS_STATUS;
    if (!pw__response_upgrade(h, n))
        return PW_EHS_RESP_UPGRADE;
    if (!pw__hlist_has(h, n, "Connection", "Upgrade"))
        return PW_EHS_RESP_CONNECTION;
    char want[PW_WS_ACCEPT_LEN + 1];
    int r = pw_ws_accept_key(key, strlen(key), want);
    if (r < 0)
        return r;
    const struct pw_str *v;
    if (pw__hcount(h, n, "Sec-WebSocket-Accept", &v) != 1)
        return PW_EHS_ACCEPT_MISSING;
    if (!pw__eq(*v, want))
        return PW_EHS_ACCEPT;
    r = pw__response_exts(resp, offered_exts, nexts, info);
    if (r < 0)
        return r;
    return pw__response_proto(resp, offered_protos, nprotos, info);
}
