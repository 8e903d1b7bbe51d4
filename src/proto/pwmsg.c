/* pwmsg.c — pushwire's own wire format, both directions (pwmsg.h). */
#include "pwmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base64.h"
#include "utf8.h"
#include "ws_frame.h"

/* which of dec->num a number spelled as an id goes to */
enum { PW__NUM_ID, PW__NUM_CURSOR, PW__NUM_AFTER, PW__NUM_FIRST };

#define PW__JSON_DEPTH 64 /* the forms nest 3 deep; unknown members may nest more */

/* ================================================================ encoders */

struct pwmsg_item pwmsg_item_of(const struct pw_msg *m)
{
    struct pwmsg_item it = {m->id, m->channel, m->event, m->data, m->len, m->binary};
    return it;
}

int pwmsg_item_encode(struct pw_buf *b, const struct pwmsg_item *it, int with_channel)
{
    size_t saved = b->len;
    const uint8_t *data = it->data ? it->data : (const uint8_t *)"";
    int rc = pw_json_begin(b, '{');
    rc = rc ? rc : pw_json_kcstr(b, "id", it->id);
    if (with_channel)
        rc = rc ? rc : pw_json_kcstr(b, "channel", it->channel);
    rc = rc ? rc : pw_json_kcstr(b, "event", it->event ? it->event : "message");
    rc = rc ? rc : pw_json_key(b, "data");
    if (it->binary) {
        rc = rc ? rc : pw_json_b64(b, data, it->len);
        rc = rc ? rc : pw_json_kcstr(b, "encoding", "base64");
    } else
        rc = rc ? rc : pw_json_str(b, data, it->len);
    rc = rc ? rc : pw_json_end(b, '}');
    if (rc)
        b->len = saved;
    return rc;
}

int pwmsg_envelope_encode(struct pw_buf *b, const struct pw_msg *m)
{
    struct pwmsg_item it = pwmsg_item_of(m);
    return pwmsg_item_encode(b, &it, 1);
}

int pwmsg_poll_item_encode(struct pw_buf *b, const struct pw_msg *m)
{
    struct pwmsg_item it = pwmsg_item_of(m);
    return pwmsg_item_encode(b, &it, 0);
}

/* ,"after":…,"first":… — first NULL is "" (nothing held) */
static int pw__gap_members(struct pw_buf *b, const struct pwmsg_gap *g)
{
    int rc = pw_json_kcstr(b, "after", g->after);
    return rc ? rc : pw_json_kcstr(b, "first", g->first ? g->first : "");
}

/* '{"event":EVENT,"channel":CHANNEL' (null when there is none) */
static int pw__envelope_head(struct pw_buf *b, const char *event, const char *channel, size_t chlen)
{
    int rc = pw_json_begin(b, '{');
    rc = rc ? rc : pw_json_kcstr(b, "event", event);
    if (channel)
        return rc ? rc : pw_json_kstr(b, "channel", channel, chlen);
    return rc ? rc : pw_json_kcstr(b, "channel", NULL);
}

int pwmsg_gap_envelope_encode(struct pw_buf *b, const char *channel, size_t chlen,
                              const struct pwmsg_gap *g)
{
    size_t saved = b->len;
    int rc = pw__envelope_head(b, "gap", channel, chlen);
    rc = rc ? rc : pw__gap_members(b, g);
    rc = rc ? rc : pw_json_end(b, '}');
    if (rc)
        b->len = saved;
    return rc;
}

int pwmsg_position_envelope_encode(struct pw_buf *b, const char *channel, size_t chlen,
                                   const char *id)
{
    size_t saved = b->len;
    int rc = pw__envelope_head(b, "position", channel, chlen);
    rc = rc ? rc : pw_json_kcstr(b, "id", id);
    rc = rc ? rc : pw_json_end(b, '}');
    if (rc)
        b->len = saved;
    return rc;
}

int pwmsg_sse_gap_encode(struct pw_buf *b, const struct pwmsg_gap *g)
{
    size_t saved = b->len;
    int rc = pw_json_begin(b, '{');
    rc = rc ? rc : pw__gap_members(b, g);
    rc = rc ? rc : pw_json_end(b, '}');
    if (rc)
        b->len = saved;
    return rc;
}

int pwmsg_poll_list_add(struct pw_buf *list, const void *item, size_t len)
{
    size_t saved = list->len;
    int rc = list->len ? pw_buf_putc(list, ',') : 0;
    rc = rc ? rc : pw_buf_append(list, item, len);
    if (rc)
        list->len = saved;
    return rc;
}

