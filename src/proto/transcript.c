/* transcript.c — JSON Lines transcripts: writer and streaming reader.
 * See transcript.h for the format. */
#include "transcript.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "msg.h"
#include "utf8.h"

static const char *const pw__trec_names[] = {"text", "binary", "event"};

const char *pw_trec_type_name(enum pw_trec_type t)
{
    return (unsigned)t < 3 ? pw__trec_names[t] : "?";
}

/* ---- writer ---- */

static int pw__trec_body(struct pw_buf *b, const struct pw_trec *r)
{
    int rc = 0;
    /* microseconds, without the float noise %.17g would show */
    double t = r->t > 0 && isfinite(r->t) ? floor(r->t * 1e6 + 0.5) / 1e6 : 0;
    char num[352]; /* DBL_MAX in %.6f is 309 digits + ".000000" */
    int n = snprintf(num, sizeof num, "%.6f", t);
    if (n < 1 || (size_t)n >= sizeof num)
        return PW_EINVAL;
    while (n > 1 && num[n - 1] == '0')
        n--;
    if (num[n - 1] == '.')
        n--;
    rc |= pw_json_begin(b, '{');
    rc |= pw_json_key(b, "t");
    rc |= pw_buf_append(b, num, (size_t)n);
    rc |= pw_json_kcstr(b, "dir", r->out ? "out" : "in");
    rc |= pw_json_kcstr(b, "type", pw_trec_type_name(r->type));
    rc |= pw_json_key(b, "id");
    rc |= r->id ? pw_json_cstr(b, r->id) : pw_json_null(b);
    rc |= pw_json_kcstr(b, "event", r->event ? r->event : "message");
    if (r->channel)
        rc |= pw_json_kcstr(b, "channel", r->channel);
    const uint8_t *d = r->data ? r->data : (const uint8_t *)"";
    int b64 = r->type == PW_TREC_BINARY || !pw_utf8_valid(d, r->len);
    rc |= pw_json_key(b, "data");
    rc |= b64 ? pw_json_b64(b, d, r->len) : pw_json_str(b, d, r->len);
    if (b64)
        rc |= pw_json_kcstr(b, "encoding", "base64");
    rc |= pw_json_end(b, '}');
    rc |= pw_buf_putc(b, '\n');
    return rc;
}

int pw_trec_write(struct pw_buf *b, const struct pw_trec *r)
{
    size_t keep = b->len;
    int rc = pw__trec_body(b, r);
    if (rc) {
        /* the buffer errors are all negative and distinct; report the first
         * kind seen plainly */
        b->len = keep;
        return rc == PW_ETOOBIG ? PW_ETOOBIG : PW_ENOMEM;
    }
    return 0;
}

/* ---- one line ---- */

__attribute__((format(printf, 4, 5)))
static int pw__why(int code, char *why, size_t whysz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whysz, fmt, ap);
    va_end(ap);
    return code;
}

static const char *pw__jtype(const struct pw_json *v)
{
    static const char *const n[] = {"missing", "null", "a boolean", "a number",
                                    "a string", "an array", "an object"};
    unsigned t = pw_json_type(v);
    return t < 7 ? n[t] : "?";
}

/* An optional member that must be a string or null: 0 (absent or null:
 * *out NULL), 1 (string) or PW_ETR_TYPE. */
static int pw__optstr(const struct pw_json *root, const char *key, const char **out,
                      char *why, size_t whysz)
{
    const struct pw_json *v = pw_json_get(root, key);
    *out = NULL;
    if (!v || pw_json_is_null(v))
        return 0;
    if (pw_json_type(v) != PW_JSON_STRING)
        return pw__why(PW_ETR_TYPE, why, whysz, "\"%s\" must be a string or null, not %s",
                       key, pw__jtype(v));
    *out = pw_json_string(v, NULL);
    return 1;
}

