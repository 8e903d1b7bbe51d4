#include "net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int pw__port(const char *s, unsigned *port)
{
    if (!*s || strlen(s) > 5)
        return -1;
    unsigned v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned)(*s - '0');
    }
    if (v > 65535)
        return -1;
    *port = v;
    return 0;
}

int pw_net_parse_listen(const char *s, struct sockaddr_storage *out)
{
    char host[64];
    const char *colon;
    memset(out, 0, sizeof *out);
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end || end[1] != ':' || (size_t)(end - s - 1) >= sizeof host)
            return PW_ENET_ADDR;
        memcpy(host, s + 1, (size_t)(end - s - 1));
        host[end - s - 1] = 0;
        colon = end + 1;
        unsigned port;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)out;
        if (pw__port(colon + 1, &port) || inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return PW_ENET_ADDR;
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        return 0;
    }
    colon = strrchr(s, ':');
    if (!colon || (size_t)(colon - s) >= sizeof host || colon == s)
        return PW_ENET_ADDR;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = 0;
    if (strcmp(host, "localhost") == 0)
        strcpy(host, "127.0.0.1");
    unsigned port;
    struct sockaddr_in *a4 = (struct sockaddr_in *)out;
    if (pw__port(colon + 1, &port) || inet_pton(AF_INET, host, &a4->sin_addr) != 1)
        return PW_ENET_ADDR;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    return 0;
}

int pw_net_listen_tls(const char *s, const char **addr)
{
    static const char pre[] = "tls://";
    int tls = strncmp(s, pre, sizeof pre - 1) == 0;
    *addr = tls ? s + sizeof pre - 1 : s;
    return tls;
}

int pw_net_format_addr(const struct sockaddr *sa, char *out, size_t outsz)
{
    char host[INET6_ADDRSTRLEN];
    int n;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a4 = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &a4->sin_addr, host, sizeof host);
        n = snprintf(out, outsz, "%s:%u", host, ntohs(a4->sin_port));
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &a6->sin6_addr, host, sizeof host);
        n = snprintf(out, outsz, "[%s]:%u", host, ntohs(a6->sin6_port));
    } else
        return PW_EINVAL;
    return n < 0 || (size_t)n >= outsz ? PW_EINVAL : 0;
}
