/* test_redis_wire.c — the pure parts of the Redis backplane (redis_wire.h):
 * URLs, Cluster slots (CRC16 with Redis's reference vectors), stream ids,
 * notifications. */
#include <string.h>

#include "proto/redis_wire.h"
#include "tap.h"

static void test_url(void)
{
    struct pw_redis_url u;
    IS(pw_redis_url_parse("redis://127.0.0.1:6380", &u), 0, "host:port");
    STREQ(u.host, "127.0.0.1", "host");
    IS(u.port, 6380, "port");
    IS(u.db, 0, "no db");
    IS(u.has_pass, 0, "no password");
    IS(pw_redis_url_parse("redis://cache", &u), 0, "host alone");
    IS(u.port, 6379, "default port");
    IS(pw_redis_url_parse("redis://user:p%40ss@db.example:7000/3", &u), 0, "user, password, db");
    STREQ(u.user, "user", "user");
    STREQ(u.pass, "p@ss", "password percent-decoded");
    IS(u.db, 3, "db");
    IS(pw_redis_url_parse("redis://:secret@h/", &u), 0, "password alone");
    STREQ(u.user, "", "no user");
    STREQ(u.pass, "secret", "password");
    IS(pw_redis_url_parse("redis://[::1]:6390/1", &u), 0, "IPv6");
    STREQ(u.host, "::1", "IPv6 without brackets");
    IS(u.port, 6390, "IPv6 port");
    IS(pw_redis_url_parse("unix:///run/redis/redis.sock", &u), 0, "unix socket");
    IS(u.is_unix, 1, "unix");
    STREQ(u.path, "/run/redis/redis.sock", "path");
    IS(pw_redis_url_parse("unix:///tmp/r.sock?db=2", &u), 0, "unix with db");
    IS(u.db, 2, "unix db");
    IS(pw_redis_url_parse("rediss://h:6380", &u), PW_EREDIS_TLS, "rediss:// refused, said why");
    IS(pw_redis_url_parse("http://h", &u), PW_EREDIS_URL, "another scheme");
    IS(pw_redis_url_parse("redis://", &u), PW_EREDIS_URL, "no host");
    IS(pw_redis_url_parse("redis://h:0", &u), PW_EREDIS_URL, "port 0");
    IS(pw_redis_url_parse("redis://h:65536", &u), PW_EREDIS_URL, "port too big");
    IS(pw_redis_url_parse("redis://h:63x", &u), PW_EREDIS_URL, "port not a number");
    IS(pw_redis_url_parse("redis://h/x", &u), PW_EREDIS_URL, "db not a number");
    IS(pw_redis_url_parse("redis://u:%4@h", &u), PW_EREDIS_URL, "bad percent-encoding");
    IS(pw_redis_url_parse("redis://u:%00@h", &u), PW_EREDIS_URL, "NUL in a password");
    IS(pw_redis_url_parse("unix://relative.sock", &u), PW_EREDIS_URL, "unix path not absolute");
    IS(pw_redis_url_parse("unix:///x?db=", &u), PW_EREDIS_URL, "empty db");
    char longp[300];
    memset(longp, 'a', sizeof longp);
    memcpy(longp, "unix:///", 8);
    longp[sizeof longp - 1] = 0;
    IS(pw_redis_url_parse(longp, &u), PW_EREDIS_LONG, "socket path over 107 bytes");
    IS(u.is_unix, 0, "zeroed on failure");
}