static int pw__trec_fields(const struct pw_json *root, double *last_t, struct pw_trec *rec,
                           struct pw_buf *data, char *why, size_t whysz)
{
    if (pw_json_type(root) != PW_JSON_OBJECT)
        return pw__why(PW_ETR_OBJECT, why, whysz, "the line is %s, not a JSON object",
                       pw__jtype(root));
    static const char *const need[] = {"t", "dir", "type", "data"};
    for (size_t i = 0; i < 4; i++)
        if (!pw_json_get(root, need[i]))
            return pw__why(PW_ETR_MISSING, why, whysz, "required field \"%s\" is missing",
                           need[i]);
    const struct pw_json *t = pw_json_get(root, "t");
    if (pw_json_number(t, &rec->t))
        return pw__why(PW_ETR_TYPE, why, whysz, "\"t\" must be a number, not %s", pw__jtype(t));
    if (!isfinite(rec->t))
        return pw__why(PW_ETR_TIME, why, whysz,
                       "\"t\" is too large for a double: it must be seconds since the start");
    if (!(rec->t >= 0))
        return pw__why(PW_ETR_TIME, why, whysz, "\"t\" is %g: it must be 0 or more", rec->t);
    if (rec->t < *last_t)
        return pw__why(PW_ETR_BACKWARDS, why, whysz,
                       "\"t\" goes backwards: %g after %g on an earlier line", rec->t, *last_t);

    size_t n;
    const char *dir = pw_json_get_str(root, "dir", &n);
    if (!dir)
        return pw__why(PW_ETR_TYPE, why, whysz, "\"dir\" must be a string, not %s",
                       pw__jtype(pw_json_get(root, "dir")));
    if (strcmp(dir, "in") && strcmp(dir, "out"))
        return pw__why(PW_ETR_DIR, why, whysz, "\"dir\" is \"%.40s\": want \"in\" or \"out\"", dir);
    rec->out = dir[0] == 'o';

    const char *type = pw_json_get_str(root, "type", &n);
    if (!type)
        return pw__why(PW_ETR_TYPE, why, whysz, "\"type\" must be a string, not %s",
                       pw__jtype(pw_json_get(root, "type")));
    int k = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(type, pw__trec_names[i]) == 0)
            k = i;
    if (k < 0)
        return pw__why(PW_ETR_KIND, why, whysz,
                       "\"type\" is \"%.40s\": want \"text\", \"binary\" or \"event\"", type);
    rec->type = (enum pw_trec_type)k;

    int rc;
    if ((rc = pw__optstr(root, "id", &rec->id, why, whysz)) < 0 ||
        (rc = pw__optstr(root, "channel", &rec->channel, why, whysz)) < 0 ||
        (rc = pw__optstr(root, "event", &rec->event, why, whysz)) < 0)
        return rc;
    if (rec->event && !pw_event_valid(rec->event, pw_json_len(pw_json_get(root, "event"))))
        return pw__why(PW_ETR_EVENT, why, whysz,
                       "\"event\" must be 1-128 bytes without CR, LF or NUL");
    const char *enc;
    if ((rc = pw__optstr(root, "encoding", &enc, why, whysz)) < 0)
        return rc;
    if (enc && strcmp(enc, "base64"))
        return pw__why(PW_ETR_ENCODING, why, whysz,
                       "\"encoding\" is \"%.40s\": want \"base64\" or none", enc);

    const struct pw_json *d = pw_json_get(root, "data");
    const char *s = pw_json_string(d, &n);
    if (!s)
        return pw__why(PW_ETR_TYPE, why, whysz, "\"data\" must be a string, not %s",
                       pw__jtype(d));
    if (enc) {
        data->len = 0;
        rc = pw_base64_decode_append(data, s, n);
        if (rc == 0)
            rc = pw_buf_putc(data, 0);
        if (rc == PW_EBASE64)
            return pw__why(PW_ETR_BASE64, why, whysz,
                           "\"data\" is not valid base64 (RFC 4648 §4, padded, no spaces)");
        if (rc)
            return pw__why(rc, why, whysz, "%s", pw_strerror(rc));
        rec->data = data->p;
        rec->len = data->len - 1;
    } else {
        rec->data = (const uint8_t *)s;
        rec->len = n;
    }
    *last_t = rec->t;
    return 0;
}

int pw_trec_parse(const char *line, size_t n, double *last_t, struct pw_trec *rec,
                  struct pw_json **root, struct pw_buf *data, char *why, size_t whysz)
{
    memset(rec, 0, sizeof *rec);
    *root = NULL;
    struct pw_json_limits lim = {n + 1, 16, 4096};
    size_t at = 0;
    int rc = pw_json_parse(line, n, &lim, root, &at);
    if (rc == PW_ENOMEM)
        return pw__why(rc, why, whysz, "out of memory");
    if (rc)
        return pw__why(PW_ETR_JSON, why, whysz, "not JSON: %s at byte %zu", pw_strerror(rc),
                       at + 1);
    rc = pw__trec_fields(*root, last_t, rec, data, why, whysz);
    if (rc) {
        pw_json_free(*root);
        *root = NULL;
    }
    return rc;
}

