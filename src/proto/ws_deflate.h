/* ws_deflate.h — permessage-deflate (RFC 7692) over zlib.  Pure: no I/O.
 *
 * Two parts:
 *  1. Negotiation (§7.1) on parsed Sec-WebSocket-Extensions entries
 *     (struct pw_ws_ext from ws_handshake.h): a server picks the first valid
 *     permessage-deflate offer and writes its response; a client writes its
 *     offer and checks the server's response against it.
 *  2. Per-message compression and decompression (§7.2) for one connection,
 *     with or without context takeover, with the negotiated window sizes, the
 *     00 00 ff ff tail stripped on send and appended on receive, and a bound
 *     on the inflated size of a message (a zip bomb stops at max_message:
 *     the caller closes with 1009).
 *
 * Window bits 8: zlib's raw deflate refuses windowBits 8 (since 1.2.9).  When
 * our compressor must use an 8-bit window (the peer asked for it) we deflate
 * with windowBits 9: zlib never emits a match farther back than the window
 * minus its 262-byte lookahead, i.e. 250 bytes at 9 bits, so the output is
 * valid for a 256-byte window (a unit test checks it with zlib inflating at
 * 8 bits, in every chunking).  The inflater uses the negotiated 8 as is.
 *
 * Inflating with a window below 15 bits: zlib rejects a back-reference
 * beyond the negotiated window only when the referenced bytes have left its
 * current output buffer, so a peer that oversteps the window it agreed to
 * may be caught (PW_EWSD_DATA) or not depending on how its frames were
 * chunked.  A correct peer always decodes; the window size still bounds our
 * memory, which is what client_max_window_bits is for.
 */
#ifndef PW_WS_DEFLATE_H
#define PW_WS_DEFLATE_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#include "buf.h"
#include "pw_err.h"
#include "ws_handshake.h"

#define PW_WSD_ERRORS(X)                                                       \
    X(WSD_OFFER, -150, "RFC 7692 §7.1", "permessage-deflate offer has an unknown, repeated or invalid parameter") \
    X(WSD_RESPONSE, -151, "RFC 7692 §7.1", "server's permessage-deflate response does not match the offer") \
    X(WSD_DATA, -152, "RFC 7692 §7.2.2", "compressed message is not valid DEFLATE data") \
    X(WSD_TOOBIG, -153, "RFC 6455 §7.4.1 (1009)", "decompressed message larger than the configured limit") \
    X(WSD_ZLIB, -154, NULL, "zlib could not be set up")                      \
    X(WSD_SPACE, -155, NULL, "extension header does not fit the buffer")

enum { PW_WSD_ERRORS(PW_ERR_ENUM) };

#define PW_WSD_NAME "permessage-deflate"

/* The negotiated parameters (§7.1).  Window bits are 8..15 (15 = default). */
struct pw_wsd_params {
    int server_no_context_takeover;
    int client_no_context_takeover;
    int server_max_window_bits;
    int client_max_window_bits;
};

/* What this endpoint wants.  Zero-filled = defaults: context takeover both
 * ways, 15-bit windows. */
struct pw_wsd_config {
    int server_no_context_takeover; /* server: always reset our compressor;
                                       client: ask the server to */
    int client_no_context_takeover; /* server: ask the client to; client: offer it */
    int server_max_window_bits;     /* 0 = 15; server: our compressor's limit;
                                       client: ask the server to use <= this */
    int client_max_window_bits;     /* 0 = 15; server: cap the client's window
                                       when it allows us to; client: offer it */
};

/* Server (§7.1): walks exts[0..n) in order and accepts the first
 * permessage-deflate offer that is valid and that we can honour; offers with
 * unknown, repeated or invalid parameters are declined (skipped).
 * Returns 1 and fills *out and hdr (NUL-terminated, e.g.
 * "permessage-deflate; server_no_context_takeover; client_max_window_bits=10")
 * when accepted; 0 when no offer was acceptable (hdr = ""); PW_EWSD_SPACE
 * when hdr is too small (the longest answer, every parameter, is 128
 * bytes and its NUL). */
int pw_wsd_server_accept(const struct pw_ws_ext *exts, size_t n,
                         const struct pw_wsd_config *cfg,
                         struct pw_wsd_params *out, char *hdr, size_t hdrcap);

/* Checks one offer's parameters (§7.1): unknown, repeated, or invalid
 * (window bits other than "8".."15", a value on a no_context_takeover
 * parameter, server_max_window_bits with no value) is PW_EWSD_OFFER.
 * On 0, *out holds the offer: server_max_window_bits 15 when absent;
 * client_max_window_bits 0 when absent (the client cannot honour it), 15 when
 * given with no value, else its value. */
int pw_wsd_offer_parse(const struct pw_ws_ext *e, struct pw_wsd_params *out);

/* Client: the Sec-WebSocket-Extensions value offering what cfg asks for
 * (NUL-terminated).  Always offers client_max_window_bits so the server may
 * shrink our window.  Returns its length or PW_EWSD_SPACE. */
int pw_wsd_client_offer(const struct pw_wsd_config *cfg, char *hdr, size_t hdrcap);

/* Client: checks the server's response extensions against the offer that
 * pw_wsd_client_offer(cfg) made.  Returns 1 and *out when permessage-deflate
 * was accepted, 0 when the response does not include it (no compression),
 * PW_EWSD_RESPONSE when it is malformed or does not match the offer (fail
 * the connection, RFC 7692 §7.1). */
