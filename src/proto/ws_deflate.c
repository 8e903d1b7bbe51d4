/* ws_deflate.c — permessage-deflate (RFC 7692) over zlib (see ws_deflate.h). */
#include "ws_deflate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const uint8_t pw__tail[4] = {0x00, 0x00, 0xff, 0xff};

/* --- negotiation --- */

static int pw__streq(struct pw_str s, const char *lit)
{
    size_t n = strlen(lit);
    return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

/* "8".."15" exactly (no sign, no leading zero); else 0. */
static int pw__bits(struct pw_str v)
{
    if (v.len == 1 && (v.p[0] == '8' || v.p[0] == '9'))
        return v.p[0] - '0';
    if (v.len == 2 && v.p[0] == '1' && v.p[1] >= '0' && v.p[1] <= '5')
        return 10 + v.p[1] - '0';
    return 0;
}

enum { P_SNCT = 1, P_CNCT = 2, P_SMWB = 4, P_CMWB = 8 };

/* Parses the parameters of one permessage-deflate element.  `response`
 * selects the response rules (client_max_window_bits needs a value).
 * Returns the P_* set seen, or -1 when invalid. */
static int pw__params(const struct pw_ws_ext *e, int response, struct pw_wsd_params *out)
{
    int seen = 0;
    memset(out, 0, sizeof *out);
    out->server_max_window_bits = 15;
    for (size_t i = 0; i < e->nparams; i++) {
        struct pw_str name = e->params[i].name, val = e->params[i].value;
        int bit;
        if (pw__streq(name, "server_no_context_takeover")) {
            bit = P_SNCT;
            out->server_no_context_takeover = 1;
            if (val.len)
                return -1;
        } else if (pw__streq(name, "client_no_context_takeover")) {
            bit = P_CNCT;
            out->client_no_context_takeover = 1;
            if (val.len)
                return -1;
        } else if (pw__streq(name, "server_max_window_bits")) {
            bit = P_SMWB;
            if (!(out->server_max_window_bits = pw__bits(val)))
                return -1;
        } else if (pw__streq(name, "client_max_window_bits")) {
            bit = P_CMWB;
            if (val.len == 0 && !response)
                out->client_max_window_bits = 15;
            else if (!(out->client_max_window_bits = pw__bits(val)))
                return -1;
        } else {
            return -1;
        }
        if (seen & bit)
            return -1;
        seen |= bit;
    }
    return seen;
}

int pw_wsd_offer_parse(const struct pw_ws_ext *e, struct pw_wsd_params *out)
{
    return pw__params(e, 0, out) < 0 ? PW_EWSD_OFFER : 0;
}

static int pw__cfgbits(int b)
{
    return b >= 8 && b <= 15 ? b : 15;
}

/* Appends to hdr; returns 0 or PW_EWSD_SPACE. */
static int pw__hdrcat(char *hdr, size_t cap, size_t *len, const char *fmt, int v)
{
    int k = snprintf(hdr + *len, cap - *len, fmt, v);
    if (k < 0 || (size_t)k >= cap - *len)
        return PW_EWSD_SPACE;
    *len += (size_t)k;
    return 0;
}

int pw_wsd_server_accept(const struct pw_ws_ext *exts, size_t n,
                         const struct pw_wsd_config *cfg,
                         struct pw_wsd_params *out, char *hdr, size_t hdrcap)
{
    static const struct pw_wsd_config defaults;
    if (!cfg)
        cfg = &defaults;
    if (hdrcap)
        hdr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        struct pw_wsd_params o;
        if (!pw__streq(exts[i].name, PW_WSD_NAME))
            continue;
        int seen = pw__params(&exts[i], 0, &o);
        if (seen < 0)
            continue; /* §7.1: decline an invalid offer, try the next */
        struct pw_wsd_params r;
        int ours = pw__cfgbits(cfg->server_max_window_bits);
        r.server_no_context_takeover = o.server_no_context_takeover || cfg->server_no_context_takeover;
        r.client_no_context_takeover = o.client_no_context_takeover || cfg->client_no_context_takeover;
        r.server_max_window_bits = o.server_max_window_bits < ours ? o.server_max_window_bits : ours;
        r.client_max_window_bits = 15;
        if (seen & P_CMWB) {
            int cap = pw__cfgbits(cfg->client_max_window_bits);
            r.client_max_window_bits = o.client_max_window_bits < cap ? o.client_max_window_bits : cap;
        }
        size_t len = 0;
        int rc = pw__hdrcat(hdr, hdrcap, &len, PW_WSD_NAME, 0);
        if (!rc && r.server_no_context_takeover)
            rc = pw__hdrcat(hdr, hdrcap, &len, "; server_no_context_takeover", 0);
        if (!rc && r.client_no_context_takeover)
            rc = pw__hdrcat(hdr, hdrcap, &len, "; client_no_context_takeover", 0);
        if (!rc && ((seen & P_SMWB) || r.server_max_window_bits < 15))
            rc = pw__hdrcat(hdr, hdrcap, &len, "; server_max_window_bits=%d", r.server_max_window_bits);
        if (!rc && (seen & P_CMWB))
            rc = pw__hdrcat(hdr, hdrcap, &len, "; client_max_window_bits=%d", r.client_max_window_bits);
        if (rc) {
            if (hdrcap)
                hdr[0] = 0;
            return rc;
        }
        *out = r;
        return 1;
    }
    return 0;
}

