/* ws_handshake.h — the RFC 6455 opening handshake (§4), pure.
 *
 * Checks a parsed request (server side, §4.2.1) or response (client side,
 * §4.1) against every rule and returns 0 or the PW_EHS_* code of the first
 * rule broken (pw_errrule names the section).  No I/O, no allocation.
 * Every pw_str handed back is a slice of the caller's input (the request or
 * response buffer, or the header value passed in) and lives as long as it.
 */
#ifndef PW_WS_HANDSHAKE_H
#define PW_WS_HANDSHAKE_H

#include <stddef.h>

#include "http1.h"
#include "pw_err.h"

#define PW_HS_ERRORS(X)                                                        \
    X(HS_KEY_B64, -400, "RFC 6455 §4.2.1 item 5", "Sec-WebSocket-Key is not valid base64") \
    X(HS_KEY_LEN, -401, "RFC 6455 §4.2.1 item 5", "Sec-WebSocket-Key does not decode to 16 bytes") \
    X(HS_METHOD, -402, "RFC 6455 §4.2.1 item 1", "method is not GET")           \
    X(HS_VERSION_HTTP, -403, "RFC 6455 §4.2.1 item 1", "HTTP version below 1.1") \
    X(HS_HOST, -404, "RFC 6455 §4.2.1 item 2", "Host header missing, empty or repeated")           \
    X(HS_UPGRADE, -405, "RFC 6455 §4.2.1 item 3", "Upgrade header does not include \"websocket\"") \
    X(HS_CONNECTION, -406, "RFC 6455 §4.2.1 item 4", "Connection header does not include \"Upgrade\"") \
    X(HS_KEY_MISSING, -407, "RFC 6455 §4.2.1 item 5", "Sec-WebSocket-Key missing or repeated") \
    X(HS_WS_VERSION, -408, "RFC 6455 §4.2.1 item 6", "Sec-WebSocket-Version is not 13") \
    X(HS_STATUS, -409, "RFC 6455 §4.1", "status is not 101 Switching Protocols") \
    X(HS_ACCEPT, -410, "RFC 6455 §4.1", "Sec-WebSocket-Accept does not match the key") \
    X(HS_PROTOCOL, -411, "RFC 6455 §4.1", "server chose a subprotocol the client did not offer") \
    X(HS_EXTENSION, -412, "RFC 6455 §4.1", "server chose an extension the client did not offer") \
    X(HS_EXT_SYNTAX, -413, "RFC 6455 §9.1", "malformed Sec-WebSocket-Extensions header") \
    X(HS_PROTO_SYNTAX, -414, "RFC 6455 §4.1", "malformed Sec-WebSocket-Protocol header") \
    X(HS_TARGET, -415, "RFC 6455 §4.2.1 item 1", "request target is not a path (origin-form) or an http(s) URI") \
    X(HS_RESP_UPGRADE, -416, "RFC 6455 §4.1", "Upgrade header is not \"websocket\"") \
    X(HS_RESP_CONNECTION, -417, "RFC 6455 §4.1", "Connection header does not include \"Upgrade\"") \
    X(HS_ACCEPT_MISSING, -418, "RFC 6455 §4.1", "Sec-WebSocket-Accept missing or repeated")

enum { PW_HS_ERRORS(PW_ERR_ENUM) };

#define PW_WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define PW_WS_KEY_LEN 24    /* base64 of 16 bytes */
#define PW_WS_ACCEPT_LEN 28 /* base64 of a SHA-1 */

/* out gets the 28-char accept value + NUL.  Any key bytes are hashed
 * (lenient); use pw_ws_key_check first for strictness.  0 or PW_EINVAL. */
int pw_ws_accept_key(const char *key, size_t len, char out[PW_WS_ACCEPT_LEN + 1]);
/* 0 if key is base64 that decodes to exactly 16 bytes, else PW_EHS_KEY_*.
 * Strict RFC 4648 §4: standard alphabet, length a multiple of 4, '=' only as
 * final padding, no whitespace, and the unused bits before the padding zero
 * (canonical encoding).  PW_EHS_KEY_B64 for those, PW_EHS_KEY_LEN for valid
 * base64 of another length (including the empty string). */
int pw_ws_key_check(const char *key, size_t len);
/* A fresh random key from OpenSSL's RAND_bytes.  0 or PW_EIO. */
int pw_ws_gen_key(char out[PW_WS_KEY_LEN + 1]);

