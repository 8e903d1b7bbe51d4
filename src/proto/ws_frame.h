/* ws_frame.h — RFC 6455 frame codec: an incremental parser, an encoder,
 * masking and close-code rules.  Pure: no I/O, no allocation in the parser.
 *
 * Parser contract (picohttpparser/wslay style):
 *   ssize_t n = pw_ws_parse(&p, in, len, &ev);
 *   n >= 0: n bytes of `in` were consumed and `ev` says what happened
 *           (PW_WS_EV_NONE when all n bytes went into an unfinished header);
 *   n <  0: a PW_E* error; the parser is then stuck in that error (sticky)
 *           and p.err/pw_errrule(n) name the RFC section broken.
 * Payload is unmasked IN PLACE in `in` and reported as a slice
 * (ev.data/ev.len point into `in`, valid until the caller reuses `in`).
 * Input may be split at any byte.  Call in a loop until n == 0 with no event
 * or all input is consumed.
 *
 * One event per call, in this order for every frame: HEADER (n = the header
 * bytes taken by this call), then PAYLOAD events (n = ev.len) while payload
 * bytes are fed, then END, which consumes nothing (n == 0) and may be reported
 * by a call with len == 0.  A frame with no payload gives HEADER then END.
 * A header is checked as its bytes arrive: a violation in the first two
 * bytes fails before the extended length or mask are read.  Header checks, in
 * order: RSV, opcode, control FIN, control length, masking rule, then (from
 * the extended length) the 64-bit MSB, strict_minimal, max_frame.
 *
 * Changes (wscore): documented the event order and the message-layer rules;
 * added pw_ws_encode, pw_ws_close_build, pw_ws_close_code_for and private
 * close fields in pw_ws_msgstate.  All earlier declarations keep their shape.
 */
#ifndef PW_WS_FRAME_H
#define PW_WS_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pw_err.h"
#include "utf8.h"

#define PW_WS_ERRORS(X)                                                        \
    X(WS_RSV, -100, "RFC 6455 §5.2", "RSV bit set without a negotiated extension") \
    X(WS_OPCODE, -101, "RFC 6455 §5.2", "reserved opcode")                    \
    X(WS_CTRL_FRAG, -102, "RFC 6455 §5.5", "control frame is fragmented (FIN=0)") \
    X(WS_CTRL_LEN, -103, "RFC 6455 §5.5", "control frame payload longer than 125 bytes") \
    X(WS_UNMASKED, -104, "RFC 6455 §5.1", "client frame is not masked")       \
    X(WS_MASKED, -105, "RFC 6455 §5.1", "server frame is masked")             \
    X(WS_LEN_MSB, -106, "RFC 6455 §5.2", "64-bit payload length has its most significant bit set") \
    X(WS_NONMINIMAL, -107, "RFC 6455 §5.2", "payload length not in its minimal encoding") \
    X(WS_TOOBIG, -108, "RFC 6455 §7.4.1 (1009)", "message larger than the configured limit") \
    X(WS_CONT_UNEXPECTED, -109, "RFC 6455 §5.4", "continuation frame with no message in progress") \
    X(WS_CONT_EXPECTED, -110, "RFC 6455 §5.4", "new data frame while a fragmented message is in progress") \
    X(WS_UTF8, -111, "RFC 6455 §8.1", "text is not valid UTF-8")              \
    X(WS_CLOSE_LEN, -112, "RFC 6455 §5.5.1", "close payload of 1 byte (a code needs 2)") \
    X(WS_CLOSE_CODE, -113, "RFC 6455 §7.4", "close code not allowed on the wire") \
    X(WS_CLOSE_UTF8, -114, "RFC 6455 §5.5.1", "close reason is not valid UTF-8") \
    X(WS_TRUNCATED, -115, "RFC 6455 §5.2", "input ends inside a frame")

enum { PW_WS_ERRORS(PW_ERR_ENUM) };

enum pw_ws_opcode {
    PW_WS_OP_CONT = 0x0,
    PW_WS_OP_TEXT = 0x1,
    PW_WS_OP_BINARY = 0x2,
    PW_WS_OP_CLOSE = 0x8,
    PW_WS_OP_PING = 0x9,
    PW_WS_OP_PONG = 0xA,
};

