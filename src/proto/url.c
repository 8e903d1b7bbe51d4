/* url.c — absolute URLs, proxies from the environment, SOCKS5 replies (url.h). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "url.h"

static const struct {
    const char *scheme;
    const char *port;
    int tls;
} pw__schemes[] = {
    {"ws", "80", 0},      {"wss", "443", 1},        {"http", "80", 0},
    {"https", "443", 1},  {"socks5", "1080", 0},    {"socks5h", "1080", 0},
};

static int pw__hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int pw__pct_decode(const char *s, size_t n, char *out, size_t outsz)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int h = pw__hexval(s[i + 1]), l = pw__hexval(s[i + 2]);
            if (h < 0 || l < 0)
                return -1;
            c = h * 16 + l;
            i += 2;
        }
        if (k + 1 >= outsz)
            return -1;
        out[k++] = (char)c;
    }
    out[k] = 0;
    return 0;
}

int pw_url_parse(const char *s, struct pw_url *u, const char **why)
{
    static const char *dummy;
    if (!why)
        why = &dummy;
    memset(u, 0, sizeof *u);
    const char *colon = strstr(s, "://");
    if (!colon || colon == s || (size_t)(colon - s) >= sizeof u->scheme) {
        *why = "no scheme (expected ws://, wss://, http:// or https://)";
        return PW_ECL_URL;
    }
    size_t sl = (size_t)(colon - s);
    for (size_t i = 0; i < sl; i++)
        u->scheme[i] = (char)tolower((unsigned char)s[i]);
    const char *defport = NULL;
    for (size_t i = 0; i < sizeof pw__schemes / sizeof pw__schemes[0]; i++)
        if (strcmp(u->scheme, pw__schemes[i].scheme) == 0) {
            defport = pw__schemes[i].port;
            u->tls = pw__schemes[i].tls;
        }
    if (!defport) {
        *why = "unsupported scheme";
        return PW_ECL_SCHEME;
    }
    const char *a = colon + 3;
    size_t alen = strcspn(a, "/?#");
    const char *rest = a + alen;
    /* userinfo */
    const char *at = memchr(a, '@', alen);
    if (at) {
        const char *c = memchr(a, ':', (size_t)(at - a));
        size_t ul = c ? (size_t)(c - a) : (size_t)(at - a);
        if (pw__pct_decode(a, ul, u->user, sizeof u->user) < 0 ||
            (c && pw__pct_decode(c + 1, (size_t)(at - c - 1), u->pass, sizeof u->pass) < 0)) {
            *why = "bad user or password";
            return PW_ECL_URL;
        }
        alen -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    const char *hend;
    if (alen && a[0] == '[') {
        const char *rb = memchr(a, ']', alen);
        if (!rb || rb == a + 1 || (size_t)(rb - a - 1) >= sizeof u->host) {
            *why = "bad IPv6 literal";
            return PW_ECL_URL;
        }
        memcpy(u->host, a + 1, (size_t)(rb - a - 1));
        u->ipv6 = 1;
        hend = rb + 1;
    } else {
        const char *c = memchr(a, ':', alen);
        hend = c ? c : a + alen;
        size_t hl = (size_t)(hend - a);
        if (hl >= sizeof u->host) {
            *why = "host name too long";
            return PW_ECL_URL;
        }
        memcpy(u->host, a, hl);
    }
    if (!u->host[0]) {
        *why = "no host";
        return PW_ECL_URL;
    }
    for (char *h = u->host; *h; h++) {
        unsigned char c = (unsigned char)*h;
        if (c <= ' ' || c == '/' || c == '\\' || c == '%' || c >= 0x7f) {
            *why = "bad character in host";
            return PW_ECL_URL;
        }
    }
    if (hend < a + alen && *hend != ':') {
        *why = "garbage after host";
        return PW_ECL_URL;
    }
    /* "host:" with nothing after the colon is the scheme's port, as in
     * browsers (WHATWG URL) and curl */
    if (hend < a + alen - 1) {
        size_t pl = (size_t)(a + alen - hend - 1);
        if (pl > 5) {
            *why = "bad port";
            return PW_ECL_URL;
        }
        long v = 0;
        for (size_t i = 0; i < pl; i++) {
            if (!isdigit((unsigned char)hend[1 + i])) {
                *why = "bad port";
                return PW_ECL_URL;
            }
            v = v * 10 + (hend[1 + i] - '0');
        }
        if (v < 1 || v > 65535) {
            *why = "port out of range";
            return PW_ECL_URL;
        }
        snprintf(u->port, sizeof u->port, "%ld", v);
        u->port_explicit = 1;
    } else {
        snprintf(u->port, sizeof u->port, "%s", defport);
    }
    size_t tl = strcspn(rest, "#");
    if (tl + 2 > sizeof u->target) {
        *why = "path too long";
        return PW_ECL_URL;
    }
    for (size_t i = 0; i < tl; i++)
        if ((unsigned char)rest[i] <= ' ' || (unsigned char)rest[i] == 0x7f) {
            *why = "space or control character in path (percent-encode it)";
            return PW_ECL_URL;
        }
    if (tl == 0 || rest[0] != '/') {
        u->target[0] = '/';
        memcpy(u->target + 1, rest, tl);
    } else {
        memcpy(u->target, rest, tl);
    }
    return 0;
}