static void test_slot(void)
{
    /* the reference vector of the Redis Cluster specification */
    IS(pw_redis_crc16("123456789", 9), 0x31C3, "CRC16 of 123456789 is 0x31C3");
    IS(pw_redis_crc16("", 0), 0, "CRC16 of nothing");
    /* CLUSTER KEYSLOT answers (redis-cli, Redis 7) */
    IS(pw_redis_key_slot("foo", 3), 12182, "slot of foo");
    IS(pw_redis_key_slot("bar", 3), 5061, "slot of bar");
    IS(pw_redis_key_slot("{user1000}.following", 20), pw_redis_key_slot("user1000", 8), "hash tag");
    IS(pw_redis_key_slot("foo{}{bar}", 10), pw_redis_key_slot("foo{}{bar}", 10), "empty tag");
    IS(pw_redis_key_slot("foo{}{bar}", 10), pw_redis_crc16("foo{}{bar}", 10) & 16383, "empty tag: the whole key");
    IS(pw_redis_key_slot("foo{{bar}}zap", 13), pw_redis_crc16("{bar", 4) & 16383, "the first { to the first }");
    IS(pw_redis_key_slot("pw:{news}:s", 11), pw_redis_key_slot("pw:{news}:n", 11), "a channel's keys share a slot");
    IS(pw_redis_key_slot("pw:{news}:e", 11), pw_redis_key_slot("news", 4), "the slot of the channel name");
}

static void test_sid(void)
{
    uint64_t ms, seq;
    char out[48];
    IS(pw_redis_sid_parse("1718000000000-0", 15, &ms, &seq), 0, "stream id");
    IS(ms, 1718000000000ULL, "ms");
    IS(seq, 0, "seq");
    IS(pw_redis_sid_parse("18446744073709551615-18446744073709551615", 41, &ms, &seq), 0, "largest");
    IS(pw_redis_sid_format(out, ms, seq), 41, "formats back");
    STREQ(out, "18446744073709551615-18446744073709551615", "same spelling");
    IS(pw_redis_sid_parse("18446744073709551616-0", 22, &ms, &seq), PW_EREDIS_SID, "over 2^64");
    IS(pw_redis_sid_parse("01-0", 4, &ms, &seq), PW_EREDIS_SID, "leading zero");
    IS(pw_redis_sid_parse("12", 2, &ms, &seq), PW_EREDIS_SID, "no dash");
    IS(pw_redis_sid_parse("1-", 2, &ms, &seq), PW_EREDIS_SID, "no seq");
    IS(pw_redis_sid_parse("-1", 2, &ms, &seq), PW_EREDIS_SID, "no ms");
}

static void test_note(void)
{
    struct pw_redis_note n;
    static const char ok[] = "k3x9q2mv7c1a\n1718000000000-3\n0\nmessage\nhello\nworld";
    IS(pw_redis_note_parse((const uint8_t *)ok, sizeof ok - 1, &n), 0, "a notification");
    STREQ(n.epoch, "k3x9q2mv7c1a", "epoch");
    IS(n.ms, 1718000000000ULL, "ms");
    IS(n.seq, 3, "seq");
    IS(n.binary, 0, "text");
    IS(n.event_len, 7, "event");
    OK(memcmp(n.event, "message", 7) == 0, "event bytes");
    IS(n.len, 11, "data: the rest, newlines and all");
    OK(memcmp(n.data, "hello\nworld", 11) == 0, "data bytes");
    static const char bin[] = "e\n1-1\n1\nx\n\0\xff";
    IS(pw_redis_note_parse((const uint8_t *)bin, sizeof bin - 1, &n), 0, "binary data");
    IS(n.binary, 1, "binary");
    IS(n.len, 2, "binary length");
    static const char empty[] = "e\n1-1\n0\nm\n";
    IS(pw_redis_note_parse((const uint8_t *)empty, sizeof empty - 1, &n), 0, "empty data");
    IS(n.len, 0, "nothing");
    static const char *bad[] = {
        "", "e\n1-1\n0\nm", "E\n1-1\n0\nm\n", "e\n1-1\n2\nm\n", "e\n11\n0\nm\n", "e\n1-1\n0\n\n",
        "e\n1-1\n0\nm\rx\n", "\n1-1\n0\nm\n", "abcdefghijklmnopq\n1-1\n0\nm\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        int rc = pw_redis_note_parse((const uint8_t *)bad[i], strlen(bad[i]), &n);
        OK(rc == PW_EREDIS_NOTE || rc == PW_EREDIS_SID, "refused: bad notification %zu", i);
        IS(n.len, 0, "zeroed %zu", i);
    }
}

int main(void)
{
    test_url();
    test_slot();
    test_sid();
    test_note();
    return tap_done();
}
