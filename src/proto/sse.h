/* sse.h — Server-Sent Events: encoder and the WHATWG event-stream parser
 * (HTML Living Standard, "Server-sent events", §9.2.5–9.2.6), pure.
 *
 * Parser: feed bytes split anywhere; it calls back once per dispatched event
 * and once per valid `retry:`.  It follows the algorithm exactly: CR, LF and
 * CRLF line ends (a CR at the end of one chunk followed by LF at the start of
 * the next is one line end), a UTF-8 BOM at stream start skipped once, lines
 * starting with ':' ignored, a field without ':' is a field with empty value,
 * one space after ':' removed, `id` containing NULL ignored, `retry` with
 * non-digits ignored, `data` lines joined with LF, event type reset after each
 * dispatch, empty data → no dispatch, last event id kept across events and an
 * unterminated last event discarded at end of stream (pw_sse_parser_end).
 * Limits: an event's data (as delivered, after the line ends between its
 * `data:` lines) larger than max_data, or a line longer than max_line, is
 * PW_ESSE_* (sticky).  By default the line limit follows the data limit, so
 * that one event of max_data bytes arrives whole whether it was sent on one
 * line or on many: there is no second, smaller limit hidden under it.
 *
 * Decisions where the algorithm leaves room, each what Chromium does:
 *  - Invalid UTF-8 is not an error: like a browser's decoder, each maximal
 *    ill-formed subsequence becomes U+FFFD (EF BF BD) in names and values, so
 *    the results do not depend on where the input was split.
 *  - `retry:` with only ASCII digits sets the reconnection time; other values
 *    are ignored, and so is a number that does not fit in 64 bits.  An empty
 *    value (`retry:` or `retry: `) is reported as PW_SSE_RETRY_DEFAULT:
 *    Chromium goes back to its default reconnection time then.
 *  - on_comment gets the text after the ':' exactly as sent (one leading
 *    space included), without the line end.
 *  - A field name is compared byte for byte ("Data" is not "data").
 *  - Last event id: pw_sse_parser_last_id() is the "last event ID string",
 *    set at every dispatch (even one without data, so `id: 7` and an empty
 *    line with no data sets it to "7"; `id:` with an empty value sets it to
 *    ""); an `id:` in an event that is never dispatched (the stream ended
 *    first) does not change it.  pw_sse_parser_end/reset start the next
 *    stream's id buffer from it, as browsers do on reconnection: events of
 *    the next stream without an `id:` carry it.  on_last_id reports each
 *    change, before the event that made it (if any) is delivered.
 *
 * Callbacks must not call pw_sse_parser_* on the same parser; pointers in
 * the event live until the callback returns.
 */
#ifndef PW_SSE_H
#define PW_SSE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pw_err.h"

#define PW_SSE_ERRORS(X)                                                       \
    X(SSE_LINE_TOOBIG, -500, "WHATWG HTML §9.2.6 (limit)", "event-stream line longer than the limit") \
    X(SSE_EVENT_TOOBIG, -501, "WHATWG HTML §9.2.6 (limit)", "event data larger than the limit") \
    X(SSE_NOT_STREAM, -502, "WHATWG HTML §9.2.3", "the response is not text/event-stream") \
    X(SSE_CHARSET, -503, "WHATWG HTML §9.2.3 (as Chromium)", "the event stream's charset is not UTF-8")

enum { PW_SSE_ERRORS(PW_ERR_ENUM) };

/* on_retry's value for an empty `retry:` field: back to the default delay */
#define PW_SSE_RETRY_DEFAULT UINT64_MAX
/* a line may be this much longer than max_data: the longest field prefix
 * that carries data ("data: ") */
#define PW_SSE_LINE_SLACK 6

struct pw_sse_event {
    const char *id;       /* last event id after this event (may be ""), NUL-terminated */
    const char *event;    /* type; "message" when none was given */
    const char *data;     /* data, NUL-terminated; may contain NUL itself: use data_len */
    size_t data_len;
    int own_id;           /* 1: the event had an id: field of its own (an empty one
                             too), not only the last event id carried over */
};

