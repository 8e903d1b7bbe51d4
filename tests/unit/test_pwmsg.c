/* test_pwmsg.c — pushwire's own wire format (pwmsg.h): the exact bytes the
 * server writes, every form round-tripped (encode → decode → equal), what
 * clients tolerate from other servers, limits, and broken input named by
 * the rule it breaks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/pwmsg.h"
#include "proto/utf8.h"
#include "proto/ws_frame.h"
#include "tap.h"

static struct pw_buf B;   /* encoder output, reset by enc() */
static struct pwmsg_dec D;

static const char *text(void)
{
    pw_buf_putc(&B, 0);
    B.len--;
    return (const char *)B.p;
}

static struct pw_msg *msg(const char *ch, const char *ev, const void *data, size_t len, int bin,
                          uint64_t seq)
{
    struct pw_msg *m = pw_msg_new(ch, strlen(ch), ev, data, len, bin);
    /* the codec carries any id string: a bare number keeps the bytes short
     * (a server's ids are EPOCH:SEQ, msgid.h) */
    int n = snprintf((char *)m->id, PW_ID_MAX, "%llu", (unsigned long long)seq);
    m->id_len = (uint8_t)n;
    m->seq = seq;
    return m;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* ---- the exact bytes ---- */

static void test_bytes_messages(void)
{
    struct pw_msg *m = msg("v", NULL, "hi", 2, 0, 1);
    B.len = 0;
    OK(pwmsg_envelope_encode(&B, m) == 0, "envelope: encodes");
    STREQ(text(), "{\"id\":\"1\",\"channel\":\"v\",\"event\":\"message\",\"data\":\"hi\"}", "envelope: text bytes");
    B.len = 0;
    pwmsg_poll_item_encode(&B, m);
    STREQ(text(), "{\"id\":\"1\",\"event\":\"message\",\"data\":\"hi\"}", "poll item: text bytes");
    pw_msg_unref(m);
    m = msg("v", "tick", "\0\1\2\xff", 4, 1, 2);
    B.len = 0;
    pwmsg_envelope_encode(&B, m);
    STREQ(text(), "{\"id\":\"2\",\"channel\":\"v\",\"event\":\"tick\",\"data\":\"AAEC/w==\",\"encoding\":\"base64\"}",
          "envelope: binary data as base64, encoding after it");
    pw_msg_unref(m);
}

static void test_bytes_poll(void)
{
    struct pw_buf list, item;
    pw_buf_init(&list, 0);
    pw_buf_init(&item, 0);
    for (uint64_t i = 2; i <= 3; i++) {
        char d[3] = {'m', (char)('0' + i), 0};
        struct pw_msg *m = msg("p", NULL, d, 2, 0, i);
        item.len = 0;
        pwmsg_poll_item_encode(&item, m);
        OK(pwmsg_poll_list_add(&list, item.p, item.len) == 0, "poll: item %llu added", (unsigned long long)i);
        pw_msg_unref(m);
    }
    B.len = 0;
    pwmsg_poll_encode(&B, "3", list.p, list.len, NULL);
    STREQ(text(), "{\"cursor\":\"3\",\"messages\":[{\"id\":\"2\",\"event\":\"message\",\"data\":\"m2\"},"
                  "{\"id\":\"3\",\"event\":\"message\",\"data\":\"m3\"}],\"gap\":false}\n",
          "poll body: bytes, newline included");
    B.len = 0;
    pwmsg_poll_encode(&B, "0", NULL, 0, NULL);
    STREQ(text(), "{\"cursor\":\"0\",\"messages\":[],\"gap\":false}\n", "poll body: empty");
    struct pwmsg_gap g = {"1", "3"};
    B.len = 0;
    pwmsg_poll_encode(&B, "3", item.p, item.len, &g);
    STREQ(text(), "{\"cursor\":\"3\",\"messages\":[{\"id\":\"3\",\"event\":\"message\",\"data\":\"m3\"}],"
                  "\"gap\":true,\"after\":\"1\",\"first\":\"3\"}\n",
          "poll body: the gap form");
    pw_buf_free(&list);
    pw_buf_free(&item);
}

static void test_bytes_gaps(void)
{
    struct pwmsg_gap g = {"0", "2"}, none = {"5", ""}, null = {"5", NULL};
    B.len = 0;
    pwmsg_gap_envelope_encode(&B, "vx", 1, &g);
    STREQ(text(), "{\"event\":\"gap\",\"channel\":\"v\",\"after\":\"0\",\"first\":\"2\"}", "gap envelope: bytes");
    B.len = 0;
    pwmsg_sse_gap_encode(&B, &g);
    STREQ(text(), "{\"after\":\"0\",\"first\":\"2\"}", "SSE gap: bytes");
    B.len = 0;
    pwmsg_sse_gap_encode(&B, &null);
    STREQ(text(), "{\"after\":\"5\",\"first\":\"\"}", "SSE gap: nothing held is \"first\":\"\"");
    char r[PWMSG_REASON_MAX + 1];
    IS(pwmsg_gap_reason(r, &g), 26, "4410: length");
    STREQ(r, "gap: after 0, first held 2", "4410: first held");
    pwmsg_gap_reason(r, &none);
    STREQ(r, "gap: after 5, nothing held", "4410: nothing held (\"\")");
    pwmsg_gap_reason(r, &null);
    STREQ(r, "gap: after 5, nothing held", "4410: nothing held (NULL)");
}

/* pushwire.v1's position: an envelope with an id and no data, which is no
 * message; a message whose event is named position has data */
static void test_position(void)
{
    struct pwmsg_envelope e;
    B.len = 0;
    pwmsg_position_envelope_encode(&B, "news", 4, "k3x9q2mv7c1a:2");
    STREQ(text(), "{\"event\":\"position\",\"channel\":\"news\",\"id\":\"k3x9q2mv7c1a:2\"}",
          "position envelope: bytes");
    int rc = pwmsg_envelope_decode(&D, B.p, B.len, &e);
    OK(rc == 0 && e.position && !e.gap && same_str(e.m.id, "k3x9q2mv7c1a:2") && same_str(e.m.channel, "news") &&
           same_str(e.m.event, "position") && !e.m.data && e.m.len == 0,
       "position envelope: read back as the position, no data");
    const char *msg = "{\"id\":\"7\",\"channel\":\"c\",\"event\":\"position\",\"data\":\"x\"}";
    rc = pwmsg_envelope_decode(&D, msg, strlen(msg), &e);
    OK(rc == 0 && !e.position && !e.gap && same_str(e.m.id, "7") && same_str(e.m.event, "position") && e.m.len == 1,
       "a message published with ?event=position is a message");
    const char *noid = "{\"event\":\"position\",\"channel\":\"c\"}";
    rc = pwmsg_envelope_decode(&D, noid, strlen(noid), &e);
    OK(rc == 0 && e.position && !e.m.id, "a position with no id: a position, id NULL");
    B.len = 0;
    pwmsg_position_envelope_encode(&B, NULL, 0, "ep:0");
    STREQ(text(), "{\"event\":\"position\",\"channel\":null,\"id\":\"ep:0\"}", "position envelope: no channel");
}

static void test_bytes_errors(void)
{
    struct pwmsg_error e = {411, "POST needs a Content-Length", "RFC 9112 §6.3", NULL};
    B.len = 0;
    pwmsg_error_encode(&B, &e);
    STREQ(text(), "{\"error\":\"POST needs a Content-Length\",\"status\":411,\"rule\":\"RFC 9112 §6.3\"}\n",
          "error body: with a rule");
    struct pwmsg_error v = {426, "Sec-WebSocket-Version must be 13", "", NULL};
    B.len = 0;
    pwmsg_error_encode(&B, &v);
    STREQ(text(), "{\"error\":\"Sec-WebSocket-Version must be 13\",\"status\":426}\n",
          "error body: an empty rule is left out");
    struct pwmsg_error a = {405, "method not allowed", NULL, "GET, HEAD"};
    B.len = 0;
    pwmsg_error_encode(&B, &a);
    STREQ(text(), "{\"error\":\"method not allowed\",\"status\":405,\"allow\":\"GET, HEAD\"}\n",
          "error body: 405 with allow");
    B.len = 0;
    pwmsg_pub_encode(&B, "7");
    STREQ(text(), "{\"id\":\"7\"}\n", "pub answer: bytes");
}

/* ---- round trips ---- */

static int item_eq(const struct pwmsg_item *a, const struct pwmsg_item *b, int channel)
{
    return same_str(a->id, b->id) && (!channel || same_str(a->channel, b->channel)) &&
           same_str(a->event ? a->event : "message", b->event) && a->len == b->len &&
           a->binary == b->binary && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0) &&
           b->data[b->len] == 0;
}

