#include "optval.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int pw__digit(char c) { return c >= '0' && c <= '9'; }

static char pw__lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c; }

/* DIGITS at s into *v; the number of digits (0: none).  *over is set when
 * the number does not fit 64 bits. */
static size_t pw__digits(const char *s, uint64_t *v, int *over)
{
    size_t i = 0;
    *v = 0;
    *over = 0;
    for (; pw__digit(s[i]); i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (*v > (UINT64_MAX - d) / 10)
            *over = 1;
        else
            *v = *v * 10 + d;
    }
    return i;
}

/* Length of the DECIMAL at the start of s, 0 when there is none. */
static size_t pw__decimal_len(const char *s)
{
    size_t i = 0, ndig = 0;
    for (; pw__digit(s[i]); i++)
        ndig++;
    if (s[i] == '.')
        for (i++; pw__digit(s[i]); i++)
            ndig++;
    if (ndig == 0)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        if (pw__digit(s[j])) {
            while (pw__digit(s[j]))
                j++;
            i = j;
        }
    }
    return i;
}

/* The DECIMAL at s; the rest (a unit, or "") in *rest. */
static int pw__decimal(const char *s, double *out, const char **rest)
{
    size_t n = pw__decimal_len(s);
    if (n == 0)
        return PW_EVAL_SYNTAX;
    char tmp[PW_VAL_MAX_LEN + 1];
    memcpy(tmp, s, n);
    tmp[n] = 0;
    char *end;
    errno = 0;
    /* pushwire never calls setlocale(), so strtod reads '.' */
    double d = strtod(tmp, &end);
    if (end != tmp + n)
        return PW_EVAL_SYNTAX;
    if (!isfinite(d))
        return PW_EVAL_HIGH;
    *out = d;
    *rest = s + n;
    return 0;
}

static int pw__count(const char *s, struct pw_val *out)
{
    uint64_t v;
    int over;
    size_t n = pw__digits(s, &v, &over);
    if (n == 0 || s[n])
        return PW_EVAL_SYNTAX;
    if (over)
        return PW_EVAL_HIGH;
    out->u = v;
    out->d = 0;
    return 0;
}

/* The multiplier a byte unit stands for, 0 for none we know. */
static uint64_t pw__byte_unit(const char *u)
{
    static const char prefixes[] = "kmgt";
    char l[4] = {0};
    size_t n = strlen(u);
    if (n == 0)
        return 1;
    if (n > 3)
        return 0;
    for (size_t i = 0; i < n; i++)
        l[i] = pw__lower(u[i]);
    if (strcmp(l, "b") == 0)
        return 1;
    const char *p = strchr(prefixes, l[0]);
    if (!p || !l[0])
        return 0;
    unsigned power = (unsigned)(p - prefixes) + 1;
    uint64_t base;
    if (l[1] == 0 || strcmp(l + 1, "i") == 0 || strcmp(l + 1, "ib") == 0)
        base = 1024; /* K, Ki, KiB */
    else if (strcmp(l + 1, "b") == 0)
        base = 1000; /* KB: SI, as dd(1) */
    else
        return 0;
    uint64_t m = 1;
    for (unsigned i = 0; i < power; i++)
        m *= base;
    return m;
}

static int pw__bytes(const char *s, struct pw_val *out)
{
    uint64_t v;
    int over;
    size_t n = pw__digits(s, &v, &over);
    if (n == 0)
        return PW_EVAL_SYNTAX;
    uint64_t m = pw__byte_unit(s + n);
    if (m == 0)
        return PW_EVAL_SYNTAX;
    if (over || (v && m > UINT64_MAX / v))
        return PW_EVAL_HIGH;
    out->u = v * m;
    out->d = 0;
    return 0;
}

static int pw__secs(const char *s, struct pw_val *out, int units)
{
    static const struct {
        const char *name;
        double secs;
    } unit[] = {{"", 1}, {"ms", 0.001}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
    double d;
    const char *rest;
    int r = pw__decimal(s, &d, &rest);
    if (r)
        return r;
    for (size_t i = 0; i < (units ? sizeof unit / sizeof unit[0] : 1); i++)
        if (strcmp(rest, unit[i].name) == 0) {
            /* ms divides so that "1ms" is the same double as "0.001" */
            d = unit[i].secs < 1 ? d / 1000 : d * unit[i].secs;
            if (!isfinite(d))
                return PW_EVAL_HIGH;
            out->d = d;
            out->u = 0;
            return 0;
        }
    return PW_EVAL_SYNTAX;
}

int pw_val_parse(enum pw_valtype t, const char *s, struct pw_val *out)
{
    if (!s)
        return PW_EVAL_SYNTAX;
    if (strnlen(s, PW_VAL_MAX_LEN + 1) > PW_VAL_MAX_LEN)
        return PW_EVAL_LONG;
    switch (t) {
    case PW_VAL_COUNT: return pw__count(s, out);
    case PW_VAL_BYTES: return pw__bytes(s, out);
    case PW_VAL_SECS: return pw__secs(s, out, 1);
    case PW_VAL_REAL: return pw__secs(s, out, 0);
    }
    return PW_EINVAL;
}

/* -1, 0, 1 as a is below, equal to, above b */
static int pw__cmp(enum pw_valtype t, const struct pw_val *a, const struct pw_val *b)
{
    if (t == PW_VAL_COUNT || t == PW_VAL_BYTES)
        return a->u < b->u ? -1 : a->u > b->u;
    return a->d < b->d ? -1 : a->d > b->d;
}

int pw_val_range(enum pw_valtype t, const char *s, const char *lo, const char *hi,
                 struct pw_val *out)
{
    struct pw_val v, b;
    int r = pw_val_parse(t, s, &v);
    if (r)
        return r;
    if (lo) {
        if (pw_val_parse(t, lo, &b))
            return PW_EINVAL;
        if (pw__cmp(t, &v, &b) < 0)
            return PW_EVAL_LOW;
    }
    if (hi) {
        if (pw_val_parse(t, hi, &b))
            return PW_EINVAL;
        if (pw__cmp(t, &v, &b) > 0)
            return PW_EVAL_HIGH;
    }
    *out = v;
    return 0;
}

int pw_val_word(const char *s, const char *words, size_t *idx)
{
    if (!s || !words)
        return PW_EVAL_WORD;
    size_t n = strnlen(s, PW_VAL_MAX_LEN + 1);
    if (n > PW_VAL_MAX_LEN)
        return PW_EVAL_LONG;
    size_t i = 0;
    for (const char *w = words; *w; i++) {
        while (*w == ' ')
            w++;
        size_t l = strcspn(w, " ");
        if (l == 0)
            break;
        if (l == n && memcmp(w, s, n) == 0) {
            *idx = i;
            return 0;
        }
        w += l;
    }
    return PW_EVAL_WORD;
}
