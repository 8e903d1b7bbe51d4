/* http1.h — a small strict HTTP/1.1 head parser (RFC 9112), zero-copy.
 *
 * Contract (picohttpparser style):
 *   int n = pw_http_parse_request(buf, len, &req, &limits);
 *   n > 0      the head is complete and n bytes long (body, if any, follows);
 *   PW_EAGAIN  the head is incomplete: call again with more bytes (the parser
 *              keeps no state; the caller re-parses the whole buffer);
 *   n < 0      another PW_EHTTP_* error: the message is malformed or over a
 *              limit; pw_strerror/pw_errrule say which rule.
 * Errors are reported as soon as the bytes so far prove them, even while the
 * head is incomplete.  All slices in `req` point into `buf` and live as long
 * as it does (one exception: `path` of an absolute-form target without a path
 * is the static string "/").  `req`/`resp` are only meaningful when n > 0.
 * Limits are checked before anything is trusted: a head bigger than
 * max_head is PW_EHTTP_HEAD_TOOBIG even while incomplete, and the header
 * that would be one too many is refused before its value is looked at.
 *
 * What is accepted (everything else is refused with the rule broken):
 *  - request line: method = token; one SP; target in origin-form ("/..."),
 *    absolute-form ("scheme://...") or asterisk-form ("*", OPTIONS only),
 *    made of visible ASCII without '#' (authority-form is refused: pushwire
 *    is no proxy); one SP; exactly "HTTP/1.0" or "HTTP/1.1".
 *  - status line: "HTTP/1.0" or "HTTP/1.1", SP, three digits (1xx..5xx),
 *    SP and a reason phrase of VCHAR/SP/HTAB/obs-text (the SP and reason may
 *    be missing).
 *  - empty lines before the request line are skipped (RFC 9112 §2.2 SHOULD).
 *  - line ends: CRLF.  A bare LF is TOLERATED as a line end (RFC 9112 §2.2
 *    allows it, nginx and curl do it, and requests typed into files have
 *    them); a CR not followed by LF is an error (PW_EHTTP_LINE).
 *  - header lines: name = token immediately followed by ':' (no whitespace
 *    before the colon), value without CTLs except HTAB (obs-text allowed),
 *    leading/trailing SP/HTAB trimmed; a line starting with SP/HTAB
 *    (obs-fold) is refused.
 *  - Content-Length: 1 to 18 digits, at most one field (even identical
 *    duplicates are refused).  Transfer-Encoding: only a single field whose
 *    value is "chunked" (reported in `chunked`; the caller decides to refuse
 *    with 501 or decode); any other coding, TE in an HTTP/1.0 request, or TE
 *    together with Content-Length is refused.
 *  - requests: HTTP/1.1 needs exactly one Host field; a second Host is
 *    refused in 1.0 too; its value must be uri-host [":" port] (RFC 3986
 *    characters; it may be empty).
 */
#ifndef PW_HTTP1_H
#define PW_HTTP1_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pw_err.h"

#define PW_HTTP_ERRORS(X)                                                      \
    X(HTTP_HEAD_TOOBIG, -300, "RFC 9112 §2.3 (431)", "message head larger than the limit") \
    X(HTTP_TOO_MANY_HEADERS, -301, "RFC 9112 §5 (431)", "too many header fields") \
    X(HTTP_METHOD, -302, "RFC 9112 §3.1", "malformed method")                 \
    X(HTTP_TARGET, -303, "RFC 9112 §3.2", "malformed request target")         \
    X(HTTP_VERSION, -304, "RFC 9112 §2.3", "malformed or unsupported HTTP version") \
    X(HTTP_LINE, -305, "RFC 9112 §2.2", "bare CR or malformed line ending")   \
    X(HTTP_HEADER_NAME, -306, "RFC 9112 §5.1", "malformed header field name") \
    X(HTTP_HEADER_VALUE, -307, "RFC 9112 §5.5", "invalid character in header field value") \
    X(HTTP_OBS_FOLD, -308, "RFC 9112 §5.2", "obsolete line folding is not accepted") \
    X(HTTP_STATUS, -309, "RFC 9112 §4", "malformed status line")              \
    X(HTTP_CONTENT_LENGTH, -310, "RFC 9112 §6.3", "invalid or conflicting Content-Length") \
    X(HTTP_TE, -311, "RFC 9112 §6.1", "unsupported Transfer-Encoding")        \
    X(HTTP_HOST, -312, "RFC 9112 §3.2", "missing, repeated or invalid Host header") \
    X(HTTP_TE_CL, -313, "RFC 9112 §6.3", "both Transfer-Encoding and Content-Length") \
    X(HTTP_CHUNKED, -314, "RFC 9112 §7.1", "malformed chunked body")

