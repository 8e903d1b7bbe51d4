/* test_handshake.c — the RFC 6455 opening handshake core (ws_handshake.h).
 * Requests and responses are built field by field here so that these tests
 * judge the handshake rules alone, not the HTTP parser. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "proto/ws_handshake.h"

#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

static struct pw_str S(const char *s) { return (struct pw_str){s, strlen(s)}; }

static int slice_is(struct pw_str s, const char *c)
{
    return s.len == strlen(c) && memcmp(s.p, c, s.len) == 0;
}

/* "Name: value" strings, NULL-terminated, into header fields */
static size_t fields(struct pw_http_header *h, va_list ap)
{
    size_t n = 0;
    const char *f;
    while ((f = va_arg(ap, const char *)) != NULL && n < PW_HTTP_MAX_HEADERS) {
        const char *colon = strchr(f, ':');
        h[n].name = (struct pw_str){f, (size_t)(colon - f)};
        const char *v = colon + 1;
        while (*v == ' ')
            v++;
        h[n].value = S(v);
        n++;
    }
    return n;
}

static struct pw_http_req req;
static struct pw_http_resp resp;

static void mkreq(const char *method, const char *target, int minor, ...)
{
    memset(&req, 0, sizeof req);
    req.method = S(method);
    req.target = S(target);
    req.path = req.target;
    req.minor = minor;
    req.content_length = -1;
    va_list ap;
    va_start(ap, minor);
    req.nheaders = fields(req.headers, ap);
    va_end(ap);
}

static void mkresp(int status, ...)
{
    memset(&resp, 0, sizeof resp);
    resp.minor = 1;
    resp.status = status;
    resp.reason = S(status == 101 ? "Switching Protocols" : "Other");
    resp.content_length = -1;
    va_list ap;
    va_start(ap, status);
    resp.nheaders = fields(resp.headers, ap);
    va_end(ap);
}

/* the usual browser request with one field replaced or dropped */
#define H_HOST "Host: example.com"
#define H_UPG "Upgrade: websocket"
#define H_CONN "Connection: Upgrade"
#define H_KEY "Sec-WebSocket-Key: " KEY
#define H_VER "Sec-WebSocket-Version: 13"

static int check(void)
{
    struct pw_ws_request_info info;
    return pw_ws_check_request(&req, &info);
}

static void test_keys(void)
{
    char out[PW_WS_ACCEPT_LEN + 1];
    IS(pw_ws_accept_key(KEY, strlen(KEY), out), 0, "accept: RFC 6455 §1.3 example key");
    STREQ(out, ACCEPT, "accept: RFC 6455 §1.3 example value");
    IS(pw_ws_accept_key("x", 1, out), 0, "accept: any bytes are hashed (lenient)");
    IS(strlen(out), PW_WS_ACCEPT_LEN, "accept: always 28 characters");
    IS(pw_ws_accept_key(NULL, 3, out), PW_EINVAL, "accept: NULL key with a length");

    IS(pw_ws_key_check(KEY, strlen(KEY)), 0, "key: the RFC example is valid");
    IS(pw_ws_key_check("AAAAAAAAAAAAAAAAAAAAAA==", 24), 0, "key: sixteen zero bytes");
    IS(pw_ws_key_check("dGhlIHNhbXBsZSBub25jZQ", 22), PW_EHS_KEY_B64, "key: padding missing");
    IS(pw_ws_key_check("dGhlIHNhbXBsZSBub25jZQ=", 23), PW_EHS_KEY_B64, "key: padding short");
    IS(pw_ws_key_check("dGhlIHNhbXBsZSBub25jZ*==", 24), PW_EHS_KEY_B64, "key: '*' is not base64");
    IS(pw_ws_key_check("dGhlIHNhbXBsZSBub25jZQ-_", 24), PW_EHS_KEY_B64, "key: base64url alphabet refused");
    IS(pw_ws_key_check("dGhlIHNh=XBsZSBub25jZQ==", 24), PW_EHS_KEY_B64, "key: '=' inside");
    IS(pw_ws_key_check("dGhlIHNhbXBsZSBub25jZR==", 24), PW_EHS_KEY_B64, "key: non-zero pad bits");
    IS(pw_ws_key_check(" GhlIHNhbXBsZSBub25jZQ==", 24), PW_EHS_KEY_B64, "key: whitespace");
    IS(pw_ws_key_check("dGhlIHNhbXBsZSBub25jZQ==\n", 25), PW_EHS_KEY_B64, "key: trailing newline");
    IS(pw_ws_key_check("AAAAAAAAAAAAAAAAAAAAAAAAAAA=", 28), PW_EHS_KEY_LEN, "key: 20 bytes");
    IS(pw_ws_key_check("AAAAAAAAAAAAAAAAAAAAAAAA", 24), PW_EHS_KEY_LEN, "key: 18 bytes");
    IS(pw_ws_key_check("AAAAAAAAAAAAAAAAAAAA", 20), PW_EHS_KEY_LEN, "key: 15 bytes");
    IS(pw_ws_key_check("", 0), PW_EHS_KEY_LEN, "key: empty");
    IS(pw_ws_key_check("====", 4), PW_EHS_KEY_B64, "key: padding only");
    IS(pw_ws_key_check("A===AAAAAAAAAAAAAAAAAAAA", 24), PW_EHS_KEY_B64, "key: triple padding");

    char k1[PW_WS_KEY_LEN + 1], k2[PW_WS_KEY_LEN + 1];
    IS(pw_ws_gen_key(k1), 0, "gen: first key");
    IS(pw_ws_gen_key(k2), 0, "gen: second key");
    IS(strlen(k1), PW_WS_KEY_LEN, "gen: 24 characters");
    IS(pw_ws_key_check(k1, strlen(k1)), 0, "gen: passes the strict check");
    OK(strcmp(k1, k2) != 0, "gen: two keys differ");
}