static void roundtrip_item(const struct pwmsg_item *it, const char *name)
{
    struct pwmsg_envelope e;
    B.len = 0;
    int rc = pwmsg_item_encode(&B, it, 1);
    rc = rc ? rc : pwmsg_envelope_decode(&D, B.p, B.len, &e);
    OK(rc == 0 && !e.gap && item_eq(it, &e.m, 1), "round trip: envelope, %s (%s)", name, D.why);
    struct pw_buf list;
    pw_buf_init(&list, 0);
    B.len = 0;
    pwmsg_item_encode(&B, it, 0);
    pwmsg_poll_list_add(&list, B.p, B.len);
    pwmsg_poll_list_add(&list, B.p, B.len);
    B.len = 0;
    pwmsg_poll_encode(&B, it->id, list.p, list.len, NULL);
    struct pwmsg_poll p;
    struct pwmsg_item got;
    rc = pwmsg_poll_decode(&D, B.p, B.len, &p);
    OK(rc == 0 && p.count == 2 && !p.gap && same_str(p.cursor, it->id), "round trip: poll body, %s (%s)",
       name, D.why);
    int ok = 1;
    for (size_t i = 0; i < p.count; i++)
        ok = ok && pwmsg_poll_at(&D, &p, i, &got) == 0 && item_eq(it, &got, 0) && !got.channel;
    OK(ok, "round trip: poll items, %s", name);
    pw_buf_free(&list);
}

