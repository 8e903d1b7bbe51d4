/* handshake.c — `pushwire handshake`: the WebSocket opening handshake by
 * hand.  KEY → its Sec-WebSocket-Accept; --gen-key; --request checks a raw
 * client request against RFC 6455 §4.2.1 and prints the server's answer;
 * --response KEY checks a raw server response against §4.1.  The rules live
 * in src/ws_handshake.c; this file reads input, prints and maps errors to
 * exit codes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/http1.h"
#include "proto/json.h"
#include "opt.h"
#include "handshake_url.h"
#include "proto/ws_handshake.h"

#define HS_OPTS(X)                                                             \
    PW_COMMON_OPTS(X)                                                          \
    X(GEN_KEY, 'g', "gen-key", PW_FLAG, "print a fresh random Sec-WebSocket-Key") \
    X(REQUEST, 'r', "request", PW_FLAG,                                        \
      "check the upgrade request in FILE (default stdin) and print the response a server must send") \
    X(RESPONSE, 'R', "response", PW_STR("KEY", NULL, NULL),                    \
      "check the server response in FILE (default stdin) against the key KEY") \
    X(SUBPROTOCOL, 'p', "subprotocol", PW_STR("NAME", NULL, NULL),             \
      "a subprotocol the server speaks (--request) or the client offered (--response); repeatable") \
    X(EXTENSION, 'e', "extension", PW_STR("NAME", NULL, NULL),                 \
      "with --response: an extension the client offered; repeatable")        \
    X(JSON, 'j', "json", PW_FLAG, "print the verdict as one JSON object")      \
    X(LENIENT, 0, "lenient", PW_FLAG,                                          \
      "compute the accept value even for a key that is not 16 bytes of base64") \
    X(HEADER, 'H', "header", PW_STR("'NAME: VALUE'", NULL, NULL), "with URL: add a request header (repeatable)") \
    X(ORIGIN, 0, "origin", PW_STR("ORIGIN", NULL, NULL), "with URL: send this Origin header") \
    X(CACERT, 0, "cacert", PW_FILE, "with a wss URL: trust the CA certificates in FILE") \
    X(INSECURE, 'k', "insecure", PW_FLAG, "with a wss URL: do not verify the certificate")

enum { HS_OPTS(PW_OPT_ENUM) };
extern const struct pw_applet pw_applet_handshake;
static const struct pw_opt hs_opts[] = {HS_OPTS(PW_OPT_ROW){0}};

#define HS_NAME "handshake"
/* the most we read from FILE or stdin; only the head is looked at */
#define HS_MAX_INPUT 65536

enum hs_mode { HS_KEY, HS_GEN, HS_REQUEST, HS_RESPONSE };

struct hs_cfg {
    enum hs_mode mode;
    const char *key;  /* KEY operand or --response KEY */
    const char *file; /* NULL or "-": stdin */
    const char *protos[PW_WS_MAX_PROTOS];
    size_t nprotos;
    const char *exts[PW_WS_MAX_EXTS];
    size_t nexts;
    int json, lenient, verbose;
    const char *headers[64]; /* URL mode */
    size_t nheaders;
    const char *origin, *cacert;
    int insecure;
};

/* ---- JSON output: one verdict object, built in a buffer (src/json.h) ---- */

/* "key":"slice", or "key":null for a NULL pointer */
static void hs_jkstr(struct pw_buf *b, const char *key, const char *s, size_t n)
{
    if (s)
        pw_json_kstr(b, key, s, n);
    else
        pw_json_kcstr(b, key, NULL);
}

/* an empty slice (an absent header) is null */
static void hs_jkslice(struct pw_buf *b, const char *key, struct pw_str s)
{
    hs_jkstr(b, key, s.len ? s.p : NULL, s.len);
}

/* "error", "rule", "code" of a verdict */
static void hs_jerr(struct pw_buf *b, int err)
{
    pw_json_kcstr(b, "error", pw_strerror(err));
    pw_json_kcstr(b, "rule", *pw_errrule(err) ? pw_errrule(err) : NULL);
    pw_json_kcstr(b, "code", pw_errname(err));
}