static void test_request_ok(void)
{
    struct pw_ws_request_info info;
    mkreq("GET", "/chat?x=1", 1, H_HOST, H_UPG, "Connection: keep-alive, Upgrade", H_KEY,
          "Origin: http://example.com", "Sec-WebSocket-Protocol: chat, superchat",
          "Sec-WebSocket-Protocol: v2", H_VER,
          "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits",
          "Sec-WebSocket-Extensions: x-foo", NULL);
    IS(pw_ws_check_request(&req, &info), 0, "request: a browser request is valid");
    OK(slice_is(info.key, KEY), "request: key captured");
    OK(slice_is(info.origin, "http://example.com"), "request: origin captured");
    IS(info.nprotos, 3, "request: protocols from two fields");
    OK(slice_is(info.protos[0], "chat") && slice_is(info.protos[2], "v2"), "request: protocol names");
    IS(info.nexts, 2, "request: extensions from two fields");
    OK(slice_is(info.exts[0].name, "permessage-deflate") && info.exts[0].nparams == 1,
       "request: permessage-deflate and its parameter");
    OK(slice_is(info.exts[1].name, "x-foo"), "request: second extension");

    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(pw_ws_check_request(&req, &info), 0, "request: minimal");
    IS(info.origin.len, 0, "request: no origin");
    IS(info.nprotos + info.nexts, 0, "request: no protocols, no extensions");

    mkreq("GET", "/", 1, "host: a", "upgrade: WebSocket", "connection: upgrade",
          "sec-websocket-key: " KEY, "sec-websocket-version: 13", NULL);
    IS(check(), 0, "request: header names and Upgrade/Connection values are case-insensitive");
    mkreq("GET", "/", 2, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), 0, "request: HTTP/1.2 is 'or higher'");
    mkreq("GET", "http://example.com/chat", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), 0, "request: absolute http URI target");
    mkreq("GET", "HTTPS://example.com", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), 0, "request: absolute https URI with no path");
    mkreq("GET", "/", 1, H_HOST, "Upgrade: h2c, websocket", H_CONN, H_KEY, H_VER, NULL);
    IS(check(), 0, "request: websocket among other upgrades");
    mkreq("GET", "/", 1, H_HOST, H_UPG, "Connection: keep-alive", "Connection: Upgrade", H_KEY,
          H_VER, NULL);
    IS(check(), 0, "request: Upgrade in a second Connection field");
}

