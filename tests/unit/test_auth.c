/* test_auth.c — the pure parts of access control (auth.h): channel globs,
 * Origin patterns, token syntax and constant-time equality, addresses and
 * CIDR blocks, the client behind X-Forwarded-For, token buckets, and the
 * redaction of ?token= in logged targets. */
#include <stdlib.h>
#include <string.h>

#include "proto/auth.h"
#include "tap.h"

#define GLOB(p, s) pw_glob_match((p), strlen(p), (s), strlen(s))

static void test_glob(void)
{
    OK(GLOB("news.*", "news.a"), "glob: news.* matches news.a");
    OK(GLOB("news.*", "news."), "glob: * may be empty");
    OK(GLOB("news.*", "news.a.b"), "glob: * crosses dots");
    OK(!GLOB("news.*", "news"), "glob: news.* does not match news");
    OK(!GLOB("news.*", "newsx"), "glob: the dot is literal");
    OK(GLOB("chat.42", "chat.42") && !GLOB("chat.42", "chat.420"), "glob: no wildcard is an exact match");
    OK(GLOB("*", "anything") && GLOB("*", ""), "glob: * alone matches everything");
    OK(GLOB("a?c", "abc") && !GLOB("a?c", "ac"), "glob: ? is exactly one character");
    OK(GLOB("*.log.*", "x.log.y") && !GLOB("*.log.*", "x.logy"), "glob: stars on both sides");
    OK(GLOB("a*b*c", "aXbYbZc") && !GLOB("a*b*c", "aXbYbZ"), "glob: backtracking over repeated parts");
    OK(!GLOB("", "a") && GLOB("", ""), "glob: the empty pattern matches only the empty name");
    /* worst case stays bounded: a long run of stars against a long name */
    char pat[300], s[200];
    memset(pat, '*', 299);
    pat[299] = 0;
    pat[298] = 'b';
    memset(s, 'a', 199);
    s[199] = 0;
    OK(!GLOB(pat, s), "glob: 298 stars then b against 199 a's ends (no exponential backtracking)");
}

#define OCHK(p) pw_origin_pattern_check((p), strlen(p))
#define OM(p, o) pw_origin_match((p), strlen(p), (o), strlen(o))

static void test_origin(void)
{
    OK(OCHK("https://example.com") == 0, "origin: https://example.com is a pattern");
    OK(OCHK("http://127.0.0.1:8080") == 0, "origin: an address with a port");
    OK(OCHK("https://*.example.com") == 0, "origin: *.example.com");
    OK(OCHK("http://[::1]:3000") == 0, "origin: a bracketed IPv6 host");
    OK(OCHK("null") == 0, "origin: null is a pattern");
    IS(OCHK("*"), PW_EAUTH_ORIGIN, "origin: a bare * is refused (leave --origin out instead)");
    IS(OCHK("example.com"), PW_EAUTH_ORIGIN, "origin: no scheme is refused");
    IS(OCHK("https://example.com/"), PW_EAUTH_ORIGIN, "origin: a trailing slash is refused");
    IS(OCHK("https://example.com/x"), PW_EAUTH_ORIGIN, "origin: a path is refused");
    IS(OCHK("https://u@example.com"), PW_EAUTH_ORIGIN, "origin: user info is refused");
    IS(OCHK("https://a*.example.com"), PW_EAUTH_ORIGIN, "origin: * only as a whole leading label");
    IS(OCHK("https://*.[::1]"), PW_EAUTH_ORIGIN, "origin: no subdomains of an address");
    IS(OCHK("https://example.com:"), PW_EAUTH_ORIGIN, "origin: an empty port is refused");
    IS(OCHK("https://example.com:123456"), PW_EAUTH_ORIGIN, "origin: a six-digit port is refused");
    IS(OCHK("https://exa mple.com"), PW_EAUTH_ORIGIN, "origin: a space is refused");
    IS(OCHK("https://example..com"), PW_EAUTH_ORIGIN, "origin: an empty label is refused");
    OK(OM("https://example.com", "https://example.com"), "origin: exact match");
    OK(OM("https://example.com", "HTTPS://Example.COM"), "origin: scheme and host ignore case");
    OK(!OM("https://example.com", "http://example.com"), "origin: another scheme does not match");
    OK(!OM("https://example.com", "https://example.com:8443"), "origin: another port does not match");
    OK(!OM("https://example.com", "https://example.com.evil.net"), "origin: a longer host does not match");
    OK(OM("https://*.example.com", "https://a.example.com"), "origin: *. matches one label");
    OK(OM("https://*.example.com", "https://a.b.example.com"), "origin: *. matches several labels");
    OK(!OM("https://*.example.com", "https://example.com"), "origin: *. needs at least one label");
    OK(!OM("https://*.example.com", "https://evilexample.com"), "origin: *. does not match a host that only ends the same");
    OK(!OM("https://*.example.com", "https://a.example.com:444"), "origin: *. keeps the port");
    OK(!OM("https://*.example.com", "https://a..example.com"), "origin: an empty label does not match");
    OK(!OM("https://*.example.com", "https://x/y.example.com"), "origin: a slash in the labels does not match");
    OK(!OM("https://*.example.com", "https://u@a.example.com"), "origin: user info does not match");
    OK(OM("https://*.example.com:8443", "https://a.example.com:8443"), "origin: *. with a port");
    OK(OM("null", "null") && !OM("https://example.com", "null"), "origin: null matches only null");
}

