/* fuzz_url.c — the URL parser and the proxy choice from the environment.
 * Input: up to three NUL-separated fields: the URL, a no_proxy value and a
 * proxy value (set as http_proxy, https_proxy and all_proxy).
 * Invariants: a parsed URL has NUL-terminated fields, a known scheme, a
 * port of digits and a non-empty target; a parse error always comes with a reason; host:port formatting
 * fits its buffer; the proxy chosen is one of the environment's values or NULL,
 * and the proxy URL either parses or fails the same way twice. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"

static void check_url(const struct pw_url *u)
{
    if (!memchr(u->scheme, 0, sizeof u->scheme) || !memchr(u->host, 0, sizeof u->host) ||
        !memchr(u->port, 0, sizeof u->port) || !memchr(u->user, 0, sizeof u->user) ||
        !memchr(u->pass, 0, sizeof u->pass) || !memchr(u->target, 0, sizeof u->target))
        abort();
    if (!u->scheme[0] || !u->port[0] || !u->target[0])
        abort();
    for (const char *p = u->port; *p; p++)
        if (*p < '0' || *p > '9')
            abort();
    char hp[300];
    pw_url_hostport(u, hp, sizeof hp, 0);
    if (!memchr(hp, 0, sizeof hp))
        abort();
    pw_url_hostport(u, hp, sizeof hp, 1);
    char tiny[4];
    pw_url_hostport(u, tiny, sizeof tiny, 1);
    if (!memchr(tiny, 0, sizeof tiny))
        abort();
}

static void parse_twice(const char *s)
{
    struct pw_url a, b;
    const char *wa = NULL, *wb = NULL;
    memset(&a, 0xAA, sizeof a);
    memset(&b, 0x55, sizeof b);
    int ra = pw_url_parse(s, &a, &wa);
    int rb = pw_url_parse(s, &b, &wb);
    if (ra != rb)
        abort();
    if (ra == 0) {
        check_url(&a);
        check_url(&b);
        if (strcmp(a.scheme, b.scheme) || strcmp(a.host, b.host) || strcmp(a.port, b.port) ||
            strcmp(a.target, b.target) || strcmp(a.user, b.user) || strcmp(a.pass, b.pass))
            abort();
    } else if (ra != PW_ECL_URL && ra != PW_ECL_SCHEME) {
        abort();
    } else if (ra == PW_ECL_URL && !wa) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    char *buf = malloc(size + 3);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = buf[size + 1] = buf[size + 2] = 0;
    const char *url = buf;
    const char *np = url + strlen(url) + 1;
    const char *px = np + strlen(np) + 1;
    if (np > buf + size)
        np = "";
    if (px > buf + size)
        px = "";

    parse_twice(url);

    setenv("no_proxy", np, 1);
    setenv("http_proxy", px, 1);
    setenv("https_proxy", px, 1);
    setenv("all_proxy", px, 1);
    struct pw_url u;
    const char *why;
    if (pw_url_parse(url, &u, &why) == 0) {
        const char *p = pw_proxy_from_env(u.scheme, u.host);
        if (p && strcmp(p, px) != 0)
            abort();
        if (p)
            parse_twice(p);
    }
    static const char *schemes[] = {"ws", "wss", "http", "https"};
    const char *p = pw_proxy_from_env(schemes[size & 3], url);
    if (p && strcmp(p, px) != 0)
        abort();
    unsetenv("no_proxy");
    unsetenv("http_proxy");
    unsetenv("https_proxy");
    unsetenv("all_proxy");
    free(buf);
    return 0;
}