static void test_roundtrip_items(void)
{
    uint8_t all[256];
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1
    struct pwmsg_item t[] = {
        {"1", "news", "message", S("hello"), 0},
        {"2", "news", "tick", all, 256, 1},
        {"3", "news", "message", S(""), 0},
        {"4", "news", "message", S(""), 1},
        {"5", "ch", "été", S("¿qué? 😀 \"quoted\" \\ \n\t"), 0},
        {"6", "ch", NULL, S("a\0b"), 0}, /* a NUL in data is data */
        {NULL, NULL, "message", S("{\"a\":[1]}"), 0},
        {"1-1700000000000-0", "x", "e", S("redis-like id"), 0},
    };
#undef S
    const char *names[] = {"text", "binary, every byte value", "empty text", "empty binary",
                           "unicode everywhere", "NUL in data", "no id, no channel", "a stream id"};
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
        roundtrip_item(&t[i], names[i]);
}

static void roundtrip_gap(const struct pwmsg_gap *g, const char *name)
{
    /* nothing held reads back as "", as the server says it (NULL is written "") */
    const char *first = g->first ? g->first : "";
    struct pwmsg_envelope e;
    struct pwmsg_gap r;
    B.len = 0;
    pwmsg_gap_envelope_encode(&B, "room", 4, g);
    int rc = pwmsg_envelope_decode(&D, B.p, B.len, &e);
    OK(rc == 0 && e.gap && same_str(e.m.channel, "room") && same_str(e.g.after, g->after) &&
           same_str(e.g.first, first),
       "round trip: gap envelope, %s", name);
    B.len = 0;
    pwmsg_sse_gap_encode(&B, g);
    rc = pwmsg_sse_gap_decode(&D, B.p, B.len, &r);
    OK(rc == 0 && same_str(r.after, g->after) && same_str(r.first, first), "round trip: SSE gap, %s", name);
    B.len = 0;
    pwmsg_poll_encode(&B, "9", NULL, 0, g);
    struct pwmsg_poll p;
    rc = pwmsg_poll_decode(&D, B.p, B.len, &p);
    OK(rc == 0 && p.gap && same_str(p.g.after, g->after) && same_str(p.g.first, first) && p.count == 0,
       "round trip: poll gap, %s", name);
    if (!g->after)
        return;
    char reason[PWMSG_REASON_MAX + 1];
    size_t n = pwmsg_gap_reason(reason, g);
    rc = pwmsg_gap_reason_decode(&D, PW_WS_CLOSE_GAP, reason, n, &r);
    OK(rc == 0 && same_str(r.after, g->after) && same_str(r.first, first), "round trip: 4410 reason, %s",
       name);
}