void pw_url_hostport(const struct pw_url *u, char *out, size_t outsz, int always_port)
{
    const char *def = u->tls ? "443" : "80";
    int withport = always_port || strcmp(u->port, def) != 0;
    snprintf(out, outsz, "%s%s%s%s%s", u->ipv6 ? "[" : "", u->host, u->ipv6 ? "]" : "",
             withport ? ":" : "", withport ? u->port : "");
}

static int pw__no_proxy(const char *host)
{
    const char *np = getenv("no_proxy");
    if (!np || !*np)
        np = getenv("NO_PROXY");
    if (!np || !*np)
        return 0;
    size_t hl = strlen(host);
    while (*np) {
        np += strspn(np, ", ");
        size_t l = strcspn(np, ", ");
        if (l == 1 && np[0] == '*')
            return 1;
        const char *e = np;
        size_t el = l;
        if (el && e[0] == '.') {
            e++;
            el--;
        }
        if (el && el <= hl && strncasecmp(host + hl - el, e, el) == 0 &&
            (el == hl || host[hl - el - 1] == '.'))
            return 1;
        np += l;
    }
    return 0;
}

const char *pw_proxy_from_env(const char *scheme, const char *host)
{
    if (pw__no_proxy(host))
        return NULL;
    const char *p = NULL;
    int tls = strcmp(scheme, "wss") == 0 || strcmp(scheme, "https") == 0;
    if (tls) {
        p = getenv("https_proxy");
        if (!p || !*p)
            p = getenv("HTTPS_PROXY");
    } else {
        p = getenv("http_proxy"); /* lower case only: HTTP_PROXY is CGI's (httpoxy) */
    }
    if (!p || !*p)
        p = getenv("all_proxy");
    if (!p || !*p)
        p = getenv("ALL_PROXY");
    return p && *p ? p : NULL;
}

int pw_socks5_reply(int step, const uint8_t *b, size_t len, int *val)
{
    *val = -1;
    if (step == 0 || step == 1) {
        if (len < 2)
            return 0;
        *val = b[1];
        if (step == 0 ? b[0] != 5 || b[1] == 0xff : b[1] != 0)
            return PW_ECL_PROXY;
        return 2;
    }
    if (len < 5)
        return 0;
    if (b[1] != 0) {
        *val = b[1];
        return PW_ECL_PROXY;
    }
    size_t need = b[3] == 1 ? 10 : b[3] == 4 ? 22 : b[3] == 3 ? 7u + b[4] : 0;
    if (!need)
        return PW_ECL_PROXY;
    if (len < need)
        return 0;
    *val = 0;
    return (int)need;
}
