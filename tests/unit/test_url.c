/* test_url.c — absolute URLs (proto/url.h): schemes and their default
 * ports, explicit and empty ports, IPv6 literals, userinfo, the request
 * target, and the reasons a bad one is refused. */
#include <stdio.h>
#include <string.h>

#include "proto/url.h"
#include "tap.h"

static struct pw_url u;
static const char *why;

static int parse(const char *s)
{
    why = "";
    return pw_url_parse(s, &u, &why);
}

int main(void)
{
    IS(parse("ws://example.org/ws/news"), 0, "ws URL");
    OK(strcmp(u.host, "example.org") == 0 && strcmp(u.port, "80") == 0 && !u.port_explicit && !u.tls,
       "host, default port 80, not TLS");
    STREQ(u.target, "/ws/news", "target");
    IS(parse("WSS://example.org"), 0, "scheme in capitals, no path");
    OK(strcmp(u.scheme, "wss") == 0 && strcmp(u.port, "443") == 0 && u.tls && strcmp(u.target, "/") == 0,
       "wss: port 443, TLS, target /");
    IS(parse("http://127.0.0.1:8080/sse/a?since=0#frag"), 0, "explicit port, query, fragment");
    OK(strcmp(u.port, "8080") == 0 && u.port_explicit && strcmp(u.target, "/sse/a?since=0") == 0,
       "port 8080 explicit; the fragment is dropped");

    /* an empty port is the scheme's (WHATWG URL, curl) */
    IS(parse("ws://127.0.0.1:/ws/x"), 0, "ws://host:/path is taken");
    OK(strcmp(u.port, "80") == 0 && !u.port_explicit && strcmp(u.host, "127.0.0.1") == 0 &&
           strcmp(u.target, "/ws/x") == 0,
       "with the default port 80, not explicit");
    IS(parse("https://[::1]:"), 0, "an IPv6 literal with an empty port");
    OK(u.ipv6 && strcmp(u.host, "::1") == 0 && strcmp(u.port, "443") == 0, "::1, port 443");
    char hp[300];
    pw_url_hostport(&u, hp, sizeof hp, 0);
    STREQ(hp, "[::1]", "its Host: the default port is not written");

    IS(parse("ws://user:p%40ss@h:9/"), 0, "userinfo");
    OK(strcmp(u.user, "user") == 0 && strcmp(u.pass, "p@ss") == 0 && strcmp(u.host, "h") == 0,
       "user and percent-decoded password");

    IS(parse("ws://h:99999/"), PW_ECL_URL, "port 99999 refused");
    STREQ(why, "port out of range", "as out of range");
    IS(parse("ws://h:0/"), PW_ECL_URL, "port 0 refused");
    IS(parse("ws://h:8x/"), PW_ECL_URL, "a port with a letter refused");
    STREQ(why, "bad port", "as a bad port");
    IS(parse("ws://h:123456/"), PW_ECL_URL, "a 6-digit port refused");
    IS(parse("ws://[::1]x/"), PW_ECL_URL, "garbage after an IPv6 literal refused");
    STREQ(why, "garbage after host", "as garbage after the host");
    IS(parse("ws://:80/"), PW_ECL_URL, "no host refused");
    STREQ(why, "no host", "as no host");
    IS(parse("ws://[::1/"), PW_ECL_URL, "an unclosed IPv6 literal refused");
    IS(parse("ftp://h/"), PW_ECL_SCHEME, "an unknown scheme is its own error");
    IS(parse("h:80"), PW_ECL_URL, "no scheme refused");
    IS(parse("ws://h/a b"), PW_ECL_URL, "a space in the path refused");
    return tap_done();
}