int pwmsg_poll_encode(struct pw_buf *b, const char *cursor, const void *list, size_t len,
                      const struct pwmsg_gap *g)
{
    size_t saved = b->len;
    int rc = pw_json_begin(b, '{');
    rc = rc ? rc : pw_json_kcstr(b, "cursor", cursor);
    rc = rc ? rc : pw_json_key(b, "messages");
    rc = rc ? rc : pw_json_begin(b, '[');
    rc = rc ? rc : pw_buf_append(b, list, len);
    rc = rc ? rc : pw_json_end(b, ']');
    rc = rc ? rc : pw_json_kbool(b, "gap", g != NULL);
    if (g)
        rc = rc ? rc : pw__gap_members(b, g);
    rc = rc ? rc : pw_json_end(b, '}');
    rc = rc ? rc : pw_buf_putc(b, '\n');
    if (rc)
        b->len = saved;
    return rc;
}

size_t pwmsg_gap_reason(char out[PWMSG_REASON_MAX + 1], const struct pwmsg_gap *g)
{
    /* one byte past the limit: the first byte cut tells where a cut is safe */
    char full[PWMSG_REASON_MAX + 2];
    const char *after = g->after ? g->after : "";
    int n = g->first && g->first[0]
                ? snprintf(full, sizeof full, "gap: after %s, first held %s", after, g->first)
                : snprintf(full, sizeof full, "gap: after %s, nothing held", after);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof full ? (size_t)n : sizeof full - 1;
    size_t k = pw_utf8_cut((const uint8_t *)full, len, PWMSG_REASON_MAX);
    memcpy(out, full, k);
    out[k] = 0;
    return k;
}

int pwmsg_error_encode(struct pw_buf *b, const struct pwmsg_error *e)
{
    size_t saved = b->len;
    int rc = pw_json_begin(b, '{');
    rc = rc ? rc : pw_json_kcstr(b, "error", e->error);
    rc = rc ? rc : pw_json_kint(b, "status", e->status);
    if (e->rule && e->rule[0])
        rc = rc ? rc : pw_json_kcstr(b, "rule", e->rule);
    if (e->allow)
        rc = rc ? rc : pw_json_kcstr(b, "allow", e->allow);
    rc = rc ? rc : pw_json_end(b, '}');
    rc = rc ? rc : pw_buf_putc(b, '\n');
    if (rc)
        b->len = saved;
    return rc;
}

int pwmsg_pub_encode(struct pw_buf *b, const char *id)
{
    size_t saved = b->len;
    int rc = pw_json_begin(b, '{');
    rc = rc ? rc : pw_json_kcstr(b, "id", id);
    rc = rc ? rc : pw_json_end(b, '}');
    rc = rc ? rc : pw_buf_putc(b, '\n');
    if (rc)
        b->len = saved;
    return rc;
}

/* ================================================================ decoders */

void pwmsg_dec_init(struct pwmsg_dec *d, const struct pwmsg_limits *lim)
{
    static const struct pwmsg_limits def = PWMSG_LIMITS_DEFAULT;
    memset(d, 0, sizeof *d);
    d->lim = lim ? *lim : def;
    if (!d->lim.max_size)
        d->lim.max_size = def.max_size;
    if (!d->lim.max_messages)
        d->lim.max_messages = def.max_messages;
    if (!d->lim.max_field)
        d->lim.max_field = def.max_field;
    pw_buf_init(&d->bytes, 0);
}

/* Drops what the previous decode returned. */
static void pw__reset(struct pwmsg_dec *d)
{
    pw_json_free(d->root);
    pw_json_free(d->inner);
    d->root = d->inner = NULL;
    d->bytes.len = 0;
    d->why[0] = 0;
}

void pwmsg_dec_free(struct pwmsg_dec *d)
{
    pw__reset(d);
    pw_buf_free(&d->bytes);
}

__attribute__((format(printf, 3, 4)))
static int pw__why(struct pwmsg_dec *d, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->why, sizeof d->why, fmt, ap);
    va_end(ap);
    return code;
}

/* Parses text into *root, which must be an object. */
static int pw__parse(struct pwmsg_dec *d, const void *text, size_t len, struct pw_json **root)
{
    if (len > d->lim.max_size)
        return pw__why(d, PW_EPWMSG_TOOBIG, "%zu bytes of JSON: the limit is %zu", len,
                       d->lim.max_size);
    /* values bound the tree's memory: a generous 8 per message */
    struct pw_json_limits jl = {len + 1, PW__JSON_DEPTH, 8 * d->lim.max_messages + 64};
    size_t at = 0;
    int rc = pw_json_parse(text, len, &jl, root, &at);
    if (rc == PW_ENOMEM)
        return pw__why(d, rc, "out of memory");
    if (rc == PW_EJSON_VALUES)
        return pw__why(d, PW_EPWMSG_TOOMANY, "more than %zu JSON values", jl.max_values);
    if (rc)
        return pw__why(d, PW_EPWMSG_JSON, "not JSON: %s at byte %zu", pw_strerror(rc), at + 1);
    if (pw_json_type(*root) != PW_JSON_OBJECT)
        return pw__why(d, PW_EPWMSG_OBJECT, "the JSON text is not an object");
    return 0;
}

