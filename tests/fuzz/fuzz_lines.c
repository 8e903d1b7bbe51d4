/* fuzz_lines.c — chunks → records (proto/lines.h).  Byte 0 picks the
 * delimiter (LF or NUL) and the limit, byte 1 the chunk size; the rest is
 * the input.  Invariants:
 *  - the records and reports do not depend on how the input is cut;
 *  - no record is longer than the limit, none holds the delimiter. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/lines.h"

struct log {
    uint8_t *p;
    size_t len, cap;
    int delim;
    size_t max;
};

static void put(struct log *g, const void *p, size_t n)
{
    if (g->len + n > g->cap) {
        size_t c = (g->len + n) * 2 + 16;
        uint8_t *q = realloc(g->p, c);
        if (!q)
            abort();
        g->p = q;
        g->cap = c;
    }
    memcpy(g->p + g->len, p, n);
    g->len += n;
}

static int on_line(void *ud, const uint8_t *p, size_t n)
{
    struct log *g = ud;
    if ((g->max && n > g->max) || memchr(p, g->delim, n))
        abort();
    uint32_t k = (uint32_t)n;
    put(g, "L", 1);
    put(g, &k, sizeof k);
    put(g, p, n);
    return 0;
}

static int on_long(void *ud, size_t max)
{
    struct log *g = ud;
    if (max != g->max)
        abort();
    put(g, "!", 1);
    return 0;
}

static const struct pw_lines_cb cb = {on_line, on_long};

static void run(struct log *g, const uint8_t *in, size_t n, size_t step)
{
    struct pw_lines l;
    pw_lines_init(&l, g->delim, g->max);
    for (size_t i = 0; i < n;) {
        size_t k = step && step < n - i ? step : n - i;
        if (pw_lines_feed(&l, in + i, k, &cb, g))
            abort();
        i += k;
    }
    if (pw_lines_end(&l, &cb, g))
        abort();
    pw_lines_free(&l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    int delim = data[0] & 1 ? '\n' : 0;
    size_t max = (data[0] >> 1) & 15; /* 0: no limit */
    size_t step = data[1] % 17;
    struct log whole = {NULL, 0, 0, delim, max}, cut = {NULL, 0, 0, delim, max};
    run(&whole, data + 2, size - 2, 0);
    run(&cut, data + 2, size - 2, step ? step : 1);
    if (whole.len != cut.len || (whole.len && memcmp(whole.p, cut.p, whole.len)))
        abort();
    free(whole.p);
    free(cut.p);
    return 0;
}