/* Who sent the bytes being parsed (decides the masking rule, §5.1). */
enum pw_ws_role {
    PW_WS_FROM_CLIENT = 0, /* frames must be masked */
    PW_WS_FROM_SERVER = 1, /* frames must not be masked */
    PW_WS_FROM_ANY = 2,    /* do not check masking (frame --decode default) */
};

const char *pw_ws_opcode_name(int opcode); /* "text", …, "reserved" */
static inline int pw_ws_is_control(int op) { return (op & 0x8) != 0; }

struct pw_ws_header {
    unsigned fin : 1;
    unsigned rsv : 3;      /* RSV1 = 4, RSV2 = 2, RSV3 = 1 */
    unsigned opcode : 4;
    unsigned masked : 1;
    uint8_t mask[4];
    uint64_t len;          /* payload length */
    uint8_t len_form;      /* 7, 16 or 64: the encoding used on the wire */
    uint8_t minimal;       /* 1 if len_form was the shortest possible */
    uint8_t header_len;    /* 2..14 bytes */
};

enum pw_ws_event_type {
    PW_WS_EV_NONE = 0,   /* nothing complete yet */
    PW_WS_EV_HEADER,     /* ev.hdr is valid; payload follows */
    PW_WS_EV_PAYLOAD,    /* ev.data/ev.len: next unmasked payload chunk */
    PW_WS_EV_END,        /* the current frame's payload is complete */
};

struct pw_ws_event {
    enum pw_ws_event_type type;
    struct pw_ws_header hdr; /* the current frame's header (valid from HEADER to END) */
    uint8_t *data;           /* PAYLOAD: points into the caller's input */
    size_t len;
    uint64_t offset;         /* PAYLOAD: offset of data within the frame payload */
};

struct pw_ws_parser_opts {
    enum pw_ws_role from;
    unsigned allowed_rsv;    /* RSV bits a negotiated extension permits (4 = RSV1) */
    uint64_t max_frame;      /* payload bytes per data frame; 0 = no limit (a control
                                frame's limit is its own: 125) */
    int strict_minimal;      /* 1: non-minimal length is an error (else only reported) */
};

struct pw_ws_parser {
    /* private */
    struct pw_ws_parser_opts o;
    int state;
    int err;                 /* sticky error, 0 if none */
    uint8_t hbuf[14];
    uint8_t hlen, hneed;
    uint64_t done;           /* payload bytes delivered in the current frame */
    struct pw_ws_header hdr;
    int lenient;             /* see pw_ws_parser_lenient */
};

void pw_ws_parser_init(struct pw_ws_parser *p, const struct pw_ws_parser_opts *o);
ssize_t pw_ws_parse(struct pw_ws_parser *p, uint8_t *in, size_t len,
                    struct pw_ws_event *ev);
/* 1 when the parser sits between frames (end of input there is clean).
 * After the last payload byte the END event is still owed: call pw_ws_parse
 * (len 0 is fine) until it is reported, then the parser is idle. */
int pw_ws_parser_idle(const struct pw_ws_parser *p);

/* The fast path for the usual frame (ws_reader.c takes it): at a frame
 * boundary (the parser idle, not lenient), does in[0..len) start with a
 * whole data frame — text or binary, FIN set, no RSV bit, a 7-bit or a
 * minimal 16-bit length, masked as the role wants, within max_frame — with
 * all of its payload in view?  Then returns its header length (the payload
 * follows it; when *masked, the key is the header's last 4 bytes) and sets
 * *opcode, *plen and *masked.  Otherwise 0, and pw_ws_parse takes the frame
 * the usual way (naming the rule it breaks, if any).  Reads only: nothing is
 * unmasked and the parser is untouched. */
size_t pw_ws_peek_whole(const struct pw_ws_parser *p, const uint8_t *in, size_t len, int *opcode,
                        size_t *plen, int *masked);

/* For inspectors (frame --decode), added by the frame helper: after
 * pw_ws_parser_init, makes the parser enforce only the framing.  The header
 * rules (RSV, opcode, control FIN and length, masking, strict_minimal) no
 * longer fail; the caller checks each HEADER with pw_ws_header_violations,
 * so a frame that breaks them is still taken apart and the stream goes on.
 * A 64-bit length with its MSB set still fails: nothing after it can be
 * framed.  max_frame still applies. */