int pw_wsd_client_offer(const struct pw_wsd_config *cfg, char *hdr, size_t hdrcap)
{
    static const struct pw_wsd_config defaults;
    size_t len = 0;
    int rc;
    if (!cfg)
        cfg = &defaults;
    if (!hdrcap)
        return PW_EWSD_SPACE;
    hdr[0] = 0;
    rc = pw__hdrcat(hdr, hdrcap, &len, PW_WSD_NAME, 0);
    if (!rc && cfg->server_no_context_takeover)
        rc = pw__hdrcat(hdr, hdrcap, &len, "; server_no_context_takeover", 0);
    if (!rc && cfg->client_no_context_takeover)
        rc = pw__hdrcat(hdr, hdrcap, &len, "; client_no_context_takeover", 0);
    if (!rc && pw__cfgbits(cfg->server_max_window_bits) < 15)
        rc = pw__hdrcat(hdr, hdrcap, &len, "; server_max_window_bits=%d",
                        pw__cfgbits(cfg->server_max_window_bits));
    if (!rc && pw__cfgbits(cfg->client_max_window_bits) < 15)
        rc = pw__hdrcat(hdr, hdrcap, &len, "; client_max_window_bits=%d",
                        pw__cfgbits(cfg->client_max_window_bits));
    else if (!rc)
        rc = pw__hdrcat(hdr, hdrcap, &len, "; client_max_window_bits", 0);
    return rc ? rc : (int)len;
}

int pw_wsd_client_check(const struct pw_ws_ext *exts, size_t n,
                        const struct pw_wsd_config *cfg, struct pw_wsd_params *out)
{
    static const struct pw_wsd_config defaults;
    const struct pw_ws_ext *e = NULL;
    if (!cfg)
        cfg = &defaults;
    for (size_t i = 0; i < n; i++)
        if (pw__streq(exts[i].name, PW_WSD_NAME)) {
            if (e)
                return PW_EWSD_RESPONSE; /* accepted twice */
            e = &exts[i];
        }
    if (!e)
        return 0;
    struct pw_wsd_params r;
    int seen = pw__params(e, 1, &r);
    if (seen < 0)
        return PW_EWSD_RESPONSE;
    int smwb = pw__cfgbits(cfg->server_max_window_bits);
    int cmwb = pw__cfgbits(cfg->client_max_window_bits);
    /* what we asked of the server must be granted (we made one offer) */
    if (cfg->server_no_context_takeover && !(seen & P_SNCT))
        return PW_EWSD_RESPONSE;
    if (smwb < 15 && (!(seen & P_SMWB) || r.server_max_window_bits > smwb))
        return PW_EWSD_RESPONSE;
    if ((seen & P_CMWB) && r.client_max_window_bits > cmwb)
        return PW_EWSD_RESPONSE;
    if (!(seen & P_CMWB))
        r.client_max_window_bits = cmwb;
    r.client_no_context_takeover |= cfg->client_no_context_takeover;
    *out = r;
    return 1;
}

/* --- per-message compression --- */

int pw_wsd_init(struct pw_wsd *d, const struct pw_wsd_params *p, int is_server,
                int level, uint64_t max_message)
{
    memset(d, 0, sizeof *d);
    if (level < -1 || level > 9)
        return PW_EINVAL;
    int sb = pw__cfgbits(p->server_max_window_bits), cb = pw__cfgbits(p->client_max_window_bits);
    d->def_bits = (int8_t)(is_server ? sb : cb);
    d->inf_bits = (int8_t)(is_server ? cb : sb);
    d->def_reset = (int8_t)(is_server ? p->server_no_context_takeover : p->client_no_context_takeover);
    d->inf_reset = (int8_t)(is_server ? p->client_no_context_takeover : p->server_no_context_takeover);
    d->level = (int8_t)level;
    d->is_server = (int8_t)(is_server != 0);
    d->max_message = max_message;
    return 0;
}

