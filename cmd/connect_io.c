/* connect_io.c — what goes in and out of `connect`, whatever the
 * transport: messages to stdout (plain or JSON Lines, newline or NUL after
 * each; with --binary and no --json, the data alone, back to back), the
 * transcript, the last id and --cursor-file, gaps; stdin records to the
 * transport, the terminal's slash commands, and what happens when
 * stdin ends (--linger, --count, --wait). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "connect.h"
#include "opt.h"
#include "proto/json.h"
#include "proto/transcript.h"
#include "proto/utf8.h"
#include "proto/ws_frame.h"

#define CONTROL_MAX 125       /* a ping's payload (RFC 6455 §5.5) */
#define CLOSE_ARG_MAX 150     /* "/close CODE REASON" read; the reason is cut to fit a frame */
#define SLASH_BINARY_MAX 4096 /* bytes one /binary sends */

/* ---- stdout ------------------------------------------------------------- */

static void emit_json(struct pwc *c, int binary, const char *id, const char *event,
                      const uint8_t *data, size_t len)
{
    struct pw_buf *b = &c->line;
    b->len = 0;
    pw_json_begin(b, '{');
    pw_json_key(b, "id");
    if (id)
        pw_json_cstr(b, id);
    else
        pw_json_null(b);
    pw_json_kcstr(b, "event", event ? event : "message");
    pw_json_key(b, "data");
    if (binary)
        pw_json_b64(b, data, len);
    else
        pw_json_str(b, data, len);
    pw_json_kcstr(b, "type", binary ? "binary" : "text");
    if (binary)
        pw_json_kcstr(b, "encoding", "base64");
    pw_json_end(b, '}');
    pw_buf_putc(b, (uint8_t)c->o.sep);
    fwrite_unlocked(b->p, 1, b->len, stdout);
}

static void emit(struct pwc *c, int binary, const char *id, const char *event, const uint8_t *data,
                 size_t len)
{
    if (c->o.json) {
        emit_json(c, binary, id, event, data, len);
        return;
    }
    fwrite_unlocked(data, 1, len, stdout);
    if (!c->o.binary) /* --binary: stdout is a byte stream, as stdin is */
        putc_unlocked(c->o.sep, stdout);
}

/* ---- transcript ------------------------------------------------------------ */

void pwc_record(struct pwc *c, int out, int binary, const char *id, const char *event,
                const uint8_t *data, size_t len)
{
    if (!c->record)
        return;
    /* transcript.c keeps text that is not UTF-8 as base64, so replay sends
     * the very bytes */
    double now = (double)uv_hrtime() / 1e9;
    struct pw_trec r = {
        .t = floor((now - c->t0) * 1e6) / 1e6,
        .out = out,
        .type = binary ? PW_TREC_BINARY : PW_TREC_TEXT,
        .id = id,
        .event = event,
        .data = data,
        .len = len,
    };
    struct pw_buf *b = &c->recline;
    b->len = 0;
    if (pw_trec_write(b, &r) == 0)
        fwrite(b->p, 1, b->len, c->record);
}

/* ---- the last id ------------------------------------------------------------- */

static void cursor_save(struct pwc *c)
{
    if (!c->o.cursor_file)
        return;
    char tmp[PATH_MAX + 32];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%d", c->o.cursor_file, (int)getpid()) >= (int)sizeof tmp) {
        if (!c->cursor_warned++)
            pwc_info(c, "cannot write '%s': the path is too long", c->o.cursor_file);
        return;
    }
    FILE *f = fopen(tmp, "w");
    if (!f) {
        if (!c->cursor_warned++)
            pwc_info(c, "cannot write '%s': %s", tmp, strerror(errno));
        return;
    }
    fprintf(f, "%s\n", pwc_last_id(c));
    if (fclose(f) != 0 || rename(tmp, c->o.cursor_file) != 0) {
        if (!c->cursor_warned++)
            pwc_info(c, "cannot update '%s': %s", c->o.cursor_file, strerror(errno));
        unlink(tmp);
    }
}

