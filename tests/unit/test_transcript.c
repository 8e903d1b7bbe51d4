/* test_transcript.c — transcript writer and streaming reader. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tap.h"
#include "proto/transcript.h"

/* Reads text through the streaming reader; returns the last result and
 * the number of records in *n. */
static int read_all(const char *text, size_t len, size_t max_line, int *n,
                    struct pw_treader *r)
{
    FILE *f = fmemopen((void *)text, len, "r");
    pw_treader_init(r, f, max_line);
    struct pw_trec rec;
    int rc;
    *n = 0;
    while ((rc = pw_treader_next(r, &rec)) == 1)
        (*n)++;
    fclose(f);
    return rc;
}

static void refused(const char *text, int code, unsigned long line, const char *why_has,
                    const char *name)
{
    struct pw_treader r;
    int n;
    int rc = read_all(text, strlen(text), 0, &n, &r);
    OK(rc == code && r.line == line && strstr(r.why, why_has),
       "refused: %s (rc %d line %lu: %s)", name, rc, r.line, r.why);
    pw_treader_free(&r);
}

static void test_roundtrip(void)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    struct pw_trec w[] = {
        {0, 1, PW_TREC_TEXT, NULL, NULL, NULL, (const uint8_t *)"hello", 5},
        {0.25, 0, PW_TREC_TEXT, "1", NULL, NULL, (const uint8_t *)"line1\nline2", 11},
        {1.5, 0, PW_TREC_BINARY, "2", NULL, NULL, (const uint8_t *)"\0\1\2\xff", 4},
        {1.5, 0, PW_TREC_EVENT, "3", "tick", "room", (const uint8_t *)"{\"a\":1}", 7},
        {2.000001, 1, PW_TREC_TEXT, NULL, NULL, NULL, (const uint8_t *)"bad\xc3", 4},
        {3, 0, PW_TREC_EVENT, NULL, NULL, NULL, (const uint8_t *)"", 0},
    };
    size_t nw = sizeof w / sizeof w[0];
    for (size_t i = 0; i < nw; i++)
        OK(pw_trec_write(&b, &w[i]) == 0, "write record %zu", i);
    OK(b.len && b.p[b.len - 1] == '\n', "a record ends with a newline");
    OK(strstr((char *)b.p, "{\"t\":0.25,\"dir\":\"in\",\"type\":\"text\",\"id\":\"1\"") != NULL,
       "t written short, fields in order");
    OK(strstr((char *)b.p, "\"data\":\"AAEC/w==\",\"encoding\":\"base64\"") != NULL,
       "binary written as base64");
    OK(strstr((char *)b.p, "\"t\":2.000001") != NULL, "microsecond precision kept");

    FILE *f = fmemopen(b.p, b.len, "r");
    struct pw_treader r;
    pw_treader_init(&r, f, 0);
    struct pw_trec rec;
    for (size_t i = 0; i < nw; i++) {
        int rc = pw_treader_next(&r, &rec);
        OK(rc == 1 && rec.t == w[i].t && rec.out == w[i].out && rec.type == w[i].type &&
               rec.len == w[i].len && memcmp(rec.data, w[i].data, rec.len) == 0 &&
               ((!rec.id && !w[i].id) || (rec.id && w[i].id && !strcmp(rec.id, w[i].id))) &&
               ((!w[i].channel && !rec.channel) ||
                (rec.channel && w[i].channel && !strcmp(rec.channel, w[i].channel))),
           "record %zu reads back the same (rc %d, %s)", i, rc, r.why);
        if (i == 3)
            OK(rec.event && strcmp(rec.event, "tick") == 0, "event name kept");
        if (i == 0)
            OK(rec.event && strcmp(rec.event, "message") == 0, "default event written as message");
    }
    IS(pw_treader_next(&r, &rec), 0, "end of file");
    IS(pw_treader_next(&r, &rec), 0, "end of file again");
    pw_treader_free(&r);
    fclose(f);

    b.max = b.len + 10;
    size_t keep = b.len;
    IS(pw_trec_write(&b, &w[1]), PW_ETOOBIG, "writer refuses past the buffer cap");
    IS(b.len, keep, "buffer unchanged after a failed write");
    pw_buf_free(&b);
}

