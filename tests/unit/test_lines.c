/* test_lines.c — chunks → records (proto/lines.h): LF and CRLF lines, NUL
 * records, raw chunks, records split across chunks, the length limit, the
 * last record at the end, and a callback that stops. */
#include <stdlib.h>
#include <string.h>

#include "proto/lines.h"
#include "tap.h"

/* what the callbacks saw: records joined with '|', overlong ones as '!' */
struct seen {
    char out[512];
    size_t len;
    int stop_after; /* stop after this many records (0: never) */
    int records;
};

static void put(struct seen *s, const void *p, size_t n)
{
    if (s->len + n + 1 < sizeof s->out) {
        memcpy(s->out + s->len, p, n);
        s->len += n;
        s->out[s->len] = 0;
    }
}

static int on_line(void *ud, const uint8_t *p, size_t n)
{
    struct seen *s = ud;
    put(s, p, n);
    put(s, "|", 1);
    s->records++;
    return s->stop_after && s->records >= s->stop_after ? 7 : 0;
}

static int on_long(void *ud, size_t max)
{
    (void)max;
    put(ud, "!", 1);
    return 0;
}

static const struct pw_lines_cb cb = {on_line, on_long};

/* feeds `in` cut into pieces of `step` bytes (0: whole), then ends */
static const char *run(int delim, size_t max, const char *in, size_t n, size_t step)
{
    static struct seen s;
    memset(&s, 0, sizeof s);
    struct pw_lines l;
    pw_lines_init(&l, delim, max);
    for (size_t i = 0; i < n;) {
        size_t k = step && step < n - i ? step : n - i;
        if (pw_lines_feed(&l, (const uint8_t *)in + i, k, &cb, &s))
            break;
        i += k;
    }
    pw_lines_end(&l, &cb, &s);
    pw_lines_free(&l);
    return s.out;
}

#define RUN(delim, max, lit, step) run((delim), (max), (lit), sizeof(lit) - 1, (step))

static void test_newlines(void)
{
    for (size_t step = 0; step <= 3; step++) {
        STREQ(RUN('\n', 0, "a\nbc\n\nd", step), "a|bc||d|", "LF lines, the last without LF (chunks of %zu)", step);
        STREQ(RUN('\n', 0, "a\r\nb\r\n", step), "a|b|", "CRLF: the CR goes (chunks of %zu)", step);
        STREQ(RUN('\n', 0, "a\rb\n", step), "a\rb|", "a CR inside a line stays (chunks of %zu)", step);
        STREQ(RUN('\n', 0, "end\r", step), "end|", "a CR at the very end goes (chunks of %zu)", step);
    }
    STREQ(RUN('\n', 0, "", 0), "", "no input, no record");
    STREQ(RUN('\n', 0, "\n", 0), "|", "one empty line is one empty record");
}

static void test_nul(void)
{
    for (size_t step = 0; step <= 2; step++) {
        STREQ(RUN(0, 0, "a\nb\0c\r\0", step), "a\nb|c\r|", "NUL records keep LF and CR (chunks of %zu)", step);
    }
    STREQ(RUN(0, 0, "x\0y", 0), "x|y|", "a last NUL record without its NUL");
}

static void test_raw(void)
{
    STREQ(RUN(PW_LINES_RAW, 0, "a\nb\0c", 0), "a\nb", "raw: one chunk is one record (up to the NUL the test prints)");
    STREQ(RUN(PW_LINES_RAW, 0, "abcd", 2), "ab|cd|", "raw: each chunk is a record, no end record");
}

static void test_limit(void)
{
    for (size_t step = 0; step <= 3; step++) {
        STREQ(RUN('\n', 3, "abc\nabcd\nxy\n", step), "abc|!xy|",
              "a record over max is dropped to its LF and reported once (chunks of %zu)", step);
        STREQ(RUN('\n', 3, "abcdefgh", step), "!", "an overlong last record is not delivered (chunks of %zu)", step);
    }
    STREQ(RUN('\n', 3, "abcdefgh\nok\n", 1), "!ok|", "one report for a record split over many chunks");
    for (size_t step = 0; step <= 3; step++) {
        STREQ(RUN('\n', 3, "abc\r\nabcd\r\nab\r\r\n", step), "abc|!ab\r|",
              "max counts the line, not the CR that goes (chunks of %zu)", step);
        STREQ(RUN('\n', 3, "abc\r", step), "abc|", "a last record of max and a CR (chunks of %zu)", step);
        STREQ(RUN('\n', 3, "abcd", step), "!", "a last record of max + 1 without a CR (chunks of %zu)", step);
        STREQ(RUN(0, 3, "abc\r", step), "!", "NUL records: a CR counts (chunks of %zu)", step);
    }
}

static void test_stop(void)
{
    struct seen s;
    memset(&s, 0, sizeof s);
    s.stop_after = 2;
    struct pw_lines l;
    pw_lines_init(&l, '\n', 0);
    IS(pw_lines_feed(&l, (const uint8_t *)"a\nb\nc\n", 6, &cb, &s), 7, "a callback's nonzero return is returned");
    STREQ(s.out, "a|b|", "nothing is delivered after a stop");
    pw_lines_free(&l);
}

int main(void)
{
    test_newlines();
    test_nul();
    test_raw();
    test_limit();
    test_stop();
    return tap_done();
}
