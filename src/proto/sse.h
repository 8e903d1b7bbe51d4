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
 * Limits: a line or an event's data longer than the limits is PW_ESSE_*
 * (sticky).
 *
 * Decisions where the algorithm leaves room:
 *  - Invalid UTF-8 is not an error: like a browser's decoder, each maximal
 *    ill-formed subsequence becomes U+FFFD (EF BF BD) in names and values, so
 *    the results do not depend on where the input was split.
 *  - `retry:` needs at least one digit (an empty value is ignored, as
 *    browsers do); values beyond 2^64-1 saturate.
 *  - on_comment gets the text after the ':' exactly as sent (one leading
 *    space included), without the line end.
 *  - A field name is compared byte for byte ("Data" is not "data").
 *  - Last event id: pw_sse_parser_last_id() is the "last event ID string",
 *    set at every dispatch (even one without data); an `id:` in an event that
 *    is never dispatched does not change it.  pw_sse_parser_end/reset start
 *    the next stream's id buffer from it, as browsers do on reconnection.
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
    X(SSE_EVENT_TOOBIG, -501, "WHATWG HTML §9.2.6 (limit)", "event data larger than the limit")

enum { PW_SSE_ERRORS(PW_ERR_ENUM) };

struct pw_sse_event {
    const char *id;       /* last event id after this event (may be ""), NUL-terminated */
    const char *event;    /* type; "message" when none was given */
    const char *data;     /* data, NUL-terminated; may contain NUL itself: use data_len */
    size_t data_len;
};

struct pw_sse_callbacks {
    void (*on_event)(void *ud, const struct pw_sse_event *ev);
    void (*on_retry)(void *ud, uint64_t ms);   /* may be NULL */
    void (*on_comment)(void *ud, const char *text, size_t len); /* may be NULL */
};

struct pw_sse_parser {
    /* private */
    struct pw_sse_callbacks cb;
    void *ud;
    size_t max_line, max_data;
    int bom_state;        /* 0 = at stream start, checking BOM */
    int last_cr;          /* previous chunk ended with CR */
    int err;
    struct pw_buf line, data, event, id, last_id;
    struct pw_buf fix;    /* a line with its invalid UTF-8 replaced */
};

/* max_line/max_data 0 → defaults (64 KiB, 1 MiB).  Owns buffers: free with
 * pw_sse_parser_free. */
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
const char *pw_sse_parser_last_id(const struct pw_sse_parser *p);
void pw_sse_parser_free(struct pw_sse_parser *p);

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