static void test_roundtrip_gaps(void)
{
    struct pwmsg_gap g[] = {{"1", "4"}, {"5", NULL}, {"5", ""}, {NULL, "3"}, {"ñ-1", "ü-2"}};
    const char *names[] = {"first held", "nothing held (NULL)", "nothing held (\"\")", "after not said",
                           "unicode ids"};
    for (size_t i = 0; i < sizeof g / sizeof g[0]; i++)
        roundtrip_gap(&g[i], names[i]);
}

static void test_roundtrip_errors(void)
{
    struct pwmsg_error in[] = {{400, "bad cursor parameter", "pushwire wire format", NULL},
                               {405, "method not allowed", NULL, "GET, OPTIONS"},
                               {503, "too many connections \"now\"", NULL, NULL}};
    for (size_t i = 0; i < 3; i++) {
        struct pwmsg_error out;
        B.len = 0;
        pwmsg_error_encode(&B, &in[i]);
        int rc = pwmsg_error_decode(&D, B.p, B.len, &out);
        OK(rc == 0 && out.status == in[i].status && same_str(out.error, in[i].error) &&
               same_str(out.rule, in[i].rule) && same_str(out.allow, in[i].allow),
           "round trip: error body %d", in[i].status);
    }
    const char *id;
    B.len = 0;
    pwmsg_pub_encode(&B, "42");
    OK(pwmsg_pub_decode(&D, B.p, B.len, &id) == 0 && same_str(id, "42"), "round trip: pub answer");
}

/* ---- what clients accept from other servers ---- */

static int env(const char *t, struct pwmsg_envelope *e)
{
    return pwmsg_envelope_decode(&D, t, strlen(t), e);
}

static void test_tolerated(void)
{
    struct pwmsg_envelope e;
    OK(env("{\"data\":\"x\",\"id\":7,\"extra\":{\"deep\":[1,2]}}", &e) == 0 && same_str(e.m.id, "7") &&
           same_str(e.m.event, "message") && !e.m.channel && e.m.len == 1,
       "envelope: id as a number, members in any order, unknown members, no event");
    OK(env("{\"id\":-12,\"data\":\"x\"}", &e) == 0 && same_str(e.m.id, "-12"), "envelope: a negative id");
    OK(env("{\"id\":null,\"event\":null,\"encoding\":null,\"data\":\"x\"}", &e) == 0 && !e.m.id &&
           same_str(e.m.event, "message") && !e.m.binary,
       "envelope: null id, event and encoding");
    OK(env("{\"event\":\"gap\",\"data\":{\"after\":\"1\",\"first\":\"4\"}}", &e) == 0 && e.gap &&
           same_str(e.g.after, "1") && same_str(e.g.first, "4"),
       "gap envelope: after/first inside data as an object");
    OK(env("{\"event\":\"gap\",\"data\":\"{\\\"after\\\":\\\"1\\\",\\\"first\\\":2}\"}", &e) == 0 && e.gap &&
           same_str(e.g.after, "1") && same_str(e.g.first, "2"),
       "gap envelope: inside data as a JSON string, first as a number");
    OK(env("{\"event\":\"gap\"}", &e) == 0 && e.gap && !e.g.after && !e.g.first,
       "gap envelope: nothing said is still a gap");
    OK(env("{\"id\":\"ep:4\",\"channel\":\"c\",\"event\":\"gap\",\"data\":\"{\\\"after\\\":\\\"1\\\"}\"}", &e) == 0 &&
           !e.gap && same_str(e.m.id, "ep:4") && same_str(e.m.event, "gap") && e.m.len == 13,
       "an envelope with \"event\":\"gap\" and an id is a message published with ?event=gap");
    OK(env("{\"id\":null,\"event\":\"gap\",\"after\":\"1\"}", &e) == 0 && e.gap && same_str(e.g.after, "1"),
       "a null id is no id: a gap");
    struct pwmsg_poll p;
    const char *t = "{\"messages\":[{\"data\":\"a\"},{\"id\":3,\"data\":\"b\"}],\"cursor\":3}";
    OK(pwmsg_poll_decode(&D, t, strlen(t), &p) == 0 && same_str(p.cursor, "3") && !p.gap && p.count == 2,
       "poll body: a number cursor, no gap member");
    struct pwmsg_gap g;
    const char *r = "gap: after 12345678901234567890123456789012345678901234567890123456789012345678901234567890"
                    "1234567890123456789012345, fir";
    OK(pwmsg_gap_reason_decode(&D, PW_WS_CLOSE_GAP, r, strlen(r), &g) == 0 && !g.first &&
           strlen(g.after) == strlen(r) - 11,
       "4410: a reason cut short gives what is there as after");
}

