/* test_http1.c — the strict HTTP/1.1 head parsers and their helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "proto/http1.h"
#include "tap.h"

#define CRLF "\r\n"

static const char browser_ws[] =
    "GET /ws/news?since=41 HTTP/1.1" CRLF
    "Host: 127.0.0.1:8080" CRLF
    "Connection: Upgrade" CRLF
    "Pragma: no-cache" CRLF
    "Cache-Control: no-cache" CRLF
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36" CRLF
    "Upgrade: websocket" CRLF
    "Origin: http://127.0.0.1:8080" CRLF
    "Sec-WebSocket-Version: 13" CRLF
    "Accept-Encoding: gzip, deflate, br" CRLF
    "Accept-Language: en-US,en;q=0.9" CRLF
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==" CRLF
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits" CRLF
    CRLF;

static const char curl_post[] =
    "POST /pub/news?event=alert HTTP/1.1" CRLF
    "Host: localhost:8080" CRLF
    "User-Agent: curl/7.88.1" CRLF
    "Accept: */*" CRLF
    "Content-Length: 5" CRLF
    "Content-Type: application/x-www-form-urlencoded" CRLF
    CRLF
    "hello";

static int parse_req(const char *s, size_t n, struct pw_http_req *req)
{
    return pw_http_parse_request(s, n, req, NULL);
}

/* Every proper prefix is PW_EAGAIN; the whole gives head_len. */
static void split_every_byte(const char *s, size_t n, int head_len, int response, const char *name)
{
    static struct pw_http_req req;
    static struct pw_http_resp resp;
    int bad = -1;
    for (size_t k = 0; k < (size_t)head_len; k++) {
        int rc = response ? pw_http_parse_response(s, k, &resp, NULL) : parse_req(s, k, &req);
        if (rc != PW_EAGAIN) {
            bad = (int)k;
            break;
        }
    }
    OK(bad < 0, "%s: every prefix shorter than the head is PW_EAGAIN (first failure at %d)", name, bad);
    int rc = response ? pw_http_parse_response(s, n, &resp, NULL) : parse_req(s, n, &req);
    IS(rc, head_len, "%s: complete head is %d bytes", name, head_len);
}

static void test_browser_upgrade(void)
{
    struct pw_http_req req;
    size_t n = sizeof browser_ws - 1;
    int rc = parse_req(browser_ws, n, &req);
    IS(rc, (int)n, "browser upgrade: parsed whole head");
    OK(pw_str_eq(req.method, "GET"), "browser upgrade: method");
    OK(pw_str_eq(req.target, "/ws/news?since=41"), "browser upgrade: target as sent");
    OK(pw_str_eq(req.path, "/ws/news"), "browser upgrade: path before '?'");
    OK(pw_str_eq(req.query, "since=41"), "browser upgrade: query after '?'");
    IS(req.minor, 1, "browser upgrade: HTTP/1.1");
    IS(req.nheaders, 12, "browser upgrade: 12 headers");
    IS(req.content_length, -1, "browser upgrade: no Content-Length");
    IS(req.chunked, 0, "browser upgrade: not chunked");
    OK(req.target.p == browser_ws + 4, "browser upgrade: slices point into the buffer (zero copy)");
    int cnt = 0;
    const struct pw_str *v = pw_http_header_get(req.headers, req.nheaders, "sec-websocket-key", &cnt);
    OK(v && cnt == 1 && pw_str_eq(*v, "dGhlIHNhbXBsZSBub25jZQ=="), "header_get: case-insensitive name");
    v = pw_http_header_get(req.headers, req.nheaders, "ACCEPT-ENCODING", NULL);
    OK(v && pw_http_list_has(*v, "deflate") && pw_http_list_has(*v, "BR") && !pw_http_list_has(*v, "gz"),
       "list_has: elements, case-insensitive, no prefix match");
    OK(pw_http_header_get(req.headers, req.nheaders, "cookie", &cnt) == NULL && cnt == 0,
       "header_get: absent header is NULL with count 0");
    split_every_byte(browser_ws, n, (int)n, 0, "browser upgrade");
}

