/* frame.c — `pushwire frame`: WebSocket frames and SSE events, built and
 * taken apart (pushwire-frame(1)).  A thin layer over the core: src/ws_frame.h encodes,
 * parses and checks frames, src/sse.h encodes and parses event streams,
 * src/json.h writes JSON.  This file only reads input, maps options to core
 * calls and prints.
 *
 * Decisions where the spec is silent (also in pushwire-frame(1)):
 *  - encoding writes what it is asked to, even frames that break RFC 6455
 *    (the tool exists to test peers); each rule broken is a warning on stderr,
 *    found by decoding the frame just built with the core's own checks;
 *  - the role is the sender: client (the default when encoding: masked with a
 *    random key) or server (unmasked); --decode checks masking only with an
 *    explicit --role;
 *  - for close frames DATA is the reason and --close-code N puts the code
 *    before it; without --close-code DATA is the whole close payload;
 *  - input to encode is limited to 64 MiB; --decode streams input of any
 *    size, showing payloads up to 64 MiB each.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "proto/buf.h"
#include "proto/json.h"
#include "opt.h"
#include "proto/sse.h"
#include "proto/utf8.h"
#include "proto/ws_deflate.h"
#include "proto/ws_frame.h"

#define FRAME_MAX_INPUT ((size_t)64 << 20) /* bytes to encode, payload shown */
#define FRAME_SHOW_PLAIN 1024              /* payload bytes shown without -v */
#define FRAME_CHUNK 65536

#define FRAME_OPTS(X)                                                          \
    PW_COMMON_OPTS(X)                                                          \
    X(DECODE, 'd', "decode", PW_FLAG,                                          \
      "read frames (with --sse: an event stream) and print their anatomy")     \
    X(HEX, 'x', "hex", PW_FLAG, "write hex instead of raw bytes; with --decode, read hex") \
    X(JSON, 'j', "json", PW_FLAG, "with --decode, print JSON Lines")           \
    X(ROLE, 'r', "role", PW_ENUM("ROLE", NULL, "client server"),               \
      "the sender: a client masks (the default when encoding), a server does not; " \
      "with --decode, check its masking rule")                                 \
    X(OPCODE, 'o', "opcode", PW_STR("OP", NULL, "text binary continuation close ping pong"), \
      "text (default), binary, continuation, close, ping, pong or a number 0-15") \
    X(NO_FIN, 0, "no-fin", PW_FLAG, "clear FIN: more fragments follow")        \
    X(RSV1, 0, "rsv1", PW_FLAG, "set RSV1")                                    \
    X(RSV2, 0, "rsv2", PW_FLAG, "set RSV2")                                    \
    X(RSV3, 0, "rsv3", PW_FLAG, "set RSV3")                                    \
    X(DEFLATE, 0, "deflate", PW_FLAG,                                          \
      "permessage-deflate: compress DATA and set RSV1; with --decode, inflate messages with RSV1") \
    X(MASK, 'm', "mask", PW_STR("KEY", NULL, "random"),                        \
      "mask with KEY (8 hex digits) or a random key ('random')")               \
    X(NO_MASK, 'n', "no-mask", PW_FLAG, "do not mask (a server's frame)")      \
    X(CLOSE_CODE, 'c', "close-code", PW_COUNT("N", NULL, "0", "65535"),        \
      "close frame with status code N; DATA is the reason")                    \
    X(LEN_FORM, 'l', "len-form", PW_ENUM("BITS", NULL, "7 16 64"),             \
      "force this payload length form")                                        \
    X(FILE, 'f', "file", PW_FILE, "read the payload (with --decode: the input) from FILE") \
    X(SSE, 's', "sse", PW_FLAG, "Server-Sent Events instead of WebSocket frames") \
    X(ID, 'i', "id", PW_STR("ID", NULL, NULL), "with --sse: the event id")     \
    X(EVENT, 'e', "event", PW_STR("NAME", NULL, NULL), "with --sse: the event type") \
    X(RETRY, 0, "retry", PW_COUNT("MS", NULL, "0", "9007199254740991"),        \
      "with --sse: a retry field, in milliseconds")

enum { FRAME_OPTS(PW_OPT_ENUM) OPT_COUNT };
static const struct pw_opt frame_opts[] = {FRAME_OPTS(PW_OPT_ROW){0}};

static int frame_main(int argc, char **argv);

const struct pw_applet pw_applet_frame = {
    .name = "frame",
    .summary = "build and take apart WebSocket frames and SSE events",
    .synopsis = "[--opcode OP] [--no-fin] [--rsv1] [--rsv2] [--rsv3] [--deflate] "
                "[--mask KEY | --no-mask] "
                "[--close-code N] [--len-form BITS] [--hex] [DATA | --file FILE | -]\n"
                "--decode [--hex] [--json] [--role ROLE] [--deflate] [FILE | -]\n"
                "--sse [--id ID] [--event NAME] [--retry MS] [--hex] [DATA | --file FILE | -]\n"
                "--sse --decode [--hex] [--json] [FILE | -]",
    .description =
        "Writes one WebSocket frame (or with --sse one event) on stdout, or with --decode\n"
        "reads a stream of them and prints each one's anatomy and every rule it breaks\n"
        "(exit 3).  Frames that break RFC 6455 are written anyway, with a warning.",
    .opts = frame_opts,
    .main = frame_main,
};

/* Which modes an option means something in. */
enum { M_ENC = 1, M_DEC = 2, M_SSE_ENC = 4, M_SSE_DEC = 8, M_ALL = 15 };

static unsigned opt_modes(int id)
{
    switch (id) {
    case OPT_JSON: return M_DEC | M_SSE_DEC;
    case OPT_ROLE: case OPT_DEFLATE: return M_ENC | M_DEC;
    case OPT_ID: case OPT_EVENT: case OPT_RETRY: return M_SSE_ENC;
    case OPT_OPCODE: case OPT_NO_FIN: case OPT_RSV1: case OPT_RSV2: case OPT_RSV3:
    case OPT_MASK: case OPT_NO_MASK: case OPT_CLOSE_CODE: case OPT_LEN_FORM:
        return M_ENC;
    default: return M_ALL;
    }
}

enum { MASK_DEFAULT, MASK_KEY, MASK_RANDOM, MASK_NONE };