/* An optional string member, NULL when absent or null.  numslot >= 0 takes
 * an integer too, spelled into d->num[numslot]; max > 0 bounds the length. */
static int pw__str(struct pwmsg_dec *d, const struct pw_json *o, const char *key, int numslot,
                   size_t max, const char *where, const char **out)
{
    const struct pw_json *v = pw_json_get(o, key);
    *out = NULL;
    if (!v || pw_json_is_null(v))
        return 0;
    size_t n = 0;
    const char *s = pw_json_string(v, &n);
    int64_t i;
    if (!s && numslot >= 0 && pw_json_int64(v, &i) == 0) {
        n = (size_t)snprintf(d->num[numslot], sizeof d->num[numslot], "%lld", (long long)i);
        s = d->num[numslot];
    }
    if (!s)
        return pw__why(d, PW_EPWMSG_TYPE, "%s\"%s\" must be a string%s or null", where, key,
                       numslot >= 0 ? ", an integer" : "");
    if (memchr(s, 0, n))
        return pw__why(d, PW_EPWMSG_NUL, "%s\"%s\" holds a NUL byte", where, key);
    if (max && n > max)
        return pw__why(d, PW_EPWMSG_LONG, "%s\"%s\" is %zu bytes: the limit is %zu", where, key, n,
                       max);
    *out = s;
    return 0;
}

/* after and first of a gap, members of o, as said: first "" (none held)
 * stays "", NULL is not said */
static int pw__gap(struct pwmsg_dec *d, const struct pw_json *o, const char *where,
                   struct pwmsg_gap *g)
{
    size_t max = d->lim.max_field;
    int rc = pw__str(d, o, "after", PW__NUM_AFTER, max, where, &g->after);
    return rc ? rc : pw__str(d, o, "first", PW__NUM_FIRST, max, where, &g->first);
}

/* The base64 data of an item: checked, and with `decode` decoded into
 * d->bytes (NUL after). */
static int pw__b64(struct pwmsg_dec *d, const char *s, size_t n, int decode, const char *where,
                   struct pwmsg_item *out)
{
    if (!decode)
        return pw_base64_decode(s, n, NULL, 0) < 0
                   ? pw__why(d, PW_EPWMSG_BASE64, "%s\"data\" is not valid base64", where)
                   : 0;
    d->bytes.len = 0;
    int rc = pw_base64_decode_append(&d->bytes, s, n);
    rc = rc ? rc : pw_buf_putc(&d->bytes, 0);
    if (rc == PW_EBASE64)
        return pw__why(d, PW_EPWMSG_BASE64, "%s\"data\" is not valid base64", where);
    if (rc)
        return pw__why(d, PW_ENOMEM, "out of memory");
    out->data = d->bytes.p;
    out->len = d->bytes.len - 1;
    return 0;
}

/* One message (envelope or poll item); base64 data only checked unless
 * `decode`. */
static int pw__item(struct pwmsg_dec *d, const struct pw_json *o, const char *where, int decode,
                    struct pwmsg_item *out)
{
    memset(out, 0, sizeof *out);
    if (pw_json_type(o) != PW_JSON_OBJECT)
        return pw__why(d, PW_EPWMSG_OBJECT, "%sthe message is not an object", where);
    size_t max = d->lim.max_field;
    const char *enc;
    int rc = pw__str(d, o, "id", PW__NUM_ID, max, where, &out->id);
    rc = rc ? rc : pw__str(d, o, "channel", -1, max, where, &out->channel);
    rc = rc ? rc : pw__str(d, o, "event", -1, max, where, &out->event);
    rc = rc ? rc : pw__str(d, o, "encoding", -1, max, where, &enc);
    if (rc)
        return rc;
    if (!out->event)
        out->event = "message";
    if (enc && strcmp(enc, "base64") != 0)
        return pw__why(d, PW_EPWMSG_ENCODING, "%s\"encoding\" is \"%.40s\": want \"base64\"",
                       where, enc);
    const struct pw_json *v = pw_json_get(o, "data");
    size_t n = 0;
    const char *s = pw_json_string(v, &n);
    if (!v)
        return pw__why(d, PW_EPWMSG_MISSING, "%s\"data\" is missing", where);
    if (!s)
        return pw__why(d, PW_EPWMSG_TYPE, "%s\"data\" must be a string", where);
    out->binary = enc != NULL;
    if (enc)
        return pw__b64(d, s, n, decode, where, out);
    out->data = (const uint8_t *)s;
    out->len = n;
    return 0;
}

