/* test_json.c — JSON writer (quoted base64 included) and the strict reader. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/base64.h"
#include "proto/json.h"
#include "tap.h"

/* Writes n bytes with pw_json_str and compares with the expected text. */
static void str_is(const char *in, size_t n, const char *want, const char *name)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    int rc = pw_json_str(&b, in, n);
    OK(rc == 0 && b.len == strlen(want) && memcmp(b.p, want, b.len) == 0,
       "writer: %s -> %s (got %.*s)", name, want, (int)b.len, b.p ? (char *)b.p : "");
    pw_buf_free(&b);
}

static void test_writer_strings(void)
{
    str_is("hello", 5, "\"hello\"", "plain ASCII");
    str_is("", 0, "\"\"", "empty string");
    str_is("a\"b\\c", 5, "\"a\\\"b\\\\c\"", "quote and backslash escaped");
    str_is("\n\r\t\b\f", 5, "\"\\n\\r\\t\\b\\f\"", "short escapes");
    str_is("\x01\x1f", 2, "\"\\u0001\\u001f\"", "control chars as \\u00XX");
    str_is("a\0b", 3, "\"a\\u0000b\"", "NUL as \\u0000");
    str_is("\x7f", 1, "\"\\u007f\"", "DEL escaped");
    str_is("/", 1, "\"/\"", "slash not escaped");
    str_is("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"",
           "valid 2-, 3-, 4-byte UTF-8 kept");
    str_is("\xef\xbf\xbd", 3, "\"\xef\xbf\xbd\"", "literal U+FFFD kept");
    str_is("a\x80z", 3, "\"a\xef\xbf\xbdz\"", "lone continuation byte -> U+FFFD");
    str_is("\xc0\x80", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"", "overlong C0 80 -> two U+FFFD");
    str_is("\xe0\x80\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "overlong E0 80 80 -> three U+FFFD");
    str_is("\xed\xa0\x80", 3, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "surrogate ED A0 80 -> three U+FFFD");
    str_is("\xf4\x90\x80\x80", 4, "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"", "> U+10FFFF -> four U+FFFD");
    str_is("\xf0\x9f\x98", 3, "\"\xef\xbf\xbd\"", "truncated 4-byte sequence at end -> one U+FFFD");
    str_is("\xe2\x82" "A", 3, "\"\xef\xbf\xbd" "A\"", "broken sequence: maximal subpart replaced, next byte kept");
    str_is("\xff\xfe", 2, "\"\xef\xbf\xbd\xef\xbf\xbd\"", "FF FE -> two U+FFFD");
    str_is("\xe2\x82\n", 3, "\"\xef\xbf\xbd\\n\"", "broken sequence before a control char");
}

static void test_writer_values(void)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    pw_json_begin(&b, '{');
    pw_json_kcstr(&b, "channel", "news");
    pw_json_kint(&b, "id", 7);
    pw_json_kbool(&b, "gap", 0);
    pw_json_key(&b, "tags");
    pw_json_begin(&b, '[');
    pw_json_sep(&b);
    pw_json_cstr(&b, "a");
    pw_json_sep(&b);
    pw_json_int(&b, -3);
    pw_json_sep(&b);
    pw_json_null(&b);
    pw_json_sep(&b);
    pw_json_begin(&b, '{');
    pw_json_end(&b, '}');
    pw_json_end(&b, ']');
    pw_json_kstr(&b, "e", "", 0);
    pw_json_key(&b, "n");
    pw_json_num(&b, 1.5);
    pw_json_key(&b, "x");
    pw_json_cstr(&b, NULL);
    pw_json_end(&b, '}');
    const char *want = "{\"channel\":\"news\",\"id\":7,\"gap\":false,\"tags\":[\"a\",-3,null,{}],"
                       "\"e\":\"\",\"n\":1.5,\"x\":null}";
    OK(b.len == strlen(want) && memcmp(b.p, want, b.len) == 0, "writer: comma logic builds an object (%.*s)",
       (int)b.len, (char *)b.p);
    pw_buf_reset(&b);
    pw_json_num(&b, 0.0 / 0.0);
    pw_json_sep(&b);
    pw_json_num(&b, 1e300 * 1e300);
    pw_json_sep(&b);
    pw_json_num(&b, 42.0);
    OK(b.len == 12 && memcmp(b.p, "null,null,42", 12) == 0,
       "writer: NaN and inf as null, integral double without fraction");
    pw_buf_free(&b);
}

/* Numbers are written in the shortest text that reads back as the same
 * double: a transcript's "t" reads 0.0266, not 0.026599999999999999. */
static void num_is(double v, const char *want)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    int rc = pw_json_num(&b, v);
    OK(rc == 0 && b.len == strlen(want) && memcmp(b.p, want, b.len) == 0, "writer: number %s (got %.*s)",
       want, (int)b.len, b.p ? (char *)b.p : "");
    pw_buf_free(&b);
}