static void test_accepted(void)
{
    struct pw_treader r;
    int n;
    const char *t = "\n{\"t\":0,\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\"}\r\n"
                    "   \n"
                    "{\"t\":0,\"dir\":\"out\",\"type\":\"event\",\"data\":\"y\",\"id\":null,"
                    "\"event\":null,\"encoding\":null,\"extra\":[1,2]}\n"
                    "{\"t\":1e1,\"dir\":\"in\",\"type\":\"binary\",\"data\":\"\",\"encoding\":\"base64\"}";
    int rc = read_all(t, strlen(t), 0, &n, &r);
    OK(rc == 0 && n == 3, "blank lines, CRLF, nulls, unknown members, last line without newline (rc %d n %d %s)",
       rc, n, r.why);
    IS(r.line, 5, "lines counted including blank ones");
    pw_treader_free(&r);
}

static void test_refused(void)
{
    refused("{\"t\":0,\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\"}\nnot json\n",
            PW_ETR_JSON, 2, "not JSON", "not JSON, on line 2");
    refused("{\"t\":0,\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\"\n", PW_ETR_JSON, 1,
            "not JSON", "truncated object");
    refused("[1,2]\n", PW_ETR_OBJECT, 1, "an array", "array instead of object");
    refused("{\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\"}\n", PW_ETR_MISSING, 1, "\"t\"",
            "t missing");
    refused("{\"t\":0,\"type\":\"text\",\"data\":\"x\"}\n", PW_ETR_MISSING, 1, "\"dir\"",
            "dir missing");
    refused("{\"t\":0,\"dir\":\"in\",\"type\":\"text\"}\n", PW_ETR_MISSING, 1, "\"data\"",
            "data missing");
    refused("{\"t\":0,\"dir\":\"in\",\"data\":\"x\"}\n", PW_ETR_MISSING, 1, "\"type\"",
            "type missing");
    refused("{\"t\":\"0\",\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\"}\n", PW_ETR_TYPE, 1,
            "a string", "t a string");
    refused("{\"t\":-1,\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\"}\n", PW_ETR_TIME, 1,
            "0 or more", "t negative");
    refused("{\"t\":1e400,\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\"}\n", PW_ETR_TIME, 1,
            "too large", "t past a double");
    refused("{\"t\":2,\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\"}\n"
            "{\"t\":1.5,\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\"}\n",
            PW_ETR_BACKWARDS, 2, "backwards", "t going backwards");
    refused("{\"t\":0,\"dir\":\"up\",\"type\":\"text\",\"data\":\"x\"}\n", PW_ETR_DIR, 1,
            "\"up\"", "unknown dir");
    refused("{\"t\":0,\"dir\":1,\"type\":\"text\",\"data\":\"x\"}\n", PW_ETR_TYPE, 1,
            "\"dir\"", "dir a number");
    refused("{\"t\":0,\"dir\":\"in\",\"type\":\"ping\",\"data\":\"x\"}\n", PW_ETR_KIND, 1,
            "\"ping\"", "unknown type");
    refused("{\"t\":0,\"dir\":\"in\",\"type\":\"text\",\"data\":5}\n", PW_ETR_TYPE, 1,
            "\"data\"", "data a number");
    refused("{\"t\":0,\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\",\"id\":7}\n", PW_ETR_TYPE, 1,
            "\"id\"", "id a number");
    refused("{\"t\":0,\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\",\"encoding\":\"hex\"}\n",
            PW_ETR_ENCODING, 1, "\"hex\"", "unknown encoding");
    refused("{\"t\":0,\"dir\":\"in\",\"type\":\"binary\",\"data\":\"A===\",\"encoding\":\"base64\"}\n",
            PW_ETR_BASE64, 1, "base64", "bad base64");
    refused("{\"t\":0,\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\",\"event\":\"a\\nb\"}\n",
            PW_ETR_EVENT, 1, "CR, LF", "event with a newline");
    refused("{\"t\":0,\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\",\"event\":\"\"}\n",
            PW_ETR_EVENT, 1, "1-128", "empty event name");
}