struct pw_sse_callbacks {
    void (*on_event)(void *ud, const struct pw_sse_event *ev);
    /* ms < UINT64_MAX, or PW_SSE_RETRY_DEFAULT; may be NULL */
    void (*on_retry)(void *ud, uint64_t ms);
    void (*on_comment)(void *ud, const char *text, size_t len); /* may be NULL */
    /* the last event ID string changed (id NUL-terminated, may be ""); may be NULL */
    void (*on_last_id)(void *ud, const char *id);
};

struct pw_sse_parser {
    /* private */
    struct pw_sse_callbacks cb;
    void *ud;
    size_t max_line, max_data;
    int bom_state;        /* 0 = at stream start, checking BOM */
    int last_cr;          /* previous chunk ended with CR */
    int err;
    int id_field;         /* an id: field came since the last dispatch */
    struct pw_buf line, data, event, id, last_id;
    struct pw_buf fix;    /* a line with its invalid UTF-8 replaced */
};

/* max_data 0 → 1 MiB; max_line 0 → max_data + PW_SSE_LINE_SLACK.  Owns
 * buffers: free with pw_sse_parser_free. */
void pw_sse_parser_init(struct pw_sse_parser *p, const struct pw_sse_callbacks *cb,
                        void *ud, size_t max_line, size_t max_data);
/* 0 or a sticky PW_ESSE_* / PW_ENOMEM. */
int pw_sse_parser_feed(struct pw_sse_parser *p, const uint8_t *in, size_t len);
/* End of stream: discards an unterminated line and event (per spec).  Keeps
 * the last event id string.  Clears nothing else: errors stay sticky. */
void pw_sse_parser_end(struct pw_sse_parser *p);
/* Resets for a new connection: pending input, BOM state and a sticky error
 * are cleared; the last event id is kept, as a browser does. */
void pw_sse_parser_reset(struct pw_sse_parser *p);
/* The last event ID string (never NULL; valid until the next call on p). */
const char *pw_sse_parser_last_id(const struct pw_sse_parser *p);
/* Sets the last event ID string (and the id buffer of the stream being
 * parsed), e.g. to resume from an id kept by the caller; no callback.
 * 0 or PW_ENOMEM (then unchanged). */
int pw_sse_parser_set_last_id(struct pw_sse_parser *p, const char *id);
void pw_sse_parser_free(struct pw_sse_parser *p);

/* The Content-Type value of a response, as EventSource judges it: its MIME
 * type must be text/event-stream (ASCII case-insensitive, whitespace and
 * parameters allowed), and a charset parameter, when there is one, must be
 * UTF-8 (Chromium fails the connection otherwise; the stream is always read
 * as UTF-8).  ct may be NULL (no header).  0, PW_ESSE_NOT_STREAM or
 * PW_ESSE_CHARSET. */
int pw_sse_check_content_type(const char *ct);

/* Encoder: appends one event to out.  id/event may be NULL (omitted; event
 * "message" is omitted too); retry_ms < 0 omits retry.  Data is split on
 * CR, LF and CRLF into one `data:` line each.  id/event must not contain
 * CR or LF (PW_EINVAL).  Fields are written "name: value" (one space, so a
 * value starting with a space survives), an empty line as "data:"; data
 * bytes are not checked (a receiver replaces invalid UTF-8) and CR/CRLF in
 * them come out as LF at the receiver.  On error out is unchanged. */
int pw_sse_encode(struct pw_buf *out, const char *id, const char *event,
                  const uint8_t *data, size_t len, long long retry_ms);
/* A comment line ": text\n" (or ":\n" for NULL/empty), e.g. a heartbeat.
 * text must not contain CR or LF (PW_EINVAL). */
int pw_sse_encode_comment(struct pw_buf *out, const char *text);

#endif