struct cfg {
    int decode, hex, json, sse, verbose;
    int deflate;           /* permessage-deflate negotiated (RFC 7692) */
    int role;              /* -1: not given, else PW_WS_FROM_CLIENT/SERVER */
    int opcode;            /* -1: not given */
    int fin;
    unsigned rsv;
    int mask_mode;
    uint8_t key[4];
    long close_code;       /* -1: none */
    int len_form;          /* 0: minimal */
    const char *file;      /* --file */
    const char *id, *event;
    long long retry;       /* -1: none */
    unsigned char used[OPT_COUNT];
};

/* ---------- small helpers ---------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int put_hex(struct pw_buf *b, const uint8_t *p, size_t n)
{
    static const char dig[] = "0123456789abcdef";
    if (pw_buf_reserve(b, n * 3))
        return PW_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        if (i)
            b->p[b->len++] = ' ';
        b->p[b->len++] = (uint8_t)dig[p[i] >> 4];
        b->p[b->len++] = (uint8_t)dig[p[i] & 15];
    }
    return 0;
}

static int write_all(FILE *f, const void *p, size_t n)
{
    return n == 0 || fwrite(p, 1, n, f) == n ? 0 : -1;
}

static int parse_opcode(const char *s)
{
    static const char *const names[] = {"continuation", "text", "binary", NULL, NULL, NULL,
                                        NULL, NULL, "close", "ping", "pong"};
    for (int i = 0; i < 11; i++)
        if (names[i] && strcmp(s, names[i]) == 0)
            return i;
    struct pw_val v;
    /* hex numbers too: opcodes are usually written 0x1, 0xA */
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && s[2] && !s[3] && hexval(s[2]) >= 0)
        return hexval(s[2]);
    if (pw_val_range(PW_VAL_COUNT, s, "0", "15", &v) == 0)
        return (int)v.u;
    return -1;
}

/* A descriptor for FILE, "-" or NULL (stdin); -1 after a message. */
static int open_input(const char *path)
{
    if (!path || strcmp(path, "-") == 0)
        return 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        pw_err("frame", "cannot open '%s': %s", path, strerror(errno));
    return fd;
}

/* Reads raw bytes; with hex, turns hex text (whitespace and '#' comments to
 * the end of the line allowed) into bytes as it goes. */
struct src {
    int fd, hex;
    const char *name;
    int nib;               /* pending high nibble, or -1 */
    int comment;           /* inside a '#' comment */
    uint64_t at;           /* bytes of text read, for messages */
    uint8_t raw[FRAME_CHUNK];
};

/* Opens path ("-" or NULL: stdin) for src_read; -1 after a message. */
static int src_open(struct src *s, const char *path, int hex)
{
    s->fd = open_input(path);
    s->hex = hex;
    s->nib = -1;
    s->name = path && strcmp(path, "-") ? path : "stdin";
    return s->fd < 0 ? -1 : 0;
}

/* Up to FRAME_CHUNK bytes into out: > 0, 0 at the end, -1 after a message. */
static ssize_t src_read(struct src *s, uint8_t *out)
{
    for (;;) {
        ssize_t r = read(s->fd, s->hex ? s->raw : out, FRAME_CHUNK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            pw_err("frame", "cannot read '%s': %s", s->name, strerror(errno));
            return -1;
        }
        if (!s->hex || r == 0) {
            if (r == 0 && s->hex && s->nib >= 0) {
                pw_err("frame", "'%s': odd number of hex digits", s->name);
                return -1;
            }
            return r;
        }
        size_t n = 0;
        for (ssize_t i = 0; i < r; i++, s->at++) {
            int c = s->raw[i], v;
            if (s->comment) {
                s->comment = c != '\n';
            } else if (c == '#') {
                s->comment = 1;
            } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
                continue;
            } else if ((v = hexval(c)) < 0) {
                pw_err("frame", "'%s': byte %llu is not a hex digit (%s)", s->name,
                       (unsigned long long)s->at,
                       c >= 0x20 && c < 0x7f ? (char[]){'\'', (char)c, '\'', 0} : "non-printable");
                return -1;
            } else if (s->nib < 0) {
                s->nib = v;
            } else {
                out[n++] = (uint8_t)(s->nib << 4 | v);
                s->nib = -1;
            }
        }
        if (n)
            return (ssize_t)n;
    }
}

