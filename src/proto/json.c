/* json.c — see json.h.  The reader makes two passes over the text with the
 * same code: the first validates and counts (values, string bytes, children
 * of each container in pre-order), the second fills one exactly sized block,
 * so every container's children are contiguous and indexable. */
#include "json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "utf8_repair.h"

/* ================================================================ writer */

/* Restore the buffer on failure so no half value stays behind. */
#define PW__JTRY(b, saved, expr)                                              \
    do {                                                                      \
        int rc_ = (expr);                                                     \
        if (rc_) {                                                            \
            (b)->len = (saved);                                               \
            return rc_;                                                       \
        }                                                                     \
    } while (0)

static int pw__json_safe(uint8_t c)
{
    return c >= 0x20 && c != '"' && c != '\\' && c < 0x7f;
}

int pw_json_str(struct pw_buf *b, const void *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = s;
    size_t saved = b->len;
    PW__JTRY(b, saved, pw_buf_putc(b, '"'));
    if (n < b->max - b->len) /* usually the final size: one allocation */
        pw_buf_reserve(b, n + 1);
    size_t i = 0;
    while (i < n) {
        /* the longest run that is copied as is: safe ASCII, valid UTF-8 */
        size_t j = i;
        while (j < n) {
            if (p[j] < 0x80) {
                if (!pw__json_safe(p[j]))
                    break;
                j++;
                continue;
            }
            uint32_t cp;
            size_t k = pw__u8_next(p + j, n - j, &cp);
            if (cp == 0xFFFD && !(k == 3 && p[j] == 0xEF && p[j + 1] == 0xBF && p[j + 2] == 0xBD))
                break;
            j += k;
        }
        PW__JTRY(b, saved, pw_buf_append(b, p + i, j - i));
        if (j == n)
            break;
        i = j;
        uint8_t c = p[i];
        if (c >= 0x80) { /* ill-formed: one U+FFFD for the maximal subpart */
            uint32_t cp;
            i += pw__u8_next(p + i, n - i, &cp);
            PW__JTRY(b, saved, pw_buf_append(b, "\xEF\xBF\xBD", 3));
            continue;
        }
        char esc[7] = {'\\', 0};
        size_t el = 2;
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            el = 6;
        }
        PW__JTRY(b, saved, pw_buf_append(b, esc, el));
        i++;
    }
    PW__JTRY(b, saved, pw_buf_putc(b, '"'));
    return 0;
}

int pw_json_cstr(struct pw_buf *b, const char *s)
{
    return s ? pw_json_str(b, s, strlen(s)) : pw_json_null(b);
}

int pw_json_b64(struct pw_buf *b, const void *p, size_t n)
{
    size_t saved = b->len;
    PW__JTRY(b, saved, pw_buf_putc(b, '"'));
    PW__JTRY(b, saved, pw_base64_append(b, p, n));
    PW__JTRY(b, saved, pw_buf_putc(b, '"'));
    return 0;
}

int pw_json_int(struct pw_buf *b, long long v)
{
    return pw_buf_printf(b, "%lld", v);
}

int pw_json_num(struct pw_buf *b, double v)
{
    if (v != v || v - v != 0) /* NaN or infinite: no JSON spelling */
        return pw_json_null(b);
    if (v >= -9007199254740992.0 && v <= 9007199254740992.0 && (double)(long long)v == v)
        return pw_buf_printf(b, "%lld", (long long)v);
    /* the shortest of 15, 16 or 17 digits that reads back as v: 0.0266, not
     * %.17g's 0.026599999999999999 (17 digits always read back exactly) */
    char num[32]; /* "-1.2345678901234567e-308" is 24 */
    for (int prec = 15; prec <= 17; prec++) {
        int n = snprintf(num, sizeof num, "%.*g", prec, v);
        if (n < 1 || (size_t)n >= sizeof num)
            return PW_EINVAL;
        if (prec == 17 || strtod(num, NULL) == v) /* no setlocale(): '.' both ways */
            return pw_buf_append(b, num, (size_t)n);
    }
    return PW_EINVAL; /* not reached */
}

int pw_json_bool(struct pw_buf *b, int v)
{
    return v ? pw_buf_append(b, "true", 4) : pw_buf_append(b, "false", 5);
}

int pw_json_null(struct pw_buf *b)
{
    return pw_buf_append(b, "null", 4);
}

int pw_json_sep(struct pw_buf *b)
{
    if (b->len == 0)
        return 0;
    switch (b->p[b->len - 1]) {
    case '{': case '[': case ',': case ':':
        return 0;
    }
    return pw_buf_putc(b, ',');
}

