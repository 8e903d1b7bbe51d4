/* sse.c — see sse.h.  The parser cuts the byte stream into lines (a whole
 * line inside one chunk is processed in place; only a line split across
 * chunks is copied into p->line), repairs invalid UTF-8 per line (CR and LF
 * never occur inside a UTF-8 sequence, so this equals decoding the whole
 * stream first), then interprets the line per WHATWG HTML §9.2.6. */
#include "sse.h"

#include <string.h>

#include "utf8_repair.h"

#define PW__SSE_MAX_DATA (1024u * 1024)

static const uint8_t pw__bom[3] = {0xEF, 0xBB, 0xBF};

void pw_sse_parser_init(struct pw_sse_parser *p, const struct pw_sse_callbacks *cb,
                        void *ud, size_t max_line, size_t max_data)
{
    memset(p, 0, sizeof *p);
    p->cb = *cb;
    p->ud = ud;
    p->max_data = max_data ? max_data : PW__SSE_MAX_DATA;
    /* one limit: a line may carry a whole event's data */
    if (!max_line)
        max_line = p->max_data > SIZE_MAX - PW_SSE_LINE_SLACK ? SIZE_MAX : p->max_data + PW_SSE_LINE_SLACK;
    p->max_line = max_line;
    pw_buf_init(&p->line, 0);
    pw_buf_init(&p->data, 0);
    pw_buf_init(&p->event, 0);
    pw_buf_init(&p->id, 0);
    pw_buf_init(&p->last_id, 0);
    pw_buf_init(&p->fix, 0);
}

void pw_sse_parser_free(struct pw_sse_parser *p)
{
    pw_buf_free(&p->line);
    pw_buf_free(&p->data);
    pw_buf_free(&p->event);
    pw_buf_free(&p->id);
    pw_buf_free(&p->last_id);
    pw_buf_free(&p->fix);
}

/* The buffer as a NUL-terminated string (the NUL is not counted in len). */
static int pw__cstr(struct pw_buf *b, const char **out)
{
    int rc = pw_buf_reserve(b, 1);
    if (rc)
        return rc;
    b->p[b->len] = 0;
    *out = (const char *)b->p;
    return 0;
}

static int pw__set(struct pw_buf *b, const uint8_t *v, size_t n)
{
    pw_buf_reset(b);
    return pw_buf_append(b, v, n);
}

