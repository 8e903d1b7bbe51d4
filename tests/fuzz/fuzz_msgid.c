/* fuzz_msgid.c — message ids (msgid.h).  The input is one id, or two split
 * at the first newline.  Invariants:
 *  - parse ends with 0 or a PW_EMSGID_* code, out zeroed on failure;
 *  - an id that parses formats back to exactly the bytes it came from (one
 *    spelling per id), within PW_ID_MAX;
 *  - two ids of one epoch are ordered consistently: cmp(a,b) == -cmp(b,a),
 *    and cmp is 0 only for the same spelling. */
#include <stdlib.h>
#include <string.h>

#include "proto/msgid.h"

static void check(int ok)
{
    if (!ok)
        abort();
}

static int one(const uint8_t *p, size_t n, struct pw_msgid *id)
{
    int rc = pw_msgid_parse((const char *)p, n, id);
    check(rc == 0 || (rc <= -900 && rc >= -904));
    if (rc) {
        struct pw_msgid z;
        memset(&z, 0, sizeof z);
        check(memcmp(id, &z, sizeof z) == 0);
        return rc;
    }
    char out[PW_ID_MAX];
    size_t k = pw_msgid_format(out, id);
    check(k == n && k < PW_ID_MAX && memcmp(out, p, n) == 0 && out[k] == 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *p, size_t n)
{
    const uint8_t *nl = memchr(p, '\n', n);
    struct pw_msgid a, b;
    if (!nl) {
        one(p, n, &a);
        return 0;
    }
    size_t na = (size_t)(nl - p);
    int ra = one(p, na, &a), rb = one(nl + 1, n - na - 1, &b);
    if (ra || rb || !pw_msgid_same_epoch(&a, &b))
        return 0;
    int ab = pw_msgid_cmp(&a, &b), ba = pw_msgid_cmp(&b, &a);
    check((ab < 0 && ba > 0) || (ab > 0 && ba < 0) || (ab == 0 && ba == 0));
    /* equal ids of one epoch are the same spelling, except "0" and E:0 … */
    if (ab == 0 && a.form == b.form && a.form != PW_MSGID_START)
        check(na == n - na - 1 && memcmp(p, nl + 1, na) == 0);
    return 0;
}