int pw_wsd_share(struct pw_wsd *d, struct pw_wsz *z)
{
    if (!d->def_reset || z->bits > d->def_bits)
        return PW_EINVAL;
    d->shared = z;
    return 0;
}

int pw_wsd_holds(const struct pw_wsd *d)
{
    return d->def != NULL || d->inf != NULL;
}

static void pw__inf_drop(struct pw_wsd *d)
{
    if (d->inf) {
        inflateEnd(d->inf);
        free(d->inf);
        d->inf = NULL;
    }
}

void pw_wsd_free(struct pw_wsd *d)
{
    if (d->def) {
        deflateEnd(d->def);
        free(d->def);
        d->def = NULL;
    }
    pw__inf_drop(d);
}

/* A raw deflate stream with `bits` (see the header: window 8 is done as 9,
 * whose matches reach <= 250 bytes) and memLevel mem, or NULL. */
static z_stream *pw__def_new(int bits, int level, int mem)
{
    z_stream *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (bits == 8)
        bits = 9;
    if (deflateInit2(s, level, Z_DEFLATED, -bits, mem, Z_DEFAULT_STRATEGY) != Z_OK) {
        free(s);
        return NULL;
    }
    return s;
}

/* One whole message through s, appended to out without the 00 00 ff ff
 * tail.  On failure out is as it was and s is reset (the peer never sees
 * the message, so the next one stays decodable). */
static int pw__deflate(z_stream *s, const uint8_t *in, size_t len, struct pw_buf *out)
{
    int rc = 0;
    if (len == 0) /* §7.2.3.6: one 00 byte; zlib would emit nothing after a flush */
        return pw_buf_putc(out, 0) < 0 ? PW_ENOMEM : 0;
    size_t start = out->len;
    s->next_in = (Bytef *)(uintptr_t)in;
    s->avail_in = 0;
    /* avail_in is 32-bit: feed huge messages in slices */
    for (;;) {
        if (s->avail_in == 0 && len) {
            size_t take = len < (1u << 30) ? len : (1u << 30);
            s->avail_in = (uInt)take;
            len -= take;
        }
        size_t room = deflateBound(s, s->avail_in) + 16;
        if (room > out->max - out->len)
            room = out->max - out->len;
        if (room == 0) {
            rc = PW_ETOOBIG;
            break;
        }
        if ((rc = pw_buf_reserve(out, room)) < 0)
            break;
        s->next_out = out->p + out->len;
        s->avail_out = (uInt)(room > UINT32_MAX ? UINT32_MAX : room);
        uInt before = s->avail_out;
        int zr = deflate(s, Z_SYNC_FLUSH);
        out->len += before - s->avail_out;
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = PW_EWSD_ZLIB;
            break;
        }
        if (s->avail_out != 0 && s->avail_in == 0 && len == 0)
            break; /* all input taken and flushed */
    }
    if (rc == 0 && (out->len - start < 4 || memcmp(out->p + out->len - 4, pw__tail, 4) != 0))
        rc = PW_EWSD_ZLIB;
    if (rc < 0) {
        out->len = start;
        deflateReset(s);
        return rc;
    }
    out->len -= 4; /* §7.2.1: drop the 00 00 ff ff of the sync flush */
    return 0;
}

int pw_wsz_init(struct pw_wsz *z, int bits, int level)
{
    memset(z, 0, sizeof *z);
    if (bits < 8 || bits > 15 || level < -1 || level > 9)
        return PW_EINVAL;
    z->bits = bits;
    z->level = level;
    return 0;
}

void pw_wsz_free(struct pw_wsz *z)
{
    for (int i = 0; i < 2; i++)
        if (z->s[i]) {
            deflateEnd(z->s[i]);
            free(z->s[i]);
            z->s[i] = NULL;
        }
}

int pw_wsz_compress(struct pw_wsz *z, const uint8_t *in, size_t len, struct pw_buf *out)
{
    /* deflateReset clears a hash table of 2^(memLevel+8) bytes: 64 KiB at
     * memLevel 8, more than compressing a short message costs.  Short
     * messages go through a stream with a 4 KiB window and a 2 KiB table
     * (its frames are valid for any larger window); the others through one
     * as large as the window agreed. */
    int small = len < PW_WSZ_SHORT;
    z_stream **s = &z->s[small];
    int bits = small && z->bits > 12 ? 12 : z->bits;
    if (!*s && !(*s = pw__def_new(bits, z->level, small ? 3 : bits - 7)))
        return PW_EWSD_ZLIB;
    int rc = pw__deflate(*s, in, len, out);
    if (rc == 0 && len)
        deflateReset(*s);
    return rc;
}

