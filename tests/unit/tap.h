/* tap.h — the smallest TAP producer: one `ok N - name` line per check.
 * tests/run adds up every suite's ok/not ok lines. */
#ifndef PW_TAP_H
#define PW_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap__n, tap__fail;

#define OK(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)
#define IS(a, b, ...) OK((long long)(a) == (long long)(b), __VA_ARGS__)
#define STREQ(a, b, ...) OK(strcmp((a), (b)) == 0, __VA_ARGS__)

__attribute__((format(printf, 4, 5)))
static void tap_ok(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    tap__n++;
    printf("%sok %d - ", ok ? "" : "not ", tap__n);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!ok) {
        tap__fail++;
        printf("#   failed at %s:%d\n", file, line);
    }
}

static int tap_done(void)
{
    printf("1..%d\n", tap__n);
    fflush(stdout);
    return tap__fail ? 1 : 0;
}

#endif
