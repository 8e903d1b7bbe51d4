/* lines.c — chunks → records.  See lines.h. */
#include <string.h>

#include "lines.h"
#include "pw_err.h"

void pw_lines_init(struct pw_lines *l, int delim, size_t max)
{
    l->delim = delim;
    l->max = max;
    l->overlong = 0;
    pw_buf_init(&l->part, 0); /* bounded by the checks below, against max */
}

void pw_lines_free(struct pw_lines *l) { pw_buf_free(&l->part); }

static int pw__lines_deliver(const struct pw_lines *l, const uint8_t *p, size_t n,
                             const struct pw_lines_cb *cb, void *ud)
{
    if (l->delim == '\n' && n && p[n - 1] == '\r')
        n--;
    return cb->on_line(ud, p, n);
}

static int pw__lines_long(struct pw_lines *l, const struct pw_lines_cb *cb, void *ud)
{
    l->part.len = 0;
    return cb->on_long ? cb->on_long(ud, l->max) : 0;
}

/* The bytes a record may hold: max, and a CR before the LF (which goes)
 * when cr says the record ends with one, or may still (not ended yet). */
static int pw__lines_too_long(const struct pw_lines *l, size_t n, int cr)
{
    size_t cap = l->max + (l->delim == '\n' && cr);
    return l->max && (n > cap || l->part.len > cap - n);
}

/* Does the record of part + p[0..n) end with a CR? */
static int pw__lines_cr(const struct pw_lines *l, const uint8_t *p, size_t n)
{
    return n ? p[n - 1] == '\r' : l->part.len && l->part.p[l->part.len - 1] == '\r';
}

/* A record ends at p + n: deliver it (joined with part when one was begun). */
static int pw__lines_record(struct pw_lines *l, const uint8_t *p, size_t n,
                            const struct pw_lines_cb *cb, void *ud)
{
    if (l->overlong) { /* its start was dropped already */
        l->overlong = 0;
        l->part.len = 0;
        return 0;
    }
    if (pw__lines_too_long(l, n, pw__lines_cr(l, p, n)))
        return pw__lines_long(l, cb, ud);
    if (!l->part.len)
        return pw__lines_deliver(l, p, n, cb, ud);
    if (pw_buf_append(&l->part, p, n))
        return PW_ENOMEM;
    size_t len = l->part.len;
    l->part.len = 0; /* the callback may stop us: the record is done either way */
    return pw__lines_deliver(l, l->part.p, len, cb, ud);
}

int pw_lines_feed(struct pw_lines *l, const uint8_t *p, size_t n, const struct pw_lines_cb *cb,
                  void *ud)
{
    if (l->delim == PW_LINES_RAW)
        return n ? cb->on_line(ud, p, n) : 0;
    const uint8_t *e = p + n;
    while (p < e) {
        const uint8_t *d = memchr(p, l->delim, (size_t)(e - p));
        if (!d)
            break;
        size_t k = (size_t)(d - p);
        /* the common case first: a whole record inside this chunk */
        int rc = !l->part.len && !l->overlong && (!l->max || k <= l->max)
                     ? pw__lines_deliver(l, p, k, cb, ud)
                     : pw__lines_record(l, p, k, cb, ud);
        if (rc)
            return rc;
        p = d + 1;
    }
    if (p == e || l->overlong)
        return 0;
    size_t rest = (size_t)(e - p);
    if (pw__lines_too_long(l, rest, 1)) { /* its CR may be yet to come */
        int rc = pw__lines_long(l, cb, ud);
        l->overlong = 1;
        return rc;
    }
    return pw_buf_append(&l->part, p, rest) ? PW_ENOMEM : 0;
}

int pw_lines_end(struct pw_lines *l, const struct pw_lines_cb *cb, void *ud)
{
    if (l->delim == PW_LINES_RAW)
        return 0;
    if (l->overlong || !l->part.len) {
        l->overlong = 0;
        l->part.len = 0;
        return 0;
    }
    if (pw__lines_too_long(l, 0, pw__lines_cr(l, NULL, 0))) /* max + 1 bytes without a CR */
        return pw__lines_long(l, cb, ud);
    size_t n = l->part.len;
    l->part.len = 0;
    return pw__lines_deliver(l, l->part.p, n, cb, ud);
}
