/* test_msgid.c — message ids (msgid.h): the forms, the rules each broken
 * form breaks, round trips, ordering within an epoch, epochs. */
#include <stdio.h>
#include <string.h>

#include "proto/msgid.h"
#include "tap.h"

static int parse(const char *s, struct pw_msgid *id)
{
    return pw_msgid_parse(s, strlen(s), id);
}

/* parse, format, compare with the input */
static int round_trip(const char *s)
{
    struct pw_msgid id;
    char out[PW_ID_MAX];
    return parse(s, &id) == 0 && pw_msgid_format(out, &id) == strlen(s) && strcmp(out, s) == 0;
}

static void test_forms(void)
{
    struct pw_msgid id;
    IS(parse("0", &id), 0, "0 is an id");
    IS(id.form, PW_MSGID_START, "0 is the start");
    IS(parse("k3x9q2mv7c1a:42", &id), 0, "EPOCH:SEQ");
    OK(id.form == PW_MSGID_SEQ && id.seq == 42 && id.ms == 0, "its seq is 42");
    STREQ(id.epoch, "k3x9q2mv7c1a", "its epoch");
    IS(id.epoch_len, 12, "epoch length");
    IS(parse("k3x9q2mv7c1a:1718000000000-7", &id), 0, "EPOCH:MS-SEQ (a Redis stream id)");
    OK(id.form == PW_MSGID_STREAM && id.ms == 1718000000000ULL && id.seq == 7, "ms and seq");
    IS(parse("e:0", &id), 0, "EPOCH:0: before the epoch's first message");
    OK(id.form == PW_MSGID_SEQ && id.seq == 0, "seq 0");
    IS(parse("e:0-0", &id), 0, "a stream id 0-0");
    IS(parse("a:18446744073709551615", &id), 0, "seq 2^64-1 is taken");
    OK(id.seq == UINT64_MAX, "read as 2^64-1");
    IS(parse("0123456789abcdef:1", &id), 0, "a 16-character epoch");
    /* no NUL needed: a length */
    IS(pw_msgid_parse("e:12xyz", 4, &id), 0, "parsed by length, not NUL");
    IS(id.seq, 12, "the 4 bytes give seq 12");

    OK(round_trip("0"), "0 round-trips");
    OK(round_trip("k3x9q2mv7c1a:1"), "EPOCH:1 round-trips");
    OK(round_trip("k3x9q2mv7c1a:18446744073709551615"), "the largest seq round-trips");
    OK(round_trip("k3x9q2mv7c1a:1718000000000-0"), "a stream id round-trips");
    OK(round_trip("z:0"), "EPOCH:0 round-trips");
    /* the longest a Redis backend makes: 12 + 1 + 13 + 1 + 20 = 47 */
    OK(round_trip("k3x9q2mv7c1a:1718000000000-18446744073709551615"), "47 bytes round-trip");
}

static void test_broken(void)
{
    struct pw_msgid id;
    IS(parse("", &id), PW_EMSGID_EMPTY, "empty: its own rule");
    IS(parse("1", &id), PW_EMSGID_FORM, "a bare number (an old id) is not an id");
    IS(parse("abc", &id), PW_EMSGID_FORM, "no colon");
    IS(parse("00", &id), PW_EMSGID_FORM, "00 is not the start");
    IS(parse(":1", &id), PW_EMSGID_EPOCH, "an empty epoch");
    IS(parse("AB:1", &id), PW_EMSGID_EPOCH, "upper case epoch");
    IS(parse("a-b:1", &id), PW_EMSGID_EPOCH, "punctuation in the epoch");
    IS(parse("0123456789abcdefg:1", &id), PW_EMSGID_EPOCH, "a 17-character epoch");
    IS(parse("e:", &id), PW_EMSGID_NUMBER, "an empty seq");
    IS(parse("e:01", &id), PW_EMSGID_NUMBER, "a leading zero");
    IS(parse("e:1a", &id), PW_EMSGID_NUMBER, "a letter in the seq");
    IS(parse("e:+1", &id), PW_EMSGID_NUMBER, "a sign");
    IS(parse("e: 1", &id), PW_EMSGID_NUMBER, "a space");
    IS(parse("e:1:2", &id), PW_EMSGID_NUMBER, "a second colon");
    IS(parse("e:18446744073709551616", &id), PW_EMSGID_NUMBER, "2^64 overflows");
    IS(parse("e:99999999999999999999", &id), PW_EMSGID_NUMBER, "20 nines overflow");
    IS(parse("e:1-", &id), PW_EMSGID_NUMBER, "a stream id without seq");
    IS(parse("e:-1", &id), PW_EMSGID_NUMBER, "a stream id without ms");
    IS(parse("e:1-2-3", &id), PW_EMSGID_NUMBER, "two dashes");
    IS(pw_msgid_parse("e:1\0", 4, &id), PW_EMSGID_NUMBER, "a NUL inside");
    IS(pw_msgid_parse("e\0:1", 4, &id), PW_EMSGID_EPOCH, "a NUL in the epoch");
    char big[64];
    memset(big, '1', sizeof big);
    memcpy(big, "e:", 2);
    IS(pw_msgid_parse(big, 48, &id), PW_EMSGID_LONG, "48 bytes is too long");
    IS(parse("k3x9q2mv7c1a:1718000000000-18446744073709551615", &id), 0, "47 bytes is not");
    IS(parse("e:\xc3\xa9", &id), PW_EMSGID_NUMBER, "non-ASCII");
    parse("e:x", &id);
    OK(id.form == 0 && id.epoch[0] == 0 && id.seq == 0, "a refused id leaves out zeroed");
    OK(strstr(pw_strerror(PW_EMSGID_FORM), "EPOCH:SEQ") != NULL, "the message names the form");
    STREQ(pw_errrule(PW_EMSGID_EPOCH), "docs/PROTOCOL.md#ids-and-resume", "the rule is the doc");

    char out[PW_ID_MAX];
    struct pw_msgid bad = pw_msgid_seq("e", 1);
    bad.epoch[0] = 'E';
    IS(pw_msgid_format(out, &bad), 0, "format refuses a bad epoch");
    struct pw_msgid huge;
    memset(&huge, 0, sizeof huge);
    huge.form = PW_MSGID_STREAM;
    memcpy(huge.epoch, "0123456789abcdef", 16);
    huge.epoch_len = 16;
    huge.ms = huge.seq = UINT64_MAX;
    IS(pw_msgid_format(out, &huge), 0, "format refuses an id over 47 bytes");
}