/* Ids are opaque: kept whole, or (past PWC_MAX_ID) not at all. 0 when kept. */
static int store_id(struct pwc *c, const char *id)
{
    size_t n = strlen(id);
    if (n > PWC_MAX_ID) {
        if (!c->id_warned++)
            pwc_info(c, "an id of %zu bytes is longer than %u: resuming, --cursor-file and "
                        "%%{last_id} keep the one before", n, PWC_MAX_ID);
        return -1;
    }
    c->last_id.len = 0;
    if (pw_buf_append(&c->last_id, id, n + 1))
        return -1;
    c->last_id.len = n; /* the NUL stays behind it */
    return 0;
}

void pwc_set_last_id(struct pwc *c, const char *id)
{
    if (id && *id && store_id(c, id) == 0)
        cursor_save(c);
}

void pwc_load_last_id(struct pwc *c, const char *id) { store_id(c, id); }

/* SSE: an empty id: field empties the last event ID string; the next
 * connection (and the next run, through --cursor-file) resumes from none.
 * WebSocket after a close 4410: forgotten here only (save 0). */
void pwc_clear_last_id(struct pwc *c, int save)
{
    if (!c->last_id.len)
        return;
    c->last_id.len = 0;
    if (save)
        cursor_save(c);
}

int pwc_url_with(struct pw_buf *b, const char *url, const char *name, const char *value)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t nl = strlen(name);
    const char *q = strpbrk(url, "?#");
    b->len = 0;
    int rc = pw_buf_append(b, url, q ? (size_t)(q - url) : strlen(url));
    char sep = '?';
    for (const char *p = q && *q == '?' ? q + 1 : ""; *p && *p != '#' && !rc;) {
        size_t l = strcspn(p, "&#");
        if (l && !(l > nl && strncmp(p, name, nl) == 0 && p[nl] == '=')) {
            rc = pw_buf_printf(b, "%c%.*s", sep, (int)l, p);
            sep = '&';
        }
        p += l + (p[l] == '&');
    }
    if (!rc && *value)
        rc = pw_buf_printf(b, "%c%s=", sep, name);
    for (const unsigned char *p = (const unsigned char *)value; *p && !rc; p++)
        rc = isalnum(*p) || strchr("-._~", *p) ? pw_buf_putc(b, *p)
                                                : pw_buf_printf(b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
    return rc ? rc : pw_buf_putc(b, 0);
}

/* ---- messages in ------------------------------------------------------------ */

void pwc_gap(struct pwc *c, const char *after, const char *first, const char *raw)
{
    c->gaps++;
    int held = first && first[0];
    pwc_info(c, "gap: messages after '%s' are gone%s%s%s", after ? after : "?",
             held ? "; the first one still held is '" : first ? "; nothing is held" : "",
             held ? first : "", held ? "'" : "");
    if (c->o.json) {
        struct pw_buf *b = &c->line;
        b->len = 0;
        pw_json_begin(b, '{');
        pw_json_key(b, "id");
        pw_json_null(b);
        pw_json_kcstr(b, "event", "gap");
        pw_json_kcstr(b, "data", raw ? raw : "");
        pw_json_kcstr(b, "type", "gap");
        pw_json_kcstr(b, "after", after);
        pw_json_kcstr(b, "first", first);
        pw_json_end(b, '}');
        pw_buf_putc(b, (uint8_t)c->o.sep);
        fwrite(b->p, 1, b->len, stdout);
    }
    if (c->o.fail_on_gap) {
        pwc_info(c, "resume impossible (--fail-on-gap)");
        pwc_finish(c, PW_EXIT_GAP);
    }
}

static int until_matches(struct pwc *c, const uint8_t *data, size_t len)
{
    /* a NUL-terminated copy: REG_STARTEND would avoid it, but sanitizers
     * read the subject up to its NUL anyway */
    struct pw_buf *b = &c->rxbuf;
    b->len = 0;
    if (pw_buf_append(b, data, len) || pw_buf_putc(b, 0))
        return 0;
    regmatch_t m[1] = {{0, (regoff_t)len}};
    return regexec(&c->o.until, (const char *)b->p, 1, m, REG_STARTEND) == 0;
}