/* significant digits of a %g-style text */
static int sig_digits(const char *s)
{
    int n = 0, lead = 1;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (lead && *s == '0')
            continue;
        lead = 0;
        n++;
    }
    return n;
}

static void test_writer_numbers(void)
{
    num_is(0.0266, "0.0266");
    num_is(0.026599999999999999, "0.0266");
    num_is(0.1, "0.1");
    num_is(-2.5, "-2.5");
    num_is(12.345678, "12.345678");
    num_is(1.0 / 3, "0.3333333333333333");
    num_is(0.1 + 0.2, "0.30000000000000004");
    num_is(1e300, "1e+300");
    num_is(1e-7, "1e-07");
    num_is(1e22, "1e+22");
    /* pseudo-random doubles over the whole range: each reads back exactly,
     * and one digit fewer would not (when more than 15 were needed) */
    uint64_t x = 88172645463325252ULL;
    int bad = 0, n = 0;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        if (v != v || v - v != 0)
            continue;
        n++;
        struct pw_buf b;
        pw_buf_init(&b, 0);
        char txt[40] = "", shorter[40];
        if (pw_json_num(&b, v) == 0 && b.len < sizeof txt)
            memcpy(txt, b.p, b.len);
        pw_buf_free(&b);
        int sig = sig_digits(txt);
        if (!txt[0] || strtod(txt, NULL) != v || sig > 17)
            bad++;
        else if (sig > 15 && (snprintf(shorter, sizeof shorter, "%.*g", sig - 1, v),
                              strtod(shorter, NULL) == v))
            bad++;
    }
    OK(bad == 0 && n > 19000, "writer: %d random doubles read back exactly, in the fewest digits (%d bad)",
       n, bad);
}

static void test_writer_cap(void)
{
    struct pw_buf b;
    pw_buf_init(&b, 10);
    pw_buf_append(&b, "{", 1);
    int rc = pw_json_kcstr(&b, "key", "a long value");
    OK(rc == PW_ETOOBIG && b.len == 1, "writer: over the cap fails with PW_ETOOBIG and leaves the buffer as it was");
    rc = pw_json_str(&b, "\x01\x01\x01", 3);
    OK(rc == PW_ETOOBIG && b.len == 1, "writer: escapes that overflow the cap leave the buffer unchanged");
    rc = pw_json_b64(&b, "abcdefghi", 9);
    OK(rc == PW_ETOOBIG && b.len == 1, "writer: base64 over the cap leaves the buffer unchanged");
    pw_buf_free(&b);
}

/* pw_json_b64 is base64.c's encoding between quotes (test_base64.c tests
 * the encoding itself). */
static void test_b64_quoted(void)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    int rc = pw_json_b64(&b, "foob", 4);
    OK(rc == 0 && b.len == 10 && memcmp(b.p, "\"Zm9vYg==\"", 10) == 0, "writer: base64 quoted");
    pw_buf_reset(&b);
    rc = pw_json_b64(&b, "", 0);
    OK(rc == 0 && b.len == 2 && memcmp(b.p, "\"\"", 2) == 0, "writer: empty base64 is \"\"");
    pw_buf_free(&b);
}