/* The gap envelope: after/first at the top level, else in "data" as an
 * object or as a JSON string holding one. */
static int pw__gap_envelope(struct pwmsg_dec *d, struct pwmsg_envelope *out)
{
    const struct pw_json *root = d->root, *data = pw_json_get(root, "data");
    out->gap = 1;
    out->m.event = "gap";
    int rc = pw__str(d, root, "channel", -1, d->lim.max_field, "", &out->m.channel);
    if (rc || pw_json_get(root, "after") || pw_json_get(root, "first") || !data ||
        pw_json_is_null(data))
        return rc ? rc : pw__gap(d, root, "", &out->g);
    size_t n;
    const char *s = pw_json_string(data, &n);
    if (s) {
        rc = pw__parse(d, s, n, &d->inner);
        if (rc) {
            char inner[sizeof d->why];
            memcpy(inner, d->why, sizeof inner);
            return pw__why(d, rc, "\"data\" of the gap: %.120s", inner);
        }
        data = d->inner;
    }
    if (pw_json_type(data) != PW_JSON_OBJECT)
        return pw__why(d, PW_EPWMSG_TYPE, "\"data\" of the gap must be an object or a string");
    return pw__gap(d, data, "\"data\" of the gap: ", &out->g);
}

int pwmsg_envelope_decode(struct pwmsg_dec *d, const void *text, size_t len,
                          struct pwmsg_envelope *out)
{
    memset(out, 0, sizeof *out);
    pw__reset(d);
    const char *ev;
    int rc = pw__parse(d, text, len, &d->root);
    rc = rc ? rc : pw__str(d, d->root, "event", -1, d->lim.max_field, "", &ev);
    if (rc)
        return rc;
    /* the server's gap has no id: a message published with ?event=gap has one */
    const struct pw_json *id = pw_json_get(d->root, "id");
    if (ev && strcmp(ev, "gap") == 0 && (!id || pw_json_is_null(id)))
        return pw__gap_envelope(d, out);
    if (ev && strcmp(ev, "position") == 0 && !pw_json_get(d->root, "data")) {
        /* no data: not a message whose event is named position */
        size_t max = d->lim.max_field;
        out->position = 1;
        out->m.event = "position";
        rc = pw__str(d, d->root, "id", PW__NUM_ID, max, "", &out->m.id);
        return rc ? rc : pw__str(d, d->root, "channel", -1, max, "", &out->m.channel);
    }
    return pw__item(d, d->root, "", 1, &out->m);
}

int pwmsg_poll_decode(struct pwmsg_dec *d, const void *text, size_t len, struct pwmsg_poll *out)
{
    memset(out, 0, sizeof *out);
    pw__reset(d);
    int rc = pw__parse(d, text, len, &d->root);
    if (rc)
        return rc;
    const struct pw_json *root = d->root, *msgs = pw_json_get(root, "messages");
    if (pw_json_type(msgs) != PW_JSON_ARRAY)
        return pw__why(d, PW_EPWMSG_MESSAGES, "no \"messages\" array");
    size_t count = pw_json_len(msgs);
    if (count > d->lim.max_messages)
        return pw__why(d, PW_EPWMSG_TOOMANY, "%zu messages: the limit is %zu", count,
                       d->lim.max_messages);
    const struct pw_json *gap = pw_json_get(root, "gap");
    if (gap && !pw_json_is_null(gap) && pw_json_boolean(gap, &out->gap))
        return pw__why(d, PW_EPWMSG_TYPE, "\"gap\" must be true or false");
    rc = pw__str(d, root, "cursor", PW__NUM_CURSOR, d->lim.max_field, "", &out->cursor);
    rc = rc ? rc : pw__gap(d, root, "", &out->g);
    for (size_t i = 0; i < count && !rc; i++) {
        char where[40];
        struct pwmsg_item it;
        snprintf(where, sizeof where, "messages[%zu]: ", i);
        rc = pw__item(d, pw_json_at(msgs, i), where, 0, &it);
    }
    if (rc)
        return rc;
    out->msgs = msgs;
    out->count = count;
    return 0;
}

