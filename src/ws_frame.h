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
    uint64_t max_frame;      /* payload bytes per frame; 0 = no limit */
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
};

void pw_ws_parser_init(struct pw_ws_parser *p, const struct pw_ws_parser_opts *o);
ssize_t pw_ws_parse(struct pw_ws_parser *p, uint8_t *in, size_t len,
                    struct pw_ws_event *ev);
/* 1 when the parser sits between frames (end of input there is clean). */
int pw_ws_parser_idle(const struct pw_ws_parser *p);

/* Message layer: fragmentation rules (§5.4), interleaved control frames,
 * fail-fast UTF-8 of text across fragments (§8.1), the message size limit.
 * Feed it each parser event; it returns 0 or a PW_EWS_* error (sticky). */
struct pw_ws_msgstate {
    uint64_t max_message;    /* 0 = no limit */
    int in_message;          /* 1 while a fragmented data message is open */
    int opcode;              /* text or binary of the open message */
    int compressed;          /* RSV1 on its first frame (permessage-deflate) */
    uint64_t size;           /* bytes so far in the open message */
    struct pw_utf8 utf8;
    int check_utf8;          /* set 0 when payload is compressed (check after inflate) */
    int err;
};
void pw_ws_msg_init(struct pw_ws_msgstate *m, uint64_t max_message);
int pw_ws_msg_event(struct pw_ws_msgstate *m, const struct pw_ws_event *ev);

/* Encoder.  Writes the header for a frame with `len` payload bytes into out
 * (at least 14 bytes); returns its length.  mask == NULL: unmasked.
 * len_form 0 picks the minimal form, or forces 7, 16 or 64 (a form too small
 * for len returns PW_EINVAL). rsv as in pw_ws_header. */
int pw_ws_encode_header(uint8_t out[14], int fin, unsigned rsv, int opcode,
                        const uint8_t *mask, uint64_t len, int len_form);

/* XOR buf with key starting at key position `offset` (payload offset mod 4),
 * word-at-a-time.  Masking and unmasking are the same operation. */
void pw_ws_mask(uint8_t *buf, size_t len, const uint8_t key[4], uint64_t offset);

/* Close codes (§7.4): 1 if `code` may appear in a close frame on the wire. */
int pw_ws_close_code_valid(unsigned code);
/* Validates a close payload; on success *code (0 if empty payload) and
 * *reason and *reason_len (slice of payload) are set.  Errors: PW_EWS_CLOSE_*. */
int pw_ws_close_parse(const uint8_t *payload, size_t len, unsigned *code,
                      const uint8_t **reason, size_t *reason_len);
/* A close-code's meaning ("normal closure", …) or "unknown". */
const char *pw_ws_close_code_name(unsigned code);

#endif
