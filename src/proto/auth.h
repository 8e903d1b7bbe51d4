/* auth.h — the pure parts of deciding who may connect (pushwire-serve(1)
 * SECURITY, docs/PROTOCOL.md#access): channel globs, Origin patterns,
 * constant-time token comparison, IP addresses and CIDR blocks, the client
 * address behind X-Forwarded-For, token buckets, and the redaction of
 * ?token= in logged request targets.  No I/O, no clock: callers pass the
 * time.  Error codes -1050..-1099.
 */
#ifndef PW_AUTH_H
#define PW_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "http1.h"
#include "pw_err.h"

#define PW_AUTH_ERRORS(X)                                                      \
    X(AUTH_ADDR, -1050, NULL, "not an IPv4 or IPv6 address")                    \
    X(AUTH_CIDR, -1051, NULL, "not an address or a CIDR block (ADDR/BITS)")     \
    X(AUTH_ORIGIN, -1052, "RFC 6454 §7", "not an origin (scheme://host[:port], a leading *. in host for any subdomain)") \
    X(AUTH_TOKEN, -1053, "RFC 6750 §2.1", "a token must be 1-4096 characters of A-Z a-z 0-9 - . _ ~ + / then any '='") \
    X(AUTH_XFF, -1054, "RFC 7239 §5.2", "malformed X-Forwarded-For")

enum { PW_AUTH_ERRORS(PW_ERR_ENUM) };

/* ---- channel globs (the JWT claim's subscribe/publish lists) ----
 * '*' matches any run of characters, empty included (dots too: "news.*"
 * matches "news.a.b"); '?' matches one character; every other byte matches
 * itself.  There is no escape: channel names cannot hold '*' or '?'.
 * Linear in practice, O(plen * n) at worst: no recursion. */
int pw_glob_match(const char *pat, size_t plen, const char *s, size_t n);

/* ---- origins (--origin) ----
 * A pattern is an origin as browsers send it, "scheme://host[:port]" (scheme
 * and host are compared without regard to case, the port as written), or
 * one whose host starts with "*." which stands for one or more labels:
 * scheme https with the host "*.example.com" matches "https://a.example.com"
 * and "https://a.b.example.com", not "https://example.com".  The literal
 * "null" (sandboxed frames, file: pages) is a pattern too.  No path, no
 * user info, no trailing slash. */
#define PW_ORIGIN_MAX 256
/* 0, or PW_EAUTH_ORIGIN. */
int pw_origin_pattern_check(const char *pat, size_t n);
/* 1 if origin[0..n) is allowed by pattern pat[0..plen) (checked or not). */
int pw_origin_match(const char *pat, size_t plen, const char *origin, size_t n);

/* ---- tokens ---- */
#define PW_TOKEN_MAX 4096
/* 0 if t[0..n) is an RFC 6750 b64token (what fits a Bearer header and,
 * percent-encoded where needed, a query), else PW_EAUTH_TOKEN. */
int pw_token_check(const char *t, size_t n);
/* 1 if a[0..alen) equals b[0..blen), in time that depends on neither the
 * bytes nor where they differ: both are hashed (SHA-256) and the digests
 * compared with CRYPTO_memcmp, so the lengths do not leak either. */
int pw_token_eq(const void *a, size_t alen, const void *b, size_t blen);

/* ---- addresses ----
 * Every address is 16 bytes: IPv6 as is, IPv4 as ::ffff:a.b.c.d, so one
 * table and one CIDR check serve both. */
struct pw_cidr {
    uint8_t addr[16];   /* the block's first address (host bits cleared) */
    uint8_t bits;       /* prefix length over the 128 bits */
};
/* "192.0.2.7", "2001:db8::1", "[2001:db8::1]": 0 or PW_EAUTH_ADDR. */
int pw_ip_parse(const char *s, size_t n, uint8_t out[16]);
/* 1 for an IPv4 address (::ffff:0:0/96). */
int pw_ip_is_v4(const uint8_t a[16]);
/* "192.0.2.7" or "2001:db8::1" into out (NUL-terminated; 46 bytes suffice). */
void pw_ip_format(const uint8_t a[16], char *out, size_t outsz);
/* "10.0.0.0/8", "2001:db8::/32", or one address (all bits): 0 or
 * PW_EAUTH_CIDR.  Host bits set after the prefix are cleared (as nginx). */
int pw_cidr_parse(const char *s, size_t n, struct pw_cidr *out);
int pw_cidr_match(const struct pw_cidr *c, const uint8_t a[16]);
/* 1 if a is in any of the n blocks. */
int pw_cidr_any(const struct pw_cidr *c, size_t n, const uint8_t a[16]);

/* ---- X-Forwarded-For ----
 * The client behind trusted proxies, as nginx's real_ip_recursive: start at
 * the peer; while the address in hand is trusted, step to the next
 * X-Forwarded-For entry from the right (every X-Forwarded-For field of the
 * request, last field first).  The first untrusted address is the client;
 * when every entry is trusted, the leftmost one.  Entries are addresses,
 * optionally bracketed (IPv6) or with a :port (IPv4, bracketed IPv6),
 * separated by commas and optional whitespace.  An entry that is not an
 * address ends the walk: the client is then the trusted address that sent
 * it (what a proxy that was handed garbage is sure of).
 * Writes the client to out; returns the number of entries used (0: the
 * peer itself), or PW_EAUTH_XFF when the walk stopped at garbage. */
int pw_xff_client(const struct pw_http_header *h, size_t nh, const uint8_t peer[16],
                  const struct pw_cidr *trusted, size_t ntrusted, uint8_t out[16]);

/* ---- token buckets (--max-conn-rate, --max-pub-rate) ----
 * A bucket of `burst` tokens that refills at `rate` a second; each event
 * takes one.  Zeroed means "full, never used". */
struct pw_bucket {
    float tokens;       /* tokens left, as of `at` */
    uint64_t at;        /* the caller's monotonic clock, in ms; 0: never used */
};
/* Takes a token at time now_ms: 1, or 0 when the bucket is empty (then
 * *retry_s, if not NULL, is the whole seconds until a token is back, at
 * least 1).  rate <= 0 means no limit (always 1). */
int pw_bucket_take(struct pw_bucket *b, double rate, double burst, uint64_t now_ms,
                   unsigned *retry_s);
/* 1 if the bucket would be full at now_ms (it holds nothing worth keeping). */
int pw_bucket_full(const struct pw_bucket *b, double rate, double burst, uint64_t now_ms);

/* ---- logs ----
 * Copies a request target with the value of every query parameter named
 * `key` (lower case) or "access_" key replaced by "REDACTED": names in any
 * case, percent-encoded or not, parameters split at '&' and ';' (more than
 * the server takes: a secret sent under a name it does not take is still
 * kept out of the log).  Cut to fit out (always NUL-terminated; outsz >= 1).
 * Returns the length written. */
#define PW_REDACTED "REDACTED"
size_t pw_redact_query(const char *target, size_t n, const char *key, char *out, size_t outsz);

#endif
