/* fuzz_optval.c — the option value grammar (proto/optval.h).
 * Byte 0 picks the type; the rest, cut at the first NUL, is the value, and
 * the bytes after that NUL (if any) a word list.  Invariants:
 *  - a parse error leaves *out untouched; the code is one of the module's;
 *  - a count or size printed back in decimal parses to the same number, and
 *    so does "<n>K" to n * 1024 when it fits;
 *  - whatever parses as a count parses as a size to the same value, and as
 *    a decimal (a duration) to the same value where doubles are exact;
 *  - a value within [lo, hi] taken from itself is accepted by pw_val_range;
 *  - a word found is at the index the list puts it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/optval.h"

static int known(int r)
{
    return r == 0 || r == PW_EVAL_SYNTAX || r == PW_EVAL_HIGH || r == PW_EVAL_LONG;
}

static void check_number(enum pw_valtype t, const char *s)
{
    struct pw_val v = {7, 7}, w;
    int r = pw_val_parse(t, s, &v);
    if (!known(r) || (r && (v.u != 7 || v.d != 7)))
        abort();
    if (r)
        return;
    if (pw_val_range(t, s, s, s, &w) != 0)
        abort(); /* a value is within [itself, itself] */
    if (t == PW_VAL_COUNT || t == PW_VAL_BYTES) {
        char b[32];
        snprintf(b, sizeof b, "%llu", (unsigned long long)v.u);
        if (pw_val_parse(PW_VAL_COUNT, b, &w) || w.u != v.u)
            abort();
        snprintf(b, sizeof b, "%lluK", (unsigned long long)v.u);
        int rk = pw_val_parse(PW_VAL_BYTES, b, &w);
        if (v.u <= UINT64_MAX / 1024 ? (rk || w.u != v.u * 1024) : rk != PW_EVAL_HIGH)
            abort();
    }
    if (t == PW_VAL_COUNT) {
        if (pw_val_parse(PW_VAL_BYTES, s, &w) || w.u != v.u)
            abort();
        if (v.u < (1ull << 53) && (pw_val_parse(PW_VAL_SECS, s, &w) || w.d != (double)v.u))
            abort();
    }
    if ((t == PW_VAL_SECS || t == PW_VAL_REAL) && !(v.d >= 0))
        abort(); /* no sign in the grammar, no NaN */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 512)
        return 0;
    char s[512];
    memcpy(s, data + 1, size - 1);
    s[size - 1] = 0;
    enum pw_valtype t = (enum pw_valtype)(data[0] % 4);
    check_number(t, s);
    size_t n = strlen(s);
    if (n + 1 < size - 1) {
        const char *words = s + n + 1;
        size_t i;
        int r = pw_val_word(s, words, &i);
        if (r == 0) {
            /* the i-th word of the list is s */
            const char *w = words;
            for (size_t k = 0;; k++) {
                w += strspn(w, " ");
                size_t l = strcspn(w, " ");
                if (!l)
                    abort();
                if (k == i) {
                    if (l != n || memcmp(w, s, n) != 0)
                        abort();
                    break;
                }
                w += l;
            }
        } else if (r != PW_EVAL_WORD && r != PW_EVAL_LONG) {
            abort();
        }
    }
    return 0;
}