static void test_token(void)
{
    OK(pw_token_check("abc-._~+/XYZ09==", 16) == 0, "token: the b64token characters and trailing =");
    IS(pw_token_check("", 0), PW_EAUTH_TOKEN, "token: empty is refused");
    IS(pw_token_check("a b", 3), PW_EAUTH_TOKEN, "token: a space is refused");
    IS(pw_token_check("a=b", 3), PW_EAUTH_TOKEN, "token: = only at the end");
    IS(pw_token_check("==", 2), PW_EAUTH_TOKEN, "token: only = is refused");
    IS(pw_token_check("a\r\nb", 4), PW_EAUTH_TOKEN, "token: CR LF is refused");
    IS(pw_token_check("a\0b", 3), PW_EAUTH_TOKEN, "token: NUL is refused");
    char *big = malloc(PW_TOKEN_MAX + 1);
    memset(big, 'a', PW_TOKEN_MAX + 1);
    OK(pw_token_check(big, PW_TOKEN_MAX) == 0 && pw_token_check(big, PW_TOKEN_MAX + 1) == PW_EAUTH_TOKEN,
       "token: at most %d characters", PW_TOKEN_MAX);
    free(big);
    OK(pw_token_eq("secret", 6, "secret", 6), "token: equal");
    OK(!pw_token_eq("secret", 6, "secreT", 6), "token: one byte differs");
    OK(!pw_token_eq("secret", 6, "secret2", 7), "token: a longer one differs");
    OK(!pw_token_eq("secret", 6, "", 0), "token: empty differs");
}

static int ip(const char *s, uint8_t a[16])
{
    return pw_ip_parse(s, strlen(s), a);
}