/* ---- limits ---- */

static void test_limits(void)
{
    struct pwmsg_limits lim = {200, 3, 8};
    struct pwmsg_dec d;
    pwmsg_dec_init(&d, &lim);
    struct pwmsg_envelope e;
    const char *ok8 = "{\"id\":\"12345678\",\"data\":\"x\"}", *long9 = "{\"id\":\"123456789\",\"data\":\"x\"}";
    IS(pwmsg_envelope_decode(&d, ok8, strlen(ok8), &e), 0, "limit: an id of max_field bytes");
    IS(pwmsg_envelope_decode(&d, long9, strlen(long9), &e), PW_EPWMSG_LONG, "limit: one byte more is PW_EPWMSG_LONG");
    const char *ev9 = "{\"event\":\"123456789\",\"data\":\"x\"}";
    IS(pwmsg_envelope_decode(&d, ev9, strlen(ev9), &e), PW_EPWMSG_LONG, "limit: an event name too");
    char big[300];
    memset(big, ' ', sizeof big);
    memcpy(big, ok8, strlen(ok8));
    IS(pwmsg_envelope_decode(&d, big, 200, &e), 0, "limit: max_size bytes of text");
    IS(pwmsg_envelope_decode(&d, big, 201, &e), PW_EPWMSG_TOOBIG, "limit: one byte more is PW_EPWMSG_TOOBIG");
    struct pwmsg_poll p;
    const char *three = "{\"messages\":[{\"data\":\"\"},{\"data\":\"\"},{\"data\":\"\"}]}";
    const char *four = "{\"messages\":[{\"data\":\"\"},{\"data\":\"\"},{\"data\":\"\"},{\"data\":\"\"}]}";
    IS(pwmsg_poll_decode(&d, three, strlen(three), &p), 0, "limit: max_messages items");
    IS(pwmsg_poll_decode(&d, four, strlen(four), &p), PW_EPWMSG_TOOMANY, "limit: one more is PW_EPWMSG_TOOMANY");
    pwmsg_dec_free(&d);

    /* the default limits hold a large binary message and a full poll body */
    size_t n = 1u << 20;
    uint8_t *data = malloc(n);
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i * 7);
    struct pwmsg_item it = {"1", "c", "message", data, n, 1};
    roundtrip_item(&it, "1 MiB of binary");
    struct pw_buf list;
    pw_buf_init(&list, 0);
    struct pwmsg_item small = {"9", NULL, "message", (const uint8_t *)"x", 1, 0};
    B.len = 0;
    pwmsg_item_encode(&B, &small, 0);
    for (int i = 0; i < 100000; i++)
        pwmsg_poll_list_add(&list, B.p, B.len);
    B.len = 0;
    pwmsg_poll_encode(&B, "9", list.p, list.len, NULL);
    IS(pwmsg_poll_decode(&D, B.p, B.len, &p), 0, "limit: a poll body of 100000 messages (%zu bytes)", B.len);
    IS(p.count, 100000, "limit: ... all of them counted");
    pw_buf_free(&list);
    free(data);
}

/* The reason is cut at 123 bytes, never inside a UTF-8 sequence. */
static void test_reason_cut(void)
{
    char after[200];
    for (int shift = 0; shift < 4; shift++) {
        size_t k = 0;
        for (int i = 0; i < shift; i++)
            after[k++] = 'a';
        while (k + 3 < sizeof after) { /* U+20AC, 3 bytes */
            memcpy(after + k, "\xe2\x82\xac", 3);
            k += 3;
        }
        after[k] = 0;
        struct pwmsg_gap g = {after, "1"};
        char r[PWMSG_REASON_MAX + 1];
        size_t n = pwmsg_gap_reason(r, &g);
        OK(n <= PWMSG_REASON_MAX && n >= PWMSG_REASON_MAX - 2 && strlen(r) == n &&
               pw_utf8_valid((const uint8_t *)r, n),
           "4410: a long reason is cut to %zu bytes of whole UTF-8 (shift %d)", n, shift);
    }
}