int pw_json_begin(struct pw_buf *b, char open)
{
    return pw_buf_putc(b, (uint8_t)open);
}

int pw_json_end(struct pw_buf *b, char close)
{
    return pw_buf_putc(b, (uint8_t)close);
}

int pw_json_key(struct pw_buf *b, const char *key)
{
    size_t saved = b->len;
    PW__JTRY(b, saved, pw_json_sep(b));
    PW__JTRY(b, saved, pw_json_cstr(b, key));
    PW__JTRY(b, saved, pw_buf_putc(b, ':'));
    return 0;
}

int pw_json_kstr(struct pw_buf *b, const char *key, const void *s, size_t n)
{
    size_t saved = b->len;
    PW__JTRY(b, saved, pw_json_key(b, key));
    PW__JTRY(b, saved, pw_json_str(b, s, n));
    return 0;
}

int pw_json_kcstr(struct pw_buf *b, const char *key, const char *s)
{
    size_t saved = b->len;
    PW__JTRY(b, saved, pw_json_key(b, key));
    PW__JTRY(b, saved, pw_json_cstr(b, s));
    return 0;
}

int pw_json_kint(struct pw_buf *b, const char *key, long long v)
{
    size_t saved = b->len;
    PW__JTRY(b, saved, pw_json_key(b, key));
    PW__JTRY(b, saved, pw_json_int(b, v));
    return 0;
}

int pw_json_kbool(struct pw_buf *b, const char *key, int v)
{
    size_t saved = b->len;
    PW__JTRY(b, saved, pw_json_key(b, key));
    PW__JTRY(b, saved, pw_json_bool(b, v));
    return 0;
}

/* ================================================================ reader */

struct pw__jp {
    const uint8_t *s;
    size_t n, pos;
    const struct pw_json_limits *lim;
    size_t depth, nvalues;
    int build;            /* 0: validate and count, 1: fill */
    struct pw_buf counts; /* pass 1: size_t children per container, pre-order */
    size_t ci;            /* pass 2: next container */
    size_t strbytes;      /* pass 1: decoded string bytes incl. NULs */
    struct pw_json *nodes;
    size_t nnext;
    char *strs;
    int err;
};

#define PW__JNUM_MAX 256 /* longest number token we convert */

static int pw__jfail(struct pw__jp *j, int err)
{
    if (!j->err)
        j->err = err;
    return -1;
}

