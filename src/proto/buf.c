#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pw_err.h"

void pw_buf_init(struct pw_buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max ? max : SIZE_MAX;
}

void pw_buf_free(struct pw_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

int pw_buf_reserve(struct pw_buf *b, size_t extra)
{
    if (extra > b->max - b->len)
        return PW_ETOOBIG;
    size_t need = b->len + extra;
    if (need <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max)
        cap = b->max;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        return PW_ENOMEM;
    b->p = p;
    b->cap = cap;
    return 0;
}

int pw_buf_append(struct pw_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    int rc = pw_buf_reserve(b, n);
    if (rc)
        return rc;
    memcpy(b->p + b->len, p, n);
    b->len += n;
    return 0;
}

int pw_buf_putc(struct pw_buf *b, uint8_t c)
{
    return pw_buf_append(b, &c, 1);
}

int pw_buf_printf(struct pw_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return PW_EINVAL;
    if ((size_t)n < sizeof small)
        return pw_buf_append(b, small, (size_t)n);
    /* long output: format into a scratch copy so vsnprintf's terminator
     * never needs room past the cap */
    if ((size_t)n > b->max - b->len)
        return PW_ETOOBIG;
    char *tmp = malloc((size_t)n + 1);
    if (!tmp)
        return PW_ENOMEM;
    va_start(ap, fmt);
    vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    va_end(ap);
    int rc = pw_buf_append(b, tmp, (size_t)n);
    free(tmp);
    return rc;
}

void pw_buf_consume(struct pw_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}