static void test_request_rules(void)
{
    mkreq("POST", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_METHOD, "rule: POST");
    mkreq("get", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_METHOD, "rule: method is case-sensitive");
    mkreq("GET", "/", 0, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_VERSION_HTTP, "rule: HTTP/1.0");
    mkreq("GET", "*", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_TARGET, "rule: asterisk-form target");
    mkreq("GET", "example.com:80", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_TARGET, "rule: authority-form target");
    mkreq("GET", "ws://example.com/", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_TARGET, "rule: ws:// URI target");
    mkreq("GET", "http:///chat", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_TARGET, "rule: URI without authority");
    mkreq("GET", "/chat#frag", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_TARGET, "rule: fragment in target");
    mkreq("GET", "", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_TARGET, "rule: empty target");
    mkreq("GET", "/", 1, H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_HOST, "rule: Host missing");
    mkreq("GET", "/", 1, H_HOST, "Host: b", H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_HOST, "rule: Host repeated");
    mkreq("GET", "/", 1, "Host: ", H_UPG, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_HOST, "rule: Host empty");
    mkreq("GET", "/", 1, H_HOST, H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_UPGRADE, "rule: Upgrade missing");
    mkreq("GET", "/", 1, H_HOST, "Upgrade: websocketx", H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_UPGRADE, "rule: Upgrade: websocketx");
    mkreq("GET", "/", 1, H_HOST, "Upgrade: h2c", H_CONN, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_UPGRADE, "rule: Upgrade: h2c only");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_CONNECTION, "rule: Connection missing");
    mkreq("GET", "/", 1, H_HOST, H_UPG, "Connection: keep-alive", H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_CONNECTION, "rule: Connection: keep-alive");
    mkreq("GET", "/", 1, H_HOST, H_UPG, "Connection: Upgrades", H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_CONNECTION, "rule: Connection token must match whole");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, H_VER, NULL);
    IS(check(), PW_EHS_KEY_MISSING, "rule: key missing");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_KEY, H_VER, NULL);
    IS(check(), PW_EHS_KEY_MISSING, "rule: key repeated");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA", H_VER,
          NULL);
    IS(check(), PW_EHS_KEY_LEN, "rule: key of 15 bytes");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, "Sec-WebSocket-Key: not base64 at all!!!", H_VER,
          NULL);
    IS(check(), PW_EHS_KEY_B64, "rule: key not base64");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, "Sec-WebSocket-Key: ", H_VER, NULL);
    IS(check(), PW_EHS_KEY_LEN, "rule: key empty");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, "Sec-WebSocket-Version: 8", NULL);
    IS(check(), PW_EHS_WS_VERSION, "rule: version 8 (426)");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, NULL);
    IS(check(), PW_EHS_WS_VERSION, "rule: version missing");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, H_VER, NULL);
    IS(check(), PW_EHS_WS_VERSION, "rule: version repeated");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, "Sec-WebSocket-Version: 013", NULL);
    IS(check(), PW_EHS_WS_VERSION, "rule: version 013");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, "Sec-WebSocket-Version: 13, 8", NULL);
    IS(check(), PW_EHS_WS_VERSION, "rule: version list");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, "Sec-WebSocket-Protocol: a b",
          NULL);
    IS(check(), PW_EHS_PROTO_SYNTAX, "rule: bad subprotocol token");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, "Sec-WebSocket-Protocol: a",
          "Sec-WebSocket-Protocol: a", NULL);
    IS(check(), PW_EHS_PROTO_SYNTAX, "rule: subprotocol repeated across fields");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER, "Sec-WebSocket-Extensions: a;",
          NULL);
    IS(check(), PW_EHS_EXT_SYNTAX, "rule: bad extension header");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, H_KEY, H_VER,
          "Sec-WebSocket-Protocol: a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", NULL);
    IS(check(), PW_ETOOBIG, "rule: more than PW_WS_MAX_PROTOS subprotocols");

    /* the first rule broken is the one reported */
    mkreq("POST", "/", 0, H_CONN, NULL);
    IS(check(), PW_EHS_METHOD, "rule order: method first");
    mkreq("GET", "/", 1, H_HOST, H_UPG, H_CONN, "Sec-WebSocket-Version: 8", NULL);
    IS(check(), PW_EHS_KEY_MISSING, "rule order: key before version");
}