int pwmsg_poll_at(struct pwmsg_dec *d, const struct pwmsg_poll *p, size_t i,
                  struct pwmsg_item *out)
{
    if (i >= p->count) {
        memset(out, 0, sizeof *out);
        return PW_EINVAL;
    }
    return pw__item(d, pw_json_at(p->msgs, i), "", 1, out);
}

int pwmsg_sse_gap_decode(struct pwmsg_dec *d, const void *text, size_t len, struct pwmsg_gap *out)
{
    memset(out, 0, sizeof *out);
    pw__reset(d);
    int rc = pw__parse(d, text, len, &d->root);
    return rc ? rc : pw__gap(d, d->root, "", out);
}

/* s[0..n) as a NUL-terminated copy at the end of d->bytes (room reserved) */
static const char *pw__copy(struct pwmsg_dec *d, const char *s, size_t n)
{
    char *p = (char *)d->bytes.p + d->bytes.len;
    memcpy(p, s, n);
    p[n] = 0;
    d->bytes.len += n + 1;
    return p;
}

int pwmsg_gap_reason_decode(struct pwmsg_dec *d, unsigned code, const char *reason, size_t len,
                            struct pwmsg_gap *out)
{
    static const char pre[] = "gap: after ", held[] = ", first held ", none[] = ", nothing held";
    memset(out, 0, sizeof *out);
    pw__reset(d);
    if (code != PW_WS_CLOSE_GAP || len < sizeof pre - 1 || memcmp(reason, pre, sizeof pre - 1))
        return pw__why(d, PW_EPWMSG_REASON, "close %u \"%.*s\" is not a gap", code,
                       (int)(len < 60 ? len : 60), len ? reason : "");
    if (len > PWMSG_REASON_MAX)
        return pw__why(d, PW_EPWMSG_TOOBIG, "a close reason of %zu bytes", len);
    if (memchr(reason, 0, len))
        return pw__why(d, PW_EPWMSG_NUL, "the close reason holds a NUL byte");
    if (pw_buf_reserve(&d->bytes, len + 2))
        return pw__why(d, PW_ENOMEM, "out of memory");
    /* ids cannot hold ", first held ": the first one splits; "nothing
     * held" is what the reason ends with; neither: a reason cut short */
    const char *a = reason + sizeof pre - 1, *e = reason + len;
    const char *h = memmem(a, (size_t)(e - a), held, sizeof held - 1);
    size_t nl = sizeof none - 1;
    const char *z = !h && (size_t)(e - a) >= nl && memcmp(e - nl, none, nl) == 0 ? e - nl : NULL;
    const char *end = h ? h : z ? z : e;
    out->after = pw__copy(d, a, (size_t)(end - a));
    if (h && h + sizeof held - 1 < e)
        out->first = pw__copy(d, h + sizeof held - 1, (size_t)(e - h - (sizeof held - 1)));
    else if (z)
        out->first = pw__copy(d, "", 0); /* nothing held: "", as the other signals say it */
    return 0;
}

int pwmsg_error_decode(struct pwmsg_dec *d, const void *text, size_t len, struct pwmsg_error *out)
{
    memset(out, 0, sizeof *out);
    pw__reset(d);
    int rc = pw__parse(d, text, len, &d->root);
    rc = rc ? rc : pw__str(d, d->root, "error", -1, 0, "", &out->error);
    rc = rc ? rc : pw__str(d, d->root, "rule", -1, 0, "", &out->rule);
    rc = rc ? rc : pw__str(d, d->root, "allow", -1, 0, "", &out->allow);
    if (rc)
        return rc;
    if (!out->error)
        return pw__why(d, PW_EPWMSG_MISSING, "\"error\" is missing");
    int64_t st;
    const struct pw_json *v = pw_json_get(d->root, "status");
    if (!v)
        return pw__why(d, PW_EPWMSG_MISSING, "\"status\" is missing");
    if (pw_json_int64(v, &st) || st < 100 || st > 599)
        return pw__why(d, PW_EPWMSG_TYPE, "\"status\" must be an HTTP status (100-599)");
    out->status = (int)st;
    return 0;
}

int pwmsg_pub_decode(struct pwmsg_dec *d, const void *text, size_t len, const char **id)
{
    *id = NULL;
    pw__reset(d);
    int rc = pw__parse(d, text, len, &d->root);
    rc = rc ? rc : pw__str(d, d->root, "id", PW__NUM_ID, d->lim.max_field, "", id);
    if (!rc && !*id)
        return pw__why(d, PW_EPWMSG_MISSING, "\"id\" is missing");
    return rc;
}