/* Extensions (§9.1): "permessage-deflate; client_max_window_bits, x; a=1". */
#define PW_WS_MAX_EXTS 8
#define PW_WS_MAX_PARAMS 8
struct pw_ws_ext_param {
    struct pw_str name;
    /* len 0 when the parameter has no value (an empty value is a syntax
     * error, so len 0 always means "no value").  For a quoted-string the
     * slice is what lies between the quotes; when that holds quoted-pairs
     * (backslashes) `escaped` is 1 and pw_ws_ext_value() gives the text. */
    struct pw_str value;
    int quoted, escaped;
};
struct pw_ws_ext {
    struct pw_str name;
    size_t nparams;
    struct pw_ws_ext_param params[PW_WS_MAX_PARAMS];
};
/* Parses one header value, appending to exts[n..max).  Returns the new
 * count or PW_EHS_EXT_SYNTAX / PW_ETOOBIG (more than max extensions or
 * PW_WS_MAX_PARAMS parameters).  Slices point into value.  Grammar (§9.1,
 * with the implied whitespace of RFC 2616 #rules): extension = token
 * *( OWS ";" OWS token [ OWS "=" OWS ( token / quoted-string ) ] ), the
 * unescaped quoted-string being a token too; elements separated by commas,
 * empty elements ignored, but at least one extension per header.  Call it
 * once per Sec-WebSocket-Extensions field.  On error exts[n..max) is
 * unspecified. */
int pw_ws_ext_parse(struct pw_str value, struct pw_ws_ext *exts, size_t n, size_t max);
/* The value of a parameter with quoted-pairs resolved, NUL-terminated in out.
 * Returns its length, -1 if the parameter has no value, PW_ETOOBIG if it does
 * not fit in outsz-1 bytes. */
int pw_ws_ext_value(const struct pw_ws_ext_param *p, char *out, size_t outsz);

/* Subprotocols: 1#token (comma-separated, empty elements ignored, at least
 * one), appended to out[n..max).  Returns the new count, PW_EHS_PROTO_SYNTAX
 * (bad token, no element, or a name repeated: §4.1 requires unique names)
 * or PW_ETOOBIG.  Names compare case-sensitively. */
#define PW_WS_MAX_PROTOS 16
int pw_ws_proto_parse(struct pw_str value, struct pw_str *out, size_t n, size_t max);

/* What a valid client request asked for (slices into the request). */
struct pw_ws_request_info {
    struct pw_str key;
    struct pw_str origin;      /* len 0 if absent */
    size_t nprotos;
    struct pw_str protos[PW_WS_MAX_PROTOS];
    size_t nexts;
    struct pw_ws_ext exts[PW_WS_MAX_EXTS];
};
/* §4.2.1, checked in this order: method GET (item 1), HTTP/1.1 or higher,
 * target in origin-form ("/path?query") or absolute http/https URI and no
 * fragment, exactly one non-empty Host (item 2), Upgrade lists "websocket"
 * and Connection lists "Upgrade" (case-insensitive tokens, over every field
 * of that name; items 3, 4), exactly one Sec-WebSocket-Key that passes
 * pw_ws_key_check (item 5), exactly one Sec-WebSocket-Version equal to "13"
 * (item 6), then the optional Origin (captured, not judged),
 * Sec-WebSocket-Protocol and Sec-WebSocket-Extensions (parsed, every field).
 * Returns 0 or the first error.  On PW_EHS_WS_VERSION a server answers 426
 * with Sec-WebSocket-Version: 13; on other errors (PW_ETOOBIG included:
 * more protocols or extensions than the arrays hold) 400.  info is zeroed
 * first and only meaningful on success. */
int pw_ws_check_request(const struct pw_http_req *req, struct pw_ws_request_info *info);

/* §4.1: the response to a request sent with `key` (NUL-terminated, hashed as
 * given), offering protos/exts.  Checks: status 101, Upgrade is "websocket"
 * (case-insensitive; every element of every field), Connection lists
 * "Upgrade", exactly one Sec-WebSocket-Accept equal to the accept value of
 * key, every extension named in Sec-WebSocket-Extensions is among
 * offered_exts (names compared case-insensitively) and a
 * Sec-WebSocket-Protocol, if any, is one field with one token among
 * offered_protos (case-sensitive).  offered_protos == NULL (or offered_exts
 * == NULL) means "the offer is unknown": that header is checked for syntax
 * only; a non-NULL pointer with a count of 0 means nothing was offered.
 * Returns 0 or the first error (PW_EHS_STATUS, PW_EHS_RESP_UPGRADE,
 * PW_EHS_RESP_CONNECTION, PW_EHS_ACCEPT_MISSING, PW_EHS_ACCEPT, PW_EHS_EXT_SYNTAX,
 * PW_EHS_EXTENSION, PW_EHS_PROTO_SYNTAX, PW_EHS_PROTOCOL, in that order);
 * info is zeroed first. */
struct pw_ws_response_info {
    struct pw_str protocol;    /* chosen subprotocol, len 0 if none */
    size_t nexts;
    struct pw_ws_ext exts[PW_WS_MAX_EXTS];
};
int pw_ws_check_response(const struct pw_http_resp *resp, const char *key,
                         const char *const *offered_protos, size_t nprotos,
                         const char *const *offered_exts, size_t nexts,
                         struct pw_ws_response_info *info);

#endif