static void test_order(void)
{
    struct pw_msgid a, b, z, s1, s2, o;
    parse("e:9", &a);
    parse("e:10", &b);
    parse("0", &z);
    parse("e:1-5", &s1);
    parse("e:2-0", &s2);
    parse("f:1", &o);
    OK(pw_msgid_cmp(&a, &b) < 0, "9 before 10 (numbers, not strings)");
    OK(pw_msgid_cmp(&b, &a) > 0, "10 after 9");
    OK(pw_msgid_cmp(&a, &a) == 0, "equal");
    OK(pw_msgid_cmp(&z, &a) < 0 && pw_msgid_cmp(&a, &z) > 0, "0 before everything");
    OK(pw_msgid_cmp(&z, &z) == 0, "0 equals 0");
    OK(pw_msgid_cmp(&s1, &s2) < 0, "1-5 before 2-0 (ms first)");
    OK(pw_msgid_same_epoch(&a, &b), "one epoch");
    OK(!pw_msgid_same_epoch(&a, &o), "two epochs");
    OK(pw_msgid_same_epoch(&z, &o) && pw_msgid_same_epoch(&o, &z), "0 is in every epoch");
    struct pw_msgid l;
    parse("ee:1", &l);
    OK(!pw_msgid_same_epoch(&a, &l), "an epoch that is a prefix of another is not it");
    OK(pw_msgid_has_epoch("e:9", 3, "e", 1), "has_epoch");
    OK(!pw_msgid_has_epoch("ee:9", 4, "e", 1) && !pw_msgid_has_epoch("e", 1, "e", 1) &&
           !pw_msgid_has_epoch("0", 1, "e", 1), "has_epoch: the whole epoch and a colon");
    OK(!pw_msgid_has_epoch("e:9", 1, "e", 1), "has_epoch: only the id's own bytes are read");
    struct pw_msgid q = pw_msgid_seq("abc", 5);
    char out[PW_ID_MAX];
    pw_msgid_format(out, &q);
    STREQ(out, "abc:5", "pw_msgid_seq");
}

static void test_epochs(void)
{
    char e[PW_EPOCH_LEN + 1], f[PW_EPOCH_LEN + 1];
    pw_msgid_epoch_make(e, 0, 0);
    STREQ(e, "000000000000", "time 0, random 0");
    pw_msgid_epoch_make(e, 1718000000, 35);
    STREQ(e + 6, "00000z", "random part in base 36");
    OK(pw_msgid_epoch_valid(e, strlen(e)), "a made epoch is valid");
    pw_msgid_epoch_make(f, 1718000001, 35);
    OK(strcmp(e, f) != 0, "a second later differs");
    IS(pw_msgid_epoch_new(e), 0, "a fresh epoch");
    IS(strlen(e), PW_EPOCH_LEN, "12 characters");
    OK(pw_msgid_epoch_valid(e, strlen(e)), "of [a-z0-9]");
    pw_msgid_epoch_new(f);
    OK(strcmp(e, f) != 0, "two fresh epochs differ (random bits)");
    OK(!pw_msgid_epoch_valid("", 0) && !pw_msgid_epoch_valid("a.b", 3), "epoch rules");
    /* an id of a fresh epoch round-trips */
    char id[PW_ID_MAX];
    snprintf(id, sizeof id, "%s:123", e);
    OK(round_trip(id), "EPOCH:123 of a fresh epoch round-trips");
}

int main(void)
{
    test_forms();
    test_broken();
    test_order();
    test_epochs();
    return tap_done();
}