static struct pw_json *parse_ok(const char *text, const char *name)
{
    struct pw_json *root = NULL;
    size_t at = 99;
    int rc = pw_json_parse(text, strlen(text), NULL, &root, &at);
    OK(rc == 0 && root, "reader: parses %s (%s)", name, rc ? pw_strerror(rc) : "ok");
    return root;
}

static void test_reader_values(void)
{
    struct pw_json *r = parse_ok(" {\"id\":\"7\",\"n\":-12,\"f\":2.5,\"t\":true,\"fa\":false,\"z\":null,"
                                 "\"a\":[1,[2],{}],\"o\":{\"k\":\"v\"},\"e\":\"\"} ", "an object of every type");
    IS(pw_json_type(r), PW_JSON_OBJECT, "reader: root is an object");
    IS(pw_json_len(r), 9, "reader: object has 9 members");
    size_t len = 0;
    const char *s = pw_json_get_str(r, "id", &len);
    OK(s && len == 1 && strcmp(s, "7") == 0, "reader: string member");
    int64_t i = 0;
    OK(pw_json_int64(pw_json_get(r, "n"), &i) == 0 && i == -12, "reader: negative integer");
    double d = 0;
    OK(pw_json_number(pw_json_get(r, "f"), &d) == 0 && d == 2.5, "reader: fraction as double");
    IS(pw_json_int64(pw_json_get(r, "f"), &i), PW_EJSON_RANGE, "reader: 2.5 is not an int64");
    int bv = -1;
    OK(pw_json_boolean(pw_json_get(r, "t"), &bv) == 0 && bv == 1, "reader: true");
    OK(pw_json_boolean(pw_json_get(r, "fa"), &bv) == 0 && bv == 0, "reader: false");
    OK(pw_json_is_null(pw_json_get(r, "z")), "reader: null");
    const struct pw_json *a = pw_json_get(r, "a");
    OK(pw_json_type(a) == PW_JSON_ARRAY && pw_json_len(a) == 3, "reader: array of 3");
    OK(pw_json_int64(pw_json_at(pw_json_at(a, 1), 0), &i) == 0 && i == 2, "reader: nested array element");
    OK(pw_json_type(pw_json_at(a, 2)) == PW_JSON_OBJECT && pw_json_len(pw_json_at(a, 2)) == 0, "reader: empty object");
    OK(pw_json_at(a, 3) == NULL, "reader: index past the end is NULL");
    STREQ(pw_json_get_str(pw_json_get(r, "o"), "k", NULL), "v", "reader: chained lookup");
    OK(pw_json_get(pw_json_get(r, "missing"), "k") == NULL, "reader: chained lookup through a missing key is NULL");
    IS(pw_json_type(pw_json_get(r, "missing")), PW_JSON_NONE, "reader: type of missing is NONE");
    OK(pw_json_get_str(r, "n", NULL) == NULL, "reader: a number is not a string");
    IS(pw_json_number(pw_json_get(r, "id"), &d), PW_EJSON_TYPE, "reader: a string is not a number");
    IS(pw_json_boolean(NULL, &bv), PW_EJSON_TYPE, "reader: bool of missing is PW_EJSON_TYPE");
    size_t kl = 0;
    const char *k = pw_json_name(pw_json_at(r, 1), &kl);
    OK(k && kl == 1 && strcmp(k, "n") == 0, "reader: member names by index");
    s = pw_json_get_str(r, "e", &len);
    OK(s && len == 0 && s[0] == 0, "reader: empty string");
    pw_json_free(r);

    r = parse_ok("\"a\\u0000b\\n\\\"\\\\\\/\\u00e9\\ud83d\\ude00\\b\\f\\r\\t\"", "escapes");
    s = pw_json_string(r, &len);
    OK(s && len == 17 && memcmp(s, "a\0b\n\"\\/\xc3\xa9\xf0\x9f\x98\x80\b\f\r\t", 17) == 0,
       "reader: escapes decoded, NUL kept, surrogate pair joined");
    pw_json_free(r);

    r = parse_ok("{\"k\":1,\"k\":2}", "duplicate keys");
    OK(pw_json_int64(pw_json_get(r, "k"), &i) == 0 && i == 1, "reader: duplicate keys: first wins");
    pw_json_free(r);

    r = parse_ok("[9223372036854775807,-9223372036854775808,9223372036854775808,1e3,5.0,-0,1E-2,0.1e+1]",
                 "numbers at the edges");
    OK(pw_json_int64(pw_json_at(r, 0), &i) == 0 && i == INT64_MAX, "reader: INT64_MAX exact");
    OK(pw_json_int64(pw_json_at(r, 1), &i) == 0 && i == INT64_MIN, "reader: INT64_MIN exact");
    IS(pw_json_int64(pw_json_at(r, 2), &i), PW_EJSON_RANGE, "reader: 2^63 is out of int64 range");
    OK(pw_json_number(pw_json_at(r, 2), &d) == 0 && d == 9223372036854775808.0, "reader: 2^63 as double");
    OK(pw_json_int64(pw_json_at(r, 3), &i) == 0 && i == 1000, "reader: 1e3 is integral");
    OK(pw_json_int64(pw_json_at(r, 4), &i) == 0 && i == 5, "reader: 5.0 is integral");
    OK(pw_json_int64(pw_json_at(r, 5), &i) == 0 && i == 0, "reader: -0 is 0");
    OK(pw_json_number(pw_json_at(r, 6), &d) == 0 && d == 0.01, "reader: 1E-2");
    OK(pw_json_int64(pw_json_at(r, 7), &i) == 0 && i == 1, "reader: 0.1e+1 is 1");
    pw_json_free(r);

    r = parse_ok("\t\r\n 42 \n", "a bare number with whitespace");
    OK(pw_json_int64(r, &i) == 0 && i == 42, "reader: top-level scalar");
    pw_json_free(r);
}

