/* url.h — absolute URLs for the client, proxies from the environment, and
 * the SOCKS5 reply parser.  Pure: no I/O. */
#ifndef PW_URL_H
#define PW_URL_H

#include <stddef.h>
#include <stdint.h>

#include "pw_errio.h"

/* ---- URLs -------------------------------------------------------------- */

struct pw_url {
    char scheme[16];   /* lower case: ws wss http https socks5 socks5h */
    int tls;           /* wss, https */
    char host[256];    /* without [] for IPv6 literals */
    int ipv6;          /* host was a [bracketed] literal */
    char port[8];      /* explicit or the scheme's default */
    int port_explicit;
    char user[128];    /* percent-decoded userinfo, "" when absent */
    char pass[128];
    char target[4096]; /* path + "?" query, at least "/" (fragment dropped) */
};

/* Parses an absolute URL.  0, PW_ECL_URL (with the reason in why, static),
 * or PW_ECL_SCHEME.  Known schemes: ws wss http https socks5 socks5h socks4?
 * (no: only the first six). */
int pw_url_parse(const char *s, struct pw_url *u, const char **why);

/* "host" or "[v6]" followed by ":port" unless it is the default one. */
void pw_url_hostport(const struct pw_url *u, char *out, size_t outsz, int always_port);

/* The proxy URL from the environment for a URL of `scheme` and `host`,
 * curl's rules: http_proxy (lower case only) for ws/http, https_proxy or
 * HTTPS_PROXY for wss/https, then all_proxy/ALL_PROXY; no_proxy/NO_PROXY
 * (comma list of host suffixes, "*" for all) wins.  NULL when none.
 * The pointer is into the environment. */
const char *pw_proxy_from_env(const char *scheme, const char *host);

/* One SOCKS5 (RFC 1928/1929) reply at `step` of the tunnel set-up: 0 the
 * method choice, 1 the user/password status, 2 the CONNECT reply.  Returns
 * the bytes the reply takes (> 0), 0 when more are needed, or PW_ECL_PROXY.
 * *val: the chosen method (step 0), the status (1), the REP code (2), or -1
 * when the reply is malformed (bad address type). */
int pw_socks5_reply(int step, const uint8_t *b, size_t len, int *val);

#endif