static void test_line_limit(void)
{
    struct pw_treader r;
    int n;
    char big[300];
    memset(big, ' ', sizeof big);
    const char *rec = "{\"t\":0,\"dir\":\"in\",\"type\":\"text\",\"data\":\"x\"}\n";
    memcpy(big, rec, strlen(rec));
    memcpy(big + strlen(rec), rec, strlen(rec) - 1);
    big[sizeof big - 1] = '\n';
    int rc = read_all(big, sizeof big, 100, &n, &r);
    OK(rc == PW_ETR_LINE && r.line == 2 && n == 1, "line past max_line refused with its number (rc %d line %lu)",
       rc, r.line);
    pw_treader_free(&r);

    /* the same line fits under the default */
    rc = read_all(big, sizeof big, 0, &n, &r);
    OK(rc == 0 && n == 2, "trailing spaces after the object are fine (rc %d %s)", rc, r.why);
    pw_treader_free(&r);
}

/* Many lines through the 64 KiB read-ahead: records straddle block edges. */
static void test_many(void)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    for (int i = 0; i < 20000; i++) {
        char d[32];
        int dl = snprintf(d, sizeof d, "message %d", i);
        struct pw_trec w = {i / 1000.0, i & 1, PW_TREC_TEXT, NULL, NULL, NULL,
                            (const uint8_t *)d, (size_t)dl};
        pw_trec_write(&b, &w);
    }
    FILE *f = fmemopen(b.p, b.len, "r");
    struct pw_treader r;
    pw_treader_init(&r, f, 0);
    struct pw_trec rec;
    int n = 0, bad = 0, rc;
    while ((rc = pw_treader_next(&r, &rec)) == 1) {
        char d[32];
        int dl = snprintf(d, sizeof d, "message %d", n);
        if ((size_t)dl != rec.len || memcmp(d, rec.data, rec.len) || rec.out != (n & 1))
            bad++;
        n++;
    }
    OK(rc == 0 && n == 20000 && bad == 0, "20000 records across read blocks (n %d bad %d)", n, bad);
    pw_treader_free(&r);
    fclose(f);
    pw_buf_free(&b);
}

/* "t" reads well: microseconds at most, no float noise, and it reads back
 * as the value written (rounded to the microsecond). */
static void t_is(double t, const char *want, double back)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    struct pw_trec r = {0};
    r.t = t;
    r.type = PW_TREC_TEXT;
    r.data = (const uint8_t *)"x";
    r.len = 1;
    char pre[64];
    int n = snprintf(pre, sizeof pre, "{\"t\":%s,", want);
    int rc = pw_trec_write(&b, &r);
    OK(rc == 0 && b.len > (size_t)n && memcmp(b.p, pre, (size_t)n) == 0, "t %.9g is written %s (%.*s)", t, want,
       (int)(b.len ? b.len - 1 : 0), b.p ? (char *)b.p : "");
    FILE *f = fmemopen(b.p, b.len, "r");
    struct pw_treader rd;
    pw_treader_init(&rd, f, 0);
    struct pw_trec got;
    OK(pw_treader_next(&rd, &got) == 1 && got.t == back, "t %s reads back as %.9g", want, back);
    pw_treader_free(&rd);
    fclose(f);
    pw_buf_free(&b);
}

static void test_time_text(void)
{
    t_is(0.0266, "0.0266", 0.0266);
    t_is(0.026599999999999999, "0.0266", 0.0266);
    t_is(0.1 + 0.2, "0.3", 0.3);
    t_is(12.3456789, "12.345679", 12.345679);
    t_is(0.0000015, "0.000002", 0.000002);
    t_is(3.0, "3", 3.0);
    t_is(0, "0", 0);
    t_is(86400.000001, "86400.000001", 86400.000001);
}