static void test_curl_post(void)
{
    struct pw_http_req req;
    size_t n = sizeof curl_post - 1;
    int rc = parse_req(curl_post, n, &req);
    IS(rc, (int)n - 5, "curl POST: head length excludes the body");
    IS(req.content_length, 5, "curl POST: Content-Length");
    OK(pw_str_eq(req.method, "POST"), "curl POST: method");
    split_every_byte(curl_post, n, (int)n - 5, 0, "curl POST");
}

static void test_request_forms(void)
{
    struct pw_http_req req;
    const char *s;
    s = "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n";
    OK(parse_req(s, strlen(s), &req) > 0 && pw_str_eq(req.path, "*"), "asterisk-form with OPTIONS");
    s = "GET * HTTP/1.1\r\nHost: a\r\n\r\n";
    IS(parse_req(s, strlen(s), &req), PW_EHTTP_TARGET, "asterisk-form with GET is refused");
    s = "GET http://example.org:8080/sse/a?lastEventId=5 HTTP/1.1\r\nHost: example.org:8080\r\n\r\n";
    OK(parse_req(s, strlen(s), &req) > 0 && pw_str_eq(req.path, "/sse/a") && pw_str_eq(req.query, "lastEventId=5"),
       "absolute-form: path and query split out");
    s = "GET http://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n";
    OK(parse_req(s, strlen(s), &req) > 0 && pw_str_eq(req.path, "/") && req.query.len == 0,
       "absolute-form without a path: path is /");
    s = "GET http://example.org?x=1 HTTP/1.1\r\nHost: example.org\r\n\r\n";
    OK(parse_req(s, strlen(s), &req) > 0 && pw_str_eq(req.path, "/") && pw_str_eq(req.query, "x=1"),
       "absolute-form with a query and no path");
    s = "GET /a? HTTP/1.1\r\nHost: a\r\n\r\n";
    OK(parse_req(s, strlen(s), &req) > 0 && pw_str_eq(req.path, "/a") && req.query.len == 0, "empty query");
    s = "GET /ok HTTP/1.0\r\n\r\n";
    OK(parse_req(s, strlen(s), &req) > 0 && req.minor == 0, "HTTP/1.0 without Host");
    s = "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n";
    IS(parse_req(s, strlen(s), &req), (int)strlen(s), "empty lines before the request line are skipped");
    s = "GET / HTTP/1.1\nHost: a\nX: 1\n\n";
    IS(parse_req(s, strlen(s), &req), (int)strlen(s), "bare LF line ends are tolerated (documented)");
    split_every_byte(s, strlen(s), (int)strlen(s), 0, "bare LF request");
    s = "GET / HTTP/1.1\r\nHost: a\r\nX-Empty:\r\nX-Sp:   v  w \t\r\nX-Obs: caf\xc3\xa9\r\n\r\n";
    OK(parse_req(s, strlen(s), &req) > 0 && req.headers[1].value.len == 0 && pw_str_eq(req.headers[2].value, "v  w")
           && req.headers[3].value.len == 5,
       "values: empty value, OWS trimmed, inner spaces and obs-text kept");
    s = "PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n";
    OK(parse_req(s, strlen(s), &req) > 0 && req.chunked == 1 && req.content_length == -1,
       "Transfer-Encoding: chunked is reported");
    const char *hosts[] = {"", "127.0.0.1:8080", "[::1]:8080", "[::1]", "xn--bcher-kva.example", "a:", "my_host.local"};
    for (size_t k = 0; k < sizeof hosts / sizeof hosts[0]; k++) {
        char t[128];
        snprintf(t, sizeof t, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", hosts[k]);
        OK(parse_req(t, strlen(t), &req) > 0, "Host '%s' accepted", hosts[k]);
    }
    s = "M-SEARCH~! /x HTTP/1.1\r\nHost: a\r\n\r\n";
    OK(parse_req(s, strlen(s), &req) > 0 && pw_str_eq(req.method, "M-SEARCH~!"), "any token is a method");
    s = "GET /{a}|^`[b]\"<>?q=|x| HTTP/1.1\r\nHost: a\r\n\r\n";
    OK(parse_req(s, strlen(s), &req) > 0, "visible ASCII a browser may leave raw in a target is accepted");
    s = "GET / HTTP/1.1\r\nHost: a\r\n\r\nGET /next HTTP/1.1\r\n";
    IS(parse_req(s, strlen(s), &req), 27, "pipelined bytes after the head are not read");
}

struct bad {
    const char *in;
    int err;
    const char *name;
};

static void test_request_errors(void)
{
    static const struct bad cases[] = {
        {"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_METHOD, "separator in method"},
        {" GET / HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_METHOD, "space before method"},
        {"GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_METHOD, "tab after method"},
        {"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_TARGET, "two spaces after method"},
        {"GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_VERSION, "space inside target"},
        {"GET /a\x01 HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_TARGET, "control char in target"},
        {"GET /a\x7f HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_TARGET, "DEL in target"},
        {"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_TARGET, "raw non-ASCII in target"},
        {"GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_TARGET, "fragment in target"},
        {"GET a/b HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_TARGET, "relative target"},
        {"CONNECT example.org:443 HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_TARGET, "authority-form"},
        {"GET http:/x HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_TARGET, "absolute-form without //"},
        {"GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_TARGET, "absolute-form without authority"},
        {"GET 1http://a/ HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_TARGET, "scheme starting with a digit"},
        {"GET /\r\n\r\n", PW_EHTTP_VERSION, "HTTP/0.9 request line"},
        {"GET / HTTP/1.2\r\nHost: a\r\n\r\n", PW_EHTTP_VERSION, "HTTP/1.2"},
        {"GET / HTTP/2.0\r\nHost: a\r\n\r\n", PW_EHTTP_VERSION, "HTTP/2.0"},
        {"GET / http/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_VERSION, "lower-case version"},
        {"GET / HTTP/1.10\r\nHost: a\r\n\r\n", PW_EHTTP_VERSION, "HTTP/1.10"},
        {"GET / HTTP/1.1 \r\nHost: a\r\n\r\n", PW_EHTTP_VERSION, "space after version"},
        {"GET / HTTP/1.1\rHost: a\r\n\r\n", PW_EHTTP_LINE, "bare CR after request line"},
        {"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", PW_EHTTP_LINE, "bare CR after a header"},
        {"GET / HTTP/1.1\r\nHost: a\r\n\r\r\n", PW_EHTTP_LINE, "bare CR in the final line"},
        {"\rGET / HTTP/1.1\r\nHost: a\r\n\r\n", PW_EHTTP_LINE, "bare CR before the request line"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", PW_EHTTP_LINE, "bare CR inside a value"},
        {"GET / HTTP/1.1\r\nHost : a\r\n\r\n", PW_EHTTP_HEADER_NAME, "space before colon"},
        {"GET / HTTP/1.1\r\nHost: a\r\n: b\r\n\r\n", PW_EHTTP_HEADER_NAME, "empty name"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX(y): b\r\n\r\n", PW_EHTTP_HEADER_NAME, "separator in name"},
        {"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", PW_EHTTP_HEADER_NAME, "line without colon"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX\xc3\xa9: b\r\n\r\n", PW_EHTTP_HEADER_NAME, "non-ASCII in name"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01" "b\r\n\r\n", PW_EHTTP_HEADER_VALUE, "control char in value"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\x7f\r\n\r\n", PW_EHTTP_HEADER_VALUE, "DEL in value"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", PW_EHTTP_HEADER_VALUE, "NUL in value"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n", PW_EHTTP_OBS_FOLD, "obs-fold with space"},
        {"GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n\tb\r\n\r\n", PW_EHTTP_OBS_FOLD, "obs-fold with tab"},
        {"GET / HTTP/1.1\r\n Host: a\r\n\r\n", PW_EHTTP_OBS_FOLD, "whitespace before the first header"},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n", PW_EHTTP_CONTENT_LENGTH,
         "duplicate Content-Length, even identical"},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 5\r\n\r\n", PW_EHTTP_CONTENT_LENGTH, "Content-Length list"},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", PW_EHTTP_CONTENT_LENGTH, "negative Content-Length"},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +1\r\n\r\n", PW_EHTTP_CONTENT_LENGTH, "signed Content-Length"},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", PW_EHTTP_CONTENT_LENGTH, "hex Content-Length"},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n", PW_EHTTP_CONTENT_LENGTH, "empty Content-Length"},
        {"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9999999999999999999\r\n\r\n", PW_EHTTP_CONTENT_LENGTH,
         "Content-Length that overflows"},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", PW_EHTTP_TE, "gzip, chunked"},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n", PW_EHTTP_TE, "identity"},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", PW_EHTTP_TE,
         "two Transfer-Encoding fields"},
        {"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", PW_EHTTP_TE, "chunked in HTTP/1.0"},
        {"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", PW_EHTTP_TE_CL,
         "Transfer-Encoding with Content-Length"},
        {"GET / HTTP/1.1\r\n\r\n", PW_EHTTP_HOST, "HTTP/1.1 without Host"},
        {"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", PW_EHTTP_HOST, "two Host fields"},
        {"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n", PW_EHTTP_HOST, "two Host fields in HTTP/1.0"},
        {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", PW_EHTTP_HOST, "space in Host"},
        {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", PW_EHTTP_HOST, "slash in Host"},
        {"GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", PW_EHTTP_HOST, "non-digit port"},
        {"GET / HTTP/1.1\r\nHost: a@b\r\n\r\n", PW_EHTTP_HOST, "userinfo in Host"},
        {"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", PW_EHTTP_HOST, "unclosed IP-literal"},
        {"GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n", PW_EHTTP_HOST, "junk after IP-literal"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        struct pw_http_req req;
        size_t n = strlen(cases[c].in);
        if (strstr(cases[c].name, "NUL in value"))
            n = strlen(cases[c].in) + 1 + strlen(cases[c].in + strlen(cases[c].in) + 1);
        int rc = parse_req(cases[c].in, n, &req);
        OK(rc == cases[c].err, "refused: %s -> %s (got %s)", cases[c].name, pw_errname(cases[c].err), pw_errname(rc));
    }
    STREQ(pw_errrule(PW_EHTTP_OBS_FOLD), "RFC 9112 §5.2", "errors name the RFC 9112 section");
    /* fail fast: errors visible before the head is complete */
    struct pw_http_req req;
    IS(parse_req("G(", 2, &req), PW_EHTTP_METHOD, "fail fast: bad method byte before the rest arrives");
    IS(parse_req("GET / HTTP/2", 12, &req), PW_EHTTP_VERSION, "fail fast: wrong version prefix");
    IS(parse_req("GET / HTTP/1.1\r\nA b", 19, &req), PW_EHTTP_HEADER_NAME, "fail fast: bad header name");
}

static void test_limits(void)
{
    struct pw_http_req req;
    struct pw_http_limits lim = {64, 3};
    const char *ok = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n\r\n";
    IS(pw_http_parse_request(ok, strlen(ok), &req, &lim), (int)strlen(ok), "limits: 3 headers allowed with max_headers 3");
    const char *four = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC";
    IS(pw_http_parse_request(four, strlen(four), &req, &lim), PW_EHTTP_TOO_MANY_HEADERS,
       "limits: the 4th header is refused as soon as it starts");
    lim.max_headers = 0;
    lim.max_head = strlen(ok);
    IS(pw_http_parse_request(ok, strlen(ok), &req, &lim), (int)strlen(ok), "limits: a head of exactly max_head bytes is fine");
    lim.max_head = strlen(ok) - 1;
    IS(pw_http_parse_request(ok, strlen(ok), &req, &lim), PW_EHTTP_HEAD_TOOBIG, "limits: one byte over max_head");
    IS(pw_http_parse_request(ok, strlen(ok) - 1, &req, &lim), PW_EHTTP_HEAD_TOOBIG,
       "limits: incomplete head already at max_head is refused");
    IS(pw_http_parse_request(ok, strlen(ok) - 2, &req, &lim), PW_EAGAIN, "limits: incomplete head under max_head waits");
    /* default head limit on a slow-loris header */
    size_t big = 20000;
    char *b = malloc(big);
    memcpy(b, "GET / HTTP/1.1\r\nX: ", 19);
    memset(b + 19, 'a', big - 19);
    IS(pw_http_parse_request(b, big, &req, NULL), PW_EHTTP_HEAD_TOOBIG, "limits: default 8192-byte head limit");
    IS(pw_http_parse_request(b, 8191, &req, NULL), PW_EAGAIN, "limits: 8191 incomplete bytes still wait");
    /* more fields than the array holds, with a limit above the array bound */
    size_t k = 0;
    k += (size_t)sprintf(b, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 120; i++)
        k += (size_t)sprintf(b + k, "H%d: v\r\n", i);
    k += (size_t)sprintf(b + k, "\r\n");
    lim.max_head = 20000;
    lim.max_headers = 1000;
    IS(pw_http_parse_request(b, k, &req, &lim), PW_EHTTP_TOO_MANY_HEADERS,
       "limits: max_headers is clamped to PW_HTTP_MAX_HEADERS (100)");
    lim.max_headers = 0;
    IS(pw_http_parse_request(b, k, &req, &lim), PW_EHTTP_TOO_MANY_HEADERS, "limits: default 64 headers");
    free(b);
}

static void test_responses(void)
{
    struct pw_http_resp r;
    const char *s = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    IS(pw_http_parse_response(s, strlen(s), &r, NULL), (int)strlen(s), "response: 101 parsed");
    OK(r.status == 101 && r.minor == 1 && pw_str_eq(r.reason, "Switching Protocols") && r.nheaders == 3,
       "response: status, version, reason, headers");
    split_every_byte(s, strlen(s), (int)strlen(s), 1, "101 response");
    s = "HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 12\r\n\r\nbody...";
    OK(pw_http_parse_response(s, strlen(s), &r, NULL) > 0 && r.minor == 0 && r.content_length == 12,
       "response: HTTP/1.0 with Content-Length");
    s = "HTTP/1.1 204 \r\n\r\n";
    OK(pw_http_parse_response(s, strlen(s), &r, NULL) > 0 && r.status == 204 && r.reason.len == 0,
       "response: empty reason");
    s = "HTTP/1.1 200\r\nTransfer-Encoding: chunked\r\n\r\n";
    OK(pw_http_parse_response(s, strlen(s), &r, NULL) > 0 && r.status == 200 && r.chunked,
       "response: no reason at all, chunked reported");
    s = "HTTP/1.1 404 Not\tFound \xe2\x9c\x97\r\n\r\n";
    OK(pw_http_parse_response(s, strlen(s), &r, NULL) > 0 && r.reason.len == 13, "response: reason with HTAB and obs-text");
    static const struct bad cases[] = {
        {"HTTP/1.1 20 OK\r\n\r\n", PW_EHTTP_STATUS, "two-digit status"},
        {"HTTP/1.1 2000 OK\r\n\r\n", PW_EHTTP_STATUS, "four-digit status"},
        {"HTTP/1.1 600 X\r\n\r\n", PW_EHTTP_STATUS, "status 600"},
        {"HTTP/1.1 099 X\r\n\r\n", PW_EHTTP_STATUS, "status 099"},
        {"HTTP/1.1  200 OK\r\n\r\n", PW_EHTTP_STATUS, "two spaces"},
        {"HTTP/1.1 200 O\x01K\r\n\r\n", PW_EHTTP_STATUS, "control char in reason"},
        {"HTTP/1.1 200 OK\rX: y\r\n\r\n", PW_EHTTP_LINE, "bare CR after status line"},
        {"HTTP/2 200\r\n\r\n", PW_EHTTP_VERSION, "HTTP/2"},
        {"ICY 200 OK\r\n\r\n", PW_EHTTP_VERSION, "not HTTP"},
        {"HTTP/1.1 200 OK\r\nX : y\r\n\r\n", PW_EHTTP_HEADER_NAME, "space before colon"},
        {"HTTP/1.1 200 OK\r\nX: y\r\n z\r\n\r\n", PW_EHTTP_OBS_FOLD, "obs-fold"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", PW_EHTTP_CONTENT_LENGTH, "two lengths"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", PW_EHTTP_TE, "gzip coding"},
        {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n", PW_EHTTP_TE_CL, "TE and CL"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int rc = pw_http_parse_response(cases[c].in, strlen(cases[c].in), &r, NULL);
        OK(rc == cases[c].err, "response refused: %s -> %s (got %s)", cases[c].name, pw_errname(cases[c].err),
           pw_errname(rc));
    }
}

/* STYLE.md: input right before a PROT_NONE page, every prefix parsed, so an
 * over-read of even one byte crashes the test. */
static void test_guard_page(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, (size_t)pg * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    OK(m != MAP_FAILED && mprotect(m + 2 * pg, (size_t)pg, PROT_NONE) == 0, "guard page: mapped");
    char *end = m + 2 * pg;
    const char *inputs[] = {
        browser_ws, curl_post,
        "GET / HTTP/1.1\nHost: a\n\n",
        "GET / HTTP/1.1\r\nHost: a\r\n\r",
        "GET /a?b=%zz HTTP/1.1\r\nHost: a\r\nX:\r\n\r\n",
        "HTTP/1.1 200 OK\r\n\r\n",
        "HTTP/1.1 101\r\nUpgrade: websocket\r\n\r\n",
        "GET http://h HTTP/1.0\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n",
        "\r\n\r\n\r",
    };
    size_t prefixes = 0;
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        size_t n = strlen(inputs[i]);
        for (size_t k = 0; k <= n; k++) {
            char *p = end - k;
            memcpy(p, inputs[i], k);
            struct pw_http_req req;
            struct pw_http_resp resp;
            pw_http_parse_request(p, k, &req, NULL);
            pw_http_parse_response(p, k, &resp, NULL);
            struct pw_str q = {p, k};
            char out[64];
            pw_http_query_get(q, "b", out, sizeof out);
            pw_http_list_has(q, "websocket");
            prefixes++;
        }
    }
    OK(prefixes > 500, "guard page: %zu prefixes parsed flush against a PROT_NONE page without a crash", prefixes);
    munmap(m, (size_t)pg * 3);
}

static void test_helpers(void)
{
    char out[16];
    struct pw_str q = {"since=41&lastEventId=a%2Fb+c&flag&e=&token=x%3d&since=99", 56};
    IS(pw_http_query_get(q, "since", out, sizeof out), 2, "query_get: first match wins");
    STREQ(out, "41", "query_get: value");
    IS(pw_http_query_get(q, "lastEventId", out, sizeof out), 5, "query_get: %%-decoding and + as space");
    STREQ(out, "a/b c", "query_get: decoded value");
    IS(pw_http_query_get(q, "flag", out, sizeof out), 0, "query_get: key without '=' has the empty value");
    IS(pw_http_query_get(q, "e", out, sizeof out), 0, "query_get: empty value");
    IS(pw_http_query_get(q, "token", out, sizeof out), 2, "query_get: lower-case hex escape");
    IS(pw_http_query_get(q, "Since", out, sizeof out), -1, "query_get: keys are case-sensitive");
    IS(pw_http_query_get(q, "sinc", out, sizeof out), -1, "query_get: no prefix match");
    IS(pw_http_query_get(q, "lastEventId", out, 5), PW_ETOOBIG, "query_get: does not fit");
    IS(pw_http_query_get(q, "lastEventId", out, 6), 5, "query_get: fits exactly with the NUL");
    struct pw_str bad1 = {"a=%4", 4}, bad2 = {"a=%g0", 5}, bad3 = {"a=%00", 5}, none = {"", 0};
    IS(pw_http_query_get(bad1, "a", out, sizeof out), PW_EINVAL, "query_get: truncated escape");
    IS(pw_http_query_get(bad2, "a", out, sizeof out), PW_EINVAL, "query_get: non-hex escape");
    IS(pw_http_query_get(bad3, "a", out, sizeof out), PW_EINVAL, "query_get: %%00 refused");
    IS(pw_http_query_get(none, "a", out, sizeof out), -1, "query_get: empty query");
    struct pw_str v = {" keep-alive ,\tUpgrade,,x", 24};
    OK(pw_http_list_has(v, "upgrade") && pw_http_list_has(v, "keep-alive") && pw_http_list_has(v, "x"),
       "list_has: OWS around elements ignored");
    OK(!pw_http_list_has(v, "keep") && !pw_http_list_has(v, ""), "list_has: no partial or empty match");
    struct pw_str w = {"WebSocket", 9};
    OK(pw_str_ieq(w, "websocket") && !pw_str_eq(w, "websocket") && pw_str_eq(w, "WebSocket")
           && !pw_str_ieq(w, "websockets"),
       "str_ieq / str_eq");
}

/* Feeds s in two pieces cut at `cut`; returns the final rc, the body in
 * out and the bytes of s used in *used. */
static int chunked_run(const char *s, size_t n, size_t cut, struct pw_buf *out, size_t *used)
{
    struct pw_http_chunked c;
    pw_http_chunked_init(&c);
    pw_buf_reset(out);
    size_t u1 = 0, u2 = 0;
    int rc = pw_http_chunked_feed(&c, (const uint8_t *)s, cut, out, &u1);
    if (rc == 0)
        rc = pw_http_chunked_feed(&c, (const uint8_t *)s + cut, n - cut, out, &u2);
    *used = u1 + u2;
    return rc;
}

static void test_chunked(void)
{
    struct pw_buf out;
    pw_buf_init(&out, 0);
    size_t used = 0;
    const char *s = "5\r\nhello\r\n6;name=\"v\";x\r\n world\r\nA \t;e\r\n0123456789\r\n0\r\nX-Sum: 1\r\n\r\nNEXT";
    size_t n = strlen(s);
    int bad = -1;
    for (size_t cut = 0; cut <= n; cut++) {
        int rc = chunked_run(s, n, cut, &out, &used);
        if (rc != 1 || used != n - 4 || out.len != 21 || memcmp(out.p, "hello world0123456789", 21) != 0) {
            bad = (int)cut;
            break;
        }
    }
    OK(bad < 0, "chunked: sizes, extensions, BWS, trailer; same at every split (first bad %d)", bad);
    struct pw_http_chunked c;
    pw_http_chunked_init(&c);
    pw_buf_reset(&out);
    for (size_t i = 0; i < n - 4; i++) {
        int rc = pw_http_chunked_feed(&c, (const uint8_t *)s + i, 1, &out, &used);
        if (rc != (i == n - 5) || used != 1)
            bad = (int)i;
    }
    OK(bad < 0 && out.len == 21, "chunked: one byte at a time, done exactly at the final LF");
    IS(pw_http_chunked_feed(&c, (const uint8_t *)"x", 1, &out, &used), 1, "chunked: after the end it stays done");
    IS(used, 0, "chunked: and uses nothing more");
    s = "0\r\n\r\n";
    OK(chunked_run(s, strlen(s), 0, &out, &used) == 1 && out.len == 0 && used == 5, "chunked: empty body");
    static const struct bad cases[] = {
        {"\r\n", PW_EHTTP_CHUNKED, "no size digits"},
        {"g\r\n", PW_EHTTP_CHUNKED, "non-hex size"},
        {"-1\r\n", PW_EHTTP_CHUNKED, "negative size"},
        {"0x5\r\n", PW_EHTTP_CHUNKED, "0x prefix"},
        {"1000000000000000\r\n", PW_EHTTP_CHUNKED, "16 hex digits"},
        {"5\nhello\r\n0\r\n\r\n", PW_EHTTP_CHUNKED, "bare LF after the size"},
        {"5 x\r\n", PW_EHTTP_CHUNKED, "junk after the size"},
        {"5;a\x01\r\n", PW_EHTTP_CHUNKED, "control char in an extension"},
        {"5;a\nhello", PW_EHTTP_CHUNKED, "bare LF in an extension"},
        {"5\r\nhelloX\r\n", PW_EHTTP_CHUNKED, "data longer than its size"},
        {"5\r\nhello\n0\r\n\r\n", PW_EHTTP_CHUNKED, "bare LF after data"},
        {"5\r\nhello\r\r", PW_EHTTP_CHUNKED, "CR CR after data"},
        {"0\r\nX : v\r\n\r\n", PW_EHTTP_CHUNKED, "space before colon in a trailer"},
        {"0\r\nX: v\x01\r\n\r\n", PW_EHTTP_CHUNKED, "control char in a trailer"},
        {"0\r\n v\r\n\r\n", PW_EHTTP_CHUNKED, "folded trailer"},
        {"0\r\nX: v\n\r\n", PW_EHTTP_CHUNKED, "bare LF after a trailer"},
        {"0\r\n\rX", PW_EHTTP_CHUNKED, "bare CR at the end"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int rc = chunked_run(cases[k].in, strlen(cases[k].in), 0, &out, &used);
        OK(rc == cases[k].err, "chunked refused: %s (got %s)", cases[k].name, pw_errname(rc));
    }
    char *big = malloc(6000);
    memset(big, 'a', 6000);
    memcpy(big, "5;", 2);
    IS(chunked_run(big, 6000, 0, &out, &used), PW_EHTTP_CHUNKED, "chunked: a 4 KiB size line is the limit");
    memcpy(big, "0\r\nX: ", 6);
    IS(chunked_run(big, 6000, 0, &out, &used), PW_EHTTP_CHUNKED, "chunked: a 4 KiB trailer section is the limit");
    free(big);
    s = "8\r\n12345678\r\n0\r\n\r\n";
    out.max = 4;
    pw_http_chunked_init(&c);
    pw_buf_reset(&out);
    IS(pw_http_chunked_feed(&c, (const uint8_t *)s, strlen(s), &out, &used), PW_ETOOBIG,
       "chunked: the output buffer's cap bounds the body");
    IS(pw_http_chunked_feed(&c, (const uint8_t *)"0\r\n\r\n", 5, &out, &used), PW_ETOOBIG, "chunked: errors are sticky");
    pw_buf_free(&out);
    STREQ(pw_errrule(PW_EHTTP_CHUNKED), "RFC 9112 §7.1", "chunked: error names RFC 9112 §7.1");
}

int main(void)
{
    test_chunked();
    test_browser_upgrade();
    test_curl_post();
    test_request_forms();
    test_request_errors();
    test_limits();
    test_responses();
    test_guard_page();
    test_helpers();
    return tap_done();
}