void pw_ws_parser_lenient(struct pw_ws_parser *p);
/* Every header rule h breaks for a sender `from` (RSV beyond allowed_rsv,
 * reserved opcode, control FIN, control length > 125, masking, minimal
 * length), in the parser's order, as PW_EWS_* codes into errs[0..max).
 * Returns how many (at most max). */
int pw_ws_header_violations(const struct pw_ws_header *h, enum pw_ws_role from,
                            unsigned allowed_rsv, int *errs, int max);

/* Message layer: fragmentation rules (§5.4), interleaved control frames,
 * fail-fast UTF-8 of text across fragments (§8.1), the message size limit,
 * close payload rules (§5.5.1, §7.4).
 * Feed it each parser event; it returns 0 or a PW_EWS_* error (sticky).
 *  - A text message's UTF-8 is checked as the bytes arrive: the PAYLOAD event
 *    holding the first impossible byte fails with PW_EWS_UTF8, even while the
 *    message is incomplete; a message ending inside a code point fails at END.
 *  - max_message is checked at each HEADER (declared length), before any of
 *    the payload arrives: PW_EWS_TOOBIG (close 1009).  For a compressed
 *    message it bounds the compressed size; ws_deflate bounds the inflated one.
 *  - RSV1 (permessage-deflate's "compressed" bit) on a control frame or on a
 *    continuation frame is PW_EWS_RSV (RFC 7692 §6.1) — the parser lets it
 *    through when allowed_rsv has RSV1.  Compressed text (RSV1 on the first
 *    frame) is not UTF-8 checked here: check the inflated bytes.
 *  - Close frames: a 1-byte payload fails at HEADER (PW_EWS_CLOSE_LEN), the
 *    code when its 2nd byte arrives (PW_EWS_CLOSE_CODE), the reason's UTF-8
 *    as it arrives (PW_EWS_CLOSE_UTF8).
 * A data message is complete at the END event of a frame with hdr.fin set
 * and a data opcode (or continuation). */
struct pw_ws_msgstate {
    /* (the 64-bit fields first: every server connection holds one) */
    uint64_t max_message;    /* 0 = no limit */
    uint64_t size;           /* bytes so far in the open message */
    int in_message;          /* 1 from a data frame's HEADER until its message's last END */
    int opcode;              /* text or binary of the open message */
    int compressed;          /* RSV1 on its first frame (permessage-deflate) */
    struct pw_utf8 utf8;     /* initialised per message; unused here when
                                check_utf8 is 0 (ws_reader.c then checks the
                                inflated text with it) */
    int check_utf8;          /* set 0 when payload is compressed (check after inflate) */
    int err;
    /* private: the close frame being received */
    uint8_t ctl_code[2];
    struct pw_utf8 ctl_utf8;
};
void pw_ws_msg_init(struct pw_ws_msgstate *m, uint64_t max_message);
int pw_ws_msg_event(struct pw_ws_msgstate *m, const struct pw_ws_event *ev);

/* Encoder.  Writes the header for a frame with `len` payload bytes into out
 * (at least 14 bytes); returns its length.  mask == NULL: unmasked.
 * len_form 0 picks the minimal form, or forces 7, 16 or 64 (a form too small
 * for len returns PW_EINVAL). rsv as in pw_ws_header.  Any opcode 0..15 and
 * any length < 2^63 is encoded, even ones a parser must reject (control frames
 * > 125, reserved opcodes): the frame applet builds such frames on purpose. */
int pw_ws_encode_header(uint8_t out[14], int fin, unsigned rsv, int opcode,
                        const uint8_t *mask, uint64_t len, int len_form);
/* Header + payload into out[0..cap): the payload is copied and, with a mask,
 * masked.  Returns the frame's size, PW_ETOOBIG if cap is too small, or
 * PW_EINVAL as pw_ws_encode_header.  payload may be NULL when len is 0. */
ssize_t pw_ws_encode(uint8_t *out, size_t cap, int fin, unsigned rsv, int opcode,
                     const uint8_t *mask, const uint8_t *payload, size_t len,
                     int len_form);

/* Masking (ws_mask.c).  XOR buf with key starting at key position `offset`
 * (payload offset mod 4), many bytes at a time (32-byte AVX2 vectors when
 * the CPU has them).  Masking and unmasking are the same operation. */
void pw_ws_mask(uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset);
/* pw_ws_mask of a whole payload (offset 0) that also says whether the
 * unmasked bytes are all ASCII (1), in the same pass: text that is needs no
 * other UTF-8 check. */
