/* pwmsg.h — the codec for pushwire's own wire format: everything `serve`
 * writes that is not plain WebSocket, SSE or HTTP, and that `connect`
 * reads back.  Both ends call this one module, so a change to the format
 * changes both sides or neither.
 *
 * The forms (bytes exactly as the encoders write them):
 *   envelope      a WebSocket text message under the pushwire.v1 subprotocol
 *                 {"id":"7","channel":"news","event":"message","data":"hi"}
 *                 binary data:  …,"data":"AAEC","encoding":"base64"}
 *   gap envelope  {"event":"gap","channel":"news","after":"1","first":"4"}
 *   poll body     {"cursor":"9","messages":[ITEM,…],"gap":false}\n
 *                 ITEM = {"id":"8","event":"message","data":"hi"} (binary as
 *                 above); after a gap: …,"gap":true,"after":"1","first":"4"}\n
 *   SSE gap       the data of an `event: gap`: {"after":"1","first":"4"}
 *   close 4410    the reason "gap: after 1, first held 4", or
 *                 "gap: after 1, nothing held" (at most 123 bytes)
 *   error body    {"error":"…","status":400,"rule":"…"}\n ("rule" only when
 *                 there is one; a 405 adds "allow":"GET, HEAD")
 *   pub answer    {"id":"7"}\n
 *
 * A gap: `after` is the id the client asked to resume after, `first` the
 * first id the server still holds.  In struct pwmsg_gap, first NULL means
 * nothing is held: written as "first":"" and "nothing held", and "", null or
 * absent read back as NULL.  after NULL (not said) is written as null.
 *
 * Encoders append to a struct pw_buf and return 0, or PW_ETOOBIG/PW_ENOMEM
 * with the buffer as it was.  They check nothing: ids, names and data are
 * the server's own, checked where they came in (msg.h).  Strings that are
 * not UTF-8 are repaired as pw_json_str does (binary data goes as base64).
 *
 * Decoders parse with limits (struct pwmsg_limits), check every rule and
 * return 0 or a negative PW_EPWMSG_* code naming the rule broken (or
 * PW_ENOMEM), with dec->why saying where, for the user.  They accept what
 * the encoders write and, because clients accept it from other servers:
 *   - members in any order, unknown members ignored;
 *   - id, cursor, after and first as a string or an integer (spelled in
 *     decimal); id, channel, cursor and after absent or null (NULL);
 *   - event absent or null, read as "message";
 *   - encoding absent, null or "base64";
 *   - the gap envelope's after/first at the top level, or inside "data" as
 *     an object or as a JSON string holding that object.
 * A string member holding a NUL byte (\u0000) is refused: every string a
 * decoder returns is NUL-terminated.
 *
 * Memory: a decoder's output points into the struct pwmsg_dec it was given,
 * never into the input (which may go as soon as the call returns), and
 * lives until the next decode with that dec or pwmsg_dec_free.  The item
 * of pwmsg_poll_at lives only until the next pwmsg_poll_at.
 */
#ifndef PW_PWMSG_H
#define PW_PWMSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"
#include "msg.h"
#include "pw_err.h"

#define PW_PWMSG_ERRORS(X)                                                     \
    X(PWMSG_JSON, -800, "pushwire wire format", "not a JSON text")            \
    X(PWMSG_OBJECT, -801, "pushwire wire format", "not a JSON object")        \
    X(PWMSG_MESSAGES, -802, "pushwire poll body", "no \"messages\" array: not a poll body") \
    X(PWMSG_MISSING, -803, "pushwire wire format", "a required member is missing") \
    X(PWMSG_TYPE, -804, "pushwire wire format", "a member has the wrong JSON type") \
    X(PWMSG_NUL, -805, "pushwire wire format", "an id or name holds a NUL byte") \
    X(PWMSG_ENCODING, -806, "pushwire wire format", "unknown encoding (want \"base64\")") \
    X(PWMSG_BASE64, -807, "pushwire wire format", "data is not valid base64 (RFC 4648 §4)") \
    X(PWMSG_REASON, -808, "pushwire close 4410", "close reason is not a gap (\"gap: after ID, …\")") \
    X(PWMSG_TOOBIG, -809, "pushwire wire format (limit)", "text larger than the limit") \
    X(PWMSG_TOOMANY, -810, "pushwire wire format (limit)", "more messages or values than the limit") \
    X(PWMSG_LONG, -811, "pushwire wire format (limit)", "an id or name longer than the limit")

enum { PW_PWMSG_ERRORS(PW_ERR_ENUM) };

/* A close reason holds 123 bytes (RFC 6455 §5.5: 125 minus the code). */
#define PWMSG_REASON_MAX 123

/* ---- what the forms carry ---- */

/* One message: an envelope or a poll item.  As encoder input, id and
 * channel may be NULL (written as null), event NULL is "message"; data is
 * written base64-encoded with "encoding":"base64" when binary is set. */
struct pwmsg_item {
    const char *id;        /* NULL: none */
    const char *channel;   /* NULL: none (poll items never carry one) */
    const char *event;     /* never NULL after decoding ("message") */
    const uint8_t *data;   /* decoded: the bytes, base64 undone, NUL after them */
    size_t len;
    int binary;            /* 1: "encoding":"base64" */
};

struct pwmsg_gap {
    const char *after;     /* the id asked to resume after; NULL: not said */
    const char *first;     /* the first id still held; "": none held; NULL: not said
                              (encoders write NULL as "") */
};

struct pwmsg_error {
    int status;            /* the HTTP status, 100..599 */
    const char *error;     /* what went wrong, for a person */
    const char *rule;      /* the rule broken, or NULL */
    const char *allow;     /* 405: the methods allowed, or NULL */
};