/* ---- streaming reader ---- */

void pw_treader_init(struct pw_treader *r, FILE *f, size_t max_line)
{
    memset(r, 0, sizeof *r);
    r->f = f;
    r->fd = -1;
    r->max_line = max_line ? max_line : PW_TREADER_MAX_LINE_DEFAULT;
    pw_buf_init(&r->cur, r->max_line);
    pw_buf_init(&r->data, 0);
}

void pw_treader_free(struct pw_treader *r)
{
    pw_json_free(r->root);
    r->root = NULL;
    pw_buf_free(&r->cur);
    pw_buf_free(&r->data);
}

void pw_treader_live(struct pw_treader *r, int fd)
{
    r->fd = fd;
    r->live = 1;
}

void pw_treader_readable(struct pw_treader *r) { r->may_read = 1; }

/* One block into r->blk: fread, or in live mode one read(2) when allowed
 * (PW_TREADER_WAIT when not).  The bytes, 0 at EOF, or an error. */
static ssize_t pw__treader_fill(struct pw_treader *r)
{
    if (!r->live) {
        size_t got = fread(r->blk, 1, sizeof r->blk, r->f);
        return got == 0 && ferror(r->f) ? -1 : (ssize_t)got;
    }
    if (!r->may_read)
        return -PW_TREADER_WAIT;
    r->may_read = 0;
    ssize_t got;
    do
        got = read(r->fd, r->blk, sizeof r->blk);
    while (got < 0 && errno == EINTR);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return -PW_TREADER_WAIT;
    return got < 0 ? -1 : got;
}

/* The next line into r->cur (without '\n').  1, 0 at EOF, PW_TREADER_WAIT
 * (live mode: the line so far is kept for the next call), or an error. */
static int pw__treader_line(struct pw_treader *r)
{
    if (!r->resume)
        r->cur.len = 0;
    r->resume = 0;
    for (;;) {
        if (r->blk_pos == r->blk_len) {
            if (r->eof)
                return r->cur.len ? 1 : 0;
            ssize_t got = pw__treader_fill(r);
            if (got == -PW_TREADER_WAIT) {
                r->resume = 1;
                return PW_TREADER_WAIT;
            }
            if (got <= 0) {
                if (got < 0)
                    return pw__why(PW_ETR_READ, r->why, sizeof r->why, "read error");
                r->eof = 1;
                /* a last line without '\n' still counts */
                return r->cur.len ? 1 : 0;
            }
            r->blk_pos = 0;
            r->blk_len = (size_t)got;
        }
        const uint8_t *p = r->blk + r->blk_pos;
        size_t avail = r->blk_len - r->blk_pos;
        const uint8_t *nl = memchr(p, '\n', avail);
        size_t take = nl ? (size_t)(nl - p) : avail;
        if (pw_buf_append(&r->cur, p, take))
            return pw__why(PW_ETR_LINE, r->why, sizeof r->why,
                           "line longer than %zu bytes", r->max_line);
        r->blk_pos += take + (nl ? 1 : 0);
        if (nl)
            return 1;
    }
}

static int pw__blank(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    return 1;
}

int pw_treader_next(struct pw_treader *r, struct pw_trec *rec)
{
    if (r->err)
        return r->err;
    pw_json_free(r->root);
    r->root = NULL;
    for (;;) {
        /* count the line even when it is too long, so the error names it */
        int rc = pw__treader_line(r);
        if (rc == 0 || rc == PW_TREADER_WAIT)
            return rc;
        r->line++;
        if (rc < 0)
            return r->err = rc;
        if (pw__blank(r->cur.p, r->cur.len))
            continue;
        rc = pw_trec_parse((const char *)r->cur.p, r->cur.len, &r->last_t, rec, &r->root,
                           &r->data, r->why, sizeof r->why);
        if (rc)
            return r->err = rc;
        return 1;
    }
}