/* Whole input into b (at most FRAME_MAX_INPUT bytes).  0 or an exit code. */
static int slurp(const char *path, int hex, struct pw_buf *b)
{
    struct src *s = calloc(1, sizeof *s);
    uint8_t *chunk = malloc(FRAME_CHUNK);
    int rc = PW_EXIT_FAIL;
    if (!s || !chunk) {
        pw_err("frame", "out of memory");
        goto out;
    }
    if (src_open(s, path, hex) < 0)
        goto out;
    for (;;) {
        ssize_t n = src_read(s, chunk);
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        int r = pw_buf_append(b, chunk, (size_t)n);
        if (r == PW_ETOOBIG) {
            pw_err("frame", "'%s' is larger than the %zu MiB limit", s->name,
                   FRAME_MAX_INPUT >> 20);
            goto out;
        }
        if (r) {
            pw_err("frame", "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    if (s && s->fd > 0)
        close(s->fd);
    free(s);
    free(chunk);
    return rc;
}

/* ---------- WebSocket decoding ---------- */

struct viol {
    const char *rule, *msg;
};

#define FRAME_MAX_VIOL 16

struct wsdec {
    const struct cfg *c;
    FILE *out;                   /* NULL: check only (encode warnings) */
    struct pw_ws_parser p;
    struct pw_ws_msgstate m;     /* data frames: fragmentation, UTF-8 */
    struct pw_ws_msgstate mc;    /* the current control frame */
    uint64_t pos;                /* stream offset of the next byte */
    unsigned long nframe, nviol;
    struct viol first;           /* the first violation, for the summary */
    unsigned long first_frame;
    /* the frame being read */
    int in_frame, have_hdr;
    struct pw_ws_header hdr;
    uint64_t start, got;
    struct pw_buf pay;           /* unmasked payload, capped */
    struct viol v[FRAME_MAX_VIOL];
    int nv;
    /* messages, as seen from outside, for display and for recovery */
    int msg_op;                  /* opcode of the open fragmented message, or 0 */
    int msg_skip;                /* after a message error: ignore the rest of it */
    int frame_skip;              /* after a message error: ignore the rest of the frame */
    int closed;                  /* a close frame was seen */
    int warn;                    /* encoding: each violation is a warning */
    struct pw_buf ob;            /* output of one frame */
    /* --deflate: the compressed message being read (RFC 7692 §7.2.2) */
    struct pw_wsd z;             /* the inflater, context taken over */
    int z_on;                    /* z is set up */
    int zmsg;                    /* the open data message has RSV1: its payload is compressed */
    int zop;                     /* its opcode */
    int infl;                    /* being inflated (no error so far) */
    int infl_done;               /* the frame just read ends it: show the message */
    int infl_big;                /* inflated past FRAME_MAX_INPUT: not shown */
    struct pw_buf inflated;      /* the inflated message */
};

static void add_viol(struct wsdec *d, const char *rule, const char *msg)
{
    for (int i = 0; i < d->nv; i++)
        if (strcmp(d->v[i].msg, msg) == 0)
            return;
    if (d->nv < FRAME_MAX_VIOL)
        d->v[d->nv++] = (struct viol){rule, msg};
    if (d->warn)
        pw_err("frame", "warning: %s: %s (the frame is written anyway)", rule, msg);
    if (d->nviol++ == 0) {
        d->first = (struct viol){rule, msg};
        d->first_frame = d->nframe + 1;
    }
}

static void add_err(struct wsdec *d, int code)
{
    add_viol(d, pw_errrule(code), pw_strerror(code));
}

/* An error of the message layer; with --deflate an RSV error there is RSV1
 * where permessage-deflate does not allow it. */
static void add_msg_err(struct wsdec *d, int code, int op)
{
    if (code == PW_EWS_RSV && d->c->deflate)
        add_viol(d, "RFC 7692 §6.1", pw_ws_is_control(op)
                                         ? "RSV1 on a control frame (control frames are not compressed)"
                                         : "RSV1 on a continuation frame (only a message's first frame has it)");
    else
        add_err(d, code);
}

static int is_data(int op)
{
    return op == PW_WS_OP_CONT || op == PW_WS_OP_TEXT || op == PW_WS_OP_BINARY;
}

static int is_reserved(int op)
{
    return strcmp(pw_ws_opcode_name(op), "reserved") == 0;
}

/* Rules of one header; the parser runs lenient so that a frame breaking them
 * is still shown whole and the stream goes on. */
static void check_header(struct wsdec *d, const struct pw_ws_header *h)
{
    int errs[8];
    int n = pw_ws_header_violations(h, d->c->role < 0 ? PW_WS_FROM_ANY : (enum pw_ws_role)d->c->role,
                                    d->c->deflate ? 4u : 0u, errs, 8);
    for (int i = 0; i < n; i++)
        add_err(d, errs[i]);
    if (d->closed && is_data(h->opcode))
        add_viol(d, "RFC 6455 §5.5.1", "data frame after a close frame");
}

/* --deflate: a fresh inflater (context takeover, 15-bit windows: it
 * inflates what any negotiated parameters produce). */
static int z_setup(struct wsdec *d)
{
    if (d->z_on)
        pw_wsd_free(&d->z);
    d->z_on = 0;
    struct pw_wsd_params zp = {.server_max_window_bits = 15, .client_max_window_bits = 15};
    if (pw_wsd_init(&d->z, &zp, d->c->role == PW_WS_FROM_CLIENT, -1, FRAME_MAX_INPUT) < 0)
        return -1;
    d->z_on = 1;
    return 0;
}

/* --deflate: inflates the compressed message as its payload arrives; at its
 * last frame, checks a text message's UTF-8 (§8.1) on the inflated bytes. */
static void z_feed(struct wsdec *d, const struct pw_ws_event *ev)
{
    int last = ev->type == PW_WS_EV_END && ev->hdr.fin;
    if (!d->infl || (ev->type != PW_WS_EV_PAYLOAD && !last))
        return;
    int r = d->z_on ? pw_wsd_decompress(&d->z, ev->type == PW_WS_EV_PAYLOAD ? ev->data : NULL,
                                        ev->type == PW_WS_EV_PAYLOAD ? ev->len : 0, last,
                                        &d->inflated)
                    : PW_EWSD_ZLIB;
    if (r == PW_EWSD_TOOBIG) {
        d->infl_big = 1;
        r = 0;
    }
    if (r < 0) {
        add_err(d, r);
        d->infl = 0;
        /* the stream is lost: later messages get a fresh inflater */
        (void)z_setup(d);
        return;
    }
    if (last || d->infl_big) {
        d->infl = 0;
        d->infl_done = 1;
        if (d->infl_big)
            (void)z_setup(d);
        else if (d->zop == PW_WS_OP_TEXT && !pw_utf8_valid(d->inflated.p, d->inflated.len))
            add_viol(d, "RFC 6455 §8.1", "inflated text is not valid UTF-8");
    }
}

/* Feeds the message layer; a data message that broke a rule is not checked
 * further (its other fragments would only repeat the error). */
static void msg_feed(struct wsdec *d, const struct pw_ws_event *ev)
{
    struct pw_ws_event e = *ev;
    int op = ev->hdr.opcode;
    /* without --deflate no extension is negotiated: RSV bits were reported
     * as such and must not turn off the UTF-8 check (RSV1 = compressed);
     * with it, RSV1 marks a compressed message, and on a control or
     * continuation frame it is the message layer's error (RFC 7692 §6.1) */
    e.hdr.rsv = d->c->deflate ? ev->hdr.rsv & 4 : 0;
    if (is_reserved(op))
        return;
    /* a frame built alone may continue a message we do not see */
    if (d->warn && op == PW_WS_OP_CONT)
        return;
    if (pw_ws_is_control(op)) {
        /* a control frame is checked on its own: its errors must not reset
         * the state of a fragmented message it interrupts */
        if (ev->type == PW_WS_EV_HEADER)
            pw_ws_msg_init(&d->mc, 0);
        int was = d->mc.err;
        int r = pw_ws_msg_event(&d->mc, &e);
        if (r < 0 && !was)
            add_msg_err(d, r, op);
        return;
    }
    if (ev->type == PW_WS_EV_HEADER) {
        d->frame_skip = 0;
        if (d->msg_skip && op != PW_WS_OP_CONT) {
            /* a new message while the broken one was still open */
            add_err(d, PW_EWS_CONT_EXPECTED);
            d->msg_skip = 0;
        }
    }
    if (d->frame_skip || d->msg_skip) {
        if (ev->type == PW_WS_EV_END && ev->hdr.fin)
            d->msg_skip = 0;
        return;
    }
    int r = pw_ws_msg_event(&d->m, &e);
    if (r < 0) {
        add_msg_err(d, r, op);
        pw_ws_msg_init(&d->m, 0);
        if (ev->type != PW_WS_EV_END) {
            d->frame_skip = 1;
            d->msg_skip = !ev->hdr.fin;
        }
        if (d->infl) { /* the message is not inflated further */
            d->infl = 0;
            (void)z_setup(d);
        }
        return;
    }
    if (d->c->deflate && ev->type == PW_WS_EV_HEADER && op != PW_WS_OP_CONT) {
        d->zmsg = (ev->hdr.rsv & 4) != 0;
        d->zop = op;
        d->infl = d->zmsg;
        d->infl_big = 0;
        pw_buf_reset(&d->inflated);
    }
    z_feed(d, ev);
}

static void frame_begin(struct wsdec *d, const struct pw_ws_header *h)
{
    d->have_hdr = 1;
    d->hdr = *h;
    d->got = 0;
    check_header(d, h);
}

/* Text unless it belongs to a binary message or is not valid UTF-8. */
static int payload_is_text(const struct wsdec *d)
{
    int op = d->hdr.opcode;
    if (d->zmsg && is_data(op)) /* compressed bytes */
        return 0;
    if (op == PW_WS_OP_BINARY || (op == PW_WS_OP_CONT && d->msg_op == PW_WS_OP_BINARY))
        return 0;
    return d->pay.len == 0 || pw_utf8_valid(d->pay.p, d->pay.len);
}

static const char *form_name(int f)
{
    return f == 7 ? "7-bit" : f == 16 ? "16-bit" : "64-bit";
}

static void close_fields(const struct wsdec *d, long *code, const uint8_t **reason, size_t *rlen)
{
    *code = -1;
    *reason = NULL;
    *rlen = 0;
    if (d->hdr.opcode != PW_WS_OP_CLOSE || d->pay.len < 2 || d->pay.len != d->got)
        return;
    *code = (long)d->pay.p[0] << 8 | d->pay.p[1];
    *reason = d->pay.p + 2;
    *rlen = d->pay.len - 2;
}

static void print_plain(struct wsdec *d, int truncated)
{
    struct pw_buf *b = &d->ob;
    const struct pw_ws_header *h = &d->hdr;
    pw_buf_printf(b, "frame %lu: offset %llu, %llu bytes%s\n", d->nframe,
                  (unsigned long long)d->start, (unsigned long long)(d->pos - d->start),
                  truncated ? " (truncated)" : "");
    if (d->have_hdr) {
        pw_buf_printf(b, "  FIN %d, RSV1 %d, RSV2 %d, RSV3 %d\n", h->fin, !!(h->rsv & 4),
                      !!(h->rsv & 2), !!(h->rsv & 1));
        pw_buf_printf(b, "  opcode: 0x%x (%s)\n", h->opcode, pw_ws_opcode_name(h->opcode));
        if (h->masked)
            pw_buf_printf(b, "  MASK 1, key: %02x%02x%02x%02x\n", h->mask[0], h->mask[1],
                          h->mask[2], h->mask[3]);
        else
            pw_buf_printf(b, "  MASK 0\n");
        pw_buf_printf(b, "  payload length: %llu (%s form, %s)\n", (unsigned long long)h->len,
                      form_name(h->len_form), h->minimal ? "minimal" : "not minimal");
        if (d->c->verbose) {
            pw_buf_printf(b, "  header bytes: ");
            uint8_t hb[14];
            int hl = pw_ws_encode_header(hb, h->fin, h->rsv, h->opcode, h->masked ? h->mask : NULL,
                                         h->len, h->len_form);
            if (hl > 0)
                put_hex(b, hb, (size_t)hl);
            pw_buf_printf(b, "\n");
        }
        long code;
        const uint8_t *reason;
        size_t rlen;
        close_fields(d, &code, &reason, &rlen);
        if (code >= 0) {
            pw_buf_printf(b, "  close code: %ld (%s)\n  close reason: ", code,
                          pw_ws_close_code_name((unsigned)code));
            pw_json_str(b, reason, rlen);
            pw_buf_printf(b, "\n");
        } else if (d->got != d->pay.len) {
            pw_buf_printf(b, "  payload not shown (over the %zu MiB limit)\n",
                          FRAME_MAX_INPUT >> 20);
        } else if (d->pay.len) {
            size_t n = d->pay.len;
            if (!d->c->verbose && n > FRAME_SHOW_PLAIN)
                n = FRAME_SHOW_PLAIN;
            if (payload_is_text(d)) {
                pw_buf_printf(b, "  payload (text): ");
                pw_json_str(b, d->pay.p, n);
            } else {
                pw_buf_printf(b, "  payload (hex): ");
                put_hex(b, d->pay.p, n);
            }
            if (n < d->pay.len)
                pw_buf_printf(b, " ... (%zu more bytes; -v shows all)", d->pay.len - n);
            pw_buf_printf(b, "\n");
        }
        if (truncated)
            pw_buf_printf(b, "  truncated: %llu of %llu payload bytes\n",
                          (unsigned long long)d->got, (unsigned long long)h->len);
        if (d->infl_done && d->infl_big) {
            pw_buf_printf(b, "  message inflated: over the %zu MiB limit, not shown\n",
                          FRAME_MAX_INPUT >> 20);
        } else if (d->infl_done) {
            size_t n = d->inflated.len;
            if (!d->c->verbose && n > FRAME_SHOW_PLAIN)
                n = FRAME_SHOW_PLAIN;
            int text = d->zop == PW_WS_OP_TEXT && pw_utf8_valid(d->inflated.p, d->inflated.len);
            pw_buf_printf(b, "  message inflated (%zu bytes, %s): ", d->inflated.len,
                          text ? "text" : "hex");
            if (text)
                pw_json_str(b, d->inflated.p, n);
            else
                put_hex(b, d->inflated.p, n);
            if (n < d->inflated.len)
                pw_buf_printf(b, " ... (%zu more bytes; -v shows all)", d->inflated.len - n);
            pw_buf_printf(b, "\n");
        }
    }
    for (int i = 0; i < d->nv; i++)
        pw_buf_printf(b, "  violation: %s: %s\n", d->v[i].rule, d->v[i].msg);
}

/* "KEY": the data as text (when it is) or base64, and "ENCKEY": which;
 * both null when the data is not shown */
static void json_data(struct pw_buf *b, const char *key, const char *enckey, int shown, int text,
                      const uint8_t *p, size_t len)
{
    pw_json_key(b, key);
    if (!shown)
        pw_json_null(b);
    else if (text)
        pw_json_str(b, p, len);
    else
        pw_json_b64(b, p, len);
    pw_json_kcstr(b, enckey, !shown ? NULL : text ? "text" : "base64");
}

static void print_json(struct wsdec *d, int truncated)
{
    struct pw_buf *b = &d->ob;
    const struct pw_ws_header *h = &d->hdr;
    int k = d->have_hdr;
    pw_json_begin(b, '{');
    pw_json_kint(b, "frame", (long long)d->nframe);
    pw_json_kint(b, "offset", (long long)d->start);
    pw_json_kint(b, "size", (long long)(d->pos - d->start));
#define KBOOL(name, v) (k ? pw_json_kbool(b, name, (v)) : (pw_json_key(b, name), pw_json_null(b)))
#define KINT(name, v) (k ? pw_json_kint(b, name, (long long)(v)) : (pw_json_key(b, name), pw_json_null(b)))
    KBOOL("fin", h->fin);
    KBOOL("rsv1", h->rsv & 4);
    KBOOL("rsv2", h->rsv & 2);
    KBOOL("rsv3", h->rsv & 1);
    KINT("opcode", h->opcode);
    pw_json_kcstr(b, "opcode_name", k ? pw_ws_opcode_name(h->opcode) : NULL);
    KBOOL("masked", h->masked);
    char key[9];
    snprintf(key, sizeof key, "%02x%02x%02x%02x", h->mask[0], h->mask[1], h->mask[2], h->mask[3]);
    pw_json_kcstr(b, "mask_key", k && h->masked ? key : NULL);
    KINT("length", h->len);
    KINT("length_form", h->len_form);
    KBOOL("length_minimal", h->minimal);
#undef KBOOL
#undef KINT
    int shown = k && d->got == d->pay.len;
    json_data(b, "payload", "encoding", shown, shown && payload_is_text(d), d->pay.p, d->pay.len);
    long code;
    const uint8_t *reason;
    size_t rlen;
    close_fields(d, &code, &reason, &rlen);
    pw_json_key(b, "close_code");
    code >= 0 ? pw_json_int(b, code) : pw_json_null(b);
    pw_json_kcstr(b, "close_meaning", code >= 0 ? pw_ws_close_code_name((unsigned)code) : NULL);
    pw_json_key(b, "close_reason");
    code >= 0 ? pw_json_str(b, reason, rlen) : pw_json_null(b);
    pw_json_kbool(b, "truncated", truncated);
    pw_json_key(b, "violations");
    pw_json_begin(b, '[');
    for (int i = 0; i < d->nv; i++) {
        pw_json_sep(b);
        pw_json_begin(b, '{');
        pw_json_kcstr(b, "rule", d->v[i].rule);
        pw_json_kcstr(b, "message", d->v[i].msg);
        pw_json_end(b, '}');
    }
    pw_json_end(b, ']');
    /* --deflate: the message this frame ends, inflated */
    int ishown = d->infl_done && !d->infl_big;
    json_data(b, "inflated", "inflated_encoding", ishown,
              ishown && d->zop == PW_WS_OP_TEXT && pw_utf8_valid(d->inflated.p, d->inflated.len),
              d->inflated.p, d->inflated.len);
    pw_json_end(b, '}');
    pw_buf_putc(b, '\n');
}

/* Prints the frame just read and forgets it.  0 or -1 (write error). */
static int frame_done(struct wsdec *d, int truncated)
{
    int rc = 0;
    d->nframe++;
    if (d->out) {
        pw_buf_reset(&d->ob);
        if (d->c->json)
            print_json(d, truncated);
        else
            print_plain(d, truncated);
        rc = write_all(d->out, d->ob.p, d->ob.len);
    }
    if (d->have_hdr && !truncated) {
        int op = d->hdr.opcode;
        if ((op == PW_WS_OP_TEXT || op == PW_WS_OP_BINARY) && !d->hdr.fin)
            d->msg_op = op;
        else if (is_data(op) && d->hdr.fin)
            d->msg_op = d->zmsg = 0;
        if (op == PW_WS_OP_CLOSE)
            d->closed = 1;
    }
    d->in_frame = d->have_hdr = 0;
    d->infl_done = 0;
    d->got = 0;
    d->nv = 0;
    pw_buf_reset(&d->pay);
    return rc;
}

static void wsdec_init(struct wsdec *d, const struct cfg *c, FILE *out)
{
    memset(d, 0, sizeof *d);
    d->c = c;
    d->out = out;
    /* lenient: every header rule is checked here (check_header) so that a
     * frame breaking one is still taken apart and the stream goes on */
    struct pw_ws_parser_opts o = {.from = PW_WS_FROM_ANY, .allowed_rsv = 7};
    pw_ws_parser_init(&d->p, &o);
    pw_ws_parser_lenient(&d->p);
    pw_ws_msg_init(&d->m, 0);
    pw_buf_init(&d->pay, FRAME_MAX_INPUT);
    pw_buf_init(&d->ob, 0);
    pw_buf_init(&d->inflated, 0); /* bounded by the inflater's max_message */
    if (c->deflate && z_setup(d) < 0)
        pw_err("frame", "cannot set up zlib: messages will not be inflated");
}

static void wsdec_free(struct wsdec *d)
{
    pw_buf_free(&d->pay);
    pw_buf_free(&d->ob);
    pw_buf_free(&d->inflated);
    if (d->z_on)
        pw_wsd_free(&d->z);
}

/* Feeds n bytes (unmasked in place).  0, or -1 when decoding cannot go on
 * (a write error, or a length the parser cannot accept). */
static int wsdec_feed(struct wsdec *d, uint8_t *in, size_t n)
{
    size_t off = 0;
    for (;;) {
        struct pw_ws_event ev;
        if (!d->in_frame && off < n) {
            d->in_frame = 1;
            d->start = d->pos;
        }
        ssize_t r = pw_ws_parse(&d->p, in + off, n - off, &ev);
        if (r < 0) {
            /* only a 64-bit length with its top bit set stops a lenient
             * parser: nothing after it can be framed */
            add_err(d, (int)r);
            d->pos += n - off;
            frame_done(d, 0);
            return -1;
        }
        off += (size_t)r;
        d->pos += (uint64_t)r;
        if (ev.type == PW_WS_EV_HEADER)
            frame_begin(d, &ev.hdr);
        else if (ev.type == PW_WS_EV_PAYLOAD) {
            d->got += ev.len;
            /* past the cap the payload is only counted (not shown) */
            if (d->pay.len == d->got - ev.len)
                (void)pw_buf_append(&d->pay, ev.data, ev.len);
        }
        if (ev.type != PW_WS_EV_NONE)
            msg_feed(d, &ev);
        if (ev.type == PW_WS_EV_END) {
            if (frame_done(d, 0) < 0)
                return -1;
        }
        if (ev.type == PW_WS_EV_NONE && off == n)
            return 0;
    }
}

/* End of input: a frame left unfinished is a violation; a fragmented message
 * left open is only noted (a capture may stop anywhere). */
static int wsdec_end(struct wsdec *d)
{
    if (d->in_frame && !pw_ws_parser_idle(&d->p)) {
        add_err(d, PW_EWS_TRUNCATED);
        if (frame_done(d, 1) < 0)
            return -1;
    }
    if (!d->warn && d->msg_op && !d->nviol)
        pw_err("frame", "note: the input ends inside a fragmented %s message",
               pw_ws_opcode_name(d->msg_op));
    return 0;
}

static int summary(struct wsdec *d)
{
    if (!d->nviol)
        return PW_EXIT_OK;
    pw_err("frame", "frame %lu: %s: %s (%lu violation%s in all)", d->first_frame,
           d->first.rule, d->first.msg, d->nviol, d->nviol == 1 ? "" : "s");
    return PW_EXIT_PROTO;
}

static int decode_ws(const struct cfg *c, const char *path)
{
    struct wsdec *d = calloc(1, sizeof *d);
    struct src *s = calloc(1, sizeof *s);
    uint8_t *chunk = malloc(FRAME_CHUNK);
    int rc = PW_EXIT_FAIL, stopped = 0;
    if (!d || !s || !chunk) {
        pw_err("frame", "out of memory");
        goto out;
    }
    wsdec_init(d, c, stdout);
    if (src_open(s, path, c->hex) < 0)
        goto out;
    for (;;) {
        ssize_t n = src_read(s, chunk);
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        if (wsdec_feed(d, chunk, (size_t)n) < 0) {
            stopped = 1;
            break;
        }
        fflush(stdout); /* a live stream shows each frame as it comes */
    }
    if (!stopped && wsdec_end(d) < 0)
        goto out;
    rc = summary(d);
out:
    if (s && s->fd > 0)
        close(s->fd);
    if (d)
        wsdec_free(d);
    free(d);
    free(s);
    free(chunk);
    return rc;
}

/* ---------- WebSocket encoding ---------- */

/* Warns about each rule the frame breaks (it is written anyway), found by
 * decoding it with the core's checks; with -v also shows its anatomy. */
static void encode_warnings(const struct cfg *c, const uint8_t *frame, size_t n)
{
    struct cfg vc = *c;
    vc.json = 0;
    struct wsdec *d = calloc(1, sizeof *d);
    uint8_t *copy = malloc(n ? n : 1);
    if (d && copy) {
        memcpy(copy, frame, n);
        wsdec_init(d, &vc, c->verbose && !pw_quiet ? stderr : NULL);
        d->warn = 1;
        if (wsdec_feed(d, copy, n) == 0)
            wsdec_end(d);
        wsdec_free(d);
    }
    free(d);
    free(copy);
}

static int write_out(const struct cfg *c, const uint8_t *p, size_t n)
{
    if (!c->hex)
        return write_all(stdout, p, n);
    struct pw_buf b;
    pw_buf_init(&b, 0);
    int rc = put_hex(&b, p, n) || pw_buf_putc(&b, '\n') || write_all(stdout, b.p, b.len) ? -1 : 0;
    pw_buf_free(&b);
    return rc;
}

static int encode_ws(const struct cfg *c, const uint8_t *data, size_t len)
{
    int op = c->opcode >= 0 ? c->opcode : c->close_code >= 0 ? PW_WS_OP_CLOSE : PW_WS_OP_TEXT;
    uint8_t key[4], *mask = NULL;
    int mm = c->mask_mode;
    if (mm == MASK_DEFAULT)
        mm = c->role == PW_WS_FROM_SERVER ? MASK_NONE : MASK_RANDOM;
    if (mm == MASK_KEY) {
        memcpy(key, c->key, 4);
        mask = key;
    } else if (mm == MASK_RANDOM) {
        if (RAND_bytes(key, 4) != 1) {
            pw_err("frame", "cannot get random bytes for the masking key (OpenSSL RAND_bytes)");
            return PW_EXIT_FAIL;
        }
        mask = key;
    }
    /* close: the code, then DATA as the reason (not limited to 123 bytes:
     * an oversized close frame is a test case too) */
    size_t extra = c->close_code >= 0 ? 2 : 0;
    size_t plen = len + extra, cap = 14 + plen;
    uint8_t *payload = malloc(plen ? plen : 1), *frame = malloc(cap);
    int rc = PW_EXIT_FAIL;
    if (!payload || !frame) {
        pw_err("frame", "out of memory");
        goto out;
    }
    if (extra) {
        payload[0] = (uint8_t)(c->close_code >> 8);
        payload[1] = (uint8_t)c->close_code;
    }
    if (len)
        memcpy(payload + extra, data, len);
    unsigned rsv = c->rsv;
    if (c->deflate) {
        /* the whole message, from a fresh state, without the 00 00 ff ff
         * tail (RFC 7692 §7.2.1); RSV1 on this, its first frame */
        struct pw_wsz z;
        struct pw_buf zb;
        pw_buf_init(&zb, 0);
        int zr = pw_wsz_init(&z, 15, -1);
        if (zr == 0)
            zr = pw_wsz_compress(&z, payload, plen, &zb);
        pw_wsz_free(&z);
        uint8_t *nf = zr == 0 ? realloc(frame, 14 + zb.len) : NULL;
        if (!nf) {
            pw_buf_free(&zb);
            pw_err("frame", "cannot compress the payload (zlib)");
            goto out;
        }
        frame = nf;
        free(payload);
        payload = zb.p; /* owned from here; freed below */
        plen = zb.len;
        cap = 14 + plen;
        rsv |= 4;
    }
    ssize_t n = pw_ws_encode(frame, cap, c->fin, rsv, op, mask, payload, plen, c->len_form);
    if (n < 0) {
        pw_err("frame", "a payload of %zu bytes does not fit the %d-bit length form; "
                        "use --len-form %s",
               plen, c->len_form, plen > 0xFFFF ? "64" : "16 or 64");
        rc = PW_EXIT_USAGE;
        goto out;
    }
    encode_warnings(c, frame, (size_t)n);
    rc = write_out(c, frame, (size_t)n) < 0 ? PW_EXIT_FAIL : PW_EXIT_OK;
out:
    free(payload);
    free(frame);
    return rc;
}

/* ---------- Server-Sent Events ---------- */

static int encode_sse(const struct cfg *c, const uint8_t *data, size_t len)
{
    struct pw_buf b;
    pw_buf_init(&b, 0);
    int r = pw_sse_encode(&b, c->id, c->event, data, len, c->retry);
    int rc = PW_EXIT_OK;
    if (r < 0) {
        pw_err("frame", "cannot encode the event: %s", pw_strerror(r));
        rc = PW_EXIT_FAIL;
    }
    if (rc == PW_EXIT_OK && write_out(c, b.p, b.len) < 0)
        rc = PW_EXIT_FAIL;
    pw_buf_free(&b);
    return rc;
}

struct ssedec {
    const struct cfg *c;
    unsigned long nevent;
    struct pw_buf ob;
    int werr;
};

static void sse_flush(struct ssedec *s)
{
    if (write_all(stdout, s->ob.p, s->ob.len) < 0)
        s->werr = 1;
    pw_buf_reset(&s->ob);
}

static void on_sse_event(void *ud, const struct pw_sse_event *ev)
{
    struct ssedec *s = ud;
    struct pw_buf *b = &s->ob;
    s->nevent++;
    if (s->c->json) {
        pw_json_begin(b, '{');
        pw_json_kcstr(b, "id", ev->id);
        pw_json_kcstr(b, "event", ev->event);
        pw_json_kstr(b, "data", ev->data, ev->data_len);
        pw_json_end(b, '}');
        pw_buf_putc(b, '\n');
    } else {
        pw_buf_printf(b, "event %lu\n  id ", s->nevent);
        pw_json_cstr(b, ev->id);
        pw_buf_printf(b, "\n  event ");
        pw_json_cstr(b, ev->event);
        pw_buf_printf(b, "\n  data ");
        pw_json_str(b, ev->data, ev->data_len);
        pw_buf_putc(b, '\n');
    }
    sse_flush(s);
}

static void on_sse_retry(void *ud, uint64_t ms)
{
    struct ssedec *s = ud;
    if (ms == PW_SSE_RETRY_DEFAULT) /* an empty retry: back to the default delay */
        pw_buf_printf(&s->ob, s->c->json ? "{\"retry\":null}\n" : "retry default\n");
    else if (s->c->json)
        pw_buf_printf(&s->ob, "{\"retry\":%llu}\n", (unsigned long long)ms);
    else
        pw_buf_printf(&s->ob, "retry %llu\n", (unsigned long long)ms);
    sse_flush(s);
}

static void on_sse_comment(void *ud, const char *text, size_t len)
{
    struct ssedec *s = ud;
    if (!s->c->verbose || pw_quiet)
        return;
    struct pw_buf b;
    pw_buf_init(&b, 0);
    pw_json_str(&b, text, len);
    fprintf(stderr, "pushwire frame: comment %.*s\n", (int)b.len, (const char *)b.p);
    pw_buf_free(&b);
}

static int decode_sse(const struct cfg *c, const char *path)
{
    struct ssedec sd = {.c = c};
    struct pw_sse_parser p;
    struct pw_sse_callbacks cb = {on_sse_event, on_sse_retry, on_sse_comment, NULL};
    struct src *s = calloc(1, sizeof *s);
    uint8_t *chunk = malloc(FRAME_CHUNK);
    int rc = PW_EXIT_FAIL;
    pw_buf_init(&sd.ob, 0);
    pw_sse_parser_init(&p, &cb, &sd, 0, 0);
    if (!s || !chunk) {
        pw_err("frame", "out of memory");
        goto out;
    }
    if (src_open(s, path, c->hex) < 0)
        goto out;
    for (;;) {
        ssize_t n = src_read(s, chunk);
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        int r = pw_sse_parser_feed(&p, chunk, (size_t)n);
        if (r < 0) {
            const char *rule = pw_errrule(r);
            if (*rule) {
                pw_err("frame", "%s: %s (after event %lu)", rule, pw_strerror(r), sd.nevent);
                rc = PW_EXIT_PROTO;
            } else {
                pw_err("frame", "%s", pw_strerror(r));
            }
            goto out;
        }
        if (sd.werr)
            goto out;
        fflush(stdout);
    }
    pw_sse_parser_end(&p);
    rc = sd.werr ? PW_EXIT_FAIL : PW_EXIT_OK;
out:
    if (s && s->fd > 0)
        close(s->fd);
    pw_sse_parser_free(&p);
    pw_buf_free(&sd.ob);
    free(s);
    free(chunk);
    return rc;
}

/* ---------- options ---------- */

static int parse_key(const char *s, uint8_t key[4])
{
    if (strlen(s) != 8)
        return -1;
    for (int i = 0; i < 4; i++) {
        int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        key[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

/* One option's value into c.  0 or an exit code. */
static int take_opt(struct pw_optstate *st, int id, struct cfg *c)
{
    const char *a = st->arg;
    switch (id) {
    case OPT_VERBOSE: c->verbose = 1; break;
    case OPT_QUIET: pw_quiet = 1; break;
    case OPT_DECODE: c->decode = 1; break;
    case OPT_HEX: c->hex = 1; break;
    case OPT_JSON: c->json = 1; break;
    case OPT_SSE: c->sse = 1; break;
    case OPT_NO_FIN: c->fin = 0; break;
    case OPT_RSV1: c->rsv |= 4; break;
    case OPT_DEFLATE: c->deflate = 1; break;
    case OPT_RSV2: c->rsv |= 2; break;
    case OPT_RSV3: c->rsv |= 1; break;
    case OPT_NO_MASK: c->mask_mode = MASK_NONE; break;
    case OPT_ROLE: c->role = st->u == 0 ? PW_WS_FROM_CLIENT : PW_WS_FROM_SERVER; break;
    case OPT_OPCODE:
        if ((c->opcode = parse_opcode(a)) < 0)
            return pw_badarg(st, "not an opcode",
                             "text, binary, continuation, close, ping, pong or a number 0-15");
        break;
    case OPT_MASK:
        if (strcmp(a, "random") == 0)
            c->mask_mode = MASK_RANDOM;
        else if (parse_key(a, c->key) == 0)
            c->mask_mode = MASK_KEY;
        else
            return pw_badarg(st, "not a masking key", "8 hex digits (e.g. 37fa213d) or 'random'");
        break;
    case OPT_CLOSE_CODE: c->close_code = (long)st->u; break;
    case OPT_LEN_FORM: c->len_form = (int)strtol(a, NULL, 10); break; /* 7, 16 or 64 */
    case OPT_FILE: c->file = a; break;
    case OPT_ID:
    case OPT_EVENT:
        if (strpbrk(a, "\r\n"))
            return pw_badarg(st, "not one line (a line break would end the field)",
                             "text without CR or LF");
        *(id == OPT_ID ? &c->id : &c->event) = a;
        break;
    case OPT_RETRY: c->retry = (long long)st->u; break;
    }
    return 0;
}

static const char *opt_name(int id)
{
    for (size_t i = 0; frame_opts[i].lng; i++)
        if (frame_opts[i].id == id)
            return frame_opts[i].lng;
    return "?";
}

/* Options that make no sense together.  0 or PW_EXIT_USAGE. */
static int check_combination(const struct cfg *c, int noperands)
{
    unsigned mode = c->sse ? (c->decode ? M_SSE_DEC : M_SSE_ENC) : (c->decode ? M_DEC : M_ENC);
    static const char *const mode_name[] = {"", "encoding a frame", "--decode", "", "--sse",
                                            "", "", "", "--sse --decode"};
    for (int id = 0; id < OPT_COUNT; id++)
        if (c->used[id] && !(opt_modes(id) & mode)) {
            pw_err("frame", "--%s does not apply to %s; see 'pushwire frame --help'",
                   opt_name(id), mode_name[mode]);
            return PW_EXIT_USAGE;
        }
    if (c->used[OPT_MASK] && c->used[OPT_NO_MASK]) {
        pw_err("frame", "--mask and --no-mask contradict each other; give one");
        return PW_EXIT_USAGE;
    }
    if (c->deflate && !c->decode && c->opcode == PW_WS_OP_CONT) {
        pw_err("frame", "--deflate compresses a whole message into its first frame, not a "
                        "continuation frame (RFC 7692 §6.1: only the first frame has RSV1)");
        return PW_EXIT_USAGE;
    }
    if (c->close_code >= 0 && c->opcode >= 0 && c->opcode != PW_WS_OP_CLOSE) {
        pw_err("frame", "--close-code needs a close frame, not opcode %d (%s)", c->opcode,
               pw_ws_opcode_name(c->opcode));
        return PW_EXIT_USAGE;
    }
    if (noperands > 1 || (noperands && c->file)) {
        pw_err("frame", "give one input: DATA, --file FILE or '-' for stdin "
                        "(quote DATA that has spaces)");
        return PW_EXIT_USAGE;
    }
    return 0;
}

static int frame_main(int argc, char **argv)
{
    struct cfg c = {.role = -1, .opcode = -1, .fin = 1, .close_code = -1, .retry = -1};
    struct pw_optstate st;
    int id, rc = 0;
    pw_opt_begin(&st, &pw_applet_frame, argc, argv);
    while ((id = pw_opt_next(&st)) != PW_OPT_END) {
        if (id == PW_OPT_ERR) {
            rc = PW_EXIT_USAGE;
            break;
        }
        if (id == OPT_HELP) {
            pw_usage(&pw_applet_frame);
            break;
        }
        c.used[id] = (unsigned char)st.given; /* a table default is not a choice */
        if ((rc = take_opt(&st, id, &c)) != 0)
            break;
    }
    pw_opt_end(&st);
    if (rc || id == OPT_HELP)
        return rc;
    int nop = argc - st.ind;
    const char *operand = nop > 0 ? argv[st.ind] : NULL;
    if ((rc = check_combination(&c, nop)) != 0)
        return rc;
    const char *path = c.file ? c.file : operand;
    if (c.decode)
        return c.sse ? decode_sse(&c, path) : decode_ws(&c, path);

    /* encoding: DATA, --file or '-'; none is an empty payload */
    struct pw_buf in;
    pw_buf_init(&in, FRAME_MAX_INPUT);
    const uint8_t *data = (const uint8_t *)operand;
    size_t len = operand ? strlen(operand) : 0;
    if (c.file || (operand && strcmp(operand, "-") == 0)) {
        if ((rc = slurp(c.file ? c.file : "-", 0, &in)) != 0) {
            pw_buf_free(&in);
            return rc;
        }
        data = in.p;
        len = in.len;
    }
    rc = c.sse ? encode_sse(&c, data, len) : encode_ws(&c, data, len);
    pw_buf_free(&in);
    return rc;
}
