/* test_optval.c — the grammar of option values (src/proto/optval.h): whole
 * numbers, byte sizes with units, durations, decimals, words, bounds. */
#include <stdint.h>
#include <string.h>

#include "tap.h"
#include "proto/optval.h"

static uint64_t u_of(enum pw_valtype t, const char *s, int *rc)
{
    struct pw_val v = {12345, 0};
    *rc = pw_val_parse(t, s, &v);
    return v.u;
}

static double d_of(enum pw_valtype t, const char *s, int *rc)
{
    struct pw_val v = {0, -1};
    *rc = pw_val_parse(t, s, &v);
    return v.d;
}

#define BYTES_ARE(s, want)                                                     \
    do {                                                                       \
        int rc_;                                                               \
        uint64_t got_ = u_of(PW_VAL_BYTES, s, &rc_);                           \
        OK(rc_ == 0 && got_ == (uint64_t)(want), "bytes '%s' is %llu (got %llu, rc %d)", s, \
           (unsigned long long)(want), (unsigned long long)got_, rc_);         \
    } while (0)

#define REFUSED(t, s, code)                                                    \
    do {                                                                       \
        struct pw_val v_ = {777, 7.5};                                         \
        int rc_ = pw_val_parse(t, s, &v_);                                     \
        OK(rc_ == (code) && v_.u == 777 && v_.d == 7.5,                        \
           "type %d '%s' is refused with %s (got %s), *out untouched", (int)(t), s, \
           pw_errname(code), pw_errname(rc_));                                 \
    } while (0)

#define SECS_ARE(s, want)                                                      \
    do {                                                                       \
        int rc_;                                                               \
        double got_ = d_of(PW_VAL_SECS, s, &rc_);                              \
        OK(rc_ == 0 && got_ == (want), "secs '%s' is %g (got %g, rc %d)", s, (double)(want), \
           got_, rc_);                                                         \
    } while (0)

static void test_count(void)
{
    int rc;
    IS(u_of(PW_VAL_COUNT, "0", &rc), 0, "count 0");
    IS(u_of(PW_VAL_COUNT, "1024", &rc), 1024, "count 1024");
    IS(u_of(PW_VAL_COUNT, "007", &rc), 7, "leading zeros are decimal, not octal");
    OK(u_of(PW_VAL_COUNT, "18446744073709551615", &rc) == UINT64_MAX && rc == 0,
       "count: 2^64-1 fits");
    REFUSED(PW_VAL_COUNT, "18446744073709551616", PW_EVAL_HIGH);
    REFUSED(PW_VAL_COUNT, "", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_COUNT, "-1", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_COUNT, "+1", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_COUNT, " 1", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_COUNT, "1 ", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_COUNT, "1.0", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_COUNT, "1K", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_COUNT, "0x10", PW_EVAL_SYNTAX);
    struct pw_val v;
    IS(pw_val_parse(PW_VAL_COUNT, NULL, &v), PW_EVAL_SYNTAX, "NULL is no value");
}

static void test_bytes(void)
{
    BYTES_ARE("0", 0);
    BYTES_ARE("512", 512);
    BYTES_ARE("512B", 512);
    BYTES_ARE("512b", 512);
    BYTES_ARE("1K", 1024);
    BYTES_ARE("1k", 1024);
    BYTES_ARE("512k", 512 * 1024);
    BYTES_ARE("1Ki", 1024);
    BYTES_ARE("1KiB", 1024);
    BYTES_ARE("1kib", 1024);
    BYTES_ARE("1KB", 1000);
    BYTES_ARE("1kb", 1000);
    BYTES_ARE("16M", 16u << 20);
    BYTES_ARE("1MiB", 1u << 20);
    BYTES_ARE("16MB", 16000000);
    BYTES_ARE("2G", 2ull << 30);
    BYTES_ARE("4GiB", 4ull << 30);
    BYTES_ARE("1GB", 1000000000);
    BYTES_ARE("1T", 1ull << 40);
    BYTES_ARE("1TB", 1000000000000ull);
    BYTES_ARE("16777215T", 16777215ull << 40);
    REFUSED(PW_VAL_BYTES, "16777216T", PW_EVAL_HIGH);
    REFUSED(PW_VAL_BYTES, "99999999999999999999", PW_EVAL_HIGH);
    REFUSED(PW_VAL_BYTES, "", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_BYTES, "K", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_BYTES, "1.5M", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_BYTES, "1P", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_BYTES, "1Q", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_BYTES, "1 K", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_BYTES, "1KK", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_BYTES, "1KiBs", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_BYTES, "1iB", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_BYTES, "1Kb ", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_BYTES, "-1K", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_BYTES, "0x400", PW_EVAL_SYNTAX);
}