int pw_ws_unmask_ascii(uint8_t *buf, size_t len, const uint8_t key[4]);
/* The loops pw_ws_mask chooses among, each of the same result: 8-byte
 * words, 16-byte vectors, 32-byte AVX2 vectors (x86-64 CPUs with AVX2).
 * For the tests and the fuzzer, which hold each against the others.
 * pw_ws_mask_has: whether this build and CPU have the loop.
 * pw_ws_mask_with: pw_ws_mask with that loop (the word loop when it is not
 * there); returns the OR of the bytes written. */
enum { PW_WS_MASK_WORD, PW_WS_MASK_V16, PW_WS_MASK_V32, PW_WS_MASK_NLOOPS };
int pw_ws_mask_has(int loop);
uint8_t pw_ws_mask_with(int loop, uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset);

/* Close codes: RFC 6455 §7.4.1 and the IANA registry, X(NAME, code,
 * meaning).  1004 is reserved; 1005, 1006 and 1015 never go on the wire
 * (they say what happened locally). */
#define PW_WS_CLOSE_CODES(X)                                                   \
    X(NORMAL, 1000, "normal closure")                                         \
    X(GOING_AWAY, 1001, "going away")                                         \
    X(PROTOCOL, 1002, "protocol error")                                       \
    X(UNSUPPORTED, 1003, "unsupported data")                                  \
    X(RESERVED, 1004, "reserved")                                             \
    X(NO_STATUS, 1005, "no status received")                                  \
    X(ABNORMAL, 1006, "abnormal closure")                                     \
    X(INVALID_DATA, 1007, "invalid frame payload data")                       \
    X(POLICY, 1008, "policy violation")                                       \
    X(TOO_BIG, 1009, "message too big")                                       \
    X(EXTENSION, 1010, "mandatory extension")                                 \
    X(INTERNAL, 1011, "internal error")                                       \
    X(RESTART, 1012, "service restart")                                       \
    X(TRY_AGAIN, 1013, "try again later")                                     \
    X(BAD_GATEWAY, 1014, "bad gateway")                                       \
    X(TLS, 1015, "TLS handshake failure")

#define PW_WS_CLOSE_ENUM(name, code, meaning) PW_WS_CLOSE_##name = (code),

enum pw_ws_close_code {
    PW_WS_CLOSE_CODES(PW_WS_CLOSE_ENUM)
    /* pushwire's own (private-use range): a ?since= resume the server cannot
     * honour without pushwire.v1; the reason is the gap (pwmsg.h) */
    PW_WS_CLOSE_GAP = 4410,
};

/* 1 if `code` may appear in a close frame on the wire. */
int pw_ws_close_code_valid(unsigned code);
/* 1 for the ends of a connection that count as normal (exit 0): 1000,
 * 1001, and 1005 (a close frame with no code). */
int pw_ws_close_is_normal(int code);
/* Validates a close payload; on success *code (0 if empty payload) and
 * *reason and *reason_len (slice of payload) are set.  Errors: PW_EWS_CLOSE_*. */
int pw_ws_close_parse(const uint8_t *payload, size_t len, unsigned *code,
                      const uint8_t **reason, size_t *reason_len);
/* Builds a close payload (code big-endian + reason) in out; code 0 gives an
 * empty payload.  Returns its length, or PW_EINVAL when the reason is longer
 * than 123 bytes.  The code is not checked (see pw_ws_close_code_valid). */
int pw_ws_close_build(uint8_t out[125], unsigned code, const char *reason,
                      size_t reason_len);
/* The close code an endpoint sends when it fails the connection for `err`
 * (RFC 6455 §7.4.1): 1007 for invalid UTF-8 (text or close reason) and
 * corrupt compressed data, 1009 for a message over the limit (also inflated,
 * PW_EWSD_TOOBIG, or a full buffer, PW_ETOOBIG), 1002 for every other
 * PW_EWS_* / PW_EWSD_* rule, 1011 for anything else (internal failure, and
 * PW_EWSD_ZLIB).  The one map: server and client both close with it. */
unsigned pw_ws_close_code_for(int err);
/* A close-code's meaning ("normal closure", …), "registered (libraries and
 * frameworks)" for 3000-3999, "private use" for 4000-4999 (4410 too: it
 * means a gap only coming from pushwire), else "unknown". */
const char *pw_ws_close_code_name(unsigned code);

#endif