static int pw__same(const struct pw_buf *a, const struct pw_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

static int pw__dispatch(struct pw_sse_parser *p)
{
    struct pw_sse_event ev;
    /* 1. the last event ID string takes the buffer's value, data or not */
    int changed = !pw__same(&p->last_id, &p->id);
    int rc = changed ? pw__set(&p->last_id, p->id.p, p->id.len) : 0;
    if (!rc)
        rc = pw__cstr(&p->last_id, &ev.id); /* kept terminated for _last_id() */
    if (rc)
        return rc;
    if (changed && p->cb.on_last_id)
        p->cb.on_last_id(p->ud, ev.id);
    ev.own_id = p->id_field;
    p->id_field = 0;
    /* 2. no data: reset the type and dispatch nothing */
    if (p->data.len == 0) {
        pw_buf_reset(&p->event);
        return 0;
    }
    /* 3. drop the one trailing LF */
    p->data.len--;
    ev.data_len = p->data.len;
    if ((rc = pw__cstr(&p->data, &ev.data)))
        return rc;
    if (p->event.len == 0) {
        ev.event = "message";
    } else if ((rc = pw__cstr(&p->event, &ev.event))) {
        return rc;
    }
    p->cb.on_event(p->ud, &ev);
    pw_buf_reset(&p->data);
    pw_buf_reset(&p->event);
    return 0;
}

/* Only ASCII digits set the reconnection time; anything else is ignored, and
 * so is a number past 64 bits (Chromium parses it strictly and drops it).
 * Empty: PW_SSE_RETRY_DEFAULT, Chromium's "back to the default". */
static void pw__retry(struct pw_sse_parser *p, const uint8_t *v, size_t vl)
{
    uint64_t ms = 0;
    for (size_t k = 0; k < vl; k++) {
        if (v[k] < '0' || v[k] > '9')
            return;
        unsigned d = v[k] - '0';
        if (ms > (UINT64_MAX - 1 - d) / 10)
            return; /* keeps every value below PW_SSE_RETRY_DEFAULT */
        ms = ms * 10 + d;
    }
    if (p->cb.on_retry)
        p->cb.on_retry(p->ud, vl ? ms : PW_SSE_RETRY_DEFAULT);
}

static int pw__field(struct pw_sse_parser *p, const uint8_t *name, size_t nl, const uint8_t *v, size_t vl)
{
    if (nl == 5 && memcmp(name, "event", 5) == 0)
        return pw__set(&p->event, v, vl); /* bounded by max_line (x3 after repair) */
    if (nl == 4 && memcmp(name, "data", 4) == 0) {
        /* the buffer holds one LF per line; the last one is not delivered,
         * so the buffer may reach max_data + 1 */
        if (vl > p->max_data || p->data.len > p->max_data - vl)
            return PW_ESSE_EVENT_TOOBIG;
        int rc = pw_buf_reserve(&p->data, vl + 1);
        if (rc)
            return rc;
        pw_buf_append(&p->data, v, vl);
        pw_buf_putc(&p->data, '\n');
        return 0;
    }
    if (nl == 2 && memcmp(name, "id", 2) == 0) {
        if (vl && memchr(v, 0, vl))
            return 0; /* an id with NULL is ignored */
        p->id_field = 1;
        return pw__set(&p->id, v, vl);
    }
    if (nl == 5 && memcmp(name, "retry", 5) == 0)
        pw__retry(p, v, vl);
    return 0; /* other fields are ignored */
}

/* Replaces invalid UTF-8 in the line (see utf8_repair.h) into p->fix. */
static int pw__repair(struct pw_sse_parser *p, const uint8_t **l, size_t *n)
{
    size_t ok = pw__u8_valid_prefix(*l, *n);
    if (ok == *n)
        return 0;
    pw_buf_reset(&p->fix);
    int rc = pw_buf_append(&p->fix, *l, ok);
    for (size_t k = ok; !rc && k < *n;) {
        uint32_t cp;
        size_t step = pw__u8_next(*l + k, *n - k, &cp);
        rc = cp == 0xFFFD ? pw_buf_append(&p->fix, "\xEF\xBF\xBD", 3) : pw_buf_append(&p->fix, *l + k, step);
        k += step;
    }
    *l = p->fix.p;
    *n = p->fix.len;
    return rc;
}

static int pw__line(struct pw_sse_parser *p, const uint8_t *l, size_t n)
{
    if (n == 0)
        return pw__dispatch(p);
    int rc = pw__repair(p, &l, &n);
    if (rc)
        return rc;
    if (l[0] == ':') {
        if (p->cb.on_comment)
            p->cb.on_comment(p->ud, (const char *)l + 1, n - 1);
        return 0;
    }
    const uint8_t *colon = memchr(l, ':', n);
    if (!colon)
        return pw__field(p, l, n, l + n, 0);
    size_t nl = (size_t)(colon - l), vs = nl + 1;
    if (vs < n && l[vs] == ' ')
        vs++;
    return pw__field(p, l, nl, l + vs, n - vs);
}

static int pw__fail(struct pw_sse_parser *p, int err)
{
    p->err = err;
    return err;
}

/* Bytes after the BOM check. */
static int pw__feed(struct pw_sse_parser *p, const uint8_t *in, size_t len)
{
    size_t i = 0;
    if (p->last_cr && len) {
        p->last_cr = 0;
        if (in[0] == '\n')
            i = 1; /* the LF of a CRLF split across chunks */
    }
    while (i < len) {
        size_t j = i;
        while (j < len && in[j] != '\r' && in[j] != '\n')
            j++;
        if (j == len) { /* unterminated: keep it for the next chunk */
            if (j - i > p->max_line - p->line.len)
                return pw__fail(p, PW_ESSE_LINE_TOOBIG);
            int rc = pw_buf_append(&p->line, in + i, j - i);
            return rc ? pw__fail(p, rc) : 0;
        }
        int rc;
        if (p->line.len == 0) {
            rc = j - i > p->max_line ? PW_ESSE_LINE_TOOBIG : pw__line(p, in + i, j - i);
        } else {
            rc = j - i > p->max_line - p->line.len ? PW_ESSE_LINE_TOOBIG : pw_buf_append(&p->line, in + i, j - i);
            if (!rc)
                rc = pw__line(p, p->line.p, p->line.len);
            pw_buf_reset(&p->line);
        }
        if (rc)
            return pw__fail(p, rc);
        if (in[j] == '\r') {
            if (j + 1 == len)
                p->last_cr = 1;
            else if (in[j + 1] == '\n')
                j++;
        }
        i = j + 1;
    }
    return 0;
}

int pw_sse_parser_feed(struct pw_sse_parser *p, const uint8_t *in, size_t len)
{
    if (p->err)
        return p->err;
    /* bom_state 0..2: BOM bytes matched so far at stream start; 3: past it */
    while (p->bom_state < 3 && len) {
        if (in[0] == pw__bom[p->bom_state]) {
            p->bom_state++;
            in++, len--;
            continue;
        }
        int matched = p->bom_state;
        p->bom_state = 3;
        int rc = pw__feed(p, pw__bom, (size_t)matched); /* not a BOM after all */
        if (rc)
            return rc;
    }
    return pw__feed(p, in, len);
}

static void pw__discard(struct pw_sse_parser *p)
{
    pw_buf_reset(&p->line);
    pw_buf_reset(&p->data);
    pw_buf_reset(&p->event);
    p->last_cr = 0;
    p->id_field = 0;
    if (pw__set(&p->id, p->last_id.p, p->last_id.len))
        pw_buf_reset(&p->id);
}

void pw_sse_parser_end(struct pw_sse_parser *p)
{
    pw__discard(p);
}

void pw_sse_parser_reset(struct pw_sse_parser *p)
{
    pw__discard(p);
    p->bom_state = 0;
    p->err = 0;
}

const char *pw_sse_parser_last_id(const struct pw_sse_parser *p)
{
    return p->last_id.len ? (const char *)p->last_id.p : "";
}

int pw_sse_parser_set_last_id(struct pw_sse_parser *p, const char *id)
{
    size_t n = id ? strlen(id) : 0;
    struct pw_buf nb, ni;
    pw_buf_init(&nb, 0);
    pw_buf_init(&ni, 0);
    const char *s;
    /* build both first so that a failure leaves the parser as it was */
    if (pw_buf_append(&nb, id, n) || pw__cstr(&nb, &s) || pw_buf_append(&ni, id, n)) {
        pw_buf_free(&nb);
        pw_buf_free(&ni);
        return PW_ENOMEM;
    }
    pw_buf_free(&p->last_id);
    pw_buf_free(&p->id);
    p->last_id = nb;
    p->id = ni;
    return 0;
}

/* ---- the response's Content-Type ---- */

static const char *pw__ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* s starts with word (ASCII case-insensitive) followed by one of `end` */
static int pw__word(const char *s, const char *word, const char *end)
{
    size_t n = strlen(word);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        if (c != word[i])
            return 0;
    }
    return strchr(end, s[n]) != NULL; /* the NUL counts as an end too */
}