static void pw__jws(struct pw__jp *j)
{
    while (j->pos < j->n) {
        uint8_t c = j->s[j->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            break;
        j->pos++;
    }
}

static int pw__jhex4(struct pw__jp *j, uint32_t *v)
{
    *v = 0;
    for (int k = 0; k < 4; k++) {
        if (j->pos >= j->n)
            return pw__jfail(j, PW_EJSON_EOF);
        uint8_t c = j->s[j->pos];
        int d = c >= '0' && c <= '9' ? c - '0'
              : c >= 'a' && c <= 'f' ? c - 'a' + 10
              : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
        if (d < 0)
            return pw__jfail(j, PW_EJSON_ESCAPE);
        *v = *v << 4 | (uint32_t)d;
        j->pos++;
    }
    return 0;
}

static size_t pw__u8_put(char *w, uint32_t cp)
{
    if (cp < 0x80) {
        w[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        w[0] = (char)(0xC0 | cp >> 6);
        w[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        w[0] = (char)(0xE0 | cp >> 12);
        w[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        w[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    w[0] = (char)(0xF0 | cp >> 18);
    w[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    w[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    w[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* \uXXXX (the backslash and u already consumed), a surrogate pair in full. */
static int pw__jescape_u(struct pw__jp *j, uint32_t *cp)
{
    if (pw__jhex4(j, cp))
        return -1;
    if (*cp >= 0xDC00 && *cp <= 0xDFFF) {
        j->pos -= 4;
        return pw__jfail(j, PW_EJSON_ESCAPE);
    }
    if (*cp < 0xD800 || *cp > 0xDBFF)
        return 0;
    /* a high surrogate must be followed by \u and a low one */
    for (int k = 0; k < 2; k++) {
        if (j->pos + (size_t)k >= j->n)
            return pw__jfail(j, PW_EJSON_EOF);
        if (j->s[j->pos + (size_t)k] != (k ? 'u' : '\\'))
            return pw__jfail(j, PW_EJSON_ESCAPE);
    }
    j->pos += 2;
    uint32_t lo;
    if (pw__jhex4(j, &lo))
        return -1;
    if (lo < 0xDC00 || lo > 0xDFFF) {
        j->pos -= 4;
        return pw__jfail(j, PW_EJSON_ESCAPE);
    }
    *cp = 0x10000 + ((*cp - 0xD800) << 10) + (lo - 0xDC00);
    return 0;
}

/* At the opening quote.  Pass 2 writes the decoded string to j->strs. */
static int pw__jstring(struct pw__jp *j, const char **out, size_t *outlen)
{
    char *w = j->build ? j->strs : NULL;
    size_t len = 0;
    j->pos++;
    for (;;) {
        if (j->pos >= j->n)
            return pw__jfail(j, PW_EJSON_EOF);
        uint8_t c = j->s[j->pos];
        if (c == '"') {
            j->pos++;
            break;
        }
        if (c < 0x20)
            return pw__jfail(j, PW_EJSON_STRING);
        if (c == '\\') {
            if (++j->pos >= j->n)
                return pw__jfail(j, PW_EJSON_EOF);
            uint32_t cp;
            char one = 0;
            switch (j->s[j->pos]) {
            case '"': one = '"'; break;
            case '\\': one = '\\'; break;
            case '/': one = '/'; break;
            case 'b': one = '\b'; break;
            case 'f': one = '\f'; break;
            case 'n': one = '\n'; break;
            case 'r': one = '\r'; break;
            case 't': one = '\t'; break;
            case 'u':
                j->pos++;
                if (pw__jescape_u(j, &cp))
                    return -1;
                char tmp[4];
                size_t k = pw__u8_put(tmp, cp);
                if (w)
                    memcpy(w + len, tmp, k);
                len += k;
                continue;
            default:
                return pw__jfail(j, PW_EJSON_ESCAPE);
            }
            if (w)
                w[len] = one;
            len++;
            j->pos++;
            continue;
        }
        size_t k = 1;
        if (c >= 0x80) {
            uint32_t cp;
            k = pw__u8_next(j->s + j->pos, j->n - j->pos, &cp);
            if (cp == 0xFFFD && !(k == 3 && memcmp(j->s + j->pos, "\xEF\xBF\xBD", 3) == 0))
                return pw__jfail(j, PW_EJSON_UTF8);
        }
        if (w)
            memcpy(w + len, j->s + j->pos, k);
        len += k;
        j->pos += k;
    }
    if (w) {
        w[len] = 0;
        j->strs += len + 1;
        *out = w;
        *outlen = len;
    } else {
        j->strbytes += len + 1;
    }
    return 0;
}

static int pw__jdigits(struct pw__jp *j)
{
    if (j->pos >= j->n)
        return pw__jfail(j, PW_EJSON_EOF);
    if (j->s[j->pos] < '0' || j->s[j->pos] > '9')
        return pw__jfail(j, PW_EJSON_NUMBER);
    while (j->pos < j->n && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
        j->pos++;
    return 0;
}

static int pw__jnumber(struct pw__jp *j, struct pw_json *out)
{
    size_t start = j->pos;
    int isint = 1;
    if (j->s[j->pos] == '-')
        j->pos++;
    if (j->pos < j->n && j->s[j->pos] == '0') {
        j->pos++;
        if (j->pos < j->n && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
            return pw__jfail(j, PW_EJSON_NUMBER); /* leading zero */
    } else if (pw__jdigits(j)) {
        return -1;
    }
    if (j->pos < j->n && j->s[j->pos] == '.') {
        j->pos++;
        isint = 0;
        if (pw__jdigits(j))
            return -1;
    }
    if (j->pos < j->n && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
        j->pos++;
        isint = 0;
        if (j->pos < j->n && (j->s[j->pos] == '+' || j->s[j->pos] == '-'))
            j->pos++;
        if (pw__jdigits(j))
            return -1;
    }
    size_t tl = j->pos - start;
    if (tl > PW__JNUM_MAX) {
        j->pos = start;
        return pw__jfail(j, PW_EJSON_NUMBER);
    }
    if (!out)
        return 0;
    char tok[PW__JNUM_MAX + 1];
    memcpy(tok, j->s + start, tl);
    tok[tl] = 0;
    /* pushwire never calls setlocale(), so strtod reads '.' */
    out->type = PW_JSON_NUMBER;
    out->u.num = strtod(tok, NULL);
    out->isint = 0;
    if (isint) {
        errno = 0;
        long long v = strtoll(tok, NULL, 10);
        if (errno == 0) {
            out->isint = 1;
            out->i = v;
        }
    } else {
        double d = out->u.num;
        if (d >= -9223372036854775808.0 && d < 9223372036854775808.0 && (double)(int64_t)d == d) {
            out->isint = 1;
            out->i = (int64_t)d;
        }
    }
    return 0;
}

static int pw__jlit(struct pw__jp *j, const char *word)
{
    size_t wl = strlen(word);
    for (size_t k = 0; k < wl; k++) {
        if (j->pos >= j->n)
            return pw__jfail(j, PW_EJSON_EOF);
        if (j->s[j->pos] != (uint8_t)word[k])
            return pw__jfail(j, PW_EJSON_SYNTAX);
        j->pos++;
    }
    return 0;
}

static int pw__jvalue(struct pw__jp *j, struct pw_json *out);

/* Arrays and objects: `close` is ']' or '}'. */
static int pw__jcontainer(struct pw__jp *j, struct pw_json *out, uint8_t close)
{
    if (++j->depth > j->lim->max_depth)
        return pw__jfail(j, PW_EJSON_DEPTH);
    j->pos++;
    size_t slot = 0, count = 0;
    struct pw_json *kids = NULL;
    if (j->build) {
        size_t want = ((size_t *)(void *)j->counts.p)[j->ci++];
        kids = j->nodes + j->nnext;
        j->nnext += want;
        out->type = close == '}' ? PW_JSON_OBJECT : PW_JSON_ARRAY;
        out->u.kids = kids;
        out->len = want;
    } else {
        slot = j->counts.len / sizeof(size_t);
        size_t zero = 0;
        int rc = pw_buf_append(&j->counts, &zero, sizeof zero);
        if (rc)
            return pw__jfail(j, rc);
    }
    pw__jws(j);
    if (j->pos < j->n && j->s[j->pos] == close) {
        j->pos++;
        j->depth--;
        return 0;
    }
    for (;;) {
        struct pw_json *kid = kids ? &kids[count] : NULL;
        pw__jws(j);
        if (close == '}') {
            if (j->pos >= j->n)
                return pw__jfail(j, PW_EJSON_EOF);
            if (j->s[j->pos] != '"')
                return pw__jfail(j, PW_EJSON_SYNTAX);
            const char *k = NULL;
            size_t kl = 0;
            if (pw__jstring(j, &k, &kl))
                return -1;
            if (kid) {
                kid->key = k;
                kid->key_len = kl;
            }
            pw__jws(j);
            if (j->pos >= j->n)
                return pw__jfail(j, PW_EJSON_EOF);
            if (j->s[j->pos] != ':')
                return pw__jfail(j, PW_EJSON_SYNTAX);
            j->pos++;
        }
        if (pw__jvalue(j, kid))
            return -1;
        count++;
        pw__jws(j);
        if (j->pos >= j->n)
            return pw__jfail(j, PW_EJSON_EOF);
        if (j->s[j->pos] == ',') {
            j->pos++;
            continue;
        }
        if (j->s[j->pos] != close)
            return pw__jfail(j, PW_EJSON_SYNTAX);
        j->pos++;
        break;
    }
    if (!j->build)
        ((size_t *)(void *)j->counts.p)[slot] = count;
    j->depth--;
    return 0;
}

static int pw__jvalue(struct pw__jp *j, struct pw_json *out)
{
    pw__jws(j);
    if (j->pos >= j->n)
        return pw__jfail(j, PW_EJSON_EOF);
    if (++j->nvalues > j->lim->max_values)
        return pw__jfail(j, PW_EJSON_VALUES);
    uint8_t c = j->s[j->pos];
    switch (c) {
    case '{':
    case '[':
        return pw__jcontainer(j, out, c == '{' ? '}' : ']');
    case '"':
        if (out) {
            out->type = PW_JSON_STRING;
            return pw__jstring(j, &out->u.str, &out->len);
        }
        return pw__jstring(j, NULL, NULL);
    case 't':
    case 'f':
        if (pw__jlit(j, c == 't' ? "true" : "false"))
            return -1;
        if (out) {
            out->type = PW_JSON_BOOL;
            out->u.boolean = c == 't';
        }
        return 0;
    case 'n':
        if (pw__jlit(j, "null"))
            return -1;
        if (out)
            out->type = PW_JSON_NULL;
        return 0;
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            return pw__jnumber(j, out);
        return pw__jfail(j, PW_EJSON_SYNTAX);
    }
}

static int pw__jpass(struct pw__jp *j, struct pw_json *root)
{
    j->pos = j->depth = j->nvalues = 0;
    if (pw__jvalue(j, root))
        return -1;
    pw__jws(j);
    if (j->pos != j->n)
        return pw__jfail(j, PW_EJSON_TRAILING);
    return 0;
}

int pw_json_parse(const void *text, size_t len, const struct pw_json_limits *lim,
                  struct pw_json **root, size_t *err_at)
{
    static const struct pw_json_limits defaults = PW_JSON_LIMITS_DEFAULT;
    struct pw__jp j;
    struct pw_json_limits l = lim ? *lim : defaults;
    memset(&j, 0, sizeof j);
    if (!l.max_size)
        l.max_size = defaults.max_size;
    if (!l.max_depth)
        l.max_depth = defaults.max_depth;
    if (l.max_depth > 1000)
        l.max_depth = 1000;
    if (!l.max_values)
        l.max_values = defaults.max_values;
    j.s = text;
    j.n = len;
    j.lim = &l;
    *root = NULL;
    if (err_at)
        *err_at = 0;
    if (len > l.max_size) {
        if (err_at)
            *err_at = l.max_size;
        return PW_EJSON_TOOBIG;
    }
    pw_buf_init(&j.counts, 0);
    if (pw__jpass(&j, NULL)) {
        if (err_at)
            *err_at = j.pos;
        pw_buf_free(&j.counts);
        return j.err;
    }
    size_t nodes = j.nvalues, bytes;
    /* nodes <= len, strbytes <= 2 * len: no overflow for in-memory text */
    bytes = nodes * sizeof(struct pw_json) + j.strbytes;
    struct pw_json *mem = calloc(1, bytes);
    if (!mem) {
        pw_buf_free(&j.counts);
        return PW_ENOMEM;
    }
    j.build = 1;
    j.nodes = mem;
    j.nnext = 1;
    j.strs = (char *)(mem + nodes);
    int rc = pw__jpass(&j, mem);
    pw_buf_free(&j.counts);
    if (rc) { /* cannot happen: the text passed once already */
        free(mem);
        return j.err ? j.err : PW_ESTATE;
    }
    *root = mem;
    return 0;
}

void pw_json_free(struct pw_json *root)
{
    free(root);
}

enum pw_json_type pw_json_type(const struct pw_json *v)
{
    return v ? (enum pw_json_type)v->type : PW_JSON_NONE;
}

const struct pw_json *pw_json_get(const struct pw_json *obj, const char *key)
{
    if (!obj || obj->type != PW_JSON_OBJECT || !key)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i < obj->len; i++) {
        const struct pw_json *m = &obj->u.kids[i];
        if (m->key_len == kl && memcmp(m->key, key, kl) == 0)
            return m;
    }
    return NULL;
}

const struct pw_json *pw_json_at(const struct pw_json *v, size_t i)
{
    if (!v || (v->type != PW_JSON_ARRAY && v->type != PW_JSON_OBJECT) || i >= v->len)
        return NULL;
    return &v->u.kids[i];
}

size_t pw_json_len(const struct pw_json *v)
{
    if (!v || (v->type != PW_JSON_ARRAY && v->type != PW_JSON_OBJECT && v->type != PW_JSON_STRING))
        return 0;
    return v->len;
}

const char *pw_json_name(const struct pw_json *v, size_t *len)
{
    if (!v || !v->key)
        return NULL;
    if (len)
        *len = v->key_len;
    return v->key;
}

const char *pw_json_string(const struct pw_json *v, size_t *len)
{
    if (!v || v->type != PW_JSON_STRING)
        return NULL;
    if (len)
        *len = v->len;
    return v->u.str;
}

const char *pw_json_get_str(const struct pw_json *obj, const char *key, size_t *len)
{
    return pw_json_string(pw_json_get(obj, key), len);
}

int pw_json_number(const struct pw_json *v, double *out)
{
    if (!v || v->type != PW_JSON_NUMBER)
        return PW_EJSON_TYPE;
    *out = v->u.num;
    return 0;
}

int pw_json_int64(const struct pw_json *v, int64_t *out)
{
    if (!v || v->type != PW_JSON_NUMBER)
        return PW_EJSON_TYPE;
    if (!v->isint)
        return PW_EJSON_RANGE;
    *out = v->i;
    return 0;
}

int pw_json_boolean(const struct pw_json *v, int *out)
{
    if (!v || v->type != PW_JSON_BOOL)
        return PW_EJSON_TYPE;
    *out = v->u.boolean;
    return 0;
}

int pw_json_is_null(const struct pw_json *v)
{
    return v && v->type == PW_JSON_NULL;
}