static void test_secs(void)
{
    SECS_ARE("0", 0);
    SECS_ARE("15", 15);
    SECS_ARE("1.5", 1.5);
    SECS_ARE(".5", 0.5);
    SECS_ARE("2.", 2);
    SECS_ARE("1e3", 1000);
    SECS_ARE("1E-3", 0.001);
    SECS_ARE("500ms", 0.5);
    SECS_ARE("1ms", 0.001); /* the same double as "0.001": a bound of 1ms admits 0.001 */
    SECS_ARE("2.5s", 2.5);
    SECS_ARE("2m", 120);
    SECS_ARE("1.5h", 5400);
    SECS_ARE("365d", 365 * 86400.0);
    REFUSED(PW_VAL_SECS, "", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_SECS, ".", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_SECS, "-1", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_SECS, "+1", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_SECS, "inf", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_SECS, "nan", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_SECS, "0x10", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_SECS, "1e", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_SECS, "1 s", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_SECS, "1S", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_SECS, "1min", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_SECS, "1us", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_SECS, "1e999", PW_EVAL_HIGH);
    REFUSED(PW_VAL_SECS, "1e307d", PW_EVAL_HIGH);
    int rc;
    OK(d_of(PW_VAL_REAL, "0.5", &rc) == 0.5 && rc == 0, "real 0.5");
    OK(d_of(PW_VAL_REAL, "1e-6", &rc) == 1e-6 && rc == 0, "real 1e-6");
    REFUSED(PW_VAL_REAL, "5s", PW_EVAL_SYNTAX);
    REFUSED(PW_VAL_REAL, "1ms", PW_EVAL_SYNTAX);
}

static void test_range(void)
{
    struct pw_val v;
    IS(pw_val_range(PW_VAL_BYTES, "1K", "1", "4G", &v), 0, "1K within 1..4G");
    IS(v.u, 1024, "and is 1024");
    IS(pw_val_range(PW_VAL_BYTES, "4G", "1", "4G", &v), 0, "the upper bound is included");
    IS(pw_val_range(PW_VAL_BYTES, "4097M", "1", "4G", &v), PW_EVAL_HIGH, "4097M above 4G");
    IS(pw_val_range(PW_VAL_BYTES, "0", "1", "4G", &v), PW_EVAL_LOW, "0 below 1");
    IS(pw_val_range(PW_VAL_BYTES, "1023", "1K", NULL, &v), PW_EVAL_LOW, "1023 below 1K");
    IS(pw_val_range(PW_VAL_BYTES, "16T", "1K", NULL, &v), 0, "no upper bound");
    IS(pw_val_range(PW_VAL_BYTES, "x", "1", "2", &v), PW_EVAL_SYNTAX,
       "a syntax error comes before the bounds");
    IS(pw_val_range(PW_VAL_SECS, "0.001", "1ms", "365d", &v), 0, "0.001 is 1ms");
    IS(pw_val_range(PW_VAL_SECS, "0.0009", "1ms", "365d", &v), PW_EVAL_LOW, "0.0009 < 1ms");
    IS(pw_val_range(PW_VAL_SECS, "366d", "0", "365d", &v), PW_EVAL_HIGH, "366d > 365d");
    IS(pw_val_range(PW_VAL_SECS, "31536000", "0", "365d", &v), 0, "365d in seconds");
    IS(pw_val_range(PW_VAL_COUNT, "5", "1x", "9", &v), PW_EINVAL, "a bad bound is EINVAL");
    IS(pw_val_range(PW_VAL_REAL, "1e-7", "1e-6", "1e6", &v), PW_EVAL_LOW, "real below");
}

static void test_word_and_limits(void)
{
    size_t i = 99;
    IS(pw_val_word("json", "text json", &i), 0, "a word");
    IS(i, 1, "its index");
    IS(pw_val_word("7", "7 16 64", &i), 0, "a number as a word");
    IS(i, 0, "index 0");
    IS(pw_val_word("64", "7 16 64", &i), 0, "the last word");
    IS(i, 2, "index 2");
    IS(pw_val_word("JSON", "text json", &i), PW_EVAL_WORD, "case matters");
    IS(pw_val_word("tex", "text json", &i), PW_EVAL_WORD, "a prefix is not a word");
    IS(pw_val_word("", "text json", &i), PW_EVAL_WORD, "empty is not a word");
    IS(pw_val_word("text json", "text json", &i), PW_EVAL_WORD, "nor two of them");
    char long_s[PW_VAL_MAX_LEN + 2];
    memset(long_s, '1', sizeof long_s - 1);
    long_s[sizeof long_s - 1] = 0;
    REFUSED(PW_VAL_COUNT, long_s, PW_EVAL_LONG);
    long_s[PW_VAL_MAX_LEN] = 0;
    REFUSED(PW_VAL_COUNT, long_s, PW_EVAL_HIGH); /* 64 characters are read */
    OK(pw_strerror(PW_EVAL_SYNTAX)[0] && strcmp(pw_errname(PW_EVAL_LOW), "PW_EVAL_LOW") == 0,
       "the codes are in the one error table");
    OK(pw_errrule(PW_EVAL_HIGH)[0] == 0, "and name no protocol rule");
}

int main(void)
{
    test_count();
    test_bytes();
    test_secs();
    test_range();
    test_word_and_limits();
    return tap_done();
}