static void test_addr(void)
{
    uint8_t a[16];
    char txt[64];
    OK(ip("192.0.2.7", a) == 0 && pw_ip_is_v4(a) && a[12] == 192 && a[15] == 7, "ip: IPv4 is mapped into 16 bytes");
    pw_ip_format(a, txt, sizeof txt);
    STREQ(txt, "192.0.2.7", "ip: IPv4 formats back");
    OK(ip("2001:db8::1", a) == 0 && !pw_ip_is_v4(a), "ip: IPv6");
    pw_ip_format(a, txt, sizeof txt);
    STREQ(txt, "2001:db8::1", "ip: IPv6 formats back");
    OK(ip("[::1]", a) == 0 && a[15] == 1, "ip: a bracketed IPv6 address");
    OK(ip("::ffff:10.1.2.3", a) == 0 && pw_ip_is_v4(a), "ip: an IPv4-mapped IPv6 address is IPv4");
    IS(ip("[10.0.0.1]", a), PW_EAUTH_ADDR, "ip: brackets hold only IPv6");
    IS(ip("256.0.0.1", a), PW_EAUTH_ADDR, "ip: 256 is not an octet");
    IS(ip("example.com", a), PW_EAUTH_ADDR, "ip: a name is not an address");
    IS(ip("", a), PW_EAUTH_ADDR, "ip: empty");
    IS(pw_ip_parse("1.2.3.4\0x", 9, a), PW_EAUTH_ADDR, "ip: a NUL inside is refused");
    struct pw_cidr c;
#define CIDR(s) pw_cidr_parse((s), strlen(s), &c)
    OK(CIDR("10.0.0.0/8") == 0 && c.bits == 104, "cidr: 10.0.0.0/8 is 104 bits of the mapped space");
    OK(ip("10.200.3.4", a) == 0 && pw_cidr_match(&c, a), "cidr: 10.200.3.4 is in 10.0.0.0/8");
    OK(ip("11.0.0.1", a) == 0 && !pw_cidr_match(&c, a), "cidr: 11.0.0.1 is not");
    OK(ip("::a00:1", a) == 0 && !pw_cidr_match(&c, a), "cidr: an IPv6 address with the same low bits is not");
    OK(CIDR("192.168.1.77/24") == 0 && c.addr[15] == 0, "cidr: host bits are cleared");
    OK(CIDR("172.16.0.0/12") == 0 && ip("172.31.255.255", a) == 0 && pw_cidr_match(&c, a) &&
           ip("172.32.0.0", a) == 0 && !pw_cidr_match(&c, a),
       "cidr: /12 (a prefix that ends inside a byte)");
    OK(CIDR("127.0.0.1") == 0 && c.bits == 128, "cidr: one address is all bits");
    OK(CIDR("2001:db8::/32") == 0 && ip("2001:db8:ffff::1", a) == 0 && pw_cidr_match(&c, a), "cidr: IPv6 /32");
    OK(CIDR("0.0.0.0/0") == 0 && ip("8.8.8.8", a) == 0 && pw_cidr_match(&c, a) && ip("::1", a) == 0 &&
           !pw_cidr_match(&c, a),
       "cidr: 0.0.0.0/0 is every IPv4 address and no IPv6 one");
    OK(CIDR("::/0") == 0 && ip("::1", a) == 0 && pw_cidr_match(&c, a), "cidr: ::/0 is everything");
    IS(CIDR("10.0.0.0/33"), PW_EAUTH_CIDR, "cidr: /33 is too long for IPv4");
    IS(CIDR("::/129"), PW_EAUTH_CIDR, "cidr: /129 is too long");
    IS(CIDR("10.0.0.0/"), PW_EAUTH_CIDR, "cidr: an empty length");
    IS(CIDR("10.0.0.0/x"), PW_EAUTH_CIDR, "cidr: a length that is not a number");
    IS(CIDR("/8"), PW_EAUTH_CIDR, "cidr: no address");
    IS(CIDR("[::1]/128"), PW_EAUTH_CIDR, "cidr: no brackets");
#undef CIDR
}

/* the client behind proxies; trusted: 10.0.0.0/8 and ::1 */
static int xff(const char *peer, const char *v1, const char *v2, char *out)
{
    struct pw_cidr t[2];
    pw_cidr_parse("10.0.0.0/8", 10, &t[0]);
    pw_cidr_parse("::1", 3, &t[1]);
    struct pw_http_header h[3];
    size_t nh = 0;
    h[nh++] = (struct pw_http_header){{"Host", 4}, {"x", 1}};
    if (v1)
        h[nh++] = (struct pw_http_header){{"X-Forwarded-For", 15}, {v1, strlen(v1)}};
    if (v2)
        h[nh++] = (struct pw_http_header){{"x-forwarded-for", 15}, {v2, strlen(v2)}};
    uint8_t p[16], a[16];
    ip(peer, p);
    int r = pw_xff_client(h, nh, p, t, 2, a);
    pw_ip_format(a, out, 64);
    return r;
}