/* ---- broken input ---- */

static void refused(int (*dec)(const char *, size_t), const char *t, int code, const char *name)
{
    int rc = dec(t, strlen(t));
    OK(rc == code, "refused: %s -> %s (got %s: %s)", name, pw_errname(code), pw_errname(rc), D.why);
}

static int dec_env(const char *t, size_t n)
{
    struct pwmsg_envelope e;
    return pwmsg_envelope_decode(&D, t, n, &e);
}

static int dec_poll(const char *t, size_t n)
{
    struct pwmsg_poll p;
    return pwmsg_poll_decode(&D, t, n, &p);
}

static int dec_sse(const char *t, size_t n)
{
    struct pwmsg_gap g;
    return pwmsg_sse_gap_decode(&D, t, n, &g);
}

static int dec_err(const char *t, size_t n)
{
    struct pwmsg_error e;
    return pwmsg_error_decode(&D, t, n, &e);
}

static int dec_reason(const char *t, size_t n)
{
    struct pwmsg_gap g;
    return pwmsg_gap_reason_decode(&D, PW_WS_CLOSE_GAP, t, n, &g);
}

static void test_refused(void)
{
    refused(dec_env, "", PW_EPWMSG_JSON, "envelope: empty");
    refused(dec_env, "hello", PW_EPWMSG_JSON, "envelope: plain text");
    refused(dec_env, "[1,2]", PW_EPWMSG_OBJECT, "envelope: an array");
    refused(dec_env, "{\"id\":\"1\"}", PW_EPWMSG_MISSING, "envelope: no data");
    refused(dec_env, "{\"data\":5}", PW_EPWMSG_TYPE, "envelope: data a number");
    refused(dec_env, "{\"id\":1.5,\"data\":\"\"}", PW_EPWMSG_TYPE, "envelope: id a fraction");
    refused(dec_env, "{\"id\":true,\"data\":\"\"}", PW_EPWMSG_TYPE, "envelope: id a boolean");
    refused(dec_env, "{\"event\":[],\"data\":\"\"}", PW_EPWMSG_TYPE, "envelope: event an array");
    refused(dec_env, "{\"id\":\"a\\u0000b\",\"data\":\"\"}", PW_EPWMSG_NUL, "envelope: NUL in an id");
    refused(dec_env, "{\"data\":\"AA==\",\"encoding\":\"hex\"}", PW_EPWMSG_ENCODING, "envelope: unknown encoding");
    refused(dec_env, "{\"data\":\"AB==\",\"encoding\":\"base64\"}", PW_EPWMSG_BASE64, "envelope: non-canonical base64");
    refused(dec_env, "{\"data\":\"A\",\"encoding\":\"base64\"}", PW_EPWMSG_BASE64, "envelope: truncated base64");
    refused(dec_env, "{\"event\":\"gap\",\"data\":\"not json\"}", PW_EPWMSG_JSON, "gap envelope: data not JSON");
    refused(dec_env, "{\"event\":\"gap\",\"data\":5}", PW_EPWMSG_TYPE, "gap envelope: data a number");
    refused(dec_env, "{\"event\":\"gap\",\"after\":{}}", PW_EPWMSG_TYPE, "gap envelope: after an object");
    refused(dec_poll, "{\"cursor\":\"1\"}", PW_EPWMSG_MESSAGES, "poll: no messages");
    refused(dec_poll, "{\"messages\":{}}", PW_EPWMSG_MESSAGES, "poll: messages an object");
    refused(dec_poll, "{\"messages\":[],\"gap\":\"yes\"}", PW_EPWMSG_TYPE, "poll: gap a string");
    refused(dec_poll, "{\"messages\":[{\"data\":\"a\"},5]}", PW_EPWMSG_OBJECT, "poll: an item not an object");
    refused(dec_poll, "{\"messages\":[{\"data\":\"a\"},{\"id\":\"2\"}]}", PW_EPWMSG_MISSING, "poll: an item without data");
    refused(dec_poll, "{\"messages\":[{\"data\":\"@@@@\",\"encoding\":\"base64\"}]}", PW_EPWMSG_BASE64,
            "poll: an item with bad base64");
    refused(dec_poll, "{\"messages\":[],\"cursor\":[]}", PW_EPWMSG_TYPE, "poll: cursor an array");
    refused(dec_sse, "{\"after\":\"1\"", PW_EPWMSG_JSON, "SSE gap: truncated");
    refused(dec_sse, "\"after\"", PW_EPWMSG_OBJECT, "SSE gap: a string");
    refused(dec_err, "{\"status\":400}", PW_EPWMSG_MISSING, "error body: no error");
    refused(dec_err, "{\"error\":\"x\"}", PW_EPWMSG_MISSING, "error body: no status");
    refused(dec_err, "{\"error\":\"x\",\"status\":99}", PW_EPWMSG_TYPE, "error body: status out of range");
    refused(dec_reason, "normal", PW_EPWMSG_REASON, "4410: not a gap reason");
    refused(dec_reason, "gap: afte", PW_EPWMSG_REASON, "4410: the prefix cut short");
    struct pwmsg_gap g;
    IS(pwmsg_gap_reason_decode(&D, 1000, "gap: after 1, nothing held", 26, &g), PW_EPWMSG_REASON,
       "4410: the right reason with another code is not a gap");
    OK(strstr(D.why, "1000") != NULL, "why names the code");
    STREQ(pw_errrule(PW_EPWMSG_BASE64), "pushwire wire format", "the error table names the rule");
}

