/* ws_reader.h — the WebSocket message reader: bytes in, messages out.
 * Pure: no I/O.  Used by the server (one per connection) and the client.
 *
 * It sits on the frame codec (ws_frame.h) the way wslay's event API sits on
 * its frame API: pw_ws_parse takes frames apart, pw_ws_msg_event keeps the
 * message rules (fragmentation, control frames, fail-fast UTF-8, sizes,
 * close payloads), and the reader assembles what they let through into
 * callbacks, with permessage-deflate (RFC 7692) inflation in between:
 *
 *   bytes → frames → message rules → inflate → UTF-8 → on_message
 *                                  ↘ ping / pong / close → on_control, on_close
 *
 *   struct pw_wsr r;
 *   pw_wsr_init(&r, &(struct pw_wsr_opts){PW_WS_FROM_CLIENT, max, max, 1, wsd});
 *   ssize_t n = pw_wsr_feed(&r, in, len, &cb, ud);   // for every read
 *   if (n < 0) fail the connection with close code pw_ws_close_code_for(n)
 *   pw_wsr_free(&r);
 *
 * Input may be split at any byte.  Payload is unmasked in place in `in`.
 *
 * Errors are sticky: once pw_wsr_feed returned a negative code it returns
 * that code again on every call.  The codes: every PW_EWS_* / PW_EWSD_* rule
 * (ws_frame.h, ws_deflate.h; a message over max_message is PW_EWS_TOOBIG, or
 * PW_EWSD_TOOBIG when it got that large by inflating), PW_ENOMEM, and
 * PW_EWSD_ZLIB.  pw_ws_close_code_for() maps each to the close code to send.
 *
 * Memory: the state is small (it lives in every server connection).  A
 * message that arrives in one piece (one unfragmented, uncompressed frame
 * whose payload is whole in the input) is delivered in place, zero-copy.
 * Anything else is assembled in a heap buffer that exists only while that
 * message is in flight; a control frame split across feeds likewise (125
 * bytes at most).  An idle reader holds no heap memory.
 */
#ifndef PW_WS_READER_H
#define PW_WS_READER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "ws_deflate.h"
#include "ws_frame.h"

/* What a callback returns. */
enum {
    PW_WSR_GO = 0,   /* go on reading */
    PW_WSR_STOP = 1, /* return from pw_wsr_feed at once (see below) */
};

/* One frame as it came, for a wire view (connect -v, serve -v). */
struct pw_wsr_frame {
    struct pw_ws_header hdr; /* as on the wire (hdr.len: the wire length) */
    const uint8_t *payload;  /* unmasked payload; of a compressed data frame:
                                the bytes it inflated to (inflated == 1) */
    size_t len;              /* bytes at payload */
    int inflated;            /* 1: the frame was compressed (RSV1 message) */
};

/* Callbacks.  `ud` is pw_wsr_feed's.  Pointers passed in are valid during
 * the call only: they point into the input (zero-copy) or into a buffer the
 * reader frees when the callback returns.
 *
 * Each returns PW_WSR_GO, or PW_WSR_STOP (any non-zero value) to make
 * pw_wsr_feed return at once with the bytes consumed so far: after a close,
 * when the callback tore the connection down, or to stop reading for now.
 * The reader finishes its own bookkeeping for the event before it calls
 * back, and touches neither itself nor the input after a STOP, so a callback
 * may free the reader (pw_wsr_free, or the memory holding it) — and then it
 * must return PW_WSR_STOP.  A reader that was stopped and not freed goes on
 * where it stopped with the next pw_wsr_feed (pass the input it did not
 * consume).  A STOP from on_frame also skips the message or control callback
 * of the frame it showed: use it only when the connection is gone.  A
 * callback must not call pw_wsr_feed on the same reader. */
struct pw_wsr_cb {
    /* a complete data message: opcode PW_WS_OP_TEXT (valid UTF-8, checked
     * after inflating) or PW_WS_OP_BINARY; data is never NULL */
    int (*on_message)(void *ud, int opcode, const uint8_t *data, size_t len);
    /* a ping or a pong (opcode), its payload (<= 125 bytes); may be NULL */
    int (*on_control)(void *ud, int opcode, const uint8_t *data, size_t len);
    /* the peer's close frame: code 1005 when it carried none (RFC 6455
     * §7.1.5; never on the wire, so an empty echo is meant), else a code
     * pw_ws_close_code_valid() accepts; reason is valid UTF-8, not
     * NUL-terminated.  Afterwards the reader is closed: it ignores (and
     * consumes) every byte still fed (§5.5.1).  May be NULL. */
    int (*on_close)(void *ud, unsigned code, const uint8_t *reason, size_t len);
    /* wire view: every complete frame, in order, before the message or
     * control callback it completes; NULL for none (no cost) */
    int (*on_frame)(void *ud, const struct pw_wsr_frame *f);
};

struct pw_wsr_opts {
    enum pw_ws_role from;     /* who sends what we read (the masking rule) */
    uint64_t max_message;     /* bytes per message, inflated; 0 = no limit */
    uint64_t max_frame;       /* payload bytes per frame, checked at the
                                 header; 0 = no limit */
    int strict_minimal;       /* 1: a non-minimal length encoding fails */
    struct pw_wsd *wsd;       /* permessage-deflate agreed: its inflater
                                 (borrowed; the caller compresses with the
                                 same one and frees it).  NULL: RSV1 fails. */
};

struct pw_wsr {
    /* private */
    struct pw_ws_parser p;
    struct pw_ws_msgstate m;
    struct pw_wsd *wsd;
    struct pw_buf msg;        /* a message arriving in pieces (or inflated) */
    uint8_t *ctl;             /* a control payload split across feeds */
    uint64_t frame_start;     /* msg.len when the current data frame began */
    int err;                  /* sticky */
    uint8_t ctl_len;
    uint8_t closed;           /* the peer's close was delivered */
};

void pw_wsr_init(struct pw_wsr *r, const struct pw_wsr_opts *o);
/* Frees the buffers (not the wsd).  The reader may be initialised again. */
void pw_wsr_free(struct pw_wsr *r);

/* Feeds len bytes (unmasked in place).  Returns the bytes consumed — len,
 * unless a callback said PW_WSR_STOP — or a negative PW_E* code (sticky). */
ssize_t pw_wsr_feed(struct pw_wsr *r, uint8_t *in, size_t len,
                    const struct pw_wsr_cb *cb, void *ud);

/* Heap bytes the reader holds now (0 between messages). */
size_t pw_wsr_held(const struct pw_wsr *r);
/* 1 between frames and messages with nothing held, no error and no close
 * delivered: the reader may be freed and initialised again with the same
 * options without losing anything (a deflate stream's state is the wsd's). */
int pw_wsr_idle(const struct pw_wsr *r);
/* 1 once the peer's close frame was delivered. */
static inline int pw_wsr_closed(const struct pw_wsr *r) { return r->closed; }

#endif
