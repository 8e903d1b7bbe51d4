/* fuzz_proxy_reply.c — what a proxy answers while connect sets up a tunnel:
 * the HTTP CONNECT reply (status line + headers, with stream.c's limits) and
 * the SOCKS5 method / auth / CONNECT replies.
 * Byte 0 picks the target (bit 0) and the SOCKS5 start step (bits 1-2).
 * Invariants: a SOCKS5 reply's size never exceeds the bytes given, is the
 * same whether more bytes follow or not, and "need more" turns into the same
 * answer once the rest arrives (fed whole or one byte at a time); the HTTP
 * reply parses the same whole or growing piece by piece. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "proto/http1.h"

static void socks(int step, const uint8_t *b, size_t n)
{
    size_t at = 0;
    while (at < n && step <= 2) {
        int val, val2;
        int used = pw_socks5_reply(step, b + at, n - at, &val);
        if (used > 0 && (size_t)used > n - at)
            abort();
        /* byte by byte: the first prefix that is not "need more" must agree */
        int got = 0;
        for (size_t k = 0; k <= n - at; k++) {
            got = pw_socks5_reply(step, b + at, k, &val2);
            if (got != 0)
                break;
        }
        if (got != used || (used != 0 && val != val2))
            abort();
        if (used <= 0)
            return;
        at += (size_t)used;
        step = step == 0 && val != 2 ? 2 : step + 1;
    }
}

static void http(const uint8_t *b, size_t n)
{
    struct pw_http_limits lim = {16384, 100};
    struct pw_http_resp r;
    int whole = pw_http_parse_response((const char *)b, n, &r, &lim);
    if (whole > 0 && (size_t)whole > n)
        abort();
    int status = whole > 0 ? r.status : 0;
    int got = PW_EAGAIN;
    size_t step = n <= 1024 ? 1 : n / 512; /* bounded work on big inputs */
    for (size_t k = 0; got == PW_EAGAIN; k += step) {
        if (k > n)
            k = n;
        got = pw_http_parse_response((const char *)b, k, &r, &lim);
        if (k == n)
            break;
    }
    if (got != whole || (got > 0 && r.status != status))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > 20000)
        return 0;
    int sel = data[0];
    data++, size--;
    if (sel & 1)
        http(data, size);
    else
        socks((sel >> 1) % 3, data, size);
    return 0;
}