/* The item of a message: points into m (lives as long as m). */
struct pwmsg_item pwmsg_item_of(const struct pw_msg *m);

/* ---- encoders ---- */

/* {"id":…,"channel":…,"event":…,"data":…[,"encoding":"base64"]} */
int pwmsg_envelope_encode(struct pw_buf *b, const struct pw_msg *m);
/* {"event":"gap","channel":…,"after":…,"first":…}; channel NULL is null */
int pwmsg_gap_envelope_encode(struct pw_buf *b, const char *channel, size_t chlen,
                              const struct pwmsg_gap *g);
/* {"event":"position","channel":…,"id":…}: where the channel is, sent
 * first to a pushwire.v1 subscriber that gave no ?since= (no data: not a
 * message); channel NULL is null */
int pwmsg_position_envelope_encode(struct pw_buf *b, const char *channel, size_t chlen,
                                   const char *id);
/* A poll body's ITEM {"id":…,"event":…,"data":…[,"encoding":"base64"]}:
 * the server builds it once per message and keeps it. */
int pwmsg_poll_item_encode(struct pw_buf *b, const struct pw_msg *m);
/* The envelope (with_channel 1) or poll ITEM (0) of any item. */
int pwmsg_item_encode(struct pw_buf *b, const struct pwmsg_item *it, int with_channel);
/* Appends one encoded ITEM to a list of them (a ',' before all but the
 * first); list starts empty. */
int pwmsg_poll_list_add(struct pw_buf *list, const void *item, size_t len);
/* The whole poll body, with its '\n': the items of `list` (as built by
 * pwmsg_poll_list_add; len 0 for none) and, when g is not NULL, the gap. */
int pwmsg_poll_encode(struct pw_buf *b, const char *cursor, const void *list, size_t len,
                      const struct pwmsg_gap *g);
/* {"after":…,"first":…}: the data of the SSE `event: gap`. */
int pwmsg_sse_gap_encode(struct pw_buf *b, const struct pwmsg_gap *g);
/* The close-4410 reason into out, NUL-terminated; returns its length
 * (<= PWMSG_REASON_MAX).  Cut at 123 bytes if it must be, never inside a
 * UTF-8 sequence. */
size_t pwmsg_gap_reason(char out[PWMSG_REASON_MAX + 1], const struct pwmsg_gap *g);
/* An HTTP error body, with its '\n'. */
int pwmsg_error_encode(struct pw_buf *b, const struct pwmsg_error *e);
/* The answer to a publish, {"id":…} with its '\n'. */
int pwmsg_pub_encode(struct pw_buf *b, const char *id);

/* ---- decoders ---- */

/* 0 in a field means its default; NULL means all defaults. */
struct pwmsg_limits {
    size_t max_size;       /* bytes of JSON text (default 16 MiB) */
    size_t max_messages;   /* items in a poll body (default 100000) */
    size_t max_field;      /* bytes of an id, cursor, name, after, first (default 1023) */
};
#define PWMSG_LIMITS_DEFAULT { 16u << 20, 100000, 1023 }

struct pwmsg_dec {
    /* public, read-only */
    char why[160];         /* after an error: where and what, for the user */
    /* private */
    struct pwmsg_limits lim;
    struct pw_json *root, *inner;
    struct pw_buf bytes;   /* decoded base64; the 4410 reason's ids */
    char num[4][24];       /* ids sent as numbers, spelled */
};

void pwmsg_dec_init(struct pwmsg_dec *d, const struct pwmsg_limits *lim);
void pwmsg_dec_free(struct pwmsg_dec *d);

struct pwmsg_envelope {
    int gap;               /* 1: a gap signal ("event":"gap" and no id; with an id it is
                              a message whose event is named gap): g is set */
    int position;          /* 1: the channel's position ("event":"position" with no
                              "data"): m.id (NULL when absent), m.channel, no data */
    struct pwmsg_item m;   /* the message; for a gap only m.channel/m.event */
    struct pwmsg_gap g;
};
int pwmsg_envelope_decode(struct pwmsg_dec *d, const void *text, size_t len,
                          struct pwmsg_envelope *out);

struct pwmsg_poll {
    const char *cursor;    /* where to poll from next; NULL: not said */
    int gap;               /* "gap":true — g as the body says it */
    struct pwmsg_gap g;
    size_t count;          /* items: read each with pwmsg_poll_at */
    /* private */
    const struct pw_json *msgs;
};
/* Checks the whole body, every item included: once it returns 0,
 * pwmsg_poll_at fails only for want of memory. */
int pwmsg_poll_decode(struct pwmsg_dec *d, const void *text, size_t len, struct pwmsg_poll *out);
int pwmsg_poll_at(struct pwmsg_dec *d, const struct pwmsg_poll *p, size_t i,
                  struct pwmsg_item *out);

int pwmsg_sse_gap_decode(struct pwmsg_dec *d, const void *text, size_t len, struct pwmsg_gap *out);
/* PW_EPWMSG_REASON unless code is 4410 and the reason starts "gap: after ".
 * after ends at the first ", first held " (first is the rest), else before a
 * final ", nothing held" (first ""); a reason cut short (neither) gives what
 * is there as after, first NULL. */
int pwmsg_gap_reason_decode(struct pwmsg_dec *d, unsigned code, const char *reason, size_t len,
                            struct pwmsg_gap *out);
int pwmsg_error_decode(struct pwmsg_dec *d, const void *text, size_t len, struct pwmsg_error *out);
int pwmsg_pub_decode(struct pwmsg_dec *d, const void *text, size_t len, const char **id);

#endif