/* Every prefix of a valid envelope and poll body fails cleanly. */
static void test_truncated(void)
{
    const char *full[] = {"{\"id\":\"1\",\"channel\":\"v\",\"event\":\"message\",\"data\":\"AAEC\",\"encoding\":\"base64\"}",
                          "{\"cursor\":\"3\",\"messages\":[{\"id\":\"3\",\"event\":\"message\",\"data\":\"m3\"}],"
                          "\"gap\":true,\"after\":\"1\",\"first\":\"3\"}\n"};
    int ok = 1;
    for (size_t n = 0; n + 1 < strlen(full[0]); n++)
        ok = ok && dec_env(full[0], n) == PW_EPWMSG_JSON;
    OK(ok, "truncated: every prefix of an envelope is PW_EPWMSG_JSON");
    ok = 1;
    for (size_t n = 0; n + 2 < strlen(full[1]); n++)
        ok = ok && dec_poll(full[1], n) == PW_EPWMSG_JSON;
    OK(ok, "truncated: every prefix of a poll body is PW_EPWMSG_JSON");
    ok = 1;
    const char *r = "gap: after 1, first held 3";
    for (size_t n = 0; n < 11; n++)
        ok = ok && dec_reason(r, n) == PW_EPWMSG_REASON;
    OK(ok, "truncated: a reason shorter than \"gap: after \" is not a gap");
}

/* One dec serves decode after decode; output of the last one stays good. */
static void test_reuse(void)
{
    struct pwmsg_envelope a;
    const char *t1 = "{\"id\":\"1\",\"data\":\"AAEC\",\"encoding\":\"base64\"}";
    const char *bad = "{\"data\":\"!!!!\",\"encoding\":\"base64\"}";
    IS(pwmsg_envelope_decode(&D, t1, strlen(t1), &a), 0, "reuse: first decode");
    IS(pwmsg_envelope_decode(&D, bad, strlen(bad), &a), PW_EPWMSG_BASE64, "reuse: a failing decode");
    IS(pwmsg_envelope_decode(&D, t1, strlen(t1), &a), 0, "reuse: then a good one again");
    OK(a.m.len == 3 && memcmp(a.m.data, "\0\1\2", 3) == 0 && a.m.binary, "reuse: its data is right");
}

int main(void)
{
    pw_buf_init(&B, 0);
    pwmsg_dec_init(&D, NULL);
    test_bytes_messages();
    test_bytes_poll();
    test_bytes_gaps();
    test_position();
    test_bytes_errors();
    test_roundtrip_items();
    test_roundtrip_gaps();
    test_roundtrip_errors();
    test_tolerated();
    test_limits();
    test_reason_cut();
    test_refused();
    test_truncated();
    test_reuse();
    pwmsg_dec_free(&D);
    pw_buf_free(&B);
    return tap_done();
}