int pwc_message(struct pwc *c, int binary, const char *id, const char *event,
                const uint8_t *data, size_t len)
{
    if (c->finished || c->done_receiving)
        return 1;
    c->msgs_in++;
    c->last_activity = c->last_rx = uv_now(c->loop);
    emit(c, binary, id, event, data, len);
    pwc_record(c, 0, binary, id, event, data, len);
    if (id)
        pwc_set_last_id(c, id);
    if ((c->o.until_set && until_matches(c, data, len)) || (c->o.count && c->msgs_in >= c->o.count)) {
        pwc_stop(c, PW_WS_CLOSE_NORMAL, "");
        return 1;
    }
    return c->finished;
}

/* ---- stdin's end: --linger, --count, --wait ------------------------------------ */

/* Quiet for --linger since the last message (and since stdin ended, and
 * with nothing of ours still queued): the replies are in, close. */
static void linger_cb(uv_timer_t *t)
{
    struct pwc *c = t->data;
    uint64_t linger = pwc_ms(c->o.linger_s), now = uv_now(c->loop);
    if (c->tp->pending && c->tp->pending(c) > 0)
        c->last_rx = now; /* the server has not even read it all yet */
    uint64_t quiet = now - c->last_rx;
    if (quiet < linger) {
        uv_timer_start(&c->t_linger, linger_cb, linger - quiet, 0);
        return;
    }
    pwc_verbose(c, "* nothing arrived for %g s after the end of stdin (--linger): closing",
                c->o.linger_s);
    pwc_close(c, PW_WS_CLOSE_NORMAL, "");
}

/* stdin is done and a connection is open: when may the run end? */
static void after_stdin(struct pwc *c)
{
    if (c->o.wait || c->done_receiving || c->finished)
        return;
    if (c->o.count && c->msgs_in < c->o.count)
        return; /* --count N means N: wait for them (--timeout, --idle bound it) */
    if (c->o.linger_s <= 0) {
        pwc_close(c, PW_WS_CLOSE_NORMAL, "");
        return;
    }
    c->last_rx = uv_now(c->loop);
    uv_timer_start(&c->t_linger, linger_cb, pwc_ms(c->o.linger_s), 0);
}

/* ---- stdin records → the transport --------------------------------------------- */

static void send_counted(struct pwc *c, int binary, const uint8_t *p, size_t n)
{
    int rc = c->tp->send(c, binary, p, n);
    if (rc == 0) {
        c->msgs_out++;
        pwc_record(c, 1, binary, NULL, NULL, p, n);
    } else if (rc != PW_ESTATE) { /* not open: between connections, dropped */
        pwc_info(c, "cannot send: %s", pw_strerror(rc));
    }
}

