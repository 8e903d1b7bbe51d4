/* http1.c — see http1.h.  A cursor walks buf[0..n) where n is capped at
 * max_head, so nothing past the limit is ever read; every scanner returns
 * PW_EAGAIN when it runs off the end and an error as soon as a byte is
 * wrong. */
#include "http1.h"

#include <stdint.h>
#include <string.h>

struct pw__hp {
    const char *b;
    size_t n, i;
};

/* RFC 9110 §5.6.2 tchar: ALPHA DIGIT and !#$%&'*+-.^_`|~ */
static const uint8_t pw__tchars[256] = {
    ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
    ['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1,
    ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1,
    ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1,
    ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1,
    ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

static int pw__tchar(unsigned char c)
{
    return pw__tchars[c];
}

static int pw__lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int pw__hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* At a line end: CRLF, or a bare LF (tolerated).  `other` is the error for
 * any other byte. */
static int pw__eol(struct pw__hp *h, int other)
{
    if (h->i >= h->n)
        return PW_EAGAIN;
    char c = h->b[h->i];
    if (c == '\n') {
        h->i++;
        return 0;
    }
    if (c != '\r')
        return other;
    if (h->i + 1 >= h->n)
        return PW_EAGAIN;
    if (h->b[h->i + 1] != '\n')
        return PW_EHTTP_LINE;
    h->i += 2;
    return 0;
}

/* "HTTP/1.0" or "HTTP/1.1", checked byte by byte so that a wrong prefix
 * fails before the rest arrives. */
static int pw__version(struct pw__hp *h, int *minor, int err)
{
    static const char want[] = "HTTP/1.";
    for (size_t k = 0; k < 8; k++) {
        if (h->i + k >= h->n)
            return PW_EAGAIN;
        char c = h->b[h->i + k];
        if (k < 7 ? c != want[k] : (c != '0' && c != '1'))
            return err;
    }
    *minor = h->b[h->i + 7] - '0';
    h->i += 8;
    return 0;
}

/* Header lines up to and including the empty line. */
static int pw__headers(struct pw__hp *h, struct pw_http_header *hd, size_t *count, size_t max)
{
    *count = 0;
    for (;;) {
        if (h->i >= h->n)
            return PW_EAGAIN;
        char c = h->b[h->i];
        if (c == '\r' || c == '\n')
            return pw__eol(h, PW_EHTTP_LINE);
        if (c == ' ' || c == '\t')
            return PW_EHTTP_OBS_FOLD;
        if (*count == max)
            return PW_EHTTP_TOO_MANY_HEADERS;
        size_t ns = h->i;
        while (h->i < h->n && pw__tchar((unsigned char)h->b[h->i]))
            h->i++;
        if (h->i >= h->n)
            return PW_EAGAIN;
        if (h->b[h->i] != ':' || h->i == ns)
            return PW_EHTTP_HEADER_NAME;
        size_t ne = h->i++;
        while (h->i < h->n && (h->b[h->i] == ' ' || h->b[h->i] == '\t'))
            h->i++;
        size_t vs = h->i;
        for (; h->i < h->n; h->i++) {
            unsigned char v = (unsigned char)h->b[h->i];
            if (v == '\r' || v == '\n')
                break;
            if ((v < 0x20 && v != '\t') || v == 0x7f)
                return PW_EHTTP_HEADER_VALUE;
        }
        size_t ve = h->i;
        int rc = pw__eol(h, PW_EHTTP_LINE);
        if (rc)
            return rc;
        while (ve > vs && (h->b[ve - 1] == ' ' || h->b[ve - 1] == '\t'))
            ve--;
        hd[*count].name = (struct pw_str){h->b + ns, ne - ns};
        hd[*count].value = (struct pw_str){h->b + vs, ve - vs};
        (*count)++;
    }
}

/* Content-Length and Transfer-Encoding, the same for both directions. */
static int pw__framing(const struct pw_http_header *hd, size_t n, long long *clen, int *chunked)
{
    int ncl, nte;
    const struct pw_str *cl = pw_http_header_get(hd, n, "content-length", &ncl);
    const struct pw_str *te = pw_http_header_get(hd, n, "transfer-encoding", &nte);
    *clen = -1;
    *chunked = 0;
    if (cl) {
        if (ncl > 1 || cl->len == 0 || cl->len > 18)
            return PW_EHTTP_CONTENT_LENGTH;
        long long v = 0;
        for (size_t k = 0; k < cl->len; k++) {
            if (cl->p[k] < '0' || cl->p[k] > '9')
                return PW_EHTTP_CONTENT_LENGTH;
            v = v * 10 + (cl->p[k] - '0');
        }
        *clen = v;
    }
    if (te) {
        if (nte > 1 || !pw_str_ieq(*te, "chunked"))
            return PW_EHTTP_TE;
        if (cl)
            return PW_EHTTP_TE_CL;
        *chunked = 1;
    }
    return 0;
}

/* The bytes to look at (never more than max_head) and the header bound. */
static size_t pw__limits(const struct pw_http_limits *lim, size_t len, size_t *max_head, size_t *maxh)
{
    *max_head = lim && lim->max_head ? lim->max_head : 8192;
    if (*max_head > INT32_MAX) /* the head length is returned as an int */
        *max_head = INT32_MAX;
    *maxh = lim && lim->max_headers ? lim->max_headers : 64;
    if (*maxh > PW_HTTP_MAX_HEADERS)
        *maxh = PW_HTTP_MAX_HEADERS;
    return len < *max_head ? len : *max_head;
}

/* Incomplete, but the buffer already holds max_head bytes: the head can only
 * end past the limit. */
static int pw__again_or_toobig(int rc, size_t len, size_t max_head)
{
    return rc == PW_EAGAIN && len >= max_head ? PW_EHTTP_HEAD_TOOBIG : rc;
}

/* Path and query of the target; checks its form (RFC 9112 §3.2). */
static int pw__target(struct pw_http_req *req)
{
    const char *t = req->target.p;
    size_t n = req->target.len, ps = 0;
    if (n == 1 && t[0] == '*') {
        if (!pw_str_eq(req->method, "OPTIONS"))
            return PW_EHTTP_TARGET;
        req->path = req->target;
        req->query = (struct pw_str){t + n, 0};
        return 0;
    }
    if (t[0] != '/') {
        /* absolute-form: scheme "://" authority [path] */
        size_t k = 0;
        if (!((t[0] >= 'a' && t[0] <= 'z') || (t[0] >= 'A' && t[0] <= 'Z')))
            return PW_EHTTP_TARGET;
        while (k < n && (t[k] == '+' || t[k] == '-' || t[k] == '.' || (t[k] >= '0' && t[k] <= '9')
                         || (t[k] >= 'a' && t[k] <= 'z') || (t[k] >= 'A' && t[k] <= 'Z')))
            k++;
        if (n - k < 4 || memcmp(t + k, "://", 3) != 0 || t[k + 3] == '/' || t[k + 3] == '?')
            return PW_EHTTP_TARGET;
        ps = k + 3;
        while (ps < n && t[ps] != '/' && t[ps] != '?')
            ps++;
    }
    size_t q = ps;
    while (q < n && t[q] != '?')
        q++;
    if (q == ps)
        req->path = (struct pw_str){"/", 1};
    else
        req->path = (struct pw_str){t + ps, q - ps};
    req->query = q < n ? (struct pw_str){t + q + 1, n - q - 1} : (struct pw_str){t + n, 0};
    return 0;
}

static int pw__request_line(struct pw__hp *h, struct pw_http_req *req)
{
    /* RFC 9112 §2.2: empty lines before the request line are ignored */
    while (h->i < h->n && (h->b[h->i] == '\r' || h->b[h->i] == '\n')) {
        int rc = pw__eol(h, PW_EHTTP_LINE);
        if (rc)
            return rc;
    }
    size_t ms = h->i;
    while (h->i < h->n && pw__tchar((unsigned char)h->b[h->i]))
        h->i++;
    if (h->i >= h->n)
        return PW_EAGAIN;
    if (h->b[h->i] != ' ' || h->i == ms)
        return PW_EHTTP_METHOD;
    req->method = (struct pw_str){h->b + ms, h->i - ms};
    size_t ts = ++h->i;
    while (h->i < h->n) {
        unsigned char c = (unsigned char)h->b[h->i];
        if (c <= 0x20 || c >= 0x7f || c == '#')
            break;
        h->i++;
    }
    if (h->i >= h->n)
        return PW_EAGAIN;
    char c = h->b[h->i];
    if (h->i == ts || c != ' ')
        return (c == '\r' || c == '\n') && h->i > ts ? PW_EHTTP_VERSION : PW_EHTTP_TARGET;
    req->target = (struct pw_str){h->b + ts, h->i - ts};
    int rc = pw__target(req);
    if (rc)
        return rc;
    h->i++;
    rc = pw__version(h, &req->minor, PW_EHTTP_VERSION);
    if (rc)
        return rc;
    return pw__eol(h, PW_EHTTP_VERSION);
}

/* RFC 9112 §3.2 / RFC 3986 §3.2.2: Host = uri-host [ ":" port ], possibly
 * empty.  IP-literals are checked for their character set only. */
static int pw__host_ok(struct pw_str h)
{
    static const char regname[] = "-._~%!$&'()*+,;=";
    size_t i = 0;
    if (h.len && h.p[0] == '[') {
        for (i = 1; i < h.len && h.p[i] != ']'; i++)
            if (!(pw__hexval(h.p[i]) >= 0 || h.p[i] == ':' || h.p[i] == '.' || h.p[i] == 'v' || h.p[i] == 'V'))
                return 0;
        if (i == h.len)
            return 0;
        i++;
    } else {
        for (; i < h.len && h.p[i] != ':'; i++) {
            char c = h.p[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || memchr(regname, c, sizeof regname - 1)))
                return 0;
        }
    }
    if (i == h.len)
        return 1;
    if (h.p[i] != ':')
        return 0;
    for (i++; i < h.len; i++)
        if (h.p[i] < '0' || h.p[i] > '9')
            return 0;
    return 1;
}

int pw_http_parse_request(const char *buf, size_t len, struct pw_http_req *req,
                          const struct pw_http_limits *lim)
{
    size_t max_head, maxh;
    size_t n = pw__limits(lim, len, &max_head, &maxh);
    struct pw__hp h = {buf, n, 0};
    req->nheaders = 0;
    req->content_length = -1;
    req->chunked = 0;
    int rc = pw__request_line(&h, req);
    if (!rc)
        rc = pw__headers(&h, req->headers, &req->nheaders, maxh);
    if (rc)
        return pw__again_or_toobig(rc, len, max_head);
    int nhost;
    const struct pw_str *host = pw_http_header_get(req->headers, req->nheaders, "host", &nhost);
    if (nhost > 1 || (nhost == 0 && req->minor == 1) || (host && !pw__host_ok(*host)))
        return PW_EHTTP_HOST;
    rc = pw__framing(req->headers, req->nheaders, &req->content_length, &req->chunked);
    if (rc)
        return rc;
    if (req->chunked && req->minor == 0)
        return PW_EHTTP_TE; /* RFC 9112 §6.1: faulty framing in 1.0 */
    return (int)h.i;
}

static int pw__status_line(struct pw__hp *h, struct pw_http_resp *resp)
{
    int rc = pw__version(h, &resp->minor, PW_EHTTP_VERSION);
    if (rc)
        return rc;
    if (h->i >= h->n)
        return PW_EAGAIN;
    if (h->b[h->i++] != ' ')
        return PW_EHTTP_STATUS;
    int st = 0;
    for (int k = 0; k < 3; k++) {
        if (h->i >= h->n)
            return PW_EAGAIN;
        char c = h->b[h->i++];
        if (c < (k ? '0' : '1') || c > (k ? '9' : '5'))
            return PW_EHTTP_STATUS;
        st = st * 10 + (c - '0');
    }
    resp->status = st;
    if (h->i >= h->n)
        return PW_EAGAIN;
    size_t rs = h->i;
    if (h->b[h->i] == ' ') {
        rs = ++h->i;
        for (; h->i < h->n; h->i++) {
            unsigned char c = (unsigned char)h->b[h->i];
            if (c == '\r' || c == '\n')
                break;
            if ((c < 0x20 && c != '\t') || c == 0x7f)
                return PW_EHTTP_STATUS;
        }
    }
    resp->reason = (struct pw_str){h->b + rs, h->i - rs};
    return pw__eol(h, PW_EHTTP_STATUS);
}

int pw_http_parse_response(const char *buf, size_t len, struct pw_http_resp *resp,
                           const struct pw_http_limits *lim)
{
    size_t max_head, maxh;
    size_t n = pw__limits(lim, len, &max_head, &maxh);
    struct pw__hp h = {buf, n, 0};
    resp->nheaders = 0;
    resp->content_length = -1;
    resp->chunked = 0;
    int rc = pw__status_line(&h, resp);
    if (!rc)
        rc = pw__headers(&h, resp->headers, &resp->nheaders, maxh);
    if (rc)
        return pw__again_or_toobig(rc, len, max_head);
    rc = pw__framing(resp->headers, resp->nheaders, &resp->content_length, &resp->chunked);
    return rc ? rc : (int)h.i;
}

/* ---- helpers ---- */

int pw_str_ieq(struct pw_str s, const char *c)
{
    size_t n = strlen(c);
    if (s.len != n)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (pw__lower((unsigned char)s.p[k]) != pw__lower((unsigned char)c[k]))
            return 0;
    return 1;
}

int pw_str_eq(struct pw_str s, const char *c)
{
    size_t n = strlen(c);
    return s.len == n && memcmp(s.p, c, n) == 0;
}

const struct pw_str *pw_http_header_get(const struct pw_http_header *h, size_t n,
                                        const char *name, int *count)
{
    const struct pw_str *first = NULL;
    int cnt = 0;
    for (size_t k = 0; k < n; k++) {
        if (!pw_str_ieq(h[k].name, name))
            continue;
        if (!first)
            first = &h[k].value;
        cnt++;
    }
    if (count)
        *count = cnt;
    return first;
}

int pw_http_list_has(struct pw_str value, const char *token)
{
    size_t k = 0;
    while (k < value.len) {
        size_t s = k;
        while (k < value.len && value.p[k] != ',')
            k++;
        size_t e = k++;
        while (s < e && (value.p[s] == ' ' || value.p[s] == '\t'))
            s++;
        while (e > s && (value.p[e - 1] == ' ' || value.p[e - 1] == '\t'))
            e--;
        if (e > s && pw_str_ieq((struct pw_str){value.p + s, e - s}, token))
            return 1;
    }
    return 0;
}

int pw_http_query_get(struct pw_str query, const char *key, char *out, size_t outsz)
{
    size_t kl = strlen(key), k = 0;
    while (k < query.len) {
        size_t s = k;
        while (k < query.len && query.p[k] != '&')
            k++;
        size_t e = k++;
        size_t eq = s;
        while (eq < e && query.p[eq] != '=')
            eq++;
        if (eq - s != kl || memcmp(query.p + s, key, kl) != 0)
            continue;
        size_t w = 0;
        for (size_t r = eq < e ? eq + 1 : e; r < e; r++) {
            int ch = (unsigned char)query.p[r];
            if (ch == '+') {
                ch = ' ';
            } else if (ch == '%') {
                if (e - r < 3)
                    return PW_EINVAL;
                int hi = pw__hexval(query.p[r + 1]), lo = pw__hexval(query.p[r + 2]);
                if (hi < 0 || lo < 0 || (hi | lo) == 0)
                    return PW_EINVAL;
                ch = hi << 4 | lo;
                r += 2;
            }
            if (w + 1 >= outsz)
                return PW_ETOOBIG;
            out[w++] = (char)ch;
        }
        if (outsz == 0)
            return PW_ETOOBIG;
        out[w] = 0;
        return w > INT32_MAX ? PW_ETOOBIG : (int)w;
    }
    return -1;
}

/* ---- chunked transfer coding ---- */

enum {
    PW__CK_SIZE,    /* chunk-size hex digits */
    PW__CK_BWS,     /* after the size: BWS, then ';' or CR */
    PW__CK_EXT,     /* chunk extensions up to CR */
    PW__CK_SIZE_LF, /* LF after the size line */
    PW__CK_DATA,
    PW__CK_DATA_CR, /* CRLF after the chunk data */
    PW__CK_DATA_LF,
    PW__CK_TR_START, /* start of a trailer line, or the final CRLF */
    PW__CK_TR_NAME,
    PW__CK_TR_VALUE,
    PW__CK_TR_LF,
    PW__CK_END_LF,
    PW__CK_DONE,
};

#define PW__CK_LINE_MAX 4096

void pw_http_chunked_init(struct pw_http_chunked *c)
{
    memset(c, 0, sizeof *c);
}

static int pw__ck_hex(uint8_t ch)
{
    return pw__hexval((char)ch);
}

static int pw__ck_ctl(uint8_t ch)
{
    return (ch < 0x20 && ch != '\t') || ch == 0x7f;
}

/* One byte of everything but chunk data: 0 to go on, 1 done, <0 error. */
static int pw__ck_byte(struct pw_http_chunked *c, uint8_t ch)
{
    if (c->state != PW__CK_SIZE_LF && c->state != PW__CK_DATA_CR && c->state != PW__CK_DATA_LF
        && ++c->line > PW__CK_LINE_MAX)
        return PW_EHTTP_CHUNKED;
    switch (c->state) {
    case PW__CK_SIZE: {
        int d = pw__ck_hex(ch);
        if (d >= 0) {
            if (++c->ndigits > 15)
                return PW_EHTTP_CHUNKED;
            c->left = c->left << 4 | (uint64_t)d;
            return 0;
        }
        if (c->ndigits == 0)
            return PW_EHTTP_CHUNKED;
        c->state = PW__CK_BWS;
        c->line--; /* the byte after the digits, counted once */
        return pw__ck_byte(c, ch);
    }
    case PW__CK_BWS:
        if (ch == ' ' || ch == '\t')
            return 0;
        if (ch == ';')
            c->state = PW__CK_EXT;
        else if (ch == '\r')
            c->state = PW__CK_SIZE_LF;
        else
            return PW_EHTTP_CHUNKED;
        return 0;
    case PW__CK_EXT:
        if (ch == '\r')
            c->state = PW__CK_SIZE_LF;
        else if (pw__ck_ctl(ch))
            return PW_EHTTP_CHUNKED;
        return 0;
    case PW__CK_SIZE_LF:
        if (ch != '\n')
            return PW_EHTTP_CHUNKED;
        c->line = 0;
        c->state = c->left ? PW__CK_DATA : PW__CK_TR_START;
        return 0;
    case PW__CK_DATA_CR:
        if (ch != '\r')
            return PW_EHTTP_CHUNKED;
        c->state = PW__CK_DATA_LF;
        return 0;
    case PW__CK_DATA_LF:
        if (ch != '\n')
            return PW_EHTTP_CHUNKED;
        c->state = PW__CK_SIZE;
        c->left = 0;
        c->ndigits = 0;
        c->line = 0;
        return 0;
    case PW__CK_TR_START:
        if (ch == '\r')
            c->state = PW__CK_END_LF;
        else if (pw__tchar(ch))
            c->state = PW__CK_TR_NAME;
        else
            return PW_EHTTP_CHUNKED;
        return 0;
    case PW__CK_TR_NAME:
        if (ch == ':')
            c->state = PW__CK_TR_VALUE;
        else if (!pw__tchar(ch))
            return PW_EHTTP_CHUNKED;
        return 0;
    case PW__CK_TR_VALUE:
        if (ch == '\r')
            c->state = PW__CK_TR_LF;
        else if (pw__ck_ctl(ch))
            return PW_EHTTP_CHUNKED;
        return 0;
    case PW__CK_TR_LF:
        if (ch != '\n')
            return PW_EHTTP_CHUNKED;
        c->state = PW__CK_TR_START;
        return 0;
    case PW__CK_END_LF:
        if (ch != '\n')
            return PW_EHTTP_CHUNKED;
        c->state = PW__CK_DONE;
        return 1;
    default:
        return PW_EHTTP_CHUNKED;
    }
}

int pw_http_chunked_feed(struct pw_http_chunked *c, const uint8_t *in, size_t len,
                         struct pw_buf *out, size_t *used)
{
    *used = 0;
    if (c->err)
        return c->err;
    if (c->state == PW__CK_DONE)
        return 1;
    size_t i = 0;
    while (i < len) {
        if (c->state == PW__CK_DATA) {
            size_t k = len - i;
            if ((uint64_t)k > c->left)
                k = (size_t)c->left;
            int rc = pw_buf_append(out, in + i, k);
            if (rc)
                return c->err = rc;
            c->left -= k;
            i += k;
            if (!c->left)
                c->state = PW__CK_DATA_CR;
            continue;
        }
        int rc = pw__ck_byte(c, in[i++]);
        if (rc < 0)
            return c->err = rc;
        if (rc == 1) {
            *used = i;
            return 1;
        }
    }
    *used = len;
    return 0;
}
