/* fuzz_inflate.c — the permessage-deflate decompressor and its limit.
 *
 * Byte 0: parameters (bit 0 no context takeover, bits 1-3 window bits 8..15,
 * bit 4 window 15);
 * byte 1: max_message = 2^(b % 21) (the unlimited case is a unit test: here it
 * would only spend time inflating bombs); then messages, each a
 * length byte L (payload of L*4 bytes, or the rest), fed in two chunks split
 * at a point from the data, the last with fin.  Invariants:
 *  - no message inflates to more than max_message bytes without
 *    PW_EWSD_TOOBIG, and never more than max_message + 1 bytes are written;
 *  - errors are sticky and are only PW_EWSD_DATA or PW_EWSD_TOOBIG;
 *  - the same payload fed in one piece gives the same output and result
 *    (with a 15-bit window);
 *  - compressing the input bytes and inflating them gives them back, also
 *    through the shared compressor (struct pw_wsz: every message from a
 *    fresh state, the short-message stream or the other) into a server's
 *    inflater without context takeover, which holds no zlib state after.
 */
#include <stdlib.h>
#include <string.h>

#include "proto/ws_deflate.h"

static int inflate_all(const struct pw_wsd_params *p, uint64_t maxmsg, const uint8_t *data,
                       size_t size, int split, uint64_t *hash, size_t *total)
{
    struct pw_wsd d;
    struct pw_buf out;
    int rc = 0;
    pw_wsd_init(&d, p, 0, -1, maxmsg);
    pw_buf_init(&out, 0);
    *hash = 14695981039346656037ULL;
    *total = 0;
    while (size > 0 && rc == 0) {
        size_t len = (size_t)data[0] * 4;
        data++, size--;
        if (len > size)
            len = size;
        size_t cut = split && len ? (len * 7 / 13) : len;
        pw_buf_reset(&out);
        rc = pw_wsd_decompress(&d, data, cut, 0, &out);
        if (rc == 0)
            rc = pw_wsd_decompress(&d, data + cut, len - cut, 1, &out);
        if (maxmsg && out.len > maxmsg + 1)
            abort();
        if (maxmsg && out.len > maxmsg && rc != PW_EWSD_TOOBIG)
            abort();
        if (rc != 0 && rc != PW_EWSD_DATA && rc != PW_EWSD_TOOBIG)
            abort();
        if (rc != 0 && pw_wsd_decompress(&d, data, len, 1, &out) != rc)
            abort(); /* sticky */
        if (rc == 0)
            for (size_t i = 0; i < out.len; i++)
                *hash = (*hash ^ out.p[i]) * 1099511628211ULL;
        *total += out.len;
        data += len, size -= len;
    }
    pw_buf_free(&out);
    pw_wsd_free(&d);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct pw_wsd_params p = {0, 0, 15, 15};
    p.server_no_context_takeover = data[0] & 1;
    p.server_max_window_bits = data[0] & 16 ? 15 : 8 + ((data[0] >> 1) & 7);
    uint64_t maxmsg = 1ULL << (data[1] % 21);
    data += 2, size -= 2;

    uint64_t h1, h2;
    size_t t1, t2;
    int r1 = inflate_all(&p, maxmsg, data, size, 1, &h1, &t1);
    int r2 = inflate_all(&p, maxmsg, data, size, 0, &h2, &t2);
    /* below 15 bits zlib honours the window only for history that left its
     * output buffer, so a peer overstepping its window is caught or not
     * depending on chunking (see ws_deflate.h); compare at 15 only */
    if (p.server_max_window_bits == 15 && (r1 != r2 || (r1 == 0 && (h1 != h2 || t1 != t2))))
        abort();

    /* round trip: our compressor's output inflates back to the input */
    struct pw_wsd tx, rx;
    struct pw_buf z, out;
    pw_wsd_init(&tx, &p, 1, 6, 0);
    pw_wsd_init(&rx, &p, 0, -1, 0);
    pw_buf_init(&z, 0);
    pw_buf_init(&out, 0);
    for (int i = 0; i < 2; i++) {
        pw_buf_reset(&z);
        pw_buf_reset(&out);
        if (pw_wsd_compress(&tx, data, size, &z) != 0)
            abort();
        if (pw_wsd_decompress(&rx, z.p, z.len, 1, &out) != 0)
            abort();
        if (out.len != size || (size && memcmp(out.p, data, size) != 0))
            abort();
    }
    struct pw_wsz wz;
    struct pw_wsd_params q = {1, 1, p.server_max_window_bits, p.server_max_window_bits};
    pw_wsz_init(&wz, q.client_max_window_bits, 6);
    pw_wsd_free(&rx);
    pw_wsd_init(&rx, &q, 1, -1, 0); /* a server inflating what a client sent */
    for (size_t i = 0, part = size; i < 2; i++, part /= 2) {
        pw_buf_reset(&z);
        pw_buf_reset(&out);
        if (pw_wsz_compress(&wz, data, part, &z) != 0)
            abort();
        if (pw_wsd_decompress(&rx, z.p, z.len, 1, &out) != 0 || pw_wsd_holds(&rx))
            abort();
        if (out.len != part || (part && memcmp(out.p, data, part) != 0))
            abort();
    }
    pw_wsz_free(&wz);
    pw_buf_free(&z);
    pw_buf_free(&out);
    pw_wsd_free(&tx);
    pw_wsd_free(&rx);
    return 0;
}