static void test_xff(void)
{
    char c[64];
    OK(xff("203.0.113.9", "1.2.3.4", NULL, c) == 0 && strcmp(c, "203.0.113.9") == 0,
       "xff: from an untrusted peer it is ignored");
    OK(xff("10.0.0.2", "1.2.3.4", NULL, c) == 1 && strcmp(c, "1.2.3.4") == 0, "xff: a trusted peer's entry is the client");
    OK(xff("10.0.0.2", NULL, NULL, c) == 0 && strcmp(c, "10.0.0.2") == 0, "xff: a trusted peer without the header is the client");
    OK(xff("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.9.9.9", NULL, c) == 2 && strcmp(c, "1.2.3.4") == 0,
       "xff: the rightmost untrusted entry; what the client itself wrote on the left is not believed");
    OK(xff("10.0.0.2", "10.1.1.1,10.2.2.2", NULL, c) == 2 && strcmp(c, "10.1.1.1") == 0,
       "xff: all trusted: the leftmost");
    OK(xff("10.0.0.2", "6.6.6.6", "1.2.3.4, 10.3.3.3", c) == 2 && strcmp(c, "1.2.3.4") == 0,
       "xff: several fields are one list, the last field last");
    OK(xff("10.0.0.2", "5.5.5.5", "10.3.3.3", c) == 2 && strcmp(c, "5.5.5.5") == 0,
       "xff: the walk goes on into the earlier field");
    OK(xff("10.0.0.2", "1.2.3.4:5678", NULL, c) == 1 && strcmp(c, "1.2.3.4") == 0, "xff: an IPv4 entry with a port");
    OK(xff("10.0.0.2", "[2001:db8::5]:443", NULL, c) == 1 && strcmp(c, "2001:db8::5") == 0,
       "xff: a bracketed IPv6 entry with a port");
    OK(xff("10.0.0.2", "2001:db8::5", NULL, c) == 1 && strcmp(c, "2001:db8::5") == 0, "xff: a bare IPv6 entry");
    OK(xff("::1", " 1.2.3.4 ,\t10.0.0.7 ", NULL, c) == 2 && strcmp(c, "1.2.3.4") == 0, "xff: whitespace around entries");
    IS(xff("10.0.0.2", "1.2.3.4, unknown", NULL, c), PW_EAUTH_XFF, "xff: garbage ends the walk");
    STREQ(c, "10.0.0.2", "xff: ... and the client is the trusted proxy that sent it");
    IS(xff("10.0.0.2", "1.2.3.4,,10.0.0.3", NULL, c), PW_EAUTH_XFF, "xff: an empty entry is garbage");
    STREQ(c, "10.0.0.3", "xff: ... the trusted hop right of it is the client");
    OK(xff("10.0.0.2", "garbage, 1.2.3.4", NULL, c) == 1 && strcmp(c, "1.2.3.4") == 0,
       "xff: garbage left of the client is never looked at");
    IS(xff("10.0.0.2", "", NULL, c), PW_EAUTH_XFF, "xff: an empty field is garbage");
    IS(xff("10.0.0.2", "1.2.3.4\r\nX-Evil: 1", NULL, c), PW_EAUTH_XFF, "xff: CR LF is garbage");
}