static void test_ext_parse(void)
{
    struct pw_ws_ext e[PW_WS_MAX_EXTS];
    char v[16];
    int n;

    n = pw_ws_ext_parse(S("permessage-deflate; client_max_window_bits"), e, 0, PW_WS_MAX_EXTS);
    IS(n, 1, "ext: one extension");
    OK(slice_is(e[0].params[0].name, "client_max_window_bits") && e[0].params[0].value.len == 0,
       "ext: parameter without value");
    IS(pw_ws_ext_value(&e[0].params[0], v, sizeof v), -1, "ext: value() says no value");

    n = pw_ws_ext_parse(S("a; x=1, b; y=\"2\"; z"), e, 0, PW_WS_MAX_EXTS);
    IS(n, 2, "ext: two extensions");
    OK(slice_is(e[0].params[0].value, "1") && !e[0].params[0].quoted, "ext: token value");
    OK(slice_is(e[1].params[0].value, "2") && e[1].params[0].quoted, "ext: quoted value, quotes removed");
    IS(e[1].nparams, 2, "ext: two parameters");

    n = pw_ws_ext_parse(S(" \ta\t ;  x  =  10 ,, ,b ; y = \"z\" , "), e, 0, PW_WS_MAX_EXTS);
    IS(n, 2, "ext: whitespace and empty elements");
    OK(slice_is(e[0].name, "a") && slice_is(e[0].params[0].value, "10"), "ext: trimmed name and value");
    OK(slice_is(e[1].params[0].value, "z"), "ext: quoted value after spaces");

    n = pw_ws_ext_parse(S("a; x=\"1\\0\""), e, 0, PW_WS_MAX_EXTS);
    IS(n, 1, "ext: quoted-pair");
    OK(e[0].params[0].escaped, "ext: escaped flag");
    IS(pw_ws_ext_value(&e[0].params[0], v, sizeof v), 2, "ext: unescaped length");
    STREQ(v, "10", "ext: unescaped text");
    IS(pw_ws_ext_value(&e[0].params[0], v, 2), PW_ETOOBIG, "ext: value() bounded");

    n = pw_ws_ext_parse(S("a"), e, 0, PW_WS_MAX_EXTS);
    n = pw_ws_ext_parse(S("b, c"), e, (size_t)n, PW_WS_MAX_EXTS);
    IS(n, 3, "ext: appending a second field");
    OK(slice_is(e[2].name, "c"), "ext: appended in order");

    static const char *const bad[] = {
        "",            "  ",           ",,",           "a;",         ";x",
        "a b",         "a=1",          "a; x=",        "a; x=\"\"",  "a; x=\"1 2\"",
        "a; x=\"1",    "a; x=\"\\\"\"", "a; x=1 2",    "a; x=a/b",   "a, ;",
        "a;;x",        "\"a\"",        "a; x=\"a\"b",  "a\xc3\xa9",  "a; x=\"1\\",
        "a; =1",       "a; x==1",      "a,b c",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        IS(pw_ws_ext_parse(S(bad[i]), e, 0, PW_WS_MAX_EXTS), PW_EHS_EXT_SYNTAX,
           "ext: syntax error in '%s'", bad[i]);

    IS(pw_ws_ext_parse(S("a,b,c,d,e,f,g,h,i"), e, 0, PW_WS_MAX_EXTS), PW_ETOOBIG,
       "ext: more than PW_WS_MAX_EXTS");
    IS(pw_ws_ext_parse(S("a;1;2;3;4;5;6;7;8;9"), e, 0, PW_WS_MAX_EXTS), PW_ETOOBIG,
       "ext: more than PW_WS_MAX_PARAMS");
    IS(pw_ws_ext_parse(S("a;1;2;3;4;5;6;7;8"), e, 0, PW_WS_MAX_EXTS), 1,
       "ext: exactly PW_WS_MAX_PARAMS");
}

static void test_proto_parse(void)
{
    struct pw_str p[PW_WS_MAX_PROTOS];
    IS(pw_ws_proto_parse(S("chat, superchat"), p, 0, PW_WS_MAX_PROTOS), 2, "proto: two");
    IS(pw_ws_proto_parse(S(" chat ,, \tsuperchat , "), p, 0, PW_WS_MAX_PROTOS), 2,
       "proto: whitespace and empty elements");
    OK(slice_is(p[1], "superchat"), "proto: trimmed");
    IS(pw_ws_proto_parse(S("Chat, chat"), p, 0, PW_WS_MAX_PROTOS), 2, "proto: case-sensitive names");
    IS(pw_ws_proto_parse(S("pushwire.v1"), p, 0, PW_WS_MAX_PROTOS), 1, "proto: dotted token");
    static const char *const bad[] = {"", " , ", "chat, bad token", "chat, chat", "a/b",
                                      "\"chat\"", "a;b", "caf\xc3\xa9"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        IS(pw_ws_proto_parse(S(bad[i]), p, 0, PW_WS_MAX_PROTOS), PW_EHS_PROTO_SYNTAX,
           "proto: syntax error in '%s'", bad[i]);
    IS(pw_ws_proto_parse(S("a,b,c"), p, 0, 2), PW_ETOOBIG, "proto: bounded by max");
}

static int rcheck(const char *const *protos, size_t np, const char *const *exts, size_t ne)
{
    struct pw_ws_response_info info;
    return pw_ws_check_response(&resp, KEY, protos, np, exts, ne, &info);
}

#define R_UPG "Upgrade: websocket"
#define R_CONN "Connection: Upgrade"
#define R_ACC "Sec-WebSocket-Accept: " ACCEPT

static void test_response(void)
{
    static const char *const protos[] = {"chat", "superchat"};
    static const char *const exts[] = {"permessage-deflate"};
    struct pw_ws_response_info info;

    mkresp(101, R_UPG, R_CONN, R_ACC, NULL);
    IS(rcheck(protos, 2, exts, 1), 0, "response: RFC example is valid");
    IS(rcheck(NULL, 0, NULL, 0), 0, "response: valid with unknown offers");
    mkresp(101, "upgrade: WebSocket", "connection: keep-alive, upgrade", R_ACC, NULL);
    IS(rcheck(NULL, 0, NULL, 0), 0, "response: case-insensitive names and values");

    mkresp(101, R_UPG, R_CONN, R_ACC, "Sec-WebSocket-Protocol: superchat",
           "Sec-WebSocket-Extensions: Permessage-Deflate; server_no_context_takeover", NULL);
    IS(pw_ws_check_response(&resp, KEY, protos, 2, exts, 1, &info), 0,
       "response: offered subprotocol and extension");
    OK(slice_is(info.protocol, "superchat"), "response: chosen subprotocol");
    IS(info.nexts, 1, "response: one extension");
    IS(info.exts[0].nparams, 1, "response: its parameter");

    mkresp(200, R_UPG, R_CONN, R_ACC, NULL);
    IS(rcheck(NULL, 0, NULL, 0), PW_EHS_STATUS, "response: 200");
    mkresp(426, "Sec-WebSocket-Version: 13", NULL);
    IS(rcheck(NULL, 0, NULL, 0), PW_EHS_STATUS, "response: 426");
    mkresp(101, R_CONN, R_ACC, NULL);
    IS(rcheck(NULL, 0, NULL, 0), PW_EHS_RESP_UPGRADE, "response: Upgrade missing");
    mkresp(101, "Upgrade: websocket, h2c", R_CONN, R_ACC, NULL);
    IS(rcheck(NULL, 0, NULL, 0), PW_EHS_RESP_UPGRADE, "response: Upgrade with another protocol");
    mkresp(101, "Upgrade: ", R_CONN, R_ACC, NULL);
    IS(rcheck(NULL, 0, NULL, 0), PW_EHS_RESP_UPGRADE, "response: Upgrade empty");
    mkresp(101, R_UPG, R_ACC, NULL);
    IS(rcheck(NULL, 0, NULL, 0), PW_EHS_RESP_CONNECTION, "response: Connection missing");
    mkresp(101, R_UPG, "Connection: close", R_ACC, NULL);
    IS(rcheck(NULL, 0, NULL, 0), PW_EHS_RESP_CONNECTION, "response: Connection: close");
    mkresp(101, R_UPG, R_CONN, NULL);
    IS(rcheck(NULL, 0, NULL, 0), PW_EHS_ACCEPT_MISSING, "response: Accept missing");
    mkresp(101, R_UPG, R_CONN, "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo", NULL);
    IS(rcheck(NULL, 0, NULL, 0), PW_EHS_ACCEPT, "response: Accept truncated");
    mkresp(101, R_UPG, R_CONN, "Sec-WebSocket-Accept: S3PPLMBITXAQ9KYGZZHZRBK+XOO=", NULL);
    IS(rcheck(NULL, 0, NULL, 0), PW_EHS_ACCEPT, "response: Accept compared case-sensitively");
    mkresp(101, R_UPG, R_CONN, R_ACC, R_ACC, NULL);
    IS(rcheck(NULL, 0, NULL, 0), PW_EHS_ACCEPT_MISSING, "response: Accept repeated");
    mkresp(101, R_UPG, R_CONN, R_ACC, "Sec-WebSocket-Protocol: other", NULL);
    IS(rcheck(protos, 2, NULL, 0), PW_EHS_PROTOCOL, "response: subprotocol not offered");
    IS(rcheck(protos, 0, NULL, 0), PW_EHS_PROTOCOL, "response: subprotocol when none offered");
    IS(rcheck(NULL, 0, NULL, 0), 0, "response: subprotocol with unknown offer");
    mkresp(101, R_UPG, R_CONN, R_ACC, "Sec-WebSocket-Protocol: Chat", NULL);
    IS(rcheck(protos, 2, NULL, 0), PW_EHS_PROTOCOL, "response: subprotocol case differs");
    mkresp(101, R_UPG, R_CONN, R_ACC, "Sec-WebSocket-Protocol: chat, superchat", NULL);
    IS(rcheck(protos, 2, NULL, 0), PW_EHS_PROTO_SYNTAX, "response: two subprotocols chosen");
    mkresp(101, R_UPG, R_CONN, R_ACC, "Sec-WebSocket-Protocol: chat",
           "Sec-WebSocket-Protocol: chat", NULL);
    IS(rcheck(protos, 2, NULL, 0), PW_EHS_PROTO_SYNTAX, "response: subprotocol field repeated");
    mkresp(101, R_UPG, R_CONN, R_ACC, "Sec-WebSocket-Extensions: x-webkit-deflate-frame", NULL);
    IS(rcheck(NULL, 0, exts, 1), PW_EHS_EXTENSION, "response: extension not offered");
    IS(rcheck(NULL, 0, exts, 0), PW_EHS_EXTENSION, "response: extension when none offered");
    IS(rcheck(NULL, 0, NULL, 0), 0, "response: extension with unknown offer");
    mkresp(101, R_UPG, R_CONN, R_ACC, "Sec-WebSocket-Extensions: permessage-deflate; a=\"\"", NULL);
    IS(rcheck(NULL, 0, exts, 1), PW_EHS_EXT_SYNTAX, "response: malformed extension");
    mkresp(101, R_UPG, R_CONN, R_ACC, NULL);
    IS(pw_ws_check_response(&resp, NULL, NULL, 0, NULL, 0, &info), PW_EINVAL, "response: NULL key");
}

static void test_rules_named(void)
{
    static const int codes[] = {PW_EHS_KEY_B64, PW_EHS_KEY_LEN, PW_EHS_METHOD,
                                PW_EHS_VERSION_HTTP, PW_EHS_HOST, PW_EHS_UPGRADE,
                                PW_EHS_CONNECTION, PW_EHS_KEY_MISSING, PW_EHS_WS_VERSION,
                                PW_EHS_STATUS, PW_EHS_ACCEPT, PW_EHS_PROTOCOL,
                                PW_EHS_EXTENSION, PW_EHS_EXT_SYNTAX, PW_EHS_PROTO_SYNTAX,
                                PW_EHS_TARGET, PW_EHS_RESP_UPGRADE, PW_EHS_RESP_CONNECTION,
                                PW_EHS_ACCEPT_MISSING};
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        OK(strncmp(pw_errrule(codes[i]), "RFC 6455 §", strlen("RFC 6455 §")) == 0,
           "%s names its rule: %s", pw_errname(codes[i]), pw_errrule(codes[i]));
    STREQ(pw_errrule(PW_EHS_WS_VERSION), "RFC 6455 §4.2.1 item 6", "version is item 6");
}

int main(void)
{
    test_keys();
    test_request_ok();
    test_request_rules();
    test_ext_parse();
    test_proto_parse();
    test_response();
    test_rules_named();
    return tap_done();
}