int pw_wsd_client_check(const struct pw_ws_ext *exts, size_t n,
                        const struct pw_wsd_config *cfg, struct pw_wsd_params *out);

/* --- a compressor without context takeover ------------------------------
 * Every message is compressed from a fresh state (server_no_context_takeover
 * on our side, RFC 7692 §7.1.1.1), so one compressor serves any number of
 * connections and its output is the same for all of them: a server
 * compresses a published message once and sends the same frame to every
 * subscriber whose agreed window is at least `bits`.  zlib's state (about
 * 2^(bits+2) + 2^(bits+2) bytes plus 6 KiB, and 30 KiB for messages under
 * PW_WSZ_SHORT bytes, compressed with a 4 KiB window and a small hash) is
 * allocated on first use and kept for the next message.  Not thread-safe:
 * one per event loop. */
#define PW_WSZ_SHORT 2048             /* shorter messages: the small stream */
struct pw_wsz {
    /* private */
    z_stream *s[2];              /* [1] short messages, [0] the others; heap once used */
    int bits, level;
};

/* bits 8..15 (8 is done as 9, see the head of this file), level -1..9. */
int pw_wsz_init(struct pw_wsz *z, int bits, int level);
void pw_wsz_free(struct pw_wsz *z);
/* Compresses one whole message from a fresh state, appending the frame
 * payload (no 00 00 ff ff tail) to out; as pw_wsd_compress. */
int pw_wsz_compress(struct pw_wsz *z, const uint8_t *in, size_t len, struct pw_buf *out);
/* The window of the compressor's output (bits as given to pw_wsz_init). */
static inline int pw_wsz_bits(const struct pw_wsz *z) { return z->bits; }

/* --- compression state for one connection -------------------------------
 * Small while idle (no zlib state): each zlib stream is allocated on first
 * use.  A server's inflater is freed after every message when the client
 * agreed client_no_context_takeover, so it holds zlib state only while a
 * compressed message is arriving (a client, with one connection, resets and
 * keeps its inflater: no allocation per message); with context takeover the
 * inflater (about 7 KiB + 2^window bytes) lives as long as the connection.  Our compressor without context takeover may be a shared
 * one (pw_wsd_share).  Not thread-safe; one per connection. */
struct pw_wsd {
    /* private */
    z_stream *def, *inf;         /* heap while in use */
    struct pw_wsz *shared;       /* compress through this one (borrowed), or NULL */
    uint64_t max_message;        /* inflated bytes per message; 0 = no limit */
    uint64_t inf_total;          /* inflated bytes of the message in progress */
    int8_t def_bits, inf_bits;
    int8_t def_reset, inf_reset; /* no context takeover for that direction */
    int8_t level, is_server;
    int err;                     /* sticky decompression error */
};

/* is_server: 1 when we are the server (we compress with the server_*
 * parameters and inflate with the client_* ones).  level: zlib level 0..9,
 * -1 for zlib's default.  max_message bounds each inflated message. */
int pw_wsd_init(struct pw_wsd *d, const struct pw_wsd_params *p, int is_server,
                int level, uint64_t max_message);
void pw_wsd_free(struct pw_wsd *d);
/* What was agreed for our compressor: its window bits, and whether every
 * message starts from a fresh state (no context takeover). */
static inline int pw_wsd_def_bits(const struct pw_wsd *d) { return d->def_bits; }
static inline int pw_wsd_def_reset(const struct pw_wsd *d) { return d->def_reset; }
/* Compress through z (shared, borrowed: it must outlive d) instead of a
 * compressor of our own.  Only when our direction has no context takeover
 * and z's window is at most ours: returns 0, else PW_EINVAL (unchanged). */
int pw_wsd_share(struct pw_wsd *d, struct pw_wsz *z);
/* zlib state held now (0 between messages without context takeover). */
int pw_wsd_holds(const struct pw_wsd *d);

/* Compresses one whole message, appending the frame payload (without the
 * 00 00 ff ff tail, §7.2.1) to out.  The first frame of the message carries
 * RSV1.  Returns 0, PW_ETOOBIG/PW_ENOMEM from out (a capped out needs room
 * for 4 bytes more than the result: zlib writes the tail before it is cut),
 * or PW_EWSD_ZLIB.  On failure out is as it was and the message is dropped
 * from the compression context (the next message stays decodable). */
int pw_wsd_compress(struct pw_wsd *d, const uint8_t *in, size_t len, struct pw_buf *out);

/* Decompresses a message as its payload arrives: call for each chunk (frame
 * payloads of the message, in order) with fin = 1 for the last one (len may
 * be 0), which appends the 00 00 ff ff tail (§7.2.2) and ends the message.
 * Inflated bytes are appended to out.  Returns 0, PW_EWSD_DATA (close 1007),
 * PW_EWSD_TOOBIG (close 1009: more than max_message inflated bytes; checked
 * as output is produced: at most max_message + 1 bytes are ever written),
 * or PW_ETOOBIG/PW_ENOMEM from out.  After an error the stream is unusable
 * for the rest of the connection. */
int pw_wsd_decompress(struct pw_wsd *d, const uint8_t *in, size_t len, int fin,
                      struct pw_buf *out);

#endif