static void test_bucket(void)
{
    struct pw_bucket b = {0};
    unsigned retry = 0;
    int took = 0;
    for (int i = 0; i < 20; i++)
        took += pw_bucket_take(&b, 5, 5, 1000, &retry);
    IS(took, 5, "bucket: a full bucket of 5 gives 5 at once");
    IS(retry, 1, "bucket: then a retry in 1 s");
    OK(!pw_bucket_take(&b, 5, 5, 1100, NULL), "bucket: 100 ms later at 5/s: still empty (0.5 token)");
    OK(pw_bucket_take(&b, 5, 5, 1200, NULL), "bucket: 200 ms later: one token");
    OK(pw_bucket_take(&b, 5, 5, 10000, NULL), "bucket: long after: full again");
    OK(pw_bucket_full(&b, 5, 5, 20000), "bucket: full once refilled");
    OK(!pw_bucket_full(&b, 5, 5, 10000), "bucket: not full right after a take");
    struct pw_bucket z = {0};
    OK(pw_bucket_full(&z, 5, 5, 1), "bucket: a zeroed bucket is full");
    for (int i = 0; i < 1000; i++)
        pw_bucket_take(&z, 0, 0, 1, NULL);
    OK(pw_bucket_take(&z, 0, 0, 1, NULL), "bucket: rate 0 is no limit");
    struct pw_bucket slow = {0};
    pw_bucket_take(&slow, 0.1, 1, 5000, NULL);
    OK(!pw_bucket_take(&slow, 0.1, 1, 5000, &retry) && retry == 10, "bucket: at 0.1/s the retry is 10 s");
    struct pw_bucket back = {0};
    pw_bucket_take(&back, 1, 1, 5000, NULL);
    OK(!pw_bucket_take(&back, 1, 1, 4000, NULL), "bucket: a clock going back gives nothing");
}

static void redact(const char *in, const char *want)
{
    char out[128];
    size_t n = pw_redact_query(in, strlen(in), "token", out, sizeof out);
    OK(strcmp(out, want) == 0 && n == strlen(want), "redact: %s -> %s (got %s)", in, want, out);
}

static void test_redact(void)
{
    redact("/sse/a?token=s3cr3t", "/sse/a?token=REDACTED");
    redact("/sse/a?x=1&token=s3cr3t&y=2", "/sse/a?x=1&token=REDACTED&y=2");
    redact("/sse/a?token=a&token=b", "/sse/a?token=REDACTED&token=REDACTED");
    redact("/sse/a?mytoken=keep&tokens=keep", "/sse/a?mytoken=keep&tokens=keep");
    redact("/sse/a?token", "/sse/a?token");
    /* names the server does not take are kept out of the log all the same */
    redact("/sse/a?TOKEN=s&Token=t", "/sse/a?TOKEN=REDACTED&Token=REDACTED");
    redact("/sse/a?tok%65n=s&%74oken=t&tok%6=u", "/sse/a?tok%65n=REDACTED&%74oken=REDACTED&tok%6=u");
    redact("/sse/a?a=1;token=s;b=2", "/sse/a?a=1;token=REDACTED;b=2");
    redact("/sse/a?access_token=s&ACCESS_TOKEN=t&access_=u", "/sse/a?access_token=REDACTED&ACCESS_TOKEN=REDACTED&access_=u");
    redact("/sse/a?x=token=s&=token", "/sse/a?x=token=s&=token");
    redact("/sse/a?token=s=t", "/sse/a?token=REDACTED");
    redact("/sse/a?token=", "/sse/a?token=REDACTED");
    redact("/sse/a", "/sse/a");
    redact("/sse/a?", "/sse/a?");
    redact("/sse/a?&&token=x&", "/sse/a?&&token=REDACTED&");
    char small[12];
    pw_redact_query("/sse/a?token=secret", 19, "token", small, sizeof small);
    OK(strcmp(small, "/sse/a?toke") == 0, "redact: cut to the buffer, never past the key");
    pw_redact_query("/s?token=secret", 15, "token", small, sizeof small);
    OK(strstr(small, "sec") == NULL, "redact: cut in the middle of REDACTED shows no secret (%s)", small);
}

int main(void)
{
    test_glob();
    test_origin();
    test_token();
    test_addr();
    test_xff();
    test_bucket();
    test_redact();
    return tap_done();
}
