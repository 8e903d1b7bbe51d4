/* fuzz_http.c — the HTTP/1.1 head parsers and helpers.
 * Byte 0: bit 0 picks request (0) or response (1); bits 1-3 pick max_head,
 * bits 4-7 max_headers (0 = default).  Invariants: a complete head is no
 * longer than the input, every slice lies inside it, and every shorter
 * prefix of a complete head is PW_EAGAIN.  The same bytes as a chunked body:
 * fed whole or byte by byte, the decoder says the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http1.h"

static void inside(const char *b, size_t n, struct pw_str s)
{
    if (s.len && (s.p < b || s.p + s.len > b + n))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    static const size_t heads[8] = {0, 16, 64, 128, 256, 1024, 4096, 100000};
    int response = data[0] & 1;
    struct pw_http_limits lim = {heads[data[0] >> 1 & 7], (size_t)(data[0] >> 4) * 7};
    const char *b = (const char *)data + 1;
    size_t n = size - 1;
    /* a private copy so the parser cannot read past n unnoticed by ASan */
    char *buf = malloc(n ? n : 1);
    memcpy(buf, b, n);
    static struct pw_http_req req;
    static struct pw_http_resp resp;
    int rc = response ? pw_http_parse_response(buf, n, &resp, &lim) : pw_http_parse_request(buf, n, &req, &lim);
    if (rc == 0 || (rc > 0 && (size_t)rc > n))
        abort();
    if (rc > 0) {
        size_t nh = response ? resp.nheaders : req.nheaders;
        const struct pw_http_header *h = response ? resp.headers : req.headers;
        size_t maxh = lim.max_headers ? lim.max_headers : 64;
        if (nh > maxh || nh > PW_HTTP_MAX_HEADERS)
            abort();
        for (size_t i = 0; i < nh; i++) {
            inside(buf, (size_t)rc, h[i].name);
            inside(buf, (size_t)rc, h[i].value);
            pw_http_list_has(h[i].value, "upgrade");
        }
        if (!response) {
            inside(buf, (size_t)rc, req.method);
            inside(buf, (size_t)rc, req.target);
            inside(buf, (size_t)rc, req.query);
            if (!(req.path.len == 1 && req.path.p[0] == '/'))
                inside(buf, (size_t)rc, req.path);
            char out[32];
            int q = pw_http_query_get(req.query, "since", out, sizeof out);
            if (q >= 0 && ((size_t)q >= sizeof out || strlen(out) != (size_t)q))
                abort();
            if (req.minor != 0 && req.minor != 1)
                abort();
        } else {
            inside(buf, (size_t)rc, resp.reason);
            if (resp.status < 100 || resp.status > 599)
                abort();
        }
        /* the head alone parses the same; any shorter prefix waits */
        int again = response ? pw_http_parse_response(buf, (size_t)rc, &resp, &lim)
                             : pw_http_parse_request(buf, (size_t)rc, &req, &lim);
        if (again != rc)
            abort();
        size_t cuts[3] = {(size_t)rc - 1, (size_t)rc / 2, 0};
        for (int k = 0; k < 3; k++) {
            int p = response ? pw_http_parse_response(buf, cuts[k], &resp, &lim)
                             : pw_http_parse_request(buf, cuts[k], &req, &lim);
            if (p != PW_EAGAIN)
                abort();
        }
    }
    /* the chunked decoder: whole and one byte at a time agree */
    struct pw_buf o1, o2;
    pw_buf_init(&o1, 1000);
    pw_buf_init(&o2, 1000);
    struct pw_http_chunked c1, c2;
    pw_http_chunked_init(&c1);
    pw_http_chunked_init(&c2);
    size_t u1 = 0, u2 = 0, u;
    int r1 = pw_http_chunked_feed(&c1, (const uint8_t *)buf, n, &o1, &u1), r2 = 0;
    for (size_t i = 0; i < n && r2 == 0; i++) {
        r2 = pw_http_chunked_feed(&c2, (const uint8_t *)buf + i, 1, &o2, &u);
        u2 += u;
    }
    if (r1 != r2 || (r1 >= 0 && (u1 != u2 || o1.len != o2.len || (o1.len && memcmp(o1.p, o2.p, o1.len)))))
        abort();
    if (r1 == 1 && u1 > n)
        abort();
    pw_buf_free(&o1);
    pw_buf_free(&o2);
    free(buf);
    return 0;
}