struct bad {
    const char *text;
    size_t len; /* 0: strlen */
    int err;
    size_t at;
    const char *name;
};

static void test_reader_errors(void)
{
    static const struct bad cases[] = {
        {"", 0, PW_EJSON_EOF, 0, "empty text"},
        {"   ", 0, PW_EJSON_EOF, 3, "only whitespace"},
        {"{", 0, PW_EJSON_EOF, 1, "unclosed object"},
        {"[1,2", 0, PW_EJSON_EOF, 4, "unclosed array"},
        {"[1,]", 0, PW_EJSON_SYNTAX, 3, "trailing comma in array"},
        {"{\"a\":1,}", 0, PW_EJSON_SYNTAX, 7, "trailing comma in object"},
        {"{a:1}", 0, PW_EJSON_SYNTAX, 1, "unquoted key"},
        {"{\"a\" 1}", 0, PW_EJSON_SYNTAX, 5, "missing colon"},
        {"[1 2]", 0, PW_EJSON_SYNTAX, 3, "missing comma"},
        {"1 2", 0, PW_EJSON_TRAILING, 2, "two values"},
        {"{} x", 0, PW_EJSON_TRAILING, 3, "garbage after the value"},
        {"'a'", 0, PW_EJSON_SYNTAX, 0, "single quotes"},
        {"tru", 0, PW_EJSON_EOF, 3, "truncated literal"},
        {"trUe", 0, PW_EJSON_SYNTAX, 2, "misspelt literal"},
        {"nul", 0, PW_EJSON_EOF, 3, "truncated null"},
        {"// c\n1", 0, PW_EJSON_SYNTAX, 0, "comment"},
        {"01", 0, PW_EJSON_NUMBER, 1, "leading zero"},
        {"-", 0, PW_EJSON_EOF, 1, "lone minus"},
        {"-a", 0, PW_EJSON_NUMBER, 1, "minus without digits"},
        {"1.", 0, PW_EJSON_EOF, 2, "fraction without digits at end"},
        {"1.e3", 0, PW_EJSON_NUMBER, 2, "fraction without digits"},
        {"1e", 0, PW_EJSON_EOF, 2, "exponent without digits at end"},
        {"1e+x", 0, PW_EJSON_NUMBER, 3, "exponent without digits"},
        {"+1", 0, PW_EJSON_SYNTAX, 0, "plus sign"},
        {".5", 0, PW_EJSON_SYNTAX, 0, "no integer part"},
        {"NaN", 0, PW_EJSON_SYNTAX, 0, "NaN"},
        {"\"abc", 0, PW_EJSON_EOF, 4, "unterminated string"},
        {"\"a\tb\"", 0, PW_EJSON_STRING, 2, "raw tab in string"},
        {"\"a\nb\"", 0, PW_EJSON_STRING, 2, "raw newline in string"},
        {"\"a\0b\"", 5, PW_EJSON_STRING, 2, "raw NUL in string"},
        {"\"\\x\"", 0, PW_EJSON_ESCAPE, 2, "unknown escape"},
        {"\"\\u12g4\"", 0, PW_EJSON_ESCAPE, 5, "bad hex in \\u"},
        {"\"\\u12", 0, PW_EJSON_EOF, 5, "truncated \\u"},
        {"\"\\udc00\"", 0, PW_EJSON_ESCAPE, 3, "lone low surrogate"},
        {"\"\\ud800\"", 0, PW_EJSON_ESCAPE, 7, "lone high surrogate"},
        {"\"\\ud800\\n\"", 0, PW_EJSON_ESCAPE, 7, "high surrogate then another escape"},
        {"\"\\ud800\\ud800\"", 0, PW_EJSON_ESCAPE, 9, "high surrogate twice"},
        {"\"\xff\"", 0, PW_EJSON_UTF8, 1, "invalid byte in string"},
        {"\"\xc0\x80\"", 0, PW_EJSON_UTF8, 1, "overlong in string"},
        {"\"\xed\xa0\x80\"", 0, PW_EJSON_UTF8, 1, "encoded surrogate in string"},
        {"\"\xe2\x82\"", 0, PW_EJSON_UTF8, 1, "truncated sequence in string"},
        {"\xef\xbb\xbf{}", 0, PW_EJSON_SYNTAX, 0, "BOM"},
        {"[1]\0", 4, PW_EJSON_TRAILING, 3, "NUL after the value"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const struct bad *t = &cases[c];
        size_t n = t->len ? t->len : strlen(t->text);
        struct pw_json *root = (struct pw_json *)1;
        size_t at = 999;
        int rc = pw_json_parse(t->text, n, NULL, &root, &at);
        OK(rc == t->err && at == t->at && root == NULL, "reader refuses %s: %s at %zu (got %s at %zu)", t->name,
           pw_errname(t->err), t->at, pw_errname(rc), at);
    }
    STREQ(pw_errrule(PW_EJSON_NUMBER), "RFC 8259 §6", "reader: errors name the RFC 8259 section");
    STREQ(pw_errname(PW_EJSON_DEPTH), "PW_EJSON_DEPTH", "reader: error names are in the error table");
}

static void test_reader_limits(void)
{
    struct pw_json_limits lim = {64, 3, 10};
    struct pw_json *r = NULL;
    size_t at = 0;
    IS(pw_json_parse("[[[1]]]", 7, &lim, &r, &at), 0, "limits: depth 3 is allowed");
    pw_json_free(r);
    IS(pw_json_parse("[[[[1]]]]", 9, &lim, &r, &at), PW_EJSON_DEPTH, "limits: depth 4 is refused");
    IS(at, 3, "limits: the depth error points at the fourth bracket");
    IS(pw_json_parse("[1,2,3,4,5,6,7,8,9]", 19, &lim, &r, &at), 0, "limits: 10 values allowed");
    pw_json_free(r);
    IS(pw_json_parse("[1,2,3,4,5,6,7,8,9,0]", 21, &lim, &r, &at), PW_EJSON_VALUES, "limits: 11 values refused");
    IS(at, 19, "limits: the values error points at the eleventh value");
    char big[65];
    memset(big, ' ', sizeof big);
    big[0] = '1';
    IS(pw_json_parse(big, 65, &lim, &r, &at), PW_EJSON_TOOBIG, "limits: text over max_size refused before parsing");
    OK(r == NULL, "limits: no tree on error");
    IS(pw_json_parse(big, 64, &lim, &r, &at), 0, "limits: text of exactly max_size parses");
    pw_json_free(r);
    /* deep nesting with default limits: no stack trouble */
    size_t n = 100000;
    char *deep = malloc(n);
    memset(deep, '[', n);
    IS(pw_json_parse(deep, n, NULL, &r, &at), PW_EJSON_DEPTH, "limits: 100000 '[' stops at the default depth");
    IS(at, 64, "limits: default depth is 64");
    free(deep);
    deep = NULL;
    lim = (struct pw_json_limits){0, 0, 0};
    IS(pw_json_parse("[1,[2]]", 7, &lim, &r, &at), 0, "limits: zero fields mean the defaults");
    pw_json_free(r);
    lim.max_depth = 100000;
    deep = malloc(5000);
    memset(deep, '[', 5000);
    IS(pw_json_parse(deep, 5000, &lim, &r, &at), PW_EJSON_DEPTH, "limits: max_depth is clamped to 1000");
    IS(at, 1000, "limits: clamped depth error at byte 1000");
    free(deep);
    char num[300];
    memset(num, '1', sizeof num);
    IS(pw_json_parse(num, sizeof num, NULL, &r, &at), PW_EJSON_NUMBER, "limits: a 300-digit number is refused");
}

static void test_roundtrip(void)
{
    /* every byte value through the writer and back through the reader */
    unsigned char all[128];
    for (int i = 0; i < 128; i++)
        all[i] = (unsigned char)i;
    struct pw_buf b;
    pw_buf_init(&b, 0);
    pw_json_begin(&b, '{');
    pw_json_kstr(&b, "ascii", all, sizeof all);
    pw_json_kstr(&b, "bad", "\xff\xc3\xa9\xe2\x82", 5);
    pw_json_key(&b, "bin");
    pw_json_b64(&b, "\x00\xff\x10", 3);
    pw_json_end(&b, '}');
    struct pw_json *r = NULL;
    int rc = pw_json_parse(b.p, b.len, NULL, &r, NULL);
    IS(rc, 0, "round-trip: the writer's output parses");
    size_t len = 0;
    const char *s = pw_json_get_str(r, "ascii", &len);
    OK(s && len == 128 && memcmp(s, all, 128) == 0, "round-trip: all 128 ASCII bytes, controls included");
    s = pw_json_get_str(r, "bad", &len);
    OK(s && len == 8 && memcmp(s, "\xef\xbf\xbd\xc3\xa9\xef\xbf\xbd", 8) == 0,
       "round-trip: invalid UTF-8 comes back replaced");
    s = pw_json_get_str(r, "bin", &len);
    struct pw_buf d;
    pw_buf_init(&d, 0);
    OK(s && pw_base64_decode_append(&d, s, len) == 0 && d.len == 3 && memcmp(d.p, "\x00\xff\x10", 3) == 0,
       "round-trip: base64 data comes back exact");
    pw_buf_free(&d);
    pw_json_free(r);
    pw_buf_free(&b);
}

int main(void)
{
    test_writer_strings();
    test_writer_values();
    test_writer_numbers();
    test_writer_cap();
    test_b64_quoted();
    test_reader_values();
    test_reader_errors();
    test_reader_limits();
    test_roundtrip();
    return tap_done();
}