static int hexval(int ch)
{
    if (isdigit(ch))
        return ch - '0';
    ch = tolower(ch);
    return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

static void slash_binary(struct pwc *c, const char *arg, size_t al)
{
    uint8_t buf[SLASH_BINARY_MAX];
    size_t k = 0;
    for (size_t i = 0; i < al; i++) {
        if (arg[i] == ' ')
            continue;
        int h = hexval((unsigned char)arg[i]), l = i + 1 < al ? hexval((unsigned char)arg[i + 1]) : -1;
        if (h < 0 || l < 0 || k >= sizeof buf) {
            pwc_info(c, "/binary: want pairs of hex digits");
            return;
        }
        buf[k++] = (uint8_t)(h * 16 + l);
        i++;
    }
    send_counted(c, 1, buf, k);
}

static void slash_close(struct pwc *c, const char *arg, size_t al)
{
    char tmp[CLOSE_ARG_MAX + 1];
    snprintf(tmp, sizeof tmp, "%.*s", (int)(al < CLOSE_ARG_MAX ? al : CLOSE_ARG_MAX), arg);
    unsigned code = PW_WS_CLOSE_NORMAL;
    char *rest = tmp;
    if (*tmp) {
        code = (unsigned)strtoul(tmp, &rest, 10);
        if (!pw_ws_close_code_valid(code)) {
            pwc_info(c, "/close: %u is not a close code that may be sent", code);
            return;
        }
        while (*rest == ' ')
            rest++;
    }
    pwc_close(c, code, rest);
}

/* Slash commands, only when stdin is a terminal: 1 when the line was one
 * ("//x" is not: it sends "/x"). */
static int slash_command(struct pwc *c, const char *p, size_t n)
{
    if (n >= 2 && p[1] == '/')
        return 0;
    char cmd[16];
    size_t cl = strcspn(p + 1, " ");
    if (cl >= n)
        cl = n - 1;
    if (cl >= sizeof cmd)
        cl = sizeof cmd - 1;
    memcpy(cmd, p + 1, cl);
    cmd[cl] = 0;
    const char *arg = p + 1 + cl;
    size_t al = n - 1 - cl;
    while (al && *arg == ' ')
        arg++, al--;
    if (strcmp(cmd, "ping") == 0 && c->tp->ping)
        c->tp->ping(c, (const uint8_t *)arg, al > CONTROL_MAX ? CONTROL_MAX : al);
    else if (strcmp(cmd, "close") == 0)
        slash_close(c, arg, al);
    else if (strcmp(cmd, "binary") == 0)
        slash_binary(c, arg, al);
    else
        pwc_info(c, "unknown command '/%s' (/ping [DATA], /close [CODE [REASON]], /binary HEX, "
                    "// for a literal /)", cmd);
    return 1;
}

static void in_line(struct pw_stdin *in, const uint8_t *p, size_t n)
{
    struct pwc *c = in->data;
    if (c->finished || c->done_receiving)
        return;
    int binary = c->o.binary;
    if (!binary) {
        if (c->stdin_tty && n && p[0] == '/') {
            if (slash_command(c, (const char *)p, n))
                return;
            p++, n--;
        }
        /* a record that is not UTF-8 cannot be a text message (RFC 6455 §8.1) */
        binary = !pw_utf8_valid(p, n);
    }
    send_counted(c, binary, p, n);
}

/* after each read (not each record): --idle, back-pressure */
static void in_read(struct pw_stdin *in)
{
    struct pwc *c = in->data;
    pwc_activity(c);
    if (c->tp->pending && c->tp->pending(c) > PWC_STDIN_HIGH_WATER)
        pw_stdin_pause(&c->in);
}

static void in_long(struct pw_stdin *in, size_t max)
{
    struct pwc *c = in->data;
    pwc_info(c, "a stdin %s is longer than %zu bytes", c->o.sep ? "line" : "record", max);
    pwc_finish(c, PW_EXIT_FAIL);
}

static void in_end(struct pw_stdin *in, int err)
{
    struct pwc *c = in->data;
    if (err) { /* what came before is sent and answered; the run has failed */
        pwc_info(c, "reading stdin: %s", uv_strerror(err));
        c->exit_code = PW_EXIT_FAIL;
    }
    c->stdin_eof = 1;
    pwc_stdin_close(c);
    after_stdin(c);
}

static void stdin_start(struct pwc *c)
{
    static const struct pw_stdin_cb cb = {in_line, in_long, in_end, in_read};
    struct pw_stdin_opts o = {0, c->o.binary ? PW_LINES_RAW : c->o.sep, PWC_STDIN_MAX_LINE};
    c->in.data = c;
    c->in_started = 1;
    int rc = pw_stdin_start(&c->in, c->loop, &o, &cb);
    if (rc) {
        pwc_info(c, "cannot read stdin: %s", uv_strerror(rc));
        c->stdin_eof = 1;
        after_stdin(c);
        return;
    }
    c->stdin_tty = c->in.kind == PW_IN_TTY;
}

void pwc_stdin_close(struct pwc *c)
{
    if (c->in_started)
        pw_stdin_close(&c->in);
}

/* ---- connections come and go ------------------------------------------------------ */

void pwc_opened(struct pwc *c)
{
    pwc_retry_reset(c);
    for (size_t i = 0; i < c->o.nsend && c->tp->send; i++)
        send_counted(c, 0, (const uint8_t *)c->o.sends[i], strlen(c->o.sends[i]));
    if (c->done_receiving) {
        c->tp->done(c, PW_WS_CLOSE_NORMAL, "");
        return;
    }
    if (c->stdin_eof) {
        after_stdin(c);
        return;
    }
    if (!c->tp->send || c->o.no_stdin)
        return;
    if (!c->in_started)
        stdin_start(c);
    else
        pw_stdin_resume(&c->in);
}

void pwc_lost(struct pwc *c)
{
    uv_timer_stop(&c->t_linger);
    if (c->in_started)
        pw_stdin_pause(&c->in);
}

void pwc_drained(struct pwc *c)
{
    if (c->in_started && c->in.paused && !c->finished)
        pw_stdin_resume(&c->in);
}