enum { PW_HTTP_ERRORS(PW_ERR_ENUM) };

struct pw_str {
    const char *p;
    size_t len;
};

struct pw_http_header {
    struct pw_str name;
    struct pw_str value; /* leading/trailing whitespace trimmed */
};

#define PW_HTTP_MAX_HEADERS 100 /* hard array bound; limits.max_headers <= this */

struct pw_http_limits {
    size_t max_head;      /* bytes, start line + headers + final CRLF (default 8192) */
    size_t max_headers;   /* count (default 64, at most PW_HTTP_MAX_HEADERS) */
};
/* A NULL limits pointer, or 0 in a field, means the default. */
#define PW_HTTP_LIMITS_DEFAULT { 8192, 64 }

struct pw_http_req {
    struct pw_str method;
    struct pw_str target;   /* as sent: "/ws/chan?since=3" */
    struct pw_str path;     /* target before '?' */
    struct pw_str query;    /* after '?', without it; len 0 if none */
    int minor;              /* HTTP/1.<minor> (0 or 1) */
    size_t nheaders;
    struct pw_http_header headers[PW_HTTP_MAX_HEADERS];
    long long content_length; /* -1 when absent */
    int chunked;              /* Transfer-Encoding: chunked */
};

struct pw_http_resp {
    int minor;
    int status;
    struct pw_str reason;
    size_t nheaders;
    struct pw_http_header headers[PW_HTTP_MAX_HEADERS];
    long long content_length; /* -1 when absent */
    int chunked;              /* Transfer-Encoding: chunked */
};

int pw_http_parse_request(const char *buf, size_t len, struct pw_http_req *req,
                          const struct pw_http_limits *lim);
int pw_http_parse_response(const char *buf, size_t len, struct pw_http_resp *resp,
                           const struct pw_http_limits *lim);

/* Header lookup, case-insensitive name.  Returns the first match or NULL;
 * *count (if not NULL) gets how many fields had that name. */
const struct pw_str *pw_http_header_get(const struct pw_http_header *h, size_t n,
                                        const char *name, int *count);
/* 1 if the comma-separated list `value` contains `token` (case-insensitive,
 * whitespace around elements ignored), as for Connection: keep-alive, Upgrade. */
int pw_http_list_has(struct pw_str value, const char *token);
/* Query string: finds the first `key` (compared as sent, case-sensitive;
 * pairs separated by '&', a key without '=' has the empty value) and decodes
 * its value into out (NUL terminated, at most outsz-1 bytes) the
 * application/x-www-form-urlencoded way: %XX is a byte, '+' is a space.
 * Returns the decoded length, -1 if absent, PW_ETOOBIG if it does not fit,
 * PW_EINVAL on a bad %-escape or a %00 (it would cut the C string). */
int pw_http_query_get(struct pw_str query, const char *key, char *out, size_t outsz);
/* Case-insensitive compare of a slice with a C string. */
int pw_str_ieq(struct pw_str s, const char *c);
int pw_str_eq(struct pw_str s, const char *c);

/* Chunked transfer coding (RFC 9112 §7.1), incremental: feed the body bytes
 * as they come, split anywhere; the chunk data is appended to `out`, whose
 * own cap bounds the body (PW_ETOOBIG: answer 413).  Strict: chunk sizes are
 * hex digits (at most 15 of them), every line ends with CRLF (no bare LF
 * here: a framing disagreement is how requests get smuggled), extensions
 * and trailer fields are checked for CTLs and discarded, the size line with
 * its extensions and the trailer section are limited to 4096 bytes each.
 *   rc = pw_http_chunked_feed(&c, in, len, &out, &used);
 *   rc == 0   all of in was used, more is needed;
 *   rc == 1   the body is complete: `used` bytes of in belonged to it, the
 *             rest is the next message;
 *   rc < 0    PW_EHTTP_CHUNKED, PW_ETOOBIG or PW_ENOMEM (sticky).
 * The state is caller-owned; zero it with pw_http_chunked_init. */
struct pw_http_chunked {
    /* private */
    int state, err;
    uint64_t left;   /* data bytes left in this chunk, or the size so far */
    size_t line;     /* bytes in the current size/trailer line or section */
    int ndigits;
};
void pw_http_chunked_init(struct pw_http_chunked *c);
int pw_http_chunked_feed(struct pw_http_chunked *c, const uint8_t *in, size_t len,
                         struct pw_buf *out, size_t *used);

#endif