/* the fuzzer found it: a huge t overflowed the writer's number buffer */
static void test_huge_time(void)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    struct pw_trec r = {0};
    r.t = 1e300;
    r.type = PW_TREC_TEXT;
    r.data = (const uint8_t *)"x";
    r.len = 1;
    IS(pw_trec_write(&b, &r), 0, "a record with t = 1e300 is written");
    OK(b.len > 300 && b.p[b.len - 1] == '\n', "as one whole line (%zu bytes)", b.len);
    pw_buf_free(&b);
}

/* Live mode (a pipe read as it is written): no call blocks, a line split
 * across reads is whole when it comes, a line past max_line is still
 * refused, the end of the pipe is the end. */
static void test_live(void)
{
    int p[2];
    if (pipe(p)) {
        OK(0, "pipe");
        return;
    }
    struct pw_treader r;
    struct pw_trec rec;
    pw_treader_init(&r, NULL, 120);
    pw_treader_live(&r, p[0]);
    IS(pw_treader_next(&r, &rec), PW_TREADER_WAIT, "live: nothing read until readable");
    const char *a = "{\"t\":0,\"dir\":\"in\",\"type\":\"text\",\"data\":\"one\"}\n{\"t\":1,\"dir\":\"in\",";
    const char *b = "\"type\":\"text\",\"data\":\"two\"}\n";
    OK(write(p[1], a, strlen(a)) == (ssize_t)strlen(a), "write a");
    pw_treader_readable(&r);
    int rc = pw_treader_next(&r, &rec);
    OK(rc == 1 && rec.len == 3 && memcmp(rec.data, "one", 3) == 0 && r.line == 1, "live: the whole line (rc %d)", rc);
    IS(pw_treader_next(&r, &rec), PW_TREADER_WAIT, "live: half a line waits, without reading again");
    IS(pw_treader_next(&r, &rec), PW_TREADER_WAIT, "live: and again");
    OK(write(p[1], b, strlen(b)) == (ssize_t)strlen(b), "write b");
    pw_treader_readable(&r);
    rc = pw_treader_next(&r, &rec);
    OK(rc == 1 && rec.len == 3 && memcmp(rec.data, "two", 3) == 0 && r.line == 2 && rec.t == 1,
       "live: the line split across reads is whole (rc %d line %lu)", rc, r.line);
    /* 130 bytes in three writes: refused as line 3, past max_line 120 */
    char big[50];
    memset(big, 'x', sizeof big);
    for (int i = 0; i < 3; i++) {
        OK(write(p[1], big, sizeof big) == (ssize_t)sizeof big, "write big %d", i);
        pw_treader_readable(&r);
        rc = pw_treader_next(&r, &rec);
        if (rc != PW_TREADER_WAIT)
            break;
    }
    OK(rc == PW_ETR_LINE && r.line == 3, "live: a line past max_line over several reads (rc %d line %lu)", rc, r.line);
    pw_treader_free(&r);

    /* the end of the pipe ends the transcript; a last line without \n counts */
    close(p[0]);
    close(p[1]);
    int q[2];
    if (pipe(q)) {
        OK(0, "pipe");
        return;
    }
    pw_treader_init(&r, NULL, 0);
    pw_treader_live(&r, q[0]);
    const char *c = "{\"t\":0,\"dir\":\"out\",\"type\":\"text\",\"data\":\"z\"}";
    OK(write(q[1], c, strlen(c)) == (ssize_t)strlen(c), "write c");
    close(q[1]);
    pw_treader_readable(&r);
    IS(pw_treader_next(&r, &rec), PW_TREADER_WAIT, "live: no newline yet, the pipe not seen ended");
    pw_treader_readable(&r);
    rc = pw_treader_next(&r, &rec);
    OK(rc == 1 && rec.out && rec.len == 1, "live: the last line without a newline (rc %d)", rc);
    pw_treader_readable(&r);
    IS(pw_treader_next(&r, &rec), 0, "live: then the end");
    pw_treader_free(&r);
    close(q[0]);
}

int main(void)
{
    test_huge_time();
    test_time_text();
    test_roundtrip();
    test_accepted();
    test_refused();
    test_line_limit();
    test_many();
    test_live();
    STREQ(pw_strerror(PW_ETR_BACKWARDS), "t goes backwards", "errors are in the table");
    return tap_done();
}