static void hs_jexts(struct pw_buf *b, const struct pw_ws_ext *e, size_t n)
{
    pw_json_key(b, "extensions");
    pw_json_begin(b, '[');
    for (size_t i = 0; i < n; i++) {
        pw_json_sep(b);
        pw_json_begin(b, '{');
        hs_jkslice(b, "name", e[i].name);
        pw_json_key(b, "params");
        pw_json_begin(b, '[');
        for (size_t k = 0; k < e[i].nparams; k++) {
            char v[256];
            int vl = pw_ws_ext_value(&e[i].params[k], v, sizeof v);
            pw_json_sep(b);
            pw_json_begin(b, '{');
            hs_jkslice(b, "name", e[i].params[k].name);
            hs_jkstr(b, "value", vl >= 0 ? v : NULL, vl >= 0 ? (size_t)vl : 0);
            pw_json_end(b, '}');
        }
        pw_json_end(b, ']');
        pw_json_end(b, '}');
    }
    pw_json_end(b, ']');
}

/* Ends the object and writes it as one line. */
static void hs_jflush(struct pw_buf *b)
{
    pw_json_end(b, '}');
    pw_buf_putc(b, '\n');
    fwrite(b->p, 1, b->len, stdout);
    pw_buf_free(b);
}

/* ---- reading FILE or stdin ---- */

struct hs_input {
    char *p;       /* bare LF turned into CRLF; room for a final CRLF CRLF */
    size_t len;
    int truncated; /* the input went on past HS_MAX_INPUT */
};

/* Reads at most HS_MAX_INPUT bytes.  Returns 0 or an exit code (message
 * printed). */
static int hs_read(const char *path, struct hs_input *in)
{
    int use_stdin = !path || strcmp(path, "-") == 0;
    const char *name = use_stdin ? "standard input" : path;
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        pw_err(HS_NAME, "cannot open '%s': %s", path, strerror(errno));
        return PW_EXIT_FAIL;
    }
    char *raw = malloc(HS_MAX_INPUT + 1);
    size_t n = raw ? fread(raw, 1, HS_MAX_INPUT + 1, f) : 0;
    int bad = !raw || ferror(f);
    int err = errno;
    if (!use_stdin)
        fclose(f);
    if (bad) {
        pw_err(HS_NAME, "cannot read '%s': %s", name, raw ? strerror(err) : "out of memory");
        free(raw);
        return PW_EXIT_FAIL;
    }
    in->truncated = n > HS_MAX_INPUT;
    if (in->truncated)
        n = HS_MAX_INPUT;
    /* people paste requests from terminals: a bare LF ends a line too
     * (RFC 9112 §2.2 allows it); a bare CR stays and is refused */
    in->p = malloc(2 * n + 4);
    if (!in->p) {
        free(raw);
        pw_err(HS_NAME, "out of memory");
        return PW_EXIT_FAIL;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (raw[i] == '\n' && (i == 0 || raw[i - 1] != '\r'))
            in->p[k++] = '\r';
        in->p[k++] = raw[i];
    }
    in->len = k;
    free(raw);
    return 0;
}

/* The input ended before the empty line that ends a head: complete it,
 * since a pasted request rarely has its final blank line. */
static void hs_complete(struct hs_input *in)
{
    if (in->len >= 2 && memcmp(in->p + in->len - 2, "\r\n", 2) == 0) {
        memcpy(in->p + in->len, "\r\n", 2);
        in->len += 2;
    } else {
        memcpy(in->p + in->len, "\r\n\r\n", 4);
        in->len += 4;
    }
}

typedef int (*hs_parse_fn)(const char *, size_t, void *, const struct pw_http_limits *);

static int hs_parse_req(const char *b, size_t n, void *m, const struct pw_http_limits *l)
{
    return pw_http_parse_request(b, n, m, l);
}

static int hs_parse_resp(const char *b, size_t n, void *m, const struct pw_http_limits *l)
{
    return pw_http_parse_response(b, n, m, l);
}

/* Parses the head in `in`; >0 head length or a PW_E* code. */
static int hs_parse(struct hs_input *in, hs_parse_fn parse, void *msg)
{
    const struct pw_http_limits lim = {HS_MAX_INPUT, PW_HTTP_MAX_HEADERS};
    int r = parse(in->p, in->len, msg, &lim);
    if (r == PW_EAGAIN && in->truncated)
        return PW_EHTTP_HEAD_TOOBIG;
    if (r == PW_EAGAIN) {
        hs_complete(in);
        r = parse(in->p, in->len, msg, &lim);
    }
    return r == PW_EAGAIN ? PW_EHTTP_LINE : r;
}