int pw_sse_check_content_type(const char *ct)
{
    if (!ct)
        return PW_ESSE_NOT_STREAM;
    const char *s = pw__ws(ct);
    if (!pw__word(s, "text/event-stream", " \t;"))
        return PW_ESSE_NOT_STREAM;
    s = pw__ws(s + 17);
    if (*s && *s != ';')
        return PW_ESSE_NOT_STREAM; /* "text/event-stream x" */
    while (*s == ';') {
        s = pw__ws(s + 1);
        size_t vl = strcspn(s, ";");
        if (vl > 7 && s[7] == '=' && pw__word(s, "charset", "=")) {
            const char *v = s + 8;
            size_t n = vl - 8;
            while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            if (n >= 2 && v[0] == '"' && v[n - 1] == '"')
                v++, n -= 2;
            if (n != 5 || !pw__word(v, "utf-8", "\"; \t"))
                return PW_ESSE_CHARSET;
        }
        s += vl;
    }
    return 0;
}

/* ---- encoder ---- */

static int pw__has_eol(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

int pw_sse_encode(struct pw_buf *out, const char *id, const char *event,
                  const uint8_t *data, size_t len, long long retry_ms)
{
    if (pw__has_eol(id) || pw__has_eol(event))
        return PW_EINVAL;
    size_t saved = out->len;
    int rc = 0;
    if (retry_ms >= 0)
        rc = pw_buf_printf(out, "retry: %lld\n", retry_ms);
    if (!rc && id)
        rc = *id ? pw_buf_printf(out, "id: %s\n", id) : pw_buf_append(out, "id:\n", 4);
    if (!rc && event && strcmp(event, "message") != 0)
        rc = *event ? pw_buf_printf(out, "event: %s\n", event) : pw_buf_append(out, "event:\n", 7);
    size_t i = 0;
    for (;;) {
        if (rc)
            break;
        size_t j = i;
        while (j < len && data[j] != '\r' && data[j] != '\n')
            j++;
        if (j == i) {
            rc = pw_buf_append(out, "data:\n", 6);
        } else if (!(rc = pw_buf_append(out, "data: ", 6)) && !(rc = pw_buf_append(out, data + i, j - i))) {
            rc = pw_buf_putc(out, '\n');
        }
        if (j == len)
            break;
        if (data[j] == '\r' && j + 1 < len && data[j + 1] == '\n')
            j++;
        i = j + 1;
    }
    if (!rc)
        rc = pw_buf_putc(out, '\n');
    if (rc)
        out->len = saved;
    return rc;
}

int pw_sse_encode_comment(struct pw_buf *out, const char *text)
{
    if (pw__has_eol(text))
        return PW_EINVAL;
    if (!text || !*text)
        return pw_buf_append(out, ":\n", 2);
    return pw_buf_printf(out, ": %s\n", text);
}
