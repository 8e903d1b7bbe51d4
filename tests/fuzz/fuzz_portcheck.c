/* fuzz_portcheck.c — portcheck's parsers: source lists, HOST:PORT, /proc
 * integer lists, reserved-port lists.  Byte 0 picks the parser and, for
 * source lists, the capacity.  Invariants: no parser reads past the input
 * (the input is copied to an exact-size NUL-terminated buffer), a source
 * list never yields more than its capacity, all of one element's addresses
 * share a family, and a parsed port is 1..65535. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/hostlimits.h"
#include "host/probe.h"
#include "proto/pw_err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    switch (data[0] & 3) {
    case 0: {
        static struct sockaddr_storage out[64];
        size_t max = (size_t)(data[0] >> 2) + 1, n = 99;
        char err[128];
        int r = pw_probe_parse_sources(s, out, max, &n, err, sizeof err);
        if (n > max)
            abort();
        if (r == 0 && n == 0)
            abort();
        if (r != 0 && r != PW_EINVAL && r != PW_ETOOBIG)
            abort();
        for (size_t i = 0; r == 0 && i < n; i++)
            if (out[i].ss_family != AF_INET && out[i].ss_family != AF_INET6)
                abort();
        break;
    }
    case 1: {
        char h[64], p[8], err[128];
        if (pw_probe_parse_target(s, h, sizeof h, p, sizeof p, err, sizeof err) == 0) {
            long v = strtol(p, NULL, 10);
            if (v < 1 || v > 65535 || !h[0])
                abort();
        }
        break;
    }
    case 2: {
        long long v[8];
        if (pw_limits_parse_ints(s, v, 8) > 8)
            abort();
        break;
    }
    case 3: {
        long long r = pw_limits_reserved_in(s, 1024, 65535);
        if (r < -1 || r > 65535 - 1024 + 1)
            abort();
        break;
    }
    }
    free(s);
    return 0;
}
