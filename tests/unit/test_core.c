/* test_core.c — the shared pieces: capped buffers and the error space. */
#include <stdint.h>
#include <string.h>

#include "proto/buf.h"
#include "proto/pw_err.h"
#include "tap.h"

static void test_buf_cap(void)
{
    struct pw_buf b;
    pw_buf_init(&b, 10);
    IS(pw_buf_append(&b, "0123456789", 10), 0, "append up to the cap");
    IS(pw_buf_append(&b, "x", 1), PW_ETOOBIG, "one byte past the cap is refused");
    IS(b.len, 10, "a refused append leaves the buffer unchanged");
    pw_buf_consume(&b, 4);
    OK(b.len == 6 && memcmp(b.p, "456789", 6) == 0, "consume drops from the front");
    IS(pw_buf_printf(&b, "%d", 1234), 0, "printf fits exactly");
    IS(pw_buf_printf(&b, "%d", 5), PW_ETOOBIG, "printf past the cap is refused");
    OK(b.len == 10 && memcmp(b.p, "4567891234", 10) == 0, "printf appended without NUL");
    pw_buf_free(&b);
    IS(b.len, 0, "free empties");
}

static void test_buf_grow(void)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    int rc = 0;
    for (int i = 0; i < 100000 && !rc; i++)
        rc = pw_buf_putc(&b, (uint8_t)i);
    OK(rc == 0 && b.len == 100000 && b.p[99999] == (uint8_t)99999, "uncapped buffer grows");
    pw_buf_free(&b);
}

static void test_buf_printf_long(void)
{
    struct pw_buf b;
    pw_buf_init(&b, 1000);
    IS(pw_buf_printf(&b, "%600d", 7), 0, "a long printf fits under the cap");
    IS(b.len, 600, "and appends all of it");
    IS(pw_buf_printf(&b, "%500d", 7), PW_ETOOBIG, "a long printf past the cap is refused");
    IS(b.len, 600, "leaving the buffer unchanged");
    pw_buf_free(&b);
}

static void test_errors(void)
{
    int seen = 0, dup = 0;
    /* every code in the space has one name, and names are unique */
    const char *prev[1000] = {0};
    for (int c = -1; c > -1000; c--) {
        const char *n = pw_errname(c);
        if (strcmp(n, "PW_E?") == 0)
            continue;
        seen++;
        for (int k = 0; k < 1000; k++)
            if (prev[k] && strcmp(prev[k], n) == 0)
                dup++;
        prev[-c] = n;
        if (pw_strerror(c)[0] == 0)
            dup++;
    }
    OK(seen > 6, "error space has entries (%d)", seen);
    IS(dup, 0, "error names are unique and every code has a message");
    STREQ(pw_errname(PW_EAGAIN), "PW_EAGAIN", "name of PW_EAGAIN");
    STREQ(pw_errrule(PW_ENOMEM), "", "a non-protocol code names no rule");
    STREQ(pw_strerror(-99999), "unknown error", "unknown codes have a message");
    STREQ(pw_errrule(-99999), "", "and no rule");
}

int main(void)
{
    test_buf_cap();
    test_buf_grow();
    test_buf_printf_long();
    test_errors();
    return tap_done();
}