int pw_wsd_compress(struct pw_wsd *d, const uint8_t *in, size_t len, struct pw_buf *out)
{
    if (d->shared)
        return pw_wsz_compress(d->shared, in, len, out);
    if (!d->def && !(d->def = pw__def_new(d->def_bits, d->level, d->def_bits - 7)))
        return PW_EWSD_ZLIB;
    int rc = pw__deflate(d->def, in, len, out);
    if (rc == 0 && len && d->def_reset)
        deflateReset(d->def);
    return rc;
}

static int pw__inf_ready(struct pw_wsd *d)
{
    if (d->inf)
        return 0;
    z_stream *s = calloc(1, sizeof *s);
    if (!s)
        return PW_ENOMEM;
    if (inflateInit2(s, -d->inf_bits) != Z_OK) {
        free(s);
        return PW_EWSD_ZLIB;
    }
    d->inf = s;
    return 0;
}

/* A DEFLATE block with BFINAL ended the stream inside a message (§7.2.3.4):
 * start a new raw stream, keeping the window when context takeover is on. */
static int pw__inf_restart(struct pw_wsd *d)
{
    uint8_t dict[32768];
    uInt dlen = 0;
    int keep = !d->inf_reset && inflateGetDictionary(d->inf, dict, &dlen) == Z_OK;
    if (inflateReset(d->inf) != Z_OK)
        return PW_EWSD_ZLIB;
    if (keep && dlen && inflateSetDictionary(d->inf, dict, dlen) != Z_OK)
        return PW_EWSD_ZLIB;
    return 0;
}

static int pw__inflate(struct pw_wsd *d, const uint8_t *in, size_t len, struct pw_buf *out)
{
    int rc;
    d->inf->next_in = (Bytef *)(uintptr_t)in;
    d->inf->avail_in = 0;
    for (;;) {
        if (d->inf->avail_in == 0 && len) {
            size_t take = len < (1u << 30) ? len : (1u << 30);
            d->inf->avail_in = (uInt)take;
            len -= take;
        }
        /* never let zlib write past max_message + 1 */
        size_t room = 16384;
        if (d->max_message && room > d->max_message - d->inf_total + 1)
            room = (size_t)(d->max_message - d->inf_total + 1);
        /* out full: inflate into one spare byte to learn whether any output
         * is left (a message that exactly fills out is fine) */
        uint8_t spare;
        int full = room > out->max - out->len;
        if (full)
            room = out->max - out->len;
        if (room == 0) {
            d->inf->next_out = &spare;
            d->inf->avail_out = 1;
        } else {
            if ((rc = pw_buf_reserve(out, room)) < 0)
                return rc;
            d->inf->next_out = out->p + out->len;
            d->inf->avail_out = (uInt)room;
        }
        size_t avail = d->inf->avail_out;
        uInt in_before = d->inf->avail_in;
        int zr = inflate(d->inf, Z_SYNC_FLUSH);
        size_t made = avail - d->inf->avail_out;
        if (room == 0 && made)
            return d->max_message && d->inf_total + made > d->max_message ? PW_EWSD_TOOBIG : PW_ETOOBIG;
        if (room)
            out->len += made;
        d->inf_total += made;
        if (d->max_message && d->inf_total > d->max_message)
            return PW_EWSD_TOOBIG;
        if (zr == Z_STREAM_END) {
            if ((rc = pw__inf_restart(d)) < 0)
                return rc;
            continue;
        }
        if (zr == Z_MEM_ERROR)
            return PW_ENOMEM;
        if (zr != Z_OK && zr != Z_BUF_ERROR)
            return PW_EWSD_DATA;
        if (d->inf->avail_out != 0 && d->inf->avail_in == 0 && len == 0)
            return 0; /* all input taken, nothing pending */
        if (zr == Z_BUF_ERROR && made == 0 && in_before == d->inf->avail_in)
            return d->inf->avail_in ? PW_EWSD_DATA : 0;
    }
}

int pw_wsd_decompress(struct pw_wsd *d, const uint8_t *in, size_t len, int fin,
                      struct pw_buf *out)
{
    int rc;
    if (d->err)
        return d->err;
    if ((rc = pw__inf_ready(d)) < 0)
        return d->err = rc;
    if (len && (rc = pw__inflate(d, in, len, out)) < 0)
        return d->err = rc;
    if (fin) {
        if ((rc = pw__inflate(d, pw__tail, 4, out)) < 0)
            return d->err = rc;
        d->inf_total = 0;
        /* no context takeover: a server keeps nothing until the next
         * message; a client (one connection) keeps the stream, reset */
        if (d->inf_reset && d->is_server)
            pw__inf_drop(d);
        else if (d->inf_reset && inflateReset(d->inf) != Z_OK)
            return d->err = PW_EWSD_ZLIB;
    }
    return 0;
}