/* "request breaks RFC 6455 §4.2.1 item 5: Sec-WebSocket-Key ..." */
static void hs_report(const char *what, int err)
{
    const char *rule = pw_errrule(err);
    if (*rule)
        pw_err(HS_NAME, "%s breaks %s: %s", what, rule, pw_strerror(err));
    else
        pw_err(HS_NAME, "%s refused: %s", what, pw_strerror(err));
}

static void hs_verbose_fields(char dir, const struct pw_http_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++)
        fprintf(stderr, "%c %.*s: %.*s\n", dir, (int)h[i].name.len, h[i].name.p,
                (int)h[i].value.len, h[i].value.p);
}

static void hs_print_ext(FILE *f, const struct pw_ws_ext *e)
{
    fprintf(f, "%.*s", (int)e->name.len, e->name.p);
    for (size_t k = 0; k < e->nparams; k++) {
        const struct pw_ws_ext_param *p = &e->params[k];
        fprintf(f, "; %.*s", (int)p->name.len, p->name.p);
        if (p->value.len)
            fprintf(f, p->quoted ? "=\"%.*s\"" : "=%.*s", (int)p->value.len, p->value.p);
    }
}

/* ---- KEY and --gen-key ---- */

/* Why a key that is not strict base64 (bad, pw_ws_key_check's) was refused,
 * in the cases a user meets: padding dropped (base64url tools, some
 * libraries), base64url's alphabet, whitespace pasted along.  "" when none
 * of them, or for another fault. */
static const char *hs_key_hint(int bad, const char *key)
{
    if (bad != PW_EHS_KEY_B64)
        return "";
    size_t n = strlen(key), b64 = strspn(key, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    if (strpbrk(key, " \t\r\n"))
        return ": it contains whitespace";
    if (strpbrk(key, "-_"))
        return ": '-' and '_' are base64url, not the base64 of RFC 4648 §4";
    size_t pad = strspn(key + b64, "=");
    if (b64 + pad == n && b64 == 22 && pad < 2)
        return ": the '=' padding is missing (16 bytes are 24 characters ending in '==')";
    if (b64 + pad == n && b64 == 22 && pad == 2)
        return ": its 22nd character sets bits past the 16 bytes (not canonical, RFC 4648 §3.5)";
    return "";
}

static int hs_key(const struct hs_cfg *c)
{
    const char *key = c->key;
    int bad = pw_ws_key_check(key, strlen(key));
    char acc[PW_WS_ACCEPT_LEN + 1];
    int have = (!bad || c->lenient) && pw_ws_accept_key(key, strlen(key), acc) == 0;
    const char *hint = hs_key_hint(bad, key);
    if (bad && c->lenient)
        pw_err(HS_NAME, "warning: key '%s': %s%s (%s); computing the accept value anyway",
               key, pw_strerror(bad), hint, pw_errrule(bad));
    else if (bad)
        pw_err(HS_NAME, "key '%s': %s%s (%s); use --lenient to compute the accept value anyway",
               key, pw_strerror(bad), hint, pw_errrule(bad));
    if (have && c->verbose && !pw_quiet)
        fprintf(stderr, "* accept = base64(SHA-1(\"%s\" \"%s\"))\n", key, PW_WS_GUID);
    if (c->json) {
        struct pw_buf b;
        pw_buf_init(&b, 0);
        pw_json_begin(&b, '{');
        pw_json_kbool(&b, "valid", !bad);
        pw_json_kcstr(&b, "key", key);
        if (have)
            pw_json_kcstr(&b, "accept", acc);
        if (bad)
            hs_jerr(&b, bad);
        hs_jflush(&b);
    } else if (have) {
        printf("%s\n", acc);
    }
    return bad && !c->lenient ? PW_EXIT_PROTO : PW_EXIT_OK;
}

static int hs_gen(const struct hs_cfg *c)
{
    char key[PW_WS_KEY_LEN + 1], acc[PW_WS_ACCEPT_LEN + 1];
    if (pw_ws_gen_key(key) < 0 || pw_ws_accept_key(key, strlen(key), acc) < 0) {
        pw_err(HS_NAME, "cannot get random bytes from OpenSSL");
        return PW_EXIT_FAIL;
    }
    if (c->verbose && !pw_quiet)
        fprintf(stderr, "* its accept value: %s\n", acc);
    if (c->json) {
        struct pw_buf b;
        pw_buf_init(&b, 0);
        pw_json_begin(&b, '{');
        pw_json_kcstr(&b, "key", key);
        pw_json_kcstr(&b, "accept", acc);
        hs_jflush(&b);
    } else {
        printf("%s\n", key);
    }
    return PW_EXIT_OK;
}

/* ---- --request ---- */

/* The server's pick: the first of its own subprotocols the client offered. */
static const char *hs_choose(const struct hs_cfg *c, const struct pw_ws_request_info *info)
{
    for (size_t i = 0; i < c->nprotos; i++)
        for (size_t j = 0; j < info->nprotos; j++)
            if (info->protos[j].len == strlen(c->protos[i]) &&
                memcmp(info->protos[j].p, c->protos[i], info->protos[j].len) == 0)
                return c->protos[i];
    return NULL;
}

static void hs_refusal(struct pw_buf *out, int err)
{
    if (err == PW_EHS_WS_VERSION)
        pw_buf_printf(out, "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade, close\r\nSec-WebSocket-Version: 13\r\n");
    else if (err == PW_EHTTP_HEAD_TOOBIG || err == PW_EHTTP_TOO_MANY_HEADERS)
        pw_buf_printf(out, "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n");
    else
        pw_buf_printf(out, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n");
    pw_buf_printf(out, "Content-Length: 0\r\n\r\n");
}

static void hs_request_verbose(const struct pw_http_req *req, const struct pw_ws_request_info *info,
                               int ok)
{
    fprintf(stderr, "> %.*s %.*s HTTP/1.%d\n", (int)req->method.len, req->method.p,
            (int)req->target.len, req->target.p, req->minor);
    hs_verbose_fields('>', req->headers, req->nheaders);
    if (!ok)
        return;
    if (info->origin.len)
        fprintf(stderr, "* origin: %.*s\n", (int)info->origin.len, info->origin.p);
    for (size_t i = 0; i < info->nprotos; i++)
        fprintf(stderr, "* subprotocol offered: %.*s\n", (int)info->protos[i].len,
                info->protos[i].p);
    for (size_t i = 0; i < info->nexts; i++) {
        fprintf(stderr, "* extension offered: ");
        hs_print_ext(stderr, &info->exts[i]);
        fprintf(stderr, "\n");
    }
}

static int hs_request(const struct hs_cfg *c)
{
    struct hs_input in;
    int rc = hs_read(c->file, &in);
    if (rc)
        return rc;
    struct pw_http_req *req = calloc(1, sizeof *req);
    struct pw_ws_request_info *info = calloc(1, sizeof *info);
    if (!req || !info) {
        free(req), free(info), free(in.p);
        pw_err(HS_NAME, "out of memory");
        return PW_EXIT_FAIL;
    }
    int err, parsed = 0;
    if (in.len == 0)
        err = PW_EHTTP_METHOD;
    else if ((err = hs_parse(&in, hs_parse_req, req)) > 0) {
        parsed = 1;
        err = pw_ws_check_request(req, info);
    }
    if (c->verbose && !pw_quiet && parsed)
        hs_request_verbose(req, info, err == 0);

    struct pw_buf out;
    pw_buf_init(&out, 0);
    char acc[PW_WS_ACCEPT_LEN + 1] = "";
    const char *proto = NULL;
    if (err == 0) {
        pw_ws_accept_key(info->key.p, info->key.len, acc);
        proto = hs_choose(c, info);
        pw_buf_printf(&out, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                            "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n", acc);
        if (proto)
            pw_buf_printf(&out, "Sec-WebSocket-Protocol: %s\r\n", proto);
        pw_buf_printf(&out, "\r\n");
    } else {
        if (in.len)
            hs_report("request", err);
        else
            pw_err(HS_NAME, "empty input: expected an HTTP upgrade request");
        hs_refusal(&out, err);
    }

    if (c->json) {
        struct pw_buf b;
        pw_buf_init(&b, 0);
        pw_json_begin(&b, '{');
        pw_json_kbool(&b, "valid", err == 0);
        pw_json_kint(&b, "status", err == 0 ? 101 : atoi((const char *)out.p + 9));
        if (err == 0) {
            hs_jkslice(&b, "key", info->key);
            pw_json_kcstr(&b, "accept", acc);
            hs_jkslice(&b, "origin", info->origin);
            pw_json_key(&b, "protocols");
            pw_json_begin(&b, '[');
            for (size_t i = 0; i < info->nprotos; i++) {
                pw_json_sep(&b);
                pw_json_str(&b, info->protos[i].p, info->protos[i].len);
            }
            pw_json_end(&b, ']');
            hs_jexts(&b, info->exts, info->nexts);
            pw_json_kcstr(&b, "protocol", proto);
        } else {
            hs_jerr(&b, err);
        }
        hs_jkstr(&b, "response", (const char *)out.p, out.len);
        hs_jflush(&b);
    } else {
        fwrite(out.p, 1, out.len, stdout);
    }
    pw_buf_free(&out);
    free(req), free(info), free(in.p);
    return err == 0 ? PW_EXIT_OK : PW_EXIT_PROTO;
}

/* ---- --response KEY ---- */

static void hs_response_json(const char *key, const struct pw_http_resp *resp, int err,
                             const char *acc, const struct pw_ws_response_info *info,
                             struct pw_str body)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    pw_json_begin(&b, '{');
    pw_json_kbool(&b, "valid", err == 0);
    if (resp && resp->status)
        pw_json_kint(&b, "status", resp->status);
    else
        pw_json_kcstr(&b, "status", NULL);
    pw_json_kcstr(&b, "key", key);
    if (acc)
        pw_json_kcstr(&b, "accept", acc);
    if (!resp) { /* the key was refused: the response was not read */
        hs_jerr(&b, err);
        hs_jflush(&b);
        return;
    }
    if (err == 0) {
        hs_jkslice(&b, "protocol", info->protocol);
        hs_jexts(&b, info->exts, info->nexts);
    } else {
        hs_jerr(&b, err);
        if (err == PW_EHS_STATUS)
            hs_jkstr(&b, "body", body.p, body.len);
    }
    hs_jflush(&b);
}

static void hs_response_text(const struct pw_ws_response_info *info)
{
    printf("valid response: Sec-WebSocket-Accept matches the key\n");
    if (info->protocol.len)
        printf("subprotocol: %.*s\n", (int)info->protocol.len, info->protocol.p);
    for (size_t i = 0; i < info->nexts; i++) {
        printf("extension: ");
        hs_print_ext(stdout, &info->exts[i]);
        printf("\n");
    }
}

/* The message for a response that fails a rule, with what helps fix it. */
static void hs_response_err(const struct pw_http_resp *resp, int err, const char *acc)
{
    if (err == PW_EHS_STATUS)
        pw_err(HS_NAME, "server answered %d %.*s, not 101 Switching Protocols (%s)",
               resp->status, (int)resp->reason.len, resp->reason.p, pw_errrule(err));
    else if (err == PW_EHS_ACCEPT)
        pw_err(HS_NAME, "response breaks %s: %s (expected '%s')", pw_errrule(err),
               pw_strerror(err), acc);
    else
        hs_report("response", err);
}

static int hs_response(const struct hs_cfg *c)
{
    const char *key = c->key;
    int bad = pw_ws_key_check(key, strlen(key));
    if (bad && !c->lenient) {
        pw_err(HS_NAME, "key '%s': %s%s (%s); use --lenient to check against it anyway", key,
               pw_strerror(bad), hs_key_hint(bad, key), pw_errrule(bad));
        if (c->json)
            hs_response_json(key, NULL, bad, NULL, NULL, (struct pw_str){"", 0});
        return PW_EXIT_PROTO;
    }
    char acc[PW_WS_ACCEPT_LEN + 1];
    if (pw_ws_accept_key(key, strlen(key), acc) < 0) {
        pw_err(HS_NAME, "cannot compute SHA-1 with OpenSSL");
        return PW_EXIT_FAIL;
    }
    struct hs_input in;
    int rc = hs_read(c->file, &in);
    if (rc)
        return rc;
    struct pw_http_resp *resp = calloc(1, sizeof *resp);
    struct pw_ws_response_info *info = calloc(1, sizeof *info);
    if (!resp || !info) {
        free(resp), free(info), free(in.p);
        pw_err(HS_NAME, "out of memory");
        return PW_EXIT_FAIL;
    }
    int err = in.len ? hs_parse(&in, hs_parse_resp, resp) : PW_EHTTP_STATUS;
    struct pw_str body = {"", 0};
    if (err > 0) {
        body = (struct pw_str){in.p + err, in.len - (size_t)err};
        err = pw_ws_check_response(resp, key, c->nprotos ? c->protos : NULL, c->nprotos,
                                   c->nexts ? c->exts : NULL, c->nexts, info);
    } else {
        resp->status = 0;
    }
    if (c->verbose && !pw_quiet && resp->status) {
        fprintf(stderr, "< HTTP/1.%d %d %.*s\n", resp->minor, resp->status,
                (int)resp->reason.len, resp->reason.p);
        hs_verbose_fields('<', resp->headers, resp->nheaders);
        fprintf(stderr, "* expected Sec-WebSocket-Accept: %s\n", acc);
    }
    if (err && in.len == 0)
        pw_err(HS_NAME, "empty input: expected an HTTP response");
    else if (err)
        hs_response_err(resp, err, acc);
    if (c->json)
        hs_response_json(key, resp, err, acc, info, body);
    else if (err == 0)
        hs_response_text(info);
    else if (err == PW_EHS_STATUS)
        fwrite(body.p, 1, body.len, stdout);
    free(resp), free(info), free(in.p);
    return err == 0 ? PW_EXIT_OK : err == PW_EHS_STATUS ? PW_EXIT_REJECTED : PW_EXIT_PROTO;
}

/* ---- options ---- */

static int hs_token_arg(struct pw_optstate *st, const char **list, size_t *n, size_t max,
                        const char *what)
{
    struct pw_str one;
    if (pw_ws_proto_parse((struct pw_str){st->arg, strlen(st->arg)}, &one, 0, 1) != 1 ||
        one.len != strlen(st->arg))
        return pw_badarg(st, what, "an HTTP token");
    if (*n >= max)
        return pw_badarg(st, "one too many", "at most %zu of them", max);
    list[(*n)++] = st->arg;
    return 0;
}

static int hs_options(struct pw_optstate *st, struct hs_cfg *c, int *help)
{
    int o, gen = 0, req = 0;
    while ((o = pw_opt_next(st)) != PW_OPT_END) {
        int rc = 0;
        switch (o) {
        case PW_OPT_ERR: return PW_EXIT_USAGE;
        case OPT_HELP: *help = 1; return 0;
        case OPT_VERBOSE: c->verbose = 1; break;
        case OPT_QUIET: break; /* main.c set pw_quiet */
        case OPT_GEN_KEY: gen = 1; break;
        case OPT_REQUEST: req = 1; break;
        case OPT_RESPONSE: c->key = st->arg; c->mode = HS_RESPONSE; break;
        case OPT_JSON: c->json = 1; break;
        case OPT_LENIENT: c->lenient = 1; break;
        case OPT_SUBPROTOCOL:
            rc = hs_token_arg(st, c->protos, &c->nprotos, PW_WS_MAX_PROTOS,
                             "not a subprotocol name");
            break;
        case OPT_EXTENSION:
            rc = hs_token_arg(st, c->exts, &c->nexts, PW_WS_MAX_EXTS,
                             "not an extension name");
            break;
        case OPT_HEADER:
            if (!strchr(st->arg, ':') || st->arg[0] == ':' || strpbrk(st->arg, "\r\n"))
                rc = pw_badarg(st, "not a header", "'Name: value'");
            else if (c->nheaders >= 64)
                rc = pw_badarg(st, "one too many", "at most 64 headers");
            else
                c->headers[c->nheaders++] = st->arg;
            break;
        case OPT_ORIGIN: c->origin = st->arg; break;
        case OPT_CACERT: c->cacert = st->arg; break;
        case OPT_INSECURE: c->insecure = 1; break;
        }
        if (rc)
            return rc;
    }
    if (gen + req + (c->mode == HS_RESPONSE) > 1) {
        pw_err(HS_NAME, "--gen-key, --request and --response exclude each other");
        return PW_EXIT_USAGE;
    }
    if (gen)
        c->mode = HS_GEN;
    else if (req)
        c->mode = HS_REQUEST;
    return 0;
}

/* Operands and which options go with which mode. */
static int hs_operands(struct hs_cfg *c, int nops, char **ops)
{
    const char *usage = "see 'pushwire handshake --help'";
    switch (c->mode) {
    case HS_KEY:
        if (nops == 0) {
            pw_err(HS_NAME, "nothing to do: give a KEY, a ws:// or wss:// URL, --gen-key, --request or --response; %s",
                   usage);
            return PW_EXIT_USAGE;
        }
        if (nops > 1) {
            pw_err(HS_NAME, "one KEY at a time (got '%s' too); %s", ops[1], usage);
            return PW_EXIT_USAGE;
        }
        c->key = ops[0];
        break;
    case HS_GEN:
        if (nops) {
            pw_err(HS_NAME, "--gen-key takes no operand (got '%s')", ops[0]);
            return PW_EXIT_USAGE;
        }
        break;
    case HS_REQUEST:
    case HS_RESPONSE:
        if (nops > 1) {
            pw_err(HS_NAME, "one FILE at a time (got '%s' too); %s", ops[1], usage);
            return PW_EXIT_USAGE;
        }
        c->file = nops ? ops[0] : NULL;
        break;
    }
    if (c->nprotos && c->mode != HS_REQUEST && c->mode != HS_RESPONSE) {
        pw_err(HS_NAME, "--subprotocol goes with --request or --response");
        return PW_EXIT_USAGE;
    }
    if (c->nexts && c->mode != HS_RESPONSE) {
        pw_err(HS_NAME, "--extension goes with --response");
        return PW_EXIT_USAGE;
    }
    if (c->lenient && c->mode != HS_KEY && c->mode != HS_RESPONSE) {
        pw_err(HS_NAME, "--lenient goes with KEY or --response KEY");
        return PW_EXIT_USAGE;
    }
    return 0;
}

static int hs_main(int argc, char **argv)
{
    struct pw_optstate st;
    struct hs_cfg c;
    int help = 0;
    memset(&c, 0, sizeof c);
    c.mode = HS_KEY;
    pw_opt_begin(&st, &pw_applet_handshake, argc, argv);
    int rc = hs_options(&st, &c, &help);
    int ind = st.ind;
    pw_opt_end(&st);
    if (rc)
        return rc;
    if (help) {
        pw_usage(&pw_applet_handshake);
        return PW_EXIT_OK;
    }
    if (c.mode == HS_KEY && argc - ind == 1 && strstr(argv[ind], "://")) {
        /* the live mode: the operand is a URL */
        struct pw_hs_url_opts uo = {argv[ind], c.protos, c.nprotos, c.exts, c.nexts,
                                    c.headers, c.nheaders, c.origin, c.cacert, c.insecure, c.json};
        return pw_hs_url(&uo);
    }
    if (c.nheaders || c.origin || c.cacert || c.insecure) {
        pw_err(HS_NAME, "-H, --origin, --cacert and --insecure go with a URL");
        return PW_EXIT_USAGE;
    }
    rc = hs_operands(&c, argc - ind, argv + ind);
    if (rc)
        return rc;
    switch (c.mode) {
    case HS_GEN: return hs_gen(&c);
    case HS_REQUEST: return hs_request(&c);
    case HS_RESPONSE: return hs_response(&c);
    case HS_KEY: break;
    }
    return hs_key(&c);
}

const struct pw_applet pw_applet_handshake = {
    .name = "handshake",
    .summary = "compute and check the WebSocket opening handshake",
    .synopsis = "[-jqv] [-p NAME]... [-e permessage-deflate] [-H HEADER]... [--origin O] [--cacert F] [-k] URL\n"
                "[-jqv] [--lenient] KEY\n"
                "[-jqv] --gen-key\n"
                "[-jqv] [-p NAME]... --request [FILE]\n"
                "[-jqv] [--lenient] [-p NAME]... [-e NAME]... --response KEY [FILE]",
    .description =
        "Computes Sec-WebSocket-Accept for KEY, makes a fresh key, or checks a raw\n"
        "upgrade request (RFC 6455 section 4.2.1) or server response (section 4.1)\n"
        "read from FILE or standard input, or performs the handshake against a live\n"
        "ws:// or wss:// URL.  Exit 3 names the rule broken.",
    .opts = hs_opts,
    .main = hs_main,
};
